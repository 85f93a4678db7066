//! Figures about what postbud did and what waits for an admin: read by
//! `postbud stats` (and the digest) from one place.

use super::ts;
use anyhow::Result;
use chrono::{DateTime, Duration, Utc};
use rusqlite::Connection;

/// What happened since a time, and what waits.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    /// (outcome, kind, result, count) of the messages handled.
    pub messages: Vec<(String, String, String, i64)>,
    /// (state, count) of every outbox row.
    pub outbox: Vec<(String, i64)>,
    pub open_tickets: i64,
    pub quarantined: i64,
    pub held: i64,
    pub failed_or_unknown: i64,
    pub bouncing: i64,
    /// The newest open tickets: (reference, sender, subject, topic).
    pub newest_tickets: Vec<(String, String, String, String)>,
}

/// The figures of the 24 hours before `now`.
pub fn last_day(c: &Connection, now: DateTime<Utc>) -> Result<Figures> {
    let since = ts(now - Duration::hours(24));
    let messages = c
        .prepare(
            "SELECT outcome, COALESCE(kind, '-'), COALESCE(result, '-'), COUNT(*) FROM messages
             WHERE handled_at >= ?1 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        )?
        .query_map([&since], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<Result<_, _>>()?;
    let outbox = c
        .prepare("SELECT state, COUNT(*) FROM outbox GROUP BY 1 ORDER BY 1")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let count = |sql: &str| -> Result<i64> { Ok(c.query_row(sql, [], |r| r.get(0))?) };
    let newest_tickets = c
        .prepare(
            "SELECT ref, sender, subject, topic FROM tickets WHERE status = 'open' ORDER BY id DESC LIMIT 20",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<_, _>>()?;
    Ok(Figures {
        messages,
        outbox,
        open_tickets: count("SELECT COUNT(*) FROM tickets WHERE status = 'open'")?,
        quarantined: count("SELECT COUNT(*) FROM messages WHERE outcome = 'quarantined'")?,
        held: count("SELECT COUNT(*) FROM messages WHERE outcome = 'held'")?,
        failed_or_unknown: count(
            "SELECT COUNT(*) FROM outbox WHERE state IN ('failed', 'unknown')",
        )?,
        bouncing: count("SELECT COUNT(*) FROM bounces")?,
        newest_tickets,
    })
}

/// A pending change waiting for an admin.
#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub reference: String,
    pub kind: String,
    pub requested_by: String,
    pub created_at: String,
    pub summary: String,
}

/// Pending changes waiting for an admin, oldest first.
pub fn pending(c: &Connection) -> Result<Vec<Waiting>> {
    Ok(c.prepare(
        "SELECT ref, kind, requested_by, created_at, summary FROM pending_changes
         WHERE status = 'pending' ORDER BY id",
    )?
    .query_map([], |r| {
        Ok(Waiting {
            reference: r.get(0)?,
            kind: r.get(1)?,
            requested_by: r.get(2)?,
            created_at: r.get(3)?,
            summary: r.get(4)?,
        })
    })?
    .collect::<Result<_, _>>()?)
}
