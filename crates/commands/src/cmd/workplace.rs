//! `ARBEIDSSTED NY | NYTT NAVN | AVSLUTT <name>` [WORKPLACE NEW | RENAME |
//! CLOSE]: a rep reports a workplace of an employer in their scope opened,
//! renamed (`nytt navn:`) or closed, from a date; pending for the office.

use anyhow::Result;
use postbud_core::classify::Keyword;
use serde_json::json;

use super::reported::{Fields, comment, employers, from_date, pending, refused, when};
use crate::cx::Cx;
use crate::decide::Decide;
use crate::plan::{Change, PendingChange, Plan};
use crate::register::{MembersInScope, Register, WorkplaceBrief};
use crate::words::{digits, field, name_key};

/// Which `ARBEIDSSTED` report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum What {
    New,
    Rename,
    Close,
}

impl What {
    pub fn keyword(self) -> Keyword {
        match self {
            What::New => Keyword::ArbeidsstedNy,
            What::Rename => Keyword::ArbeidsstedNyttNavn,
            What::Close => Keyword::ArbeidsstedAvslutt,
        }
    }
}

/// `ARBEIDSSTED …`
#[derive(Debug)]
pub struct Workplace {
    pub what: What,
    /// The workplace named after the keyword.
    pub name: String,
    pub fields: Fields,
}

const KIND: &str = "workplace";

impl Decide for Workplace {
    type Reads = MembersInScope;

    fn read(&self, reg: &dyn Register, cx: &Cx<'_>) -> Result<MembersInScope> {
        reg.members(&cx.facts.scope)
    }

    fn decide(&self, cx: &mut Cx<'_>, reads: MembersInScope) -> Plan {
        let when = match when(cx, KIND, &self.fields) {
            Ok(w) => w,
            Err(refused) => return refused,
        };
        let name = self.name.trim();
        let comment = comment(&self.fields);
        if self.what == What::New {
            return self.new_workplace(cx, &reads.workplaces, name, when, comment);
        }
        let key = name_key(name);
        // `arbeidsgiver:` tells apart workplaces of the same name.
        let named = field(&self.fields, &["arbeidsgiver", "orgnr"]).map(digits);
        let found: Vec<&WorkplaceBrief> = reads
            .workplaces
            .iter()
            .filter(|w| name_key(&w.name) == key)
            .filter(|w| named.as_ref().is_none_or(|o| *o == w.orgnr))
            .collect();
        let w = match found.as_slice() {
            [w] => *w,
            [] => return refused(cx, KIND, "workplace-unknown", json!({ "who": name })),
            many => {
                return refused(
                    cx,
                    KIND,
                    "employer-which",
                    json!({ "employers": many.iter().map(|w| json!({"orgnr": w.orgnr, "name": w.employer})).collect::<Vec<_>>() }),
                );
            }
        };
        if self.what == What::Close {
            let summary = format!(
                "Arbeidsstedet {} hos {} avsluttes{}",
                w.name,
                w.employer,
                from_date(&when)
            );
            return pending(
                cx,
                KIND,
                PendingChange {
                    summary,
                    change: Change::WorkplaceClose {
                        workplace_id: w.id,
                        date: when,
                        comment,
                    },
                },
            );
        }
        let Some(new_name) = field(&self.fields, &["nytt navn", "navn"]) else {
            return refused(cx, KIND, "no-new-name", json!({}));
        };
        pending(
            cx,
            KIND,
            PendingChange {
                summary: format!(
                    "Arbeidsstedet {} hos {} får nytt navn: {new_name}",
                    w.name, w.employer
                ),
                change: Change::WorkplaceRename {
                    workplace_id: w.id,
                    new_name: new_name.to_string(),
                    date: when,
                    comment,
                },
            },
        )
    }
}

impl Workplace {
    /// `ARBEIDSSTED NY`: at the employer `arbeidsgiver:` names, or the only
    /// one in scope.
    fn new_workplace(
        &self,
        cx: &Cx<'_>,
        workplaces: &[WorkplaceBrief],
        name: &str,
        when: Option<String>,
        comment: Option<String>,
    ) -> Plan {
        if name.is_empty() {
            return refused(cx, KIND, "no-workplace", json!({}));
        }
        let employers = employers(workplaces);
        let named = field(&self.fields, &["arbeidsgiver", "orgnr"]).map(digits);
        let found = match named {
            Some(o) => employers
                .iter()
                .find(|(_, orgnr, _)| *orgnr == o)
                .ok_or("employer-unknown"),
            None => match employers.as_slice() {
                [only] => Ok(only),
                [] => Err("employer-unknown"),
                _ => Err("employer-which"),
            },
        };
        let (employer_id, employer) = match found {
            Ok((id, _, name)) => (*id, name.clone()),
            Err(problem) => {
                return refused(
                    cx,
                    KIND,
                    problem,
                    json!({ "employers": employers.iter().map(|e| json!({"orgnr": e.1, "name": e.2})).collect::<Vec<_>>() }),
                );
            }
        };
        pending(
            cx,
            KIND,
            PendingChange {
                summary: format!("Nytt arbeidssted {name} hos {employer}"),
                change: Change::WorkplaceNew {
                    employer_id,
                    workplace: name.to_string(),
                    midlevel: field(&self.fields, &["mellomniva"]).map(str::to_string),
                    date: when,
                    comment,
                },
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Command;
    use crate::plan::{Action, Outcome};
    use crate::testing::{Values, decide, sender};

    fn workplace(id: i64, employer: i64, orgnr: &str, name: &str) -> WorkplaceBrief {
        WorkplaceBrief {
            id,
            employer_id: employer,
            employer: format!("Arbeidsgiver {employer}"),
            orgnr: orgnr.into(),
            name: name.into(),
            midlevel: None,
            open: true,
        }
    }

    #[test]
    fn the_same_name_at_two_employers_is_told_apart_by_arbeidsgiver() {
        let reg = Values {
            members: MembersInScope {
                members: vec![],
                workplaces: vec![
                    workplace(1, 1, "923609016", "Lageret"),
                    workplace(2, 2, "974760673", "Lageret"),
                ],
            },
            ..Values::default()
        };
        let rep = sender("leder@ffm.example", true, false, false, true);
        let close = |body: &str| {
            let c = Command::Workplace(Workplace {
                what: What::Close,
                name: "Lageret".into(),
                fields: crate::words::fields(body),
            });
            decide(&c, &rep, &reg)
        };
        let p = close("dato: 01.12.2026");
        assert_eq!(p.result, Outcome::Rejected);
        assert_eq!(p.replies[0].vars["problem"], "employer-which");
        assert_eq!(p.replies[0].vars["employers"].as_array().unwrap().len(), 2);
        let p = close("dato: 01.12.2026\narbeidsgiver: 974 760 673");
        assert!(matches!(
            &p.actions[..],
            [Action::Pending(PendingChange {
                change: Change::WorkplaceClose {
                    workplace_id: 2,
                    ..
                },
                ..
            })]
        ));
    }
}
