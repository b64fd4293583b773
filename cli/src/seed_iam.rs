//! Seeding for the authentication events: a weakened or deleted password
//! policy, administrator grants. Sign-ins and root access keys are findings
//! in themselves: there is nothing to create (the emulator cannot sign in or
//! mint root keys), beyond the user who signed in.

use aws_sdk_iam::Client;
use safeguard::{Clients, During, Error, TrailEvent};
use serde_json::Value;

const ADMIN: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
const READ_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"}]}"#;
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

pub async fn seed(clients: &Clients, event: &TrailEvent) -> Result<String, Error> {
    let iam = clients.iam();
    let p = &event.call.request_parameters;
    let named = |key: &str| {
        event
            .request_str(key)
            .map(str::to_string)
            .ok_or_else(|| Error::Event(format!("{} event has no requestParameters.{key}", event.event_name())))
    };
    match event.event_name() {
        "UpdateAccountPasswordPolicy" => {
            let int = |k: &str| p.get(k).and_then(Value::as_i64).map(|v| v as i32).filter(|v| *v > 0);
            let flag = |k: &str| p.get(k).and_then(Value::as_bool);
            iam.update_account_password_policy()
                .set_minimum_password_length(int("minimumPasswordLength"))
                .set_require_symbols(flag("requireSymbols"))
                .set_require_numbers(flag("requireNumbers"))
                .set_require_uppercase_characters(flag("requireUppercaseCharacters"))
                .set_require_lowercase_characters(flag("requireLowercaseCharacters"))
                .set_max_password_age(int("maxPasswordAge"))
                .set_password_reuse_prevention(int("passwordReusePrevention"))
                .send()
                .await
                .during("iam:UpdateAccountPasswordPolicy")?;
            Ok("the account password policy was weakened as the event records".into())
        }
        "DeleteAccountPasswordPolicy" => {
            iam.update_account_password_policy()
                .minimum_password_length(14)
                .send()
                .await
                .during("iam:UpdateAccountPasswordPolicy")?;
            iam.delete_account_password_policy()
                .send()
                .await
                .during("iam:DeleteAccountPasswordPolicy")?;
            Ok("the account password policy was deleted".into())
        }
        "AttachRolePolicy" | "AttachUserPolicy" | "AttachGroupPolicy" => {
            let arn = named("policyArn")?;
            fresh_policy(iam, &arn, ADMIN).await?;
            let who = principal(iam, event).await?;
            match who.split_once('/') {
                Some(("role", name)) => iam
                    .attach_role_policy()
                    .role_name(name)
                    .policy_arn(&arn)
                    .send()
                    .await
                    .during("iam:AttachRolePolicy")
                    .map(|_| ())?,
                Some(("user", name)) => iam
                    .attach_user_policy()
                    .user_name(name)
                    .policy_arn(&arn)
                    .send()
                    .await
                    .during("iam:AttachUserPolicy")
                    .map(|_| ())?,
                _ => iam
                    .attach_group_policy()
                    .group_name(who.trim_start_matches("group/"))
                    .policy_arn(&arn)
                    .send()
                    .await
                    .during("iam:AttachGroupPolicy")
                    .map(|_| ())?,
            }
            Ok(format!("{arn} (Action * on Resource *) is attached to {who}"))
        }
        "PutUserPolicy" | "PutRolePolicy" | "PutGroupPolicy" => {
            let policy = named("policyName")?;
            let document = named("policyDocument").unwrap_or_else(|_| ADMIN.to_string());
            let who = principal(iam, event).await?;
            match who.split_once('/') {
                Some(("user", name)) => iam
                    .put_user_policy()
                    .user_name(name)
                    .policy_name(&policy)
                    .policy_document(document)
                    .send()
                    .await
                    .during("iam:PutUserPolicy")
                    .map(|_| ())?,
                Some(("role", name)) => iam
                    .put_role_policy()
                    .role_name(name)
                    .policy_name(&policy)
                    .policy_document(document)
                    .send()
                    .await
                    .during("iam:PutRolePolicy")
                    .map(|_| ())?,
                _ => iam
                    .put_group_policy()
                    .group_name(who.trim_start_matches("group/"))
                    .policy_name(&policy)
                    .policy_document(document)
                    .send()
                    .await
                    .during("iam:PutGroupPolicy")
                    .map(|_| ())?,
            }
            Ok(format!("{who} has inline policy {policy} granting * on *"))
        }
        "CreatePolicyVersion" => {
            let arn = named("policyArn")?;
            fresh_policy(iam, &arn, READ_ONLY).await?;
            let role = format!("{}-user", policy_name(&arn));
            ensure_role(iam, &role).await?;
            iam.attach_role_policy()
                .role_name(&role)
                .policy_arn(&arn)
                .send()
                .await
                .during("iam:AttachRolePolicy")?;
            iam.create_policy_version()
                .policy_arn(&arn)
                .policy_document(named("policyDocument").unwrap_or_else(|_| ADMIN.to_string()))
                .set_as_default(true)
                .send()
                .await
                .during("iam:CreatePolicyVersion")?;
            Ok(format!(
                "{arn}, attached to role {role}, has a new default version granting * on * (v1 was read-only)"
            ))
        }
        "ConsoleLogin" => {
            if let Some(user) = event.call.user_identity.user_name.as_deref() {
                ensure_user(iam, user).await?;
            }
            Ok("nothing to create: the sign-in itself is the finding".into())
        }
        "CreateAccessKey" => Ok("nothing to create: the root user's new access key is the finding".into()),
        other => Ok(format!("nothing to seed for {other}")),
    }
}

fn policy_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// The user, role or group the event names, created if missing.
async fn principal(iam: &Client, event: &TrailEvent) -> Result<String, Error> {
    if let Some(user) = event.request_str("userName") {
        ensure_user(iam, user).await?;
        return Ok(format!("user/{user}"));
    }
    if let Some(role) = event.request_str("roleName") {
        ensure_role(iam, role).await?;
        return Ok(format!("role/{role}"));
    }
    let group = event
        .request_str("groupName")
        .ok_or_else(|| Error::Event(format!("{} event names no user, role or group", event.event_name())))?;
    tolerate(
        iam.create_group()
            .group_name(group)
            .send()
            .await
            .during("iam:CreateGroup"),
    )?;
    Ok(format!("group/{group}"))
}

async fn ensure_user(iam: &Client, user: &str) -> Result<(), Error> {
    tolerate(iam.create_user().user_name(user).send().await.during("iam:CreateUser"))
}

async fn ensure_role(iam: &Client, role: &str) -> Result<(), Error> {
    tolerate(
        iam.create_role()
            .role_name(role)
            .assume_role_policy_document(TRUST)
            .send()
            .await
            .during("iam:CreateRole"),
    )
}

fn tolerate<T>(result: Result<T, Error>) -> Result<(), Error> {
    match result {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("EntityAlreadyExists") => Ok(()),
        Err(e) => Err(e),
    }
}

/// The customer-managed policy named by `arn`, created anew with one version
/// (detached from everyone and deleted first if it exists).
async fn fresh_policy(iam: &Client, arn: &str, document: &str) -> Result<(), Error> {
    if iam.get_policy().policy_arn(arn).send().await.is_ok() {
        let entities = iam
            .list_entities_for_policy()
            .policy_arn(arn)
            .send()
            .await
            .during("iam:ListEntitiesForPolicy")?;
        for r in entities.policy_roles().iter().filter_map(|r| r.role_name()) {
            iam.detach_role_policy()
                .role_name(r)
                .policy_arn(arn)
                .send()
                .await
                .during("iam:DetachRolePolicy")?;
        }
        for u in entities.policy_users().iter().filter_map(|u| u.user_name()) {
            iam.detach_user_policy()
                .user_name(u)
                .policy_arn(arn)
                .send()
                .await
                .during("iam:DetachUserPolicy")?;
        }
        for g in entities.policy_groups().iter().filter_map(|g| g.group_name()) {
            iam.detach_group_policy()
                .group_name(g)
                .policy_arn(arn)
                .send()
                .await
                .during("iam:DetachGroupPolicy")?;
        }
        let versions = iam
            .list_policy_versions()
            .policy_arn(arn)
            .send()
            .await
            .during("iam:ListPolicyVersions")?;
        for v in versions.versions().iter().filter(|v| !v.is_default_version()) {
            if let Some(id) = v.version_id() {
                iam.delete_policy_version()
                    .policy_arn(arn)
                    .version_id(id)
                    .send()
                    .await
                    .during("iam:DeletePolicyVersion")?;
            }
        }
        iam.delete_policy()
            .policy_arn(arn)
            .send()
            .await
            .during("iam:DeletePolicy")?;
    }
    iam.create_policy()
        .policy_name(policy_name(arn))
        .policy_document(document)
        .send()
        .await
        .during("iam:CreatePolicy")?;
    Ok(())
}
