//! Alerts: one SNS message per outcome that matters, readable by people
//! (`default`/`email`) and by programs (`sqs`/`lambda`/`http(s)`), with
//! message attributes for subscription filter policies.

use crate::config::Mode;
use crate::control::Declaration;
use crate::error::{During, Error};
use crate::outcome::{Outcome, Status};
use async_trait::async_trait;
use aws_sdk_sns::types::MessageAttributeValue;
use serde_json::{json, Value};
use std::fmt::Write;

/// SNS rejects subjects over 100 characters.
pub const MAX_SUBJECT: usize = 100;

#[derive(Debug, Clone)]
pub struct Alert {
    pub subject: String,
    pub text: String,
    pub body: Value,
    pub attributes: Vec<(&'static str, String)>,
}

/// The port through which alerts leave.
#[async_trait]
pub trait Notifier: Send + Sync {
    async fn publish(&self, alert: &Alert) -> Result<(), Error>;
}

#[derive(Clone)]
pub struct SnsNotifier {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsNotifier {
    pub fn new(client: aws_sdk_sns::Client, topic_arn: impl Into<String>) -> Self {
        SnsNotifier {
            client,
            topic_arn: topic_arn.into(),
        }
    }
}

#[async_trait]
impl Notifier for SnsNotifier {
    async fn publish(&self, alert: &Alert) -> Result<(), Error> {
        let body = alert.body.to_string();
        let message = json!({
            "default": alert.text,
            "email": alert.text,
            "sqs": body,
            "lambda": body,
            "http": body,
            "https": body,
        });
        let mut request = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(&alert.subject)
            .message_structure("json")
            .message(message.to_string());
        for (name, value) in &alert.attributes {
            let attribute = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|e| Error::Unexpected(format!("message attribute {name}: {e}")))?;
            request = request.message_attributes(*name, attribute);
        }
        request.send().await.during("sns:Publish")?;
        Ok(())
    }
}

/// Compose the alert for an outcome.
pub fn compose(outcome: &Outcome, declaration: Option<&Declaration>, exempt_tag_key: &str) -> Alert {
    let subject = subject(outcome, declaration);
    let exempt_hint = format!(
        "tag the resource {exempt_tag_key}=<reason> (optionally {exempt_tag_key}-until=YYYY-MM-DD); \
         for resources without tags, add <resource>=<reason> to the EXEMPT_RESOURCES setting"
    );
    let text = text(outcome, declaration, &exempt_hint);
    let mut body = serde_json::to_value(outcome).unwrap_or_else(|_| json!({}));
    if let Value::Object(map) = &mut body {
        // Delivery status is not the subscriber's business; the alert is the delivery.
        map.remove("notified");
        map.insert("subject".into(), json!(subject));
        map.insert("title".into(), json!(declaration.map(|d| d.title)));
        map.insert(
            "hipaa_citation".into(),
            json!(declaration.map(|d| format!("45 CFR {}", d.hipaa))),
        );
        map.insert("how_to_exempt".into(), json!(exempt_hint));
        map.insert("text".into(), json!(text));
    }
    let attributes = vec![
        ("safeguard", outcome.function.clone()),
        ("control", outcome.control.clone().unwrap_or_else(|| "none".into())),
        (
            "severity",
            outcome.severity.map(|s| s.as_str()).unwrap_or("high").to_string(),
        ),
        ("status", outcome.status.as_str().to_string()),
        (
            "account",
            if outcome.account.is_empty() {
                "unknown".into()
            } else {
                outcome.account.clone()
            },
        ),
    ];
    Alert {
        subject,
        text,
        body,
        attributes,
    }
}

/// `[Safeguard] Remediated: S3 bucket "x" had a public ACL (HIPAA 164.312(a)(1))`,
/// shortened to fit SNS's limit by eliding the resource id first.
pub fn subject(outcome: &Outcome, declaration: Option<&Declaration>) -> String {
    let head = format!("[Safeguard] {}: ", outcome.headline());
    let (Some(d), Some(resource)) = (declaration, outcome.resource.as_deref()) else {
        let what = format!("could not process {} event", ascii(&outcome.event_name));
        return fit(format!("{head}{what}"));
    };
    let mut tail = format!("\" {} (HIPAA {})", d.problem, d.hipaa);
    if head.len() + d.resource.name().len() + 2 + tail.len() + resource.len() > MAX_SUBJECT {
        tail = format!("\" {} ({})", d.problem, d.hipaa);
    }
    let fixed = head.len() + d.resource.name().len() + 2 + tail.len();
    let mut id = ascii(resource);
    if fixed + id.len() > MAX_SUBJECT {
        let keep = MAX_SUBJECT.saturating_sub(fixed + 3);
        id.truncate(keep);
        id.push_str("...");
    }
    fit(format!("{head}{} \"{id}{tail}", d.resource.name()))
}

fn fit(mut s: String) -> String {
    if s.len() > MAX_SUBJECT {
        s.truncate(MAX_SUBJECT - 3);
        s.push_str("...");
    }
    s
}

/// SNS subjects must be printable ASCII.
fn ascii(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' })
        .collect()
}

fn text(o: &Outcome, d: Option<&Declaration>, exempt_hint: &str) -> String {
    let mut t = String::new();
    let resource = match (d, o.resource.as_deref()) {
        (Some(d), Some(r)) => format!("{} \"{r}\"", d.resource.name()),
        (_, Some(r)) => r.to_string(),
        _ => "(unknown resource)".into(),
    };
    let _ = writeln!(
        t,
        "Safeguard {}: {}",
        o.headline().to_lowercase(),
        d.map(|d| d.title).unwrap_or("event could not be processed")
    );
    let _ = writeln!(t);
    let _ = writeln!(t, "Resource:        {resource}");
    if let Some(before) = &o.state_before {
        let _ = writeln!(t, "What was wrong:  {before}");
    }
    if let Some(actor) = &o.actor {
        let _ = writeln!(
            t,
            "Who did it:      {} ({}) from {} at {}",
            actor.principal,
            actor.identity_type,
            if actor.source_ip.is_empty() {
                "an unknown address"
            } else {
                &actor.source_ip
            },
            o.event_time.as_deref().unwrap_or("an unknown time")
        );
    }
    let _ = writeln!(t, "Change:          {} (event {})", o.event_name, o.event_id);
    let did = match o.status {
        Status::Remediated => o.action.clone().unwrap_or_default(),
        Status::WouldRemediate if o.mode == Mode::DryRun => format!(
            "nothing (dry-run); it would {}",
            o.action.as_deref().unwrap_or("fix it")
        ),
        // A fix Safeguard withholds: the detail says why and what to do.
        Status::WouldRemediate => "nothing; the detail below says why and what to do".into(),
        Status::Exempt => "nothing: the resource is exempt".into(),
        _ => "nothing".into(),
    };
    let _ = writeln!(t, "Safeguard did:   {did}");
    if let Some(after) = &o.state_after {
        let _ = writeln!(t, "State now:       {after} (read back after the change)");
    }
    if o.action.as_deref() != Some(o.detail.as_str()) {
        let _ = writeln!(t, "Detail:          {}", o.detail);
    }
    if let Some(d) = d {
        let _ = writeln!(t, "HIPAA:           45 CFR {} ({})", d.hipaa, d.severity.as_str());
        let _ = writeln!(
            t,
            "Control:         {} in function {} (mode {})",
            d.id,
            o.function,
            o.mode.as_str()
        );
    }
    let _ = writeln!(t, "Account/region:  {} / {}", o.account, o.region);
    let _ = writeln!(t);
    let _ = writeln!(t, "To exempt a resource: {exempt_hint}.");
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Mode;
    use crate::control::Severity;
    use crate::resources::S3Bucket;

    static DECLARATION: Declaration = Declaration {
        id: "s3-bucket-public-acl",
        title: "S3 bucket ACLs grant nothing to AllUsers",
        resource: &S3Bucket,
        hipaa: "164.312(a)(1)",
        severity: Severity::High,
        problem: "had a public ACL",
        triggers: &[],
        permissions: &[],
        settings: &[],
    };

    fn outcome(status: Status, resource: &str) -> Outcome {
        let mut o = Outcome::new(
            "e1".into(),
            "PutBucketAcl".into(),
            "access-control",
            Mode::Remediate,
            status,
            "d".into(),
        );
        o.resource = Some(resource.into());
        o.control = Some(DECLARATION.id.into());
        o
    }

    #[test]
    fn subject_names_status_resource_problem_and_citation() {
        let s = subject(&outcome(Status::Remediated, "phi-claims"), Some(&DECLARATION));
        assert_eq!(
            s,
            "[Safeguard] Remediated: S3 bucket \"phi-claims\" had a public ACL (HIPAA 164.312(a)(1))"
        );
    }

    #[test]
    fn long_or_odd_resource_ids_still_fit_sns_limits() {
        let long = "a-very-long-bucket-name-that-goes-on-and-on-for-sixty-three-chars";
        let mut dry = outcome(Status::WouldRemediate, long);
        dry.mode = Mode::DryRun;
        let s = subject(&dry, Some(&DECLARATION));
        assert!(s.len() <= MAX_SUBJECT, "{} chars: {s}", s.len());
        assert!(
            s.starts_with("[Safeguard] Would remediate: S3 bucket \"a-very-long"),
            "{s}"
        );
        assert!(s.ends_with("had a public ACL (164.312(a)(1))"), "{s}");

        let odd = subject(&outcome(Status::Failed, "bucket\nwith\u{e9}"), Some(&DECLARATION));
        assert!(odd.chars().all(|c| c.is_ascii_graphic() || c == ' '), "{odd}");
    }

    #[test]
    fn a_withheld_fix_asks_for_action_and_says_why() {
        let mut o = outcome(Status::WouldRemediate, "phi-claims");
        o.detail = "not changed: notify-only: remove the grant".into();
        let a = compose(&o, Some(&DECLARATION), "safeguard:exempt");
        assert!(
            a.subject.starts_with("[Safeguard] Action needed: S3 bucket"),
            "{}",
            a.subject
        );
        assert!(a.text.starts_with("Safeguard action needed: "), "{}", a.text);
        assert!(
            a.text.contains("nothing; the detail below says why and what to do"),
            "{}",
            a.text
        );
        assert!(
            a.text.contains("not changed: notify-only: remove the grant"),
            "{}",
            a.text
        );
        o.mode = Mode::DryRun;
        o.action = Some("remove the grant".into());
        let a = compose(&o, Some(&DECLARATION), "safeguard:exempt");
        assert!(a.subject.starts_with("[Safeguard] Would remediate: "), "{}", a.subject);
        assert!(
            a.text.contains("nothing (dry-run); it would remove the grant"),
            "{}",
            a.text
        );
    }

    #[test]
    fn alert_body_and_attributes() {
        let a = compose(&outcome(Status::Exempt, "b1"), Some(&DECLARATION), "safeguard:exempt");
        let attrs: std::collections::HashMap<_, _> = a.attributes.iter().cloned().collect();
        assert_eq!(attrs["status"], "exempt");
        assert_eq!(attrs["control"], "s3-bucket-public-acl");
        assert_eq!(a.body["hipaa_citation"], "45 CFR 164.312(a)(1)");
        assert!(a.body.get("notified").is_none());
        assert!(a.text.contains("safeguard:exempt=<reason>"));
    }
}
