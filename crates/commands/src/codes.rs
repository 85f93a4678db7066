//! One-time codes (SPEC section 10): 6 digits from the [`Fresh`] source,
//! stored as a salted hash, compared in constant time, at most
//! [`MAX_TRIES`] wrong tries. Shared by `KODE`, the confirmation of an
//! unverified sender's command and the confidentiality declaration.
//!
//! [`Fresh`]: crate::facts::Fresh

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::cx::Cx;
use crate::plan::{Action, Carries, CodePurpose, Outcome, Plan};
use crate::register::{CodeGuard, StoredCode};

/// Login codes issued to one address per hour, at most.
pub const MAX_CODES_PER_HOUR: i64 = 5;
/// Wrong tries before a code is dead.
pub const MAX_TRIES: i64 = 5;
/// How long a confirmation (`BEKREFT`, `AKSEPTERER`) code lives.
pub const CONFIRM_HOURS: i64 = 24;
/// Wrong confirmation guesses an address may make in 24 hours; then every
/// live code of that purpose is dead and none is made for 24 hours.
pub const MAX_WRONG_GUESSES: i64 = 5;
/// Live confirmation codes an address may hold at once.
pub const MAX_LIVE_CONFIRMATIONS: i64 = 3;

impl CodeGuard {
    /// Out of guesses: no code is checked or made for this address now.
    pub fn locked(&self) -> bool {
        self.wrong >= MAX_WRONG_GUESSES
    }
}

/// The stored form of a code: hex SHA-256 over salt and code.
pub fn hash(salt: &str, code: &str) -> String {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update(b":");
    h.update(code.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// What checking a code found.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Right: use up this code.
    Right(StoredCode),
    /// Wrong: count a try against code `id` (the newest live one).
    Wrong(i64),
    /// No live code for the address.
    NoCode,
}

/// Checks `given` against an address's codes (any order). Only unused,
/// unexpired codes with fewer than [`MAX_TRIES`] wrong tries count. Every
/// live code is compared, in constant time, whatever matches first.
pub fn verify(codes: &[StoredCode], given: &str, now: DateTime<Utc>) -> Verdict {
    let given: String = given.chars().filter(|c| !c.is_whitespace()).collect();
    let mut live: Vec<&StoredCode> = codes
        .iter()
        .filter(|c| !c.used && c.expires_at > now && c.tries < MAX_TRIES)
        .collect();
    live.sort_by_key(|c| std::cmp::Reverse(c.id));
    let Some(newest) = live.first() else {
        return Verdict::NoCode;
    };
    let mut right = None;
    for c in &live {
        if constant_time_eq(hash(&c.salt, &given).as_bytes(), c.hash.as_bytes()) && right.is_none()
        {
            right = Some(*c);
        }
    }
    match right {
        Some(c) => Verdict::Right(c.clone()),
        None => Verdict::Wrong(newest.id),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A reply carrying a fresh code (`code` and `hours` added to `vars`); the
/// message waits until the code comes back from the same address within
/// [`CONFIRM_HOURS`]. The reply's body is wiped from the outbox once sent.
/// No code is made for an address out of guesses (`confirm-locked`) or
/// holding [`MAX_LIVE_CONFIRMATIONS`] already (`confirm-wait`).
pub fn waiting_for_code(
    cx: &mut Cx<'_>,
    guard: CodeGuard,
    kind: &'static str,
    template: &'static str,
    purpose: CodePurpose,
    mut vars: serde_json::Value,
) -> Plan {
    if guard.locked() {
        return Plan::reply(
            kind,
            Outcome::Rejected,
            cx.reply("confirm-locked", json!({ "hours": CONFIRM_HOURS })),
        );
    }
    if guard.live >= MAX_LIVE_CONFIRMATIONS {
        return Plan::reply(
            kind,
            Outcome::Rejected,
            cx.reply(
                "confirm-wait",
                json!({ "live": guard.live, "hours": CONFIRM_HOURS }),
            ),
        );
    }
    let code = cx.fresh.code();
    let salt = cx.fresh.salt();
    vars["code"] = json!(code);
    vars["hours"] = json!(CONFIRM_HOURS);
    let mut reply = cx.reply(template, vars);
    reply.secret = true;
    let mut p = Plan::reply(kind, Outcome::Pending, reply);
    p.actions.push(Action::IssueCode {
        email: cx.facts.sender.clone(),
        purpose,
        hash: hash(&salt, &code),
        salt,
        expires_at: cx.now + Duration::hours(CONFIRM_HOURS),
        carries: Carries::ThisMessage,
    });
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-11-20T08:00:00Z".parse().unwrap()
    }

    fn stored(id: i64, code: &str) -> StoredCode {
        StoredCode {
            id,
            salt: format!("s{id}"),
            hash: hash(&format!("s{id}"), code),
            expires_at: now() + Duration::minutes(15),
            used: false,
            tries: 0,
            message_row: None,
        }
    }

    #[test]
    fn right_wrong_used_expired_and_tried_out() {
        let c = stored(1, "111111");
        assert_eq!(
            verify(std::slice::from_ref(&c), "111 111", now()),
            Verdict::Right(c.clone())
        );
        assert_eq!(
            verify(std::slice::from_ref(&c), "111112", now()),
            Verdict::Wrong(1)
        );
        let used = StoredCode {
            used: true,
            ..c.clone()
        };
        assert_eq!(verify(&[used], "111111", now()), Verdict::NoCode);
        let late = now() + Duration::minutes(16);
        assert_eq!(
            verify(std::slice::from_ref(&c), "111111", late),
            Verdict::NoCode
        );
        let tried = StoredCode { tries: 5, ..c };
        assert_eq!(verify(&[tried], "111111", now()), Verdict::NoCode);
    }

    #[test]
    fn an_older_live_code_still_works_and_wrong_tries_hit_the_newest() {
        let codes = [stored(1, "111111"), stored(2, "222222")];
        assert_eq!(
            verify(&codes, "111111", now()),
            Verdict::Right(codes[0].clone())
        );
        assert_eq!(verify(&codes, "333333", now()), Verdict::Wrong(2));
    }

    #[test]
    fn a_stored_hash_is_not_the_code() {
        assert_ne!(hash("salt", "123456"), "123456");
        assert_eq!(hash("salt", "123456"), hash("salt", "123456"));
        assert_ne!(hash("salt", "123456"), hash("pepper", "123456"));
    }
}
