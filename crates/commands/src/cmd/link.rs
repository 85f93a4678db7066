//! `KOBLE <address>` [LINK] (SPEC section 5, seed 004 "Koble e-post"): a
//! member links another address. A code goes to that address; `BEKREFT
//! <code>` from it completes the link ([`complete`]). An address that
//! belongs to someone else is never linked, and the member's reply is the
//! same as for a free one: it does not say that the address is in the
//! register, let alone whose it is (no code goes to it).

use anyhow::Result;
use chrono::Duration;
use postbud_core::message::address_key;
use serde_json::json;

use crate::codes::{CONFIRM_HOURS, MAX_LIVE_CONFIRMATIONS, hash};
use crate::cx::Cx;
use crate::decide::Decide;
use crate::facts::Language;
use crate::plan::{Action, Carries, CodePurpose, Outcome, Plan, Reply};
use crate::register::{CodeGuard, PersonDetail, Register};

/// Addresses one person may have, at most.
pub const MAX_ADDRESSES: usize = 5;

/// `KOBLE <address>`
#[derive(Debug)]
pub struct Link {
    /// The address to link, as compared (ASCII lower case), or empty.
    pub address: String,
}

/// The address a `KOBLE` or `FJERN` names: its first word, without the
/// brackets and punctuation people put around it, compared as a key.
pub fn named_address(args: &str) -> String {
    address_key(
        args.split_whitespace()
            .next()
            .unwrap_or("")
            .trim_start_matches("mailto:")
            .trim_matches(|c: char| matches!(c, '<' | '>' | ',' | ';' | '.' | '"' | '\'')),
    )
}

/// An address a code can be sent to: one `@`, a dotted domain, no spaces
/// or control characters, at most 254 bytes.
pub fn plausible(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    address.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && address.chars().all(|c| {
            !c.is_whitespace()
                && !c.is_control()
                && !matches!(
                    c,
                    '<' | '>' | '(' | ')' | ',' | ';' | '"' | '\\' | '[' | ']'
                )
        })
}

impl Link {
    pub fn parse(args: &str) -> Link {
        Link {
            address: named_address(args),
        }
    }
}

/// What `KOBLE` reads: the member, who owns the address, and its guard.
#[derive(Debug, Default)]
pub struct LinkReads {
    pub me: Option<PersonDetail>,
    pub owner: Option<i64>,
    /// Live link codes of the address, and wrong `BEKREFT` guesses from it.
    pub guard: CodeGuard,
}

impl Decide for Link {
    type Reads = LinkReads;

    fn read(&self, reg: &dyn Register, cx: &Cx<'_>) -> Result<LinkReads> {
        let Some(me) = &cx.facts.person else {
            return Ok(LinkReads::default());
        };
        let me = reg.person(me.id)?;
        if !plausible(&self.address) {
            return Ok(LinkReads {
                me,
                ..LinkReads::default()
            });
        }
        let live = reg.code_guard(&self.address, CodePurpose::Link.as_str(), cx.now)?;
        let guesses = reg.code_guard(&self.address, CodePurpose::Confirm.as_str(), cx.now)?;
        Ok(LinkReads {
            me,
            owner: reg.address_owner(&self.address)?,
            guard: CodeGuard {
                live: live.live,
                wrong: guesses.wrong,
            },
        })
    }

    fn decide(&self, cx: &mut Cx<'_>, reads: LinkReads) -> Plan {
        const KIND: &str = "link";
        let refuse = |cx: &Cx<'_>, problem: &str| {
            crate::rule::refused(
                cx,
                KIND,
                "link-refused",
                problem,
                json!({ "address": self.address }),
            )
        };
        let Some(me) = reads.me else {
            return refuse(cx, "not-registered");
        };
        if !plausible(&self.address) {
            return refuse(cx, "bad-address");
        }
        if reads.owner == Some(me.id) || me.addresses.iter().any(|a| a.email == self.address) {
            return refuse(cx, "already");
        }
        if me.addresses.len() >= MAX_ADDRESSES {
            return refuse(cx, "too-many");
        }
        if reads.guard.locked() || reads.guard.live >= MAX_LIVE_CONFIRMATIONS {
            return refuse(cx, "busy");
        }
        let sent = cx.reply(
            "link-sent",
            json!({ "address": self.address, "hours": CONFIRM_HOURS }),
        );
        // Someone else's: the same answer, and nothing is sent or linked.
        if reads.owner.is_some() {
            return Plan::reply(KIND, Outcome::Pending, sent);
        }
        let code = cx.fresh.code();
        let salt = cx.fresh.salt();
        let mut plan = Plan::reply(KIND, Outcome::Pending, sent);
        let mut to_new = Reply::new(
            &self.address,
            "link-code",
            cx.language(),
            // Not the member's name: the address may be someone else's.
            json!({ "code": code, "hours": CONFIRM_HOURS, "address": self.address }),
        );
        to_new.secret = true;
        plan.replies.push(to_new);
        plan.actions.push(Action::IssueCode {
            email: self.address.clone(),
            purpose: CodePurpose::Link,
            hash: hash(&salt, &code),
            salt,
            expires_at: cx.now + Duration::hours(CONFIRM_HOURS),
            carries: Carries::ThisMessage,
        });
        plan
    }
}

/// What completing a link reads: the address the waiting `KOBLE` named,
/// who sent it, and who owns the confirming address now.
#[derive(Debug)]
pub struct Waiting {
    /// The address the `KOBLE` asked to link (empty: the code was for
    /// another kind of message).
    pub asked: String,
    /// The person the `KOBLE` came from, as they are now.
    pub requester: Option<PersonDetail>,
    /// Who owns the confirming address now.
    pub owner: Option<i64>,
}

/// Reads what [`finish`] needs: `from` sent a `KOBLE` naming `asked`.
pub fn waiting(reg: &dyn Register, cx: &Cx<'_>, from: &str, asked: &str) -> Result<Waiting> {
    let requester = match reg.address_owner(&address_key(from))? {
        Some(id) => reg.person(id)?,
        None => None,
    };
    Ok(Waiting {
        asked: asked.to_string(),
        requester,
        owner: reg.address_owner(&cx.facts.sender)?,
    })
}

/// `BEKREFT <code>` from the address a `KOBLE` named: links it, and tells
/// both the new address and the one that asked. The code is used up
/// whatever the outcome.
pub fn finish(cx: &Cx<'_>, w: Waiting, code_id: i64) -> Plan {
    const KIND: &str = "link";
    let asked = w.asked == cx.facts.sender;
    let mut plan = match (asked, w.requester) {
        (true, Some(me)) => {
            let language = me
                .language
                .as_deref()
                .and_then(Language::parse)
                .unwrap_or(cx.language());
            let vars =
                |problem: Option<&str>| json!({ "problem": problem, "address": cx.facts.sender });
            match w.owner {
                Some(other) if other != me.id => Plan::reply(
                    KIND,
                    Outcome::Rejected,
                    Reply::new(&cx.facts.sender, "link-done", language, vars(Some("taken"))),
                ),
                Some(_) => Plan::reply(
                    KIND,
                    Outcome::Ok,
                    Reply::new(
                        &cx.facts.sender,
                        "link-done",
                        language,
                        vars(Some("already")),
                    ),
                ),
                None => {
                    let mut p = Plan::reply(
                        KIND,
                        Outcome::Ok,
                        Reply::new(&cx.facts.sender, "link-done", language, vars(None)),
                    );
                    // The address that asked hears of it too: a link made by
                    // someone else would not go unnoticed.
                    if let Some(first) = me.addresses.first() {
                        p.replies.push(Reply::new(
                            &first.email,
                            "link-notice",
                            language,
                            json!({ "name": me.name, "address": cx.facts.sender }),
                        ));
                    }
                    p.actions.push(Action::LinkAddress {
                        person_id: me.id,
                        email: cx.facts.sender.clone(),
                    });
                    p
                }
            }
        }
        // The member or the request is gone: nothing to link.
        _ => Plan::reply(
            "confirm",
            Outcome::Rejected,
            cx.reply("confirm-unknown", json!({ "word": "BEKREFT", "code": "" })),
        ),
    };
    plan.actions.push(Action::UseCode { id: code_id });
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Command;
    use crate::register::AddressRow;
    use crate::testing::{Values, decide, sender};

    fn kari(addresses: &[&str]) -> PersonDetail {
        PersonDetail {
            id: 1,
            name: "Kari Nordmann".into(),
            member_no: Some("50001".into()),
            status: "active".into(),
            addresses: addresses
                .iter()
                .map(|a| AddressRow {
                    email: a.to_string(),
                    verified: true,
                    added_at: String::new(),
                })
                .collect(),
            ..PersonDetail::default()
        }
    }

    fn run(args: &str, reads: Values) -> Plan {
        let me = sender("kari@example.no", false, false, false, true);
        decide(&Command::Link(Link::parse(args)), &me, &reads)
    }

    #[test]
    fn the_address_is_read_as_people_write_it() {
        assert_eq!(
            named_address("<Kari.Privat@Gmail.example>"),
            "kari.privat@gmail.example"
        );
        assert_eq!(named_address("mailto:k@x.example, takk"), "k@x.example");
        assert!(plausible("k@x.example"));
        for bad in [
            "",
            "kari",
            "k@x",
            "k@@x.example",
            "k@.example",
            "a b@x.example",
        ] {
            assert!(!plausible(bad), "{bad}");
        }
    }

    #[test]
    fn a_free_address_gets_a_code_and_the_member_a_note_without_it() {
        let reads = Values {
            person: Some(kari(&["kari@example.no"])),
            ..Values::default()
        };
        let p = run("kari.privat@gmail.example", reads);
        assert_eq!(p.result, Outcome::Pending);
        assert_eq!(p.replies.len(), 2);
        assert_eq!(p.replies[0].to, "kari@example.no");
        assert_eq!(p.replies[0].template, "link-sent");
        assert!(
            p.replies[0].vars.get("code").is_none(),
            "the code goes only to the new address"
        );
        assert_eq!(p.replies[1].to, "kari.privat@gmail.example");
        assert!(p.replies[1].secret);
        assert!(matches!(
            &p.actions[..],
            [Action::IssueCode { email, purpose: CodePurpose::Link, carries: Carries::ThisMessage, .. }]
                if email == "kari.privat@gmail.example"
        ));
    }

    #[test]
    fn someone_elses_address_gets_the_same_answer_and_no_code() {
        let free = run(
            "per@example.no",
            Values {
                person: Some(kari(&["kari@example.no"])),
                ..Values::default()
            },
        );
        let taken = run(
            "per@example.no",
            Values {
                person: Some(kari(&["kari@example.no"])),
                owner: Some(2),
                ..Values::default()
            },
        );
        assert_eq!(
            taken.replies.len(),
            1,
            "nothing goes to the other person's address"
        );
        assert_eq!(
            taken.replies[0], free.replies[0],
            "the member cannot tell the two apart"
        );
        assert_eq!(taken.result, free.result);
        assert!(taken.actions.is_empty());
    }

    #[test]
    fn own_many_bad_and_busy_addresses_are_refused() {
        let with = |owner, guard| Values {
            person: Some(kari(&["kari@example.no", "k2@x.example"])),
            owner,
            guard,
            ..Values::default()
        };
        let problem = |p: Plan| p.replies[0].vars["problem"].as_str().unwrap().to_string();
        assert_eq!(
            problem(run("K2@x.example", with(None, CodeGuard::default()))),
            "already"
        );
        assert_eq!(
            problem(run("ikke en adresse", with(None, CodeGuard::default()))),
            "bad-address"
        );
        let busy = CodeGuard {
            live: MAX_LIVE_CONFIRMATIONS,
            wrong: 0,
        };
        assert_eq!(problem(run("k3@x.example", with(None, busy))), "busy");
        let many: Vec<String> = (0..MAX_ADDRESSES)
            .map(|i| format!("k{i}@x.example"))
            .collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let reads = Values {
            person: Some(kari(&many)),
            ..Values::default()
        };
        assert_eq!(problem(run("ny@x.example", reads)), "too-many");
    }

    fn waiting_link(owner_of_new: Option<i64>) -> Values {
        use crate::codes::hash;
        use crate::register::StoredCode;
        Values {
            link_codes: vec![StoredCode {
                id: 9,
                salt: "s".into(),
                hash: hash("s", "246810"),
                expires_at: crate::testing::now() + Duration::hours(1),
                used: false,
                tries: 0,
                message_row: Some(4),
            }],
            raw: Some(
                b"From: kari@example.no\r\nSubject: KOBLE kari.privat@gmail.example\r\nMessage-ID: <k@example.no>\r\n\r\n\r\n"
                    .to_vec(),
            ),
            person: Some(kari(&["kari@example.no"])),
            owners: vec![("kari@example.no", 1)],
            owner: owner_of_new,
            ..Values::default()
        }
    }

    #[test]
    fn the_code_from_the_new_address_links_it_and_tells_both() {
        let stranger = crate::facts::Facts {
            sender: "kari.privat@gmail.example".into(),
            ..crate::facts::Facts::default()
        };
        let bekreft = crate::testing::command("kari.privat@gmail.example", "BEKREFT 246810", "");
        let p = decide(&bekreft, &stranger, &waiting_link(None));
        assert_eq!(p.kind, "link");
        assert_eq!(p.result, Outcome::Ok);
        assert_eq!(
            p.actions,
            [
                Action::LinkAddress {
                    person_id: 1,
                    email: "kari.privat@gmail.example".into()
                },
                Action::UseCode { id: 9 }
            ]
        );
        let to: Vec<&str> = p.replies.iter().map(|r| r.to.as_str()).collect();
        assert_eq!(to, ["kari.privat@gmail.example", "kari@example.no"]);
        // Taken by someone else meanwhile: not linked, the code is spent.
        let p = decide(&bekreft, &stranger, &waiting_link(Some(2)));
        assert_eq!(p.replies[0].vars["problem"], "taken");
        assert_eq!(p.actions, [Action::UseCode { id: 9 }]);
        // The code is a link code: from the member's own address it is none.
        let kari_self = sender("kari@example.no", false, false, false, true);
        let mut reads = waiting_link(None);
        reads.link_codes.clear();
        let p = decide(
            &crate::testing::command("kari@example.no", "BEKREFT 246810", ""),
            &kari_self,
            &reads,
        );
        assert_eq!(p.replies[0].template, "confirm-unknown");
    }
}
