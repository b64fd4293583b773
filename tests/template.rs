//! `infra/template.yaml` against the declarations: the rules carry exactly the
//! derived patterns and the roles exactly the declared actions.

use safeguard::config::DEFAULT_ROLE_PREFIX;
use safeguard_cli::{functions, template};
use safeguard_tests::{declared_grants, grants, repo_root};
use serde_json::Value;
use std::collections::BTreeSet;

fn committed() -> Value {
    let text = std::fs::read_to_string(repo_root().join(template::PATH)).expect("template");
    serde_yaml::from_str(&text).expect("template is YAML")
}

/// The parameter reference stands for its default, as deployed by default.
fn resolve_prefix(v: &Value) -> Value {
    match v {
        Value::Object(m) if m.len() == 1 && m.get("Ref") == Some(&Value::String("RolePrefix".into())) => {
            Value::String(DEFAULT_ROLE_PREFIX.into())
        }
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), resolve_prefix(v))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(resolve_prefix).collect()),
        other => other.clone(),
    }
}

#[test]
fn rules_and_policies_equal_the_declarations() {
    let t = committed();
    let resources = t["Resources"].as_object().expect("resources");
    for f in functions() {
        let id = template::logical(f.name);
        let function_ref = Value::Array(vec![format!("{id}Function").into(), "Arn".into()]);

        let patterns: BTreeSet<String> = resources
            .values()
            .filter(|r| r["Type"] == "AWS::Events::Rule")
            .filter(|r| {
                r["Properties"]["Targets"]
                    .as_array()
                    .is_some_and(|ts| ts.iter().any(|t| t["Arn"]["Fn::GetAtt"] == function_ref))
            })
            .map(|r| resolve_prefix(&r["Properties"]["EventPattern"]).to_string())
            .collect();
        let declared: BTreeSet<String> = f.patterns(DEFAULT_ROLE_PREFIX).iter().map(Value::to_string).collect();
        assert_eq!(
            patterns, declared,
            "{}: rule patterns drifted from the declarations",
            f.name
        );

        let role = &resources[&format!("{id}Role")];
        let controls = role["Properties"]["Policies"]
            .as_array()
            .expect("policies")
            .iter()
            .find(|p| p["PolicyName"] == "controls")
            .expect("controls policy");
        // Each action on exactly the resources its scope names, no more.
        assert_eq!(
            grants(&controls["PolicyDocument"]),
            declared_grants(f.iam_actions(), &[]),
            "{}: role actions drifted from the declarations",
            f.name
        );

        // Each safeguard has its own mode, and "off" disables its rules.
        let parameter = &t["Parameters"][format!("{id}Mode")];
        assert_eq!(
            parameter["AllowedValues"],
            serde_json::json!(["default", "remediate", "dry-run", "off"])
        );
        for rule in resources
            .iter()
            .filter(|(k, _)| k.starts_with(&format!("{id}Rule")) && !k.ends_with("Permission"))
        {
            assert_eq!(
                rule.1["Properties"]["State"]["Fn::If"],
                serde_json::json!([format!("{id}Off"), "DISABLED", "ENABLED"]),
                "{}",
                rule.0
            );
        }
        assert_eq!(t["Conditions"][format!("{id}Off")]["Fn::Equals"][1], "off");

        let function = &resources[&format!("{id}Function")];
        assert_eq!(
            function["Properties"]["Environment"]["Variables"]["MODE"]["Fn::If"][0],
            format!("{id}InheritsMode")
        );
        assert_eq!(function["Metadata"]["BuildMethod"], "rust-cargolambda");
        assert_eq!(function["Properties"]["Runtime"], "provided.al2023");
        assert_eq!(function["Properties"]["Architectures"][0], "arm64");
    }
    let topic = &resources["AlertTopic"]["Properties"];
    assert!(
        topic["KmsMasterKeyId"].is_object() || topic["KmsMasterKeyId"].is_string(),
        "alert topic must be encrypted"
    );
}

#[test]
fn committed_templates_are_the_generated_ones() {
    for (path, generated) in template::rendered(&functions()).expect("render") {
        let text = std::fs::read_to_string(repo_root().join(path)).expect("template");
        assert!(text == generated, "{path} is stale: run `make template`");
    }
}

#[test]
fn readme_tables_are_the_generated_ones() {
    let readme = std::fs::read_to_string(repo_root().join(safeguard_cli::docs::PATH)).expect("README");
    let tables = safeguard_cli::docs::tables(&functions());
    let expected = safeguard_cli::docs::splice(&readme, &tables).expect("markers");
    assert!(expected == readme, "README.md's tables are stale: run `make docs`");
    // Every control of every function is in the table, by id.
    for f in functions() {
        for d in f.declarations() {
            assert!(readme.contains(&format!("`{}`", d.id)), "{} missing from README", d.id);
        }
    }
}

#[test]
fn every_skipped_checkov_check_says_why() {
    let t = committed();
    let mut skips = 0;
    for (name, r) in t["Resources"].as_object().expect("resources") {
        for skip in r["Metadata"]["checkov"]["skip"].as_array().into_iter().flatten() {
            skips += 1;
            let id = skip["id"].as_str().unwrap_or_default();
            let why = skip["comment"].as_str().unwrap_or_default();
            assert!(id.starts_with("CKV_"), "{name}: {skip}");
            assert!(
                why.split_whitespace().count() >= 8,
                "{name}: {id} needs a reason: {why:?}"
            );
        }
        // Functions hand failed async invocations to the failed-events queue.
        if r["Type"] == "AWS::Lambda::Function" {
            assert_eq!(
                r["Properties"]["DeadLetterConfig"]["TargetArn"]["Fn::GetAtt"][0], "FailedEventsQueue",
                "{name}"
            );
        }
    }
    assert!(skips > 0);
}

#[test]
fn member_template_forwards_every_handled_call_and_allows_every_declared_action() {
    let text = std::fs::read_to_string(repo_root().join(template::MEMBER_PATH)).expect("member template");
    let t: Value = serde_yaml::from_str(&text).expect("YAML");
    let resources = t["Resources"].as_object().expect("resources");
    let forwarded: BTreeSet<(String, String)> = resources
        .values()
        .filter(|r| r["Type"] == "AWS::Events::Rule")
        .flat_map(|r| {
            let p = resolve_prefix(&r["Properties"]["EventPattern"]);
            let source = p["detail"]["eventSource"][0].as_str().unwrap_or_default().to_string();
            let names: Vec<String> = p["detail"]["eventName"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|n| n.as_str().map(str::to_string))
                .collect();
            names.into_iter().map(move |n| (source.clone(), n))
        })
        .collect();
    let handled: BTreeSet<(String, String)> = functions()
        .iter()
        .flat_map(|f| f.triggers())
        .flat_map(|(s, names)| names.into_iter().map(move |n| (s.to_string(), n.to_string())))
        .collect();
    assert_eq!(
        forwarded, handled,
        "the member rules forward exactly the calls Safeguard handles"
    );

    let role = &resources["MemberRole"]["Properties"];
    assert_eq!(
        grants(&role["Policies"][0]["PolicyDocument"]),
        declared_grants(functions().iter().flat_map(|f| f.iam_actions()), &[]),
    );
    let trust = &role["AssumeRolePolicyDocument"]["Statement"][0];
    assert!(
        trust["Condition"]["StringEquals"]["sts:ExternalId"].is_object(),
        "{trust}"
    );
}
