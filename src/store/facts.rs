//! Snapshots for `decide`: what the register knows about a sender, read in the
//! message's transaction.

use crate::commands::{Facts, Person, Settings};
use crate::config::Language;
use anyhow::Result;
use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension, params};

/// Reads the facts about `sender` (lower-cased) as of `now`.
pub fn sender(
    conn: &Connection,
    sender: &str,
    admins: &[String],
    s: &Settings,
    now: DateTime<Utc>,
) -> Result<Facts> {
    let hour_ago = super::ts(now - Duration::hours(1));
    let person = conn
        .query_row(
            "SELECT p.id, p.name, p.language FROM addresses a JOIN people p ON p.id = a.person_id
             WHERE a.email = ?1",
            [sender],
            |r| {
                Ok(Person {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    language: r
                        .get::<_, Option<String>>(2)?
                        .as_deref()
                        .and_then(Language::parse),
                })
            },
        )
        .optional()?;
    let today = now
        .with_timezone(&s.timezone)
        .format("%Y-%m-%d")
        .to_string();
    let day = today.as_str();
    let count = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> Result<i64> {
        Ok(conn.query_row(sql, p, |r| r.get(0))?)
    };
    let today_date = now.date_naive().to_string();
    Ok(Facts {
        sender: sender.to_string(),
        person,
        is_admin: admins.iter().any(|a| a.eq_ignore_ascii_case(sender)),
        is_rep: count(
            "SELECT COUNT(*) FROM roles WHERE email = ?1
             AND (valid_to IS NULL OR valid_to = '' OR valid_to >= ?2)",
            params![sender, today_date],
        )? > 0,
        is_contact: count(
            "SELECT COUNT(*) FROM contacts WHERE email = ?1 AND active = 1",
            params![sender],
        )? > 0,
        replies_last_hour: count(
            "SELECT COUNT(*) FROM outbox WHERE recipient = ?1 AND created_at >= ?2",
            params![sender, hour_ago],
        )?,
        codes_last_hour: count(
            "SELECT COUNT(*) FROM codes WHERE email = ?1 AND purpose = 'login' AND created_at >= ?2",
            params![sender, hour_ago],
        )?,
        neutral_today: count(
            "SELECT COUNT(*) FROM neutral_replies WHERE email = ?1 AND day = ?2",
            params![sender, day],
        )? > 0,
    })
}
