//! What the office does from the command line: the quarantine, `code
//! verify`, pending changes and their approval, a person's data (`postbud
//! person`), stats and backups. Each
//! returns text to print; `main` prints it. No SQL here: the store's
//! functions, and decisions made by the same commands mail uses.

use crate::pipeline::{self, Context};
use crate::store::apply::{self, Origin};
use crate::store::reads::Reader;
use crate::store::{Store, audit, codes, messages, stats};
use anyhow::{Context as _, Result, bail};
use chrono::{DateTime, Utc};
use postbud_commands::cmd::decision::Decision;
use postbud_commands::codes::{Verdict, verify};
use postbud_commands::plan::Outcome;
use postbud_commands::{Command, Cx, Facts, Fresh, Register};
use std::fmt::Write as _;
use std::path::Path;

/// `postbud quarantine list`
pub fn quarantine_list(store: &Store) -> Result<String> {
    let mut out = String::new();
    let rows = messages::quarantined(&store.conn)?;
    for q in &rows {
        let _ = writeln!(
            out,
            "{:>6}  {}  {}  «{}»\n        {}",
            q.row,
            &q.at[..q.at.len().min(19)],
            q.sender,
            q.subject,
            q.reason
        );
    }
    if rows.is_empty() {
        out.push_str("the quarantine is empty\n");
    }
    Ok(out)
}

fn quarantined(store: &Store, id: i64) -> Result<messages::Kept> {
    messages::quarantined_one(&store.conn, id)?
        .with_context(|| format!("no quarantined message {id} (see `postbud quarantine list`)"))
}

/// `postbud quarantine show <id>`: the reason and the raw message.
pub fn quarantine_show(store: &Store, id: i64) -> Result<String> {
    let kept = quarantined(store, id)?;
    Ok(format!(
        "reason: {}\n{}\n{}",
        kept.reason,
        if kept.truncated {
            "(only the start of the message was kept: the whole of it is in the mailbox's quarantine folder)\n"
        } else {
            ""
        },
        String::from_utf8_lossy(&kept.raw)
    ))
}

/// `postbud quarantine retry <id>`: puts the stored message through the
/// pipeline again. Its replies go out with the next run.
pub fn quarantine_retry(
    store: &mut Store,
    ctx: &Context,
    id: i64,
    now: DateTime<Utc>,
    fresh: &mut dyn Fresh,
) -> Result<String> {
    let kept = quarantined(store, id)?;
    if kept.truncated {
        bail!(
            "message {id} was too large to keep whole in the register: move it from the mailbox's \
             quarantine folder back to the inbox (after raising the limit, if that was the reason)"
        );
    }
    let raw = kept.raw;
    let tx = store.conn.transaction()?;
    let read = postbud_commands::read(&ctx.settings, &raw, ctx.settings.today(now));
    let h =
        pipeline::handle_in_savepoint(&tx, ctx, &format!("retry-{id}"), &raw, read, now, fresh)?;
    if h.reason.is_none() {
        messages::retried(&tx, id, now)?;
    }
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
    let live = Reader(&tx).live_codes(&address, "login", now)?;
    let ok = match verify(&live, given, now) {
        Verdict::Right(code) => {
            codes::used(&tx, code.id, now)?;
            audit(
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
            codes::tried(&tx, id)?;
            false
        }
        Verdict::NoCode => false,
    };
    tx.commit()?;
    Ok(ok)
}

/// `postbud stats`: the last 24 hours, and what waits for an admin: the
/// digest's figures, as text for a terminal.
pub fn stats(store: &Store, now: DateTime<Utc>) -> Result<String> {
    let f = stats::digest(&store.conn, now)?;
    let mut out = String::new();
    let _ = writeln!(out, "messages, last 24 hours: {}", f.messages_total);
    for m in &f.messages {
        let _ = writeln!(
            out,
            "  {:>6}  {:<12} {:<14} {}",
            m.count, m.outcome, m.kind, m.result
        );
    }
    let _ = writeln!(
        out,
        "mail: {} sent in 24 hours, {} waiting to go",
        f.sent, f.queued
    );
    let _ = writeln!(out, "waiting for an admin:");
    for (n, what) in [
        (f.pending_total, "pending changes (postbud pending)"),
        (f.pdfs.len() as i64, "deduction lists as PDF to handle"),
        (
            f.deducted_elsewhere.len() as i64,
            "members deducted at another employer",
        ),
        (
            f.scheduled.len() as i64,
            "approved changes taking effect later",
        ),
        (f.tickets_total, "open tickets"),
        (
            f.quarantine_total,
            "quarantined messages (postbud quarantine list)",
        ),
        (f.failed_total, "mail failed or uncertain"),
        (
            f.bouncing.len() as i64,
            "addresses that bounced in 24 hours",
        ),
        (
            f.locked.len() as i64,
            "addresses out of confirmation guesses in 24 hours",
        ),
        (
            f.held.len() as i64,
            "messages held over the reply limit in 24 hours",
        ),
    ] {
        let _ = writeln!(out, "  {n:>6}  {what}");
    }
    if !f.tickets.is_empty() {
        let _ = writeln!(out, "open tickets (oldest first):");
        for t in &f.tickets {
            let _ = writeln!(
                out,
                "  {}  {:<32} {:<12} «{}»",
                t.reference, t.sender, t.topic, t.subject
            );
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
    let rows = stats::pending(&store.conn)?;
    if rows.is_empty() {
        return Ok("nothing is waiting\n".into());
    }
    let mut out = String::new();
    for w in rows {
        let _ = writeln!(
            out,
            "{}  {:<16} {}  {}\n    {}",
            w.reference,
            w.kind,
            w.requested_by,
            &w.created_at[..w.created_at.len().min(10)],
            w.summary
        );
    }
    Ok(out)
}

/// `postbud approve <ref>` / `postbud reject <ref> [--why]`: decided as an
/// admin's `GODKJENN` / `AVVIS` by mail would be; the mail it queues (to the
/// requester, a new rep and the outgoing one) goes out with the next run.
pub fn decide_pending(
    store: &mut Store,
    ctx: &Context,
    reference: &str,
    approve: bool,
    why: Option<&str>,
    now: DateTime<Utc>,
    fresh: &mut dyn Fresh,
) -> Result<String> {
    let admin = ctx
        .admins
        .first()
        .cloned()
        .unwrap_or_else(|| ctx.settings.org_address.clone());
    let tx = store.conn.transaction()?;
    let facts = Facts {
        sender: admin.clone(),
        is_admin: true,
        verified: true,
        ..Facts::default()
    };
    let decision = Decision {
        approve,
        reference: reference.trim().to_uppercase(),
        reason: why.map(str::to_string).filter(|w| !w.trim().is_empty()),
    };
    let pending = Reader(&tx).pending(&decision.reference, ctx.settings.today(now))?;
    let mut cx = Cx {
        facts: &facts,
        settings: &ctx.settings,
        now,
        fresh,
    };
    let mut plan = Command::Decision(decision).decide(&Reader(&tx), &mut cx)?;
    if plan.result != Outcome::Ok {
        bail!(
            "{reference}: {}",
            match &pending {
                None => "no such pending change (see `postbud pending`)".to_string(),
                Some(p) => format!("it is {} already", p.status),
            }
        );
    }
    // The admin at the terminal needs no mail about what they just did.
    plan.replies.retain(|r| r.to != admin);
    let queued = apply::apply(
        &tx,
        &ctx.renderer,
        &plan,
        Origin::Cli,
        plan.reference.as_deref(),
        false,
        now,
    )?;
    tx.commit()?;
    Ok(format!(
        "{reference} {}; {queued} messages queued (sent by the daemon or the next `postbud run --once`)\n",
        if approve {
            "approved and carried out"
        } else {
            "rejected"
        }
    ))
}

/// Everything held on the person `who` names (an address or a member
/// number), as `MINE DATA` shows it, in the organisation's language but
/// with the whole national id: requests under GDPR article 15 also come
/// by letter. Messages and replies of the last 12 months, as by mail.
pub fn person_tables(
    store: &Store,
    ctx: &Context,
    who: &str,
    now: DateTime<Utc>,
) -> Result<Vec<postbud_commands::plan::Table>> {
    use postbud_commands::cmd::my_data::{MESSAGE_MONTHS, tables};
    let reader = Reader(&store.conn);
    let Some(id) = crate::store::people::find(&store.conn, who)? else {
        bail!("no person has the address or member number `{who}`");
    };
    let Some(person) = reader.person(id)? else {
        bail!("no person {id}");
    };
    let since = now - chrono::Duration::days(365 * MESSAGE_MONTHS / 12);
    let data = reader.person_data(id, since)?;
    Ok(tables(&person, &data, ctx.settings.language, false))
}

/// `postbud person show <address|member number>`: every part as text.
pub fn person_show(store: &Store, ctx: &Context, who: &str, now: DateTime<Utc>) -> Result<String> {
    let mut out = String::new();
    for t in person_tables(store, ctx, who, now)? {
        let _ = writeln!(out, "{}", t.name);
        if t.rows.is_empty() {
            let _ = writeln!(out, "  -");
        }
        for row in &t.rows {
            // A sheet of fields is one field per line; a list, one row.
            if t.headers.len() == 2 && t.name != "E-post" {
                let _ = writeln!(
                    out,
                    "  {:<20} {}",
                    row[0],
                    row.get(1).map_or("", String::as_str)
                );
            } else {
                let cells: Vec<String> = t
                    .headers
                    .iter()
                    .zip(row)
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(h, v)| format!("{h}: {v}"))
                    .collect();
                let _ = writeln!(out, "  {}", cells.join("; "));
            }
        }
        out.push('\n');
    }
    Ok(out)
}

/// `postbud person export <address|member number> FILE.xlsx`: one sheet per
/// part. Returns what to print.
pub fn person_export(
    store: &Store,
    ctx: &Context,
    who: &str,
    file: &Path,
    now: DateTime<Utc>,
) -> Result<String> {
    let tables = person_tables(store, ctx, who, now)?;
    let bytes = crate::sheets::workbook(&tables)?;
    std::fs::write(file, bytes).with_context(|| format!("cannot write `{}`", file.display()))?;
    let rows: usize = tables.iter().map(|t| t.rows.len()).sum();
    Ok(format!(
        "wrote {} ({} sheets, {rows} rows)\n",
        file.display(),
        tables.len()
    ))
}

/// `postbud outbox list`: mail that failed, or whose delivery is uncertain
/// (interrupted after it was handed over: it may have arrived).
pub fn outbox_list(store: &Store) -> Result<String> {
    let rows = crate::store::outbox::undelivered(&store.conn)?;
    if rows.is_empty() {
        return Ok("no mail failed or is uncertain\n".into());
    }
    let mut out = String::new();
    for crate::store::outbox::Undelivered {
        id,
        to,
        kind,
        reference,
        state,
        error,
        created,
    } in rows
    {
        let _ = writeln!(
            out,
            "{id:>6}  {state:<8} {}  {to:<32} {kind:<12} {}\n        {}",
            &created[..created.len().min(16)],
            reference.as_deref().unwrap_or("-"),
            error.as_deref().unwrap_or("")
        );
    }
    let _ = writeln!(
        out,
        "`postbud outbox resend ID` sends one again (an uncertain one may then arrive twice)."
    );
    Ok(out)
}

/// `postbud outbox resend ID`: queues a failed or uncertain mail again.
pub fn outbox_resend(store: &Store, id: i64, now: DateTime<Utc>) -> Result<bool> {
    let again = crate::store::outbox::resend(&store.conn, id, now)?;
    if again {
        crate::store::audit(
            &store.conn,
            now,
            None,
            "cli",
            "resend",
            "outbox",
            Some(&id.to_string()),
            None,
        )?;
    }
    Ok(again)
}
