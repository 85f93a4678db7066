//! `postbud demo`: a sample register and a day of real-shaped mail in a local
//! Maildir under `./postbud-demo/`, handled as the daemon would, then the
//! office's approval, an undo, the digest and a monthly letter; a plain
//! account of each step, with the attachments saved as files to open.
//!
//! The demo keeps its own calendar (from Friday 20 November 2026), so it
//! tells the same story whenever it is run.

use crate::clock::Clock;
use crate::config::{self, Config};
use crate::daemon;
use crate::intake::maildir;
use crate::jobs::Runner;
use crate::pipeline::{Context, Handled};
use crate::store::Store;
use crate::store::import::{ImportKind, import};
use crate::store::outbox::Mail;
use anyhow::{Context as _, Result};
use mail_parser::MimeHeaders as _;
use postbud_commands::Fresh;
use postbud_commands::jobs::Job;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const CONFIG: &str = r#"# Written by `postbud demo`. Paths are relative to this file's directory.
[organisation]
name = "Forbundet (demo)"
address = "post@forbund.example"
admins = ["kontor@forbund.example"]
language = "nb"

[register]
path = "var/postbud.db"

[mailbox]
kind = "maildir"
path = "var/mail"

[outgoing]
kind = "file"
path = "var/outbox"

[security]
trusted_authserv_id = "mx.forbund.example"
registration_secret_file = "config/registration.secret"

[lists]
allow_synthetic_ids = true           # the sample register's national ids are synthetic
"#;

/// The secret the sample registration strings are signed with.
const SECRET: &str = include_str!("../tests/fixtures/registration.secret");

/// The sample register: units, an employer with 40 members, its payroll
/// contact, a chapter's coordinator and its peers.
const REGISTER: &[(ImportKind, &str, &str)] = &[
    (
        ImportKind::Units,
        "units.csv",
        include_str!("../tests/fixtures/register/units.csv"),
    ),
    (
        ImportKind::Employers,
        "employers.csv",
        include_str!("../tests/fixtures/register/employers.csv"),
    ),
    (
        ImportKind::Members,
        "members.csv",
        include_str!("../tests/fixtures/register/members.csv"),
    ),
    (ImportKind::Members, "addresses.csv", ADDRESSES),
    (
        ImportKind::Contacts,
        "contacts.csv",
        include_str!("../tests/fixtures/register/contacts.csv"),
    ),
    (
        ImportKind::Peers,
        "peers.csv",
        include_str!("../tests/fixtures/register/peers.csv"),
    ),
    (
        ImportKind::Roles,
        "roles.csv",
        include_str!("../tests/fixtures/register/roles.csv"),
    ),
];

/// Kari's address, and Per, who joined last year and reads English.
const ADDRESSES: &str = "medlemsnr,navn,fodselsdato,epost,arbeidsgiver_orgnr,arbeidssted,stilling,enhet,sprak,status
50001,Kari Nordmann,1984-12-06,kari.nordmann@example.no,923609016,Hovedkontoret,Operatør,Bergen,nb,active
50104,Per Hansen,1975-03-02,per.hansen@example.no,923609016,Hovedkontoret,Operatør,Bergen,en,active
";

const KARI: &str = "kari.nordmann@example.no";
const PER: &str = "per.hansen@example.no";
const REP: &str = "leder.bergen@ffm.example";

/// A message as a member's or rep's provider delivers it: signed, and
/// checked by the organisation's mail server (`Authentication-Results`).
fn verified(from: &str, n: usize, subject: &str, body: &str) -> Vec<u8> {
    let domain = from.rsplit('@').next().unwrap_or("example.no");
    format!(
        "From: {from}\r\nTo: post@forbund.example\r\nSubject: {subject}\r\n\
         Date: Fri, 20 Nov 2026 09:{n:02}:00 +0100\r\nMessage-ID: <demo-{n}@{domain}>\r\n\
         Authentication-Results: mx.forbund.example; dkim=pass header.d={domain}; \
         spf=pass smtp.mailfrom={domain}; dmarc=pass header.from={domain}\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

/// The morning's mail, in the order it arrives, with what each is.
fn morning() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (
            "a rep pastes two registration strings from the web form (a mail client that wraps lines)",
            include_bytes!("../tests/fixtures/mail/registration-hardwrap.eml").to_vec(),
        ),
        (
            "the rep sends this year's activity list",
            include_bytes!("../tests/fixtures/mail/activity.eml").to_vec(),
        ),
        (
            "the employer's payroll office mails October's deduction list (.xlsx)",
            include_bytes!("../tests/fixtures/mail/deduction-xlsx.eml").to_vec(),
        ),
        (
            "Kari changes her phone number and her position",
            verified(
                KARI,
                1,
                "ENDRE",
                "telefon: 913 00 000\r\nstilling: Fagarbeider\r\n\r\nHilsen Kari",
            ),
        ),
        (
            "Per resigns (no date given: from the end of this month)",
            verified(PER, 2, "MELD UT", "Takk for meg."),
        ),
        (
            "the rep asks for the chapter's members",
            verified(REP, 3, "MINE MEDLEMMER", ""),
        ),
        (
            "a member writes to the office",
            include_bytes!("../tests/fixtures/mail/support.eml").to_vec(),
        ),
        (
            "an out-of-office reply",
            include_bytes!("../tests/fixtures/mail/autoreply.eml").to_vec(),
        ),
        (
            "the member's message again (delivered twice)",
            include_bytes!("../tests/fixtures/mail/support.eml").to_vec(),
        ),
        (
            "bytes that are not a message",
            b"\x00\x01\x02 this is not mail \xff\xfe".to_vec(),
        ),
    ]
}

/// Runs the demo in `dir` (normally `./postbud-demo`) and returns the account.
/// It keeps its own calendar, so it takes no clock.
pub async fn run(dir: &Path, fresh: &mut dyn Fresh) -> Result<String> {
    let cfg = prepare(dir)?;
    let clock = Clock::fixed("2026-11-20T08:30:00Z".parse().expect("a date"));
    let mut show = Show::new(dir);
    let _ = writeln!(
        show.out,
        "postbud demo in {} (the demo's calendar: Friday 20 November 2026)\n",
        dir.display()
    );
    let mut store = Store::open(&cfg.register.path)?;
    for (kind, name, text) in REGISTER {
        import(&mut store.conn, *kind, name, text, clock.now(), &|_, _| {})?;
    }
    show.line(
        "The register: the chapter Bergen, the employer Bedrift AS with 41 members \
         (Per reads English), its payroll office, the chapter's coordinator and its peers.\n",
    );

    // 09:30: the morning's mail.
    let mail = cfg.mailbox.path.clone().context("mailbox.path")?;
    maildir::create(&mail)?;
    let messages = morning();
    let mut keys = Vec::new();
    for (_, raw) in &messages {
        keys.push(maildir::deliver(&mail, raw)?);
    }
    let report = daemon::run_once(&cfg, &clock, fresh).await?;
    let _ = writeln!(
        show.out,
        "== 09:30  {} messages in the Maildir {}; `postbud run --once` handles them:\n",
        messages.len(),
        mail.display()
    );
    for (i, ((what, _), key)) in messages.iter().zip(&keys).enumerate() {
        let h = report
            .handled
            .iter()
            .find(|h| h.key.rsplit('/').next() == Some(key.as_str()));
        let _ = writeln!(show.out, "{}. {what}", i + 1);
        match h {
            Some(h) => show.handled(&store, h)?,
            None => show.line("   (not handled)\n"),
        }
    }

    // 10:15: the office approves Per's resignation.
    clock.set("2026-11-20T09:15:00Z".parse().expect("a date"));
    let ctx = Context::from_config(&cfg);
    // The references the morning's replies gave, by what the message was.
    let reference = |kind: &str| {
        report
            .handled
            .iter()
            .find(|h| h.kind == kind)
            .and_then(|h| h.reference.clone())
            .with_context(|| format!("the morning's `{kind}` has a reference"))
    };
    let per_ref = reference("resign")?;
    let kari_ref = reference("update")?;
    let before = crate::store::outbox::last_id(&store.conn)?;
    crate::admin::decide_pending(&mut store, &ctx, &per_ref, true, None, clock.now(), fresh)?;
    daemon::run_once(&cfg, &clock, fresh).await?;
    let _ = writeln!(
        show.out,
        "== 10:15  the office approves Per's resignation: `postbud approve {per_ref}`"
    );
    show.mails(&crate::store::outbox::after(&store.conn, before)?)?;

    // 11:00: Kari takes her change of position back.
    clock.set("2026-11-20T10:00:00Z".parse().expect("a date"));
    let _ = writeln!(
        show.out,
        "== 11:00  Kari writes `ANGRE {kari_ref}`: her change of position was a mistake"
    );
    maildir::deliver(&mail, &verified(KARI, 4, &format!("ANGRE {kari_ref}"), ""))?;
    let before = crate::store::outbox::last_id(&store.conn)?;
    daemon::run_once(&cfg, &clock, fresh).await?;
    show.mails(&crate::store::outbox::after(&store.conn, before)?)?;

    // 21 November, 06:00: the admins' daily digest.
    clock.set("2026-11-21T05:00:00Z".parse().expect("a date"));
    let _ = writeln!(
        show.out,
        "== Saturday 06:00  the daily digest goes to the admins (`postbud jobs run digest`)"
    );
    show.job(&cfg, &ctx, &mut store, Job::Digest, &clock, fresh)
        .await?;

    // 1 December, 07:00: the monthly letters (Per's resignation took effect
    // on 30 November, by the daily run).
    clock.set("2026-12-01T06:00:00Z".parse().expect("a date"));
    let _ = writeln!(
        show.out,
        "== 1 December 07:00  the monthly letter to each employer with changes (`postbud jobs run letters`)"
    );
    show.job(&cfg, &ctx, &mut store, Job::Letters, &clock, fresh)
        .await?;

    let cfg_path = cfg.source.display().to_string();
    let _ = writeln!(
        show.out,
        "Every reply is a file in {}; the attachments above are saved in {}.\n\
         Look further:\n  postbud --config {cfg_path} stats\n  \
         postbud --config {cfg_path} person show {KARI}\n  \
         postbud --config {cfg_path} quarantine list\n  \
         postbud --config {cfg_path} jobs list",
        cfg.outgoing
            .path
            .as_deref()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        show.files.display(),
    );
    Ok(show.out)
}

/// Makes `dir` afresh (only over an earlier demo) with its config.
fn prepare(dir: &Path) -> Result<Config> {
    if dir.join(".postbud-demo").exists() {
        std::fs::remove_dir_all(dir)
            .with_context(|| format!("cannot clear `{}`", dir.display()))?;
    } else if dir.exists() && dir.read_dir()?.next().is_some() {
        anyhow::bail!(
            "`{}` exists and is not a postbud demo: move it away first",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir.join("config"))?;
    std::fs::write(
        dir.join(".postbud-demo"),
        "made by `postbud demo`; removed by the next one\n",
    )?;
    std::fs::write(dir.join("config/registration.secret"), SECRET)?;
    let cfg_path = dir.join("config/postbud.toml");
    std::fs::write(&cfg_path, CONFIG)?;
    Ok(config::load(&cfg_path)?)
}

/// The account being written, and where attachments are saved.
struct Show {
    out: String,
    files: PathBuf,
    saved: usize,
}

impl Show {
    fn new(dir: &Path) -> Show {
        Show {
            out: String::new(),
            files: dir.join("attachments"),
            saved: 0,
        }
    }

    fn line(&mut self, text: &str) {
        let _ = writeln!(self.out, "{text}");
    }

    /// What became of a message, and the replies under its reference.
    fn handled(&mut self, store: &Store, h: &Handled) -> Result<()> {
        let verdict = match h.outcome.as_str() {
            "handled" => format!("answered as `{}` ({})", h.kind, h.result),
            "silent" if h.kind == "bounce" => {
                "a bounce: the failed address is marked as bouncing, no answer".into()
            }
            "silent" => "recorded, not answered (automatic mail)".into(),
            "duplicate" => "seen before: not handled again, not answered again".into(),
            "quarantined" => format!(
                "quarantined for an admin: {}",
                h.reason.as_deref().unwrap_or("")
            ),
            o => o.to_string(),
        };
        let _ = writeln!(self.out, "   -> {verdict}");
        if let Some(r) = &h.reference {
            self.mails(&crate::store::outbox::with_reference(&store.conn, r)?)?;
        } else {
            self.line("");
        }
        Ok(())
    }

    /// Each mail: to whom, its subject, the start of its text, and its
    /// attachments saved as files.
    fn mails(&mut self, mails: &[Mail]) -> Result<()> {
        self.mails_with(mails, false)
    }

    /// As `mails`; `html`: save the HTML version too (the digest's).
    fn mails_with(&mut self, mails: &[Mail], html: bool) -> Result<()> {
        for m in mails {
            let _ = writeln!(
                self.out,
                "   mail to {} ({}): {}",
                m.recipient, m.state, m.subject
            );
            let Some(parsed) = mail_parser::MessageParser::default().parse(&m.raw) else {
                continue;
            };
            let text = parsed
                .body_text(0)
                .map(|t| t.replace("\r\n", "\n"))
                .unwrap_or_else(|| {
                    "(the body held a one-time code and was removed once sent)".into()
                });
            let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
            for line in lines.iter().take(8) {
                let _ = writeln!(self.out, "   | {line}");
            }
            if lines.len() > 8 {
                let _ = writeln!(self.out, "   | ... ({} more lines)", lines.len() - 8);
            }
            if let Some(html) = parsed.body_html(0).filter(|_| html) {
                let path = self.save(&format!("{}.html", slug(&m.subject)), html.as_bytes())?;
                let _ = writeln!(self.out, "   + HTML version: {}", path.display());
            }
            for a in parsed.attachments() {
                let name = a.attachment_name().unwrap_or("attachment");
                let path = self.save(name, a.contents())?;
                let _ = writeln!(self.out, "   + attachment: {}", path.display());
            }
        }
        self.line("");
        Ok(())
    }

    /// Runs `job` now and sends what it queued.
    async fn job(
        &mut self,
        cfg: &Config,
        ctx: &Context,
        store: &mut Store,
        job: Job,
        clock: &Clock,
        fresh: &mut dyn Fresh,
    ) -> Result<()> {
        let before = crate::store::outbox::last_id(&store.conn)?;
        let runner = Runner::from(ctx, cfg);
        runner.apply_due(store, clock.now())?;
        runner.run(store, job, None, clock.now(), fresh, false)?;
        daemon::run_once(cfg, clock, fresh).await?;
        let html = job == Job::Digest;
        self.mails_with(&crate::store::outbox::after(&store.conn, before)?, html)
    }

    /// Saves an attachment as `NN-name` in the attachments directory.
    fn save(&mut self, name: &str, bytes: &[u8]) -> Result<PathBuf> {
        std::fs::create_dir_all(&self.files)?;
        self.saved += 1;
        // Only the file name's last part, whatever the mail said.
        let name: String = name
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or("attachment")
            .chars()
            .map(|c| if c.is_control() { '_' } else { c })
            .collect();
        let path = self.files.join(format!("{:02}-{name}", self.saved));
        std::fs::write(&path, bytes)?;
        Ok(path)
    }
}

/// A subject as a file name.
fn slug(subject: &str) -> String {
    let s: String = subject
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches('-').to_string();
    s.chars().take(40).collect()
}
