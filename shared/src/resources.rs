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

    /// The id of the resource the event is about.
    fn id(&self, event: &TrailEvent) -> Result<String, Error>;

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

    fn id(&self, event: &TrailEvent) -> Result<String, Error> {
        event.request_str("bucketName").map(str::to_string).ok_or_else(|| {
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

    fn id(&self, event: &TrailEvent) -> Result<String, Error> {
        let account = event.account();
        if account.is_empty() {
            return Err(Error::Event(format!("{} event names no account", event.event_name())));
        }
        Ok(account)
    }
}
