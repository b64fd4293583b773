//! The hostile-input corpus through `safeguard replay`, file by file, as a
//! developer would replay it: the process exits normally (no panic, no
//! signal), prints one JSON line per outcome, and says what was wrong.

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

const STATUSES: &[&str] = &[
    "compliant",
    "remediated",
    "would_remediate",
    "exempt",
    "ignored",
    "failed",
];

#[test]
fn replaying_each_hostile_event_gives_outcomes_not_panics() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus/hostile");
    let files = safeguard_cli::router::event_files(&dir).expect("corpus");
    assert!(files.len() >= 50, "{} files", files.len());
    let mut problems = Vec::new();
    for file in &files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let out = Command::new(env!("CARGO_BIN_EXE_safeguard"))
            .args([
                "replay",
                file.to_str().expect("path"),
                "--format",
                "json",
                "--mode",
                "dry-run",
            ])
            .output()
            .expect("run replay");
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.code().is_none() || stderr.contains("panicked") {
            problems.push(format!("{name}: replay crashed ({:?}): {stderr}", out.status));
            continue;
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<Value> = stdout.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
        if lines.is_empty() || lines.len() != stdout.lines().count() {
            problems.push(format!("{name}: expected JSON lines, got: {stdout}{stderr}"));
        }
        for line in &lines {
            let status = line["status"].as_str().unwrap_or_default();
            let detail = line["detail"].as_str().unwrap_or_default();
            if !STATUSES.contains(&status) || detail.trim().is_empty() {
                problems.push(format!("{name}: unclear outcome {line}"));
            }
        }
        let failed = lines.iter().any(|l| l["status"] == "failed");
        if failed == out.status.success() {
            problems.push(format!(
                "{name}: exit status {:?} does not match the outcomes (failed: {failed})",
                out.status.code()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
