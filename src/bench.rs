//! `postbud bench`: throughput figures for SPEC section 13, printed, never
//! asserted. Intake from a Maildir (parse, classify, durable commit, reply
//! queued), and replies sent over SMTP, to a built-in sink that discards
//! (postbud's own ceiling) or to a server you name (a local Postfix).

use crate::config;
use crate::daemon::{self, AnyMailbox};
use crate::intake::maildir;
use crate::outbox::{self, smtp::SmtpTransport};
use crate::pipeline::Context;
use crate::store::{Store, ts};
use anyhow::{Context as _, Result};
use std::time::Instant;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// Benchmark options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Messages in the Maildir.
    #[arg(long, default_value_t = 10_000)]
    pub messages: usize,
    /// Replies to send over SMTP.
    #[arg(long, default_value_t = 5_000)]
    pub replies: usize,
    /// Send to this SMTP server (plain, 127.0.0.1:PORT) instead of the
    /// built-in discarding sink.
    #[arg(long)]
    pub smtp: Option<String>,
    /// SMTP connections used at once.
    #[arg(long, default_value_t = 1)]
    pub connections: usize,
    /// Messages per transaction.
    #[arg(long, default_value_t = 500)]
    pub batch: usize,
}

pub async fn run(args: Args) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (cfg, n) = maildir_intake(dir.path(), &args).await?;
    let _ = cfg;
    println!(
        "(mixed messages: support requests, code requests, help, automatic replies; {n} handled)"
    );
    smtp_send(dir.path(), &args).await?;
    Ok(())
}

fn write_config(dir: &std::path::Path, batch: usize, outgoing: &str) -> Result<config::Config> {
    std::fs::create_dir_all(dir.join("config"))?;
    let path = dir.join("config/postbud.toml");
    std::fs::write(
        &path,
        format!(
            "[organisation]\nname = \"Bench\"\naddress = \"post@forbund.example\"\n\
             [mailbox]\nkind = \"maildir\"\npath = \"var/mail\"\nbatch_size = {batch}\n\
             [security]\nmax_replies_per_hour = 1000000\n{outgoing}"
        ),
    )?;
    Ok(config::load(&path)?)
}

async fn maildir_intake(dir: &std::path::Path, args: &Args) -> Result<(config::Config, usize)> {
    let home = dir.join("intake");
    let cfg = write_config(
        &home,
        args.batch,
        "[outgoing]\nkind = \"file\"\npath = \"var/outbox\"\n",
    )?;
    let mut store = Store::open(&cfg.register.path)?;
    let mut members = String::from("medlemsnr,navn,epost\n");
    for i in 0..1000 {
        members.push_str(&format!("{i},Medlem {i},m{i}@example.no\n"));
    }
    crate::store::import::import(
        &mut store.conn,
        crate::store::import::ImportKind::Members,
        "bench.csv",
        &members,
        chrono::Utc::now(),
        &|_, _| {},
    )?;
    let mail = cfg.mailbox.path.clone().context("mailbox.path")?;
    maildir::create(&mail)?;
    for i in 0..args.messages {
        let raw = match i % 10 {
            0 => format!(
                "From: m{}@example.no\r\nTo: post@forbund.example\r\nSubject: KODE\r\nMessage-ID: <b{i}@example.no>\r\n\r\n\r\n",
                i % 1000
            ),
            1 => format!(
                "From: Ola <ola{i}@example.no>\r\nTo: post@forbund.example\r\nSubject: Automatisk svar: ferie\r\nAuto-Submitted: auto-replied\r\nMessage-ID: <b{i}@example.no>\r\n\r\nBorte.\r\n"
            ),
            2 => format!(
                "From: x{i}@example.no\r\nTo: post@forbund.example\r\nSubject: hjelp\r\nMessage-ID: <b{i}@example.no>\r\n\r\n\r\n"
            ),
            _ => format!(
                "From: \"Ola Nordmann\" <ola{i}@example.no>\r\nTo: post@forbund.example\r\nSubject: =?utf-8?q?F=C3=A5r?= ikke logget inn {i}\r\n\
                 Date: Fri, 20 Nov 2026 09:15:00 +0100\r\nMessage-ID: <b{i}@example.no>\r\nMIME-Version: 1.0\r\n\
                 Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
                 Hei,\r\n\r\nJeg f=C3=A5r feilmelding n=C3=A5r jeg logger inn. Hva gj=C3=B8r jeg?\r\n\r\nOla\r\n\r\n\
                 Den fre. 20. nov. 2026 skrev post@forbund.example:\r\n> KODE\r\n> tidligere tekst\r\n"
            ),
        };
        maildir::deliver(&mail, raw.as_bytes())?;
    }
    let ctx = Context::from_config(&cfg);
    let mut mailbox = AnyMailbox::open(&cfg)?;
    let t = Instant::now();
    let handled = daemon::intake_all(&cfg, &ctx, &mut store, &mut mailbox).await?;
    let secs = t.elapsed().as_secs_f64();
    let replies: i64 = store
        .conn
        .query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0))?;
    println!(
        "maildir intake: {} messages in {secs:.2} s = {:.0} messages/s ({replies} replies queued, batch {}, synchronous=FULL)  [target >= 10000/s]",
        handled.len(),
        handled.len() as f64 / secs,
        args.batch
    );
    Ok((cfg, handled.len()))
}

async fn smtp_send(dir: &std::path::Path, args: &Args) -> Result<()> {
    let (host, port, what) = match &args.smtp {
        Some(hp) => {
            let (h, p) = hp.rsplit_once(':').context("--smtp takes HOST:PORT")?;
            (
                h.to_string(),
                p.parse::<u16>()?,
                format!("SMTP server {hp}"),
            )
        }
        None => {
            let port = sink().await?;
            (
                "127.0.0.1".to_string(),
                port,
                "built-in discarding SMTP sink".to_string(),
            )
        }
    };
    let home = dir.join("smtp");
    let cfg = write_config(
        &home,
        args.batch,
        &format!("[outgoing]\nkind = \"smtp\"\nhost = \"{host}\"\nport = {port}\ntls = \"none\"\n"),
    )?;
    let mut store = Store::open(&cfg.register.path)?;
    let now = ts(chrono::Utc::now());
    {
        let tx = store.conn.transaction()?;
        for i in 0..args.replies {
            let raw = format!(
                "From: post@forbund.example\r\nTo: r{i}@example.test\r\nSubject: Re: [PB-2026-{i:06}] bench\r\n\
                 Message-ID: <bench.{i}@forbund.example>\r\nAuto-Submitted: auto-replied\r\n\r\nKvittering {i}.\r\n"
            );
            tx.execute(
                "INSERT INTO outbox (kind, result, recipient, mail_from, rfc_message_id, subject, raw, next_attempt_at, created_at)
                 VALUES ('support', 'ok', ?1, 'post@forbund.example', ?2, 'bench', ?3, ?4, ?4)",
                rusqlite::params![format!("r{i}@example.test"), format!("bench.{i}@forbund.example"), raw.as_bytes(), now],
            )?;
        }
        tx.commit()?;
    }
    let mut transport: Vec<SmtpTransport> = (0..args.connections)
        .map(|_| SmtpTransport::new(&cfg.outgoing))
        .collect();
    let t = Instant::now();
    let d = outbox::drain(&mut store.conn, &mut transport, chrono::Utc::now, || false).await?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "smtp send: {} replies to the {what} in {secs:.2} s = {:.0} replies/s, {} connection(s) ({} to retry, {} failed)  [target >= 1000/s to a sink]",
        d.sent,
        d.sent as f64 / secs,
        args.connections,
        d.retry,
        d.failed
    );
    Ok(())
}

/// A minimal SMTP server on 127.0.0.1 that accepts everything and keeps
/// nothing. Returns its port.
async fn sink() -> Result<u16> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let (r, mut w) = stream.into_split();
                let mut r = BufReader::new(r);
                if w.write_all(b"220 sink ESMTP\r\n").await.is_err() {
                    return;
                }
                let mut line = String::new();
                let mut in_data = false;
                loop {
                    line.clear();
                    match r.read_line(&mut line).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    let reply: &[u8] = if in_data {
                        if line == ".\r\n" {
                            in_data = false;
                            b"250 2.0.0 queued\r\n"
                        } else {
                            continue;
                        }
                    } else {
                        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                        match verb.as_str() {
                            "EHLO" => b"250-sink\r\n250-PIPELINING\r\n250 8BITMIME\r\n",
                            "DATA" => {
                                in_data = true;
                                b"354 go on\r\n"
                            }
                            "QUIT" => {
                                let _ = w.write_all(b"221 bye\r\n").await;
                                return;
                            }
                            _ => b"250 2.0.0 ok\r\n",
                        }
                    };
                    if w.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Ok(port)
}
