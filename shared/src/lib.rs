//! Safeguard's core library: the event model, the control abstraction, the
//! engine every function runs, the notifier, and the AWS adapters.
//!
//! Without the default `aws` feature only the event model, the errors and
//! the policy analyses are built: what `make fuzz` exercises, with none of
//! the AWS SDK crates.

pub mod error;
pub mod event;
pub mod policy;

pub use error::{During, Error};
pub use event::TrailEvent;

/// Items that need the AWS SDK, the Lambda runtime and tokio.
macro_rules! with_aws {
    ($($item:item)*) => { $( #[cfg(feature = "aws")] $item )* };
}

with_aws! {
    pub mod aws;
    pub mod config;
    pub mod control;
    mod emulator_quirks;
    pub mod engine;
    pub mod iam;
    pub mod lambda;
    pub mod notify;
    pub mod outcome;
    pub mod pattern;
    pub mod resources;
    pub mod settings;

    pub use aws::{Aws, CallLog, Clients};
    pub use config::{Config, Mode};
    pub use control::{Action, Assessment, Control, Ctx, Declaration, Function, Reads, Resource, Severity, Trigger};
    pub use engine::Engine;
    pub use notify::{Alert, Notifier, SnsNotifier};
    pub use outcome::{Outcome, Status};
    pub use settings::{Setting, Settings};

    /// Re-exported so function crates implement `Control` without their own dependency.
    pub use async_trait::async_trait;
}
