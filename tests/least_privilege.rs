//! Least privilege, observed: every sample event is replayed through the
//! function it routes to, against the emulator, with every AWS call logged.
//! Each call must be allowed by an IAM action the function's controls
//! declare (the template's role policy is derived from those declarations
//! and checked against them in `template.rs`), so a deployed function never
//! meets AccessDenied for want of a permission; and each resource a control
//! fixed must lie within the ARNs its actions are granted on.

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

/// The ARN IAM checks for a resource of `kind` (as AWS documents each
/// service's ARN format); `None` for kinds without one (the account).
fn arn(kind: &str, id: &str, account: &str, region: &str) -> Option<String> {
    if id.starts_with("arn:") {
        return Some(id.to_string());
    }
    let regional = |service: &str, resource: String| format!("arn:aws:{service}:{region}:{account}:{resource}");
    Some(match kind {
        "S3 bucket" => format!("arn:aws:s3:::{id}"),
        "security group" => regional("ec2", format!("security-group/{id}")),
        "EC2 instance" => regional("ec2", format!("instance/{id}")),
        "network ACL" => regional("ec2", format!("network-acl/{id}")),
        "EBS volume" => regional("ec2", format!("volume/{id}")),
        "VPC" => regional("ec2", format!("vpc/{id}")),
        "EBS snapshot" => format!("arn:aws:ec2:{region}::snapshot/{id}"),
        "AMI" => format!("arn:aws:ec2:{region}::image/{id}"),
        "RDS instance" => regional("rds", format!("db:{id}")),
        "RDS cluster" => regional("rds", format!("cluster:{id}")),
        "RDS snapshot" => regional("rds", format!("snapshot:{id}")),
        "RDS cluster snapshot" => regional("rds", format!("cluster-snapshot:{id}")),
        "KMS key" => regional("kms", format!("key/{id}")),
        "CloudTrail trail" => regional("cloudtrail", format!("trail/{id}")),
        "log group" => regional("logs", format!("log-group:{id}")),
        "DynamoDB table" => regional("dynamodb", format!("table/{id}")),
        "backup vault" => regional("backup", format!("backup-vault:{id}")),
        "GuardDuty detector" => regional("guardduty", format!("detector/{id}")),
        "EventBridge rule" => regional("events", format!("rule/{id}")),
        "IAM" => format!("arn:aws:iam::{account}:{id}"),
        _ => return None,
    })
}

/// `arn:aws:ec2:r:a:volume/vol-1` → (`ec2`, `volume`); S3 buckets have no type.
fn service_and_type(arn: &str) -> (&str, &str) {
    let mut parts = arn.splitn(6, ':');
    let service = parts.nth(2).unwrap_or_default();
    let resource = parts.nth(2).unwrap_or_default();
    let kind = resource.split(['/', ':']).next().unwrap_or_default();
    (service, if resource.contains(['/', ':']) { kind } else { "" })
}

#[test]
fn arns_name_their_service_and_type() {
    assert_eq!(
        service_and_type("arn:aws:ec2:us-east-1:1:volume/vol-1"),
        ("ec2", "volume")
    );
    assert_eq!(service_and_type("arn:aws:rds:us-east-1:1:db:d"), ("rds", "db"));
    assert_eq!(service_and_type("arn:aws:s3:::bucket"), ("s3", ""));
    assert_eq!(service_and_type("arn:aws:logs:*:1:log-group:*"), ("logs", "log-group"));
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
    let mut outside = Vec::new();
    let vars = [
        ("AWS::Partition", "aws"),
        ("AWS::AccountId", ACCOUNT),
        ("RolePrefix", "safeguard-"),
    ];
    for f in functions() {
        let mut scoped_checks = 0;
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
                if o.status != Status::Remediated {
                    continue;
                }
                // Every action granted on resources of this one's type must
                // be granted on this one.
                let declaration = f.declarations().find(|d| Some(d.id) == o.control.as_deref());
                let (Some(d), Some(id)) = (declaration, o.resource.as_deref()) else {
                    continue;
                };
                let Some(arn) = arn(d.resource.name(), id, &o.account, &o.region) else {
                    continue;
                };
                for action in d.permissions.iter().chain(d.resource.permissions()) {
                    let Some(scope) = safeguard::iam::scope_of(action) else {
                        continue;
                    };
                    let same_type: Vec<String> = scope
                        .resources
                        .iter()
                        .map(|p| safeguard::iam::expand(p, &vars))
                        .filter(|p| {
                            let (service, kind) = service_and_type(p);
                            (service, kind) == service_and_type(&arn) || (service == "s3" && kind.is_empty())
                        })
                        .collect();
                    if same_type.is_empty() {
                        continue;
                    }
                    scoped_checks += 1;
                    if !same_type.iter().any(|p| safeguard::iam::covers(p, &[], &arn)) {
                        outside.push(format!("{}: {action} is not granted on {arn}", f.name));
                    }
                }
            }
        }
        assert!(handled > 0, "no sample event exercised {}", f.name);
        assert!(
            scoped_checks > 0,
            "no fix of {} was checked against its scoped grants",
            f.name
        );
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
        outside.is_empty(),
        "fixed a resource its role's grants do not cover (AccessDenied when deployed):\n{}",
        outside.join("\n")
    );
    assert!(
        undeclared.is_empty(),
        "called without a declared IAM action (AccessDenied when deployed):\n{}",
        undeclared.join("\n")
    );
}

/// The IAM actions a source file's SDK calls need: every call is labelled
/// with its action (`.during("ec2:DeleteVolume")`, which also names it in
/// errors), and a waiter polls its describe call.
fn actions_called(source: &str) -> BTreeSet<String> {
    const WAITERS: &[(&str, &str)] = &[
        ("wait_until_instance_stopped", "ec2:DescribeInstances"),
        ("wait_until_snapshot_completed", "ec2:DescribeSnapshots"),
        ("wait_until_volume_available", "ec2:DescribeVolumes"),
        ("wait_until_volume_in_use", "ec2:DescribeVolumes"),
        ("wait_until_table_exists", "dynamodb:DescribeTable"),
    ];
    let labels = source
        .split(".during(\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_string);
    let waits = source.split("wait_until_").skip(1).map(|rest| {
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '_')
            .collect();
        let waiter = format!("wait_until_{name}");
        WAITERS
            .iter()
            .find(|(w, _)| *w == waiter)
            .map(|(_, action)| action.to_string())
            .unwrap_or_else(|| panic!("{waiter}: which describe call does it poll? add it to WAITERS"))
    });
    labels.chain(waits).collect()
}

fn sources(dir: &std::path::Path) -> Vec<(std::path::PathBuf, String)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("source dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("source");
            // Tests seed and inspect state with calls the function never makes.
            let code = text.split("#[cfg(test)]").next().unwrap_or_default().to_string();
            (p, code)
        })
        .collect()
}

#[test]
fn actions_called_reads_labels_and_waiters() {
    let code = r#"ec2.delete_volume().send().await.during("ec2:DeleteVolume")?;
        ec2.wait_until_volume_available().wait(d).await"#;
    let want: BTreeSet<String> = ["ec2:DeleteVolume", "ec2:DescribeVolumes"].map(String::from).into();
    assert_eq!(actions_called(code), want);
}

/// The other direction: every action a function declares is one its code
/// calls, on some path (samples do not reach clean-up after a failed fix,
/// say), and it calls nothing else. With `every_call_a_function_makes_is_declared`
/// and the template tests, the role grants neither more nor less than the code needs.
#[test]
fn declared_actions_are_exactly_those_the_code_calls() {
    let root = repo_root();
    let mut problems = Vec::new();
    let mut kinds_declare = BTreeSet::new();
    for f in functions() {
        let mut called = BTreeSet::new();
        for (path, code) in sources(&root.join("functions").join(f.name).join("src")) {
            let sends = code.matches(".send()").count();
            let labelled = code.matches(".during(\"").count();
            if sends != labelled {
                problems.push(format!(
                    "{}: {sends} SDK calls, {labelled} labelled with their action",
                    path.display()
                ));
            }
            called.extend(actions_called(&code));
        }
        let declared: BTreeSet<String> = f
            .declarations()
            .flat_map(|d| d.permissions.iter())
            .map(|a| a.to_string())
            .collect();
        for a in declared.difference(&called) {
            problems.push(format!("{}: declares {a}, which its code never calls", f.name));
        }
        for a in called.difference(&declared) {
            problems.push(format!("{}: calls {a} without declaring it", f.name));
        }
        kinds_declare.extend(
            f.declarations()
                .flat_map(|d| d.resource.permissions().iter().map(|a| a.to_string())),
        );
    }
    // Resource kinds (ids and exemption tags) live in shared.
    let (_, resources) = sources(&root.join("shared/src"))
        .into_iter()
        .find(|(p, _)| p.ends_with("resources.rs"))
        .expect("resources.rs");
    let kinds_call = actions_called(&resources);
    for a in kinds_declare.symmetric_difference(&kinds_call) {
        problems.push(format!("resource kinds: {a} is declared or called, not both"));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
