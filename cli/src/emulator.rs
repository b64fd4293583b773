//! Talking to the target account: the local emulator (moto server) or a real
//! AWS account. Also the alert inbox: an SQS queue subscribed to the topic,
//! read back exactly as a subscriber receives it.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::config::Credentials;
use safeguard::{During, Error};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

pub const DEFAULT_REGION: &str = "us-east-1";

/// CloudTrail calls whose control needs an API the emulator does not
/// implement, with that API: the demo says so instead of failing, and the
/// control is tested through mocked responses.
pub const GAPS: &[(&str, &str)] = &[("PutBackupVaultAccessPolicy", "backup:GetBackupVaultAccessPolicy")];

/// The API the emulator lacks to handle this call, if any.
pub fn gap(event_name: &str) -> Option<&'static str> {
    GAPS.iter().find(|(name, _)| *name == event_name).map(|(_, api)| *api)
}

/// SDK configuration for the emulator named by `AWS_ENDPOINT_URL`: static test
/// credentials and a default region, so nothing from a real account leaks in.
pub async fn emulator_config() -> Result<SdkConfig, Error> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL")
        .ok()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            Error::Config(
                "AWS_ENDPOINT_URL is not set: start the emulator with `make emulator` (or run through make), \
             or use TARGET=aws for a real account"
                    .into(),
            )
        })?;
    let region = std::env::var("AWS_REGION")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| DEFAULT_REGION.into());
    Ok(aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(region))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "emulator"))
        .load()
        .await)
}

/// The normal credential chain, for a real account.
pub async fn aws_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

pub async fn create_topic(sns: &aws_sdk_sns::Client, name: &str) -> Result<String, Error> {
    let out = sns.create_topic().name(name).send().await.during("sns:CreateTopic")?;
    out.topic_arn()
        .map(str::to_string)
        .ok_or_else(|| Error::Unexpected("CreateTopic returned no ARN".into()))
}

/// A queue's URL and ARN, creating it if needed.
pub async fn create_queue(sqs: &aws_sdk_sqs::Client, name: &str) -> Result<(String, String), Error> {
    let url = sqs
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .during("sqs:CreateQueue")?
        .queue_url()
        .map(str::to_string)
        .ok_or_else(|| Error::Unexpected("CreateQueue returned no URL".into()))?;
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .during("sqs:GetQueueAttributes")?;
    let arn = attrs
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
        .cloned()
        .ok_or_else(|| Error::Unexpected("queue has no ARN".into()))?;
    Ok((url, arn))
}

/// One alert as an SQS subscriber received it.
#[derive(Debug, Clone)]
pub struct Received {
    /// The SNS envelope (Type, MessageId, Subject, Message, MessageAttributes, ...).
    pub envelope: Value,
    pub subject: String,
    pub attributes: BTreeMap<String, String>,
    /// `Message`, parsed: the JSON body Safeguard publishes for programs.
    pub message: Value,
}

/// An SQS queue subscribed to the alert topic.
pub struct Inbox {
    sqs: aws_sdk_sqs::Client,
    url: String,
}

impl Inbox {
    pub async fn subscribe(
        sns: &aws_sdk_sns::Client,
        sqs: &aws_sdk_sqs::Client,
        topic_arn: &str,
        queue_name: &str,
    ) -> Result<Inbox, Error> {
        let (url, arn) = create_queue(sqs, queue_name).await?;
        sns.subscribe()
            .topic_arn(topic_arn)
            .protocol("sqs")
            .endpoint(arn)
            .send()
            .await
            .during("sns:Subscribe")?;
        Ok(Inbox { sqs: sqs.clone(), url })
    }

    /// Wait until `expected` alerts have arrived (or `timeout` passed), then
    /// return whatever is there, deleting what was read.
    pub async fn receive(&self, expected: usize, timeout: Duration) -> Result<Vec<Received>, Error> {
        let deadline = Instant::now() + timeout;
        let mut received = Vec::new();
        loop {
            let out = self
                .sqs
                .receive_message()
                .queue_url(&self.url)
                .max_number_of_messages(10)
                .wait_time_seconds(0)
                .send()
                .await
                .during("sqs:ReceiveMessage")?;
            for m in out.messages() {
                received.push(parse_envelope(m.body().unwrap_or_default())?);
                if let Some(handle) = m.receipt_handle() {
                    self.sqs
                        .delete_message()
                        .queue_url(&self.url)
                        .receipt_handle(handle)
                        .send()
                        .await
                        .during("sqs:DeleteMessage")?;
                }
            }
            if received.len() >= expected || Instant::now() >= deadline {
                return Ok(received);
            }
            if out.messages().is_empty() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

fn parse_envelope(body: &str) -> Result<Received, Error> {
    let envelope: Value =
        serde_json::from_str(body).map_err(|e| Error::Unexpected(format!("SQS body is not an SNS envelope: {e}")))?;
    let subject = envelope
        .get("Subject")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let attributes = envelope
        .get("MessageAttributes")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.get("Value").and_then(Value::as_str).unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let raw = envelope.get("Message").and_then(Value::as_str).unwrap_or_default();
    let message = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_string()));
    Ok(Received {
        envelope,
        subject,
        attributes,
        message,
    })
}
