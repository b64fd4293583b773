//! The network safeguard against the emulator: each control's life, and the
//! mixed security group where only the public admin rules may go.

use aws_sdk_ec2::types::{Filter, SecurityGroupRule};
use network::FUNCTION;
use safeguard::{Clients, Mode, Status};
use safeguard_cli::seed_ec2::{authorize, permission};
use safeguard_tests::*;
use std::sync::Arc;

async fn rules(c: &Clients, group: &str) -> Vec<SecurityGroupRule> {
    let filter = Filter::builder().name("group-id").values(group).build();
    let out = c
        .ec2()
        .describe_security_group_rules()
        .filters(filter)
        .send()
        .await
        .expect("rules");
    out.security_group_rules().to_vec()
}

fn public(r: &SecurityGroupRule) -> bool {
    r.is_egress() == Some(false) && (r.cidr_ipv4() == Some("0.0.0.0/0") || r.cidr_ipv6() == Some("::/0"))
}

fn open_admin_port(c: Arc<Clients>, group: String) -> Check {
    Box::pin(async move {
        rules(&c, &group)
            .await
            .iter()
            .any(|r| public(r) && [22, 3389, 5432].contains(&r.from_port().unwrap_or(-1)))
    })
}

#[tokio::test]
async fn ssh_open_to_the_world() {
    Lifecycle {
        function: &FUNCTION,
        file: "network/authorize-sg-ingress-ssh-world.json",
        control: "sg-open-admin-ports",
        severity: "critical",
        violated: open_admin_port,
        settings: &[],
    }
    .run(tag_ec2)
    .await;
}

#[tokio::test]
async fn postgres_open_to_ipv6_world() {
    Lifecycle {
        function: &FUNCTION,
        file: "network/authorize-sg-ingress-postgres-ipv6-world.json",
        control: "sg-open-admin-ports",
        severity: "critical",
        violated: open_admin_port,
        settings: &[],
    }
    .run(tag_ec2)
    .await;
}

#[tokio::test]
async fn rdp_opened_by_modifying_a_rule() {
    Lifecycle {
        function: &FUNCTION,
        file: "network/modify-sg-rule-rdp-world.json",
        control: "sg-open-admin-ports",
        severity: "critical",
        violated: open_admin_port,
        settings: &[],
    }
    .run(tag_ec2)
    .await;
}

#[tokio::test]
async fn network_acl_allow_all() {
    fn violated(c: Arc<Clients>, acl: String) -> Check {
        Box::pin(async move {
            let out = c
                .ec2()
                .describe_network_acls()
                .network_acl_ids(acl)
                .send()
                .await
                .expect("acl");
            out.network_acls()
                .iter()
                .flat_map(|a| a.entries())
                .any(|e| e.rule_number() == Some(90) && e.egress() == Some(false))
        })
    }
    Lifecycle {
        function: &FUNCTION,
        file: "network/create-nacl-entry-allow-all.json",
        control: "nacl-allow-all-ingress",
        severity: "high",
        violated,
        settings: &[],
    }
    .run(tag_ec2)
    .await;
}

fn imds_v1(c: Arc<Clients>, instance: String) -> Check {
    Box::pin(async move {
        let out = c
            .ec2()
            .describe_instances()
            .instance_ids(instance)
            .send()
            .await
            .expect("instance");
        let i = out
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .next()
            .cloned()
            .expect("one instance");
        i.metadata_options()
            .and_then(|m| m.http_tokens())
            .map(|t| t.as_str() != "required")
            .unwrap_or(true)
    })
}

#[tokio::test]
async fn imdsv1_on_run_instances() {
    Lifecycle {
        function: &FUNCTION,
        file: "network/run-instances-imdsv1.json",
        control: "ec2-imdsv1-allowed",
        severity: "medium",
        violated: imds_v1,
        settings: &[],
    }
    .run(tag_ec2)
    .await;
}

#[tokio::test]
async fn imdsv1_on_modify_metadata_options() {
    Lifecycle {
        function: &FUNCTION,
        file: "network/modify-instance-metadata-optional.json",
        control: "ec2-imdsv1-allowed",
        severity: "medium",
        violated: imds_v1,
        settings: &[],
    }
    .run(tag_ec2)
    .await;
}

#[tokio::test]
async fn default_security_group_rules() {
    // The default group is one per VPC: a VPC of its own keeps this test apart.
    let env = TestEnv::new("net").await;
    let vpc = env
        .clients
        .ec2()
        .create_vpc()
        .cidr_block("10.77.0.0/16")
        .send()
        .await
        .expect("vpc");
    let vpc = vpc.vpc().and_then(|v| v.vpc_id()).expect("vpc id").to_string();
    let filters = [
        Filter::builder().name("vpc-id").values(&vpc).build(),
        Filter::builder().name("group-name").values("default").build(),
    ];
    let groups = env
        .clients
        .ec2()
        .describe_security_groups()
        .set_filters(Some(filters.to_vec()))
        .send()
        .await
        .expect("sg");
    let group = groups.security_groups()[0].group_id().expect("id").to_string();
    authorize(
        &env.clients,
        &group,
        vec![permission("tcp", 443, 443, Some("10.20.0.0/16"), None)],
    )
    .await
    .expect("rule");

    let mut event = sample("network/authorize-default-sg-ingress.json");
    event["detail"]["responseElements"]["securityGroupRuleSet"]["items"][0]["groupId"] = group.clone().into();
    let engine = env.engine(&FUNCTION, env.config(Mode::Remediate));
    let outcomes = engine.handle(event.clone()).await;
    let o = outcomes
        .iter()
        .find(|o| o.control.as_deref() == Some("sg-default-has-rules"))
        .expect("outcome");
    assert_eq!(o.status, Status::Remediated, "{}", o.detail);
    assert!(
        rules(&env.clients, &group).await.is_empty(),
        "the default group must be left with no rule"
    );
    // The same event also reached the open-ports control, which found nothing public.
    let other = outcomes
        .iter()
        .find(|o| o.control.as_deref() == Some("sg-open-admin-ports"))
        .expect("outcome");
    assert_eq!(other.status, Status::Compliant);
    let alerts = env.alerts(1).await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(attribute(&alerts[0], "control"), "sg-default-has-rules");

    let again = engine.handle(event.clone()).await;
    assert!(again.iter().all(|o| o.status == Status::Compliant), "{again:?}");
    env.no_more_alerts().await;

    // Dry-run, exemption, failed call, own role: the rule stays each time.
    let rule = || permission("tcp", 443, 443, Some("10.20.0.0/16"), None);
    authorize(&env.clients, &group, vec![rule()]).await.expect("rule");
    let default_group = |outcomes: Vec<safeguard::Outcome>| {
        outcomes
            .into_iter()
            .find(|o| o.control.as_deref() == Some("sg-default-has-rules"))
            .expect("outcome")
    };
    let dry = default_group(
        env.engine(&FUNCTION, env.config(Mode::DryRun))
            .handle(event.clone())
            .await,
    );
    assert_eq!(dry.status, Status::WouldRemediate, "{}", dry.detail);
    assert_eq!(rules(&env.clients, &group).await.len(), 1);
    assert_eq!(attribute(&env.alerts(1).await[0], "status"), "would_remediate");

    tag_ec2(
        env.clients.clone(),
        group.clone(),
        "safeguard:exempt",
        "vendor appliance, CHG-91",
    )
    .await;
    let exempt = default_group(engine.handle(event.clone()).await);
    assert_eq!(exempt.status, Status::Exempt, "{}", exempt.detail);
    assert!(exempt.detail.contains("CHG-91"));
    assert_eq!(rules(&env.clients, &group).await.len(), 1);
    assert_eq!(attribute(&env.alerts(1).await[0], "status"), "exempt");

    for variant in [failed_call(event.clone()), by_own_role(event)] {
        for o in engine.handle(variant).await {
            assert_eq!(o.status, Status::Ignored, "{}", o.detail);
        }
    }
    assert_eq!(rules(&env.clients, &group).await.len(), 1);
    env.no_more_alerts().await;
}

#[tokio::test]
async fn only_public_admin_rules_are_revoked() {
    let env = TestEnv::new("net").await;
    let mut event = sample("network/authorize-sg-ingress-ssh-world.json");
    seed(&env.clients, &mut event).await.expect("seed");
    let group = event["detail"]["requestParameters"]["groupId"]
        .as_str()
        .expect("group")
        .to_string();
    authorize(
        &env.clients,
        &group,
        vec![
            permission("tcp", 443, 443, Some("0.0.0.0/0"), None),
            permission("tcp", 22, 22, Some("10.0.0.0/8"), None),
            permission("tcp", 3389, 3389, None, Some("::/0")),
        ],
    )
    .await
    .expect("rules");

    let o = env.engine(&FUNCTION, env.config(Mode::Remediate)).handle(event).await;
    let o = o
        .iter()
        .find(|o| o.control.as_deref() == Some("sg-open-admin-ports"))
        .expect("outcome");
    assert_eq!(o.status, Status::Remediated, "{}", o.detail);
    let left: Vec<(i32, String)> = rules(&env.clients, &group)
        .await
        .iter()
        .filter(|r| r.is_egress() == Some(false))
        .map(|r| {
            (
                r.from_port().unwrap_or(-1),
                r.cidr_ipv4().or(r.cidr_ipv6()).unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(left.contains(&(443, "0.0.0.0/0".into())), "{left:?}");
    assert!(left.contains(&(22, "10.0.0.0/8".into())), "{left:?}");
    assert!(
        o.detail.contains("tcp 22 from 0.0.0.0/0") && o.detail.contains("tcp 3389 from ::/0"),
        "{}",
        o.detail
    );
}

#[tokio::test]
async fn default_acl_built_in_rule_is_reported_not_deleted() {
    let env = TestEnv::new("net").await;
    let vpc = env
        .clients
        .ec2()
        .create_vpc()
        .cidr_block("10.78.0.0/16")
        .send()
        .await
        .expect("vpc");
    let vpc = vpc.vpc().and_then(|v| v.vpc_id()).expect("vpc id").to_string();
    let filters = [
        Filter::builder().name("vpc-id").values(&vpc).build(),
        Filter::builder().name("default").values("true").build(),
    ];
    let acls = env
        .clients
        .ec2()
        .describe_network_acls()
        .set_filters(Some(filters.to_vec()))
        .send()
        .await
        .expect("acls");
    let acl = acls.network_acls()[0].network_acl_id().expect("id").to_string();

    let mut event = sample("network/create-nacl-entry-allow-all.json");
    event["detail"]["eventName"] = "ReplaceNetworkAclEntry".into();
    event["detail"]["requestParameters"]["networkAclId"] = acl.clone().into();
    event["detail"]["requestParameters"]["ruleNumber"] = 100.into();
    let o = env.engine(&FUNCTION, env.config(Mode::Remediate)).handle(event).await;
    assert_eq!(o[0].status, Status::WouldRemediate, "{}", o[0].detail);
    assert!(o[0].detail.contains("built-in rule"), "{}", o[0].detail);
    let after = env
        .clients
        .ec2()
        .describe_network_acls()
        .network_acl_ids(&acl)
        .send()
        .await
        .expect("acl");
    assert!(after.network_acls()[0]
        .entries()
        .iter()
        .any(|e| e.rule_number() == Some(100) && e.egress() == Some(false)));
    assert_eq!(attribute(&env.alerts(1).await[0], "status"), "would_remediate");
}

/// Within one event the fix works from what the check read (one read fewer
/// per remediation), and the read-back after the fix reads afresh: were the
/// read kept, the read-back would still see the open rule and fail.
#[tokio::test]
async fn the_fix_reuses_the_checks_read_and_the_read_back_reads_afresh() {
    let env = TestEnv::new("net-reads").await;
    let mut event = sample("network/authorize-sg-ingress-ssh-world.json");
    seed(&env.clients, &mut event).await.expect("seed");
    let calls = safeguard::CallLog::default();
    let aws = safeguard::Aws::new(env.sdk.clone()).logging_calls(calls.clone());
    let notifier = safeguard::SnsNotifier::new(env.clients.sns().clone(), &env.topic);
    let engine = safeguard::Engine::new(&FUNCTION, env.config(Mode::Remediate), aws, notifier);

    let outcomes = engine.handle(event).await;
    let o = outcomes
        .iter()
        .find(|o| o.control.as_deref() == Some("sg-open-admin-ports"))
        .expect("outcome");
    assert_eq!(o.status, Status::Remediated, "{}", o.detail);
    let ops: Vec<String> = calls.calls().into_iter().filter(|c| c.starts_with("EC2:")).collect();
    let reads: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, c)| *c == "EC2:DescribeSecurityGroupRules")
        .map(|(i, _)| i)
        .collect();
    let revoke = ops
        .iter()
        .position(|c| c == "EC2:RevokeSecurityGroupIngress")
        .expect("a revoke");
    assert_eq!(reads.len(), 2, "one read for check and fix, one read-back: {ops:?}");
    assert!(reads[0] < revoke && revoke < reads[1], "{ops:?}");
}
