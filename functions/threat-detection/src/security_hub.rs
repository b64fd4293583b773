//! Security Hub gathers the findings of GuardDuty, Inspector, Config and
//! partners in one place for incident response. Turning it off also deletes
//! its findings, so re-enabling is the deployment's choice; a critical alert
//! always goes out.

use crate::{INCIDENT_PROCEDURES, SECURITYHUB};
use safeguard::resources::Account;
use safeguard::{
    async_trait, Action, Assessment, Control, Ctx, Declaration, During, Error, Resource, Setting, Severity, Trigger,
};

pub static SECURITY_HUB_ACTION: Setting = Setting {
    env: "SECURITY_HUB_ACTION",
    parameter: "SecurityHubAction",
    default: "notify",
    description: "When Security Hub is disabled: notify (critical alert only) or enable (subscribe again, with the default standards)",
    allowed: &["notify", "enable"],
};

static DECLARATION: Declaration = Declaration {
    id: "securityhub-disabled",
    title: "Security Hub stays enabled",
    resource: &Account,
    hipaa: INCIDENT_PROCEDURES,
    severity: Severity::Critical,
    problem: "disabled Security Hub",
    triggers: &[Trigger {
        event_source: SECURITYHUB,
        event_names: &["DisableSecurityHub"],
    }],
    permissions: &["securityhub:DescribeHub", "securityhub:EnableSecurityHub"],
    settings: &[&SECURITY_HUB_ACTION],
};

pub struct SecurityHubDisabled;

/// What Security Hub answers when the account is not subscribed.
const NOT_SUBSCRIBED: &[&str] = &["InvalidAccessException", "ResourceNotFoundException"];

#[async_trait]
impl Control for SecurityHubDisabled {
    fn declaration(&self) -> &'static Declaration {
        &DECLARATION
    }

    async fn check(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Assessment, Error> {
        let out = ctx
            .clients
            .securityhub()
            .describe_hub()
            .send()
            .await
            .during("securityhub:DescribeHub");
        match out {
            Ok(hub) => Ok(Assessment::compliant(format!(
                "Security Hub is enabled{}",
                hub.subscribed_at().map(|t| format!(" (since {t})")).unwrap_or_default()
            ))),
            Err(e) if e.code().is_some_and(|c| NOT_SUBSCRIBED.contains(&c)) => Ok(Assessment::violation(format!(
                "Security Hub is off in {}: findings are no longer collected for incident response",
                resource.region
            ))),
            Err(e) => Err(e),
        }
    }

    async fn fix(&self, ctx: &Ctx<'_>, _resource: &Resource) -> Result<Action, Error> {
        if ctx.settings.get(SECURITY_HUB_ACTION.env) != "enable" {
            return Ok(Action::Withheld(
                "critical: re-enable Security Hub (its findings were deleted with it), or set SECURITY_HUB_ACTION=enable to let Safeguard do it".into(),
            ));
        }
        ctx.clients
            .securityhub()
            .enable_security_hub()
            .enable_default_standards(true)
            .send()
            .await
            .during("securityhub:EnableSecurityHub")?;
        Ok(Action::Done(
            "enabled Security Hub again, with the default standards".into(),
        ))
    }

    fn planned_fix(&self) -> &'static str {
        "enable Security Hub again with SECURITY_HUB_ACTION=enable, else report it (critical)"
    }
}
