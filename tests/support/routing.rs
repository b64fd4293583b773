//! Routing through EventBridge rules in the emulator: every sample event,
//! put on the bus, must land on exactly the rules of the functions whose
//! declarations handle it, and the replay router must take the same
//! decision. Failed calls and Safeguard's own calls land nowhere.

use crate::{repo_root, sample};
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use safeguard_cli::functions;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// CloudTrail eventIDs of the events delivered to the queue.
pub async fn delivered(sqs: &aws_sdk_sqs::Client, url: &str, expected: usize) -> Vec<String> {
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

/// Every sample event, by its path under `events/`.
pub fn samples() -> Vec<(String, Value)> {
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

/// Puts every sample event (and one call no safeguard handles) on the bus
/// and asserts where each lands. `queues` holds, per function, the queue its
/// rules target; the rules exclude roles starting with `role_prefix`.
pub async fn assert_routing(
    events: &aws_sdk_eventbridge::Client,
    sqs: &aws_sdk_sqs::Client,
    queues: &BTreeMap<&'static str, String>,
    role_prefix: &str,
) {
    let mut unrelated = sample("access-control/put-bucket-acl-all-users.json");
    unrelated["detail"]["eventName"] = "GetBucketAcl".into();
    unrelated["detail"]["eventID"] = "unrelated-get-bucket-acl".into();
    let mut all = samples();
    all.push(("(GetBucketAcl)".into(), unrelated));

    let mut expected: BTreeMap<&str, Vec<String>> = queues.keys().map(|k| (*k, Vec::new())).collect();
    for (name, event) in &mut all {
        // Safeguard's own calls are made by roles named with the deployment's prefix.
        if name.ends_with("-own-role.json") {
            let issuer = &mut event["detail"]["userIdentity"]["sessionContext"]["sessionIssuer"]["userName"];
            let role = issuer
                .as_str()
                .unwrap_or_default()
                .replacen("safeguard-", role_prefix, 1);
            *issuer = role.into();
        }
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
                .patterns(role_prefix)
                .iter()
                .any(|p| safeguard::pattern::matches(p, event));
            assert_eq!(
                local, lands,
                "{name}: replay routing and the deployed rule disagree for {}",
                f.name
            );
        }
    }

    for (function, url) in queues {
        let mut want = expected[function].clone();
        want.sort();
        assert!(!want.is_empty(), "no sample event targets {function}");
        let got = delivered(sqs, url, want.len()).await;
        assert_eq!(got, want, "events delivered to {function}'s rules");
    }
}
