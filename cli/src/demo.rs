//! `make demo`: a deliberately misconfigured account in the emulator, every
//! sample event replayed through the real handlers, and the alerts read back
//! as a subscriber receives them.

use crate::emulator::{create_topic, emulator_config, Inbox};
use crate::report::text_block;
use crate::router::{event_files, load_event, Router};
use crate::seed::seed;
use safeguard::{Aws, Config, Error, Mode, SnsNotifier, Status, TrailEvent};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// Settings of the demo deployment that differ from the defaults, with why.
pub const DEMO_SETTINGS: &[(&str, &str, &str)] = &[
    (
        "REQUIRE_SSE_KMS",
        "true",
        "buckets must use SSE-KMS, so the S3 default-encryption control has something to enforce",
    ),
    (
        "REQUIRED_TRAIL",
        "phi-audit-trail",
        "the trail that must exist, recreated when deleted",
    ),
    ("TRAIL_BUCKET", "phi-audit-logs", "where a recreated trail delivers"),
    (
        "ACCESS_LOG_BUCKET",
        "phi-audit-logs",
        "where restored S3 server access logs go",
    ),
    (
        "FLOW_LOG_DESTINATION",
        "arn:aws:s3:::phi-audit-logs",
        "where recreated VPC flow logs go",
    ),
    (
        "ADMIN_POLICY_ACTION",
        "detach",
        "administrator (* on *) grants are removed, not only reported",
    ),
];

pub async fn run(events_dir: &Path) -> Result<bool, Error> {
    let sdk = emulator_config().await?;
    let endpoint = sdk.endpoint_url().unwrap_or_default().to_string();
    let aws = Aws::new(sdk.clone());
    let home = aws.clients("");
    println!("Safeguard demo");
    println!("==============");
    println!("Safeguard watches CloudTrail events and fixes HIPAA violations within seconds.");
    println!("This demo runs against a local AWS emulator at {endpoint} (nothing touches a real account):");
    println!(
        "  1. for each sample event in {}, it makes the change the event records (a bucket made",
        events_dir.display()
    );
    println!("     public, a public access block removed...), then replays the event through the same");
    println!("     routing and handlers that run in Lambda, and shows what Safeguard found, did and read back;");
    println!("  2. replays every event again, to show that a second pass changes nothing;");
    println!("  3. prints the SNS alerts as a subscriber (an SQS queue) received them.\n");

    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    let topic = create_topic(home.sns(), "safeguard-demo-alerts").await?;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let inbox = Inbox::subscribe(home.sns(), &sqs, &topic, &format!("safeguard-demo-inbox-{stamp}")).await?;
    let config = Config {
        mode: Mode::Remediate,
        topic_arn: Some(topic.clone()),
        ..Config::from_env()?
    };
    println!("The demo deployment sets:");
    for (key, value, why) in DEMO_SETTINGS {
        println!("  {key}={value}  ({why})");
    }
    println!();
    let router = Router::with_settings(
        config,
        || Aws::new(sdk.clone()),
        SnsNotifier::new(home.sns().clone(), &topic),
        |key| {
            DEMO_SETTINGS
                .iter()
                .find(|(k, _, _)| *k == key)
                .map(|(_, v, _)| v.to_string())
                .or_else(|| std::env::var(key).ok())
        },
    )?;

    let files = event_files(events_dir)?;
    let mut events: Vec<(String, serde_json::Value)> = Vec::new();
    for file in &files {
        let name = file.strip_prefix(events_dir).unwrap_or(file).display().to_string();
        events.push((name, load_event(file)?));
    }

    println!("Step 1. For each sample event: make the change it records, then hand the event to Safeguard\n");
    let mut ok = true;
    let mut tally = Tally::default();
    let mut alerts_sent = 0;
    let mut not_run: Vec<String> = Vec::new();
    let mut group = String::new();
    for (name, raw) in &mut events {
        let folder = name.split(['/', '\\']).next().unwrap_or_default().to_string();
        if folder != group {
            let about = crate::functions()
                .into_iter()
                .find(|f| f.name == folder)
                .map(|f| f.safeguard)
                .unwrap_or("sample events without a safeguard of their own");
            println!("\n═══ {folder}: {about} ═══\n");
            group = folder.clone();
        }
        let event = TrailEvent::parse(raw.clone())?;
        if let Some(api) = crate::emulator::gap(event.event_name()) {
            println!("── {name}\n  not run   the emulator does not implement {api}; the control is tested with mocked responses");
            not_run.push(name.clone());
            tally.add(&folder, NOT_RUN);
            continue;
        }
        let seeded = match router.engines().iter().find_map(|e| e.guard(&event)) {
            Some(_) => "nothing: this call failed, or Safeguard made it".to_string(),
            None => seed(&aws.clients(&event.region()), raw).await?,
        };
        let outcomes = router.route(raw.clone()).await;
        for (i, o) in outcomes.iter().enumerate() {
            print!("{}", text_block(o, name, (i == 0).then_some(seeded.as_str())));
            tally.add(&o.function, o.status.as_str());
            alerts_sent += usize::from(o.notified);
        }
        // Every event is either handled by the controls it reaches (fixed, or
        // reported where a fix is withheld; the others may find nothing
        // wrong), or ignored as a whole.
        let acted = outcomes
            .iter()
            .any(|o| matches!(o.status, Status::Remediated | Status::WouldRemediate));
        let handled = acted
            && outcomes.iter().all(|o| {
                matches!(
                    o.status,
                    Status::Remediated | Status::WouldRemediate | Status::Compliant
                )
            });
        let ignored = outcomes.iter().all(|o| o.status == Status::Ignored);
        if !(handled || ignored) {
            ok = false;
            println!("  !! expected this event to be remediated, reported or ignored");
        }
    }

    println!("\nStep 2. Replaying the same events again: what was fixed is compliant now; what Safeguard");
    println!("        only reports (a fix it withholds) is reported again, every time it changes");
    for (name, raw) in &events {
        if not_run.contains(name) {
            continue;
        }
        for o in router.route(raw.clone()).await {
            println!("  {name:<48} {:<16} {}", o.status.as_str(), o.detail);
            alerts_sent += usize::from(o.notified);
            let reported_again = o.status == Status::WouldRemediate && o.notified;
            if !(matches!(o.status, Status::Compliant | Status::Ignored) && !o.notified || reported_again) {
                ok = false;
                println!("  !! expected compliant or ignored with no alert, or a withheld fix reported again");
            }
        }
    }

    println!("\nStep 3. The alerts, as the SQS subscriber of topic {topic} received them");
    let received = inbox.receive(alerts_sent, Duration::from_secs(10)).await?;
    for (i, alert) in received.iter().enumerate() {
        println!("\n━━ alert {}/{} ━━", i + 1, received.len());
        println!("Subject:    {}", alert.subject);
        let attrs: Vec<String> = alert.attributes.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!("Attributes: {}", attrs.join("  "));
        if let Some(text) = alert.message.get("text").and_then(|t| t.as_str()) {
            println!("Text (what e-mail subscribers read):");
            for line in text.lines() {
                println!("  | {line}");
            }
        }
        if i == 0 {
            let mut body = alert.message.clone();
            if let Some(map) = body.as_object_mut() {
                map.insert("text".into(), "(the text above)".into());
            }
            println!("Message (JSON, as SQS, Lambda and HTTPS subscribers receive it; same shape for every alert):");
            println!("{}", serde_json::to_string_pretty(&body).unwrap_or_default());
        }
    }
    if received.len() != alerts_sent {
        ok = false;
        println!("!! {alerts_sent} alerts were published but {} arrived", received.len());
    }

    println!("\nSummary: what each safeguard did with the sample events (step 1)\n");
    print!("{}", tally.table());
    println!("\n  alerts received  {}", received.len());
    if !not_run.is_empty() {
        println!(
            "  not run          {} (emulator gaps: {})",
            not_run.len(),
            not_run.join(", ")
        );
    }
    println!(
        "{}",
        if ok {
            "Demo complete: every violation was fixed, verified and reported."
        } else {
            "Demo FAILED: see the lines marked !!"
        }
    );
    Ok(ok)
}

const NOT_RUN: &str = "not run";
const COLUMNS: [&str; 7] = [
    "remediated",
    "would_remediate",
    "exempt",
    "compliant",
    "ignored",
    "failed",
    NOT_RUN,
];

/// Outcomes per safeguard and status.
#[derive(Default)]
struct Tally(BTreeMap<String, BTreeMap<&'static str, usize>>);

impl Tally {
    fn add(&mut self, function: &str, status: &str) {
        if let Some(column) = COLUMNS.iter().find(|c| **c == status) {
            *self
                .0
                .entry(function.to_string())
                .or_default()
                .entry(column)
                .or_default() += 1;
        }
    }

    /// One row per safeguard, one column per status, and the totals.
    fn table(&self) -> String {
        let width = self.0.keys().map(String::len).max().unwrap_or(0).max("safeguard".len());
        let mut out = format!("  {:<width$}", "safeguard");
        for c in COLUMNS {
            out.push_str(&format!(" {c:>w$}", w = c.len().max(5)));
        }
        out.push('\n');
        let mut totals: BTreeMap<&str, usize> = BTreeMap::new();
        let rows = self.0.iter().map(|(f, counts)| (f.as_str(), counts.clone()));
        for (function, counts) in rows {
            out.push_str(&format!("  {function:<width$}"));
            for c in COLUMNS {
                let n = counts.get(c).copied().unwrap_or(0);
                *totals.entry(c).or_default() += n;
                out.push_str(&format!(
                    " {:>w$}",
                    if n == 0 { "·".to_string() } else { n.to_string() },
                    w = c.len().max(5)
                ));
            }
            out.push('\n');
        }
        out.push_str(&format!("  {:<width$}", "total"));
        for c in COLUMNS {
            out.push_str(&format!(
                " {:>w$}",
                totals.get(c).copied().unwrap_or(0),
                w = c.len().max(5)
            ));
        }
        out.push('\n');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_counts_each_safeguard_and_adds_up() {
        let mut t = Tally::default();
        for (f, s) in [
            ("network", "remediated"),
            ("network", "remediated"),
            ("encryption", "would_remediate"),
            ("encryption", NOT_RUN),
            ("network", "no-such-status"),
        ] {
            t.add(f, s);
        }
        let table = t.table();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 4, "{table}");
        assert!(lines[0].contains("safeguard") && lines[0].contains("would_remediate"));
        let cells = |l: &str| l.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        assert_eq!(cells(lines[1]), ["encryption", "·", "1", "·", "·", "·", "·", "1"]);
        assert_eq!(cells(lines[2]), ["network", "2", "·", "·", "·", "·", "·", "·"]);
        assert_eq!(cells(lines[3]), ["total", "2", "1", "0", "0", "0", "0", "1"]);
    }
}
