#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    safeguard::lambda::run(&authentication::FUNCTION).await
}
