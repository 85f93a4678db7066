//! Pending changes (SPEC section 2): recording one, and carrying out or
//! rejecting one an admin decided; registering a peer.

use super::{audit, ts};
use anyhow::{Context as _, Result, bail};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use postbud_commands::plan::{Change, NewPeer, PendingChange};
use rusqlite::{Connection, OptionalExtension, params};

/// Records a change waiting for an admin under `reference`.
pub fn record(
    conn: &Connection,
    reference: &str,
    requested_by: &str,
    message: Option<i64>,
    p: &PendingChange,
    now: DateTime<Utc>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO pending_changes (ref, kind, requested_by, message_id, summary, payload, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        reference,
        p.change.kind(),
        requested_by,
        message,
        p.summary,
        serde_json::to_string(&p.change)?,
        ts(now)
    ])?;
    Ok(())
}

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

/// Approves or rejects pending change `id`. Only a pending change can be
/// decided; deciding twice is refused. An approved change is carried out
/// at once, or, when `scheduled`, waits as scheduled until `on` (SPEC
/// section 11, "Dated changes"; see [`apply_due`]).
#[allow(clippy::too_many_arguments)]
pub fn settle(
    conn: &Connection,
    id: i64,
    approve: bool,
    reason: Option<&str>,
    on: NaiveDate,
    scheduled: bool,
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
    let status = match (approve, scheduled) {
        (false, _) => "rejected",
        (true, true) => "scheduled",
        (true, false) => {
            let change: Change = serde_json::from_str(&payload)
                .with_context(|| format!("pending change {reference} cannot be read"))?;
            carry_out(conn, &change, on, message, now)
                .with_context(|| format!("carrying out {reference}"))?;
            "applied"
        }
    };
    conn.execute(
        "UPDATE pending_changes SET status = ?2, decided_by = ?3, decided_at = ?4, reason = ?5,
             effective_on = ?6 WHERE id = ?1",
        params![
            id,
            status,
            admin,
            ts(now),
            reason,
            approve.then(|| on.to_string())
        ],
    )?;
    audit(
        conn,
        now,
        message,
        admin,
        if approve { "approve" } else { "reject" },
        &kind,
        Some(&reference),
        reason.or(scheduled.then_some("scheduled")),
    )
}

/// Carries out the approved changes whose day has come (`effective_on` on
/// or before `today`), each audited; returns how many.
pub fn apply_due(conn: &Connection, today: NaiveDate, now: DateTime<Utc>) -> Result<usize> {
    let due: Vec<(i64, String, String, String)> = conn
        .prepare_cached(
            "SELECT id, ref, payload, effective_on FROM pending_changes
             WHERE status = 'scheduled' AND effective_on <= ?1 ORDER BY effective_on, id",
        )?
        .query_map([today.to_string()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<Result<_, _>>()?;
    for (id, reference, payload, on) in &due {
        let change: Change = serde_json::from_str(payload)
            .with_context(|| format!("pending change {reference} cannot be read"))?;
        let on = NaiveDate::parse_from_str(on, "%Y-%m-%d").unwrap_or(today);
        carry_out(conn, &change, on, None, now)
            .with_context(|| format!("carrying out {reference}"))?;
        conn.execute(
            "UPDATE pending_changes SET status = 'applied' WHERE id = ?1",
            [id],
        )?;
        audit(
            conn,
            now,
            None,
            "job:dated",
            "apply",
            change.kind(),
            Some(reference),
            Some(&on.to_string()),
        )?;
    }
    Ok(due.len())
}

/// The requester takes back pending change `id` (`ANGRE`): it is undone
/// only while it is still pending.
pub fn undo(
    conn: &Connection,
    id: i64,
    actor: &str,
    message: Option<i64>,
    now: DateTime<Utc>,
) -> Result<()> {
    let (reference, kind): (String, String) = conn
        .query_row(
            "SELECT ref, kind FROM pending_changes WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .with_context(|| format!("no pending change {id}"))?;
    let changed = conn.execute(
        "UPDATE pending_changes SET status = 'undone', decided_by = ?2, decided_at = ?3
         WHERE id = ?1 AND status = 'pending'",
        params![id, actor, ts(now)],
    )?;
    if changed != 1 {
        bail!("{reference} is no longer pending");
    }
    audit(
        conn,
        now,
        message,
        actor,
        "undo",
        &kind,
        Some(&reference),
        None,
    )
}

/// Carries out `change`, taking effect `on`. Changes an employer must hear
/// of (start or stop deducting) are recorded for its next letter.
fn carry_out(
    conn: &Connection,
    change: &Change,
    on: NaiveDate,
    message: Option<i64>,
    now: DateTime<Utc>,
) -> Result<()> {
    let stamp = ts(now);
    match change {
        Change::MemberLeft {
            person_id,
            new_employer_orgnr,
            ..
        } => {
            let new_employer = match new_employer_orgnr.as_deref() {
                Some(named) if !named.trim().is_empty() => {
                    match super::people::employers_named(conn, named)?.as_slice() {
                        [one] => Some(one.id),
                        _ => None,
                    }
                }
                _ => None,
            };
            move_employer(conn, *person_id, new_employer, "left", on, now)?;
            if new_employer_orgnr.is_some() && new_employer.is_none() {
                audit(
                    conn,
                    now,
                    message,
                    "postbud",
                    "unmatched",
                    "employer",
                    Some(&person_id.to_string()),
                    new_employer_orgnr.as_deref(),
                )?;
            }
        }
        Change::DeductedElsewhere {
            person_id,
            employer_id,
            ..
        } => move_employer(conn, *person_id, Some(*employer_id), "moved-away", on, now)?,
        Change::MemberMoved {
            person_id,
            employer_id,
            workplace,
            ..
        } => {
            let workplace = workplace_id(conn, *employer_id, workplace)?;
            conn.execute(
                "UPDATE people SET workplace_id = ?2, updated_at = ?3 WHERE id = ?1",
                params![person_id, workplace, stamp],
            )?;
        }
        Change::WorkplaceNew {
            employer_id,
            workplace,
            midlevel,
            ..
        } => {
            conn.execute(
                "INSERT INTO workplaces (employer_id, name, midlevel) VALUES (?1, ?2, ?3)
                 ON CONFLICT(employer_id, name) DO UPDATE SET open = 1",
                params![employer_id, workplace, midlevel],
            )?;
        }
        Change::WorkplaceRename {
            workplace_id,
            new_name,
            ..
        } => {
            conn.execute(
                "UPDATE workplaces SET name = ?2 WHERE id = ?1",
                params![workplace_id, new_name],
            )?;
        }
        Change::WorkplaceClose { workplace_id, .. } => {
            conn.execute(
                "UPDATE workplaces SET open = 0 WHERE id = ?1",
                [workplace_id],
            )?;
        }
        Change::NewRep(rep) => {
            let from_date = NaiveDate::parse_from_str(&rep.from, "%Y-%m-%d").context("from")?;
            let day_before = (from_date - Duration::days(1)).to_string();
            // A chapter's or region's rep holds the unit, not the employer.
            let employer = (rep.level != "enhet").then_some(rep.employer_id);
            // The outgoing holder of the same office steps down the day before.
            conn.execute(
                "UPDATE roles SET valid_to = ?1 WHERE role = ?2 AND level = ?3 AND employer_id IS ?4
                     AND workplace_id IS ?5 AND unit_id IS ?6 AND midlevel IS ?7
                     AND (valid_to IS NULL OR valid_to = '' OR valid_to >= ?8)",
                params![
                    day_before,
                    rep.role,
                    rep.level,
                    employer,
                    rep.workplace_id,
                    rep.unit_id,
                    rep.midlevel,
                    rep.from
                ],
            )?;
            conn.execute(
                "INSERT INTO roles (email, person_id, role, level, employer_id, workplace_id, unit_id, midlevel, valid_from)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    rep.email,
                    rep.person_id,
                    rep.role,
                    rep.level,
                    employer,
                    rep.workplace_id,
                    rep.unit_id,
                    rep.midlevel,
                    rep.from
                ],
            )?;
        }
        Change::Registration { peer, .. } => {
            register_peer(conn, peer, now)?;
        }
        Change::Employment {
            person_id,
            employer_id,
            workplace,
            position,
            percent,
            permanent,
            ..
        } => {
            let current: Option<i64> = conn.query_row(
                "SELECT employer_id FROM people WHERE id = ?1",
                [person_id],
                |r| r.get(0),
            )?;
            if employer_id.is_some() && *employer_id != current {
                move_employer(conn, *person_id, *employer_id, "moved-away", on, now)?;
            }
            let employer = employer_id.or(current);
            let workplace = match (workplace, employer) {
                (Some(w), Some(e)) => Some(workplace_id(conn, e, w)?),
                _ => None,
            };
            conn.execute(
                "UPDATE people SET workplace_id = COALESCE(?2, workplace_id), position = COALESCE(?3, position),
                     percent = COALESCE(?4, percent), permanent = COALESCE(?5, permanent), updated_at = ?6
                 WHERE id = ?1",
                params![person_id, workplace, position, percent, permanent, stamp],
            )?;
        }
        Change::Resign { person_id, from } => {
            conn.execute(
                "UPDATE people SET status = 'resigned', status_from = ?2, updated_at = ?3 WHERE id = ?1",
                params![person_id, from, stamp],
            )?;
            if let Some(employer) = employer_of(conn, *person_id)? {
                employer_change(conn, employer, *person_id, "stop", "resigned", on, now)?;
            }
        }
        // A PDF list is handled by hand; approving records that it was.
        Change::PdfList { .. } => {}
    }
    Ok(())
}

/// The employer a person is registered at.
fn employer_of(conn: &Connection, person: i64) -> Result<Option<i64>> {
    Ok(conn
        .query_row(
            "SELECT employer_id FROM people WHERE id = ?1",
            [person],
            |r| r.get(0),
        )
        .optional()?
        .flatten())
}

/// A member's employment at their employer ends `on` (`why`: left or
/// moved-away) and, when `to` is known, begins at `to`: the old employer
/// stops deducting and the new one starts, each told in its next letter.
fn move_employer(
    conn: &Connection,
    person: i64,
    to: Option<i64>,
    why: &str,
    on: NaiveDate,
    now: DateTime<Utc>,
) -> Result<()> {
    let from = employer_of(conn, person)?;
    if from.is_some() && from == to {
        return Ok(());
    }
    ended(conn, person, on)?;
    if let Some(old) = from {
        employer_change(conn, old, person, "stop", why, on, now)?;
    }
    if let Some(new) = to {
        employer_change(conn, new, person, "start", "moved-in", on, now)?;
    }
    conn.execute(
        "UPDATE people SET employer_id = ?2, workplace_id = NULL, updated_at = ?3 WHERE id = ?1",
        params![person, to, ts(now)],
    )?;
    Ok(())
}

/// Records that `employer` must start or stop deducting for `person` from
/// `on`, for its next letter. Only members count (a peer pays nothing).
fn employer_change(
    conn: &Connection,
    employer: i64,
    person: i64,
    what: &str,
    why: &str,
    on: NaiveDate,
    now: DateTime<Utc>,
) -> Result<()> {
    conn.execute(
        "INSERT INTO employer_changes (employer_id, person_id, what, why, effective_on, recorded_at)
         SELECT ?1, id, ?3, ?4, ?5, ?6 FROM people WHERE id = ?2 AND member_no IS NOT NULL",
        params![employer, person, what, why, on.to_string(), ts(now)],
    )?;
    Ok(())
}

/// Records that `person`'s employment at their current employer ended `on`.
fn ended(conn: &Connection, person: i64, on: NaiveDate) -> Result<()> {
    conn.execute(
        "INSERT INTO employment_ends (person_id, employer_id, ended_on)
         SELECT id, employer_id, ?2 FROM people WHERE id = ?1 AND employer_id IS NOT NULL
         ON CONFLICT(person_id, employer_id) DO UPDATE SET ended_on = excluded.ended_on",
        params![person, on.to_string()],
    )?;
    Ok(())
}

/// The id of `name` under `employer`, created when missing.
fn workplace_id(conn: &Connection, employer: i64, name: &str) -> Result<i64> {
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
