//! Messages in hand (SPEC section 3, "No poison pills"): marked durably
//! before they are handled, the marks cleared in the same transaction as
//! their effects. A mark still there at the next run means the process died
//! while the message was in hand: it is tried once more, alone, and after a
//! second death quarantined unread. A cleared mark stays as "done"
//! (attempts 0): the same bytes fetched again (the process died before
//! moving them) were handled safely once, so they are never marked or
//! struck again, and a death beside them is not counted against them.

use super::ts;
use anyhow::Result;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;

/// The attempts recorded for each of `hashes` that has a live mark.
pub fn strikes(conn: &Connection, hashes: &[String]) -> Result<HashMap<String, i64>> {
    let mut out = HashMap::new();
    let mut stmt =
        conn.prepare_cached("SELECT attempts FROM in_hand WHERE hash = ?1 AND attempts > 0")?;
    for h in hashes {
        if let Some(n) = stmt.query_row([h], |r| r.get::<_, i64>(0)).optional()? {
            out.insert(h.clone(), n);
        }
    }
    Ok(out)
}

/// Marks `hashes` as in hand for the `attempt`th time, in a transaction of
/// its own, committed (durably) before the messages are touched. Bytes
/// handled once already (a done mark) are not marked again.
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
             ON CONFLICT(hash) DO UPDATE SET attempts = excluded.attempts WHERE in_hand.attempts > 0",
        )?;
        for h in hashes {
            stmt.execute(params![h, attempt, ts(now)])?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// Clears the marks of `hashes` (in the caller's transaction): they are
/// done.
pub fn clear(conn: &Connection, hashes: &[String]) -> Result<()> {
    let mut stmt = conn.prepare_cached("UPDATE in_hand SET attempts = 0 WHERE hash = ?1")?;
    for h in hashes {
        stmt.execute([h])?;
    }
    Ok(())
}
