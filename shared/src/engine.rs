//! The handler shared by every function: parse, guard against loops, route to
//! controls, check, honour exemptions and dry-run, fix, read back, alert, and
//! record exactly one outcome per event and control.

use crate::aws::{Aws, Clients};
use crate::config::{Config, Mode};
use crate::control::{Action, Control, Ctx, Function, Reads, Resource};
use crate::error::{AwsErrorKind, Error};
use crate::event::{raw_identity, TrailEvent};
use crate::notify::{compose, Notifier};
use crate::outcome::{Outcome, Status};
use crate::settings::Settings;
use chrono::NaiveDate;
use serde_json::Value;

pub struct Engine<N> {
    function: &'static Function,
    config: Config,
    settings: Settings,
    aws: Aws,
    notifier: N,
}

enum Exemption {
    None,
    Active(String),
    Lapsed(String),
}

impl<N: Notifier> Engine<N> {
    /// An engine with the settings' defaults; see [`Engine::with_settings`].
    pub fn new(function: &'static Function, config: Config, aws: Aws, notifier: N) -> Self {
        let settings = Settings::defaults(function.settings());
        let aws = aws.with_organization(config.organization.clone());
        Engine {
            function,
            config,
            settings,
            aws,
            notifier,
        }
    }

    pub fn with_settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn function(&self) -> &'static Function {
        self.function
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn aws(&self) -> &Aws {
        &self.aws
    }

    /// Handle one EventBridge event. Never fails: transient errors come back as
    /// `failed` outcomes marked `retryable`, for the caller to turn into a retry.
    pub async fn handle(&self, raw: Value) -> Vec<Outcome> {
        let (raw_id, raw_name) = raw_identity(&raw);
        let event = match TrailEvent::parse(raw) {
            Ok(event) => event,
            Err(err) => {
                let mut o = self.blank(raw_id, raw_name);
                o.status = Status::Failed;
                o.detail = err.to_string();
                return vec![self.finish(o, None).await];
            }
        };
        if let Some(reason) = self.guard(&event) {
            let mut o = self.draft(&event);
            o.status = Status::Ignored;
            o.detail = reason;
            return vec![self.finish(o, None).await];
        }
        let controls = self.function.routes(event.event_source(), event.event_name());
        if controls.is_empty() {
            let mut o = self.draft(&event);
            o.status = Status::Ignored;
            o.detail = format!(
                "no control of {} handles {}:{}",
                self.function.name,
                event.event_source(),
                event.event_name()
            );
            return vec![self.finish(o, None).await];
        }
        let reads = Reads::default();
        let mut outcomes = Vec::with_capacity(controls.len());
        for control in controls {
            for o in self.run_control(control, &event, &reads).await {
                outcomes.push(self.finish(o, Some(control)).await);
            }
        }
        outcomes
    }

    /// The loop guard in code, behind the one in the EventBridge pattern.
    pub fn guard(&self, event: &TrailEvent) -> Option<String> {
        if let Some(code) = event.error_code() {
            return Some(format!(
                "the {} call failed ({code}): it changed nothing, so there is nothing to fix",
                event.event_name()
            ));
        }
        if let Some(role) = event.assumed_role_name() {
            if role.starts_with(&self.config.role_prefix) {
                return Some(format!(
                    "made by Safeguard's own role {role}: ignored so that a fix never triggers another"
                ));
            }
        }
        self.config.organization.refuses(&event.account())
    }

    /// One outcome per resource the event names (usually one).
    async fn run_control(&self, control: &dyn Control, event: &TrailEvent, reads: &Reads) -> Vec<Outcome> {
        let d = control.declaration();
        let mut o = self.draft(event);
        o.control = Some(d.id.to_string());
        o.hipaa = Some(d.hipaa);
        o.severity = Some(d.severity);
        let clients = match self.aws.clients_in(&event.account(), &event.region()).await {
            Ok(clients) => clients,
            Err(err) => return vec![failed(o, &err, &self.config)],
        };
        let ids = match d.resource.ids(&clients, event).await {
            Ok(ids) if !ids.is_empty() => ids,
            Ok(_) => {
                let err = Error::Event(format!("{} event names no {}", event.event_name(), d.resource.name()));
                return vec![failed(o, &err, &self.config)];
            }
            Err(err) => return vec![failed(o, &err, &self.config)],
        };
        let mut outcomes = Vec::with_capacity(ids.len());
        for id in ids {
            let mut o = o.clone();
            o.resource = Some(id.clone());
            let resource = Resource {
                id,
                account: event.account(),
                region: event.region(),
            };
            outcomes.push(self.run_on(control, event, &clients, reads, o, &resource).await);
        }
        outcomes
    }

    async fn run_on(
        &self,
        control: &dyn Control,
        event: &TrailEvent,
        clients: &Clients,
        reads: &Reads,
        mut o: Outcome,
        resource: &Resource,
    ) -> Outcome {
        let kind = control.declaration().resource.name();
        let ctx = Ctx {
            clients,
            settings: &self.settings,
            event,
            role_prefix: &self.config.role_prefix,
            reads,
        };

        let before = match control.check(&ctx, resource).await {
            Ok(a) => a,
            Err(err) => return self.error_outcome(o, kind, resource, err),
        };
        o.state_before = Some(before.state.clone());
        if before.compliant {
            o.status = Status::Compliant;
            o.detail = format!("{} \"{}\" is compliant: {}", kind, resource.id, before.state);
            return o;
        }
        let lapsed = match self.exemption(control, clients, resource).await {
            Ok(Exemption::Active(reason)) => {
                o.status = Status::Exempt;
                o.detail = format!("not changed, exempt: {reason}");
                return o;
            }
            Ok(Exemption::Lapsed(note)) => Some(note),
            Ok(Exemption::None) => None,
            Err(err) => return self.error_outcome(o, kind, resource, err),
        };
        let lapsed = lapsed.map(|n| format!(" ({n})")).unwrap_or_default();
        if self.config.mode == Mode::DryRun {
            o.status = Status::WouldRemediate;
            o.action = Some(control.planned_fix().to_string());
            o.detail = format!("dry-run: would {}{lapsed}", control.planned_fix());
            return o;
        }
        let fixed = control.fix(&ctx, resource).await;
        // Whatever the fix changed, even when it failed half-way, is read afresh.
        reads.forget();
        let (action, readback) = match fixed {
            Ok(Action::Done(action)) => (action, resource.clone()),
            Ok(Action::Replaced { id, what }) => (what, Resource { id, ..resource.clone() }),
            Ok(Action::Withheld(reason)) => {
                o.status = Status::WouldRemediate;
                o.action = Some(control.planned_fix().to_string());
                o.detail = format!("not changed: {reason}{lapsed}");
                return o;
            }
            Err(err) => return self.error_outcome(o, kind, resource, err),
        };
        o.action = Some(action.clone());
        let replaced = if readback.id == resource.id {
            String::new()
        } else {
            format!("{} ", readback.id)
        };
        match control.check(&ctx, &readback).await {
            Ok(after) => {
                o.state_after = Some(format!("{replaced}{}", after.state));
                if after.compliant {
                    o.status = Status::Remediated;
                    o.detail = format!("{action}{lapsed}");
                } else {
                    o.status = Status::Failed;
                    o.detail = format!(
                        "{action}, but the state read back is still non-compliant: {}",
                        after.state
                    );
                }
                o
            }
            Err(err) => self.error_outcome(o, kind, &readback, err),
        }
    }

    async fn exemption(
        &self,
        control: &dyn Control,
        clients: &Clients,
        resource: &Resource,
    ) -> Result<Exemption, Error> {
        if let Some(reason) = self.config.exempt_resources.get(&resource.id) {
            return Ok(Exemption::Active(format!("{reason} (EXEMPT_RESOURCES)")));
        }
        let tags = control.declaration().resource.tags(clients, resource).await?;
        let tag = |key: &str| tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.trim().to_string());
        let Some(reason) = tag(&self.config.exempt_tag_key) else {
            return Ok(Exemption::None);
        };
        let reason = if reason.is_empty() {
            "no reason given".to_string()
        } else {
            reason
        };
        let until_key = self.config.exempt_until_tag_key();
        match tag(&until_key) {
            None => Ok(Exemption::Active(format!(
                "{} = {reason:?}",
                self.config.exempt_tag_key
            ))),
            Some(until) => match parse_date(&until) {
                Some(date) if date >= chrono::Utc::now().date_naive() => Ok(Exemption::Active(format!(
                    "{} = {reason:?} until {date}",
                    self.config.exempt_tag_key
                ))),
                Some(date) => Ok(Exemption::Lapsed(format!("its exemption {reason:?} lapsed on {date}"))),
                None => Ok(Exemption::Lapsed(format!(
                    "its exemption is not honoured: {until_key} = {until:?} is not a date (YYYY-MM-DD)"
                ))),
            },
        }
    }

    fn error_outcome(&self, mut o: Outcome, kind: &str, resource: &Resource, err: Error) -> Outcome {
        if err.kind() == Some(AwsErrorKind::NotFound) {
            o.status = Status::Ignored;
            o.detail = format!("{kind} \"{}\" no longer exists ({err}): nothing to fix", resource.id);
            return o;
        }
        failed(o, &err, &self.config)
    }

    fn blank(&self, event_id: String, event_name: String) -> Outcome {
        Outcome::new(
            event_id,
            event_name,
            self.function.name,
            self.config.mode,
            Status::Ignored,
            String::new(),
        )
    }

    fn draft(&self, event: &TrailEvent) -> Outcome {
        let mut o = self.blank(event.id(), event.event_name().to_string());
        o.account = event.account();
        o.region = event.region();
        o.actor = Some(event.actor());
        o.event_time = Some(event.time());
        o
    }

    /// Alert when it matters, then log the outcome as one structured line.
    async fn finish(&self, o: Outcome, control: Option<&dyn Control>) -> Outcome {
        let mut o = o.clipped();
        if o.status.alerts() {
            let alert = compose(&o, control.map(|c| c.declaration()), &self.config.exempt_tag_key);
            o.subject = Some(alert.subject.clone());
            match self.notifier.publish(&alert).await {
                Ok(()) => o.notified = true,
                Err(err) => tracing::error!(event_id = %o.event_id, error = %err, "alert could not be published"),
            }
        }
        tracing::info!(
            event_id = %o.event_id,
            event_name = %o.event_name,
            function = %o.function,
            control = o.control.as_deref().unwrap_or("-"),
            resource = o.resource.as_deref().unwrap_or("-"),
            status = o.status.as_str(),
            notified = o.notified,
            retryable = o.retryable,
            detail = %o.detail,
            "outcome"
        );
        o
    }
}

fn failed(mut o: Outcome, err: &Error, config: &Config) -> Outcome {
    o.status = Status::Failed;
    o.retryable = err.is_retryable();
    o.detail = match (err.kind(), &config.role_arn) {
        (Some(AwsErrorKind::AccessDenied), Some(role)) => format!("{err} [role {role}]"),
        _ if o.retryable => format!("{err} (transient: Lambda will retry)"),
        _ => err.to_string(),
    };
    o
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .or_else(|| chrono::DateTime::parse_from_rfc3339(s).ok().map(|d| d.date_naive()))
}
