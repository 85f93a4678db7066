//! One batch of fetched messages through the stages of SPEC section 3, in
//! ONE SQLite transaction with a savepoint per message:
//!
//! 1. read (pure, on a second thread): limits, parse, classify, the command;
//! 2. load: is it a duplicate, who is the sender;
//! 3. decide (pure): the command reads what it needs and makes a plan;
//! 4. record and apply: the message row, the plan's changes and its mail.
//!
//! A message that fails rolls back alone and is quarantined with its
//! reason; the caller moves messages only after `handle` committed. No
//! message can stop the mail behind it: each is marked in hand before it is
//! touched; one the process died on is tried again once, alone, and after a
//! second death quarantined unread (SPEC section 3, "No poison pills").

use crate::config::Config;
use crate::intake::{Destination, Fetched};
use crate::render::Renderer;
use crate::store::apply::{self, Origin};
use crate::store::messages::{self, Seen};
use crate::store::reads::Reader;
use crate::store::{self, Store, facts, in_hand, next_ref};
use anyhow::{Context as _, Result};
use chrono::{DateTime, Datelike, Utc};
use postbud_commands::{Cx, Fresh, Read, Settings, read};
use rusqlite::Connection;

/// What the pipeline needs besides the register: read-only, built once.
pub struct Context {
    pub settings: Settings,
    pub renderer: Renderer,
    /// `organisation.admins`, lower-cased.
    pub admins: Vec<String>,
}

impl Context {
    pub fn from_config(cfg: &Config) -> Context {
        Context {
            settings: cfg.settings(),
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
    /// messages.result (`ok`, `rejected`, ...); empty when not handled.
    pub result: String,
    pub replies: usize,
    /// The quarantine reason.
    pub reason: Option<String>,
}

/// Handles fetched messages and commits: those the process died on before
/// are quarantined unread (twice) or handled alone (once); the rest in one
/// batch. Never fails because of a message's content: only when the
/// register itself cannot be written. The results are in `batch`'s order.
pub fn handle(
    store: &mut Store,
    ctx: &Context,
    batch: &[Fetched],
    now: DateTime<Utc>,
    fresh: &mut dyn Fresh,
) -> Result<Vec<Handled>> {
    let hashes: Vec<String> = batch.iter().map(|f| hex_sha256(&f.raw)).collect();
    let strikes = in_hand::strikes(&store.conn, &hashes)?;
    let mut out: Vec<(usize, Handled)> = Vec::with_capacity(batch.len());
    let mut rest: Vec<usize> = Vec::new();
    for (i, (f, h)) in batch.iter().zip(&hashes).enumerate() {
        match strikes.get(h).copied().unwrap_or(0) {
            0 => rest.push(i),
            1 => {
                tracing::warn!(key = %f.key, "the process stopped while this message was in hand: trying it again, alone");
                in_hand::mark(&mut store.conn, std::slice::from_ref(h), 2, now)?;
                let done = handle_batch(
                    store,
                    ctx,
                    std::slice::from_ref(f),
                    std::slice::from_ref(h),
                    now,
                    fresh,
                )?;
                out.extend(done.into_iter().map(|d| (i, d)));
            }
            _ => out.push((i, died_twice(store, f, now)?)),
        }
    }
    if !rest.is_empty() {
        let fetched: Vec<Fetched> = rest.iter().map(|&i| batch[i].clone()).collect();
        let marks: Vec<String> = rest.iter().map(|&i| hashes[i].clone()).collect();
        in_hand::mark(&mut store.conn, &marks, 1, now)?;
        let done = handle_batch(store, ctx, &fetched, &marks, now, fresh)?;
        out.extend(rest.into_iter().zip(done));
    }
    out.sort_by_key(|(i, _)| *i);
    Ok(out.into_iter().map(|(_, h)| h).collect())
}

/// A message the process died on twice: quarantined without reading it.
/// Its mark stays: fetched again (the process died before moving it), it
/// is quarantined again, never read.
fn died_twice(store: &mut Store, f: &Fetched, now: DateTime<Utc>) -> Result<Handled> {
    let reason = "postbud stopped twice while handling this message (a crash, out of memory, \
                  or killed), so it was not read again; `postbud quarantine retry` tries once more"
        .to_string();
    tracing::error!(key = %f.key, "{reason}");
    let tx = store.conn.transaction()?;
    let identity = postbud_core::message::identity(&f.raw, None);
    messages::quarantine(&tx, &identity, None, None, &reason, &f.raw, now)?;
    tx.commit()?;
    Ok(Handled {
        key: f.key.clone(),
        dest: Destination::Quarantine,
        outcome: "quarantined".into(),
        kind: String::new(),
        reference: None,
        result: String::new(),
        replies: 0,
        reason: Some(reason),
    })
}

fn hex_sha256(raw: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(raw)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Handles a batch in one transaction, clears its in-hand marks and commits.
/// Reading needs no register, so a second thread reads message k+1 while
/// this one writes message k.
fn handle_batch(
    store: &mut Store,
    ctx: &Context,
    batch: &[Fetched],
    marks: &[String],
    now: DateTime<Utc>,
    fresh: &mut dyn Fresh,
) -> Result<Vec<Handled>> {
    let tx = store
        .conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let today = ctx.settings.today(now);
    let settings = &ctx.settings;
    let read_one = |f: &Fetched| {
        std::panic::catch_unwind(|| read(settings, &f.raw, today))
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
    in_hand::clear(&tx, marks)?;
    tx.commit().context("cannot commit the batch")?;
    Ok(out)
}

/// Handles one message, already read, inside its own savepoint of
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
    store::savepoint(conn)?;
    let attempt = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        handle_one(conn, ctx, key, raw, &read, now, fresh)
    }));
    let failure = match attempt {
        Ok(Ok(h)) => {
            store::release(conn)?;
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
    store::roll_back(conn)?;
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
    let parsed = postbud_core::message::parse(raw);
    let identity = postbud_core::message::identity(raw, parsed.as_ref());
    let sender = parsed
        .as_ref()
        .and_then(|p| p.from.as_ref())
        .map(|a| a.email.as_str());
    let subject = parsed.as_ref().map(|p| p.subject.as_str());
    messages::quarantine(conn, &identity, sender, subject, &reason, raw, now)?;
    Ok(Handled {
        key: key.to_string(),
        dest: Destination::Quarantine,
        outcome: "quarantined".into(),
        kind: String::new(),
        reference: None,
        result: String::new(),
        replies: 0,
        reason: Some(reason),
    })
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
    let done = |outcome: &str, kind: &str, result: &str, reference, replies| Handled {
        key: key.to_string(),
        dest: Destination::Processed,
        outcome: outcome.to_string(),
        kind: kind.to_string(),
        reference,
        result: result.to_string(),
        replies,
        reason: None,
    };
    // Load: a duplicate is counted and goes no further.
    let seen = messages::seen(conn, &read.identity)?;
    if let Some(Seen { row, outcome }) = &seen
        && outcome != "quarantined"
    {
        messages::seen_again(conn, *row)?;
        return Ok(done("duplicate", "", "", None, 0));
    }
    #[cfg(debug_assertions)]
    test_hooks::in_hand(raw);
    let msg = &read.msg;
    let sender = msg
        .from
        .as_ref()
        .map(|a| a.email.as_str())
        .unwrap_or_default();
    let mut facts = facts::sender(conn, sender, &ctx.admins, &ctx.settings, now)?;
    facts.verified = read.verified;

    // Decide.
    let mut cx = Cx {
        facts: &facts,
        settings: &ctx.settings,
        now,
        fresh,
    };
    let plan = read.command.decide(&Reader(conn), &mut cx)?;

    // Record and apply.
    let silent = plan.replies.is_empty() && !plan.needs_ref;
    let hold = !plan.replies.is_empty()
        && facts.replies_last_hour + plan.replies.len() as i64 > ctx.settings.max_replies_per_hour;
    let outcome = match (silent, hold) {
        (true, _) => "silent",
        (false, true) => "held",
        (false, false) => "handled",
    };
    let reference = match (silent, &plan.reference) {
        (true, _) => None,
        (false, Some(r)) => Some(r.clone()),
        (false, None) => Some(next_ref(conn, now.year())?),
    };
    let row = messages::record(
        conn,
        seen.map(|s| s.row),
        &messages::Handled {
            identity: &read.identity,
            sender,
            subject: &msg.subject,
            kind: plan.kind,
            result: plan.result.as_str(),
            reference: reference.as_deref(),
            outcome,
            raw,
        },
        now,
    )?;
    let origin = Origin::Message { row, msg, sender };
    let replies = apply::apply(
        conn,
        &ctx.renderer,
        &plan,
        origin,
        reference.as_deref(),
        hold,
        now,
    )?;
    Ok(done(
        outcome,
        plan.kind,
        plan.result.as_str(),
        reference,
        replies,
    ))
}

/// Hooks for tests of what happens when the process dies with a message in
/// hand: only in debug builds, only when the variables are set.
#[cfg(debug_assertions)]
mod test_hooks {
    use std::sync::OnceLock;

    fn var(name: &str, cell: &'static OnceLock<Option<Vec<u8>>>) -> Option<&'static [u8]> {
        cell.get_or_init(|| std::env::var(name).ok().map(String::into_bytes))
            .as_deref()
    }

    fn holds(raw: &[u8], marker: &[u8]) -> bool {
        !marker.is_empty() && raw.windows(marker.len()).any(|w| w == marker)
    }

    /// `POSTBUD_TEST_ABORT_ON=<text>`: a message holding the text aborts the
    /// process; `POSTBUD_TEST_STALL_ON=<text>`: it stalls a minute (to be
    /// killed from outside).
    pub fn in_hand(raw: &[u8]) {
        static ABORT: OnceLock<Option<Vec<u8>>> = OnceLock::new();
        static STALL: OnceLock<Option<Vec<u8>>> = OnceLock::new();
        if var("POSTBUD_TEST_ABORT_ON", &ABORT).is_some_and(|m| holds(raw, m)) {
            std::process::abort();
        }
        if var("POSTBUD_TEST_STALL_ON", &STALL).is_some_and(|m| holds(raw, m)) {
            std::thread::sleep(std::time::Duration::from_secs(60));
        }
    }
}
