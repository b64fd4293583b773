//! The `safeguard` command: replay events through the deployed routing, run
//! the demo, seed the emulator, and generate the deployment template. A thin
//! layer over `shared`; the Makefile targets wrap it.

pub mod demo;
pub mod docs;
pub mod emulator;
pub mod report;
pub mod router;
pub mod seed;
pub mod seed_audit;
pub mod seed_backup;
pub mod seed_ec2;
pub mod seed_iam;
pub mod seed_rds;
pub mod seed_threat;
pub mod template;

use safeguard::Function;

/// Every deployable function. A new safeguard is added here once.
pub fn functions() -> Vec<&'static Function> {
    vec![
        &access_control::FUNCTION,
        &authentication::FUNCTION,
        &audit_logging::FUNCTION,
        &backup_integrity::FUNCTION,
        &encryption::FUNCTION,
        &network::FUNCTION,
        &threat_detection::FUNCTION,
    ]
}
