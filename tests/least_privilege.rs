//! Least privilege, observed: every sample event is replayed through the
//! function it routes to, against the emulator, with every AWS call logged.
//! Each call must be allowed by an IAM action the function's controls
//! declare (the template's role policy is derived from those declarations
//! and checked against them in `template.rs`), so a deployed function never
//! meets AccessDenied for want of a permission.

use safeguard::{Aws, CallLog, Mode, Settings, Status, TrailEvent};
use safeguard_cli::router::{event_files, load_event};
use safeguard_cli::{demo::DEMO_SETTINGS, functions};
use safeguard_tests::*;
use std::collections::BTreeSet;

/// The IAM action that authorises an SDK operation. Most are the service's
/// prefix and the operation's name; S3 names a few otherwise.
fn iam_action(call: &str) -> String {
    let (service, op) = call.split_once(':').unwrap_or(("", call));
    let prefix = match service {
        "S3" | "S3 Control" => "s3".to_string(),
        "CloudWatch Logs" => "logs".to_string(),
        "EventBridge" => "events".to_string(),
        "Config Service" => "config".to_string(),
        other => other.to_lowercase().replace(' ', ""),
    };
    let action = match (service, op) {
        ("S3", "GetPublicAccessBlock") => "GetBucketPublicAccessBlock",
        ("S3", "PutPublicAccessBlock") => "PutBucketPublicAccessBlock",
        ("S3", "DeletePublicAccessBlock") => "PutBucketPublicAccessBlock",
        ("S3 Control", "GetPublicAccessBlock") => "GetAccountPublicAccessBlock",
        ("S3 Control", "PutPublicAccessBlock") => "PutAccountPublicAccessBlock",
        ("S3", "GetBucketEncryption") => "GetEncryptionConfiguration",
        ("S3", "PutBucketEncryption") => "PutEncryptionConfiguration",
        ("S3", "HeadBucket") => "ListBucket",
        (_, op) => op,
    };
    format!("{prefix}:{action}")
}

#[test]
fn operations_map_to_their_iam_actions() {
    assert_eq!(iam_action("GuardDuty:GetDetector"), "guardduty:GetDetector");
    assert_eq!(
        iam_action("CloudWatch Logs:PutRetentionPolicy"),
        "logs:PutRetentionPolicy"
    );
    assert_eq!(
        iam_action("S3 Control:PutPublicAccessBlock"),
        "s3:PutAccountPublicAccessBlock"
    );
    assert_eq!(iam_action("S3:PutBucketEncryption"), "s3:PutEncryptionConfiguration");
    assert_eq!(
        iam_action("Config Service:StartConfigurationRecorder"),
        "config:StartConfigurationRecorder"
    );
}

#[tokio::test]
async fn every_call_a_function_makes_is_declared() {
    let env = TestEnv::new("lp").await;
    let lookup = |key: &str| {
        let extra = [("SECURITY_HUB_ACTION", "enable"), ("ATTACHED_VOLUME_ACTION", "swap")];
        DEMO_SETTINGS
            .iter()
            .map(|(k, v, _)| (*k, *v))
            .chain(extra)
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.to_string())
    };
    let files = event_files(&repo_root().join("events")).expect("events");
    let mut undeclared = Vec::new();
    for f in functions() {
        let calls = CallLog::default();
        let aws = Aws::new(env.sdk.clone()).logging_calls(calls.clone());
        let settings = Settings::load(f.settings(), lookup).expect("settings");
        let notifier = safeguard::SnsNotifier::new(env.clients.sns().clone(), &env.topic);
        let engine = safeguard::Engine::new(f, env.config(Mode::Remediate), aws, notifier).with_settings(settings);
        let mut handled = 0;
        for file in &files {
            let mut raw = load_event(file).expect("event");
            let event = TrailEvent::parse(raw.clone()).expect("sample parses");
            if f.routes(event.event_source(), event.event_name()).is_empty()
                || engine.guard(&event).is_some()
                || safeguard_cli::emulator::gap(event.event_name()).is_some()
            {
                continue;
            }
            seed(&env.clients, &mut raw).await.expect("seed");
            for o in engine.handle(raw).await {
                assert_ne!(o.status, Status::Failed, "{}: {}", file.display(), o.detail);
                handled += 1;
            }
        }
        assert!(handled > 0, "no sample event exercised {}", f.name);
        let declared = f.iam_actions();
        let used: BTreeSet<String> = calls.calls().iter().map(|c| iam_action(c)).collect();
        assert!(!used.is_empty(), "no AWS call of {} was logged", f.name);
        for action in used.iter().filter(|a| !declared.contains(a.as_str())) {
            undeclared.push(format!("{}: {action}", f.name));
        }
        // Declared but not exercised here: failure clean-up, branches the
        // samples do not reach. Listed, so a stale declaration is visible.
        let unexercised: Vec<&str> = declared.iter().copied().filter(|a| !used.contains(*a)).collect();
        println!(
            "{}: {} of {} declared actions used; not exercised: {}",
            f.name,
            used.len(),
            declared.len(),
            unexercised.join(", ")
        );
    }
    assert!(
        undeclared.is_empty(),
        "called without a declared IAM action (AccessDenied when deployed):\n{}",
        undeclared.join("\n")
    );
}
