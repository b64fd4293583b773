use crate::rules::{WORLD_V4, WORLD_V6};
use crate::{EC2, HIPAA};
use aws_sdk_ec2::types::{NetworkAcl, NetworkAclEntry, RuleAction};
use safeguard::resources::NETWORK_ACL;
use safeguard::{
    async_trait, Action, Assessment, Control, Ctx, Declaration, During, Error, Resource, Severity, Trigger,
};

static DECLARATION: Declaration = Declaration {
    id: "nacl-allow-all-ingress",
    title: "No network ACL entry lets all traffic in from the internet ahead of its denies",
    resource: &NETWORK_ACL,
    hipaa: HIPAA,
    severity: Severity::High,
    problem: "allowed all traffic in",
    triggers: &[Trigger {
        event_source: EC2,
        event_names: &["CreateNetworkAclEntry", "ReplaceNetworkAclEntry"],
    }],
    permissions: &["ec2:DescribeNetworkAcls", "ec2:DeleteNetworkAclEntry"],
    settings: &[],
};

/// The rule every default network ACL is created with; removing it would cut
/// off the whole VPC's default subnets, so it is reported, not deleted.
const DEFAULT_ACL_BUILT_IN_RULE: i32 = 100;

/// Deletes ingress entries that allow all traffic from 0.0.0.0/0 or ::/0 and
/// are evaluated before any deny entry.
pub struct NetworkAclAllowAll;

async fn acl(ctx: &Ctx<'_>, id: &str) -> Result<NetworkAcl, Error> {
    let out = ctx
        .clients
        .ec2()
        .describe_network_acls()
        .network_acl_ids(id)
        .send()
        .await
        .during("ec2:DescribeNetworkAcls")?;
    out.network_acls().first().cloned().ok_or_else(|| {
        Error::Aws(safeguard::error::AwsError {
            kind: safeguard::error::AwsErrorKind::NotFound,
            code: "InvalidNetworkAclID.NotFound".into(),
            message: format!("network ACL {id} was not returned"),
            action: Some("ec2:DescribeNetworkAcls"),
        })
    })
}

fn offending(acl: &NetworkAcl) -> Vec<&NetworkAclEntry> {
    let ingress: Vec<&NetworkAclEntry> = acl.entries().iter().filter(|e| e.egress() != Some(true)).collect();
    let first_deny = ingress
        .iter()
        .filter(|e| e.rule_action() == Some(&RuleAction::Deny))
        .filter_map(|e| e.rule_number())
        .min()
        .unwrap_or(i32::MAX);
    ingress
        .into_iter()
        .filter(|e| e.rule_action() == Some(&RuleAction::Allow) && e.protocol() == Some("-1"))
        .filter(|e| e.cidr_block() == Some(WORLD_V4) || e.ipv6_cidr_block() == Some(WORLD_V6))
        .filter(|e| e.rule_number().is_some_and(|n| n < first_deny))
        .collect()
}

fn built_in(acl: &NetworkAcl, entry: &NetworkAclEntry) -> bool {
    acl.is_default() == Some(true) && entry.rule_number() == Some(DEFAULT_ACL_BUILT_IN_RULE)
}

fn describe(entries: &[&NetworkAclEntry]) -> String {
    entries
        .iter()
        .map(|e| {
            let source = e.cidr_block().or(e.ipv6_cidr_block()).unwrap_or("?");
            format!(
                "rule {} allows all traffic from {source}",
                e.rule_number().unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[async_trait]
impl Control for NetworkAclAllowAll {
    fn declaration(&self) -> &'static Declaration {
        &DECLARATION
    }

    async fn check(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Assessment, Error> {
        let acl = acl(ctx, &resource.id).await?;
        let bad = offending(&acl);
        Ok(if bad.is_empty() {
            Assessment::compliant("no allow-all ingress entry precedes the denies")
        } else {
            Assessment::violation(describe(&bad))
        })
    }

    async fn fix(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Action, Error> {
        let acl = acl(ctx, &resource.id).await?;
        let (kept, removable): (Vec<&NetworkAclEntry>, Vec<&NetworkAclEntry>) =
            offending(&acl).into_iter().partition(|e| built_in(&acl, e));
        if removable.is_empty() {
            return Ok(Action::Withheld(format!(
                "{} is the default ACL's built-in rule; deleting it would cut off every subnet using the default ACL. \
                 Associate the subnets with a restrictive ACL, or exempt this one",
                describe(&kept)
            )));
        }
        for entry in &removable {
            ctx.clients
                .ec2()
                .delete_network_acl_entry()
                .network_acl_id(&resource.id)
                .rule_number(entry.rule_number().unwrap_or_default())
                .egress(false)
                .send()
                .await
                .during("ec2:DeleteNetworkAclEntry")?;
        }
        Ok(Action::Done(format!(
            "deleted the ingress entries: {}",
            describe(&removable)
        )))
    }

    fn planned_fix(&self) -> &'static str {
        "delete the allow-all ingress entries that precede the network ACL's denies"
    }
}
