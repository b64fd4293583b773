//! Encryption safeguard, HIPAA 45 CFR 164.312(a)(2)(iv) encryption at rest and
//! 164.312(e)(2)(ii) encryption in transit: EBS volumes and the account
//! default, S3 default encryption and TLS-only access, KMS key hygiene.

mod ebs_default;
mod kms;
mod s3_encryption;
mod s3_tls;
pub mod tls_policy;
mod volume;

use safeguard::{Control, Function, Setting};

pub use ebs_default::EbsEncryptionByDefault;
pub use kms::{KeyDisabled, KeyPendingDeletion, KeyRotation};
pub use s3_encryption::BucketDefaultEncryption;
pub use s3_tls::BucketTlsOnly;
pub use volume::UnencryptedVolume;

pub const AT_REST: &str = "164.312(a)(2)(iv)";
pub const IN_TRANSIT: &str = "164.312(e)(2)(ii)";
pub const EC2: &str = "ec2.amazonaws.com";
pub const S3: &str = "s3.amazonaws.com";
pub const KMS: &str = "kms.amazonaws.com";

pub static KMS_KEY_ID: Setting = Setting {
    env: "KMS_KEY_ID",
    parameter: "EncryptionKmsKeyId",
    default: "",
    description: "KMS key for encrypted volume copies and SSE-KMS buckets (empty: the account's default keys)",
    allowed: &[],
};

pub static FUNCTION: Function = Function {
    name: "encryption",
    safeguard: "Encryption at rest and in transit, HIPAA 164.312(a)(2)(iv) and 164.312(e)(2)(ii)",
    // Volume replacements wait on snapshots and copies: Lambda's maximum,
    // with VOLUME_WAIT_SECONDS (840) bounding the waits inside it.
    timeout_seconds: 900,
    controls: &[
        &UnencryptedVolume as &dyn Control,
        &EbsEncryptionByDefault,
        &BucketDefaultEncryption,
        &BucketTlsOnly,
        &KeyRotation,
        &KeyPendingDeletion,
        &KeyDisabled,
    ],
};
