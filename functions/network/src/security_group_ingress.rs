use crate::rules::{all_traffic, describe_all, group_rules, is_world, revoke};
use crate::{EC2, HIPAA};
use aws_sdk_ec2::types::SecurityGroupRule;
use safeguard::resources::SECURITY_GROUP;
use safeguard::{
    async_trait, Action, Assessment, Control, Ctx, Declaration, Error, Resource, Setting, Settings, Severity, Trigger,
};

pub static ADMIN_PORTS: Setting = Setting {
    env: "ADMIN_PORTS",
    parameter: "AdminPorts",
    default: "22,3389,3306,5432,1433,1521,27017,6379,9200,5601,11211",
    description: "Administrative and database ports that must never be open to the internet (comma-separated)",
    allowed: &[],
};

pub static PUBLIC_PORTS: Setting = Setting {
    env: "PUBLIC_PORTS",
    parameter: "PublicPorts",
    default: "80,443",
    description: "Ports that may stay open to the internet even inside a wider range (comma-separated)",
    allowed: &[],
};

static DECLARATION: Declaration = Declaration {
    id: "sg-open-admin-ports",
    title: "No security group opens administrative or database ports to the internet",
    resource: &SECURITY_GROUP,
    hipaa: HIPAA,
    severity: Severity::Critical,
    problem: "exposed admin ports",
    triggers: &[Trigger {
        event_source: EC2,
        event_names: &[
            "AuthorizeSecurityGroupIngress",
            "ModifySecurityGroupRules",
            "CreateSecurityGroup",
        ],
    }],
    permissions: &["ec2:DescribeSecurityGroupRules", "ec2:RevokeSecurityGroupIngress"],
    settings: &[&ADMIN_PORTS, &PUBLIC_PORTS],
};

/// Revokes exactly the ingress rules that open an administrative or database
/// port (or every port) to 0.0.0.0/0 or ::/0, by rule id; keeps the rest.
pub struct OpenIngress;

fn ports(settings: &Settings, env: &str) -> Vec<i32> {
    settings.list(env).iter().filter_map(|p| p.parse().ok()).collect()
}

fn offending<'a>(rules: &'a [SecurityGroupRule], settings: &Settings) -> Vec<&'a SecurityGroupRule> {
    let admin = ports(settings, ADMIN_PORTS.env);
    let public = ports(settings, PUBLIC_PORTS.env);
    rules
        .iter()
        .filter(|r| r.is_egress() != Some(true) && is_world(r))
        .filter(|r| {
            if all_traffic(r) {
                return true;
            }
            let (from, to) = (r.from_port().unwrap_or(-1), r.to_port().unwrap_or(-1));
            admin.iter().any(|p| (from..=to).contains(p) && !public.contains(p))
        })
        .collect()
}

#[async_trait]
impl Control for OpenIngress {
    fn declaration(&self) -> &'static Declaration {
        &DECLARATION
    }

    async fn check(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Assessment, Error> {
        let rules = group_rules(ctx, &resource.id).await?;
        let bad = offending(&rules, ctx.settings);
        Ok(if bad.is_empty() {
            Assessment::compliant("no ingress rule opens an administrative or database port to the internet")
        } else {
            Assessment::violation(format!("open to the internet: {}", describe_all(&bad)))
        })
    }

    async fn fix(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Action, Error> {
        let rules = group_rules(ctx, &resource.id).await?;
        let bad = offending(&rules, ctx.settings);
        revoke(ctx.clients, &resource.id, &bad).await?;
        Ok(Action::Done(format!(
            "revoked {} rule(s): {}; kept the other {} rule(s)",
            bad.len(),
            describe_all(&bad),
            rules.len() - bad.len()
        )))
    }

    fn planned_fix(&self) -> &'static str {
        "revoke the ingress rules that open administrative or database ports to the internet, keeping the rest"
    }
}
