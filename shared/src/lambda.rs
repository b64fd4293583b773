//! The Lambda entry point shared by every function crate: `main` is one call.

use crate::aws::Aws;
use crate::config::Config;
use crate::control::Function;
use crate::engine::Engine;
use crate::notify::{Notifier, SnsNotifier};
use crate::settings::Settings;
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;

/// Init once (config, clients, notifier), then serve events.
pub async fn run(function: &'static Function) -> Result<(), lambda_runtime::Error> {
    // Honours AWS_LAMBDA_LOG_FORMAT (JSON/Text) and AWS_LAMBDA_LOG_LEVEL.
    lambda_runtime::tracing::init_default_subscriber();
    let config = Config::from_env()?;
    let topic = config.require_topic()?.to_string();
    let aws = Aws::from_env().await;
    let notifier = SnsNotifier::new(aws.clients("").sns().clone(), topic);
    let settings = Settings::from_env(function.settings())?;
    let engine = Engine::new(function, config, aws, notifier).with_settings(settings);
    let engine = &engine;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        respond(engine, event.payload)
    }))
    .await
}

/// One invocation: the outcomes as the response, or an error when any outcome
/// is transient, so that Lambda retries and, once retries are spent, sends the
/// event to the on-failure destination.
pub async fn respond<N: Notifier>(engine: &Engine<N>, payload: Value) -> Result<Value, lambda_runtime::Error> {
    let outcomes = engine.handle(payload).await;
    if let Some(o) = outcomes.iter().find(|o| o.retryable) {
        return Err(lambda_runtime::Error::from(format!("retryable: {}", o.detail)));
    }
    serde_json::to_value(&outcomes).map_err(lambda_runtime::Error::from)
}
