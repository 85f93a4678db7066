//! kill -9 at random moments while the daemon works through a few hundred
//! messages; restart; every message is handled exactly once and every reply
//! sent exactly once. Maildir in, file outbox out (where a double delivery
//! would show as a failed row), a real SQLite file.

use crate::support::Home;
use std::collections::HashSet;
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

#[test]
fn kill_9_at_random_moments_never_loses_or_repeats_anything() {
    const N: usize = 800;
    let home = Home::new("");
    let cfg_path = home.dir.path().join("config/postbud.toml");
    let text = std::fs::read_to_string(&cfg_path).unwrap().replace(
        "path = \"var/mail\"",
        "path = \"var/mail\"\nbatch_size = 7\npoll_seconds = 1",
    );
    std::fs::write(&cfg_path, text).unwrap();
    for i in 0..N {
        home.deliver(
            format!(
                "From: sender{i}@example.no\r\nTo: post@forbund.example\r\nSubject: question {i}\r\n\
                 Message-ID: <crash-{i}@example.no>\r\n\r\nHello, question number {i}.\r\n"
            )
            .as_bytes(),
        );
    }
    let bin = env!("CARGO_BIN_EXE_postbud");
    let mut rng = Lcg(seed());
    let mut kills = 0;
    let started = Instant::now();
    while home.count("SELECT COUNT(*) FROM outbox WHERE state = 'queued'") > 0
        || home.count("SELECT COUNT(*) FROM messages") < N as i64
    {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no progress after {kills} kills"
        );
        let mut child = Command::new(bin)
            .args(["--config", cfg_path.to_str().unwrap(), "run"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(15 + rng.next(80)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
    }
    // A last clean run settles whatever the kills left between commit and move.
    let out = Command::new(bin)
        .args(["--config", cfg_path.to_str().unwrap(), "run", "--once"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    eprintln!("killed the daemon {kills} times");
    assert!(kills >= 3, "the daemon was killed only {kills} times");

    assert_eq!(home.count("SELECT COUNT(*) FROM messages"), N as i64);
    assert_eq!(
        home.count("SELECT COUNT(*) FROM messages WHERE outcome = 'handled'"),
        N as i64
    );
    assert_eq!(home.count("SELECT COUNT(*) FROM tickets"), N as i64);
    assert_eq!(
        home.count("SELECT COUNT(*) FROM audit WHERE entity = 'ticket'"),
        N as i64
    );
    assert_eq!(home.count("SELECT COUNT(*) FROM outbox"), N as i64);
    assert_eq!(
        home.count("SELECT COUNT(*) FROM outbox WHERE state = 'sent'"),
        N as i64
    );
    assert_eq!(home.folder_count(""), 0, "inbox empty");
    assert_eq!(home.folder_count("Behandlet"), N);
    let replies = home.replies();
    assert_eq!(replies.len(), N);
    let to: HashSet<&str> = replies.iter().map(|r| r.to.as_str()).collect();
    assert_eq!(to.len(), N, "one reply to each sender");
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
