//! Servers that come and go, with the real `postbud run` binary: Dovecot
//! restarted under IDLE, Dovecot and Postfix stopped for a minute,
//! connections cut in the middle of FETCH, MOVE, IDLE and DATA by a proxy
//! (`support::proxy`), connections refused for a while. The daemon must log
//! it, reconnect and go on, and never die of a signal or an I/O error;
//! every message is handled once and answered once (over SMTP a reply cut
//! after its data was handed over may instead be marked `unknown`, never
//! sent again).

use crate::support::proxy::{Cut, Proxy, Rule};
use crate::support::{Home, MailStack, Reply};
use std::collections::HashMap;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub const POST: &str = "post@forbund.example";
const WAIT: Duration = Duration::from_secs(30);

/// How postbud reaches a server: straight to the stack's port with this TLS
/// mode, or through a proxy (plain, so the proxy sees the commands).
#[derive(Clone, Copy)]
pub enum Via {
    /// IMAP with STARTTLS and the stack's CA; SMTP on the plain port.
    Direct,
    /// Plain (`tls = "none"`) to this port on 127.0.0.1.
    Port(u16),
}

/// A postbud home reading `post@forbund.example` over IMAP and sending over
/// SMTP, as `via` says; `mailbox_extra` goes into [mailbox], `extra` after
/// [outgoing].
pub fn net_home(stack: &MailStack, imap: Via, smtp: Via, mailbox_extra: &str, extra: &str) -> Home {
    let secret = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(secret.path(), "pw\n").unwrap();
    let (imap_port, imap_tls) = match imap {
        Via::Direct => (stack.imap_port(), "starttls"),
        Via::Port(p) => (p, "none"),
    };
    let smtp_port = match smtp {
        Via::Direct => stack.smtp_port(),
        Via::Port(p) => p,
    };
    let home = Home::custom(&format!(
        r#"[mailbox]
kind = "imap"
host = "127.0.0.1"
port = {imap_port}
tls = "{imap_tls}"
ca_file = "{ca}"
username = "{POST}"
password_file = "{pw}"
poll_seconds = 1
{mailbox_extra}
[outgoing]
kind = "smtp"
host = "127.0.0.1"
port = {smtp_port}
tls = "none"
{extra}"#,
        ca = stack.ca_file().display(),
        pw = secret.path().display(),
    ));
    // The password file must outlive the home: keep it in the home's dir.
    let pw = home.dir.path().join("imap.pw");
    std::fs::copy(secret.path(), &pw).unwrap();
    let cfg = home.config_path();
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        &secret.path().display().to_string(),
        &pw.display().to_string(),
    );
    std::fs::write(&cfg, text).unwrap();
    home
}

/// `postbud run`, the real binary, on a home's config; its log (debug) goes
/// to a file in the home. Killed when dropped, if still running.
pub struct Daemon {
    child: Option<Child>,
    pub log: PathBuf,
}

impl Daemon {
    pub fn start(home: &Home) -> Daemon {
        Daemon::start_logging(home, "postbud=debug")
    }

    pub fn start_logging(home: &Home, filter: &str) -> Daemon {
        let n = std::fs::read_dir(home.dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.file_name().to_string_lossy().starts_with("daemon-"))
            })
            .count();
        let log = home.dir.path().join(format!("daemon-{n}.log"));
        let file = std::fs::File::create(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_postbud"))
            .args(["--config", home.config_path().to_str().unwrap(), "run"])
            .env("POSTBUD_LOG", filter)
            .env_remove("POSTBUD_NOW")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("start postbud run");
        Daemon {
            child: Some(child),
            log,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// The log so far.
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log).unwrap_or_default()).into_owned()
    }

    fn tail(&self) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// Panics, with how it ended and the end of its log, unless the daemon
    /// is still running.
    pub fn assert_alive(&mut self, when: &str) {
        let child = self.child.as_mut().expect("running");
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "the daemon died {when}: {}\n--- end of its log ({}):\n{}",
                describe(status),
                self.log.display(),
                self.tail()
            );
        }
    }

    /// SIGTERM; waits for the exit (at most 30 s) and asserts it was clean.
    pub fn stop(mut self) {
        self.assert_alive("before SIGTERM");
        let pid = self.pid().to_string();
        let ok = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(ok.success());
        let mut child = self.child.take().unwrap();
        let asked = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                assert!(
                    status.success(),
                    "after SIGTERM: {}\n{}",
                    describe(status),
                    self.tail()
                );
                return;
            }
            if asked.elapsed() > WAIT {
                let _ = child.kill();
                panic!("no exit 30 s after SIGTERM\n{}", self.tail());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The warnings and errors of a daemon log, one line each, without colours.
pub fn warnings(log: &str) -> String {
    let plain = strip_ansi(log);
    plain
        .lines()
        .filter(|l| l.contains(" WARN ") || l.contains(" ERROR "))
        .map(|l| l.split_once("Z ").map_or(l, |(_, rest)| rest))
        .collect::<Vec<_>>()
        .join("\n")
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (_, Some(13)) => "killed by signal 13 (SIGPIPE)".into(),
        (_, Some(s)) => format!("killed by signal {s}"),
        (Some(c), _) => format!("exit status {c}"),
        _ => format!("{status:?}"),
    }
}

/// A question from `from` with a Message-ID of its own.
pub fn ask(from: &str, id: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {POST}\r\nSubject: question {id}\r\nMessage-ID: <{id}@example.no>\r\n\r\nhei {id}\r\n"
    )
    .into_bytes()
}

/// Waits until `user`'s INBOX holds `n` messages, checking all the while
/// that the daemon lives; returns the replies (oldest first).
pub async fn replies_for(
    stack: &MailStack,
    daemon: &mut Daemon,
    user: &str,
    n: usize,
    timeout: Duration,
    when: &str,
) -> Vec<Reply> {
    let start = Instant::now();
    loop {
        daemon.assert_alive(when);
        let got = stack.messages(user, "INBOX").await;
        if got.len() >= n {
            return got.iter().map(|r| Reply::parse(r)).collect();
        }
        if start.elapsed() > timeout {
            panic!(
                "{when}: {user} has {} of {n} replies after {timeout:?}\n--- daemon log:\n{}",
                got.len(),
                daemon.tail()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// In-Reply-To of each reply, asserting none is there twice.
pub fn answered_once(replies: &[Reply]) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for r in replies {
        *seen
            .entry(r.header("In-Reply-To").unwrap_or_default())
            .or_default() += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "replies delivered twice: {twice:?}");
    let mut ids: Vec<String> = seen.into_keys().collect();
    ids.sort();
    ids
}

/// The issue's report: Dovecot restarting while postbud idles killed it
/// with SIGPIPE in about two runs of five (main set SIGPIPE to SIG_DFL for
/// every command, and rustls writes with writev, which raises it on a
/// reset connection). Ten restarts; after each, a new question must be
/// answered by the same process.
#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_survives_ten_dovecot_restarts_while_idle() {
    const RESTARTS: usize = 10;
    const ASKER: &str = "idle.asker@example.no";
    let stack = MailStack::start();
    let home = net_home(&stack, Via::Direct, Via::Direct, "idle = true", "");
    let mut daemon = Daemon::start(&home);
    stack.send(&ask(ASKER, "idle-0"), ASKER, &[POST]);
    replies_for(&stack, &mut daemon, ASKER, 1, WAIT, "before any restart").await;
    for i in 1..=RESTARTS {
        // Idle by now: the reply went out after the message was settled.
        tokio::time::sleep(Duration::from_millis(300)).await;
        stack.restart_dovecot();
        daemon.assert_alive(&format!("at Dovecot restart {i}"));
        stack.send(&ask(ASKER, &format!("idle-{i}")), ASKER, &[POST]);
        replies_for(
            &stack,
            &mut daemon,
            ASKER,
            i + 1,
            Duration::from_secs(60),
            &format!("after Dovecot restart {i}"),
        )
        .await;
    }
    let log = daemon.log();
    daemon.stop();
    let got = stack.messages(ASKER, "INBOX").await;
    let replies: Vec<Reply> = got.iter().map(|r| Reply::parse(r)).collect();
    assert_eq!(answered_once(&replies).len(), RESTARTS + 1);
    assert_eq!(replies.len(), RESTARTS + 1);
    assert_eq!(
        home.count("SELECT COUNT(*) FROM messages WHERE outcome = 'handled'"),
        (RESTARTS + 1) as i64
    );
    assert!(
        log.contains("imap connection lost"),
        "the lost connection is logged:\n{log}"
    );
}

/// Plenty of replies to one address: the tests ask from one address.
const MANY_REPLIES: &str = "[security]\nmax_replies_per_hour = 100000\n";

/// Questions asked in a test, in order, with their Message-IDs.
struct Asked {
    from: &'static str,
    prefix: &'static str,
    ids: Vec<String>,
}

impl Asked {
    fn new(from: &'static str, prefix: &'static str) -> Asked {
        Asked {
            from,
            prefix,
            ids: Vec::new(),
        }
    }
    /// Sends `n` more questions through Postfix.
    fn send(&mut self, stack: &MailStack, n: usize) {
        for _ in 0..n {
            let id = format!("{}-{}", self.prefix, self.ids.len());
            stack.send(&ask(self.from, &id), self.from, &[POST]);
            self.ids.push(format!("<{id}@example.no>"));
        }
    }
    /// APPENDs `n` more questions straight to the inbox (Postfix may be down).
    async fn append(&mut self, stack: &MailStack, n: usize) {
        for _ in 0..n {
            let id = format!("{}-{}", self.prefix, self.ids.len());
            stack.append(POST, "INBOX", &ask(self.from, &id)).await;
            self.ids.push(format!("<{id}@example.no>"));
        }
    }
    fn sorted(&self) -> Vec<String> {
        let mut v = self.ids.clone();
        v.sort();
        v
    }
}

/// Waits until the proxy has made every cut it was told to.
async fn cuts_made(proxy: &Proxy, daemon: &mut Daemon, step: &str) {
    let start = Instant::now();
    while proxy.pending_rules() > 0 {
        daemon.assert_alive(step);
        assert!(
            start.elapsed() < WAIT,
            "{step}: the cut never happened ({:?})",
            proxy.stats()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A cut in the middle of each IMAP command postbud uses, and connections
/// refused for a while: every question is handled once and answered once,
/// the inbox ends empty, and the daemon lives throughout.
#[tokio::test(flavor = "multi_thread")]
async fn imap_connections_cut_mid_command_or_refused_lose_and_repeat_nothing() {
    const ASKER: &str = "imap.cuts@example.no";
    let stack = MailStack::start();
    let proxy = Proxy::start(stack.imap_port()).await;
    let home = net_home(
        &stack,
        Via::Port(proxy.port()),
        Via::Direct,
        "idle = true",
        MANY_REPLIES,
    );
    let mut daemon = Daemon::start(&home);
    let mut asked = Asked::new(ASKER, "imap-cut");
    asked.send(&stack, 1);
    replies_for(&stack, &mut daemon, ASKER, 1, WAIT, "before any cut").await;
    // (step, rule, cut the open session first so that a new one is made)
    let steps = [
        // The answer cut inside the message's literal; the retry on a new
        // session is cut too, so the daemon's own backoff is used.
        (
            "mid-FETCH, twice",
            Rule::on("UID FETCH", Cut::AfterReply(200)).times(2),
            false,
        ),
        (
            "FETCH never arrives",
            Rule::on("UID FETCH", Cut::Before),
            false,
        ),
        // Dovecot moved them; postbud never heard: the retry finds nothing.
        (
            "MOVE done, its answer lost",
            Rule::on("UID MOVE", Cut::AfterReply(0)),
            false,
        ),
        // Both tries fail: the batch is committed but not moved; fetched
        // again, the messages are recognised and moved, not answered again.
        (
            "MOVE never arrives, twice",
            Rule::on("UID MOVE", Cut::Before).times(2),
            false,
        ),
        (
            "IDLE cut at '+ idling'",
            Rule::on("IDLE", Cut::AfterReply(0)),
            false,
        ),
        ("DONE never arrives", Rule::on("DONE", Cut::Before), false),
        (
            "SEARCH never arrives",
            Rule::on("UID SEARCH", Cut::Before),
            false,
        ),
        // Greeting, capabilities, LOGIN's answer, SELECT: cut in the middle
        // of setting up a session.
        (
            "a new session cut after 600 bytes from the server",
            Rule::server_bytes(600),
            true,
        ),
        ("LOGIN cut half-way", Rule::client_bytes(12), true),
    ];
    for (step, rule, new_session) in steps {
        let t = Instant::now();
        proxy.rule(rule);
        if new_session {
            proxy.cut_all();
        }
        asked.send(&stack, 2);
        let n = asked.ids.len();
        replies_for(&stack, &mut daemon, ASKER, n, WAIT, step).await;
        cuts_made(&proxy, &mut daemon, step).await;
        eprintln!("{step}: {:?}", t.elapsed());
    }
    // Connections refused for five seconds, the open one cut.
    let t = Instant::now();
    proxy.refuse(true);
    proxy.cut_all();
    asked.send(&stack, 2);
    tokio::time::sleep(Duration::from_secs(5)).await;
    daemon.assert_alive("while IMAP connections are refused");
    assert!(proxy.stats().refused >= 1, "{:?}", proxy.stats());
    assert_eq!(stack.messages(POST, "INBOX").await.len(), 2);
    proxy.refuse(false);
    let n = asked.ids.len();
    replies_for(&stack, &mut daemon, ASKER, n, WAIT, "after the refusals").await;
    eprintln!("refused for 5 s: {:?}", t.elapsed());

    let log = daemon.log();
    daemon.stop();
    eprintln!("cuts: {:#?}\n{}", proxy.stats(), warnings(&log));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = stack.messages(ASKER, "INBOX").await;
    let replies: Vec<Reply> = got.iter().map(|r| Reply::parse(r)).collect();
    assert_eq!(answered_once(&replies), asked.sorted());
    let n = n as i64;
    assert_eq!(home.count("SELECT COUNT(*) FROM messages"), n);
    assert_eq!(
        home.count("SELECT COUNT(*) FROM messages WHERE outcome = 'handled'"),
        n
    );
    assert_eq!(home.count("SELECT COUNT(*) FROM tickets"), n);
    assert_eq!(
        home.count("SELECT COUNT(*) FROM outbox WHERE state = 'sent'"),
        n
    );
    assert_eq!(home.count("SELECT COUNT(*) FROM outbox"), n);
    assert!(stack.messages(POST, "INBOX").await.is_empty());
    assert_eq!(stack.messages(POST, "Behandlet").await.len() as i64, n);
    for said in ["imap connection lost", "imap connect failed"] {
        assert!(log.contains(said), "the log says `{said}`:\n{log}");
    }
}

/// Waits until the outbox holds `rows` rows, none queued or being sent.
async fn settled(home: &Home, daemon: &mut Daemon, rows: i64, step: &str) {
    let start = Instant::now();
    loop {
        daemon.assert_alive(step);
        let all = home.count("SELECT COUNT(*) FROM outbox");
        let open = home.count("SELECT COUNT(*) FROM outbox WHERE state IN ('queued', 'sending')");
        if all == rows && open == 0 {
            return;
        }
        assert!(
            start.elapsed() < WAIT,
            "{step}: {all} of {rows} replies queued, {open} not settled: {:?}",
            outbox_states(home)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Rows of the outbox by state.
fn outbox_states(home: &Home) -> HashMap<String, i64> {
    let store = home.store();
    let mut stmt = store
        .conn
        .prepare("SELECT state, COUNT(*) FROM outbox GROUP BY state")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Outbox rows whose send was interrupted after the message was handed
/// over: `unknown` (a send whose answer was lost says why; a row left
/// `sending` by a kill does not), never `failed`.
pub fn uncertain_rows(home: &Home) -> i64 {
    assert_eq!(
        home.count(&format!(
            "SELECT COUNT(*) FROM outbox WHERE state = 'failed' AND last_error LIKE '%{}%'",
            postbud::outbox::smtp::UNCERTAIN
        )),
        0,
        "an uncertain send is unknown, not failed"
    );
    home.count("SELECT COUNT(*) FROM outbox WHERE state = 'unknown'")
}

/// The retry time of every queued reply comes (the daemon goes by the
/// system clock, and the first retry is a minute away).
pub fn retry_now(home: &Home) {
    home.store()
        .conn
        .execute(
            "UPDATE outbox SET next_attempt_at = '2000-01-01T00:00:00Z' WHERE state = 'queued'",
            [],
        )
        .unwrap();
}

/// A cut at each point of an SMTP transaction, and connections refused for
/// a while. Before the message is handed over nothing is lost: the reply is
/// sent again at once on a new connection (or, cut twice, later). After it
/// was handed over the reply may or may not have arrived: it is marked so,
/// and never sent again. No reply arrives twice.
#[tokio::test(flavor = "multi_thread")]
async fn smtp_connections_cut_mid_transaction_or_refused_never_send_twice() {
    const ASKER: &str = "smtp.cuts@example.no";
    let stack = MailStack::start();
    let proxy = Proxy::start(stack.smtp_port()).await;
    let home = net_home(
        &stack,
        Via::Direct,
        Via::Port(proxy.port()),
        "idle = true",
        &format!("connections = 1\n{MANY_REPLIES}"),
    );
    let mut daemon = Daemon::start(&home);
    let mut asked = Asked::new(ASKER, "smtp-cut");
    asked.send(&stack, 1);
    replies_for(&stack, &mut daemon, ASKER, 1, WAIT, "before any cut").await;
    let mut delivered = 1;
    let mut uncertain = 0;
    // (step, rule, uncertain rows it may leave, whether such a reply arrived)
    let steps = [
        (
            "MAIL never arrives",
            Rule::on("MAIL FROM", Cut::Before),
            0..=0,
            false,
        ),
        (
            "RCPT arrives, its answer is lost",
            Rule::on("RCPT TO", Cut::AfterReply(0)),
            0..=0,
            false,
        ),
        (
            "DATA arrives, its answer is lost",
            Rule::on("DATA\r\n", Cut::AfterReply(0)),
            0..=0,
            false,
        ),
        // Usually the data is all written before the cut reaches postbud:
        // uncertain (it never arrived). Should a write fail, it certainly
        // did not arrive and is sent again at once.
        (
            "mid-DATA",
            Rule::on("DATA\r\n", Cut::AfterMore(100)),
            0..=1,
            false,
        ),
        (
            "the data arrives, its answer is lost",
            Rule::on("\r\n.\r\n", Cut::AfterReply(0)),
            1..=1,
            true,
        ),
        (
            "the data's end never arrives",
            Rule::on("\r\n.\r\n", Cut::Before),
            1..=1,
            false,
        ),
    ];
    for (step, rule, may_leave, arrived) in steps {
        let t = Instant::now();
        proxy.rule(rule);
        asked.send(&stack, 2);
        settled(&home, &mut daemon, asked.ids.len() as i64, step).await;
        cuts_made(&proxy, &mut daemon, step).await;
        let left = uncertain_rows(&home) - uncertain;
        assert!(
            may_leave.contains(&left),
            "{step}: {left} uncertain rows: {:?}",
            outbox_states(&home)
        );
        uncertain += left;
        delivered += 2 - left as usize + if arrived { left as usize } else { 0 };
        replies_for(&stack, &mut daemon, ASKER, delivered, WAIT, step).await;
        eprintln!("{step}: {:?}, {left} uncertain", t.elapsed());
    }
    // Cut twice before the data: the new connection fails too, and the
    // reply waits for its retry.
    proxy.rule(Rule::on("MAIL FROM", Cut::Before).times(2));
    asked.send(&stack, 1);
    cuts_made(&proxy, &mut daemon, "MAIL never arrives, twice").await;
    // Refused for a while: both replies wait for their retry.
    proxy.refuse(true);
    proxy.cut_all();
    asked.send(&stack, 2);
    let start = Instant::now();
    while home.count("SELECT COUNT(*) FROM outbox WHERE state = 'queued' AND attempts = 1") < 3 {
        daemon.assert_alive("while SMTP connections are refused");
        assert!(
            start.elapsed() < WAIT,
            "replies not waiting for a retry: {:?}",
            outbox_states(&home)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(proxy.stats().refused >= 2, "{:?}", proxy.stats());
    proxy.refuse(false);
    retry_now(&home);
    // A new question wakes the sender, which sends everything due.
    asked.send(&stack, 1);
    delivered += 4;
    replies_for(
        &stack,
        &mut daemon,
        ASKER,
        delivered,
        WAIT,
        "after the retries",
    )
    .await;

    let log = daemon.log();
    daemon.stop();
    eprintln!("cuts: {:#?}\n{}", proxy.stats(), warnings(&log));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = stack.messages(ASKER, "INBOX").await;
    let replies: Vec<Reply> = got.iter().map(|r| Reply::parse(r)).collect();
    let answered = answered_once(&replies);
    assert_eq!(answered.len(), delivered);
    let n = asked.ids.len() as i64;
    assert_eq!(
        home.count("SELECT COUNT(*) FROM messages WHERE outcome = 'handled'"),
        n
    );
    assert_eq!(home.count("SELECT COUNT(*) FROM outbox"), n);
    let sent = home.count("SELECT COUNT(*) FROM outbox WHERE state = 'sent'");
    assert_eq!(sent + uncertain, n, "{:?}", outbox_states(&home));
    // Of the uncertain, only the one whose answer was lost arrived.
    assert_eq!(answered.len() as i64, sent + 1);
    for said in [
        "smtp connection lost before the message was handed over",
        "smtp connection lost after the message was handed over",
    ] {
        assert!(log.contains(said), "the log says `{said}`:\n{log}");
    }
}

/// Sleeps `secs` seconds, checking every second that the daemon lives.
async fn live_through(daemon: &mut Daemon, secs: u64, when: &str) {
    for _ in 0..secs {
        tokio::time::sleep(Duration::from_secs(1)).await;
        daemon.assert_alive(when);
    }
}

/// How many lines of the log contain `what`.
fn log_count(log: &str, what: &str) -> usize {
    log.lines().filter(|l| l.contains(what)).count()
}

/// Dovecot stopped for a minute while postbud idles, mail arriving at
/// Postfix meanwhile: postbud keeps running, logs its failed connects
/// with growing pauses between them, and answers everything once Dovecot
/// is back.
#[tokio::test(flavor = "multi_thread")]
async fn dovecot_stopped_for_a_minute() {
    const ASKER: &str = "dovecot.down@example.no";
    let stack = MailStack::start();
    let home = net_home(
        &stack,
        Via::Direct,
        Via::Direct,
        "idle = true",
        MANY_REPLIES,
    );
    let mut daemon = Daemon::start(&home);
    let mut asked = Asked::new(ASKER, "dovecot-down");
    asked.send(&stack, 1);
    replies_for(&stack, &mut daemon, ASKER, 1, WAIT, "before the stop").await;
    stack.stop_dovecot();
    let stopped = Instant::now();
    // Postfix takes these and keeps them until Dovecot's LMTP is back.
    asked.send(&stack, 3);
    live_through(&mut daemon, 58, "while Dovecot is stopped").await;
    let log = daemon.log();
    let failed = log_count(&log, "imap connect failed");
    stack.start_dovecot();
    eprintln!("Dovecot stopped for {:?}", stopped.elapsed());
    // The daemon's pauses between tries double up to a minute: the try
    // after the restart comes within about a minute.
    replies_for(
        &stack,
        &mut daemon,
        ASKER,
        4,
        Duration::from_secs(90),
        "after Dovecot is back",
    )
    .await;
    eprintln!(
        "caught up {:?} after the stop, after {failed} failed connects",
        stopped.elapsed()
    );
    let log = daemon.log();
    daemon.stop();
    eprintln!("{}", warnings(&log));
    assert!(
        (3..=12).contains(&failed),
        "failed connects in a minute, with backoff: {failed}"
    );
    assert!(log.contains("imap connection lost"), "{log}");
    let got = stack.messages(ASKER, "INBOX").await;
    let replies: Vec<Reply> = got.iter().map(|r| Reply::parse(r)).collect();
    assert_eq!(answered_once(&replies), asked.sorted());
    assert_eq!(
        home.count("SELECT COUNT(*) FROM messages WHERE outcome = 'handled'"),
        4
    );
    assert_eq!(
        home.count("SELECT COUNT(*) FROM outbox WHERE state = 'sent'"),
        4
    );
}

/// Postfix stopped for a minute while questions arrive (straight into the
/// mailbox): postbud keeps running, handles them, logs the failed sends and
/// keeps the replies queued for their retry; with Postfix back and the
/// retry due, each is sent once.
#[tokio::test(flavor = "multi_thread")]
async fn postfix_stopped_for_a_minute() {
    const ASKER: &str = "postfix.down@example.no";
    let stack = MailStack::start();
    let home = net_home(
        &stack,
        Via::Direct,
        Via::Direct,
        "idle = true",
        MANY_REPLIES,
    );
    let mut daemon = Daemon::start(&home);
    let mut asked = Asked::new(ASKER, "postfix-down");
    asked.send(&stack, 1);
    replies_for(&stack, &mut daemon, ASKER, 1, WAIT, "before the stop").await;
    stack.stop_postfix();
    let stopped = Instant::now();
    asked.append(&stack, 3).await;
    live_through(&mut daemon, 58, "while Postfix is stopped").await;
    assert_eq!(
        home.count("SELECT COUNT(*) FROM messages WHERE outcome = 'handled'"),
        4,
        "handled while Postfix is down"
    );
    assert_eq!(
        home.count("SELECT COUNT(*) FROM outbox WHERE state = 'queued' AND attempts >= 1"),
        3,
        "waiting for their retry: {:?}",
        outbox_states(&home)
    );
    stack.start_postfix();
    eprintln!("Postfix stopped for {:?}", stopped.elapsed());
    // The first retry is a minute after the failure, by the system clock:
    // let it come now, and wake the sender with one more question.
    retry_now(&home);
    asked.send(&stack, 1);
    replies_for(&stack, &mut daemon, ASKER, 5, WAIT, "after Postfix is back").await;
    let log = daemon.log();
    daemon.stop();
    eprintln!("{}", warnings(&log));
    assert!(log.contains("smtp connect failed"), "{log}");
    let got = stack.messages(ASKER, "INBOX").await;
    let replies: Vec<Reply> = got.iter().map(|r| Reply::parse(r)).collect();
    assert_eq!(answered_once(&replies), asked.sorted());
    assert_eq!(
        home.count("SELECT COUNT(*) FROM outbox WHERE state = 'sent'"),
        5
    );
    assert_eq!(home.count("SELECT COUNT(*) FROM outbox"), 5);
}
