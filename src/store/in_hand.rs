//! Messages in hand (SPEC section 3, "No poison pills"): marked durably
//! before they are handled, the marks cleared in the same transaction as
//! their effects. A mark still there at the next run means the process died
//! while the message was in hand: it is tried once more, alone, and after a
//! second death quarantined unread.

use super::ts;
use anyhow::Result;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;

/// The attempts recorded for each of `hashes` that has a mark.
pub fn strikes(conn: &Connection, hashes: &[String]) -> Result<HashMap<String, i64>> {
    let mut out = HashMap::new();
    let mut stmt = conn.prepare_cached("SELECT attempts FROM in_hand WHERE hash = ?1")?;
    for h in hashes {
        if let Some(n) = stmt.query_row([h], |r| r.get::<_, i64>(0)).optional()? {
            out.insert(h.clone(), n);
        }
    }
    Ok(out)
}

/// Marks `hashes` as in hand for the `attempt`th time, in a transaction of
/// its own, committed (durably) before the messages are touched.
pub fn mark(
    conn: &mut Connection,
    hashes: &[String],
    attempt: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    let tx = conn.transaction()?;
    {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO in_hand (hash, attempts, first_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(hash) DO UPDATE SET attempts = excluded.attempts",
        )?;
        for h in hashes {
            stmt.execute(params![h, attempt, ts(now)])?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// Clears the marks of `hashes` (in the caller's transaction).
pub fn clear(conn: &Connection, hashes: &[String]) -> Result<()> {
    let mut stmt = conn.prepare_cached("DELETE FROM in_hand WHERE hash = ?1")?;
    for h in hashes {
        stmt.execute([h])?;
    }
    Ok(())
}
