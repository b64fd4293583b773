//! AWS Config records every resource's configuration over time: the history
//! an audit asks for. The recorder keeps recording; a deleted delivery
//! channel is reported (recreating one needs a bucket only its owner knows).

use crate::{CONFIG, HIPAA};
use safeguard::resources::{CONFIG_RECORDER, DELIVERY_CHANNEL};
use safeguard::{
    async_trait, Action, Assessment, Control, Ctx, Declaration, During, Error, Resource, Severity, Trigger,
};

static STOPPED: Declaration = Declaration {
    id: "config-recorder-stopped",
    title: "The AWS Config recorder keeps recording",
    resource: &CONFIG_RECORDER,
    hipaa: HIPAA,
    severity: Severity::High,
    problem: "stopped recording",
    triggers: &[Trigger {
        event_source: CONFIG,
        event_names: &["StopConfigurationRecorder"],
    }],
    permissions: &[
        "config:DescribeConfigurationRecorderStatus",
        "config:DescribeDeliveryChannels",
        "config:StartConfigurationRecorder",
    ],
    settings: &[],
};

pub struct RecorderStopped;

#[async_trait]
impl Control for RecorderStopped {
    fn declaration(&self) -> &'static Declaration {
        &STOPPED
    }

    async fn check(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Assessment, Error> {
        let out = ctx
            .clients
            .config_service()
            .describe_configuration_recorder_status()
            .configuration_recorder_names(&resource.id)
            .send()
            .await
            .during("config:DescribeConfigurationRecorderStatus")?;
        let status = out.configuration_recorders_status().first();
        Ok(match status {
            Some(s) if s.recording() => Assessment::compliant("the recorder is recording"),
            Some(s) => Assessment::violation(format!(
                "the recorder is stopped (last status {})",
                s.last_status().map(|l| l.as_str()).unwrap_or("unknown")
            )),
            None => return Err(Error::Unexpected(format!("no status for the recorder {}", resource.id))),
        })
    }

    async fn fix(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Action, Error> {
        let config = ctx.clients.config_service();
        let channels = config
            .describe_delivery_channels()
            .send()
            .await
            .during("config:DescribeDeliveryChannels")?;
        if channels.delivery_channels().is_empty() {
            return Ok(Action::Withheld(
                "the recorder cannot start: the account has no delivery channel. Create one, then start the recorder"
                    .into(),
            ));
        }
        config
            .start_configuration_recorder()
            .configuration_recorder_name(&resource.id)
            .send()
            .await
            .during("config:StartConfigurationRecorder")?;
        Ok(Action::Done("started the recorder again".into()))
    }

    fn planned_fix(&self) -> &'static str {
        "start the recorder again"
    }
}

static CHANNEL: Declaration = Declaration {
    id: "config-delivery-channel-deleted",
    title: "AWS Config keeps a delivery channel",
    resource: &DELIVERY_CHANNEL,
    hipaa: HIPAA,
    severity: Severity::High,
    problem: "was deleted",
    triggers: &[Trigger {
        event_source: CONFIG,
        event_names: &["DeleteDeliveryChannel"],
    }],
    permissions: &["config:DescribeDeliveryChannels"],
    settings: &[],
};

pub struct DeliveryChannelDeleted;

#[async_trait]
impl Control for DeliveryChannelDeleted {
    fn declaration(&self) -> &'static Declaration {
        &CHANNEL
    }

    async fn check(&self, ctx: &Ctx<'_>, _resource: &Resource) -> Result<Assessment, Error> {
        let out = ctx
            .clients
            .config_service()
            .describe_delivery_channels()
            .send()
            .await
            .during("config:DescribeDeliveryChannels")?;
        let channels: Vec<String> = out
            .delivery_channels()
            .iter()
            .map(|c| {
                format!(
                    "{} to s3://{}",
                    c.name().unwrap_or("?"),
                    c.s3_bucket_name().unwrap_or("?")
                )
            })
            .collect();
        Ok(if channels.is_empty() {
            Assessment::violation("the account has no delivery channel: configuration history is not delivered")
        } else {
            Assessment::compliant(format!("delivery channel {}", channels.join(", ")))
        })
    }

    async fn fix(&self, _ctx: &Ctx<'_>, _resource: &Resource) -> Result<Action, Error> {
        Ok(Action::Withheld(
            "notify-only: recreate the delivery channel (put-delivery-channel) with the account's Config bucket".into(),
        ))
    }

    fn planned_fix(&self) -> &'static str {
        "report it (notify-only: a delivery channel needs the account's Config bucket)"
    }

    fn notify_only(&self) -> bool {
        true
    }
}
