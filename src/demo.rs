//! `postbud demo`: a sample register and sample messages in a local Maildir
//! under `./postbud-demo/`, one run, and a plain account of what each message
//! was and what was answered.

use crate::clock::Clock;
use crate::config;
use crate::daemon;
use crate::intake::maildir;
use crate::store::Store;
use crate::store::import::{ImportKind, import};
use anyhow::{Context as _, Result};
use postbud_commands::Fresh;
use std::fmt::Write as _;
use std::path::Path;

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
"#;

const UNITS: &str = include_str!("../tests/fixtures/register/units.csv");
const EMPLOYERS: &str = include_str!("../tests/fixtures/register/employers.csv");
const MEMBERS: &str = "medlemsnr,navn,fodselsdato,fodselsnummer,epost,telefon,arbeidsgiver_orgnr,arbeidssted,stilling,enhet,sprak,status
50001,Kari Nordmann,1984-12-06,06928401578,kari.nordmann@example.no,,923609016,Hovedkontoret,Operatør,Bergen,nb,active
50004,Per Hansen,1975-03-02,,per.hansen@example.no,,923609016,Hovedkontoret,Operatør,Bergen,en,active
";

/// The sample messages, in the order they arrive, with what each shows.
const MESSAGES: &[(&str, &[u8])] = &[
    ("a question to the office", include_bytes!("../tests/fixtures/mail/support.eml")),
    ("a member asks for a one-time code", include_bytes!("../tests/fixtures/mail/code.eml")),
    (
        "an unknown address asks for a code",
        b"From: ukjent@example.no\r\nTo: post@forbund.example\r\nSubject: KODE\r\nMessage-ID: <demo-unknown@example.no>\r\n\r\n\r\n",
    ),
    (
        "a member asks for help, in English",
        b"From: Per Hansen <per.hansen@example.no>\r\nTo: post@forbund.example\r\nSubject: help\r\nMessage-ID: <demo-help@example.no>\r\n\r\nWhat can I do?\r\n",
    ),
    ("an out-of-office reply", include_bytes!("../tests/fixtures/mail/autoreply.eml")),
    ("a bounce for an old reply", include_bytes!("../tests/fixtures/mail/bounce-dsn.eml")),
    ("the first question again (delivered twice)", include_bytes!("../tests/fixtures/mail/support.eml")),
    ("bytes that are not a message", b"\x00\x01\x02 this is not mail \xff\xfe"),
];

/// Runs the demo in `dir` (normally `./postbud-demo`) and returns the account.
pub async fn run(dir: &Path, clock: &Clock, fresh: &mut dyn Fresh) -> Result<String> {
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
    let cfg_path = dir.join("config/postbud.toml");
    std::fs::write(&cfg_path, CONFIG)?;
    let cfg = config::load(&cfg_path)?;

    let mut store = Store::open(&cfg.register.path)?;
    let now = clock.now();
    for (kind, name, text) in [
        (ImportKind::Units, "units.csv", UNITS),
        (ImportKind::Employers, "employers.csv", EMPLOYERS),
        (ImportKind::Members, "members.csv", MEMBERS),
    ] {
        import(&mut store.conn, kind, name, text, now, &|_, _| {})?;
    }
    drop(store);

    let mail = cfg.mailbox.path.clone().context("mailbox.path")?;
    maildir::create(&mail)?;
    let mut keys = Vec::new();
    for (_, raw) in MESSAGES {
        keys.push(maildir::deliver(&mail, raw)?);
    }
    let report = daemon::run_once(&cfg, clock, fresh).await?;

    let store = Store::open(&cfg.register.path)?;
    let mut out = String::new();
    let _ = writeln!(out, "postbud demo in {}\n", dir.display());
    let _ = writeln!(
        out,
        "{} sample messages were put in the Maildir {}; postbud handled them once:\n",
        MESSAGES.len(),
        mail.display()
    );
    for (i, ((what, _), key)) in MESSAGES.iter().zip(&keys).enumerate() {
        let h = report
            .handled
            .iter()
            .find(|h| h.key.rsplit('/').next() == Some(key.as_str()));
        let _ = writeln!(out, "{}. {what}", i + 1);
        let Some(h) = h else {
            let _ = writeln!(out, "   (not handled)\n");
            continue;
        };
        let verdict = match h.outcome.as_str() {
            "handled" => format!("answered as `{}`", h.kind),
            "silent" if h.kind == "bounce" => {
                "a bounce: the failed address is marked as bouncing, no answer".into()
            }
            "silent" => "recorded, not answered (automatic mail or limit)".into(),
            "duplicate" => "seen before: not handled again, not answered again".into(),
            "quarantined" => format!("quarantined: {}", h.reason.as_deref().unwrap_or("")),
            o => o.to_string(),
        };
        let _ = writeln!(out, "   -> {verdict}");
        if let Some(r) = &h.reference {
            for crate::store::outbox::Mail {
                recipient: to,
                subject,
                raw,
                state,
            } in crate::store::outbox::with_reference(&store.conn, r)?
            {
                let _ = writeln!(out, "   reply to {to} ({state}): {subject}");
                let text = mail_parser::MessageParser::default()
                    .parse(&raw)
                    .and_then(|m| m.body_text(0).map(|t| t.replace("\r\n", "\n")))
                    .unwrap_or_else(|| {
                        "(the body held a one-time code and was removed once sent)".into()
                    });
                for line in text.lines().filter(|l| !l.trim().is_empty()).take(4) {
                    let _ = writeln!(out, "   | {line}");
                }
            }
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(
        out,
        "Replies sent: {} (as files in {}).",
        report.drained.sent,
        cfg.outgoing
            .path
            .as_deref()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "Try: postbud --config {} stats   |   quarantine list",
        cfg_path.display()
    );
    Ok(out)
}
