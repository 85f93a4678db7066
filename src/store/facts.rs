//! What the register knows about a sender ([`Facts`]), read in the
//! message's transaction before deciding.

use anyhow::Result;
use chrono::{DateTime, Duration, Utc};
use postbud_commands::facts::{EmployerBrief, Facts, Language, Person, Scope, Settings};
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
    let today = s.today(now).to_string();
    let mut stmt = conn.prepare_cached(
        "SELECT p.id, p.name, p.language,
            EXISTS (SELECT 1 FROM roles WHERE email = ?1 AND role <> 'admin'
                    AND (valid_from IS NULL OR valid_from <= ?3)
                    AND (valid_to IS NULL OR valid_to = '' OR valid_to >= ?3)),
            EXISTS (SELECT 1 FROM contacts WHERE email = ?1 AND active = 1),
            (SELECT COUNT(*) FROM outbox WHERE recipient = ?1 AND created_at >= ?2),
            (SELECT COUNT(*) FROM codes WHERE email = ?1 AND purpose = 'login' AND created_at >= ?2),
            EXISTS (SELECT 1 FROM neutral_replies WHERE email = ?1 AND day = ?4),
            EXISTS (SELECT 1 FROM roles WHERE email = ?1 AND role = 'admin'
                    AND (valid_from IS NULL OR valid_from <= ?3)
                    AND (valid_to IS NULL OR valid_to = '' OR valid_to >= ?3)),
            p.member_no IS NOT NULL
         FROM (SELECT 1) LEFT JOIN addresses a ON a.email = ?1 LEFT JOIN people p ON p.id = a.person_id",
    )?;
    let date = today.clone();
    let mut facts = stmt.query_row(params![sender, hour_ago, date, today], |r| {
        let person = match r.get::<_, Option<i64>>(0)? {
            Some(id) => Some(Person {
                id,
                name: r.get(1)?,
                language: r
                    .get::<_, Option<String>>(2)?
                    .as_deref()
                    .and_then(Language::parse),
                member: r.get(9)?,
            }),
            None => None,
        };
        Ok(Facts {
            sender: sender.to_string(),
            person,
            is_admin: admins.iter().any(|a| a.eq_ignore_ascii_case(sender)) || r.get(8)?,
            is_rep: r.get(3)?,
            is_contact: r.get(4)?,
            replies_last_hour: r.get(5)?,
            codes_last_hour: r.get(6)?,
            neutral_today: r.get(7)?,
            verified: false,
            scope: Scope::default(),
            employers: Vec::new(),
        })
    })?;
    if facts.is_contact {
        facts.employers = conn
            .prepare_cached(
                "SELECT e.id, e.orgnr, e.name, c.declaration FROM contacts c JOIN employers e ON e.id = c.employer_id
                 WHERE c.email = ?1 AND c.active = 1 ORDER BY e.name",
            )?
            .query_map([sender], |r| {
                Ok(EmployerBrief {
                    id: r.get(0)?,
                    orgnr: r.get(1)?,
                    name: r.get(2)?,
                    declared: r.get(3)?,
                })
            })?
            .collect::<Result<_, _>>()?;
    }
    if facts.is_rep || has_grants(conn, sender, &date)? {
        facts.scope = scope(conn, sender, &date)?;
    }
    Ok(facts)
}

fn has_grants(conn: &Connection, sender: &str, date: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM grants WHERE email = ?1
                 AND (valid_from IS NULL OR valid_from <= ?2) AND (valid_to IS NULL OR valid_to >= ?2))",
        )?
        .query_row(params![sender, date], |r| r.get(0))?)
}

/// A rep's scope on `date`: the units of their roles and grants with every
/// unit below them, and the employers, workplaces and mid-levels of their
/// roles and grants.
pub fn scope(conn: &Connection, email: &str, date: &str) -> Result<Scope> {
    let ids = |sql: &str| -> Result<Vec<i64>> {
        let mut v: Vec<i64> = conn
            .prepare_cached(sql)?
            .query_map(params![email, date], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        v.sort();
        v.dedup();
        Ok(v)
    };
    const CURRENT: &str = "(valid_from IS NULL OR valid_from <= ?2) AND (valid_to IS NULL OR valid_to = '' OR valid_to >= ?2)";
    let units = ids(&format!(
        "WITH RECURSIVE inside(id) AS (
             SELECT unit_id FROM roles WHERE email = ?1 AND role <> 'admin' AND level = 'enhet'
                 AND unit_id IS NOT NULL AND {CURRENT}
             UNION SELECT unit_id FROM grants WHERE email = ?1 AND unit_id IS NOT NULL AND {CURRENT}
             UNION SELECT u.id FROM units u JOIN inside ON u.parent_id = inside.id)
         SELECT id FROM inside"
    ))?;
    let employers = ids(&format!(
        "SELECT employer_id FROM roles WHERE email = ?1 AND role <> 'admin' AND level = 'arbeidsgiver'
             AND employer_id IS NOT NULL AND {CURRENT}
         UNION SELECT employer_id FROM grants WHERE email = ?1 AND employer_id IS NOT NULL AND {CURRENT}"
    ))?;
    let workplaces = ids(&format!(
        "SELECT workplace_id FROM roles WHERE email = ?1 AND role <> 'admin' AND level = 'arbeidssted'
             AND workplace_id IS NOT NULL AND {CURRENT}"
    ))?;
    let midlevels = conn
        .prepare_cached(&format!(
            "SELECT employer_id, midlevel FROM roles WHERE email = ?1 AND role <> 'admin'
                 AND level = 'mellomniva' AND employer_id IS NOT NULL AND midlevel IS NOT NULL AND {CURRENT}"
        ))?
        .query_map(params![email, date], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(Scope {
        units,
        employers,
        workplaces,
        midlevels,
    })
}
