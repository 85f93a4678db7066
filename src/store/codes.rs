//! One-time codes as stored: hashed, with their tries and use.

use super::ts;
use anyhow::Result;
use chrono::{DateTime, Utc};
use postbud_commands::plan::CodePurpose;
use rusqlite::{Connection, params};

/// Stores a hashed code; `message` is the row a confirmation carries out.
#[allow(clippy::too_many_arguments)]
pub fn issue(
    conn: &Connection,
    email: &str,
    purpose: &str,
    salt: &str,
    hash: &str,
    expires_at: DateTime<Utc>,
    message: Option<i64>,
    now: DateTime<Utc>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO codes (email, purpose, salt, hash, created_at, expires_at, payload)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        email,
        purpose,
        salt,
        hash,
        ts(now),
        ts(expires_at),
        message.map(|m| m.to_string())
    ])?;
    Ok(())
}

/// Uses up code `id`.
pub fn used(conn: &Connection, id: i64, now: DateTime<Utc>) -> Result<()> {
    conn.prepare_cached("UPDATE codes SET used_at = ?2 WHERE id = ?1")?
        .execute(params![id, ts(now)])?;
    Ok(())
}

/// Counts a wrong try against code `id`.
pub fn tried(conn: &Connection, id: i64) -> Result<()> {
    conn.prepare_cached("UPDATE codes SET tries = tries + 1 WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// Records a wrong confirmation guess from `email`; with `kill`, every live
/// code for it that the same word answers (`purpose` and its kin) dies
/// (expires now).
pub fn wrong_guess(
    conn: &Connection,
    email: &str,
    purpose: CodePurpose,
    kill: bool,
    now: DateTime<Utc>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO code_failures (email, purpose, at, locked) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![email, purpose.as_str(), ts(now), kill])?;
    if kill {
        for p in purpose.kin() {
            conn.prepare_cached(
                "UPDATE codes SET expires_at = ?3 WHERE email = ?1 AND purpose = ?2
                     AND used_at IS NULL AND expires_at > ?3",
            )?
            .execute(params![email, p.as_str(), ts(now)])?;
        }
    }
    Ok(())
}
