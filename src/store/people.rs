//! A person as members see and change themselves (SPEC section 5,
//! "Members"): their details and addresses, their reps, everything held on
//! them (`MINE DATA`, `postbud person`), and the changes they make at once
//! (contact fields, linking and removing an address).

use super::{audit, ts};
use anyhow::{Result, bail};
use chrono::{DateTime, NaiveDate, Utc};
use postbud_commands::plan::FieldChange;
use postbud_commands::register::{
    AddressRow, EmployerRef, PendingRow, PersonData, PersonDetail, RepBrief, WorkplaceBrief,
};
use postbud_commands::words::name_key;
use rusqlite::{Connection, OptionalExtension, params};

/// One person with their employment and addresses.
pub fn detail(conn: &Connection, id: i64) -> Result<Option<PersonDetail>> {
    let person = conn
        .prepare_cached(
            "SELECT p.id, p.member_no, p.name, p.birth_date, p.national_id, p.phone, p.address,
                    p.postcode, p.city, p.language, p.employer_id, e.name, e.orgnr, p.workplace_id,
                    w.name, w.midlevel, p.position, p.percent, p.permanent, p.unit_id, u.name,
                    p.status, p.status_from
             FROM people p LEFT JOIN employers e ON e.id = p.employer_id
                 LEFT JOIN workplaces w ON w.id = p.workplace_id LEFT JOIN units u ON u.id = p.unit_id
             WHERE p.id = ?1",
        )?
        .query_row([id], |r| {
            Ok(PersonDetail {
                id: r.get(0)?,
                member_no: r.get(1)?,
                name: r.get(2)?,
                birth_date: r.get(3)?,
                national_id: r.get(4)?,
                phone: r.get(5)?,
                address: r.get(6)?,
                postcode: r.get(7)?,
                city: r.get(8)?,
                language: r.get(9)?,
                employer_id: r.get(10)?,
                employer: r.get(11)?,
                orgnr: r.get(12)?,
                workplace_id: r.get(13)?,
                workplace: r.get(14)?,
                midlevel: r.get(15)?,
                position: r.get(16)?,
                percent: r.get(17)?,
                permanent: r.get(18)?,
                unit_id: r.get(19)?,
                unit: r.get(20)?,
                status: r.get(21)?,
                status_from: r.get(22)?,
                addresses: Vec::new(),
            })
        })
        .optional()?;
    let Some(mut person) = person else {
        return Ok(None);
    };
    person.addresses = conn
        .prepare_cached(
            "SELECT email, verified, added_at FROM addresses WHERE person_id = ?1 ORDER BY id",
        )?
        .query_map([id], |r| {
            Ok(AddressRow {
                email: r.get(0)?,
                verified: r.get(1)?,
                added_at: r.get(2)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(Some(person))
}

/// The person `email` belongs to.
pub fn owner(conn: &Connection, email: &str) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT person_id FROM addresses WHERE email = ?1")?
        .query_row([email], |r| r.get(0))
        .optional()?)
}

/// The person an office's `postbud person` names: an address or a member
/// number.
pub fn find(conn: &Connection, who: &str) -> Result<Option<i64>> {
    let who = who.trim();
    if who.contains('@') {
        return owner(conn, &postbud_core::message::address_key(who));
    }
    Ok(conn
        .prepare_cached("SELECT id FROM people WHERE member_no = ?1")?
        .query_row([who], |r| r.get(0))
        .optional()?)
}

/// Employers whose organisation number or name is `named`.
pub fn employers_named(conn: &Connection, named: &str) -> Result<Vec<EmployerRef>> {
    let digits: String = named.chars().filter(char::is_ascii_digit).collect();
    let mut stmt = conn
        .prepare_cached("SELECT id, orgnr, name FROM employers WHERE ?1 IS NULL OR orgnr = ?1")?;
    let by_number = digits.len() == 9;
    let all: Vec<EmployerRef> = stmt
        .query_map([by_number.then_some(&digits)], |r| {
            Ok(EmployerRef {
                id: r.get(0)?,
                orgnr: r.get(1)?,
                name: r.get(2)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    if by_number {
        return Ok(all);
    }
    // Names compared as keys; there are hundreds of employers, not millions.
    let key = name_key(named);
    Ok(all
        .into_iter()
        .filter(|e| name_key(&e.name) == key)
        .collect())
}

/// The workplaces of `employer`.
pub fn workplaces(conn: &Connection, employer: i64) -> Result<Vec<WorkplaceBrief>> {
    Ok(conn
        .prepare_cached(
            "SELECT w.id, w.employer_id, e.name, e.orgnr, w.name, w.midlevel, w.open
             FROM workplaces w JOIN employers e ON e.id = w.employer_id
             WHERE w.employer_id = ?1 ORDER BY w.name",
        )?
        .query_map([employer], |r| {
            Ok(WorkplaceBrief {
                id: r.get(0)?,
                employer_id: r.get(1)?,
                employer: r.get(2)?,
                orgnr: r.get(3)?,
                name: r.get(4)?,
                midlevel: r.get(5)?,
                open: r.get(6)?,
            })
        })?
        .collect::<Result<_, _>>()?)
}

/// The reps and deputies (and coordinators of the chapter) on `today` at
/// the person's employer, mid-level, workplace and chapter.
pub fn reps_of(conn: &Connection, p: &PersonDetail, today: NaiveDate) -> Result<Vec<RepBrief>> {
    Ok(conn
        .prepare_cached(
            "SELECT COALESCE(pp.name, c.name), r.email, COALESCE(pp.phone, c.phone), r.role, r.level,
                    CASE r.level WHEN 'arbeidsgiver' THEN e.name WHEN 'mellomniva' THEN r.midlevel
                                 WHEN 'arbeidssted' THEN w.name ELSE u.name END
             FROM roles r
                 LEFT JOIN addresses a ON a.email = r.email
                 LEFT JOIN people pp ON pp.id = COALESCE(r.person_id, a.person_id)
                 LEFT JOIN (SELECT email, MIN(name) AS name, MIN(phone) AS phone FROM contacts GROUP BY email) c
                     ON c.email = r.email
                 LEFT JOIN employers e ON e.id = r.employer_id
                 LEFT JOIN workplaces w ON w.id = r.workplace_id
                 LEFT JOIN units u ON u.id = r.unit_id
             WHERE r.role IN ('tillitsvalgt', 'vara', 'koordinator')
               AND (r.valid_from IS NULL OR r.valid_from <= ?5)
               AND (r.valid_to IS NULL OR r.valid_to = '' OR r.valid_to >= ?5)
               AND ((r.level = 'arbeidsgiver' AND r.employer_id = ?1)
                 OR (r.level = 'mellomniva' AND r.employer_id = ?1 AND r.midlevel = ?3)
                 OR (r.level = 'arbeidssted' AND r.workplace_id = ?2)
                 OR (r.level = 'enhet' AND r.unit_id = ?4))
             ORDER BY CASE r.level WHEN 'arbeidssted' THEN 1 WHEN 'mellomniva' THEN 2
                                   WHEN 'arbeidsgiver' THEN 3 ELSE 4 END,
                      CASE r.role WHEN 'tillitsvalgt' THEN 1 WHEN 'vara' THEN 2 ELSE 3 END, r.email",
        )?
        .query_map(
            params![
                p.employer_id,
                p.workplace_id,
                p.midlevel,
                p.unit_id,
                today.to_string()
            ],
            |r| {
                Ok(RepBrief {
                    name: r.get(0)?,
                    email: r.get(1)?,
                    phone: r.get(2)?,
                    role: r.get(3)?,
                    level: r.get(4)?,
                    at: r.get::<_, Option<String>>(5)?.unwrap_or_default(),
                })
            },
        )?
        .collect::<Result<_, _>>()?)
}

/// Changes asked for from any of the person's addresses, newest first.
pub fn pending_of(conn: &Connection, person: i64) -> Result<Vec<PendingRow>> {
    Ok(conn
        .prepare_cached(
            "SELECT pc.ref, pc.kind, pc.summary, pc.status, pc.created_at, pc.decided_at
             FROM pending_changes pc JOIN addresses a ON a.email = pc.requested_by
             WHERE a.person_id = ?1 ORDER BY pc.id DESC",
        )?
        .query_map([person], |r| {
            Ok(PendingRow {
                reference: r.get(0)?,
                kind: r.get(1)?,
                summary: r.get(2)?,
                status: r.get(3)?,
                created_at: r.get(4)?,
                decided_at: r.get(5)?,
            })
        })?
        .collect::<Result<_, _>>()?)
}

/// Rows of text from `sql` with one parameter set.
fn text_rows<P: rusqlite::Params>(conn: &Connection, sql: &str, p: P) -> Result<Vec<Vec<String>>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let n = stmt.column_count();
    let rows = stmt
        .query_map(p, |r| {
            (0..n)
                .map(|i| {
                    Ok(match r.get_ref(i)? {
                        rusqlite::types::ValueRef::Null => String::new(),
                        rusqlite::types::ValueRef::Integer(v) => v.to_string(),
                        rusqlite::types::ValueRef::Real(v) => v.to_string(),
                        rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                            String::from_utf8_lossy(t).into_owned()
                        }
                    })
                })
                .collect()
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Everything else held on a person: roles, peer activity, pending changes,
/// tickets, messages and replies since `since`, employer-contact roles.
pub fn data(conn: &Connection, person: i64, since: DateTime<Utc>) -> Result<PersonData> {
    let since = ts(since);
    // Every address the person has: messages and roles are by address.
    let mine = "(SELECT email FROM addresses WHERE person_id = ?1)";
    Ok(PersonData {
        roles: text_rows(
            conn,
            &format!(
                "SELECT r.role, r.level,
                        COALESCE(CASE r.level WHEN 'arbeidsgiver' THEN e.name WHEN 'mellomniva' THEN r.midlevel
                                     WHEN 'arbeidssted' THEN w.name ELSE u.name END, ''),
                        COALESCE(r.valid_from, ''), COALESCE(r.valid_to, '')
                 FROM roles r LEFT JOIN employers e ON e.id = r.employer_id
                     LEFT JOIN workplaces w ON w.id = r.workplace_id LEFT JOIN units u ON u.id = r.unit_id
                 WHERE r.person_id = ?1 OR r.email IN {mine} ORDER BY r.id"
            ),
            [person],
        )?,
        peer: text_rows(
            conn,
            "SELECT pe.peer_no, u.name, pe.registered_at,
                    COALESCE((SELECT group_concat(year, ', ') FROM
                        (SELECT year FROM peer_activity WHERE peer_id = pe.id ORDER BY year)), '')
             FROM peers pe JOIN units u ON u.id = pe.unit_id WHERE pe.person_id = ?1",
            [person],
        )?,
        pending: pending_of(conn, person)?,
        tickets: text_rows(
            conn,
            &format!(
                "SELECT ref, subject, status, created_at FROM tickets
                 WHERE sender IN {mine} ORDER BY id"
            ),
            [person],
        )?,
        messages: text_rows(
            conn,
            &format!(
                "SELECT received_at, sender, COALESCE(subject, ''), COALESCE(kind, ''),
                        COALESCE(result, outcome), COALESCE(ref, '')
                 FROM messages WHERE sender IN {mine} AND received_at >= ?2 ORDER BY id"
            ),
            params![person, since],
        )?,
        replies: text_rows(
            conn,
            &format!(
                "SELECT created_at, recipient, subject, kind, state FROM outbox
                 WHERE recipient IN {mine} AND created_at >= ?2 ORDER BY id"
            ),
            params![person, since],
        )?,
        contact_for: text_rows(
            conn,
            &format!(
                "SELECT e.name || ' (' || e.orgnr || ')', c.duties, COALESCE(c.declaration, ''),
                        CASE c.active WHEN 1 THEN 'ja' ELSE 'nei' END
                 FROM contacts c JOIN employers e ON e.id = c.employer_id
                 WHERE c.email IN {mine} ORDER BY e.name"
            ),
            [person],
        )?,
    })
}

/// The columns a member may change at once, and nothing else.
const CONTACT_COLUMNS: [&str; 5] = ["phone", "address", "postcode", "city", "language"];

/// Changes a person's contact fields, each audited with before and after.
pub fn update(
    conn: &Connection,
    person: i64,
    changes: &[FieldChange],
    row: Option<i64>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    for c in changes {
        let Some(column) = CONTACT_COLUMNS.iter().find(|col| **col == c.column) else {
            bail!("{} is not a field a member changes", c.column);
        };
        conn.execute(
            &format!("UPDATE people SET {column} = ?2, updated_at = ?3 WHERE id = ?1"),
            params![person, c.after, ts(now)],
        )?;
        audit(
            conn,
            now,
            row,
            actor,
            "update",
            "person",
            Some(&person.to_string()),
            Some(&format!(
                "{column}: {} -> {}",
                c.before.as_deref().unwrap_or(""),
                c.after
            )),
        )?;
    }
    Ok(())
}

/// Links `email` to `person`, verified (its owner answered the code). An
/// address that is someone else's by now is left alone.
pub fn link(
    conn: &Connection,
    person: i64,
    email: &str,
    row: Option<i64>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let added = conn
        .prepare_cached(
            "INSERT INTO addresses (person_id, email, verified, added_at) VALUES (?1, ?2, 1, ?3)
             ON CONFLICT(email) DO NOTHING",
        )?
        .execute(params![person, email, ts(now)])?;
    if added == 1 {
        audit(
            conn,
            now,
            row,
            actor,
            "link",
            "address",
            Some(email),
            Some(&person.to_string()),
        )?;
    }
    Ok(())
}

/// Removes `email` from `person`, unless it is their last address.
pub fn unlink(
    conn: &Connection,
    person: i64,
    email: &str,
    row: Option<i64>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let removed = conn
        .prepare_cached(
            "DELETE FROM addresses WHERE person_id = ?1 AND email = ?2
                 AND (SELECT COUNT(*) FROM addresses WHERE person_id = ?1) > 1",
        )?
        .execute(params![person, email])?;
    if removed == 1 {
        audit(
            conn,
            now,
            row,
            actor,
            "unlink",
            "address",
            Some(email),
            Some(&person.to_string()),
        )?;
    }
    Ok(())
}
