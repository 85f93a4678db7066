//! One batch of fetched messages through parse -> classify -> decide -> apply,
//! in ONE SQLite transaction with a savepoint per message (SPEC section 3):
//! a message that fails rolls back alone and is quarantined with its reason;
//! the caller moves messages only after `handle_batch` has committed.

use crate::commands::code::{self, StoredCode, Verdict};
use crate::commands::snapshot::Snapshot;
use crate::commands::{self, Facts, Fresh, Settings, deduction, trust};
use crate::config::Config;
use crate::intake::{Destination, Fetched};
use crate::render::Renderer;
use crate::store::snapshot as store_snapshot;
use crate::store::{Store, apply, facts, ts};
use anyhow::{Context as _, Result};
use chrono::{DateTime, Datelike, Utc};
use postbud_core::lists;
use postbud_core::registration::{self, Found};
use postbud_core::{classify, message};
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

/// What the pipeline needs besides the register: read-only, built once.
pub struct Context {
    pub settings: Settings,
    pub renderer: Renderer,
    pub admins: Vec<String>,
    pub max_message_bytes: u64,
}

impl Context {
    pub fn from_config(cfg: &Config) -> Context {
        Context {
            settings: Settings::from_config(cfg),
            renderer: Renderer::new(
                Some(cfg.base_dir.join("templates")),
                &cfg.organisation.name,
                &cfg.organisation.address,
            ),
            admins: cfg
                .organisation
                .admins
                .iter()
                .map(|a| a.to_lowercase())
                .collect(),
            max_message_bytes: cfg.limits.max_message_bytes,
        }
    }
}

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handled {
    /// The mailbox key it was fetched under.
    pub key: String,
    pub dest: Destination,
    /// messages.outcome: handled, silent, held, duplicate, quarantined.
    pub outcome: String,
    /// X-Postbud-Kind or "silent"/"bounce".
    pub kind: String,
    pub reference: Option<String>,
    pub replies: usize,
    /// The quarantine reason.
    pub reason: Option<String>,
}

/// What reading a message found before the register is touched: the pure
/// part of handling (limits, parse, identity, classification).
#[derive(Debug)]
pub struct Read {
    pub msg: message::Incoming,
    pub identity: String,
    pub kind: classify::Kind,
    /// Registration strings found, when `kind` is a registration.
    pub regs: Vec<Found>,
    /// Attachments read as deduction lists, when `kind` is one.
    pub lists: Vec<deduction::Attached>,
}

/// Reads one message; `Err` is the quarantine reason. Pure.
pub fn read(
    settings: &Settings,
    max_bytes: u64,
    raw: &[u8],
    today: chrono::NaiveDate,
) -> Result<Read, String> {
    if raw.len() as u64 > max_bytes {
        return Err(format!(
            "the message is {} bytes, more than the limit of {max_bytes} (limits.max_message_bytes)",
            raw.len()
        ));
    }
    let msg = message::parse(raw).ok_or("not a mail message: no header could be read")?;
    let kind = classify::classify(&msg, &settings.org_address);
    if kind == classify::Kind::Silent(classify::Silent::NoSender) {
        return Err("the message has no sender address (From) that could be read".into());
    }
    let regs = match kind {
        classify::Kind::Registration => registration::find(
            &msg,
            settings.registration_secret.as_deref().map(str::as_bytes),
        ),
        _ => Vec::new(),
    };
    let lists = match kind {
        classify::Kind::Deduction => msg
            .attachments
            .iter()
            .map(|a| {
                let name = a.name.clone().unwrap_or_else(|| "vedlegg".into());
                let sha256: String = Sha256::digest(&a.bytes)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                deduction::Attached {
                    read: lists::read(&name, &a.bytes, &settings.list_limits, today),
                    name,
                    sha256,
                    size: a.bytes.len() as u64,
                }
            })
            .collect(),
        _ => Vec::new(),
    };
    Ok(Read {
        identity: message::identity(raw, Some(&msg)),
        msg,
        kind,
        regs,
        lists,
    })
}

/// Handles a batch in one transaction and commits it. Never fails because of
/// a message's content: only when the register itself cannot be written.
///
/// Reading (parse, classify) needs no register, so a second thread reads
/// message k+1 while this one writes message k: the single writer is the
/// only serial part.
pub fn handle_batch(
    store: &mut Store,
    ctx: &Context,
    batch: &[Fetched],
    now: DateTime<Utc>,
    fresh: &mut dyn Fresh,
) -> Result<Vec<Handled>> {
    let tx = store
        .conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let (settings, max) = (&ctx.settings, ctx.max_message_bytes);
    let today = now.with_timezone(&ctx.settings.timezone).date_naive();
    let read_one = |f: &Fetched| {
        std::panic::catch_unwind(|| read(settings, max, &f.raw, today))
            .unwrap_or_else(|_| Err("internal error while reading the message".into()))
    };
    let mut out = Vec::with_capacity(batch.len());
    std::thread::scope(|scope| -> Result<()> {
        let (send, reads) = std::sync::mpsc::sync_channel(64);
        scope.spawn(move || {
            for f in batch {
                if send.send(read_one(f)).is_err() {
                    return; // the writer stopped on a register error
                }
            }
        });
        for (f, r) in batch.iter().zip(reads) {
            out.push(handle_in_savepoint(
                &tx, ctx, &f.key, &f.raw, r, now, fresh,
            )?);
        }
        Ok(())
    })?;
    anyhow::ensure!(out.len() == batch.len(), "the reader thread stopped early");
    tx.commit().context("cannot commit the batch")?;
    Ok(out)
}

/// Handles one message, already `read`, inside its own savepoint of
/// `conn`'s transaction.
pub fn handle_in_savepoint(
    conn: &Connection,
    ctx: &Context,
    key: &str,
    raw: &[u8],
    read: Result<Read, String>,
    now: DateTime<Utc>,
    fresh: &mut dyn Fresh,
) -> Result<Handled> {
    let read = match read {
        Ok(r) => r,
        Err(reason) => return quarantined(conn, key, raw, reason, now),
    };
    conn.prepare_cached("SAVEPOINT msg")?.execute([])?;
    let attempt = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        handle_one(conn, ctx, key, raw, &read, now, fresh)
    }));
    let failure = match attempt {
        Ok(Ok(h)) => {
            conn.prepare_cached("RELEASE msg")?.execute([])?;
            return Ok(h);
        }
        Ok(Err(e)) => format!("{e:#}"),
        Err(p) => {
            let what = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            format!("internal error while handling the message: {what}")
        }
    };
    conn.execute_batch("ROLLBACK TO msg; RELEASE msg")?;
    quarantined(conn, key, raw, failure, now)
}

fn quarantined(
    conn: &Connection,
    key: &str,
    raw: &[u8],
    reason: String,
    now: DateTime<Utc>,
) -> Result<Handled> {
    tracing::warn!(key, %reason, "quarantined");
    quarantine(conn, raw, None, &reason, now)?;
    Ok(Handled {
        key: key.to_string(),
        dest: Destination::Quarantine,
        outcome: "quarantined".into(),
        kind: String::new(),
        reference: None,
        replies: 0,
        reason: Some(reason),
    })
}

/// A message's failure becomes data: a messages row with the reason and the
/// raw bytes, so `postbud quarantine retry` can put it through again.
fn quarantine(
    conn: &Connection,
    raw: &[u8],
    parsed: Option<&message::Incoming>,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let parsed_owned;
    let parsed = match parsed {
        Some(p) => Some(p),
        None => {
            parsed_owned = message::parse(raw);
            parsed_owned.as_ref()
        }
    };
    let identity = message::identity(raw, parsed);
    let sender = parsed
        .and_then(|p| p.from.as_ref())
        .map(|a| a.email.clone());
    let subject = parsed.map(|p| p.subject.clone());
    conn.prepare_cached("INSERT INTO messages (identity, sender, subject, outcome, reason, received_at, handled_at, raw)
         VALUES (?1, ?2, ?3, 'quarantined', ?4, ?5, ?5, ?6)
         ON CONFLICT(identity) DO UPDATE SET outcome = 'quarantined', reason = excluded.reason,
             handled_at = excluded.handled_at, seen_count = seen_count + 1, raw = excluded.raw")?.execute(
        params![identity, sender, subject, reason, ts(now), raw],
    )?;
    Ok(())
}

fn handle_one(
    conn: &Connection,
    ctx: &Context,
    key: &str,
    raw: &[u8],
    read: &Read,
    now: DateTime<Utc>,
    fresh: &mut dyn Fresh,
) -> Result<Handled> {
    let Read {
        msg,
        identity,
        kind,
        regs,
        lists,
    } = read;
    let done = |outcome: &str, kind: &str, reference, replies| Handled {
        key: key.to_string(),
        dest: Destination::Processed,
        outcome: outcome.to_string(),
        kind: kind.to_string(),
        reference,
        replies,
        reason: None,
    };
    let seen: Option<(i64, String)> = conn
        .prepare_cached("SELECT id, outcome FROM messages WHERE identity = ?1")?
        .query_row([identity], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    if let Some((id, outcome)) = &seen
        && outcome != "quarantined"
    {
        conn.prepare_cached("UPDATE messages SET seen_count = seen_count + 1 WHERE id = ?1")?
            .execute([id])?;
        return Ok(done("duplicate", "", None, 0));
    }
    let sender = msg
        .from
        .as_ref()
        .map(|a| a.email.as_str())
        .unwrap_or_default();
    let mut facts = facts::sender(conn, sender, &ctx.admins, &ctx.settings, now)?;
    facts.verified = trust::verified(msg, ctx.settings.trusted_authserv_id.as_deref());
    // BEKREFT <code>: the command it confirms is decided now, as if from a
    // verified sender, and answered in reply to the confirmation.
    // AKSEPTERER <code>: the declaration is accepted, and the list that
    // waited for it is processed the same way.
    let (confirmed, accepted) = match kind {
        classify::Kind::Confirm { word, code } => {
            let purpose = match word {
                classify::ConfirmWord::Bekreft => "confirm",
                classify::ConfirmWord::Aksepterer => "accept",
            };
            let c = confirmation(conn, ctx, sender, purpose, code, now)?;
            let accepted = c.is_some() && purpose == "accept";
            (c, accepted)
        }
        _ => (None, false),
    };
    if accepted {
        let today = now
            .with_timezone(&ctx.settings.timezone)
            .date_naive()
            .to_string();
        for e in &mut facts.employers {
            e.declared.get_or_insert(today.clone());
        }
    }
    let (d_msg, d_kind, d_regs, d_lists) = match &confirmed {
        Some((_, r)) => {
            facts.verified = true;
            (&r.msg, &r.kind, r.regs.as_slice(), r.lists.as_slice())
        }
        None => (msg, kind, regs.as_slice(), lists.as_slice()),
    };
    let snap = snapshot(
        conn,
        &facts,
        d_msg,
        d_kind,
        d_regs,
        d_lists,
        &ctx.settings,
        now,
    )?;
    let mut plan = commands::decide(
        &facts,
        d_msg,
        d_kind,
        d_regs,
        d_lists,
        &snap,
        &ctx.settings,
        now,
        fresh,
    );
    if let Some((code_id, _)) = confirmed {
        plan.actions
            .push(crate::plan::Action::UseCode { id: code_id });
    }
    if accepted {
        plan.actions.insert(
            0,
            crate::plan::Action::Declare {
                email: sender.to_string(),
            },
        );
    }
    let silent = plan.replies.is_empty() && !plan.needs_ref;
    let hold = !plan.replies.is_empty()
        && facts.replies_last_hour + plan.replies.len() as i64 > ctx.settings.max_replies_per_hour;
    let outcome = if silent {
        "silent"
    } else if hold {
        "held"
    } else {
        "handled"
    };
    let reference = match silent {
        true => None,
        false => Some(crate::store::next_ref(conn, now.year())?),
    };
    let row = match seen {
        Some((id, _)) => {
            conn.prepare_cached(
                "UPDATE messages SET sender = ?2, subject = ?3, kind = ?4, result = ?5, ref = ?6,
                     outcome = ?7, reason = NULL, handled_at = ?8, seen_count = seen_count + 1
                 WHERE id = ?1",
            )?
            .execute(params![
                id,
                sender,
                msg.subject,
                plan.kind,
                plan.result.as_str(),
                reference,
                outcome,
                ts(now)
            ])?;
            id
        }
        None => {
            conn.prepare_cached(
                "INSERT INTO messages (identity, sender, subject, kind, result, ref, outcome,
                                       received_at, handled_at, raw)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9)",
            )?
            .execute(params![
                identity,
                sender,
                msg.subject,
                plan.kind,
                plan.result.as_str(),
                reference,
                outcome,
                ts(now),
                raw
            ])?;
            conn.last_insert_rowid()
        }
    };
    let answered = apply::Answered {
        row: Some(row),
        msg,
        sender,
        reference: reference.as_deref(),
    };
    let replies = apply::apply(
        conn,
        &ctx.renderer,
        &ctx.settings.org_address,
        &plan,
        &answered,
        hold,
        now,
    )?;
    Ok(done(outcome, plan.kind, reference, replies))
}

/// A `BEKREFT` or `AKSEPTERER` code (`purpose`) from `sender`: when right, the code's id and the message
/// it confirms, read again. A wrong code counts a try.
fn confirmation(
    conn: &Connection,
    ctx: &Context,
    sender: &str,
    purpose: &str,
    given: &str,
    now: DateTime<Utc>,
) -> Result<Option<(i64, Read)>> {
    let codes = crate::store::live_codes(conn, sender, purpose, now)?;
    let stored: Vec<StoredCode> = codes.iter().map(|(c, _)| c.clone()).collect();
    match code::verify(&stored, given, now) {
        Verdict::Right(id) => {
            // The payload is the row of the message waiting for confirmation.
            let row = codes
                .iter()
                .find(|(c, _)| c.id == id)
                .and_then(|(_, p)| p.as_deref()?.parse::<i64>().ok());
            let Some(row) = row else {
                return Ok(None);
            };
            let raw: Vec<u8> = conn
                .prepare_cached("SELECT raw FROM messages WHERE id = ?1")?
                .query_row([row], |r| r.get(0))?;
            let today = now.with_timezone(&ctx.settings.timezone).date_naive();
            let read = read(&ctx.settings, ctx.max_message_bytes, &raw, today)
                .map_err(|e| anyhow::anyhow!("the confirmed message can no longer be read: {e}"))?;
            Ok(Some((id, read)))
        }
        Verdict::Wrong(id) => {
            crate::store::code_tried(conn, id)?;
            Ok(None)
        }
        Verdict::NoCode => Ok(None),
    }
}

/// What the register holds that the command needs, within the scope.
#[allow(clippy::too_many_arguments)]
fn snapshot(
    conn: &Connection,
    facts: &Facts,
    msg: &message::Incoming,
    kind: &classify::Kind,
    regs: &[Found],
    lists: &[deduction::Attached],
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<Snapshot> {
    use classify::Keyword::*;
    let date = now
        .with_timezone(&settings.timezone)
        .date_naive()
        .to_string();
    Ok(match kind {
        classify::Kind::Command { keyword, args, .. } => match keyword {
            Aktivitet | MineLikepersoner => {
                Snapshot::Peers(store_snapshot::peers(conn, &facts.scope)?)
            }
            MineMedlemmer | MedlemSluttet | MedlemFlyttet | ArbeidsstedNy | ArbeidsstedNyttNavn
            | ArbeidsstedAvslutt | NyTillitsvalgt => {
                let (members, workplaces) = store_snapshot::members(conn, &facts.scope)?;
                Snapshot::Members {
                    members,
                    workplaces,
                }
            }
            Kontakter | KontaktNy | KontaktEndre | KontaktDeaktiver | KontaktAktiver => {
                let ids: Vec<i64> = facts.employers.iter().map(|e| e.id).collect();
                Snapshot::Contacts(store_snapshot::contacts(conn, &ids)?)
            }
            Innsendte | Status => {
                let ids: Vec<i64> = facts.employers.iter().map(|e| e.id).collect();
                Snapshot::Employer(store_snapshot::employer(conn, &ids, now)?)
            }
            Godkjenn | Avvis => Snapshot::Pending(store_snapshot::pending(
                conn,
                args.split_whitespace().next().unwrap_or(""),
                &date,
            )?),
            _ => Snapshot::None,
        },
        classify::Kind::Registration => {
            Snapshot::Registrations(store_snapshot::registrations(conn, &facts.scope, regs)?)
        }
        classify::Kind::Deduction if facts.is_contact => {
            let target = deduction::target(facts, msg, lists);
            let snapshot = match &target {
                deduction::Target::For { employer, period } => {
                    store_snapshot::submission(conn, employer.id, &period.to_string(), lists)?
                }
                _ => Default::default(),
            };
            Snapshot::Submission { target, snapshot }
        }
        _ => Snapshot::None,
    })
}
