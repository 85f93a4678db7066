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
    /// Delivers one message.
    async fn send(&mut self, env: &Envelope) -> Result<(), SendError>;

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
/// where it cannot tell, they become `unknown` (never sent again, shown to
/// admins). Returns how many rows were looked at.
pub fn recover(conn: &Connection, transport: &impl Transport) -> Result<usize> {
    let ids = rows::left_sending(conn)?;
    for id in &ids {
        rows::recovered(conn, *id, transport.was_delivered(*id))?;
    }
    Ok(ids.len())
}

/// Sends every queued row that is due, oldest first, until none is left,
/// with one send in flight per transport in `pool` (one connection each).
/// Each row is marked `sending` durably before it is handed over, and those
/// marks are committed together with the results of the sends that just
/// finished: a row is never handed over twice, a crash leaves at most one
/// uncertain row per connection, and a round costs one commit.
pub async fn drain<T: Transport>(
    conn: &mut Connection,
    pool: &mut Vec<T>,
    now: impl Fn() -> DateTime<Utc>,
    stop: impl Fn() -> bool,
) -> Result<Drained> {
    use futures::StreamExt;
    use futures::stream::FuturesUnordered;
    let mut done = Drained::default();
    let mut idle: Vec<T> = std::mem::take(pool);
    let mut in_flight = FuturesUnordered::new();
    let mut finished: Vec<(i64, Result<(), SendError>)> = Vec::new();
    let outcome = loop {
        let t = now();
        let round = (|| -> Result<Vec<Envelope>> {
            let tx = conn.transaction()?;
            for (id, result) in finished.drain(..) {
                let delivery = match result {
                    Ok(()) => Delivery::Sent,
                    Err(SendError::Temporary(e)) => Delivery::Retry(e),
                    Err(SendError::Permanent(e)) => Delivery::Failed(e),
                    Err(SendError::Uncertain(e)) => Delivery::Unknown(e),
                };
                match rows::record(&tx, id, delivery, t)? {
                    Recorded::Sent => done.sent += 1,
                    Recorded::Retry => done.retry += 1,
                    Recorded::Failed => done.failed += 1,
                    Recorded::Unknown => done.unknown += 1,
                }
            }
            let mut picked = Vec::new();
            if !stop() && !idle.is_empty() {
                picked = rows::due(&tx, t, idle.len())?;
                for env in &picked {
                    rows::mark_sending(&tx, env.id)?;
                }
            }
            tx.commit()?;
            Ok(picked)
        })();
        let picked = match round {
            Ok(p) => p,
            Err(e) => break Err(e),
        };
        for env in picked {
            let Some(mut transport) = idle.pop() else {
                break;
            };
            in_flight.push(async move {
                let result = transport.send(&env).await;
                (transport, env.id, result)
            });
        }
        match in_flight.next().await {
            Some((transport, id, result)) => {
                idle.push(transport);
                finished.push((id, result));
                // Collect whatever else finished meanwhile, without waiting.
                while let Some(Some((transport, id, result))) =
                    futures::FutureExt::now_or_never(in_flight.next())
                {
                    idle.push(transport);
                    finished.push((id, result));
                }
            }
            None => break Ok(done),
        }
    };
    // Whatever is still in flight after an error finishes before we return,
    // so its transport comes back; its row stays `sending` for `recover`.
    while let Some((transport, _, _)) = in_flight.next().await {
        idle.push(transport);
    }
    *pool = idle;
    outcome
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
}
