//! Safeguard's core library: the event model, the control abstraction, the
//! engine every function runs, the notifier, and the AWS adapters.

pub mod aws;
pub mod config;
pub mod control;
mod emulator_quirks;
pub mod engine;
pub mod error;
pub mod event;
pub mod iam;
pub mod lambda;
pub mod notify;
pub mod outcome;
pub mod pattern;
pub mod policy;
pub mod resources;
pub mod settings;

pub use aws::{Aws, CallLog, Clients};
pub use config::{Config, Mode};
pub use control::{Action, Assessment, Control, Ctx, Declaration, Function, Reads, Resource, Severity, Trigger};
pub use engine::Engine;
pub use error::{During, Error};
pub use event::TrailEvent;
pub use notify::{Alert, Notifier, SnsNotifier};
pub use outcome::{Outcome, Status};
pub use settings::{Setting, Settings};

/// Re-exported so function crates implement `Control` without their own dependency.
pub use async_trait::async_trait;
