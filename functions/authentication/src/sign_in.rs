//! Sign-ins and root use are findings in themselves: there is no state to
//! put back, so these controls report (notify-only) what the event shows.

use crate::{AUTHENTICATION, IAM, UNIQUE_USER};
use safeguard::event::SIGN_IN_SOURCE;
use safeguard::resources::{Account, SignedInUser};
use safeguard::{
    async_trait, Action, Assessment, Control, Ctx, Declaration, During, Error, Resource, Severity, TrailEvent, Trigger,
};

fn mfa_used(event: &TrailEvent) -> &str {
    event
        .call
        .additional_event_data
        .as_ref()
        .and_then(|d| d.get("MFAUsed"))
        .and_then(|v| v.as_str())
        .unwrap_or("unknown")
}

fn succeeded(event: &TrailEvent) -> bool {
    let result = event
        .call
        .response_elements
        .as_ref()
        .and_then(|r| r.get("ConsoleLogin"))
        .and_then(|v| v.as_str());
    result == Some("Success")
}

static ROOT: Declaration = Declaration {
    id: "root-account-activity",
    title: "The root user is not used",
    resource: &Account,
    hipaa: UNIQUE_USER,
    severity: Severity::Critical,
    problem: "was used as root",
    triggers: &[
        Trigger {
            event_source: IAM,
            event_names: &["CreateAccessKey"],
        },
        Trigger {
            event_source: SIGN_IN_SOURCE,
            event_names: &["ConsoleLogin"],
        },
    ],
    permissions: &["iam:GetAccountSummary"],
    settings: &[],
};

pub struct RootActivity;

#[async_trait]
impl Control for RootActivity {
    fn declaration(&self) -> &'static Declaration {
        &ROOT
    }

    async fn check(&self, ctx: &Ctx<'_>, _resource: &Resource) -> Result<Assessment, Error> {
        let event = ctx.event;
        if event.call.user_identity.r#type != "Root" {
            return Ok(Assessment::compliant("made by an IAM identity, not the root user"));
        }
        let from = &event.call.source_ipaddress;
        if event.event_name() == "ConsoleLogin" {
            if !succeeded(event) {
                return Ok(Assessment::violation(format!(
                    "someone tried to sign in as the root user from {from} and failed"
                )));
            }
            return Ok(Assessment::violation(format!(
                "the root user signed in to the console from {from} (MFA used: {})",
                mfa_used(event)
            )));
        }
        // CreateAccessKey for an IAM user names it; for the root user, no one.
        if let Some(user) = event.request_str("userName") {
            return Ok(Assessment::compliant(format!(
                "the root user created an access key for IAM user {user}, not for itself"
            )));
        }
        let key = event
            .strings_at("responseElements/accessKey/accessKeyId")
            .into_iter()
            .next()
            .unwrap_or_else(|| "(id not in the event)".into());
        let summary = ctx
            .clients
            .iam()
            .get_account_summary()
            .send()
            .await
            .during("iam:GetAccountSummary")?;
        let present = summary
            .summary_map()
            .and_then(|m| m.iter().find(|(k, _)| k.as_str() == "AccountAccessKeysPresent"))
            .map(|(_, v)| *v)
            .unwrap_or(0);
        Ok(Assessment::violation(format!(
            "the root user created access key {key} from {from}; the root user has {present} active access key(s) now"
        )))
    }

    async fn fix(&self, _ctx: &Ctx<'_>, _resource: &Resource) -> Result<Action, Error> {
        Ok(Action::Withheld(
            "notify-only: confirm who used the root user; delete any root access key and keep the root user's MFA device locked away".into(),
        ))
    }

    fn planned_fix(&self) -> &'static str {
        "report it (notify-only, critical: root use is a finding, not a setting)"
    }

    fn notify_only(&self) -> bool {
        true
    }
}

static NO_MFA: Declaration = Declaration {
    id: "console-login-without-mfa",
    title: "IAM users sign in to the console with MFA",
    resource: &SignedInUser,
    hipaa: AUTHENTICATION,
    severity: Severity::High,
    problem: "signed in without MFA",
    triggers: &[Trigger {
        event_source: SIGN_IN_SOURCE,
        event_names: &["ConsoleLogin"],
    }],
    permissions: &[],
    settings: &[],
};

pub struct ConsoleLoginWithoutMfa;

#[async_trait]
impl Control for ConsoleLoginWithoutMfa {
    fn declaration(&self) -> &'static Declaration {
        &NO_MFA
    }

    async fn check(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Assessment, Error> {
        let event = ctx.event;
        let kind = event.call.user_identity.r#type.as_str();
        Ok(match (kind, succeeded(event), mfa_used(event)) {
            (_, false, _) => Assessment::compliant("the sign-in failed"),
            ("Root", _, _) => Assessment::compliant("a root sign-in: reported by root-account-activity"),
            ("IAMUser", true, "No") => Assessment::violation(format!(
                "IAM user {} signed in to the console without MFA from {}",
                resource.id, event.call.source_ipaddress
            )),
            ("IAMUser", true, _) => Assessment::compliant("signed in with MFA"),
            (other, true, _) => Assessment::compliant(format!(
                "a federated sign-in ({other}): the identity provider enforces MFA"
            )),
        })
    }

    async fn fix(&self, _ctx: &Ctx<'_>, _resource: &Resource) -> Result<Action, Error> {
        Ok(Action::Withheld(
            "notify-only: give the user an MFA device, and deny console access without MFA (aws:MultiFactorAuthPresent)".into(),
        ))
    }

    fn planned_fix(&self) -> &'static str {
        "report it (notify-only: the user needs an MFA device)"
    }

    fn notify_only(&self) -> bool {
        true
    }
}
