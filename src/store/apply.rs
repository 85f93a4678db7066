//! Carrying out a `Plan` in the caller's transaction: register changes, audit
//! rows and rendered replies in the outbox, together or not at all.

use super::{audit, next_ref, ts};
use crate::plan::{Action, Plan};
use crate::render::{Headers, Renderer};
use anyhow::Result;
use chrono::{DateTime, Datelike, Utc};
use postbud_core::message::Incoming;
use rusqlite::{Connection, params};

/// The message a plan answers, as recorded.
pub struct Answered<'a> {
    /// messages.id (`None` for an admin's command from the command line)
    pub row: Option<i64>,
    pub msg: &'a Incoming,
    pub sender: &'a str,
    /// The reference given to the message, if it is answered or recorded
    /// under one.
    pub reference: Option<&'a str>,
}

/// Applies `plan`; returns the number of replies queued. `hold_replies`
/// drops the replies (over the hourly limit).
pub fn apply(
    conn: &Connection,
    renderer: &Renderer,
    org_address: &str,
    plan: &Plan,
    m: &Answered<'_>,
    hold_replies: bool,
    now: DateTime<Utc>,
) -> Result<usize> {
    let r = m.reference;
    // References given to pending changes, for the replies to quote.
    let mut pending_refs: Vec<String> = Vec::new();
    for action in &plan.actions {
        match action {
            Action::OpenTicket {
                topic,
                subject,
                body,
            } => {
                conn.prepare_cached("INSERT INTO tickets (ref, message_id, sender, subject, body, topic, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?.execute(
                    params![r, m.row, m.sender, subject, body, topic, ts(now)],
                )?;
                audit(conn, now, m.row, m.sender, "open", "ticket", r, Some(topic))?;
            }
            Action::IssueCode {
                email,
                purpose,
                salt,
                hash,
                expires_at,
                for_this_message,
            } => {
                let payload = for_this_message.then_some(m.row).flatten();
                conn.prepare_cached(
                    "INSERT INTO codes (email, purpose, salt, hash, created_at, expires_at, payload)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?
                .execute(params![
                    email,
                    purpose.as_str(),
                    salt,
                    hash,
                    ts(now),
                    ts(*expires_at),
                    payload
                ])?;
                audit(
                    conn,
                    now,
                    m.row,
                    m.sender,
                    "issue",
                    "code",
                    Some(email),
                    Some(purpose.as_str()),
                )?;
            }
            Action::NeutralReplied { email, day } => {
                conn.prepare_cached(
                    "INSERT OR IGNORE INTO neutral_replies (email, day) VALUES (?1, ?2)",
                )?
                .execute(params![email, day])?;
            }
            Action::MarkBouncing { emails } => {
                for e in emails {
                    conn.prepare_cached("INSERT INTO bounces (email, first_at, last_at) VALUES (?1, ?2, ?2)
                         ON CONFLICT(email) DO UPDATE SET last_at = excluded.last_at, count = count + 1")?.execute(
                        params![e, ts(now)],
                    )?;
                    audit(
                        conn,
                        now,
                        m.row,
                        m.sender,
                        "bounce",
                        "address",
                        Some(e),
                        None,
                    )?;
                }
            }
            Action::UseCode { id } => {
                conn.prepare_cached("UPDATE codes SET used_at = ?2 WHERE id = ?1")?
                    .execute(params![id, ts(now)])?;
            }
            Action::RecordActivity { peer_id, year } => {
                conn.prepare_cached(
                    "INSERT OR IGNORE INTO peer_activity (peer_id, year, registered_at, message_id)
                     VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![peer_id, year, ts(now), m.row])?;
                audit(
                    conn,
                    now,
                    m.row,
                    m.sender,
                    "activity",
                    "peer",
                    Some(&peer_id.to_string()),
                    Some(&year.to_string()),
                )?;
            }
            Action::RegisterPeer(p) => {
                let peer_no = super::changes::register_peer(conn, p, now)?;
                audit(
                    conn,
                    now,
                    m.row,
                    m.sender,
                    "register",
                    "peer",
                    Some(&peer_no),
                    p.form_id.as_deref(),
                )?;
            }
            Action::Pending(change) => {
                let reference = next_ref(conn, now.year())?;
                conn.prepare_cached(
                    "INSERT INTO pending_changes (ref, kind, requested_by, message_id, summary, payload, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?
                .execute(params![
                    reference,
                    change.kind,
                    m.sender,
                    m.row,
                    change.summary,
                    change.payload.to_string(),
                    ts(now)
                ])?;
                audit(
                    conn,
                    now,
                    m.row,
                    m.sender,
                    "request",
                    change.kind,
                    Some(&reference),
                    Some(&change.summary),
                )?;
                pending_refs.push(reference);
            }
            Action::Contact {
                employer_id,
                email,
                create,
                name,
                phone,
                duties,
                active,
            } => {
                if *create {
                    conn.prepare_cached(
                        "INSERT INTO contacts (email, name, phone, employer_id, duties) VALUES (?1, ?2, ?3, ?4, ?5)",
                    )?
                    .execute(params![email, name, phone, employer_id, duties.clone().unwrap_or_default()])?;
                } else {
                    conn.prepare_cached(
                        "UPDATE contacts SET name = COALESCE(?3, name), phone = COALESCE(?4, phone),
                             duties = COALESCE(?5, duties), active = COALESCE(?6, active),
                             deactivated_at = CASE WHEN ?6 = 0 THEN ?7 WHEN ?6 = 1 THEN NULL ELSE deactivated_at END
                         WHERE email = ?1 AND employer_id = ?2",
                    )?
                    .execute(params![email, employer_id, name, phone, duties, active, ts(now)])?;
                }
                let what = match (create, active) {
                    (true, _) => "new",
                    (_, Some(true)) => "activate",
                    (_, Some(false)) => "deactivate",
                    _ => "edit",
                };
                audit(
                    conn,
                    now,
                    m.row,
                    m.sender,
                    what,
                    "contact",
                    Some(email),
                    Some(&employer_id.to_string()),
                )?;
            }
            Action::NotDeducted {
                employer_id,
                period,
                person_id,
                status,
                comment,
            } => {
                conn.prepare_cached(
                    "INSERT INTO not_deducted (employer_id, period, person_id, status, comment, answered_by, answered_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT(employer_id, period, person_id) DO UPDATE SET status = excluded.status,
                         comment = excluded.comment, answered_by = excluded.answered_by, answered_at = excluded.answered_at",
                )?
                .execute(params![employer_id, period, person_id, status, comment, m.sender, ts(now)])?;
                audit(
                    conn,
                    now,
                    m.row,
                    m.sender,
                    "status",
                    "not-deducted",
                    Some(&person_id.to_string()),
                    Some(status),
                )?;
            }
            Action::Declare { email } => {
                let today = ts(now);
                conn.prepare_cached(
                    "UPDATE contacts SET declaration = ?2 WHERE email = ?1 AND declaration IS NULL",
                )?
                .execute(params![email, today.get(..10).unwrap_or(&today)])?;
                audit(
                    conn,
                    now,
                    m.row,
                    m.sender,
                    "accept",
                    "declaration",
                    Some(email),
                    None,
                )?;
            }
            Action::Submission(rec) => {
                conn.prepare_cached(
                    "INSERT INTO submissions (ref, employer_id, period, sender, message_id, status, received_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, 'processed', ?6)",
                )?
                .execute(params![r, rec.employer_id, rec.period, m.sender, m.row, ts(now)])?;
                let submission = conn.last_insert_rowid();
                for file in &rec.files {
                    let first: Option<i64> = if file.counted {
                        None
                    } else {
                        conn.prepare_cached(
                            "SELECT MIN(id) FROM submission_files WHERE employer_id = ?1 AND period = ?2 AND sha256 = ?3",
                        )?
                        .query_row(params![rec.employer_id, rec.period, file.sha256], |r| r.get(0))?
                    };
                    conn.prepare_cached(
                        "INSERT INTO submission_files (submission_id, employer_id, period, name, kind, sha256, size,
                                                       lines, amount_ore, duplicate_of, received_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                    )?
                    .execute(params![
                        submission,
                        rec.employer_id,
                        rec.period,
                        file.name,
                        file.kind,
                        file.sha256,
                        file.size as i64,
                        file.lines.len() as i64,
                        file.amount,
                        first,
                        ts(now)
                    ])?;
                    let file_id = conn.last_insert_rowid();
                    let mut insert = conn.prepare_cached(
                        "INSERT INTO submission_lines (file_id, line, national_id, person_id, amount_ore, problem)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    )?;
                    for l in &file.lines {
                        insert.execute(params![
                            file_id,
                            l.line as i64,
                            l.national_id,
                            l.person_id,
                            l.amount,
                            l.problem
                        ])?;
                    }
                }
                audit(
                    conn,
                    now,
                    m.row,
                    m.sender,
                    "submit",
                    "submission",
                    r,
                    Some(&rec.period),
                )?;
            }
            Action::Decide {
                pending_id,
                approve,
                reason,
            } => {
                super::changes::decide(
                    conn,
                    *pending_id,
                    *approve,
                    reason.as_deref(),
                    m.sender,
                    m.row,
                    now,
                )?;
            }
        }
    }
    if hold_replies {
        return Ok(0);
    }
    let domain = org_address.rsplit('@').next().unwrap_or("postbud.invalid");
    for (i, reply) in plan.replies.iter().enumerate() {
        let reference = r.unwrap_or("PB-0000-000000");
        let mut vars = reply.vars.clone();
        if let Some(v) = vars.as_object_mut() {
            v.insert("pending_refs".into(), pending_refs.clone().into());
        }
        let (text, html) = renderer.render(reply.language, reply.template, reference, &vars)?;
        let message_id = format!(
            "{}.{}.{}@{}",
            reference.to_lowercase(),
            i + 1,
            m.row.unwrap_or(0),
            domain
        );
        let headers = Headers {
            to: &reply.to,
            their_subject: &m.msg.subject,
            reference,
            in_reply_to: m.msg.message_id.as_deref(),
            references: &m.msg.references,
            message_id: &message_id,
            kind: plan.kind,
            result: plan.result.as_str(),
            auto_submitted: "auto-replied",
            date: now,
        };
        let (subject, raw) = renderer.build(&headers, &text, &html, &reply.attachments)?;
        conn.prepare_cached("INSERT INTO outbox (message_id, ref, kind, result, recipient, mail_from, rfc_message_id,
                                 subject, raw, next_attempt_at, created_at, secret)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11)")?.execute(
            params![
                m.row,
                reference,
                plan.kind,
                plan.result.as_str(),
                reply.to,
                org_address,
                message_id,
                subject,
                raw,
                ts(now),
                reply.secret,
            ],
        )?;
    }
    Ok(plan.replies.len())
}
