use crate::bucket::{bucket_block, put_bucket_block, Flags};
use crate::{HIPAA, S3};
use safeguard::resources::S3Bucket;
use safeguard::{async_trait, Action, Assessment, Control, Ctx, Declaration, Error, Resource, Severity, Trigger};

static DECLARATION: Declaration = Declaration {
    id: "s3-bucket-public-access-block",
    title: "S3 buckets keep all four public access block flags on",
    resource: &S3Bucket,
    hipaa: HIPAA,
    severity: Severity::High,
    problem: "lost public access block",
    triggers: &[Trigger {
        event_source: S3,
        event_names: &["PutBucketPublicAccessBlock", "DeleteBucketPublicAccessBlock"],
    }],
    permissions: &["s3:GetBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock"],
    settings: &[],
};

/// A deleted or weakened bucket public access block gets all four flags back.
pub struct BucketPublicAccessBlock;

#[async_trait]
impl Control for BucketPublicAccessBlock {
    fn declaration(&self) -> &'static Declaration {
        &DECLARATION
    }

    async fn check(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Assessment, Error> {
        let clients = ctx.clients;
        let block = bucket_block(clients, &resource.id).await?;
        let state = Flags::describe(block);
        Ok(if block.is_some_and(Flags::all_on) {
            Assessment::compliant(state)
        } else {
            Assessment::violation(state)
        })
    }

    async fn fix(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Action, Error> {
        let clients = ctx.clients;
        put_bucket_block(clients, &resource.id, Flags::ALL_ON).await?;
        Ok(Action::Done(
            "turned on all four public access block flags for the bucket".into(),
        ))
    }

    fn planned_fix(&self) -> &'static str {
        "turn on all four public access block flags for the bucket"
    }
}
