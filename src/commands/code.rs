//! `KODE` [CODE] and code checking (SPEC section 10): 6 digits from a CSPRNG,
//! stored as a salted hash, valid `code_ttl_minutes`, single use, at most 5
//! wrong tries, at most 5 codes per address per hour, compared in constant
//! time. An unknown address gets at most one neutral reply a day that does
//! not say whether the address is known.

use super::{Facts, Fresh, Settings, language};
use crate::plan::{Action, CodePurpose, Outcome, Plan, Reply};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};

/// Codes issued to one address per hour, at most.
pub const MAX_CODES_PER_HOUR: i64 = 5;
/// Wrong tries before a code is dead.
pub const MAX_TRIES: i64 = 5;

/// Decides a `KODE` request.
pub fn decide(f: &Facts, s: &Settings, now: DateTime<Utc>, fresh: &mut dyn Fresh) -> Plan {
    let lang = language(f, s);
    let Some(person) = &f.person else {
        if f.neutral_today {
            return Plan::record("code");
        }
        let mut p = reply_plan(f, "code-neutral", lang, json!({}), false, Outcome::Ok);
        p.actions.push(Action::NeutralReplied {
            email: f.sender.clone(),
            day: now
                .with_timezone(&s.timezone)
                .format("%Y-%m-%d")
                .to_string(),
        });
        return p;
    };
    if f.codes_last_hour >= MAX_CODES_PER_HOUR {
        return reply_plan(
            f,
            "code-limit",
            lang,
            json!({ "name": person.name, "limit": MAX_CODES_PER_HOUR }),
            false,
            Outcome::Rejected,
        );
    }
    let code = fresh.code();
    let salt = fresh.salt();
    let expires_at = now + Duration::minutes(s.code_ttl_minutes);
    let mut p = reply_plan(
        f,
        "code",
        lang,
        json!({
            "name": person.name,
            "code": code,
            "minutes": s.code_ttl_minutes,
            "expires": expires_at.with_timezone(&s.timezone).format("%H:%M").to_string(),
        }),
        true,
        Outcome::Ok,
    );
    p.actions.push(Action::IssueCode {
        email: f.sender.clone(),
        purpose: CodePurpose::Login,
        hash: hash(&salt, &code),
        salt,
        expires_at,
        for_this_message: false,
    });
    p
}

fn reply_plan(
    f: &Facts,
    template: &'static str,
    lang: crate::config::Language,
    vars: serde_json::Value,
    secret: bool,
    result: Outcome,
) -> Plan {
    let mut reply = Reply::new(&f.sender, template, lang, vars);
    reply.secret = secret;
    Plan::reply("code", result, reply)
}

/// The stored form of a code: hex SHA-256 over salt and code.
pub fn hash(salt: &str, code: &str) -> String {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update(b":");
    h.update(code.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A stored code, as `verify` sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCode {
    pub id: i64,
    pub salt: String,
    pub hash: String,
    pub expires_at: DateTime<Utc>,
    pub used: bool,
    pub tries: i64,
}

/// What checking a code found.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Right: use up code `id`.
    Right(i64),
    /// Wrong: count a try against code `id` (the newest live one).
    Wrong(i64),
    /// No live code for the address.
    NoCode,
}

/// Checks `given` against an address's codes (any order). Only unused,
/// unexpired codes with fewer than `MAX_TRIES` wrong tries count. Every live
/// code is compared, in constant time, whatever matches first.
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
            right = Some(c.id);
        }
    }
    match right {
        Some(id) => Verdict::Right(id),
        None => Verdict::Wrong(newest.id),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::Person;

    struct Fixed;
    impl Fresh for Fixed {
        fn code(&mut self) -> String {
            "123456".into()
        }
        fn salt(&mut self) -> String {
            "salt".into()
        }
    }

    fn settings() -> Settings {
        Settings::for_tests()
    }

    fn known() -> Facts {
        Facts {
            sender: "kari@example.no".into(),
            person: Some(Person {
                id: 1,
                name: "Kari".into(),
                language: None,
            }),
            ..Facts::default()
        }
    }

    fn now() -> DateTime<Utc> {
        "2026-11-20T08:00:00Z".parse().unwrap()
    }

    #[test]
    fn known_address_gets_a_hashed_code() {
        let p = decide(&known(), &settings(), now(), &mut Fixed);
        assert_eq!(p.result, Outcome::Ok);
        assert_eq!(p.replies[0].template, "code");
        assert!(p.replies[0].secret);
        assert_eq!(p.replies[0].vars["code"], "123456");
        match &p.actions[0] {
            Action::IssueCode {
                hash: h,
                expires_at,
                ..
            } => {
                assert_ne!(h, "123456");
                assert_eq!(h, &hash("salt", "123456"));
                assert_eq!(*expires_at, now() + Duration::minutes(15));
            }
            a => panic!("{a:?}"),
        }
    }

    #[test]
    fn sixth_code_in_an_hour_is_refused() {
        let mut f = known();
        f.codes_last_hour = 5;
        let p = decide(&f, &settings(), now(), &mut Fixed);
        assert_eq!(p.result, Outcome::Rejected);
        assert!(p.actions.is_empty());
        assert_eq!(p.replies[0].template, "code-limit");
    }

    #[test]
    fn unknown_address_gets_one_neutral_reply_a_day() {
        let mut f = Facts {
            sender: "x@example.no".into(),
            ..Facts::default()
        };
        let p = decide(&f, &settings(), now(), &mut Fixed);
        assert_eq!(p.replies[0].template, "code-neutral");
        assert!(matches!(&p.actions[0], Action::NeutralReplied { day, .. } if day == "2026-11-20"));
        f.neutral_today = true;
        let p = decide(&f, &settings(), now(), &mut Fixed);
        assert!(p.replies.is_empty() && p.actions.is_empty());
    }

    fn stored(id: i64, code: &str) -> StoredCode {
        StoredCode {
            id,
            salt: format!("s{id}"),
            hash: hash(&format!("s{id}"), code),
            expires_at: now() + Duration::minutes(15),
            used: false,
            tries: 0,
        }
    }

    #[test]
    fn verify_right_wrong_used_expired_and_tried_out() {
        let c = stored(1, "111111");
        assert_eq!(
            verify(std::slice::from_ref(&c), "111 111", now()),
            Verdict::Right(1)
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
        assert_eq!(verify(&codes, "111111", now()), Verdict::Right(1));
        assert_eq!(verify(&codes, "333333", now()), Verdict::Wrong(2));
    }
}
