//! The monthly reminders (SPEC section 11, seed 002 "Manglende
//! fagforeningstrekk"): to an employer with no list for the last period,
//! and to one whose members were not deducted with no answer why, with the
//! `STATUS` lines they can answer with. To the contacts with the reminders
//! duty who accepted the confidentiality declaration (the names of members
//! are personal data).

use serde_json::json;

use crate::cx::Cx;
use crate::plan::{Outcome, Plan, Reply};
use crate::register::ReminderDue;

/// The reminders' kind (`X-Postbud-Kind`).
pub const KIND: &str = "reminder";

/// Unanswered members a reminder names, at most (the rest are counted).
pub const MAX_NAMED: usize = 200;

/// The reminder to one employer; nothing when nothing is missing.
pub fn decide(cx: &Cx<'_>, due: ReminderDue) -> Plan {
    if !due.missing && due.unanswered.is_empty() {
        return Plan::record(KIND);
    }
    let named: Vec<serde_json::Value> = due
        .unanswered
        .iter()
        .take(MAX_NAMED)
        .map(|p| {
            // What a STATUS line names them by: the member number, else the
            // birth date as dd.mm.yyyy.
            let key = p.member_no.clone().or_else(|| {
                p.birth_date
                    .as_deref()
                    .and_then(|b| chrono::NaiveDate::parse_from_str(b, "%Y-%m-%d").ok())
                    .map(|b| b.format("%d.%m.%Y").to_string())
            });
            json!({ "name": p.name, "key": key })
        })
        .collect();
    let vars = json!({
        "employer": due.employer,
        "orgnr": due.orgnr,
        "period": due.period,
        "missing": due.missing,
        "unanswered": named,
        "more": due.unanswered.len().saturating_sub(MAX_NAMED),
    });
    let mut plan = Plan::record(KIND);
    plan.result = Outcome::Ok;
    plan.needs_ref = !due.contacts.is_empty();
    for to in &due.contacts {
        plan.replies.push(Reply::new(
            to,
            "reminder",
            cx.settings.language,
            vars.clone(),
        ));
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{Facts, Settings};
    use crate::register::PersonRef;
    use crate::testing::{Fixed, now};

    fn run(due: ReminderDue) -> Plan {
        let s = Settings::for_tests();
        let facts = Facts::default();
        let cx = Cx {
            facts: &facts,
            settings: &s,
            now: now(),
            fresh: &mut Fixed,
        };
        decide(&cx, due)
    }

    fn due(missing: bool, unanswered: usize) -> ReminderDue {
        ReminderDue {
            employer_id: 1,
            employer: "Bedrift AS".into(),
            orgnr: "923609016".into(),
            period: "2026-10".into(),
            missing,
            unanswered: (0..unanswered)
                .map(|i| PersonRef {
                    id: i as i64,
                    name: format!("Medlem {i}"),
                    member_no: (i % 2 == 0).then(|| format!("5{i:04}")),
                    birth_date: Some("1984-12-06".into()),
                })
                .collect(),
            contacts: vec!["lonn@bedrift.example".into()],
        }
    }

    #[test]
    fn a_missing_list_or_unanswered_members_are_reminded_and_nothing_else() {
        let p = run(due(true, 0));
        assert_eq!(p.replies.len(), 1);
        assert_eq!(p.replies[0].vars["missing"], true);
        let p = run(due(false, 3));
        let keys: Vec<&str> = p.replies[0].vars["unanswered"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["key"].as_str().unwrap())
            .collect();
        assert_eq!(keys, ["50000", "06.12.1984", "50002"]);
        assert!(run(due(false, 0)).replies.is_empty());
        let many = run(due(false, MAX_NAMED + 5));
        assert_eq!(many.replies[0].vars["more"], 5);
    }
}
