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

/// Allow statements open to anyone without a condition narrowing them, by Sid
/// (or position when they have none).
pub fn public_allows(policy: &Value) -> Vec<String> {
    statements(policy)
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            s.get("Effect").and_then(Value::as_str) == Some("Allow")
                && is_everyone(s.get("Principal"))
                && s.get("Condition")
                    .is_none_or(|c| c.as_object().is_some_and(|m| m.is_empty()))
        })
        .map(|(i, s)| {
            s.get("Sid")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| format!("statement {}", i + 1))
        })
        .collect()
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
}
