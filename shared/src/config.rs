//! Configuration from the environment, validated once at init.

use crate::error::Error;
use std::collections::BTreeMap;

pub const DEFAULT_EXEMPT_TAG_KEY: &str = "safeguard:exempt";
pub const DEFAULT_ROLE_PREFIX: &str = "safeguard-";

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Fix what is wrong, then alert.
    Remediate,
    /// Change nothing; alert with what would have been done.
    DryRun,
}

impl Mode {
    pub fn parse(value: &str) -> Result<Mode, Error> {
        match value.trim() {
            "remediate" => Ok(Mode::Remediate),
            "dry-run" => Ok(Mode::DryRun),
            other => Err(Error::Config(format!(
                "MODE must be \"remediate\" or \"dry-run\", not {other:?}"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Remediate => "remediate",
            Mode::DryRun => "dry-run",
        }
    }
}

/// Central-account operation: the functions run in one account and handle
/// events forwarded from member accounts through a role each member
/// provides. Unset, a deployment protects its own account only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Organization {
    /// The account the functions run in (`HOME_ACCOUNT`).
    pub home_account: Option<String>,
    /// The role to assume in a member account (`MEMBER_ROLE`): a role name,
    /// or an ARN with `{account_id}` standing for the member's id.
    pub member_role: Option<String>,
    /// The external id the member role's trust policy requires (`MEMBER_EXTERNAL_ID`).
    pub external_id: Option<String>,
    /// The member accounts whose events are handled (`MEMBER_ACCOUNTS`);
    /// empty: any account that can reach the bus (its policy admits the organization only).
    pub member_accounts: Vec<String>,
}

impl Organization {
    /// Is `account` another account than the one the functions run in?
    pub fn is_member(&self, account: &str) -> bool {
        self.home_account
            .as_deref()
            .is_some_and(|home| !account.is_empty() && account != home)
    }

    /// The role to assume for `account`, when it is a member.
    pub fn role_arn(&self, account: &str) -> Option<String> {
        if !self.is_member(account) {
            return None;
        }
        let role = self.member_role.as_deref()?;
        Some(if role.starts_with("arn:") {
            role.replace("{account_id}", account)
        } else {
            format!("arn:aws:iam::{account}:role/{role}")
        })
    }

    /// Why an event from `account` is not handled, if it is not.
    pub fn refuses(&self, account: &str) -> Option<String> {
        if !self.is_member(account) {
            return None;
        }
        let home = self.home_account.as_deref().unwrap_or_default();
        if self.member_role.is_none() {
            return Some(format!(
                "the event comes from account {account}, and this deployment protects account {home} only (set MEMBER_ROLE to act in member accounts)"
            ));
        }
        if !self.member_accounts.is_empty() && !self.member_accounts.iter().any(|a| a == account) {
            return Some(format!(
                "account {account} is not one of the member accounts this deployment protects (MEMBER_ACCOUNTS)"
            ));
        }
        None
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub mode: Mode,
    /// Where alerts go. Required by the Lambda entry point.
    pub topic_arn: Option<String>,
    /// Tag whose presence exempts a resource; its value is the reason.
    pub exempt_tag_key: String,
    /// Prefix of every Safeguard IAM role: events made by these roles are ours.
    pub role_prefix: String,
    /// Resources that cannot carry tags (the account itself, say), exempted by id.
    pub exempt_resources: BTreeMap<String, String>,
    /// This function's own role, named in AccessDenied alerts.
    pub role_arn: Option<String>,
    pub organization: Organization,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            mode: Mode::Remediate,
            topic_arn: None,
            exempt_tag_key: DEFAULT_EXEMPT_TAG_KEY.into(),
            role_prefix: DEFAULT_ROLE_PREFIX.into(),
            exempt_resources: BTreeMap::new(),
            role_arn: None,
            organization: Organization::default(),
        }
    }
}

impl Config {
    pub fn from_env() -> Result<Config, Error> {
        Config::from_lookup(|key| std::env::var(key).ok())
    }

    /// Build from any key lookup (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, Error> {
        let get = |key: &str| lookup(key).filter(|v| !v.trim().is_empty());
        let mut config = Config::default();
        if let Some(mode) = get("MODE") {
            config.mode = Mode::parse(&mode)?;
        }
        if let Some(arn) = get("SNS_TOPIC_ARN") {
            if !arn.starts_with("arn:") || arn.split(':').count() != 6 {
                return Err(Error::Config(format!(
                    "SNS_TOPIC_ARN must be a topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME), not {arn:?}"
                )));
            }
            config.topic_arn = Some(arn);
        }
        if let Some(key) = get("EXEMPT_TAG_KEY") {
            if key.len() > 120 {
                return Err(Error::Config(format!(
                    "EXEMPT_TAG_KEY is {} characters; tag keys allow 128 and Safeguard appends \"-until\"",
                    key.len()
                )));
            }
            config.exempt_tag_key = key;
        }
        if let Some(prefix) = get("ROLE_PREFIX") {
            let valid = prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
            if !valid || prefix.len() > 32 {
                return Err(Error::Config(format!(
                    "ROLE_PREFIX must be at most 32 characters of IAM role-name characters, not {prefix:?}"
                )));
            }
            config.role_prefix = prefix;
        }
        if let Some(list) = get("EXEMPT_RESOURCES") {
            for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
                let (id, reason) = entry.split_once('=').ok_or_else(|| {
                    Error::Config(format!(
                        "EXEMPT_RESOURCES entries are RESOURCE=REASON, separated by commas; {entry:?} has no '='"
                    ))
                })?;
                config
                    .exempt_resources
                    .insert(id.trim().to_string(), reason.trim().to_string());
            }
        }
        config.role_arn = get("SAFEGUARD_ROLE_ARN");
        let account_id = |v: &str| v.len() == 12 && v.chars().all(|c| c.is_ascii_digit());
        config.organization = Organization {
            home_account: get("HOME_ACCOUNT").map(|a| a.trim().to_string()),
            member_role: get("MEMBER_ROLE").map(|r| r.trim().to_string()),
            external_id: get("MEMBER_EXTERNAL_ID"),
            member_accounts: get("MEMBER_ACCOUNTS")
                .map(|l| {
                    l.split(',')
                        .map(str::trim)
                        .filter(|a| !a.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
        };
        let org = &config.organization;
        for account in org.home_account.iter().chain(&org.member_accounts) {
            if !account_id(account) {
                return Err(Error::Config(format!(
                    "HOME_ACCOUNT and MEMBER_ACCOUNTS hold 12-digit account ids, not {account:?}"
                )));
            }
        }
        if org.member_role.is_some() && org.home_account.is_none() {
            return Err(Error::Config(
                "MEMBER_ROLE needs HOME_ACCOUNT, the account the functions run in".into(),
            ));
        }
        Ok(config)
    }

    /// The topic, or a clear error where alerts are mandatory.
    pub fn require_topic(&self) -> Result<&str, Error> {
        self.topic_arn
            .as_deref()
            .ok_or_else(|| Error::Config("SNS_TOPIC_ARN is not set: Safeguard needs a topic for its alerts".into()))
    }

    /// Companion tag: the date after which an exemption lapses.
    pub fn exempt_until_tag_key(&self) -> String {
        format!("{}-until", self.exempt_tag_key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(pairs: &[(&str, &str)]) -> Result<Config, Error> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_apply_when_unset() {
        let c = from(&[]).unwrap();
        assert_eq!(c.mode, Mode::Remediate);
        assert_eq!(c.exempt_tag_key, "safeguard:exempt");
        assert_eq!(c.exempt_until_tag_key(), "safeguard:exempt-until");
        assert_eq!(c.role_prefix, "safeguard-");
        assert!(c.require_topic().is_err());
    }

    #[test]
    fn reads_every_setting() {
        let c = from(&[
            ("MODE", "dry-run"),
            ("SNS_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:alerts"),
            ("EXEMPT_TAG_KEY", "hipaa:exempt"),
            ("ROLE_PREFIX", "sg-"),
            ("EXEMPT_RESOURCES", "123456789012=sandbox account, bucket-a = legacy"),
        ])
        .unwrap();
        assert_eq!(c.mode, Mode::DryRun);
        assert_eq!(c.require_topic().unwrap(), "arn:aws:sns:us-east-1:123456789012:alerts");
        assert_eq!(c.exempt_tag_key, "hipaa:exempt");
        assert_eq!(c.role_prefix, "sg-");
        assert_eq!(c.exempt_resources.get("bucket-a").map(String::as_str), Some("legacy"));
        assert_eq!(c.exempt_resources.len(), 2);
    }

    #[test]
    fn rejects_bad_values_with_a_clear_error() {
        let e = from(&[("MODE", "fix")]).unwrap_err().to_string();
        assert!(e.contains("MODE must be"), "{e}");
        let e = from(&[("SNS_TOPIC_ARN", "alerts")]).unwrap_err().to_string();
        assert!(e.contains("SNS_TOPIC_ARN"), "{e}");
        let e = from(&[("ROLE_PREFIX", "bad prefix!")]).unwrap_err().to_string();
        assert!(e.contains("ROLE_PREFIX"), "{e}");
        let e = from(&[("EXEMPT_RESOURCES", "no-reason")]).unwrap_err().to_string();
        assert!(e.contains("RESOURCE=REASON"), "{e}");
    }

    #[test]
    fn organization_settings() {
        let org = from(&[
            ("HOME_ACCOUNT", "111111111111"),
            ("MEMBER_ROLE", "safeguard-member"),
            ("MEMBER_ACCOUNTS", "222222222222, 333333333333"),
        ])
        .map(|c| c.organization)
        .unwrap_or_default();
        assert_eq!(org.refuses("111111111111"), None);
        assert_eq!(org.refuses("222222222222"), None);
        assert!(org
            .refuses("444444444444")
            .is_some_and(|r| r.contains("MEMBER_ACCOUNTS")));
        assert_eq!(org.role_arn("111111111111"), None);
        assert_eq!(
            org.role_arn("222222222222").as_deref(),
            Some("arn:aws:iam::222222222222:role/safeguard-member")
        );
        let templated = Organization {
            member_role: Some("arn:aws:iam::{account_id}:role/ops/guard".into()),
            ..org
        };
        assert_eq!(
            templated.role_arn("333333333333").as_deref(),
            Some("arn:aws:iam::333333333333:role/ops/guard")
        );
        let alone = Organization {
            home_account: Some("111111111111".into()),
            ..Organization::default()
        };
        assert!(alone.refuses("222222222222").is_some_and(|r| r.contains("MEMBER_ROLE")));
        assert!(Organization::default().refuses("222222222222").is_none());
        for bad in [
            vec![("MEMBER_ROLE", "r")],
            vec![("HOME_ACCOUNT", "12345")],
            vec![("HOME_ACCOUNT", "111111111111"), ("MEMBER_ACCOUNTS", "x")],
        ] {
            assert!(from(&bad).is_err(), "{bad:?}");
        }
    }
}
