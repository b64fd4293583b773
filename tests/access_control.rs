//! The access-control safeguard against the emulator, control by control:
//! fix, idempotent re-run, dry-run, exemption, and the events it must ignore.
//! State is always read back with plain SDK calls, not through the controls.

use access_control::FUNCTION;
use safeguard::{Clients, Config, Mode, Status};
use safeguard_tests::*;
use serde_json::Value;
use std::sync::Arc;

const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
#[derive(Clone, Copy, Debug)]
enum Probe {
    Acl,
    Policy,
    BucketBlock,
}

async fn acl_is_public(c: &Clients, bucket: &str) -> bool {
    let acl = c.s3().get_bucket_acl().bucket(bucket).send().await.expect("get acl");
    acl.grants()
        .iter()
        .any(|g| g.grantee().and_then(|g| g.uri()) == Some(ALL_USERS))
}

async fn bucket_flags(c: &Clients, bucket: &str) -> [bool; 4] {
    match c.s3().get_public_access_block().bucket(bucket).send().await {
        Ok(out) => {
            let f = out.public_access_block_configuration().expect("configuration");
            [
                f.block_public_acls() == Some(true),
                f.ignore_public_acls() == Some(true),
                f.block_public_policy() == Some(true),
                f.restrict_public_buckets() == Some(true),
            ]
        }
        Err(_) => [false; 4],
    }
}

async fn account_flags(c: &Clients) -> [bool; 4] {
    match c.s3control().get_public_access_block().account_id(ACCOUNT).send().await {
        Ok(out) => {
            let f = out.public_access_block_configuration().expect("configuration");
            [
                f.block_public_acls() == Some(true),
                f.ignore_public_acls() == Some(true),
                f.block_public_policy() == Some(true),
                f.restrict_public_buckets() == Some(true),
            ]
        }
        Err(_) => [false; 4],
    }
}

async fn violated(probe: Probe, c: &Clients, bucket: &str) -> bool {
    match probe {
        Probe::Acl => acl_is_public(c, bucket).await,
        Probe::Policy => {
            let f = bucket_flags(c, bucket).await;
            !(f[2] && f[3])
        }
        Probe::BucketBlock => bucket_flags(c, bucket).await != [true; 4],
    }
}

async fn seed_event(env: &TestEnv, event: &Value) {
    let mut raw = event.clone();
    seed(&env.clients, &mut raw).await.expect("seed");
}

async fn tag_bucket(env: &TestEnv, bucket: &str, tags: &[(&str, &str)]) {
    let set = aws_sdk_s3::types::Tagging::builder()
        .set_tag_set(Some(
            tags.iter()
                .map(|(k, v)| {
                    aws_sdk_s3::types::Tag::builder()
                        .key(*k)
                        .value(*v)
                        .build()
                        .expect("tag")
                })
                .collect(),
        ))
        .build()
        .expect("tagging");
    env.clients
        .s3()
        .put_bucket_tagging()
        .bucket(bucket)
        .tagging(set)
        .send()
        .await
        .expect("tag bucket");
}

/// The full life of one bucket control.
async fn bucket_scenario(file: &str, probe: Probe, control: &str, severity: &str, problem: &str) {
    let env = TestEnv::new("ac").await;
    let bucket = unique("sg");
    let event = with_bucket(sample(file), &bucket);
    let actor = event["detail"]["userIdentity"]["arn"]
        .as_str()
        .expect("actor arn")
        .to_string();
    seed_event(&env, &event).await;
    assert!(
        violated(probe, &env.clients, &bucket).await,
        "seeding should leave {bucket} violated"
    );

    // Remediate: fixed, read back, one alert with subject and attributes.
    let engine = env.engine(&FUNCTION, env.config(Mode::Remediate));
    let outcomes = engine.handle(event.clone()).await;
    assert_eq!(outcomes.len(), 1);
    let o = &outcomes[0];
    assert_eq!(o.status, Status::Remediated, "{}", o.detail);
    assert_eq!(o.control.as_deref(), Some(control));
    assert_eq!(o.resource.as_deref(), Some(bucket.as_str()));
    assert!(o.notified);
    assert!(
        !violated(probe, &env.clients, &bucket).await,
        "{bucket} should be fixed"
    );
    let alerts = env.alerts(1).await;
    assert_eq!(alerts.len(), 1);
    let alert = &alerts[0];
    assert_eq!(
        alert.subject,
        format!("[Safeguard] Remediated: S3 bucket \"{bucket}\" {problem} (HIPAA 164.312(a)(1))")
    );
    assert!(alert.subject.len() <= 100);
    assert_eq!(attribute(alert, "safeguard"), "access-control");
    assert_eq!(attribute(alert, "control"), control);
    assert_eq!(attribute(alert, "severity"), severity);
    assert_eq!(attribute(alert, "status"), "remediated");
    assert_eq!(attribute(alert, "account"), ACCOUNT);
    assert_eq!(alert.message["resource"], bucket.as_str());
    assert_eq!(alert.message["actor"]["principal"], actor.as_str());
    assert_eq!(alert.message["hipaa_citation"], "45 CFR 164.312(a)(1)");
    assert!(alert.message["state_after"].is_string());
    let text = alert.message["text"].as_str().expect("text body");
    assert!(
        text.contains(&actor) && text.contains("164.312(a)(1)") && text.contains("safeguard:exempt"),
        "{text}"
    );

    // The same event again: compliant, no second fix, no second alert.
    let again = engine.handle(event.clone()).await;
    assert_eq!(again[0].status, Status::Compliant, "{}", again[0].detail);
    assert!(!again[0].notified);
    env.no_more_alerts().await;

    // Dry-run: nothing changes, the alert says what would be done.
    seed_event(&env, &event).await;
    let dry = env
        .engine(&FUNCTION, env.config(Mode::DryRun))
        .handle(event.clone())
        .await;
    assert_eq!(dry[0].status, Status::WouldRemediate, "{}", dry[0].detail);
    assert!(
        violated(probe, &env.clients, &bucket).await,
        "dry-run must not change {bucket}"
    );
    let alerts = env.alerts(1).await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(attribute(&alerts[0], "status"), "would_remediate");
    assert!(
        alerts[0].subject.starts_with("[Safeguard] Would remediate: S3 bucket"),
        "{}",
        alerts[0].subject
    );

    // Exempt: nothing changes, an `exempt` alert carries the reason.
    tag_bucket(
        &env,
        &bucket,
        &[("safeguard:exempt", "public dataset, approved CHG-1042")],
    )
    .await;
    let exempt = engine.handle(event.clone()).await;
    assert_eq!(exempt[0].status, Status::Exempt, "{}", exempt[0].detail);
    assert!(exempt[0].detail.contains("CHG-1042"), "{}", exempt[0].detail);
    assert!(
        violated(probe, &env.clients, &bucket).await,
        "an exempt bucket must not change"
    );
    let alerts = env.alerts(1).await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(attribute(&alerts[0], "status"), "exempt");

    // A failed call and Safeguard's own call: ignored, untouched, silent.
    for variant in [failed_call(event.clone()), by_own_role(event.clone())] {
        let o = engine.handle(variant).await;
        assert_eq!(o.len(), 1);
        assert_eq!(o[0].status, Status::Ignored, "{}", o[0].detail);
        assert!(!o[0].notified);
    }
    assert!(violated(probe, &env.clients, &bucket).await);
    env.no_more_alerts().await;
}

#[tokio::test]
async fn public_acl_on_create_bucket() {
    bucket_scenario(
        "access-control/create-bucket-public-read.json",
        Probe::Acl,
        "s3-bucket-public-acl",
        "high",
        "had a public ACL",
    )
    .await;
}

#[tokio::test]
async fn public_acl_on_put_bucket_acl() {
    bucket_scenario(
        "access-control/put-bucket-acl-all-users.json",
        Probe::Acl,
        "s3-bucket-public-acl",
        "high",
        "had a public ACL",
    )
    .await;
}

#[tokio::test]
async fn public_bucket_policy() {
    bucket_scenario(
        "access-control/put-bucket-policy-public.json",
        Probe::Policy,
        "s3-bucket-public-policy",
        "critical",
        "had a public policy",
    )
    .await;
}

#[tokio::test]
async fn deleted_bucket_public_access_block() {
    bucket_scenario(
        "access-control/delete-bucket-public-access-block.json",
        Probe::BucketBlock,
        "s3-bucket-public-access-block",
        "high",
        "lost public access block",
    )
    .await;
}

#[tokio::test]
async fn weakened_bucket_public_access_block() {
    bucket_scenario(
        "access-control/put-bucket-public-access-block-weakened.json",
        Probe::BucketBlock,
        "s3-bucket-public-access-block",
        "high",
        "lost public access block",
    )
    .await;
}

#[tokio::test]
async fn acl_fix_keeps_the_owner_grant() {
    let env = TestEnv::new("ac").await;
    let bucket = unique("sg");
    let event = with_bucket(sample("access-control/put-bucket-acl-all-users.json"), &bucket);
    seed_event(&env, &event).await;
    let before = env
        .clients
        .s3()
        .get_bucket_acl()
        .bucket(&bucket)
        .send()
        .await
        .expect("acl");
    let owner_grants = |acl: &aws_sdk_s3::operation::get_bucket_acl::GetBucketAclOutput| {
        acl.grants()
            .iter()
            .filter(|g| g.grantee().and_then(|g| g.id()).is_some())
            .count()
    };
    assert!(owner_grants(&before) >= 1);
    let o = env.engine(&FUNCTION, env.config(Mode::Remediate)).handle(event).await;
    assert_eq!(o[0].status, Status::Remediated, "{}", o[0].detail);
    let after = env
        .clients
        .s3()
        .get_bucket_acl()
        .bucket(&bucket)
        .send()
        .await
        .expect("acl");
    assert_eq!(
        owner_grants(&after),
        owner_grants(&before),
        "the owner's grant must survive"
    );
    assert_eq!(after.owner().and_then(|o| o.id()), before.owner().and_then(|o| o.id()));
}

#[tokio::test]
async fn policy_fix_keeps_the_policy_text() {
    let env = TestEnv::new("ac").await;
    let bucket = unique("sg");
    let event = with_bucket(sample("access-control/put-bucket-policy-public.json"), &bucket);
    seed_event(&env, &event).await;
    let policy = |b: String| {
        let s3 = env.clients.s3().clone();
        async move {
            s3.get_bucket_policy()
                .bucket(b)
                .send()
                .await
                .expect("policy")
                .policy()
                .map(str::to_string)
        }
    };
    let before = policy(bucket.clone()).await;
    let o = env.engine(&FUNCTION, env.config(Mode::Remediate)).handle(event).await;
    assert_eq!(o[0].status, Status::Remediated, "{}", o[0].detail);
    assert!(o[0].detail.contains("policy text is kept"), "{}", o[0].detail);
    assert_eq!(policy(bucket).await, before);
}

#[tokio::test]
async fn lapsed_exemption_is_not_honoured() {
    let env = TestEnv::new("ac").await;
    let bucket = unique("sg");
    let event = with_bucket(sample("access-control/put-bucket-acl-all-users.json"), &bucket);
    seed_event(&env, &event).await;
    tag_bucket(
        &env,
        &bucket,
        &[("safeguard:exempt", "pilot"), ("safeguard:exempt-until", "2020-01-31")],
    )
    .await;
    let o = env.engine(&FUNCTION, env.config(Mode::Remediate)).handle(event).await;
    assert_eq!(o[0].status, Status::Remediated, "{}", o[0].detail);
    assert!(o[0].detail.contains("lapsed on 2020-01-31"), "{}", o[0].detail);
    assert!(!acl_is_public(&env.clients, &bucket).await);
}

#[tokio::test]
async fn custom_exemption_tag_key_is_used() {
    let env = TestEnv::new("ac").await;
    let bucket = unique("sg");
    let event = with_bucket(sample("access-control/put-bucket-acl-all-users.json"), &bucket);
    seed_event(&env, &event).await;
    tag_bucket(&env, &bucket, &[("hipaa:waiver", "research data, IRB-77")]).await;
    let config = Config {
        exempt_tag_key: "hipaa:waiver".into(),
        ..env.config(Mode::Remediate)
    };
    let o = env.engine(&FUNCTION, config).handle(event).await;
    assert_eq!(o[0].status, Status::Exempt, "{}", o[0].detail);
    assert!(acl_is_public(&env.clients, &bucket).await);
}

#[tokio::test]
async fn vanished_bucket_is_ignored() {
    let env = TestEnv::new("ac").await;
    let event = with_bucket(sample("access-control/put-bucket-acl-all-users.json"), &unique("gone"));
    let o = env.engine(&FUNCTION, env.config(Mode::Remediate)).handle(event).await;
    assert_eq!(o[0].status, Status::Ignored, "{}", o[0].detail);
    assert!(o[0].detail.contains("no longer exists"), "{}", o[0].detail);
    env.no_more_alerts().await;
}

/// The account-level block is one per account, so its whole life is one test.
#[tokio::test]
async fn account_public_access_block() {
    let env = TestEnv::new("acct").await;
    let engine = env.engine(&FUNCTION, env.config(Mode::Remediate));
    for file in [
        "access-control/delete-account-public-access-block.json",
        "access-control/put-account-public-access-block-weakened.json",
    ] {
        let event = sample(file);
        seed_event(&env, &event).await;
        assert_ne!(
            account_flags(&env.clients).await,
            [true; 4],
            "{file}: seeding should weaken the block"
        );

        let o = engine.handle(event.clone()).await;
        assert_eq!(o[0].status, Status::Remediated, "{file}: {}", o[0].detail);
        assert_eq!(account_flags(&env.clients).await, [true; 4]);
        let alerts = env.alerts(1).await;
        assert_eq!(alerts.len(), 1);
        assert_eq!(
            alerts[0].subject,
            format!(
                "[Safeguard] Remediated: AWS account \"{ACCOUNT}\" lost S3 public access block (HIPAA 164.312(a)(1))"
            )
        );
        assert_eq!(attribute(&alerts[0], "control"), "s3-account-public-access-block");
        assert_eq!(attribute(&alerts[0], "severity"), "critical");

        let again = engine.handle(event.clone()).await;
        assert_eq!(again[0].status, Status::Compliant, "{}", again[0].detail);
        env.no_more_alerts().await;

        seed_event(&env, &event).await;
        let dry = env
            .engine(&FUNCTION, env.config(Mode::DryRun))
            .handle(event.clone())
            .await;
        assert_eq!(dry[0].status, Status::WouldRemediate, "{}", dry[0].detail);
        assert_ne!(
            account_flags(&env.clients).await,
            [true; 4],
            "dry-run must not change the account"
        );
        assert_eq!(attribute(&env.alerts(1).await[0], "status"), "would_remediate");

        // An account has no tags here: it is exempted through EXEMPT_RESOURCES.
        let mut config = env.config(Mode::Remediate);
        config.exempt_resources.insert(ACCOUNT.into(), "sandbox account".into());
        let exempt = env.engine(&FUNCTION, config).handle(event.clone()).await;
        assert_eq!(exempt[0].status, Status::Exempt, "{}", exempt[0].detail);
        assert!(exempt[0].detail.contains("sandbox account"));
        assert_ne!(account_flags(&env.clients).await, [true; 4]);
        assert_eq!(attribute(&env.alerts(1).await[0], "status"), "exempt");

        for variant in [failed_call(event.clone()), by_own_role(event.clone())] {
            assert_eq!(engine.handle(variant).await[0].status, Status::Ignored);
        }
        env.no_more_alerts().await;
        // Leave the account protected for the next file.
        assert_eq!(engine.handle(event).await[0].status, Status::Remediated);
        env.alerts(1).await;
    }
}

// EBS snapshots, AMIs and RDS: each seeding creates its own resource.

/// Group and account shares of an EBS snapshot.
async fn snapshot_shares(c: &Clients, id: &str) -> (bool, Vec<String>) {
    let out = c
        .ec2()
        .describe_snapshot_attribute()
        .snapshot_id(id)
        .attribute(aws_sdk_ec2::types::SnapshotAttributeName::CreateVolumePermission)
        .send()
        .await
        .expect("attribute");
    let p = out.create_volume_permissions();
    (
        p.iter().any(|p| p.group().map(|g| g.as_str()) == Some("all")),
        p.iter().filter_map(|p| p.user_id().map(str::to_string)).collect(),
    )
}

async fn image_shares(c: &Clients, id: &str) -> (bool, Vec<String>) {
    let out = c
        .ec2()
        .describe_image_attribute()
        .image_id(id)
        .attribute(aws_sdk_ec2::types::ImageAttributeName::LaunchPermission)
        .send()
        .await
        .expect("attribute");
    let p = out.launch_permissions();
    (
        p.iter().any(|p| p.group().map(|g| g.as_str()) == Some("all")),
        p.iter().filter_map(|p| p.user_id().map(str::to_string)).collect(),
    )
}

async fn db_snapshot_restore(c: &Clients, id: &str) -> Vec<String> {
    let out = c
        .rds()
        .describe_db_snapshot_attributes()
        .db_snapshot_identifier(id)
        .send()
        .await
        .expect("attributes");
    out.db_snapshot_attributes_result()
        .map(|r| r.db_snapshot_attributes().to_vec())
        .unwrap_or_default()
        .iter()
        .filter(|a| a.attribute_name() == Some("restore"))
        .flat_map(|a| a.attribute_values().to_vec())
        .collect()
}

fn snapshot_public(c: Arc<Clients>, id: String) -> Check {
    Box::pin(async move { snapshot_shares(&c, &id).await.0 })
}

fn image_public(c: Arc<Clients>, id: String) -> Check {
    Box::pin(async move { image_shares(&c, &id).await.0 })
}

fn db_public(c: Arc<Clients>, id: String) -> Check {
    Box::pin(async move {
        let out = c
            .rds()
            .describe_db_instances()
            .db_instance_identifier(id)
            .send()
            .await
            .expect("db");
        out.db_instances()[0].publicly_accessible() == Some(true)
    })
}

fn db_snapshot_public(c: Arc<Clients>, id: String) -> Check {
    Box::pin(async move { db_snapshot_restore(&c, &id).await.iter().any(|v| v == "all") })
}

fn cluster_snapshot_public(c: Arc<Clients>, id: String) -> Check {
    Box::pin(async move {
        let out = c
            .rds()
            .describe_db_cluster_snapshot_attributes()
            .db_cluster_snapshot_identifier(id)
            .send()
            .await
            .expect("attributes");
        out.db_cluster_snapshot_attributes_result()
            .map(|r| r.db_cluster_snapshot_attributes().to_vec())
            .unwrap_or_default()
            .iter()
            .any(|a| a.attribute_name() == Some("restore") && a.attribute_values().iter().any(|v| v == "all"))
    })
}

fn lifecycle(file: &'static str, control: &'static str, violated: fn(Arc<Clients>, String) -> Check) -> Lifecycle {
    Lifecycle::of(&FUNCTION, file, control, "critical", violated, &[])
}

#[tokio::test]
async fn public_ebs_snapshot() {
    lifecycle(
        "access-control/modify-snapshot-attribute-public.json",
        "ebs-snapshot-public",
        snapshot_public,
    )
    .run(tag_ec2)
    .await;
}

#[tokio::test]
async fn public_ami() {
    lifecycle(
        "access-control/modify-image-attribute-public.json",
        "ami-public",
        image_public,
    )
    .run(tag_ec2)
    .await;
}

#[tokio::test]
async fn public_rds_instance_on_create() {
    lifecycle(
        "access-control/create-db-instance-public.json",
        "rds-instance-public",
        db_public,
    )
    .run(tag_db)
    .await;
}

#[tokio::test]
async fn public_rds_instance_on_modify() {
    lifecycle(
        "access-control/modify-db-instance-public.json",
        "rds-instance-public",
        db_public,
    )
    .run(tag_db)
    .await;
}

#[tokio::test]
async fn public_rds_snapshot() {
    lifecycle(
        "access-control/modify-db-snapshot-attribute-public.json",
        "rds-snapshot-public",
        db_snapshot_public,
    )
    .run(tag_db_snapshot)
    .await;
}

#[tokio::test]
async fn public_rds_cluster_snapshot() {
    lifecycle(
        "access-control/modify-db-cluster-snapshot-attribute-public.json",
        "rds-cluster-snapshot-public",
        cluster_snapshot_public,
    )
    .run(tag_cluster_snapshot)
    .await;
}

/// Only the public share goes: the shares with a named account stay.
#[tokio::test]
async fn removing_public_shares_keeps_account_shares() {
    let env = TestEnv::new("ac").await;
    let engine = env.engine(&FUNCTION, env.config(Mode::Remediate));
    let partner = safeguard_cli::seed_ec2::PARTNER_ACCOUNT.to_string();

    let mut event = sample("access-control/modify-snapshot-attribute-public.json");
    seed(&env.clients, &mut event).await.expect("seed");
    let snapshot = event["detail"]["requestParameters"]["snapshotId"]
        .as_str()
        .expect("id")
        .to_string();
    assert_eq!(
        snapshot_shares(&env.clients, &snapshot).await,
        (true, vec![partner.clone()])
    );
    let o = &engine.handle(event).await[0];
    assert_eq!(o.status, Status::Remediated, "{}", o.detail);
    assert!(o.detail.contains(&partner), "{}", o.detail);
    assert_eq!(
        snapshot_shares(&env.clients, &snapshot).await,
        (false, vec![partner.clone()])
    );

    let mut event = sample("access-control/modify-image-attribute-public.json");
    seed(&env.clients, &mut event).await.expect("seed");
    let image = event["detail"]["requestParameters"]["imageId"]
        .as_str()
        .expect("id")
        .to_string();
    let o = &engine.handle(event).await[0];
    assert_eq!(o.status, Status::Remediated, "{}", o.detail);
    assert_eq!(image_shares(&env.clients, &image).await, (false, vec![partner.clone()]));

    let mut event = sample("access-control/modify-db-snapshot-attribute-public.json");
    let name = unique("snap");
    event["detail"]["requestParameters"]["dBSnapshotIdentifier"] = name.clone().into();
    seed(&env.clients, &mut event).await.expect("seed");
    let o = &engine.handle(event).await[0];
    assert_eq!(o.status, Status::Remediated, "{}", o.detail);
    assert_eq!(db_snapshot_restore(&env.clients, &name).await, vec![partner]);
    assert_eq!(env.alerts(3).await.len(), 3);
}
