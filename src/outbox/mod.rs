//! Sending what the register queued: the `Transport` trait with an SMTP and
//! a file implementation side by side, and the sender loop with its retry
//! policy. Rows are sent at most once, even across a crash.

pub mod file;
pub mod smtp;

/// One message to hand to a transport.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// Outbox row id (the file transport names its files by it).
    pub id: i64,
    /// MAIL FROM.
    pub from: String,
    /// RCPT TO.
    pub to: Vec<String>,
    /// The complete RFC 5322 message.
    pub raw: Vec<u8>,
}

/// Why a send failed.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// 4xx, a lost connection, a timeout: try again later.
    #[error("temporary: {0}")]
    Temporary(String),
    /// 5xx: never try again.
    #[error("permanent: {0}")]
    Permanent(String),
}

/// Something that delivers messages.
#[allow(async_fn_in_trait)]
pub trait Transport {
    /// Delivers one message.
    async fn send(&mut self, env: &Envelope) -> Result<(), SendError>;

    /// After a crash: whether a row left in state `sending` was in fact
    /// delivered. `None` when the transport cannot tell (SMTP); such rows are
    /// never sent again and are shown to admins.
    fn was_delivered(&self, id: i64) -> Option<bool> {
        let _ = id;
        None
    }
}

use crate::store::ts;
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

/// What a drain did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Drained {
    pub sent: usize,
    pub retry: usize,
    pub failed: usize,
}

/// After a crash: rows left `sending` are settled by asking the transport;
/// where it cannot tell, they become `unknown` (never sent again, shown to
/// admins). Returns how many rows were looked at.
pub fn recover(conn: &Connection, transport: &impl Transport) -> Result<usize> {
    let ids: Vec<i64> = conn
        .prepare("SELECT id FROM outbox WHERE state = 'sending'")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for id in &ids {
        let state = match transport.was_delivered(*id) {
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
    }
    Ok(ids.len())
}

/// Sends every queued row that is due, oldest first, until none is left.
/// Each row is marked `sending` durably before it is handed to the transport,
/// and that mark is committed together with the previous row's result, so a
/// row is never handed over twice and a send costs one commit.
pub async fn drain(
    conn: &mut Connection,
    transport: &mut impl Transport,
    now: impl Fn() -> DateTime<Utc>,
    stop: impl Fn() -> bool,
) -> Result<Drained> {
    let mut done = Drained::default();
    let mut previous: Option<(i64, Result<(), SendError>)> = None;
    loop {
        let t = now();
        let tx = conn.transaction()?;
        if let Some((id, result)) = previous.take() {
            record(&tx, id, result, t, &mut done)?;
        }
        let next: Option<Envelope> = if stop() {
            None
        } else {
            tx.query_row(
                "SELECT id, mail_from, recipient, raw FROM outbox
                 WHERE state = 'queued' AND next_attempt_at <= ?1 ORDER BY id LIMIT 1",
                [ts(t)],
                |r| {
                    Ok(Envelope {
                        id: r.get(0)?,
                        from: r.get(1)?,
                        to: vec![r.get(2)?],
                        raw: r.get(3)?,
                    })
                },
            )
            .ok()
        };
        if let Some(env) = &next {
            tx.execute(
                "UPDATE outbox SET state = 'sending' WHERE id = ?1",
                [env.id],
            )?;
        }
        tx.commit()?;
        let Some(env) = next else {
            return Ok(done);
        };
        let result = transport.send(&env).await;
        previous = Some((env.id, result));
    }
}

fn record(
    conn: &Connection,
    id: i64,
    result: Result<(), SendError>,
    now: DateTime<Utc>,
    done: &mut Drained,
) -> Result<()> {
    match result {
        Ok(()) => {
            done.sent += 1;
            conn.execute(
                "UPDATE outbox SET state = 'sent', sent_at = ?2, attempts = attempts + 1,
                     raw = CASE WHEN secret = 1 THEN CAST('(sent; removed because it held a code)' AS BLOB) ELSE raw END
                 WHERE id = ?1",
                params![id, ts(now)],
            )?;
        }
        Err(SendError::Permanent(e)) => {
            done.failed += 1;
            conn.execute(
                "UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ?2 WHERE id = ?1",
                params![id, e],
            )?;
        }
        Err(SendError::Temporary(e)) => {
            let attempts: i64 =
                conn.query_row("SELECT attempts + 1 FROM outbox WHERE id = ?1", [id], |r| {
                    r.get(0)
                })?;
            if attempts >= MAX_ATTEMPTS {
                done.failed += 1;
                conn.execute(
                    "UPDATE outbox SET state = 'failed', attempts = ?2, last_error = ?3 WHERE id = ?1",
                    params![id, attempts, format!("gave up after {attempts} tries: {e}")],
                )?;
            } else {
                done.retry += 1;
                conn.execute(
                    "UPDATE outbox SET state = 'queued', attempts = ?2, last_error = ?3, next_attempt_at = ?4
                     WHERE id = ?1",
                    params![id, attempts, e, ts(now + backoff(attempts))],
                )?;
            }
        }
    }
    Ok(())
}
