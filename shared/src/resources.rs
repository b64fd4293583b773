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

    /// The ids of the resources the event is about (one call may create
    /// several); some kinds look them up.
    async fn ids(&self, clients: &Clients, event: &TrailEvent) -> Result<Vec<String>, Error>;

    /// IAM actions `ids` and `tags` need; added to every function using the kind.
    fn permissions(&self) -> &'static [&'static str] {
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

    async fn ids(&self, _clients: &Clients, event: &TrailEvent) -> Result<Vec<String>, Error> {
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

    fn permissions(&self) -> &'static [&'static str] {
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

    async fn ids(&self, _clients: &Clients, event: &TrailEvent) -> Result<Vec<String>, Error> {
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
    /// Turns what the paths found into this kind's ids (an instance into its volumes).
    pub lookup: Option<Lookup>,
    /// `ec2:DescribeTags`, plus whatever `lookup` calls.
    pub permissions: &'static [&'static str],
}

pub type Lookup = fn(aws_sdk_ec2::Client, Vec<String>) -> LookupFuture;
pub type LookupFuture = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Vec<String>, Error>> + Send>>;

#[async_trait]
impl ResourceKind for Ec2Resource {
    fn name(&self) -> &'static str {
        self.name
    }

    async fn ids(&self, clients: &Clients, event: &TrailEvent) -> Result<Vec<String>, Error> {
        let mut ids: Vec<String> = Vec::new();
        for id in self.paths.iter().flat_map(|p| event.strings_at(p)) {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        if let Some(lookup) = self.lookup {
            ids = lookup(clients.ec2().clone(), ids).await?;
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

    fn permissions(&self) -> &'static [&'static str] {
        self.permissions
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
    lookup: None,
    permissions: &["ec2:DescribeTags"],
};

pub static INSTANCE: Ec2Resource = Ec2Resource {
    name: "EC2 instance",
    paths: &[
        "responseElements/instancesSet/items/*/instanceId",
        "requestParameters/ModifyInstanceMetadataOptionsRequest/InstanceId",
        "requestParameters/instanceId",
    ],
    lookup: None,
    permissions: &["ec2:DescribeTags"],
};

pub static NETWORK_ACL: Ec2Resource = Ec2Resource {
    name: "network ACL",
    paths: &["requestParameters/networkAclId"],
    lookup: None,
    permissions: &["ec2:DescribeTags"],
};

/// EBS volumes: named by CreateVolume and AttachVolume, or found attached to
/// the instances RunInstances started.
pub static VOLUME: Ec2Resource = Ec2Resource {
    name: "EBS volume",
    paths: &[
        "responseElements/volumeId",
        "requestParameters/volumeId",
        "responseElements/instancesSet/items/*/instanceId",
    ],
    lookup: Some(volumes_of),
    permissions: &["ec2:DescribeTags", "ec2:DescribeVolumes"],
};

fn volumes_of(ec2: aws_sdk_ec2::Client, ids: Vec<String>) -> LookupFuture {
    Box::pin(async move {
        let (instances, mut volumes): (Vec<String>, Vec<String>) = ids.into_iter().partition(|id| id.starts_with("i-"));
        if !instances.is_empty() {
            let filter = aws_sdk_ec2::types::Filter::builder()
                .name("attachment.instance-id")
                .set_values(Some(instances))
                .build();
            let out = ec2
                .describe_volumes()
                .filters(filter)
                .send()
                .await
                .during("ec2:DescribeVolumes")?;
            volumes.extend(out.volumes().iter().filter_map(|v| v.volume_id().map(str::to_string)));
        }
        Ok(volumes)
    })
}

/// A KMS key, by the id or ARN the call named.
#[derive(Debug)]
pub struct KmsKey;

#[async_trait]
impl ResourceKind for KmsKey {
    fn name(&self) -> &'static str {
        "KMS key"
    }

    async fn ids(&self, _clients: &Clients, event: &TrailEvent) -> Result<Vec<String>, Error> {
        let id = event.strings_at("requestParameters/keyId").into_iter().next();
        id.map(|id| vec![id])
            .ok_or_else(|| Error::Event(format!("{} event has no requestParameters.keyId", event.event_name())))
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["kms:ListResourceTags"]
    }

    async fn tags(&self, clients: &Clients, resource: &Resource) -> Result<Vec<(String, String)>, Error> {
        let out = clients
            .kms()
            .list_resource_tags()
            .key_id(&resource.id)
            .send()
            .await
            .during("kms:ListResourceTags")?;
        Ok(out
            .tags()
            .iter()
            .map(|t| (t.tag_key().to_string(), t.tag_value().to_string()))
            .collect())
    }
}

pub static SNAPSHOT: Ec2Resource = Ec2Resource {
    name: "EBS snapshot",
    paths: &["requestParameters/snapshotId"],
    lookup: None,
    permissions: &["ec2:DescribeTags"],
};

pub static IMAGE: Ec2Resource = Ec2Resource {
    name: "AMI",
    paths: &["requestParameters/imageId"],
    lookup: None,
    permissions: &["ec2:DescribeTags"],
};

/// An RDS resource named by an identifier in the event; tagged through its ARN.
#[derive(Debug)]
pub struct RdsResource {
    pub name: &'static str,
    /// Where the identifier is, in the order tried.
    pub paths: &'static [&'static str],
    /// The resource type in its ARN: `db`, `snapshot`, `cluster-snapshot`.
    pub arn_type: &'static str,
}

impl RdsResource {
    pub fn arn(&self, resource: &Resource) -> String {
        if resource.id.starts_with("arn:") {
            return resource.id.clone();
        }
        format!(
            "arn:aws:rds:{}:{}:{}:{}",
            resource.region, resource.account, self.arn_type, resource.id
        )
    }
}

#[async_trait]
impl ResourceKind for RdsResource {
    fn name(&self) -> &'static str {
        self.name
    }

    async fn ids(&self, _clients: &Clients, event: &TrailEvent) -> Result<Vec<String>, Error> {
        first_at(event, self.paths, self.name)
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["rds:ListTagsForResource"]
    }

    async fn tags(&self, clients: &Clients, resource: &Resource) -> Result<Vec<(String, String)>, Error> {
        let out = clients
            .rds()
            .list_tags_for_resource()
            .resource_name(self.arn(resource))
            .send()
            .await
            .during("rds:ListTagsForResource")?;
        Ok(out
            .tag_list()
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

pub static DB_INSTANCE: RdsResource = RdsResource {
    name: "RDS instance",
    paths: &[
        "requestParameters/dBInstanceIdentifier",
        "responseElements/dBInstanceIdentifier",
    ],
    arn_type: "db",
};

pub static DB_SNAPSHOT: RdsResource = RdsResource {
    name: "RDS snapshot",
    paths: &["requestParameters/dBSnapshotIdentifier"],
    arn_type: "snapshot",
};

pub static DB_CLUSTER_SNAPSHOT: RdsResource = RdsResource {
    name: "RDS cluster snapshot",
    paths: &["requestParameters/dBClusterSnapshotIdentifier"],
    arn_type: "cluster-snapshot",
};

/// The first string found at any of `paths`, or a clear event error.
fn first_at(event: &TrailEvent, paths: &[&str], name: &str) -> Result<Vec<String>, Error> {
    let id = paths.iter().flat_map(|p| event.strings_at(p)).next();
    id.map(|id| vec![id]).ok_or_else(|| {
        Error::Event(format!(
            "{} event names no {name} (looked at {})",
            event.event_name(),
            paths.join(", ")
        ))
    })
}

/// A resource known by name that carries no tags (AWS Config's recorder and
/// delivery channel): exempted through `EXEMPT_RESOURCES`.
#[derive(Debug)]
pub struct Named {
    pub name: &'static str,
    pub paths: &'static [&'static str],
}

#[async_trait]
impl ResourceKind for Named {
    fn name(&self) -> &'static str {
        self.name
    }

    async fn ids(&self, _clients: &Clients, event: &TrailEvent) -> Result<Vec<String>, Error> {
        first_at(event, self.paths, self.name)
    }
}

pub static CONFIG_RECORDER: Named = Named {
    name: "AWS Config recorder",
    paths: &["requestParameters/configurationRecorderName"],
};

pub static DELIVERY_CHANNEL: Named = Named {
    name: "AWS Config delivery channel",
    paths: &["requestParameters/deliveryChannelName"],
};

/// A CloudTrail trail, by the name or ARN the call gave.
#[derive(Debug)]
pub struct Trail;

impl Trail {
    pub fn arn(resource: &Resource) -> String {
        if resource.id.starts_with("arn:") {
            return resource.id.clone();
        }
        format!(
            "arn:aws:cloudtrail:{}:{}:trail/{}",
            resource.region, resource.account, resource.id
        )
    }
}

#[async_trait]
impl ResourceKind for Trail {
    fn name(&self) -> &'static str {
        "CloudTrail trail"
    }

    async fn ids(&self, _clients: &Clients, event: &TrailEvent) -> Result<Vec<String>, Error> {
        first_at(event, &["requestParameters/name"], self.name())
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["cloudtrail:ListTags"]
    }

    async fn tags(&self, clients: &Clients, resource: &Resource) -> Result<Vec<(String, String)>, Error> {
        let out = clients
            .cloudtrail()
            .list_tags()
            .resource_id_list(Trail::arn(resource))
            .send()
            .await
            .during("cloudtrail:ListTags");
        match out {
            Ok(out) => Ok(out
                .resource_tag_list()
                .iter()
                .flat_map(|r| r.tags_list())
                .map(|t| (t.key().to_string(), t.value().unwrap_or_default().to_string()))
                .collect()),
            // A deleted trail has no tags left to exempt it.
            Err(e) if e.kind() == Some(crate::error::AwsErrorKind::NotFound) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }
}

/// A CloudWatch Logs log group.
#[derive(Debug)]
pub struct LogGroup;

#[async_trait]
impl ResourceKind for LogGroup {
    fn name(&self) -> &'static str {
        "log group"
    }

    async fn ids(&self, _clients: &Clients, event: &TrailEvent) -> Result<Vec<String>, Error> {
        first_at(event, &["requestParameters/logGroupName"], self.name())
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["logs:ListTagsForResource"]
    }

    async fn tags(&self, clients: &Clients, resource: &Resource) -> Result<Vec<(String, String)>, Error> {
        let arn = format!(
            "arn:aws:logs:{}:{}:log-group:{}",
            resource.region, resource.account, resource.id
        );
        let out = clients
            .logs()
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .during("logs:ListTagsForResource")?;
        Ok(out
            .tags()
            .map(|tags| tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default())
    }
}

/// Every VPC of the event's region: a deleted flow log names no VPC, so each
/// VPC is checked for one.
pub static VPC: Ec2Resource = Ec2Resource {
    name: "VPC",
    paths: &[],
    lookup: Some(all_vpcs),
    permissions: &["ec2:DescribeTags", "ec2:DescribeVpcs"],
};

fn all_vpcs(ec2: aws_sdk_ec2::Client, _ids: Vec<String>) -> LookupFuture {
    Box::pin(async move {
        let mut vpcs = Vec::new();
        let mut pages = ec2.describe_vpcs().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.during("ec2:DescribeVpcs")?;
            vpcs.extend(page.vpcs().iter().filter_map(|v| v.vpc_id().map(str::to_string)));
        }
        Ok(vpcs)
    })
}

pub static DB_CLUSTER: RdsResource = RdsResource {
    name: "RDS cluster",
    paths: &[
        "requestParameters/dBClusterIdentifier",
        "responseElements/dBClusterIdentifier",
    ],
    arn_type: "cluster",
};

/// A DynamoDB table.
#[derive(Debug)]
pub struct DynamoTable;

#[async_trait]
impl ResourceKind for DynamoTable {
    fn name(&self) -> &'static str {
        "DynamoDB table"
    }

    async fn ids(&self, _clients: &Clients, event: &TrailEvent) -> Result<Vec<String>, Error> {
        first_at(event, &["requestParameters/tableName"], self.name())
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["dynamodb:ListTagsOfResource"]
    }

    async fn tags(&self, clients: &Clients, resource: &Resource) -> Result<Vec<(String, String)>, Error> {
        let arn = format!(
            "arn:aws:dynamodb:{}:{}:table/{}",
            resource.region, resource.account, resource.id
        );
        let out = clients
            .dynamodb()
            .list_tags_of_resource()
            .resource_arn(arn)
            .send()
            .await
            .during("dynamodb:ListTagsOfResource")?;
        Ok(out
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect())
    }
}

/// An AWS Backup vault.
#[derive(Debug)]
pub struct BackupVault;

#[async_trait]
impl ResourceKind for BackupVault {
    fn name(&self) -> &'static str {
        "backup vault"
    }

    async fn ids(&self, _clients: &Clients, event: &TrailEvent) -> Result<Vec<String>, Error> {
        first_at(event, &["requestParameters/backupVaultName"], self.name())
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["backup:DescribeBackupVault", "backup:ListTags"]
    }

    async fn tags(&self, clients: &Clients, resource: &Resource) -> Result<Vec<(String, String)>, Error> {
        let vault = clients
            .backup()
            .describe_backup_vault()
            .backup_vault_name(&resource.id)
            .send()
            .await
            .during("backup:DescribeBackupVault")?;
        let Some(arn) = vault.backup_vault_arn() else {
            return Ok(Vec::new());
        };
        let out = clients
            .backup()
            .list_tags()
            .resource_arn(arn)
            .send()
            .await
            .during("backup:ListTags")?;
        Ok(out
            .tags()
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default())
    }
}

/// A GuardDuty detector, by the id the call named. A deleted detector has no
/// tags left to exempt it.
#[derive(Debug)]
pub struct Detector;

impl Detector {
    /// GuardDuty's answers for a detector id that no longer exists.
    pub const GONE: &'static [&'static str] = &["BadRequestException", "InvalidInputException"];
}

#[async_trait]
impl ResourceKind for Detector {
    fn name(&self) -> &'static str {
        "GuardDuty detector"
    }

    async fn ids(&self, _clients: &Clients, event: &TrailEvent) -> Result<Vec<String>, Error> {
        first_at(event, &["requestParameters/detectorId"], self.name())
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["guardduty:GetDetector"]
    }

    async fn tags(&self, clients: &Clients, resource: &Resource) -> Result<Vec<(String, String)>, Error> {
        let out = clients
            .guardduty()
            .get_detector()
            .detector_id(&resource.id)
            .send()
            .await
            .during("guardduty:GetDetector")
            .map_err(|e| e.gone_if(Detector::GONE));
        match out {
            Ok(out) => Ok(out
                .tags()
                .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default()),
            Err(e) if gone(&e) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }
}

/// An EventBridge rule, on the default bus unless the call named another.
#[derive(Debug)]
pub struct EventRule;

impl EventRule {
    /// The bus the call named, when it is not the default one.
    pub fn bus(event: &TrailEvent) -> Option<String> {
        event
            .strings_at("requestParameters/eventBusName")
            .into_iter()
            .next()
            .filter(|b| b != "default")
    }

    pub fn arn(resource: &Resource, bus: Option<&str>) -> String {
        let bus = bus.map(|b| format!("{b}/")).unwrap_or_default();
        format!(
            "arn:aws:events:{}:{}:rule/{bus}{}",
            resource.region, resource.account, resource.id
        )
    }
}

#[async_trait]
impl ResourceKind for EventRule {
    fn name(&self) -> &'static str {
        "EventBridge rule"
    }

    async fn ids(&self, _clients: &Clients, event: &TrailEvent) -> Result<Vec<String>, Error> {
        // RemoveTargets names its rule `rule`; the others `name`.
        first_at(
            event,
            &["requestParameters/name", "requestParameters/rule"],
            self.name(),
        )
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["events:ListTagsForResource"]
    }

    async fn tags(&self, clients: &Clients, resource: &Resource) -> Result<Vec<(String, String)>, Error> {
        // The bus is not known here; Safeguard's rules live on the default bus
        // or on the one named by their ARN in the id.
        let arn = if resource.id.starts_with("arn:") {
            resource.id.clone()
        } else {
            EventRule::arn(resource, None)
        };
        let out = clients
            .eventbridge()
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .during("events:ListTagsForResource");
        match out {
            Ok(out) => Ok(out
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect()),
            Err(e) if gone(&e) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }
}

/// A resource deleted by the call being handled has no tags to read.
fn gone(e: &Error) -> bool {
    e.kind() == Some(crate::error::AwsErrorKind::NotFound)
}

/// Who signed in: an IAM user by name; any other identity (the root user, a
/// federated session) by its ARN, without tags.
#[derive(Debug)]
pub struct SignedInUser;

#[async_trait]
impl ResourceKind for SignedInUser {
    fn name(&self) -> &'static str {
        "IAM identity"
    }

    async fn ids(&self, _clients: &Clients, event: &TrailEvent) -> Result<Vec<String>, Error> {
        let id = &event.call.user_identity;
        let name = id
            .arn
            .as_deref()
            .filter(|_| id.r#type == "IAMUser")
            .and_then(|arn| arn.split(":user/").nth(1))
            .and_then(|path| path.rsplit('/').next())
            .or(id.user_name.as_deref().filter(|_| id.r#type == "IAMUser"));
        name.or(id.arn.as_deref())
            .map(|n| vec![n.to_string()])
            .ok_or_else(|| Error::Event(format!("{} event names no identity", event.event_name())))
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["iam:ListUserTags"]
    }

    async fn tags(&self, clients: &Clients, resource: &Resource) -> Result<Vec<(String, String)>, Error> {
        if resource.id.starts_with("arn:") {
            return Ok(Vec::new());
        }
        iam_tags(clients, IamPrincipalKind::User, &resource.id).await
    }
}

/// What an IAM policy can be attached to, or the policy itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IamPrincipalKind {
    User,
    Role,
    Group,
    Policy,
}

/// An IAM principal a policy call changed, as `user/NAME`, `role/NAME` or
/// `group/NAME`, or the managed policy (by ARN) a new version changed.
#[derive(Debug)]
pub struct IamPrincipal;

impl IamPrincipal {
    /// `role/NAME` → (Role, NAME); a policy ARN → (Policy, ARN).
    pub fn parse(id: &str) -> (IamPrincipalKind, &str) {
        if let Some(name) = id.strip_prefix("user/") {
            (IamPrincipalKind::User, name)
        } else if let Some(name) = id.strip_prefix("role/") {
            (IamPrincipalKind::Role, name)
        } else if let Some(name) = id.strip_prefix("group/") {
            (IamPrincipalKind::Group, name)
        } else {
            (IamPrincipalKind::Policy, id)
        }
    }
}

#[async_trait]
impl ResourceKind for IamPrincipal {
    fn name(&self) -> &'static str {
        "IAM"
    }

    async fn ids(&self, _clients: &Clients, event: &TrailEvent) -> Result<Vec<String>, Error> {
        for (key, prefix) in [("userName", "user/"), ("roleName", "role/"), ("groupName", "group/")] {
            if let Some(name) = event.request_str(key) {
                return Ok(vec![format!("{prefix}{name}")]);
            }
        }
        first_at(event, &["requestParameters/policyArn"], "IAM principal or policy")
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["iam:ListUserTags", "iam:ListRoleTags", "iam:ListPolicyTags"]
    }

    async fn tags(&self, clients: &Clients, resource: &Resource) -> Result<Vec<(String, String)>, Error> {
        let (kind, name) = IamPrincipal::parse(&resource.id);
        iam_tags(clients, kind, name).await
    }
}

async fn iam_tags(clients: &Clients, kind: IamPrincipalKind, name: &str) -> Result<Vec<(String, String)>, Error> {
    let iam = clients.iam();
    let tags = match kind {
        IamPrincipalKind::User => iam
            .list_user_tags()
            .user_name(name)
            .send()
            .await
            .during("iam:ListUserTags")?
            .tags()
            .to_vec(),
        IamPrincipalKind::Role => iam
            .list_role_tags()
            .role_name(name)
            .send()
            .await
            .during("iam:ListRoleTags")?
            .tags()
            .to_vec(),
        IamPrincipalKind::Policy => iam
            .list_policy_tags()
            .policy_arn(name)
            .send()
            .await
            .during("iam:ListPolicyTags")?
            .tags()
            .to_vec(),
        // IAM groups carry no tags.
        IamPrincipalKind::Group => Vec::new(),
    };
    Ok(tags
        .into_iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect())
}
