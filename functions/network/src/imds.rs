use crate::{EC2, HIPAA};
use aws_sdk_ec2::types::{HttpTokensState, InstanceMetadataEndpointState};
use safeguard::resources::INSTANCE;
use safeguard::{
    async_trait, Action, Assessment, Control, Ctx, Declaration, During, Error, Resource, Severity, Trigger,
};

static DECLARATION: Declaration = Declaration {
    id: "ec2-imdsv1-allowed",
    title: "Instances require IMDSv2 session tokens for instance metadata",
    resource: &INSTANCE,
    hipaa: HIPAA,
    severity: Severity::Medium,
    problem: "allowed IMDSv1",
    triggers: &[Trigger {
        event_source: EC2,
        event_names: &["RunInstances", "ModifyInstanceMetadataOptions"],
    }],
    permissions: &["ec2:DescribeInstances", "ec2:ModifyInstanceMetadataOptions"],
    settings: &[],
};

/// IMDSv1 answers any request that reaches 169.254.169.254, so one SSRF bug
/// leaks the instance role's credentials; IMDSv2 requires a session token.
pub struct InstanceMetadataV1;

async fn tokens(ctx: &Ctx<'_>, id: &str) -> Result<(String, bool), Error> {
    let out = ctx
        .clients
        .ec2()
        .describe_instances()
        .instance_ids(id)
        .send()
        .await
        .during("ec2:DescribeInstances")?;
    let instance = out
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .find(|i| i.instance_id() == Some(id));
    let options = instance.and_then(|i| i.metadata_options());
    let tokens = options
        .and_then(|o| o.http_tokens())
        .map(|t| t.as_str().to_string())
        .unwrap_or("optional".into());
    let endpoint_off = options.and_then(|o| o.http_endpoint()) == Some(&InstanceMetadataEndpointState::Disabled);
    Ok((tokens, endpoint_off))
}

#[async_trait]
impl Control for InstanceMetadataV1 {
    fn declaration(&self) -> &'static Declaration {
        &DECLARATION
    }

    async fn check(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Assessment, Error> {
        let (tokens, endpoint_off) = tokens(ctx, &resource.id).await?;
        Ok(if endpoint_off {
            Assessment::compliant("the instance metadata endpoint is disabled")
        } else if tokens == "required" {
            Assessment::compliant("instance metadata requires session tokens (IMDSv2 only)")
        } else {
            Assessment::violation(format!("instance metadata HttpTokens={tokens}: IMDSv1 is allowed"))
        })
    }

    async fn fix(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Action, Error> {
        ctx.clients
            .ec2()
            .modify_instance_metadata_options()
            .instance_id(&resource.id)
            .http_tokens(HttpTokensState::Required)
            .send()
            .await
            .during("ec2:ModifyInstanceMetadataOptions")?;
        Ok(Action::Done(
            "set HttpTokens=required: the instance now answers IMDSv2 only".into(),
        ))
    }

    fn planned_fix(&self) -> &'static str {
        "require IMDSv2 session tokens (HttpTokens=required)"
    }
}
