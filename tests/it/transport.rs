//! IMAP intake and SMTP transport against a real Dovecot and Postfix, one
//! private stack per test.

use std::time::{Duration, Instant};

use postbud::config::Tls;
use postbud::intake::imap::ImapMailbox;
use postbud::intake::{Destination, Fetched, Mailbox};
use postbud::outbox::smtp::SmtpTransport;
use postbud::outbox::{Envelope, SendError, Transport};

use crate::support::{MailStack, init_logging};

const USER: &str = "post@forbund.example";
const WAIT: Duration = Duration::from_secs(15);

fn message(n: usize) -> Vec<u8> {
    format!(
        "From: Medlem {n} <medlem{n}@example.no>\r\n\
         To: Forbundet <post@forbund.example>\r\n\
         Subject: Melding {n}\r\n\
         Message-ID: <msg-{n}@example.no>\r\n\
         Date: Mon, 2 Nov 2026 10:00:00 +0100\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: 8bit\r\n\
         \r\n\
         Hei, dette er melding {n}. Blåbærsyltetøy.\r\n\
         .a line starting with a dot\r\n"
    )
    .into_bytes()
}

async fn append_n(stack: &MailStack, range: std::ops::Range<usize>) -> Vec<Vec<u8>> {
    let raws: Vec<Vec<u8>> = range.map(message).collect();
    let refs: Vec<&[u8]> = raws.iter().map(Vec::as_slice).collect();
    stack.append_all(USER, "INBOX", &refs).await;
    raws
}

/// Fetch 3, settle 2 to processed and 1 to quarantine, check the folders.
async fn fetch_and_settle(stack: &MailStack, mut mb: ImapMailbox) {
    let raws = append_n(stack, 0..3).await;
    let got = mb.fetch(10).await.expect("fetch");
    assert_eq!(got.len(), 3);
    for (f, raw) in got.iter().zip(&raws) {
        assert_eq!(&f.raw, raw, "fetched bytes are the stored bytes");
        let (v, uid) = f.key.split_once(':').expect("key is uidvalidity:uid");
        assert!(
            v.parse::<u32>().is_ok() && uid.parse::<u32>().is_ok(),
            "{}",
            f.key
        );
    }
    // Handed out and not settled: not handed out again.
    assert!(mb.fetch(10).await.expect("second fetch").is_empty());

    let moves = vec![
        (got[0].key.clone(), Destination::Processed),
        (got[1].key.clone(), Destination::Quarantine),
        (got[2].key.clone(), Destination::Processed),
    ];
    mb.settle(&moves).await.expect("settle");

    assert!(stack.messages(USER, "INBOX").await.is_empty());
    assert_eq!(
        stack.messages(USER, "Behandlet").await,
        vec![raws[0].clone(), raws[2].clone()]
    );
    assert_eq!(
        stack.messages(USER, "Karantene").await,
        vec![raws[1].clone()]
    );
    assert!(mb.fetch(10).await.expect("fetch after settle").is_empty());
}

#[tokio::test]
async fn imap_starttls_fetch_and_settle() {
    init_logging();
    let stack = MailStack::start();
    let mb = ImapMailbox::new(&stack.imap_config(USER, Tls::Starttls));
    fetch_and_settle(&stack, mb).await;
}

#[tokio::test]
async fn imap_implicit_tls_fetch_and_settle() {
    init_logging();
    let stack = MailStack::start();
    let mb = ImapMailbox::new(&stack.imap_config(USER, Tls::Implicit));
    fetch_and_settle(&stack, mb).await;
}

#[tokio::test]
async fn imap_plain_fetch_and_settle() {
    init_logging();
    let stack = MailStack::start();
    let mut cfg = stack.imap_config(USER, Tls::None);
    cfg.ca_file = None;
    let mb = ImapMailbox::new(&cfg);
    fetch_and_settle(&stack, mb).await;
}

#[tokio::test]
async fn imap_settle_without_move_copies_and_expunges() {
    init_logging();
    let stack = MailStack::start();
    let mut mb = ImapMailbox::new(&stack.imap_config(USER, Tls::Starttls));
    mb.set_use_move(false);
    fetch_and_settle(&stack, mb).await;
}

#[tokio::test]
async fn imap_tls_needs_the_private_ca() {
    init_logging();
    let stack = MailStack::start();
    let mut cfg = stack.imap_config(USER, Tls::Implicit);
    cfg.ca_file = None;
    let mut mb = ImapMailbox::new(&cfg);
    let err = mb.fetch(10).await.expect_err("self-made CA is not trusted");
    assert!(format!("{err:#}").contains("TLS"), "{err:#}");
}

#[tokio::test]
async fn imap_plain_refused_off_loopback() {
    init_logging();
    let stack = MailStack::start();
    let mut cfg = stack.imap_config(USER, Tls::None);
    cfg.host = Some("192.0.2.10".into());
    let mut mb = ImapMailbox::new(&cfg);
    let err = mb.fetch(10).await.expect_err("plain text off loopback");
    let text = format!("{err:#}");
    assert!(text.contains("only allowed to 127.0.0.1"), "{text}");
}

#[tokio::test]
async fn imap_fetch_in_order_up_to_max() {
    init_logging();
    let stack = MailStack::start();
    let raws = append_n(&stack, 0..5).await;
    let mut mb = ImapMailbox::new(&stack.imap_config(USER, Tls::Starttls));
    let first = mb.fetch(2).await.unwrap();
    let rest = mb.fetch(10).await.unwrap();
    assert_eq!(first.len(), 2);
    assert_eq!(rest.len(), 3);
    let all: Vec<&Vec<u8>> = first.iter().chain(&rest).map(|f| &f.raw).collect();
    assert_eq!(all, raws.iter().collect::<Vec<_>>(), "oldest first");
    assert!(mb.fetch(10).await.unwrap().is_empty());
    // Settled in two calls, some to each folder.
    let moves: Vec<(String, Destination)> = first
        .iter()
        .chain(&rest)
        .map(|f| (f.key.clone(), Destination::Processed))
        .collect();
    mb.settle(&moves[..2]).await.unwrap();
    mb.settle(&moves[2..]).await.unwrap();
    assert_eq!(stack.messages(USER, "Behandlet").await.len(), 5);
    assert!(stack.messages(USER, "INBOX").await.is_empty());
}

#[tokio::test]
async fn imap_survives_dovecot_restart() {
    init_logging();
    let stack = MailStack::start();
    let raws = append_n(&stack, 0..2).await;
    let mut mb = ImapMailbox::new(&stack.imap_config(USER, Tls::Starttls));
    let first = mb.fetch(1).await.unwrap();
    assert_eq!(first.len(), 1);

    stack.restart_dovecot();
    stack.append(USER, "INBOX", &message(2)).await;

    // The old session is dead; the call reconnects and goes on. A new
    // connection may hand out the unsettled first message again.
    let again = mb.fetch(10).await.expect("fetch after restart");
    let raw_again: Vec<&Vec<u8>> = again.iter().map(|f| &f.raw).collect();
    assert!(raw_again.contains(&&raws[1]) && raw_again.contains(&&message(2)));
    // Keys from before the restart are still good (same UIDVALIDITY).
    let mut moves = vec![(first[0].key.clone(), Destination::Processed)];
    moves.extend(
        again
            .iter()
            .filter(|f| f.key != first[0].key)
            .map(|f| (f.key.clone(), Destination::Processed)),
    );
    mb.settle(&moves).await.expect("settle after restart");
    assert_eq!(stack.messages(USER, "Behandlet").await.len(), 3);
    assert!(stack.messages(USER, "INBOX").await.is_empty());
}

#[tokio::test]
async fn imap_down_errors_then_recovers() {
    init_logging();
    let stack = MailStack::start();
    append_n(&stack, 0..1).await;
    let mut mb = ImapMailbox::new(&stack.imap_config(USER, Tls::Implicit));
    assert_eq!(mb.fetch(10).await.unwrap().len(), 1);

    stack.stop_dovecot();
    let err = mb.fetch(10).await.expect_err("server is down");
    assert!(format!("{err:#}").contains("connect"), "{err:#}");
    // The backoff delays the next attempt a little; it still fails.
    let t = Instant::now();
    mb.fetch(10).await.expect_err("still down");
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
    // wait() does not fail while disconnected.
    mb.wait(Duration::from_millis(50)).await.unwrap();

    stack.start_dovecot();
    let mut got = Vec::new();
    for _ in 0..10 {
        match mb.fetch(10).await {
            Ok(v) => {
                got = v;
                break;
            }
            Err(e) => eprintln!("retrying: {e:#}"),
        }
    }
    assert_eq!(got.len(), 1, "the unsettled message comes again");
}

#[tokio::test]
async fn imap_idle_returns_on_new_mail() {
    init_logging();
    let stack = MailStack::start();
    let mut mb = ImapMailbox::new(&stack.imap_config(USER, Tls::Starttls));
    assert!(mb.fetch(10).await.unwrap().is_empty());

    let t = Instant::now();
    let (waited, ()) = tokio::join!(mb.wait(Duration::from_secs(60)), async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        stack.append(USER, "INBOX", &message(1)).await;
    });
    waited.unwrap();
    assert!(
        t.elapsed() < Duration::from_secs(30),
        "IDLE should wake on EXISTS, took {:?}",
        t.elapsed()
    );
    assert_eq!(mb.fetch(10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn imap_polls_when_idle_is_off() {
    init_logging();
    let stack = MailStack::start();
    let mut cfg = stack.imap_config(USER, Tls::Starttls);
    cfg.idle = false;
    cfg.poll_seconds = 1;
    let mut mb = ImapMailbox::new(&cfg);
    assert!(mb.fetch(10).await.unwrap().is_empty());
    let t = Instant::now();
    mb.wait(Duration::from_secs(60)).await.unwrap();
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "capped by poll_seconds"
    );
}

#[tokio::test]
async fn imap_uidvalidity_change_skips_stale_keys() {
    init_logging();
    let stack = MailStack::start();
    let mut cfg = stack.imap_config(USER, Tls::Starttls);
    cfg.folder = "Innboks".into();
    let first: Vec<Vec<u8>> = (0..2).map(message).collect();
    stack
        .append_all(USER, "Innboks", &[&first[0], &first[1]])
        .await;
    let mut mb = ImapMailbox::new(&cfg);
    let old: Vec<Fetched> = mb.fetch(10).await.unwrap();
    assert_eq!(old.len(), 2);

    // The folder is deleted and made again: a new UIDVALIDITY, UIDs from 1.
    // Dovecot does not reliably tell a session that has it selected (its
    // indexes just go wrong), so the server is restarted as well, as when a
    // mailbox is rebuilt or restored.
    stack.delete_folder(USER, "Innboks").await;
    stack.append_all(USER, "Innboks", &[&message(5)]).await;
    stack.restart_dovecot();

    let new = mb
        .fetch(10)
        .await
        .expect("fetch after the folder was remade");
    assert_eq!(new.len(), 1);
    assert_eq!(new[0].raw, message(5));
    assert_ne!(
        old[0].key.split(':').next(),
        new[0].key.split(':').next(),
        "new UIDVALIDITY"
    );
    // Old keys are skipped, not applied to the new UIDs.
    let stale: Vec<(String, Destination)> = old
        .iter()
        .map(|f| (f.key.clone(), Destination::Quarantine))
        .collect();
    mb.settle(&stale).await.unwrap();
    assert!(stack.messages(USER, "Karantene").await.is_empty());
    mb.settle(&[(new[0].key.clone(), Destination::Processed)])
        .await
        .unwrap();
    assert_eq!(stack.messages(USER, "Behandlet").await, vec![message(5)]);
}

pub(crate) fn envelope(id: i64, from: &str, to: &str) -> Envelope {
    let raw = format!(
        "From: Forbundet <{from}>\r\n\
         To: <{to}>\r\n\
         Subject: Svar {id}\r\n\
         Message-ID: <reply-{id}@forbund.example>\r\n\
         Date: Mon, 2 Nov 2026 10:00:00 +0100\r\n\
         Auto-Submitted: auto-replied\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: 8bit\r\n\
         \r\n\
         Svar nummer {id}. Æ ø å.\r\n\
         .\r\n\
         ..two dots\r\n"
    );
    Envelope {
        id,
        from: from.into(),
        to: vec![to.into()],
        raw: raw.into_bytes(),
    }
}

/// Sends three messages on one transport and reads them back.
async fn send_three(stack: &MailStack, mut t: SmtpTransport, to: &str) {
    let envs: Vec<Envelope> = (1..=3).map(|i| envelope(i, USER, to)).collect();
    for env in &envs {
        t.send(env)
            .await
            .unwrap_or_else(|e| panic!("send {}: {e}", env.id));
    }
    let got = stack.wait_for(to, "INBOX", 3, WAIT).await;
    assert_eq!(got.len(), 3);
    for env in &envs {
        assert!(
            got.iter().any(|g| g.ends_with(&env.raw)),
            "message {} arrived unchanged (after the trace headers)",
            env.id
        );
    }
    t.close().await;
}

#[tokio::test]
async fn smtp_plain_relay() {
    init_logging();
    let stack = MailStack::start();
    let t = SmtpTransport::new(&stack.smtp_config(Tls::None, None));
    send_three(&stack, t, "medlem1@example.no").await;
}

#[tokio::test]
async fn smtp_submission_starttls_auth() {
    init_logging();
    let stack = MailStack::start();
    let t = SmtpTransport::new(&stack.smtp_config(Tls::Starttls, Some(USER)));
    send_three(&stack, t, "lonn@bedrift.example").await;
}

#[tokio::test]
async fn smtp_implicit_tls_auth() {
    init_logging();
    let stack = MailStack::start();
    let t = SmtpTransport::new(&stack.smtp_config(Tls::Implicit, Some(USER)));
    send_three(&stack, t, "leder.bergen@ffm.example").await;
}

#[tokio::test]
async fn smtp_rejected_recipient_is_permanent_and_transport_goes_on() {
    init_logging();
    let stack = MailStack::start();
    let mut t = SmtpTransport::new(&stack.smtp_config(Tls::None, None));
    t.send(&envelope(1, USER, "a@example.test")).await.unwrap();
    let err = t
        .send(&envelope(2, USER, "someone@elsewhere.invalid"))
        .await
        .expect_err("relay access denied");
    match &err {
        SendError::Permanent(m) => assert!(m.contains("554") || m.contains("Relay"), "{m}"),
        other => panic!("expected permanent, got {other:?}"),
    }
    // lettre drops the connection after a refused RCPT: the next send reconnects.
    t.send(&envelope(3, USER, "a@example.test")).await.unwrap();
    let got = stack.wait_for("a@example.test", "INBOX", 2, WAIT).await;
    assert_eq!(got.len(), 2);
}

#[tokio::test]
async fn smtp_bad_password_is_temporary() {
    init_logging();
    let stack = MailStack::start();
    let mut cfg = stack.smtp_config(Tls::Starttls, Some(USER));
    cfg.password = Some("wrong".into());
    let mut t = SmtpTransport::new(&cfg);
    match t.send(&envelope(1, USER, "a@example.test")).await {
        Err(SendError::Temporary(m)) => assert!(m.contains("AUTH"), "{m}"),
        other => panic!("expected temporary, got {other:?}"),
    }
}

#[tokio::test]
async fn smtp_server_down_is_temporary_then_recovers_after_idle() {
    init_logging();
    let stack = MailStack::start();
    let mut t = SmtpTransport::new(&stack.smtp_config(Tls::None, None));
    t.send(&envelope(1, USER, "a@example.test")).await.unwrap();
    // An idle connection is checked (NOOP) before reuse; a dead one is replaced.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    t.send(&envelope(2, USER, "a@example.test")).await.unwrap();

    let mut down = stack.smtp_config(Tls::None, None);
    down.port = Some(free_port());
    let mut t2 = SmtpTransport::new(&down);
    match t2.send(&envelope(3, USER, "a@example.test")).await {
        Err(SendError::Temporary(_)) => {}
        other => panic!("expected temporary, got {other:?}"),
    }
    stack.wait_for("a@example.test", "INBOX", 2, WAIT).await;
}

#[tokio::test]
async fn smtp_plain_refused_off_loopback() {
    init_logging();
    let mut cfg = MailStack::start().smtp_config(Tls::None, None);
    cfg.host = Some("192.0.2.10".into());
    let mut t = SmtpTransport::new(&cfg);
    match t.send(&envelope(1, USER, "a@example.test")).await {
        Err(SendError::Temporary(m)) => assert!(m.contains("only allowed"), "{m}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn harness_send_and_wait_for() {
    let stack = MailStack::start();
    let raw = message(7);
    stack.send(&raw, "medlem7@example.no", &["post@forbund.example"]);
    let got = stack.wait_for(USER, "INBOX", 1, WAIT).await;
    assert!(got[0].ends_with(&raw));
    let refused = stack.try_send(&raw, "a@example.test", &["x@elsewhere.invalid"]);
    assert!(refused.unwrap_err().starts_with("554"));
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}
