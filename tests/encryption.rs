//! The encryption safeguard against the emulator: each control's life, the
//! volume replacement end to end (data path, tags, originals removed, a fault
//! midway), the stop-swap-start path for attached volumes, and bucket
//! policies merged without losing a statement.

use aws_sdk_ec2::operation::copy_snapshot::CopySnapshotInput;
use aws_sdk_ec2::types::{Filter, Volume};
use encryption::FUNCTION;
use safeguard::{Clients, Mode, Settings, Status};
use safeguard_cli::seed_ec2::{create_volume, instance_zone, run_instances};
use safeguard_tests::*;
use serde_json::{json, Value};
use std::sync::Arc;

fn tag_key(c: Arc<Clients>, key_id: String, key: &'static str, value: &'static str) -> Done {
    Box::pin(async move {
        let tag = aws_sdk_kms::types::Tag::builder()
            .tag_key(key)
            .tag_value(value)
            .build()
            .expect("tag");
        c.kms()
            .tag_resource()
            .key_id(key_id)
            .tags(tag)
            .send()
            .await
            .expect("tag key");
    })
}

async fn describe_volume(c: &Clients, id: &str) -> Option<Volume> {
    match c.ec2().describe_volumes().volume_ids(id).send().await {
        Ok(out) => out.volumes().first().cloned(),
        Err(e) => {
            let code = aws_sdk_ec2::error::ProvideErrorMetadata::code(&e).map(str::to_string);
            assert_eq!(code.as_deref(), Some("InvalidVolume.NotFound"), "{e:?}");
            None
        }
    }
}

/// Violated while the volume exists unencrypted.
fn unencrypted(c: Arc<Clients>, id: String) -> Check {
    Box::pin(async move {
        describe_volume(&c, &id)
            .await
            .is_some_and(|v| v.encrypted() != Some(true))
    })
}

/// Volumes tagged as replacing `original`.
async fn replacements(c: &Clients, original: &str) -> Vec<Volume> {
    let filter = Filter::builder()
        .name("tag:safeguard:replaces")
        .values(original)
        .build();
    let out = c
        .ec2()
        .describe_volumes()
        .filters(filter)
        .send()
        .await
        .expect("volumes");
    out.volumes().to_vec()
}

async fn snapshots_of(c: &Clients, volume: &str) -> Vec<String> {
    let filter = Filter::builder().name("volume-id").values(volume).build();
    let out = c
        .ec2()
        .describe_snapshots()
        .owner_ids("self")
        .filters(filter)
        .send()
        .await
        .expect("snapshots");
    out.snapshots()
        .iter()
        .filter_map(|s| s.snapshot_id().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn unencrypted_volume_lifecycle() {
    Lifecycle {
        function: &FUNCTION,
        file: "encryption/create-volume-unencrypted.json",
        control: "ebs-unencrypted-volume",
        severity: "high",
        violated: unencrypted,
        settings: &[],
    }
    .run(tag_ec2)
    .await;
}

#[tokio::test]
async fn volume_is_replaced_by_an_encrypted_copy_of_its_data() {
    let env = TestEnv::new("enc").await;
    let mut event = sample("encryption/create-volume-unencrypted.json");
    seed(&env.clients, &mut event).await.expect("seed");
    let original = event["detail"]["responseElements"]["volumeId"]
        .as_str()
        .expect("volume id")
        .to_string();
    let before = describe_volume(&env.clients, &original).await.expect("seeded volume");
    assert_eq!(before.encrypted(), Some(false));

    let key = env.clients.kms().create_key().send().await.expect("key");
    let key = key.key_metadata().expect("metadata").arn().expect("arn").to_string();
    let mut settings = Settings::defaults(FUNCTION.settings());
    settings.set("KMS_KEY_ID", key.clone());
    let engine = env
        .engine(&FUNCTION, env.config(Mode::Remediate))
        .with_settings(settings);
    let copies = Calls::<CopySnapshotInput>::recording();
    let config = aws_sdk_ec2::config::Builder::from(&env.sdk)
        .interceptor(copies.clone())
        .build();
    assert!(engine
        .aws()
        .clients(REGION)
        .preset_ec2(aws_sdk_ec2::Client::from_conf(config)));
    let outcomes = engine.handle(event.clone()).await;
    assert_eq!(outcomes.len(), 1);
    let o = &outcomes[0];
    assert_eq!(o.status, Status::Remediated, "{}", o.detail);

    // The original is gone; one encrypted replacement with its shape and tags.
    assert!(
        describe_volume(&env.clients, &original).await.is_none(),
        "{original} should be deleted"
    );
    let replaced = replacements(&env.clients, &original).await;
    assert_eq!(replaced.len(), 1, "exactly one encrypted replacement");
    let copy = &replaced[0];
    let copy_id = copy.volume_id().expect("id");
    assert_eq!(copy.encrypted(), Some(true));
    assert_eq!(copy.kms_key_id(), Some(key.as_str()));
    assert_eq!(copy.availability_zone(), before.availability_zone());
    assert_eq!(copy.size(), before.size());
    assert_eq!(copy.volume_type(), before.volume_type());
    assert_eq!(copy.iops(), before.iops());
    assert_eq!(copy.throughput(), before.throughput());
    for tag in before.tags() {
        assert!(
            copy.tags().contains(tag),
            "tag {tag:?} not carried over: {:?}",
            copy.tags()
        );
    }
    assert!(before.tags().iter().any(|t| t.key() == Some("data-class")));

    // The data path: one snapshot of the original was copied, encrypted with
    // the configured key, and the new volume was made from that copy. (The
    // emulator's CopySnapshot keeps the source's Encrypted flag, so the
    // request, not the copy's flag, shows that encryption was asked for.)
    let seen = copies.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].encrypted(), Some(true));
    assert_eq!(seen[0].kms_key_id(), Some(key.as_str()));
    let plain = seen[0].source_snapshot_id().expect("source snapshot").to_string();
    let from = copy.snapshot_id().expect("made from a snapshot");
    assert_ne!(from, plain);
    let snaps = env
        .clients
        .ec2()
        .describe_snapshots()
        .snapshot_ids(from)
        .send()
        .await
        .expect("snapshot");
    let snap = &snaps.snapshots()[0];
    assert_eq!(
        snap.kms_key_id(),
        Some(key.as_str()),
        "the volume must come from the encrypted copy"
    );
    assert!(
        snap.description().unwrap_or_default().contains(&plain),
        "{:?}",
        snap.description()
    );
    // The plain snapshot is deleted.
    let gone = env.clients.ec2().describe_snapshots().snapshot_ids(&plain).send().await;
    assert!(
        gone.is_err() || gone.is_ok_and(|s| s.snapshots().is_empty()),
        "{plain} should be deleted"
    );

    // The outcome and the alert name both volumes.
    assert!(
        o.detail.contains(&original) && o.detail.contains(copy_id),
        "{}",
        o.detail
    );
    assert!(o.state_after.as_deref().unwrap_or_default().contains(copy_id));
    let alerts = env.alerts(1).await;
    let text = alerts[0].message["text"].as_str().unwrap_or_default();
    assert!(text.contains(&original) && text.contains(copy_id), "{text}");

    // A repeated delivery of the event finds the replacement.
    let again = engine.handle(event).await;
    assert_eq!(again[0].status, Status::Compliant, "{}", again[0].detail);
    assert!(again[0].detail.contains(copy_id), "{}", again[0].detail);
    env.no_more_alerts().await;
}

#[tokio::test]
async fn a_failed_copy_leaves_the_original_and_cleans_up() {
    let env = TestEnv::new("enc").await;
    let mut event = sample("encryption/create-volume-unencrypted.json");
    seed(&env.clients, &mut event).await.expect("seed");
    let original = event["detail"]["responseElements"]["volumeId"]
        .as_str()
        .expect("volume id")
        .to_string();

    let engine = env.engine(&FUNCTION, env.config(Mode::Remediate));
    let copies = Calls::<CopySnapshotInput>::failing();
    let config = aws_sdk_ec2::config::Builder::from(&env.sdk)
        .interceptor(copies.clone())
        .build();
    let clients = engine.aws().clients(REGION);
    assert!(clients.preset_ec2(aws_sdk_ec2::Client::from_conf(config)));

    let o = &engine.handle(event).await[0];
    assert_eq!(copies.seen().len(), 1, "the copy was attempted once");
    assert_eq!(o.status, Status::Failed, "{}", o.detail);
    assert!(o.detail.contains(&format!("{original} is untouched")), "{}", o.detail);
    assert!(
        o.detail.contains("deleted what had been created (snap-"),
        "{}",
        o.detail
    );
    let left = describe_volume(&env.clients, &original)
        .await
        .expect("the original must remain");
    assert_eq!(left.encrypted(), Some(false));
    assert!(replacements(&env.clients, &original).await.is_empty());
    assert!(
        snapshots_of(&env.clients, &original).await.is_empty(),
        "the plain snapshot must be deleted again"
    );
    let alerts = env.alerts(1).await;
    assert_eq!(attribute(&alerts[0], "status"), "failed");
}

const REGION: &str = "us-east-1";

#[tokio::test]
async fn attached_volume_is_reported_by_default() {
    let env = TestEnv::new("enc").await;
    let mut event = sample("network/run-instances-imdsv1.json");
    seed(&env.clients, &mut event).await.expect("seed");
    let outcomes = env.engine(&FUNCTION, env.config(Mode::Remediate)).handle(event).await;
    assert!(!outcomes.is_empty());
    for o in &outcomes {
        assert_eq!(o.status, Status::WouldRemediate, "{}", o.detail);
        assert!(
            o.detail.contains("attached to i-") && o.detail.contains("ATTACHED_VOLUME_ACTION=swap"),
            "{}",
            o.detail
        );
        let id = o.resource.as_deref().expect("volume");
        assert!(
            unencrypted(env.clients.clone(), id.to_string()).await,
            "{id} must be left as it was"
        );
    }
    let alerts = env.alerts(outcomes.len()).await;
    assert!(alerts.iter().all(|a| attribute(a, "status") == "would_remediate"));
}

/// Device name, encryption and delete-on-termination of each volume attached to the instance.
async fn attached(c: &Clients, instance: &str) -> Vec<(String, bool, bool)> {
    let filter = Filter::builder()
        .name("attachment.instance-id")
        .values(instance)
        .build();
    let out = c
        .ec2()
        .describe_volumes()
        .filters(filter)
        .send()
        .await
        .expect("volumes");
    let mut found: Vec<(String, bool, bool)> = out
        .volumes()
        .iter()
        .map(|v| {
            let a = &v.attachments()[0];
            (
                a.device().unwrap_or_default().to_string(),
                v.encrypted() == Some(true),
                a.delete_on_termination() == Some(true),
            )
        })
        .collect();
    found.sort();
    found
}

async fn instance_state(c: &Clients, instance: &str) -> String {
    let out = c
        .ec2()
        .describe_instances()
        .instance_ids(instance)
        .send()
        .await
        .expect("instance");
    out.reservations()[0].instances()[0]
        .state()
        .and_then(|s| s.name())
        .map(|n| n.as_str().to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn run_instances_with_three_volumes_swaps_the_two_unencrypted() {
    let env = TestEnv::new("enc").await;
    let ec2 = env.clients.ec2();
    let instance = run_instances(&env.clients, 1).await.expect("instance").remove(0);
    let zone = instance_zone(&env.clients, &instance).await.expect("zone");
    // The root volume (unencrypted), one encrypted data volume, one plain one.
    let encrypted = ec2
        .create_volume()
        .availability_zone(&zone)
        .size(4)
        .encrypted(true)
        .send()
        .await
        .expect("volume");
    let encrypted = encrypted.volume_id().expect("id").to_string();
    let plain = create_volume(&env.clients, Some(&zone), 4, "gp3", Vec::new())
        .await
        .expect("volume");
    for (volume, device) in [(&encrypted, "/dev/sdf"), (&plain, "/dev/sdg")] {
        ec2.attach_volume()
            .volume_id(volume)
            .instance_id(&instance)
            .device(device)
            .send()
            .await
            .expect("attach");
    }
    let before = attached(&env.clients, &instance).await;
    assert_eq!(before.len(), 3, "{before:?}");
    assert_eq!(before.iter().filter(|(_, enc, _)| !enc).count(), 2, "{before:?}");
    let root_delete_on_termination = before.iter().find(|(d, _, _)| d == "/dev/sda1").map(|v| v.2);

    let mut event = sample("network/run-instances-imdsv1.json");
    event["detail"]["responseElements"]["instancesSet"]["items"][0]["instanceId"] = instance.clone().into();
    let mut settings = Settings::defaults(FUNCTION.settings());
    settings.set("ATTACHED_VOLUME_ACTION", "swap");
    let engine = env
        .engine(&FUNCTION, env.config(Mode::Remediate))
        .with_settings(settings);
    let outcomes = engine.handle(event.clone()).await;
    assert_eq!(outcomes.len(), 3, "{outcomes:?}");
    let fixed: Vec<_> = outcomes.iter().filter(|o| o.status == Status::Remediated).collect();
    assert_eq!(fixed.len(), 2, "{outcomes:?}");
    assert!(outcomes
        .iter()
        .any(|o| o.status == Status::Compliant && o.resource.as_deref() == Some(encrypted.as_str())));
    for o in &fixed {
        assert!(o.detail.contains(&format!("stopped {instance}")), "{}", o.detail);
        assert!(o.detail.contains("started it again"), "{}", o.detail);
    }

    let after = attached(&env.clients, &instance).await;
    let devices = |v: &[(String, bool, bool)]| v.iter().map(|(d, _, _)| d.clone()).collect::<Vec<_>>();
    assert_eq!(devices(&after), devices(&before), "same devices");
    assert!(after.iter().all(|(_, enc, _)| *enc), "{after:?}");
    assert_eq!(
        after.iter().find(|(d, _, _)| d == "/dev/sda1").map(|v| v.2),
        root_delete_on_termination,
        "delete-on-termination kept"
    );
    assert!(describe_volume(&env.clients, &plain).await.is_none());
    assert_eq!(instance_state(&env.clients, &instance).await, "running");
    assert_eq!(env.alerts(2).await.len(), 2);

    let again = engine.handle(event).await;
    assert!(again.iter().all(|o| o.status == Status::Compliant), "{again:?}");
    env.no_more_alerts().await;
}

#[tokio::test]
async fn a_stopped_instance_stays_stopped_after_the_swap() {
    let env = TestEnv::new("enc").await;
    let instance = run_instances(&env.clients, 1).await.expect("instance").remove(0);
    env.clients
        .ec2()
        .stop_instances()
        .instance_ids(&instance)
        .send()
        .await
        .expect("stop");
    let mut event = sample("network/run-instances-imdsv1.json");
    event["detail"]["responseElements"]["instancesSet"]["items"][0]["instanceId"] = instance.clone().into();
    let mut settings = Settings::defaults(FUNCTION.settings());
    settings.set("ATTACHED_VOLUME_ACTION", "swap");
    let engine = env
        .engine(&FUNCTION, env.config(Mode::Remediate))
        .with_settings(settings);
    let outcomes = engine.handle(event).await;
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].status, Status::Remediated, "{}", outcomes[0].detail);
    assert!(outcomes[0].detail.contains("left it stopped"), "{}", outcomes[0].detail);
    assert_eq!(instance_state(&env.clients, &instance).await, "stopped");
    assert!(attached(&env.clients, &instance).await.iter().all(|(_, enc, _)| *enc));
}

/// EBS encryption by default is one switch per account and region, so its
/// whole life is one test.
#[tokio::test]
async fn ebs_encryption_by_default() {
    let env = TestEnv::new("enc").await;
    let on = |c: Arc<Clients>| async move {
        c.ec2()
            .get_ebs_encryption_by_default()
            .send()
            .await
            .expect("get")
            .ebs_encryption_by_default()
            == Some(true)
    };
    let mut event = sample("encryption/disable-ebs-encryption-by-default.json");
    seed(&env.clients, &mut event).await.expect("seed");
    assert!(!on(env.clients.clone()).await);

    let engine = env.engine(&FUNCTION, env.config(Mode::Remediate));
    let o = &engine.handle(event.clone()).await[0];
    assert_eq!(o.status, Status::Remediated, "{}", o.detail);
    assert!(on(env.clients.clone()).await);
    let alerts = env.alerts(1).await;
    assert_eq!(
        alerts[0].subject,
        // Too long with "HIPAA ": the subject keeps the id and drops the word.
        format!("[Safeguard] Remediated: AWS account \"{ACCOUNT}\" lost default EBS encryption (164.312(a)(2)(iv))")
    );
    assert_eq!(attribute(&alerts[0], "severity"), "high");
    assert_eq!(engine.handle(event.clone()).await[0].status, Status::Compliant);
    env.no_more_alerts().await;

    seed(&env.clients, &mut event).await.expect("seed");
    let dry = &env
        .engine(&FUNCTION, env.config(Mode::DryRun))
        .handle(event.clone())
        .await[0];
    assert_eq!(dry.status, Status::WouldRemediate);
    assert!(!on(env.clients.clone()).await, "dry-run must not change the account");

    let mut config = env.config(Mode::Remediate);
    config.exempt_resources.insert(ACCOUNT.into(), "sandbox account".into());
    let exempt = &env.engine(&FUNCTION, config).handle(event.clone()).await[0];
    assert_eq!(exempt.status, Status::Exempt);
    assert!(exempt.detail.contains("sandbox account"));
    assert!(!on(env.clients.clone()).await);
    assert_eq!(env.alerts(2).await.len(), 2);

    for variant in [failed_call(event.clone()), by_own_role(event.clone())] {
        assert_eq!(engine.handle(variant).await[0].status, Status::Ignored);
    }
    assert!(!on(env.clients.clone()).await);
    // Leave the account as the demo expects it.
    assert_eq!(engine.handle(event).await[0].status, Status::Remediated);
}

fn not_sse_kms(c: Arc<Clients>, bucket: String) -> Check {
    Box::pin(async move {
        match c.s3().get_bucket_encryption().bucket(bucket).send().await {
            Ok(out) => !out
                .server_side_encryption_configuration()
                .map(|c| c.rules())
                .unwrap_or_default()
                .iter()
                .any(|r| {
                    r.apply_server_side_encryption_by_default()
                        .is_some_and(|d| d.sse_algorithm().as_str() == "aws:kms")
                }),
            Err(_) => true,
        }
    })
}

#[tokio::test]
async fn bucket_default_encryption_when_sse_kms_is_required() {
    Lifecycle {
        function: &FUNCTION,
        file: "encryption/delete-bucket-encryption.json",
        control: "s3-default-encryption",
        severity: "high",
        violated: not_sse_kms,
        settings: &[("REQUIRE_SSE_KMS", "true")],
    }
    .run(tag_bucket)
    .await;
}

#[tokio::test]
async fn sse_s3_is_accepted_by_default_and_the_configured_key_is_used() {
    let env = TestEnv::new("enc").await;
    let bucket = unique("enc");
    let mut event = with_bucket(sample("encryption/delete-bucket-encryption.json"), &bucket);
    seed(&env.clients, &mut event).await.expect("seed");
    // No false alarm: S3 encrypts with SSE-S3 when a bucket has no configuration.
    let o = &env
        .engine(&FUNCTION, env.config(Mode::Remediate))
        .handle(event.clone())
        .await[0];
    assert_eq!(o.status, Status::Compliant, "{}", o.detail);
    assert!(not_sse_kms(env.clients.clone(), bucket.clone()).await);

    let key = env.clients.kms().create_key().send().await.expect("key");
    let key = key.key_metadata().expect("metadata").arn().expect("arn").to_string();
    let mut settings = Settings::defaults(FUNCTION.settings());
    settings.set("REQUIRE_SSE_KMS", "true");
    settings.set("KMS_KEY_ID", key.clone());
    let engine = env
        .engine(&FUNCTION, env.config(Mode::Remediate))
        .with_settings(settings);
    let o = &engine.handle(event.clone()).await[0];
    assert_eq!(o.status, Status::Remediated, "{}", o.detail);
    let out = env
        .clients
        .s3()
        .get_bucket_encryption()
        .bucket(&bucket)
        .send()
        .await
        .expect("encryption");
    let rule = out
        .server_side_encryption_configuration()
        .expect("configuration")
        .rules()[0]
        .clone();
    let default = rule.apply_server_side_encryption_by_default().expect("default");
    assert_eq!(default.sse_algorithm().as_str(), "aws:kms");
    assert_eq!(default.kms_master_key_id(), Some(key.as_str()));
    assert_eq!(engine.handle(event).await[0].status, Status::Compliant);
}

fn no_tls_deny(c: Arc<Clients>, bucket: String) -> Check {
    Box::pin(async move {
        let policy = match c.s3().get_bucket_policy().bucket(bucket).send().await {
            Ok(out) => out.policy().unwrap_or_default().to_string(),
            Err(_) => return true,
        };
        let doc: Value = serde_json::from_str(&policy).expect("policy JSON");
        !doc["Statement"].as_array().into_iter().flatten().any(|s| {
            s["Effect"] == "Deny" && s["Condition"]["Bool"]["aws:SecureTransport"] == "false" && s["Principal"] == "*"
        })
    })
}

#[tokio::test]
async fn tls_only_after_a_policy_is_put() {
    Lifecycle {
        function: &FUNCTION,
        file: "encryption/put-bucket-policy-no-tls.json",
        control: "s3-tls-only",
        severity: "high",
        violated: no_tls_deny,
        settings: &[],
    }
    .run(tag_bucket)
    .await;
}

#[tokio::test]
async fn tls_only_after_the_policy_is_deleted() {
    Lifecycle {
        function: &FUNCTION,
        file: "encryption/delete-bucket-policy.json",
        control: "s3-tls-only",
        severity: "high",
        violated: no_tls_deny,
        settings: &[],
    }
    .run(tag_bucket)
    .await;
}

fn statements(doc: &Value) -> Vec<Value> {
    match &doc["Statement"] {
        Value::Array(items) => items.clone(),
        Value::Null => Vec::new(),
        one => vec![one.clone()],
    }
}

/// Policies of every shape S3 accepts keep every statement, in meaning, through
/// the merge and a round trip through the emulator.
#[tokio::test]
async fn tls_merge_keeps_every_statement_of_odd_policies() {
    let env = TestEnv::new("enc").await;
    let bucket_policy = |b: &str, n: usize| {
        let arn = format!("arn:aws:s3:::{b}");
        let mut statements = vec![
            json!({"Sid": "StringPrincipal", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                   "Resource": format!("{arn}/public/*"), "Condition": {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]}}}),
            json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::210987654321:root"}, "Action": ["s3:GetObject", "s3:ListBucket"],
                   "Resource": [arn.clone(), format!("{arn}/*")]}),
            json!({"Sid": "ListPrincipal", "Effect": "Allow",
                   "Principal": {"AWS": ["arn:aws:iam::210987654321:role/lab-ingest", "arn:aws:iam::210987654321:role/ehr-export"]},
                   "Action": "s3:PutObject", "Resource": format!("{arn}/inbox/*"),
                   "Condition": {"StringEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}, "Null": {"aws:SourceVpce": "false"}}}),
            json!({"Sid": "Résumé données patients 患者", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:DeleteObject",
                   "Resource": format!("{arn}/archive/*"), "Condition": {"StringNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/records-officer"}}}),
        ];
        for i in 0..n {
            statements.push(json!({"Sid": format!("Partner{i}"), "Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{:012}:root", 100_000_000_000u64 + i as u64)},
                "Action": "s3:GetObject", "Resource": format!("{arn}/partners/{i}/*")}));
        }
        json!({"Version": "2012-10-17", "Id": "PHI-exchange", "Statement": statements})
    };
    for (n, pretty) in [(0, false), (100, true)] {
        let bucket = unique("tls");
        let policy = bucket_policy(&bucket, n);
        let text = if pretty {
            serde_json::to_string_pretty(&policy).expect("json")
        } else {
            policy.to_string()
        };
        if pretty {
            assert!(text.len() > 20_000, "a large policy: {} bytes", text.len());
        }
        safeguard_cli::seed::ensure_bucket(&env.clients, &bucket)
            .await
            .expect("bucket");
        env.clients
            .s3()
            .put_bucket_policy()
            .bucket(&bucket)
            .policy(text)
            .send()
            .await
            .expect("policy");
        let mut event = with_bucket(sample("encryption/put-bucket-policy-no-tls.json"), &bucket);
        event["detail"]["requestParameters"]["bucketPolicy"] = policy.clone();
        let outcomes = env.engine(&FUNCTION, env.config(Mode::Remediate)).handle(event).await;
        let o = outcomes
            .iter()
            .find(|o| o.control.as_deref() == Some("s3-tls-only"))
            .expect("outcome");
        assert_eq!(o.status, Status::Remediated, "{}", o.detail);
        let after = env
            .clients
            .s3()
            .get_bucket_policy()
            .bucket(&bucket)
            .send()
            .await
            .expect("policy");
        let after: Value = serde_json::from_str(after.policy().unwrap_or_default()).expect("policy JSON");
        let all = statements(&after);
        let (kept, added) = all.split_at(statements(&policy).len());
        assert_eq!(kept, &statements(&policy)[..], "every original statement, unchanged");
        assert_eq!(added.len(), 1);
        assert_eq!(after["Id"], "PHI-exchange");
        assert!(!no_tls_deny(env.clients.clone(), bucket).await);
    }
}

fn rotation_off(c: Arc<Clients>, key: String) -> Check {
    Box::pin(async move {
        !c.kms()
            .get_key_rotation_status()
            .key_id(key)
            .send()
            .await
            .expect("rotation")
            .key_rotation_enabled()
    })
}

#[tokio::test]
async fn key_rotation_disabled() {
    Lifecycle {
        function: &FUNCTION,
        file: "encryption/disable-key-rotation.json",
        control: "kms-key-rotation",
        severity: "medium",
        violated: rotation_off,
        settings: &[],
    }
    .run(tag_key)
    .await;
}

async fn key_state(c: &Clients, key: &str) -> String {
    let out = c.kms().describe_key().key_id(key).send().await.expect("key");
    out.key_metadata()
        .and_then(|m| m.key_state())
        .map(|s| s.as_str().to_string())
        .unwrap_or_default()
}

fn not_enabled(c: Arc<Clients>, key: String) -> Check {
    Box::pin(async move { key_state(&c, &key).await != "Enabled" })
}

#[tokio::test]
async fn key_scheduled_for_deletion() {
    Lifecycle {
        function: &FUNCTION,
        file: "encryption/schedule-key-deletion.json",
        control: "kms-key-pending-deletion",
        severity: "critical",
        violated: not_enabled,
        settings: &[],
    }
    .run(tag_key)
    .await;
}

#[tokio::test]
async fn disabled_key_is_reported_not_changed() {
    let env = TestEnv::new("enc").await;
    let mut event = sample("encryption/disable-key.json");
    seed(&env.clients, &mut event).await.expect("seed");
    let key = event["detail"]["requestParameters"]["keyId"]
        .as_str()
        .expect("key")
        .to_string();
    let engine = env.engine(&FUNCTION, env.config(Mode::Remediate));
    let o = &engine.handle(event.clone()).await[0];
    assert_eq!(o.status, Status::WouldRemediate, "{}", o.detail);
    assert!(o.detail.contains("notify-only"), "{}", o.detail);
    assert_eq!(key_state(&env.clients, &key).await, "Disabled");
    let alerts = env.alerts(1).await;
    assert_eq!(attribute(&alerts[0], "control"), "kms-key-disabled");
    assert_eq!(attribute(&alerts[0], "status"), "would_remediate");

    tag_key(
        env.clients.clone(),
        key.clone(),
        "safeguard:exempt",
        "retired 2019 archive key",
    )
    .await;
    let o = &engine.handle(event.clone()).await[0];
    assert_eq!(o.status, Status::Exempt, "{}", o.detail);
    assert!(o.detail.contains("retired 2019 archive key"));
    assert_eq!(attribute(&env.alerts(1).await[0], "status"), "exempt");

    let id = env.clients.kms().describe_key().key_id(&key).send().await.expect("key");
    let id = id.key_metadata().expect("metadata").key_id().to_string();
    env.clients.kms().enable_key().key_id(id).send().await.expect("enable");
    assert_eq!(engine.handle(event).await[0].status, Status::Compliant);
    env.no_more_alerts().await;
}
