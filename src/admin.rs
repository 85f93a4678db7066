//! Admin commands on the register: quarantine list/show/retry, code verify,
//! stats and backup. Each returns text to print; `main` prints it.

use crate::commands::OsFresh;
use crate::commands::code::{self, StoredCode, Verdict};
use crate::pipeline::{self, Context};
use crate::store::{Store, ts};
use anyhow::{Context as _, Result, bail};
use chrono::{DateTime, Duration, Utc};
use rusqlite::{OptionalExtension, params};
use std::fmt::Write as _;
use std::path::Path;

/// `postbud quarantine list`
pub fn quarantine_list(store: &Store) -> Result<String> {
    let mut out = String::new();
    let mut stmt = store.conn.prepare(
        "SELECT id, handled_at, COALESCE(sender, ''), COALESCE(subject, ''), COALESCE(reason, '')
         FROM messages WHERE outcome = 'quarantined' ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
        ))
    })?;
    let mut n = 0;
    for row in rows {
        let (id, at, from, subject, reason) = row?;
        n += 1;
        let _ = writeln!(
            out,
            "{id:>6}  {}  {from}  «{subject}»\n        {reason}",
            &at[..at.len().min(19)]
        );
    }
    if n == 0 {
        out.push_str("the quarantine is empty\n");
    }
    Ok(out)
}

/// `postbud quarantine show <id>`: the reason and the raw message.
pub fn quarantine_show(store: &Store, id: i64) -> Result<String> {
    let (reason, raw): (Option<String>, Option<Vec<u8>>) = store
        .conn
        .query_row(
            "SELECT reason, raw FROM messages WHERE id = ?1 AND outcome = 'quarantined'",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .with_context(|| format!("no quarantined message {id} (see `postbud quarantine list`)"))?;
    Ok(format!(
        "reason: {}\n\n{}",
        reason.unwrap_or_default(),
        String::from_utf8_lossy(&raw.unwrap_or_default())
    ))
}

/// `postbud quarantine retry <id>`: puts the stored message through the
/// pipeline again. Its replies go out with the next run.
pub fn quarantine_retry(
    store: &mut Store,
    ctx: &Context,
    id: i64,
    now: DateTime<Utc>,
) -> Result<String> {
    let raw: Vec<u8> = store
        .conn
        .query_row(
            "SELECT raw FROM messages WHERE id = ?1 AND outcome = 'quarantined'",
            [id],
            |r| r.get(0),
        )
        .optional()?
        .with_context(|| format!("no quarantined message {id} (see `postbud quarantine list`)"))?;
    let tx = store.conn.transaction()?;
    let today = now.with_timezone(&ctx.settings.timezone).date_naive();
    let read = pipeline::read(&ctx.settings, ctx.max_message_bytes, &raw, today);
    let h = pipeline::handle_in_savepoint(
        &tx,
        ctx,
        &format!("retry-{id}"),
        &raw,
        read,
        now,
        &mut OsFresh,
    )?;
    tx.commit()?;
    Ok(match h.reason {
        Some(r) => format!("message {id} is still quarantined: {r}\n"),
        None => format!(
            "message {id}: {} {}{}; {} replies queued\n",
            h.outcome,
            h.kind,
            h.reference.map(|r| format!(" [{r}]")).unwrap_or_default(),
            h.replies
        ),
    })
}

/// `postbud code verify <address> <code>`: true when right and unused; a
/// right code is used up, a wrong one counts a try.
pub fn code_verify(
    store: &mut Store,
    address: &str,
    given: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let address = address.trim().to_lowercase();
    let tx = store
        .conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let codes: Vec<StoredCode> = crate::store::live_codes(&tx, &address, "login", now)?
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    let ok = match code::verify(&codes, given, now) {
        Verdict::Right(id) => {
            tx.execute(
                "UPDATE codes SET used_at = ?2 WHERE id = ?1",
                params![id, ts(now)],
            )?;
            crate::store::audit(
                &tx,
                now,
                None,
                &address,
                "use",
                "code",
                Some(&address),
                Some("login"),
            )?;
            true
        }
        Verdict::Wrong(id) => {
            crate::store::code_tried(&tx, id)?;
            false
        }
        Verdict::NoCode => false,
    };
    tx.commit()?;
    Ok(ok)
}

/// `postbud stats`: the last 24 hours, and what waits for an admin.
pub fn stats(store: &Store, now: DateTime<Utc>) -> Result<String> {
    let since = ts(now - Duration::hours(24));
    let c = &store.conn;
    let mut out = String::new();
    let _ = writeln!(out, "messages, last 24 hours:");
    let mut stmt = c.prepare(
        "SELECT outcome, COALESCE(kind, '-'), COALESCE(result, '-'), COUNT(*) FROM messages
         WHERE handled_at >= ?1 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
    )?;
    let mut any = false;
    for row in stmt.query_map([&since], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })? {
        let (outcome, kind, result, n) = row?;
        any = true;
        let _ = writeln!(out, "  {n:>6}  {outcome:<12} {kind:<14} {result}");
    }
    if !any {
        let _ = writeln!(out, "  none");
    }
    let _ = writeln!(out, "outbox:");
    let mut stmt = c.prepare("SELECT state, COUNT(*) FROM outbox GROUP BY 1 ORDER BY 1")?;
    for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
        let (state, n) = row?;
        let _ = writeln!(out, "  {n:>6}  {state}");
    }
    let count = |sql: &str| -> Result<i64> { Ok(c.query_row(sql, [], |r| r.get(0))?) };
    let _ = writeln!(out, "waiting for an admin:");
    let _ = writeln!(
        out,
        "  {:>6}  open tickets",
        count("SELECT COUNT(*) FROM tickets WHERE status = 'open'")?
    );
    let _ = writeln!(
        out,
        "  {:>6}  quarantined messages",
        count("SELECT COUNT(*) FROM messages WHERE outcome = 'quarantined'")?
    );
    let _ = writeln!(
        out,
        "  {:>6}  held (over the reply limit)",
        count("SELECT COUNT(*) FROM messages WHERE outcome = 'held'")?
    );
    let _ = writeln!(
        out,
        "  {:>6}  replies failed or uncertain",
        count("SELECT COUNT(*) FROM outbox WHERE state IN ('failed', 'unknown')")?
    );
    let _ = writeln!(
        out,
        "  {:>6}  bouncing addresses",
        count("SELECT COUNT(*) FROM bounces")?
    );
    let mut stmt = c.prepare(
        "SELECT ref, sender, subject, topic FROM tickets WHERE status = 'open' ORDER BY id DESC LIMIT 20",
    )?;
    let tickets: Vec<(String, String, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<_, _>>()?;
    if !tickets.is_empty() {
        let _ = writeln!(out, "open tickets (newest first):");
        for (r, from, subject, topic) in tickets {
            let _ = writeln!(out, "  {r}  {from:<32} {topic:<12} «{subject}»");
        }
    }
    Ok(out)
}

/// `postbud backup FILE`: an online backup (SQLite's backup API).
pub fn backup(store: &Store, to: &Path) -> Result<()> {
    if to.exists() {
        bail!("`{}` exists already: give a new file name", to.display());
    }
    store
        .conn
        .backup(
            rusqlite::MAIN_DB,
            to,
            None::<fn(rusqlite::backup::Progress)>,
        )
        .with_context(|| format!("cannot write backup to `{}`", to.display()))
}

/// `postbud pending`: changes waiting for an admin.
pub fn pending_list(store: &Store) -> Result<String> {
    let mut stmt = store.conn.prepare(
        "SELECT ref, kind, requested_by, created_at, summary FROM pending_changes
         WHERE status = 'pending' ORDER BY id",
    )?;
    let rows: Vec<(String, String, String, String, String)> = stmt
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<Result<_, _>>()?;
    if rows.is_empty() {
        return Ok("nothing is waiting\n".into());
    }
    let mut out = String::new();
    for (r, kind, by, at, summary) in rows {
        let _ = writeln!(
            out,
            "{r}  {kind:<16} {by}  {}\n    {summary}",
            &at[..at.len().min(10)]
        );
    }
    Ok(out)
}

/// `postbud approve <ref>` / `postbud reject <ref> [--why]`: decided as an
/// admin's `GODKJENN` / `AVVIS` by mail would be; the replies it queues (to
/// the requester, a new rep and the outgoing one) go out with the next run.
pub fn decide_pending(
    store: &mut Store,
    ctx: &Context,
    reference: &str,
    approve: bool,
    why: Option<&str>,
    now: DateTime<Utc>,
) -> Result<String> {
    use crate::commands::{Facts, decisions};
    use postbud_core::classify::Keyword;
    let admin = ctx
        .admins
        .first()
        .cloned()
        .unwrap_or_else(|| ctx.settings.org_address.clone());
    let tx = store.conn.transaction()?;
    let date = now
        .with_timezone(&ctx.settings.timezone)
        .date_naive()
        .to_string();
    let pending = crate::store::snapshot::pending(&tx, reference, &date)?;
    let keyword = if approve {
        Keyword::Godkjenn
    } else {
        Keyword::Avvis
    };
    let args = format!("{reference} {}", why.unwrap_or(""));
    let facts = Facts {
        sender: admin.clone(),
        is_admin: true,
        verified: true,
        ..Facts::default()
    };
    let plan = decisions::decide(&facts, &ctx.settings, keyword, &args, pending.as_ref(), now);
    if plan.result != crate::plan::Outcome::Ok {
        bail!(
            "{reference}: {}",
            match &pending {
                None => "no such pending change (see `postbud pending`)".to_string(),
                Some(p) => format!("it is {} already", p.status),
            }
        );
    }
    // The admin at the terminal needs no mail about what they just did.
    let mut plan = plan;
    plan.replies.retain(|r| r.to != admin);
    let msg = postbud_core::message::Incoming {
        subject: format!("{} {reference}", keyword.name()),
        ..Default::default()
    };
    let reference_owned = crate::store::next_ref(&tx, chrono::Datelike::year(&now))?;
    let answered = crate::store::apply::Answered {
        row: None,
        msg: &msg,
        sender: "cli",
        reference: Some(&reference_owned),
    };
    let replies = crate::store::apply::apply(
        &tx,
        &ctx.renderer,
        &ctx.settings.org_address,
        &plan,
        &answered,
        false,
        now,
    )?;
    tx.commit()?;
    Ok(format!(
        "{reference} {}; {replies} messages queued (sent by the daemon or the next `postbud run --once`)\n",
        if approve {
            "approved and carried out"
        } else {
            "rejected"
        }
    ))
}
