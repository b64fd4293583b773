//! Shared set-up for the integration tests: every test gets its own alert
//! topic and inbox and its own resource names, so tests run in parallel
//! against one emulator without seeing each other.

pub mod faults;
pub mod mocked;
pub mod routing;

use aws_config::SdkConfig;
use safeguard::{Aws, Clients, Config, Engine, Mode, SnsNotifier};
use safeguard_cli::emulator::{create_topic, emulator_config, Inbox, Received};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use safeguard_cli::seed::seed;

pub struct TestEnv {
    pub sdk: SdkConfig,
    pub clients: Arc<Clients>,
    pub topic: String,
    pub inbox: Inbox,
}

impl TestEnv {
    /// Needs `AWS_ENDPOINT_URL`; `make test` starts the emulator and sets it.
    pub async fn new(name: &str) -> TestEnv {
        let sdk = match emulator_config().await {
            Ok(sdk) => sdk,
            Err(e) => panic!("{e}. Run the tests with `make test`, which starts the emulator."),
        };
        let clients = Aws::new(sdk.clone()).clients("");
        let unique = unique(name);
        let topic = create_topic(clients.sns(), &unique).await.expect("create topic");
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        let inbox = Inbox::subscribe(clients.sns(), &sqs, &topic, &unique)
            .await
            .expect("subscribe inbox");
        TestEnv {
            sdk,
            clients,
            topic,
            inbox,
        }
    }

    pub fn config(&self, mode: Mode) -> Config {
        Config {
            mode,
            topic_arn: Some(self.topic.clone()),
            ..Config::default()
        }
    }

    pub fn engine(&self, function: &'static safeguard::Function, config: Config) -> Engine<SnsNotifier> {
        let notifier = SnsNotifier::new(self.clients.sns().clone(), &self.topic);
        Engine::new(function, config, Aws::new(self.sdk.clone()), notifier)
    }

    /// Exactly the alerts that arrive within a few seconds, expecting `n`.
    pub async fn alerts(&self, n: usize) -> Vec<Received> {
        self.inbox.receive(n, Duration::from_secs(5)).await.expect("read inbox")
    }

    /// Asserts that nothing more arrives.
    pub async fn no_more_alerts(&self) {
        let extra = self
            .inbox
            .receive(1, Duration::from_millis(700))
            .await
            .expect("read inbox");
        assert!(
            extra.is_empty(),
            "unexpected alerts: {:?}",
            extra.iter().map(|a| &a.subject).collect::<Vec<_>>()
        );
    }
}

/// A name no other test uses: lowercase, valid for buckets, topics and queues.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    // Short, so alert subjects keep the whole name.
    format!("{prefix}{}-{n}{:05x}", std::process::id() % 1000, nanos % 0xfffff).to_lowercase()
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A sample event from `events/`.
pub fn sample(path: &str) -> Value {
    let file = repo_root().join("events").join(path);
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

/// The sample event, about another bucket.
pub fn with_bucket(mut event: Value, bucket: &str) -> Value {
    event["detail"]["requestParameters"]["bucketName"] = Value::String(bucket.to_string());
    event
}

/// The same call, failed.
pub fn failed_call(mut event: Value) -> Value {
    event["detail"]["errorCode"] = "AccessDenied".into();
    event["detail"]["errorMessage"] = "User is not authorized to perform this action".into();
    event
}

/// The same call, made by Safeguard's own role.
pub fn by_own_role(mut event: Value) -> Value {
    let own = sample("access-control/put-bucket-acl-own-role.json");
    event["detail"]["userIdentity"] = own["detail"]["userIdentity"].clone();
    event
}

pub fn attribute<'a>(alert: &'a Received, name: &str) -> &'a str {
    alert.attributes.get(name).map(String::as_str).unwrap_or_default()
}

pub type Check = std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send>>;
pub type Done = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;
/// Tags a resource (by id) with one key and value.
pub type Tagger = fn(Arc<Clients>, String, &'static str, &'static str) -> Done;

/// Request parameters naming resources that seeding creates under that name.
const NAMED_BY_THE_EVENT: [&str; 8] = [
    "bucketName",
    "logGroupName",
    "dBInstanceIdentifier",
    "dBSnapshotIdentifier",
    "dBClusterSnapshotIdentifier",
    "dBClusterIdentifier",
    "tableName",
    "backupVaultName",
];

/// How a lifecycle exempts its resource.
pub enum Exempt {
    /// With the exemption tag.
    Tag(Tagger),
    /// Through `EXEMPT_RESOURCES`, for resources without tags.
    Listed,
}

/// One control's whole life against the emulator, for controls whose
/// resources the seeding creates afresh each time (EC2 resources).
pub struct Lifecycle {
    pub function: &'static safeguard::Function,
    pub file: &'static str,
    pub control: &'static str,
    pub severity: &'static str,
    /// Is the resource (by id) in violation? Read with plain SDK calls.
    pub violated: fn(Arc<Clients>, String) -> Check,
    /// Settings of the function that differ from their defaults.
    pub settings: &'static [(&'static str, &'static str)],
}

impl Lifecycle {
    pub fn of(
        function: &'static safeguard::Function,
        file: &'static str,
        control: &'static str,
        severity: &'static str,
        violated: fn(Arc<Clients>, String) -> Check,
        settings: &'static [(&'static str, &'static str)],
    ) -> Lifecycle {
        Lifecycle {
            function,
            file,
            control,
            severity,
            violated,
            settings,
        }
    }

    /// The sample, seeded; a resource it names gets a name of its own.
    async fn seeded(&self, env: &TestEnv) -> Value {
        let mut event = sample(self.file);
        let trail = event["detail"]["eventSource"] == "cloudtrail.amazonaws.com";
        for key in NAMED_BY_THE_EVENT.iter().chain(trail.then_some(&"name")) {
            if event["detail"]["requestParameters"][key].is_string() {
                event["detail"]["requestParameters"][key] = unique("lc").into();
            }
        }
        if event["detail"]["eventSource"] == "iam.amazonaws.com" {
            for key in ["userName", "roleName", "groupName"] {
                if event["detail"]["requestParameters"][key].is_string() {
                    event["detail"]["requestParameters"][key] = unique("lc").into();
                }
            }
        }
        // Safeguard's rules are the ones named with its prefix.
        if event["detail"]["eventSource"] == "events.amazonaws.com" {
            event["detail"]["requestParameters"]["name"] = unique("safeguard-rule").into();
        }
        seed(&env.clients, &mut event).await.expect("seed");
        event
    }

    fn engine(&self, env: &TestEnv, mode: Mode) -> Engine<SnsNotifier> {
        self.engine_with(env, env.config(mode))
    }

    fn engine_with(&self, env: &TestEnv, config: Config) -> Engine<SnsNotifier> {
        let mut settings = safeguard::Settings::defaults(self.function.settings());
        for (key, value) in self.settings {
            settings.set(key, *value);
        }
        env.engine(self.function, config).with_settings(settings)
    }

    fn outcome(&self, outcomes: Vec<safeguard::Outcome>) -> safeguard::Outcome {
        outcomes
            .into_iter()
            .find(|o| o.control.as_deref() == Some(self.control))
            .unwrap_or_else(|| panic!("no outcome for {}", self.control))
    }

    async fn is_violated(&self, env: &TestEnv, id: &str) -> bool {
        (self.violated)(env.clients.clone(), id.to_string()).await
    }

    /// Fix, idempotent re-run, dry-run, exemption (tag), failed call, own role.
    pub async fn run(&self, tag: Tagger) {
        self.run_exempting(Exempt::Tag(tag)).await
    }

    /// Fix, idempotent re-run, dry-run, exemption, failed call, own role.
    pub async fn run_exempting(&self, exempt: Exempt) {
        use safeguard::Status;
        let env = TestEnv::new("lc").await;
        let engine = self.engine(&env, Mode::Remediate);

        let event = self.seeded(&env).await;
        let o = self.outcome(engine.handle(event.clone()).await);
        let id = o.resource.clone().expect("resource id");
        assert_eq!(o.status, Status::Remediated, "{}: {}", self.file, o.detail);
        assert!(!self.is_violated(&env, &id).await, "{id} should be fixed");
        let alerts = env.alerts(1).await;
        let alert = alerts
            .iter()
            .find(|a| attribute(a, "control") == self.control)
            .expect("alert for the control");
        assert!(
            alert.subject.starts_with("[Safeguard] Remediated: "),
            "{}",
            alert.subject
        );
        assert!(alert.subject.contains(&id[..8.min(id.len())]), "{}", alert.subject);
        assert!(alert.subject.len() <= 100);
        assert_eq!(attribute(alert, "status"), "remediated");
        assert_eq!(attribute(alert, "severity"), self.severity);
        assert_eq!(attribute(alert, "safeguard"), self.function.name);
        assert_eq!(alert.message["resource"], id.as_str());
        assert!(alert.message["state_after"].is_string());

        let again = self.outcome(engine.handle(event.clone()).await);
        assert_eq!(again.status, Status::Compliant, "{}", again.detail);
        env.no_more_alerts().await;

        let event = self.seeded(&env).await;
        let dry = self.outcome(self.engine(&env, Mode::DryRun).handle(event.clone()).await);
        let id = dry.resource.clone().expect("resource id");
        assert_eq!(dry.status, Status::WouldRemediate, "{}", dry.detail);
        assert!(self.is_violated(&env, &id).await, "dry-run must not change {id}");
        let alerts = env.alerts(1).await;
        assert!(alerts.iter().any(|a| attribute(a, "status") == "would_remediate"));

        let engine = match exempt {
            Exempt::Tag(tag) => {
                tag(
                    env.clients.clone(),
                    id.clone(),
                    "safeguard:exempt",
                    "load test until Friday, CHG-77",
                )
                .await;
                engine
            }
            Exempt::Listed => {
                let mut config = env.config(Mode::Remediate);
                config
                    .exempt_resources
                    .insert(id.clone(), "load test until Friday, CHG-77".into());
                self.engine_with(&env, config)
            }
        };
        let exempt = self.outcome(engine.handle(event.clone()).await);
        assert_eq!(exempt.status, Status::Exempt, "{}", exempt.detail);
        assert!(exempt.detail.contains("CHG-77"));
        assert!(self.is_violated(&env, &id).await, "an exempt resource must not change");
        let alerts = env.alerts(1).await;
        assert!(alerts.iter().any(|a| attribute(a, "status") == "exempt"));

        for variant in [failed_call(event.clone()), by_own_role(event.clone())] {
            for o in engine.handle(variant).await {
                assert_eq!(o.status, Status::Ignored, "{}", o.detail);
            }
        }
        assert!(self.is_violated(&env, &id).await);
        env.no_more_alerts().await;
    }
}

/// An SDK interceptor that records the inputs of one operation (by its input
/// type) and, when failing, stops each of them before it is sent, as an
/// outage of that one API or a revoked permission would.
#[derive(Debug)]
pub struct Calls<T> {
    seen: Arc<std::sync::Mutex<Vec<T>>>,
    fail: bool,
}

impl<T> Clone for Calls<T> {
    fn clone(&self) -> Self {
        Calls {
            seen: self.seen.clone(),
            fail: self.fail,
        }
    }
}

impl<T: Clone + Send + Sync + std::fmt::Debug + 'static> Calls<T> {
    pub fn recording() -> Self {
        Calls {
            seen: Arc::default(),
            fail: false,
        }
    }

    pub fn failing() -> Self {
        Calls {
            seen: Arc::default(),
            fail: true,
        }
    }

    pub fn seen(&self) -> Vec<T> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl<T: Clone + Send + Sync + std::fmt::Debug + 'static> aws_smithy_runtime_api::client::interceptors::Intercept
    for Calls<T>
{
    fn name(&self) -> &'static str {
        "Calls"
    }

    fn read_before_execution(
        &self,
        context: &aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        let Some(input) = context.input().downcast_ref::<T>() else {
            return Ok(());
        };
        if let Ok(mut seen) = self.seen.lock() {
            seen.push(input.clone());
        }
        if self.fail {
            return Err(format!("injected fault: {} is unavailable", std::any::type_name::<T>()).into());
        }
        Ok(())
    }
}

/// The account the emulator's test credentials act in.
pub const ACCOUNT: &str = "123456789012";

pub fn tag_ec2(c: Arc<Clients>, id: String, key: &'static str, value: &'static str) -> Done {
    Box::pin(async move {
        let tag = aws_sdk_ec2::types::Tag::builder().key(key).value(value).build();
        c.ec2().create_tags().resources(id).tags(tag).send().await.expect("tag");
    })
}

/// Adds a tag to a bucket, keeping its others.
pub fn tag_bucket(c: Arc<Clients>, bucket: String, key: &'static str, value: &'static str) -> Done {
    Box::pin(async move {
        let mut tags = c
            .s3()
            .get_bucket_tagging()
            .bucket(&bucket)
            .send()
            .await
            .map(|t| t.tag_set().to_vec())
            .unwrap_or_default();
        tags.push(
            aws_sdk_s3::types::Tag::builder()
                .key(key)
                .value(value)
                .build()
                .expect("tag"),
        );
        let tagging = aws_sdk_s3::types::Tagging::builder()
            .set_tag_set(Some(tags))
            .build()
            .expect("tagging");
        c.s3()
            .put_bucket_tagging()
            .bucket(bucket)
            .tagging(tagging)
            .send()
            .await
            .expect("tag");
    })
}

pub async fn tag_rds_arn(c: &Clients, arn: String, key: &str, value: &str) {
    let tag = aws_sdk_rds::types::Tag::builder().key(key).value(value).build();
    c.rds()
        .add_tags_to_resource()
        .resource_name(arn)
        .tags(tag)
        .send()
        .await
        .expect("tag");
}

fn tag_rds(c: Arc<Clients>, kind: &'static str, id: String, key: &'static str, value: &'static str) -> Done {
    Box::pin(async move { tag_rds_arn(&c, format!("arn:aws:rds:us-east-1:{ACCOUNT}:{kind}:{id}"), key, value).await })
}

pub fn tag_db(c: Arc<Clients>, id: String, key: &'static str, value: &'static str) -> Done {
    tag_rds(c, "db", id, key, value)
}

pub fn tag_db_cluster(c: Arc<Clients>, id: String, key: &'static str, value: &'static str) -> Done {
    tag_rds(c, "cluster", id, key, value)
}

pub fn tag_db_snapshot(c: Arc<Clients>, id: String, key: &'static str, value: &'static str) -> Done {
    tag_rds(c, "snapshot", id, key, value)
}

pub fn tag_cluster_snapshot(c: Arc<Clients>, id: String, key: &'static str, value: &'static str) -> Done {
    tag_rds(c, "cluster-snapshot", id, key, value)
}

/// One grant of a policy: an action, the resources it is allowed on, and the
/// statement's condition (JSON text, empty when there is none).
pub type Grants = std::collections::BTreeMap<String, (std::collections::BTreeSet<String>, String)>;

/// What a policy document grants, action by action. A resource written as
/// `{"Fn::Sub": "..."}` (an undeployed template) stands as its pattern.
pub fn grants(doc: &Value) -> Grants {
    let mut out = Grants::new();
    for statement in safeguard::policy::statements(doc) {
        let resources: Vec<String> = safeguard::policy::as_list(statement.get("Resource"))
            .iter()
            .map(|r| match r {
                Value::String(s) => s.clone(),
                other => other["Fn::Sub"].as_str().unwrap_or_default().to_string(),
            })
            .collect();
        let condition = statement.get("Condition").map(Value::to_string).unwrap_or_default();
        for action in safeguard::policy::as_list(statement.get("Action")) {
            let entry = out
                .entry(action.as_str().unwrap_or_default().to_string())
                .or_insert_with(|| (Default::default(), condition.clone()));
            entry.0.extend(resources.iter().cloned());
        }
    }
    out
}

/// What the declarations grant: each action on its scope (`safeguard::iam`),
/// with the template's variables replaced by `vars` (none: left as written).
pub fn declared_grants<'a>(actions: impl IntoIterator<Item = &'a str>, vars: &[(&str, &str)]) -> Grants {
    actions
        .into_iter()
        .map(|action| {
            let scope = safeguard::iam::scope_of(action).unwrap_or_else(|| panic!("{action} has no scope"));
            let resources = scope
                .resources
                .iter()
                .map(|r| safeguard::iam::expand(r, vars))
                .collect();
            let condition = scope
                .condition
                .map(|(op, key, value)| serde_json::json!({ op: { key: value } }).to_string())
                .unwrap_or_default();
            (action.to_string(), (resources, condition))
        })
        .collect()
}
