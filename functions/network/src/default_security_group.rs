use crate::rules::{describe_all, group_rules, revoke};
use crate::{EC2, HIPAA};
use aws_sdk_ec2::types::SecurityGroupRule;
use safeguard::resources::SECURITY_GROUP;
use safeguard::{
    async_trait, Action, Assessment, Control, Ctx, Declaration, During, Error, Resource, Severity, Trigger,
};

static DECLARATION: Declaration = Declaration {
    id: "sg-default-has-rules",
    title: "Default security groups allow no traffic",
    resource: &SECURITY_GROUP,
    hipaa: HIPAA,
    severity: Severity::High,
    problem: "default SG had rules",
    triggers: &[Trigger {
        event_source: EC2,
        event_names: &["AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress"],
    }],
    permissions: &[
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSecurityGroupRules",
        "ec2:RevokeSecurityGroupIngress",
        "ec2:RevokeSecurityGroupEgress",
    ],
    settings: &[],
};

/// A VPC's default group is what resources get when nobody chose a group:
/// it must allow nothing, so every rule added to it is revoked.
pub struct DefaultSecurityGroup;

async fn is_default(ctx: &Ctx<'_>, group_id: &str) -> Result<bool, Error> {
    let out = ctx
        .clients
        .ec2()
        .describe_security_groups()
        .group_ids(group_id)
        .send()
        .await
        .during("ec2:DescribeSecurityGroups")?;
    Ok(out.security_groups().iter().any(|g| g.group_name() == Some("default")))
}

#[async_trait]
impl Control for DefaultSecurityGroup {
    fn declaration(&self) -> &'static Declaration {
        &DECLARATION
    }

    async fn check(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Assessment, Error> {
        if !is_default(ctx, &resource.id).await? {
            return Ok(Assessment::compliant("not a default security group"));
        }
        let rules = group_rules(ctx, &resource.id).await?;
        let all: Vec<&SecurityGroupRule> = rules.iter().collect();
        Ok(if all.is_empty() {
            Assessment::compliant("default security group with no rules")
        } else {
            Assessment::violation(format!(
                "default security group with {} rule(s): {}",
                all.len(),
                describe_all(&all)
            ))
        })
    }

    async fn fix(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Action, Error> {
        let rules = group_rules(ctx, &resource.id).await?;
        let all: Vec<&SecurityGroupRule> = rules.iter().collect();
        revoke(ctx.clients, &resource.id, &all).await?;
        Ok(Action::Done(format!(
            "revoked every rule of the default group: {}",
            describe_all(&all)
        )))
    }

    fn planned_fix(&self) -> &'static str {
        "revoke every ingress and egress rule of the default security group"
    }
}
