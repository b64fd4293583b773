//! A control is one declared rule: what triggers it, which HIPAA section it
//! protects, the IAM actions it needs, how it reads current state and how it
//! fixes it. A function is a named list of controls. The EventBridge patterns,
//! the IAM policy and the replay routing are all derived from these
//! declarations (see `patterns` and `iam_actions`).

use crate::aws::Clients;
use crate::error::Error;
use crate::event::{detail_type, TrailEvent};
use crate::resources::ResourceKind;
use crate::settings::{Setting, Settings};
use async_trait::async_trait;
use serde_json::{json, Value};
use std::any::Any;
use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// CloudTrail calls that may have introduced the violation.
#[derive(Debug)]
pub struct Trigger {
    /// e.g. `s3.amazonaws.com`
    pub event_source: &'static str,
    pub event_names: &'static [&'static str],
}

#[derive(Debug)]
pub struct Declaration {
    /// Stable identifier, used in alerts, logs and message attributes.
    pub id: &'static str,
    /// What the control guarantees, in a few words.
    pub title: &'static str,
    /// What the control looks at: how to find it in an event, how to read its tags.
    pub resource: &'static dyn ResourceKind,
    /// 45 CFR section, e.g. `164.312(a)(1)`.
    pub hipaa: &'static str,
    pub severity: Severity,
    /// What was wrong, completing `<resource kind> "<id>" …` in alert subjects.
    pub problem: &'static str,
    pub triggers: &'static [Trigger],
    /// Every IAM action `check` and `fix` call (the resource kind adds its own;
    /// actions a call depends on are added by `iam::dependent_actions`).
    pub permissions: &'static [&'static str],
    /// Settings `check` and `fix` read.
    pub settings: &'static [&'static Setting],
}

/// What a control works with: the clients for the event's account and
/// region, the function's settings, and the event itself (for controls
/// where the call is the finding: a sign-in, say).
pub struct Ctx<'a> {
    pub clients: &'a Clients,
    pub settings: &'a Settings,
    pub event: &'a TrailEvent,
    /// Names of Safeguard's own roles (and rules) start with it.
    pub role_prefix: &'a str,
    /// Reads already made for this event (see `Reads`).
    pub reads: &'a Reads,
}

impl Ctx<'_> {
    /// `read`'s result, made once per event and key: a control's `fix` and
    /// the controls after it reuse what `check` read instead of asking AWS
    /// again. The key names the call and the resource
    /// (`"ec2:DescribeSecurityGroupRules sg-1"`).
    pub async fn read<T, F, Fut>(&self, key: String, read: F) -> Result<Arc<T>, Error>
    where
        T: Any + Send + Sync,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        if let Some(hit) = self.reads.get::<T>(&key) {
            return Ok(hit);
        }
        let value = Arc::new(read().await?);
        self.reads.put(key, value.clone());
        Ok(value)
    }
}

/// The reads made while handling one event. The engine forgets them all
/// whenever a fix runs, so the read-back after a fix, and every control
/// after it, sees the state the fix left. Failed reads are never kept.
#[derive(Default)]
pub struct Reads(Mutex<HashMap<String, Arc<dyn Any + Send + Sync>>>);

impl Reads {
    fn get<T: Any + Send + Sync>(&self, key: &str) -> Option<Arc<T>> {
        let reads = self.0.lock().ok()?;
        reads.get(key).cloned()?.downcast::<T>().ok()
    }

    fn put(&self, key: String, value: Arc<dyn Any + Send + Sync>) {
        if let Ok(mut reads) = self.0.lock() {
            reads.insert(key, value);
        }
    }

    pub fn forget(&self) {
        if let Ok(mut reads) = self.0.lock() {
            reads.clear();
        }
    }
}

/// What `fix` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Changed the resource; the sentence says how.
    Done(String),
    /// Replaced the resource with a compliant one (an encrypted copy of a
    /// volume, say): the state is read back from `id`.
    Replaced { id: String, what: String },
    /// Chose not to change it (unsafe, or possibly intended); the sentence
    /// says why and what ops should do. Reported as `would_remediate`.
    Withheld(String),
}

/// The resource a control looks at, in the account and region of the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub id: String,
    pub account: String,
    pub region: String,
}

/// Current state, read from the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    pub compliant: bool,
    /// Human description of the state ("ACL grants READ to AllUsers").
    pub state: String,
}

impl Assessment {
    pub fn compliant(state: impl Into<String>) -> Self {
        Assessment {
            compliant: true,
            state: state.into(),
        }
    }
    pub fn violation(state: impl Into<String>) -> Self {
        Assessment {
            compliant: false,
            state: state.into(),
        }
    }
}

#[async_trait]
pub trait Control: Send + Sync {
    fn declaration(&self) -> &'static Declaration;

    /// Read the resource's current state.
    async fn check(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Assessment, Error>;

    /// Make the resource compliant, or say why not.
    async fn fix(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Action, Error>;

    /// What `fix` would do, for dry-run alerts.
    fn planned_fix(&self) -> &'static str;

    /// Controls that only report, whatever the mode: a fix would be unsafe
    /// or the change may be intended. Their `fix` returns `Withheld`.
    fn notify_only(&self) -> bool {
        false
    }
}

/// One deployable Lambda: a name and its controls.
pub struct Function {
    /// Lambda and crate name, e.g. `access-control`.
    pub name: &'static str,
    /// The safeguard it implements, for docs and alerts.
    pub safeguard: &'static str,
    /// Lambda timeout: long enough for the slowest fix's bounded waits.
    pub timeout_seconds: u32,
    pub controls: &'static [&'static dyn Control],
}

impl Function {
    pub fn declarations(&self) -> impl Iterator<Item = &'static Declaration> + '_ {
        self.controls.iter().map(|c| c.declaration())
    }

    /// Controls whose triggers name this call.
    pub fn routes(&self, event_source: &str, event_name: &str) -> Vec<&'static dyn Control> {
        self.controls
            .iter()
            .copied()
            .filter(|c| {
                c.declaration()
                    .triggers
                    .iter()
                    .any(|t| t.event_source == event_source && t.event_names.contains(&event_name))
            })
            .collect()
    }

    /// Event sources with their event names, sorted: one EventBridge rule each.
    pub fn triggers(&self) -> Vec<(&'static str, BTreeSet<&'static str>)> {
        let mut by_source: Vec<(&'static str, BTreeSet<&'static str>)> = Vec::new();
        for trigger in self.declarations().flat_map(|d| d.triggers.iter()) {
            match by_source.iter_mut().find(|(s, _)| *s == trigger.event_source) {
                Some((_, names)) => names.extend(trigger.event_names.iter().copied()),
                None => by_source.push((trigger.event_source, trigger.event_names.iter().copied().collect())),
            }
        }
        by_source.sort_by_key(|(s, _)| *s);
        by_source
    }

    /// The EventBridge patterns of this function's rules, one per event source.
    pub fn patterns(&self, role_prefix: &str) -> Vec<Value> {
        self.triggers()
            .into_iter()
            .map(|(source, names)| event_pattern(source, &names, role_prefix))
            .collect()
    }

    /// The settings the function's controls read, each once.
    pub fn settings(&self) -> Vec<&'static Setting> {
        let mut all: Vec<&'static Setting> = Vec::new();
        for s in self.declarations().flat_map(|d| d.settings.iter().copied()) {
            if !all.iter().any(|known| known.env == s.env) {
                all.push(s);
            }
        }
        all
    }

    /// Every IAM action the function's controls declare, with the actions
    /// those calls depend on (see [`crate::iam::dependent_actions`]); sorted and unique.
    pub fn iam_actions(&self) -> BTreeSet<&'static str> {
        self.declarations()
            .flat_map(|d| d.permissions.iter().chain(d.resource.permissions()).copied())
            .flat_map(|a| std::iter::once(a).chain(crate::iam::dependent_actions(a).iter().copied()))
            .collect()
    }
}

/// `s3.amazonaws.com` → `aws.s3`: the EventBridge source of CloudTrail events.
pub fn eventbridge_source(event_source: &str) -> String {
    let service = event_source.split('.').next().unwrap_or(event_source);
    format!("aws.{service}")
}

/// The rule pattern for one event source. Besides the triggers it carries the
/// first loop guard: failed calls (`errorCode` present) and calls made by an
/// assumed-role session of a Safeguard role never match.
pub fn event_pattern(event_source: &str, event_names: &BTreeSet<&str>, role_prefix: &str) -> Value {
    json!({
        "source": [eventbridge_source(event_source)],
        "detail-type": [detail_type(event_source)],
        "detail": {
            "eventSource": [event_source],
            "eventName": event_names.iter().collect::<Vec<_>>(),
            "errorCode": [{ "exists": false }],
            "$or": [
                { "userIdentity": { "type": [{ "anything-but": "AssumedRole" }] } },
                { "userIdentity": { "sessionContext": { "sessionIssuer": {
                    "userName": [{ "anything-but": { "prefix": role_prefix } }]
                } } } }
            ]
        }
    })
}
