use crate::bucket::{bucket_block, bucket_name, bucket_tags, put_bucket_block, Flags, HIPAA, S3};
use safeguard::{
    async_trait, Assessment, Clients, Control, Declaration, Error, Resource, Severity, TrailEvent, Trigger,
};

static DECLARATION: Declaration = Declaration {
    id: "s3-bucket-public-access-block",
    title: "S3 buckets keep all four public access block flags on",
    resource_type: "S3 bucket",
    hipaa: HIPAA,
    severity: Severity::High,
    problem: "lost public access block",
    triggers: &[Trigger {
        event_source: S3,
        event_names: &["PutBucketPublicAccessBlock", "DeleteBucketPublicAccessBlock"],
    }],
    permissions: &[
        "s3:GetBucketPublicAccessBlock",
        "s3:PutBucketPublicAccessBlock",
        "s3:GetBucketTagging",
    ],
};

/// A deleted or weakened bucket public access block gets all four flags back.
pub struct BucketPublicAccessBlock;

#[async_trait]
impl Control for BucketPublicAccessBlock {
    fn declaration(&self) -> &'static Declaration {
        &DECLARATION
    }

    fn resource_id(&self, event: &TrailEvent) -> Result<String, Error> {
        bucket_name(event)
    }

    async fn tags(&self, clients: &Clients, resource: &Resource) -> Result<Vec<(String, String)>, Error> {
        bucket_tags(clients, &resource.id).await
    }

    async fn check(&self, clients: &Clients, resource: &Resource) -> Result<Assessment, Error> {
        let block = bucket_block(clients, &resource.id).await?;
        let state = Flags::describe(block);
        Ok(if block.is_some_and(Flags::all_on) {
            Assessment::compliant(state)
        } else {
            Assessment::violation(state)
        })
    }

    async fn fix(&self, clients: &Clients, resource: &Resource) -> Result<String, Error> {
        put_bucket_block(clients, &resource.id, Flags::ALL_ON).await?;
        Ok("turned on all four public access block flags for the bucket".into())
    }

    fn planned_fix(&self) -> &'static str {
        "turn on all four public access block flags for the bucket"
    }
}
