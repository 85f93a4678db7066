//! The monthly letters (SPEC section 11, seed 002 "Brev fra forbundet"):
//! for an employer with changes no letter has told yet, "Vedrørende
//! kontingenttrekk for våre medlemmer" listing the members to start and to
//! stop deducting for, with the dates: kept (numbered per employer, its PDF
//! made from it) and mailed with the PDF to every active contact with the
//! letters duty who accepted the confidentiality declaration.

use serde_json::json;

use crate::cx::Cx;
use crate::plan::{Action, Attach, DeductionLetter, DeductionLine, Outcome, Plan, Reply};
use crate::register::LetterDue;

/// The letters' kind (`X-Postbud-Kind`).
pub const KIND: &str = "letter";

/// The file name of a letter's PDF.
pub fn file_name(orgnr: &str, number: i64) -> String {
    format!("kontingenttrekk-{orgnr}-brev-{number}.pdf")
}

/// The values of the `letter` mail template: the letter in short.
pub fn vars(l: &DeductionLetter) -> serde_json::Value {
    let line = |d: &DeductionLine| {
        json!({
            "name": d.name,
            "member_no": d.member_no,
            "birth_date": d.birth_date.as_deref().and_then(|b| chrono::NaiveDate::parse_from_str(b, "%Y-%m-%d").ok()).map(|b| b.format("%d.%m.%Y").to_string()),
            "why": d.why,
            "from": d.from.format("%d.%m.%Y").to_string(),
        })
    };
    json!({
        "employer": l.employer_name,
        "orgnr": l.employer_orgnr,
        "number": l.number,
        "date": l.date.format("%d.%m.%Y").to_string(),
        "start": l.start.iter().map(line).collect::<Vec<_>>(),
        "stop": l.stop.iter().map(line).collect::<Vec<_>>(),
        "file": file_name(&l.employer_orgnr, l.number),
    })
}

/// The letter to one employer: kept, and mailed to its contacts. No
/// changes, no letter.
pub fn decide(cx: &Cx<'_>, due: LetterDue) -> Plan {
    if due.changes.is_empty() {
        return Plan::record(KIND);
    }
    let mut start = Vec::new();
    let mut stop = Vec::new();
    let mut ids = Vec::new();
    for (id, starts, line) in due.changes {
        ids.push(id);
        if starts {
            start.push(line);
        } else {
            stop.push(line);
        }
    }
    let by_date_then_name =
        |a: &DeductionLine, b: &DeductionLine| (a.from, &a.name).cmp(&(b.from, &b.name));
    start.sort_by(by_date_then_name);
    stop.sort_by(by_date_then_name);
    let letter = DeductionLetter {
        employer_id: due.employer_id,
        number: due.number,
        date: cx.today(),
        language: cx.settings.language,
        employer_name: due.employer,
        employer_orgnr: due.orgnr,
        start,
        stop,
    };
    let vars = vars(&letter);
    let mut plan = Plan::record(KIND);
    plan.result = Outcome::Ok;
    plan.needs_ref = true;
    for to in &due.contacts {
        let mut r = Reply::new(to, "letter", letter.language, vars.clone());
        r.attachments.push(Attach::KeptLetter {
            file: file_name(&letter.employer_orgnr, letter.number),
            employer_id: letter.employer_id,
            number: letter.number,
        });
        plan.replies.push(r);
    }
    plan.actions.push(Action::RecordLetter {
        letter: Box::new(letter),
        changes: ids,
    });
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{Facts, Settings};
    use crate::testing::{Fixed, now};
    use chrono::NaiveDate;

    fn line(name: &str, why: &str, day: u32) -> DeductionLine {
        DeductionLine {
            member_no: Some("50001".into()),
            name: name.into(),
            birth_date: Some("1984-12-06".into()),
            why: why.into(),
            from: NaiveDate::from_ymd_opt(2026, 11, day).unwrap(),
        }
    }

    fn run(due: LetterDue) -> Plan {
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

    #[test]
    fn one_letter_with_starts_and_stops_to_each_contact() {
        let p = run(LetterDue {
            employer_id: 3,
            employer: "Bedrift AS".into(),
            orgnr: "923609016".into(),
            number: 4,
            changes: vec![
                (10, false, line("Per Hansen", "resigned", 30)),
                (11, true, line("Åse Berg", "moved-in", 2)),
                (12, false, line("Kari Nordmann", "left", 15)),
            ],
            contacts: vec!["lonn@bedrift.example".into(), "hr@bedrift.example".into()],
        });
        assert_eq!(p.kind, "letter");
        assert_eq!(p.replies.len(), 2);
        assert!(p.needs_ref);
        let Action::RecordLetter { letter, changes } = &p.actions[0] else {
            panic!("{:?}", p.actions);
        };
        assert_eq!(changes, &[10, 11, 12]);
        assert_eq!(letter.number, 4);
        let stops: Vec<&str> = letter.stop.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(stops, ["Kari Nordmann", "Per Hansen"], "by date");
        assert_eq!(letter.start[0].name, "Åse Berg");
        assert!(matches!(
            &p.replies[0].attachments[0],
            Attach::KeptLetter {
                number: 4,
                employer_id: 3,
                ..
            }
        ));
        assert_eq!(p.replies[0].vars["stop"][0]["from"], "15.11.2026");
    }

    #[test]
    fn without_contacts_the_letter_is_kept_for_brev_and_nothing_is_sent() {
        let p = run(LetterDue {
            employer_id: 3,
            employer: "Bedrift AS".into(),
            orgnr: "923609016".into(),
            number: 1,
            changes: vec![(10, false, line("Per Hansen", "resigned", 30))],
            contacts: vec![],
        });
        assert!(p.replies.is_empty());
        assert!(matches!(&p.actions[..], [Action::RecordLetter { .. }]));
        let none = run(LetterDue {
            employer_id: 3,
            employer: "Bedrift AS".into(),
            orgnr: "923609016".into(),
            number: 1,
            changes: vec![],
            contacts: vec!["lonn@bedrift.example".into()],
        });
        assert!(none.actions.is_empty() && none.replies.is_empty());
    }
}
