//! Routes events as the deployed EventBridge rules do: an event reaches a
//! function only when one of that function's derived patterns matches it.

use safeguard::engine::Engine;
use safeguard::{Aws, Config, Error, Mode, Notifier, Outcome, Settings, Status, TrailEvent};
use serde_json::Value;

pub struct Router<N> {
    engines: Vec<Engine<N>>,
    mode: Mode,
    role_prefix: String,
}

impl<N: Notifier + Clone> Router<N> {
    /// One engine per function, sharing the configuration and notifier;
    /// each function's settings come from the environment.
    pub fn new(config: Config, aws: impl Fn() -> Aws, notifier: N) -> Result<Self, Error> {
        Self::with_settings(config, aws, notifier, |key| std::env::var(key).ok())
    }

    /// As [`Router::new`], with the settings' values from `lookup`.
    pub fn with_settings(
        config: Config,
        aws: impl Fn() -> Aws,
        notifier: N,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, Error> {
        let mut engines = Vec::new();
        for f in crate::functions() {
            let settings = Settings::load(f.settings(), &lookup)?;
            engines.push(Engine::new(f, config.clone(), aws(), notifier.clone()).with_settings(settings));
        }
        Ok(Router {
            engines,
            mode: config.mode,
            role_prefix: config.role_prefix.clone(),
        })
    }
}

impl<N: Notifier> Router<N> {
    pub async fn route(&self, raw: Value) -> Vec<Outcome> {
        let mut outcomes = Vec::new();
        for engine in &self.engines {
            let matched = engine
                .function()
                .patterns(&self.role_prefix)
                .iter()
                .any(|p| safeguard::pattern::matches(p, &raw));
            if matched {
                outcomes.extend(engine.handle(raw.clone()).await);
            }
        }
        if outcomes.is_empty() {
            outcomes.push(self.unrouted(raw));
        }
        outcomes
    }

    /// Why no rule took the event, in the words the handler itself would use.
    fn unrouted(&self, raw: Value) -> Outcome {
        let (id, name) = safeguard::event::raw_identity(&raw);
        let event = match TrailEvent::parse(raw) {
            Ok(event) => event,
            Err(err) => return Outcome::new(id, name, "none", self.mode, Status::Failed, err.to_string()),
        };
        let owner = self
            .engines
            .iter()
            .find(|e| !e.function().routes(event.event_source(), event.event_name()).is_empty());
        let (function, detail) = match owner {
            Some(engine) => (
                engine.function().name,
                engine
                    .guard(&event)
                    .unwrap_or_else(|| "the event does not match the function's rule".into()),
            ),
            None => (
                "none",
                format!(
                    "no Safeguard rule matches {}:{}",
                    event.event_source(),
                    event.event_name()
                ),
            ),
        };
        let mut o = Outcome::new(event.id(), name, function, self.mode, Status::Ignored, detail);
        o.account = event.account();
        o.region = event.region();
        o.actor = Some(event.actor());
        o
    }

    pub fn engines(&self) -> &[Engine<N>] {
        &self.engines
    }
}

/// Read one event file, or every `*.json` below a directory, sorted by path.
pub fn event_files(path: &std::path::Path) -> Result<Vec<std::path::PathBuf>, Error> {
    let meta = std::fs::metadata(path).map_err(|e| Error::Config(format!("cannot read {}: {e}", path.display())))?;
    if meta.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    let mut dirs = vec![path.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries =
            std::fs::read_dir(&dir).map_err(|e| Error::Config(format!("cannot list {}: {e}", dir.display())))?;
        for entry in entries.flatten() {
            let p = entry.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                files.push(p);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Parse an event file as JSON; a clear error names the file and the position.
pub fn load_event(path: &std::path::Path) -> Result<Value, Error> {
    let text =
        std::fs::read_to_string(path).map_err(|e| Error::Event(format!("cannot read {}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| Error::Event(format!("{} is not valid JSON: {e}", path.display())))
}
