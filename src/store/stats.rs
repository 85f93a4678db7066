//! Figures about what postbud did and what waits for an admin, read from
//! one place by the digest (and `DIGEST`) and by `postbud stats`. Every
//! list is capped at [`DIGEST_LIST_MAX`] with its full count beside it, and
//! every query reads an index, so a day of 100,000 messages stays fast.

use super::ts;
use anyhow::Result;
use chrono::{DateTime, Duration, Utc};
use postbud_commands::register::{
    Counted, DIGEST_LIST_MAX, DigestFigures, FailedMail, OpenTicket, QuarantinedBrief,
    WaitingChange,
};
use rusqlite::{Connection, Params};

fn rows<T, P: Params>(
    c: &Connection,
    sql: &str,
    p: P,
    f: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    Ok(c.prepare_cached(sql)?
        .query_map(p, f)?
        .collect::<Result<_, _>>()?)
}

fn count<P: Params>(c: &Connection, sql: &str, p: P) -> Result<i64> {
    Ok(c.prepare_cached(sql)?.query_row(p, |r| r.get(0))?)
}

fn waiting(r: &rusqlite::Row<'_>) -> rusqlite::Result<WaitingChange> {
    Ok(WaitingChange {
        reference: r.get(0)?,
        kind: r.get(1)?,
        requested_by: r.get(2)?,
        created_at: r.get(3)?,
        summary: r.get(4)?,
        effective_on: r.get(5)?,
    })
}

/// The changes of `status` (`pending`, `scheduled`) whose kind is in or
/// out of `kinds`, oldest first (scheduled: soonest first), capped.
fn changes(c: &Connection, status: &str, kinds: &str, inside: bool) -> Result<Vec<WaitingChange>> {
    let sql = format!(
        "SELECT ref, kind, requested_by, created_at, summary, effective_on FROM pending_changes
         WHERE status = ?1 AND kind {} IN ({kinds})
         ORDER BY COALESCE(effective_on, ''), id LIMIT {DIGEST_LIST_MAX}",
        if inside { "" } else { "NOT" },
    );
    rows(c, &sql, [status], waiting)
}

/// The figures of the 24 hours before `now`, and what waits.
pub fn digest(c: &Connection, now: DateTime<Utc>) -> Result<DigestFigures> {
    let since = ts(now - Duration::hours(24));
    let max = DIGEST_LIST_MAX as i64;
    let messages: Vec<Counted> = rows(
        c,
        "SELECT outcome, COALESCE(kind, '-'), COALESCE(result, '-'), COUNT(*) FROM messages
         WHERE handled_at >= ?1 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        [&since],
        |r| {
            Ok(Counted {
                outcome: r.get(0)?,
                kind: r.get(1)?,
                result: r.get(2)?,
                count: r.get(3)?,
            })
        },
    )?;
    const SPECIAL: &str = "'pdf-list', 'deducted-elsewhere'";
    Ok(DigestFigures {
        messages_total: messages.iter().map(|m| m.count).sum(),
        messages,
        sent: count(
            c,
            "SELECT COUNT(*) FROM outbox WHERE state = 'sent' AND sent_at >= ?1",
            [&since],
        )?,
        queued: count(
            c,
            "SELECT COUNT(*) FROM outbox WHERE state IN ('queued', 'claimed', 'sending')",
            [],
        )?,
        failed: rows(
            c,
            "SELECT recipient, kind, ref, state, last_error, created_at, id FROM outbox
             WHERE state IN ('failed', 'unknown') ORDER BY id DESC LIMIT ?1",
            [max],
            |r| {
                Ok(FailedMail {
                    id: r.get(6)?,
                    to: r.get(0)?,
                    kind: r.get(1)?,
                    reference: r.get(2)?,
                    state: r.get(3)?,
                    error: r.get(4)?,
                    created_at: r.get(5)?,
                })
            },
        )?,
        failed_total: count(
            c,
            "SELECT COUNT(*) FROM outbox WHERE state IN ('failed', 'unknown')",
            [],
        )?,
        pending: changes(c, "pending", SPECIAL, false)?,
        pending_total: count(
            c,
            &format!(
                "SELECT COUNT(*) FROM pending_changes WHERE status = 'pending' AND kind NOT IN ({SPECIAL})"
            ),
            [],
        )?,
        pdfs: changes(c, "pending", "'pdf-list'", true)?,
        deducted_elsewhere: changes(c, "pending", "'deducted-elsewhere'", true)?,
        scheduled: changes(c, "scheduled", "''", false)?,
        tickets: rows(
            c,
            "SELECT ref, sender, subject, topic, created_at FROM tickets WHERE status = 'open'
             ORDER BY id LIMIT ?1",
            [max],
            |r| {
                Ok(OpenTicket {
                    reference: r.get(0)?,
                    sender: r.get(1)?,
                    subject: r.get(2)?,
                    topic: r.get(3)?,
                    created_at: r.get(4)?,
                })
            },
        )?,
        tickets_total: count(c, "SELECT COUNT(*) FROM tickets WHERE status = 'open'", [])?,
        quarantined: rows(
            c,
            "SELECT id, sender, subject, COALESCE(reason, ''), handled_at FROM messages
             WHERE outcome = 'quarantined' AND handled_at >= ?1 ORDER BY id LIMIT ?2",
            rusqlite::params![&since, max],
            |r| {
                Ok(QuarantinedBrief {
                    id: r.get(0)?,
                    sender: r.get(1)?,
                    subject: r.get(2)?,
                    reason: r.get(3)?,
                    at: r.get(4)?,
                })
            },
        )?,
        quarantine_total: count(
            c,
            "SELECT COUNT(*) FROM messages WHERE outcome = 'quarantined'",
            [],
        )?,
        bouncing: rows(
            c,
            "SELECT email, count FROM bounces WHERE last_at >= ?1 ORDER BY email LIMIT ?2",
            rusqlite::params![&since, max],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?,
        locked: rows(
            c,
            "SELECT email, purpose FROM code_failures WHERE locked = 1 AND at >= ?1
             ORDER BY id LIMIT ?2",
            rusqlite::params![&since, max],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?,
        held: rows(
            c,
            "SELECT COALESCE(sender, ''), COALESCE(subject, '') FROM messages
             WHERE outcome = 'held' AND handled_at >= ?1 ORDER BY id LIMIT ?2",
            rusqlite::params![&since, max],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?,
    })
}

/// Pending changes waiting for an admin, oldest first, all of them.
pub fn pending(c: &Connection) -> Result<Vec<WaitingChange>> {
    rows(
        c,
        "SELECT ref, kind, requested_by, created_at, summary, effective_on FROM pending_changes
         WHERE status = 'pending' ORDER BY id",
        [],
        waiting,
    )
}
