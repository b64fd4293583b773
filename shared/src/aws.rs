//! SDK clients, built once and shared. Controls receive a [`Clients`] for the
//! region of the event they handle; clients inside it are created on first use
//! so a function only pays for the services it calls.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime_api::client::endpoint::EndpointFuture;
use aws_smithy_types::endpoint::Endpoint;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Entry point to AWS: the base configuration and one [`Clients`] per region.
pub struct Aws {
    base: SdkConfig,
    regions: Mutex<HashMap<String, Arc<Clients>>>,
}

impl Aws {
    /// The standard chain: credentials, region and `AWS_ENDPOINT_URL` from the
    /// environment. Makes no network call.
    pub async fn from_env() -> Aws {
        Aws::new(aws_config::defaults(BehaviorVersion::latest()).load().await)
    }

    pub fn new(base: SdkConfig) -> Aws {
        // An endpoint other than AWS is the local emulator: absorb its quirks.
        let base = if base.endpoint_url().is_some() && base.http_client().is_none() {
            base.to_builder().http_client(crate::emulator_quirks::client()).build()
        } else {
            base
        };
        Aws {
            base,
            regions: Mutex::new(HashMap::new()),
        }
    }

    pub fn base(&self) -> &SdkConfig {
        &self.base
    }

    /// Clients for `region` (the configured region when empty).
    pub fn clients(&self, region: &str) -> Arc<Clients> {
        let region = if region.is_empty() {
            self.base.region().map(|r| r.to_string()).unwrap_or_default()
        } else {
            region.to_string()
        };
        // A poisoned lock only means another task panicked mid-insert; the map is still usable.
        let mut regions = self.regions.lock().unwrap_or_else(|p| p.into_inner());
        regions
            .entry(region.clone())
            .or_insert_with(|| {
                let config = if region.is_empty() {
                    self.base.clone()
                } else {
                    self.base.to_builder().region(Region::new(region)).build()
                };
                Arc::new(Clients::new(config))
            })
            .clone()
    }
}

/// Lazily built service clients for one account and region.
pub struct Clients {
    config: SdkConfig,
    s3: OnceLock<aws_sdk_s3::Client>,
    s3control: OnceLock<aws_sdk_s3control::Client>,
    sns: OnceLock<aws_sdk_sns::Client>,
    ec2: OnceLock<aws_sdk_ec2::Client>,
    kms: OnceLock<aws_sdk_kms::Client>,
    rds: OnceLock<aws_sdk_rds::Client>,
    cloudtrail: OnceLock<aws_sdk_cloudtrail::Client>,
    config_service: OnceLock<aws_sdk_config::Client>,
    logs: OnceLock<aws_sdk_cloudwatchlogs::Client>,
    dynamodb: OnceLock<aws_sdk_dynamodb::Client>,
    backup: OnceLock<aws_sdk_backup::Client>,
    guardduty: OnceLock<aws_sdk_guardduty::Client>,
    securityhub: OnceLock<aws_sdk_securityhub::Client>,
    inspector2: OnceLock<aws_sdk_inspector2::Client>,
    eventbridge: OnceLock<aws_sdk_eventbridge::Client>,
    iam: OnceLock<aws_sdk_iam::Client>,
}

impl Clients {
    pub fn new(config: SdkConfig) -> Clients {
        Clients {
            config,
            s3: OnceLock::new(),
            s3control: OnceLock::new(),
            sns: OnceLock::new(),
            ec2: OnceLock::new(),
            kms: OnceLock::new(),
            rds: OnceLock::new(),
            cloudtrail: OnceLock::new(),
            config_service: OnceLock::new(),
            logs: OnceLock::new(),
            dynamodb: OnceLock::new(),
            backup: OnceLock::new(),
            guardduty: OnceLock::new(),
            securityhub: OnceLock::new(),
            inspector2: OnceLock::new(),
            eventbridge: OnceLock::new(),
            iam: OnceLock::new(),
        }
    }

    pub fn region(&self) -> Option<&str> {
        self.config.region().map(|r| r.as_ref())
    }

    /// Use this S3 client instead of building one (tests inject mocked clients).
    pub fn preset_s3(&self, client: aws_sdk_s3::Client) -> bool {
        self.s3.set(client).is_ok()
    }

    /// Use this EC2 client instead of building one (tests inject faults).
    pub fn preset_ec2(&self, client: aws_sdk_ec2::Client) -> bool {
        self.ec2.set(client).is_ok()
    }

    pub fn s3(&self) -> &aws_sdk_s3::Client {
        self.s3.get_or_init(|| {
            let mut builder = aws_sdk_s3::config::Builder::from(&self.config);
            // Emulators serve buckets by path, not by virtual host.
            if self.config.endpoint_url().is_some() {
                builder = builder.force_path_style(true);
            }
            aws_sdk_s3::Client::from_conf(builder.build())
        })
    }

    pub fn s3control(&self) -> &aws_sdk_s3control::Client {
        self.s3control.get_or_init(|| {
            let mut builder = aws_sdk_s3control::config::Builder::from(&self.config);
            // With a custom endpoint, S3 Control's rules prepend the account id to
            // the host (`{account}.127.0.0.1`), which does not resolve. Use the
            // endpoint as given; the account id still travels in its header.
            if let Some(url) = self.config.endpoint_url() {
                builder = builder.endpoint_resolver(FixedEndpoint(url.to_string()));
            }
            aws_sdk_s3control::Client::from_conf(builder.build())
        })
    }

    pub fn sns(&self) -> &aws_sdk_sns::Client {
        self.sns.get_or_init(|| aws_sdk_sns::Client::new(&self.config))
    }

    pub fn ec2(&self) -> &aws_sdk_ec2::Client {
        self.ec2.get_or_init(|| aws_sdk_ec2::Client::new(&self.config))
    }

    pub fn kms(&self) -> &aws_sdk_kms::Client {
        self.kms.get_or_init(|| aws_sdk_kms::Client::new(&self.config))
    }

    pub fn rds(&self) -> &aws_sdk_rds::Client {
        self.rds.get_or_init(|| aws_sdk_rds::Client::new(&self.config))
    }

    pub fn cloudtrail(&self) -> &aws_sdk_cloudtrail::Client {
        self.cloudtrail
            .get_or_init(|| aws_sdk_cloudtrail::Client::new(&self.config))
    }

    /// AWS Config (the recorder), not to be confused with the SDK's configuration.
    pub fn config_service(&self) -> &aws_sdk_config::Client {
        self.config_service
            .get_or_init(|| aws_sdk_config::Client::new(&self.config))
    }

    pub fn dynamodb(&self) -> &aws_sdk_dynamodb::Client {
        self.dynamodb
            .get_or_init(|| aws_sdk_dynamodb::Client::new(&self.config))
    }

    pub fn backup(&self) -> &aws_sdk_backup::Client {
        self.backup.get_or_init(|| aws_sdk_backup::Client::new(&self.config))
    }

    /// Use this AWS Backup client instead of building one (tests mock what the emulator lacks).
    pub fn preset_backup(&self, client: aws_sdk_backup::Client) -> bool {
        self.backup.set(client).is_ok()
    }

    pub fn guardduty(&self) -> &aws_sdk_guardduty::Client {
        self.guardduty
            .get_or_init(|| aws_sdk_guardduty::Client::new(&self.config))
    }

    pub fn securityhub(&self) -> &aws_sdk_securityhub::Client {
        self.securityhub
            .get_or_init(|| aws_sdk_securityhub::Client::new(&self.config))
    }

    pub fn inspector2(&self) -> &aws_sdk_inspector2::Client {
        self.inspector2
            .get_or_init(|| aws_sdk_inspector2::Client::new(&self.config))
    }

    pub fn eventbridge(&self) -> &aws_sdk_eventbridge::Client {
        self.eventbridge
            .get_or_init(|| aws_sdk_eventbridge::Client::new(&self.config))
    }

    /// IAM is global: its endpoint is the same from every region.
    pub fn iam(&self) -> &aws_sdk_iam::Client {
        self.iam.get_or_init(|| aws_sdk_iam::Client::new(&self.config))
    }

    pub fn logs(&self) -> &aws_sdk_cloudwatchlogs::Client {
        self.logs
            .get_or_init(|| aws_sdk_cloudwatchlogs::Client::new(&self.config))
    }
}

#[derive(Debug)]
struct FixedEndpoint(String);

impl aws_sdk_s3control::config::endpoint::ResolveEndpoint for FixedEndpoint {
    fn resolve_endpoint<'a>(&'a self, _: &'a aws_sdk_s3control::config::endpoint::Params) -> EndpointFuture<'a> {
        EndpointFuture::ready(Ok(Endpoint::builder().url(self.0.clone()).build()))
    }
}
