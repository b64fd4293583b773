//! The guard guarding itself: Safeguard's EventBridge rules (named with the
//! role prefix) must stay enabled and keep their targets, or every other
//! safeguard goes quiet. A disabled rule is enabled again; a deleted rule or
//! removed targets need the stack redeployed, so they raise a critical alert.

use crate::{EVENTS, INCIDENT_PROCEDURES};
use aws_sdk_eventbridge::types::RuleState;
use safeguard::resources::EventRule;
use safeguard::{
    async_trait, Action, Assessment, Control, Ctx, Declaration, During, Error, Resource, Severity, Trigger,
};

static DECLARATION: Declaration = Declaration {
    id: "safeguard-rule-tampered",
    title: "Safeguard's own EventBridge rules stay enabled and targeted",
    resource: &EventRule,
    hipaa: INCIDENT_PROCEDURES,
    severity: Severity::Critical,
    problem: "was tampered with",
    triggers: &[Trigger {
        event_source: EVENTS,
        event_names: &["DisableRule", "DeleteRule", "RemoveTargets"],
    }],
    permissions: &["events:DescribeRule", "events:ListTargetsByRule", "events:EnableRule"],
    settings: &[],
};

pub struct SafeguardRules;

/// What is wrong with one of Safeguard's rules.
enum Damage {
    None { targets: usize },
    Deleted,
    Disabled,
    NoTargets,
}

impl SafeguardRules {
    async fn damage(&self, ctx: &Ctx<'_>, name: &str) -> Result<Damage, Error> {
        let bus = EventRule::bus(ctx.event);
        let events = ctx.clients.eventbridge();
        let rule = events
            .describe_rule()
            .name(name)
            .set_event_bus_name(bus.clone())
            .send()
            .await
            .during("events:DescribeRule");
        let rule = match rule {
            Ok(rule) => rule,
            Err(e) if e.code() == Some("ResourceNotFoundException") => return Ok(Damage::Deleted),
            Err(e) => return Err(e),
        };
        if rule.state() != Some(&RuleState::Enabled) {
            return Ok(Damage::Disabled);
        }
        let targets = events
            .list_targets_by_rule()
            .rule(name)
            .set_event_bus_name(bus)
            .send()
            .await
            .during("events:ListTargetsByRule")?
            .targets()
            .len();
        Ok(if targets == 0 {
            Damage::NoTargets
        } else {
            Damage::None { targets }
        })
    }

    fn ours(ctx: &Ctx<'_>, name: &str) -> bool {
        name.starts_with(ctx.role_prefix)
    }
}

#[async_trait]
impl Control for SafeguardRules {
    fn declaration(&self) -> &'static Declaration {
        &DECLARATION
    }

    async fn check(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Assessment, Error> {
        if !Self::ours(ctx, &resource.id) {
            return Ok(Assessment::compliant(format!(
                "not one of Safeguard's rules (their names start with {:?})",
                ctx.role_prefix
            )));
        }
        Ok(match self.damage(ctx, &resource.id).await? {
            Damage::None { targets } => Assessment::compliant(format!("the rule is enabled with {targets} target(s)")),
            Damage::Deleted => {
                Assessment::violation("Safeguard's rule was deleted: the events it routed no longer reach Safeguard")
            }
            Damage::Disabled => {
                Assessment::violation("Safeguard's rule is disabled: the events it routes no longer reach Safeguard")
            }
            Damage::NoTargets => {
                Assessment::violation("Safeguard's rule has no targets: the events it matches reach no function")
            }
        })
    }

    async fn fix(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Action, Error> {
        match self.damage(ctx, &resource.id).await? {
            Damage::Disabled => {
                ctx.clients
                    .eventbridge()
                    .enable_rule()
                    .name(&resource.id)
                    .set_event_bus_name(EventRule::bus(ctx.event))
                    .send()
                    .await
                    .during("events:EnableRule")?;
                Ok(Action::Done("enabled the rule again".into()))
            }
            Damage::Deleted | Damage::NoTargets => Ok(Action::Withheld(
                "critical: redeploy the Safeguard stack (sam deploy, or the CloudFormation stack update) to restore the rule and its targets"
                    .into(),
            )),
            Damage::None { .. } => Ok(Action::Done("nothing: the rule is intact again".into())),
        }
    }

    fn planned_fix(&self) -> &'static str {
        "enable a disabled rule again; report a deleted rule or removed targets (critical: redeploy the stack)"
    }
}
