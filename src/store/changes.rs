//! Register changes that reps ask for and admins approve (SPEC section 5):
//! carrying out an approved pending change, and registering a peer.

use super::{audit, ts};
use crate::plan::NewPeer;
use anyhow::{Context as _, Result, bail};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

/// Registers a peer: a person with the address (an existing one when the
/// address is known), and a peer number `LP-NNNN`. Returns the peer number.
pub fn register_peer(conn: &Connection, p: &NewPeer, now: DateTime<Utc>) -> Result<String> {
    let stamp = ts(now);
    let person =
        super::import::person_for(conn, Some(&p.email), &p.name, p.phone.as_deref(), &stamp)?;
    if let Some(b) = &p.birth_date {
        conn.execute(
            "UPDATE people SET birth_date = COALESCE(birth_date, ?2) WHERE id = ?1",
            params![person, b],
        )?;
    }
    let last: Option<i64> = conn
        .query_row(
            "SELECT MAX(CAST(substr(peer_no, 4) AS INTEGER)) FROM peers WHERE peer_no LIKE 'LP-%'",
            [],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    let peer_no = format!("LP-{:04}", last.unwrap_or(0) + 1);
    conn.execute(
        "INSERT INTO peers (peer_no, person_id, unit_id, form_id, registered_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![peer_no, person, p.unit_id, p.form_id, stamp],
    )?;
    Ok(peer_no)
}

fn str_of<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn int_of(v: &Value, k: &str) -> Option<i64> {
    v.get(k).and_then(Value::as_i64)
}

/// Approves (carries out) or rejects pending change `id`. Only a pending
/// change can be decided; deciding twice is refused.
pub fn decide(
    conn: &Connection,
    id: i64,
    approve: bool,
    reason: Option<&str>,
    admin: &str,
    message: Option<i64>,
    now: DateTime<Utc>,
) -> Result<()> {
    let (reference, kind, status, payload): (String, String, String, String) = conn
        .query_row(
            "SELECT ref, kind, status, payload FROM pending_changes WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .with_context(|| format!("no pending change {id}"))?;
    if status != "pending" {
        bail!("{reference} is {status} already");
    }
    let payload: Value = serde_json::from_str(&payload).context("pending change payload")?;
    if approve {
        carry_out(conn, &kind, &payload, now)
            .with_context(|| format!("carrying out {reference}"))?;
    }
    conn.execute(
        "UPDATE pending_changes SET status = ?2, decided_by = ?3, decided_at = ?4, reason = ?5 WHERE id = ?1",
        params![id, if approve { "applied" } else { "rejected" }, admin, ts(now), reason],
    )?;
    audit(
        conn,
        now,
        message,
        admin,
        if approve { "approve" } else { "reject" },
        &kind,
        Some(&reference),
        reason,
    )
}

fn carry_out(conn: &Connection, kind: &str, p: &Value, now: DateTime<Utc>) -> Result<()> {
    let stamp = ts(now);
    match kind {
        "member-left" => {
            let person = int_of(p, "person_id").context("person_id")?;
            let new_employer: Option<i64> = match str_of(p, "new_employer_orgnr") {
                Some(o) => conn
                    .query_row("SELECT id FROM employers WHERE orgnr = ?1", [o], |r| {
                        r.get(0)
                    })
                    .optional()?,
                None => None,
            };
            conn.execute(
                "UPDATE people SET employer_id = ?2, workplace_id = NULL, updated_at = ?3 WHERE id = ?1",
                params![person, new_employer, stamp],
            )?;
        }
        "member-moved" => {
            let person = int_of(p, "person_id").context("person_id")?;
            let employer = int_of(p, "employer_id").context("employer_id")?;
            let workplace =
                workplace(conn, employer, str_of(p, "workplace").context("workplace")?)?;
            conn.execute(
                "UPDATE people SET workplace_id = ?2, updated_at = ?3 WHERE id = ?1",
                params![person, workplace, stamp],
            )?;
        }
        "workplace-new" => {
            let employer = int_of(p, "employer_id").context("employer_id")?;
            let name = str_of(p, "workplace").context("workplace")?;
            conn.execute(
                "INSERT INTO workplaces (employer_id, name, midlevel) VALUES (?1, ?2, ?3)
                 ON CONFLICT(employer_id, name) DO UPDATE SET open = 1",
                params![employer, name, str_of(p, "midlevel")],
            )?;
        }
        "workplace-rename" => {
            let id = int_of(p, "workplace_id").context("workplace_id")?;
            conn.execute(
                "UPDATE workplaces SET name = ?2 WHERE id = ?1",
                params![id, str_of(p, "new_name").context("new_name")?],
            )?;
        }
        "workplace-close" => {
            let id = int_of(p, "workplace_id").context("workplace_id")?;
            conn.execute("UPDATE workplaces SET open = 0 WHERE id = ?1", [id])?;
        }
        "new-rep" => {
            let from = str_of(p, "from").context("from")?;
            let from_date = NaiveDate::parse_from_str(from, "%Y-%m-%d").context("from")?;
            let day_before = (from_date - Duration::days(1)).to_string();
            let (role, level) = (
                str_of(p, "role").context("role")?,
                str_of(p, "level").context("level")?,
            );
            let (employer, workplace_id, unit, midlevel) = (
                int_of(p, "employer_id"),
                int_of(p, "workplace_id"),
                int_of(p, "unit_id"),
                str_of(p, "midlevel"),
            );
            // The outgoing holder of the same office steps down the day before.
            conn.execute(
                "UPDATE roles SET valid_to = ?1 WHERE role = ?2 AND level = ?3 AND employer_id IS ?4
                     AND workplace_id IS ?5 AND unit_id IS ?6 AND midlevel IS ?7
                     AND (valid_to IS NULL OR valid_to = '' OR valid_to >= ?8)",
                params![day_before, role, level, employer, workplace_id, unit, midlevel, from],
            )?;
            conn.execute(
                "INSERT INTO roles (email, person_id, role, level, employer_id, workplace_id, unit_id, midlevel, valid_from)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    str_of(p, "email").context("email")?,
                    int_of(p, "person_id"),
                    role,
                    level,
                    employer,
                    workplace_id,
                    unit,
                    midlevel,
                    from
                ],
            )?;
        }
        "registration" => {
            let peer: NewPeer = serde_json::from_value(p.get("peer").cloned().context("peer")?)?;
            register_peer(conn, &peer, now)?;
        }
        // A PDF list is handled by hand; approving records that it was.
        "pdf-list" => {}
        other => bail!("unknown kind of change `{other}`"),
    }
    Ok(())
}

/// The id of `name` under `employer`, created when missing.
fn workplace(conn: &Connection, employer: i64, name: &str) -> Result<i64> {
    conn.execute(
        "INSERT OR IGNORE INTO workplaces (employer_id, name) VALUES (?1, ?2)",
        params![employer, name],
    )?;
    Ok(conn.query_row(
        "SELECT id FROM workplaces WHERE employer_id = ?1 AND name = ?2",
        params![employer, name],
        |r| r.get(0),
    )?)
}
