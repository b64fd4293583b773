//! Seeding for EC2 events: the emulator picks the ids, so each seeded
//! resource's id is written back into the event at the paths it names.

use aws_sdk_ec2::types::{
    Filter, HttpTokensState, InstanceMetadataOptionsRequest, IpPermission, IpRange, Ipv6Range, LaunchPermission,
    LaunchPermissionModifications, OperationType, PermissionGroup, ResourceType, RuleAction, SnapshotAttributeName,
    Tag, TagSpecification, VolumeType,
};
use safeguard::{Clients, During, Error, TrailEvent};
use serde_json::Value;

/// An account that seeded resources are also shared with: a share that must survive the fix.
pub const PARTNER_ACCOUNT: &str = "210987654321";

pub async fn seed(clients: &Clients, event: &TrailEvent, raw: &mut Value) -> Result<String, Error> {
    let params = &event.call.request_parameters;
    match event.event_name() {
        "AuthorizeSecurityGroupIngress" => {
            let (group, which) = if params.get("groupName").and_then(Value::as_str) == Some("default") {
                (
                    default_group(clients).await?,
                    "the default VPC's default security group",
                )
            } else {
                (new_group(clients).await?, "a new security group")
            };
            let items = params
                .pointer("/ipPermissions/items")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let permissions: Vec<IpPermission> = items.iter().map(trail_permission).collect();
            let described = permissions.iter().map(describe).collect::<Vec<_>>().join(", ");
            authorize(clients, &group, permissions).await?;
            set(raw, "/detail/requestParameters/groupId", &group, false);
            set_each(
                raw,
                "/detail/responseElements/securityGroupRuleSet/items",
                "groupId",
                &group,
            );
            Ok(format!("{which} {group} allows {described}"))
        }
        "ModifySecurityGroupRules" => {
            let rule = params
                .pointer("/ModifySecurityGroupRulesRequest/SecurityGroupRule/SecurityGroupRule")
                .cloned()
                .unwrap_or(Value::Null);
            let group = new_group(clients).await?;
            let permission = permission(
                rule.get("IpProtocol").and_then(Value::as_str).unwrap_or("tcp"),
                rule.get("FromPort").and_then(Value::as_i64).unwrap_or(3389) as i32,
                rule.get("ToPort").and_then(Value::as_i64).unwrap_or(3389) as i32,
                rule.get("CidrIpv4").and_then(Value::as_str),
                rule.get("CidrIpv6").and_then(Value::as_str),
            );
            let described = describe(&permission);
            authorize(clients, &group, vec![permission]).await?;
            set(
                raw,
                "/detail/requestParameters/ModifySecurityGroupRulesRequest/GroupId",
                &group,
                true,
            );
            Ok(format!("security group {group} has a rule changed to {described}"))
        }
        "CreateNetworkAclEntry" | "ReplaceNetworkAclEntry" => {
            let vpc = default_vpc(clients).await?;
            let acl = clients
                .ec2()
                .create_network_acl()
                .vpc_id(&vpc)
                .send()
                .await
                .during("ec2:CreateNetworkAcl")?;
            let acl_id = acl
                .network_acl()
                .and_then(|a| a.network_acl_id())
                .unwrap_or_default()
                .to_string();
            let rule_number = params.get("ruleNumber").and_then(Value::as_i64).unwrap_or(90) as i32;
            let action = if params.get("ruleAction").and_then(Value::as_str) == Some("deny") {
                RuleAction::Deny
            } else {
                RuleAction::Allow
            };
            let mut entry = clients
                .ec2()
                .create_network_acl_entry()
                .network_acl_id(&acl_id)
                .rule_number(rule_number)
                .egress(params.get("egress").and_then(Value::as_bool).unwrap_or(false))
                .rule_action(action)
                .protocol(params.get("protocol").and_then(Value::as_str).unwrap_or("-1"));
            if let Some(cidr) = params.get("cidrBlock").and_then(Value::as_str) {
                entry = entry.cidr_block(cidr);
            }
            if let Some(cidr) = params.get("ipv6CidrBlock").and_then(Value::as_str) {
                entry = entry.ipv6_cidr_block(cidr);
            }
            entry.send().await.during("ec2:CreateNetworkAclEntry")?;
            set(raw, "/detail/requestParameters/networkAclId", &acl_id, true);
            Ok(format!(
                "network ACL {acl_id} in {vpc} has the entry the event created (rule {rule_number})"
            ))
        }
        "RunInstances" => {
            let count = event
                .strings_at("responseElements/instancesSet/items/*/instanceId")
                .len()
                .max(1);
            let ids = run_instances(clients, count as i32).await?;
            if let Some(items) = raw
                .pointer_mut("/detail/responseElements/instancesSet/items")
                .and_then(Value::as_array_mut)
            {
                for (item, id) in items.iter_mut().zip(&ids) {
                    item["instanceId"] = Value::String(id.clone());
                }
            }
            Ok(format!(
                "instance(s) {} run with IMDSv1 allowed (HttpTokens=optional)",
                ids.join(", ")
            ))
        }
        "ModifyInstanceMetadataOptions" => {
            let ids = run_instances(clients, 1).await?;
            let id = ids.first().cloned().unwrap_or_default();
            set(
                raw,
                "/detail/requestParameters/ModifyInstanceMetadataOptionsRequest/InstanceId",
                &id,
                true,
            );
            Ok(format!("instance {id} allows IMDSv1 (HttpTokens=optional)"))
        }
        "CreateVolume" => {
            let zone = params.get("zone").and_then(Value::as_str);
            let size = params.get("size").and_then(Value::as_i64).unwrap_or(8) as i32;
            let kind = params.get("volumeType").and_then(Value::as_str).unwrap_or("gp3");
            let tags: Vec<Tag> = params
                .pointer("/tagSpecificationSet/items/0/tags")
                .and_then(Value::as_array)
                .map(|tags| {
                    tags.iter()
                        .map(|t| {
                            let field = |k: &str| t.get(k).and_then(Value::as_str).unwrap_or_default();
                            Tag::builder().key(field("key")).value(field("value")).build()
                        })
                        .collect()
                })
                .unwrap_or_default();
            let volume = create_volume(clients, zone, size, kind, tags).await?;
            set(raw, "/detail/responseElements/volumeId", &volume, true);
            Ok(format!(
                "unencrypted {kind} volume {volume} ({size} GiB) exists, not attached"
            ))
        }
        "AttachVolume" => {
            let instance = run_instances(clients, 1).await?.into_iter().next().unwrap_or_default();
            let zone = instance_zone(clients, &instance).await?;
            let volume = create_volume(clients, Some(&zone), 8, "gp3", Vec::new()).await?;
            let device = params.get("device").and_then(Value::as_str).unwrap_or("/dev/sdf");
            clients
                .ec2()
                .attach_volume()
                .volume_id(&volume)
                .instance_id(&instance)
                .device(device)
                .send()
                .await
                .during("ec2:AttachVolume")?;
            set(raw, "/detail/requestParameters/volumeId", &volume, true);
            set(raw, "/detail/requestParameters/instanceId", &instance, true);
            Ok(format!(
                "unencrypted volume {volume} is attached to instance {instance} at {device}"
            ))
        }
        "DeleteFlowLogs" => {
            let (vpc, flow_logs) = crate::seed_audit::seed_deleted_flow_log(clients).await?;
            Ok(format!("VPC {vpc} had its flow log {flow_logs} deleted"))
        }
        "DisableEbsEncryptionByDefault" => {
            clients
                .ec2()
                .disable_ebs_encryption_by_default()
                .send()
                .await
                .during("ec2:DisableEbsEncryptionByDefault")?;
            Ok(format!("EBS encryption by default is off in {}", event.region()))
        }
        "ModifySnapshotAttribute" => {
            let volume = create_volume(clients, None, 8, "gp3", Vec::new()).await?;
            let snapshot = clients
                .ec2()
                .create_snapshot()
                .volume_id(&volume)
                .description("seeded by Safeguard: nightly backup of a PHI volume")
                .send()
                .await
                .during("ec2:CreateSnapshot")?;
            let snapshot = snapshot.snapshot_id().unwrap_or_default().to_string();
            clients
                .ec2()
                .modify_snapshot_attribute()
                .snapshot_id(&snapshot)
                .attribute(SnapshotAttributeName::CreateVolumePermission)
                .operation_type(OperationType::Add)
                .group_names("all")
                .user_ids(PARTNER_ACCOUNT)
                .send()
                .await
                .during("ec2:ModifySnapshotAttribute")?;
            set(raw, "/detail/requestParameters/snapshotId", &snapshot, true);
            Ok(format!(
                "snapshot {snapshot} of {volume} is shared with everyone (group all) and with account {PARTNER_ACCOUNT}"
            ))
        }
        "ModifyImageAttribute" => {
            let instance = run_instances(clients, 1).await?.into_iter().next().unwrap_or_default();
            let image = clients
                .ec2()
                .create_image()
                .instance_id(&instance)
                .name(format!("ehr-golden-{instance}"))
                .send()
                .await
                .during("ec2:CreateImage")?;
            let image = image.image_id().unwrap_or_default().to_string();
            let share = LaunchPermissionModifications::builder()
                .add(LaunchPermission::builder().group(PermissionGroup::All).build())
                .add(LaunchPermission::builder().user_id(PARTNER_ACCOUNT).build())
                .build();
            clients
                .ec2()
                .modify_image_attribute()
                .image_id(&image)
                .launch_permission(share)
                .send()
                .await
                .during("ec2:ModifyImageAttribute")?;
            set(raw, "/detail/requestParameters/imageId", &image, true);
            Ok(format!(
                "AMI {image} (from {instance}) is launchable by everyone (group all) and by account {PARTNER_ACCOUNT}"
            ))
        }
        other => Ok(format!("nothing to seed for {other}")),
    }
}

/// Write `id` at `pointer` (only where the field exists, unless `create`).
fn set(raw: &mut Value, pointer: &str, id: &str, create: bool) {
    if let Some(slot) = raw.pointer_mut(pointer) {
        *slot = Value::String(id.into());
    } else if create {
        if let Some((parent, key)) = pointer.rsplit_once('/') {
            if let Some(Value::Object(map)) = raw.pointer_mut(parent) {
                map.insert(key.into(), Value::String(id.into()));
            }
        }
    }
}

fn set_each(raw: &mut Value, array: &str, key: &str, id: &str) {
    if let Some(items) = raw.pointer_mut(array).and_then(Value::as_array_mut) {
        for item in items {
            item[key] = Value::String(id.into());
        }
    }
}

pub async fn default_vpc(clients: &Clients) -> Result<String, Error> {
    let filter = Filter::builder().name("isDefault").values("true").build();
    let out = clients
        .ec2()
        .describe_vpcs()
        .filters(filter)
        .send()
        .await
        .during("ec2:DescribeVpcs")?;
    out.vpcs()
        .first()
        .and_then(|v| v.vpc_id())
        .map(str::to_string)
        .ok_or_else(|| Error::Unexpected("the emulator has no default VPC".into()))
}

async fn default_group(clients: &Clients) -> Result<String, Error> {
    let vpc = default_vpc(clients).await?;
    let filters = [
        Filter::builder().name("group-name").values("default").build(),
        Filter::builder().name("vpc-id").values(vpc).build(),
    ];
    let out = clients
        .ec2()
        .describe_security_groups()
        .set_filters(Some(filters.to_vec()))
        .send()
        .await
        .during("ec2:DescribeSecurityGroups")?;
    out.security_groups()
        .first()
        .and_then(|g| g.group_id())
        .map(str::to_string)
        .ok_or_else(|| Error::Unexpected("the default VPC has no default group".into()))
}

async fn new_group(clients: &Clients) -> Result<String, Error> {
    let name = format!(
        "seeded-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    );
    let vpc = default_vpc(clients).await?;
    let out = clients
        .ec2()
        .create_security_group()
        .group_name(name)
        .description("seeded by Safeguard")
        .vpc_id(vpc)
        .send()
        .await
        .during("ec2:CreateSecurityGroup")?;
    out.group_id()
        .map(str::to_string)
        .ok_or_else(|| Error::Unexpected("CreateSecurityGroup returned no id".into()))
}

pub async fn authorize(clients: &Clients, group: &str, permissions: Vec<IpPermission>) -> Result<(), Error> {
    clients
        .ec2()
        .authorize_security_group_ingress()
        .group_id(group)
        .set_ip_permissions(Some(permissions))
        .send()
        .await
        .during("ec2:AuthorizeSecurityGroupIngress")?;
    Ok(())
}

pub fn permission(protocol: &str, from: i32, to: i32, cidr: Option<&str>, cidr6: Option<&str>) -> IpPermission {
    let mut p = IpPermission::builder()
        .ip_protocol(protocol)
        .from_port(from)
        .to_port(to);
    if let Some(c) = cidr {
        p = p.ip_ranges(IpRange::builder().cidr_ip(c).build());
    }
    if let Some(c) = cidr6 {
        p = p.ipv6_ranges(Ipv6Range::builder().cidr_ipv6(c).build());
    }
    p.build()
}

/// A permission as CloudTrail records it in `ipPermissions.items`.
fn trail_permission(item: &Value) -> IpPermission {
    let port = |k: &str| item.get(k).and_then(Value::as_i64).unwrap_or(-1) as i32;
    permission(
        item.get("ipProtocol").and_then(Value::as_str).unwrap_or("tcp"),
        port("fromPort"),
        port("toPort"),
        item.pointer("/ipRanges/items/0/cidrIp").and_then(Value::as_str),
        item.pointer("/ipv6Ranges/items/0/cidrIpv6").and_then(Value::as_str),
    )
}

fn describe(p: &IpPermission) -> String {
    let sources: Vec<&str> = p
        .ip_ranges()
        .iter()
        .filter_map(|r| r.cidr_ip())
        .chain(p.ipv6_ranges().iter().filter_map(|r| r.cidr_ipv6()))
        .collect();
    format!(
        "{} {} from {}",
        p.ip_protocol().unwrap_or("?"),
        p.from_port().unwrap_or(-1),
        sources.join(" and ")
    )
}

pub async fn run_instances(clients: &Clients, count: i32) -> Result<Vec<String>, Error> {
    let images = clients
        .ec2()
        .describe_images()
        .owners("amazon")
        .send()
        .await
        .during("ec2:DescribeImages")?;
    let image = images
        .images()
        .first()
        .and_then(|i| i.image_id())
        .ok_or_else(|| Error::Unexpected("the emulator offers no image".into()))?;
    let out = clients
        .ec2()
        .run_instances()
        .image_id(image)
        .min_count(count)
        .max_count(count)
        .metadata_options(
            InstanceMetadataOptionsRequest::builder()
                .http_tokens(HttpTokensState::Optional)
                .build(),
        )
        .send()
        .await
        .during("ec2:RunInstances")?;
    Ok(out
        .instances()
        .iter()
        .filter_map(|i| i.instance_id().map(str::to_string))
        .collect())
}

/// An unencrypted volume, in `zone` or the region's first zone.
pub async fn create_volume(
    clients: &Clients,
    zone: Option<&str>,
    size: i32,
    kind: &str,
    tags: Vec<Tag>,
) -> Result<String, Error> {
    let zone = match zone {
        Some(z) => z.to_string(),
        None => format!("{}a", clients.region().unwrap_or("us-east-1")),
    };
    let mut request = clients
        .ec2()
        .create_volume()
        .availability_zone(zone)
        .size(size)
        .volume_type(VolumeType::from(kind))
        .encrypted(false);
    if !tags.is_empty() {
        request = request.tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::Volume)
                .set_tags(Some(tags))
                .build(),
        );
    }
    let out = request.send().await.during("ec2:CreateVolume")?;
    out.volume_id()
        .map(str::to_string)
        .ok_or_else(|| Error::Unexpected("CreateVolume returned no id".into()))
}

pub async fn instance_zone(clients: &Clients, instance: &str) -> Result<String, Error> {
    let out = clients
        .ec2()
        .describe_instances()
        .instance_ids(instance)
        .send()
        .await
        .during("ec2:DescribeInstances")?;
    out.reservations()
        .iter()
        .flat_map(|r| r.instances())
        .find_map(|i| i.placement().and_then(|p| p.availability_zone()).map(str::to_string))
        .ok_or_else(|| Error::Unexpected(format!("instance {instance} has no availability zone")))
}
