//! Threat-detection safeguard: the services that watch for attacks and
//! malware stay on. HIPAA 45 CFR 164.308(a)(1)(ii)(D) information system
//! activity review, 164.308(a)(5)(ii)(B) protection from malicious software,
//! 164.308(a)(6) security incident procedures. Also the guard guarding
//! itself: Safeguard's own EventBridge rules stay enabled and targeted.

mod guardduty;
mod inspector;
mod rules;
mod security_hub;

use safeguard::{Control, Function};

pub use guardduty::{DetectorDeleted, DetectorDisabled, DetectorFeatures, GUARDDUTY_FEATURES};
pub use inspector::{InspectorDisabled, INSPECTOR_RESOURCE_TYPES};
pub use rules::SafeguardRules;
pub use security_hub::{SecurityHubDisabled, SECURITY_HUB_ACTION};

pub const ACTIVITY_REVIEW: &str = "164.308(a)(1)(ii)(D)";
pub const MALICIOUS_SOFTWARE: &str = "164.308(a)(5)(ii)(B)";
pub const INCIDENT_PROCEDURES: &str = "164.308(a)(6)";
pub const GUARDDUTY: &str = "guardduty.amazonaws.com";
pub const SECURITYHUB: &str = "securityhub.amazonaws.com";
pub const INSPECTOR: &str = "inspector2.amazonaws.com";
pub const EVENTS: &str = "events.amazonaws.com";

pub static FUNCTION: Function = Function {
    name: "threat-detection",
    safeguard:
        "Activity review, malicious software and incident procedures, HIPAA 164.308(a)(1)(ii)(D), (a)(5)(ii)(B), (a)(6)",
    timeout_seconds: 60,
    controls: &[
        &DetectorDisabled as &dyn Control,
        &DetectorDeleted,
        &DetectorFeatures,
        &SecurityHubDisabled,
        &InspectorDisabled,
        &SafeguardRules,
    ],
};
