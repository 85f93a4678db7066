//! `GODKJENN <ref>` [APPROVE] and `AVVIS <ref> [reason]` [REJECT]: an admin
//! decides a pending change. The requester is told; for a new rep, the new
//! and the outgoing rep are told too, and the new rep gets a PDF letter to
//! hand to the employer. `postbud approve|reject` decides the same way.

use anyhow::Result;
use chrono::NaiveDate;
use postbud_core::classify::Keyword;
use serde_json::json;

use crate::decide::Decide;
use crate::facts::Cx;
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
        let vars = json!({
            "reference": p.reference, "summary": p.summary, "approved": self.approve, "reason": self.reason,
        });
        let mut plan = Plan::reply(kind, Outcome::Ok, cx.reply("decision", vars.clone()));
        // Every mail about the decision carries the change's reference.
        plan.reference = Some(p.reference.clone());
        plan.actions.push(Action::Decide {
            pending_id: p.id,
            approve: self.approve,
            reason: self.reason.clone(),
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
                unit: None,
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
                letter,
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
