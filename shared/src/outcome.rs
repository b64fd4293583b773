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

impl Outcome {
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
