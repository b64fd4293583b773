//! Backup vaults hold the last copy of PHI. A vault open to anyone, or one
//! whose lock was removed (so backups can be deleted early), is a critical
//! report: changing a vault's policy or lock is for its owners to decide.

use crate::{BACKUP, CONTINGENCY};
use safeguard::policy::public_allows;
use safeguard::resources::BackupVault;
use safeguard::{
    async_trait, Action, Assessment, Control, Ctx, Declaration, During, Error, Resource, Severity, Trigger,
};

static PUBLIC: Declaration = Declaration {
    id: "backup-vault-policy-public",
    title: "Backup vault access policies admit no one outside the account",
    resource: &BackupVault,
    hipaa: CONTINGENCY,
    severity: Severity::Critical,
    problem: "was opened to everyone",
    triggers: &[Trigger {
        event_source: BACKUP,
        event_names: &["PutBackupVaultAccessPolicy"],
    }],
    permissions: &["backup:GetBackupVaultAccessPolicy"],
    settings: &[],
};

pub struct VaultPolicyPublic;

#[async_trait]
impl Control for VaultPolicyPublic {
    fn declaration(&self) -> &'static Declaration {
        &PUBLIC
    }

    async fn check(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Assessment, Error> {
        let out = ctx
            .clients
            .backup()
            .get_backup_vault_access_policy()
            .backup_vault_name(&resource.id)
            .send()
            .await
            .during("backup:GetBackupVaultAccessPolicy");
        let policy = match out {
            Ok(out) => out.policy().unwrap_or_default().to_string(),
            // A vault with no policy admits only its own account.
            Err(e) if e.code() == Some("ResourceNotFoundException") => {
                return Ok(Assessment::compliant("the vault has no access policy"));
            }
            Err(e) => return Err(e),
        };
        let doc: serde_json::Value = serde_json::from_str(&policy)
            .map_err(|e| Error::Unexpected(format!("the vault's access policy is not JSON: {e}")))?;
        let open = public_allows(&doc);
        Ok(if open.is_empty() {
            Assessment::compliant("the access policy allows no one outside named principals")
        } else {
            Assessment::violation(format!(
                "the access policy allows everyone (Principal \"*\", no condition): {}",
                open.join(", ")
            ))
        })
    }

    async fn fix(&self, _ctx: &Ctx<'_>, _resource: &Resource) -> Result<Action, Error> {
        Ok(Action::Withheld(
            "notify-only: remove the public statements from the vault's access policy, or delete the policy".into(),
        ))
    }

    fn planned_fix(&self) -> &'static str {
        "report it (notify-only: the vault's owners decide its policy)"
    }

    fn notify_only(&self) -> bool {
        true
    }
}

static LOCK: Declaration = Declaration {
    id: "backup-vault-lock-removed",
    title: "Backup vaults keep their vault lock",
    resource: &BackupVault,
    hipaa: CONTINGENCY,
    severity: Severity::Critical,
    problem: "lost its vault lock",
    triggers: &[Trigger {
        event_source: BACKUP,
        event_names: &["DeleteBackupVaultLockConfiguration"],
    }],
    permissions: &["backup:DescribeBackupVault"],
    settings: &[],
};

pub struct VaultLockRemoved;

#[async_trait]
impl Control for VaultLockRemoved {
    fn declaration(&self) -> &'static Declaration {
        &LOCK
    }

    async fn check(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Assessment, Error> {
        let out = ctx
            .clients
            .backup()
            .describe_backup_vault()
            .backup_vault_name(&resource.id)
            .send()
            .await
            .during("backup:DescribeBackupVault")?;
        Ok(if out.locked() == Some(true) {
            let min = out
                .min_retention_days()
                .map(|d| format!(", minimum retention {d} days"))
                .unwrap_or_default();
            Assessment::compliant(format!("the vault is locked{min}"))
        } else {
            Assessment::violation("the vault is not locked: its recovery points can be deleted before they expire")
        })
    }

    async fn fix(&self, _ctx: &Ctx<'_>, _resource: &Resource) -> Result<Action, Error> {
        Ok(Action::Withheld(
            "notify-only: put the vault lock configuration back (put-backup-vault-lock-configuration)".into(),
        ))
    }

    fn planned_fix(&self) -> &'static str {
        "report it (notify-only: a vault lock's terms are its owners' decision)"
    }

    fn notify_only(&self) -> bool {
        true
    }
}
