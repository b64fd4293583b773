//! Unencrypted EBS volumes are replaced by encrypted copies: snapshot, copy
//! the snapshot encrypted, create a volume from the copy with the original's
//! shape and tags, then delete the original and its plain snapshot. A failure
//! midway leaves the original untouched and deletes what was created.

use crate::{AT_REST, EC2, KMS_KEY_ID};
use aws_sdk_ec2::client::Waiters;
use aws_sdk_ec2::types::{
    EbsInstanceBlockDeviceSpecification, Filter, InstanceBlockDeviceMappingSpecification, InstanceStateName,
    ResourceType, Tag, TagSpecification, Volume, VolumeType,
};
use safeguard::error::{annotate, wait_failed, AwsErrorKind};
use safeguard::resources::VOLUME;
use safeguard::{
    async_trait, Action, Assessment, Control, Ctx, Declaration, During, Error, Resource, Setting, Severity, Trigger,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub static ATTACHED_VOLUME_ACTION: Setting = Setting {
    env: "ATTACHED_VOLUME_ACTION",
    parameter: "AttachedVolumeAction",
    default: "notify",
    description: "notify: report unencrypted attached volumes; swap: stop the instance, swap in an encrypted copy, \
                  start it again if it was running",
    allowed: &["notify", "swap"],
};

pub static VOLUME_WAIT_SECONDS: Setting = Setting {
    env: "VOLUME_WAIT_SECONDS",
    parameter: "VolumeWaitSeconds",
    default: "840",
    description: "Time budget in seconds for all the waits of one volume replacement (snapshot, copy, new volume, \
                  stop, detach, attach); keep it below the function's 900 s timeout",
    allowed: &[],
};

const DEFAULT_BUDGET_SECONDS: u64 = 840;

/// Tag on the encrypted volume naming the volume it replaced.
pub const REPLACES_TAG: &str = "safeguard:replaces";

static DECLARATION: Declaration = Declaration {
    id: "ebs-unencrypted-volume",
    title: "EBS volumes are encrypted",
    resource: &VOLUME,
    hipaa: AT_REST,
    severity: Severity::High,
    problem: "was not encrypted",
    triggers: &[Trigger {
        event_source: EC2,
        event_names: &["CreateVolume", "RunInstances", "AttachVolume"],
    }],
    permissions: &[
        "ec2:DescribeVolumes",
        "ec2:DescribeSnapshots",
        "ec2:DescribeInstances",
        "ec2:CreateSnapshot",
        "ec2:CopySnapshot",
        "ec2:CreateVolume",
        "ec2:DeleteSnapshot",
        "ec2:DeleteVolume",
        "ec2:StopInstances",
        "ec2:StartInstances",
        "ec2:DetachVolume",
        "ec2:AttachVolume",
        "ec2:ModifyInstanceAttribute",
        "kms:DescribeKey",
    ],
    settings: &[&ATTACHED_VOLUME_ACTION, &KMS_KEY_ID, &VOLUME_WAIT_SECONDS],
};

pub struct UnencryptedVolume;

/// Read once per event: the fix works from the volume the check judged.
async fn volume(ctx: &Ctx<'_>, id: &str) -> Result<Arc<Volume>, Error> {
    ctx.read(format!("ec2:DescribeVolumes {id}"), || async {
        let out = ctx
            .clients
            .ec2()
            .describe_volumes()
            .volume_ids(id)
            .send()
            .await
            .during("ec2:DescribeVolumes")?;
        out.volumes()
            .first()
            .cloned()
            .ok_or_else(|| Error::Unexpected(format!("DescribeVolumes returned nothing for {id}")))
    })
    .await
}

/// The encrypted volume that replaced `original`, if Safeguard replaced it.
async fn replacement(ctx: &Ctx<'_>, original: &str) -> Result<Option<String>, Error> {
    let filter = Filter::builder()
        .name(format!("tag:{REPLACES_TAG}"))
        .values(original)
        .build();
    let out = ctx
        .clients
        .ec2()
        .describe_volumes()
        .filters(filter)
        .send()
        .await
        .during("ec2:DescribeVolumes")?;
    Ok(out
        .volumes()
        .iter()
        .find(|v| v.encrypted() == Some(true))
        .and_then(|v| v.volume_id())
        .map(str::to_string))
}

/// One time budget for a whole replacement, so that the function ends (and
/// cleans up) before Lambda's timeout cuts it off midway.
#[derive(Clone, Copy)]
struct Deadline(Instant);

impl Deadline {
    fn start(ctx: &Ctx<'_>) -> Deadline {
        let budget = ctx
            .settings
            .get(VOLUME_WAIT_SECONDS.env)
            .parse()
            .unwrap_or(DEFAULT_BUDGET_SECONDS);
        Deadline(Instant::now() + Duration::from_secs(budget))
    }

    /// The longest the next wait may take.
    fn left(self) -> Duration {
        self.0
            .saturating_duration_since(Instant::now())
            .max(Duration::from_secs(1))
    }
}

/// What the copy created, for the alert and for clean-up.
struct Copy {
    plain_snapshot: String,
    encrypted_snapshot: String,
    volume: String,
}

/// Delete what a failed replacement created; say what could not be deleted.
async fn clean_up(ctx: &Ctx<'_>, snapshots: &[String], volume: Option<&str>) -> String {
    let ec2 = ctx.clients.ec2();
    let mut left = Vec::new();
    if let Some(v) = volume {
        if ec2
            .delete_volume()
            .volume_id(v)
            .send()
            .await
            .during("ec2:DeleteVolume")
            .is_err()
        {
            left.push(v.to_string());
        }
    }
    for s in snapshots.iter().rev() {
        if ec2
            .delete_snapshot()
            .snapshot_id(s)
            .send()
            .await
            .during("ec2:DeleteSnapshot")
            .is_err()
        {
            left.push(s.clone());
        }
    }
    let created: Vec<&str> = snapshots.iter().map(String::as_str).chain(volume).collect();
    match (created.is_empty(), left.is_empty()) {
        (true, _) => "nothing had been created".into(),
        (false, true) => format!("deleted what had been created ({})", created.join(", ")),
        (false, false) => format!("could not delete {}: remove by hand", left.join(", ")),
    }
}

async fn encrypted_copy(ctx: &Ctx<'_>, v: &Volume, deadline: Deadline) -> Result<Copy, Error> {
    let ec2 = ctx.clients.ec2();
    let id = v.volume_id().unwrap_or_default();
    let mut snapshots: Vec<String> = Vec::new();
    let mut new_volume: Option<String> = None;
    let result: Result<(), Error> = async {
        let plain = ec2
            .create_snapshot()
            .volume_id(id)
            .description(format!("Safeguard: plain snapshot of {id} for encryption"))
            .send()
            .await
            .during("ec2:CreateSnapshot")?;
        let plain = plain.snapshot_id().unwrap_or_default().to_string();
        snapshots.push(plain.clone());
        ec2.wait_until_snapshot_completed()
            .snapshot_ids(&plain)
            .wait(deadline.left())
            .await
            .map_err(|e| wait_failed(&format!("snapshot {plain} of {id} did not complete"), e))?;

        let key = ctx.settings.get(KMS_KEY_ID.env);
        let mut copy = ec2
            .copy_snapshot()
            .source_snapshot_id(&plain)
            .source_region(ctx.clients.region().unwrap_or("us-east-1"))
            .encrypted(true)
            .description(format!("Safeguard: encrypted copy of {plain} ({id})"));
        if !key.is_empty() {
            copy = copy.kms_key_id(key);
        }
        let encrypted = copy.send().await.during("ec2:CopySnapshot")?;
        let encrypted = encrypted.snapshot_id().unwrap_or_default().to_string();
        snapshots.push(encrypted.clone());
        ec2.wait_until_snapshot_completed()
            .snapshot_ids(&encrypted)
            .wait(deadline.left())
            .await
            .map_err(|e| wait_failed(&format!("encrypted copy {encrypted} did not complete"), e))?;

        let mut tags: Vec<Tag> = v.tags().to_vec();
        tags.push(Tag::builder().key(REPLACES_TAG).value(id).build());
        let mut create = ec2
            .create_volume()
            .snapshot_id(&encrypted)
            .availability_zone(v.availability_zone().unwrap_or_default())
            .encrypted(true)
            .tag_specifications(
                TagSpecification::builder()
                    .resource_type(ResourceType::Volume)
                    .set_tags(Some(tags))
                    .build(),
            );
        if let Some(size) = v.size() {
            create = create.size(size);
        }
        if let Some(kind) = v.volume_type() {
            create = create.volume_type(kind.clone());
            // Only these types take a provisioned IOPS / throughput figure.
            if matches!(kind, VolumeType::Io1 | VolumeType::Io2 | VolumeType::Gp3) {
                create = create.set_iops(v.iops());
            }
            if matches!(kind, VolumeType::Gp3) {
                create = create.set_throughput(v.throughput());
            }
        }
        if !key.is_empty() {
            create = create.kms_key_id(key);
        }
        let created = create.send().await.during("ec2:CreateVolume")?;
        let created = created.volume_id().unwrap_or_default().to_string();
        new_volume = Some(created.clone());
        ec2.wait_until_volume_available()
            .volume_ids(&created)
            .wait(deadline.left())
            .await
            .map_err(|e| wait_failed(&format!("encrypted volume {created} did not become available"), e))?;
        Ok(())
    }
    .await;
    match (result, new_volume) {
        (Ok(()), Some(volume)) if snapshots.len() == 2 => Ok(Copy {
            plain_snapshot: snapshots[0].clone(),
            encrypted_snapshot: snapshots[1].clone(),
            volume,
        }),
        (Ok(()), volume) => {
            let cleanup = clean_up(ctx, &snapshots, volume.as_deref()).await;
            Err(Error::Unexpected(format!(
                "the encrypted copy of {id} is incomplete; {id} is untouched; {cleanup}"
            )))
        }
        (Err(err), volume) => {
            let cleanup = clean_up(ctx, &snapshots, volume.as_deref()).await;
            Err(annotate(err, &format!("{id} is untouched; {cleanup}")))
        }
    }
}

/// Delete the original volume and its plain snapshot once the copy is in place.
async fn retire(ctx: &Ctx<'_>, original: &str, copy: &Copy) -> Result<(), Error> {
    let ec2 = ctx.clients.ec2();
    ec2.delete_volume()
        .volume_id(original)
        .send()
        .await
        .during("ec2:DeleteVolume")?;
    ec2.delete_snapshot()
        .snapshot_id(&copy.plain_snapshot)
        .send()
        .await
        .during("ec2:DeleteSnapshot")?;
    Ok(())
}

fn summary(original: &str, copy: &Copy) -> String {
    format!(
        "replaced unencrypted {original} with encrypted {} (same AZ, size, type and tags, made from the encrypted \
         snapshot {}); deleted {original} and its plain snapshot {}",
        copy.volume, copy.encrypted_snapshot, copy.plain_snapshot
    )
}

async fn instance_state(ctx: &Ctx<'_>, instance: &str) -> Result<Option<InstanceStateName>, Error> {
    let out = ctx
        .clients
        .ec2()
        .describe_instances()
        .instance_ids(instance)
        .send()
        .await
        .during("ec2:DescribeInstances")?;
    Ok(out
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .find_map(|i| i.state().and_then(|s| s.name()).cloned()))
}

/// Stop, detach, copy, attach the copy at the same device, restart if it was running.
async fn swap(
    ctx: &Ctx<'_>,
    v: &Volume,
    instance: &str,
    device: &str,
    delete_on_termination: bool,
    deadline: Deadline,
) -> Result<Action, Error> {
    let ec2 = ctx.clients.ec2();
    let id = v.volume_id().unwrap_or_default();
    let was_running = instance_state(ctx, instance).await? == Some(InstanceStateName::Running);
    ec2.stop_instances()
        .instance_ids(instance)
        .send()
        .await
        .during("ec2:StopInstances")?;
    ec2.wait_until_instance_stopped()
        .instance_ids(instance)
        .wait(deadline.left())
        .await
        .map_err(|e| wait_failed(&format!("instance {instance} did not stop"), e))?;
    ec2.detach_volume()
        .volume_id(id)
        .instance_id(instance)
        .send()
        .await
        .during("ec2:DetachVolume")?;
    ec2.wait_until_volume_available()
        .volume_ids(id)
        .wait(deadline.left())
        .await
        .map_err(|e| wait_failed(&format!("{id} did not detach"), e))?;
    let restore = || async {
        let back = ec2
            .attach_volume()
            .volume_id(id)
            .instance_id(instance)
            .device(device)
            .send()
            .await
            .during("ec2:AttachVolume");
        let restarted = if was_running {
            ec2.start_instances()
                .instance_ids(instance)
                .send()
                .await
                .during("ec2:StartInstances")
                .is_ok()
        } else {
            true
        };
        match (back.is_ok(), restarted) {
            (true, true) => format!("{id} was attached again at {device}"),
            _ => format!("{id} could NOT be put back at {device} on {instance}: do it by hand"),
        }
    };
    let copy = match encrypted_copy(ctx, v, deadline).await {
        Ok(copy) => copy,
        Err(err) => return Err(annotate(err, &restore().await)),
    };
    let attach = async {
        ec2.attach_volume()
            .volume_id(&copy.volume)
            .instance_id(instance)
            .device(device)
            .send()
            .await
            .during("ec2:AttachVolume")?;
        ec2.wait_until_volume_in_use()
            .volume_ids(&copy.volume)
            .wait(deadline.left())
            .await
            .map_err(|e| wait_failed(&format!("{} did not attach", copy.volume), e))?;
        if delete_on_termination {
            let mapping = InstanceBlockDeviceMappingSpecification::builder()
                .device_name(device)
                .ebs(
                    EbsInstanceBlockDeviceSpecification::builder()
                        .delete_on_termination(true)
                        .volume_id(&copy.volume)
                        .build(),
                )
                .build();
            ec2.modify_instance_attribute()
                .instance_id(instance)
                .block_device_mappings(mapping)
                .send()
                .await
                .during("ec2:ModifyInstanceAttribute")?;
        }
        Ok::<(), Error>(())
    };
    if let Err(err) = attach.await {
        let _ = ec2
            .detach_volume()
            .volume_id(&copy.volume)
            .instance_id(instance)
            .send()
            .await
            .during("ec2:DetachVolume");
        let cleanup = clean_up(
            ctx,
            &[copy.plain_snapshot.clone(), copy.encrypted_snapshot.clone()],
            Some(&copy.volume),
        )
        .await;
        return Err(annotate(err, &format!("{cleanup}; {}", restore().await)));
    }
    if was_running {
        ec2.start_instances()
            .instance_ids(instance)
            .send()
            .await
            .during("ec2:StartInstances")?;
    }
    retire(ctx, id, &copy).await?;
    let restarted = if was_running {
        ", started it again"
    } else {
        ", left it stopped as it was"
    };
    Ok(Action::Replaced {
        id: copy.volume.clone(),
        what: format!("stopped {instance}, {} at {device}{restarted}", summary(id, &copy)),
    })
}

#[async_trait]
impl Control for UnencryptedVolume {
    fn declaration(&self) -> &'static Declaration {
        &DECLARATION
    }

    async fn check(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Assessment, Error> {
        let v = match volume(ctx, &resource.id).await {
            Ok(v) => v,
            // A volume Safeguard replaced is gone, but its encrypted copy is not:
            // a repeated event (EventBridge delivers at least once) finds that.
            Err(err) if err.kind() == Some(AwsErrorKind::NotFound) => match replacement(ctx, &resource.id).await? {
                Some(copy) => {
                    return Ok(Assessment::compliant(format!(
                        "replaced by the encrypted volume {copy}"
                    )))
                }
                None => return Err(err),
            },
            Err(err) => return Err(err),
        };
        if v.encrypted() == Some(true) {
            let key = v.kms_key_id().map(|k| format!(" with {k}")).unwrap_or_default();
            return Ok(Assessment::compliant(format!("encrypted{key}")));
        }
        let attached = v
            .attachments()
            .iter()
            .filter_map(|a| {
                a.instance_id()
                    .map(|i| format!(", attached to {i} at {}", a.device().unwrap_or("?")))
            })
            .collect::<String>();
        Ok(Assessment::violation(format!("not encrypted{attached}")))
    }

    async fn fix(&self, ctx: &Ctx<'_>, resource: &Resource) -> Result<Action, Error> {
        let v = volume(ctx, &resource.id).await?;
        let attachment = v.attachments().iter().find(|a| a.instance_id().is_some()).cloned();
        match attachment {
            None => {
                let copy = encrypted_copy(ctx, &v, Deadline::start(ctx)).await?;
                retire(ctx, &resource.id, &copy).await?;
                Ok(Action::Replaced {
                    id: copy.volume.clone(),
                    what: summary(&resource.id, &copy),
                })
            }
            Some(a) => {
                let instance = a.instance_id().unwrap_or_default();
                let device = a.device().unwrap_or_default();
                if ctx.settings.get(ATTACHED_VOLUME_ACTION.env) != "swap" {
                    return Ok(Action::Withheld(format!(
                        "attached to {instance} at {device}; set ATTACHED_VOLUME_ACTION=swap to allow stop-swap-start"
                    )));
                }
                let keep = a.delete_on_termination() == Some(true);
                swap(ctx, &v, instance, device, keep, Deadline::start(ctx)).await
            }
        }
    }

    fn planned_fix(&self) -> &'static str {
        "replace the volume with an encrypted copy (snapshot, encrypted copy, new volume; original deleted); \
         an attached volume only with ATTACHED_VOLUME_ACTION=swap, else it is reported"
    }
}
