//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod home;
pub mod mailstack;
pub mod proxy;

pub use home::{FIXTURES, Home, Reply, code_in, fixture};
pub use mailstack::MailStack;

/// Logs from the code under test, shown for failing tests (`RUST_LOG`
/// chooses what; default `postbud=debug`).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("postbud=debug"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}
