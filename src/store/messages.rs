//! Every message seen (SPEC section 3): its identity for exactly-once, its
//! outcome, its raw bytes while they are kept, and the quarantine.

use super::ts;
use anyhow::Result;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

/// A message seen before: its row and outcome.
pub struct Seen {
    pub row: i64,
    pub outcome: String,
}

/// The message with `identity`, if it was seen before.
pub fn seen(conn: &Connection, identity: &str) -> Result<Option<Seen>> {
    Ok(conn
        .prepare_cached("SELECT id, outcome FROM messages WHERE identity = ?1")?
        .query_row([identity], |r| {
            Ok(Seen {
                row: r.get(0)?,
                outcome: r.get(1)?,
            })
        })
        .optional()?)
}

/// Counts another delivery of a message handled before.
pub fn seen_again(conn: &Connection, row: i64) -> Result<()> {
    conn.prepare_cached("UPDATE messages SET seen_count = seen_count + 1 WHERE id = ?1")?
        .execute([row])?;
    Ok(())
}

/// What is recorded of a handled message.
pub struct Handled<'a> {
    pub identity: &'a str,
    pub sender: &'a str,
    pub subject: &'a str,
    pub kind: &'a str,
    pub result: &'a str,
    pub reference: Option<&'a str>,
    /// handled, silent or held.
    pub outcome: &'a str,
    pub raw: &'a [u8],
}

/// Records a handled message; `again` is its row when it was quarantined
/// before and is now handled. Returns its row.
pub fn record(
    conn: &Connection,
    again: Option<i64>,
    m: &Handled<'_>,
    now: DateTime<Utc>,
) -> Result<i64> {
    Ok(match again {
        Some(id) => {
            conn.prepare_cached(
                "UPDATE messages SET sender = ?2, subject = ?3, kind = ?4, result = ?5, ref = ?6,
                     outcome = ?7, reason = NULL, handled_at = ?8, seen_count = seen_count + 1
                 WHERE id = ?1",
            )?
            .execute(params![
                id,
                m.sender,
                m.subject,
                m.kind,
                m.result,
                m.reference,
                m.outcome,
                ts(now)
            ])?;
            id
        }
        None => {
            conn.prepare_cached(
                "INSERT INTO messages (identity, sender, subject, kind, result, ref, outcome,
                                       received_at, handled_at, raw)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9)",
            )?
            .execute(params![
                m.identity,
                m.sender,
                m.subject,
                m.kind,
                m.result,
                m.reference,
                m.outcome,
                ts(now),
                m.raw
            ])?;
            conn.last_insert_rowid()
        }
    })
}

/// The most of a quarantined message kept in the register; a larger one
/// keeps its start, and stays whole in the mailbox's quarantine folder.
pub const MAX_KEPT: usize = 64 << 10;

/// A message that could not be handled becomes data: a row with the reason
/// and the raw bytes (at most [`MAX_KEPT`] of them), so `postbud quarantine
/// retry` can put it through again.
pub fn quarantine(
    conn: &Connection,
    identity: &str,
    sender: Option<&str>,
    subject: Option<&str>,
    reason: &str,
    raw: &[u8],
    now: DateTime<Utc>,
) -> Result<()> {
    let truncated = raw.len() > MAX_KEPT;
    let kept = &raw[..raw.len().min(MAX_KEPT)];
    conn.prepare_cached(
        "INSERT INTO messages (identity, sender, subject, outcome, reason, received_at, handled_at, raw, raw_truncated)
         VALUES (?1, ?2, ?3, 'quarantined', ?4, ?5, ?5, ?6, ?7)
         ON CONFLICT(identity) DO UPDATE SET outcome = 'quarantined', reason = excluded.reason,
             handled_at = excluded.handled_at, seen_count = seen_count + 1, raw = excluded.raw,
             raw_truncated = excluded.raw_truncated",
    )?
    .execute(params![identity, sender, subject, reason, ts(now), kept, truncated])?;
    Ok(())
}

/// A quarantined message handled after all (`postbud quarantine retry`)
/// under another row: it is no longer waiting.
pub fn retried(conn: &Connection, row: i64, now: DateTime<Utc>) -> Result<()> {
    conn.execute(
        "UPDATE messages SET outcome = 'retried', handled_at = ?2 WHERE id = ?1 AND outcome = 'quarantined'",
        params![row, ts(now)],
    )?;
    Ok(())
}

/// A quarantined message as `postbud quarantine list` shows it.
pub struct Quarantined {
    pub row: i64,
    pub at: String,
    pub sender: String,
    pub subject: String,
    pub reason: String,
}

/// Every quarantined message, oldest first.
pub fn quarantined(conn: &Connection) -> Result<Vec<Quarantined>> {
    let rows = conn
        .prepare(
            "SELECT id, handled_at, COALESCE(sender, ''), COALESCE(subject, ''), COALESCE(reason, '')
             FROM messages WHERE outcome = 'quarantined' ORDER BY id",
        )?
        .query_map([], |r| {
            Ok(Quarantined {
                row: r.get(0)?,
                at: r.get(1)?,
                sender: r.get(2)?,
                subject: r.get(3)?,
                reason: r.get(4)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// A quarantined message as kept.
pub struct Kept {
    pub reason: String,
    pub raw: Vec<u8>,
    /// Only the start was kept (the message was too large).
    pub truncated: bool,
}

/// The reason and raw bytes of quarantined message `row`.
pub fn quarantined_one(conn: &Connection, row: i64) -> Result<Option<Kept>> {
    Ok(conn
        .query_row(
            "SELECT COALESCE(reason, ''), COALESCE(raw, X''), raw_truncated FROM messages
             WHERE id = ?1 AND outcome = 'quarantined'",
            [row],
            |r| {
                Ok(Kept {
                    reason: r.get(0)?,
                    raw: r.get(1)?,
                    truncated: r.get(2)?,
                })
            },
        )
        .optional()?)
}
