//! HIPAA keeps documentation six years (164.316(b)(2)); audit logs kept for
//! less are lost evidence. Retention below the minimum is raised to it.
//! A group whose retention was removed keeps its logs forever: compliant,
//! and never shortened, since shortening would delete logs.

use crate::{HIPAA, LOGS};
use safeguard::error::{AwsError, AwsErrorKind};
use safeguard::resources::LogGroup;
use safeguard::{
    async_trait, Action, Assessment, Control, Ctx, Declaration, During, Error, Resource, Setting, Severity, Trigger,
};

pub static MIN_LOG_RETENTION_DAYS: Setting = Setting {
    env: "MIN_LOG_RETENTION_DAYS",
    parameter: "MinLogRetentionDays",
    default: "2192",
    description: "Shortest retention, in days, of the log groups that hold audit logs (2192: six years)",
    allowed: &[],
};

pub static AUDIT_LOG_GROUP_PREFIXES: Setting = Setting {
    env: "AUDIT_LOG_GROUP_PREFIXES",
    parameter: "AuditLogGroupPrefixes",
    default: "",
    description: "Name prefixes of the log groups that hold audit logs (comma-separated; empty: every log group)",
    allowed: &[],
};

/// The values CloudWatch Logs accepts for a retention policy.
const ALLOWED_DAYS: &[i32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

static DECLARATION: Declaration = Declaration {
    id: "log-group-retention",
    title: "Audit log groups keep their logs at least the minimum retention",
    resource: &LogGroup,
    hipaa: HIPAA,
    severity: Severity::Medium,
    problem: "kept logs too briefly",
    triggers: &[Trigger {
        event_source: LOGS,
        event_names: &["PutRetentionPolicy", "DeleteRetentionPolicy"],
    }],
    permissions: &["logs:DescribeLogGroups", "logs:PutRetentionPolicy"],
    settings: &[&MIN_LOG_RETENTION_DAYS, &AUDIT_LOG_GROUP_PREFIXES],
};

pub struct LogRetention;

/// The configured minimum, rounded up to a value CloudWatch Logs accepts.
fn minimum(ctx: &Ctx<'_>) -> i32 {
    let wanted: i32 = ctx.settings.get(MIN_LOG_RETENTION_DAYS.env).parse().unwrap_or(2192);
    ALLOWED_DAYS.iter().copied().find(|d| *d >= wanted).unwrap_or(3653)
}

#[async_trait]
impl Control for LogRetention {
    fn declaration(&self) -> &'static Declaration {
        &DECLARATION
    }

    async fn check(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Assessment, Error> {
        let prefixes = ctx.settings.list(AUDIT_LOG_GROUP_PREFIXES.env);
        if !prefixes.is_empty() && !prefixes.iter().any(|p| resource.id.starts_with(p)) {
            return Ok(Assessment::compliant(
                "not an audit log group (its name matches no AUDIT_LOG_GROUP_PREFIXES)",
            ));
        }
        let out = ctx
            .clients
            .logs()
            .describe_log_groups()
            .log_group_name_prefix(&resource.id)
            .send()
            .await
            .during("logs:DescribeLogGroups")?;
        let Some(group) = out
            .log_groups()
            .iter()
            .find(|g| g.log_group_name() == Some(&resource.id))
        else {
            return Err(Error::Aws(AwsError {
                kind: AwsErrorKind::NotFound,
                code: "ResourceNotFoundException".into(),
                message: format!("no log group named {}", resource.id),
                action: Some("logs:DescribeLogGroups"),
            }));
        };
        let min = minimum(ctx);
        Ok(match group.retention_in_days() {
            None => Assessment::compliant("logs never expire"),
            Some(days) if days >= min => Assessment::compliant(format!("logs are kept {days} days (minimum {min})")),
            Some(days) => Assessment::violation(format!("logs are kept only {days} days (minimum {min})")),
        })
    }

    async fn fix(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Action, Error> {
        let min = minimum(ctx);
        ctx.clients
            .logs()
            .put_retention_policy()
            .log_group_name(&resource.id)
            .retention_in_days(min)
            .send()
            .await
            .during("logs:PutRetentionPolicy")?;
        Ok(Action::Done(format!("raised the retention to {min} days")))
    }

    fn planned_fix(&self) -> &'static str {
        "raise the log group's retention to the configured minimum"
    }
}
