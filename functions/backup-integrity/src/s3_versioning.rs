//! Versioning keeps every overwritten or deleted object recoverable: the
//! integrity control for PHI in S3.

use crate::{INTEGRITY, S3};
use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
use safeguard::resources::S3Bucket;
use safeguard::{
    async_trait, Action, Assessment, Control, Ctx, Declaration, During, Error, Resource, Severity, Trigger,
};

static DECLARATION: Declaration = Declaration {
    id: "s3-versioning",
    title: "S3 buckets keep versioning enabled",
    resource: &S3Bucket,
    hipaa: INTEGRITY,
    severity: Severity::High,
    problem: "had versioning suspended",
    triggers: &[Trigger {
        event_source: S3,
        event_names: &["PutBucketVersioning"],
    }],
    permissions: &["s3:GetBucketVersioning", "s3:PutBucketVersioning"],
    settings: &[],
};

pub struct BucketVersioning;

#[async_trait]
impl Control for BucketVersioning {
    fn declaration(&self) -> &'static Declaration {
        &DECLARATION
    }

    async fn check(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Assessment, Error> {
        let out = ctx
            .clients
            .s3()
            .get_bucket_versioning()
            .bucket(&resource.id)
            .send()
            .await
            .during("s3:GetBucketVersioning")?;
        Ok(match out.status() {
            Some(BucketVersioningStatus::Enabled) => Assessment::compliant("versioning is enabled"),
            Some(other) => Assessment::violation(format!(
                "versioning is {}: overwritten and deleted objects cannot be recovered",
                other.as_str()
            )),
            None => Assessment::violation("versioning was never enabled"),
        })
    }

    async fn fix(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Action, Error> {
        ctx.clients
            .s3()
            .put_bucket_versioning()
            .bucket(&resource.id)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await
            .during("s3:PutBucketVersioning")?;
        Ok(Action::Done("enabled versioning again".into()))
    }

    fn planned_fix(&self) -> &'static str {
        "enable versioning again"
    }
}
