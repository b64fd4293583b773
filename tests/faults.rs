//! Fault injection: the SDK clients talk to the emulator through a proxy that
//! throttles, fails with 500 / 503, resets connections and slows answers.
//! With faults a real service shows now and then, every event still ends
//! fixed; with a fault that persists, the invocation fails as retryable (so
//! Lambda retries and, when retries run out, sends the event to the
//! on-failure queue) and the outcome says why; nothing half-done is
//! reported as done.

use safeguard::{lambda, Aws, Engine, Mode, SnsNotifier, Status};
use safeguard_cli::functions;
use safeguard_tests::faults::{Fault, FaultProxy, Schedule};
use safeguard_tests::*;
use serde_json::Value;
use std::time::Duration;

const SAMPLES: &[&str] = &[
    "access-control/put-bucket-acl-all-users.json",
    "network/authorize-sg-ingress-ssh-world.json",
    "encryption/disable-key-rotation.json",
    "audit-logging/stop-logging.json",
];

/// An engine for the function the event routes to, whose every call
/// (alerts included) goes through `endpoint`.
fn engine_via(env: &TestEnv, event: &Value, endpoint: &str) -> Engine<SnsNotifier> {
    let parsed = safeguard::TrailEvent::parse(event.clone()).expect("sample parses");
    let function = functions()
        .into_iter()
        .find(|f| !f.routes(parsed.event_source(), parsed.event_name()).is_empty())
        .expect("a function handles the sample");
    let sdk = env.sdk.to_builder().endpoint_url(endpoint).build();
    let aws = Aws::new(sdk);
    let notifier = SnsNotifier::new(aws.clients("").sns().clone(), &env.topic);
    Engine::new(function, env.config(Mode::Remediate), aws, notifier)
}

fn emulator_url() -> String {
    std::env::var("AWS_ENDPOINT_URL").expect("make test sets AWS_ENDPOINT_URL")
}

/// Re-checked without faults, the resource is compliant: the fix is real.
async fn assert_fixed(env: &TestEnv, event: &Value, sample: &str) {
    let engine = engine_via(env, event, &emulator_url());
    for o in engine.handle(event.clone()).await {
        assert_eq!(o.status, Status::Compliant, "{sample}: re-check says {}", o.detail);
    }
}

#[tokio::test]
async fn occasional_faults_are_retried_and_every_event_is_fixed() {
    let env = TestEnv::new("faults").await;
    // Every third request fails, cycling through every kind of fault; the
    // retry that follows gets through, as it would against a real service.
    let kinds = [
        Fault::Throttle,
        Fault::ServerError,
        Fault::Unavailable,
        Fault::Reset,
        Fault::Slow(Duration::from_millis(300)),
    ];
    let schedule: Schedule = Box::new(move |n, _| (n % 3 == 1).then(|| kinds[(n / 3) % kinds.len()]));
    let proxy = FaultProxy::start(&emulator_url(), schedule).await;
    for sample_path in SAMPLES {
        let mut event = sample(sample_path);
        if sample_path.contains("bucket") {
            event = with_bucket(event, &unique("faults"));
        }
        seed(&env.clients, &mut event).await.expect("seed");
        let engine = engine_via(&env, &event, &proxy.url);
        let response = lambda::respond(&engine, event.clone()).await;
        let outcomes: Value = response.unwrap_or_else(|e| panic!("{sample_path}: {e}"));
        let outcomes = outcomes.as_array().cloned().unwrap_or_default();
        // The control the sample is about fixes it; any other it triggers finds nothing wrong.
        assert!(
            outcomes.iter().any(|o| o["status"] == "remediated")
                && outcomes
                    .iter()
                    .all(|o| o["status"] == "remediated" || o["status"] == "compliant"),
            "{sample_path}: {outcomes:?}"
        );
        assert!(
            outcomes
                .iter()
                .filter(|o| o["status"] == "remediated")
                .all(|o| o["notified"] == true),
            "{sample_path}: the alert must get through too: {outcomes:?}"
        );
        assert_fixed(&env, &event, sample_path).await;
    }
    let injected = proxy.injected();
    for kind in kinds {
        assert!(
            injected.iter().any(|(_, f)| *f == kind),
            "{kind:?} was never injected ({} faults in {} requests)",
            injected.len(),
            proxy.requests()
        );
    }
}

#[tokio::test]
async fn a_persistent_fault_fails_as_retryable_and_nothing_is_reported_done() {
    let env = TestEnv::new("faults").await;
    let mut event = with_bucket(
        sample("access-control/put-bucket-acl-all-users.json"),
        &unique("faults"),
    );
    seed(&env.clients, &mut event).await.expect("seed");
    // The fix call (PUT /<bucket>?acl) always throttled; reads go through.
    let schedule: Schedule = Box::new(|_, head| {
        let line = head.lines().next().unwrap_or_default();
        (line.starts_with("PUT ") && line.contains("?acl")).then_some(Fault::Throttle)
    });
    let proxy = FaultProxy::start(&emulator_url(), schedule).await;
    let engine = engine_via(&env, &event, &proxy.url);

    // Lambda invokes an asynchronous event up to three times.
    for attempt in 1..=3 {
        let err = lambda::respond(&engine, event.clone())
            .await
            .expect_err("a transient failure must fail the invocation so Lambda retries");
        assert!(err.to_string().contains("SlowDown"), "attempt {attempt}: {err}");
    }
    let outcomes = engine.handle(event.clone()).await;
    assert_eq!(outcomes.len(), 1);
    let o = &outcomes[0];
    assert_eq!(o.status, Status::Failed, "{}", o.detail);
    assert!(o.retryable);
    assert!(o.detail.contains("s3:PutBucketAcl"), "{}", o.detail);
    assert!(o.detail.contains("Lambda will retry"), "{}", o.detail);
    assert!(o.notified, "ops hear about the failure");
    // Each SDK call retried the fix before giving up: several attempts per invocation.
    assert!(proxy.injected().len() >= 4 * 2, "{} faults", proxy.injected().len());

    // The bucket is still public: the failure is not dressed up as a fix.
    // Once the fault clears, the same event fixes it.
    let after = engine_via(&env, &event, &emulator_url()).handle(event.clone()).await;
    assert_eq!(after[0].status, Status::Remediated, "{}", after[0].detail);
}

#[tokio::test]
async fn an_unreachable_service_fails_with_the_reason() {
    let env = TestEnv::new("faults").await;
    let mut event = sample("network/authorize-sg-ingress-ssh-world.json");
    seed(&env.clients, &mut event).await.expect("seed");
    // Every EC2 call is reset (its signature's scope names the service); the alert (SNS) gets through.
    let schedule: Schedule = Box::new(|_, head| head.contains("/ec2/aws4_request").then_some(Fault::Reset));
    let proxy = FaultProxy::start(&emulator_url(), schedule).await;
    let engine = engine_via(&env, &event, &proxy.url);
    let outcomes = engine.handle(event.clone()).await;
    let o = &outcomes[0];
    assert_eq!(o.status, Status::Failed, "{}", o.detail);
    assert!(o.retryable, "a connection failure is transient: {}", o.detail);
    assert!(o.detail.contains("ec2:"), "the reason names the call: {}", o.detail);
    assert!(o.notified, "ops hear about the failure");
    assert!(!proxy.injected().is_empty());
}
