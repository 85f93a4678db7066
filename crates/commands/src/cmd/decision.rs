//! `GODKJENN <ref>` [APPROVE] and `AVVIS <ref> [reason]` [REJECT]: an admin
//! decides a pending change. The requester is told; for a new rep, the new
//! and the outgoing rep are told too, and the new rep gets a PDF letter to
//! hand to the employer. `postbud approve|reject` decides the same way.

use anyhow::Result;
use chrono::NaiveDate;
use postbud_core::classify::Keyword;
use serde_json::json;

use crate::cx::Cx;
use crate::decide::Decide;
use crate::plan::{Action, Attach, Change, NewRepLetter, Outcome, Plan, Reply};
use crate::register::{PendingBrief, Register};

/// `GODKJENN` / `AVVIS` and the reference (upper-cased) they name.
#[derive(Debug)]
pub struct Decision {
    pub approve: bool,
    pub reference: String,
    pub reason: Option<String>,
}

impl Decision {
    /// `<ref> [reason]` after the keyword.
    pub fn parse(approve: bool, args: &str) -> Decision {
        let mut words = args.split_whitespace();
        let reference = words.next().unwrap_or("").to_uppercase();
        let reason: String = words.collect::<Vec<_>>().join(" ");
        Decision {
            approve,
            reference,
            reason: (!reason.is_empty()).then_some(reason),
        }
    }

    pub fn keyword(&self) -> Keyword {
        if self.approve {
            Keyword::Godkjenn
        } else {
            Keyword::Avvis
        }
    }

    pub fn kind(&self) -> &'static str {
        self.keyword().kind()
    }
}

impl Decide for Decision {
    type Reads = Option<PendingBrief>;

    fn read(&self, reg: &dyn Register, cx: &Cx<'_>) -> Result<Option<PendingBrief>> {
        reg.pending(&self.reference, cx.today())
    }

    fn decide(&self, cx: &mut Cx<'_>, pending: Option<PendingBrief>) -> Plan {
        let kind = self.kind();
        let Some(p) = pending else {
            return Plan::reply(
                kind,
                Outcome::Rejected,
                cx.reply("decision-unknown", json!({ "reference": self.reference })),
            );
        };
        if p.status != "pending" {
            return Plan::reply(
                kind,
                Outcome::Rejected,
                cx.reply(
                    "decision-closed",
                    json!({ "reference": p.reference, "status": p.status }),
                ),
            );
        }
        // A change with a later date of its own waits until that day.
        let today = cx.today();
        let on = p.change.effective_on().filter(|d| *d > today);
        let vars = json!({
            "reference": p.reference, "summary": p.summary, "approved": self.approve, "reason": self.reason,
            "from": if self.approve { on.map(|d| d.format("%d.%m.%Y").to_string()) } else { None },
        });
        let mut plan = Plan::reply(kind, Outcome::Ok, cx.reply("decision", vars.clone()));
        // Every mail about the decision carries the change's reference.
        plan.reference = Some(p.reference.clone());
        plan.actions.push(Action::Decide {
            pending_id: p.id,
            approve: self.approve,
            reason: self.reason.clone(),
            on: on.unwrap_or(today),
            scheduled: on.is_some(),
        });
        let s = cx.settings;
        if !p.requested_by.eq_ignore_ascii_case(&cx.facts.sender) {
            plan.replies.push(Reply::new(
                &p.requested_by,
                "decision-requester",
                p.requester_language.unwrap_or(s.language),
                vars.clone(),
            ));
        }
        if let (true, Change::NewRep(rep)) = (self.approve, &p.change) {
            let from = NaiveDate::parse_from_str(&rep.from, "%Y-%m-%d").unwrap_or(cx.today());
            let letter = NewRepLetter {
                reference: p.reference.clone(),
                date: cx.today(),
                // The letter is for the employer: the organisation's language.
                language: s.language,
                employer_name: rep.employer.clone(),
                employer_orgnr: rep.orgnr.clone(),
                rep_name: rep.name.clone(),
                role: rep.role.clone(),
                level: rep.level.clone(),
                workplace: rep.workplace.clone().or(rep.midlevel.clone()),
                unit: rep.unit.clone(),
                valid_from: from,
                previous_rep: None,
            };
            let rep_vars = json!({
                "reference": p.reference, "name": letter.rep_name, "role": letter.role, "level": letter.level,
                "employer": letter.employer_name, "workplace": letter.workplace, "from": from.to_string(),
            });
            let mut welcome = Reply::new(
                &rep.email,
                "new-rep-welcome",
                p.rep_language.unwrap_or(s.language),
                rep_vars.clone(),
            );
            welcome.attachments.push(Attach::NewRepLetter {
                file: format!("melding-om-ny-tillitsvalgt-{}.pdf", p.reference),
                letter: Box::new(letter),
            });
            plan.replies.push(welcome);
            for (old, lang) in &p.holders {
                plan.replies.push(Reply::new(
                    old,
                    "rep-replaced",
                    lang.unwrap_or(s.language),
                    rep_vars.clone(),
                ));
            }
        }
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Command;
    use crate::facts::Language;
    use crate::plan::NewRepChange;
    use crate::testing::{Values, decide, sender};

    fn pending(status: &str, change: Change) -> PendingBrief {
        PendingBrief {
            id: 4,
            reference: "PB-2026-000004".into(),
            requested_by: "leder@ffm.example".into(),
            requester: None,
            summary: "Kari Nordmann (50001) ny tillitsvalgt".into(),
            change,
            status: status.into(),
            holders: vec![("per@example.no".into(), Some(Language::En))],
            requester_language: Some(Language::Nn),
            rep_language: None,
        }
    }

    fn new_rep() -> Change {
        Change::NewRep(Box::new(NewRepChange {
            person_id: 1,
            email: "kari@example.no".into(),
            name: "Kari Nordmann".into(),
            role: "tillitsvalgt".into(),
            level: "arbeidsgiver".into(),
            employer_id: 1,
            employer: "Bedrift AS".into(),
            orgnr: Some("923609016".into()),
            workplace_id: None,
            workplace: None,
            midlevel: None,
            unit_id: None,
            unit: None,
            from: "2026-12-01".into(),
            comment: None,
        }))
    }

    fn run(approve: bool, reg: &Values) -> Plan {
        let admin = sender("kontor@forbund.example", false, false, true, true);
        let d = Decision::parse(approve, "pb-2026-000004 feil person");
        decide(&Command::Decision(d), &admin, reg)
    }

    #[test]
    fn an_unknown_or_closed_reference_changes_nothing() {
        let p = run(true, &Values::default());
        assert_eq!(p.result, Outcome::Rejected);
        assert_eq!(p.replies[0].template, "decision-unknown");
        assert_eq!(p.replies[0].vars["reference"], "PB-2026-000004");
        let closed = Values {
            pending: Some(pending("applied", new_rep())),
            ..Values::default()
        };
        let p = run(false, &closed);
        assert_eq!(p.replies[0].template, "decision-closed");
        assert!(p.actions.is_empty());
    }

    #[test]
    fn approving_a_new_rep_tells_everyone_under_the_changes_reference() {
        let reg = Values {
            pending: Some(pending("pending", new_rep())),
            ..Values::default()
        };
        let p = run(true, &reg);
        assert_eq!(p.kind, "approve");
        assert_eq!(p.reference.as_deref(), Some("PB-2026-000004"));
        assert_eq!(
            p.actions,
            [Action::Decide {
                pending_id: 4,
                approve: true,
                reason: Some("feil person".into()),
                on: chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
                scheduled: true,
            }]
        );
        let to: Vec<(&str, &str, Language)> = p
            .replies
            .iter()
            .map(|r| (r.to.as_str(), r.template, r.language))
            .collect();
        assert_eq!(
            to,
            [
                ("kontor@forbund.example", "decision", Language::Nb),
                ("leder@ffm.example", "decision-requester", Language::Nn),
                ("kari@example.no", "new-rep-welcome", Language::Nb),
                ("per@example.no", "rep-replaced", Language::En),
            ]
        );
        assert!(matches!(
            &p.replies[2].attachments[..],
            [Attach::NewRepLetter { letter, .. }] if letter.employer_name == "Bedrift AS" && letter.valid_from.to_string() == "2026-12-01"
        ));
    }

    #[test]
    fn rejecting_tells_the_requester_only() {
        let reg = Values {
            pending: Some(pending("pending", new_rep())),
            ..Values::default()
        };
        let p = run(false, &reg);
        assert_eq!(p.kind, "reject");
        assert_eq!(p.replies.len(), 2);
        assert_eq!(p.replies[1].vars["reason"], "feil person");
        assert_eq!(p.replies[1].vars["approved"], false);
    }
}
