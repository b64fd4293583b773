//! Seeding for the threat-detection events: a GuardDuty detector disabled,
//! stripped or deleted; Security Hub and Inspector turned off; one of
//! Safeguard's rules disabled, deleted or left without targets.

use aws_sdk_guardduty::types::{DetectorFeature, DetectorFeatureConfiguration, FeatureStatus};
use aws_sdk_inspector2::types::ResourceScanType;
use safeguard::{Clients, During, Error, TrailEvent};
use serde_json::Value;

/// The region's only detector (as in AWS, one per region), fully on, then
/// changed as the event says. The event is rewritten to name it.
pub async fn seed_guardduty(clients: &Clients, event: &TrailEvent, raw: &mut Value) -> Result<String, Error> {
    let guardduty = clients.guardduty();
    let existing = guardduty
        .list_detectors()
        .send()
        .await
        .during("guardduty:ListDetectors")?;
    for id in existing.detector_ids() {
        guardduty
            .delete_detector()
            .detector_id(id)
            .send()
            .await
            .during("guardduty:DeleteDetector")?;
    }
    let feature = |name: &str, status: FeatureStatus| {
        DetectorFeatureConfiguration::builder()
            .name(DetectorFeature::from(name))
            .status(status)
            .build()
    };
    let created = guardduty
        .create_detector()
        .enable(true)
        .features(feature("S3_DATA_EVENTS", FeatureStatus::Enabled))
        .features(feature("EBS_MALWARE_PROTECTION", FeatureStatus::Enabled))
        .send()
        .await
        .during("guardduty:CreateDetector")?;
    let id = created
        .detector_id()
        .ok_or_else(|| Error::Unexpected("CreateDetector returned no id".into()))?
        .to_string();
    raw["detail"]["requestParameters"]["detectorId"] = id.clone().into();
    let request = &event.call.request_parameters;
    match event.event_name() {
        "DeleteDetector" => {
            guardduty
                .delete_detector()
                .detector_id(&id)
                .send()
                .await
                .during("guardduty:DeleteDetector")?;
            Ok(format!("the region's GuardDuty detector {id} was deleted"))
        }
        "UpdateDetector" => {
            let mut update = guardduty.update_detector().detector_id(&id);
            let mut said = Vec::new();
            if let Some(enable) = request.get("enable").and_then(Value::as_bool) {
                update = update.enable(enable);
                said.push(if enable { "enabled" } else { "disabled" }.to_string());
            }
            if let Some(features) = request.get("features").and_then(Value::as_array) {
                for f in features {
                    let name = f.get("name").and_then(Value::as_str).unwrap_or_default();
                    let status = f.get("status").and_then(Value::as_str).unwrap_or("DISABLED");
                    update = update.features(feature(name, FeatureStatus::from(status)));
                    said.push(format!("{name} {}", status.to_lowercase()));
                }
            }
            update.send().await.during("guardduty:UpdateDetector")?;
            Ok(format!("GuardDuty detector {id}: {}", said.join(", ")))
        }
        other => Ok(format!("nothing to seed for {other}")),
    }
}

pub async fn seed_securityhub(clients: &Clients) -> Result<String, Error> {
    let hub = clients.securityhub();
    hub.enable_security_hub()
        .send()
        .await
        .during("securityhub:EnableSecurityHub")?;
    hub.disable_security_hub()
        .send()
        .await
        .during("securityhub:DisableSecurityHub")?;
    Ok("Security Hub was enabled, then disabled".into())
}

pub async fn seed_inspector(clients: &Clients, event: &TrailEvent) -> Result<String, Error> {
    let account = event.account();
    let inspector = clients.inspector2();
    let all = ["EC2", "ECR", "LAMBDA"].map(ResourceScanType::from);
    inspector
        .enable()
        .account_ids(&account)
        .set_resource_types(Some(all.to_vec()))
        .send()
        .await
        .during("inspector2:Enable")?;
    let off: Vec<String> = event.strings_at("requestParameters/resourceTypes/*");
    inspector
        .disable()
        .account_ids(&account)
        .set_resource_types(Some(off.iter().map(|t| ResourceScanType::from(t.as_str())).collect()))
        .send()
        .await
        .during("inspector2:Disable")?;
    Ok(format!(
        "Inspector scans {} and no longer {}",
        "EC2, ECR, LAMBDA",
        off.join(", ")
    ))
}

/// The rule with a target, then changed as the event says. Its pattern
/// matches nothing real, so seeded rules never deliver anything.
pub async fn seed_rule(clients: &Clients, event: &TrailEvent) -> Result<String, Error> {
    let name = event
        .strings_at("requestParameters/name")
        .into_iter()
        .chain(event.strings_at("requestParameters/rule"))
        .next()
        .ok_or_else(|| Error::Event(format!("{} event names no rule", event.event_name())))?;
    let events = clients.eventbridge();
    events
        .put_rule()
        .name(&name)
        .event_pattern(r#"{"source":["safeguard.seeded-rule"]}"#)
        .send()
        .await
        .during("events:PutRule")?;
    let target = aws_sdk_eventbridge::types::Target::builder()
        .id("function")
        .arn(format!(
            "arn:aws:lambda:{}:{}:function:{name}",
            event.region(),
            event.account()
        ))
        .build()
        .map_err(|e| Error::Unexpected(e.to_string()))?;
    events
        .put_targets()
        .rule(&name)
        .targets(target)
        .send()
        .await
        .during("events:PutTargets")?;
    match event.event_name() {
        "DisableRule" => {
            events
                .disable_rule()
                .name(&name)
                .send()
                .await
                .during("events:DisableRule")?;
            Ok(format!("rule {name} was disabled"))
        }
        "RemoveTargets" | "DeleteRule" => {
            events
                .remove_targets()
                .rule(&name)
                .ids("function")
                .send()
                .await
                .during("events:RemoveTargets")?;
            if event.event_name() == "DeleteRule" {
                events
                    .delete_rule()
                    .name(&name)
                    .send()
                    .await
                    .during("events:DeleteRule")?;
                return Ok(format!("rule {name} was deleted"));
            }
            Ok(format!("rule {name} lost its targets"))
        }
        other => Ok(format!("nothing to seed for {other}")),
    }
}
