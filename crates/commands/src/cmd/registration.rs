//! Registration strings (SPEC section 6): each string found is registered,
//! found already there (nothing is overwritten), outside the rep's scope,
//! unreadable, or, when its signature does not verify, a pending item for an
//! admin. The reply lists every string's outcome.

use anyhow::Result;
use postbud_core::registration::{Found, Role, Unverified};
use serde_json::json;

use crate::cx::Cx;
use crate::decide::Decide;
use crate::plan::{Action, Change, NewPeer, Outcome, PendingChange, Plan};
use crate::register::{Register, RegistrationCheck};

/// The registration strings found in a rep's message.
#[derive(Debug)]
pub struct Registration {
    pub found: Vec<Found>,
}

fn new_peer(reg: &postbud_core::registration::Registration, unit_id: i64) -> NewPeer {
    NewPeer {
        form_id: Some(reg.form_id.clone()),
        unit_id,
        name: reg.name.clone(),
        email: reg.email.clone(),
        phone: reg.phone.clone(),
        birth_date: reg.birth_date.map(|d| d.to_string()),
    }
}

impl Decide for Registration {
    type Reads = Vec<RegistrationCheck>;

    fn read(&self, reg: &dyn Register, cx: &Cx<'_>) -> Result<Vec<RegistrationCheck>> {
        reg.registrations(&cx.facts.scope, &self.found)
    }

    fn decide(&self, cx: &mut Cx<'_>, checks: Vec<RegistrationCheck>) -> Plan {
        let mut plan = Plan::reply(
            "registration",
            Outcome::Ok,
            cx.reply("registration", json!({})),
        );
        let mut outcomes = Vec::new();
        let mut taken: Vec<String> = Vec::new();
        // Pending changes get their references in order: `pending_refs[k]`.
        let mut pendings = 0usize;
        let default = RegistrationCheck::default();
        for (i, item) in self.found.iter().enumerate() {
            let check = checks.get(i).unwrap_or(&default);
            let (reg, verified_reason) = match item {
                Found::Valid(reg) => (reg, None),
                Found::Unverified { reg, reason, .. } => (reg, Some(*reason)),
                Found::Malformed { text, reason } => {
                    outcomes.push(json!({ "status": "malformed", "text": text, "reason": reason }));
                    continue;
                }
            };
            let base = json!({ "name": reg.name, "email": reg.email, "chapter": reg.chapter, "form_id": reg.form_id });
            let with = |status: &str, extra: serde_json::Value| {
                let mut o = base.clone();
                o["status"] = json!(status);
                if let (Some(o), Some(e)) = (o.as_object_mut(), extra.as_object()) {
                    o.extend(e.clone());
                }
                o
            };
            let Some(unit) = check.unit.as_ref().filter(|u| u.in_scope) else {
                // A chapter outside the scope is answered the same as an unknown one.
                outcomes.push(with("out-of-scope", json!({})));
                continue;
            };
            let already = check.known_in_scope.clone();
            if let (Some(peer_no), None, false) = (&already, verified_reason, check.known_elsewhere)
            {
                outcomes.push(with("already", json!({ "peer_no": peer_no })));
                continue;
            }
            if taken.contains(&reg.email) || taken.contains(&reg.form_id) {
                outcomes.push(with("already", json!({ "peer_no": null })));
                continue;
            }
            taken.push(reg.email.clone());
            taken.push(reg.form_id.clone());
            match verified_reason {
                // The person is registered outside the rep's scope: never
                // pulled into it, and the reply does not say who or where.
                None if check.known_elsewhere => {
                    plan.actions.push(Action::Pending(PendingChange {
                        summary: format!(
                            "Registrering {} ({}, {}) i {}: personen er allerede registrert utenfor området til {}",
                            reg.name, reg.email, reg.form_id, reg.chapter, cx.facts.sender
                        ),
                        change: Change::Registration {
                            peer: new_peer(reg, unit.id),
                            text: reg.signed_text.clone(),
                            why: "office".to_string(),
                        },
                    }));
                    outcomes.push(with(
                        "pending",
                        json!({ "why": "office", "pending": pendings }),
                    ));
                    pendings += 1;
                }
                None if reg.role == Role::Likeperson => {
                    plan.actions
                        .push(Action::RegisterPeer(new_peer(reg, unit.id)));
                    outcomes.push(with("registered", json!({})));
                }
                reason => {
                    let why = match reason {
                        Some(Unverified::NoSecret) => "no-secret",
                        Some(Unverified::MissingSig) => "missing-sig",
                        Some(Unverified::BadSig) => "bad-sig",
                        None => "member",
                    };
                    plan.actions.push(Action::Pending(PendingChange {
                        summary: format!(
                            "Registrering {} ({}, {}) i {}: {why}{}",
                            reg.name,
                            reg.email,
                            reg.form_id,
                            reg.chapter,
                            already
                                .as_deref()
                                .map(|p| format!(" (allerede registrert som {p})"))
                                .unwrap_or_default()
                        ),
                        change: Change::Registration {
                            peer: new_peer(reg, unit.id),
                            text: reg.signed_text.clone(),
                            why: why.to_string(),
                        },
                    }));
                    outcomes.push(with("pending", json!({ "why": why, "pending": pendings })));
                    pendings += 1;
                }
            }
        }
        let count = |st: &str| outcomes.iter().filter(|o| o["status"] == st).count();
        let good = count("registered") + count("already");
        plan.result = if good == outcomes.len() {
            Outcome::Ok
        } else if count("pending") > 0 && good + count("pending") == outcomes.len() {
            Outcome::Pending
        } else if good + count("pending") > 0 {
            Outcome::Partial
        } else {
            Outcome::Rejected
        };
        plan.replies[0].vars = json!({ "outcomes": outcomes });
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Command;
    use crate::register::UnitBrief;
    use crate::testing::{Values, decide, sender};
    use postbud_core::registration::find_in_text;

    const SECRET: &[u8] = b"test-secret-do-not-use";
    const KARI: &str = "REG1;id=F-20261120-0042;lag=Bergen;navn=Kari Nordmann;epost=kari.nordmann@example.no;tlf=+4791234567;rolle=likeperson;dato=2026-11-20;sig=0a322fab0e00b541";

    fn check(in_scope: bool, known: Option<&str>) -> RegistrationCheck {
        RegistrationCheck {
            unit: Some(UnitBrief {
                id: 1,
                name: "Bergen".into(),
                in_scope,
            }),
            known_in_scope: known.map(str::to_string),
            known_elsewhere: false,
        }
    }

    fn run(text: &str, secret: Option<&[u8]>, checks: Vec<RegistrationCheck>) -> Plan {
        let rep = sender("leder@ffm.example", true, false, false, true);
        let found = find_in_text(text, secret);
        let reg = Values {
            registrations: checks,
            ..Values::default()
        };
        decide(&Command::Registration(Registration { found }), &rep, &reg)
    }

    #[test]
    fn a_valid_string_in_scope_is_registered() {
        let p = run(KARI, Some(SECRET), vec![check(true, None)]);
        assert_eq!(p.result, Outcome::Ok);
        assert!(
            matches!(&p.actions[..], [Action::RegisterPeer(peer)] if peer.email == "kari.nordmann@example.no" && peer.unit_id == 1)
        );
        assert_eq!(p.replies[0].vars["outcomes"][0]["status"], "registered");
    }

    #[test]
    fn out_of_scope_and_already_registered_change_nothing() {
        let p = run(KARI, Some(SECRET), vec![check(false, None)]);
        assert_eq!(p.result, Outcome::Rejected);
        assert!(p.actions.is_empty());
        assert_eq!(p.replies[0].vars["outcomes"][0]["status"], "out-of-scope");
        let p = run(KARI, Some(SECRET), vec![check(true, Some("LP-0001"))]);
        assert_eq!(p.result, Outcome::Ok);
        assert!(p.actions.is_empty());
        assert_eq!(p.replies[0].vars["outcomes"][0]["status"], "already");
    }

    #[test]
    fn an_unverified_string_waits_for_the_office_with_its_own_reference() {
        let tampered = KARI.replace("+4791234567", "+4799999999");
        let p = run(&tampered, Some(SECRET), vec![check(true, None)]);
        assert_eq!(p.result, Outcome::Pending);
        assert!(matches!(
            &p.actions[..],
            [Action::Pending(PendingChange { change: Change::Registration { why, .. }, .. })] if why == "bad-sig"
        ));
        assert_eq!(p.replies[0].vars["outcomes"][0]["pending"], 0);
        let p = run(KARI, None, vec![check(true, None)]);
        assert_eq!(p.replies[0].vars["outcomes"][0]["why"], "no-secret");
    }

    /// Hardening finding 5: a signed string naming someone registered in
    /// another chapter (or a member) never pulls them into the rep's
    /// chapter, and the reply does not say they exist.
    #[test]
    fn a_person_registered_elsewhere_is_for_the_office_and_not_named() {
        let mut c = check(true, None);
        c.known_elsewhere = true;
        let p = run(KARI, Some(SECRET), vec![c.clone()]);
        assert_eq!(p.result, Outcome::Pending);
        assert!(matches!(
            &p.actions[..],
            [Action::Pending(PendingChange { change: Change::Registration { why, .. }, .. })] if why == "office"
        ));
        let out = &p.replies[0].vars["outcomes"][0];
        assert_eq!(out["status"], "pending");
        assert_eq!(out["why"], "office");
        assert!(out.get("peer_no").is_none());
        // Even when the rep's own chapter has the same person too.
        c.known_in_scope = Some("LP-0001".into());
        let p = run(KARI, Some(SECRET), vec![c]);
        assert!(
            !p.actions
                .iter()
                .any(|a| matches!(a, Action::RegisterPeer(_)))
        );
        assert_eq!(p.replies[0].vars["outcomes"][0]["status"], "pending");
    }

    #[test]
    fn the_same_person_twice_in_one_message_is_registered_once() {
        let p = run(
            &format!("{KARI}\n\n{KARI}"),
            Some(SECRET),
            vec![check(true, None), check(true, None)],
        );
        assert_eq!(p.actions.len(), 1, "{:?}", p.actions);
    }
}
