//! The hostile-input corpus (`tests/corpus/hostile/`, see its README) through
//! every function's handler, as Lambda would deliver it: no panic, and every
//! event ends with a recorded outcome whose sentence says what was wrong.
//! (`cli/tests/hostile.rs` runs the same corpus through `safeguard replay`.)

use safeguard::{Mode, Status};
use safeguard_cli::functions;
use safeguard_cli::router::{event_files, load_event};
use safeguard_tests::*;

fn corpus() -> Vec<std::path::PathBuf> {
    event_files(&repo_root().join("tests/corpus/hostile")).expect("corpus dir")
}

#[test]
fn the_corpus_holds_at_least_fifty_events() {
    assert!(corpus().len() >= 50, "{} files", corpus().len());
}

#[tokio::test(flavor = "multi_thread")]
async fn every_hostile_event_ends_with_a_clear_outcome() {
    let env = TestEnv::new("hostile").await;
    let mut problems = Vec::new();
    let mut handled = 0;
    for file in corpus() {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let event = match load_event(&file) {
            Ok(event) => event,
            Err(e) => {
                // Not JSON: Lambda's runtime refuses it before any handler runs;
                // the replay CLI reports it (cli/tests/hostile.rs).
                let text = e.to_string();
                if !text.contains("is not valid JSON") && !text.contains("cannot read") {
                    problems.push(format!("{name}: unclear load error: {text}"));
                }
                continue;
            }
        };
        // Lambda runs each function on its own: so do these, side by side.
        let mut runs = tokio::task::JoinSet::new();
        for f in functions() {
            let engine = env.engine(f, env.config(Mode::Remediate));
            let event = event.clone();
            runs.spawn(async move { (f.name, engine.handle(event).await) });
        }
        while let Some(run) = runs.join_next().await {
            let (function, outcomes) = run.unwrap_or_else(|e| panic!("{name}: a handler panicked: {e}"));
            handled += 1;
            if outcomes.is_empty() {
                problems.push(format!("{name} via {function}: no outcome recorded"));
            }
            for o in &outcomes {
                if o.detail.trim().is_empty() {
                    problems.push(format!("{name} via {function}: {:?} with no detail", o.status));
                }
                // Clear means readable: a 100 KB bucket name is not echoed whole.
                if o.detail.len() > 2_000 {
                    problems.push(format!("{name} via {function}: detail of {} bytes", o.detail.len()));
                }
                if o.subject.as_ref().is_some_and(|s| s.chars().count() > 100) {
                    problems.push(format!("{name} via {function}: subject over SNS's 100 characters"));
                }
                if o.status == Status::Failed && !o.retryable && !o.notified {
                    problems.push(format!("{name} via {function}: failed without an alert: {}", o.detail));
                }
            }
        }
    }
    assert!(handled >= 50 * functions().len(), "only {handled} handler runs");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
