//! The threat-detection safeguard against the emulator: GuardDuty detectors
//! and their features, Security Hub, Inspector, and Safeguard's own rules.
//! GuardDuty allows one detector per region, so its scenarios run in turn.

use aws_sdk_eventbridge::types::RuleState;
use aws_sdk_guardduty::types::{DetectorStatus, FeatureStatus};
use aws_sdk_inspector2::types::Status as ScanStatus;
use safeguard::{Clients, Mode, Settings, Status};
use safeguard_tests::*;
use std::sync::Arc;
use threat_detection::FUNCTION;

fn detector_disabled(c: Arc<Clients>, id: String) -> Check {
    Box::pin(async move {
        let out = c
            .guardduty()
            .get_detector()
            .detector_id(id)
            .send()
            .await
            .expect("detector");
        out.status() != Some(&DetectorStatus::Enabled)
    })
}

fn features_off(c: Arc<Clients>, id: String) -> Check {
    Box::pin(async move {
        let out = c
            .guardduty()
            .get_detector()
            .detector_id(id)
            .send()
            .await
            .expect("detector");
        let on = |name: &str| {
            out.features()
                .iter()
                .any(|f| f.name().map(|n| n.as_str()) == Some(name) && f.status() == Some(&FeatureStatus::Enabled))
        };
        !(on("S3_DATA_EVENTS") && on("EBS_MALWARE_PROTECTION"))
    })
}

async fn enabled_detectors(c: &Clients) -> Vec<String> {
    let ids = c.guardduty().list_detectors().send().await.expect("detectors");
    let mut enabled = Vec::new();
    for id in ids.detector_ids() {
        let out = c
            .guardduty()
            .get_detector()
            .detector_id(id)
            .send()
            .await
            .expect("detector");
        if out.status() == Some(&DetectorStatus::Enabled) {
            enabled.push(id.clone());
        }
    }
    enabled
}

#[tokio::test]
async fn guardduty_disabled_stripped_and_deleted() {
    Lifecycle::of(
        &FUNCTION,
        "threat-detection/update-detector-disabled.json",
        "guardduty-detector-disabled",
        "high",
        detector_disabled,
        &[],
    )
    .run_exempting(Exempt::Listed)
    .await;
    Lifecycle::of(
        &FUNCTION,
        "threat-detection/update-detector-features-off.json",
        "guardduty-protection-features",
        "high",
        features_off,
        &[],
    )
    .run_exempting(Exempt::Listed)
    .await;

    // Deleted: the region is left without a detector until Safeguard creates one.
    let env = TestEnv::new("td").await;
    let engine = env.engine(&FUNCTION, env.config(Mode::Remediate));
    let mut event = sample("threat-detection/delete-detector.json");
    seed(&env.clients, &mut event).await.expect("seed");
    assert!(enabled_detectors(&env.clients).await.is_empty());
    for variant in [failed_call(event.clone()), by_own_role(event.clone())] {
        assert_eq!(engine.handle(variant).await[0].status, Status::Ignored);
    }
    let dry = &env
        .engine(&FUNCTION, env.config(Mode::DryRun))
        .handle(event.clone())
        .await[0];
    assert_eq!(dry.status, Status::WouldRemediate, "{}", dry.detail);
    assert!(
        enabled_detectors(&env.clients).await.is_empty(),
        "dry-run must not create"
    );
    let o = &engine.handle(event.clone()).await[0];
    assert_eq!(o.status, Status::Remediated, "{}", o.detail);
    let enabled = enabled_detectors(&env.clients).await;
    assert_eq!(enabled.len(), 1);
    assert!(o.detail.contains(&enabled[0]), "{}", o.detail);
    assert!(!features_off(env.clients.clone(), enabled[0].clone()).await);
    let alerts = env.alerts(2).await;
    let fixed = alerts
        .iter()
        .find(|a| attribute(a, "status") == "remediated")
        .expect("remediated alert");
    assert_eq!(attribute(fixed, "severity"), "critical");
    assert!(fixed.subject.contains("was deleted"), "{}", fixed.subject);
    assert_eq!(engine.handle(event).await[0].status, Status::Compliant);
    env.no_more_alerts().await;
}

fn hub_off(c: Arc<Clients>, _account: String) -> Check {
    Box::pin(async move { c.securityhub().describe_hub().send().await.is_err() })
}

/// One test: Security Hub is one switch for the whole account and region.
#[tokio::test]
async fn security_hub_disabled() {
    // By default: a critical alert, and the hub stays off.
    let env = TestEnv::new("td").await;
    let mut event = sample("threat-detection/disable-security-hub.json");
    seed(&env.clients, &mut event).await.expect("seed");
    let o = &env
        .engine(&FUNCTION, env.config(Mode::Remediate))
        .handle(event.clone())
        .await[0];
    assert_eq!(o.status, Status::WouldRemediate, "{}", o.detail);
    assert!(o.detail.contains("SECURITY_HUB_ACTION=enable"), "{}", o.detail);
    assert!(hub_off(env.clients.clone(), String::new()).await);
    let alerts = env.alerts(1).await;
    assert_eq!(attribute(&alerts[0], "severity"), "critical");
    assert!(
        alerts[0].subject.contains("disabled Security Hub"),
        "{}",
        alerts[0].subject
    );

    // Where the deployment allows it: enabled again.
    Lifecycle::of(
        &FUNCTION,
        "threat-detection/disable-security-hub.json",
        "securityhub-disabled",
        "critical",
        hub_off,
        &[("SECURITY_HUB_ACTION", "enable")],
    )
    .run_exempting(Exempt::Listed)
    .await;
}

fn not_scanning(c: Arc<Clients>, account: String) -> Check {
    Box::pin(async move {
        let out = c
            .inspector2()
            .batch_get_account_status()
            .account_ids(&account)
            .send()
            .await
            .expect("status");
        let state = out.accounts().first().and_then(|a| a.resource_state()).cloned();
        let on = |s: Option<&ScanStatus>| s == Some(&ScanStatus::Enabled);
        !state.is_some_and(|s| {
            on(s.ec2().map(|r| r.status())) && on(s.ecr().map(|r| r.status())) && on(s.lambda().map(|r| r.status()))
        })
    })
}

#[tokio::test]
async fn inspector_scanning_disabled() {
    Lifecycle::of(
        &FUNCTION,
        "threat-detection/disable-inspector.json",
        "inspector-scanning-disabled",
        "high",
        not_scanning,
        &[],
    )
    .run_exempting(Exempt::Listed)
    .await;
}

fn rule_disabled(c: Arc<Clients>, rule: String) -> Check {
    Box::pin(async move {
        let out = c.eventbridge().describe_rule().name(rule).send().await.expect("rule");
        out.state() != Some(&RuleState::Enabled)
    })
}

fn tag_rule(c: Arc<Clients>, rule: String, key: &'static str, value: &'static str) -> Done {
    Box::pin(async move {
        let tag = aws_sdk_eventbridge::types::Tag::builder()
            .key(key)
            .value(value)
            .build()
            .expect("tag");
        c.eventbridge()
            .tag_resource()
            .resource_arn(format!("arn:aws:events:us-east-1:{ACCOUNT}:rule/{rule}"))
            .tags(tag)
            .send()
            .await
            .expect("tag rule");
    })
}

#[tokio::test]
async fn disabled_safeguard_rule_is_enabled_again() {
    Lifecycle::of(
        &FUNCTION,
        "threat-detection/disable-safeguard-rule.json",
        "safeguard-rule-tampered",
        "critical",
        rule_disabled,
        &[],
    )
    .run(tag_rule)
    .await;
}

#[tokio::test]
async fn deleted_or_untargeted_safeguard_rules_are_critical_alerts() {
    let env = TestEnv::new("td").await;
    let engine = env.engine(&FUNCTION, env.config(Mode::Remediate));
    for (file, key, wrong) in [
        ("threat-detection/delete-safeguard-rule.json", "name", "was deleted"),
        (
            "threat-detection/remove-targets-safeguard-rule.json",
            "rule",
            "has no targets",
        ),
    ] {
        let mut event = sample(file);
        event["detail"]["requestParameters"][key] = unique("safeguard-rule").into();
        seed(&env.clients, &mut event).await.expect("seed");
        for _ in 0..2 {
            let o = &engine.handle(event.clone()).await[0];
            assert_eq!(o.status, Status::WouldRemediate, "{file}: {}", o.detail);
            assert!(o.detail.contains("redeploy the Safeguard stack"), "{}", o.detail);
            assert!(
                o.state_before.as_deref().is_some_and(|s| s.contains(wrong)),
                "{:?}",
                o.state_before
            );
            let alerts = env.alerts(1).await;
            assert_eq!(attribute(&alerts[0], "severity"), "critical");
        }
    }

    // Another team's rule, or a rule under a custom prefix: not Safeguard's business.
    let mut event = sample("threat-detection/disable-safeguard-rule.json");
    let other = unique("nightly-report");
    event["detail"]["requestParameters"]["name"] = other.clone().into();
    seed(&env.clients, &mut event).await.expect("seed");
    let o = &engine.handle(event.clone()).await[0];
    assert_eq!(o.status, Status::Compliant, "{}", o.detail);
    assert!(rule_disabled(env.clients.clone(), other.clone()).await);
    let custom = safeguard::Config {
        role_prefix: "nightly-".into(),
        ..env.config(Mode::Remediate)
    };
    let o = &env
        .engine(&FUNCTION, custom)
        .with_settings(Settings::defaults(FUNCTION.settings()))
        .handle(event)
        .await[0];
    assert_eq!(o.status, Status::Remediated, "{}", o.detail);
    assert!(!rule_disabled(env.clients.clone(), other.clone()).await);
    env.alerts(1).await;
    env.no_more_alerts().await;
}
