use crate::bucket::{bucket_block, put_bucket_block, Flags};
use crate::{HIPAA, S3};
use safeguard::resources::S3Bucket;
use safeguard::{
    async_trait, Action, Assessment, Control, Ctx, Declaration, During, Error, Resource, Severity, Trigger,
};

static DECLARATION: Declaration = Declaration {
    id: "s3-bucket-public-policy",
    title: "S3 bucket policies do not make a bucket public",
    resource: &S3Bucket,
    hipaa: HIPAA,
    severity: Severity::Critical,
    problem: "had a public policy",
    triggers: &[Trigger {
        event_source: S3,
        event_names: &["PutBucketPolicy"],
    }],
    permissions: &[
        "s3:GetBucketPolicyStatus",
        "s3:GetBucketPublicAccessBlock",
        "s3:PutBucketPublicAccessBlock",
    ],
    settings: &[],
};

/// AWS's own policy evaluation (GetBucketPolicyStatus) decides what is public.
/// The fix turns on BlockPublicPolicy and RestrictPublicBuckets, which cuts
/// off public and cross-account access granted by the policy while keeping
/// the policy text for its owner to review.
pub struct BucketPublicPolicy;

#[async_trait]
impl Control for BucketPublicPolicy {
    fn declaration(&self) -> &'static Declaration {
        &DECLARATION
    }

    async fn check(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Assessment, Error> {
        let clients = ctx.clients;
        let status = clients
            .s3()
            .get_bucket_policy_status()
            .bucket(&resource.id)
            .send()
            .await
            .during("s3:GetBucketPolicyStatus");
        let public = match status {
            Ok(out) => out.policy_status().and_then(|s| s.is_public()).unwrap_or(false),
            Err(e) if e.code() == Some("NoSuchBucketPolicy") => {
                return Ok(Assessment::compliant("the bucket has no policy"));
            }
            Err(e) => return Err(e),
        };
        if !public {
            return Ok(Assessment::compliant(
                "the bucket policy is not public (GetBucketPolicyStatus)",
            ));
        }
        let block = bucket_block(clients, &resource.id).await?.unwrap_or_default();
        Ok(if block.block_public_policy && block.restrict_public_buckets {
            Assessment::compliant(
                "the policy text is public, but BlockPublicPolicy and RestrictPublicBuckets are on, so it grants no public access",
            )
        } else {
            Assessment::violation(format!(
                "the bucket policy grants public access (GetBucketPolicyStatus IsPublic=true) and {} off",
                block
                    .off()
                    .into_iter()
                    .filter(|f| f.ends_with("Policy") || f.ends_with("Buckets"))
                    .collect::<Vec<_>>()
                    .join(" and ")
            ))
        })
    }

    async fn fix(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Action, Error> {
        let clients = ctx.clients;
        let current = bucket_block(clients, &resource.id).await?.unwrap_or_default();
        let wanted = Flags {
            block_public_policy: true,
            restrict_public_buckets: true,
            ..current
        };
        put_bucket_block(clients, &resource.id, wanted).await?;
        Ok(Action::Done(
            "turned on BlockPublicPolicy and RestrictPublicBuckets in the bucket's public access block; \
            the policy text is kept as it was, review and remove its public statements"
                .into(),
        ))
    }

    fn planned_fix(&self) -> &'static str {
        "turn on BlockPublicPolicy and RestrictPublicBuckets for the bucket, keeping the policy text"
    }
}
