//! What the scheduled jobs read and write (SPEC section 11): each job's
//! last slot and the items done for a slot, the letters to employers and
//! the changes they tell, reminders, the digest's recipients, retention.

use super::{audit, ts};
use anyhow::{Context as _, Result};
use chrono::{DateTime, NaiveDate, Utc};
use postbud_commands::facts::Language;
use postbud_commands::plan::{DeductionLetter, DeductionLine};
use postbud_commands::register::{LetterDue, LetterRow, PersonRef, ReminderDue, RetentionCounts};
use rusqlite::{Connection, OptionalExtension, params};

/// The slot `job` last ran for (local time, `2026-12-01T07:00:00`).
pub fn last_slot(conn: &Connection, job: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT last_slot FROM jobs WHERE name = ?1")?
        .query_row([job], |r| r.get(0))
        .optional()?)
}

/// Records that `job` ran for `slot` (or, the first time, that it starts
/// counting from it).
pub fn set_slot(conn: &Connection, job: &str, slot: &str, now: DateTime<Utc>) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO jobs (name, last_slot, last_run_at) VALUES (?1, ?2, ?3)
         ON CONFLICT(name) DO UPDATE SET last_slot = excluded.last_slot, last_run_at = excluded.last_run_at",
    )?
    .execute(params![job, slot, ts(now)])?;
    Ok(())
}

/// When `job` last ran.
pub fn last_run(conn: &Connection, job: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT last_run_at FROM jobs WHERE name = ?1")?
        .query_row([job], |r| r.get(0))
        .optional()?)
}

/// Whether `item` of `job`'s `slot` is done.
pub fn item_done(conn: &Connection, job: &str, slot: &str, item: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM job_items WHERE job = ?1 AND slot = ?2 AND item = ?3")?
        .query_row(params![job, slot, item], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Marks `item` of `job`'s `slot` done (in the item's own transaction).
pub fn mark_item(
    conn: &Connection,
    job: &str,
    slot: &str,
    item: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO job_items (job, slot, item, done_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![job, slot, item, ts(now)])?;
    Ok(())
}

/// Employers with changes no letter has told yet.
pub fn employers_with_changes(conn: &Connection) -> Result<Vec<i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT DISTINCT employer_id FROM employer_changes WHERE letter_id IS NULL ORDER BY employer_id",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?)
}

/// Active contacts of `employer` with `duty` who accepted the declaration.
fn contacts_with(conn: &Connection, employer: i64, duty: &str) -> Result<Vec<String>> {
    Ok(conn
        .prepare_cached(
            "SELECT email FROM contacts WHERE employer_id = ?1 AND active = 1
                 AND declaration IS NOT NULL AND ('|' || duties || '|') LIKE ('%|' || ?2 || '|%')
             ORDER BY email",
        )?
        .query_map(params![employer, duty], |r| r.get(0))?
        .collect::<Result<_, _>>()?)
}

/// What the next letter to `employer` tells, and to whom.
pub fn letter_due(conn: &Connection, employer: i64) -> Result<Option<LetterDue>> {
    let Some((name, orgnr)) = conn
        .prepare_cached("SELECT name, orgnr FROM employers WHERE id = ?1")?
        .query_row([employer], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })
        .optional()?
    else {
        return Ok(None);
    };
    let number: i64 = conn
        .prepare_cached("SELECT COALESCE(MAX(number), 0) + 1 FROM letters WHERE employer_id = ?1")?
        .query_row([employer], |r| r.get(0))?;
    let changes = conn
        .prepare_cached(
            "SELECT c.id, c.what, c.why, c.effective_on, p.member_no, p.name, p.birth_date
             FROM employer_changes c JOIN people p ON p.id = c.person_id
             WHERE c.employer_id = ?1 AND c.letter_id IS NULL ORDER BY c.id",
        )?
        .query_map([employer], |r| {
            let on: String = r.get(3)?;
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)? == "start",
                DeductionLine {
                    member_no: r.get(4)?,
                    name: r.get(5)?,
                    birth_date: r.get(6)?,
                    why: r.get(2)?,
                    from: NaiveDate::parse_from_str(&on, "%Y-%m-%d").unwrap_or_default(),
                },
            ))
        })?
        .collect::<Result<_, _>>()?;
    Ok(Some(LetterDue {
        employer_id: employer,
        employer: name,
        orgnr,
        number,
        changes,
        contacts: contacts_with(conn, employer, "letters")?,
    }))
}

/// Keeps a letter with its PDF and marks the changes it tells.
pub fn record_letter(
    conn: &Connection,
    letter: &DeductionLetter,
    subject: &str,
    pdf: &[u8],
    changes: &[i64],
    now: DateTime<Utc>,
) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO letters (employer_id, number, subject, content, pdf, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        letter.employer_id,
        letter.number,
        subject,
        serde_json::to_string(letter)?,
        pdf,
        ts(now)
    ])
    .with_context(|| {
        format!(
            "letter {} to employer {}",
            letter.number, letter.employer_id
        )
    })?;
    let id = conn.last_insert_rowid();
    let mut mark = conn.prepare_cached(
        "UPDATE employer_changes SET letter_id = ?1 WHERE id = ?2 AND letter_id IS NULL",
    )?;
    for c in changes {
        mark.execute(params![id, c])?;
    }
    Ok(id)
}

/// A kept letter's PDF.
pub fn letter_pdf(conn: &Connection, employer: i64, number: i64) -> Result<Option<Vec<u8>>> {
    Ok(conn
        .prepare_cached("SELECT pdf FROM letters WHERE employer_id = ?1 AND number = ?2")?
        .query_row(params![employer, number], |r| r.get(0))
        .optional()?)
}

/// The letters of `employers` since `since`, newest first.
pub fn letters(
    conn: &Connection,
    employers: &[i64],
    since: DateTime<Utc>,
) -> Result<Vec<LetterRow>> {
    let mut out = Vec::new();
    let mut stmt = conn.prepare_cached(
        "SELECT l.employer_id, e.name, e.orgnr, l.number, l.subject, substr(l.created_at, 1, 10)
         FROM letters l JOIN employers e ON e.id = l.employer_id
         WHERE l.employer_id = ?1 AND l.created_at >= ?2 ORDER BY l.number DESC",
    )?;
    for e in employers {
        out.extend(
            stmt.query_map(params![e, ts(since)], |r| {
                Ok(LetterRow {
                    employer_id: r.get(0)?,
                    employer: r.get(1)?,
                    orgnr: r.get(2)?,
                    number: r.get(3)?,
                    subject: r.get(4)?,
                    date: r.get(5)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?,
        );
    }
    out.sort_by(|a, b| b.date.cmp(&a.date).then(b.number.cmp(&a.number)));
    Ok(out)
}

/// Employers someone can be reminded at: an active contact with the
/// reminders duty who accepted the declaration.
pub fn reminder_employers(conn: &Connection) -> Result<Vec<i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT DISTINCT employer_id FROM contacts WHERE active = 1 AND declaration IS NOT NULL
                 AND ('|' || duties || '|') LIKE '%|reminders|%' ORDER BY employer_id",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?)
}

/// What a reminder to `employer` about `period` (`YYYY-MM`) says.
pub fn reminder_due(conn: &Connection, employer: i64, period: &str) -> Result<Option<ReminderDue>> {
    let Some((name, orgnr)) = conn
        .prepare_cached("SELECT name, orgnr FROM employers WHERE id = ?1")?
        .query_row([employer], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })
        .optional()?
    else {
        return Ok(None);
    };
    let submitted: bool = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM submissions WHERE employer_id = ?1 AND period = ?2)",
        )?
        .query_row(params![employer, period], |r| r.get(0))?;
    // Not deducted: registered here, on no line of the period's lists, and
    // no answer why (STATUS).
    let unanswered = if submitted {
        conn.prepare_cached(
            "SELECT p.id, p.name, p.member_no, p.birth_date FROM people p
             WHERE p.employer_id = ?1 AND p.member_no IS NOT NULL AND p.status = 'active'
               AND NOT EXISTS (SELECT 1 FROM submission_lines l JOIN submission_files f ON f.id = l.file_id
                               WHERE f.employer_id = ?1 AND f.period = ?2 AND l.person_id = p.id)
               AND NOT EXISTS (SELECT 1 FROM not_deducted n
                               WHERE n.employer_id = ?1 AND n.period = ?2 AND n.person_id = p.id)
             ORDER BY p.name, p.member_no",
        )?
        .query_map(params![employer, period], |r| {
            Ok(PersonRef {
                id: r.get(0)?,
                name: r.get(1)?,
                member_no: r.get(2)?,
                birth_date: r.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?
    } else {
        Vec::new()
    };
    Ok(Some(ReminderDue {
        employer_id: employer,
        employer: name,
        orgnr,
        period: period.to_string(),
        missing: !submitted,
        unanswered,
        contacts: contacts_with(conn, employer, "reminders")?,
    }))
}

/// Who gets the digest: the configured admins and every address with a
/// current admin role, with their languages.
pub fn admins(
    conn: &Connection,
    configured: &[String],
    today: NaiveDate,
) -> Result<Vec<(String, Option<Language>)>> {
    let mut all: Vec<String> = configured.to_vec();
    all.extend(
        conn.prepare_cached(
            "SELECT DISTINCT email FROM roles WHERE role = 'admin'
                 AND (valid_from IS NULL OR valid_from <= ?1)
                 AND (valid_to IS NULL OR valid_to = '' OR valid_to >= ?1)",
        )?
        .query_map([today.to_string()], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?,
    );
    all.iter_mut().for_each(|a| *a = a.to_lowercase());
    all.sort();
    all.dedup();
    let mut lang = conn.prepare_cached(
        "SELECT p.language FROM addresses a JOIN people p ON p.id = a.person_id WHERE a.email = ?1",
    )?;
    all.into_iter()
        .map(|a| {
            let l: Option<Option<String>> = lang.query_row([&a], |r| r.get(0)).optional()?;
            Ok((a, l.flatten().as_deref().and_then(Language::parse)))
        })
        .collect()
}

/// What retention would delete now.
pub fn retention_counts(
    conn: &Connection,
    letters_before: DateTime<Utc>,
    codes_before: DateTime<Utc>,
    raw_before: DateTime<Utc>,
) -> Result<RetentionCounts> {
    let count = |sql: &str, at: DateTime<Utc>| -> Result<i64> {
        Ok(conn
            .prepare_cached(sql)?
            .query_row([ts(at)], |r| r.get(0))?)
    };
    Ok(RetentionCounts {
        letters: count(
            "SELECT COUNT(*) FROM letters WHERE created_at < ?1",
            letters_before,
        )?,
        codes: count(
            "SELECT COUNT(*) FROM codes WHERE (used_at IS NOT NULL AND used_at < ?1) OR expires_at < ?1",
            codes_before,
        )?,
        raw_bodies: count(
            "SELECT COUNT(*) FROM messages WHERE raw IS NOT NULL AND handled_at < ?1
                 AND outcome <> 'quarantined'",
            raw_before,
        )? + count(
            "SELECT COUNT(*) FROM outbox WHERE length(raw) > 0 AND state = 'sent' AND created_at < ?1",
            raw_before,
        )?,
        in_hand: count(
            "SELECT COUNT(*) FROM in_hand WHERE attempts = 0 AND first_at < ?1",
            raw_before,
        )?,
    })
}

/// Deletes what retention deletes (see [`retention_counts`]), each kind an
/// audited action with how many and the cut-off. A quarantined message
/// keeps its body until an admin has dealt with it; the record that a
/// message was handled (identity, kind, result, reference) always stays.
pub fn purge(
    conn: &Connection,
    letters_before: DateTime<Utc>,
    codes_before: DateTime<Utc>,
    raw_before: DateTime<Utc>,
    row: Option<i64>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<RetentionCounts> {
    let run =
        |sql: &str, p: &[&dyn rusqlite::ToSql]| -> Result<i64> { Ok(conn.execute(sql, p)? as i64) };
    let (letters_cut, codes_cut, raw_cut, stamp) = (
        ts(letters_before),
        ts(codes_before),
        ts(raw_before),
        ts(now),
    );
    // The changes a deleted letter told go with it (the audit log keeps
    // every change); those not yet told stay for the next letter.
    run(
        "DELETE FROM employer_changes WHERE letter_id IN (SELECT id FROM letters WHERE created_at < ?1)",
        &[&letters_cut],
    )?;
    let letters = run("DELETE FROM letters WHERE created_at < ?1", &[&letters_cut])?;
    let codes = run(
        "DELETE FROM codes WHERE (used_at IS NOT NULL AND used_at < ?1) OR expires_at < ?1",
        &[&codes_cut],
    )?;
    let raw_bodies = run(
        "UPDATE messages SET raw = NULL, raw_deleted_at = ?2
         WHERE raw IS NOT NULL AND handled_at < ?1 AND outcome <> 'quarantined'",
        &[&raw_cut, &stamp],
    )? + run(
        "UPDATE outbox SET raw = X'' WHERE length(raw) > 0 AND state = 'sent' AND created_at < ?1",
        &[&raw_cut],
    )?;
    let in_hand = run(
        "DELETE FROM in_hand WHERE attempts = 0 AND first_at < ?1",
        &[&raw_cut],
    )?;
    let counts = RetentionCounts {
        letters,
        codes,
        raw_bodies,
        in_hand,
    };
    for (what, n, before) in [
        ("letters", letters, letters_before),
        ("codes", codes, codes_before),
        ("raw-bodies", raw_bodies, raw_before),
        ("in-hand-marks", in_hand, raw_before),
    ] {
        if n > 0 {
            audit(
                conn,
                now,
                row,
                actor,
                "delete",
                what,
                Some(&n.to_string()),
                Some(&format!("before {}", ts(before))),
            )?;
        }
    }
    Ok(counts)
}
