//! GuardDuty watches CloudTrail, DNS and flow logs for attacks, and scans S3
//! objects and EBS volumes for malware. Disabled, deleted or stripped of its
//! protection features, it stops looking.

use crate::{ACTIVITY_REVIEW, GUARDDUTY, MALICIOUS_SOFTWARE};
use aws_sdk_guardduty::operation::get_detector::GetDetectorOutput;
use aws_sdk_guardduty::types::{DetectorFeature, DetectorFeatureConfiguration, DetectorStatus, FeatureStatus};
use safeguard::resources::Detector;
use safeguard::{
    async_trait, Action, Assessment, Control, Ctx, Declaration, During, Error, Resource, Setting, Severity, Trigger,
};

pub static GUARDDUTY_FEATURES: Setting = Setting {
    env: "GUARDDUTY_FEATURES",
    parameter: "GuardDutyFeatures",
    default: "S3_DATA_EVENTS,EBS_MALWARE_PROTECTION",
    description: "GuardDuty protection features that must stay on, and that a recreated detector gets (comma-separated, e.g. S3_DATA_EVENTS, EBS_MALWARE_PROTECTION, RDS_LOGIN_EVENTS, RUNTIME_MONITORING)",
    allowed: &[],
};

static DISABLED: Declaration = Declaration {
    id: "guardduty-detector-disabled",
    title: "GuardDuty detectors stay enabled",
    resource: &Detector,
    hipaa: ACTIVITY_REVIEW,
    severity: Severity::High,
    problem: "was disabled",
    triggers: &[Trigger {
        event_source: GUARDDUTY,
        event_names: &["UpdateDetector"],
    }],
    permissions: &["guardduty:GetDetector", "guardduty:UpdateDetector"],
    settings: &[],
};

pub struct DetectorDisabled;

#[async_trait]
impl Control for DetectorDisabled {
    fn declaration(&self) -> &'static Declaration {
        &DISABLED
    }

    async fn check(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Assessment, Error> {
        let out = detector(ctx, &resource.id).await?;
        Ok(match out.status() {
            Some(DetectorStatus::Enabled) => Assessment::compliant("the detector is enabled"),
            other => Assessment::violation(format!(
                "the detector is {}: no threat findings are produced",
                other.map(|s| s.as_str()).unwrap_or("in an unknown state")
            )),
        })
    }

    async fn fix(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Action, Error> {
        ctx.clients
            .guardduty()
            .update_detector()
            .detector_id(&resource.id)
            .enable(true)
            .send()
            .await
            .during("guardduty:UpdateDetector")?;
        Ok(Action::Done("enabled the detector again".into()))
    }

    fn planned_fix(&self) -> &'static str {
        "enable the detector again"
    }
}

static DELETED: Declaration = Declaration {
    id: "guardduty-detector-deleted",
    title: "Every region keeps an enabled GuardDuty detector",
    resource: &Detector,
    hipaa: ACTIVITY_REVIEW,
    severity: Severity::Critical,
    problem: "was deleted",
    triggers: &[Trigger {
        event_source: GUARDDUTY,
        event_names: &["DeleteDetector"],
    }],
    permissions: &[
        "guardduty:ListDetectors",
        "guardduty:GetDetector",
        "guardduty:CreateDetector",
    ],
    settings: &[&GUARDDUTY_FEATURES],
};

pub struct DetectorDeleted;

/// The detector as GuardDuty describes it; a deleted one is gone.
async fn detector(ctx: &Ctx<'_>, id: &str) -> Result<GetDetectorOutput, Error> {
    ctx.clients
        .guardduty()
        .get_detector()
        .detector_id(id)
        .send()
        .await
        .during("guardduty:GetDetector")
        .map_err(|e| e.gone_if(Detector::GONE))
}

/// The enabled detector of the region, if any.
async fn enabled_detector(ctx: &Ctx<'_>) -> Result<Option<String>, Error> {
    let guardduty = ctx.clients.guardduty();
    let ids = guardduty
        .list_detectors()
        .send()
        .await
        .during("guardduty:ListDetectors")?
        .detector_ids()
        .to_vec();
    for id in ids {
        if detector(ctx, &id).await?.status() == Some(&DetectorStatus::Enabled) {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

fn wanted_features(ctx: &Ctx<'_>) -> Vec<DetectorFeatureConfiguration> {
    ctx.settings
        .list(GUARDDUTY_FEATURES.env)
        .into_iter()
        .map(|name| {
            DetectorFeatureConfiguration::builder()
                .name(DetectorFeature::from(name))
                .status(FeatureStatus::Enabled)
                .build()
        })
        .collect()
}

#[async_trait]
impl Control for DetectorDeleted {
    fn declaration(&self) -> &'static Declaration {
        &DELETED
    }

    async fn check(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Assessment, Error> {
        Ok(match enabled_detector(ctx).await? {
            Some(id) => Assessment::compliant(format!("the region has an enabled detector, {id}")),
            None => Assessment::violation(format!(
                "no enabled GuardDuty detector is left in {}: threats go unnoticed",
                resource.region
            )),
        })
    }

    async fn fix(&self, ctx: &Ctx<'_>, _resource: &Resource) -> Result<Action, Error> {
        let features = wanted_features(ctx);
        let names: Vec<&str> = features.iter().filter_map(|f| f.name()).map(|n| n.as_str()).collect();
        let out = ctx
            .clients
            .guardduty()
            .create_detector()
            .enable(true)
            .set_features(Some(features.clone()))
            .send()
            .await
            .during("guardduty:CreateDetector")?;
        let id = out.detector_id().unwrap_or("(no id returned)");
        Ok(Action::Done(format!(
            "created a new enabled detector {id} with {}",
            if names.is_empty() {
                "GuardDuty's default features".to_string()
            } else {
                names.join(", ")
            }
        )))
    }

    fn planned_fix(&self) -> &'static str {
        "create a new enabled detector with the configured protection features"
    }
}

static FEATURES: Declaration = Declaration {
    id: "guardduty-protection-features",
    title: "GuardDuty keeps its malware and S3 protection features on",
    resource: &Detector,
    hipaa: MALICIOUS_SOFTWARE,
    severity: Severity::High,
    problem: "lost protections",
    triggers: &[Trigger {
        event_source: GUARDDUTY,
        event_names: &["UpdateDetector"],
    }],
    permissions: &["guardduty:GetDetector", "guardduty:UpdateDetector"],
    settings: &[&GUARDDUTY_FEATURES],
};

pub struct DetectorFeatures;

#[async_trait]
impl Control for DetectorFeatures {
    fn declaration(&self) -> &'static Declaration {
        &FEATURES
    }

    async fn check(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Assessment, Error> {
        let out = detector(ctx, &resource.id).await?;
        let on: Vec<&str> = out
            .features()
            .iter()
            .filter(|f| f.status() == Some(&FeatureStatus::Enabled))
            .filter_map(|f| f.name())
            .map(|n| n.as_str())
            .collect();
        let wanted = ctx.settings.list(GUARDDUTY_FEATURES.env);
        let off: Vec<&str> = wanted.iter().copied().filter(|w| !on.contains(w)).collect();
        Ok(if off.is_empty() {
            Assessment::compliant(format!("protection features on: {}", wanted.join(", ")))
        } else {
            Assessment::violation(format!("protection features off: {}", off.join(", ")))
        })
    }

    async fn fix(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Action, Error> {
        let features = wanted_features(ctx);
        let names: Vec<&str> = features.iter().filter_map(|f| f.name()).map(|n| n.as_str()).collect();
        let said = names.join(", ");
        ctx.clients
            .guardduty()
            .update_detector()
            .detector_id(&resource.id)
            .set_features(Some(features))
            .send()
            .await
            .during("guardduty:UpdateDetector")?;
        Ok(Action::Done(format!("turned protection features back on: {said}")))
    }

    fn planned_fix(&self) -> &'static str {
        "turn the configured protection features back on"
    }
}
