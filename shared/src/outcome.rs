//! What happened to one event: exactly one outcome per event and control.

use crate::config::Mode;
use crate::control::Severity;
use crate::event::Actor;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The resource was already compliant: nothing done.
    Compliant,
    /// Fixed, and the state read back is compliant.
    Remediated,
    /// Dry-run: would have been fixed.
    WouldRemediate,
    /// Non-compliant but exempted: not changed.
    Exempt,
    /// Nothing to do: a failed call, Safeguard's own change, or a resource that is gone.
    Ignored,
    /// Could not be handled; the detail says why.
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Compliant => "compliant",
            Status::Remediated => "remediated",
            Status::WouldRemediate => "would_remediate",
            Status::Exempt => "exempt",
            Status::Ignored => "ignored",
            Status::Failed => "failed",
        }
    }

    /// Outcomes that ops must hear about.
    pub fn alerts(self) -> bool {
        matches!(
            self,
            Status::Remediated | Status::WouldRemediate | Status::Exempt | Status::Failed
        )
    }

    /// The word that opens an alert subject.
    pub fn headline(self) -> &'static str {
        match self {
            Status::Compliant => "Compliant",
            Status::Remediated => "Remediated",
            Status::WouldRemediate => "Would remediate",
            Status::Exempt => "Exempt",
            Status::Ignored => "Ignored",
            Status::Failed => "Failed",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub event_id: String,
    pub event_name: String,
    pub function: String,
    pub control: Option<String>,
    pub resource: Option<String>,
    pub status: Status,
    /// One human sentence.
    pub detail: String,
    pub notified: bool,
    /// A transient failure: the Lambda entry point returns an error so Lambda retries.
    pub retryable: bool,
    pub mode: Mode,
    pub hipaa: Option<&'static str>,
    pub severity: Option<Severity>,
    pub account: String,
    pub region: String,
    pub actor: Option<Actor>,
    pub event_time: Option<String>,
    pub state_before: Option<String>,
    pub action: Option<String>,
    pub state_after: Option<String>,
    pub subject: Option<String>,
}

/// Longest detail an outcome keeps, and longest name or id: input can be
/// hostile (a 100 KB bucket name), and an alert must stay readable.
const MAX_DETAIL: usize = 1_000;
const MAX_FIELD: usize = 256;

/// `text` cut to `max` characters, saying how much was left out.
pub fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((cut, _)) => format!("{}… ({} more characters)", &text[..cut], text[cut..].chars().count()),
    }
}

impl Outcome {
    /// Bounds every field that can echo event input (see [`clip`]).
    pub fn clipped(mut self) -> Outcome {
        self.detail = clip(&self.detail, MAX_DETAIL);
        for field in [&mut self.event_id, &mut self.event_name] {
            *field = clip(field, MAX_FIELD);
        }
        for field in [
            &mut self.resource,
            &mut self.state_before,
            &mut self.action,
            &mut self.state_after,
        ]
        .into_iter()
        .flatten()
        {
            *field = clip(field, MAX_DETAIL);
        }
        self
    }

    /// The word that opens its alert subject: a fix withheld outside dry-run
    /// needs someone to act, rather than being one Safeguard would make.
    pub fn headline(&self) -> &'static str {
        match (self.status, self.mode) {
            (Status::WouldRemediate, Mode::Remediate) => "Action needed",
            (status, _) => status.headline(),
        }
    }
}

impl Outcome {
    /// An outcome with only the event's identity filled in.
    pub fn new(
        event_id: String,
        event_name: String,
        function: &str,
        mode: Mode,
        status: Status,
        detail: String,
    ) -> Outcome {
        Outcome {
            event_id,
            event_name,
            function: function.to_string(),
            control: None,
            resource: None,
            status,
            detail,
            notified: false,
            retryable: false,
            mode,
            hipaa: None,
            severity: None,
            account: String::new(),
            region: String::new(),
            actor: None,
            event_time: None,
            state_before: None,
            action: None,
            state_after: None,
            subject: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_keeps_short_text_and_counts_what_it_cuts() {
        assert_eq!(clip("bucket", 10), "bucket");
        assert_eq!(clip("abcdef", 3), "abc… (3 more characters)");
        // Cuts on character boundaries, never inside a multi-byte one.
        assert_eq!(clip("名名名名", 2), "名名… (2 more characters)");
    }

    #[test]
    fn a_clipped_outcome_bounds_every_echoed_field() {
        let mut o = Outcome::new(
            "e".repeat(5_000),
            "n".repeat(5_000),
            "f",
            Mode::Remediate,
            Status::Failed,
            "d".repeat(50_000),
        );
        o.resource = Some("b".repeat(100_000));
        let o = o.clipped();
        assert!(o.detail.chars().count() < MAX_DETAIL + 40, "{}", o.detail.len());
        assert!(o.event_id.chars().count() < MAX_FIELD + 40);
        assert!(o.event_name.chars().count() < MAX_FIELD + 40);
        assert!(o.resource.is_some_and(|r| r.ends_with("(99000 more characters)")));
    }
}
