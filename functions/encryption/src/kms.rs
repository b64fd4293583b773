//! KMS key hygiene: the keys that encrypt PHI keep rotating, and are neither
//! deleted nor silently disabled.

use crate::{AT_REST, KMS};
use aws_sdk_kms::types::{KeyManagerType, KeyMetadata, KeySpec, KeyState};
use safeguard::resources::KmsKey;
use safeguard::{
    async_trait, Action, Assessment, Control, Ctx, Declaration, During, Error, Resource, Severity, Trigger,
};

/// The key's metadata; mutating calls then use its `KeyId`, whichever way
/// (id, ARN) the event named the key.
async fn metadata(ctx: &Ctx<'_>, key: &str) -> Result<KeyMetadata, Error> {
    let out = ctx
        .clients
        .kms()
        .describe_key()
        .key_id(key)
        .send()
        .await
        .during("kms:DescribeKey")?;
    out.key_metadata()
        .cloned()
        .ok_or_else(|| Error::Unexpected(format!("DescribeKey returned nothing for {key}")))
}

fn state(m: &KeyMetadata) -> &str {
    m.key_state().map(|s| s.as_str()).unwrap_or("unknown")
}

static ROTATION: Declaration = Declaration {
    id: "kms-key-rotation",
    title: "Customer-managed KMS keys rotate their key material yearly",
    resource: &KmsKey,
    hipaa: AT_REST,
    severity: Severity::Medium,
    problem: "stopped rotating",
    triggers: &[Trigger {
        event_source: KMS,
        event_names: &["DisableKeyRotation"],
    }],
    permissions: &["kms:DescribeKey", "kms:GetKeyRotationStatus", "kms:EnableKeyRotation"],
    settings: &[],
};

pub struct KeyRotation;

#[async_trait]
impl Control for KeyRotation {
    fn declaration(&self) -> &'static Declaration {
        &ROTATION
    }

    async fn check(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Assessment, Error> {
        let m = metadata(ctx, &resource.id).await?;
        // Only enabled, symmetric, customer-managed keys can rotate automatically.
        if m.key_manager() != Some(&KeyManagerType::Customer) || m.key_spec() != Some(&KeySpec::SymmetricDefault) {
            return Ok(Assessment::compliant("automatic rotation does not apply to this key"));
        }
        if m.key_state() != Some(&KeyState::Enabled) {
            return Ok(Assessment::compliant(format!(
                "the key is {}; rotation is checked when it is enabled",
                state(&m)
            )));
        }
        let out = ctx
            .clients
            .kms()
            .get_key_rotation_status()
            .key_id(m.key_id())
            .send()
            .await
            .during("kms:GetKeyRotationStatus")?;
        Ok(if out.key_rotation_enabled() {
            Assessment::compliant("automatic key rotation is on")
        } else {
            Assessment::violation("automatic key rotation is off")
        })
    }

    async fn fix(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Action, Error> {
        let key = metadata(ctx, &resource.id).await?.key_id().to_string();
        ctx.clients
            .kms()
            .enable_key_rotation()
            .key_id(key)
            .send()
            .await
            .during("kms:EnableKeyRotation")?;
        Ok(Action::Done("turned automatic key rotation back on".into()))
    }

    fn planned_fix(&self) -> &'static str {
        "turn automatic key rotation back on"
    }
}

static PENDING_DELETION: Declaration = Declaration {
    id: "kms-key-pending-deletion",
    title: "KMS keys that protect PHI are not deleted",
    resource: &KmsKey,
    hipaa: AT_REST,
    severity: Severity::Critical,
    problem: "was scheduled for deletion",
    triggers: &[Trigger {
        event_source: KMS,
        event_names: &["ScheduleKeyDeletion"],
    }],
    permissions: &["kms:DescribeKey", "kms:CancelKeyDeletion", "kms:EnableKey"],
    settings: &[],
};

/// Deleting a key makes everything it encrypted unreadable, forever. The
/// deletion is cancelled and the key enabled again (cancelling leaves it disabled).
pub struct KeyPendingDeletion;

#[async_trait]
impl Control for KeyPendingDeletion {
    fn declaration(&self) -> &'static Declaration {
        &PENDING_DELETION
    }

    async fn check(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Assessment, Error> {
        let m = metadata(ctx, &resource.id).await?;
        Ok(match m.key_state() {
            Some(KeyState::PendingDeletion) => {
                let when = m.deletion_date().map(|d| format!(" on {d}")).unwrap_or_default();
                Assessment::violation(format!("the key is scheduled for deletion{when}"))
            }
            Some(KeyState::Disabled) => {
                Assessment::violation("the key is disabled (a cancelled deletion leaves it so)".to_string())
            }
            _ => Assessment::compliant(format!("the key is {}", state(&m))),
        })
    }

    async fn fix(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Action, Error> {
        let m = metadata(ctx, &resource.id).await?;
        let kms = ctx.clients.kms();
        let mut done = Vec::new();
        if m.key_state() == Some(&KeyState::PendingDeletion) {
            kms.cancel_key_deletion()
                .key_id(m.key_id())
                .send()
                .await
                .during("kms:CancelKeyDeletion")?;
            done.push("cancelled the scheduled deletion");
        }
        kms.enable_key()
            .key_id(m.key_id())
            .send()
            .await
            .during("kms:EnableKey")?;
        done.push("enabled the key again");
        Ok(Action::Done(done.join(" and ")))
    }

    fn planned_fix(&self) -> &'static str {
        "cancel the key's scheduled deletion and enable it again"
    }
}

static DISABLED: Declaration = Declaration {
    id: "kms-key-disabled",
    title: "Disabling a KMS key is reported",
    resource: &KmsKey,
    hipaa: AT_REST,
    severity: Severity::High,
    problem: "was disabled",
    triggers: &[Trigger {
        event_source: KMS,
        event_names: &["DisableKey"],
    }],
    permissions: &["kms:DescribeKey"],
    settings: &[],
};

/// A disabled key may be a deliberate step (retiring data), so Safeguard only
/// reports it; exempt keys that are meant to stay disabled.
pub struct KeyDisabled;

#[async_trait]
impl Control for KeyDisabled {
    fn declaration(&self) -> &'static Declaration {
        &DISABLED
    }

    async fn check(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Assessment, Error> {
        let m = metadata(ctx, &resource.id).await?;
        Ok(if m.key_state() == Some(&KeyState::Disabled) {
            Assessment::violation("the key is disabled: data it encrypts cannot be decrypted")
        } else {
            Assessment::compliant(format!("the key is {}", state(&m)))
        })
    }

    async fn fix(&self, _ctx: &Ctx<'_>, _resource: &Resource) -> Result<Action, Error> {
        Ok(Action::Withheld(
            "notify-only: disabling a key can be intentional. Enable it again if not, or tag it with the exemption tag"
                .into(),
        ))
    }

    fn planned_fix(&self) -> &'static str {
        "report it (notify-only: a disabled key may be intended)"
    }

    fn notify_only(&self) -> bool {
        true
    }
}
