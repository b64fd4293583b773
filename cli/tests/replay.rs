//! The `safeguard replay` command as a developer runs it (through `make
//! replay`): JSON lines with the documented fields, and clear errors.

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_safeguard"))
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn temp_file(name: &str, contents: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("safeguard-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write");
    path
}

#[test]
fn truncated_json_is_a_clear_error_not_a_panic() {
    let full =
        std::fs::read_to_string(repo().join("events/access-control/put-bucket-acl-all-users.json")).expect("sample");
    let path = temp_file("truncated.json", &full[..full.len() / 2]);
    let out = bin()
        .args(["replay", path.to_str().expect("path"), "--format", "json"])
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a broken event must fail the replay");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let line: Value = serde_json::from_str(stdout.lines().last().expect("one line")).expect("JSON line");
    assert_eq!(line["status"], "failed");
    assert!(
        line["detail"].as_str().expect("detail").contains("is not valid JSON"),
        "{line}"
    );
}

#[test]
fn json_lines_carry_the_documented_fields() {
    let mut event: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("events/access-control/put-bucket-acl-all-users.json")).expect("sample"),
    )
    .expect("json");
    let bucket = format!(
        "replay{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_micros())
            .unwrap_or(0)
    );
    event["detail"]["requestParameters"]["bucketName"] = Value::String(bucket.clone());
    let path = temp_file("acl.json", &event.to_string());
    let out = bin()
        .args(["replay", path.to_str().expect("path"), "--format", "json", "--seed"])
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    let o = &lines[0];
    for field in [
        "event_id",
        "event_name",
        "function",
        "control",
        "resource",
        "status",
        "detail",
        "notified",
    ] {
        assert!(o.get(field).is_some(), "missing {field}: {o}");
    }
    assert_eq!(o["event_name"], "PutBucketAcl");
    assert_eq!(o["function"], "access-control");
    assert_eq!(o["control"], "s3-bucket-public-acl");
    assert_eq!(o["resource"], bucket.as_str());
    assert_eq!(o["status"], "remediated");
    assert_eq!(o["notified"], true);

    // Dry-run of the same, now compliant, event: nothing to do.
    let out = bin()
        .args([
            "replay",
            path.to_str().expect("path"),
            "--format",
            "json",
            "--mode",
            "dry-run",
        ])
        .output()
        .expect("run");
    let o: Value = serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).expect("JSON");
    assert_eq!(o["status"], "compliant");
}

#[test]
fn routing_explains_events_no_rule_takes() {
    let out = bin()
        .args([
            "replay",
            repo()
                .join("events/access-control/put-bucket-acl-own-role.json")
                .to_str()
                .expect("path"),
            "--format",
            "json",
        ])
        .output()
        .expect("run");
    let o: Value = serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).expect("JSON");
    assert_eq!(o["status"], "ignored");
    assert_eq!(o["function"], "access-control");
    assert!(
        o["detail"].as_str().expect("detail").contains("Safeguard's own role"),
        "{o}"
    );
}

#[test]
fn bad_options_are_refused() {
    let out = bin()
        .args(["replay", "events", "--format", "xml"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("FORMAT must be text or json"));
    let out = bin().args(["frobnicate"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
}
