//! postbud: a membership register run by email.
//!
//! # Layout
//! - [`config`]: the TOML configuration, errors naming file, line and key.
//! - [`intake`]: the `Mailbox` trait; Maildir and IMAP: raw bytes in, moves out.
//! - `postbud_core` (crates/core, re-exported as [`core`]): the pure parts:
//!   message parsing, classification, registration strings, deduction lists.
//! - [`commands`]: one pure `decide` per command or workflow, the snapshots
//!   they read, trust, and the dispatcher.
//! - [`plan`]: what handling a message does, as data.
//! - [`store`]: the SQLite register: migrations, facts for `decide`, `apply`.
//! - [`render`]: templates to text and HTML, reply headers (SPEC section 9).
//! - [`pipeline`]: a batch of messages in one transaction, a savepoint each.
//! - [`daemon`]: the intake loop and the sender task; shutdown; systemd.
//! - [`admin`]: quarantine, code verify, pending/approve/reject, stats,
//!   backup for the CLI.
//! - [`demo`]: `postbud demo`; [`bench`]: `postbud bench`.
//! - [`outbox`]: the `Transport` trait; SMTP and file; the sender loop.
//! - [`tls`]: the rustls client config shared by IMAP and SMTP (ring, private CA).
//! - [`letters`]: the PDF letter a new rep hands to the employer; pure.
//! - [`sheets`]: .xlsx attachments (member, peer and problem lists); pure.

pub mod admin;
pub mod bench;
pub mod commands;
pub mod config;
pub mod daemon;
pub mod demo;
pub mod intake;
pub mod letters;
pub mod outbox;
pub mod pipeline;
pub mod plan;
pub mod render;
pub mod sheets;
pub mod store;
pub mod tls;

pub use postbud_core as core;
