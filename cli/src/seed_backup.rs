//! Seeding for the backup-integrity events: versioning suspended, DynamoDB
//! tables without point-in-time recovery, backup vaults without their lock.

use crate::seed::ensure_bucket;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, PointInTimeRecoverySpecification, ScalarAttributeType,
};
use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
use safeguard::{Clients, During, Error, TrailEvent};

/// A bucket whose versioning was enabled, then suspended.
pub async fn seed_versioning(clients: &Clients, bucket: &str) -> Result<String, Error> {
    ensure_bucket(clients, bucket).await?;
    for status in [BucketVersioningStatus::Enabled, BucketVersioningStatus::Suspended] {
        clients
            .s3()
            .put_bucket_versioning()
            .bucket(bucket)
            .versioning_configuration(VersioningConfiguration::builder().status(status).build())
            .send()
            .await
            .during("s3:PutBucketVersioning")?;
    }
    Ok(format!("bucket {bucket} has versioning suspended"))
}

fn named<'a>(event: &'a TrailEvent, key: &str) -> Result<&'a str, Error> {
    event
        .request_str(key)
        .ok_or_else(|| Error::Event(format!("{} event has no requestParameters.{key}", event.event_name())))
}

/// The table, without point-in-time recovery.
pub async fn seed_dynamodb(clients: &Clients, event: &TrailEvent) -> Result<String, Error> {
    let table = named(event, "tableName")?;
    let dynamodb = clients.dynamodb();
    let key = |name: &str| -> Result<(AttributeDefinition, KeySchemaElement), Error> {
        let def = AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(|e| Error::Unexpected(e.to_string()))?;
        let schema = KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(KeyType::Hash)
            .build()
            .map_err(|e| Error::Unexpected(e.to_string()))?;
        Ok((def, schema))
    };
    let (def, schema) = key("patientId")?;
    let created = dynamodb
        .create_table()
        .table_name(table)
        .attribute_definitions(def)
        .key_schema(schema)
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .during("dynamodb:CreateTable");
    match created {
        Ok(_) => {}
        Err(e) if e.code() == Some("ResourceInUseException") => {}
        Err(e) => return Err(e),
    }
    let off = PointInTimeRecoverySpecification::builder()
        .point_in_time_recovery_enabled(false)
        .build()
        .map_err(|e| Error::Unexpected(e.to_string()))?;
    dynamodb
        .update_continuous_backups()
        .table_name(table)
        .point_in_time_recovery_specification(off)
        .send()
        .await
        .during("dynamodb:UpdateContinuousBackups")?;
    Ok(format!("DynamoDB table {table} has point-in-time recovery off"))
}

/// A vault whose lock was removed.
pub async fn seed_backup(clients: &Clients, event: &TrailEvent) -> Result<String, Error> {
    let vault = named(event, "backupVaultName")?;
    let backup = clients.backup();
    let created = backup
        .create_backup_vault()
        .backup_vault_name(vault)
        .send()
        .await
        .during("backup:CreateBackupVault");
    match created {
        Ok(_) => {}
        Err(e) if e.code() == Some("AlreadyExistsException") => {}
        Err(e) => return Err(e),
    }
    match event.event_name() {
        "DeleteBackupVaultLockConfiguration" => {
            backup
                .put_backup_vault_lock_configuration()
                .backup_vault_name(vault)
                .min_retention_days(2192)
                .send()
                .await
                .during("backup:PutBackupVaultLockConfiguration")?;
            backup
                .delete_backup_vault_lock_configuration()
                .backup_vault_name(vault)
                .send()
                .await
                .during("backup:DeleteBackupVaultLockConfiguration")?;
            Ok(format!("backup vault {vault} had its vault lock removed"))
        }
        other => Ok(format!("nothing to seed for {other}")),
    }
}
