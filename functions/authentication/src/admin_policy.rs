//! A policy granting every action on every resource makes its holder an
//! administrator: access that HIPAA's minimum-necessary rule rarely allows.
//! Reported always; removed only where the deployment opts in, and never
//! from Safeguard's own roles or the named break-glass principals.

use crate::{ACCESS_MANAGEMENT, IAM};
use safeguard::policy::{admin_statements, decode_document};
use safeguard::resources::{IamPrincipal, IamPrincipalKind};
use safeguard::{
    async_trait, Action, Assessment, Control, Ctx, Declaration, During, Error, Resource, Setting, Severity, Trigger,
};

pub static ADMIN_POLICY_ACTION: Setting = Setting {
    env: "ADMIN_POLICY_ACTION",
    parameter: "AdminPolicyAction",
    default: "notify",
    description: "When a policy granting * on * is attached: notify, or detach (detach managed policies, delete inline ones, roll a new default version back)",
    allowed: &["notify", "detach"],
};

pub static BREAK_GLASS_PRINCIPALS: Setting = Setting {
    env: "BREAK_GLASS_PRINCIPALS",
    parameter: "BreakGlassPrincipals",
    default: "",
    description: "Break-glass users, roles and groups (comma-separated names) whose administrator access is reported but never removed",
    allowed: &[],
};

static DECLARATION: Declaration = Declaration {
    id: "iam-admin-policy-attached",
    title: "No IAM principal is granted * on *",
    resource: &IamPrincipal,
    hipaa: ACCESS_MANAGEMENT,
    severity: Severity::Critical,
    problem: "was granted admin (*:*)",
    triggers: &[Trigger {
        event_source: IAM,
        event_names: &[
            "AttachUserPolicy",
            "AttachRolePolicy",
            "AttachGroupPolicy",
            "PutUserPolicy",
            "PutRolePolicy",
            "PutGroupPolicy",
            "CreatePolicyVersion",
        ],
    }],
    permissions: &[
        "iam:GetPolicy",
        "iam:GetPolicyVersion",
        "iam:ListPolicyVersions",
        "iam:ListEntitiesForPolicy",
        "iam:ListAttachedUserPolicies",
        "iam:ListAttachedRolePolicies",
        "iam:ListAttachedGroupPolicies",
        "iam:GetUserPolicy",
        "iam:GetRolePolicy",
        "iam:GetGroupPolicy",
        "iam:DetachUserPolicy",
        "iam:DetachRolePolicy",
        "iam:DetachGroupPolicy",
        "iam:DeleteUserPolicy",
        "iam:DeleteRolePolicy",
        "iam:DeleteGroupPolicy",
        "iam:SetDefaultPolicyVersion",
    ],
    settings: &[&ADMIN_POLICY_ACTION, &BREAK_GLASS_PRINCIPALS],
};

pub struct AdminPolicy;

/// What the event granted, as read back from IAM.
enum Grant {
    /// A managed policy attached to the principal.
    Managed { arn: String },
    /// An inline policy of the principal.
    Inline { name: String },
    /// A new default version of a managed policy.
    Version { arn: String },
}

fn grant(ctx: &Ctx<'_>) -> Result<Grant, Error> {
    let e = ctx.event;
    let need = |key: &str| {
        e.request_str(key)
            .map(str::to_string)
            .ok_or_else(|| Error::Event(format!("{} event has no requestParameters.{key}", e.event_name())))
    };
    Ok(match e.event_name() {
        "CreatePolicyVersion" => Grant::Version {
            arn: need("policyArn")?,
        },
        name if name.starts_with("Attach") => Grant::Managed {
            arn: need("policyArn")?,
        },
        _ => Grant::Inline {
            name: need("policyName")?,
        },
    })
}

fn admin_in(document: &str) -> Result<Vec<String>, Error> {
    let doc: serde_json::Value = serde_json::from_str(&decode_document(document))
        .map_err(|e| Error::Unexpected(format!("the policy document is not JSON: {e}")))?;
    Ok(admin_statements(&doc))
}

impl AdminPolicy {
    async fn default_document(&self, ctx: &Ctx<'_>, arn: &str) -> Result<(String, String), Error> {
        let iam = ctx.clients.iam();
        let policy = iam.get_policy().policy_arn(arn).send().await.during("iam:GetPolicy")?;
        let version = policy
            .policy()
            .and_then(|p| p.default_version_id())
            .ok_or_else(|| Error::Unexpected(format!("policy {arn} has no default version")))?
            .to_string();
        let doc = iam
            .get_policy_version()
            .policy_arn(arn)
            .version_id(&version)
            .send()
            .await
            .during("iam:GetPolicyVersion")?
            .policy_version()
            .and_then(|v| v.document())
            .unwrap_or_default()
            .to_string();
        Ok((version, doc))
    }

    async fn attached(&self, ctx: &Ctx<'_>, kind: IamPrincipalKind, name: &str, arn: &str) -> Result<bool, Error> {
        let iam = ctx.clients.iam();
        let policies = match kind {
            IamPrincipalKind::User => iam
                .list_attached_user_policies()
                .user_name(name)
                .send()
                .await
                .during("iam:ListAttachedUserPolicies")?
                .attached_policies()
                .to_vec(),
            IamPrincipalKind::Role => iam
                .list_attached_role_policies()
                .role_name(name)
                .send()
                .await
                .during("iam:ListAttachedRolePolicies")?
                .attached_policies()
                .to_vec(),
            IamPrincipalKind::Group => iam
                .list_attached_group_policies()
                .group_name(name)
                .send()
                .await
                .during("iam:ListAttachedGroupPolicies")?
                .attached_policies()
                .to_vec(),
            IamPrincipalKind::Policy => Vec::new(),
        };
        Ok(policies.iter().any(|p| p.policy_arn() == Some(arn)))
    }

    async fn inline_document(
        &self,
        ctx: &Ctx<'_>,
        kind: IamPrincipalKind,
        name: &str,
        policy: &str,
    ) -> Result<String, Error> {
        let iam = ctx.clients.iam();
        let doc = match kind {
            IamPrincipalKind::User => iam
                .get_user_policy()
                .user_name(name)
                .policy_name(policy)
                .send()
                .await
                .during("iam:GetUserPolicy")?
                .policy_document
                .clone(),
            IamPrincipalKind::Role => iam
                .get_role_policy()
                .role_name(name)
                .policy_name(policy)
                .send()
                .await
                .during("iam:GetRolePolicy")?
                .policy_document
                .clone(),
            IamPrincipalKind::Group => iam
                .get_group_policy()
                .group_name(name)
                .policy_name(policy)
                .send()
                .await
                .during("iam:GetGroupPolicy")?
                .policy_document
                .clone(),
            IamPrincipalKind::Policy => String::new(),
        };
        Ok(doc)
    }

    /// Who the policy reaches, for a new default version.
    async fn entities(&self, ctx: &Ctx<'_>, arn: &str) -> Result<Vec<String>, Error> {
        let out = ctx
            .clients
            .iam()
            .list_entities_for_policy()
            .policy_arn(arn)
            .send()
            .await
            .during("iam:ListEntitiesForPolicy")?;
        let users = out
            .policy_users()
            .iter()
            .filter_map(|u| u.user_name())
            .map(|n| format!("user/{n}"));
        let roles = out
            .policy_roles()
            .iter()
            .filter_map(|r| r.role_name())
            .map(|n| format!("role/{n}"));
        let groups = out
            .policy_groups()
            .iter()
            .filter_map(|g| g.group_name())
            .map(|n| format!("group/{n}"));
        Ok(users.chain(roles).chain(groups).collect())
    }

    /// Safeguard's own roles and the break-glass principals keep their access.
    fn protected(&self, ctx: &Ctx<'_>, kind: IamPrincipalKind, name: &str) -> Option<String> {
        if kind == IamPrincipalKind::Role && name.starts_with(ctx.role_prefix) {
            return Some(format!("{name} is one of Safeguard's own roles"));
        }
        if ctx.settings.list(BREAK_GLASS_PRINCIPALS.env).contains(&name) {
            return Some(format!("{name} is a break-glass principal (BREAK_GLASS_PRINCIPALS)"));
        }
        None
    }
}

#[async_trait]
impl Control for AdminPolicy {
    fn declaration(&self) -> &'static Declaration {
        &DECLARATION
    }

    async fn check(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Assessment, Error> {
        let (kind, name) = IamPrincipal::parse(&resource.id);
        match grant(ctx)? {
            Grant::Managed { arn } => {
                if !self.attached(ctx, kind, name, &arn).await? {
                    return Ok(Assessment::compliant(format!("{arn} is no longer attached")));
                }
                let (version, doc) = self.default_document(ctx, &arn).await?;
                let admin = admin_in(&doc)?;
                Ok(if admin.is_empty() {
                    Assessment::compliant(format!("{arn} ({version}) grants no * on *"))
                } else {
                    Assessment::violation(format!(
                        "{arn} ({version}) grants * on * ({}) and is attached",
                        admin.join(", ")
                    ))
                })
            }
            Grant::Inline { name: policy } => {
                let doc = match self.inline_document(ctx, kind, name, &policy).await {
                    Ok(doc) => doc,
                    Err(e) if e.code() == Some("NoSuchEntity") => {
                        return Ok(Assessment::compliant(format!(
                            "inline policy {policy} no longer exists"
                        )))
                    }
                    Err(e) => return Err(e),
                };
                let admin = admin_in(&doc)?;
                Ok(if admin.is_empty() {
                    Assessment::compliant(format!("inline policy {policy} grants no * on *"))
                } else {
                    Assessment::violation(format!("inline policy {policy} grants * on * ({})", admin.join(", ")))
                })
            }
            Grant::Version { arn } => {
                let (version, doc) = self.default_document(ctx, &arn).await?;
                let admin = admin_in(&doc)?;
                let reach = self.entities(ctx, &arn).await?;
                Ok(if admin.is_empty() || reach.is_empty() {
                    Assessment::compliant(format!(
                        "the default version {version} {}",
                        if admin.is_empty() {
                            "grants no * on *"
                        } else {
                            "grants * on * but is attached to no one"
                        }
                    ))
                } else {
                    Assessment::violation(format!(
                        "the default version {version} grants * on * ({}) to {}",
                        admin.join(", "),
                        reach.join(", ")
                    ))
                })
            }
        }
    }

    async fn fix(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Action, Error> {
        let (kind, name) = IamPrincipal::parse(&resource.id);
        if let Some(why) = self.protected(ctx, kind, name) {
            return Ok(Action::Withheld(format!("{why}: reported, never removed")));
        }
        if ctx.settings.get(ADMIN_POLICY_ACTION.env) != "detach" {
            return Ok(Action::Withheld(
                "review the grant; set ADMIN_POLICY_ACTION=detach to let Safeguard remove such grants".into(),
            ));
        }
        let iam = ctx.clients.iam();
        match grant(ctx)? {
            Grant::Managed { arn } => {
                match kind {
                    IamPrincipalKind::User => {
                        iam.detach_user_policy()
                            .user_name(name)
                            .policy_arn(&arn)
                            .send()
                            .await
                            .during("iam:DetachUserPolicy")?;
                    }
                    IamPrincipalKind::Role => {
                        iam.detach_role_policy()
                            .role_name(name)
                            .policy_arn(&arn)
                            .send()
                            .await
                            .during("iam:DetachRolePolicy")?;
                    }
                    IamPrincipalKind::Group => {
                        iam.detach_group_policy()
                            .group_name(name)
                            .policy_arn(&arn)
                            .send()
                            .await
                            .during("iam:DetachGroupPolicy")?;
                    }
                    IamPrincipalKind::Policy => {}
                }
                Ok(Action::Done(format!("detached {arn} from {}", resource.id)))
            }
            Grant::Inline { name: policy } => {
                let doc = decode_document(&self.inline_document(ctx, kind, name, &policy).await?);
                match kind {
                    IamPrincipalKind::User => {
                        iam.delete_user_policy()
                            .user_name(name)
                            .policy_name(&policy)
                            .send()
                            .await
                            .during("iam:DeleteUserPolicy")?;
                    }
                    IamPrincipalKind::Role => {
                        iam.delete_role_policy()
                            .role_name(name)
                            .policy_name(&policy)
                            .send()
                            .await
                            .during("iam:DeleteRolePolicy")?;
                    }
                    IamPrincipalKind::Group => {
                        iam.delete_group_policy()
                            .group_name(name)
                            .policy_name(&policy)
                            .send()
                            .await
                            .during("iam:DeleteGroupPolicy")?;
                    }
                    IamPrincipalKind::Policy => {}
                }
                // The document goes into the alert so the grant can be restored if it was meant.
                Ok(Action::Done(format!(
                    "deleted inline policy {policy} of {}; it read: {doc}",
                    resource.id
                )))
            }
            Grant::Version { arn } => {
                let (current, _) = self.default_document(ctx, &arn).await?;
                let versions = iam
                    .list_policy_versions()
                    .policy_arn(&arn)
                    .send()
                    .await
                    .during("iam:ListPolicyVersions")?
                    .versions()
                    .to_vec();
                let mut older: Vec<_> = versions
                    .iter()
                    .filter(|v| v.version_id() != Some(current.as_str()))
                    .collect();
                older.sort_by_key(|v| std::cmp::Reverse(v.create_date().map(|d| d.secs())));
                for v in older {
                    let Some(id) = v.version_id() else { continue };
                    let doc = iam
                        .get_policy_version()
                        .policy_arn(&arn)
                        .version_id(id)
                        .send()
                        .await
                        .during("iam:GetPolicyVersion")?
                        .policy_version()
                        .and_then(|p| p.document())
                        .unwrap_or_default()
                        .to_string();
                    if admin_in(&doc)?.is_empty() {
                        iam.set_default_policy_version()
                            .policy_arn(&arn)
                            .version_id(id)
                            .send()
                            .await
                            .during("iam:SetDefaultPolicyVersion")?;
                        return Ok(Action::Done(format!(
                            "made {id} the default version of {arn} again (the * on * version {current} is kept, not default)"
                        )));
                    }
                }
                Ok(Action::Withheld(format!(
                    "{arn} has no earlier version without * on * to roll back to: detach it or publish a scoped version"
                )))
            }
        }
    }

    fn planned_fix(&self) -> &'static str {
        "remove the grant with ADMIN_POLICY_ACTION=detach (never from Safeguard's or break-glass principals), else report it"
    }
}
