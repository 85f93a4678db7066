//! Carrying out a [`Plan`] in the caller's transaction: register changes,
//! audit rows and rendered mail in the outbox, together or not at all. A
//! plan comes from an [`Origin`]: a message (its replies answer it), an
//! admin at the command line, or a scheduled job (their mail answers
//! nothing and is marked `Auto-Submitted: auto-generated`).

use super::{audit, codes, jobs, next_ref, outbox, pending, people, ts};
use crate::render::{Headers, Renderer};
use anyhow::Result;
use chrono::{DateTime, Datelike, Utc};
use postbud_commands::plan::{Action, Attach, Carries, Plan};
use postbud_core::message::Incoming;
use rusqlite::{Connection, params};

/// Where a plan comes from.
#[derive(Debug, Clone, Copy)]
pub enum Origin<'a> {
    /// A message handled now: its row, what it said, who sent it.
    Message {
        row: i64,
        msg: &'a Incoming,
        sender: &'a str,
    },
    /// An admin at the command line.
    Cli,
    /// A scheduled job, by name.
    Job { name: &'a str },
}

impl Origin<'_> {
    /// The message row, for audit rows and the records a plan writes.
    pub fn row(&self) -> Option<i64> {
        match self {
            Origin::Message { row, .. } => Some(*row),
            Origin::Cli | Origin::Job { .. } => None,
        }
    }

    /// Who acted, as the audit log and pending changes record it.
    pub fn actor(&self) -> String {
        match self {
            Origin::Message { sender, .. } => sender.to_string(),
            Origin::Cli => "cli".into(),
            Origin::Job { name } => format!("job:{name}"),
        }
    }
}

/// Applies `plan` under `reference` (the message's, or one given to the
/// CLI's or a job's run); returns the number of mails queued.
/// `hold_replies` drops the replies (over the hourly limit).
pub fn apply(
    conn: &Connection,
    renderer: &Renderer,
    plan: &Plan,
    origin: Origin<'_>,
    reference: Option<&str>,
    hold_replies: bool,
    now: DateTime<Utc>,
) -> Result<usize> {
    let r = reference;
    let row = origin.row();
    let actor = origin.actor();
    let actor = actor.as_str();
    // References of pending changes, for the replies to quote. The first
    // pending change is the reference of the message: one reference per
    // reply (SPEC section 9).
    let mut pending_refs: Vec<String> = Vec::new();
    for action in &plan.actions {
        match action {
            Action::OpenTicket {
                topic,
                subject,
                body,
            } => {
                conn.prepare_cached(
                    "INSERT INTO tickets (ref, message_id, sender, subject, body, topic, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?
                .execute(params![r, row, actor, subject, body, topic, ts(now)])?;
                audit(conn, now, row, actor, "open", "ticket", r, Some(topic))?;
            }
            // A code whose reply is held is never sent: it is not made.
            Action::IssueCode { .. } if hold_replies => {}
            Action::IssueCode {
                email,
                purpose,
                salt,
                hash,
                expires_at,
                carries,
            } => {
                let message = match carries {
                    Carries::Nothing => None,
                    Carries::ThisMessage => row,
                    Carries::Message(m) => Some(*m),
                };
                codes::issue(
                    conn,
                    email,
                    purpose.as_str(),
                    salt,
                    hash,
                    *expires_at,
                    message,
                    now,
                )?;
                audit(
                    conn,
                    now,
                    row,
                    actor,
                    "issue",
                    "code",
                    Some(email),
                    Some(purpose.as_str()),
                )?;
            }
            Action::UseCode { id } => codes::used(conn, *id, now)?,
            Action::WrongCode { id } => codes::tried(conn, *id)?,
            Action::WrongGuess {
                email,
                purpose,
                kill,
            } => {
                codes::wrong_guess(conn, email, *purpose, *kill, now)?;
                if *kill {
                    audit(
                        conn,
                        now,
                        row,
                        actor,
                        "lock",
                        "code",
                        Some(email),
                        Some(purpose.as_str()),
                    )?;
                }
            }
            Action::NeutralReplied { email, day } => {
                conn.prepare_cached(
                    "INSERT OR IGNORE INTO neutral_replies (email, day) VALUES (?1, ?2)",
                )?
                .execute(params![email, day])?;
            }
            Action::MarkBouncing { emails } => {
                for e in emails {
                    conn.prepare_cached(
                        "INSERT INTO bounces (email, first_at, last_at) VALUES (?1, ?2, ?2)
                         ON CONFLICT(email) DO UPDATE SET last_at = excluded.last_at, count = count + 1",
                    )?
                    .execute(params![e, ts(now)])?;
                    audit(conn, now, row, actor, "bounce", "address", Some(e), None)?;
                }
            }
            Action::RecordActivity { peer_id, year } => {
                conn.prepare_cached(
                    "INSERT OR IGNORE INTO peer_activity (peer_id, year, registered_at, message_id)
                     VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![peer_id, year, ts(now), row])?;
                audit(
                    conn,
                    now,
                    row,
                    actor,
                    "activity",
                    "peer",
                    Some(&peer_id.to_string()),
                    Some(&year.to_string()),
                )?;
            }
            Action::RegisterPeer(p) => {
                let peer_no = pending::register_peer(conn, p, now)?;
                audit(
                    conn,
                    now,
                    row,
                    actor,
                    "register",
                    "peer",
                    Some(&peer_no),
                    p.form_id.as_deref(),
                )?;
            }
            Action::Pending(change) => {
                let reference = match r {
                    Some(r) if pending_refs.is_empty() => r.to_string(),
                    _ => next_ref(conn, now.year())?,
                };
                pending::record(conn, &reference, actor, row, change, now)?;
                audit(
                    conn,
                    now,
                    row,
                    actor,
                    "request",
                    change.change.kind(),
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
                    row,
                    actor,
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
                .execute(params![employer_id, period, person_id, status, comment, actor, ts(now)])?;
                audit(
                    conn,
                    now,
                    row,
                    actor,
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
                    row,
                    actor,
                    "accept",
                    "declaration",
                    Some(email),
                    None,
                )?;
            }
            Action::Submission(rec) => submission(conn, rec, r, row, actor, now)?,
            Action::UpdatePerson { person_id, changes } => {
                people::update(conn, *person_id, changes, row, actor, now)?
            }
            Action::LinkAddress { person_id, email } => {
                people::link(conn, *person_id, email, row, actor, now)?
            }
            Action::UnlinkAddress { person_id, email } => {
                people::unlink(conn, *person_id, email, row, actor, now)?
            }
            Action::Undo { pending_id } => pending::undo(conn, *pending_id, actor, row, now)?,
            Action::RecordLetter { letter, changes } => {
                let (subject, pdf) = renderer.deduction_letter_titled(letter)?;
                jobs::record_letter(conn, letter, &subject, &pdf, changes, now)?;
                audit(
                    conn,
                    now,
                    row,
                    actor,
                    "letter",
                    "employer",
                    Some(&letter.employer_id.to_string()),
                    Some(&format!("{} ({} changes)", letter.number, changes.len())),
                )?;
            }
            Action::Purge {
                letters_before,
                codes_before,
                raw_before,
            } => {
                jobs::purge(
                    conn,
                    *letters_before,
                    *codes_before,
                    *raw_before,
                    row,
                    actor,
                    now,
                )?;
            }
            Action::Decide {
                pending_id,
                approve,
                reason,
                on,
                scheduled,
            } => pending::settle(
                conn,
                *pending_id,
                *approve,
                reason.as_deref(),
                *on,
                *scheduled,
                actor,
                row,
                now,
            )?,
        }
    }
    if hold_replies {
        return Ok(0);
    }
    let domain = renderer
        .org_address()
        .rsplit('@')
        .next()
        .unwrap_or("postbud.invalid")
        .to_string();
    let reference = r.unwrap_or("PB-0000-000000");
    for (i, reply) in plan.replies.iter().enumerate() {
        let mut vars = reply.vars.clone();
        if let Some(v) = vars.as_object_mut() {
            v.insert("pending_refs".into(), pending_refs.clone().into());
        }
        let rendered = renderer.render(reply.language, reply.template, reference, &vars)?;
        let attachments = reply
            .attachments
            .iter()
            .map(|a| match a {
                Attach::KeptLetter {
                    file,
                    employer_id,
                    number,
                } => Ok((
                    file.clone(),
                    "application/pdf".to_string(),
                    jobs::letter_pdf(conn, *employer_id, *number)?.ok_or_else(|| {
                        anyhow::anyhow!("no letter {number} to employer {employer_id}")
                    })?,
                )),
                a => renderer.attachment(a),
            })
            .collect::<Result<Vec<_>>>()?;
        let message_id = format!(
            "{}.{}.{}@{domain}",
            reference.to_lowercase(),
            i + 1,
            row.unwrap_or(0),
        );
        // Mail to anyone but the sender (a receipt's copy, the people a
        // decision concerns) answers nothing they wrote.
        let answered = match origin {
            Origin::Message { msg, sender, .. } if reply.to.eq_ignore_ascii_case(sender) => {
                Some(msg)
            }
            _ => None,
        };
        let headers = Headers {
            to: &reply.to,
            answered,
            reference,
            message_id: &message_id,
            kind: plan.kind,
            result: plan.result.as_str(),
            date: now,
        };
        let (subject, raw) = renderer.build(&headers, &rendered, &attachments)?;
        outbox::enqueue(
            conn,
            &outbox::Outgoing {
                message: row,
                reference,
                kind: plan.kind,
                result: plan.result.as_str(),
                recipient: &reply.to,
                mail_from: renderer.org_address(),
                rfc_message_id: &message_id,
                subject: &subject,
                raw: &raw,
                secret: reply.secret,
            },
            now,
        )?;
    }
    Ok(plan.replies.len())
}

/// A deduction-list submission, its files and lines.
fn submission(
    conn: &Connection,
    rec: &postbud_commands::plan::SubmissionRecord,
    r: Option<&str>,
    row: Option<i64>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO submissions (ref, employer_id, period, sender, message_id, status, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'processed', ?6)",
    )?
    .execute(params![r, rec.employer_id, rec.period, actor, row, ts(now)])?;
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
        row,
        actor,
        "submit",
        "submission",
        r,
        Some(&rec.period),
    )
}
