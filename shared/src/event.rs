//! The input: an EventBridge envelope carrying a CloudTrail
//! "AWS API Call via CloudTrail" record, parsed into `aws_lambda_events` types.
//!
//! Real events vary: `responseElements` missing or null, `requestParameters:
//! null`, extra fields, and sometimes fields the strict types require (a
//! `userAgent`, a `requestID`). The parser fills those with neutral values
//! before deserializing, so only what Safeguard truly needs (`detail`,
//! `eventSource`, `eventName`) makes an event malformed.

use crate::error::Error;
use aws_lambda_events::event::cloudwatch_events::cloudtrail::AWSAPICall;
use aws_lambda_events::event::cloudwatch_events::CloudWatchEvent;
use serde_json::{Map, Value};

pub const API_CALL_DETAIL_TYPE: &str = "AWS API Call via CloudTrail";
/// Console sign-ins reach EventBridge under their own detail-type.
pub const SIGN_IN_DETAIL_TYPE: &str = "AWS Console Sign In via CloudTrail";
pub const SIGN_IN_SOURCE: &str = "signin.amazonaws.com";

/// The EventBridge detail-type of the CloudTrail records of `event_source`.
pub fn detail_type(event_source: &str) -> &'static str {
    if event_source == SIGN_IN_SOURCE {
        SIGN_IN_DETAIL_TYPE
    } else {
        API_CALL_DETAIL_TYPE
    }
}

#[derive(Debug, Clone)]
pub struct TrailEvent {
    pub envelope: CloudWatchEvent<Value>,
    pub call: AWSAPICall<Value, Value>,
}

/// Who made the call, for alerts.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Actor {
    pub principal: String,
    pub identity_type: String,
    pub source_ip: String,
    pub user_agent: String,
}

const NEUTRAL_STRINGS: &[&str] = &[
    "eventVersion",
    "eventTime",
    "awsRegion",
    "sourceIPAddress",
    "userAgent",
    "requestID",
    "eventID",
    "eventType",
];

impl TrailEvent {
    pub fn parse(raw: Value) -> Result<TrailEvent, Error> {
        let Value::Object(mut envelope) = raw else {
            return Err(Error::Event(format!(
                "expected a JSON object (an EventBridge event), got {}",
                json_kind(&raw)
            )));
        };
        if let Some(kind) = envelope.get("detail-type") {
            if !matches!(kind.as_str(), Some(API_CALL_DETAIL_TYPE | SIGN_IN_DETAIL_TYPE)) {
                return Err(Error::Event(format!(
                    "detail-type is {kind}, Safeguard handles \"{API_CALL_DETAIL_TYPE}\" and \"{SIGN_IN_DETAIL_TYPE}\" events"
                )));
            }
        }
        let detail = match envelope.remove("detail") {
            Some(Value::Object(detail)) => detail,
            None | Some(Value::Null) => {
                return Err(Error::Event(
                    "the event has no \"detail\" (the CloudTrail record)".into(),
                ))
            }
            Some(other) => {
                return Err(Error::Event(format!(
                    "\"detail\" must be an object (the CloudTrail record), got {}",
                    json_kind(&other)
                )))
            }
        };
        envelope.entry("resources").or_insert_with(|| Value::Array(vec![]));
        if !envelope.contains_key("time") {
            let time = detail.get("eventTime").cloned().unwrap_or(Value::Null);
            envelope.insert("time".into(), time);
        }
        let envelope: CloudWatchEvent<Value> = serde_json::from_value(Value::Object(envelope))
            .map_err(|e| Error::Event(format!("the EventBridge envelope is not valid: {e}")))?;
        let call = parse_call(detail, &envelope)?;
        Ok(TrailEvent { envelope, call })
    }

    /// The EventBridge id, else the CloudTrail event id.
    pub fn id(&self) -> String {
        self.envelope
            .id
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| self.call.event_id.clone())
    }

    pub fn event_name(&self) -> &str {
        &self.call.event_name
    }

    pub fn event_source(&self) -> &str {
        &self.call.event_source
    }

    /// The account the call acted in.
    pub fn account(&self) -> String {
        self.envelope
            .account_id
            .clone()
            .or_else(|| self.detail_str("recipientAccountId").map(str::to_string))
            .or_else(|| self.call.user_identity.account_id.clone())
            .unwrap_or_default()
    }

    pub fn region(&self) -> String {
        self.envelope
            .region
            .clone()
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| self.call.aws_region.clone())
    }

    pub fn time(&self) -> String {
        if self.call.event_time.is_empty() {
            self.envelope.time.to_rfc3339()
        } else {
            self.call.event_time.clone()
        }
    }

    /// A failed call changed nothing: its CloudTrail record carries an errorCode.
    pub fn error_code(&self) -> Option<&str> {
        self.detail_str("errorCode")
    }

    pub fn actor(&self) -> Actor {
        let id = &self.call.user_identity;
        let issuer = id.session_context.as_ref().and_then(|c| c.session_issuer.as_ref());
        let principal = id
            .arn
            .clone()
            .or_else(|| issuer.map(|i| i.arn.clone()))
            .or_else(|| id.invoked_by.clone())
            .or_else(|| id.principal_id.clone())
            .unwrap_or_else(|| "unknown principal".into());
        Actor {
            principal,
            identity_type: id.r#type.clone(),
            source_ip: self.call.source_ipaddress.clone(),
            user_agent: self.call.user_agent.clone(),
        }
    }

    /// The role name when the call was made by an assumed-role session.
    pub fn assumed_role_name(&self) -> Option<String> {
        let id = &self.call.user_identity;
        if id.r#type != "AssumedRole" {
            return None;
        }
        let issuer = id.session_context.as_ref().and_then(|c| c.session_issuer.as_ref());
        issuer.and_then(|i| i.user_name.clone()).or_else(|| {
            // arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION
            id.arn
                .as_deref()?
                .split(":assumed-role/")
                .nth(1)?
                .split('/')
                .next()
                .map(str::to_string)
        })
    }

    /// A string request parameter, when present.
    pub fn request_str(&self, key: &str) -> Option<&str> {
        self.call
            .request_parameters
            .get(key)?
            .as_str()
            .filter(|s| !s.is_empty())
    }

    /// Every string at `path` in the record, e.g.
    /// `responseElements/instancesSet/items/*/instanceId` (`*` walks an array).
    pub fn strings_at(&self, path: &str) -> Vec<String> {
        let mut parts = path.split('/');
        let root = match parts.next() {
            Some("requestParameters") => Some(&self.call.request_parameters),
            Some("responseElements") => self.call.response_elements.as_ref(),
            Some("additionalEventData") => self.call.additional_event_data.as_ref(),
            _ => None,
        };
        let mut nodes: Vec<&Value> = root.into_iter().collect();
        for part in parts {
            nodes = nodes
                .into_iter()
                .flat_map(|n| match (part, n) {
                    ("*", Value::Array(items)) => items.iter().collect::<Vec<_>>(),
                    // CloudTrail writes one-element lists as a bare object at times.
                    ("*", other) => vec![other],
                    (key, node) => node.get(key).into_iter().collect(),
                })
                .collect();
        }
        nodes
            .into_iter()
            .filter_map(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }

    fn detail_str(&self, key: &str) -> Option<&str> {
        self.call.other.get(key)?.as_str().filter(|s| !s.is_empty())
    }
}

/// The id and event name of an event that may not parse, for its outcome.
pub fn raw_identity(raw: &Value) -> (String, String) {
    let id = raw.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
    let name = raw
        .pointer("/detail/eventName")
        .and_then(Value::as_str)
        .unwrap_or("unknown");
    (id, name.to_string())
}

fn parse_call(
    mut detail: Map<String, Value>,
    envelope: &CloudWatchEvent<Value>,
) -> Result<AWSAPICall<Value, Value>, Error> {
    for required in ["eventSource", "eventName"] {
        match detail.get(required) {
            Some(Value::String(s)) if !s.is_empty() => {}
            _ => {
                return Err(Error::Event(format!(
                    "the CloudTrail record has no \"{required}\" string"
                )))
            }
        }
    }
    for key in NEUTRAL_STRINGS {
        if !matches!(detail.get(*key), Some(Value::String(_))) {
            let fill = match *key {
                "awsRegion" => envelope.region.clone().unwrap_or_default(),
                "eventTime" => envelope.time.to_rfc3339(),
                _ => String::new(),
            };
            detail.insert((*key).into(), Value::String(fill));
        }
    }
    if !matches!(detail.get("userIdentity"), Some(Value::Object(_))) {
        detail.insert("userIdentity".into(), serde_json::json!({ "type": "Unknown" }));
    }
    detail.entry("requestParameters").or_insert(Value::Null);
    serde_json::from_value(Value::Object(detail))
        .map_err(|e| Error::Event(format!("the CloudTrail record is not valid: {e}")))
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Value {
        json!({
            "version": "0",
            "id": "6f1c2a8e-0000-4000-8000-000000000001",
            "detail-type": "AWS API Call via CloudTrail",
            "source": "aws.s3",
            "account": "123456789012",
            "time": "2026-11-30T09:15:02Z",
            "region": "us-east-1",
            "resources": [],
            "detail": {
                "eventVersion": "1.09",
                "userIdentity": {
                    "type": "AssumedRole",
                    "principalId": "AROAEXAMPLE:ops",
                    "arn": "arn:aws:sts::123456789012:assumed-role/safeguard-access-control/session",
                    "accountId": "123456789012",
                    "sessionContext": {
                        "sessionIssuer": {
                            "type": "Role",
                            "principalId": "AROAEXAMPLE",
                            "arn": "arn:aws:iam::123456789012:role/safeguard-access-control",
                            "accountId": "123456789012",
                            "userName": "safeguard-access-control"
                        },
                        "attributes": {"creationDate": "2026-11-30T09:00:00Z", "mfaAuthenticated": "false"}
                    }
                },
                "eventTime": "2026-11-30T09:15:01Z",
                "eventSource": "s3.amazonaws.com",
                "eventName": "PutBucketAcl",
                "awsRegion": "us-east-1",
                "sourceIPAddress": "203.0.113.7",
                "userAgent": "aws-cli/2.15",
                "requestParameters": {"bucketName": "b1"},
                "responseElements": null,
                "requestID": "R1",
                "eventID": "E1",
                "eventType": "AwsApiCall",
                "recipientAccountId": "123456789012",
                "someNewField": {"nested": true}
            }
        })
    }

    #[test]
    fn parses_a_full_record() {
        let e = TrailEvent::parse(sample()).unwrap();
        assert_eq!(e.event_name(), "PutBucketAcl");
        assert_eq!(e.event_source(), "s3.amazonaws.com");
        assert_eq!(e.request_str("bucketName"), Some("b1"));
        assert_eq!(e.account(), "123456789012");
        assert_eq!(e.region(), "us-east-1");
        assert_eq!(e.assumed_role_name().as_deref(), Some("safeguard-access-control"));
        assert_eq!(e.error_code(), None);
        assert_eq!(e.actor().source_ip, "203.0.113.7");
    }

    #[test]
    fn tolerates_missing_and_null_fields() {
        let mut v = sample();
        let d = v["detail"].as_object_mut().unwrap();
        d.remove("responseElements");
        d.remove("userAgent");
        d.remove("requestID");
        d.insert("requestParameters".into(), Value::Null);
        d.insert("errorCode".into(), json!("AccessDenied"));
        v.as_object_mut().unwrap().remove("resources");
        let e = TrailEvent::parse(v).unwrap();
        assert_eq!(e.error_code(), Some("AccessDenied"));
        assert_eq!(e.request_str("bucketName"), None);
    }

    #[test]
    fn finds_strings_along_paths() {
        let mut v = sample();
        v["detail"]["responseElements"] =
            json!({"instancesSet": {"items": [{"instanceId": "i-1"}, {"instanceId": "i-2"}, {"other": 1}]}});
        let e = TrailEvent::parse(v).unwrap();
        assert_eq!(
            e.strings_at("responseElements/instancesSet/items/*/instanceId"),
            vec!["i-1", "i-2"]
        );
        assert_eq!(e.strings_at("requestParameters/bucketName"), vec!["b1"]);
        assert!(e.strings_at("requestParameters/missing/*/x").is_empty());
    }

    #[test]
    fn rejects_what_cannot_be_routed() {
        let mut no_detail = sample();
        no_detail.as_object_mut().unwrap().remove("detail");
        assert!(TrailEvent::parse(no_detail)
            .unwrap_err()
            .to_string()
            .contains("no \"detail\""));

        let mut wrong = sample();
        wrong["detail"] = json!(["not", "an", "object"]);
        assert!(TrailEvent::parse(wrong)
            .unwrap_err()
            .to_string()
            .contains("must be an object"));

        let mut nameless = sample();
        nameless["detail"].as_object_mut().unwrap().remove("eventName");
        assert!(TrailEvent::parse(nameless)
            .unwrap_err()
            .to_string()
            .contains("eventName"));

        assert!(TrailEvent::parse(json!("text")).is_err());
        let mut other_kind = sample();
        other_kind["detail-type"] = json!("EC2 Instance State-change Notification");
        assert!(TrailEvent::parse(other_kind)
            .unwrap_err()
            .to_string()
            .contains("detail-type"));
    }
}
