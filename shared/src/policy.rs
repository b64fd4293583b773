//! IAM-style policy documents (bucket, vault, key policies) are untrusted
//! JSON: read them as generic values so odd shapes never break a check.

use serde_json::Value;

/// A field that may hold one item or a list of them.
pub fn as_list(v: Option<&Value>) -> Vec<&Value> {
    match v {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(other) => vec![other],
        None => Vec::new(),
    }
}

/// The policy's statements, whether `Statement` is a list or one object.
pub fn statements(policy: &Value) -> Vec<&Value> {
    as_list(policy.get("Statement"))
}

/// `"*"` or `{"AWS": "*"}` (or a list holding `"*"`): anyone at all.
pub fn is_everyone(principal: Option<&Value>) -> bool {
    match principal {
        Some(Value::String(s)) => s == "*",
        Some(Value::Object(m)) => m
            .iter()
            .any(|(k, v)| k == "AWS" && as_list(Some(v)).iter().any(|p| p.as_str() == Some("*"))),
        _ => false,
    }
}

/// The Allow statements `grants` picks, by Sid (or position when they have none).
fn allows_where(policy: &Value, grants: impl Fn(&Value) -> bool) -> Vec<String> {
    statements(policy)
        .iter()
        .enumerate()
        .filter(|(_, s)| s.get("Effect").and_then(Value::as_str) == Some("Allow") && grants(s))
        .map(|(i, s)| {
            s.get("Sid")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| format!("statement {}", i + 1))
        })
        .collect()
}

/// Allow statements open to anyone without a condition narrowing them.
pub fn public_allows(policy: &Value) -> Vec<String> {
    allows_where(policy, |s| {
        is_everyone(s.get("Principal"))
            && s.get("Condition")
                .is_none_or(|c| c.as_object().is_some_and(|m| m.is_empty()))
    })
}

/// Allow statements granting every action on every resource: administrator
/// access, whatever else the policy says.
pub fn admin_statements(policy: &Value) -> Vec<String> {
    let has_star = |v: Option<&Value>| as_list(v).iter().any(|a| matches!(a.as_str(), Some("*" | "*:*")));
    allows_where(policy, |s| has_star(s.get("Action")) && has_star(s.get("Resource")))
}

/// IAM returns policy documents URL-encoded (RFC 3986); some callers and
/// emulators return them plain. Either way, the JSON text.
pub fn decode_document(text: &str) -> String {
    if text.trim_start().starts_with('{') {
        return text.to_string();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn public_allows_are_found_in_every_shape() {
        let policy = json!({"Statement": [
            {"Sid": "Open", "Effect": "Allow", "Principal": "*", "Action": "backup:*"},
            {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::1:root", "*"]}, "Action": "s3:GetObject"},
            {"Sid": "Narrowed", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
             "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}},
            {"Sid": "Deny", "Effect": "Deny", "Principal": "*", "Action": "*"},
            {"Sid": "Account", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "*"}
        ]});
        assert_eq!(
            public_allows(&policy),
            vec!["Open".to_string(), "statement 2".to_string()]
        );
        let lone = json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "*"}});
        assert_eq!(public_allows(&lone).len(), 1);
        assert!(public_allows(&json!("not a policy")).is_empty());
    }

    #[test]
    fn admin_statements_and_encoded_documents() {
        let encoded = "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D";
        let doc: Value = serde_json::from_str(&decode_document(encoded)).unwrap_or_default();
        assert_eq!(admin_statements(&doc), vec!["statement 1".to_string()]);
        let scoped = json!({"Statement": [
            {"Sid": "Read", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Sid": "Deny", "Effect": "Deny", "Action": "*", "Resource": "*"},
            {"Sid": "Admin", "Effect": "Allow", "Action": ["iam:PassRole", "*"], "Resource": ["*"]}
        ]});
        assert_eq!(admin_statements(&scoped), vec!["Admin".to_string()]);
        assert_eq!(decode_document("{\"a\": \"100%\"}"), "{\"a\": \"100%\"}");
        assert_eq!(decode_document("caf%C3%A9%2"), "café%2");
    }
}
