//! Error paths the emulator cannot produce (AccessDenied on the fix,
//! throttling), through `aws-smithy-mocks` behind a real SDK client.

use access_control::FUNCTION;
use aws_sdk_s3::operation::get_bucket_acl::{GetBucketAclError, GetBucketAclOutput};
use aws_sdk_s3::operation::get_bucket_tagging::GetBucketTaggingError;
use aws_sdk_s3::operation::put_bucket_acl::PutBucketAclError;
use aws_sdk_s3::types::{Grant, Grantee, Owner, Permission, Type};
use aws_smithy_mocks::Rule;
use aws_smithy_types::error::ErrorMetadata;
use aws_smithy_types::retry::RetryConfig;
use safeguard::{Aws, Config, Engine, Status};
use safeguard_tests::mocked::*;
use safeguard_tests::sample;
use serde_json::Value;

fn mocked_s3(rules: &[&Rule]) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(&offline_sdk())
        .retry_config(RetryConfig::disabled())
        .http_client(create_mock_http_client())
        .interceptor(interceptor(rules))
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

fn engine(recorder: &Recorder, s3: aws_sdk_s3::Client) -> Engine<&Recorder> {
    let aws = Aws::new(offline_sdk());
    assert!(aws.clients("us-east-1").preset_s3(s3));
    let config = Config {
        role_arn: Some("arn:aws:iam::123456789012:role/safeguard-access-control-us-east-1".into()),
        topic_arn: Some("arn:aws:sns:us-east-1:123456789012:alerts".into()),
        ..Config::default()
    };
    Engine::new(&FUNCTION, config, aws, recorder)
}

fn public_acl() -> GetBucketAclOutput {
    let everyone = Grantee::builder()
        .r#type(Type::Group)
        .uri("http://acs.amazonaws.com/groups/global/AllUsers")
        .build()
        .expect("grantee");
    GetBucketAclOutput::builder()
        .owner(Owner::builder().id("owner-id").build())
        .grants(Grant::builder().grantee(everyone).permission(Permission::Read).build())
        .build()
}

fn event() -> Value {
    sample("access-control/put-bucket-acl-all-users.json")
}

fn error_meta(code: &str, message: &str) -> ErrorMetadata {
    ErrorMetadata::builder().code(code).message(message).build()
}

#[tokio::test]
async fn access_denied_on_the_fix_names_the_permission_and_role() {
    let get_acl = mock!(aws_sdk_s3::Client::get_bucket_acl).then_output(public_acl);
    let no_tags = mock!(aws_sdk_s3::Client::get_bucket_tagging)
        .then_error(|| GetBucketTaggingError::generic(error_meta("NoSuchTagSet", "The TagSet does not exist")));
    let denied = mock!(aws_sdk_s3::Client::put_bucket_acl)
        .then_error(|| PutBucketAclError::generic(error_meta("AccessDenied", "Access Denied")));
    let recorder = Recorder::default();
    let engine = engine(&recorder, mocked_s3(&[&get_acl, &no_tags, &denied]));

    let outcomes = engine.handle(event()).await;
    assert_eq!(outcomes[0].status, Status::Failed);
    assert!(!outcomes[0].retryable);
    let detail = &outcomes[0].detail;
    assert!(detail.contains("missing the permission s3:PutBucketAcl"), "{detail}");
    assert!(detail.contains("role/safeguard-access-control-us-east-1"), "{detail}");
    assert_eq!(denied.num_calls(), 1);

    let alerts = recorder.alerts();
    assert_eq!(alerts.len(), 1, "a failed fix must alert");
    assert!(
        alerts[0]
            .subject
            .starts_with("[Safeguard] Failed: S3 bucket \"phi-claims-archive\""),
        "{}",
        alerts[0].subject
    );
    assert!(alerts[0].text.contains("s3:PutBucketAcl"));
}

#[tokio::test]
async fn throttling_is_retryable_and_reaches_lambda_as_an_error() {
    let throttled = mock!(aws_sdk_s3::Client::get_bucket_acl)
        .then_error(|| GetBucketAclError::generic(error_meta("SlowDown", "Please reduce your request rate.")));
    let recorder = Recorder::default();
    let engine = engine(&recorder, mocked_s3(&[&throttled]));

    let outcomes = engine.handle(event()).await;
    assert_eq!(outcomes[0].status, Status::Failed);
    assert!(outcomes[0].retryable, "{}", outcomes[0].detail);
    assert!(
        outcomes[0].detail.contains("Lambda will retry"),
        "{}",
        outcomes[0].detail
    );

    let response = safeguard::lambda::respond(&engine, event()).await;
    let err = response.expect_err("a transient failure must fail the invocation so Lambda retries");
    assert!(err.to_string().contains("SlowDown"), "{err}");
}
