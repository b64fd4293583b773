//! EBS snapshots and AMIs shared with everyone (the group `all`): anyone can
//! copy the disk, and with it the PHI on it. The public permission goes;
//! shares with named accounts stay.

use crate::{EC2, HIPAA};
use aws_sdk_ec2::types::{
    LaunchPermission, LaunchPermissionModifications, OperationType, PermissionGroup, SnapshotAttributeName,
};
use safeguard::resources::{IMAGE, SNAPSHOT};
use safeguard::{
    async_trait, Action, Assessment, Control, Ctx, Declaration, During, Error, Resource, Severity, Trigger,
};

/// "public, and shared with accounts a, b" / "shared with accounts a" / "not shared".
/// Public is the violation; shares with named accounts are kept and reported.
fn sharing(public: bool, accounts: &[String]) -> Assessment {
    let state = describe_sharing(public, accounts);
    if public {
        Assessment::violation(state)
    } else {
        Assessment::compliant(state)
    }
}

fn describe_sharing(public: bool, accounts: &[String]) -> String {
    let accounts = if accounts.is_empty() {
        String::new()
    } else {
        format!("shared with account(s) {}", accounts.join(", "))
    };
    match (public, accounts.is_empty()) {
        (true, true) => "public (shared with everyone)".into(),
        (true, false) => format!("public (shared with everyone), and {accounts}"),
        (false, true) => "private: not shared with anyone".into(),
        (false, false) => format!("not public; {accounts}"),
    }
}

fn kept(accounts: &[String]) -> String {
    if accounts.is_empty() {
        String::new()
    } else {
        format!("; kept the share(s) with account(s) {}", accounts.join(", "))
    }
}

static SNAPSHOT_DECLARATION: Declaration = Declaration {
    id: "ebs-snapshot-public",
    title: "EBS snapshots are not shared publicly",
    resource: &SNAPSHOT,
    hipaa: HIPAA,
    severity: Severity::Critical,
    problem: "was shared publicly",
    triggers: &[Trigger {
        event_source: EC2,
        event_names: &["ModifySnapshotAttribute"],
    }],
    permissions: &["ec2:DescribeSnapshotAttribute", "ec2:ModifySnapshotAttribute"],
    settings: &[],
};

pub struct PublicSnapshot;

async fn snapshot_permissions(ctx: &Ctx<'_>, id: &str) -> Result<(bool, Vec<String>), Error> {
    let out = ctx
        .clients
        .ec2()
        .describe_snapshot_attribute()
        .snapshot_id(id)
        .attribute(SnapshotAttributeName::CreateVolumePermission)
        .send()
        .await
        .during("ec2:DescribeSnapshotAttribute")?;
    let perms = out.create_volume_permissions();
    let public = perms.iter().any(|p| p.group() == Some(&PermissionGroup::All));
    let accounts = perms.iter().filter_map(|p| p.user_id().map(str::to_string)).collect();
    Ok((public, accounts))
}

#[async_trait]
impl Control for PublicSnapshot {
    fn declaration(&self) -> &'static Declaration {
        &SNAPSHOT_DECLARATION
    }

    async fn check(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Assessment, Error> {
        let (public, accounts) = snapshot_permissions(ctx, &resource.id).await?;
        Ok(sharing(public, &accounts))
    }

    async fn fix(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Action, Error> {
        let (_, accounts) = snapshot_permissions(ctx, &resource.id).await?;
        // The flat form (OperationType + GroupNames) of the call: AWS takes it
        // as well as the structured one, and so does the emulator.
        ctx.clients
            .ec2()
            .modify_snapshot_attribute()
            .snapshot_id(&resource.id)
            .attribute(SnapshotAttributeName::CreateVolumePermission)
            .operation_type(OperationType::Remove)
            .group_names("all")
            .send()
            .await
            .during("ec2:ModifySnapshotAttribute")?;
        Ok(Action::Done(format!(
            "removed the public createVolumePermission (group all){}",
            kept(&accounts)
        )))
    }

    fn planned_fix(&self) -> &'static str {
        "remove the public createVolumePermission (group all), keeping shares with named accounts"
    }
}

static IMAGE_DECLARATION: Declaration = Declaration {
    id: "ami-public",
    title: "AMIs are not shared publicly",
    resource: &IMAGE,
    hipaa: HIPAA,
    severity: Severity::Critical,
    problem: "was made public",
    triggers: &[Trigger {
        event_source: EC2,
        event_names: &["ModifyImageAttribute"],
    }],
    permissions: &["ec2:DescribeImageAttribute", "ec2:ModifyImageAttribute"],
    settings: &[],
};

pub struct PublicImage;

async fn launch_permissions(ctx: &Ctx<'_>, id: &str) -> Result<(bool, Vec<String>), Error> {
    let out = ctx
        .clients
        .ec2()
        .describe_image_attribute()
        .image_id(id)
        .attribute(aws_sdk_ec2::types::ImageAttributeName::LaunchPermission)
        .send()
        .await
        .during("ec2:DescribeImageAttribute")?;
    let perms = out.launch_permissions();
    let public = perms.iter().any(|p| p.group() == Some(&PermissionGroup::All));
    let accounts = perms.iter().filter_map(|p| p.user_id().map(str::to_string)).collect();
    Ok((public, accounts))
}

#[async_trait]
impl Control for PublicImage {
    fn declaration(&self) -> &'static Declaration {
        &IMAGE_DECLARATION
    }

    async fn check(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Assessment, Error> {
        let (public, accounts) = launch_permissions(ctx, &resource.id).await?;
        Ok(sharing(public, &accounts))
    }

    async fn fix(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Action, Error> {
        let (_, accounts) = launch_permissions(ctx, &resource.id).await?;
        let remove = LaunchPermissionModifications::builder()
            .remove(LaunchPermission::builder().group(PermissionGroup::All).build())
            .build();
        ctx.clients
            .ec2()
            .modify_image_attribute()
            .image_id(&resource.id)
            .launch_permission(remove)
            .send()
            .await
            .during("ec2:ModifyImageAttribute")?;
        Ok(Action::Done(format!(
            "removed the public launch permission (group all){}",
            kept(&accounts)
        )))
    }

    fn planned_fix(&self) -> &'static str {
        "remove the public launch permission (group all), keeping shares with named accounts"
    }
}
