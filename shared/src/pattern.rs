//! EventBridge pattern matching for the subset of the pattern language that
//! Safeguard's derived rules use (literals, `exists`, `prefix`,
//! `anything-but`, `$or`). `make replay` routes events with it so a local
//! replay takes the same decisions as the deployed rules; the routing tests
//! check it against the emulator's EventBridge.

use serde_json::Value;

/// Does `event` match `pattern`?
pub fn matches(pattern: &Value, event: &Value) -> bool {
    match pattern {
        Value::Object(fields) => fields.iter().all(|(key, rule)| {
            if key == "$or" {
                rule.as_array()
                    .is_some_and(|alts| alts.iter().any(|alt| matches(alt, event)))
            } else {
                let value = event.get(key);
                match rule {
                    Value::Object(_) => matches(rule, value.unwrap_or(&Value::Null)),
                    Value::Array(filters) => field_matches(filters, value),
                    _ => false,
                }
            }
        }),
        _ => false,
    }
}

fn field_matches(filters: &[Value], value: Option<&Value>) -> bool {
    filters.iter().any(|filter| match filter {
        Value::Object(named) => named.iter().all(|(name, arg)| named_matches(name, arg, value)),
        literal => value.is_some_and(|v| each(v, |item| item == literal)),
    })
}

fn named_matches(name: &str, arg: &Value, value: Option<&Value>) -> bool {
    if name == "exists" {
        return arg.as_bool() == Some(value.is_some());
    }
    let Some(value) = value else { return false };
    match name {
        "prefix" => each(value, |item| has_prefix(item, arg)),
        "anything-but" => each(value, |item| match arg {
            Value::Array(list) => !list.contains(item),
            Value::Object(inner) => !inner.iter().all(|(n, a)| named_matches(n, a, Some(item))),
            literal => item != literal,
        }),
        _ => false,
    }
}

fn has_prefix(item: &Value, prefix: &Value) -> bool {
    matches!((item, prefix), (Value::String(s), Value::String(p)) if s.starts_with(p.as_str()))
}

/// Event arrays match when any element does.
fn each(value: &Value, test: impl Fn(&Value) -> bool) -> bool {
    match value {
        Value::Array(items) => items.iter().any(test),
        single => test(single),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn literals_nested_fields_and_arrays() {
        let p = json!({"source": ["aws.s3"], "detail": {"eventName": ["A", "B"]}});
        assert!(matches(&p, &json!({"source": "aws.s3", "detail": {"eventName": "B"}})));
        assert!(!matches(&p, &json!({"source": "aws.s3", "detail": {"eventName": "C"}})));
        assert!(!matches(&p, &json!({"source": "aws.s3"})));
        assert!(matches(&json!({"tags": ["x"]}), &json!({"tags": ["w", "x"]})));
    }

    #[test]
    fn exists_prefix_anything_but_and_or() {
        let absent = json!({"errorCode": [{"exists": false}]});
        assert!(matches(&absent, &json!({})));
        assert!(!matches(&absent, &json!({"errorCode": "AccessDenied"})));
        let present = json!({"errorCode": [{"exists": true}]});
        assert!(matches(&present, &json!({"errorCode": "AccessDenied"})));

        let not_ours = json!({"role": [{"anything-but": {"prefix": "safeguard-"}}]});
        assert!(matches(&not_ours, &json!({"role": "ops-admin"})));
        assert!(!matches(&not_ours, &json!({"role": "safeguard-access-control"})));
        // anything-but never matches a missing field, hence the `$or` in our patterns
        assert!(!matches(&not_ours, &json!({})));

        let either = json!({"$or": [{"type": [{"anything-but": "AssumedRole"}]}, {"role": [{"prefix": "ops"}]}]});
        assert!(matches(&either, &json!({"type": "IAMUser"})));
        assert!(matches(&either, &json!({"type": "AssumedRole", "role": "ops-admin"})));
        assert!(!matches(&either, &json!({"type": "AssumedRole", "role": "dev"})));
    }
}
