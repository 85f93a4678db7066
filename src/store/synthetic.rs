//! Synthetic registers and queues for `postbud bench`: many people and many
//! queued replies, written fast in one transaction each.

use super::{outbox, ts};
use anyhow::Result;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

/// Two employers (1: Bedrift AS 923609016, 2: Annen AS 974760673) and one
/// active member per national id in `ids`, at employer 1 where
/// `at_first(i)`, else at employer 2.
pub fn register(
    conn: &mut Connection,
    ids: &[String],
    at_first: impl Fn(usize) -> bool,
    now: DateTime<Utc>,
) -> Result<()> {
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO employers (orgnr, name) VALUES ('923609016', 'Bedrift AS'), ('974760673', 'Annen AS')",
        [],
    )?;
    let now = ts(now);
    {
        let mut insert = tx.prepare(
            "INSERT INTO people (member_no, name, national_id, employer_id, status, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 'active', ?5, ?5)",
        )?;
        for (i, id) in ids.iter().enumerate() {
            let employer = if at_first(i) { 1 } else { 2 };
            insert.execute(params![
                format!("{}", 100_000 + i),
                format!("Medlem {i}"),
                id,
                employer,
                now
            ])?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// `n` small replies queued to `r<i>@example.test`, due now.
pub fn queue(conn: &mut Connection, n: usize, now: DateTime<Utc>) -> Result<()> {
    let tx = conn.transaction()?;
    for i in 0..n {
        let raw = format!(
            "From: post@forbund.example\r\nTo: r{i}@example.test\r\nSubject: Re: [PB-2026-{i:06}] bench\r\n\
             Message-ID: <bench.{i}@forbund.example>\r\nAuto-Submitted: auto-replied\r\n\r\nKvittering {i}.\r\n"
        );
        outbox::enqueue(
            &tx,
            &outbox::Outgoing {
                message: None,
                reference: &format!("PB-2026-{i:06}"),
                kind: "support",
                result: "ok",
                recipient: &format!("r{i}@example.test"),
                mail_from: "post@forbund.example",
                rfc_message_id: &format!("bench.{i}@forbund.example"),
                subject: "bench",
                raw: raw.as_bytes(),
                secret: false,
            },
            now,
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// The valid organisation numbers (mod 11) `9xxxxxxxC` in order, from
/// `from` on: (the number, where to go on from).
pub fn next_orgnr(from: usize) -> (String, usize) {
    const W: [u32; 8] = [3, 2, 7, 6, 5, 4, 3, 2];
    let mut n = from;
    loop {
        let base = format!("9{:07}", n % 10_000_000);
        n += 1;
        let digits: Vec<u32> = base.chars().filter_map(|c| c.to_digit(10)).collect();
        let sum: u32 = digits.iter().zip(W).map(|(d, w)| d * w).sum();
        let check = (11 - sum % 11) % 11;
        if check != 10 {
            return (format!("{base}{check}"), n);
        }
    }
}

/// `employers` employers, each with a contact for letters (declaration
/// accepted) and `changes` members whose deduction stops, for the monthly
/// letters' benchmark.
pub fn letters_due(
    conn: &mut Connection,
    employers: usize,
    changes: usize,
    now: DateTime<Utc>,
) -> Result<()> {
    let tx = conn.transaction()?;
    let stamp = ts(now);
    let today = stamp.get(..10).unwrap_or("2026-11-30").to_string();
    let mut next = 0;
    for e in 0..employers {
        let (orgnr, n) = next_orgnr(next);
        next = n;
        tx.execute(
            "INSERT INTO employers (orgnr, name) VALUES (?1, ?2)",
            params![orgnr, format!("Arbeidsgiver {e} AS")],
        )?;
        let employer = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO contacts (email, name, employer_id, duties, declaration) VALUES (?1, 'Lønn', ?2, 'receipts|letters|reminders', '2026-01-05')",
            params![format!("lonn{e}@example.test"), employer],
        )?;
        for c in 0..changes {
            tx.execute(
                "INSERT INTO people (member_no, name, birth_date, employer_id, status, created_at, updated_at)
                 VALUES (?1, ?2, '1984-12-06', ?3, 'resigned', ?4, ?4)",
                params![format!("{}", 1_000_000 + e * changes + c), format!("Medlem {e}-{c} Nordmann"), employer, stamp],
            )?;
            let person = tx.last_insert_rowid();
            tx.execute(
                "INSERT INTO employer_changes (employer_id, person_id, what, why, effective_on, recorded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    employer,
                    person,
                    if c % 3 == 0 { "start" } else { "stop" },
                    if c % 3 == 0 { "moved-in" } else { "resigned" },
                    today,
                    stamp
                ],
            )?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// A day of `n` messages handled in the 24 hours before `now` (every kind
/// and outcome), with replies, pending changes, tickets and quarantined
/// messages among them, for the digest's benchmark.
pub fn busy_day(conn: &mut Connection, n: usize, now: DateTime<Utc>) -> Result<()> {
    const KINDS: [(&str, &str, &str); 6] = [
        ("handled", "support", "ok"),
        ("handled", "code", "ok"),
        ("handled", "submission", "partial"),
        ("silent", "silent", "ok"),
        ("handled", "member-left", "pending"),
        ("quarantined", "", ""),
    ];
    let tx = conn.transaction()?;
    {
        let mut msg = tx.prepare(
            "INSERT INTO messages (identity, sender, subject, kind, result, ref, outcome, reason, received_at, handled_at)
             VALUES (?1, ?2, ?3, NULLIF(?4, ''), NULLIF(?5, ''), ?6, ?7, ?8, ?9, ?9)",
        )?;
        let mut out = tx.prepare(
            "INSERT INTO outbox (message_id, ref, kind, result, recipient, mail_from, rfc_message_id, subject, raw, state, next_attempt_at, created_at, sent_at)
             VALUES (?1, ?2, ?3, 'ok', ?4, 'post@forbund.example', ?5, 'Re: bench', X'00', ?6, ?7, ?7, ?7)",
        )?;
        let mut pending = tx.prepare(
            "INSERT INTO pending_changes (ref, kind, requested_by, message_id, summary, payload, created_at)
             VALUES (?1, 'member-left', ?2, ?3, ?4, '{\"kind\":\"member-left\",\"person_id\":1}', ?5)",
        )?;
        let mut ticket = tx.prepare(
            "INSERT INTO tickets (ref, message_id, sender, subject, body, created_at) VALUES (?1, ?2, ?3, ?4, '', ?5)",
        )?;
        for i in 0..n {
            let at = ts(now - chrono::Duration::milliseconds((i as i64 * 86_000_000) / n as i64));
            let (outcome, kind, result) = KINDS[i % KINDS.len()];
            let reference = format!("PB-2026-{:06}", 100_000 + i);
            let sender = format!("m{}@example.test", i % 5000);
            msg.execute(params![
                format!("mid:b{i}@example.test {sender}"),
                sender,
                format!("Emne {i}"),
                kind,
                result,
                reference,
                outcome,
                (outcome == "quarantined").then_some("not a mail message"),
                at
            ])?;
            let row = tx.last_insert_rowid();
            if outcome == "handled" {
                out.execute(params![
                    row,
                    reference,
                    kind,
                    sender,
                    format!("r{i}@forbund.example"),
                    if i % 97 == 0 { "failed" } else { "sent" },
                    at
                ])?;
            }
            if kind == "member-left" && i % 60 == 4 {
                pending.execute(params![
                    reference,
                    sender,
                    row,
                    format!("Medlem {i} har sluttet"),
                    at
                ])?;
            }
            if kind == "support" && i % 36 == 0 {
                ticket.execute(params![reference, row, sender, format!("Spørsmål {i}"), at])?;
            }
        }
    }
    tx.commit()?;
    Ok(())
}
