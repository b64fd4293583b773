//! Network safeguard, HIPAA 45 CFR 164.312(e)(1) transmission security: no
//! administrative or database port open to the internet, no rules on default
//! security groups, no allow-all network ACL entries, no IMDSv1.

mod default_security_group;
mod imds;
mod network_acl;
mod rules;
mod security_group_ingress;

use safeguard::{Control, Function};

pub use default_security_group::DefaultSecurityGroup;
pub use imds::InstanceMetadataV1;
pub use network_acl::NetworkAclAllowAll;
pub use security_group_ingress::OpenIngress;

pub const HIPAA: &str = "164.312(e)(1)";
pub const EC2: &str = "ec2.amazonaws.com";

pub static FUNCTION: Function = Function {
    name: "network",
    safeguard: "Transmission security and firewalling, HIPAA 164.312(e)(1)",
    timeout_seconds: 60,
    controls: &[
        &OpenIngress as &dyn Control,
        &DefaultSecurityGroup,
        &NetworkAclAllowAll,
        &InstanceMetadataV1,
    ],
};
