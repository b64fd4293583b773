//! What the bucket controls share: the public access block and its four flags.

use aws_sdk_s3::types::PublicAccessBlockConfiguration;
use safeguard::{Clients, During, Error};

/// The four flags, each `false` when unset; `None` when there is no block at all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

impl Flags {
    pub const ALL_ON: Flags = Flags {
        block_public_acls: true,
        ignore_public_acls: true,
        block_public_policy: true,
        restrict_public_buckets: true,
    };

    pub fn from_sdk(c: Option<&PublicAccessBlockConfiguration>) -> Option<Flags> {
        c.map(|c| Flags {
            block_public_acls: c.block_public_acls().unwrap_or(false),
            ignore_public_acls: c.ignore_public_acls().unwrap_or(false),
            block_public_policy: c.block_public_policy().unwrap_or(false),
            restrict_public_buckets: c.restrict_public_buckets().unwrap_or(false),
        })
    }

    pub fn to_sdk(self) -> PublicAccessBlockConfiguration {
        PublicAccessBlockConfiguration::builder()
            .block_public_acls(self.block_public_acls)
            .ignore_public_acls(self.ignore_public_acls)
            .block_public_policy(self.block_public_policy)
            .restrict_public_buckets(self.restrict_public_buckets)
            .build()
    }

    pub fn all_on(self) -> bool {
        self == Flags::ALL_ON
    }

    /// "BlockPublicAcls, RestrictPublicBuckets" — the flags that are off.
    pub fn off(self) -> Vec<&'static str> {
        [
            ("BlockPublicAcls", self.block_public_acls),
            ("IgnorePublicAcls", self.ignore_public_acls),
            ("BlockPublicPolicy", self.block_public_policy),
            ("RestrictPublicBuckets", self.restrict_public_buckets),
        ]
        .into_iter()
        .filter(|(_, on)| !on)
        .map(|(name, _)| name)
        .collect()
    }

    /// Human description of a block that may be missing.
    pub fn describe(block: Option<Flags>) -> String {
        match block {
            None => "no public access block is configured".into(),
            Some(f) if f.all_on() => "all four public access block flags are on".into(),
            Some(f) => format!("public access block has {} off", f.off().join(", ")),
        }
    }
}

/// The bucket's block; `None` when it has none.
pub async fn bucket_block(clients: &Clients, bucket: &str) -> Result<Option<Flags>, Error> {
    match clients
        .s3()
        .get_public_access_block()
        .bucket(bucket)
        .send()
        .await
        .during("s3:GetBucketPublicAccessBlock")
    {
        Ok(out) => Ok(Flags::from_sdk(out.public_access_block_configuration()).or(Some(Flags::default()))),
        Err(e) if e.code() == Some("NoSuchPublicAccessBlockConfiguration") => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn put_bucket_block(clients: &Clients, bucket: &str, flags: Flags) -> Result<(), Error> {
    clients
        .s3()
        .put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(flags.to_sdk())
        .send()
        .await
        .during("s3:PutBucketPublicAccessBlock")?;
    Ok(())
}
