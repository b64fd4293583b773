//! The audit-logging safeguard against the emulator: trails, S3 access
//! logging, VPC flow logs, the AWS Config recorder and log retention.

use audit_logging::FUNCTION;
use safeguard::{Clients, Mode, Settings, Status};
use safeguard_cli::seed_audit::{seed_deleted_flow_log, LOG_BUCKET};
use safeguard_tests::*;
use std::sync::Arc;

fn trail_arn(id: &str) -> String {
    if id.starts_with("arn:") {
        id.to_string()
    } else {
        format!("arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/{id}")
    }
}

fn tag_trail(c: Arc<Clients>, id: String, key: &'static str, value: &'static str) -> Done {
    Box::pin(async move {
        let tag = aws_sdk_cloudtrail::types::Tag::builder()
            .key(key)
            .value(value)
            .build()
            .expect("tag");
        c.cloudtrail()
            .add_tags()
            .resource_id(trail_arn(&id))
            .tags_list(tag)
            .send()
            .await
            .expect("tag trail");
    })
}

fn not_logging(c: Arc<Clients>, id: String) -> Check {
    Box::pin(async move {
        let out = c.cloudtrail().get_trail_status().name(id).send().await.expect("status");
        out.is_logging() != Some(true)
    })
}

fn weakened(c: Arc<Clients>, id: String) -> Check {
    Box::pin(async move {
        let out = c.cloudtrail().get_trail().name(id).send().await.expect("trail");
        let t = out.trail().expect("trail");
        t.log_file_validation_enabled() != Some(true) || t.is_multi_region_trail() != Some(true)
    })
}

#[tokio::test]
async fn trail_stopped_logging() {
    Lifecycle::of(
        &FUNCTION,
        "audit-logging/stop-logging.json",
        "cloudtrail-logging-stopped",
        "critical",
        not_logging,
        &[],
    )
    .run(tag_trail)
    .await;
}

#[tokio::test]
async fn trail_lost_validation_and_regions() {
    Lifecycle::of(
        &FUNCTION,
        "audit-logging/update-trail-validation-off.json",
        "cloudtrail-trail-weakened",
        "high",
        weakened,
        &[],
    )
    .run(tag_trail)
    .await;
}

#[tokio::test]
async fn deleted_trail_is_recreated_only_when_required() {
    let env = TestEnv::new("al").await;
    let name = unique("trail");
    let mut event = sample("audit-logging/delete-trail.json");
    event["detail"]["requestParameters"]["name"] = name.clone().into();
    let exists =
        |c: Arc<Clients>, name: String| async move { c.cloudtrail().get_trail().name(name).send().await.is_ok() };

    // Not the required trail: a critical alert, nothing recreated.
    seed(&env.clients, &mut event).await.expect("seed");
    let o = &env
        .engine(&FUNCTION, env.config(Mode::Remediate))
        .handle(event.clone())
        .await[0];
    assert_eq!(o.status, Status::WouldRemediate, "{}", o.detail);
    assert!(
        o.detail.contains("critical") && o.detail.contains("REQUIRED_TRAIL"),
        "{}",
        o.detail
    );
    assert!(!exists(env.clients.clone(), name.clone()).await);
    let alerts = env.alerts(1).await;
    assert_eq!(attribute(&alerts[0], "severity"), "critical");
    assert!(alerts[0].subject.contains("was deleted"), "{}", alerts[0].subject);

    // The required trail: recreated, validated, multi-region, logging.
    let mut settings = Settings::defaults(FUNCTION.settings());
    settings.set("REQUIRED_TRAIL", name.clone());
    settings.set("TRAIL_BUCKET", LOG_BUCKET);
    let engine = env
        .engine(&FUNCTION, env.config(Mode::Remediate))
        .with_settings(settings.clone());
    let dry = &env
        .engine(&FUNCTION, env.config(Mode::DryRun))
        .with_settings(settings)
        .handle(event.clone())
        .await[0];
    assert_eq!(dry.status, Status::WouldRemediate);
    assert!(
        !exists(env.clients.clone(), name.clone()).await,
        "dry-run must not recreate"
    );
    for variant in [failed_call(event.clone()), by_own_role(event.clone())] {
        assert_eq!(engine.handle(variant).await[0].status, Status::Ignored);
    }
    assert!(!exists(env.clients.clone(), name.clone()).await);
    let o = &engine.handle(event.clone()).await[0];
    assert_eq!(o.status, Status::Remediated, "{}", o.detail);
    assert!(!weakened(env.clients.clone(), name.clone()).await);
    assert!(!not_logging(env.clients.clone(), name.clone()).await);
    assert_eq!(env.alerts(2).await.len(), 2);
    assert_eq!(engine.handle(event).await[0].status, Status::Compliant);
    env.no_more_alerts().await;
}

fn not_logging_access(c: Arc<Clients>, bucket: String) -> Check {
    Box::pin(async move {
        let out = c
            .s3()
            .get_bucket_logging()
            .bucket(bucket)
            .send()
            .await
            .expect("logging");
        out.logging_enabled().is_none()
    })
}

#[tokio::test]
async fn bucket_access_logging_turned_off() {
    Lifecycle::of(
        &FUNCTION,
        "audit-logging/put-bucket-logging-off.json",
        "s3-access-logging",
        "high",
        not_logging_access,
        &[("ACCESS_LOG_BUCKET", LOG_BUCKET)],
    )
    .run(tag_bucket)
    .await;
}

#[tokio::test]
async fn access_logging_is_required_by_list_or_tag_only() {
    let env = TestEnv::new("al").await;
    let bucket = unique("al");
    safeguard_cli::seed::ensure_bucket(&env.clients, &bucket)
        .await
        .expect("bucket");
    let event = with_bucket(sample("audit-logging/put-bucket-logging-off.json"), &bucket);
    let o = &env
        .engine(&FUNCTION, env.config(Mode::Remediate))
        .handle(event.clone())
        .await[0];
    assert_eq!(
        o.status,
        Status::Compliant,
        "an untagged, unlisted bucket need not log: {}",
        o.detail
    );

    let listed = format!("other-bucket, {bucket}");
    let mut settings = Settings::defaults(FUNCTION.settings());
    settings.set("LOGGED_BUCKETS", listed);
    settings.set("ACCESS_LOG_PREFIX", "access/");
    let o = &env
        .engine(&FUNCTION, env.config(Mode::Remediate))
        .with_settings(settings.clone())
        .handle(event.clone())
        .await[0];
    // Listed, but with no target configured: reported, not changed.
    assert_eq!(o.status, Status::WouldRemediate, "{}", o.detail);
    assert!(o.detail.contains("ACCESS_LOG_BUCKET"), "{}", o.detail);
    safeguard_cli::seed_audit::ensure_log_bucket(&env.clients)
        .await
        .expect("log bucket");
    settings.set("ACCESS_LOG_BUCKET", LOG_BUCKET);
    let o = &env
        .engine(&FUNCTION, env.config(Mode::Remediate))
        .with_settings(settings)
        .handle(event)
        .await[0];
    assert_eq!(o.status, Status::Remediated, "{}", o.detail);
    let out = env
        .clients
        .s3()
        .get_bucket_logging()
        .bucket(&bucket)
        .send()
        .await
        .expect("logging");
    let enabled = out.logging_enabled().expect("logging on");
    assert_eq!(enabled.target_bucket(), LOG_BUCKET);
    assert_eq!(enabled.target_prefix(), format!("access/{bucket}/"));
}

async fn flow_logs_of(c: &Clients, vpc: &str) -> usize {
    let filter = aws_sdk_ec2::types::Filter::builder()
        .name("resource-id")
        .values(vpc)
        .build();
    let out = c
        .ec2()
        .describe_flow_logs()
        .filter(filter)
        .send()
        .await
        .expect("flow logs");
    out.flow_logs().len()
}

#[tokio::test]
async fn deleted_flow_log_is_recreated_for_its_vpc() {
    let env = TestEnv::new("al").await;
    let bucket = safeguard_cli::seed_audit::ensure_log_bucket(&env.clients)
        .await
        .expect("bucket");
    let mut settings = Settings::defaults(FUNCTION.settings());
    settings.set("FLOW_LOG_DESTINATION", format!("arn:aws:s3:::{bucket}"));
    let engine = env
        .engine(&FUNCTION, env.config(Mode::Remediate))
        .with_settings(settings.clone());
    let event = sample("audit-logging/delete-flow-logs.json");
    let of = |outcomes: Vec<safeguard::Outcome>, vpc: &str| {
        outcomes
            .into_iter()
            .find(|o| o.resource.as_deref() == Some(vpc))
            .unwrap_or_else(|| panic!("no outcome for {vpc}"))
    };

    let (vpc, _) = seed_deleted_flow_log(&env.clients).await.expect("seed");
    assert_eq!(flow_logs_of(&env.clients, &vpc).await, 0);
    let o = of(engine.handle(event.clone()).await, &vpc);
    assert_eq!(o.status, Status::Remediated, "{}", o.detail);
    assert_eq!(flow_logs_of(&env.clients, &vpc).await, 1);
    assert!(o.detail.contains(&bucket), "{}", o.detail);
    let again = of(engine.handle(event.clone()).await, &vpc);
    assert_eq!(again.status, Status::Compliant, "{}", again.detail);

    // Dry-run, no destination, exemption, ignored calls: no flow log created.
    let (vpc, _) = seed_deleted_flow_log(&env.clients).await.expect("seed");
    let dry = env.engine(&FUNCTION, env.config(Mode::DryRun)).with_settings(settings);
    assert_eq!(of(dry.handle(event.clone()).await, &vpc).status, Status::WouldRemediate);
    let unconfigured = env.engine(&FUNCTION, env.config(Mode::Remediate));
    let o = of(unconfigured.handle(event.clone()).await, &vpc);
    assert_eq!(o.status, Status::WouldRemediate);
    assert!(o.detail.contains("FLOW_LOG_DESTINATION is not set"), "{}", o.detail);
    for variant in [failed_call(event.clone()), by_own_role(event.clone())] {
        assert!(engine.handle(variant).await.iter().all(|o| o.status == Status::Ignored));
    }
    let tag = aws_sdk_ec2::types::Tag::builder()
        .key("safeguard:exempt")
        .value("lab VPC, no PHI")
        .build();
    env.clients
        .ec2()
        .create_tags()
        .resources(&vpc)
        .tags(tag)
        .send()
        .await
        .expect("tag");
    let o = of(engine.handle(event).await, &vpc);
    assert_eq!(o.status, Status::Exempt, "{}", o.detail);
    assert_eq!(flow_logs_of(&env.clients, &vpc).await, 0);
}

async fn recording(c: &Clients) -> bool {
    let out = c
        .config_service()
        .describe_configuration_recorder_status()
        .send()
        .await
        .expect("status");
    out.configuration_recorders_status().iter().any(|s| s.recording())
}

/// The recorder and channel are one per account and region: one test.
#[tokio::test]
async fn config_recorder_and_delivery_channel() {
    let env = TestEnv::new("al").await;
    let engine = env.engine(&FUNCTION, env.config(Mode::Remediate));
    let mut stop = sample("audit-logging/stop-configuration-recorder.json");
    seed(&env.clients, &mut stop).await.expect("seed");
    assert!(!recording(&env.clients).await);

    let dry = &env
        .engine(&FUNCTION, env.config(Mode::DryRun))
        .handle(stop.clone())
        .await[0];
    assert_eq!(dry.status, Status::WouldRemediate);
    let mut config = env.config(Mode::Remediate);
    config
        .exempt_resources
        .insert("default".into(), "Config managed by the org".into());
    let exempt = &env.engine(&FUNCTION, config).handle(stop.clone()).await[0];
    assert_eq!(exempt.status, Status::Exempt, "{}", exempt.detail);
    for variant in [failed_call(stop.clone()), by_own_role(stop.clone())] {
        assert_eq!(engine.handle(variant).await[0].status, Status::Ignored);
    }
    assert!(!recording(&env.clients).await);

    let o = &engine.handle(stop.clone()).await[0];
    assert_eq!(o.status, Status::Remediated, "{}", o.detail);
    assert!(recording(&env.clients).await);
    assert_eq!(engine.handle(stop.clone()).await[0].status, Status::Compliant);
    assert_eq!(env.alerts(3).await.len(), 3);

    // The channel deleted: reported; the recorder then cannot start.
    let mut delete = sample("audit-logging/delete-delivery-channel.json");
    seed(&env.clients, &mut delete).await.expect("seed");
    let o = &engine.handle(delete.clone()).await[0];
    assert_eq!(o.status, Status::WouldRemediate, "{}", o.detail);
    assert!(o.detail.contains("notify-only"), "{}", o.detail);
    let o = &engine.handle(stop.clone()).await[0];
    assert_eq!(o.status, Status::WouldRemediate, "{}", o.detail);
    assert!(o.detail.contains("no delivery channel"), "{}", o.detail);
    assert_eq!(env.alerts(2).await.len(), 2);

    // Leave the account recording, as the demo expects.
    seed(&env.clients, &mut stop).await.expect("seed");
    assert_eq!(engine.handle(stop).await[0].status, Status::Remediated);
}

fn tag_log_group(c: Arc<Clients>, group: String, key: &'static str, value: &'static str) -> Done {
    Box::pin(async move {
        c.logs()
            .tag_resource()
            .resource_arn(format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{group}"))
            .tags(key, value)
            .send()
            .await
            .expect("tag log group");
    })
}

async fn retention(c: &Clients, group: &str) -> Option<i32> {
    let out = c
        .logs()
        .describe_log_groups()
        .log_group_name_prefix(group)
        .send()
        .await
        .expect("groups");
    out.log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(group))
        .expect("group")
        .retention_in_days()
}

fn short_retention(c: Arc<Clients>, group: String) -> Check {
    Box::pin(async move { retention(&c, &group).await.is_some_and(|d| d < 2192) })
}

#[tokio::test]
async fn log_retention_below_the_minimum() {
    Lifecycle::of(
        &FUNCTION,
        "audit-logging/put-retention-policy-short.json",
        "log-group-retention",
        "medium",
        short_retention,
        &[],
    )
    .run(tag_log_group)
    .await;
}

#[tokio::test]
async fn removed_retention_keeps_logs_and_other_groups_are_left_alone() {
    let env = TestEnv::new("al").await;
    let group = format!("/aws/lambda/{}", unique("lg"));
    let mut event = sample("audit-logging/put-retention-policy-short.json");
    event["detail"]["requestParameters"]["logGroupName"] = group.clone().into();
    seed(&env.clients, &mut event).await.expect("seed");

    // A minimum that is not an allowed value is rounded up to one.
    let mut settings = Settings::defaults(FUNCTION.settings());
    settings.set("MIN_LOG_RETENTION_DAYS", "1000");
    let o = &env
        .engine(&FUNCTION, env.config(Mode::Remediate))
        .with_settings(settings)
        .handle(event.clone())
        .await[0];
    assert_eq!(o.status, Status::Remediated, "{}", o.detail);
    assert_eq!(retention(&env.clients, &group).await, Some(1096));

    // Retention removed: logs never expire, which keeps them long enough.
    let mut removed = event.clone();
    removed["detail"]["eventName"] = "DeleteRetentionPolicy".into();
    removed["detail"]["requestParameters"]
        .as_object_mut()
        .expect("parameters")
        .remove("retentionInDays");
    seed(&env.clients, &mut removed).await.expect("seed");
    let o = &env.engine(&FUNCTION, env.config(Mode::Remediate)).handle(removed).await[0];
    assert_eq!(o.status, Status::Compliant, "{}", o.detail);
    assert!(o.detail.contains("never expire"), "{}", o.detail);
    assert_eq!(retention(&env.clients, &group).await, None, "never shortened");

    // A group outside the audit prefixes is not checked.
    seed(&env.clients, &mut event).await.expect("seed");
    let mut settings = Settings::defaults(FUNCTION.settings());
    settings.set("AUDIT_LOG_GROUP_PREFIXES", "/phi/, /aws/cloudtrail/");
    let o = &env
        .engine(&FUNCTION, env.config(Mode::Remediate))
        .with_settings(settings)
        .handle(event)
        .await[0];
    assert_eq!(o.status, Status::Compliant, "{}", o.detail);
    assert_eq!(retention(&env.clients, &group).await, Some(7));
}
