//! Access-control safeguard, HIPAA 45 CFR 164.312(a)(1): no PHI store is
//! open to the world: S3 buckets (at the bucket and the account level), EBS
//! snapshots and AMIs, RDS instances and snapshots.

mod account_public_access_block;
mod bucket;
mod bucket_public_access_block;
mod bucket_public_acl;
mod bucket_public_policy;
mod rds_public;
mod shared_images;

use safeguard::{Control, Function};

pub use account_public_access_block::AccountPublicAccessBlock;
pub use bucket_public_access_block::BucketPublicAccessBlock;
pub use bucket_public_acl::BucketPublicAcl;
pub use bucket_public_policy::BucketPublicPolicy;
pub use rds_public::{PublicDbInstance, PUBLIC_DB_CLUSTER_SNAPSHOT, PUBLIC_DB_SNAPSHOT};
pub use shared_images::{PublicImage, PublicSnapshot};

pub const HIPAA: &str = "164.312(a)(1)";
pub const S3: &str = "s3.amazonaws.com";
pub const EC2: &str = "ec2.amazonaws.com";
pub const RDS: &str = "rds.amazonaws.com";

pub static FUNCTION: Function = Function {
    name: "access-control",
    safeguard: "Access control, HIPAA 164.312(a)(1)",
    timeout_seconds: 60,
    controls: &[
        &BucketPublicAcl as &dyn Control,
        &BucketPublicPolicy,
        &BucketPublicAccessBlock,
        &AccountPublicAccessBlock,
        &PublicSnapshot,
        &PublicImage,
        &PublicDbInstance,
        &PUBLIC_DB_SNAPSHOT,
        &PUBLIC_DB_CLUSTER_SNAPSHOT,
    ],
};
