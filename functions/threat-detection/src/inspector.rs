//! Amazon Inspector scans instances, images and functions for known
//! vulnerabilities: the vulnerability scanning of the risk analysis.

use crate::{INSPECTOR, MALICIOUS_SOFTWARE};
use aws_sdk_inspector2::types::{ResourceScanType, Status};
use safeguard::resources::Account;
use safeguard::{
    async_trait, Action, Assessment, Control, Ctx, Declaration, During, Error, Resource, Setting, Severity, Trigger,
};

pub static INSPECTOR_RESOURCE_TYPES: Setting = Setting {
    env: "INSPECTOR_RESOURCE_TYPES",
    parameter: "InspectorResourceTypes",
    default: "EC2,ECR,LAMBDA",
    description: "Resource types Amazon Inspector must keep scanning (comma-separated: EC2, ECR, LAMBDA, LAMBDA_CODE)",
    allowed: &[],
};

static DECLARATION: Declaration = Declaration {
    id: "inspector-scanning-disabled",
    title: "Amazon Inspector keeps scanning for vulnerabilities",
    resource: &Account,
    hipaa: MALICIOUS_SOFTWARE,
    severity: Severity::High,
    problem: "turned off Inspector scans",
    triggers: &[Trigger {
        event_source: INSPECTOR,
        event_names: &["Disable"],
    }],
    permissions: &["inspector2:BatchGetAccountStatus", "inspector2:Enable"],
    settings: &[&INSPECTOR_RESOURCE_TYPES],
};

pub struct InspectorDisabled;

impl InspectorDisabled {
    /// The configured resource types that are not being scanned.
    async fn off(&self, ctx: &Ctx<'_>, account: &str) -> Result<Vec<String>, Error> {
        let out = ctx
            .clients
            .inspector2()
            .batch_get_account_status()
            .account_ids(account)
            .send()
            .await
            .during("inspector2:BatchGetAccountStatus")?;
        let state = out
            .accounts()
            .iter()
            .find(|a| a.account_id() == account)
            .and_then(|a| a.resource_state());
        let enabled = |t: &str| {
            let status = state.and_then(|s| match t {
                "EC2" => s.ec2().map(|r| r.status()),
                "ECR" => s.ecr().map(|r| r.status()),
                "LAMBDA" => s.lambda().map(|r| r.status()),
                "LAMBDA_CODE" => s.lambda_code().map(|r| r.status()),
                _ => None,
            });
            status == Some(&Status::Enabled)
        };
        Ok(ctx
            .settings
            .list(INSPECTOR_RESOURCE_TYPES.env)
            .into_iter()
            .filter(|t| !enabled(t))
            .map(str::to_string)
            .collect())
    }
}

#[async_trait]
impl Control for InspectorDisabled {
    fn declaration(&self) -> &'static Declaration {
        &DECLARATION
    }

    async fn check(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Assessment, Error> {
        let off = self.off(ctx, &resource.id).await?;
        Ok(if off.is_empty() {
            Assessment::compliant(format!(
                "scanning {}",
                ctx.settings.list(INSPECTOR_RESOURCE_TYPES.env).join(", ")
            ))
        } else {
            Assessment::violation(format!("not scanning {}", off.join(", ")))
        })
    }

    async fn fix(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Action, Error> {
        let off = self.off(ctx, &resource.id).await?;
        ctx.clients
            .inspector2()
            .enable()
            .account_ids(&resource.id)
            .set_resource_types(Some(off.iter().map(|t| ResourceScanType::from(t.as_str())).collect()))
            .send()
            .await
            .during("inspector2:Enable")?;
        Ok(Action::Done(format!("turned scanning back on for {}", off.join(", "))))
    }

    fn planned_fix(&self) -> &'static str {
        "turn scanning back on for the configured resource types"
    }
}
