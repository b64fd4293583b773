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
}
