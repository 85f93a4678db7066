//! Snapshots for `decide`: what the register knows about a sender, read in the
//! message's transaction.

use crate::commands::{Facts, Person, Settings};
use crate::config::Language;
use anyhow::Result;
use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, params};

/// Reads the facts about `sender` (lower-cased) as of `now`, in one query.
pub fn sender(
    conn: &Connection,
    sender: &str,
    admins: &[String],
    s: &Settings,
    now: DateTime<Utc>,
) -> Result<Facts> {
    let hour_ago = super::ts(now - Duration::hours(1));
    let today = now
        .with_timezone(&s.timezone)
        .format("%Y-%m-%d")
        .to_string();
    let mut stmt = conn.prepare_cached(
        "SELECT p.id, p.name, p.language,
            EXISTS (SELECT 1 FROM roles WHERE email = ?1
                    AND (valid_to IS NULL OR valid_to = '' OR valid_to >= ?3)),
            EXISTS (SELECT 1 FROM contacts WHERE email = ?1 AND active = 1),
            (SELECT COUNT(*) FROM outbox WHERE recipient = ?1 AND created_at >= ?2),
            (SELECT COUNT(*) FROM codes WHERE email = ?1 AND purpose = 'login' AND created_at >= ?2),
            EXISTS (SELECT 1 FROM neutral_replies WHERE email = ?1 AND day = ?4)
         FROM (SELECT 1) LEFT JOIN addresses a ON a.email = ?1 LEFT JOIN people p ON p.id = a.person_id",
    )?;
    let facts = stmt.query_row(
        params![sender, hour_ago, now.date_naive().to_string(), today],
        |r| {
            let person = match r.get::<_, Option<i64>>(0)? {
                Some(id) => Some(Person {
                    id,
                    name: r.get(1)?,
                    language: r
                        .get::<_, Option<String>>(2)?
                        .as_deref()
                        .and_then(Language::parse),
                }),
                None => None,
            };
            Ok(Facts {
                sender: sender.to_string(),
                person,
                is_admin: admins.iter().any(|a| a.eq_ignore_ascii_case(sender)),
                is_rep: r.get(3)?,
                is_contact: r.get(4)?,
                replies_last_hour: r.get(5)?,
                codes_last_hour: r.get(6)?,
                neutral_today: r.get(7)?,
            })
        },
    )?;
    Ok(facts)
}
