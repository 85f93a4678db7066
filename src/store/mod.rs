//! The register in SQLite: opening it (WAL, `synchronous=FULL`), versioned
//! migrations, references and the audit log. All SQL lives under this
//! module, one file per part of the register:
//! - `facts`: who a sender is; `reads`: what commands read (the
//!   `Register` trait over SQLite);
//! - `apply`: carrying out a plan in the caller's transaction;
//! - `messages`: messages seen, duplicates, the quarantine; `in_hand`:
//!   the marks that catch a message the process died on;
//! - `codes`, `pending`, `outbox`: one-time codes, pending changes, the
//!   outbox and delivery states;
//! - `people`: a person as members see and change themselves;
//! - `jobs`: what the scheduled jobs read and write: slots, letters,
//!   reminders, retention;
//! - `stats`: the digest's figures, also `postbud stats`; `import`: CSV imports;
//!   `synthetic`: made-up registers and queues for `postbud bench`.

pub mod apply;
pub mod codes;
pub mod facts;
pub mod import;
pub mod in_hand;
pub mod jobs;
pub mod messages;
pub mod outbox;
pub mod pending;
pub mod people;
pub mod reads;
pub mod stats;
pub mod synthetic;

use anyhow::{Context as _, Result};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;

/// Migrations in order; `PRAGMA user_version` is the number applied.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/001_initial.sql"),
    include_str!("migrations/002_reps.sql"),
    include_str!("migrations/003_employers.sql"),
    include_str!("migrations/004_typed_changes.sql"),
    include_str!("migrations/005_in_hand.sql"),
    include_str!("migrations/006_guesses.sql"),
    include_str!("migrations/007_employment_ends.sql"),
    include_str!("migrations/008_schedule.sql"),
    include_str!("migrations/009_claims.sql"),
];

/// An open register.
pub struct Store {
    /// The one connection this handle owns.
    pub conn: Connection,
}

impl Store {
    /// Opens (creating if needed) the register at `path` and migrates it.
    pub fn open(path: &Path) -> Result<Store> {
        Store::open_at(path)
            .with_context(|| format!("cannot open the register at `{}`", path.display()))
    }

    fn open_at(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the directory `{}`", dir.display()))?;
        }
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        // Intake, the sender and the scheduler write from connections of
        // their own: a transaction takes the write lock when it begins (and
        // waits for it), never by upgrading a read later, which SQLite
        // refuses at once ("database is locked") when another wrote between.
        conn.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
        conn.set_prepared_statement_cache_capacity(128);
        // Plans that do not change with bound values: the bundled SQLite has
        // STAT4, which otherwise re-prepares a cached statement each time a
        // parameter changes (a third of the time spent per message).
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let mut store = Store { conn };
        store.migrate().context("cannot migrate it")?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<()> {
        let version: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version as usize > MIGRATIONS.len() {
            anyhow::bail!(
                "the register is version {version}, newer than this postbud ({}): upgrade postbud",
                MIGRATIONS.len()
            );
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)
                .with_context(|| format!("migration {}", i + 1))?;
            tx.pragma_update(None, "user_version", i as i64 + 1)?;
            tx.commit()?;
        }
        Ok(())
    }
}

/// RFC 3339 text for a time, as stored.
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Allocates the next reference `PB-YYYY-NNNNNN` for `year`.
pub fn next_ref(conn: &Connection, year: i32) -> Result<String> {
    let last: Option<i64> = conn
        .prepare_cached("SELECT last FROM refs WHERE year = ?1")?
        .query_row([year], |r| r.get(0))
        .optional()?;
    let n = last.unwrap_or(0) + 1;
    conn.prepare_cached(
        "INSERT INTO refs (year, last) VALUES (?1, ?2)
         ON CONFLICT(year) DO UPDATE SET last = excluded.last",
    )?
    .execute(params![year, n])?;
    Ok(format!("PB-{year}-{n:06}"))
}

/// Writes one audit row: who did what to which thing, because of which
/// message.
#[allow(clippy::too_many_arguments)]
pub fn audit(
    conn: &Connection,
    now: DateTime<Utc>,
    message_id: Option<i64>,
    actor: &str,
    action: &str,
    entity: &str,
    entity_id: Option<&str>,
    detail: Option<&str>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO audit (at, message_id, actor, action, entity, entity_id, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        ts(now),
        message_id,
        actor,
        action,
        entity,
        entity_id,
        detail
    ])?;
    Ok(())
}

/// Starts the savepoint one message is handled in.
pub fn savepoint(conn: &Connection) -> Result<()> {
    conn.prepare_cached("SAVEPOINT msg")?.execute([])?;
    Ok(())
}

/// Keeps what the message did.
pub fn release(conn: &Connection) -> Result<()> {
    conn.prepare_cached("RELEASE msg")?.execute([])?;
    Ok(())
}

/// Undoes what the message did, and nothing else of the batch.
pub fn roll_back(conn: &Connection) -> Result<()> {
    conn.execute_batch("ROLLBACK TO msg; RELEASE msg")?;
    Ok(())
}
