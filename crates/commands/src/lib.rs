//! postbud's decisions: what each command does, as a [`plan::Plan`]. No
//! I/O, no clock, no database: a command decides from the sender's
//! [`facts::Facts`], what it read through [`register::Register`], the time
//! and randomness it is handed. The compiler keeps it so: this crate depends
//! on neither rusqlite nor tokio.
//!
//! # Layout
//! - [`cmd`]: the [`cmd::Command`] enum (parse, rule, dispatch) and one file
//!   per command: `cmd/activity.rs` is `AKTIVITET`, `cmd/status.rs` is
//!   `STATUS`, and so on; `cmd/reported.rs` is what reps' change reports
//!   share.
//! - [`jobs`]: the scheduled jobs' decisions, one file each: letters,
//!   reminders, the digest, retention.
//! - [`decide`]: the [`decide::Decide`] trait each command implements.
//! - [`rule`]: who may use a command and whether it needs a verified sender.
//! - [`facts`]: the sender's facts, the settings, languages, randomness;
//!   [`cx`]: what every decision is handed.
//! - [`register`]: the queries commands read through, and what they return.
//! - [`plan`]: what handling a message does, as data: actions, replies,
//!   attachments, pending changes.
//! - [`codes`]: one-time codes: hashing, checking, issuing.
//! - [`words`]: reading what people type: names, dates, fields, amounts.

pub mod cmd;
pub mod codes;
pub mod cx;
pub mod decide;
pub mod facts;
pub mod jobs;
pub mod plan;
pub mod register;
pub mod rule;
pub mod words;

#[cfg(test)]
mod testing;

pub use cmd::{Command, Read, read};
pub use cx::Cx;
pub use facts::{Facts, Fresh, Language, Settings};
pub use plan::Plan;
pub use register::Register;
