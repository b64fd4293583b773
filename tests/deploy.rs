//! The whole stack, really deployed: `infra/template.yaml` goes through the
//! emulator's CloudFormation with every function's code in an S3 bucket (a
//! placeholder `bootstrap`: the emulator cannot run Lambda code, and the
//! release build is exercised by `make build`). Then every resource is read
//! back from the services themselves, and every sample event is routed
//! through the deployed rules.

use aws_sdk_cloudformation::types::{Capability, Parameter, StackStatus};
use aws_sdk_eventbridge::types::Target;
use safeguard_cli::emulator::create_queue;
use safeguard_cli::{functions, template};
use safeguard_tests::routing::assert_routing;
use safeguard_tests::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

const STACK_PREFIX: &str = "safeguard-deploy-test-";

/// The tests take turns: a stack just deployed has rules targeting Lambda,
/// which the emulator's EventBridge fails on, until its targets are swapped.
static ONE_STACK_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A zip archive holding one executable file, `bootstrap` (stored, not compressed).
fn placeholder_zip() -> Vec<u8> {
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    let name = b"bootstrap";
    let body = b"#!/bin/sh\necho placeholder: the emulator does not run Lambda code\n";
    let crc = crc32(body);
    let mut zip = Vec::new();
    let local = |zip: &mut Vec<u8>| {
        zip.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        zip.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // version, flags, stored, time, date
        zip.extend_from_slice(&crc.to_le_bytes());
        zip.extend_from_slice(&(body.len() as u32).to_le_bytes());
        zip.extend_from_slice(&(body.len() as u32).to_le_bytes());
        zip.extend_from_slice(&(name.len() as u16).to_le_bytes());
        zip.extend_from_slice(&0u16.to_le_bytes());
        zip.extend_from_slice(name);
        zip.extend_from_slice(body);
    };
    local(&mut zip);
    let central = zip.len();
    zip.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
    zip.extend_from_slice(&[0x14, 3, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // made by unix, version, flags, stored, time, date
    zip.extend_from_slice(&crc.to_le_bytes());
    zip.extend_from_slice(&(body.len() as u32).to_le_bytes());
    zip.extend_from_slice(&(body.len() as u32).to_le_bytes());
    zip.extend_from_slice(&(name.len() as u16).to_le_bytes());
    zip.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]); // extra, comment, disk, internal attributes
    zip.extend_from_slice(&(0o100_755u32 << 16).to_le_bytes()); // -rwxr-xr-x
    zip.extend_from_slice(&0u32.to_le_bytes()); // offset of the local header
    zip.extend_from_slice(name);
    let size = zip.len() - central;
    zip.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    zip.extend_from_slice(&[0, 0, 0, 0, 1, 0, 1, 0]);
    zip.extend_from_slice(&(size as u32).to_le_bytes());
    zip.extend_from_slice(&(central as u32).to_le_bytes());
    zip.extend_from_slice(&0u16.to_le_bytes());
    zip
}

/// The committed template, as JSON, with each function's code in S3.
fn deployable(bucket: &str, key: &str) -> Value {
    let text = std::fs::read_to_string(repo_root().join(template::PATH)).expect("template");
    let mut t: Value = serde_yaml::from_str(&text).expect("template is YAML");
    for r in t["Resources"].as_object_mut().expect("resources").values_mut() {
        if r["Type"] == "AWS::Lambda::Function" {
            r["Properties"]["Code"] = serde_json::json!({ "S3Bucket": bucket, "S3Key": key });
        }
    }
    t
}

/// A role's inline policy as the emulator returns it: JSON, or (for roles
/// CloudFormation made) the Python form of the same dictionary.
fn policy_json(text: &str) -> Value {
    let text = safeguard::policy::decode_document(text);
    serde_json::from_str(&text).unwrap_or_else(|_| {
        let json = text
            .replace('\'', "\"")
            .replace("True", "true")
            .replace("False", "false");
        serde_json::from_str(&json).unwrap_or_else(|e| panic!("policy is neither JSON nor a Python dict ({e}): {text}"))
    })
}

async fn wait_for(cf: &aws_sdk_cloudformation::Client, stack: &str) -> aws_sdk_cloudformation::types::Stack {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let out = cf
            .describe_stacks()
            .stack_name(stack)
            .send()
            .await
            .expect("describe stack");
        let s = out.stacks().first().cloned().expect("stack");
        let done = !s.stack_status().is_some_and(|st| st.as_str().ends_with("IN_PROGRESS"));
        if done || Instant::now() > deadline {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Stacks an interrupted earlier run left: their rules target Lambda
/// functions, which the emulator's EventBridge cannot deliver to.
async fn delete_leftovers(cf: &aws_sdk_cloudformation::Client, stack_prefix: &str) {
    // Best effort: a listing the emulator cannot produce leaves nothing to do.
    let Ok(out) = cf.describe_stacks().send().await else {
        return;
    };
    for s in out.stacks() {
        let name = s.stack_name().unwrap_or_default();
        if name.starts_with(stack_prefix) && s.stack_status() != Some(&StackStatus::DeleteComplete) {
            cf.delete_stack()
                .stack_name(name)
                .send()
                .await
                .expect("delete leftover stack");
        }
    }
}

/// Deploys `body` as `stack` with `parameters`, asserting it completes; its outputs.
async fn deploy(
    cf: &aws_sdk_cloudformation::Client,
    stack: &str,
    body: &Value,
    parameters: &[(&str, &str)],
) -> BTreeMap<String, String> {
    let mut create = cf
        .create_stack()
        .stack_name(stack)
        .template_body(body.to_string())
        .capabilities(Capability::CapabilityNamedIam);
    for (key, value) in parameters {
        create = create.parameters(Parameter::builder().parameter_key(*key).parameter_value(*value).build());
    }
    create.send().await.expect("create stack");
    let deployed = wait_for(cf, stack).await;
    assert_eq!(
        deployed.stack_status(),
        Some(&StackStatus::CreateComplete),
        "{stack}: {:?}",
        deployed.stack_status_reason()
    );
    deployed
        .outputs()
        .iter()
        .map(|o| {
            (
                o.output_key().unwrap_or_default().to_string(),
                o.output_value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The function code, uploaded to a bucket of its own.
async fn upload_code(env: &TestEnv, run: &str) -> Value {
    let bucket = format!("{run}-artifacts");
    safeguard_cli::seed::ensure_bucket(&env.clients, &bucket)
        .await
        .expect("bucket");
    env.clients
        .s3()
        .put_object()
        .bucket(&bucket)
        .key("functions.zip")
        .body(placeholder_zip().into())
        .send()
        .await
        .expect("upload code");
    deployable(&bucket, "functions.zip")
}

/// The emulator cannot invoke Lambda: an SQS queue per function stands in,
/// as the target of each of its rules on `bus`. The queues, by function.
async fn queues_for_functions(
    events: &aws_sdk_eventbridge::Client,
    sqs: &aws_sdk_sqs::Client,
    run: &str,
    prefix: &str,
    bus: Option<&str>,
) -> BTreeMap<&'static str, String> {
    let mut queues = BTreeMap::new();
    for f in functions() {
        let (url, queue_arn) = create_queue(sqs, &format!("{run}-{}", f.name)).await.expect("queue");
        let rules = events
            .list_rules()
            .name_prefix(format!("{prefix}{}-", f.name))
            .set_event_bus_name(bus.map(str::to_string))
            .send()
            .await
            .expect("rules");
        for rule in rules
            .rules()
            .iter()
            .filter(|r| r.event_bus_name() == Some(bus.unwrap_or("default")))
        {
            let name = rule.name().unwrap_or_default();
            events
                .remove_targets()
                .rule(name)
                .set_event_bus_name(bus.map(str::to_string))
                .ids("function")
                .send()
                .await
                .expect("remove target");
            let stand_in = Target::builder().id("queue").arn(&queue_arn).build().expect("target");
            events
                .put_targets()
                .rule(name)
                .set_event_bus_name(bus.map(str::to_string))
                .targets(stand_in)
                .send()
                .await
                .expect("put target");
            if rule.state().map(|s| s.as_str()) == Some("DISABLED") {
                events
                    .enable_rule()
                    .name(name)
                    .set_event_bus_name(bus.map(str::to_string))
                    .send()
                    .await
                    .expect("enable rule");
            }
        }
        queues.insert(f.name, url);
    }
    queues
}

#[tokio::test]
async fn the_stack_deploys_and_routes_every_sample() {
    let _turn = ONE_STACK_AT_A_TIME.lock().await;
    let env = TestEnv::new("deploy").await;
    let cf = aws_sdk_cloudformation::Client::new(&env.sdk);
    let events = aws_sdk_eventbridge::Client::new(&env.sdk);
    let sqs = aws_sdk_sqs::Client::new(&env.sdk);
    delete_leftovers(&cf, STACK_PREFIX).await;

    // The code, uploaded; the template, deployed under a prefix of its own.
    let run = unique("dp");
    let prefix = format!("{run}-");
    let body = upload_code(&env, &run).await;
    let stack = format!("{STACK_PREFIX}{run}");
    let outputs = deploy(
        &cf,
        &stack,
        &body,
        &[
            ("RolePrefix", &prefix),
            ("EncryptionMode", "dry-run"),
            ("NetworkMode", "off"),
        ],
    )
    .await;

    // The alert topic is encrypted; the failed-events queue exists.
    let topic = &outputs["AlertTopicArn"];
    let attrs = env
        .clients
        .sns()
        .get_topic_attributes()
        .topic_arn(topic)
        .send()
        .await
        .expect("topic");
    let key = attrs
        .attributes()
        .and_then(|a| a.get("KmsMasterKeyId"))
        .cloned()
        .unwrap_or_default();
    assert!(!key.is_empty(), "the alert topic must be encrypted");
    let failed_queue = &outputs["FailedEventsQueueArn"];
    assert!(
        failed_queue.ends_with(&format!(":{prefix}failed-events")),
        "{failed_queue}"
    );

    let iam = env.clients.iam();
    for f in functions() {
        let id = template::logical(f.name);
        let function_arn = &outputs[&format!("{id}FunctionArn")];
        assert!(
            function_arn.ends_with(&format!(":function:{prefix}{}", f.name)),
            "{function_arn}"
        );

        // The role allows exactly the declared actions, each on its scoped resources.
        let role = format!("{prefix}{}-us-east-1", f.name);
        let policy = iam
            .get_role_policy()
            .role_name(&role)
            .policy_name("controls")
            .send()
            .await
            .expect("role policy");
        let doc = policy_json(policy.policy_document());
        let vars = [
            ("AWS::Partition", "aws"),
            ("AWS::AccountId", ACCOUNT),
            ("RolePrefix", prefix.as_str()),
        ];
        assert_eq!(
            grants(&doc),
            declared_grants(f.iam_actions(), &vars),
            "{role}: deployed actions differ from the declarations"
        );

        // Its rules: the declared patterns, the function as target with retries
        // and the failed-events queue; disabled when the safeguard is off.
        let rules = events
            .list_rules()
            .name_prefix(format!("{prefix}{}-", f.name))
            .send()
            .await
            .expect("rules");
        let patterns: BTreeSet<String> = rules
            .rules()
            .iter()
            .map(|r| {
                let p: Value = serde_json::from_str(r.event_pattern().unwrap_or("null")).expect("pattern JSON");
                p.to_string()
            })
            .collect();
        let want: BTreeSet<String> = f.patterns(&prefix).iter().map(Value::to_string).collect();
        assert_eq!(
            patterns, want,
            "{}: deployed patterns differ from the declarations",
            f.name
        );
        for rule in rules.rules() {
            let name = rule.name().unwrap_or_default();
            let state = rule.state().map(|s| s.as_str()).unwrap_or_default();
            assert_eq!(
                state,
                if f.name == "network" { "DISABLED" } else { "ENABLED" },
                "{name}"
            );
            let targets = events.list_targets_by_rule().rule(name).send().await.expect("targets");
            let [target] = targets.targets() else {
                panic!("{name} should have exactly one target: {:?}", targets.targets());
            };
            assert_eq!(target.arn(), function_arn, "{name}");
            assert_eq!(
                target.dead_letter_config().and_then(|d| d.arn()),
                Some(failed_queue.as_str()),
                "{name}"
            );
            let retry = target.retry_policy().expect("retry policy");
            assert!(retry.maximum_retry_attempts().unwrap_or(0) > 0, "{name}");
        }
    }

    // Each function runs in the mode its parameters give it.
    let lambda = aws_sdk_lambda::Client::new(&env.sdk);
    for f in functions() {
        let config = lambda
            .get_function_configuration()
            .function_name(format!("{prefix}{}", f.name))
            .send()
            .await
            .expect("function");
        let vars = config
            .environment()
            .and_then(|e| e.variables())
            .cloned()
            .unwrap_or_default();
        let want = if f.name == "encryption" { "dry-run" } else { "remediate" };
        assert_eq!(vars.get("MODE").map(String::as_str), Some(want), "{}", f.name);
        assert_eq!(vars.get("ROLE_PREFIX"), Some(&prefix), "{}", f.name);
        assert_eq!(vars.get("SNS_TOPIC_ARN"), Some(topic), "{}", f.name);
        assert_eq!(config.timeout(), Some(f.timeout_seconds as i32), "{}", f.name);
        assert_eq!(config.handler(), Some("bootstrap"), "{}", f.name);
    }

    let queues = queues_for_functions(&events, &sqs, &run, &prefix, None).await;
    assert_routing(&events, &sqs, &queues, &prefix).await;
    cf.delete_stack().stack_name(&stack).send().await.expect("delete stack");
}

const ORG_STACK_PREFIX: &str = "safeguard-org-test-";
const MEMBER_ACCOUNT: &str = "210987654321";

/// The member stack deployed in account B forwards B's calls to the central
/// stack's bus in account A, whose twin rules hand them to the functions.
#[tokio::test]
async fn a_member_account_forwards_its_events_to_the_central_account() {
    let _turn = ONE_STACK_AT_A_TIME.lock().await;
    let env = TestEnv::new("deploy").await;
    let cf = aws_sdk_cloudformation::Client::new(&env.sdk);
    let events = aws_sdk_eventbridge::Client::new(&env.sdk);
    let sqs = aws_sdk_sqs::Client::new(&env.sdk);
    delete_leftovers(&cf, ORG_STACK_PREFIX).await;

    let run = unique("og");
    let prefix = format!("{run}-");
    let member_role = format!("{prefix}member");
    let external_id = "hipaa-central-external-id";
    let body = upload_code(&env, &run).await;
    let central_stack = format!("{ORG_STACK_PREFIX}{run}");
    let outputs = deploy(
        &cf,
        &central_stack,
        &body,
        &[
            ("RolePrefix", &prefix),
            ("OrganizationId", "o-exampleorg01"),
            ("MemberRoleName", &member_role),
            ("MemberExternalId", external_id),
            ("MemberAccounts", MEMBER_ACCOUNT),
        ],
    )
    .await;
    let bus_arn = outputs.get("CentralBusArn").expect("central bus output").clone();
    let bus = format!("{prefix}central");
    assert!(bus_arn.ends_with(&format!(":event-bus/{bus}")), "{bus_arn}");

    // The member stack, deployed in account B with B's own credentials.
    let org = safeguard::config::Organization {
        home_account: Some(ACCOUNT.into()),
        member_role: Some("deployer".into()),
        ..Default::default()
    };
    let member = safeguard::Aws::new(env.sdk.clone())
        .with_organization(org)
        .clients_in(MEMBER_ACCOUNT, "us-east-1")
        .await
        .expect("member account");
    let member_cf = aws_sdk_cloudformation::Client::new(member.sdk_config());
    let text = std::fs::read_to_string(repo_root().join(template::MEMBER_PATH)).expect("member template");
    let member_body: Value = serde_yaml::from_str(&text).expect("YAML");
    let member_stack = format!("{ORG_STACK_PREFIX}{run}-member");
    let member_outputs = deploy(
        &member_cf,
        &member_stack,
        &member_body,
        &[
            ("CentralAccountId", ACCOUNT),
            ("CentralBusArn", &bus_arn),
            ("ExternalId", external_id),
            ("MemberRoleName", &member_role),
            ("RolePrefix", &prefix),
        ],
    )
    .await;
    assert_eq!(
        member_outputs.get("MemberRoleArn").map(String::as_str),
        Some(format!("arn:aws:iam::{MEMBER_ACCOUNT}:role/{member_role}").as_str())
    );
    let trust = member
        .iam()
        .get_role()
        .role_name(&member_role)
        .send()
        .await
        .expect("member role")
        .role()
        .map(|r| r.assume_role_policy_document().unwrap_or_default().to_string())
        .unwrap_or_default();
    let trust = policy_json(&trust).to_string();
    assert!(
        trust.contains(external_id) && trust.contains(&format!("arn:aws:iam::{ACCOUNT}:root")),
        "{trust}"
    );

    // Every sample put on B's bus lands, through A's central bus, on exactly
    // the functions that handle it.
    let queues = queues_for_functions(&events, &sqs, &run, &prefix, Some(&bus)).await;
    let member_events = aws_sdk_eventbridge::Client::new(member.sdk_config());
    assert_routing(&member_events, &sqs, &queues, &prefix).await;

    member_cf
        .delete_stack()
        .stack_name(&member_stack)
        .send()
        .await
        .expect("delete member stack");
    cf.delete_stack()
        .stack_name(&central_stack)
        .send()
        .await
        .expect("delete stack");
}
