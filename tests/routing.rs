//! The derived EventBridge rules, created in the emulator's EventBridge with
//! an SQS target: every sample event lands on exactly the rules it should,
//! failed calls and Safeguard's own calls land nowhere, and the replay
//! router (`safeguard::pattern`) takes the same decision as EventBridge.

use aws_sdk_eventbridge::types::Target;
use safeguard::config::DEFAULT_ROLE_PREFIX;
use safeguard_cli::emulator::create_queue;
use safeguard_cli::functions;
use safeguard_tests::routing::assert_routing;
use safeguard_tests::*;
use std::collections::BTreeMap;

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

    assert_routing(&events, &sqs, &queues, DEFAULT_ROLE_PREFIX).await;
}
