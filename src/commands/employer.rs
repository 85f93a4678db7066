//! `INNSENDTE` [SUBMITTED]: the periods submitted in the last 12 months;
//! `STATUS`: answers for members who were not deducted (Ansatt, Permittert,
//! Sluttet, Annet with a comment). Only for the sender's own employers.

use super::activity::name_key;
use super::changes::date;
use super::deduction::PersonRef;
use super::{Facts, Settings, language};
use crate::plan::{Action, Outcome, Plan, Reply};
use postbud_core::lists;
use postbud_core::message::Incoming;
use serde::Serialize;
use serde_json::json;

/// A period an employer submitted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Submitted {
    pub employer_id: i64,
    pub period: String,
    pub first: String,
    pub last: String,
    pub files: i64,
    pub lines: i64,
}

/// What `INNSENDTE` and `STATUS` read: per employer of the sender.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EmployerSnapshot {
    pub submitted: Vec<Submitted>,
    /// Active members at each employer: (employer id, member).
    pub members: Vec<(i64, PersonRef)>,
}

pub fn submitted(f: &Facts, s: &Settings, snap: &EmployerSnapshot) -> Plan {
    let employers: Vec<_> = f
        .employers
        .iter()
        .map(|e| {
            json!({
                "name": e.name, "orgnr": e.orgnr,
                "periods": snap.submitted.iter().filter(|p| p.employer_id == e.id).collect::<Vec<_>>(),
            })
        })
        .collect();
    Plan::reply(
        "submitted",
        Outcome::Ok,
        Reply::new(
            &f.sender,
            "submitted",
            language(f, s),
            json!({ "employers": employers }),
        ),
    )
}

/// The answers STATUS accepts, as stored.
const ANSWERS: &[&str] = &["ansatt", "permittert", "sluttet", "annet"];

pub fn status(
    f: &Facts,
    s: &Settings,
    msg: &Incoming,
    body: &str,
    snap: &EmployerSnapshot,
) -> Plan {
    let lang = language(f, s);
    let employer = f.employer_named(&msg.subject, None);
    let Some(employer) = employer else {
        return Plan::reply(
            "status",
            Outcome::Rejected,
            Reply::new(
                &f.sender,
                "status-which",
                lang,
                json!({ "employers": f.employers }),
            ),
        );
    };
    let period = lists::period_from_subject(&msg.subject)
        .map(|p| p.to_string())
        .or_else(|| {
            snap.submitted
                .iter()
                .filter(|p| p.employer_id == employer.id)
                .map(|p| p.period.clone())
                .max()
        });
    let Some(period) = period else {
        return Plan::reply(
            "status",
            Outcome::Rejected,
            Reply::new(
                &f.sender,
                "status-which",
                lang,
                json!({ "employers": [employer], "no_period": true }),
            ),
        );
    };
    let members: Vec<&PersonRef> = snap
        .members
        .iter()
        .filter(|(e, _)| *e == employer.id)
        .map(|(_, m)| m)
        .collect();
    let mut plan = Plan::reply(
        "status",
        Outcome::Ok,
        Reply::new(&f.sender, "status", lang, json!({})),
    );
    let mut answers = Vec::new();
    for line in body.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (head, comment) = match line.split_once(':') {
            Some((h, c)) => (
                h.trim(),
                Some(c.trim().to_string()).filter(|c| !c.is_empty()),
            ),
            None => (line, None),
        };
        let mut words: Vec<&str> = head.split_whitespace().collect();
        let Some(answer) = words.pop().map(str::to_lowercase) else {
            continue;
        };
        if !ANSWERS.contains(&answer.as_str()) {
            // Not an answer line (a greeting, a signature): skipped quietly
            // unless it starts like one.
            if words.first().is_some_and(|w| {
                w.chars()
                    .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
            }) {
                answers.push(json!({ "line": line, "status": "bad-answer" }));
            }
            continue;
        }
        let who = words.join(" ");
        let by_no: Vec<&&PersonRef> = members
            .iter()
            .filter(|m| m.member_no.as_deref() == Some(who.as_str()))
            .collect();
        let found: Vec<&&PersonRef> = if !by_no.is_empty() {
            by_no
        } else if let Some(d) = date(&who) {
            let d = d.to_string();
            members
                .iter()
                .filter(|m| m.birth_date.as_deref() == Some(d.as_str()))
                .collect()
        } else {
            let k = name_key(&who);
            members.iter().filter(|m| name_key(&m.name) == k).collect()
        };
        match found.as_slice() {
            [m] => {
                plan.actions.push(Action::NotDeducted {
                    employer_id: employer.id,
                    period: period.clone(),
                    person_id: m.id,
                    status: answer.clone(),
                    comment: comment.clone(),
                });
                answers.push(
                    json!({ "line": line, "status": "recorded", "name": m.name, "answer": answer }),
                );
            }
            [] => answers.push(json!({ "line": line, "status": "unknown" })),
            many => answers.push(json!({
                "line": line, "status": "ambiguous",
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
    plan.replies[0].vars =
        json!({ "employer": employer.name, "period": format!("{m}/{y}"), "answers": answers });
    plan
}
