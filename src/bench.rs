//! `postbud bench`: throughput figures for SPEC section 13, printed, never
//! asserted. Intake from a Maildir (parse, classify, durable commit, reply
//! queued), and replies sent over SMTP, to a built-in sink that discards
//! (postbud's own ceiling) or to a server you name (a local Postfix).

use crate::config;
use crate::daemon::{self, AnyMailbox};
use crate::intake::maildir;
use crate::outbox::{self, smtp::SmtpTransport};
use crate::pipeline::Context;
use crate::store::Store;
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
    /// Lines in the deduction-list benchmark's xlsx.
    #[arg(long, default_value_t = 100_000)]
    pub list_lines: usize,
    /// People in its register.
    #[arg(long, default_value_t = 500_000)]
    pub register: usize,
    /// Run only the deduction-list benchmark.
    #[arg(long)]
    pub lists_only: bool,
    /// Messages per transaction.
    #[arg(long, default_value_t = 500)]
    pub batch: usize,
    /// Employers in the monthly letters' benchmark (one letter and PDF each).
    #[arg(long, default_value_t = 5_000)]
    pub letters: usize,
    /// Messages of the day in the digest's benchmark.
    #[arg(long, default_value_t = 100_000)]
    pub digest_messages: usize,
    /// Run only the scheduled jobs' benchmarks (letters, digest).
    #[arg(long)]
    pub jobs_only: bool,
    /// Run only the whole job (run --once, Maildir to file outbox) and the
    /// Python comparison.
    #[arg(long)]
    pub whole_only: bool,
    /// The whole job through a running Dovecot and Postfix instead: the
    /// directory of a stack started by `tests/mailstack.sh start` (its
    /// ports.env); see `tests/bench-mailservers.sh`.
    #[arg(long)]
    pub mailstack: Option<std::path::PathBuf>,
    /// Messages for the whole job through the mail servers.
    #[arg(long, default_value_t = 2_000)]
    pub server_messages: usize,
}

pub async fn run(args: Args) -> Result<()> {
    let dir = tempfile::tempdir()?;
    if args.lists_only {
        return deduction_list(dir.path(), &args);
    }
    if let Some(stack) = &args.mailstack {
        return through_mail_servers(dir.path(), stack, &args).await;
    }
    if args.whole_only {
        return whole_job(dir.path(), &args).await;
    }
    if args.jobs_only {
        letters(dir.path(), &args)?;
        return digest(dir.path(), &args);
    }
    whole_job(dir.path(), &args).await?;
    let (cfg, n) = maildir_intake(dir.path(), &args).await?;
    let _ = cfg;
    println!(
        "(mixed messages: support requests, code requests, help, automatic replies; {n} handled)"
    );
    smtp_send(dir.path(), &args).await?;
    deduction_list(dir.path(), &args)?;
    letters(dir.path(), &args)?;
    digest(dir.path(), &args)?;
    Ok(())
}

/// The monthly letters for `--letters` employers, each with a few changes:
/// the job as it runs on the 1st, one transaction per employer (letter,
/// PDF, mail queued), timed from start to the slot done.
fn letters(dir: &std::path::Path, args: &Args) -> Result<()> {
    use postbud_commands::jobs::Job;
    let home = dir.join("letters");
    let cfg = write_config(
        &home,
        500,
        "[outgoing]\nkind = \"file\"\npath = \"var/outbox\"\n",
    )?;
    let mut store = Store::open(&cfg.register.path)?;
    let now: chrono::DateTime<chrono::Utc> = "2026-12-01T06:00:00Z".parse()?;
    crate::store::synthetic::letters_due(&mut store.conn, args.letters, 3, now)?;
    let ctx = Context::from_config(&cfg);
    let runner = crate::jobs::Runner::from(&ctx, &cfg);
    let t = Instant::now();
    let ran = runner.run(
        &mut store,
        Job::Letters,
        Some("2026-12-01T07:00:00"),
        now,
        &mut crate::clock::Random::os(),
        false,
    )?;
    let secs = t.elapsed().as_secs_f64();
    let bytes: i64 = store.conn.query_row(
        "SELECT COALESCE(SUM(length(pdf)), 0) FROM letters",
        [],
        |r| r.get(0),
    )?;
    println!(
        "monthly letters: {} employers, {} letters with PDF and {} mails queued in {secs:.1} s = {:.1} ms each (PDFs {:.0} KB on average)  [target < 60 s for 5000]",
        args.letters,
        ran.items,
        ran.mails,
        secs * 1000.0 / ran.items.max(1) as f64,
        bytes as f64 / 1024.0 / ran.items.max(1) as f64
    );
    Ok(())
}

/// The digest of a day of `--digest-messages` messages: the figures read,
/// decided and rendered for one admin.
fn digest(dir: &std::path::Path, args: &Args) -> Result<()> {
    let home = dir.join("digest");
    let cfg = write_config(
        &home,
        500,
        "[outgoing]\nkind = \"file\"\npath = \"var/outbox\"\n",
    )?;
    let mut store = Store::open(&cfg.register.path)?;
    let now: chrono::DateTime<chrono::Utc> = "2026-11-21T05:00:00Z".parse()?;
    crate::store::synthetic::busy_day(&mut store.conn, args.digest_messages, now)?;
    let ctx = Context::from_config(&cfg);
    let t = Instant::now();
    let figures = crate::store::stats::digest(&store.conn, now)?;
    let read = t.elapsed().as_secs_f64();
    let facts = postbud_commands::Facts::default();
    let mut fresh = crate::clock::Random::os();
    let cx = postbud_commands::Cx {
        facts: &facts,
        settings: &ctx.settings,
        now,
        fresh: &mut fresh,
    };
    let plan = postbud_commands::jobs::digest::decide(
        &cx,
        &figures,
        &[("kontor@forbund.example".into(), None)],
    );
    let r = &plan.replies[0];
    let rendered = ctx
        .renderer
        .render(r.language, r.template, "PB-2026-000001", &r.vars)?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "digest: a day of {} messages read in {:.0} ms, decided and rendered in {:.0} ms ({} KB of text, {} KB of HTML)  [target < 1 s]",
        figures.messages_total,
        read * 1000.0,
        secs * 1000.0,
        rendered.text.len() / 1024,
        rendered.html.len() / 1024
    );
    Ok(())
}

/// A valid (synthetic: month + 80) fødselsnummer for person `i`.
fn national_id(i: usize) -> Option<String> {
    let day = 1 + i % 28;
    let month = 81 + (i / 28) % 12;
    let year = 40 + (i / 336) % 60;
    let individual = (i / 20_160) % 500;
    let d: Vec<u32> = format!("{day:02}{month:02}{year:02}{individual:03}")
        .chars()
        .filter_map(|c| c.to_digit(10))
        .collect();
    let k = |w: &[u32], d: &[u32]| match 11 - w.iter().zip(d).map(|(a, b)| a * b).sum::<u32>() % 11
    {
        11 => Some(0),
        10 => None,
        k => Some(k),
    };
    let k1 = k(&[3, 7, 6, 1, 8, 9, 4, 5, 2], &d)?;
    let mut d2 = d.clone();
    d2.push(k1);
    let k2 = k(&[5, 4, 3, 2, 7, 6, 5, 4, 3, 2], &d2)?;
    Some(format!(
        "{day:02}{month:02}{year:02}{individual:03}{k1}{k2}"
    ))
}

/// Peak resident memory of this process so far, in MB (Linux).
fn peak_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// SPEC section 13: a 100,000-line xlsx read, validated and matched against
/// a register of 500,000 people; calamine alone in the same run.
fn deduction_list(dir: &std::path::Path, args: &Args) -> Result<()> {
    use crate::commands::cmd::submission::{Attached, Submission};
    use crate::commands::decide::Decide;
    use crate::commands::facts::EmployerBrief;
    use crate::commands::{Cx, Facts};
    let home = dir.join("lists");
    let cfg = write_config(&home, args.batch, "[lists]\nallow_synthetic_ids = true\n")?;
    let mut store = Store::open(&cfg.register.path)?;
    let ids: Vec<String> = (0..args.register * 2)
        .filter_map(national_id)
        .take(args.register)
        .collect();
    // The list's people and three more work at the employer; the rest of
    // the register elsewhere.
    let at_employer = |i: usize| i.is_multiple_of(3) && i < 3 * (args.list_lines + 3);
    crate::store::synthetic::register(&mut store.conn, &ids, at_employer, chrono::Utc::now())?;
    // The list as LibreOffice writes it: title rows, ids as numbers.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "Trekkliste Bedrift AS")?;
    sheet.write_string(1, 0, "Periode 10/2026")?;
    for (c, h) in ["Fødselsnummer", "Navn", "Beløp"].iter().enumerate() {
        sheet.write_string(3, c as u16, *h)?;
    }
    for i in 0..args.list_lines {
        let row = 4 + i as u32;
        sheet.write_number(row, 0, ids[i * 3 % ids.len()].parse::<f64>()?)?;
        sheet.write_string(row, 1, format!("Medlem {}", i * 3 % ids.len()))?;
        sheet.write_number(row, 2, 412.5)?;
    }
    let bytes = book.save_to_buffer()?;
    let base_mb = peak_mb();

    let t = Instant::now();
    {
        use calamine::Reader;
        let mut wb = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes.as_slice()))?;
        let name = wb.sheet_names()[0].clone();
        let range = wb.worksheet_range(&name)?;
        assert!(range.height() > args.list_lines);
    }
    let calamine_secs = t.elapsed().as_secs_f64();

    let settings = cfg.settings();
    let now = chrono::Utc::now();
    let today = settings.today(now);
    let t = Instant::now();
    let attached = vec![Attached {
        read: postbud_core::lists::read("liste.xlsx", &bytes, &settings.list_limits, today),
        name: "liste.xlsx".into(),
        sha256: "bench".into(),
        size: bytes.len() as u64,
    }];
    let read_secs = t.elapsed().as_secs_f64();
    let employer = EmployerBrief {
        id: 1,
        orgnr: "923609016".into(),
        name: "Bedrift AS".into(),
        declared: Some("2026-01-01".into()),
    };
    let facts = Facts {
        sender: "lonn@bedrift.example".into(),
        is_contact: true,
        verified: true,
        employers: vec![employer.clone()],
        ..Facts::default()
    };
    let submission = Submission {
        subject: "Trekkliste 10/2026".into(),
        files: attached,
    };
    let mut fresh = crate::clock::Random::os();
    let mut cx = Cx {
        facts: &facts,
        settings: &settings,
        now,
        fresh: &mut fresh,
    };
    let reads = submission.read(&crate::store::reads::Reader(&store.conn), &cx)?;
    let plan = submission.decide(&mut cx, reads);
    let total = t.elapsed().as_secs_f64();
    let matched = plan.replies[0].vars["matched"].as_u64().unwrap_or(0);
    let not_deducted = plan.replies[0].vars["not_deducted"]
        .as_array()
        .map_or(0, Vec::len);
    println!(
        "deduction list: {} lines ({} KB xlsx) read, validated and matched against {} people in {total:.2} s \
         (reading {read_secs:.2} s; calamine alone {calamine_secs:.2} s, ratio {:.1}); {matched} matched, \
         {not_deducted} not deducted; peak memory {:.0} MB above the {:.0} MB before  [target < 1 s and 150 MB]",
        args.list_lines,
        bytes.len() / 1024,
        ids.len(),
        total / calamine_secs,
        peak_mb() - base_mb,
        base_mb,
    );
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

/// A home with a file outbox, a register of 1,000 members, and `n` mixed
/// messages in its Maildir: support requests (quoted, encoded), code
/// requests from members, help, automatic replies.
fn mixed_home(dir: &std::path::Path, n: usize, batch: usize) -> Result<(config::Config, Store)> {
    let cfg = write_config(
        dir,
        batch,
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
    for i in 0..n {
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
    Ok((cfg, store))
}

/// The whole job as a user sees it: `postbud run --once` on `--messages`
/// messages in a Maildir until every reply is written to the file outbox;
/// then the plain Python script of SPEC section 13 on the same messages,
/// where `python3` is present.
async fn whole_job(dir: &std::path::Path, args: &Args) -> Result<()> {
    let home = dir.join("whole");
    let (cfg, store) = mixed_home(&home, args.messages, args.batch)?;
    drop(store);
    let t = Instant::now();
    let report = daemon::run_once(
        &cfg,
        &crate::clock::Clock::system(),
        &mut crate::clock::Random::os(),
    )
    .await?;
    let secs = t.elapsed().as_secs_f64();
    let rate = report.handled.len() as f64 / secs;
    println!(
        "whole job (run --once, Maildir to file outbox): {} messages, {} replies written in {secs:.2} s = {rate:.0} messages/s  [target >= 5000/s]",
        report.handled.len(),
        report.drained.sent,
    );
    // The same messages through the plain Python script.
    let py = dir.join("python");
    let (pcfg, pstore) = mixed_home(&py, args.messages, args.batch)?;
    drop(pstore);
    let script = py.join("baseline.py");
    std::fs::write(&script, PYTHON_BASELINE)?;
    let mail = pcfg.mailbox.path.clone().context("mailbox.path")?;
    let t = Instant::now();
    match std::process::Command::new("python3")
        .arg(&script)
        .arg(&mail)
        .arg(py.join("python.db"))
        .arg(py.join("python-outbox"))
        .output()
    {
        Ok(out) if out.status.success() => {
            let secs = t.elapsed().as_secs_f64();
            let n: f64 = String::from_utf8_lossy(&out.stdout)
                .trim()
                .parse()
                .unwrap_or(0.0);
            println!(
                "  the plain Python script (email, sqlite3, one commit per message, replies as files): {n:.0} messages in {secs:.2} s = {:.0} messages/s; postbud is {:.1} times faster",
                n / secs,
                rate / (n / secs).max(1e-9)
            );
        }
        Ok(out) => println!(
            "  the Python script failed: {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        ),
        Err(_) => println!("  (python3 is not installed: no comparison)"),
    }
    Ok(())
}

/// The whole job through a real Dovecot and Postfix (SPEC section 13):
/// `--server-messages` mixed messages appended to the stack's INBOX; first
/// a bare client doing the same I/O with no thinking (Python: UID FETCH and
/// UID MOVE in batches of 200, then as many small replies over 4 SMTP
/// connections), then `postbud run --once` over IMAP and SMTP until Postfix
/// has accepted every reply.
async fn through_mail_servers(
    dir: &std::path::Path,
    stack: &std::path::Path,
    args: &Args,
) -> Result<()> {
    let ports = std::fs::read_to_string(stack.join("ports.env"))
        .with_context(|| format!("{}: no ports.env (start the stack first)", stack.display()))?;
    let port = |key: &str| -> Result<u16> {
        ports
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .and_then(|v| v.trim().parse().ok())
            .with_context(|| format!("{key} in ports.env"))
    };
    let (imap, smtp) = (port("IMAP_PORT")?, port("SMTP_PORT")?);
    let n = args.server_messages;
    // The messages: those of the Maildir benchmark, the register with them.
    let home = dir.join("servers");
    let (_, store) = mixed_home(&home, n, args.batch)?;
    drop(store);
    let mut raws = Vec::new();
    for e in std::fs::read_dir(home.join("var/mail/new"))? {
        raws.push(std::fs::read(e?.path())?);
    }
    let replies = raws
        .iter()
        .filter(|r| !String::from_utf8_lossy(r).contains("Auto-Submitted"))
        .count();
    let user = "post@forbund.example";
    let script = dir.join("bare.py");
    std::fs::write(&script, PYTHON_BARE_CLIENT)?;
    let spool = dir.join("spool");
    std::fs::create_dir_all(&spool)?;
    for (i, raw) in raws.iter().enumerate() {
        std::fs::write(spool.join(format!("{i:06}.eml")), raw)?;
    }
    let bare = |step: &str| -> Result<f64> {
        let out = std::process::Command::new("python3")
            .arg(&script)
            .arg(step)
            .arg(imap.to_string())
            .arg(smtp.to_string())
            .arg(user)
            .arg(&spool)
            .arg(replies.to_string())
            .output()
            .context("python3")?;
        anyhow::ensure!(
            out.status.success(),
            "the bare client failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or(0.0))
    };
    bare("append")?;
    let bare_secs = bare("run")?;
    let bare_rate = n as f64 / bare_secs;
    println!(
        "through Dovecot and Postfix, {n} messages, {replies} replies:\n  bare client (Python imaplib/smtplib: UID FETCH + UID MOVE by 200, replies over 4 SMTP connections): {bare_secs:.2} s = {bare_rate:.0} messages/s"
    );
    bare("append")?;
    let text = std::fs::read_to_string(home.join("config/postbud.toml"))?
        .replace(
            "[mailbox]\nkind = \"maildir\"\npath = \"var/mail\"\n",
            &format!(
                "[mailbox]\nkind = \"imap\"\nhost = \"127.0.0.1\"\nport = {imap}\ntls = \"none\"\n\
                 username = \"{user}\"\npassword_file = \"config/imap.pw\"\nidle = false\n"
            ),
        )
        .replace(
            "[outgoing]\nkind = \"file\"\npath = \"var/outbox\"\n",
            &format!(
                "[outgoing]\nkind = \"smtp\"\nhost = \"127.0.0.1\"\nport = {smtp}\ntls = \"none\"\nconnections = 4\n"
            ),
        );
    std::fs::write(home.join("config/postbud.toml"), text)?;
    std::fs::write(home.join("config/imap.pw"), "pw")?;
    let cfg = config::load(&home.join("config/postbud.toml"))?;
    anyhow::ensure!(
        cfg.mailbox.kind == config::MailboxKind::Imap
            && cfg.outgoing.kind == config::OutgoingKind::Smtp,
        "the bench's config was not switched to IMAP and SMTP"
    );
    let t = Instant::now();
    let report = daemon::run_once(
        &cfg,
        &crate::clock::Clock::system(),
        &mut crate::clock::Random::os(),
    )
    .await?;
    let secs = t.elapsed().as_secs_f64();
    let rate = report.handled.len() as f64 / secs;
    println!(
        "  postbud run --once (IMAP in, SMTP out over 4 connections): {} messages, {} replies accepted by Postfix in {secs:.2} s = {rate:.0} messages/s = {:.0}% of the bare client  [target >= 80%]",
        report.handled.len(),
        report.drained.sent,
        100.0 * rate / bare_rate.max(1e-9)
    );
    Ok(())
}

/// The bare client of SPEC section 13. `append`: put the spooled messages
/// in INBOX. `run`: fetch and move them in batches of 200, then send as many
/// small replies over 4 SMTP connections; prints the seconds `run` took.
const PYTHON_BARE_CLIENT: &str = r#"
import imaplib, os, smtplib, sys, threading, time
step, imap_port, smtp_port, user, spool, replies = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], int(sys.argv[6])
def login():
    m = imaplib.IMAP4("127.0.0.1", imap_port)
    m.login(user, "pw")
    return m
if step == "append":
    m = login()
    for name in sorted(os.listdir(spool)):
        with open(os.path.join(spool, name), "rb") as f:
            m.append("INBOX", None, None, f.read())
    m.logout()
    sys.exit(0)
t = time.time()
m = login()
m.create("Behandlet")
m.select("INBOX")
typ, data = m.uid("SEARCH", None, "ALL")
uids = data[0].split()
for i in range(0, len(uids), 200):
    batch = b",".join(uids[i:i + 200]).decode()
    m.uid("FETCH", batch, "(BODY.PEEK[])")
    m.uid("MOVE", batch, "Behandlet")
m.logout()
def send(k):
    s = smtplib.SMTP("127.0.0.1", smtp_port)
    for j in range(k, replies, 4):
        s.sendmail("post@forbund.example", ["r%d@example.test" % j],
                   "From: post@forbund.example\r\nTo: r%d@example.test\r\nSubject: Re: bench\r\n\r\nKvittering %d.\r\n" % (j, j))
    s.quit()
threads = [threading.Thread(target=send, args=(k,)) for k in range(4)]
for th in threads: th.start()
for th in threads: th.join()
print(time.time() - t)
"#;

/// SPEC section 13's plain Python script: for each message in the Maildir,
/// parse it with `email`, skip automatic replies, record it in SQLite (one
/// commit per message, synchronous=FULL), write a reply as a file, move the
/// message to `cur`. Prints how many it handled.
const PYTHON_BASELINE: &str = r#"
import email, email.policy, os, sqlite3, sys
maildir, db_path, outbox = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(outbox, exist_ok=True)
db = sqlite3.connect(db_path)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=FULL")
db.execute("CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, identity TEXT UNIQUE, sender TEXT, subject TEXT, kind TEXT)")
db.execute("CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY, recipient TEXT, raw BLOB)")
db.commit()
new = os.path.join(maildir, "new")
n = 0
for name in sorted(os.listdir(new)):
    path = os.path.join(new, name)
    with open(path, "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.default)
    sender = str(msg.get("From", ""))
    subject = str(msg.get("Subject", ""))
    body = msg.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    auto = msg.get("Auto-Submitted", "no").lower() != "no"
    kind = "silent" if auto else ("code" if subject.strip().upper() == "KODE" else "support")
    identity = "mid:%s %s" % (msg.get("Message-ID", ""), sender)
    try:
        cur = db.execute("INSERT INTO messages (identity, sender, subject, kind) VALUES (?, ?, ?, ?)", (identity, sender, subject, kind))
        if not auto:
            reply = email.message.EmailMessage()
            reply["From"] = "post@forbund.example"
            reply["To"] = sender
            reply["Subject"] = "Re: " + subject
            reply["In-Reply-To"] = msg.get("Message-ID", "")
            reply.set_content("Hei,\n\nTakk for meldingen. Vi svarer så snart vi kan.\n\n" + text[:200])
            raw = reply.as_bytes()
            db.execute("INSERT INTO outbox (recipient, raw) VALUES (?, ?)", (sender, raw))
            db.commit()
            with open(os.path.join(outbox, "%08d.eml" % cur.lastrowid), "wb") as out:
                out.write(raw)
        else:
            db.commit()
    except sqlite3.IntegrityError:
        db.rollback()
    os.rename(path, os.path.join(maildir, "cur", name + ":2,S"))
    n += 1
print(n)
"#;

async fn maildir_intake(dir: &std::path::Path, args: &Args) -> Result<(config::Config, usize)> {
    let home = dir.join("intake");
    let (cfg, mut store) = mixed_home(&home, args.messages, args.batch)?;
    let ctx = Context::from_config(&cfg);
    let mut mailbox = AnyMailbox::open(&cfg)?;
    let t = Instant::now();
    let handled = daemon::intake_all(
        &cfg,
        &ctx,
        &mut store,
        &mut mailbox,
        &crate::clock::Clock::system(),
        &mut crate::clock::Random::os(),
    )
    .await?;
    let secs = t.elapsed().as_secs_f64();
    let replies = crate::store::outbox::count(&store.conn)?;
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
    crate::store::synthetic::queue(&mut store.conn, args.replies, chrono::Utc::now())?;
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
