//! `MELD UT` [RESIGN] (SPEC section 5, seed 001 "Medlemskap"): a member ends
//! their membership from a date (`dato:` or after the keyword; none means
//! the end of this month). A pending change for the office; the reply says
//! what ending the membership means: the basic insurance ends with it.

use anyhow::Result;
use chrono::{Datelike, NaiveDate};
use serde_json::json;

use crate::cx::Cx;
use crate::decide::Decide;
use crate::plan::{Change, Outcome, PendingChange, Plan};
use crate::register::{PendingRow, PersonDetail, Register};
use crate::words::{date, date_in_text, field, fields};

/// `MELD UT [date]` with `dato:`, or a sentence naming the date.
#[derive(Debug)]
pub struct Resign {
    /// The date as given, if any (after the keyword, or `dato:`).
    pub given: Option<String>,
    /// Else the body, where a sentence may name it ("fra 1. januar"); a
    /// body naming no date leaves the end of this month.
    pub text: String,
}

impl Resign {
    pub fn parse(args: &str, body: &str) -> Resign {
        let fs = fields(body);
        let given = field(&fs, &["dato", "fra", "fra dato", "date", "from"])
            .map(str::to_string)
            .or_else(|| Some(args.trim().to_string()).filter(|a| !a.is_empty()));
        Resign {
            given,
            text: body.chars().take(2000).collect(),
        }
    }
}

/// The last day of `d`'s month.
pub fn end_of_month(d: NaiveDate) -> NaiveDate {
    let (y, m) = if d.month() == 12 {
        (d.year() + 1, 1)
    } else {
        (d.year(), d.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)
        .and_then(|first| first.pred_opt())
        .unwrap_or(d)
}

impl Decide for Resign {
    type Reads = (Option<PersonDetail>, Vec<PendingRow>);

    fn read(&self, reg: &dyn Register, cx: &Cx<'_>) -> Result<Self::Reads> {
        let Some(me) = &cx.facts.person else {
            return Ok((None, Vec::new()));
        };
        Ok((reg.person(me.id)?, reg.pending_of(me.id)?))
    }

    fn decide(&self, cx: &mut Cx<'_>, (person, pending): Self::Reads) -> Plan {
        const KIND: &str = "resign";
        let refuse = |cx: &Cx<'_>, problem: &str, extra: serde_json::Value| {
            crate::rule::refused(cx, KIND, "resign-refused", problem, extra)
        };
        let Some(me) = person.filter(|p| p.member_no.is_some()) else {
            return refuse(cx, "not-member", json!({}));
        };
        if me.status != "active" {
            return refuse(cx, "not-active", json!({ "status": me.status }));
        }
        if let Some(p) = pending
            .iter()
            .find(|p| p.kind == "resign" && p.status == "pending")
        {
            return refuse(cx, "already", json!({ "reference": p.reference }));
        }
        let today = cx.today();
        let from = match &self.given {
            None => date_in_text(&self.text, today)
                .filter(|d| *d >= today)
                .unwrap_or(end_of_month(today)),
            Some(g) => match date(g).or_else(|| date_in_text(g, today)) {
                Some(d) if d >= today => d,
                Some(_) => return refuse(cx, "past", json!({ "given": g })),
                None => return refuse(cx, "bad-date", json!({ "given": g })),
            },
        };
        let mut plan = Plan::reply(
            KIND,
            Outcome::Pending,
            cx.reply(
                "resign-pending",
                json!({ "name": me.name, "from": from.format("%d.%m.%Y").to_string(), "member_no": me.member_no }),
            ),
        );
        plan.actions
            .push(crate::plan::Action::Pending(PendingChange {
                summary: format!(
                    "{} ({}) melder seg ut fra {from}",
                    me.name,
                    me.member_no.as_deref().unwrap_or("-")
                ),
                change: Change::Resign {
                    person_id: me.id,
                    from: from.to_string(),
                },
            }));
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Command;
    use crate::plan::Action;
    use crate::testing::{Values, decide, sender};

    fn kari() -> PersonDetail {
        PersonDetail {
            id: 1,
            member_no: Some("50001".into()),
            name: "Kari Nordmann".into(),
            status: "active".into(),
            ..PersonDetail::default()
        }
    }

    fn run(args: &str, body: &str, reads: Values) -> Plan {
        let me = sender("kari@example.no", false, false, false, true);
        decide(&Command::Resign(Resign::parse(args, body)), &me, &reads)
    }

    #[test]
    fn without_a_date_the_membership_ends_with_the_month() {
        let reads = Values {
            person: Some(kari()),
            ..Values::default()
        };
        let p = run("", "", reads);
        assert_eq!(p.result, Outcome::Pending);
        assert!(
            matches!(&p.actions[..], [Action::Pending(PendingChange { change: Change::Resign { from, .. }, .. })] if from == "2026-11-30")
        );
        assert_eq!(
            end_of_month(NaiveDate::from_ymd_opt(2026, 12, 5).unwrap()).to_string(),
            "2026-12-31"
        );
        assert_eq!(
            end_of_month(NaiveDate::from_ymd_opt(2028, 2, 1).unwrap()).to_string(),
            "2028-02-29"
        );
    }

    #[test]
    fn a_date_in_the_past_or_unread_is_refused_and_twice_is_once() {
        let reads = || Values {
            person: Some(kari()),
            ..Values::default()
        };
        assert_eq!(
            run("01.01.2020", "", reads()).replies[0].vars["problem"],
            "past"
        );
        assert_eq!(
            run("", "dato: snart", reads()).replies[0].vars["problem"],
            "bad-date"
        );
        let p = run("", "Jeg ønsker å melde meg ut fra 1. januar.", reads());
        assert!(
            matches!(&p.actions[..], [Action::Pending(PendingChange { change: Change::Resign { from, .. }, .. })] if from == "2027-01-01")
        );
        let p = run("", "dato: 31.12.2026", reads());
        assert!(
            matches!(&p.actions[..], [Action::Pending(PendingChange { change: Change::Resign { from, .. }, .. })] if from == "2026-12-31")
        );
        let mut twice = reads();
        twice.pending_of = vec![PendingRow {
            reference: "PB-2026-000009".into(),
            kind: "resign".into(),
            summary: String::new(),
            status: "pending".into(),
            created_at: String::new(),
            decided_at: None,
        }];
        let p = run("", "", twice);
        assert_eq!(p.replies[0].vars["problem"], "already");
        assert!(p.actions.is_empty());
    }
}
