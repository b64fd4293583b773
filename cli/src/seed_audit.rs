//! Seeding for the audit-logging events: trails, access logging, flow logs,
//! the AWS Config recorder and log groups, left as the event left them.

use crate::seed::ensure_bucket;
use aws_sdk_s3::types::{BucketCannedAcl, BucketLoggingStatus, Tag, Tagging};
use safeguard::{Clients, During, Error, TrailEvent};

/// The bucket seeded trails, access logs and flow logs deliver to; the demo
/// and the tests configure it as the target.
pub const LOG_BUCKET: &str = "phi-audit-logs";

/// The log bucket, with the ACL S3 server access logging needs.
pub async fn ensure_log_bucket(clients: &Clients) -> Result<String, Error> {
    ensure_bucket(clients, LOG_BUCKET).await?;
    clients
        .s3()
        .put_bucket_acl()
        .bucket(LOG_BUCKET)
        .acl(BucketCannedAcl::from("log-delivery-write"))
        .send()
        .await
        .during("s3:PutBucketAcl")?;
    Ok(LOG_BUCKET.to_string())
}

fn trail_name(event: &TrailEvent) -> Result<String, Error> {
    let id = event
        .request_str("name")
        .ok_or_else(|| Error::Event(format!("{} event names no trail", event.event_name())))?;
    Ok(id.rsplit_once(":trail/").map(|(_, n)| n).unwrap_or(id).to_string())
}

/// A trail named as in the event, logging, validated and multi-region.
async fn ensure_trail(clients: &Clients, name: &str) -> Result<(), Error> {
    let bucket = ensure_log_bucket(clients).await?;
    let cloudtrail = clients.cloudtrail();
    let created = cloudtrail
        .create_trail()
        .name(name)
        .s3_bucket_name(bucket)
        .is_multi_region_trail(true)
        .enable_log_file_validation(true)
        .send()
        .await
        .during("cloudtrail:CreateTrail");
    match created {
        Ok(_) => {}
        Err(e) if e.code() == Some("TrailAlreadyExistsException") => {}
        Err(e) => return Err(e),
    }
    cloudtrail
        .start_logging()
        .name(name)
        .send()
        .await
        .during("cloudtrail:StartLogging")?;
    Ok(())
}

pub async fn seed_cloudtrail(clients: &Clients, event: &TrailEvent) -> Result<String, Error> {
    let name = trail_name(event)?;
    ensure_trail(clients, &name).await?;
    let cloudtrail = clients.cloudtrail();
    match event.event_name() {
        "StopLogging" => {
            cloudtrail
                .stop_logging()
                .name(&name)
                .send()
                .await
                .during("cloudtrail:StopLogging")?;
            Ok(format!("trail {name} exists and has stopped logging"))
        }
        "CreateTrail" | "UpdateTrail" => {
            cloudtrail
                .update_trail()
                .name(&name)
                .enable_log_file_validation(false)
                .is_multi_region_trail(false)
                .send()
                .await
                .during("cloudtrail:UpdateTrail")?;
            Ok(format!(
                "trail {name} has log-file validation off and covers one region only"
            ))
        }
        "DeleteTrail" => {
            cloudtrail
                .delete_trail()
                .name(&name)
                .send()
                .await
                .during("cloudtrail:DeleteTrail")?;
            Ok(format!("trail {name} was deleted"))
        }
        other => Ok(format!("nothing to seed for {other}")),
    }
}

/// A bucket that must log (tagged so), with server access logging off.
pub async fn seed_bucket_logging(clients: &Clients, bucket: &str) -> Result<String, Error> {
    ensure_bucket(clients, bucket).await?;
    ensure_log_bucket(clients).await?;
    let tag = Tag::builder()
        .key("safeguard:access-logging")
        .value("required")
        .build()
        .map_err(|e| Error::Unexpected(e.to_string()))?;
    let tagging = Tagging::builder()
        .tag_set(tag)
        .build()
        .map_err(|e| Error::Unexpected(e.to_string()))?;
    let s3 = clients.s3();
    s3.put_bucket_tagging()
        .bucket(bucket)
        .tagging(tagging)
        .send()
        .await
        .during("s3:PutBucketTagging")?;
    s3.put_bucket_logging()
        .bucket(bucket)
        .bucket_logging_status(BucketLoggingStatus::builder().build())
        .send()
        .await
        .during("s3:PutBucketLogging")?;
    Ok(format!(
        "bucket {bucket} is tagged safeguard:access-logging=required and has server access logging off"
    ))
}

/// A new VPC whose flow log was just deleted; returns the VPC's id.
pub async fn seed_deleted_flow_log(clients: &Clients) -> Result<(String, String), Error> {
    let ec2 = clients.ec2();
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.90.0.0/16")
        .send()
        .await
        .during("ec2:CreateVpc")?;
    let vpc = vpc
        .vpc()
        .and_then(|v| v.vpc_id())
        .ok_or_else(|| Error::Unexpected("CreateVpc returned no id".into()))?
        .to_string();
    let bucket = ensure_log_bucket(clients).await?;
    let created = ec2
        .create_flow_logs()
        .resource_ids(&vpc)
        .resource_type(aws_sdk_ec2::types::FlowLogsResourceType::Vpc)
        .traffic_type(aws_sdk_ec2::types::TrafficType::All)
        .log_destination_type(aws_sdk_ec2::types::LogDestinationType::S3)
        .log_destination(format!("arn:aws:s3:::{bucket}"))
        .send()
        .await
        .during("ec2:CreateFlowLogs")?;
    let ids = created.flow_log_ids().to_vec();
    ec2.delete_flow_logs()
        .set_flow_log_ids(Some(ids.clone()))
        .send()
        .await
        .during("ec2:DeleteFlowLogs")?;
    Ok((vpc, ids.join(", ")))
}

/// The recorder (and its delivery channel) as the event left them.
pub async fn seed_config(clients: &Clients, event: &TrailEvent) -> Result<String, Error> {
    let config = clients.config_service();
    let recorder = event
        .request_str("configurationRecorderName")
        .unwrap_or("default")
        .to_string();
    let channel = event
        .request_str("deliveryChannelName")
        .unwrap_or("default")
        .to_string();
    let bucket = ensure_log_bucket(clients).await?;
    let role = format!("arn:aws:iam::{}:role/aws-config-recorder", event.account());
    config
        .put_configuration_recorder()
        .configuration_recorder(
            aws_sdk_config::types::ConfigurationRecorder::builder()
                .name(&recorder)
                .role_arn(role)
                .build(),
        )
        .send()
        .await
        .during("config:PutConfigurationRecorder")?;
    config
        .put_delivery_channel()
        .delivery_channel(
            aws_sdk_config::types::DeliveryChannel::builder()
                .name(&channel)
                .s3_bucket_name(bucket)
                .build(),
        )
        .send()
        .await
        .during("config:PutDeliveryChannel")?;
    config
        .start_configuration_recorder()
        .configuration_recorder_name(&recorder)
        .send()
        .await
        .during("config:StartConfigurationRecorder")?;
    config
        .stop_configuration_recorder()
        .configuration_recorder_name(&recorder)
        .send()
        .await
        .during("config:StopConfigurationRecorder")?;
    match event.event_name() {
        "StopConfigurationRecorder" => Ok(format!("the AWS Config recorder {recorder} is stopped")),
        "DeleteDeliveryChannel" => {
            config
                .delete_delivery_channel()
                .delivery_channel_name(&channel)
                .send()
                .await
                .during("config:DeleteDeliveryChannel")?;
            Ok(format!(
                "the AWS Config delivery channel {channel} is deleted (and the recorder {recorder} stopped)"
            ))
        }
        other => Ok(format!("nothing to seed for {other}")),
    }
}

/// The log group, with the retention the event set (or none).
pub async fn seed_logs(clients: &Clients, event: &TrailEvent) -> Result<String, Error> {
    let group = event
        .request_str("logGroupName")
        .ok_or_else(|| Error::Event(format!("{} event names no log group", event.event_name())))?
        .to_string();
    let logs = clients.logs();
    let created = logs
        .create_log_group()
        .log_group_name(&group)
        .send()
        .await
        .during("logs:CreateLogGroup");
    match created {
        Ok(_) => {}
        Err(e) if e.code() == Some("ResourceAlreadyExistsException") => {}
        Err(e) => return Err(e),
    }
    let days = event
        .call
        .request_parameters
        .get("retentionInDays")
        .and_then(serde_json::Value::as_i64);
    match (event.event_name(), days) {
        ("PutRetentionPolicy", Some(days)) => {
            logs.put_retention_policy()
                .log_group_name(&group)
                .retention_in_days(days as i32)
                .send()
                .await
                .during("logs:PutRetentionPolicy")?;
            Ok(format!("log group {group} keeps its logs {days} days"))
        }
        _ => {
            logs.delete_retention_policy()
                .log_group_name(&group)
                .send()
                .await
                .during("logs:DeleteRetentionPolicy")?;
            Ok(format!(
                "log group {group} has no retention policy (its logs never expire)"
            ))
        }
    }
}
