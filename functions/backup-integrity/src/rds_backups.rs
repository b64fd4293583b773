//! RDS instances and clusters keep automated backups for at least the
//! configured number of days and cannot be deleted by one call.

use crate::{CONTINGENCY, RDS};
use safeguard::resources::{RdsResource, DB_CLUSTER, DB_INSTANCE};
use safeguard::{
    async_trait, Action, Assessment, Control, Ctx, Declaration, During, Error, Resource, Setting, Severity, Trigger,
};

pub static MIN_BACKUP_RETENTION_DAYS: Setting = Setting {
    env: "MIN_BACKUP_RETENTION_DAYS",
    parameter: "MinBackupRetentionDays",
    default: "7",
    description: "Fewest days of automated RDS backups (1 to 35)",
    allowed: &[],
};

/// The two knobs, as read from an instance or a cluster.
struct Protection {
    retention: i32,
    deletion_protection: bool,
}

pub struct BackupProtection {
    declaration: &'static Declaration,
    kind: &'static RdsResource,
}

static INSTANCE: Declaration = Declaration {
    id: "rds-instance-backups",
    title: "RDS instances keep automated backups and deletion protection",
    resource: &DB_INSTANCE,
    hipaa: CONTINGENCY,
    severity: Severity::High,
    problem: "lost backup protection",
    triggers: &[Trigger {
        event_source: RDS,
        event_names: &["CreateDBInstance", "ModifyDBInstance"],
    }],
    permissions: &["rds:DescribeDBInstances", "rds:ModifyDBInstance"],
    settings: &[&MIN_BACKUP_RETENTION_DAYS],
};

static CLUSTER: Declaration = Declaration {
    id: "rds-cluster-backups",
    title: "RDS clusters keep automated backups and deletion protection",
    resource: &DB_CLUSTER,
    hipaa: CONTINGENCY,
    severity: Severity::High,
    problem: "lost backup protection",
    triggers: &[Trigger {
        event_source: RDS,
        event_names: &["CreateDBCluster", "ModifyDBCluster"],
    }],
    permissions: &["rds:DescribeDBClusters", "rds:ModifyDBCluster"],
    settings: &[&MIN_BACKUP_RETENTION_DAYS],
};

pub static INSTANCE_BACKUPS: BackupProtection = BackupProtection {
    declaration: &INSTANCE,
    kind: &DB_INSTANCE,
};

pub static CLUSTER_BACKUPS: BackupProtection = BackupProtection {
    declaration: &CLUSTER,
    kind: &DB_CLUSTER,
};

fn minimum(ctx: &Ctx<'_>) -> i32 {
    ctx.settings
        .get(MIN_BACKUP_RETENTION_DAYS.env)
        .parse()
        .unwrap_or(7)
        .clamp(1, 35)
}

impl BackupProtection {
    fn cluster(&self) -> bool {
        std::ptr::eq(self.kind, &DB_CLUSTER)
    }

    async fn read(&self, ctx: &Ctx<'_>, id: &str) -> Result<Protection, Error> {
        let rds = ctx.clients.rds();
        let missing = || Error::Unexpected(format!("RDS returned nothing for {id}"));
        if self.cluster() {
            let out = rds
                .describe_db_clusters()
                .db_cluster_identifier(id)
                .send()
                .await
                .during("rds:DescribeDBClusters")?;
            let c = out.db_clusters().first().ok_or_else(missing)?;
            Ok(Protection {
                retention: c.backup_retention_period().unwrap_or(0),
                deletion_protection: c.deletion_protection() == Some(true),
            })
        } else {
            let out = rds
                .describe_db_instances()
                .db_instance_identifier(id)
                .send()
                .await
                .during("rds:DescribeDBInstances")?;
            let db = out.db_instances().first().ok_or_else(missing)?;
            Ok(Protection {
                retention: db.backup_retention_period().unwrap_or(0),
                deletion_protection: db.deletion_protection() == Some(true),
            })
        }
    }
}

#[async_trait]
impl Control for BackupProtection {
    fn declaration(&self) -> &'static Declaration {
        self.declaration
    }

    async fn check(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Assessment, Error> {
        let p = self.read(ctx, &resource.id).await?;
        let min = minimum(ctx);
        let mut wrong = Vec::new();
        if p.retention == 0 {
            wrong.push("automated backups are off (retention 0 days)".to_string());
        } else if p.retention < min {
            wrong.push(format!("backups are kept {} days (minimum {min})", p.retention));
        }
        if !p.deletion_protection {
            wrong.push("deletion protection is off".to_string());
        }
        Ok(if wrong.is_empty() {
            Assessment::compliant(format!(
                "backups kept {} days (minimum {min}), deletion protection on",
                p.retention
            ))
        } else {
            Assessment::violation(wrong.join("; "))
        })
    }

    async fn fix(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Action, Error> {
        let p = self.read(ctx, &resource.id).await?;
        let retention = p.retention.max(minimum(ctx));
        let rds = ctx.clients.rds();
        if self.cluster() {
            rds.modify_db_cluster()
                .db_cluster_identifier(&resource.id)
                .backup_retention_period(retention)
                .deletion_protection(true)
                .apply_immediately(true)
                .send()
                .await
                .during("rds:ModifyDBCluster")?;
        } else {
            rds.modify_db_instance()
                .db_instance_identifier(&resource.id)
                .backup_retention_period(retention)
                .deletion_protection(true)
                .apply_immediately(true)
                .send()
                .await
                .during("rds:ModifyDBInstance")?;
        }
        Ok(Action::Done(format!(
            "set backup retention to {retention} days and turned deletion protection on, applied immediately"
        )))
    }

    fn planned_fix(&self) -> &'static str {
        "raise backup retention to the configured minimum and turn deletion protection on"
    }
}
