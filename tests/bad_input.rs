//! Malformed and unexpected events: a clear outcome, an alert where ops must
//! know, and never a panic.

use access_control::FUNCTION;
use safeguard::{Mode, Status};
use safeguard_tests::*;
use serde_json::{json, Value};

#[tokio::test]
async fn malformed_events_fail_clearly_and_alert() {
    let env = TestEnv::new("bad").await;
    let engine = env.engine(&FUNCTION, env.config(Mode::Remediate));
    let good = sample("access-control/put-bucket-acl-all-users.json");

    let mut no_detail = good.clone();
    no_detail.as_object_mut().expect("object").remove("detail");
    let mut wrong_shape = good.clone();
    wrong_shape["detail"] = json!("PutBucketAcl");
    let mut no_event_name = good.clone();
    no_event_name["detail"]
        .as_object_mut()
        .expect("object")
        .remove("eventName");

    let cases: Vec<(&str, Value, &str)> = vec![
        ("null", Value::Null, "expected a JSON object"),
        ("array", json!([1, 2, 3]), "expected a JSON object"),
        ("no detail", no_detail, "no \"detail\""),
        ("detail of the wrong shape", wrong_shape, "\"detail\" must be an object"),
        ("no eventName", no_event_name, "eventName"),
    ];
    for (name, event, message) in &cases {
        let outcomes = engine.handle(event.clone()).await;
        assert_eq!(outcomes.len(), 1, "{name}");
        assert_eq!(outcomes[0].status, Status::Failed, "{name}");
        assert!(outcomes[0].detail.contains(message), "{name}: {}", outcomes[0].detail);
        assert!(
            outcomes[0].notified,
            "{name}: ops must hear about an event Safeguard could not read"
        );
    }
    let alerts = env.alerts(cases.len()).await;
    assert_eq!(alerts.len(), cases.len());
    for alert in &alerts {
        assert_eq!(attribute(alert, "status"), "failed");
        assert!(
            alert.subject.starts_with("[Safeguard] Failed: could not process"),
            "{}",
            alert.subject
        );
    }
}

#[tokio::test]
async fn unknown_calls_and_missing_parameters() {
    let env = TestEnv::new("bad").await;
    let engine = env.engine(&FUNCTION, env.config(Mode::Remediate));

    let mut unknown = sample("access-control/put-bucket-acl-all-users.json");
    unknown["detail"]["eventName"] = "GetObject".into();
    let o = engine.handle(unknown).await;
    assert_eq!(o[0].status, Status::Ignored);
    assert!(
        o[0].detail
            .contains("no control of access-control handles s3.amazonaws.com:GetObject"),
        "{}",
        o[0].detail
    );

    // requestParameters: null, no responseElements: tolerated, and the missing bucket named.
    let mut no_bucket = sample("access-control/put-bucket-acl-all-users.json");
    no_bucket["detail"]["requestParameters"] = Value::Null;
    no_bucket["detail"]
        .as_object_mut()
        .expect("object")
        .remove("responseElements");
    let o = engine.handle(no_bucket).await;
    assert_eq!(o[0].status, Status::Failed);
    assert!(o[0].detail.contains("requestParameters.bucketName"), "{}", o[0].detail);
    assert_eq!(o[0].control.as_deref(), Some("s3-bucket-public-acl"));
    let alerts = env.alerts(1).await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(attribute(&alerts[0], "status"), "failed");
    env.no_more_alerts().await;
}
