#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    safeguard::lambda::run(&threat_detection::FUNCTION).await
}
