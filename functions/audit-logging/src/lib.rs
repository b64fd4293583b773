//! Audit-logging safeguard, HIPAA 45 CFR 164.312(b) audit controls: the
//! records of who did what keep being made and kept. CloudTrail trails keep
//! logging (validated, multi-region), the required trail exists, buckets that
//! must log keep server access logging, every VPC keeps a flow log, AWS Config
//! keeps recording, and log groups keep their logs long enough.

mod access_logging;
mod config_recorder;
mod flow_logs;
mod log_retention;
mod trail;

use safeguard::{Control, Function};

pub use access_logging::BucketAccessLogging;
pub use config_recorder::{DeliveryChannelDeleted, RecorderStopped};
pub use flow_logs::VpcFlowLogs;
pub use log_retention::LogRetention;
pub use trail::{TrailDeleted, TrailStopped, TrailWeakened};

pub const HIPAA: &str = "164.312(b)";
pub const CLOUDTRAIL: &str = "cloudtrail.amazonaws.com";
pub const S3: &str = "s3.amazonaws.com";
pub const EC2: &str = "ec2.amazonaws.com";
pub const CONFIG: &str = "config.amazonaws.com";
pub const LOGS: &str = "logs.amazonaws.com";

pub static FUNCTION: Function = Function {
    name: "audit-logging",
    safeguard: "Audit controls, HIPAA 164.312(b)",
    timeout_seconds: 60,
    controls: &[
        &TrailStopped as &dyn Control,
        &TrailWeakened,
        &TrailDeleted,
        &BucketAccessLogging,
        &VpcFlowLogs,
        &RecorderStopped,
        &DeliveryChannelDeleted,
        &LogRetention,
    ],
};
