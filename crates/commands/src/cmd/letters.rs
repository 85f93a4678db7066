//! `BREV` [LETTERS] (SPEC section 11, seed 002 "Brev fra forbundet"): the
//! letters of the sender's employers from the last six months (number,
//! date, subject); `BREV <nr>` sends that letter again with its PDF. The
//! letters name members, so one is sent only for an employer whose
//! confidentiality declaration the sender accepted, and only to the
//! sender's own address.

use anyhow::Result;
use serde_json::json;

use crate::cx::Cx;
use crate::decide::Decide;
use crate::jobs::letters::file_name;
use crate::plan::{Attach, Outcome, Plan};
use crate::register::{LetterRow, Register};

/// `BREV [nr]`
#[derive(Debug)]
pub struct Letters {
    pub number: Option<i64>,
}

impl Letters {
    pub fn parse(args: &str) -> Letters {
        Letters {
            number: args.trim().parse().ok(),
        }
    }
}

impl Decide for Letters {
    type Reads = Vec<LetterRow>;

    fn read(&self, reg: &dyn Register, cx: &Cx<'_>) -> Result<Vec<LetterRow>> {
        let ids: Vec<i64> = cx.facts.employers.iter().map(|e| e.id).collect();
        let since = cx
            .now
            .checked_sub_months(chrono::Months::new(crate::jobs::retention::LETTER_MONTHS))
            .unwrap_or(cx.now);
        reg.letters(&ids, since)
    }

    fn decide(&self, cx: &mut Cx<'_>, letters: Vec<LetterRow>) -> Plan {
        const KIND: &str = "letters";
        let Some(number) = self.number else {
            return Plan::reply(
                KIND,
                Outcome::Ok,
                cx.reply("letters", json!({ "letters": letters, "number": null })),
            );
        };
        let declared = |employer: i64| {
            cx.facts
                .employers
                .iter()
                .any(|e| e.id == employer && e.declared.is_some())
        };
        let wanted: Vec<&LetterRow> = letters.iter().filter(|l| l.number == number).collect();
        let sendable: Vec<&&LetterRow> =
            wanted.iter().filter(|l| declared(l.employer_id)).collect();
        if sendable.is_empty() {
            let problem = if wanted.is_empty() {
                "unknown"
            } else {
                "declaration"
            };
            return Plan::reply(
                KIND,
                Outcome::Rejected,
                cx.reply(
                    "letters",
                    json!({ "letters": letters, "number": number, "problem": problem }),
                ),
            );
        }
        let mut reply = cx.reply(
            "letters",
            json!({ "letters": letters, "number": number, "problem": null,
                    "sent": sendable.iter().map(|l| json!({ "employer": l.employer, "date": l.date })).collect::<Vec<_>>() }),
        );
        for l in sendable {
            reply.attachments.push(Attach::KeptLetter {
                file: file_name(&l.orgnr, l.number),
                employer_id: l.employer_id,
                number: l.number,
            });
        }
        Plan::reply(KIND, Outcome::Ok, reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Command;
    use crate::facts::EmployerBrief;
    use crate::testing::{Values, decide, sender};

    fn row(employer_id: i64, number: i64) -> LetterRow {
        LetterRow {
            employer_id,
            employer: format!("Bedrift {employer_id}"),
            orgnr: "923609016".into(),
            number,
            subject: "Vedrørende kontingenttrekk for våre medlemmer".into(),
            date: "2026-11-01".into(),
        }
    }

    fn contact(declared: bool) -> crate::facts::Facts {
        let mut f = sender("lonn@bedrift.example", false, true, false, false);
        f.employers = vec![EmployerBrief {
            id: 1,
            orgnr: "923609016".into(),
            name: "Bedrift 1".into(),
            declared: declared.then(|| "2026-01-05".into()),
        }];
        f
    }

    #[test]
    fn brev_lists_and_brev_nr_sends_the_pdf_only_after_the_declaration() {
        let reads = Values {
            letters: vec![row(1, 2), row(1, 1)],
            ..Values::default()
        };
        let list = decide(
            &Command::Letters(Letters::parse("")),
            &contact(true),
            &reads,
        );
        assert_eq!(list.replies[0].vars["letters"].as_array().unwrap().len(), 2);
        assert!(list.replies[0].attachments.is_empty());
        let one = decide(
            &Command::Letters(Letters::parse("2")),
            &contact(true),
            &reads,
        );
        assert!(matches!(
            &one.replies[0].attachments[..],
            [Attach::KeptLetter {
                number: 2,
                employer_id: 1,
                ..
            }]
        ));
        let undeclared = decide(
            &Command::Letters(Letters::parse("2")),
            &contact(false),
            &reads,
        );
        assert_eq!(undeclared.replies[0].vars["problem"], "declaration");
        assert!(undeclared.replies[0].attachments.is_empty());
        let none = decide(
            &Command::Letters(Letters::parse("9")),
            &contact(true),
            &reads,
        );
        assert_eq!(none.replies[0].vars["problem"], "unknown");
    }
}
