//! `FJERN <address>` [UNLINK] (SPEC section 5, seed 004): a member removes
//! one of their linked addresses, never the last. An address that is not
//! theirs is answered as not theirs, whoever's it is.

use anyhow::Result;
use serde_json::json;

use crate::cx::Cx;
use crate::decide::Decide;
use crate::plan::{Action, Outcome, Plan};
use crate::register::{PersonDetail, Register};

/// `FJERN <address>`
#[derive(Debug)]
pub struct Unlink {
    pub address: String,
}

impl Unlink {
    pub fn parse(args: &str) -> Unlink {
        Unlink {
            address: super::link::named_address(args),
        }
    }
}

impl Decide for Unlink {
    type Reads = Option<PersonDetail>;

    fn read(&self, reg: &dyn Register, cx: &Cx<'_>) -> Result<Option<PersonDetail>> {
        match &cx.facts.person {
            Some(me) => reg.person(me.id),
            None => Ok(None),
        }
    }

    fn decide(&self, cx: &mut Cx<'_>, person: Option<PersonDetail>) -> Plan {
        const KIND: &str = "unlink";
        let refuse = |cx: &Cx<'_>, problem: &str| {
            crate::rule::refused(
                cx,
                KIND,
                "unlink",
                problem,
                json!({ "address": self.address }),
            )
        };
        let Some(me) = person else {
            return refuse(cx, "not-yours");
        };
        if !me.addresses.iter().any(|a| a.email == self.address) {
            return refuse(cx, "not-yours");
        }
        if me.addresses.len() < 2 {
            return refuse(cx, "last");
        }
        let left: Vec<&str> = me
            .addresses
            .iter()
            .map(|a| a.email.as_str())
            .filter(|e| *e != self.address)
            .collect();
        let mut plan = Plan::reply(
            KIND,
            Outcome::Ok,
            cx.reply(
                "unlink",
                json!({ "problem": null, "address": self.address, "left": left }),
            ),
        );
        plan.actions.push(Action::UnlinkAddress {
            person_id: me.id,
            email: self.address.clone(),
        });
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Command;
    use crate::register::AddressRow;
    use crate::testing::{Values, decide, sender};

    fn with(addresses: &[&str]) -> Values {
        Values {
            person: Some(PersonDetail {
                id: 1,
                name: "Kari".into(),
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
            }),
            ..Values::default()
        }
    }

    fn run(args: &str, reads: Values) -> Plan {
        let me = sender("kari@example.no", false, false, false, true);
        decide(&Command::Unlink(Unlink::parse(args)), &me, &reads)
    }

    #[test]
    fn a_wrong_address_is_removed_but_never_the_last_or_someone_elses() {
        let p = run(
            "Kari.Privat@Feil.example",
            with(&["kari@example.no", "kari.privat@feil.example"]),
        );
        assert_eq!(
            p.actions,
            [Action::UnlinkAddress {
                person_id: 1,
                email: "kari.privat@feil.example".into()
            }]
        );
        let p = run("kari@example.no", with(&["kari@example.no"]));
        assert_eq!(p.replies[0].vars["problem"], "last");
        assert!(p.actions.is_empty());
        let p = run("per@example.no", with(&["kari@example.no", "k@x.example"]));
        assert_eq!(p.replies[0].vars["problem"], "not-yours");
        assert!(p.actions.is_empty());
    }
}
