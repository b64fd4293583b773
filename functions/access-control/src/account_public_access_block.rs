use crate::bucket::Flags;
use crate::{HIPAA, S3};
use safeguard::resources::Account;
use safeguard::{
    async_trait, Action, Assessment, Clients, Control, Ctx, Declaration, During, Error, Resource, Severity, Trigger,
};

static DECLARATION: Declaration = Declaration {
    id: "s3-account-public-access-block",
    title: "The account-wide S3 public access block keeps all four flags on",
    resource: &Account,
    hipaa: HIPAA,
    severity: Severity::Critical,
    problem: "lost S3 public access block",
    triggers: &[Trigger {
        event_source: S3,
        event_names: &["PutAccountPublicAccessBlock", "DeleteAccountPublicAccessBlock"],
    }],
    permissions: &["s3:GetAccountPublicAccessBlock", "s3:PutAccountPublicAccessBlock"],
    settings: &[],
};

/// The account-level block (S3 Control) protects every bucket at once.
/// An account carries no tags here: exempt it with EXEMPT_RESOURCES.
pub struct AccountPublicAccessBlock;

async fn account_block(clients: &Clients, account: &str) -> Result<Option<Flags>, Error> {
    match clients
        .s3control()
        .get_public_access_block()
        .account_id(account)
        .send()
        .await
        .during("s3:GetAccountPublicAccessBlock")
    {
        Ok(out) => Ok(Flags::from_sdk_control(out.public_access_block_configuration()).or(Some(Flags::default()))),
        Err(e) if e.code() == Some("NoSuchPublicAccessBlockConfiguration") => Ok(None),
        Err(e) => Err(e),
    }
}

impl Flags {
    fn from_sdk_control(c: Option<&aws_sdk_s3control::types::PublicAccessBlockConfiguration>) -> Option<Flags> {
        c.map(|c| Flags {
            block_public_acls: c.block_public_acls().unwrap_or(false),
            ignore_public_acls: c.ignore_public_acls().unwrap_or(false),
            block_public_policy: c.block_public_policy().unwrap_or(false),
            restrict_public_buckets: c.restrict_public_buckets().unwrap_or(false),
        })
    }
}

#[async_trait]
impl Control for AccountPublicAccessBlock {
    fn declaration(&self) -> &'static Declaration {
        &DECLARATION
    }

    async fn check(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Assessment, Error> {
        let clients = ctx.clients;
        let block = account_block(clients, &resource.id).await?;
        let state = format!("account-level: {}", Flags::describe(block));
        Ok(if block.is_some_and(Flags::all_on) {
            Assessment::compliant(state)
        } else {
            Assessment::violation(state)
        })
    }

    async fn fix(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Action, Error> {
        let clients = ctx.clients;
        let all_on = aws_sdk_s3control::types::PublicAccessBlockConfiguration::builder()
            .block_public_acls(true)
            .ignore_public_acls(true)
            .block_public_policy(true)
            .restrict_public_buckets(true)
            .build();
        clients
            .s3control()
            .put_public_access_block()
            .account_id(&resource.id)
            .public_access_block_configuration(all_on)
            .send()
            .await
            .during("s3:PutAccountPublicAccessBlock")?;
        Ok(Action::Done(
            "turned on all four account-level S3 public access block flags".into(),
        ))
    }

    fn planned_fix(&self) -> &'static str {
        "turn on all four account-level S3 public access block flags"
    }
}
