//! `STATUS` [STATUS]: an employer contact answers for members registered at
//! the employer who were not deducted (utrukne), one line each:
//! `<birth date, member number or name> <Ansatt | Permittert | Sluttet |
//! Annet>[: comment]`. The employer is the one the subject names, or the
//! only one; the period the subject's, or the last submitted.

use anyhow::Result;
use chrono::Duration;
use postbud_core::lists;
use serde_json::json;

use crate::cx::Cx;
use crate::decide::Decide;
use crate::plan::{Action, Outcome, Plan};
use crate::register::{PersonRef, Register, Submitted};
use crate::words::{date, name_key, orgnr_in};

/// `STATUS` with its subject and answer lines.
#[derive(Debug)]
pub struct Status {
    pub subject: String,
    pub body: String,
}

/// What `STATUS` reads: the employers' submissions and active members.
#[derive(Debug, Default)]
pub struct StatusReads {
    pub submitted: Vec<Submitted>,
    /// (employer id, member)
    pub members: Vec<(i64, PersonRef)>,
}

/// Lines of one `STATUS` read, at most (an employer has no more members
/// than that not deducted in a month; a larger body is not read further).
pub const MAX_LINES: usize = 5_000;
/// Answers listed in the reply, at most.
pub const MAX_ANSWERS_IN_TEXT: usize = 100;

/// The answers STATUS accepts, as stored.
pub const ANSWERS: &[&str] = &["ansatt", "permittert", "sluttet", "annet"];

/// One line of a `STATUS` body, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line<'a> {
    /// `who answer[: comment]`
    Answer {
        who: String,
        answer: String,
        comment: Option<String>,
    },
    /// A line that starts like an answer (a date or number) but does not
    /// end with one of [`ANSWERS`].
    Bad(&'a str),
    /// Anything else (a greeting, a signature): skipped quietly.
    Other,
}

/// Reads one line of a `STATUS` body.
pub fn line(line: &str) -> Line<'_> {
    let (head, comment) = match line.split_once(':') {
        Some((h, c)) => (
            h.trim(),
            Some(c.trim().to_string()).filter(|c| !c.is_empty()),
        ),
        None => (line, None),
    };
    let mut words: Vec<&str> = head.split_whitespace().collect();
    let Some(answer) = words.pop().map(str::to_lowercase) else {
        return Line::Other;
    };
    if !ANSWERS.contains(&answer.as_str()) {
        let looks_like_one = words.first().is_some_and(|w| {
            w.chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
        });
        return if looks_like_one {
            Line::Bad(line)
        } else {
            Line::Other
        };
    }
    Line::Answer {
        who: words.join(" "),
        answer,
        comment,
    }
}

/// The members `who` names: by member number, else birth date, else name.
fn find<'a>(who: &str, members: &[&'a PersonRef]) -> Vec<&'a PersonRef> {
    let by_no: Vec<&PersonRef> = members
        .iter()
        .copied()
        .filter(|m| m.member_no.as_deref() == Some(who))
        .collect();
    if !by_no.is_empty() {
        return by_no;
    }
    if let Some(d) = date(who) {
        let d = d.to_string();
        return members
            .iter()
            .copied()
            .filter(|m| m.birth_date.as_deref() == Some(d.as_str()))
            .collect();
    }
    let k = name_key(who);
    members
        .iter()
        .copied()
        .filter(|m| name_key(&m.name) == k)
        .collect()
}

impl Decide for Status {
    type Reads = StatusReads;

    fn read(&self, reg: &dyn Register, cx: &Cx<'_>) -> Result<StatusReads> {
        let ids: Vec<i64> = cx.facts.employers.iter().map(|e| e.id).collect();
        Ok(StatusReads {
            submitted: reg.submitted(&ids, cx.now - Duration::days(366))?,
            members: reg.employer_members(&ids)?,
        })
    }

    fn decide(&self, cx: &mut Cx<'_>, reads: StatusReads) -> Plan {
        let f = cx.facts;
        let named = orgnr_in(&self.subject, |o| f.employers.iter().any(|e| e.orgnr == o));
        let Some(employer) = f.employer_named(named.as_deref()) else {
            return Plan::reply(
                "status",
                Outcome::Rejected,
                cx.reply("status-which", json!({ "employers": f.employers })),
            );
        };
        let period = lists::period_from_subject(&self.subject)
            .map(|p| p.to_string())
            .or_else(|| {
                reads
                    .submitted
                    .iter()
                    .filter(|p| p.employer_id == employer.id)
                    .map(|p| p.period.clone())
                    .max()
            });
        let Some(period) = period else {
            return Plan::reply(
                "status",
                Outcome::Rejected,
                cx.reply(
                    "status-which",
                    json!({ "employers": [employer], "no_period": true }),
                ),
            );
        };
        let members: Vec<&PersonRef> = reads
            .members
            .iter()
            .filter(|(e, _)| *e == employer.id)
            .map(|(_, m)| m)
            .collect();
        let mut plan = Plan::reply("status", Outcome::Ok, cx.reply("status", json!({})));
        let mut answers = Vec::new();
        let lines: Vec<&str> = self
            .body
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .take(MAX_LINES + 1)
            .collect();
        let more = lines.len() > MAX_LINES;
        for text in lines.into_iter().take(MAX_LINES) {
            let (who, answer, comment) = match line(text) {
                Line::Answer {
                    who,
                    answer,
                    comment,
                } => (who, answer, comment),
                Line::Bad(text) => {
                    answers.push(json!({ "line": text, "status": "bad-answer" }));
                    continue;
                }
                Line::Other => continue,
            };
            match find(&who, &members).as_slice() {
                [m] => {
                    plan.actions.push(Action::NotDeducted {
                        employer_id: employer.id,
                        period: period.clone(),
                        person_id: m.id,
                        status: answer.clone(),
                        comment,
                    });
                    answers.push(
                        json!({ "line": text, "status": "recorded", "name": m.name, "answer": answer }),
                    );
                }
                [] => answers.push(json!({ "line": text, "status": "unknown" })),
                many => answers.push(json!({
                    "line": text, "status": "ambiguous",
                    "candidates": many.iter().map(|m| m.member_no.clone()).collect::<Vec<_>>(),
                })),
            }
        }
        let recorded = answers.iter().filter(|a| a["status"] == "recorded").count();
        plan.result = match (recorded, answers.len()) {
            (0, _) => Outcome::Rejected,
            (r, n) if r == n => Outcome::Ok,
            _ => Outcome::Partial,
        };
        let (y, m) = period.split_once('-').unwrap_or((&period, ""));
        plan.replies[0].vars = json!({
            "employer": employer.name, "period": format!("{m}/{y}"),
            "answers": &answers[..answers.len().min(MAX_ANSWERS_IN_TEXT)],
            "count": answers.len(), "recorded": recorded, "more": more, "max": MAX_LINES,
        });
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(who: &str, answer: &str, comment: Option<&str>) -> Line<'static> {
        Line::Answer {
            who: who.into(),
            answer: answer.into(),
            comment: comment.map(str::to_string),
        }
    }

    #[test]
    fn an_answer_by_birth_date_member_number_or_name() {
        assert_eq!(
            line("06.12.1984 Permittert"),
            answer("06.12.1984", "permittert", None)
        );
        assert_eq!(line("50001 sluttet"), answer("50001", "sluttet", None));
        assert_eq!(
            line("Kari Nordmann Annet: i foreldrepermisjon"),
            answer("Kari Nordmann", "annet", Some("i foreldrepermisjon"))
        );
        assert_eq!(
            line("50001 Ansatt:   "),
            answer("50001", "ansatt", None),
            "an empty comment is none"
        );
    }

    #[test]
    fn a_line_that_starts_like_an_answer_but_is_none_is_bad() {
        assert_eq!(line("06.12.1984 borte"), Line::Bad("06.12.1984 borte"));
        assert_eq!(line("50001 vet ikke"), Line::Bad("50001 vet ikke"));
    }

    #[test]
    fn greetings_and_signatures_are_skipped() {
        assert_eq!(line("Hei,"), Line::Other);
        assert_eq!(line("Mvh Lønn"), Line::Other);
        assert_eq!(line(""), Line::Other);
    }
}
