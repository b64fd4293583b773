//! RDS databases reachable from the internet, and RDS snapshots anyone can
//! restore: both put PHI one step from the world.

use crate::{HIPAA, RDS};
use safeguard::resources::{RdsResource, DB_CLUSTER_SNAPSHOT, DB_INSTANCE, DB_SNAPSHOT};
use safeguard::{
    async_trait, Action, Assessment, Control, Ctx, Declaration, During, Error, Resource, Severity, Trigger,
};

static INSTANCE_DECLARATION: Declaration = Declaration {
    id: "rds-instance-public",
    title: "RDS instances are not publicly accessible",
    resource: &DB_INSTANCE,
    hipaa: HIPAA,
    severity: Severity::Critical,
    problem: "was publicly accessible",
    triggers: &[Trigger {
        event_source: RDS,
        event_names: &["CreateDBInstance", "ModifyDBInstance"],
    }],
    permissions: &["rds:DescribeDBInstances", "rds:ModifyDBInstance"],
    settings: &[],
};

pub struct PublicDbInstance;

#[async_trait]
impl Control for PublicDbInstance {
    fn declaration(&self) -> &'static Declaration {
        &INSTANCE_DECLARATION
    }

    async fn check(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Assessment, Error> {
        let out = ctx
            .clients
            .rds()
            .describe_db_instances()
            .db_instance_identifier(&resource.id)
            .send()
            .await
            .during("rds:DescribeDBInstances")?;
        let db = out
            .db_instances()
            .first()
            .ok_or_else(|| Error::Unexpected(format!("DescribeDBInstances returned nothing for {}", resource.id)))?;
        Ok(if db.publicly_accessible() == Some(true) {
            let endpoint = db.endpoint().and_then(|e| e.address()).unwrap_or("its endpoint");
            Assessment::violation(format!(
                "PubliclyAccessible=true: {endpoint} resolves to a public address"
            ))
        } else {
            Assessment::compliant("PubliclyAccessible=false")
        })
    }

    async fn fix(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Action, Error> {
        ctx.clients
            .rds()
            .modify_db_instance()
            .db_instance_identifier(&resource.id)
            .publicly_accessible(false)
            .apply_immediately(true)
            .send()
            .await
            .during("rds:ModifyDBInstance")?;
        Ok(Action::Done(
            "set PubliclyAccessible=false, applied immediately (the endpoint resolves to private addresses only)"
                .into(),
        ))
    }

    fn planned_fix(&self) -> &'static str {
        "set PubliclyAccessible=false, applied immediately"
    }
}

/// Manual DB snapshots and cluster snapshots share one mechanism: the
/// `restore` attribute, where `all` means anyone.
pub struct PublicDbSnapshot {
    declaration: &'static Declaration,
    kind: &'static RdsResource,
}

static SNAPSHOT_DECLARATION: Declaration = Declaration {
    id: "rds-snapshot-public",
    title: "RDS snapshots are not restorable by everyone",
    resource: &DB_SNAPSHOT,
    hipaa: HIPAA,
    severity: Severity::Critical,
    problem: "was shared publicly",
    triggers: &[Trigger {
        event_source: RDS,
        event_names: &["ModifyDBSnapshotAttribute"],
    }],
    permissions: &["rds:DescribeDBSnapshotAttributes", "rds:ModifyDBSnapshotAttribute"],
    settings: &[],
};

static CLUSTER_SNAPSHOT_DECLARATION: Declaration = Declaration {
    id: "rds-cluster-snapshot-public",
    title: "RDS cluster snapshots are not restorable by everyone",
    resource: &DB_CLUSTER_SNAPSHOT,
    hipaa: HIPAA,
    severity: Severity::Critical,
    problem: "was shared publicly",
    triggers: &[Trigger {
        event_source: RDS,
        event_names: &["ModifyDBClusterSnapshotAttribute"],
    }],
    permissions: &[
        "rds:DescribeDBClusterSnapshotAttributes",
        "rds:ModifyDBClusterSnapshotAttribute",
    ],
    settings: &[],
};

pub static PUBLIC_DB_SNAPSHOT: PublicDbSnapshot = PublicDbSnapshot {
    declaration: &SNAPSHOT_DECLARATION,
    kind: &DB_SNAPSHOT,
};

pub static PUBLIC_DB_CLUSTER_SNAPSHOT: PublicDbSnapshot = PublicDbSnapshot {
    declaration: &CLUSTER_SNAPSHOT_DECLARATION,
    kind: &DB_CLUSTER_SNAPSHOT,
};

const RESTORE: &str = "restore";

impl PublicDbSnapshot {
    fn cluster(&self) -> bool {
        std::ptr::eq(self.kind, &DB_CLUSTER_SNAPSHOT)
    }

    /// The accounts the snapshot is shared with; `all` among them means public.
    async fn shared_with(&self, ctx: &Ctx<'_>, id: &str) -> Result<Vec<String>, Error> {
        let rds = ctx.clients.rds();
        let values: Vec<Vec<String>> = if self.cluster() {
            let out = rds
                .describe_db_cluster_snapshot_attributes()
                .db_cluster_snapshot_identifier(id)
                .send()
                .await
                .during("rds:DescribeDBClusterSnapshotAttributes")?;
            let attrs = out.db_cluster_snapshot_attributes_result();
            attrs
                .map(|r| r.db_cluster_snapshot_attributes())
                .unwrap_or_default()
                .iter()
                .filter(|a| a.attribute_name() == Some(RESTORE))
                .map(|a| a.attribute_values().to_vec())
                .collect()
        } else {
            let out = rds
                .describe_db_snapshot_attributes()
                .db_snapshot_identifier(id)
                .send()
                .await
                .during("rds:DescribeDBSnapshotAttributes")?;
            let attrs = out.db_snapshot_attributes_result();
            attrs
                .map(|r| r.db_snapshot_attributes())
                .unwrap_or_default()
                .iter()
                .filter(|a| a.attribute_name() == Some(RESTORE))
                .map(|a| a.attribute_values().to_vec())
                .collect()
        };
        Ok(values.into_iter().flatten().collect())
    }
}

#[async_trait]
impl Control for PublicDbSnapshot {
    fn declaration(&self) -> &'static Declaration {
        self.declaration
    }

    async fn check(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Assessment, Error> {
        let shared = self.shared_with(ctx, &resource.id).await?;
        let accounts: Vec<&str> = shared.iter().map(String::as_str).filter(|a| *a != "all").collect();
        let with = if accounts.is_empty() {
            String::new()
        } else {
            format!("; shared with account(s) {}", accounts.join(", "))
        };
        Ok(if shared.iter().any(|a| a == "all") {
            Assessment::violation(format!("anyone can restore it (restore attribute includes all){with}"))
        } else {
            Assessment::compliant(format!("not public{with}"))
        })
    }

    async fn fix(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Action, Error> {
        let rds = ctx.clients.rds();
        if self.cluster() {
            rds.modify_db_cluster_snapshot_attribute()
                .db_cluster_snapshot_identifier(&resource.id)
                .attribute_name(RESTORE)
                .values_to_remove("all")
                .send()
                .await
                .during("rds:ModifyDBClusterSnapshotAttribute")?;
        } else {
            rds.modify_db_snapshot_attribute()
                .db_snapshot_identifier(&resource.id)
                .attribute_name(RESTORE)
                .values_to_remove("all")
                .send()
                .await
                .during("rds:ModifyDBSnapshotAttribute")?;
        }
        Ok(Action::Done(
            "removed `all` from the snapshot's restore attribute; shares with named accounts are kept".into(),
        ))
    }

    fn planned_fix(&self) -> &'static str {
        "remove `all` from the snapshot's restore attribute, keeping shares with named accounts"
    }
}
