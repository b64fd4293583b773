//! Backup and integrity safeguard, HIPAA 45 CFR 164.308(a)(7) contingency
//! plan and 164.312(c)(1) integrity: PHI can be recovered after a mistake or
//! an attack. S3 versioning stays on, RDS keeps its backups and deletion
//! protection, DynamoDB keeps point-in-time recovery, and backup vaults stay
//! private and locked.

mod dynamodb_pitr;
mod rds_backups;
mod s3_versioning;
mod vault;

use safeguard::{Control, Function};

pub use dynamodb_pitr::PointInTimeRecovery;
pub use rds_backups::{CLUSTER_BACKUPS, INSTANCE_BACKUPS, MIN_BACKUP_RETENTION_DAYS};
pub use s3_versioning::BucketVersioning;
pub use vault::{VaultLockRemoved, VaultPolicyPublic};

pub const CONTINGENCY: &str = "164.308(a)(7)";
pub const INTEGRITY: &str = "164.312(c)(1)";
pub const S3: &str = "s3.amazonaws.com";
pub const RDS: &str = "rds.amazonaws.com";
pub const DYNAMODB: &str = "dynamodb.amazonaws.com";
pub const BACKUP: &str = "backup.amazonaws.com";

pub static FUNCTION: Function = Function {
    name: "backup-integrity",
    safeguard: "Contingency plan and integrity, HIPAA 164.308(a)(7) and 164.312(c)(1)",
    // DynamoDB tables are waited on until active before PITR can be enabled.
    timeout_seconds: 120,
    controls: &[
        &BucketVersioning as &dyn Control,
        &INSTANCE_BACKUPS,
        &CLUSTER_BACKUPS,
        &PointInTimeRecovery,
        &VaultPolicyPublic,
        &VaultLockRemoved,
    ],
};
