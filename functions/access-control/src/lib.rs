//! Access-control safeguard, HIPAA 45 CFR 164.312(a)(1): no PHI bucket is
//! readable by the world, at the bucket or at the account level.

mod account_public_access_block;
mod bucket;
mod bucket_public_access_block;
mod bucket_public_acl;
mod bucket_public_policy;

use safeguard::{Control, Function};

pub use account_public_access_block::AccountPublicAccessBlock;
pub use bucket_public_access_block::BucketPublicAccessBlock;
pub use bucket_public_acl::BucketPublicAcl;
pub use bucket_public_policy::BucketPublicPolicy;

pub static FUNCTION: Function = Function {
    name: "access-control",
    safeguard: "Access control, HIPAA 164.312(a)(1)",
    timeout_seconds: 60,
    controls: &[
        &BucketPublicAcl as &dyn Control,
        &BucketPublicPolicy,
        &BucketPublicAccessBlock,
        &AccountPublicAccessBlock,
    ],
};
