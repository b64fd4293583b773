//! The account password policy: long passwords of every character class,
//! not reused, rotated. A weaker policy is raised to the baseline; settings
//! already stricter than the baseline are kept.

use crate::{AUTHENTICATION, IAM};
use aws_sdk_iam::types::PasswordPolicy as Policy;
use safeguard::resources::Account;
use safeguard::{
    async_trait, Action, Assessment, Control, Ctx, Declaration, During, Error, Resource, Setting, Severity, Trigger,
};

pub static PASSWORD_MIN_LENGTH: Setting = Setting {
    env: "PASSWORD_MIN_LENGTH",
    parameter: "PasswordMinLength",
    default: "14",
    description: "Shortest password the account policy allows",
    allowed: &[],
};

pub static PASSWORD_REUSE_PREVENTION: Setting = Setting {
    env: "PASSWORD_REUSE_PREVENTION",
    parameter: "PasswordReusePrevention",
    default: "24",
    description: "Number of previous passwords that cannot be reused (1 to 24)",
    allowed: &[],
};

pub static PASSWORD_MAX_AGE_DAYS: Setting = Setting {
    env: "PASSWORD_MAX_AGE_DAYS",
    parameter: "PasswordMaxAgeDays",
    default: "90",
    description: "Longest a password stays valid, in days",
    allowed: &[],
};

static DECLARATION: Declaration = Declaration {
    id: "iam-password-policy",
    title: "The account password policy meets the baseline",
    resource: &Account,
    hipaa: AUTHENTICATION,
    severity: Severity::High,
    problem: "weakened its password policy",
    triggers: &[Trigger {
        event_source: IAM,
        event_names: &["UpdateAccountPasswordPolicy", "DeleteAccountPasswordPolicy"],
    }],
    permissions: &["iam:GetAccountPasswordPolicy", "iam:UpdateAccountPasswordPolicy"],
    settings: &[&PASSWORD_MIN_LENGTH, &PASSWORD_REUSE_PREVENTION, &PASSWORD_MAX_AGE_DAYS],
};

pub struct PasswordPolicy;

/// The configured baseline.
struct Baseline {
    min_length: i32,
    reuse: i32,
    max_age: i32,
}

impl Baseline {
    fn of(ctx: &Ctx<'_>) -> Baseline {
        let number = |s: &Setting, fallback: i32| ctx.settings.get(s.env).parse().unwrap_or(fallback);
        Baseline {
            min_length: number(&PASSWORD_MIN_LENGTH, 14).clamp(6, 128),
            reuse: number(&PASSWORD_REUSE_PREVENTION, 24).clamp(1, 24),
            max_age: number(&PASSWORD_MAX_AGE_DAYS, 90).clamp(1, 1095),
        }
    }

    /// What the policy lacks; empty when it meets the baseline.
    fn shortfalls(&self, p: &Policy) -> Vec<String> {
        let mut short = Vec::new();
        let length = p.minimum_password_length().unwrap_or(0);
        if length < self.min_length {
            short.push(format!("minimum length {length} (baseline {})", self.min_length));
        }
        for (on, class) in [
            (p.require_uppercase_characters(), "uppercase"),
            (p.require_lowercase_characters(), "lowercase"),
            (p.require_numbers(), "numbers"),
            (p.require_symbols(), "symbols"),
        ] {
            if !on {
                short.push(format!("{class} not required"));
            }
        }
        let reuse = p.password_reuse_prevention().unwrap_or(0);
        if reuse < self.reuse {
            short.push(format!("reuse prevention {reuse} (baseline {})", self.reuse));
        }
        match p.max_password_age() {
            Some(age) if age > 0 && age <= self.max_age => {}
            Some(age) if age > 0 => {
                short.push(format!("passwords expire after {age} days (baseline {})", self.max_age))
            }
            _ => short.push(format!("passwords never expire (baseline {} days)", self.max_age)),
        }
        short
    }
}

async fn current(ctx: &Ctx<'_>) -> Result<Option<Policy>, Error> {
    let out = ctx
        .clients
        .iam()
        .get_account_password_policy()
        .send()
        .await
        .during("iam:GetAccountPasswordPolicy");
    match out {
        Ok(out) => Ok(out.password_policy().cloned()),
        // No policy at all: IAM's defaults (8 characters, nothing else) apply.
        Err(e) if e.code() == Some("NoSuchEntity") => Ok(None),
        Err(e) => Err(e),
    }
}

#[async_trait]
impl Control for PasswordPolicy {
    fn declaration(&self) -> &'static Declaration {
        &DECLARATION
    }

    async fn check(&self, ctx: &Ctx<'_>, _resource: &Resource) -> Result<Assessment, Error> {
        let baseline = Baseline::of(ctx);
        Ok(match current(ctx).await? {
            None => Assessment::violation(
                "the account has no password policy: IAM's defaults allow 8-character passwords that never expire",
            ),
            Some(p) => {
                let short = baseline.shortfalls(&p);
                if short.is_empty() {
                    Assessment::compliant(format!(
                        "length ≥ {}, all character classes, reuse prevention {}, expiry {} days",
                        p.minimum_password_length().unwrap_or(0),
                        p.password_reuse_prevention().unwrap_or(0),
                        p.max_password_age().unwrap_or(0)
                    ))
                } else {
                    Assessment::violation(format!(
                        "the password policy is weaker than the baseline: {}",
                        short.join("; ")
                    ))
                }
            }
        })
    }

    async fn fix(&self, ctx: &Ctx<'_>, _resource: &Resource) -> Result<Action, Error> {
        let b = Baseline::of(ctx);
        let p = current(ctx).await?;
        // Keep whatever is already stricter than the baseline.
        let length = p
            .as_ref()
            .and_then(|p| p.minimum_password_length())
            .unwrap_or(0)
            .max(b.min_length);
        let reuse = p
            .as_ref()
            .and_then(|p| p.password_reuse_prevention())
            .unwrap_or(0)
            .max(b.reuse);
        let age = p
            .as_ref()
            .and_then(|p| p.max_password_age())
            .filter(|a| *a > 0)
            .map_or(b.max_age, |a| a.min(b.max_age));
        let users_may_change = p.as_ref().is_none_or(|p| p.allow_users_to_change_password());
        let hard_expiry = p.as_ref().and_then(|p| p.hard_expiry());
        ctx.clients
            .iam()
            .update_account_password_policy()
            .minimum_password_length(length)
            .require_uppercase_characters(true)
            .require_lowercase_characters(true)
            .require_numbers(true)
            .require_symbols(true)
            .password_reuse_prevention(reuse)
            .max_password_age(age)
            .allow_users_to_change_password(users_may_change)
            .set_hard_expiry(hard_expiry)
            .send()
            .await
            .during("iam:UpdateAccountPasswordPolicy")?;
        Ok(Action::Done(format!(
            "set the password policy to length ≥ {length}, all character classes, reuse prevention {reuse}, expiry {age} days"
        )))
    }

    fn planned_fix(&self) -> &'static str {
        "raise the password policy to the configured baseline, keeping stricter settings"
    }
}
