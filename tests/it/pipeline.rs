//! The whole pipeline on the embedded default (Maildir in, file outbox out,
//! a real SQLite file): real-shaped messages in, the replies postbud wrote
//! read back and snapshot-tested.

use crate::support::{Home, code_in, fixture};
use postbud::config;

#[test]
fn support_request_gets_a_ticket_and_a_receipt() {
    let home = Home::new("");
    home.deliver(&fixture("support.eml"));
    let report = home.run();
    assert_eq!(report.handled.len(), 1);
    let replies = home.replies();
    assert_eq!(replies.len(), 1);
    let r = &replies[0];
    insta::assert_snapshot!("support_receipt_nb", r.snapshot());
    assert_eq!(
        r.header("In-Reply-To").as_deref(),
        Some("<179539872526.20558.12336543993315991017@example.no>")
    );
    let reference = r.header("X-Postbud-Ref").unwrap();
    assert!(
        r.html.contains(&reference),
        "the HTML part carries the reference"
    );
    assert!(
        r.html.contains("&#171;") || r.html.contains("«"),
        "{}",
        r.html
    );
    assert_eq!(
        home.count("SELECT COUNT(*) FROM tickets WHERE status = 'open'"),
        1
    );
    assert_eq!(home.folder_count(""), 0);
    assert_eq!(home.folder_count("Behandlet"), 1);
}

#[test]
fn code_is_sent_to_the_member_and_verifies_once() {
    let home = Home::new("");
    home.deliver(&fixture("code.eml"));
    home.run();
    let replies = home.replies();
    assert_eq!(replies.len(), 1);
    let r = &replies[0];
    assert_eq!(r.to, "kari.nordmann@example.no");
    assert_eq!(r.header("X-Postbud-Kind").as_deref(), Some("code"));
    let code = code_in(&r.text);
    insta::assert_snapshot!("code_nb", r.snapshot());
    // Stored hashed, body wiped from the outbox once sent.
    let store = home.store();
    let stored: String = store
        .conn
        .query_row("SELECT hash FROM codes", [], |r| r.get(0))
        .unwrap();
    assert!(!stored.contains(&code));
    let raw: Vec<u8> = store
        .conn
        .query_row("SELECT raw FROM outbox", [], |r| r.get(0))
        .unwrap();
    assert!(!String::from_utf8_lossy(&raw).contains(&code));
    drop(store);
    let mut store = home.store();
    let now = home.now();
    let wrong = if code == "000000" { "000001" } else { "000000" };
    assert!(
        !postbud::admin::code_verify(&mut store, "kari.nordmann@example.no", wrong, now).unwrap()
    );
    assert!(
        postbud::admin::code_verify(&mut store, "Kari.Nordmann@example.no", &code, now).unwrap()
    );
    assert!(
        !postbud::admin::code_verify(&mut store, "kari.nordmann@example.no", &code, now).unwrap(),
        "single use"
    );
}

#[test]
fn code_verify_command_exits_0_then_1() {
    let home = Home::new("");
    home.deliver(&fixture("code.eml"));
    home.run();
    let code = code_in(&home.replies()[0].text);
    let bin = env!("CARGO_BIN_EXE_postbud");
    let cfg = home.dir.path().join("config/postbud.toml");
    let run = |c: &str| {
        std::process::Command::new(bin)
            .env("POSTBUD_NOW", crate::support::home::NOW)
            .args([
                "--config",
                cfg.to_str().unwrap(),
                "code",
                "verify",
                "kari.nordmann@example.no",
                c,
            ])
            .output()
            .unwrap()
    };
    let first = run(&code);
    assert!(first.status.success(), "{first:?}");
    assert_eq!(String::from_utf8_lossy(&first.stdout).trim(), "ok");
    assert_eq!(run(&code).status.code(), Some(1));
}

#[test]
fn five_wrong_tries_kill_a_code() {
    let home = Home::new("");
    home.deliver(&fixture("code.eml"));
    home.run();
    let code = code_in(&home.replies()[0].text);
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let mut store = home.store();
    let now = home.now();
    for _ in 0..5 {
        assert!(
            !postbud::admin::code_verify(&mut store, "kari.nordmann@example.no", wrong, now)
                .unwrap()
        );
    }
    assert!(
        !postbud::admin::code_verify(&mut store, "kari.nordmann@example.no", &code, now).unwrap()
    );
}

#[test]
fn code_expires() {
    let home = Home::new("[security]\ncode_ttl_minutes = 1\n");
    home.deliver(&fixture("code.eml"));
    home.run();
    let code = code_in(&home.replies()[0].text);
    let mut store = home.store();
    let later = home.now() + chrono::Duration::minutes(2);
    assert!(
        !postbud::admin::code_verify(&mut store, "kari.nordmann@example.no", &code, later).unwrap()
    );
}

fn kode_from(addr: &str, n: usize) -> Vec<u8> {
    format!("From: {addr}\r\nTo: post@forbund.example\r\nSubject: KODE\r\nMessage-ID: <kode-{n}@example.no>\r\n\r\n\r\n")
        .into_bytes()
}

#[test]
fn at_most_five_codes_an_hour_and_one_neutral_reply_a_day() {
    let home = Home::new("");
    for n in 0..7 {
        home.deliver(&kode_from("kari.nordmann@example.no", n));
    }
    for n in 10..13 {
        home.deliver(&kode_from("nobody@example.no", n));
    }
    home.run();
    let replies = home.replies();
    let to_kari: Vec<_> = replies
        .iter()
        .filter(|r| r.to == "kari.nordmann@example.no")
        .collect();
    assert_eq!(to_kari.len(), 7);
    assert_eq!(
        to_kari
            .iter()
            .filter(|r| r.header("X-Postbud-Result").as_deref() == Some("ok"))
            .count(),
        5
    );
    assert_eq!(home.count("SELECT COUNT(*) FROM codes"), 5);
    let to_nobody: Vec<_> = replies
        .iter()
        .filter(|r| r.to == "nobody@example.no")
        .collect();
    assert_eq!(to_nobody.len(), 1, "one neutral reply a day");
    insta::assert_snapshot!("code_neutral_nb", to_nobody[0].snapshot());
    assert_eq!(
        home.count("SELECT COUNT(*) FROM messages WHERE sender = 'nobody@example.no'"),
        3
    );
}

#[test]
fn help_in_the_members_language() {
    let home = Home::new("");
    home.deliver(b"From: Per Hansen <per.hansen@example.no>\r\nTo: post@forbund.example\r\nSubject: Re: HELP\r\nMessage-ID: <h1@example.no>\r\n\r\n");
    home.deliver(b"From: kari.nordmann@example.no\r\nTo: post@forbund.example\r\nSubject: sp\xc3\xb8rsm\xc3\xa5l\r\nMessage-ID: <h2@example.no>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhjelp\r\n");
    home.run();
    let replies = home.replies();
    assert_eq!(replies.len(), 2);
    insta::assert_snapshot!("help_en", replies[0].snapshot());
    insta::assert_snapshot!("help_nb", replies[1].snapshot());
}

#[test]
fn automatic_mail_and_bounces_are_never_answered() {
    let home = Home::new("");
    home.deliver(&fixture("autoreply.eml"));
    home.deliver(&fixture("autoreply-no-header.eml"));
    home.deliver(&fixture("bounce-dsn.eml"));
    home.deliver(b"From: post@forbund.example\r\nTo: post@forbund.example\r\nSubject: loop\r\nMessage-ID: <own@forbund.example>\r\n\r\nhello\r\n");
    home.deliver(b"From: news@list.example\r\nTo: post@forbund.example\r\nSubject: news\r\nList-Id: <news.list.example>\r\nMessage-ID: <l1@list.example>\r\n\r\nhello\r\n");
    home.deliver(b"From: x@example.no\r\nTo: post@forbund.example\r\nSubject: bulk\r\nPrecedence: bulk\r\nMessage-ID: <b1@example.no>\r\n\r\nhello\r\n");
    let report = home.run();
    assert_eq!(report.handled.len(), 6);
    assert!(home.replies().is_empty());
    assert_eq!(
        home.count("SELECT COUNT(*) FROM bounces WHERE email = 'borte@example.no'"),
        1
    );
    assert_eq!(home.count("SELECT COUNT(*) FROM messages"), 6);
    assert_eq!(home.folder_count("Behandlet"), 6);
}

#[test]
fn a_message_delivered_twice_is_answered_once() {
    let home = Home::new("");
    let raw = fixture("support.eml");
    home.deliver(&raw);
    home.run();
    // The same message again, in a later run, with a different trace header.
    let mut again =
        b"Received: from mx2 by mx.forbund.example; Fri, 20 Nov 2026 09:20:00 +0100\r\n".to_vec();
    again.extend_from_slice(&raw);
    home.deliver(&again);
    home.deliver(&raw);
    let report = home.run();
    assert!(report.handled.iter().all(|h| h.outcome == "duplicate"));
    assert_eq!(home.replies().len(), 1);
    assert_eq!(home.count("SELECT COUNT(*) FROM tickets"), 1);
    assert_eq!(home.count("SELECT seen_count FROM messages"), 3);
}

#[test]
fn without_message_id_the_hash_without_trace_headers_is_the_identity() {
    let home = Home::new("");
    let body = b"From: ola@example.no\r\nTo: post@forbund.example\r\nSubject: hei\r\n\r\nhei\r\n";
    let mut a = b"Received: from a by b; Fri, 20 Nov 2026 09:20:00 +0100\r\nReturn-Path: <ola@example.no>\r\n".to_vec();
    a.extend_from_slice(body);
    let mut b = b"Received: from c by d; Fri, 20 Nov 2026 09:21:00 +0100\r\n".to_vec();
    b.extend_from_slice(body);
    home.deliver(&a);
    home.deliver(&b);
    home.run();
    assert_eq!(home.replies().len(), 1);
}

#[test]
fn a_broken_message_is_quarantined_and_the_next_is_answered() {
    let home = Home::new("");
    home.deliver(b"\x00\x01\x02 not mail \xff");
    home.deliver(&fixture("support.eml"));
    let report = home.run();
    assert_eq!(report.handled.len(), 2);
    assert_eq!(report.handled[0].outcome, "quarantined");
    assert!(
        report.handled[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("not a mail message"),
        "{:?}",
        report.handled[0].reason
    );
    assert_eq!(report.handled[1].outcome, "handled");
    assert_eq!(home.replies().len(), 1);
    assert_eq!(home.folder_count("Karantene"), 1);
    assert_eq!(home.folder_count("Behandlet"), 1);
    let store = home.store();
    let list = postbud::admin::quarantine_list(&store).unwrap();
    assert!(list.contains("not a mail message"), "{list}");
}

#[test]
fn an_oversized_message_is_quarantined_with_its_reason_and_can_be_retried() {
    let home = Home::new("[limits]\nmax_message_bytes = 300\n");
    let mut big = fixture("support.eml");
    big.extend_from_slice(&[b'x'; 400]);
    home.deliver(&big);
    let report = home.run();
    assert_eq!(report.handled[0].outcome, "quarantined");
    assert!(
        report.handled[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("limits.max_message_bytes")
    );
    // After raising the limit, `quarantine retry` puts it through.
    let cfg_path = home.dir.path().join("config/postbud.toml");
    let text = std::fs::read_to_string(&cfg_path)
        .unwrap()
        .replace("max_message_bytes = 300", "max_message_bytes = 100000");
    std::fs::write(&cfg_path, text).unwrap();
    let cfg = config::load(&cfg_path).unwrap();
    let ctx = postbud::pipeline::Context::from_config(&cfg);
    let id: i64 = home.count("SELECT id FROM messages WHERE outcome = 'quarantined'");
    let mut store = home.store();
    let out =
        postbud::admin::quarantine_retry(&mut store, &ctx, id, home.now(), &mut home.random())
            .unwrap();
    assert!(out.contains("handled"), "{out}");
    assert_eq!(home.count("SELECT COUNT(*) FROM tickets"), 1);
}

#[test]
fn more_than_the_reply_limit_is_held() {
    let home = Home::new("[security]\nmax_replies_per_hour = 3\n");
    for n in 0..5 {
        home.deliver(format!("From: ola@example.no\r\nTo: post@forbund.example\r\nSubject: q{n}\r\nMessage-ID: <q{n}@example.no>\r\n\r\nhei\r\n").as_bytes());
    }
    home.run();
    assert_eq!(home.replies().len(), 3);
    assert_eq!(
        home.count("SELECT COUNT(*) FROM messages WHERE outcome = 'held'"),
        2
    );
    assert_eq!(
        home.count("SELECT COUNT(*) FROM tickets"),
        5,
        "the office still gets every request"
    );
}

#[test]
fn header_injection_from_the_subject_is_neutralised() {
    let home = Home::new("");
    home.deliver(b"From: ola@example.no\r\nTo: post@forbund.example\r\nSubject: =?utf-8?q?hei=0D=0ABcc=3A_evil=40example=2Ecom?=\r\nMessage-ID: <inj@example.no>\r\n\r\n<b>hei</b>\r\n");
    home.run();
    let r = &home.replies()[0];
    assert!(r.header("Bcc").is_none());
    assert!(!String::from_utf8_lossy(&r.raw).contains("\nBcc:"));
}

#[test]
fn user_input_is_escaped_in_the_html_part() {
    let home = Home::new("");
    home.deliver(b"From: ola@example.no\r\nTo: post@forbund.example\r\nSubject: <b>hei</b> <script>x</script>\r\nMessage-ID: <html@example.no>\r\n\r\nhei\r\n");
    home.run();
    let r = &home.replies()[0];
    assert!(
        r.text.contains("«<b>hei</b> <script>x</script>»"),
        "the text part quotes it as written"
    );
    assert!(
        r.html.contains("&lt;b&gt;hei&lt;&#x2f;b&gt;") || r.html.contains("&lt;b&gt;hei&lt;/b&gt;"),
        "{}",
        r.html
    );
    assert!(
        !r.html.contains("<script>") && !r.html.contains("<b>hei"),
        "{}",
        r.html
    );
}

/// Members' mails as a phone sends them (no Authentication-Results):
/// each waits for a code that says what it will do, and the code carries
/// it out, the resignation from the date the sentence names.
#[test]
fn members_mails_from_a_phone_wait_for_a_code_that_says_what_it_will_do() {
    let home = Home::new("");
    home.deliver(&fixture("update-phone.eml"));
    home.deliver(&fixture("update-unverified.eml"));
    home.run();
    let replies = home.replies();
    assert_eq!(replies.len(), 2);
    let kinds: Vec<String> = replies
        .iter()
        .map(|r| r.header("X-Postbud-Kind").unwrap_or_default())
        .collect();
    assert_eq!(kinds, ["update", "resign"]);
    assert!(
        replies[0].text.contains("endre opplysningene dine"),
        "{}",
        replies[0].text
    );
    assert!(
        replies[1].text.contains("registrere utmeldingen din"),
        "{}",
        replies[1].text
    );
    assert_eq!(home.count("SELECT COUNT(*) FROM tickets"), 0);
    let code = replies[1]
        .text
        .split("BEKREFT ")
        .nth(1)
        .unwrap()
        .chars()
        .take(6)
        .collect::<String>();
    home.deliver(
        format!(
            "From: kari.nordmann@example.no\r\nTo: post@forbund.example\r\nSubject: Re: BEKREFT {code}\r\nMessage-ID: <bekreft@example.no>\r\n\r\nBEKREFT {code}\r\n"
        )
        .as_bytes(),
    );
    home.run();
    let r = &home.replies()[2];
    assert_eq!(r.header("X-Postbud-Kind").as_deref(), Some("resign"));
    assert!(r.text.contains("01.01.2027"), "{}", r.text);
}

#[test]
fn code_verify_tells_a_wrong_code_from_a_broken_setup() {
    let home = Home::new("");
    let bin = env!("CARGO_BIN_EXE_postbud");
    let verify = |config: &std::path::Path| {
        std::process::Command::new(bin)
            .env("POSTBUD_NOW", crate::support::home::NOW)
            .args([
                "--config",
                config.to_str().unwrap(),
                "code",
                "verify",
                "kari.nordmann@example.no",
                "123456",
            ])
            .output()
            .unwrap()
    };
    assert_eq!(
        verify(&home.config_path()).status.code(),
        Some(1),
        "a wrong code"
    );
    let missing = home.dir.path().join("no-such.toml");
    let out = verify(&missing);
    assert_eq!(out.status.code(), Some(2), "no config: {out:?}");
    std::fs::write(
        &home.cfg.register.path,
        b"this is not a SQLite file, and never was one",
    )
    .unwrap();
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", home.cfg.register.path.display()));
    }
    let out = verify(&home.config_path());
    assert_eq!(out.status.code(), Some(3), "a broken register: {out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("register"),
        "{out:?}"
    );
}

#[test]
fn a_broken_template_of_the_office_is_reported_by_check_config_and_quarantines_its_mail() {
    let home = Home::new("");
    let dir = home.dir.path().join("templates/nb");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("support.txt"), "Hei {% if name %}\n\nHilsen\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_postbud"))
        .args([
            "--config",
            home.config_path().to_str().unwrap(),
            "check-config",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("templates/nb/support.txt") && err.contains("line"),
        "{err}"
    );
    // The mail that needs it waits in the quarantine instead of going out
    // in another language or with a hole in it.
    home.deliver(&fixture("support.eml"));
    let report = home.run();
    assert_eq!(report.handled[0].outcome, "quarantined");
    assert!(
        report.handled[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("nb/support.txt"),
        "{:?}",
        report.handled[0].reason
    );
    assert!(home.replies().is_empty());
}

/// A second sender beside a live one (`postbud run --once` while the daemon
/// runs) would settle the live one's claimed replies as left by a crash and
/// send them again: it is refused, and touches nothing.
#[test]
fn a_second_sender_on_the_same_register_is_refused_and_touches_nothing() {
    let home = Home::new("");
    home.deliver(&fixture("support.eml"));
    home.run();
    assert_eq!(home.replies().len(), 1);
    // The live sender's reply, claimed and in its hands.
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap();
    home.store()
        .conn
        .execute(
            "UPDATE outbox SET state = 'claimed', claim_boot = ?1",
            [boot.trim()],
        )
        .unwrap();
    let mut lock_path = home.cfg.register.path.clone().into_os_string();
    lock_path.push(".sender.lock");
    let live = std::fs::File::open(&lock_path).unwrap();
    live.lock().unwrap();

    let second = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(postbud::daemon::run_once(
            &home.cfg,
            &home.clock,
            &mut home.random(),
        ));
    let err = format!("{:#}", second.expect_err("refused while another sends"));
    assert!(err.contains("already sending"), "{err}");
    assert_eq!(
        home.count("SELECT COUNT(*) FROM outbox WHERE state = 'claimed'"),
        1,
        "the live sender's reply is left alone"
    );

    // Once the live sender is gone, its claimed reply is settled once.
    drop(live);
    home.run();
    assert_eq!(
        home.count("SELECT COUNT(*) FROM outbox WHERE state = 'sent'"),
        1
    );
    assert_eq!(home.replies().len(), 1, "not written again");
}
