//! CloudTrail is the audit trail itself: stopping, weakening or deleting a
//! trail blinds every other control and every investigation.

use crate::{CLOUDTRAIL, HIPAA};
use safeguard::error::AwsErrorKind;
use safeguard::resources::Trail;
use safeguard::{
    async_trait, Action, Assessment, Control, Ctx, Declaration, During, Error, Resource, Setting, Severity, Trigger,
};

pub static REQUIRED_TRAIL: Setting = Setting {
    env: "REQUIRED_TRAIL",
    parameter: "RequiredTrailName",
    default: "",
    description: "Name of a trail that must exist: recreated (multi-region, validated, logging) when deleted. \
                  Empty: a deleted trail is only reported",
    allowed: &[],
};

pub static TRAIL_BUCKET: Setting = Setting {
    env: "TRAIL_BUCKET",
    parameter: "TrailBucketName",
    default: "",
    description: "S3 bucket a recreated trail delivers to (its policy must admit CloudTrail)",
    allowed: &[],
};

/// `arn:aws:cloudtrail:…:trail/org-trail` → `org-trail`.
fn trail_name(id: &str) -> &str {
    id.rsplit_once(":trail/").map(|(_, n)| n).unwrap_or(id)
}

async fn trail(ctx: &Ctx<'_>, id: &str) -> Result<aws_sdk_cloudtrail::types::Trail, Error> {
    let out = ctx
        .clients
        .cloudtrail()
        .get_trail()
        .name(id)
        .send()
        .await
        .during("cloudtrail:GetTrail")?;
    out.trail()
        .cloned()
        .ok_or_else(|| Error::Unexpected(format!("GetTrail returned no trail for {id}")))
}

static STOPPED: Declaration = Declaration {
    id: "cloudtrail-logging-stopped",
    title: "CloudTrail trails keep logging",
    resource: &Trail,
    hipaa: HIPAA,
    severity: Severity::Critical,
    problem: "stopped logging",
    triggers: &[Trigger {
        event_source: CLOUDTRAIL,
        event_names: &["StopLogging"],
    }],
    permissions: &["cloudtrail:GetTrailStatus", "cloudtrail:StartLogging"],
    settings: &[],
};

/// Someone tried to blind the audit trail: logging is started again at once,
/// and the alert names who stopped it.
pub struct TrailStopped;

#[async_trait]
impl Control for TrailStopped {
    fn declaration(&self) -> &'static Declaration {
        &STOPPED
    }

    async fn check(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Assessment, Error> {
        let out = ctx
            .clients
            .cloudtrail()
            .get_trail_status()
            .name(&resource.id)
            .send()
            .await
            .during("cloudtrail:GetTrailStatus")?;
        Ok(if out.is_logging() == Some(true) {
            Assessment::compliant("the trail is logging")
        } else {
            Assessment::violation("the trail is not logging: API activity is not being recorded")
        })
    }

    async fn fix(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Action, Error> {
        ctx.clients
            .cloudtrail()
            .start_logging()
            .name(&resource.id)
            .send()
            .await
            .during("cloudtrail:StartLogging")?;
        Ok(Action::Done("started logging again".into()))
    }

    fn planned_fix(&self) -> &'static str {
        "start logging again"
    }
}

static WEAKENED: Declaration = Declaration {
    id: "cloudtrail-trail-weakened",
    title: "CloudTrail trails validate their log files and cover every region",
    resource: &Trail,
    hipaa: HIPAA,
    severity: Severity::High,
    problem: "lost validation or regions",
    triggers: &[Trigger {
        event_source: CLOUDTRAIL,
        event_names: &["CreateTrail", "UpdateTrail"],
    }],
    permissions: &["cloudtrail:GetTrail", "cloudtrail:UpdateTrail"],
    settings: &[],
};

/// Log-file validation proves the logs were not altered; a single-region
/// trail misses activity everywhere else.
pub struct TrailWeakened;

#[async_trait]
impl Control for TrailWeakened {
    fn declaration(&self) -> &'static Declaration {
        &WEAKENED
    }

    async fn check(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Assessment, Error> {
        let t = trail(ctx, &resource.id).await?;
        let mut missing = Vec::new();
        if t.log_file_validation_enabled() != Some(true) {
            missing.push("log-file validation is off");
        }
        if t.is_multi_region_trail() != Some(true) {
            missing.push("the trail covers one region only");
        }
        Ok(if missing.is_empty() {
            Assessment::compliant("log-file validation is on and the trail covers every region")
        } else {
            Assessment::violation(missing.join("; "))
        })
    }

    async fn fix(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Action, Error> {
        ctx.clients
            .cloudtrail()
            .update_trail()
            .name(&resource.id)
            .enable_log_file_validation(true)
            .is_multi_region_trail(true)
            .send()
            .await
            .during("cloudtrail:UpdateTrail")?;
        Ok(Action::Done(
            "turned log-file validation and multi-region logging back on".into(),
        ))
    }

    fn planned_fix(&self) -> &'static str {
        "turn log-file validation and multi-region logging back on"
    }
}

static DELETED: Declaration = Declaration {
    id: "cloudtrail-trail-deleted",
    title: "The required CloudTrail trail exists",
    resource: &Trail,
    hipaa: HIPAA,
    severity: Severity::Critical,
    problem: "was deleted",
    triggers: &[Trigger {
        event_source: CLOUDTRAIL,
        event_names: &["DeleteTrail"],
    }],
    permissions: &[
        "cloudtrail:GetTrail",
        "cloudtrail:CreateTrail",
        "cloudtrail:StartLogging",
    ],
    settings: &[&REQUIRED_TRAIL, &TRAIL_BUCKET],
};

/// A deleted trail is always a critical alert; the one the deployment names
/// as required is recreated, multi-region and validated, and logging.
pub struct TrailDeleted;

#[async_trait]
impl Control for TrailDeleted {
    fn declaration(&self) -> &'static Declaration {
        &DELETED
    }

    async fn check(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Assessment, Error> {
        match trail(ctx, &resource.id).await {
            Ok(t) => Ok(Assessment::compliant(format!(
                "the trail exists, delivering to s3://{}",
                t.s3_bucket_name().unwrap_or("?")
            ))),
            Err(e) if e.kind() == Some(AwsErrorKind::NotFound) => Ok(Assessment::violation(
                "the trail is gone: the activity it recorded is no longer being logged",
            )),
            Err(e) => Err(e),
        }
    }

    async fn fix(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Action, Error> {
        let name = trail_name(&resource.id);
        let required = ctx.settings.get(REQUIRED_TRAIL.env);
        let bucket = ctx.settings.get(TRAIL_BUCKET.env);
        if required != name {
            return Ok(Action::Withheld(format!(
                "critical: the trail {name} was deleted and is not the one this deployment requires \
                 (REQUIRED_TRAIL={required:?}); recreate it by hand, or name it in REQUIRED_TRAIL"
            )));
        }
        if bucket.is_empty() {
            return Ok(Action::Withheld(format!(
                "critical: the required trail {name} was deleted, but TRAIL_BUCKET is not set, so it cannot be recreated"
            )));
        }
        let cloudtrail = ctx.clients.cloudtrail();
        cloudtrail
            .create_trail()
            .name(name)
            .s3_bucket_name(bucket)
            .is_multi_region_trail(true)
            .enable_log_file_validation(true)
            .include_global_service_events(true)
            .send()
            .await
            .during("cloudtrail:CreateTrail")?;
        cloudtrail
            .start_logging()
            .name(name)
            .send()
            .await
            .during("cloudtrail:StartLogging")?;
        Ok(Action::Done(format!(
            "recreated the trail {name} (multi-region, log-file validation on, to s3://{bucket}) and started it"
        )))
    }

    fn planned_fix(&self) -> &'static str {
        "recreate the required trail (multi-region, validated, logging); any other deleted trail is reported"
    }
}
