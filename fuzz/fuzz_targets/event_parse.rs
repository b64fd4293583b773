//! Any bytes as a Lambda payload: parsing and every accessor the engine and
//! the resource kinds use must return, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use safeguard::TrailEvent;

const PATHS: &[&str] = &[
    "requestParameters/bucketName",
    "requestParameters/groupId",
    "responseElements/securityGroupRuleSet/items/*/groupId",
    "responseElements/instancesSet/items/*/instanceId",
    "requestParameters/ipPermissions/items/*/ipRanges/items/*/cidrIp",
    "requestParameters/policyDocument",
];

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let _ = safeguard::event::raw_identity(&raw);
    let Ok(event) = TrailEvent::parse(raw) else {
        return;
    };
    let _ = (
        event.id(),
        event.event_name(),
        event.event_source(),
        event.account(),
        event.region(),
    );
    let _ = (
        event.time(),
        event.error_code(),
        event.actor(),
        event.assumed_role_name(),
    );
    let _ = event.request_str("bucketName");
    for path in PATHS {
        let _ = event.strings_at(path);
    }
});
