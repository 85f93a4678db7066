//! The outbox as stored: replies and letters queued in the transaction of
//! the change that made them, claimed by the sender in batches, and their
//! delivery state (queued, claimed, sending, sent, failed, unknown).

use super::ts;
use anyhow::Result;
use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, params};

/// A row is given up (failed) after this many temporary failures.
pub const MAX_ATTEMPTS: i64 = 12;

/// Wait before retry `attempt` (1-based): 1 min doubling, at most 4 hours.
pub fn backoff(attempt: i64) -> Duration {
    let minutes = 1i64 << attempt.clamp(1, 9).saturating_sub(1);
    Duration::minutes(minutes.min(240))
}

/// A mail to queue.
pub struct Outgoing<'a> {
    /// The message answered (none for the CLI and jobs).
    pub message: Option<i64>,
    pub reference: &'a str,
    pub kind: &'a str,
    pub result: &'a str,
    pub recipient: &'a str,
    pub mail_from: &'a str,
    pub rfc_message_id: &'a str,
    pub subject: &'a str,
    pub raw: &'a [u8],
    /// The body holds a code: wiped once sent.
    pub secret: bool,
}

/// Queues a mail, due now.
pub fn enqueue(conn: &Connection, o: &Outgoing<'_>, now: DateTime<Utc>) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO outbox (message_id, ref, kind, result, recipient, mail_from, rfc_message_id,
                             subject, raw, next_attempt_at, created_at, secret)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11)",
    )?
    .execute(params![
        o.message,
        o.reference,
        o.kind,
        o.result,
        o.recipient,
        o.mail_from,
        o.rfc_message_id,
        o.subject,
        o.raw,
        ts(now),
        o.secret,
    ])?;
    Ok(())
}

/// A queued mail, as the sender hands it over.
#[derive(Debug, Clone)]
pub struct Queued {
    /// Outbox row id (the file transport names its files by it).
    pub id: i64,
    /// MAIL FROM.
    pub from: String,
    /// RCPT TO.
    pub to: Vec<String>,
    /// The complete RFC 5322 message.
    pub raw: Vec<u8>,
}

/// Claims up to `limit` queued rows that are due, oldest first: they are
/// `claimed` under this machine's `boot` id (committed by the caller, with
/// `synchronous=FULL`).
pub fn claim(
    conn: &Connection,
    now: DateTime<Utc>,
    limit: usize,
    boot: &str,
) -> Result<Vec<Queued>> {
    let rows = due(conn, now, limit)?;
    let mut mark =
        conn.prepare_cached("UPDATE outbox SET state = 'claimed', claim_boot = ?2 WHERE id = ?1")?;
    for r in &rows {
        mark.execute(params![r.id, boot])?;
    }
    Ok(rows)
}

/// Claimed rows go back to the queue (the sender stopped before handing
/// them over).
pub fn unclaim(conn: &Connection, ids: &[i64]) -> Result<()> {
    let mut stmt = conn
        .prepare_cached("UPDATE outbox SET state = 'queued' WHERE id = ?1 AND state = 'claimed'")?;
    for id in ids {
        stmt.execute([id])?;
    }
    Ok(())
}

/// Rows left `claimed` by a crash: (id, the boot id they were claimed under).
pub fn left_claimed(conn: &Connection) -> Result<Vec<(i64, Option<String>)>> {
    Ok(conn
        .prepare("SELECT id, claim_boot FROM outbox WHERE state = 'claimed'")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?)
}

/// This machine's boot id (Linux): it changes when the machine restarts,
/// which is what tells a crashed process (whose last writes the system
/// still holds) from a power cut (which can lose them). Empty when it
/// cannot be read: then every claim counts as from another boot.
pub fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// Up to `limit` queued rows that are due, oldest first.
pub fn due(conn: &Connection, now: DateTime<Utc>, limit: usize) -> Result<Vec<Queued>> {
    let rows = conn
        .prepare_cached(
            "SELECT id, mail_from, recipient, raw FROM outbox
             WHERE state = 'queued' AND next_attempt_at <= ?1 ORDER BY id LIMIT ?2",
        )?
        .query_map(params![ts(now), limit as i64], |r| {
            Ok(Queued {
                id: r.get(0)?,
                from: r.get(1)?,
                to: vec![r.get(2)?],
                raw: r.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Marks a row as being handed to the transport.
pub fn mark_sending(conn: &Connection, id: i64) -> Result<()> {
    conn.prepare_cached("UPDATE outbox SET state = 'sending' WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// What became of one hand-over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// A temporary failure: try again later.
    Retry(String),
    /// A permanent failure: never try again.
    Failed(String),
    /// Handed over with no answer: perhaps delivered; never sent again.
    Unknown(String),
}

/// How a delivery was recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    Sent,
    Retry,
    Failed,
    Unknown,
}

/// Records a delivery: sent (a code's body wiped), retried with backoff,
/// or failed (after [`MAX_ATTEMPTS`] temporary failures too).
pub fn record(conn: &Connection, id: i64, d: Delivery, now: DateTime<Utc>) -> Result<Recorded> {
    Ok(match d {
        Delivery::Sent => {
            conn.prepare_cached(
                "UPDATE outbox SET state = 'sent', sent_at = ?2, attempts = attempts + 1,
                     raw = CASE WHEN secret = 1 THEN CAST('(sent; removed because it held a code)' AS BLOB) ELSE raw END
                 WHERE id = ?1",
            )?
            .execute(params![id, ts(now)])?;
            Recorded::Sent
        }
        Delivery::Failed(e) => {
            conn.prepare_cached(
                "UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ?2 WHERE id = ?1",
            )?
            .execute(params![id, e])?;
            Recorded::Failed
        }
        Delivery::Unknown(e) => {
            conn.prepare_cached(
                "UPDATE outbox SET state = 'unknown', attempts = attempts + 1, last_error = ?2 WHERE id = ?1",
            )?
            .execute(params![id, e])?;
            Recorded::Unknown
        }
        Delivery::Retry(e) => {
            let attempts: i64 = conn
                .prepare_cached("SELECT attempts + 1 FROM outbox WHERE id = ?1")?
                .query_row([id], |r| r.get(0))?;
            if attempts >= MAX_ATTEMPTS {
                conn.prepare_cached(
                    "UPDATE outbox SET state = 'failed', attempts = ?2, last_error = ?3 WHERE id = ?1",
                )?
                .execute(params![id, attempts, format!("gave up after {attempts} tries: {e}")])?;
                Recorded::Failed
            } else {
                conn.prepare_cached(
                    "UPDATE outbox SET state = 'queued', attempts = ?2, last_error = ?3, next_attempt_at = ?4
                     WHERE id = ?1",
                )?
                .execute(params![id, attempts, e, ts(now + backoff(attempts))])?;
                Recorded::Retry
            }
        }
    })
}

/// Rows left `sending` by a crash.
pub fn left_sending(conn: &Connection) -> Result<Vec<i64>> {
    Ok(conn
        .prepare("SELECT id FROM outbox WHERE state = 'sending'")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?)
}

/// Settles a row left `sending` (or claimed before the machine restarted):
/// delivered (`Some(true)`), not delivered (`Some(false)`: queued again),
/// or unknown (never sent again, shown to admins).
pub fn recovered(conn: &Connection, id: i64, delivered: Option<bool>) -> Result<()> {
    let state = match delivered {
        Some(true) => "sent",
        Some(false) => "queued",
        None => "unknown",
    };
    conn.execute(
        "UPDATE outbox SET state = ?2, last_error = CASE WHEN ?2 = 'unknown'
             THEN 'interrupted while sending: may or may not have been delivered' ELSE last_error END
         WHERE id = ?1",
        params![id, state],
    )?;
    Ok(())
}

/// A mail in the outbox, as the demo shows it.
pub struct Mail {
    pub recipient: String,
    pub subject: String,
    pub raw: Vec<u8>,
    pub state: String,
}

/// The newest outbox row's id (0 when there is none).
pub fn last_id(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT COALESCE(MAX(id), 0) FROM outbox", [], |r| r.get(0))?)
}

/// The mail queued after row `id`, in order (what a job just queued).
pub fn after(conn: &Connection, id: i64) -> Result<Vec<Mail>> {
    mails(conn, "id > ?1", id)
}

/// The mail queued under `reference`, in order.
pub fn with_reference(conn: &Connection, reference: &str) -> Result<Vec<Mail>> {
    mails(conn, "ref = ?1", reference)
}

/// The mail `filter` (with one parameter) picks, in order.
fn mails(conn: &Connection, filter: &str, param: impl rusqlite::ToSql) -> Result<Vec<Mail>> {
    Ok(conn
        .prepare(&format!(
            "SELECT recipient, subject, raw, state FROM outbox WHERE {filter} ORDER BY id"
        ))?
        .query_map([param], |r| {
            Ok(Mail {
                recipient: r.get(0)?,
                subject: r.get(1)?,
                raw: r.get(2)?,
                state: r.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?)
}

/// Sends a mail that failed or whose delivery is uncertain once more (an
/// admin's decision: `postbud outbox resend`). Returns whether it was one.
pub fn resend(conn: &Connection, id: i64, now: DateTime<Utc>) -> Result<bool> {
    Ok(conn.execute(
        "UPDATE outbox SET state = 'queued', next_attempt_at = ?2, attempts = 0,
             last_error = 'sent again by an admin after: ' || COALESCE(last_error, state)
         WHERE id = ?1 AND state IN ('failed', 'unknown')",
        params![id, ts(now)],
    )? == 1)
}

/// A mail that failed or whose delivery is uncertain.
pub struct Undelivered {
    pub id: i64,
    pub to: String,
    pub kind: String,
    pub reference: Option<String>,
    /// `failed` or `unknown`.
    pub state: String,
    pub error: Option<String>,
    pub created: String,
}

/// Mail that failed or whose delivery is uncertain, oldest first.
pub fn undelivered(conn: &Connection) -> Result<Vec<Undelivered>> {
    Ok(conn
        .prepare(
            "SELECT id, recipient, kind, ref, state, last_error, created_at FROM outbox
             WHERE state IN ('failed', 'unknown') ORDER BY id",
        )?
        .query_map([], |r| {
            Ok(Undelivered {
                id: r.get(0)?,
                to: r.get(1)?,
                kind: r.get(2)?,
                reference: r.get(3)?,
                state: r.get(4)?,
                error: r.get(5)?,
                created: r.get(6)?,
            })
        })?
        .collect::<Result<_, _>>()?)
}

/// How many mails the outbox holds, in any state.
pub fn count(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0))?)
}
