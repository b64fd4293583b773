//! Server access logs record every request to a bucket: for PHI buckets,
//! who read which object. Buckets that must log keep logging.

use crate::{HIPAA, S3};
use aws_sdk_s3::types::{BucketLoggingStatus, LoggingEnabled};
use safeguard::resources::{ResourceKind, S3Bucket};
use safeguard::{
    async_trait, Action, Assessment, Control, Ctx, Declaration, During, Error, Resource, Setting, Severity, Trigger,
};

pub static LOGGED_BUCKETS: Setting = Setting {
    env: "LOGGED_BUCKETS",
    parameter: "BucketsThatMustLog",
    default: "",
    description: "Buckets that must keep server access logging (comma-separated); buckets tagged \
                  safeguard:access-logging=required must too",
    allowed: &[],
};

pub static ACCESS_LOG_BUCKET: Setting = Setting {
    env: "ACCESS_LOG_BUCKET",
    parameter: "AccessLogTargetBucket",
    default: "",
    description: "Bucket receiving restored server access logs (empty: only report)",
    allowed: &[],
};

pub static ACCESS_LOG_PREFIX: Setting = Setting {
    env: "ACCESS_LOG_PREFIX",
    parameter: "AccessLogTargetPrefix",
    default: "s3-access-logs/",
    description: "Key prefix of restored access logs; the bucket's name and a slash are appended",
    allowed: &[],
};

/// Tag that makes a bucket one that must log.
pub const MUST_LOG_TAG: &str = "safeguard:access-logging";

static DECLARATION: Declaration = Declaration {
    id: "s3-access-logging",
    title: "Buckets that must log keep server access logging on",
    resource: &S3Bucket,
    hipaa: HIPAA,
    severity: Severity::High,
    problem: "stopped access logging",
    triggers: &[Trigger {
        event_source: S3,
        event_names: &["PutBucketLogging"],
    }],
    permissions: &["s3:GetBucketLogging", "s3:PutBucketLogging"],
    settings: &[&LOGGED_BUCKETS, &ACCESS_LOG_BUCKET, &ACCESS_LOG_PREFIX],
};

pub struct BucketAccessLogging;

async fn must_log(ctx: &Ctx<'_>, resource: &Resource) -> Result<Option<&'static str>, Error> {
    if ctx.settings.list(LOGGED_BUCKETS.env).contains(&resource.id.as_str()) {
        return Ok(Some("it is listed in LOGGED_BUCKETS"));
    }
    let tags = S3Bucket.tags(ctx.clients, resource).await?;
    Ok(tags
        .iter()
        .any(|(k, v)| k == MUST_LOG_TAG && v.eq_ignore_ascii_case("required"))
        .then_some("it is tagged safeguard:access-logging=required"))
}

#[async_trait]
impl Control for BucketAccessLogging {
    fn declaration(&self) -> &'static Declaration {
        &DECLARATION
    }

    async fn check(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Assessment, Error> {
        let Some(why) = must_log(ctx, resource).await? else {
            return Ok(Assessment::compliant(
                "server access logging is not required for this bucket",
            ));
        };
        let out = ctx
            .clients
            .s3()
            .get_bucket_logging()
            .bucket(&resource.id)
            .send()
            .await
            .during("s3:GetBucketLogging")?;
        Ok(match out.logging_enabled() {
            Some(l) => Assessment::compliant(format!(
                "server access logs go to s3://{}/{}",
                l.target_bucket(),
                l.target_prefix()
            )),
            None => Assessment::violation(format!("server access logging is off, but {why}")),
        })
    }

    async fn fix(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Action, Error> {
        let target = ctx.settings.get(ACCESS_LOG_BUCKET.env);
        if target.is_empty() {
            return Ok(Action::Withheld(
                "ACCESS_LOG_BUCKET is not set, so there is no target to restore logging to".into(),
            ));
        }
        let prefix = format!("{}{}/", ctx.settings.get(ACCESS_LOG_PREFIX.env), resource.id);
        let enabled = LoggingEnabled::builder()
            .target_bucket(target)
            .target_prefix(&prefix)
            .build()
            .map_err(|e| Error::Unexpected(e.to_string()))?;
        ctx.clients
            .s3()
            .put_bucket_logging()
            .bucket(&resource.id)
            .bucket_logging_status(BucketLoggingStatus::builder().logging_enabled(enabled).build())
            .send()
            .await
            .during("s3:PutBucketLogging")?;
        Ok(Action::Done(format!(
            "turned server access logging back on, to s3://{target}/{prefix}"
        )))
    }

    fn planned_fix(&self) -> &'static str {
        "turn server access logging back on, to the configured target bucket and prefix"
    }
}
