//! Point-in-time recovery restores a DynamoDB table to any second of the last
//! 35 days: the contingency plan for a bad write or a deleted item.

use crate::{CONTINGENCY, DYNAMODB};
use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::types::{PointInTimeRecoverySpecification, PointInTimeRecoveryStatus};
use safeguard::error::wait_failed;
use safeguard::resources::DynamoTable;
use safeguard::{
    async_trait, Action, Assessment, Control, Ctx, Declaration, During, Error, Resource, Severity, Trigger,
};
use std::time::Duration;

static DECLARATION: Declaration = Declaration {
    id: "dynamodb-point-in-time-recovery",
    title: "DynamoDB tables keep point-in-time recovery on",
    resource: &DynamoTable,
    hipaa: CONTINGENCY,
    severity: Severity::High,
    problem: "had no point-in-time recovery",
    triggers: &[Trigger {
        event_source: DYNAMODB,
        event_names: &["CreateTable", "UpdateContinuousBackups"],
    }],
    permissions: &[
        "dynamodb:DescribeTable",
        "dynamodb:DescribeContinuousBackups",
        "dynamodb:UpdateContinuousBackups",
    ],
    settings: &[],
};

pub struct PointInTimeRecovery;

/// A table is CREATING for a while after CreateTable; PITR waits for ACTIVE.
const ACTIVE_WAIT: Duration = Duration::from_secs(90);

#[async_trait]
impl Control for PointInTimeRecovery {
    fn declaration(&self) -> &'static Declaration {
        &DECLARATION
    }

    async fn check(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Assessment, Error> {
        let out = ctx
            .clients
            .dynamodb()
            .describe_continuous_backups()
            .table_name(&resource.id)
            .send()
            .await
            .during("dynamodb:DescribeContinuousBackups")?;
        let pitr = out
            .continuous_backups_description()
            .and_then(|d| d.point_in_time_recovery_description());
        Ok(match pitr.and_then(|p| p.point_in_time_recovery_status()) {
            Some(PointInTimeRecoveryStatus::Enabled) => {
                let days = pitr
                    .and_then(|p| p.recovery_period_in_days())
                    .map(|d| format!(" ({d} days)"))
                    .unwrap_or_default();
                Assessment::compliant(format!("point-in-time recovery is on{days}"))
            }
            _ => Assessment::violation("point-in-time recovery is off"),
        })
    }

    async fn fix(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Action, Error> {
        let dynamodb = ctx.clients.dynamodb();
        dynamodb
            .wait_until_table_exists()
            .table_name(&resource.id)
            .wait(ACTIVE_WAIT)
            .await
            .map_err(|e| wait_failed(&format!("table {} did not become active", resource.id), e))?;
        dynamodb
            .update_continuous_backups()
            .table_name(&resource.id)
            .point_in_time_recovery_specification(
                PointInTimeRecoverySpecification::builder()
                    .point_in_time_recovery_enabled(true)
                    .build()
                    .map_err(|e| Error::Unexpected(e.to_string()))?,
            )
            .send()
            .await
            .during("dynamodb:UpdateContinuousBackups")?;
        Ok(Action::Done("turned point-in-time recovery on".into()))
    }

    fn planned_fix(&self) -> &'static str {
        "turn point-in-time recovery on"
    }
}
