//! Security group rules: reading them, describing them, revoking them by id.

use aws_sdk_ec2::types::{Filter, SecurityGroupRule};
use safeguard::{Clients, Ctx, During, Error};
use std::sync::Arc;

pub const WORLD_V4: &str = "0.0.0.0/0";
pub const WORLD_V6: &str = "::/0";

/// The group's rules, read once per event (a fix reuses what the check read).
pub async fn group_rules(ctx: &Ctx<'_>, group_id: &str) -> Result<Arc<Vec<SecurityGroupRule>>, Error> {
    ctx.read(format!("ec2:DescribeSecurityGroupRules {group_id}"), || async {
        let filter = Filter::builder().name("group-id").values(group_id).build();
        let mut rules = Vec::new();
        let mut pages = ctx
            .clients
            .ec2()
            .describe_security_group_rules()
            .filters(filter)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.during("ec2:DescribeSecurityGroupRules")?;
            rules.extend(page.security_group_rules().iter().cloned());
        }
        Ok(rules)
    })
    .await
}

pub fn is_world(rule: &SecurityGroupRule) -> bool {
    rule.cidr_ipv4() == Some(WORLD_V4) || rule.cidr_ipv6() == Some(WORLD_V6)
}

pub fn all_traffic(rule: &SecurityGroupRule) -> bool {
    rule.ip_protocol() == Some("-1")
}

/// "tcp 22 from 0.0.0.0/0 (sgr-1)".
pub fn describe(rule: &SecurityGroupRule) -> String {
    let ports = match (rule.from_port(), rule.to_port()) {
        _ if all_traffic(rule) => "all traffic".to_string(),
        (Some(from), Some(to)) if from == to => format!("{} {from}", rule.ip_protocol().unwrap_or("?")),
        (Some(from), Some(to)) => format!("{} {from}-{to}", rule.ip_protocol().unwrap_or("?")),
        _ => rule.ip_protocol().unwrap_or("?").to_string(),
    };
    let source = rule
        .cidr_ipv4()
        .or(rule.cidr_ipv6())
        .or(rule.prefix_list_id())
        .or(rule.referenced_group_info().and_then(|g| g.group_id()))
        .unwrap_or("?");
    let direction = if rule.is_egress() == Some(true) { "to" } else { "from" };
    format!(
        "{ports} {direction} {source} ({})",
        rule.security_group_rule_id().unwrap_or("?")
    )
}

pub fn describe_all(rules: &[&SecurityGroupRule]) -> String {
    rules.iter().map(|r| describe(r)).collect::<Vec<_>>().join("; ")
}

fn ids(rules: &[&SecurityGroupRule]) -> Vec<String> {
    rules
        .iter()
        .filter_map(|r| r.security_group_rule_id().map(str::to_string))
        .collect()
}

pub async fn revoke(clients: &Clients, group_id: &str, rules: &[&SecurityGroupRule]) -> Result<(), Error> {
    let (egress, ingress): (Vec<&SecurityGroupRule>, Vec<&SecurityGroupRule>) =
        rules.iter().copied().partition(|r| r.is_egress() == Some(true));
    if !ingress.is_empty() {
        clients
            .ec2()
            .revoke_security_group_ingress()
            .group_id(group_id)
            .set_security_group_rule_ids(Some(ids(&ingress)))
            .send()
            .await
            .during("ec2:RevokeSecurityGroupIngress")?;
    }
    if !egress.is_empty() {
        clients
            .ec2()
            .revoke_security_group_egress()
            .group_id(group_id)
            .set_security_group_rule_ids(Some(ids(&egress)))
            .send()
            .await
            .during("ec2:RevokeSecurityGroupEgress")?;
    }
    Ok(())
}
