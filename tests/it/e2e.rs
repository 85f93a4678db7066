//! The whole daemon against real servers: messages sent by SMTP to a real
//! Postfix, delivered to a real Dovecot, read by postbud over IMAP, answered
//! through Postfix, and the replies read back over IMAP.

use crate::support::MailStack;
use crate::support::{Home, Reply, code_in, fixture};
use std::time::Duration;

pub(crate) const POST: &str = "post@forbund.example";
pub(crate) const WAIT: Duration = Duration::from_secs(30);

/// A postbud home reading `post@forbund.example` over IMAP (STARTTLS with the
/// stack's CA) and sending through the stack's Postfix.
pub(crate) fn home(stack: &MailStack, extra: &str) -> Home {
    home_with(stack, "", extra)
}

/// `mailbox_extra` goes into [mailbox], `extra` after [outgoing].
fn home_with(stack: &MailStack, mailbox_extra: &str, extra: &str) -> Home {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("imap.pw");
    std::fs::write(&pw, "pw\n").unwrap();
    let home = Home::custom(&format!(
        r#"[mailbox]
kind = "imap"
host = "127.0.0.1"
port = {imap}
tls = "starttls"
ca_file = "{ca}"
username = "{POST}"
password_file = "{pw}"
poll_seconds = 1
{mailbox_extra}
[outgoing]
kind = "smtp"
host = "127.0.0.1"
port = {smtp}
tls = "none"
{extra}"#,
        imap = stack.imap_port(),
        ca = stack.ca_file().display(),
        pw = pw.display(),
        smtp = stack.smtp_port(),
    ));
    std::mem::forget(dir); // the password file must outlive the home
    home
}

pub(crate) fn replies(raws: &[Vec<u8>]) -> Vec<Reply> {
    raws.iter().map(|r| Reply::parse(r)).collect()
}

pub(crate) async fn run_once(home: &Home) -> postbud::daemon::Report {
    postbud::daemon::run_once(&home.cfg, &home.clock, &mut home.random())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn support_request_is_answered_through_real_servers() {
    let stack = MailStack::start();
    let home = home(&stack, "");
    stack.send(&fixture("support.eml"), "ola.normann@example.no", &[POST]);
    stack.wait_for(POST, "INBOX", 1, WAIT).await;
    let report = run_once(&home).await;
    assert_eq!(report.handled.len(), 1);
    assert_eq!(report.drained.sent, 1);
    let got = replies(
        &stack
            .wait_for("ola.normann@example.no", "INBOX", 1, WAIT)
            .await,
    );
    let r = &got[0];
    assert!(r.subject.starts_with("Re: [PB-"), "{}", r.subject);
    assert!(r.subject.ends_with("Får ikke logget inn"));
    assert_eq!(r.header("X-Postbud-Kind").as_deref(), Some("support"));
    assert_eq!(r.header("Auto-Submitted").as_deref(), Some("auto-replied"));
    assert!(r.text.contains("Vi har mottatt henvendelsen din"));
    assert!(!r.html.is_empty());
    // Moved to the processed folder, nothing left in the inbox.
    assert!(stack.messages(POST, "INBOX").await.is_empty());
    assert_eq!(stack.messages(POST, "Behandlet").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn code_and_its_verification_through_real_servers() {
    let stack = MailStack::start();
    let home = home(&stack, "");
    stack.send(&fixture("code.eml"), "kari.nordmann@example.no", &[POST]);
    stack.wait_for(POST, "INBOX", 1, WAIT).await;
    run_once(&home).await;
    let got = replies(
        &stack
            .wait_for("kari.nordmann@example.no", "INBOX", 1, WAIT)
            .await,
    );
    assert_eq!(got[0].header("X-Postbud-Kind").as_deref(), Some("code"));
    let code = code_in(&got[0].text);
    let mut store = home.store();
    let now = home.now();
    assert!(
        postbud::admin::code_verify(&mut store, "kari.nordmann@example.no", &code, now).unwrap()
    );
    assert!(
        !postbud::admin::code_verify(&mut store, "kari.nordmann@example.no", &code, now).unwrap()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn auto_replies_and_bounces_get_no_answer_and_a_copy_delivered_twice_is_answered_once() {
    let stack = MailStack::start();
    let home = home(&stack, "");
    stack.send(&fixture("autoreply.eml"), "ola@forbund.example", &[POST]);
    stack.send(
        &fixture("autoreply-no-header.eml"),
        "kari@example.no",
        &[POST],
    );
    stack.send(&fixture("bounce-dsn.eml"), "", &[POST]);
    stack.send(&fixture("support.eml"), "ola.normann@example.no", &[POST]);
    stack.send(&fixture("support.eml"), "ola.normann@example.no", &[POST]);
    stack.wait_for(POST, "INBOX", 5, WAIT).await;
    let report = run_once(&home).await;
    assert_eq!(report.handled.len(), 5);
    assert_eq!(report.drained.sent, 1);
    assert_eq!(
        stack
            .wait_for("ola.normann@example.no", "INBOX", 1, WAIT)
            .await
            .len(),
        1
    );
    // A second copy arriving later is recognised too.
    stack.send(&fixture("support.eml"), "ola.normann@example.no", &[POST]);
    stack.wait_for(POST, "INBOX", 1, WAIT).await;
    let report = run_once(&home).await;
    assert_eq!(report.handled[0].outcome, "duplicate");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        stack
            .messages("ola.normann@example.no", "INBOX")
            .await
            .len(),
        1
    );
    for silent in [
        "ola@forbund.example",
        "kari@example.no",
        "mailer-daemon@mx.forbund.example",
    ] {
        assert!(
            stack.messages(silent, "INBOX").await.is_empty(),
            "{silent} got an answer"
        );
    }
    assert_eq!(
        home.count("SELECT COUNT(*) FROM bounces WHERE email = 'borte@example.no'"),
        1
    );
    assert_eq!(stack.messages(POST, "Behandlet").await.len(), 6);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_message_is_quarantined_while_the_next_is_answered() {
    let stack = MailStack::start();
    let home = home(&stack, "");
    stack
        .append(
            POST,
            "INBOX",
            b"Subject: no sender here\r\nMessage-ID: <broken@example.no>\r\n\r\nwho am I?\r\n",
        )
        .await;
    stack.send(&fixture("support.eml"), "ola.normann@example.no", &[POST]);
    stack.wait_for(POST, "INBOX", 2, WAIT).await;
    let report = run_once(&home).await;
    assert_eq!(report.handled[0].outcome, "quarantined");
    assert_eq!(report.handled[1].outcome, "handled");
    assert_eq!(
        stack
            .wait_for("ola.normann@example.no", "INBOX", 1, WAIT)
            .await
            .len(),
        1
    );
    assert_eq!(stack.messages(POST, "Karantene").await.len(), 1);
    assert_eq!(stack.messages(POST, "Behandlet").await.len(), 1);
    assert!(stack.messages(POST, "INBOX").await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_survives_the_imap_server_restarting() {
    let stack = MailStack::start();
    let home = home(&stack, "");
    let shutdown = postbud::daemon::Shutdown::default();
    let cfg = home.cfg.clone();
    let clock = home.clock.clone();
    let stop = shutdown.clone();
    // The daemon's future is not Send (it owns SQLite connections): it runs on
    // a thread of its own, as it does in the binary.
    let daemon = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(postbud::daemon::run(
                &cfg,
                &clock,
                &mut postbud::clock::Random::seeded(1),
                stop,
            ))
    });
    let ask = |n: usize| {
        format!(
            "From: ola.normann@example.no\r\nTo: {POST}\r\nSubject: question {n}\r\nMessage-ID: <restart-{n}@example.no>\r\n\r\nhei\r\n"
        )
        .into_bytes()
    };
    stack.send(&ask(1), "ola.normann@example.no", &[POST]);
    stack
        .wait_for("ola.normann@example.no", "INBOX", 1, WAIT)
        .await;
    stack.restart_dovecot();
    stack.send(&ask(2), "ola.normann@example.no", &[POST]);
    stack
        .wait_for(
            "ola.normann@example.no",
            "INBOX",
            2,
            Duration::from_secs(60),
        )
        .await;
    shutdown.trigger();
    let stopped = std::time::Instant::now();
    daemon.join().unwrap().unwrap();
    assert!(
        stopped.elapsed() < WAIT,
        "the daemon took {:?} to stop",
        stopped.elapsed()
    );
    assert_eq!(
        home.count("SELECT COUNT(*) FROM messages WHERE outcome = 'handled'"),
        2
    );
}

/// kill -9 the daemon at random moments while it reads a few hundred
/// messages over IMAP and answers them over SMTP. Every message is handled
/// once; no reply is delivered twice; every reply is delivered, except one
/// interrupted in the middle of an SMTP transaction, which is marked
/// `unknown` for an admin (over SMTP nobody can tell whether it arrived):
/// at most one per connection per kill.
#[tokio::test(flavor = "multi_thread")]
async fn kill_9_over_imap_and_smtp() {
    const N: usize = 400;
    const SENDER: &str = "many@example.no";
    let stack = MailStack::start();
    let home = home_with(
        &stack,
        "batch_size = 5",
        "[security]\nmax_replies_per_hour = 100000\n",
    );
    let raws: Vec<Vec<u8>> = (0..N)
        .map(|i| {
            format!(
                "From: {SENDER}\r\nTo: {POST}\r\nSubject: question {i}\r\nMessage-ID: <kill-{i}@example.no>\r\n\r\nhei {i}\r\n"
            )
            .into_bytes()
        })
        .collect();
    let refs: Vec<&[u8]> = raws.iter().map(|r| r.as_slice()).collect();
    stack.append_all(POST, "INBOX", &refs).await;
    let bin = env!("CARGO_BIN_EXE_postbud");
    let cfg = home.config_path();
    let mut rng = crate::crash::Lcg(crate::crash::seed());
    let mut kills = 0;
    let started = std::time::Instant::now();
    while home.count("SELECT COUNT(*) FROM messages") < N as i64
        || home.count("SELECT COUNT(*) FROM outbox WHERE state = 'queued'") > 0
    {
        assert!(
            started.elapsed() < Duration::from_secs(240),
            "no progress after {kills} kills"
        );
        let mut child = std::process::Command::new(bin)
            .args(["--config", cfg.to_str().unwrap(), "run"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(60 + rng.next(250))).await;
        child.kill().unwrap();
        child.wait().unwrap();
        kills += 1;
    }
    let out = std::process::Command::new(bin)
        .args(["--config", cfg.to_str().unwrap(), "run", "--once"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    eprintln!("killed the daemon {kills} times");
    assert!(kills >= 3, "the daemon was killed only {kills} times");
    // A message in hand at two kills is quarantined unread (no poison
    // pills): not lost, and at most one per kill.
    let handled = home.count("SELECT COUNT(*) FROM messages WHERE outcome = 'handled'");
    let died_twice = home.count(
        "SELECT COUNT(*) FROM messages WHERE outcome = 'quarantined' AND reason LIKE '%stopped twice%'",
    );
    eprintln!("{died_twice} quarantined after two kills");
    assert_eq!(handled + died_twice, N as i64);
    assert!(
        died_twice as usize <= kills,
        "{died_twice} after {kills} kills"
    );
    assert_eq!(home.count("SELECT COUNT(*) FROM tickets"), handled);
    assert_eq!(home.count("SELECT COUNT(*) FROM outbox"), handled);
    let sent = home.count("SELECT COUNT(*) FROM outbox WHERE state = 'sent'") as usize;
    let unknown = home.count("SELECT COUNT(*) FROM outbox WHERE state = 'unknown'") as usize;
    assert_eq!(
        sent + unknown,
        handled as usize,
        "every reply sent or, if interrupted mid-send, marked unknown"
    );
    let connections = home.cfg.outgoing.connections;
    assert!(
        unknown <= kills * connections,
        "at most one uncertain reply per connection per kill: {unknown} after {kills} kills"
    );
    let got = stack.wait_for(SENDER, "INBOX", sent, WAIT).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let got = if got.len() < sent + unknown {
        stack.messages(SENDER, "INBOX").await
    } else {
        got
    };
    let mut answered: Vec<String> = replies(&got)
        .iter()
        .map(|r| r.header("In-Reply-To").unwrap_or_default())
        .collect();
    let total = answered.len();
    answered.sort();
    answered.dedup();
    assert_eq!(answered.len(), total, "a reply was delivered twice");
    assert!(
        total >= sent && total <= sent + unknown,
        "{total} delivered, {sent} sent, {unknown} unknown"
    );
    assert!(stack.messages(POST, "INBOX").await.is_empty());
    // Those quarantined after two kills are in the quarantine folder.
    assert_eq!(
        stack.messages(POST, "Behandlet").await.len(),
        N - died_twice as usize
    );
    assert_eq!(
        stack.messages(POST, "Karantene").await.len(),
        died_twice as usize
    );
}

/// Every rep command once through real servers: registration strings, an
/// activity list, a peer list confirmed with BEKREFT, a new rep approved by
/// the office, and the letter that comes of it.
#[tokio::test(flavor = "multi_thread")]
async fn rep_commands_through_real_servers() {
    use crate::reps::{
        attachment, import_rep_register, security, unverified, verified, xlsx_cells,
    };
    let stack = MailStack::start();
    let home = home(&stack, &security());
    import_rep_register(&home);
    let rep = "leder.bergen@ffm.example";
    stack.send(&fixture("registration-hardwrap.eml"), rep, &[POST]);
    stack.send(&fixture("activity.eml"), rep, &[POST]);
    stack.send(&unverified(rep, "MINE LIKEPERSONER", ""), rep, &[POST]);
    stack.send(
        &verified(
            "per.hansen@example.no",
            "NY TILLITSVALGT",
            "medlem: 50001\nrolle: vara\nnivå: arbeidsgiver\nfra: 01.12.2026",
        ),
        "per.hansen@example.no",
        &[POST],
    );
    stack.wait_for(POST, "INBOX", 4, WAIT).await;
    run_once(&home).await;
    let got = replies(&stack.wait_for(rep, "INBOX", 3, WAIT).await);
    // Postfix delivers in its own order: find each reply by its kind.
    let of_kind = |got: &[Reply], k: &str| -> usize {
        let found: Vec<usize> = (0..got.len())
            .filter(|i| got[*i].header("X-Postbud-Kind").as_deref() == Some(k))
            .collect();
        assert_eq!(found.len(), 1, "one {k} reply");
        found[0]
    };
    let registration = &got[of_kind(&got, "registration")];
    assert!(
        registration
            .text
            .contains("Øystein Ærø-Åsen (Bergen): registrert"),
        "{}",
        registration.text
    );
    let activity = &got[of_kind(&got, "activity")];
    assert!(
        activity
            .text
            .contains("Kari Nordmann: registrert (LP-0001)"),
        "{}",
        activity.text
    );
    let ask = &got[of_kind(&got, "peers")];
    assert_eq!(
        ask.header("X-Postbud-Result").as_deref(),
        Some("pending"),
        "unverified: a code first"
    );
    let code: String = ask
        .text
        .split("BEKREFT ")
        .nth(1)
        .unwrap()
        .chars()
        .take(6)
        .collect();

    stack.send(
        &unverified(rep, &format!("BEKREFT {code}"), ""),
        rep,
        &[POST],
    );
    let reference: String = home
        .store()
        .conn
        .query_row(
            "SELECT ref FROM pending_changes WHERE kind = 'new-rep'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    stack.send(
        &verified(
            "kontor@forbund.example",
            &format!("GODKJENN {reference}"),
            "",
        ),
        "kontor@forbund.example",
        &[POST],
    );
    stack.wait_for(POST, "INBOX", 2, WAIT).await;
    run_once(&home).await;
    let got = replies(&stack.wait_for(rep, "INBOX", 4, WAIT).await);
    let list = got
        .iter()
        .find(|r| {
            r.header("X-Postbud-Kind").as_deref() == Some("peers")
                && r.header("X-Postbud-Result").as_deref() == Some("ok")
        })
        .expect("the peer list after BEKREFT");
    let peers = xlsx_cells(&attachment(list).1);
    assert_eq!(
        peers.len(),
        3,
        "LP-0001 and the new peer, nobody from Oslo: {peers:?}"
    );
    let kari = replies(
        &stack
            .wait_for("kari.nordmann@example.no", "INBOX", 1, WAIT)
            .await,
    );
    let (name, pdf) = attachment(&kari[0]);
    assert!(name.ends_with(".pdf") && pdf.starts_with(b"%PDF"));
    assert_eq!(
        stack
            .wait_for("kontor@forbund.example", "INBOX", 1, WAIT)
            .await
            .len(),
        1
    );
    // per: the receipt and the decision (a deputy replaces nobody).
    assert_eq!(
        stack
            .wait_for("per.hansen@example.no", "INBOX", 2, WAIT)
            .await
            .len(),
        2
    );
}

/// A deduction list through real servers: the receipt comes back by mail.
#[tokio::test(flavor = "multi_thread")]
async fn a_deduction_list_through_real_servers() {
    let stack = MailStack::start();
    let home = home(
        &stack,
        &format!(
            "{}[lists]\nallow_synthetic_ids = true\n",
            crate::reps::security()
        ),
    );
    let mut store = home.store();
    for (kind, file) in [
        (postbud::store::import::ImportKind::Members, "members.csv"),
        (postbud::store::import::ImportKind::Contacts, "contacts.csv"),
    ] {
        let text = std::fs::read_to_string(format!("{}/register/{file}", crate::support::FIXTURES))
            .unwrap();
        postbud::store::import::import(&mut store.conn, kind, file, &text, home.now(), &|_, _| {})
            .unwrap();
    }
    drop(store);
    stack.send(
        &fixture("deduction-xlsx.eml"),
        "lonn@bedrift.example",
        &[POST],
    );
    stack.wait_for(POST, "INBOX", 1, WAIT).await;
    run_once(&home).await;
    let got = replies(
        &stack
            .wait_for("lonn@bedrift.example", "INBOX", 1, WAIT)
            .await,
    );
    assert_eq!(
        got[0].header("X-Postbud-Kind").as_deref(),
        Some("submission")
    );
    assert!(
        got[0].text.contains("Totalt: 38 linjer, 37 godkjent"),
        "{}",
        got[0].text
    );
    for no in ["50037", "50038", "50039"] {
        assert!(got[0].text.contains(no));
    }
}
