//! Authentication safeguard: people are who they say they are, and each is
//! identified uniquely. HIPAA 45 CFR 164.312(d) person or entity
//! authentication, 164.312(a)(2)(i) unique user identification, and
//! 164.308(a)(4) information access management for administrator grants.

mod admin_policy;
mod password_policy;
mod sign_in;

use safeguard::{Control, Function};

pub use admin_policy::{AdminPolicy, ADMIN_POLICY_ACTION, BREAK_GLASS_PRINCIPALS};
pub use password_policy::{PasswordPolicy, PASSWORD_MAX_AGE_DAYS, PASSWORD_MIN_LENGTH, PASSWORD_REUSE_PREVENTION};
pub use sign_in::{ConsoleLoginWithoutMfa, RootActivity};

pub const AUTHENTICATION: &str = "164.312(d)";
pub const UNIQUE_USER: &str = "164.312(a)(2)(i)";
pub const ACCESS_MANAGEMENT: &str = "164.308(a)(4)";
pub const IAM: &str = "iam.amazonaws.com";

pub static FUNCTION: Function = Function {
    name: "authentication",
    safeguard: "Person or entity authentication and unique user identification, HIPAA 164.312(d) and 164.312(a)(2)(i)",
    timeout_seconds: 60,
    controls: &[
        &PasswordPolicy as &dyn Control,
        &RootActivity,
        &ConsoleLoginWithoutMfa,
        &AdminPolicy,
    ],
};
