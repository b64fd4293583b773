//! `make soak`: a burst of SOAK_EVENTS (10,000) events through warm handlers
//! with bounded concurrency, ~5% of AWS calls failing (throttling, 500/503,
//! resets, slow answers). Mixed controls, duplicates, Safeguard's own calls
//! and failed calls. Lambda's retries are played: a retryable invocation is
//! invoked again, up to three attempts. Then every fix's own CloudTrail
//! event is fed back in.
//!
//! A ledger (target/soak/ledger.jsonl) records every delivery's final
//! outcome. Exits non-zero when one is lost, a resource is fixed twice, or
//! a fix's own event is not ignored.

use safeguard::{Aws, Config, Mode, Outcome, SnsNotifier, Status};
use safeguard_cli::router::Router;
use safeguard_tests::faults::{Fault, FaultProxy, Schedule};
use safeguard_tests::*;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One delivery of an event: what it is about, so duplicates of one
/// resource go to the same warm handler in order (as a FIFO group would).
struct Delivery {
    index: usize,
    kind: &'static str,
    resource: String,
    event: Value,
}

/// Deterministic pseudo-random numbers (xorshift), so a run can be repeated.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn fault_schedule(seed: u64, percent: u64) -> Schedule {
    let mut rng = Rng(seed);
    let kinds = [
        Fault::Throttle,
        Fault::ServerError,
        Fault::Unavailable,
        Fault::Reset,
        Fault::Slow(Duration::from_millis(150)),
    ];
    Box::new(move |_, _| {
        let roll = rng.next();
        (roll % 100 < percent).then(|| kinds[((roll / 100) % kinds.len() as u64) as usize])
    })
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn build_deliveries(env: &TestEnv, total: usize) -> Vec<Delivery> {
    // Of every 20 deliveries: 8 bucket ACLs (4 buckets, each twice), 4
    // security groups (2, twice), 2 KMS keys (1, twice), 3 by Safeguard's own
    // role, 3 failed calls.
    let rounds = total.div_ceil(20);
    let mut originals: Vec<(&'static str, String, Value)> = Vec::new();
    let started = Instant::now();
    for round in 0..rounds {
        for i in 0..4 {
            let mut e = with_bucket(
                sample("access-control/put-bucket-acl-all-users.json"),
                &unique(&format!("soak{round}x{i}")),
            );
            seed(&env.clients, &mut e).await.expect("seed bucket");
            let id = e["detail"]["requestParameters"]["bucketName"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            originals.push(("bucket-acl", id, e));
        }
        for _ in 0..2 {
            let mut e = sample("network/authorize-sg-ingress-ssh-world.json");
            seed(&env.clients, &mut e).await.expect("seed security group");
            let id = e["detail"]["requestParameters"]["groupId"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            originals.push(("security-group", id, e));
        }
        let mut e = sample("encryption/disable-key-rotation.json");
        seed(&env.clients, &mut e).await.expect("seed key");
        let id = e["detail"]["requestParameters"]["keyId"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        originals.push(("kms-rotation", id, e));
        if round % 50 == 49 {
            eprintln!(
                "soak: seeded {} resources in {:.0?}",
                originals.len(),
                started.elapsed()
            );
        }
    }
    let mut deliveries = Vec::new();
    let mut push = |kind: &'static str, resource: String, event: Value| {
        deliveries.push(Delivery {
            index: 0,
            kind,
            resource,
            event,
        })
    };
    for (kind, id, e) in &originals {
        push(kind, id.clone(), e.clone());
    }
    // EventBridge delivers at least once: every resource's event again, later.
    for (kind, id, e) in &originals {
        push(kind, id.clone(), e.clone());
    }
    let mut n = 0;
    while deliveries.len() < total {
        let (_, id, e) = &originals[n % originals.len()];
        let mut e = e.clone();
        e["id"] = json!(format!("soak-extra-{n}"));
        e["detail"]["eventID"] = json!(format!("soak-extra-{n}"));
        if n % 2 == 0 {
            deliveries.push(Delivery {
                index: 0,
                kind: "own-role",
                resource: id.clone(),
                event: by_own_role(e),
            });
        } else {
            deliveries.push(Delivery {
                index: 0,
                kind: "failed-call",
                resource: id.clone(),
                event: failed_call(e),
            });
        }
        n += 1;
    }
    deliveries.truncate(total);
    for (i, d) in deliveries.iter_mut().enumerate() {
        d.index = i;
    }
    deliveries
}

/// Lambda's asynchronous invocation: up to three attempts while the
/// outcome is retryable; the last attempt's outcomes are final.
async fn invoke(router: &Router<SnsNotifier>, event: &Value) -> (Vec<Outcome>, usize) {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let outcomes = router.route(event.clone()).await;
        if attempts == 3 || !outcomes.iter().any(|o| o.retryable) {
            return (outcomes, attempts);
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let total = env_number("SOAK_EVENTS", 10_000);
    let workers = env_number("SOAK_CONCURRENCY", 8);
    let fault_percent = env_number("SOAK_FAULT_PERCENT", 5) as u64;
    let env = TestEnv::new("soak").await;
    let upstream = match std::env::var("AWS_ENDPOINT_URL") {
        Ok(url) => url,
        Err(_) => {
            eprintln!("soak: AWS_ENDPOINT_URL is not set; run it with `make soak`");
            return ExitCode::FAILURE;
        }
    };
    eprintln!("soak: seeding the emulator for {total} deliveries");
    let deliveries = build_deliveries(&env, total).await;
    let proxy = Arc::new(FaultProxy::start(&upstream, fault_schedule(0x5afe_9a4d, fault_percent)).await);
    let sdk = env.sdk.to_builder().endpoint_url(&proxy.url).build();
    let config = Config {
        mode: Mode::Remediate,
        topic_arn: Some(env.topic.clone()),
        ..Config::default()
    };

    // Shard by resource: one warm handler per shard, events in order.
    let mut shards: Vec<Vec<Delivery>> = (0..workers).map(|_| Vec::new()).collect();
    for d in deliveries {
        let shard = d
            .resource
            .bytes()
            .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize))
            % workers;
        shards[shard].push(d);
    }
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for shard in shards {
        let aws_sdk = sdk.clone();
        let notifier = SnsNotifier::new(Aws::new(aws_sdk.clone()).clients("").sns().clone(), &env.topic);
        let router = match Router::new(config.clone(), || Aws::new(aws_sdk.clone()), notifier) {
            Ok(router) => router,
            Err(e) => {
                eprintln!("soak: {e}");
                return ExitCode::FAILURE;
            }
        };
        tasks.spawn(async move {
            let mut rows = Vec::with_capacity(shard.len());
            for d in shard {
                let (outcomes, attempts) = invoke(&router, &d.event).await;
                rows.push((d, outcomes, attempts));
            }
            (rows, router)
        });
    }
    let mut rows = Vec::new();
    let mut routers = Vec::new();
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok((r, router)) => {
                rows.extend(r);
                routers.push(router);
            }
            Err(e) => {
                eprintln!("soak: a handler task died: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let burst = started.elapsed();
    rows.sort_by_key(|(d, _, _)| d.index);

    // The ledger and its checks.
    let mut problems = Vec::new();
    let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
    let mut fixes: HashMap<String, usize> = HashMap::new();
    let mut retried = 0;
    let out = repo_root().join("target/soak");
    let _ = std::fs::create_dir_all(&out);
    let mut ledger = String::new();
    for (d, outcomes, attempts) in &rows {
        if outcomes.is_empty() {
            problems.push(format!("delivery {} ({}) has no outcome", d.index, d.kind));
        }
        if *attempts > 1 {
            retried += 1;
        }
        // The delivery's status: the most severe of its outcomes.
        let status = outcomes
            .iter()
            .map(|o| o.status)
            .max_by_key(|s| match s {
                Status::Failed => 5,
                Status::Remediated => 4,
                Status::WouldRemediate => 3,
                Status::Exempt => 2,
                Status::Compliant => 1,
                Status::Ignored => 0,
            })
            .map(|s| s.as_str().to_string())
            .unwrap_or_else(|| "lost".into());
        *by_status.entry(status.clone()).or_default() += 1;
        for o in outcomes.iter().filter(|o| o.status == Status::Remediated) {
            *fixes
                .entry(format!("{}:{}", o.control.as_deref().unwrap_or("-"), d.resource))
                .or_default() += 1;
        }
        match d.kind {
            "own-role" | "failed-call" if status != "ignored" => {
                problems.push(format!("delivery {} ({}) ended {status}", d.index, d.kind))
            }
            _ => {}
        }
        let details: Vec<&str> = outcomes.iter().map(|o| o.detail.as_str()).collect();
        ledger.push_str(
            &json!({"delivery": d.index, "kind": d.kind, "resource": d.resource, "status": status,
                    "attempts": attempts, "details": details})
            .to_string(),
        );
        ledger.push('\n');
    }
    for (key, n) in &fixes {
        if *n > 1 {
            problems.push(format!("{key} was fixed {n} times"));
        }
    }
    let accounted: usize = by_status.values().sum();
    if accounted != total || rows.len() != total {
        problems.push(format!("{accounted} outcomes for {total} deliveries"));
    }

    // No remediation loop: each fix's own CloudTrail event, as EventBridge
    // would deliver it, is ignored, by the rule and by the handler.
    let mut fed_back = 0;
    if let Some(router) = routers.first() {
        for (d, outcomes, _) in &rows {
            if !outcomes.iter().any(|o| o.status == Status::Remediated) {
                continue;
            }
            let echo = by_own_role(d.event.clone());
            fed_back += 1;
            for o in router.route(echo.clone()).await {
                if o.status != Status::Ignored {
                    problems.push(format!(
                        "the fix of {} came back as {:?}: {}",
                        d.resource, o.status, o.detail
                    ));
                }
            }
            for engine in router.engines() {
                for o in engine.handle(echo.clone()).await {
                    if o.status != Status::Ignored {
                        problems.push(format!(
                            "{} handled our own fix of {}: {:?}",
                            engine.function().name,
                            d.resource,
                            o.status
                        ));
                    }
                }
            }
        }
    }
    let _ = std::fs::write(out.join("ledger.jsonl"), ledger);

    let summary = json!({
        "deliveries": total,
        "outcomes_by_status": by_status,
        "resources_fixed": fixes.len(),
        "deliveries_retried_by_lambda": retried,
        "requests": proxy.requests(),
        "faults_injected": proxy.injected().len(),
        "fixes_fed_back": fed_back,
        "burst_seconds": burst.as_secs_f64(),
        "concurrency": workers,
        "problems": problems.len(),
    });
    let _ = std::fs::write(out.join("summary.json"), format!("{summary:#}"));
    println!("{summary:#}");
    if problems.is_empty() {
        println!("soak: every delivery accounted for; no double fix; no loop");
        ExitCode::SUCCESS
    } else {
        for p in problems.iter().take(50) {
            eprintln!("soak: {p}");
        }
        eprintln!(
            "soak: {} problem(s); ledger in target/soak/ledger.jsonl",
            problems.len()
        );
        ExitCode::FAILURE
    }
}
