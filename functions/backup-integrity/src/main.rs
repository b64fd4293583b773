#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    safeguard::lambda::run(&backup_integrity::FUNCTION).await
}
