//! SDK clients, built once and shared. Controls receive a [`Clients`] for the
//! region of the event they handle; clients inside it are created on first use
//! so a function only pays for the services it calls.

use crate::config::Organization;
use crate::error::{AwsError, AwsErrorKind, Error};
use aws_config::sts::AssumeRoleProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::endpoint::EndpointFuture;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::endpoint::Endpoint;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Entry point to AWS: the base configuration and one [`Clients`] per region.
pub struct Aws {
    base: SdkConfig,
    regions: Mutex<HashMap<String, Arc<Clients>>>,
    calls: Option<CallLog>,
    organization: Organization,
    /// Clients acting in member accounts, by `account/region`.
    members: tokio::sync::Mutex<HashMap<String, Arc<Clients>>>,
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
            calls: None,
            organization: Organization::default(),
            members: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    /// Act in member accounts through the organization's member role.
    pub fn with_organization(mut self, organization: Organization) -> Aws {
        self.organization = organization;
        self
    }

    /// Clients acting in `account` and `region`: this deployment's own
    /// credentials, or for a member account the member role, assumed once
    /// (and refreshed by the SDK) per account and region.
    pub async fn clients_in(&self, account: &str, region: &str) -> Result<Arc<Clients>, Error> {
        let Some(role) = self.organization.role_arn(account) else {
            return Ok(self.clients(region));
        };
        let home = self.clients(region);
        let key = format!("{account}/{region}");
        let mut members = self.members.lock().await;
        if let Some(clients) = members.get(&key) {
            return Ok(clients.clone());
        }
        // The provider needs a clock; a configuration built by hand may lack one.
        let base = match home.config.time_source() {
            Some(_) => home.config.clone(),
            None => home
                .config
                .to_builder()
                .time_source(aws_smithy_async::time::SystemTimeSource::new())
                .build(),
        };
        let mut provider = AssumeRoleProvider::builder(role.clone())
            .session_name("safeguard")
            .configure(&base);
        if let Some(id) = &self.organization.external_id {
            provider = provider.external_id(id.clone());
        }
        let provider = provider.build().await;
        // Fail here, naming the role, rather than on the first call of a control.
        if let Err(e) = provider.provide_credentials().await {
            return Err(Error::Aws(AwsError {
                kind: AwsErrorKind::Rejected,
                code: "MemberRoleUnavailable".into(),
                message: format!(
                    "cannot assume the member role {role} in account {account} (is the member stack deployed, and does its trust policy admit this function's role and external id?): {}",
                    aws_smithy_types::error::display::DisplayErrorContext(&e)
                ),
                action: Some("sts:AssumeRole"),
            }));
        }
        let config = home
            .config
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(provider))
            .build();
        let clients = Arc::new(Clients::with_calls(config, self.calls.clone()));
        members.insert(key, clients.clone());
        Ok(clients)
    }

    /// Every client made from here on logs its calls into `calls`.
    pub fn logging_calls(mut self, calls: CallLog) -> Aws {
        self.calls = Some(calls);
        self
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
                Arc::new(Clients::with_calls(config, self.calls.clone()))
            })
            .clone()
    }
}

/// Lazily built service clients for one account and region.
pub struct Clients {
    config: SdkConfig,
    calls: Option<CallLog>,
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

/// Service configuration builders, so that every client gets the same
/// treatment (the call log, when there is one).
trait Configure: Sized {
    fn with_interceptor(self, log: CallLog) -> Self;
}

macro_rules! configure {
    ($($sdk:ident),*) => {$(
        impl Configure for $sdk::config::Builder {
            fn with_interceptor(self, log: CallLog) -> Self {
                self.interceptor(log)
            }
        }
    )*};
}

configure!(
    aws_sdk_s3,
    aws_sdk_s3control,
    aws_sdk_sns,
    aws_sdk_ec2,
    aws_sdk_kms,
    aws_sdk_rds,
    aws_sdk_cloudtrail,
    aws_sdk_config,
    aws_sdk_cloudwatchlogs,
    aws_sdk_dynamodb,
    aws_sdk_backup,
    aws_sdk_guardduty,
    aws_sdk_securityhub,
    aws_sdk_inspector2,
    aws_sdk_eventbridge,
    aws_sdk_iam
);

impl Clients {
    pub fn new(config: SdkConfig) -> Clients {
        Clients::with_calls(config, None)
    }

    /// Clients that log every operation they call into `calls`.
    pub fn with_calls(config: SdkConfig, calls: Option<CallLog>) -> Clients {
        Clients {
            config,
            calls,
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

    fn configured<B: Configure>(&self, builder: B) -> B {
        match &self.calls {
            Some(log) => builder.with_interceptor(log.clone()),
            None => builder,
        }
    }

    pub fn region(&self) -> Option<&str> {
        self.config.region().map(|r| r.as_ref())
    }

    /// The configuration these clients are built from (for clients of other services).
    pub fn sdk_config(&self) -> &SdkConfig {
        &self.config
    }

    /// Use this S3 client instead of building one (tests inject mocked clients).
    pub fn preset_s3(&self, client: aws_sdk_s3::Client) -> bool {
        self.s3.set(client).is_ok()
    }

    /// Use this EC2 client instead of building one (tests inject faults).
    pub fn preset_ec2(&self, client: aws_sdk_ec2::Client) -> bool {
        self.ec2.set(client).is_ok()
    }

    /// Use this AWS Backup client instead of building one (tests mock what the emulator lacks).
    pub fn preset_backup(&self, client: aws_sdk_backup::Client) -> bool {
        self.backup.set(client).is_ok()
    }

    pub fn s3(&self) -> &aws_sdk_s3::Client {
        self.s3.get_or_init(|| {
            let mut builder = self.configured(aws_sdk_s3::config::Builder::from(&self.config));
            // Emulators serve buckets by path, not by virtual host.
            if self.config.endpoint_url().is_some() {
                builder = builder.force_path_style(true);
            }
            aws_sdk_s3::Client::from_conf(builder.build())
        })
    }

    pub fn s3control(&self) -> &aws_sdk_s3control::Client {
        self.s3control.get_or_init(|| {
            let mut builder = self.configured(aws_sdk_s3control::config::Builder::from(&self.config));
            // With a custom endpoint, S3 Control's rules prepend the account id to
            // the host (`{account}.127.0.0.1`), which does not resolve. Use the
            // endpoint as given; the account id still travels in its header.
            if let Some(url) = self.config.endpoint_url() {
                builder = builder.endpoint_resolver(FixedEndpoint(url.to_string()));
            }
            aws_sdk_s3control::Client::from_conf(builder.build())
        })
    }
}

/// One getter per service: the client, built on first use.
macro_rules! getters {
    ($($(#[$doc:meta])* $field:ident: $sdk:ident),* $(,)?) => {
        impl Clients {$(
            $(#[$doc])*
            pub fn $field(&self) -> &$sdk::Client {
                self.$field
                    .get_or_init(|| $sdk::Client::from_conf(self.configured($sdk::config::Builder::from(&self.config)).build()))
            }
        )*}
    };
}

getters! {
    sns: aws_sdk_sns,
    ec2: aws_sdk_ec2,
    kms: aws_sdk_kms,
    rds: aws_sdk_rds,
    cloudtrail: aws_sdk_cloudtrail,
    /// AWS Config (the recorder), not to be confused with the SDK's configuration.
    config_service: aws_sdk_config,
    logs: aws_sdk_cloudwatchlogs,
    dynamodb: aws_sdk_dynamodb,
    backup: aws_sdk_backup,
    guardduty: aws_sdk_guardduty,
    securityhub: aws_sdk_securityhub,
    inspector2: aws_sdk_inspector2,
    eventbridge: aws_sdk_eventbridge,
    /// IAM is global: its endpoint is the same from every region.
    iam: aws_sdk_iam,
}

/// Every AWS operation called, as `Service:Operation` in the SDK's names
/// (`GuardDuty:GetDetector`), in call order: what a handler really does,
/// for the least-privilege test and for counting calls.
#[derive(Debug, Clone, Default)]
pub struct CallLog(Arc<Mutex<Vec<String>>>);

impl CallLog {
    pub fn calls(&self) -> Vec<String> {
        self.0.lock().map(|c| c.clone()).unwrap_or_default()
    }

    pub fn clear(&self) {
        if let Ok(mut calls) = self.0.lock() {
            calls.clear();
        }
    }
}

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "CallLog"
    }

    // Client interceptors read before execution run before the operation is
    // configured: its name is known from serialization on.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let (Some(op), Ok(mut calls)) = (cfg.load::<Metadata>(), self.0.lock()) {
            calls.push(format!("{}:{}", op.service(), op.name()));
        }
        Ok(())
    }
}

#[derive(Debug)]
struct FixedEndpoint(String);

impl aws_sdk_s3control::config::endpoint::ResolveEndpoint for FixedEndpoint {
    fn resolve_endpoint<'a>(&'a self, _: &'a aws_sdk_s3control::config::endpoint::Params) -> EndpointFuture<'a> {
        EndpointFuture::ready(Ok(Endpoint::builder().url(self.0.clone()).build()))
    }
}
