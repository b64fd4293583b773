use crate::tls_policy::{has_tls_deny, merge};
use crate::{IN_TRANSIT, S3};
use safeguard::resources::S3Bucket;
use safeguard::{
    async_trait, Action, Assessment, Control, Ctx, Declaration, During, Error, Resource, Severity, Trigger,
};
use std::sync::Arc;

static DECLARATION: Declaration = Declaration {
    id: "s3-tls-only",
    title: "S3 buckets refuse requests that do not use TLS",
    resource: &S3Bucket,
    hipaa: IN_TRANSIT,
    severity: Severity::High,
    problem: "allowed plain HTTP",
    triggers: &[Trigger {
        event_source: S3,
        event_names: &["PutBucketPolicy", "DeleteBucketPolicy", "CreateBucket"],
    }],
    permissions: &["s3:GetBucketPolicy", "s3:PutBucketPolicy"],
    settings: &[],
};

/// S3's size limit for a bucket policy.
const MAX_POLICY_BYTES: usize = 20 * 1024;

/// Adds a statement denying `aws:SecureTransport=false` to the bucket policy,
/// merged into whatever policy is there.
pub struct BucketTlsOnly;

/// Read once per event: the merge starts from the policy the check judged.
async fn policy(ctx: &Ctx<'_>, bucket: &str) -> Result<Arc<Option<String>>, Error> {
    ctx.read(format!("s3:GetBucketPolicy {bucket}"), || async {
        match ctx
            .clients
            .s3()
            .get_bucket_policy()
            .bucket(bucket)
            .send()
            .await
            .during("s3:GetBucketPolicy")
        {
            Ok(out) => Ok(out.policy().map(str::to_string)),
            Err(e) if e.code() == Some("NoSuchBucketPolicy") => Ok(None),
            Err(e) => Err(e),
        }
    })
    .await
}

#[async_trait]
impl Control for BucketTlsOnly {
    fn declaration(&self) -> &'static Declaration {
        &DECLARATION
    }

    async fn check(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Assessment, Error> {
        let read = policy(ctx, &resource.id).await?;
        let Some(text) = read.as_deref() else {
            return Ok(Assessment::violation(
                "no bucket policy, so nothing denies plain-HTTP requests",
            ));
        };
        let doc: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
        Ok(if has_tls_deny(&doc) {
            Assessment::compliant("the bucket policy denies requests without TLS (aws:SecureTransport=false)")
        } else {
            Assessment::violation("the bucket policy does not deny requests without TLS")
        })
    }

    async fn fix(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Action, Error> {
        let current = policy(ctx, &resource.id).await?;
        let kept = current
            .as_deref()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
            .map(|d| match &d["Statement"] {
                serde_json::Value::Array(a) => a.len(),
                serde_json::Value::Object(_) => 1,
                _ => 0,
            })
            .unwrap_or(0);
        let merged = merge(current.as_deref(), &resource.id)
            .map_err(Error::Unexpected)?
            .to_string();
        if merged.len() > MAX_POLICY_BYTES {
            return Err(Error::Unexpected(format!(
                "the policy with the TLS-only statement added would be {} bytes, over S3's limit of {MAX_POLICY_BYTES}: \
                 add the statement by hand after shortening the policy",
                merged.len()
            )));
        }
        ctx.clients
            .s3()
            .put_bucket_policy()
            .bucket(&resource.id)
            .policy(merged)
            .send()
            .await
            .during("s3:PutBucketPolicy")?;
        Ok(Action::Done(match current.as_deref() {
            None => "created a bucket policy whose one statement denies every request without TLS".to_string(),
            Some(_) => format!(
                "added a statement denying every request without TLS; kept the policy's {kept} other statement(s)"
            ),
        }))
    }

    fn planned_fix(&self) -> &'static str {
        "add a statement denying requests without TLS to the bucket policy, keeping its other statements"
    }
}
