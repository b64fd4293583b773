//! Central-account operation against the emulator, which keeps state per
//! account and lets an assumed role act in the account it belongs to: an
//! event from member account B, handled by functions running as account A,
//! fixes the resource in B and leaves A alone; events from accounts outside
//! the organization are refused; a member role that cannot be assumed gives
//! a failed outcome that names it.

use aws_sdk_s3control::types::PublicAccessBlockConfiguration;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use safeguard::config::Organization;
use safeguard::{Aws, Clients, Config, Mode, Status};
use safeguard_tests::*;
use serde_json::Value;

const MEMBER: &str = "210987654321";
const OUTSIDER: &str = "555555555555";
const MEMBER_ROLE: &str = "safeguard-member";

fn organization() -> Organization {
    Organization {
        home_account: Some(ACCOUNT.into()),
        member_role: Some(MEMBER_ROLE.into()),
        external_id: Some("hipaa-central-7".into()),
        member_accounts: vec![MEMBER.into()],
    }
}

fn central(env: &TestEnv) -> Config {
    Config {
        organization: organization(),
        ..env.config(Mode::Remediate)
    }
}

/// The sample event, as recorded in `account`.
fn from_account(mut event: Value, account: &str) -> Value {
    event["account"] = account.into();
    event["detail"]["recipientAccountId"] = account.into();
    event["detail"]["userIdentity"]["accountId"] = account.into();
    event
}

async fn flags(c: &Clients, account: &str) -> Option<[bool; 4]> {
    let out = c
        .s3control()
        .get_public_access_block()
        .account_id(account)
        .send()
        .await
        .ok()?;
    let p = out.public_access_block_configuration()?;
    Some([
        p.block_public_acls() == Some(true),
        p.ignore_public_acls() == Some(true),
        p.block_public_policy() == Some(true),
        p.restrict_public_buckets() == Some(true),
    ])
}

async fn weaken(c: &Clients, account: &str) {
    let off = PublicAccessBlockConfiguration::builder()
        .block_public_acls(false)
        .ignore_public_acls(false)
        .block_public_policy(false)
        .restrict_public_buckets(false)
        .build();
    c.s3control()
        .put_public_access_block()
        .account_id(account)
        .public_access_block_configuration(off)
        .send()
        .await
        .expect("weaken");
}

#[tokio::test]
async fn a_member_accounts_event_is_fixed_in_the_member_account() {
    let env = TestEnv::new("org").await;
    let engine = env.engine(&access_control::FUNCTION, central(&env));
    let member = engine
        .aws()
        .clients_in(MEMBER, "us-east-1")
        .await
        .expect("member clients");

    // Both accounts start weakened; only the member's event is handled.
    weaken(&member, MEMBER).await;
    weaken(&env.clients, ACCOUNT).await;
    let event = from_account(sample("access-control/delete-account-public-access-block.json"), MEMBER);
    let outcomes = engine.handle(event.clone()).await;
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].status, Status::Remediated, "{}", outcomes[0].detail);
    assert_eq!(outcomes[0].account, MEMBER);
    assert_eq!(
        flags(&member, MEMBER).await,
        Some([true; 4]),
        "fixed in the member account"
    );
    assert_eq!(
        flags(&env.clients, ACCOUNT).await,
        Some([false; 4]),
        "the central account is untouched"
    );
    let alerts = env.alerts(1).await;
    assert_eq!(attribute(&alerts[0], "account"), MEMBER);
    assert_eq!(engine.handle(event).await[0].status, Status::Compliant);

    // The same deployment still protects its own account.
    let own = sample("access-control/delete-account-public-access-block.json");
    assert_eq!(engine.handle(own).await[0].status, Status::Remediated);
    assert_eq!(flags(&env.clients, ACCOUNT).await, Some([true; 4]));
    env.alerts(1).await;
    env.no_more_alerts().await;
}

#[tokio::test]
async fn events_from_outside_the_organization_are_refused() {
    let env = TestEnv::new("org").await;
    let event = from_account(sample("access-control/put-bucket-acl-all-users.json"), OUTSIDER);
    let o = &env
        .engine(&access_control::FUNCTION, central(&env))
        .handle(event.clone())
        .await[0];
    assert_eq!(o.status, Status::Ignored, "{}", o.detail);
    assert!(
        o.detail.contains(OUTSIDER) && o.detail.contains("MEMBER_ACCOUNTS"),
        "{}",
        o.detail
    );

    // A single-account deployment refuses every other account, and says how to change that.
    let single = Config {
        organization: Organization {
            home_account: Some(ACCOUNT.into()),
            ..Organization::default()
        },
        ..env.config(Mode::Remediate)
    };
    let member_event = from_account(sample("access-control/put-bucket-acl-all-users.json"), MEMBER);
    let o = &env.engine(&access_control::FUNCTION, single).handle(member_event).await[0];
    assert_eq!(o.status, Status::Ignored, "{}", o.detail);
    assert!(o.detail.contains("MEMBER_ROLE"), "{}", o.detail);
    env.no_more_alerts().await;
}

/// STS answering every AssumeRole with AccessDenied, as AWS does when the
/// member role does not exist or does not trust the caller (the emulator
/// lets any role be assumed, so this path is answered here).
#[derive(Debug, Clone)]
struct DenyingSts;

impl HttpClient for DenyingSts {
    fn http_connector(&self, _: &HttpConnectorSettings, _: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(DenyingSts)
    }
}

impl HttpConnector for DenyingSts {
    fn call(&self, _request: HttpRequest) -> HttpConnectorFuture {
        let body = r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:sts::123456789012:assumed-role/safeguard-access-control-us-east-1/x is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::210987654321:role/safeguard-member</Message></Error><RequestId>r1</RequestId></ErrorResponse>"#;
        let mut response = HttpResponse::new(403u16.try_into().expect("status"), SdkBody::from(body));
        response.headers_mut().insert("content-type", "text/xml");
        HttpConnectorFuture::ready(Ok(response))
    }
}

#[tokio::test]
async fn a_member_role_that_cannot_be_assumed_fails_naming_it() {
    let recorder = mocked::Recorder::default();
    let sdk = mocked::offline_sdk()
        .to_builder()
        .http_client(SharedHttpClient::new(DenyingSts))
        .build();
    let config = Config {
        organization: organization(),
        topic_arn: Some("arn:aws:sns:us-east-1:123456789012:alerts".into()),
        ..Config::default()
    };
    let engine = safeguard::Engine::new(&access_control::FUNCTION, config, Aws::new(sdk), &recorder);
    let event = from_account(sample("access-control/put-bucket-acl-all-users.json"), MEMBER);
    let outcomes = engine.handle(event).await;
    assert_eq!(outcomes.len(), 1);
    let o = &outcomes[0];
    assert_eq!(o.status, Status::Failed, "{}", o.detail);
    assert!(!o.retryable);
    assert!(
        o.detail.contains("arn:aws:iam::210987654321:role/safeguard-member"),
        "{}",
        o.detail
    );
    let alerts = recorder.alerts();
    assert_eq!(alerts.len(), 1, "a failed event must alert");
    assert!(alerts[0].text.contains("safeguard-member"), "{}", alerts[0].text);
}

/// The member's event names its region: the fix happens in that region of
/// the member account, with clients built for it.
#[tokio::test]
async fn a_member_event_is_fixed_in_its_own_region() {
    let env = TestEnv::new("org").await;
    let engine = env.engine(&network::FUNCTION, central(&env));
    let region = "us-west-2";
    let member = engine.aws().clients_in(MEMBER, region).await.expect("member clients");
    let mut event = from_account(sample("network/authorize-sg-ingress-ssh-world.json"), MEMBER);
    event["region"] = region.into();
    event["detail"]["awsRegion"] = region.into();
    seed(&member, &mut event).await.expect("seed in the member's region");
    let group = event["detail"]["requestParameters"]["groupId"]
        .as_str()
        .expect("seeded group")
        .to_string();

    let o = engine
        .handle(event)
        .await
        .into_iter()
        .find(|o| o.control.as_deref() == Some("sg-open-admin-ports"))
        .expect("outcome");
    assert_eq!(o.status, Status::Remediated, "{}", o.detail);
    assert_eq!((o.account.as_str(), o.region.as_str()), (MEMBER, region));
    let rules = member
        .ec2()
        .describe_security_group_rules()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("group-id")
                .values(&group)
                .build(),
        )
        .send()
        .await
        .expect("rules");
    assert!(
        !rules
            .security_group_rules()
            .iter()
            .any(|r| r.cidr_ipv4() == Some("0.0.0.0/0") && r.from_port() == Some(22)),
        "SSH must be closed in {MEMBER}/{region}"
    );
    // The group lives in the member's region only.
    let central_west = Aws::new(env.sdk.clone()).clients(region);
    let elsewhere = central_west
        .ec2()
        .describe_security_groups()
        .group_ids(&group)
        .send()
        .await;
    assert!(elsewhere.is_err(), "{group} must not exist in the central account");
    let home_region = engine.aws().clients_in(MEMBER, "us-east-1").await.expect("member");
    assert!(home_region
        .ec2()
        .describe_security_groups()
        .group_ids(&group)
        .send()
        .await
        .is_err());
    env.alerts(1).await;
}
