//! Bucket policies are untrusted input: parse them as generic JSON so unknown
//! fields, odd shapes (a lone statement object, `Principal` as a string, an
//! object or a list) and every original statement survive the merge.

use safeguard::policy::{as_list, is_everyone, statements};
use serde_json::{json, Map, Value};

pub const SID: &str = "SafeguardDenyInsecureTransport";

fn covers_all_s3(action: Option<&Value>) -> bool {
    as_list(action).iter().any(|a| matches!(a.as_str(), Some("*" | "s3:*")))
}

fn denies_plain_http(condition: Option<&Value>) -> bool {
    let Some(Value::Object(operators)) = condition else {
        return false;
    };
    operators
        .iter()
        .filter(|(op, _)| op.eq_ignore_ascii_case("Bool"))
        .any(|(_, keys)| {
            keys.as_object().is_some_and(|keys| {
                keys.iter().any(|(k, v)| {
                    k.eq_ignore_ascii_case("aws:SecureTransport")
                        && as_list(Some(v))
                            .iter()
                            .any(|x| x.as_str() == Some("false") || x.as_bool() == Some(false))
                })
            })
        })
}

/// Does the policy deny every S3 action to everyone over plain HTTP?
pub fn has_tls_deny(policy: &Value) -> bool {
    statements(policy).iter().any(|s| {
        s.get("Effect").and_then(Value::as_str) == Some("Deny")
            && is_everyone(s.get("Principal"))
            && covers_all_s3(s.get("Action"))
            && denies_plain_http(s.get("Condition"))
    })
}

pub fn tls_statement(bucket: &str) -> Value {
    json!({
        "Sid": SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")],
        "Condition": { "Bool": { "aws:SecureTransport": "false" } }
    })
}

/// The policy with the TLS-only statement added; everything else kept as it was.
pub fn merge(policy: Option<&str>, bucket: &str) -> Result<Value, String> {
    let mut doc = match policy {
        None => {
            let mut m = Map::new();
            m.insert("Version".into(), json!("2012-10-17"));
            Value::Object(m)
        }
        Some(text) => serde_json::from_str(text).map_err(|e| format!("the bucket policy is not valid JSON: {e}"))?,
    };
    let Value::Object(map) = &mut doc else {
        return Err("the bucket policy is not a JSON object".into());
    };
    let mut statements: Vec<Value> = match map.remove("Statement") {
        Some(Value::Array(items)) => items,
        Some(single @ Value::Object(_)) => vec![single],
        None => Vec::new(),
        Some(_) => return Err("the bucket policy's Statement is neither a list nor an object".into()),
    };
    let mut sid = SID.to_string();
    let mut n = 1;
    while statements
        .iter()
        .any(|s| s.get("Sid").and_then(Value::as_str) == Some(&sid))
    {
        n += 1;
        sid = format!("{SID}{n}");
    }
    let mut added = tls_statement(bucket);
    added["Sid"] = json!(sid);
    statements.push(added);
    map.insert("Statement".into(), Value::Array(statements));
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statements(v: &Value) -> Vec<Value> {
        match &v["Statement"] {
            Value::Array(a) => a.clone(),
            other => vec![other.clone()],
        }
    }

    #[test]
    fn keeps_every_statement_and_unknown_field() {
        let original = r#"{
            "Version": "2012-10-17", "Id": "PolicyForPHI", "x-custom": {"owner": "équipe données"},
            "Statement": [
                {"Sid": "ReadFromVpc", "Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111122223333:root"]},
                 "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/*",
                 "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}},
                {"Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b",
                 "Condition": {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8"]}}},
                {"Sid": "Lambda", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/in/*"}
            ]}"#;
        let before: Value = serde_json::from_str(original).unwrap_or_default();
        let merged = merge(Some(original), "b").unwrap_or_default();
        let after = statements(&merged);
        assert_eq!(after.len(), 4);
        assert_eq!(&after[..3], &statements(&before)[..]);
        assert_eq!(merged["Id"], "PolicyForPHI");
        assert_eq!(merged["x-custom"]["owner"], "équipe données");
        assert!(has_tls_deny(&merged));
        assert!(!has_tls_deny(&before));
    }

    #[test]
    fn a_lone_statement_object_and_no_policy() {
        let lone = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}"#;
        let merged = merge(Some(lone), "b").unwrap_or_default();
        assert_eq!(statements(&merged).len(), 2);
        assert_eq!(statements(&merged)[0]["Action"], "s3:GetObject");
        let fresh = merge(None, "b").unwrap_or_default();
        assert_eq!(statements(&fresh).len(), 1);
        assert!(has_tls_deny(&fresh));
    }

    #[test]
    fn recognises_existing_denies_in_their_variants() {
        let variants = [
            r#"{"Statement":[{"Effect":"Deny","Principal":{"AWS":"*"},"Action":["s3:*"],"Resource":"*","Condition":{"Bool":{"aws:SecureTransport":false}}}]}"#,
            r#"{"Statement":{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*","Condition":{"bool":{"AWS:SecureTransport":["false"]}}}}"#,
        ];
        for v in variants {
            let doc: Value = serde_json::from_str(v).unwrap_or_default();
            assert!(has_tls_deny(&doc), "{v}");
        }
        let partial = r#"{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#;
        assert!(!has_tls_deny(&serde_json::from_str(partial).unwrap_or_default()));
    }

    #[test]
    fn large_policies_and_sid_collisions() {
        let many: Vec<Value> = (0..125)
            .map(|i| json!({"Sid": format!("S{i}"), "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{:012}:root", i)}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}))
            .chain([json!({"Sid": SID, "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"})])
            .collect();
        // Pretty-printed, as consoles and IaC tools store them: over 20 KB.
        let text =
            serde_json::to_string_pretty(&json!({"Version": "2012-10-17", "Statement": many})).unwrap_or_default();
        assert!(text.len() > 20_480, "{}", text.len());
        let merged = merge(Some(&text), "b").unwrap_or_default();
        // Written back compact, it fits S3's 20 KB limit again.
        assert!(merged.to_string().len() < 20_480, "{}", merged.to_string().len());
        let after = statements(&merged);
        assert_eq!(after.len(), 127);
        assert_eq!(&after[..126], &many[..]);
        assert_eq!(after[126]["Sid"], format!("{SID}2"));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(merge(Some("{not json"), "b").is_err());
        assert!(merge(Some("[1,2]"), "b").is_err());
        assert!(merge(Some(r#"{"Statement": 7}"#), "b").is_err());
    }
}
