//! Seeding for RDS events: the event names its resources, so they are
//! created under those names (or made public again when they exist).

use aws_sdk_rds::Client;
use safeguard::{Clients, During, Error, TrailEvent};

pub async fn seed(clients: &Clients, event: &TrailEvent) -> Result<String, Error> {
    let rds = clients.rds();
    let named = |key: &str| {
        event
            .request_str(key)
            .map(str::to_string)
            .ok_or_else(|| Error::Event(format!("{} event has no requestParameters.{key}", event.event_name())))
    };
    match event.event_name() {
        "CreateDBInstance" | "ModifyDBInstance" => {
            let db = named("dBInstanceIdentifier")?;
            ensure_instance(rds, &db).await?;
            let wanted = Wanted::from(event);
            rds.modify_db_instance()
                .db_instance_identifier(&db)
                .set_publicly_accessible(wanted.public)
                .set_backup_retention_period(wanted.retention)
                .set_deletion_protection(wanted.deletion_protection)
                .apply_immediately(true)
                .send()
                .await
                .during("rds:ModifyDBInstance")?;
            Ok(format!("RDS instance {db} {}", wanted.describe()))
        }
        "CreateDBCluster" | "ModifyDBCluster" => {
            let cluster = named("dBClusterIdentifier")?;
            ensure_cluster(rds, &cluster).await?;
            let wanted = Wanted::from(event);
            rds.modify_db_cluster()
                .db_cluster_identifier(&cluster)
                .set_backup_retention_period(wanted.retention)
                .set_deletion_protection(wanted.deletion_protection)
                .apply_immediately(true)
                .send()
                .await
                .during("rds:ModifyDBCluster")?;
            Ok(format!("RDS cluster {cluster} {}", wanted.describe()))
        }
        "ModifyDBSnapshotAttribute" => {
            let snapshot = named("dBSnapshotIdentifier")?;
            let db = format!("{snapshot}-db");
            ensure_instance(rds, &db).await?;
            let created = rds
                .create_db_snapshot()
                .db_instance_identifier(&db)
                .db_snapshot_identifier(&snapshot)
                .send()
                .await
                .during("rds:CreateDBSnapshot");
            tolerate(created, "DBSnapshotAlreadyExists")?;
            rds.modify_db_snapshot_attribute()
                .db_snapshot_identifier(&snapshot)
                .attribute_name("restore")
                .values_to_add("all")
                .values_to_add(crate::seed_ec2::PARTNER_ACCOUNT)
                .send()
                .await
                .during("rds:ModifyDBSnapshotAttribute")?;
            Ok(format!(
                "RDS snapshot {snapshot} of {db} is restorable by everyone (all) and by account {}",
                crate::seed_ec2::PARTNER_ACCOUNT
            ))
        }
        "ModifyDBClusterSnapshotAttribute" => {
            let snapshot = named("dBClusterSnapshotIdentifier")?;
            let cluster = format!("{snapshot}-cluster");
            ensure_cluster(rds, &cluster).await?;
            let created = rds
                .create_db_cluster_snapshot()
                .db_cluster_identifier(&cluster)
                .db_cluster_snapshot_identifier(&snapshot)
                .send()
                .await
                .during("rds:CreateDBClusterSnapshot");
            tolerate(created, "DBClusterSnapshotAlreadyExistsFault")?;
            rds.modify_db_cluster_snapshot_attribute()
                .db_cluster_snapshot_identifier(&snapshot)
                .attribute_name("restore")
                .values_to_add("all")
                .send()
                .await
                .during("rds:ModifyDBClusterSnapshotAttribute")?;
            Ok(format!(
                "RDS cluster snapshot {snapshot} of {cluster} is restorable by everyone (all)"
            ))
        }
        other => Ok(format!("nothing to seed for {other}")),
    }
}

/// What the event set, applied on top of a well-configured resource.
struct Wanted {
    public: Option<bool>,
    retention: Option<i32>,
    deletion_protection: Option<bool>,
}

impl Wanted {
    fn from(event: &TrailEvent) -> Wanted {
        let p = &event.call.request_parameters;
        let flag = |k: &str| p.get(k).and_then(serde_json::Value::as_bool);
        Wanted {
            public: flag("publiclyAccessible"),
            retention: p
                .get("backupRetentionPeriod")
                .and_then(serde_json::Value::as_i64)
                .map(|d| d as i32),
            deletion_protection: flag("deletionProtection"),
        }
    }

    fn describe(&self) -> String {
        let mut said = Vec::new();
        if let Some(public) = self.public {
            said.push(if public {
                "is publicly accessible".to_string()
            } else {
                "is private".to_string()
            });
        }
        if let Some(days) = self.retention {
            said.push(format!("keeps backups {days} days"));
        }
        if let Some(on) = self.deletion_protection {
            said.push(format!("has deletion protection {}", if on { "on" } else { "off" }));
        }
        said.join(", ")
    }
}

/// A small encrypted PostgreSQL instance with a week of backups and deletion
/// protection, unless it exists already.
async fn ensure_instance(rds: &Client, db: &str) -> Result<(), Error> {
    let created = rds
        .create_db_instance()
        .db_instance_identifier(db)
        .db_instance_class("db.t3.micro")
        .engine("postgres")
        .allocated_storage(20)
        .master_username("phiadmin")
        .master_user_password("seeded-only-in-the-emulator")
        .storage_encrypted(true)
        .backup_retention_period(7)
        .deletion_protection(true)
        .send()
        .await
        .during("rds:CreateDBInstance");
    tolerate(created, "DBInstanceAlreadyExists")
}

/// An encrypted Aurora PostgreSQL cluster, like `ensure_instance`.
async fn ensure_cluster(rds: &Client, cluster: &str) -> Result<(), Error> {
    let created = rds
        .create_db_cluster()
        .db_cluster_identifier(cluster)
        .engine("aurora-postgresql")
        .master_username("phiadmin")
        .master_user_password("seeded-only-in-the-emulator")
        .storage_encrypted(true)
        .backup_retention_period(7)
        .deletion_protection(true)
        .send()
        .await
        .during("rds:CreateDBCluster");
    tolerate(created, "DBClusterAlreadyExistsFault")
}

/// Success, or the one error that means the resource is there already.
fn tolerate<T>(result: Result<T, Error>, code: &str) -> Result<(), Error> {
    match result {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some(code) => Ok(()),
        Err(e) => Err(e),
    }
}
