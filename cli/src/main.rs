//! `safeguard`: replay, demo and template generation. See `safeguard help`.

use safeguard::{Aws, Config, Error, Mode, Notifier, Status, TrailEvent};
use safeguard_cli::emulator::{aws_config, create_topic, emulator_config};
use safeguard_cli::report::{json_line, text_block};
use safeguard_cli::router::{event_files, load_event, Router};
use safeguard_cli::{demo, docs, functions, seed, template};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "usage:
  safeguard replay <event.json|dir> [--mode remediate|dry-run] [--format text|json] [--target emulator|aws] [--seed]
  safeguard demo [--events DIR]
  safeguard template [--check]
  safeguard docs [--check]
  safeguard topic [NAME]

replay   sends events through the routing the deployed rules use, into the real handlers.
         --target emulator (default) needs AWS_ENDPOINT_URL; --target aws uses your AWS credentials
         and defaults to dry-run. --seed first creates in the emulator what each event describes.
demo     misconfigures the emulator, replays every sample event, prints the alerts received.
template writes the CloudFormation templates derived from the controls, infra/template.yaml
         and infra/member.yaml (--check compares them with the committed ones).
docs     rewrites the README's tables of controls and settings from the declarations
         (--check only compares).
topic    creates an alert topic in the emulator and prints its ARN (for `make invoke`).";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Text,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Emulator,
    Aws,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("replay") => replay(&args[1..]).await,
        Some("demo") => {
            let dir = flag(&args[1..], "--events").unwrap_or_else(|| "events".into());
            demo::run(Path::new(&dir)).await
        }
        Some("template") => template_cmd(args.iter().any(|a| a == "--check")),
        Some("docs") => docs_cmd(args.iter().any(|a| a == "--check")),
        Some("topic") => topic(args.get(1).map(String::as_str).unwrap_or("safeguard-alerts")).await,
        Some("help" | "--help" | "-h") => {
            println!("{USAGE}");
            Ok(true)
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("safeguard: {err}");
            ExitCode::FAILURE
        }
    }
}

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .filter(|v| !v.is_empty())
}

fn template_cmd(check: bool) -> Result<bool, Error> {
    let mut ok = true;
    for (path, rendered) in template::rendered(&functions())? {
        if !check {
            std::fs::write(path, rendered).map_err(|e| Error::Config(format!("cannot write {path}: {e}")))?;
            println!("{path} regenerated");
            continue;
        }
        let committed = std::fs::read_to_string(path).map_err(|e| Error::Config(format!("cannot read {path}: {e}")))?;
        if committed == rendered {
            println!("{path} matches the controls' declarations");
        } else {
            eprintln!("{path} differs from the controls' declarations: run `make template`");
            ok = false;
        }
    }
    Ok(ok)
}

fn docs_cmd(check: bool) -> Result<bool, Error> {
    let readme =
        std::fs::read_to_string(docs::PATH).map_err(|e| Error::Config(format!("cannot read {}: {e}", docs::PATH)))?;
    let updated = docs::splice(&readme, &docs::tables(&functions()))?;
    if updated == readme {
        println!("{}'s tables match the controls' declarations", docs::PATH);
        return Ok(true);
    }
    if check {
        eprintln!(
            "{}'s tables differ from the controls' declarations: run `make docs`",
            docs::PATH
        );
        return Ok(false);
    }
    std::fs::write(docs::PATH, updated).map_err(|e| Error::Config(format!("cannot write {}: {e}", docs::PATH)))?;
    println!("{} tables regenerated", docs::PATH);
    Ok(true)
}

async fn topic(name: &str) -> Result<bool, Error> {
    let sdk = emulator_config().await?;
    println!("{}", create_topic(Aws::new(sdk).clients("").sns(), name).await?);
    Ok(true)
}

/// Alerts go to SNS when a topic is known; otherwise they are shown only.
#[derive(Clone)]
enum CliNotifier {
    Sns(safeguard::SnsNotifier),
    Off,
}

#[safeguard::async_trait]
impl Notifier for CliNotifier {
    async fn publish(&self, alert: &safeguard::Alert) -> Result<(), Error> {
        match self {
            CliNotifier::Sns(sns) => sns.publish(alert).await,
            CliNotifier::Off => Err(Error::Config("SNS_TOPIC_ARN is not set: alert not sent".into())),
        }
    }
}

async fn replay(args: &[String]) -> Result<bool, Error> {
    let path = args
        .first()
        .filter(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .ok_or_else(|| Error::Config(format!("replay needs an event file or directory\n{USAGE}")))?;
    let format = match flag(args, "--format").as_deref() {
        None | Some("text") => Format::Text,
        Some("json") => Format::Json,
        Some(other) => return Err(Error::Config(format!("FORMAT must be text or json, not {other:?}"))),
    };
    let target = match flag(args, "--target").as_deref() {
        None | Some("emulator") => Target::Emulator,
        Some("aws") => Target::Aws,
        Some(other) => return Err(Error::Config(format!("TARGET must be emulator or aws, not {other:?}"))),
    };
    let seed_first = args.iter().any(|a| a == "--seed");
    let mut config = Config::from_env()?;
    match flag(args, "--mode") {
        Some(mode) => config.mode = Mode::parse(&mode)?,
        None if target == Target::Aws && std::env::var("MODE").map_or(true, |m| m.is_empty()) => {
            config.mode = Mode::DryRun;
            eprintln!(
                "TARGET=aws: MODE defaults to dry-run, nothing in the account will change (MODE=remediate to fix)"
            );
        }
        None => {}
    }
    if seed_first && target == Target::Aws {
        return Err(Error::Config(
            "SEED=1 creates misconfigurations: it only runs against the emulator".into(),
        ));
    }
    let sdk = match target {
        Target::Emulator => emulator_config().await?,
        Target::Aws => aws_config().await,
    };
    let aws = Aws::new(sdk.clone());
    let home = aws.clients("");
    if config.topic_arn.is_none() && target == Target::Emulator {
        config.topic_arn = Some(create_topic(home.sns(), "safeguard-replay-alerts").await?);
    }
    let notifier = match &config.topic_arn {
        Some(topic) => {
            if format == Format::Text {
                println!("alerts go to {topic}");
            }
            CliNotifier::Sns(safeguard::SnsNotifier::new(home.sns().clone(), topic))
        }
        None => {
            eprintln!("SNS_TOPIC_ARN is not set: alerts are shown here, not sent");
            CliNotifier::Off
        }
    };
    let router = Router::new(config.clone(), || Aws::new(sdk.clone()), notifier)?;
    let mut ok = true;
    for file in event_files(&path)? {
        let shown = file.display().to_string();
        let mut raw = match load_event(&file) {
            Ok(raw) => raw,
            Err(err) => {
                let o = safeguard::Outcome::new(
                    String::new(),
                    "unknown".into(),
                    "none",
                    config.mode,
                    Status::Failed,
                    err.to_string(),
                );
                print_outcome(format, &o, &shown);
                ok = false;
                continue;
            }
        };
        if seed_first {
            if let Ok(event) = TrailEvent::parse(raw.clone()) {
                if router.engines().iter().all(|e| e.guard(&event).is_none()) {
                    let line = seed::seed(&aws.clients(&event.region()), &mut raw).await?;
                    if format == Format::Text {
                        println!("seeded: {line}");
                    } else {
                        eprintln!("seeded: {line}");
                    }
                }
            }
        }
        for o in router.route(raw).await {
            ok &= o.status != Status::Failed;
            print_outcome(format, &o, &shown);
        }
    }
    Ok(ok)
}

fn print_outcome(format: Format, o: &safeguard::Outcome, source: &str) {
    match format {
        Format::Json => println!("{}", json_line(o)),
        Format::Text => print!("{}", text_block(o, source, None)),
    }
}
