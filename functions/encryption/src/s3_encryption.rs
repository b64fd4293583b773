use crate::{AT_REST, KMS_KEY_ID, S3};
use aws_sdk_s3::types::{
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
};
use safeguard::resources::S3Bucket;
use safeguard::{
    async_trait, Action, Assessment, Control, Ctx, Declaration, During, Error, Resource, Setting, Severity, Trigger,
};

pub static REQUIRE_SSE_KMS: Setting = Setting {
    env: "REQUIRE_SSE_KMS",
    parameter: "RequireSseKms",
    default: "false",
    description: "true: every bucket's default encryption must be SSE-KMS (with EncryptionKmsKeyId when set); \
                  false: S3's own SSE-S3 default is accepted",
    allowed: &["true", "false"],
};

static DECLARATION: Declaration = Declaration {
    id: "s3-default-encryption",
    title: "S3 buckets encrypt new objects with the required key",
    resource: &S3Bucket,
    hipaa: AT_REST,
    severity: Severity::High,
    problem: "lacked SSE-KMS encryption",
    triggers: &[Trigger {
        event_source: S3,
        event_names: &["PutBucketEncryption", "DeleteBucketEncryption"],
    }],
    permissions: &["s3:GetEncryptionConfiguration", "s3:PutEncryptionConfiguration"],
    settings: &[&REQUIRE_SSE_KMS, &KMS_KEY_ID],
};

/// S3 has encrypted every new object with SSE-S3 since January 2023, so only
/// a deployment that requires SSE-KMS has anything to enforce here.
pub struct BucketDefaultEncryption;

/// (algorithm, key) of the bucket's default rule, when it has one.
async fn current(ctx: &Ctx<'_>, bucket: &str) -> Result<Option<(String, Option<String>)>, Error> {
    let out = ctx.clients.s3().get_bucket_encryption().bucket(bucket).send().await;
    match out.during("s3:GetEncryptionConfiguration") {
        Ok(out) => Ok(out
            .server_side_encryption_configuration()
            .and_then(|c| c.rules().first())
            .and_then(|r| r.apply_server_side_encryption_by_default())
            .map(|d| {
                (
                    d.sse_algorithm().as_str().to_string(),
                    d.kms_master_key_id().map(str::to_string),
                )
            })),
        Err(e) if e.code() == Some("ServerSideEncryptionConfigurationNotFoundError") => Ok(None),
        Err(e) => Err(e),
    }
}

#[async_trait]
impl Control for BucketDefaultEncryption {
    fn declaration(&self) -> &'static Declaration {
        &DECLARATION
    }

    async fn check(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Assessment, Error> {
        let rule = current(ctx, &resource.id).await?;
        let shown = match &rule {
            Some((alg, Some(key))) => format!("default encryption {alg} with key {key}"),
            Some((alg, None)) => format!("default encryption {alg}"),
            None => "no default encryption configuration (S3 applies SSE-S3)".to_string(),
        };
        if ctx.settings.get(REQUIRE_SSE_KMS.env) != "true" {
            return Ok(Assessment::compliant(format!(
                "{shown}; SSE-S3 or stronger is accepted"
            )));
        }
        let wanted_key = ctx.settings.get(KMS_KEY_ID.env);
        let ok = match &rule {
            Some((alg, key)) if alg.starts_with("aws:kms") => {
                wanted_key.is_empty() || key.as_deref() == Some(wanted_key)
            }
            _ => false,
        };
        Ok(if ok {
            Assessment::compliant(shown)
        } else {
            Assessment::violation(format!("{shown}; SSE-KMS is required"))
        })
    }

    async fn fix(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Action, Error> {
        let key = ctx.settings.get(KMS_KEY_ID.env);
        let mut default = ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::AwsKms);
        if !key.is_empty() {
            default = default.kms_master_key_id(key);
        }
        let default = default.build().map_err(|e| Error::Unexpected(e.to_string()))?;
        let rule = ServerSideEncryptionRule::builder()
            .apply_server_side_encryption_by_default(default)
            .bucket_key_enabled(true)
            .build();
        let config = ServerSideEncryptionConfiguration::builder()
            .rules(rule)
            .build()
            .map_err(|e| Error::Unexpected(e.to_string()))?;
        ctx.clients
            .s3()
            .put_bucket_encryption()
            .bucket(&resource.id)
            .server_side_encryption_configuration(config)
            .send()
            .await
            .during("s3:PutEncryptionConfiguration")?;
        let with = if key.is_empty() {
            "the AWS-managed aws/s3 key".to_string()
        } else {
            format!("key {key}")
        };
        Ok(Action::Done(format!(
            "set default encryption to SSE-KMS with {with} (bucket key on)"
        )))
    }

    fn planned_fix(&self) -> &'static str {
        "set the bucket's default encryption to SSE-KMS with the configured key"
    }
}
