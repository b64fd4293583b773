use crate::{AT_REST, EC2};
use safeguard::resources::Account;
use safeguard::{
    async_trait, Action, Assessment, Control, Ctx, Declaration, During, Error, Resource, Severity, Trigger,
};

static DECLARATION: Declaration = Declaration {
    id: "ebs-encryption-by-default",
    title: "New EBS volumes are encrypted by default in every region",
    resource: &Account,
    hipaa: AT_REST,
    severity: Severity::High,
    problem: "lost default EBS encryption",
    triggers: &[Trigger {
        event_source: EC2,
        event_names: &["DisableEbsEncryptionByDefault"],
    }],
    permissions: &["ec2:GetEbsEncryptionByDefault", "ec2:EnableEbsEncryptionByDefault"],
    settings: &[],
};

/// The account-and-region switch that encrypts every new volume.
pub struct EbsEncryptionByDefault;

#[async_trait]
impl Control for EbsEncryptionByDefault {
    fn declaration(&self) -> &'static Declaration {
        &DECLARATION
    }

    async fn check(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Assessment, Error> {
        let out = ctx
            .clients
            .ec2()
            .get_ebs_encryption_by_default()
            .send()
            .await
            .during("ec2:GetEbsEncryptionByDefault")?;
        Ok(if out.ebs_encryption_by_default() == Some(true) {
            Assessment::compliant(format!("EBS encryption by default is on in {}", resource.region))
        } else {
            Assessment::violation(format!("EBS encryption by default is off in {}", resource.region))
        })
    }

    async fn fix(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Action, Error> {
        ctx.clients
            .ec2()
            .enable_ebs_encryption_by_default()
            .send()
            .await
            .during("ec2:EnableEbsEncryptionByDefault")?;
        Ok(Action::Done(format!(
            "turned EBS encryption by default back on in {}",
            resource.region
        )))
    }

    fn planned_fix(&self) -> &'static str {
        "turn EBS encryption by default back on"
    }
}
