//! postbud: a membership register run by email.
//!
//! # Layout
//! A message goes intake → read (pure) → decide (pure) → apply (one
//! transaction) → outbox → sender.
//! - [`config`]: the TOML configuration, errors naming file, line and key.
//! - [`intake`]: the `Mailbox` trait; Maildir and IMAP: raw bytes in, moves out.
//! - `postbud_core` (crates/core, re-exported as [`core`]): the pure reading
//!   of mail: parsing, classification, trust, registration strings,
//!   deduction lists.
//! - `postbud_commands` (crates/commands, re-exported as [`commands`]): the
//!   pure decisions: the `Command` enum with its rules, one file per
//!   command, and the `Plan` they make.
//! - [`pipeline`]: a batch of messages through the stages, in one
//!   transaction with a savepoint each.
//! - [`store`]: the SQLite register; all SQL: migrations, sender facts, the
//!   `Register` queries commands read, applying a plan, messages, codes,
//!   pending changes, the outbox, stats, imports.
//! - [`render`]: templates to text and HTML, attachments, mail headers
//!   (SPEC section 9).
//! - [`sheets`]: .xlsx workbooks from a plan's tables; [`pdf`]: the layout
//!   engine for letters; [`letters`]: the letters themselves.
//! - [`outbox`]: the `Transport` trait (begin, then send); SMTP and file;
//!   the sender loop, claiming replies in batches.
//! - [`daemon`]: the intake loop, the sender and scheduler threads;
//!   shutdown; systemd.
//! - [`clock`]: the one clock and source of randomness, pinned in tests.
//! - [`schedule`]: when a job's slots fall, in the organisation's time zone
//!   (pure); [`jobs`]: running the scheduled jobs, each slot once.
//! - [`admin`]: the office's command-line work: quarantine, code verify,
//!   pending changes, stats, backup, people, the outbox; [`error`]: exit
//!   statuses.
//! - [`tls`]: the rustls client config shared by IMAP and SMTP: `ca_file`
//!   pinned or trusted, refusals in plain words.
//! - [`demo`]: `postbud demo`, a day of mail told step by step;
//!   [`bench`]: `postbud bench`, the whole job and its stages.

pub mod admin;
pub mod bench;
pub mod clock;
pub mod config;
pub mod daemon;
pub mod demo;
pub mod error;
pub mod intake;
pub mod jobs;
pub mod letters;
pub mod outbox;
pub mod pdf;
pub mod pipeline;
pub mod render;
pub mod schedule;
pub mod sheets;
pub mod store;
pub mod tls;

pub use postbud_commands as commands;
pub use postbud_core as core;
