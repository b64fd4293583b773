//! How outcomes are shown: one JSON object per line, or a block of text a
//! newcomer can read without knowing the code.

use safeguard::{Outcome, Status};
use std::fmt::Write;

pub fn json_line(o: &Outcome) -> String {
    serde_json::to_string(o).unwrap_or_else(|e| format!("{{\"error\":\"cannot serialize outcome: {e}\"}}"))
}

/// `seeded`: what was done to the emulator before the event was replayed.
pub fn text_block(o: &Outcome, source: &str, seeded: Option<&str>) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "── {source} {}",
        "─".repeat(60usize.saturating_sub(source.chars().count()))
    );
    let who = o
        .actor
        .as_ref()
        .map(|a| {
            format!(
                " by {} from {}",
                a.principal,
                if a.source_ip.is_empty() { "?" } else { &a.source_ip }
            )
        })
        .unwrap_or_default();
    let when = o.event_time.as_deref().map(|t| format!(" at {t}")).unwrap_or_default();
    if let Some(seeded) = seeded {
        let _ = writeln!(t, "  set up    {seeded}");
    }
    let _ = writeln!(t, "  event     {}{who}{when}", o.event_name);
    match (&o.control, o.hipaa) {
        (Some(c), Some(h)) => {
            let severity = o.severity.map(|s| s.as_str()).unwrap_or("-");
            let _ = writeln!(
                t,
                "  control   {c} in {} (HIPAA 45 CFR {h}, severity {severity})",
                o.function
            );
        }
        _ => {
            let _ = writeln!(t, "  control   none ({})", o.function);
        }
    }
    if let Some(r) = &o.resource {
        let _ = writeln!(t, "  resource  {r}");
    }
    if let Some(b) = &o.state_before {
        let _ = writeln!(t, "  before    {b}");
    }
    let done = match o.status {
        Status::Remediated => o.action.clone(),
        Status::WouldRemediate => Some(format!(
            "nothing ({}); would {}",
            if o.mode == safeguard::Mode::DryRun {
                "dry-run"
            } else {
                "withheld, see the outcome"
            },
            o.action.as_deref().unwrap_or("fix it")
        )),
        Status::Compliant | Status::Exempt | Status::Ignored => Some("nothing".into()),
        Status::Failed => o.action.clone().or(Some("nothing".into())),
    };
    if let Some(done) = done {
        let _ = writeln!(t, "  done      {done}");
    }
    if let Some(a) = &o.state_after {
        let _ = writeln!(t, "  after     {a} (read back)");
    }
    let _ = writeln!(t, "  outcome   {}: {}", o.status.as_str().to_uppercase(), o.detail);
    match (&o.subject, o.notified) {
        (Some(s), true) => {
            let _ = writeln!(t, "  alert     {s}");
        }
        (Some(s), false) => {
            let _ = writeln!(t, "  alert     NOT SENT: {s}");
        }
        (None, _) => {
            let _ = writeln!(t, "  alert     none (nothing for ops to act on)");
        }
    }
    t
}

/// A bucket policy in one line: each statement's Sid, effect, actions and principal.
pub fn policy_summary(policy: &serde_json::Value) -> String {
    let statements = match policy.get("Statement") {
        Some(serde_json::Value::Array(items)) => items.iter().collect(),
        Some(one) => vec![one],
        None => Vec::new(),
    };
    let shown: Vec<String> = statements
        .iter()
        .map(|s| {
            let field = |k: &str| match s.get(k) {
                Some(serde_json::Value::String(v)) => v.clone(),
                Some(other) => other.to_string(),
                None => "-".into(),
            };
            format!(
                "{} {} {} to {}",
                field("Sid"),
                field("Effect"),
                field("Action"),
                field("Principal")
            )
        })
        .collect();
    format!("{} statement(s): {}", shown.len(), shown.join("; "))
}
