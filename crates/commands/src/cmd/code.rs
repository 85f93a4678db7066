//! `KODE` [CODE] (SPEC section 10): a one-time login code to a registered
//! address, valid `code_ttl_minutes`, at most five an hour. An unknown
//! address gets at most one neutral reply a day that does not say whether
//! the address is known.

use anyhow::Result;
use chrono::Duration;
use serde_json::json;

use crate::codes::{MAX_CODES_PER_HOUR, hash};
use crate::cx::Cx;
use crate::decide::Decide;
use crate::plan::{Action, Carries, CodePurpose, Outcome, Plan};
use crate::register::Register;

/// `KODE`
#[derive(Debug)]
pub struct Code;

impl Decide for Code {
    type Reads = ();
    fn read(&self, _: &dyn Register, _: &Cx<'_>) -> Result<()> {
        Ok(())
    }

    fn decide(&self, cx: &mut Cx<'_>, (): ()) -> Plan {
        let Some(person) = &cx.facts.person else {
            if cx.facts.neutral_today {
                return Plan::record("code");
            }
            let mut p = Plan::reply("code", Outcome::Ok, cx.reply("code-neutral", json!({})));
            p.actions.push(Action::NeutralReplied {
                email: cx.facts.sender.clone(),
                day: cx.today().to_string(),
            });
            return p;
        };
        if cx.facts.codes_last_hour >= MAX_CODES_PER_HOUR {
            return Plan::reply(
                "code",
                Outcome::Rejected,
                cx.reply(
                    "code-limit",
                    json!({ "name": person.name, "limit": MAX_CODES_PER_HOUR }),
                ),
            );
        }
        let code = cx.fresh.code();
        let salt = cx.fresh.salt();
        let expires_at = cx.now + Duration::minutes(cx.settings.code_ttl_minutes);
        let mut reply = cx.reply(
            "code",
            json!({
                "name": person.name,
                "code": code,
                "minutes": cx.settings.code_ttl_minutes,
                "expires": expires_at.with_timezone(&cx.settings.timezone).format("%H:%M").to_string(),
            }),
        );
        reply.secret = true;
        let mut p = Plan::reply("code", Outcome::Ok, reply);
        p.actions.push(Action::IssueCode {
            email: cx.facts.sender.clone(),
            purpose: CodePurpose::Login,
            hash: hash(&salt, &code),
            salt,
            expires_at,
            carries: Carries::Nothing,
        });
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{Facts, Person, Settings};
    use crate::testing::{Fixed, NoRegister, now};

    fn known() -> Facts {
        Facts {
            sender: "kari@example.no".into(),
            person: Some(Person {
                id: 1,
                name: "Kari".into(),
                language: None,
                member: true,
            }),
            ..Facts::default()
        }
    }

    fn decide(f: &Facts) -> Plan {
        let s = Settings::for_tests();
        let mut cx = Cx {
            facts: f,
            settings: &s,
            now: now(),
            fresh: &mut Fixed,
        };
        crate::decide::run(&Code, &NoRegister, &mut cx).unwrap()
    }

    #[test]
    fn known_address_gets_a_hashed_code() {
        let p = decide(&known());
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
        let p = decide(&f);
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
        let p = decide(&f);
        assert_eq!(p.replies[0].template, "code-neutral");
        assert!(matches!(&p.actions[0], Action::NeutralReplied { day, .. } if day == "2026-11-20"));
        f.neutral_today = true;
        let p = decide(&f);
        assert!(p.replies.is_empty() && p.actions.is_empty());
    }
}
