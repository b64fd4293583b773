//! For the error paths and APIs the emulator lacks: SDK clients answered by
//! `aws-smithy-mocks` rules, and a notifier that keeps alerts in memory.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::config::{Credentials, SharedCredentialsProvider};
use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode};
use safeguard::{Alert, Error, Notifier};
use std::sync::Mutex;

pub use aws_smithy_mocks::{create_mock_http_client, mock};

/// Keeps every published alert.
#[derive(Default)]
pub struct Recorder(Mutex<Vec<Alert>>);

impl Recorder {
    pub fn alerts(&self) -> Vec<Alert> {
        self.0.lock().map(|a| a.clone()).unwrap_or_default()
    }
}

#[safeguard::async_trait]
impl Notifier for &Recorder {
    async fn publish(&self, alert: &Alert) -> Result<(), Error> {
        if let Ok(mut alerts) = self.0.lock() {
            alerts.push(alert.clone());
        }
        Ok(())
    }
}

/// An SDK configuration that never reaches a network: every client built
/// from it must get the mock HTTP client.
pub fn offline_sdk() -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "a", "b", None, None, "test",
        )))
        .build()
}

/// Answers each call with the first rule that matches it.
pub fn interceptor(rules: &[&Rule]) -> MockResponseInterceptor {
    rules
        .iter()
        .fold(MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny), |i, r| {
            i.with_rule(r)
        })
}
