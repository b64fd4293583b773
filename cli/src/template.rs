//! The CloudFormation template, derived from the functions' declarations:
//! rules from their triggers, role policies from their permissions. The
//! committed `infra/template.yaml` is this output; a test fails on drift.

use safeguard::config::{DEFAULT_EXEMPT_TAG_KEY, DEFAULT_ROLE_PREFIX};
use safeguard::control::eventbridge_source;
use safeguard::Function;
use serde_json::{json, Map, Value};

pub const PATH: &str = "infra/template.yaml";

/// Checkov checks that do not fit a resource, each with the reason, written
/// into the resource's `Metadata` where checkov (and a reviewer) read them.
fn checkov_skips(skips: &[(&str, &str)]) -> Value {
    let skip: Vec<Value> = skips
        .iter()
        .map(|(id, comment)| json!({ "id": id, "comment": comment }))
        .collect();
    json!({ "skip": skip })
}

const SKIP_LOG_KMS: (&str, &str) = (
    "CKV_AWS_158",
    "CloudWatch Logs encrypts every log group at rest; a customer-managed key is optional (LogsKmsKeyArn) and checkov cannot evaluate the condition that sets it",
);

/// The statements granting `actions`, each on the resources IAM scopes it to
/// (see `safeguard::iam`).
fn control_statements<'a>(actions: impl IntoIterator<Item = &'a str>) -> Result<Vec<Value>, safeguard::Error> {
    let statements = safeguard::iam::statements(actions).map_err(|unknown| {
        safeguard::Error::Unexpected(format!(
            "no resource scope is known for {} (add it to shared/src/iam.rs)",
            unknown.join(", ")
        ))
    })?;
    Ok(statements
        .into_iter()
        .map(|(scope, actions)| {
            let resources: Vec<Value> = scope
                .resources
                .iter()
                .map(|r| if *r == "*" { json!("*") } else { json!({ "Fn::Sub": r }) })
                .collect();
            let mut statement =
                json!({ "Sid": scope.sid, "Effect": "Allow", "Action": actions, "Resource": resources });
            if let Some((operator, key, value)) = scope.condition {
                statement["Condition"] = json!({ operator: { key: value } });
            }
            statement
        })
        .collect())
}

/// `access-control` → `AccessControl`, for logical ids.
pub fn logical(name: &str) -> String {
    name.split(['-', '_', '.'])
        .map(|part| {
            let mut c = part.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The role-prefix parameter stands where the pattern has the prefix.
fn pattern_with_prefix_ref(pattern: Value, prefix: &str) -> Value {
    match pattern {
        Value::String(s) if s == prefix => json!({ "Ref": "RolePrefix" }),
        Value::Array(items) => Value::Array(items.into_iter().map(|v| pattern_with_prefix_ref(v, prefix)).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, pattern_with_prefix_ref(v, prefix)))
                .collect(),
        ),
        other => other,
    }
}

pub fn template(functions: &[&Function]) -> Result<Value, safeguard::Error> {
    let mut resources = Map::new();
    let mut outputs = Map::new();
    resources.insert(
        "AlertTopic".into(),
        json!({
            "Type": "AWS::SNS::Topic",
            "Properties": {
                "TopicName": { "Fn::Sub": "${RolePrefix}alerts" },
                "DisplayName": "Safeguard",
                "KmsMasterKeyId": { "Ref": "AlertsKmsKeyId" }
            }
        }),
    );
    resources.insert("AlertEmailSubscription".into(), json!({
        "Type": "AWS::SNS::Subscription",
        "Condition": "HasAlertEmail",
        "Properties": { "TopicArn": { "Ref": "AlertTopic" }, "Protocol": "email", "Endpoint": { "Ref": "AlertEmail" } }
    }));
    resources.insert(
        "FailedEventsQueue".into(),
        json!({
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": { "Fn::Sub": "${RolePrefix}failed-events" },
                "MessageRetentionPeriod": 1_209_600,
                "SqsManagedSseEnabled": true
            },
            "Metadata": { "checkov": checkov_skips(&[("CKV_AWS_27", "encrypted at rest with SQS-managed keys (SqsManagedSseEnabled), which this checkov check does not recognise")]) }
        }),
    );
    let mut rule_arns = Vec::new();
    let mut setting_parameters = Map::new();
    let mut conditions = Map::new();
    conditions.insert(
        "HasAlertEmail".into(),
        json!({ "Fn::Not": [{ "Fn::Equals": [{ "Ref": "AlertEmail" }, ""] }] }),
    );
    conditions.insert(
        "IsCentral".into(),
        json!({ "Fn::Not": [{ "Fn::Equals": [{ "Ref": "OrganizationId" }, ""] }] }),
    );
    conditions.insert(
        "HasMemberRole".into(),
        json!({ "Fn::Not": [{ "Fn::Equals": [{ "Ref": "MemberRoleName" }, ""] }] }),
    );
    conditions.insert(
        "HasLogsKmsKey".into(),
        json!({ "Fn::Not": [{ "Fn::Equals": [{ "Ref": "LogsKmsKeyArn" }, ""] }] }),
    );
    for f in functions {
        let id = logical(f.name);
        // Each safeguard can run in its own mode, or be switched off (its rules disabled).
        setting_parameters.insert(
            format!("{id}Mode"),
            json!({
                "Type": "String",
                "AllowedValues": ["default", "remediate", "dry-run", "off"],
                "Default": "default",
                "Description": format!("Mode of the {} safeguard: default (the stack's Mode), remediate, dry-run, or off (its rules disabled)", f.name)
            }),
        );
        let own_mode = json!({ "Ref": format!("{id}Mode") });
        conditions.insert(format!("{id}Off"), json!({ "Fn::Equals": [own_mode.clone(), "off"] }));
        conditions.insert(
            format!("{id}InheritsMode"),
            json!({ "Fn::Or": [{ "Fn::Equals": [own_mode.clone(), "default"] }, { "Fn::Equals": [own_mode, "off"] }] }),
        );
        let role = format!("{id}Role");
        let function = format!("{id}Function");
        let log_group = format!("{id}LogGroup");
        resources.insert(
            log_group.clone(),
            json!({
                "Type": "AWS::Logs::LogGroup",
                "Properties": {
                    "LogGroupName": { "Fn::Sub": format!("/aws/lambda/${{RolePrefix}}{}", f.name) },
                    "KmsKeyId": { "Fn::If": ["HasLogsKmsKey", { "Ref": "LogsKmsKeyArn" }, { "Ref": "AWS::NoValue" }] },
                    "RetentionInDays": { "Ref": "LogRetentionDays" }
                },
                "Metadata": { "checkov": checkov_skips(&[SKIP_LOG_KMS]) }
            }),
        );
        let statements = control_statements(f.iam_actions())?;
        resources.insert(role.clone(), json!({
            "Type": "AWS::IAM::Role",
            "Metadata": { "checkov": checkov_skips(&[
                ("CKV_AWS_109", "each action is scoped to the resource ARNs IAM supports for it (any resource of its kind in the account: a safeguard fixes whichever one was misconfigured); actions IAM cannot scope (account-wide settings, describe and list calls) are on Resource *"),
                ("CKV_AWS_110", "same reason: the authentication safeguard detaches administrator policies from any principal when the deployment opts in"),
                ("CKV_AWS_111", "same reason: the writes IAM cannot scope (account-level settings such as the S3 account public access block, EBS default encryption, the password policy, Inspector and Config recorders) are on Resource *"),
            ]) },
            "Properties": {
                "RoleName": { "Fn::Sub": format!("${{RolePrefix}}{}-${{AWS::Region}}", f.name) },
                "Description": format!("Safeguard {}: {}", f.name, f.safeguard),
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{ "Effect": "Allow", "Principal": { "Service": "lambda.amazonaws.com" }, "Action": "sts:AssumeRole" }]
                },
                "Policies": [
                    { "PolicyName": "controls", "PolicyDocument": { "Version": "2012-10-17", "Statement": statements } },
                    { "PolicyName": "runtime", "PolicyDocument": { "Version": "2012-10-17", "Statement": [
                        { "Sid": "Alerts", "Effect": "Allow", "Action": "sns:Publish", "Resource": { "Ref": "AlertTopic" } },
                        { "Sid": "AlertsKey", "Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": "*",
                          "Condition": { "StringEquals": { "kms:ViaService": { "Fn::Sub": "sns.${AWS::Region}.amazonaws.com" } } } },
                        { "Sid": "FailedEvents", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": { "Fn::GetAtt": ["FailedEventsQueue", "Arn"] } },
                        { "Sid": "Logs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                          "Resource": { "Fn::GetAtt": [log_group, "Arn"] } },
                        { "Fn::If": ["HasMemberRole",
                            { "Sid": "MemberAccounts", "Effect": "Allow", "Action": "sts:AssumeRole",
                              "Resource": { "Fn::Sub": "arn:${AWS::Partition}:iam::*:role/${MemberRoleName}" } },
                            { "Ref": "AWS::NoValue" }] }
                    ] } }
                ]
            }
        }));
        resources.insert(function.clone(), json!({
            "Type": "AWS::Lambda::Function",
            "Metadata": {
                "BuildMethod": "rust-cargolambda",
                "BuildProperties": { "Binary": f.name },
                "cfn-lint": { "config": { "ignore_checks": ["W3002"] } },
                "Comment": "Code is the workspace root, built by `sam build` with cargo-lambda; W3002 (a local path needs packaging) is ignored because `sam deploy` replaces the path with the uploaded S3 location.",
                "checkov": checkov_skips(&[
                    ("CKV_AWS_115", "no reserved concurrency: reserving it for every safeguard would take from the account's unreserved pool (as small as 10 in new accounts) and could block deployment; events are retried and end in the failed-events queue"),
                    ("CKV_AWS_117", "the functions call only AWS APIs; a VPC would add NAT or endpoints and change nothing they can reach"),
                    ("CKV_AWS_173", "the environment holds settings and ARNs, no secrets; Lambda encrypts it at rest with its service key"),
                ])
            },
            "Properties": {
                "FunctionName": { "Fn::Sub": format!("${{RolePrefix}}{}", f.name) },
                "DeadLetterConfig": { "TargetArn": { "Fn::GetAtt": ["FailedEventsQueue", "Arn"] } },
                "Description": f.safeguard,
                "Code": "..",
                "Handler": "bootstrap",
                "Runtime": "provided.al2023",
                "Architectures": ["arm64"],
                "MemorySize": 128,
                "Timeout": f.timeout_seconds,
                "Role": { "Fn::GetAtt": [role, "Arn"] },
                "LoggingConfig": { "LogFormat": "JSON", "LogGroup": { "Ref": log_group } },
                "Environment": { "Variables": {
                    "MODE": { "Fn::If": [format!("{id}InheritsMode"), { "Ref": "Mode" }, { "Ref": format!("{id}Mode") }] },
                    "SNS_TOPIC_ARN": { "Ref": "AlertTopic" },
                    "EXEMPT_TAG_KEY": { "Ref": "ExemptTagKey" },
                    "EXEMPT_RESOURCES": { "Ref": "ExemptResources" },
                    "ROLE_PREFIX": { "Ref": "RolePrefix" },
                    "HOME_ACCOUNT": { "Ref": "AWS::AccountId" },
                    "MEMBER_ROLE": { "Ref": "MemberRoleName" },
                    "MEMBER_EXTERNAL_ID": { "Ref": "MemberExternalId" },
                    "MEMBER_ACCOUNTS": { "Ref": "MemberAccounts" },
                    "SAFEGUARD_ROLE_ARN": { "Fn::GetAtt": [role, "Arn"] }
                } }
            }
        }));
        // Each setting a control reads becomes a parameter and an environment variable.
        if let Some(vars) = resources
            .get_mut(&function)
            .and_then(|r| r.pointer_mut("/Properties/Environment/Variables"))
            .and_then(Value::as_object_mut)
        {
            for setting in f.settings() {
                vars.insert(setting.env.into(), json!({ "Ref": setting.parameter }));
            }
        }
        for setting in f.settings() {
            let mut parameter =
                json!({ "Type": "String", "Default": setting.default, "Description": setting.description });
            if !setting.allowed.is_empty() {
                parameter["AllowedValues"] = json!(setting.allowed);
            }
            setting_parameters.insert(setting.parameter.to_string(), parameter);
        }
        resources.insert(format!("{id}InvokeConfig"), json!({
            "Type": "AWS::Lambda::EventInvokeConfig",
            "Properties": {
                "FunctionName": { "Ref": function },
                "Qualifier": "$LATEST",
                "MaximumRetryAttempts": 2,
                "MaximumEventAgeInSeconds": 3600,
                "DestinationConfig": { "OnFailure": { "Destination": { "Fn::GetAtt": ["FailedEventsQueue", "Arn"] } } }
            }
        }));
        for ((source, _), pattern) in f.triggers().into_iter().zip(f.patterns(DEFAULT_ROLE_PREFIX)) {
            let service = eventbridge_source(source).trim_start_matches("aws.").to_string();
            // The same rule on the default bus (this account's events) and, in a
            // central account, on the organization's bus (the members' events).
            for central in [false, true] {
                let suffix = if central { "Central" } else { "" };
                let rule = format!("{id}Rule{}{suffix}", logical(&service));
                let arn = json!({ "Fn::GetAtt": [rule.clone(), "Arn"] });
                rule_arns.push(if central {
                    json!({ "Fn::If": ["IsCentral", arn, { "Ref": "AWS::NoValue" }] })
                } else {
                    arn
                });
                let mut properties = json!({
                    "Name": { "Fn::Sub": format!("${{RolePrefix}}{}-{service}{}", f.name, if central { "-central" } else { "" }) },
                    "Description": format!("{} events for Safeguard {}{}", source, f.name, if central { ", from member accounts" } else { "" }),
                    "State": { "Fn::If": [format!("{id}Off"), "DISABLED", "ENABLED"] },
                    "EventPattern": pattern_with_prefix_ref(pattern.clone(), DEFAULT_ROLE_PREFIX),
                    "Targets": [{
                        "Id": "function",
                        "Arn": { "Fn::GetAtt": [function.clone(), "Arn"] },
                        "RetryPolicy": { "MaximumRetryAttempts": 10, "MaximumEventAgeInSeconds": 3600 },
                        "DeadLetterConfig": { "Arn": { "Fn::GetAtt": ["FailedEventsQueue", "Arn"] } }
                    }]
                });
                let mut permission = json!({
                    "Type": "AWS::Lambda::Permission",
                    "Properties": {
                        "FunctionName": { "Ref": function },
                        "Action": "lambda:InvokeFunction",
                        "Principal": "events.amazonaws.com",
                        "SourceArn": { "Fn::GetAtt": [rule.clone(), "Arn"] }
                    }
                });
                let mut resource = json!({ "Type": "AWS::Events::Rule" });
                if central {
                    // By name, as the bus's Ref would give: the emulator resolves Ref to an object.
                    properties["EventBusName"] = json!({ "Fn::Sub": "${RolePrefix}central" });
                    resource["DependsOn"] = json!("CentralBus");
                    resource["Condition"] = json!("IsCentral");
                    permission["Condition"] = json!("IsCentral");
                }
                resource["Properties"] = properties;
                resources.insert(rule.clone(), resource);
                resources.insert(format!("{rule}Permission"), permission);
            }
        }
        outputs.insert(
            format!("{id}FunctionArn"),
            json!({
                "Description": format!("Safeguard {}", f.name),
                "Value": { "Fn::GetAtt": [function, "Arn"] }
            }),
        );
    }
    resources.insert(
        "CentralBus".into(),
        json!({
            "Type": "AWS::Events::EventBus",
            "Condition": "IsCentral",
            "Properties": { "Name": { "Fn::Sub": "${RolePrefix}central" } }
        }),
    );
    resources.insert(
        "CentralBusPolicy".into(),
        json!({
            "Type": "AWS::Events::EventBusPolicy",
            "Condition": "IsCentral",
            "Properties": {
                "EventBusName": { "Fn::Sub": "${RolePrefix}central" },
                "StatementId": "OrganizationMembersOnly",
                "Statement": {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "events:PutEvents",
                    "Resource": { "Fn::GetAtt": ["CentralBus", "Arn"] },
                    "Condition": { "StringEquals": { "aws:PrincipalOrgID": { "Ref": "OrganizationId" } } }
                }
            }
        }),
    );
    outputs.insert(
        "CentralBusArn".into(),
        json!({
            "Condition": "IsCentral",
            "Description": "The bus member accounts forward their events to (infra/member.yaml's CentralBusArn)",
            "Value": { "Fn::GetAtt": ["CentralBus", "Arn"] }
        }),
    );
    resources.insert(
        "FailedEventsQueuePolicy".into(),
        json!({
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {
                "Queues": [{ "Ref": "FailedEventsQueue" }],
                "PolicyDocument": { "Version": "2012-10-17", "Statement": [{
                    "Sid": "RulesDeadLetter", "Effect": "Allow",
                    "Principal": { "Service": "events.amazonaws.com" },
                    "Action": "sqs:SendMessage",
                    "Resource": { "Fn::GetAtt": ["FailedEventsQueue", "Arn"] },
                    "Condition": { "ArnEquals": { "aws:SourceArn": rule_arns } }
                }] }
            }
        }),
    );
    outputs.insert(
        "AlertTopicArn".into(),
        json!({ "Description": "Safeguard alerts", "Value": { "Ref": "AlertTopic" } }),
    );
    outputs.insert(
        "FailedEventsQueueArn".into(),
        json!({
            "Description": "Events that failed after all retries",
            "Value": { "Fn::GetAtt": ["FailedEventsQueue", "Arn"] }
        }),
    );
    let mut template = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Safeguard: automatic HIPAA remediation of AWS misconfigurations. Generated by `make template` from the controls' declarations; do not edit by hand.",
        "Parameters": {
            "Mode": { "Type": "String", "AllowedValues": ["remediate", "dry-run"], "Default": "remediate",
                      "Description": "remediate fixes violations; dry-run only alerts with what it would do (each safeguard's <Name>Mode can override it)" },
            "AlertEmail": { "Type": "String", "Default": "", "Description": "E-mail address subscribed to the alerts (optional)" },
            "AlertsKmsKeyId": { "Type": "String", "Default": "alias/aws/sns", "Description": "KMS key encrypting the alert topic" },
            "OrganizationId": { "Type": "String", "Default": "", "AllowedPattern": "(o-[a-z0-9]{10,32})?",
                                "Description": "Central account only: the AWS Organization (o-...) whose accounts may put events on the central bus; empty: no central bus" },
            "MemberRoleName": { "Type": "String", "Default": "", "AllowedPattern": "[A-Za-z0-9+=,.@_/-]{0,64}",
                                "Description": "Central account only: the role each member account's stack (infra/member.yaml) provides; empty: protect this account only" },
            "MemberExternalId": { "Type": "String", "Default": "", "NoEcho": true,
                                  "Description": "Central account only: the external id the member roles require" },
            "MemberAccounts": { "Type": "String", "Default": "",
                                "Description": "Central account only: member account ids whose events are handled (comma-separated; empty: any account the organization's bus admits)" },
            "LogsKmsKeyArn": { "Type": "String", "Default": "",
                               "Description": "ARN of a customer-managed KMS key for the functions' log groups (optional: CloudWatch Logs encrypts them either way); its key policy must admit logs.<region>.amazonaws.com" },
            "ExemptTagKey": { "Type": "String", "Default": DEFAULT_EXEMPT_TAG_KEY,
                              "Description": "Tag exempting a resource (value = reason; <key>-until = YYYY-MM-DD lapses it)" },
            "ExemptResources": { "Type": "String", "Default": "",
                                 "Description": "Untaggable resources to exempt: RESOURCE=REASON, comma-separated" },
            "RolePrefix": { "Type": "String", "Default": DEFAULT_ROLE_PREFIX, "AllowedPattern": "[A-Za-z0-9+=,.@_-]{1,32}",
                            "Description": "Prefix of Safeguard's resource names and roles; events made by these roles are ignored" },
            "LogRetentionDays": { "Type": "Number", "Default": 2192,
                                  "AllowedValues": [365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653],
                                  "Description": "Days to keep function logs (HIPAA documentation retention is six years)" }
        },
        "Conditions": conditions,
        "Resources": resources,
        "Outputs": outputs
    });
    if let Some(parameters) = template["Parameters"].as_object_mut() {
        parameters.extend(setting_parameters);
    }
    Ok(template)
}

pub fn render(functions: &[&Function]) -> Result<String, safeguard::Error> {
    let body = serde_yaml::to_string(&template(functions)?)
        .map_err(|e| safeguard::Error::Unexpected(format!("cannot render the template: {e}")))?;
    Ok(format!(
        "# Generated by `make template` from the controls' declarations. Do not edit by hand.\n{body}"
    ))
}

pub const MEMBER_PATH: &str = "infra/member.yaml";

/// The member-account template (one stack per member account and region, as
/// a StackSet): rules forwarding the calls Safeguard handles to the central
/// account's bus, and the role the central functions assume to fix them.
pub fn member_template(functions: &[&Function]) -> Result<Value, safeguard::Error> {
    let mut resources = Map::new();
    // One forwarding rule per event source, with every function's calls.
    let mut by_source: Vec<(&str, std::collections::BTreeSet<&str>)> = Vec::new();
    for f in functions {
        for (source, names) in f.triggers() {
            match by_source.iter_mut().find(|(s, _)| *s == source) {
                Some((_, all)) => all.extend(names),
                None => by_source.push((source, names)),
            }
        }
    }
    by_source.sort_by_key(|(s, _)| *s);
    for (source, names) in &by_source {
        let service = eventbridge_source(source).trim_start_matches("aws.").to_string();
        let pattern = safeguard::control::event_pattern(source, names, DEFAULT_ROLE_PREFIX);
        resources.insert(
            format!("Forward{}", logical(&service)),
            json!({
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "Name": { "Fn::Sub": format!("${{RolePrefix}}forward-{service}") },
                    "Description": format!("{source} calls Safeguard handles, forwarded to the central account"),
                    "State": "ENABLED",
                    "EventPattern": pattern_with_prefix_ref(pattern, DEFAULT_ROLE_PREFIX),
                    "Targets": [{
                        "Id": "central",
                        "Arn": { "Ref": "CentralBusArn" },
                        "RoleArn": { "Fn::GetAtt": ["ForwardingRole", "Arn"] }
                    }]
                }
            }),
        );
    }
    resources.insert(
        "ForwardingRole".into(),
        json!({
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": { "Fn::Sub": "${RolePrefix}forward-${AWS::Region}" },
                "Description": "EventBridge puts this account's events on Safeguard's central bus",
                "AssumeRolePolicyDocument": { "Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": { "Service": "events.amazonaws.com" }, "Action": "sts:AssumeRole",
                    "Condition": { "StringEquals": { "aws:SourceAccount": { "Ref": "AWS::AccountId" } } }
                }] },
                "Policies": [{ "PolicyName": "forward", "PolicyDocument": { "Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Action": "events:PutEvents", "Resource": { "Ref": "CentralBusArn" }
                }] } }]
            }
        }),
    );
    let statements = control_statements(functions.iter().flat_map(|f| f.iam_actions()))?;
    resources.insert(
        "MemberRole".into(),
        json!({
            "Type": "AWS::IAM::Role",
            "Metadata": { "checkov": checkov_skips(&[
                ("CKV_AWS_109", "each action is scoped to the resource ARNs IAM supports for it (any resource of its kind in this account: the central safeguards fix whichever one was misconfigured); actions IAM cannot scope are on Resource *"),
                ("CKV_AWS_110", "same reason: the authentication safeguard may detach administrator policies from any principal when the central deployment opts in"),
                ("CKV_AWS_111", "same reason: the writes IAM cannot scope (account-level settings such as the S3 account public access block, EBS default encryption, the password policy, Inspector and Config recorders) are on Resource *"),
            ]) },
            "Properties": {
                "RoleName": { "Ref": "MemberRoleName" },
                "Description": "Safeguard's central functions act in this account through this role",
                "AssumeRolePolicyDocument": { "Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow",
                    "Principal": { "AWS": { "Fn::Sub": "arn:${AWS::Partition}:iam::${CentralAccountId}:root" } },
                    "Action": "sts:AssumeRole",
                    "Condition": {
                        "StringEquals": { "sts:ExternalId": { "Ref": "ExternalId" } },
                        "ArnLike": { "aws:PrincipalArn": { "Fn::Sub": "arn:${AWS::Partition}:iam::${CentralAccountId}:role/${RolePrefix}*" } }
                    }
                }] },
                "Policies": [{ "PolicyName": "controls", "PolicyDocument": { "Version": "2012-10-17", "Statement": statements } }]
            }
        }),
    );
    Ok(json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Safeguard member account: forwards the CloudTrail calls Safeguard handles to the central account and lets its functions fix them. Deploy in every member account and region (a StackSet). Generated by `make template`; do not edit by hand.",
        "Parameters": {
            "CentralAccountId": { "Type": "String", "AllowedPattern": "[0-9]{12}", "Description": "The account Safeguard's functions run in" },
            "CentralBusArn": { "Type": "String", "Description": "The central stack's CentralBusArn output" },
            "ExternalId": { "Type": "String", "NoEcho": true, "MinLength": 8, "Description": "The central stack's MemberExternalId" },
            "MemberRoleName": { "Type": "String", "Default": "safeguard-member", "Description": "The central stack's MemberRoleName" },
            "RolePrefix": { "Type": "String", "Default": DEFAULT_ROLE_PREFIX, "AllowedPattern": "[A-Za-z0-9+=,.@_-]{1,32}",
                            "Description": "The central stack's RolePrefix: calls made by these roles are not forwarded" }
        },
        "Resources": resources,
        "Outputs": {
            "MemberRoleArn": { "Description": "The role the central functions assume", "Value": { "Fn::GetAtt": ["MemberRole", "Arn"] } }
        }
    }))
}

/// Every generated template, with the path it is committed at.
pub fn rendered(functions: &[&Function]) -> Result<Vec<(&'static str, String)>, safeguard::Error> {
    let member = serde_yaml::to_string(&member_template(functions)?)
        .map_err(|e| safeguard::Error::Unexpected(format!("cannot render the member template: {e}")))?;
    Ok(vec![
        (PATH, render(functions)?),
        (
            MEMBER_PATH,
            format!("# Generated by `make template` from the controls' declarations. Do not edit by hand.\n{member}"),
        ),
    ])
}
