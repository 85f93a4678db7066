//! kill -9 at random moments while the daemon works through a mix of
//! messages: support requests, KODE from members and from unknown
//! addresses, HJELP, automatic replies, bounces, copies delivered twice and
//! bytes that are no mail. Restarted after each kill, the daemon must lose
//! nothing, apply nothing twice and send no reply twice:
//! - every message ends answered exactly once, or silent by design
//!   (automatic mail, bounces, copies), or quarantined with its reason;
//!   each is in the register's `messages` and in the processed or the
//!   quarantine folder;
//! - every effect once: one ticket per support request, one code per KODE,
//!   one count per bounced address, one reply per message that gets one;
//! - a message in hand when the process died twice is quarantined unread
//!   (SPEC section 3, "No poison pills"): not lost, counted, and few (at
//!   most one per kill).
//!
//! Maildir with the file outbox (one `.eml` per reply), and IMAP with SMTP
//! (Dovecot and Postfix each restarted once mid-run; a reply interrupted
//! mid-send is `unknown`, never sent again).
//!
//! The kill moments come from a seeded generator; the seed is printed and
//! `POSTBUD_CRASH_SEED` replays it. The defaults keep CI quick; a longer
//! run of the same tests:
//!
//! ```text
//! POSTBUD_CRASH_KILLS=1000 POSTBUD_CRASH_MESSAGES=10000 \
//! POSTBUD_CRASH_NET_KILLS=200 POSTBUD_CRASH_NET_MESSAGES=2000 \
//!     cargo test --test it crash:: -- --nocapture
//! ```

use crate::chaos::{POST, net_home, retry_now, uncertain_rows, warnings};
use crate::support::home::MEMBERS;
use crate::support::{Home, MailStack, Reply, fixture};
use postbud::store::import::{ImportKind, import};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A small deterministic generator: the seed is printed, so a failure can be
/// replayed.
pub struct Lcg(pub u64);
impl Lcg {
    pub fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

pub fn seed() -> u64 {
    let s = std::env::var("POSTBUD_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("crash test seed: {s} (POSTBUD_CRASH_SEED={s} replays it)");
    s
}

/// The binary under test, hard-linked into `dir`: another build in the
/// same tree replacing it meanwhile (cargo writes a new file and renames it)
/// cannot pull it from under a long run.
fn pinned_binary(dir: &std::path::Path) -> std::path::PathBuf {
    let bin = std::path::PathBuf::from(env!("CARGO_BIN_EXE_postbud"));
    let link = dir.join("postbud");
    match std::fs::hard_link(&bin, &link) {
        Ok(()) => link,
        Err(_) => bin,
    }
}

/// The queue ID Postfix gave a mail it took over SMTP (its `Received:`
/// header), if any.
fn postfix_queue_id(raw: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(raw);
    let (_, rest) = text.split_once("(Postfix) with ESMTP id ")?;
    Some(rest.split_whitespace().next()?.to_string())
}

/// `name` from the environment, else `default`.
fn env_number(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}=`{v}` is not a number")),
        Err(_) => default,
    }
}

/// What a message of the mix is, and so what must become of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A question: a ticket and a receipt.
    Support,
    /// KODE from a member: a code and its reply.
    KodeMember,
    /// KODE from an address nobody has: one neutral reply per address a
    /// day (each such address asks twice), the second is silent.
    KodeUnknown,
    /// HJELP: the help text.
    Help,
    /// An automatic reply (Auto-Submitted or Precedence: bulk): silent.
    Auto,
    /// A delivery status report: silent, the address counted once.
    Bounce,
    /// A question delivered twice (the second copy with a Received header
    /// more): one ticket, one receipt.
    Twice,
    /// Bytes that are no mail: quarantined.
    Broken,
}

impl Kind {
    /// Replies one message of this kind gets (KodeUnknown: per address).
    fn replies(self) -> usize {
        match self {
            Kind::Support | Kind::KodeMember | Kind::Help | Kind::Twice => 1,
            Kind::KodeUnknown | Kind::Auto | Kind::Bounce | Kind::Broken => 0,
        }
    }
}

/// One message of the mix: its copies as delivered, and who sent it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub kind: Kind,
    pub sender: String,
    /// One, or two for `Twice`.
    pub copies: Vec<Vec<u8>>,
    /// For a bounce: the address it reports.
    pub bounced: Option<String>,
}

impl Mail {
    /// The identity the register keeps it under when it is read; and the
    /// one it gets when quarantined unread (the hash of its bytes).
    fn identities(&self) -> (String, String) {
        let raw = &self.copies[0];
        let parsed = postbud::core::message::parse(raw);
        (
            postbud::core::message::identity(raw, parsed.as_ref()),
            postbud::core::message::identity(raw, None),
        )
    }
}

/// `n` messages of every kind, in a fixed order, and a members CSV with
/// the members who ask for codes (each at most three times: the limit is
/// five an hour). Replies go to a pool of addresses that grows with `n`.
pub fn mix(n: usize) -> (Vec<Mail>, String) {
    let pool = (n / 25).max(4);
    let mut members = MEMBERS.to_string();
    let mut mails = Vec::with_capacity(n);
    let (mut kode_member, mut kode_unknown) = (0usize, 0usize);
    for i in 0..n {
        let kind = match i % 20 {
            0..=6 => Kind::Support,
            7..=9 => Kind::KodeMember,
            10 | 11 => Kind::KodeUnknown,
            12 | 13 => Kind::Help,
            14 | 15 => Kind::Auto,
            16 => Kind::Bounce,
            17 | 18 => Kind::Twice,
            _ => Kind::Broken,
        };
        let head = |from: &str, subject: &str, extra: &str| {
            format!(
                "From: {from}\r\nTo: {POST}\r\nSubject: {subject}\r\nMessage-ID: <crash-{i}@example.no>\r\n\
                 Date: Fri, 20 Nov 2026 09:15:00 +0100\r\n{extra}"
            )
        };
        let (sender, raw, bounced) = match kind {
            Kind::Support => {
                let from = format!("spor{}@example.no", i % pool);
                let raw = head(
                    &from,
                    &format!("Spørsmål {i}"),
                    "Content-Type: text/plain; charset=utf-8\r\n\r\n",
                ) + &format!("Hei, jeg lurer på noe (nummer {i}).\r\n");
                (from, raw.into_bytes(), None)
            }
            Kind::KodeMember => {
                let m = kode_member / 3;
                kode_member += 1;
                let from = format!("medlem{m}@example.no");
                if kode_member % 3 == 1 {
                    members.push_str(&format!(
                        "{},Medlem {m},1980-01-01,,{from},,923609016,Hovedkontoret,Operatør,Bergen,nb,active\n",
                        60000 + m
                    ));
                }
                (
                    from.clone(),
                    (head(&from, "KODE", "\r\n") + "\r\n").into_bytes(),
                    None,
                )
            }
            Kind::KodeUnknown => {
                let from = format!("ukjent{}@example.no", kode_unknown / 2);
                kode_unknown += 1;
                (
                    from.clone(),
                    (head(&from, "kode", "\r\n") + "\r\n").into_bytes(),
                    None,
                )
            }
            Kind::Help => {
                let from = format!("spor{}@example.no", i % pool);
                (
                    from.clone(),
                    (head(&from, "HJELP", "\r\n") + "\r\n").into_bytes(),
                    None,
                )
            }
            Kind::Auto => {
                let from = format!("borte{i}@example.no");
                let extra = if i % 2 == 0 {
                    "Auto-Submitted: auto-replied\r\n\r\n"
                } else {
                    "Precedence: bulk\r\n\r\n"
                };
                let raw =
                    head(&from, "Automatisk svar: Kvittering", extra) + "Jeg er på ferie.\r\n";
                (from, raw.into_bytes(), None)
            }
            Kind::Bounce => {
                let to = format!("finnes.ikke{i}@example.no");
                let raw = String::from_utf8(fixture("bounce-dsn.eml"))
                    .unwrap()
                    .replace("borte@example.no", &to)
                    .replace(
                        "<20261120081602.4C1F@mx.forbund.example>",
                        &format!("<bounce-{i}@mx.forbund.example>"),
                    );
                assert!(
                    raw.contains(&format!("<bounce-{i}@")),
                    "the fixture changed"
                );
                (
                    "mailer-daemon@mx.forbund.example".into(),
                    raw.into_bytes(),
                    Some(to),
                )
            }
            Kind::Twice => {
                let from = format!("dobbel{}@example.no", i % pool);
                let raw =
                    head(&from, &format!("To ganger {i}"), "\r\n") + "Kom denne to ganger?\r\n";
                (from, raw.into_bytes(), None)
            }
            // No header before the first blank line, and bytes that are
            // no UTF-8 (no NUL: IMAP APPEND takes no NUL in a literal).
            Kind::Broken => {
                let mut raw = format!("\r\nno mail at all {i} ").into_bytes();
                raw.extend_from_slice(b"\xff\xfe\x80\r\n");
                (String::new(), raw, None)
            }
        };
        let mut copies = vec![raw];
        if kind == Kind::Twice {
            let mut again =
                b"Received: from mx2 by mx.forbund.example; Fri, 20 Nov 2026 09:20:00 +0100\r\n"
                    .to_vec();
            again.extend_from_slice(&copies[0]);
            copies.push(again);
        }
        mails.push(Mail {
            kind,
            sender,
            copies,
            bounced,
        });
    }
    (mails, members)
}

/// Every copy of every message, in delivery order: a message's second copy
/// comes a while after its first.
fn deliveries(mails: &[Mail]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    let mut later: Vec<(usize, Vec<u8>)> = Vec::new();
    for (i, m) in mails.iter().enumerate() {
        out.push(m.copies[0].clone());
        if let Some(c) = m.copies.get(1) {
            later.push((i + 15, c.clone()));
        }
        while later.first().is_some_and(|(at, _)| *at <= i) {
            out.push(later.remove(0).1);
        }
    }
    out.extend(later.into_iter().map(|(_, c)| c));
    out
}

/// Imports the members of the mix and allows any number of replies an
/// hour to one address.
fn prepare(home: &Home, members: &str) {
    let mut store = home.store();
    import(
        &mut store.conn,
        ImportKind::Members,
        "members.csv",
        members,
        home.now(),
        &|_, _| {},
    )
    .unwrap();
}

/// What the register says became of the mix; panics on anything lost or
/// done twice. Replies are counted per message (outbox rows by
/// `message_id`); where they went is the caller's to check.
struct Outcome {
    /// Messages quarantined unread after the process died twice on them.
    died: usize,
    /// Of those, read after all when fetched again (a second row).
    died_then_read: usize,
    /// Outbox rows expected: one per reply.
    replies: usize,
    /// Per recipient, replies expected.
    per_recipient: BTreeMap<String, usize>,
    /// Messages in the quarantine folder expected, at least and at most.
    quarantine_folder: (usize, usize),
    by_outcome: BTreeMap<String, usize>,
}

const DIED: &str = "stopped twice";

fn check_register(home: &Home, mails: &[Mail]) -> Outcome {
    let store = home.store();
    let conn = &store.conn;
    // Every row of `messages`: identity -> (id, outcome, reason).
    let mut rows: HashMap<String, (i64, String, String)> = HashMap::new();
    let mut stmt = conn
        .prepare("SELECT identity, id, outcome, COALESCE(reason, '') FROM messages")
        .unwrap();
    for r in stmt
        .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?))))
        .unwrap()
    {
        let (identity, row): (String, (i64, String, String)) = r.unwrap();
        rows.insert(identity, row);
    }
    let count = |sql: &str, id: i64| -> usize {
        conn.query_row(sql, [id], |r| r.get::<_, i64>(0)).unwrap() as usize
    };
    let mut matched: HashSet<String> = HashSet::new();
    let mut died = 0;
    let mut died_then_read = 0;
    let mut replies = 0;
    let mut per_recipient: BTreeMap<String, usize> = BTreeMap::new();
    let mut unknown_answered: HashMap<String, usize> = HashMap::new();
    let mut quarantined_copies = (0, 0);
    let mut by_outcome: BTreeMap<String, usize> = BTreeMap::new();
    for (i, m) in mails.iter().enumerate() {
        let (read_as, unread_as) = m.identities();
        let read = rows.get(&read_as);
        let unread = rows.get(&unread_as).filter(|_| unread_as != read_as);
        let what = format!("message {i} ({:?}, {read_as})", m.kind);
        let (id, outcome, reason) = match (read, unread) {
            (Some(r), Some(u)) => {
                // Quarantined unread after two deaths, under the hash of its
                // bytes; then read after all under its Message-ID (its
                // other copy, or itself fetched again after a kill between
                // the quarantine and the move): two rows, effects only from
                // the read one, in the quarantine folder or not.
                assert!(
                    u.1 == "quarantined" && u.2.contains(DIED),
                    "{what}: a second row {u:?}"
                );
                matched.insert(unread_as.clone());
                died += 1;
                died_then_read += 1;
                quarantined_copies.1 += 1;
                r.clone()
            }
            (Some(r), None) => r.clone(),
            (None, Some(u)) => u.clone(),
            (None, None) => panic!("{what} is lost: not in the register"),
        };
        matched.insert(if read.is_some() { read_as } else { unread_as });
        *by_outcome.entry(outcome.clone()).or_default() += 1;
        let outbox = count("SELECT COUNT(*) FROM outbox WHERE message_id = ?1", id);
        let tickets = count("SELECT COUNT(*) FROM tickets WHERE message_id = ?1", id);
        if outcome == "quarantined" {
            assert!(!reason.is_empty(), "{what}: quarantined without a reason");
            assert_eq!(outbox, 0, "{what}: quarantined, yet answered");
            assert_eq!(tickets, 0, "{what}: quarantined, yet a ticket");
            if reason.contains(DIED) {
                died += 1;
            } else {
                assert_eq!(m.kind, Kind::Broken, "{what}: quarantined: {reason}");
                assert!(reason.contains("not a mail message"), "{what}: {reason}");
            }
            quarantined_copies.0 += 1;
            quarantined_copies.1 += m.copies.len();
            continue;
        }
        match m.kind {
            Kind::Support | Kind::Twice | Kind::KodeMember | Kind::Help => {
                assert_eq!(outcome, "handled", "{what}: {reason}")
            }
            Kind::Auto | Kind::Bounce => assert_eq!(outcome, "silent", "{what}"),
            Kind::KodeUnknown => {
                assert!(
                    outcome == "handled" || outcome == "silent",
                    "{what}: {outcome}"
                )
            }
            Kind::Broken => panic!("{what}: no mail, yet {outcome}"),
        }
        if m.kind == Kind::KodeUnknown {
            *unknown_answered.entry(m.sender.clone()).or_default() += outbox;
        } else {
            assert_eq!(outbox, m.kind.replies(), "{what}: replies");
        }
        replies += outbox;
        if outbox > 0 {
            *per_recipient.entry(m.sender.clone()).or_default() += outbox;
        }
        let want_tickets = usize::from(matches!(m.kind, Kind::Support | Kind::Twice));
        assert_eq!(tickets, want_tickets, "{what}: tickets");
        if let Some(to) = &m.bounced {
            let n: i64 = conn
                .query_row("SELECT count FROM bounces WHERE email = ?1", [to], |r| {
                    r.get(0)
                })
                .unwrap_or_else(|e| panic!("{what}: {to} not counted as bouncing: {e}"));
            assert_eq!(n, 1, "{what}: {to} counted {n} times");
        }
    }
    for (addr, n) in &unknown_answered {
        assert_eq!(*n, 1, "{addr}: {n} neutral replies to an unknown address");
    }
    // One code per KODE a member sent and was handled.
    let mut kode_handled: HashMap<&str, i64> = HashMap::new();
    for m in mails.iter().filter(|m| m.kind == Kind::KodeMember) {
        let (read_as, _) = m.identities();
        if rows.get(&read_as).is_some_and(|r| r.1 == "handled") {
            *kode_handled.entry(&m.sender).or_default() += 1;
        }
    }
    for (addr, n) in kode_handled {
        let codes: i64 = conn
            .query_row("SELECT COUNT(*) FROM codes WHERE email = ?1", [addr], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(codes, n, "{addr}: {codes} codes for {n} KODE");
    }
    let extra: Vec<_> = rows.keys().filter(|k| !matched.contains(*k)).collect();
    assert!(
        extra.is_empty(),
        "rows for no message of the mix: {extra:?}"
    );
    let outbox_total = conn
        .query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get::<_, i64>(0))
        .unwrap() as usize;
    assert_eq!(outbox_total, replies, "outbox rows besides the replies");
    Outcome {
        died,
        died_then_read,
        replies,
        per_recipient,
        quarantine_folder: quarantined_copies,
        by_outcome,
    }
}

/// The outcomes, in one line.
fn summary(o: &Outcome) -> String {
    let parts: Vec<String> = o
        .by_outcome
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    format!(
        "{}; {} replies; {} quarantined after the process died twice on them \
         ({} of them read after all when fetched again)",
        parts.join(", "),
        o.replies,
        o.died,
        o.died_then_read
    )
}

/// Maildir in, file outbox out, a real SQLite file: 100 kills (default) at
/// random moments over 1,000 mixed messages delivered in waves.
#[test]
fn kill_9_at_random_moments_never_loses_or_repeats_anything() {
    let kills = env_number("POSTBUD_CRASH_KILLS", 100);
    let n = env_number("POSTBUD_CRASH_MESSAGES", 1000);
    let home = Home::new("[security]\nmax_replies_per_hour = 100000\n");
    let cfg_path = home.config_path();
    let text = std::fs::read_to_string(&cfg_path).unwrap().replace(
        "path = \"var/mail\"",
        "path = \"var/mail\"\nbatch_size = 7\npoll_seconds = 1",
    );
    std::fs::write(&cfg_path, text).unwrap();
    let (mails, members) = mix(n);
    prepare(&home, &members);
    let files = deliveries(&mails);
    let wave = files.len().div_ceil(kills);
    let bin = pinned_binary(home.dir.path());
    let mut rng = Lcg(seed());
    let started = Instant::now();
    // The kill moment is random within a window that follows the machine's
    // speed: longer after a life killed before it handled anything (still
    // starting), shorter after one that had finished its wave (idle), so
    // that most kills land while there is work in hand.
    let mut window = 80.0f64; // ms
    let mut busy = 0; // lives killed with mail waiting after handling some
    let mut starting = 0; // lives that handled nothing
    let mut last = 0;
    for k in 0..kills {
        for raw in files.iter().skip(k * wave).take(wave) {
            home.deliver(raw);
        }
        let mut child = Command::new(&bin)
            .args(["--config", cfg_path.to_str().unwrap(), "run"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let at = window * (0.3 + rng.next(1000) as f64 / 1000.0);
        std::thread::sleep(Duration::from_micros((at * 1000.0) as u64));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let now = home.count("SELECT COUNT(*) FROM messages");
        if now == last {
            starting += 1;
            window *= 1.2;
        } else if home.folder_count("") > 0 {
            busy += 1;
        } else {
            window *= 0.85;
        }
        window = window.clamp(10.0, 1000.0);
        last = now;
    }
    let killing = started.elapsed();
    // A last clean run settles whatever the kills left.
    let out = Command::new(&bin)
        .args(["--config", cfg_path.to_str().unwrap(), "run", "--once"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    eprintln!(
        "{kills} kills ({busy} with mail in hand or waiting, {starting} before any was \
         handled, the rest idle) over {n} messages ({} files) in {killing:?}; {last} \
         handled before the last clean run",
        files.len()
    );

    let o = check_register(&home, &mails);
    eprintln!("{}", summary(&o));
    assert!(
        o.died <= kills,
        "{} quarantined after two deaths in {kills} kills",
        o.died
    );
    // Every reply delivered once: one file per outbox row, all sent.
    assert_eq!(
        home.count("SELECT COUNT(*) FROM outbox WHERE state = 'sent'") as usize,
        o.replies
    );
    let replies = home.replies();
    assert_eq!(replies.len(), o.replies, "one .eml per reply");
    let mut per: BTreeMap<String, usize> = BTreeMap::new();
    let mut answering: HashSet<(String, String)> = HashSet::new();
    for r in &replies {
        *per.entry(r.to.clone()).or_default() += 1;
        let key = (r.to.clone(), r.header("In-Reply-To").unwrap_or_default());
        assert!(answering.insert(key.clone()), "answered twice: {key:?}");
    }
    assert_eq!(per, o.per_recipient, "replies per recipient");
    // Every file in the processed or the quarantine folder.
    assert_eq!(home.folder_count(""), 0, "inbox empty");
    let (processed, quarantine) = (
        home.folder_count("Behandlet"),
        home.folder_count("Karantene"),
    );
    assert_eq!(processed + quarantine, files.len());
    assert!(
        (o.quarantine_folder.0..=o.quarantine_folder.1).contains(&quarantine),
        "{quarantine} in quarantine, expected {:?}",
        o.quarantine_folder
    );
}

#[test]
fn sigterm_finishes_the_batch_in_hand_and_exits_cleanly() {
    let home = Home::new("");
    let cfg_path = home.dir.path().join("config/postbud.toml");
    let bin = env!("CARGO_BIN_EXE_postbud");
    let mut child = Command::new(bin)
        .args(["--config", cfg_path.to_str().unwrap(), "run"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    home.deliver(&crate::support::fixture("support.eml"));
    let started = Instant::now();
    while home.replies().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no reply from the daemon"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let stopping = Instant::now();
    let status = child.wait().unwrap();
    assert!(status.success(), "exit after SIGTERM: {status:?}");
    assert!(
        stopping.elapsed() < Duration::from_secs(10),
        "took {:?}",
        stopping.elapsed()
    );
    assert_eq!(
        home.count("SELECT COUNT(*) FROM outbox WHERE state = 'sent'"),
        1
    );
}

/// IMAP in, SMTP out, through real servers: 30 kills (default) at random
/// moments over 300 mixed messages appended in waves, Dovecot restarted
/// under one life and Postfix under another. Replies are counted in their
/// recipients' mailboxes: none twice; every one delivered except those
/// interrupted mid-send, which are marked uncertain (at most one per
/// connection per kill or restart) and never sent again.
#[tokio::test(flavor = "multi_thread")]
async fn kill_9_over_imap_and_smtp_with_server_restarts() {
    let kills = env_number("POSTBUD_CRASH_NET_KILLS", 30);
    let n = env_number("POSTBUD_CRASH_NET_MESSAGES", 300);
    let stack = MailStack::start();
    let home = net_home(
        &stack,
        crate::chaos::Via::Direct,
        crate::chaos::Via::Direct,
        "batch_size = 5",
        "[security]\nmax_replies_per_hour = 100000\n",
    );
    let (mails, members) = mix(n);
    prepare(&home, &members);
    let files = deliveries(&mails);
    let wave = files.len().div_ceil(kills);
    let bin = pinned_binary(home.dir.path());
    let cfg = home.config_path();
    let mut rng = Lcg(seed());
    let started = Instant::now();
    let restart_dovecot_at = kills / 3;
    let restart_postfix_at = 2 * kills / 3;
    for k in 0..kills {
        let chunk: Vec<&[u8]> = files
            .iter()
            .skip(k * wave)
            .take(wave)
            .map(|r| r.as_slice())
            .collect();
        if !chunk.is_empty() {
            stack.append_all(POST, "INBOX", &chunk).await;
        }
        let mut child = Command::new(&bin)
            .args(["--config", cfg.to_str().unwrap(), "run"])
            .env_remove("POSTBUD_NOW")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(40 + rng.next(250))).await;
        if k == restart_dovecot_at {
            stack.restart_dovecot();
            tokio::time::sleep(Duration::from_millis(rng.next(1500))).await;
        }
        if k == restart_postfix_at {
            stack.restart_postfix();
            tokio::time::sleep(Duration::from_millis(rng.next(1500))).await;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("life {k}: the daemon ended by itself: {status:?}");
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }
    let killing = started.elapsed();
    // Clean runs settle the rest; replies that failed for a restart wait
    // for their retry: let it come.
    for round in 0.. {
        retry_now(&home);
        let out = Command::new(&bin)
            .args(["--config", cfg.to_str().unwrap(), "run", "--once"])
            .env_remove("POSTBUD_NOW")
            .env("POSTBUD_LOG", "warn")
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let queued = home.count("SELECT COUNT(*) FROM outbox WHERE state IN ('queued', 'sending')");
        let waiting = stack.messages(POST, "INBOX").await.len();
        if queued == 0 && waiting == 0 {
            break;
        }
        assert!(
            round < 5,
            "{queued} replies queued, {waiting} messages waiting after {round} clean runs\n{}",
            warnings(&String::from_utf8_lossy(&out.stderr))
        );
    }
    eprintln!(
        "{kills} kills over {n} messages ({} appended) in {killing:?}",
        files.len()
    );
    let o = check_register(&home, &mails);
    let sent = home.count("SELECT COUNT(*) FROM outbox WHERE state = 'sent'") as usize;
    let uncertain = uncertain_rows(&home) as usize;
    eprintln!("{}; {sent} sent, {uncertain} uncertain", summary(&o));
    assert!(o.died <= kills, "{} quarantined after two deaths", o.died);
    assert_eq!(sent + uncertain, o.replies, "every reply sent or uncertain");
    let connections = home.cfg.outgoing.connections.max(1);
    assert!(
        uncertain <= (kills + 1) * connections,
        "at most one uncertain reply per connection per kill or restart: {uncertain}"
    );
    // Count what arrived, per recipient; Postfix may still be delivering.
    // A reply postbud handed over twice would come with two Postfix queue
    // IDs. One queue ID delivered twice is the mail servers' doing: Postfix
    // delivers at least once, and a restart that kills its LMTP client or
    // Dovecot's LMTP server between the store and the answer makes it
    // deliver again. Those are counted, not failed.
    let mut arrived: BTreeMap<String, usize> = BTreeMap::new();
    let mut mta_twice;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        arrived.clear();
        mta_twice = 0;
        for to in o.per_recipient.keys() {
            let got = stack.messages(to, "INBOX").await;
            let mut seen: HashMap<String, Option<String>> = HashMap::new();
            for raw in &got {
                let irt = Reply::parse(raw).header("In-Reply-To").unwrap_or_default();
                let queue_id = postfix_queue_id(raw);
                if let Some(first) = seen.get(&irt) {
                    assert!(
                        first.is_some() && *first == queue_id,
                        "{to}: the reply to {irt} arrived twice, as Postfix queue IDs \
                         {first:?} and {queue_id:?}: postbud handed it over twice"
                    );
                    mta_twice += 1;
                } else {
                    seen.insert(irt, queue_id);
                }
            }
            arrived.insert(to.clone(), seen.len());
        }
        let total: usize = arrived.values().sum();
        if total >= sent || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let total: usize = arrived.values().sum();
    let unknown = home.count("SELECT COUNT(*) FROM outbox WHERE state = 'unknown'");
    eprintln!(
        "{total} replies arrived: {sent} sent, {uncertain} uncertain ({unknown} left `sending` \
         by a kill, {} cut after the data went out), of which {} arrived; \
         {mta_twice} delivered twice by the mail servers (one Postfix queue ID)",
        uncertain as i64 - unknown,
        total - sent
    );
    assert!(
        total >= sent && total <= sent + uncertain,
        "{total} replies arrived; {sent} sent, {uncertain} uncertain"
    );
    for (to, want) in &o.per_recipient {
        let got = arrived.get(to).copied().unwrap_or(0);
        assert!(got <= *want, "{to}: {got} replies for {want} messages");
    }
    assert!(stack.messages(POST, "INBOX").await.is_empty());
    let processed = stack.messages(POST, "Behandlet").await.len();
    let quarantine = stack.messages(POST, "Karantene").await.len();
    assert_eq!(processed + quarantine, files.len());
    assert!(
        (o.quarantine_folder.0..=o.quarantine_folder.1).contains(&quarantine),
        "{quarantine} in quarantine, expected {:?}",
        o.quarantine_folder
    );
}
