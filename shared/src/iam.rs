//! Where each declared IAM action is granted: the resource ARNs IAM checks
//! the action against (AWS's Service Authorization Reference), so a role
//! gets `kms:EnableKeyRotation` on the account's keys rather than on `*`.
//! Actions IAM cannot scope to a resource (account-wide settings, list and
//! describe calls) are granted on `*`. The template's role policies are
//! built from this table and the controls' declarations.

use std::collections::BTreeMap;

/// A set of resources some actions are granted on, as one policy statement.
#[derive(Debug, PartialEq, Eq)]
pub struct Scope {
    /// The statement's Sid.
    pub sid: &'static str,
    /// ARN patterns in CloudFormation `Fn::Sub` syntax (`${AWS::AccountId}`,
    /// `${AWS::Partition}`, `${RolePrefix}`), or `*`. The region is `*`:
    /// one role serves events from every region.
    pub resources: &'static [&'static str],
    /// An IAM condition narrowing the grant: (operator, key, value).
    pub condition: Option<(&'static str, &'static str, &'static str)>,
}

const fn scope(sid: &'static str, resources: &'static [&'static str]) -> Scope {
    Scope {
        sid,
        resources,
        condition: None,
    }
}

static ACCOUNT_WIDE: Scope = scope("AccountWide", &["*"]);
static S3_BUCKETS: Scope = scope("S3Buckets", &["arn:${AWS::Partition}:s3:::*"]);
static BACKUP_VAULTS: Scope = scope(
    "BackupVaults",
    &["arn:${AWS::Partition}:backup:*:${AWS::AccountId}:backup-vault:*"],
);
static TRAILS: Scope = scope(
    "Trails",
    &["arn:${AWS::Partition}:cloudtrail:*:${AWS::AccountId}:trail/*"],
);
static DYNAMODB_TABLES: Scope = scope(
    "DynamoDbTables",
    &["arn:${AWS::Partition}:dynamodb:*:${AWS::AccountId}:table/*"],
);
// Snapshot and image ARNs carry no account.
static EC2_VOLUMES_SNAPSHOTS: Scope = scope(
    "Ec2VolumesAndSnapshots",
    &[
        "arn:${AWS::Partition}:ec2:*:${AWS::AccountId}:volume/*",
        "arn:${AWS::Partition}:ec2:*::snapshot/*",
    ],
);
static EC2_SNAPSHOTS: Scope = scope("Ec2Snapshots", &["arn:${AWS::Partition}:ec2:*::snapshot/*"]);
static EC2_IMAGES: Scope = scope("Ec2Images", &["arn:${AWS::Partition}:ec2:*::image/*"]);
static EC2_INSTANCES: Scope = scope(
    "Ec2Instances",
    &["arn:${AWS::Partition}:ec2:*:${AWS::AccountId}:instance/*"],
);
static EC2_INSTANCE_VOLUMES: Scope = scope(
    "Ec2InstancesAndVolumes",
    &[
        "arn:${AWS::Partition}:ec2:*:${AWS::AccountId}:instance/*",
        "arn:${AWS::Partition}:ec2:*:${AWS::AccountId}:volume/*",
    ],
);
static EC2_SECURITY_GROUPS: Scope = scope(
    "Ec2SecurityGroups",
    &[
        "arn:${AWS::Partition}:ec2:*:${AWS::AccountId}:security-group/*",
        "arn:${AWS::Partition}:ec2:*:${AWS::AccountId}:security-group-rule/*",
    ],
);
static EC2_NETWORK_ACLS: Scope = scope(
    "Ec2NetworkAcls",
    &["arn:${AWS::Partition}:ec2:*:${AWS::AccountId}:network-acl/*"],
);
static EC2_FLOW_LOGS: Scope = scope(
    "Ec2FlowLogs",
    &[
        "arn:${AWS::Partition}:ec2:*:${AWS::AccountId}:vpc-flow-log/*",
        "arn:${AWS::Partition}:ec2:*:${AWS::AccountId}:vpc/*",
    ],
);
static ALL_RULES: Scope = scope(
    "EventRules",
    &["arn:${AWS::Partition}:events:*:${AWS::AccountId}:rule/*"],
);
// Only Safeguard's own rules, on the default bus or a named one.
static OWN_RULES: Scope = scope(
    "OwnEventRules",
    &[
        "arn:${AWS::Partition}:events:*:${AWS::AccountId}:rule/${RolePrefix}*",
        "arn:${AWS::Partition}:events:*:${AWS::AccountId}:rule/*/${RolePrefix}*",
    ],
);
static DETECTORS: Scope = scope(
    "GuardDutyDetectors",
    &["arn:${AWS::Partition}:guardduty:*:${AWS::AccountId}:detector/*"],
);
static SECURITY_HUB: Scope = scope(
    "SecurityHub",
    &["arn:${AWS::Partition}:securityhub:*:${AWS::AccountId}:hub/default"],
);
static IAM_PRINCIPALS: Scope = scope(
    "IamPrincipals",
    &[
        "arn:${AWS::Partition}:iam::${AWS::AccountId}:user/*",
        "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*",
        "arn:${AWS::Partition}:iam::${AWS::AccountId}:group/*",
    ],
);
// Reading a policy includes AWS-managed ones (AdministratorAccess).
static IAM_POLICIES_READ: Scope = scope(
    "IamPolicies",
    &[
        "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/*",
        "arn:${AWS::Partition}:iam::aws:policy/*",
    ],
);
static IAM_OWN_POLICIES: Scope = scope(
    "IamCustomerPolicies",
    &["arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/*"],
);
static PASS_FLOW_LOGS_ROLE: Scope = Scope {
    sid: "PassRoleToFlowLogs",
    resources: &["arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*"],
    condition: Some(("StringEquals", "iam:PassedToService", "vpc-flow-logs.amazonaws.com")),
};
static GUARDDUTY_SERVICE_ROLE: Scope = Scope {
    sid: "GuardDutyServiceRole",
    resources: &["arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/guardduty.amazonaws.com/*"],
    condition: Some(("StringLike", "iam:AWSServiceName", "guardduty.amazonaws.com")),
};
static KMS_KEYS: Scope = scope("KmsKeys", &["arn:${AWS::Partition}:kms:*:${AWS::AccountId}:key/*"]);
static LOG_GROUPS: Scope = scope(
    "LogGroups",
    &["arn:${AWS::Partition}:logs:*:${AWS::AccountId}:log-group:*"],
);
static DB_INSTANCES: Scope = scope("RdsInstances", &["arn:${AWS::Partition}:rds:*:${AWS::AccountId}:db:*"]);
static DB_CLUSTERS: Scope = scope(
    "RdsClusters",
    &["arn:${AWS::Partition}:rds:*:${AWS::AccountId}:cluster:*"],
);
static DB_SNAPSHOTS: Scope = scope(
    "RdsSnapshots",
    &["arn:${AWS::Partition}:rds:*:${AWS::AccountId}:snapshot:*"],
);
static DB_CLUSTER_SNAPSHOTS: Scope = scope(
    "RdsClusterSnapshots",
    &["arn:${AWS::Partition}:rds:*:${AWS::AccountId}:cluster-snapshot:*"],
);
static RDS_TAGGED: Scope = scope(
    "RdsResources",
    &[
        "arn:${AWS::Partition}:rds:*:${AWS::AccountId}:db:*",
        "arn:${AWS::Partition}:rds:*:${AWS::AccountId}:cluster:*",
        "arn:${AWS::Partition}:rds:*:${AWS::AccountId}:snapshot:*",
        "arn:${AWS::Partition}:rds:*:${AWS::AccountId}:cluster-snapshot:*",
    ],
);

/// Where `action` is granted; `None` for an action this table does not know
/// (a declaration naming it fails the template build and its test).
pub fn scope_of(action: &str) -> Option<&'static Scope> {
    let (service, name) = action.split_once(':')?;
    let scope = match (service, name) {
        ("s3", "GetAccountPublicAccessBlock" | "PutAccountPublicAccessBlock") => &ACCOUNT_WIDE,
        (
            "s3",
            "GetBucketAcl"
            | "PutBucketAcl"
            | "GetBucketPolicy"
            | "PutBucketPolicy"
            | "GetBucketPolicyStatus"
            | "GetBucketPublicAccessBlock"
            | "PutBucketPublicAccessBlock"
            | "GetEncryptionConfiguration"
            | "PutEncryptionConfiguration"
            | "GetBucketVersioning"
            | "PutBucketVersioning"
            | "GetBucketLogging"
            | "PutBucketLogging"
            | "GetBucketTagging"
            | "ListBucket",
        ) => &S3_BUCKETS,
        ("backup", "DescribeBackupVault" | "GetBackupVaultAccessPolicy" | "ListTags") => &BACKUP_VAULTS,
        ("cloudtrail", "CreateTrail" | "GetTrail" | "GetTrailStatus" | "ListTags" | "StartLogging" | "UpdateTrail") => {
            &TRAILS
        }
        (
            "config",
            "DescribeConfigurationRecorderStatus" | "DescribeDeliveryChannels" | "StartConfigurationRecorder",
        ) => &ACCOUNT_WIDE,
        (
            "dynamodb",
            "DescribeContinuousBackups" | "DescribeTable" | "ListTagsOfResource" | "UpdateContinuousBackups",
        ) => &DYNAMODB_TABLES,
        ("ec2", n) if n.starts_with("Describe") => &ACCOUNT_WIDE,
        ("ec2", "GetEbsEncryptionByDefault" | "EnableEbsEncryptionByDefault") => &ACCOUNT_WIDE,
        ("ec2", "CreateSnapshot" | "CreateVolume" | "CreateTags" | "DeleteVolume") => &EC2_VOLUMES_SNAPSHOTS,
        ("ec2", "CopySnapshot" | "DeleteSnapshot" | "ModifySnapshotAttribute") => &EC2_SNAPSHOTS,
        ("ec2", "ModifyImageAttribute") => &EC2_IMAGES,
        ("ec2", "ModifyInstanceAttribute" | "ModifyInstanceMetadataOptions" | "StartInstances" | "StopInstances") => {
            &EC2_INSTANCES
        }
        ("ec2", "AttachVolume" | "DetachVolume") => &EC2_INSTANCE_VOLUMES,
        ("ec2", "RevokeSecurityGroupIngress" | "RevokeSecurityGroupEgress") => &EC2_SECURITY_GROUPS,
        ("ec2", "DeleteNetworkAclEntry") => &EC2_NETWORK_ACLS,
        ("ec2", "CreateFlowLogs") => &EC2_FLOW_LOGS,
        ("events", "ListTagsForResource") => &ALL_RULES,
        ("events", "DescribeRule" | "ListTargetsByRule" | "EnableRule") => &OWN_RULES,
        ("guardduty", "ListDetectors" | "CreateDetector") => &ACCOUNT_WIDE,
        ("guardduty", "GetDetector" | "UpdateDetector") => &DETECTORS,
        ("iam", "GetAccountPasswordPolicy" | "UpdateAccountPasswordPolicy" | "GetAccountSummary") => &ACCOUNT_WIDE,
        ("iam", "CreateServiceLinkedRole") => &GUARDDUTY_SERVICE_ROLE,
        ("iam", "PassRole") => &PASS_FLOW_LOGS_ROLE,
        (
            "iam",
            "DeleteGroupPolicy"
            | "DeleteRolePolicy"
            | "DeleteUserPolicy"
            | "DetachGroupPolicy"
            | "DetachRolePolicy"
            | "DetachUserPolicy"
            | "GetGroupPolicy"
            | "GetRolePolicy"
            | "GetUserPolicy"
            | "ListAttachedGroupPolicies"
            | "ListAttachedRolePolicies"
            | "ListAttachedUserPolicies"
            | "ListRoleTags"
            | "ListUserTags",
        ) => &IAM_PRINCIPALS,
        (
            "iam",
            "GetPolicy" | "GetPolicyVersion" | "ListEntitiesForPolicy" | "ListPolicyTags" | "ListPolicyVersions",
        ) => &IAM_POLICIES_READ,
        ("iam", "SetDefaultPolicyVersion") => &IAM_OWN_POLICIES,
        ("inspector2", "BatchGetAccountStatus" | "Enable") => &ACCOUNT_WIDE,
        (
            "kms",
            "CancelKeyDeletion"
            | "CreateGrant"
            | "Decrypt"
            | "DescribeKey"
            | "EnableKey"
            | "EnableKeyRotation"
            | "GenerateDataKeyWithoutPlaintext"
            | "GetKeyRotationStatus"
            | "ListResourceTags"
            | "ReEncryptFrom"
            | "ReEncryptTo",
        ) => &KMS_KEYS,
        ("logs", "DescribeLogGroups") => &ACCOUNT_WIDE,
        ("logs", "PutRetentionPolicy" | "ListTagsForResource") => &LOG_GROUPS,
        ("rds", "DescribeDBInstances" | "ModifyDBInstance") => &DB_INSTANCES,
        ("rds", "DescribeDBClusters" | "ModifyDBCluster") => &DB_CLUSTERS,
        ("rds", "DescribeDBSnapshotAttributes" | "ModifyDBSnapshotAttribute") => &DB_SNAPSHOTS,
        ("rds", "DescribeDBClusterSnapshotAttributes" | "ModifyDBClusterSnapshotAttribute") => &DB_CLUSTER_SNAPSHOTS,
        ("rds", "ListTagsForResource") => &RDS_TAGGED,
        ("securityhub", "DescribeHub" | "EnableSecurityHub") => &SECURITY_HUB,
        _ => return None,
    };
    Some(scope)
}

const EBS_KMS: &[&str] = &[
    "kms:CreateGrant",
    "kms:Decrypt",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
];

/// Actions a call needs beyond its own ("dependent actions" in the Service
/// Authorization Reference): the service performs them as the caller. They
/// are granted with the call, never declared, because no code calls them.
pub fn dependent_actions(action: &str) -> &'static [&'static str] {
    match action {
        // EBS uses the caller's KMS permissions to encrypt the copy.
        "ec2:CopySnapshot" => EBS_KMS,
        // ...and to create a volume from the encrypted snapshot, tagged on creation.
        "ec2:CreateVolume" => &[
            "ec2:CreateTags",
            "kms:CreateGrant",
            "kms:Decrypt",
            "kms:GenerateDataKeyWithoutPlaintext",
            "kms:ReEncryptFrom",
            "kms:ReEncryptTo",
        ],
        // Flow logs deliver to CloudWatch Logs as the role passed to them.
        "ec2:CreateFlowLogs" => &["iam:PassRole"],
        // The first detector creates GuardDuty's service-linked role.
        "guardduty:CreateDetector" => &["iam:CreateServiceLinkedRole"],
        _ => &[],
    }
}

/// The statements granting `actions`: one per scope, in Sid order, each
/// with its actions sorted. Errors with the actions no scope is known for.
pub fn statements<'a>(
    actions: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<(&'static Scope, Vec<&'a str>)>, Vec<&'a str>> {
    let mut by_sid: BTreeMap<&'static str, (&'static Scope, Vec<&'a str>)> = BTreeMap::new();
    let mut unknown = Vec::new();
    for action in actions {
        match scope_of(action) {
            Some(scope) => {
                let entry = by_sid.entry(scope.sid).or_insert((scope, Vec::new()));
                if !entry.1.contains(&action) {
                    entry.1.push(action);
                }
            }
            None => unknown.push(action),
        }
    }
    if !unknown.is_empty() {
        return Err(unknown);
    }
    Ok(by_sid
        .into_values()
        .map(|(scope, mut actions)| {
            actions.sort_unstable();
            (scope, actions)
        })
        .collect())
}

/// Whether an ARN `pattern` (with `${Name}` variables taken from `vars`)
/// covers `arn`, as IAM matches Resource: `*` any run of characters, `?` one.
pub fn covers(pattern: &str, vars: &[(&str, &str)], arn: &str) -> bool {
    glob(expand(pattern, vars).as_bytes(), arn.as_bytes())
}

/// `pattern` with each `${Name}` of `vars` replaced by its value, as
/// CloudFormation's `Fn::Sub` does on deployment.
pub fn expand(pattern: &str, vars: &[(&str, &str)]) -> String {
    vars.iter().fold(pattern.to_string(), |p, (name, value)| {
        p.replace(&format!("${{{name}}}"), value)
    })
}

fn glob(pattern: &[u8], text: &[u8]) -> bool {
    // Iterative wildcard match with backtracking to the last `*`.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    const VARS: &[(&str, &str)] = &[
        ("AWS::Partition", "aws"),
        ("AWS::AccountId", "111122223333"),
        ("RolePrefix", "safeguard-"),
    ];

    #[test]
    fn bucket_actions_cover_buckets_not_objects_elsewhere() {
        let scope = scope_of("s3:PutBucketAcl").map(|s| s.resources);
        assert_eq!(scope, Some(&["arn:${AWS::Partition}:s3:::*"][..]));
        assert!(covers("arn:${AWS::Partition}:s3:::*", VARS, "arn:aws:s3:::phi-records"));
        assert!(!covers(
            "arn:${AWS::Partition}:s3:::*",
            VARS,
            "arn:aws:kms:us-east-1:111122223333:key/k"
        ));
    }

    #[test]
    fn account_and_prefix_are_part_of_the_match() {
        let own = OWN_RULES.resources;
        let ours = "arn:aws:events:eu-west-1:111122223333:rule/safeguard-network-ec2";
        let on_bus = "arn:aws:events:eu-west-1:111122223333:rule/safeguard-central/safeguard-network-ec2-central";
        let theirs = "arn:aws:events:eu-west-1:111122223333:rule/team-rule";
        let elsewhere = "arn:aws:events:eu-west-1:999999999999:rule/safeguard-network-ec2";
        let covered = |arn: &str| own.iter().any(|p| covers(p, VARS, arn));
        assert!(covered(ours) && covered(on_bus));
        assert!(!covered(theirs) && !covered(elsewhere));
    }

    #[test]
    fn glob_matches_like_iam() {
        assert!(glob(b"a*c", b"abbbc"));
        assert!(glob(b"a*", b"a"));
        assert!(glob(b"a?c", b"abc"));
        assert!(!glob(b"a?c", b"ac"));
        assert!(!glob(b"a*d", b"abc"));
        assert!(glob(b"*", b""));
    }

    #[test]
    fn statements_group_by_scope_and_report_unknown_actions() {
        let grouped = statements(["kms:EnableKey", "s3:PutBucketAcl", "kms:DescribeKey", "s3:PutBucketAcl"]);
        let sids: Vec<(&str, Vec<&str>)> = grouped
            .unwrap_or_default()
            .into_iter()
            .map(|(s, a)| (s.sid, a))
            .collect();
        assert_eq!(
            sids,
            vec![
                ("KmsKeys", vec!["kms:DescribeKey", "kms:EnableKey"]),
                ("S3Buckets", vec!["s3:PutBucketAcl"]),
            ]
        );
        assert_eq!(statements(["s3:PutBucketAcl", "s3:Nonsense"]), Err(vec!["s3:Nonsense"]));
    }
}
