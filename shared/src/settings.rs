//! Options a control reads (a KMS key, a port list...). Each control declares
//! the settings it needs; the function's environment supplies them, the
//! template turns each into a parameter, and they are validated at init.

use crate::error::Error;
use std::collections::BTreeMap;

#[derive(Debug)]
pub struct Setting {
    /// Environment variable, e.g. `KMS_KEY_ID`.
    pub env: &'static str,
    /// CloudFormation parameter that sets it, e.g. `KmsKeyId`.
    pub parameter: &'static str,
    pub default: &'static str,
    pub description: &'static str,
    /// Allowed values; empty means free text.
    pub allowed: &'static [&'static str],
}

/// Validated values of a function's settings.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    values: BTreeMap<&'static str, String>,
}

impl Settings {
    pub fn load<'a>(
        declared: impl IntoIterator<Item = &'a Setting>,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Settings, Error> {
        let mut values = BTreeMap::new();
        for setting in declared {
            let value = lookup(setting.env)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty());
            let value = value.unwrap_or_else(|| setting.default.to_string());
            if !setting.allowed.is_empty() && !setting.allowed.contains(&value.as_str()) {
                return Err(Error::Config(format!(
                    "{} must be one of {}, not {value:?}",
                    setting.env,
                    setting.allowed.join(", ")
                )));
            }
            values.insert(setting.env, value);
        }
        Ok(Settings { values })
    }

    /// From the environment, validated.
    pub fn from_env<'a>(declared: impl IntoIterator<Item = &'a Setting>) -> Result<Settings, Error> {
        Settings::load(declared, |key| std::env::var(key).ok())
    }

    /// Every setting at its default.
    pub fn defaults<'a>(declared: impl IntoIterator<Item = &'a Setting>) -> Settings {
        let values = declared.into_iter().map(|s| (s.env, s.default.to_string())).collect();
        Settings { values }
    }

    /// The value, or the empty string for a setting no control declared.
    pub fn get(&self, env: &str) -> &str {
        self.values.get(env).map(String::as_str).unwrap_or_default()
    }

    /// A comma-separated setting as a list.
    pub fn list(&self, env: &str) -> Vec<&str> {
        self.get(env)
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// Override one value (tests, the CLI).
    pub fn set(&mut self, env: &'static str, value: impl Into<String>) {
        self.values.insert(env, value.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static ACTION: Setting = Setting {
        env: "ATTACHED_VOLUME_ACTION",
        parameter: "AttachedVolumeAction",
        default: "notify",
        description: "",
        allowed: &["notify", "swap"],
    };
    static PORTS: Setting = Setting {
        env: "ADMIN_PORTS",
        parameter: "AdminPorts",
        default: "22, 3389",
        description: "",
        allowed: &[],
    };

    #[test]
    fn defaults_values_and_validation() {
        let s = Settings::load([&ACTION, &PORTS], |_| None).unwrap_or_default();
        assert_eq!(s.get("ATTACHED_VOLUME_ACTION"), "notify");
        assert_eq!(s.list("ADMIN_PORTS"), vec!["22", "3389"]);
        let s = Settings::load([&ACTION], |k| (k == "ATTACHED_VOLUME_ACTION").then(|| "swap".into()));
        assert_eq!(
            s.map(|s| s.get("ATTACHED_VOLUME_ACTION").to_string()).ok().as_deref(),
            Some("swap")
        );
        let err = Settings::load([&ACTION], |_| Some("stop".into()))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("ATTACHED_VOLUME_ACTION must be one of notify, swap"),
            "{err}"
        );
    }
}
