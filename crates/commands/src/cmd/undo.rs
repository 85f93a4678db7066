//! `ANGRE <ref>` [UNDO] (SPEC section 5, seed 001 "Til behandling" with
//! "Angre"): the sender takes back one of their own pending changes. Too
//! late once it is applied or rejected; someone else's reference is
//! answered in the same words as one that does not exist.

use anyhow::Result;
use serde_json::json;

use crate::cx::Cx;
use crate::decide::Decide;
use crate::plan::{Action, Outcome, Plan};
use crate::register::{PendingBrief, Register};

/// `ANGRE <ref>`
#[derive(Debug)]
pub struct Undo {
    /// The reference, upper-cased.
    pub reference: String,
}

impl Undo {
    pub fn parse(args: &str) -> Undo {
        Undo {
            reference: args
                .split_whitespace()
                .next()
                .unwrap_or("")
                .trim_matches(|c: char| matches!(c, '[' | ']' | '(' | ')' | '.' | ','))
                .to_uppercase(),
        }
    }
}

impl Decide for Undo {
    type Reads = Option<PendingBrief>;

    fn read(&self, reg: &dyn Register, cx: &Cx<'_>) -> Result<Option<PendingBrief>> {
        if self.reference.is_empty() {
            return Ok(None);
        }
        reg.pending(&self.reference, cx.today())
    }

    fn decide(&self, cx: &mut Cx<'_>, pending: Option<PendingBrief>) -> Plan {
        const KIND: &str = "undo";
        let me = cx.facts.person.as_ref().map(|p| p.id);
        // Theirs: asked for from this address, or another of the person's.
        let theirs = pending.filter(|p| {
            p.requested_by.eq_ignore_ascii_case(&cx.facts.sender)
                || (me.is_some() && p.requester == me)
        });
        let Some(p) = theirs else {
            return Plan::reply(
                KIND,
                Outcome::Rejected,
                cx.reply(
                    "undo",
                    json!({ "outcome": "unknown", "reference": self.reference, "summary": null }),
                ),
            );
        };
        if p.status != "pending" {
            return Plan::reply(
                KIND,
                Outcome::Rejected,
                cx.reply(
                    "undo",
                    json!({ "outcome": if p.status == "undone" { "undone-already" } else { "too-late" },
                            "status": p.status, "reference": p.reference, "summary": p.summary }),
                ),
            );
        }
        let mut plan = Plan::reply(
            KIND,
            Outcome::Ok,
            cx.reply(
                "undo",
                json!({ "outcome": "undone", "reference": p.reference, "summary": p.summary }),
            ),
        );
        plan.reference = Some(p.reference.clone());
        plan.actions.push(Action::Undo { pending_id: p.id });
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Command;
    use crate::plan::Change;
    use crate::testing::{Values, decide, sender};

    fn pending(by: &str, person: Option<i64>, status: &str) -> Values {
        Values {
            pending: Some(PendingBrief {
                id: 3,
                reference: "PB-2026-000003".into(),
                requested_by: by.into(),
                requester: person,
                summary: "Kari Nordmann melder seg ut".into(),
                change: Change::Resign {
                    person_id: 1,
                    from: "2026-11-30".into(),
                },
                status: status.into(),
                holders: vec![],
                requester_language: None,
                rep_language: None,
            }),
            ..Values::default()
        }
    }

    fn run(reads: Values) -> Plan {
        let me = sender("kari@example.no", false, false, false, true);
        decide(&Command::Undo(Undo::parse("pb-2026-000003")), &me, &reads)
    }

    #[test]
    fn ones_own_pending_change_is_undone_under_its_reference() {
        let p = run(pending("kari@example.no", Some(1), "pending"));
        assert_eq!(p.result, Outcome::Ok);
        assert_eq!(p.actions, [Action::Undo { pending_id: 3 }]);
        assert_eq!(p.reference.as_deref(), Some("PB-2026-000003"));
        // From another of the person's addresses too.
        let p = run(pending("kari@privat.example", Some(1), "pending"));
        assert_eq!(p.actions, [Action::Undo { pending_id: 3 }]);
    }

    #[test]
    fn too_late_and_someone_elses_read_as_they_should() {
        let p = run(pending("kari@example.no", Some(1), "applied"));
        assert_eq!(p.replies[0].vars["outcome"], "too-late");
        assert!(p.actions.is_empty());
        let other = run(pending("per@example.no", Some(2), "pending"));
        let none = run(Values::default());
        assert_eq!(
            other.replies[0].vars, none.replies[0].vars,
            "the same words"
        );
        assert!(other.actions.is_empty());
    }
}
