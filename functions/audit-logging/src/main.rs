#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    safeguard::lambda::run(&audit_logging::FUNCTION).await
}
