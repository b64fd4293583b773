//! The authentication safeguard against the emulator: the account password
//! policy, root use, console sign-ins without MFA, and administrator grants.

use authentication::FUNCTION;
use safeguard::{Clients, Config, Mode, Settings, Status};
use safeguard_tests::*;
use serde_json::Value;
use std::sync::Arc;

fn weak_password_policy(c: Arc<Clients>, _account: String) -> Check {
    Box::pin(async move {
        let Ok(out) = c.iam().get_account_password_policy().send().await else {
            return true;
        };
        let Some(p) = out.password_policy() else {
            return true;
        };
        p.minimum_password_length().unwrap_or(0) < 14
            || !(p.require_symbols() && p.require_numbers())
            || !(p.require_uppercase_characters() && p.require_lowercase_characters())
            || p.password_reuse_prevention().unwrap_or(0) < 24
            || !p.max_password_age().is_some_and(|a| a > 0 && a <= 90)
    })
}

/// One test: the password policy is one per account.
#[tokio::test]
async fn password_policy_weakened_or_deleted() {
    for file in [
        "authentication/update-password-policy-weak.json",
        "authentication/delete-password-policy.json",
    ] {
        Lifecycle::of(
            &FUNCTION,
            file,
            "iam-password-policy",
            "high",
            weak_password_policy,
            &[],
        )
        .run_exempting(Exempt::Listed)
        .await;
    }

    // Stricter than the baseline stays stricter.
    let env = TestEnv::new("au").await;
    env.clients
        .iam()
        .update_account_password_policy()
        .minimum_password_length(20)
        .max_password_age(30)
        .send()
        .await
        .expect("policy");
    let o = &env
        .engine(&FUNCTION, env.config(Mode::Remediate))
        .handle(sample("authentication/update-password-policy-weak.json"))
        .await[0];
    assert_eq!(o.status, Status::Remediated, "{}", o.detail);
    let p = env
        .clients
        .iam()
        .get_account_password_policy()
        .send()
        .await
        .expect("policy")
        .password_policy()
        .cloned()
        .expect("policy");
    assert_eq!(p.minimum_password_length(), Some(20));
    assert_eq!(p.max_password_age(), Some(30));
    assert_eq!(p.password_reuse_prevention(), Some(24));
    assert!(p.require_symbols());
    env.alerts(1).await;
}

/// Notify-only controls: reported each time, nothing changed, exemptable.
async fn reported(env: &TestEnv, config: Config, event: Value, control: &str) -> safeguard::Outcome {
    env.engine(&FUNCTION, config)
        .handle(event)
        .await
        .into_iter()
        .find(|o| o.control.as_deref() == Some(control))
        .unwrap_or_else(|| panic!("no outcome for {control}"))
}

#[tokio::test]
async fn root_use_is_a_critical_report() {
    let env = TestEnv::new("au").await;
    for file in [
        "authentication/console-login-root.json",
        "authentication/create-access-key-root.json",
    ] {
        let event = sample(file);
        for mode in [Mode::Remediate, Mode::Remediate, Mode::DryRun] {
            let o = reported(&env, env.config(mode), event.clone(), "root-account-activity").await;
            assert_eq!(o.status, Status::WouldRemediate, "{file}: {}", o.detail);
            assert!(
                o.state_before.as_deref().is_some_and(|s| s.contains("root user")),
                "{:?}",
                o.state_before
            );
            let alerts = env.alerts(1).await;
            let alert = alerts
                .iter()
                .find(|a| attribute(a, "control") == "root-account-activity")
                .expect("root alert");
            assert_eq!(attribute(alert, "severity"), "critical");
            let text = alert.message["text"].as_str().unwrap_or_default();
            assert!(text.contains("192.0.2.45"), "{text}");
        }
        let mut config = env.config(Mode::Remediate);
        config
            .exempt_resources
            .insert(ACCOUNT.into(), "break-glass drill, CHG-12".into());
        let o = reported(&env, config, event.clone(), "root-account-activity").await;
        assert_eq!(o.status, Status::Exempt, "{}", o.detail);
        env.alerts(1).await;
        for variant in [failed_call(event.clone())] {
            for o in env.engine(&FUNCTION, env.config(Mode::Remediate)).handle(variant).await {
                assert_eq!(o.status, Status::Ignored, "{}", o.detail);
            }
        }
    }
    env.no_more_alerts().await;

    // The root user creating a key for an IAM user, or anyone else creating one: not root use.
    let mut for_user = sample("authentication/create-access-key-root.json");
    for_user["detail"]["requestParameters"] = serde_json::json!({"userName": "frontdesk.kim"});
    let o = reported(&env, env.config(Mode::Remediate), for_user, "root-account-activity").await;
    assert_eq!(o.status, Status::Compliant, "{}", o.detail);
    let by_user = sample("authentication/put-user-policy-admin.json")["detail"]["userIdentity"].clone();
    let mut not_root = sample("authentication/create-access-key-root.json");
    not_root["detail"]["userIdentity"] = by_user;
    let o = reported(&env, env.config(Mode::Remediate), not_root, "root-account-activity").await;
    assert_eq!(o.status, Status::Compliant, "{}", o.detail);
    env.no_more_alerts().await;
}

fn tag_user(c: Arc<Clients>, user: String, key: &'static str, value: &'static str) -> Done {
    Box::pin(async move {
        let tag = aws_sdk_iam::types::Tag::builder()
            .key(key)
            .value(value)
            .build()
            .expect("tag");
        c.iam()
            .tag_user()
            .user_name(user)
            .tags(tag)
            .send()
            .await
            .expect("tag user");
    })
}

#[tokio::test]
async fn console_sign_in_without_mfa() {
    let env = TestEnv::new("au").await;
    let user = unique("nurse");
    let mut event = sample("authentication/console-login-no-mfa.json");
    event["detail"]["userIdentity"]["userName"] = user.clone().into();
    event["detail"]["userIdentity"]["arn"] = format!("arn:aws:iam::{ACCOUNT}:user/clinic/{user}").into();
    seed(&env.clients, &mut event).await.expect("seed");
    let control = "console-login-without-mfa";

    let o = reported(&env, env.config(Mode::Remediate), event.clone(), control).await;
    assert_eq!(o.status, Status::WouldRemediate, "{}", o.detail);
    assert_eq!(o.resource.as_deref(), Some(user.as_str()));
    let alerts = env.alerts(1).await;
    assert_eq!(attribute(&alerts[0], "severity"), "high");
    assert!(
        alerts[0].subject.contains("signed in without MFA"),
        "{}",
        alerts[0].subject
    );

    // With MFA, failed, or federated: nothing to report.
    let mut with_mfa = event.clone();
    with_mfa["detail"]["additionalEventData"]["MFAUsed"] = "Yes".into();
    let mut failed = event.clone();
    failed["detail"]["responseElements"]["ConsoleLogin"] = "Failure".into();
    failed["detail"]["errorMessage"] = "Failed authentication".into();
    let mut federated = event.clone();
    federated["detail"]["userIdentity"] =
        sample("authentication/attach-role-policy-admin.json")["detail"]["userIdentity"].clone();
    for quiet in [with_mfa, failed, federated] {
        let o = reported(&env, env.config(Mode::Remediate), quiet, control).await;
        assert_eq!(o.status, Status::Compliant, "{}", o.detail);
    }
    env.no_more_alerts().await;

    tag_user(
        env.clients.clone(),
        user.clone(),
        "safeguard:exempt",
        "kiosk account, CHG-31",
    )
    .await;
    let o = reported(&env, env.config(Mode::Remediate), event.clone(), control).await;
    assert_eq!(o.status, Status::Exempt, "{}", o.detail);
    assert!(o.detail.contains("CHG-31"));
    env.alerts(1).await;
    for o in env
        .engine(&FUNCTION, env.config(Mode::Remediate))
        .handle(by_own_role(event))
        .await
    {
        assert_eq!(o.status, Status::Ignored, "{}", o.detail);
    }
    env.no_more_alerts().await;
}

fn role_has_admin(c: Arc<Clients>, id: String) -> Check {
    Box::pin(async move {
        let role = id.trim_start_matches("role/").to_string();
        let out = c
            .iam()
            .list_attached_role_policies()
            .role_name(role)
            .send()
            .await
            .expect("attached");
        // Seeding attaches one policy, granting * on *; the roles are fresh.
        !out.attached_policies().is_empty()
    })
}

fn tag_role(c: Arc<Clients>, id: String, key: &'static str, value: &'static str) -> Done {
    Box::pin(async move {
        let tag = aws_sdk_iam::types::Tag::builder()
            .key(key)
            .value(value)
            .build()
            .expect("tag");
        c.iam()
            .tag_role()
            .role_name(id.trim_start_matches("role/"))
            .tags(tag)
            .send()
            .await
            .expect("tag role");
    })
}

fn user_has_inline_admin(c: Arc<Clients>, id: String) -> Check {
    Box::pin(async move {
        let out = c
            .iam()
            .list_user_policies()
            .user_name(id.trim_start_matches("user/"))
            .send()
            .await
            .expect("inline policies");
        out.policy_names().iter().any(|n| n == "temporary-full-access")
    })
}

fn tag_user_id(c: Arc<Clients>, id: String, key: &'static str, value: &'static str) -> Done {
    tag_user(c, id.trim_start_matches("user/").to_string(), key, value)
}

const DETACH: &[(&str, &str)] = &[("ADMIN_POLICY_ACTION", "detach")];

#[tokio::test]
async fn admin_policy_attached_to_a_role_is_detached_when_opted_in() {
    Lifecycle::of(
        &FUNCTION,
        "authentication/attach-role-policy-admin.json",
        "iam-admin-policy-attached",
        "critical",
        role_has_admin,
        DETACH,
    )
    .run(tag_role)
    .await;
}

#[tokio::test]
async fn inline_admin_policy_is_deleted_when_opted_in() {
    Lifecycle::of(
        &FUNCTION,
        "authentication/put-user-policy-admin.json",
        "iam-admin-policy-attached",
        "critical",
        user_has_inline_admin,
        DETACH,
    )
    .run(tag_user_id)
    .await;
}

#[tokio::test]
async fn admin_grants_are_only_reported_by_default_and_for_protected_roles() {
    let env = TestEnv::new("au").await;
    let control = "iam-admin-policy-attached";
    let mut settings = Settings::defaults(FUNCTION.settings());
    settings.set("ADMIN_POLICY_ACTION", "detach");
    settings.set("BREAK_GLASS_PRINCIPALS", "clinic-break-glass");
    let detaching = env
        .engine(&FUNCTION, env.config(Mode::Remediate))
        .with_settings(settings);
    for (role, why) in [
        ("clinic-break-glass", "break-glass"),
        ("safeguard-encryption-us-east-1", "Safeguard's own roles"),
    ] {
        let mut event = sample("authentication/attach-role-policy-admin.json");
        event["detail"]["requestParameters"]["roleName"] = role.into();
        event["detail"]["requestParameters"]["policyArn"] =
            format!("arn:aws:iam::{ACCOUNT}:policy/{}", unique("admin")).into();
        seed(&env.clients, &mut event).await.expect("seed");
        let o = detaching
            .handle(event)
            .await
            .into_iter()
            .find(|o| o.control.as_deref() == Some(control))
            .expect("outcome");
        assert_eq!(o.status, Status::WouldRemediate, "{}", o.detail);
        assert!(
            o.detail.contains(why) && o.detail.contains("never removed"),
            "{}",
            o.detail
        );
        assert!(role_has_admin(env.clients.clone(), format!("role/{role}")).await);
        env.alerts(1).await;
    }

    // Default deployment: reported, never detached.
    let mut event = sample("authentication/attach-role-policy-admin.json");
    let role = unique("etl");
    event["detail"]["requestParameters"]["roleName"] = role.clone().into();
    event["detail"]["requestParameters"]["policyArn"] =
        format!("arn:aws:iam::{ACCOUNT}:policy/{}", unique("admin")).into();
    seed(&env.clients, &mut event).await.expect("seed");
    let o = reported(&env, env.config(Mode::Remediate), event, control).await;
    assert_eq!(o.status, Status::WouldRemediate, "{}", o.detail);
    assert!(o.detail.contains("ADMIN_POLICY_ACTION=detach"), "{}", o.detail);
    assert!(role_has_admin(env.clients.clone(), format!("role/{role}")).await);
    env.alerts(1).await;
    env.no_more_alerts().await;
}

async fn default_version(c: &Clients, arn: &str) -> String {
    let out = c.iam().get_policy().policy_arn(arn).send().await.expect("policy");
    out.policy()
        .and_then(|p| p.default_version_id())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn admin_policy_version_is_rolled_back_when_opted_in() {
    let env = TestEnv::new("au").await;
    let arn = format!("arn:aws:iam::{ACCOUNT}:policy/{}", unique("reporting"));
    let mut event = sample("authentication/create-policy-version-admin.json");
    event["detail"]["requestParameters"]["policyArn"] = arn.clone().into();
    seed(&env.clients, &mut event).await.expect("seed");
    assert_eq!(default_version(&env.clients, &arn).await, "v2");

    let mut settings = Settings::defaults(FUNCTION.settings());
    settings.set("ADMIN_POLICY_ACTION", "detach");
    let engine = env
        .engine(&FUNCTION, env.config(Mode::Remediate))
        .with_settings(settings);
    let o = &engine.handle(event.clone()).await[0];
    assert_eq!(o.status, Status::Remediated, "{}", o.detail);
    assert!(o.detail.contains("made v1 the default version"), "{}", o.detail);
    assert_eq!(default_version(&env.clients, &arn).await, "v1");
    env.alerts(1).await;
    assert_eq!(engine.handle(event).await[0].status, Status::Compliant);
    env.no_more_alerts().await;
}
