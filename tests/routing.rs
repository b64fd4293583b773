//! The derived EventBridge rules, created in the emulator's EventBridge with
//! an SQS target: every sample event lands on exactly the rules it should,
//! failed calls and Safeguard's own calls land nowhere, and the replay
//! router (`safeguard::pattern`) takes the same decision as EventBridge.

use aws_sdk_eventbridge::types::{PutEventsRequestEntry, Target};
use safeguard::config::DEFAULT_ROLE_PREFIX;
use safeguard_cli::emulator::create_queue;
use safeguard_cli::functions;
use safeguard_tests::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// CloudTrail eventIDs of the events delivered to the queue.
async fn delivered(sqs: &aws_sdk_sqs::Client, url: &str, expected: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut ids = Vec::new();
    while Instant::now() < deadline {
        let out = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .send()
            .await
            .expect("receive");
        for m in out.messages() {
            let event: Value = serde_json::from_str(m.body().unwrap_or_default()).expect("event JSON");
            ids.push(event["detail"]["eventID"].as_str().unwrap_or_default().to_string());
        }
        if out.messages().is_empty() {
            if ids.len() >= expected {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    ids.sort();
    ids
}

fn samples() -> Vec<(String, Value)> {
    let root = repo_root().join("events");
    safeguard_cli::router::event_files(&root)
        .expect("events")
        .into_iter()
        .map(|f| {
            let name = f.strip_prefix(&root).expect("prefix").display().to_string();
            (name.clone(), sample(&name))
        })
        .collect()
}

#[tokio::test]
async fn every_sample_lands_on_exactly_the_right_rule() {
    let env = TestEnv::new("routing").await;
    let events = aws_sdk_eventbridge::Client::new(&env.sdk);
    let sqs = aws_sdk_sqs::Client::new(&env.sdk);
    let run = unique("rt");

    // One queue per function, targeted by each of its derived rules.
    let mut queues = BTreeMap::new();
    for f in functions() {
        let (url, arn) = create_queue(&sqs, &format!("{run}-{}", f.name)).await.expect("queue");
        for (i, pattern) in f.patterns(DEFAULT_ROLE_PREFIX).iter().enumerate() {
            let rule = format!("{run}-{}-{i}", f.name);
            events
                .put_rule()
                .name(&rule)
                .event_pattern(pattern.to_string())
                .send()
                .await
                .expect("put_rule");
            let target = Target::builder().id("queue").arn(&arn).build().expect("target");
            events
                .put_targets()
                .rule(&rule)
                .targets(target)
                .send()
                .await
                .expect("put_targets");
        }
        queues.insert(f.name, url);
    }

    // A call no safeguard handles, to prove the rules do not over-match.
    let mut unrelated = sample("access-control/put-bucket-acl-all-users.json");
    unrelated["detail"]["eventName"] = "GetBucketAcl".into();
    unrelated["detail"]["eventID"] = "unrelated-get-bucket-acl".into();
    let mut all = samples();
    all.push(("(GetBucketAcl)".into(), unrelated));

    let mut expected: BTreeMap<&str, Vec<String>> = queues.keys().map(|k| (*k, Vec::new())).collect();
    for (name, event) in &all {
        let id = event["detail"]["eventID"].as_str().expect("eventID").to_string();
        let entry = PutEventsRequestEntry::builder()
            .source(event["source"].as_str().expect("source"))
            .detail_type(event["detail-type"].as_str().expect("detail-type"))
            .detail(event["detail"].to_string())
            .build();
        let out = events.put_events().entries(entry).send().await.expect("put_events");
        assert_eq!(out.failed_entry_count(), 0, "{name}");
        let should_land =
            !(name.ends_with("-failed.json") || name.ends_with("-own-role.json") || name.starts_with('('));
        for f in functions() {
            let handles = !f
                .routes(
                    event["detail"]["eventSource"].as_str().unwrap_or_default(),
                    event["detail"]["eventName"].as_str().unwrap_or_default(),
                )
                .is_empty();
            let lands = should_land && handles;
            if lands {
                expected.get_mut(f.name).expect("queue").push(id.clone());
            }
            // The replay router must agree with EventBridge.
            let local = f
                .patterns(DEFAULT_ROLE_PREFIX)
                .iter()
                .any(|p| safeguard::pattern::matches(p, event));
            assert_eq!(
                local, lands,
                "{name}: replay routing and the deployed rule disagree for {}",
                f.name
            );
        }
    }

    for (function, url) in &queues {
        let mut want = expected[function].clone();
        want.sort();
        assert!(!want.is_empty(), "no sample event targets {function}");
        let got = delivered(&sqs, url, want.len()).await;
        assert_eq!(got, want, "events delivered to {function}'s rules");
    }
}
