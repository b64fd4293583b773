//! Kinds of resource a control can look at: how to find the resource's id in
//! an event and how to read the tags that may exempt it. Shared by every
//! function whose controls look at the same kind of resource.

use crate::aws::Clients;
use crate::control::Resource;
use crate::error::{During, Error};
use crate::event::TrailEvent;
use async_trait::async_trait;

#[async_trait]
pub trait ResourceKind: Send + Sync + std::fmt::Debug {
    /// Human name, as in `S3 bucket "x"`.
    fn name(&self) -> &'static str;

    /// The ids of the resources the event is about (one call may create several).
    fn ids(&self, event: &TrailEvent) -> Result<Vec<String>, Error>;

    /// IAM actions `tags` needs; added to every function that uses the kind.
    fn tag_permissions(&self) -> &'static [&'static str] {
        &[]
    }

    /// Tags that may exempt the resource; kinds without tags have none.
    async fn tags(&self, _clients: &Clients, _resource: &Resource) -> Result<Vec<(String, String)>, Error> {
        Ok(Vec::new())
    }
}

/// An S3 bucket, named by `requestParameters.bucketName`.
#[derive(Debug)]
pub struct S3Bucket;

#[async_trait]
impl ResourceKind for S3Bucket {
    fn name(&self) -> &'static str {
        "S3 bucket"
    }

    fn ids(&self, event: &TrailEvent) -> Result<Vec<String>, Error> {
        event
            .request_str("bucketName")
            .map(|b| vec![b.to_string()])
            .ok_or_else(|| {
                Error::Event(format!(
                    "{} event has no requestParameters.bucketName",
                    event.event_name()
                ))
            })
    }

    fn tag_permissions(&self) -> &'static [&'static str] {
        &["s3:GetBucketTagging"]
    }

    async fn tags(&self, clients: &Clients, resource: &Resource) -> Result<Vec<(String, String)>, Error> {
        let tagging = clients.s3().get_bucket_tagging().bucket(&resource.id).send().await;
        match tagging.during("s3:GetBucketTagging") {
            Ok(out) => Ok(out
                .tag_set()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect()),
            Err(e) if e.code() == Some("NoSuchTagSet") => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }
}

/// The AWS account the event happened in. It carries no tags here: it is
/// exempted through `EXEMPT_RESOURCES`.
#[derive(Debug)]
pub struct Account;

#[async_trait]
impl ResourceKind for Account {
    fn name(&self) -> &'static str {
        "AWS account"
    }

    fn ids(&self, event: &TrailEvent) -> Result<Vec<String>, Error> {
        let account = event.account();
        if account.is_empty() {
            return Err(Error::Event(format!("{} event names no account", event.event_name())));
        }
        Ok(vec![account])
    }
}

/// An EC2 resource (security group, instance, volume...), found in the event
/// at any of `paths` (see [`TrailEvent::strings_at`]); tags through DescribeTags.
#[derive(Debug)]
pub struct Ec2Resource {
    pub name: &'static str,
    pub paths: &'static [&'static str],
}

#[async_trait]
impl ResourceKind for Ec2Resource {
    fn name(&self) -> &'static str {
        self.name
    }

    fn ids(&self, event: &TrailEvent) -> Result<Vec<String>, Error> {
        let mut ids: Vec<String> = Vec::new();
        for id in self.paths.iter().flat_map(|p| event.strings_at(p)) {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        if ids.is_empty() {
            return Err(Error::Event(format!(
                "{} event names no {} (looked at {})",
                event.event_name(),
                self.name,
                self.paths.join(", ")
            )));
        }
        Ok(ids)
    }

    fn tag_permissions(&self) -> &'static [&'static str] {
        &["ec2:DescribeTags"]
    }

    async fn tags(&self, clients: &Clients, resource: &Resource) -> Result<Vec<(String, String)>, Error> {
        let filter = aws_sdk_ec2::types::Filter::builder()
            .name("resource-id")
            .values(&resource.id)
            .build();
        let out = clients
            .ec2()
            .describe_tags()
            .filters(filter)
            .send()
            .await
            .during("ec2:DescribeTags")?;
        Ok(out
            .tags()
            .iter()
            .map(|t| {
                (
                    t.key().unwrap_or_default().to_string(),
                    t.value().unwrap_or_default().to_string(),
                )
            })
            .collect())
    }
}

pub static SECURITY_GROUP: Ec2Resource = Ec2Resource {
    name: "security group",
    paths: &[
        "requestParameters/groupId",
        "responseElements/groupId",
        "responseElements/securityGroupRuleSet/items/*/groupId",
        "requestParameters/ModifySecurityGroupRulesRequest/GroupId",
    ],
};

pub static INSTANCE: Ec2Resource = Ec2Resource {
    name: "EC2 instance",
    paths: &[
        "responseElements/instancesSet/items/*/instanceId",
        "requestParameters/ModifyInstanceMetadataOptionsRequest/InstanceId",
        "requestParameters/instanceId",
    ],
};

pub static NETWORK_ACL: Ec2Resource = Ec2Resource {
    name: "network ACL",
    paths: &["requestParameters/networkAclId"],
};
