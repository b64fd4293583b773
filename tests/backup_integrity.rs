//! The backup-integrity safeguard against the emulator: S3 versioning, RDS
//! backups and deletion protection, DynamoDB point-in-time recovery, and
//! backup vault locks. Vault access policies need an API the emulator lacks:
//! that gap is asserted here, and the logic is tested with mocked responses.

use aws_sdk_backup::operation::describe_backup_vault::DescribeBackupVaultOutput;
use aws_sdk_backup::operation::get_backup_vault_access_policy::{
    GetBackupVaultAccessPolicyError, GetBackupVaultAccessPolicyOutput,
};
use aws_sdk_backup::operation::list_tags::ListTagsOutput;
use aws_sdk_backup::types::error::ResourceNotFoundException;
use aws_sdk_dynamodb::types::PointInTimeRecoveryStatus;
use aws_smithy_mocks::Rule;
use aws_smithy_types::error::ErrorMetadata;
use backup_integrity::FUNCTION;
use safeguard::{Alert, Aws, Clients, Config, Engine, Mode, Status};
use safeguard_tests::mocked::*;
use safeguard_tests::*;
use std::sync::Arc;

fn lifecycle(file: &'static str, control: &'static str, violated: fn(Arc<Clients>, String) -> Check) -> Lifecycle {
    Lifecycle::of(&FUNCTION, file, control, "high", violated, &[])
}

fn versioning_off(c: Arc<Clients>, bucket: String) -> Check {
    Box::pin(async move {
        let out = c
            .s3()
            .get_bucket_versioning()
            .bucket(bucket)
            .send()
            .await
            .expect("versioning");
        out.status() != Some(&aws_sdk_s3::types::BucketVersioningStatus::Enabled)
    })
}

#[tokio::test]
async fn suspended_versioning() {
    lifecycle(
        "backup-integrity/put-bucket-versioning-suspended.json",
        "s3-versioning",
        versioning_off,
    )
    .run(tag_bucket)
    .await;
}

fn db_unprotected(c: Arc<Clients>, id: String) -> Check {
    Box::pin(async move {
        let out = c
            .rds()
            .describe_db_instances()
            .db_instance_identifier(id)
            .send()
            .await
            .expect("instance");
        let db = &out.db_instances()[0];
        db.backup_retention_period().unwrap_or(0) < 7 || db.deletion_protection() != Some(true)
    })
}

fn cluster_unprotected(c: Arc<Clients>, id: String) -> Check {
    Box::pin(async move {
        let out = c
            .rds()
            .describe_db_clusters()
            .db_cluster_identifier(id)
            .send()
            .await
            .expect("cluster");
        let cluster = &out.db_clusters()[0];
        cluster.backup_retention_period().unwrap_or(0) < 7 || cluster.deletion_protection() != Some(true)
    })
}

#[tokio::test]
async fn rds_instance_without_backups() {
    lifecycle(
        "backup-integrity/modify-db-instance-no-backups.json",
        "rds-instance-backups",
        db_unprotected,
    )
    .run(tag_db)
    .await;
}

#[tokio::test]
async fn rds_cluster_with_weak_backups() {
    lifecycle(
        "backup-integrity/create-db-cluster-weak-backups.json",
        "rds-cluster-backups",
        cluster_unprotected,
    )
    .run(tag_db_cluster)
    .await;
}

#[tokio::test]
async fn longer_retention_is_kept_and_the_minimum_is_configurable() {
    let env = TestEnv::new("bi").await;
    let mut event = sample("backup-integrity/modify-db-instance-no-backups.json");
    let db = unique("bi");
    event["detail"]["requestParameters"]["dBInstanceIdentifier"] = db.clone().into();
    event["detail"]["requestParameters"]["backupRetentionPeriod"] = 10.into();
    seed(&env.clients, &mut event).await.expect("seed");
    let retention = |c: Arc<Clients>, db: String| async move {
        let out = c
            .rds()
            .describe_db_instances()
            .db_instance_identifier(db)
            .send()
            .await
            .expect("instance");
        out.db_instances()[0].backup_retention_period()
    };

    // Ten days meet the default minimum of 7: only deletion protection is restored.
    let o = env
        .engine(&FUNCTION, env.config(Mode::Remediate))
        .handle(event.clone())
        .await
        .into_iter()
        .find(|o| o.control.as_deref() == Some("rds-instance-backups"))
        .expect("outcome");
    assert_eq!(o.status, Status::Remediated, "{}", o.detail);
    assert_eq!(o.state_before.as_deref(), Some("deletion protection is off"));
    assert_eq!(retention(env.clients.clone(), db.clone()).await, Some(10));

    // A stricter deployment raises it.
    let mut settings = safeguard::Settings::defaults(FUNCTION.settings());
    settings.set("MIN_BACKUP_RETENTION_DAYS", "14");
    let o = env
        .engine(&FUNCTION, env.config(Mode::Remediate))
        .with_settings(settings)
        .handle(event)
        .await
        .into_iter()
        .find(|o| o.control.as_deref() == Some("rds-instance-backups"))
        .expect("outcome");
    assert_eq!(o.status, Status::Remediated, "{}", o.detail);
    assert!(
        o.state_before.as_deref().is_some_and(|s| s.contains("minimum 14")),
        "{:?}",
        o.state_before
    );
    assert_eq!(retention(env.clients.clone(), db).await, Some(14));
    env.alerts(2).await;
}

fn tag_table(c: Arc<Clients>, table: String, key: &'static str, value: &'static str) -> Done {
    Box::pin(async move {
        let tag = aws_sdk_dynamodb::types::Tag::builder()
            .key(key)
            .value(value)
            .build()
            .expect("tag");
        c.dynamodb()
            .tag_resource()
            .resource_arn(format!("arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{table}"))
            .tags(tag)
            .send()
            .await
            .expect("tag table");
    })
}

fn pitr_off(c: Arc<Clients>, table: String) -> Check {
    Box::pin(async move {
        let out = c
            .dynamodb()
            .describe_continuous_backups()
            .table_name(table)
            .send()
            .await
            .expect("continuous backups");
        let status = out
            .continuous_backups_description()
            .and_then(|d| d.point_in_time_recovery_description())
            .and_then(|p| p.point_in_time_recovery_status());
        status != Some(&PointInTimeRecoveryStatus::Enabled)
    })
}

#[tokio::test]
async fn point_in_time_recovery_turned_off() {
    lifecycle(
        "backup-integrity/update-continuous-backups-off.json",
        "dynamodb-point-in-time-recovery",
        pitr_off,
    )
    .run(tag_table)
    .await;
}

#[tokio::test]
async fn table_created_without_point_in_time_recovery() {
    lifecycle(
        "backup-integrity/create-table.json",
        "dynamodb-point-in-time-recovery",
        pitr_off,
    )
    .run(tag_table)
    .await;
}

async fn tag_vault(c: &Clients, vault: &str, key: &str, value: &str) {
    let arn = c
        .backup()
        .describe_backup_vault()
        .backup_vault_name(vault)
        .send()
        .await
        .expect("vault")
        .backup_vault_arn()
        .expect("arn")
        .to_string();
    c.backup()
        .tag_resource()
        .resource_arn(arn)
        .tags(key, value)
        .send()
        .await
        .expect("tag vault");
}

async fn vault_locked(c: &Clients, vault: &str) -> bool {
    let out = c
        .backup()
        .describe_backup_vault()
        .backup_vault_name(vault)
        .send()
        .await
        .expect("vault");
    out.locked() == Some(true)
}

/// Notify-only: reported (critical) every time, never changed; exemptable.
#[tokio::test]
async fn removed_vault_lock_is_reported_not_changed() {
    let env = TestEnv::new("bi").await;
    let mut event = sample("backup-integrity/delete-backup-vault-lock.json");
    let vault = unique("vault");
    event["detail"]["requestParameters"]["backupVaultName"] = vault.clone().into();
    seed(&env.clients, &mut event).await.expect("seed");
    assert!(!vault_locked(&env.clients, &vault).await);
    let engine = env.engine(&FUNCTION, env.config(Mode::Remediate));

    for _ in 0..2 {
        let o = &engine.handle(event.clone()).await[0];
        assert_eq!(o.status, Status::WouldRemediate, "{}", o.detail);
        assert!(o.detail.contains("notify-only"), "{}", o.detail);
        assert!(o.state_before.as_deref().is_some_and(|s| s.contains("not locked")));
        let alerts = env.alerts(1).await;
        assert_eq!(attribute(&alerts[0], "severity"), "critical");
        assert_eq!(attribute(&alerts[0], "control"), "backup-vault-lock-removed");
        assert!(
            alerts[0].subject.contains("lost its vault lock"),
            "{}",
            alerts[0].subject
        );
        assert!(
            !vault_locked(&env.clients, &vault).await,
            "notify-only must not change the vault"
        );
    }
    let dry = &env
        .engine(&FUNCTION, env.config(Mode::DryRun))
        .handle(event.clone())
        .await[0];
    assert_eq!(dry.status, Status::WouldRemediate, "{}", dry.detail);
    env.alerts(1).await;

    for variant in [failed_call(event.clone()), by_own_role(event.clone())] {
        assert_eq!(engine.handle(variant).await[0].status, Status::Ignored);
    }
    env.no_more_alerts().await;

    tag_vault(
        &env.clients,
        &vault,
        "safeguard:exempt",
        "migration to a new vault, CHG-81",
    )
    .await;
    let o = &engine.handle(event.clone()).await[0];
    assert_eq!(o.status, Status::Exempt, "{}", o.detail);
    assert!(o.detail.contains("CHG-81"));
    env.alerts(1).await;

    // The owners lock it again: compliant, silent.
    env.clients
        .backup()
        .put_backup_vault_lock_configuration()
        .backup_vault_name(&vault)
        .min_retention_days(2192)
        .send()
        .await
        .expect("lock");
    let o = &engine.handle(event).await[0];
    assert_eq!(o.status, Status::Compliant, "{}", o.detail);
    assert!(o.detail.contains("minimum retention 2192 days"), "{}", o.detail);
    env.no_more_alerts().await;
}

/// Emulator gap, asserted so it is noticed when it closes: moto does not
/// implement backup's Get/PutBackupVaultAccessPolicy, so the vault-policy
/// control is tested below through mocked responses instead.
#[tokio::test]
async fn emulator_lacks_backup_vault_access_policies() {
    let env = TestEnv::new("bi").await;
    let vault = unique("vault");
    env.clients
        .backup()
        .create_backup_vault()
        .backup_vault_name(&vault)
        .send()
        .await
        .expect("vault");
    let got = env
        .clients
        .backup()
        .get_backup_vault_access_policy()
        .backup_vault_name(&vault)
        .send()
        .await;
    assert!(
        got.is_err(),
        "the emulator now implements GetBackupVaultAccessPolicy: test the vault-policy control against it"
    );
}

fn mocked_backup(rules: &[&Rule]) -> aws_sdk_backup::Client {
    let config = aws_sdk_backup::config::Builder::from(&offline_sdk())
        .http_client(create_mock_http_client())
        .interceptor(interceptor(rules))
        .build();
    aws_sdk_backup::Client::from_conf(config)
}

fn policy_rule(policy: Option<&'static str>) -> Rule {
    match policy {
        Some(p) => mock!(aws_sdk_backup::Client::get_backup_vault_access_policy)
            .then_output(move || GetBackupVaultAccessPolicyOutput::builder().policy(p).build()),
        None => mock!(aws_sdk_backup::Client::get_backup_vault_access_policy).then_error(|| {
            GetBackupVaultAccessPolicyError::ResourceNotFoundException(
                ResourceNotFoundException::builder()
                    .meta(ErrorMetadata::builder().code("ResourceNotFoundException").build())
                    .build(),
            )
        }),
    }
}

async fn vault_policy_outcome(
    policy: Option<&'static str>,
    tags: &[(&'static str, &'static str)],
) -> (safeguard::Outcome, Vec<Alert>) {
    let recorder = Recorder::default();
    let tags: Vec<(&'static str, &'static str)> = tags.to_vec();
    let describe = mock!(aws_sdk_backup::Client::describe_backup_vault).then_output(|| {
        DescribeBackupVaultOutput::builder()
            .backup_vault_name("phi-backup-vault")
            .backup_vault_arn("arn:aws:backup:us-east-1:123456789012:backup-vault:phi-backup-vault")
            .build()
    });
    let list_tags = mock!(aws_sdk_backup::Client::list_tags).then_output(move || {
        let mut out = ListTagsOutput::builder();
        for (k, v) in &tags {
            out = out.tags(*k, *v);
        }
        out.build()
    });
    let get = policy_rule(policy);
    let aws = Aws::new(offline_sdk());
    assert!(aws
        .clients("us-east-1")
        .preset_backup(mocked_backup(&[&get, &describe, &list_tags])));
    let config = Config {
        topic_arn: Some("arn:aws:sns:us-east-1:123456789012:alerts".into()),
        ..Config::default()
    };
    let engine = Engine::new(&FUNCTION, config, aws, &recorder);
    let outcomes = engine
        .handle(sample("backup-integrity/put-backup-vault-access-policy-public.json"))
        .await;
    assert_eq!(outcomes.len(), 1);
    let o = outcomes.into_iter().next().expect("outcome");
    let alerts = recorder.alerts();
    (o, alerts)
}

#[tokio::test]
async fn public_vault_policy_is_reported_critical() {
    let (o, alerts) = vault_policy_outcome(
        Some(
            r#"{"Version":"2012-10-17","Statement":[
                {"Sid":"OpenCopy","Effect":"Allow","Principal":"*","Action":"backup:CopyIntoBackupVault","Resource":"*"},
                {"Sid":"Org","Effect":"Allow","Principal":{"AWS":"*"},"Action":"backup:CopyIntoBackupVault","Resource":"*",
                 "Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}}]}"#,
        ),
        &[],
    )
    .await;
    assert_eq!(o.control.as_deref(), Some("backup-vault-policy-public"));
    assert_eq!(o.status, Status::WouldRemediate, "{}", o.detail);
    let before = o.state_before.clone().unwrap_or_default();
    assert!(before.contains("OpenCopy") && !before.contains("Org"), "{before}");
    assert_eq!(alerts.len(), 1);
    assert!(alerts[0].attributes.contains(&("severity", "critical".to_string())));
    assert!(
        alerts[0].subject.contains("was opened to everyone"),
        "{}",
        alerts[0].subject
    );
}

#[tokio::test]
async fn private_or_missing_vault_policy_is_compliant() {
    let (o, alerts) = vault_policy_outcome(
        Some(r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"backup:*"}}"#),
        &[],
    )
    .await;
    assert_eq!(o.status, Status::Compliant, "{}", o.detail);
    assert!(alerts.is_empty());
    let (o, alerts) = vault_policy_outcome(None, &[]).await;
    assert_eq!(o.status, Status::Compliant, "{}", o.detail);
    assert!(o.detail.contains("no access policy"), "{}", o.detail);
    assert!(alerts.is_empty());
}

#[tokio::test]
async fn exempt_vault_and_unreadable_policy() {
    let (o, alerts) = vault_policy_outcome(
        Some(r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"backup:*"}]}"#),
        &[("safeguard:exempt", "public recovery drill, CHG-90")],
    )
    .await;
    assert_eq!(o.status, Status::Exempt, "{}", o.detail);
    assert!(o.detail.contains("CHG-90"));
    assert_eq!(alerts.len(), 1);
    let (o, _) = vault_policy_outcome(Some("{not json"), &[]).await;
    assert_eq!(o.status, Status::Failed, "{}", o.detail);
    assert!(o.detail.contains("not JSON"), "{}", o.detail);
}
