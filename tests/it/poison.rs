//! No poison pills (SPEC section 3): a message the process dies on is tried
//! again once, alone, and after a second death quarantined unread; the mail
//! behind it goes on. Messages that would take the process down (parts
//! nested tens of thousands deep, several senders) are refused before they
//! can.

use crate::support::home::NOW;
use crate::support::{Home, fixture};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn ask(n: usize, extra: &str) -> Vec<u8> {
    format!(
        "From: ola{n}@example.no\r\nTo: post@forbund.example\r\nSubject: spørsmål {n}\r\nMessage-ID: <q{n}@example.no>\r\n\r\nHei, jeg lurer på noe. {extra}\r\n"
    )
    .into_bytes()
}

/// `postbud run --once` as a separate process, with `env`.
fn run_once(home: &Home, env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_postbud"));
    c.args([
        "--config",
        home.config_path().to_str().unwrap(),
        "run",
        "--once",
    ])
    .env("POSTBUD_NOW", NOW)
    .env("POSTBUD_LOG", "warn");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn killed(out: &Output) -> bool {
    use std::os::unix::process::ExitStatusExt;
    out.status.signal().is_some()
}

#[test]
fn a_message_that_kills_the_process_is_tried_once_more_alone_then_quarantined() {
    let home = Home::new("");
    home.deliver(&ask(1, ""));
    home.deliver(&ask(2, "GIFTPILLE"));
    home.deliver(&ask(3, ""));
    let env = [("POSTBUD_TEST_ABORT_ON", "GIFTPILLE")];
    // 1: the batch dies; nothing was committed, every message is in hand.
    let first = run_once(&home, &env);
    assert!(killed(&first), "{first:?}");
    assert_eq!(
        home.count("SELECT COUNT(*) FROM in_hand WHERE attempts = 1"),
        3
    );
    assert!(home.replies().is_empty());
    // 2: each is tried alone; the first goes through, the pill dies again.
    let second = run_once(&home, &env);
    assert!(killed(&second), "{second:?}");
    // 3: the pill is quarantined unread, the mail behind it is answered.
    let third = run_once(&home, &env);
    assert!(third.status.success(), "{third:?}");
    let replies = home.replies();
    let mut to: Vec<&str> = replies.iter().map(|r| r.to.as_str()).collect();
    to.sort();
    assert_eq!(to, ["ola1@example.no", "ola3@example.no"]);
    assert_eq!(home.folder_count("Karantene"), 1);
    assert_eq!(home.folder_count("Behandlet"), 2);
    assert_eq!(home.folder_count(""), 0);
    let reason: String = home
        .store()
        .conn
        .query_row(
            "SELECT reason FROM messages WHERE outcome = 'quarantined'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(reason.contains("stopped twice"), "{reason}");
    assert_eq!(
        home.count("SELECT COUNT(*) FROM in_hand WHERE attempts = 1"),
        0,
        "nothing waits for a second try"
    );
    assert_eq!(
        home.count("SELECT COUNT(*) FROM tickets"),
        2,
        "each applied once"
    );
    // And it stays that way.
    let fourth = run_once(&home, &env);
    assert!(fourth.status.success());
    assert_eq!(home.replies().len(), 2);
}

#[test]
fn kill_9_from_outside_twice_on_the_same_message_quarantines_it() {
    let home = Home::new("");
    home.deliver(&ask(1, "STALL"));
    home.deliver(&ask(2, ""));
    let env = [("POSTBUD_TEST_STALL_ON", "STALL")];
    for attempt in 1..=2 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_postbud"))
            .args([
                "--config",
                home.config_path().to_str().unwrap(),
                "run",
                "--once",
            ])
            .env("POSTBUD_NOW", NOW)
            .envs(env)
            .spawn()
            .unwrap();
        // Wait until the stalled message is in hand for the attempt'th time.
        let start = Instant::now();
        while home.count(&format!(
            "SELECT COUNT(*) FROM in_hand WHERE attempts = {attempt}"
        )) == 0
        {
            assert!(start.elapsed() < Duration::from_secs(30), "never in hand");
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(100));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
    }
    let out = run_once(&home, &env);
    assert!(out.status.success(), "{out:?}");
    let replies = home.replies();
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0].to, "ola2@example.no");
    assert_eq!(home.folder_count("Karantene"), 1);
    assert_eq!(
        home.count("SELECT COUNT(*) FROM in_hand WHERE attempts = 1"),
        0
    );
}

/// A message handled once and fetched again (the process died before it
/// was moved) is not counted against when the process dies beside it: it
/// was read safely once, so it can never be quarantined as a poison pill
/// under a second row while its first says handled.
#[test]
fn a_message_handled_before_is_not_struck_when_the_process_dies_beside_it() {
    let home = Home::new("");
    home.deliver(&ask(1, ""));
    assert!(run_once(&home, &[]).status.success());
    // The same bytes again, as if never moved, and one that stalls.
    home.deliver(&ask(1, ""));
    home.deliver(&ask(2, "STALL"));
    let env = [("POSTBUD_TEST_STALL_ON", "STALL")];
    let mut child = Command::new(env!("CARGO_BIN_EXE_postbud"))
        .args([
            "--config",
            home.config_path().to_str().unwrap(),
            "run",
            "--once",
        ])
        .env("POSTBUD_NOW", NOW)
        .envs(env)
        .spawn()
        .unwrap();
    let start = Instant::now();
    while home.count("SELECT COUNT(*) FROM in_hand WHERE attempts = 1") == 0 {
        assert!(start.elapsed() < Duration::from_secs(30), "never in hand");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        home.count("SELECT COUNT(*) FROM in_hand WHERE attempts = 1"),
        1,
        "only the message in hand for the first time is marked"
    );
    assert_eq!(
        home.count("SELECT COUNT(*) FROM in_hand WHERE attempts = 0"),
        1,
        "the one handled before is done"
    );
}

/// A message nesting `message/rfc822` hundreds of thousands deep (a few MB)
/// overflowed the stack of the thread reading it.
#[test]
fn a_message_nested_too_deep_is_quarantined_with_its_reason() {
    let home = Home::new("");
    let mut deep = String::from(
        "From: evil@example.no\r\nTo: post@forbund.example\r\nSubject: dyp\r\nMessage-ID: <deep@example.no>\r\n",
    );
    for _ in 0..200_000 {
        deep.push_str("Content-Type: message/rfc822\r\n\r\n");
    }
    deep.push_str("Content-Type: text/plain\r\n\r\nhei\r\n");
    home.deliver(deep.as_bytes());
    home.deliver(&fixture("support.eml"));
    let report = home.run();
    assert_eq!(report.handled.len(), 2);
    let deep = report
        .handled
        .iter()
        .find(|h| h.outcome == "quarantined")
        .expect("the deep message is quarantined");
    assert!(
        deep.reason
            .as_deref()
            .unwrap()
            .contains("limits.max_nesting"),
        "{:?}",
        deep.reason
    );
    assert_eq!(home.replies().len(), 1, "the mail behind it is answered");
}

#[test]
fn a_message_with_two_from_headers_is_quarantined_as_several_senders() {
    let home = Home::new("[security]\ntrusted_authserv_id = \"mx.forbund.example\"\n");
    // The attacker's From first, an admin's second, and a DMARC pass for the first.
    home.deliver(
        b"Authentication-Results: mx.forbund.example; dmarc=pass header.from=evil.example\r\n\
          From: x@evil.example\r\nFrom: kontor@forbund.example\r\nTo: post@forbund.example\r\n\
          Subject: GODKJENN PB-2026-000001\r\nMessage-ID: <two@evil.example>\r\n\r\n\r\n",
    );
    let report = home.run();
    assert_eq!(report.handled[0].outcome, "quarantined");
    assert!(
        report.handled[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("several senders"),
        "{:?}",
        report.handled[0].reason
    );
    assert!(home.replies().is_empty());
}

#[test]
fn a_message_too_large_to_keep_is_kept_in_part_and_retried_from_the_mailbox() {
    let home = Home::new("[limits]\nmax_message_bytes = 100000\n");
    let mut big = fixture("support.eml");
    big.extend(std::iter::repeat_n(b'x', 200_000));
    home.deliver(&big);
    home.run();
    let kept: i64 = home.count("SELECT length(raw) FROM messages WHERE outcome = 'quarantined'");
    assert_eq!(kept, 64 << 10, "only the start is kept in the register");
    assert_eq!(
        home.folder_count("Karantene"),
        1,
        "the whole message is in the mailbox"
    );
    let id = home.count("SELECT id FROM messages WHERE outcome = 'quarantined'");
    let ctx = postbud::pipeline::Context::from_config(&home.cfg);
    let err = postbud::admin::quarantine_retry(
        &mut home.store(),
        &ctx,
        id,
        home.now(),
        &mut home.random(),
    )
    .unwrap_err();
    assert!(format!("{err}").contains("quarantine folder"), "{err}");
}
