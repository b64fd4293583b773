//! Creates in the emulator the misconfiguration a sample event describes, so
//! replaying the event has something real to fix. Used by the demo, by
//! `make replay SEED=1` and by the tests.

use aws_sdk_s3::types::{BucketCannedAcl, BucketLocationConstraint, CreateBucketConfiguration};
use safeguard::{Clients, During, Error, TrailEvent};
use serde_json::Value;

/// Make the event's change happen; returns what was done, in a sentence.
/// Resources the emulator names itself (security groups, instances...) get
/// new ids: the event is rewritten to name them.
pub async fn seed(clients: &Clients, raw: &mut Value) -> Result<String, Error> {
    let event = TrailEvent::parse(raw.clone())?;
    match event.event_source() {
        "ec2.amazonaws.com" => crate::seed_ec2::seed(clients, &event, raw).await,
        "kms.amazonaws.com" => seed_kms(clients, &event, raw).await,
        "rds.amazonaws.com" => crate::seed_rds::seed(clients, &event).await,
        "cloudtrail.amazonaws.com" => crate::seed_audit::seed_cloudtrail(clients, &event).await,
        "config.amazonaws.com" => crate::seed_audit::seed_config(clients, &event).await,
        "logs.amazonaws.com" => crate::seed_audit::seed_logs(clients, &event).await,
        "dynamodb.amazonaws.com" => crate::seed_backup::seed_dynamodb(clients, &event).await,
        "backup.amazonaws.com" => crate::seed_backup::seed_backup(clients, &event).await,
        "guardduty.amazonaws.com" => crate::seed_threat::seed_guardduty(clients, &event, raw).await,
        "securityhub.amazonaws.com" => crate::seed_threat::seed_securityhub(clients).await,
        "inspector2.amazonaws.com" => crate::seed_threat::seed_inspector(clients, &event).await,
        "events.amazonaws.com" => crate::seed_threat::seed_rule(clients, &event).await,
        "iam.amazonaws.com" | "signin.amazonaws.com" => crate::seed_iam::seed(clients, &event).await,
        _ => seed_s3(clients, &event).await,
    }
}

async fn seed_s3(clients: &Clients, event: &TrailEvent) -> Result<String, Error> {
    let bucket = event.request_str("bucketName");
    let need_bucket = || bucket.ok_or_else(|| Error::Event(format!("{} event names no bucket", event.event_name())));
    match event.event_name() {
        "CreateBucket" | "PutBucketAcl" => {
            let b = need_bucket()?;
            ensure_bucket(clients, b).await?;
            clients
                .s3()
                .put_bucket_acl()
                .bucket(b)
                .acl(BucketCannedAcl::PublicRead)
                .send()
                .await
                .during("s3:PutBucketAcl")?;
            Ok(format!(
                "bucket {b} exists with the canned ACL public-read (READ to AllUsers)"
            ))
        }
        "PutBucketPolicy" => {
            let b = need_bucket()?;
            ensure_bucket(clients, b).await?;
            // S3 refuses a public policy while BlockPublicPolicy is on.
            clients
                .s3()
                .delete_public_access_block()
                .bucket(b)
                .send()
                .await
                .during("s3:PutBucketPublicAccessBlock")?;
            let policy = recorded_policy(event, b);
            clients
                .s3()
                .put_bucket_policy()
                .bucket(b)
                .policy(policy.to_string())
                .send()
                .await
                .during("s3:PutBucketPolicy")?;
            Ok(format!(
                "bucket {b} has no public access block and the policy the event set: {}",
                crate::report::policy_summary(&policy)
            ))
        }
        "DeleteBucketPolicy" => {
            let b = need_bucket()?;
            ensure_bucket(clients, b).await?;
            clients
                .s3()
                .delete_bucket_policy()
                .bucket(b)
                .send()
                .await
                .during("s3:DeleteBucketPolicy")?;
            Ok(format!("bucket {b} has no bucket policy"))
        }
        "PutBucketVersioning" => crate::seed_backup::seed_versioning(clients, need_bucket()?).await,
        "PutBucketLogging" => crate::seed_audit::seed_bucket_logging(clients, need_bucket()?).await,
        "DeleteBucketEncryption" => {
            let b = need_bucket()?;
            ensure_bucket(clients, b).await?;
            clients
                .s3()
                .delete_bucket_encryption()
                .bucket(b)
                .send()
                .await
                .during("s3:PutEncryptionConfiguration")?;
            Ok(format!("bucket {b} has no default encryption configuration"))
        }
        "DeleteBucketPublicAccessBlock" => {
            let b = need_bucket()?;
            ensure_bucket(clients, b).await?;
            clients
                .s3()
                .delete_public_access_block()
                .bucket(b)
                .send()
                .await
                .during("s3:PutBucketPublicAccessBlock")?;
            Ok(format!("bucket {b} has no public access block"))
        }
        "PutBucketPublicAccessBlock" => {
            let b = need_bucket()?;
            ensure_bucket(clients, b).await?;
            let f = requested_flags(event);
            let config = aws_sdk_s3::types::PublicAccessBlockConfiguration::builder()
                .block_public_acls(f[0])
                .ignore_public_acls(f[1])
                .block_public_policy(f[2])
                .restrict_public_buckets(f[3])
                .build();
            clients
                .s3()
                .put_public_access_block()
                .bucket(b)
                .public_access_block_configuration(config)
                .send()
                .await
                .during("s3:PutBucketPublicAccessBlock")?;
            Ok(format!(
                "bucket {b} has the public access block the event set ({})",
                describe_flags(f)
            ))
        }
        "DeleteAccountPublicAccessBlock" => {
            clients
                .s3control()
                .delete_public_access_block()
                .account_id(event.account())
                .send()
                .await
                .during("s3:PutAccountPublicAccessBlock")?;
            Ok(format!("account {} has no S3 public access block", event.account()))
        }
        "PutAccountPublicAccessBlock" => {
            let f = requested_flags(event);
            let config = aws_sdk_s3control::types::PublicAccessBlockConfiguration::builder()
                .block_public_acls(f[0])
                .ignore_public_acls(f[1])
                .block_public_policy(f[2])
                .restrict_public_buckets(f[3])
                .build();
            clients
                .s3control()
                .put_public_access_block()
                .account_id(event.account())
                .public_access_block_configuration(config)
                .send()
                .await
                .during("s3:PutAccountPublicAccessBlock")?;
            Ok(format!(
                "account {} has the public access block the event set ({})",
                event.account(),
                describe_flags(f)
            ))
        }
        other => Ok(format!("nothing to seed for {other}")),
    }
}

/// Create the bucket unless it exists already.
pub async fn ensure_bucket(clients: &Clients, bucket: &str) -> Result<(), Error> {
    let mut request = clients.s3().create_bucket().bucket(bucket);
    if let Some(region) = clients.region().filter(|r| *r != "us-east-1") {
        request = request.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region))
                .build(),
        );
    }
    match request.send().await.during("s3:CreateBucket") {
        Ok(_) => Ok(()),
        Err(e) if matches!(e.code(), Some("BucketAlreadyOwnedByYou" | "BucketAlreadyExists")) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The policy the event recorded, naming the bucket actually seeded; a
/// public-read policy when the event recorded none.
fn recorded_policy(event: &TrailEvent, bucket: &str) -> Value {
    let recorded = event
        .call
        .request_parameters
        .get("bucketPolicy")
        .filter(|p| p.is_object());
    match recorded {
        Some(policy) => {
            // The sample names its own bucket; the seeded one may differ.
            let named = event.request_str("bucketName").unwrap_or(bucket);
            let text = policy
                .to_string()
                .replace(&format!(":::{named}"), &format!(":::{bucket}"));
            serde_json::from_str(&text).unwrap_or_else(|_| policy.clone())
        }
        None => serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
                "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{bucket}/*")
            }]
        }),
    }
}

/// A new customer-managed key in the state the event left its key in; the
/// event is rewritten to name it.
async fn seed_kms(clients: &Clients, event: &TrailEvent, raw: &mut Value) -> Result<String, Error> {
    let kms = clients.kms();
    let created = kms
        .create_key()
        .description("seeded by Safeguard: encrypts PHI")
        .send()
        .await
        .during("kms:CreateKey")?;
    let meta = created
        .key_metadata()
        .ok_or_else(|| Error::Unexpected("CreateKey returned no metadata".into()))?;
    let (key, arn) = (meta.key_id().to_string(), meta.arn().unwrap_or_default().to_string());
    let done = match event.event_name() {
        "DisableKeyRotation" => {
            kms.enable_key_rotation()
                .key_id(&key)
                .send()
                .await
                .during("kms:EnableKeyRotation")?;
            kms.disable_key_rotation()
                .key_id(&key)
                .send()
                .await
                .during("kms:DisableKeyRotation")?;
            "has automatic rotation turned off"
        }
        "ScheduleKeyDeletion" => {
            kms.schedule_key_deletion()
                .key_id(&key)
                .pending_window_in_days(7)
                .send()
                .await
                .during("kms:ScheduleKeyDeletion")?;
            "is scheduled for deletion in 7 days"
        }
        "DisableKey" => {
            kms.disable_key().key_id(&key).send().await.during("kms:DisableKey")?;
            "is disabled"
        }
        other => return Ok(format!("nothing to seed for {other}")),
    };
    // Name the key as the event did: by id, or by ARN.
    let named_by_arn = event.request_str("keyId").is_some_and(|k| k.starts_with("arn:"));
    if let Some(slot) = raw.pointer_mut("/detail/requestParameters/keyId") {
        *slot = Value::String(if named_by_arn { arn.clone() } else { key.clone() });
    }
    if let Some(items) = raw.pointer_mut("/detail/resources").and_then(Value::as_array_mut) {
        for item in items {
            item["ARN"] = Value::String(arn.clone());
        }
    }
    Ok(format!("KMS key {key} {done}"))
}

const FLAG_NAMES: [&str; 4] = [
    "BlockPublicAcls",
    "IgnorePublicAcls",
    "BlockPublicPolicy",
    "RestrictPublicBuckets",
];

/// The four flags from the event's request; all off where the event is silent.
fn requested_flags(event: &TrailEvent) -> [bool; 4] {
    let config = event.call.request_parameters.get("PublicAccessBlockConfiguration");
    FLAG_NAMES.map(|name| {
        config
            .and_then(|c| c.get(name))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    })
}

fn describe_flags(f: [bool; 4]) -> String {
    FLAG_NAMES
        .iter()
        .zip(f)
        .map(|(n, on)| format!("{n}={on}"))
        .collect::<Vec<_>>()
        .join(", ")
}
