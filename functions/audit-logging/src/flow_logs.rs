//! VPC flow logs record who talked to what on the network. A deleted flow
//! log names no VPC, so every VPC of the region is checked for an active one
//! and those without get one again, to the configured destination.

use crate::{EC2, HIPAA};
use aws_sdk_ec2::types::{FlowLogsResourceType, LogDestinationType, TrafficType};
use safeguard::resources::VPC;
use safeguard::{
    async_trait, Action, Assessment, Control, Ctx, Declaration, During, Error, Resource, Setting, Severity, Trigger,
};

pub static FLOW_LOG_DESTINATION: Setting = Setting {
    env: "FLOW_LOG_DESTINATION",
    parameter: "FlowLogDestinationArn",
    default: "",
    description: "ARN of an S3 bucket (arn:aws:s3:::bucket[/prefix]) or CloudWatch Logs log group for recreated \
                  VPC flow logs (empty: only report)",
    allowed: &[],
};

pub static FLOW_LOG_ROLE_ARN: Setting = Setting {
    env: "FLOW_LOG_ROLE_ARN",
    parameter: "FlowLogDeliveryRoleArn",
    default: "",
    description: "Role that delivers flow logs to a CloudWatch Logs destination (not needed for S3)",
    allowed: &[],
};

static DECLARATION: Declaration = Declaration {
    id: "vpc-flow-logs",
    title: "Every VPC has an active flow log",
    resource: &VPC,
    hipaa: HIPAA,
    severity: Severity::High,
    problem: "has no flow log",
    triggers: &[Trigger {
        event_source: EC2,
        event_names: &["DeleteFlowLogs"],
    }],
    permissions: &["ec2:DescribeFlowLogs", "ec2:CreateFlowLogs"],
    settings: &[&FLOW_LOG_DESTINATION, &FLOW_LOG_ROLE_ARN],
};

pub struct VpcFlowLogs;

#[async_trait]
impl Control for VpcFlowLogs {
    fn declaration(&self) -> &'static Declaration {
        &DECLARATION
    }

    async fn check(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Assessment, Error> {
        let filter = aws_sdk_ec2::types::Filter::builder()
            .name("resource-id")
            .values(&resource.id)
            .build();
        let out = ctx
            .clients
            .ec2()
            .describe_flow_logs()
            .filter(filter)
            .send()
            .await
            .during("ec2:DescribeFlowLogs")?;
        let active: Vec<String> = out
            .flow_logs()
            .iter()
            .filter(|f| f.flow_log_status().is_none_or(|s| s.eq_ignore_ascii_case("ACTIVE")))
            .map(|f| {
                format!(
                    "{} to {}",
                    f.flow_log_id().unwrap_or("?"),
                    f.log_destination().or(f.log_group_name()).unwrap_or("?")
                )
            })
            .collect();
        Ok(if active.is_empty() {
            Assessment::violation("no active flow log: its network traffic is not recorded")
        } else {
            Assessment::compliant(format!("flow log {}", active.join(", ")))
        })
    }

    async fn fix(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Action, Error> {
        let destination = ctx.settings.get(FLOW_LOG_DESTINATION.env);
        let role = ctx.settings.get(FLOW_LOG_ROLE_ARN.env);
        let mut request = ctx
            .clients
            .ec2()
            .create_flow_logs()
            .resource_ids(&resource.id)
            .resource_type(FlowLogsResourceType::Vpc)
            .traffic_type(TrafficType::All)
            .log_destination(destination);
        if destination.starts_with("arn:aws:s3:::") {
            request = request.log_destination_type(LogDestinationType::S3);
        } else if destination.starts_with("arn:aws:logs:") && !role.is_empty() {
            request = request
                .log_destination_type(LogDestinationType::CloudWatchLogs)
                .deliver_logs_permission_arn(role);
        } else {
            let why = if destination.is_empty() {
                "FLOW_LOG_DESTINATION is not set".to_string()
            } else if destination.starts_with("arn:aws:logs:") {
                "FLOW_LOG_ROLE_ARN is not set (a CloudWatch Logs destination needs a delivery role)".to_string()
            } else {
                format!("FLOW_LOG_DESTINATION={destination:?} is neither an S3 nor a CloudWatch Logs ARN")
            };
            return Ok(Action::Withheld(format!("{why}, so no flow log can be created")));
        }
        let out = request.send().await.during("ec2:CreateFlowLogs")?;
        if let Some(problem) = out.unsuccessful().first() {
            let message = problem.error().and_then(|e| e.message()).unwrap_or("no reason given");
            return Err(Error::Unexpected(format!("CreateFlowLogs refused: {message}")));
        }
        let ids = out.flow_log_ids().join(", ");
        Ok(Action::Done(format!(
            "created flow log {ids} (all traffic) to {destination}"
        )))
    }

    fn planned_fix(&self) -> &'static str {
        "create a flow log (all traffic) to the configured destination"
    }
}
