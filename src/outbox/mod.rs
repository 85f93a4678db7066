//! Sending what the register queued: the `Transport` trait with an SMTP and
//! a file implementation side by side, and the sender loop with its retry
//! policy. Rows are sent at most once, even across a crash.

pub mod file;
pub mod smtp;

/// One message to hand to a transport: an outbox row.
pub use crate::store::outbox::Queued as Envelope;

/// Why a send failed.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// 4xx, a lost connection, a timeout: try again later.
    #[error("temporary: {0}")]
    Temporary(String),
    /// 5xx: never try again.
    #[error("permanent: {0}")]
    Permanent(String),
    /// Handed over, but the answer never came: it may have been delivered.
    /// Never sent again; shown to admins as uncertain.
    #[error("uncertain: {0}")]
    Uncertain(String),
}

/// Something that delivers messages.
#[allow(async_fn_in_trait)]
pub trait Transport {
    /// Everything a send does before the message is handed over (SMTP:
    /// connect, MAIL, RCPT, DATA). The sender marks the row `sending` only
    /// after it succeeds, so dying here leaves nothing uncertain; its errors
    /// are never uncertain. The default does nothing.
    async fn begin(&mut self, env: &Envelope) -> Result<(), SendError> {
        let _ = env;
        Ok(())
    }

    /// Hands one message over: the one `begin` was called for, or begins
    /// it first.
    async fn send(&mut self, env: &Envelope) -> Result<(), SendError>;

    /// Drops a begun send that will not be finished (the sender stops).
    fn abandon(&mut self) {}

    /// Whether `was_delivered` always knows. Then rows are sent without
    /// `sending` marks: after a crash each claimed row is checked.
    fn checks_delivery(&self) -> bool {
        false
    }

    /// After a crash: whether a row left in state `sending` was in fact
    /// delivered. `None` when the transport cannot tell (SMTP); such rows are
    /// never sent again and are shown to admins.
    fn was_delivered(&self, id: i64) -> Option<bool> {
        let _ = id;
        None
    }
}

use crate::store::outbox::{self as rows, Delivery, Recorded};
use anyhow::Result;
use chrono::{DateTime, Utc};
use rusqlite::Connection;

pub use crate::store::outbox::{MAX_ATTEMPTS, backoff};

/// What a drain did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Drained {
    pub sent: usize,
    pub retry: usize,
    pub failed: usize,
    /// Handed over, answer lost: `unknown`, never sent again.
    pub unknown: usize,
}

/// After a crash: rows left `sending` are settled by asking the transport;
/// where it cannot tell (SMTP), they become `unknown` (never sent again,
/// shown to admins). Rows left `claimed` are asked about the same way when
/// the transport can tell (the file outbox, which sends without marks);
/// otherwise, claimed on this boot, they were never handed over (the
/// process died, its last writes are still there, and none of them was
/// marked `sending`) and are queued again; claimed before the machine
/// restarted, they are uncertain. Returns how many rows were looked at.
pub fn recover(conn: &Connection, transport: &impl Transport) -> Result<usize> {
    let boot = rows::boot_id();
    let sending = rows::left_sending(conn)?;
    for id in &sending {
        rows::recovered(conn, *id, transport.was_delivered(*id))?;
    }
    let claimed = rows::left_claimed(conn)?;
    for (id, claimed_on) in &claimed {
        let same_boot = !boot.is_empty() && claimed_on.as_deref() == Some(boot.as_str());
        // A transport that can tell is asked (the file outbox sends without
        // marks); else a row claimed on this boot has no mark, so it was
        // never handed over.
        let delivered = transport.was_delivered(*id).or(same_boot.then_some(false));
        rows::recovered(conn, *id, delivered)?;
    }
    Ok(sending.len() + claimed.len())
}

/// Records the results of finished sends in `tx`.
fn record_all(
    tx: &Connection,
    finished: &mut Vec<(i64, Result<(), SendError>)>,
    t: DateTime<Utc>,
    done: &mut Drained,
) -> Result<()> {
    for (id, result) in finished.drain(..) {
        let delivery = match result {
            Ok(()) => Delivery::Sent,
            Err(SendError::Temporary(e)) => Delivery::Retry(e),
            Err(SendError::Permanent(e)) => Delivery::Failed(e),
            Err(SendError::Uncertain(e)) => Delivery::Unknown(e),
        };
        match rows::record(tx, id, delivery, t)? {
            Recorded::Sent => done.sent += 1,
            Recorded::Retry => done.retry += 1,
            Recorded::Failed => done.failed += 1,
            Recorded::Unknown => done.unknown += 1,
        }
    }
    Ok(())
}

/// Rows claimed per durable commit.
pub const CLAIM_BATCH: usize = 500;

/// Results recorded per commit at most, when no mark is due sooner.
const RECORD_BATCH: usize = 64;

/// Sends every queued row that is due, oldest first, until none is left,
/// with one send in flight per transport in `pool` (one connection each).
///
/// Rows are claimed [`CLAIM_BATCH`] at a time in one durable commit
/// (`synchronous=FULL`). A row's send is begun first (for SMTP: connect,
/// MAIL, RCPT, DATA) and the row is marked `sending` only then, just before
/// its message is handed over, and results are recorded as sends finish, in small commits
/// that reach the operating system but are not flushed to disk
/// (`synchronous=NORMAL`, safe in WAL mode); the next claim's flush makes
/// them durable. So a row is never handed over twice: if the process dies,
/// its marks are still there and only a row whose own send was in flight is
/// uncertain; if the machine dies, rows claimed before it are checked (the
/// file transport) or uncertain (SMTP), never resent blindly.
pub async fn drain<T: Transport>(
    conn: &mut Connection,
    pool: &mut Vec<T>,
    now: impl Fn() -> DateTime<Utc>,
    stop: impl Fn() -> bool,
) -> Result<Drained> {
    use futures::StreamExt;
    use futures::stream::FuturesUnordered;
    /// What a transport in flight comes back with.
    enum Back<T> {
        /// `begin` finished: on success the row is marked, then sent.
        Begun(T, Envelope, Result<(), SendError>),
        Sent(T, i64, Result<(), SendError>),
    }
    enum Step {
        Begin,
        Send,
    }
    /// A transport's next step for a row.
    async fn fly<T: Transport>(mut transport: T, env: Envelope, step: Step) -> Back<T> {
        match step {
            Step::Begin => {
                let result = transport.begin(&env).await;
                Back::Begun(transport, env, result)
            }
            Step::Send => {
                let result = transport.send(&env).await;
                Back::Sent(transport, env.id, result)
            }
        }
    }
    let boot = rows::boot_id();
    let mut done = Drained::default();
    let mut idle: Vec<T> = std::mem::take(pool);
    // Rows begun, to be marked `sending` and handed over, with their transport.
    let mut begun: Vec<(T, Envelope)> = Vec::new();
    let mut in_flight = FuturesUnordered::new();
    let mut finished: Vec<(i64, Result<(), SendError>)> = Vec::new();
    let mut claimed: std::collections::VecDeque<Envelope> = std::collections::VecDeque::new();
    let mut exhausted = false;
    // A transport that can tell after a crash whether a row was delivered
    // (the file outbox) needs no `sending` marks and no `begin` step.
    let marks = !idle.first().is_some_and(|t| t.checks_delivery());
    let outcome = loop {
        // Claim the next batch when this one is handed over: a durable
        // commit, which also flushes the marks and results before it.
        let durable = claimed.is_empty() && begun.is_empty() && !exhausted && !stop();
        // Otherwise a commit only for marks, or for results piling up
        // (without marks, results wait for the next claim: a crash is
        // settled by asking the transport).
        if durable || !begun.is_empty() || (marks && finished.len() >= RECORD_BATCH) {
            let t = now();
            let round = (|| -> Result<Vec<(T, Envelope)>> {
                conn.pragma_update(None, "synchronous", if durable { "FULL" } else { "NORMAL" })?;
                let tx = conn.transaction()?;
                record_all(&tx, &mut finished, t, &mut done)?;
                if durable {
                    let batch = rows::claim(&tx, t, CLAIM_BATCH, &boot)?;
                    exhausted = batch.len() < CLAIM_BATCH;
                    claimed.extend(batch);
                }
                let mut marked = Vec::new();
                if !stop() {
                    for (transport, env) in begun.drain(..) {
                        rows::mark_sending(&tx, env.id)?;
                        marked.push((transport, env));
                    }
                }
                tx.commit()?;
                Ok(marked)
            })();
            match round {
                Ok(marked) => {
                    for (transport, env) in marked {
                        in_flight.push(fly(transport, env, Step::Send));
                    }
                }
                Err(e) => break Err(e),
            }
        }
        while !stop() && !idle.is_empty() {
            let Some(env) = claimed.pop_front() else {
                break;
            };
            if let Some(transport) = idle.pop() {
                let step = if marks { Step::Begin } else { Step::Send };
                in_flight.push(fly(transport, env, step));
            }
        }
        let mut back = |b: Back<T>| match b {
            Back::Begun(transport, env, Ok(())) => begun.push((transport, env)),
            Back::Begun(transport, env, Err(e)) => {
                // Nothing was handed over: never uncertain.
                let e = match e {
                    SendError::Uncertain(e) => SendError::Temporary(e),
                    e => e,
                };
                idle.push(transport);
                finished.push((env.id, Err(e)));
            }
            Back::Sent(transport, id, result) => {
                idle.push(transport);
                finished.push((id, result));
            }
        };
        match in_flight.next().await {
            Some(b) => {
                back(b);
                // Collect whatever else finished meanwhile, without waiting.
                while let Some(Some(b)) = futures::FutureExt::now_or_never(in_flight.next()) {
                    back(b);
                }
            }
            // Nothing in flight: the queue is empty, or we are stopping.
            // The last results are recorded below.
            None if stop() || (claimed.is_empty() && begun.is_empty() && exhausted) => {
                break Ok(done);
            }
            None => {}
        }
    };
    // Whatever is still in flight after an error finishes before we return,
    // so its transport comes back; a row being sent stays `sending` for
    // `recover`.
    while let Some(b) = in_flight.next().await {
        match b {
            Back::Begun(transport, env, _) => begun.push((transport, env)),
            Back::Sent(transport, id, result) => {
                idle.push(transport);
                finished.push((id, result));
            }
        }
    }
    // Begun and not sent (stopping): abandoned, and back to the queue.
    for (mut transport, env) in begun {
        transport.abandon();
        idle.push(transport);
        claimed.push_back(env);
    }
    *pool = idle;
    // The last results and the rows claimed but not handed over (stopping),
    // durably.
    let last = (|| -> Result<()> {
        conn.pragma_update(None, "synchronous", "FULL")?;
        let tx = conn.transaction()?;
        let t = now();
        record_all(&tx, &mut finished, t, &mut done)?;
        let left: Vec<i64> = claimed.iter().map(|e| e.id).collect();
        rows::unclaim(&tx, &left)?;
        tx.commit()?;
        Ok(())
    })();
    match (outcome, last) {
        (Ok(_), Ok(())) => Ok(done),
        (Err(e), _) | (Ok(_), Err(e)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use rusqlite::params;

    /// Answers each send from a script, and remembers what it was handed.
    struct Scripted {
        answers: Vec<Result<(), SendError>>,
        handed: std::rc::Rc<std::cell::RefCell<Vec<i64>>>,
        delivered: Option<bool>,
    }

    impl Transport for Scripted {
        async fn send(&mut self, env: &Envelope) -> Result<(), SendError> {
            self.handed.borrow_mut().push(env.id);
            if self.answers.is_empty() {
                Ok(())
            } else {
                self.answers.remove(0)
            }
        }
        fn was_delivered(&self, _id: i64) -> Option<bool> {
            self.delivered
        }
    }

    fn store_with(rows: usize, secret: bool) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("r.db")).unwrap();
        for i in 0..rows {
            store
                .conn
                .execute(
                    "INSERT INTO outbox (kind, result, recipient, mail_from, rfc_message_id, subject, raw,
                                         secret, next_attempt_at, created_at)
                     VALUES ('code', 'ok', 'a@example.no', 'post@forbund.example', ?1, 's', CAST('body 123456' AS BLOB),
                             ?2, '2000-01-01T00:00:00Z', '2000-01-01T00:00:00Z')",
                    params![format!("m{i}@x"), secret],
                )
                .unwrap();
        }
        (dir, store)
    }

    fn now() -> DateTime<Utc> {
        "2026-11-20T08:00:00Z".parse().unwrap()
    }

    fn states(store: &Store) -> Vec<(String, i64)> {
        store
            .conn
            .prepare("SELECT state, attempts FROM outbox ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    fn run(store: &mut Store, t: Scripted) -> Drained {
        let mut pool = vec![t];
        futures::executor::block_on(drain(&mut store.conn, &mut pool, now, || false)).unwrap()
    }

    fn scripted(
        answers: Vec<Result<(), SendError>>,
    ) -> (Scripted, std::rc::Rc<std::cell::RefCell<Vec<i64>>>) {
        let handed = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        (
            Scripted {
                answers,
                handed: handed.clone(),
                delivered: None,
            },
            handed,
        )
    }

    #[test]
    fn temporary_failure_is_retried_later_permanent_is_failed() {
        let (_d, mut store) = store_with(3, false);
        let (t, handed) = scripted(vec![
            Err(SendError::Temporary("421 busy".into())),
            Err(SendError::Permanent("550 no such user".into())),
            Ok(()),
        ]);
        let d = run(&mut store, t);
        assert_eq!(
            d,
            Drained {
                sent: 1,
                retry: 1,
                failed: 1,
                unknown: 0
            }
        );
        assert_eq!(*handed.borrow(), vec![1, 2, 3], "each row handed over once");
        assert_eq!(
            states(&store),
            vec![
                ("queued".into(), 1),
                ("failed".into(), 1),
                ("sent".into(), 1)
            ]
        );
        let next: String = store
            .conn
            .query_row("SELECT next_attempt_at FROM outbox WHERE id = 1", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(next, crate::store::ts(now() + backoff(1)));
        // Not due yet: a second drain now hands over nothing.
        let (t, handed) = scripted(vec![]);
        assert_eq!(run(&mut store, t), Drained::default());
        assert!(handed.borrow().is_empty());
    }

    #[test]
    fn a_row_that_keeps_failing_is_given_up() {
        let (_d, mut store) = store_with(1, false);
        store
            .conn
            .execute("UPDATE outbox SET attempts = ?1", [MAX_ATTEMPTS - 1])
            .unwrap();
        let (t, _) = scripted(vec![Err(SendError::Temporary("timeout".into()))]);
        assert_eq!(run(&mut store, t).failed, 1);
        assert_eq!(states(&store)[0].0, "failed");
    }

    #[test]
    fn a_sent_code_is_removed_from_the_outbox() {
        let (_d, mut store) = store_with(1, true);
        let (t, _) = scripted(vec![]);
        run(&mut store, t);
        let raw: Vec<u8> = store
            .conn
            .query_row("SELECT raw FROM outbox", [], |r| r.get(0))
            .unwrap();
        assert!(!String::from_utf8_lossy(&raw).contains("123456"));
    }

    #[test]
    fn after_a_crash_sending_rows_are_settled_never_resent_blindly() {
        for (delivered, expect) in [
            (None, "unknown"),
            (Some(true), "sent"),
            (Some(false), "queued"),
        ] {
            let (_d, store) = store_with(1, false);
            store
                .conn
                .execute("UPDATE outbox SET state = 'sending'", [])
                .unwrap();
            let (mut t, _) = scripted(vec![]);
            t.delivered = delivered;
            assert_eq!(recover(&store.conn, &t).unwrap(), 1);
            assert_eq!(states(&store)[0].0, expect);
        }
    }

    #[test]
    fn several_connections_send_each_row_once() {
        let (_d, mut store) = store_with(20, false);
        let handed = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let mut pool: Vec<Scripted> = (0..4)
            .map(|_| Scripted {
                answers: vec![],
                handed: handed.clone(),
                delivered: None,
            })
            .collect();
        let d =
            futures::executor::block_on(drain(&mut store.conn, &mut pool, now, || false)).unwrap();
        assert_eq!(d.sent, 20);
        assert_eq!(pool.len(), 4, "every connection comes back");
        let mut ids = handed.borrow().clone();
        ids.sort();
        assert_eq!(ids, (1..=20).collect::<Vec<i64>>());
    }

    #[test]
    fn after_a_crash_claimed_rows_of_this_boot_go_back_to_the_queue() {
        // Claimed on this boot: the process died, its marks are all there,
        // so a claimed row was never handed over. Claimed before the machine
        // restarted: checked where the transport can tell, else uncertain.
        let boot = rows::boot_id();
        assert!(!boot.is_empty(), "Linux has a boot id");
        for (claimed_on, delivered, expect) in [
            (boot.as_str(), None, "queued"),
            ("another-boot", None, "unknown"),
            ("another-boot", Some(true), "sent"),
            ("another-boot", Some(false), "queued"),
        ] {
            let (_d, store) = store_with(1, false);
            store
                .conn
                .execute(
                    "UPDATE outbox SET state = 'claimed', claim_boot = ?1",
                    [claimed_on],
                )
                .unwrap();
            let (mut t, _) = scripted(vec![]);
            t.delivered = delivered;
            assert_eq!(recover(&store.conn, &t).unwrap(), 1);
            assert_eq!(states(&store)[0].0, expect, "{claimed_on} {delivered:?}");
        }
    }

    #[test]
    fn more_rows_than_a_claim_are_all_sent_once_and_a_stop_leaves_none_claimed() {
        let (_d, mut store) = store_with(CLAIM_BATCH * 2 + 3, false);
        let (t, handed) = scripted(vec![]);
        let d = run(&mut store, t);
        assert_eq!(d.sent, CLAIM_BATCH * 2 + 3);
        assert_eq!(
            handed.borrow().len(),
            CLAIM_BATCH * 2 + 3,
            "each handed over once"
        );
        // Stopping after the first send: the rest are queued, not claimed.
        let (_d, mut store) = store_with(10, false);
        let (t, handed) = scripted(vec![]);
        let count = handed.clone();
        let mut pool = vec![t];
        let d = futures::executor::block_on(drain(&mut store.conn, &mut pool, now, move || {
            !count.borrow().is_empty()
        }))
        .unwrap();
        assert_eq!(d.sent, 1);
        let left: Vec<String> = states(&store).into_iter().map(|(s, _)| s).collect();
        assert_eq!(
            left.iter().filter(|s| *s == "queued").count(),
            9,
            "{left:?}"
        );
        assert_eq!(handed.borrow().len(), 1);
    }

    /// (row, step, the row's state then)
    type Seen = std::rc::Rc<std::cell::RefCell<Vec<(i64, &'static str, String)>>>;

    /// Reads each row's state from its own connection when it is begun and
    /// when it is sent; its `begin` fails for the rows in `refuse`.
    struct Watching {
        db: std::path::PathBuf,
        refuse: Vec<i64>,
        seen: Seen,
    }

    impl Watching {
        fn state(&self, id: i64) -> String {
            rusqlite::Connection::open(&self.db)
                .unwrap()
                .query_row("SELECT state FROM outbox WHERE id = ?1", [id], |r| r.get(0))
                .unwrap()
        }
    }

    impl Transport for Watching {
        async fn begin(&mut self, env: &Envelope) -> Result<(), SendError> {
            let state = self.state(env.id);
            self.seen.borrow_mut().push((env.id, "begin", state));
            if self.refuse.contains(&env.id) {
                // Even a transport that says so cannot be uncertain here.
                return Err(SendError::Uncertain("connection lost".into()));
            }
            Ok(())
        }
        async fn send(&mut self, env: &Envelope) -> Result<(), SendError> {
            let state = self.state(env.id);
            self.seen.borrow_mut().push((env.id, "send", state));
            Ok(())
        }
    }

    #[test]
    fn a_row_is_marked_sending_only_once_its_send_is_begun() {
        let (dir, mut store) = store_with(3, false);
        let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let mut pool = vec![Watching {
            db: dir.path().join("r.db"),
            refuse: vec![2],
            seen: seen.clone(),
        }];
        let d =
            futures::executor::block_on(drain(&mut store.conn, &mut pool, now, || false)).unwrap();
        assert_eq!((d.sent, d.retry, d.unknown), (2, 1, 0));
        let seen = seen.borrow();
        for (id, step, state) in seen.iter() {
            let want = if *step == "begin" {
                "claimed"
            } else {
                "sending"
            };
            assert_eq!(state, want, "row {id} at {step}: {seen:?}");
        }
        assert!(!seen.iter().any(|(id, step, _)| *id == 2 && *step == "send"));
        // The row whose begin failed waits for its retry, not uncertain.
        assert_eq!(
            states(&store),
            vec![("sent".into(), 1), ("queued".into(), 1), ("sent".into(), 1)]
        );
    }
}
