use crate::{HIPAA, S3};
use aws_sdk_s3::operation::get_bucket_acl::GetBucketAclOutput;
use aws_sdk_s3::types::{AccessControlPolicy, Grant};
use safeguard::resources::S3Bucket;
use safeguard::{
    async_trait, Action, Assessment, Control, Ctx, Declaration, During, Error, Resource, Severity, Trigger,
};
use std::sync::Arc;

const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";

static DECLARATION: Declaration = Declaration {
    id: "s3-bucket-public-acl",
    title: "S3 bucket ACLs grant nothing to AllUsers or AuthenticatedUsers",
    resource: &S3Bucket,
    hipaa: HIPAA,
    severity: Severity::High,
    problem: "had a public ACL",
    triggers: &[Trigger {
        event_source: S3,
        event_names: &["CreateBucket", "PutBucketAcl"],
    }],
    permissions: &["s3:GetBucketAcl", "s3:PutBucketAcl"],
    settings: &[],
};

/// Removes ACL grants to everyone (AllUsers) or to any AWS account
/// (AuthenticatedUsers); keeps the owner's and log delivery's grants.
pub struct BucketPublicAcl;

fn public_group(grant: &Grant) -> Option<&'static str> {
    match grant.grantee().and_then(|g| g.uri()) {
        Some(ALL_USERS) => Some("AllUsers"),
        Some(AUTHENTICATED_USERS) => Some("AuthenticatedUsers"),
        _ => None,
    }
}

fn describe_public(grants: &[&Grant]) -> String {
    grants
        .iter()
        .map(|g| {
            let permission = g.permission().map(|p| p.as_str()).unwrap_or("?");
            format!("{permission} to {}", public_group(g).unwrap_or("?"))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Read once per event: the fix works from the ACL the check judged.
async fn bucket_acl(ctx: &Ctx<'_>, bucket: &str) -> Result<Arc<GetBucketAclOutput>, Error> {
    ctx.read(format!("s3:GetBucketAcl {bucket}"), || async {
        ctx.clients
            .s3()
            .get_bucket_acl()
            .bucket(bucket)
            .send()
            .await
            .during("s3:GetBucketAcl")
    })
    .await
}

#[async_trait]
impl Control for BucketPublicAcl {
    fn declaration(&self) -> &'static Declaration {
        &DECLARATION
    }

    async fn check(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Assessment, Error> {
        let acl = bucket_acl(ctx, &resource.id).await?;
        let public: Vec<&Grant> = acl.grants().iter().filter(|g| public_group(g).is_some()).collect();
        Ok(if public.is_empty() {
            Assessment::compliant(format!(
                "ACL has {} grant(s), none to AllUsers or AuthenticatedUsers",
                acl.grants().len()
            ))
        } else {
            Assessment::violation(format!("ACL grants {}", describe_public(&public)))
        })
    }

    async fn fix(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Action, Error> {
        let acl = bucket_acl(ctx, &resource.id).await?;
        let (public, kept): (Vec<&Grant>, Vec<&Grant>) = acl.grants().iter().partition(|g| public_group(g).is_some());
        let mut policy = AccessControlPolicy::builder().set_grants(Some(kept.iter().map(|g| (*g).clone()).collect()));
        if let Some(owner) = acl.owner() {
            policy = policy.owner(owner.clone());
        }
        ctx.clients
            .s3()
            .put_bucket_acl()
            .bucket(&resource.id)
            .access_control_policy(policy.build())
            .send()
            .await
            .during("s3:PutBucketAcl")?;
        Ok(Action::Done(format!(
            "removed the public ACL grant(s) ({}) and kept the other {} grant(s)",
            describe_public(&public),
            kept.len()
        )))
    }

    fn planned_fix(&self) -> &'static str {
        "remove the ACL grants to AllUsers/AuthenticatedUsers, keeping the owner's and log delivery's"
    }
}
