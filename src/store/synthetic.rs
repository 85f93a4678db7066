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
