//! Deduction lists (SPEC section 8): who the submission is from and for,
//! which period, each line matched against the register, and the receipt:
//! files read, lines, matched, total, every problem by file and line, and
//! the members registered at the employer who are in no list for the period
//! (utrukne). The same file for the same employer and period is not counted
//! again. A PDF is kept for an admin.

use super::{EmployerBrief, Facts, Fresh, Settings, language};
use crate::plan::{Action, CodePurpose, Outcome, PendingChange, Plan, Reply};
use chrono::{DateTime, Utc};
use postbud_core::lists::{self, FileKind, Period, ReadError, Sheet};
use postbud_core::message::Incoming;
use serde::Serialize;
use serde_json::json;
use std::collections::{HashMap, HashSet};

/// One attachment as read (in the pure read stage).
#[derive(Debug)]
pub struct Attached {
    pub name: String,
    pub sha256: String,
    pub size: u64,
    pub read: Result<Sheet, ReadError>,
}

/// Who and what a submission is for.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    For {
        employer: EmployerBrief,
        period: Period,
    },
    /// A contact of several employers named none of them.
    AskEmployer,
    AskPeriod {
        employer: EmployerBrief,
    },
}

/// A person the lines may name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonRef {
    pub id: i64,
    pub name: String,
    pub member_no: Option<String>,
    pub birth_date: Option<String>,
}

/// What the register holds for one employer and period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SubmissionSnapshot {
    /// People by national id, for the ids in the lists.
    pub people: HashMap<String, PersonRef>,
    /// People already in a list for this employer and period.
    pub earlier: HashSet<i64>,
    /// Files already received for this employer and period: sha256 -> date.
    pub earlier_files: HashMap<String, String>,
    /// Active members registered at the employer.
    pub members: Vec<PersonRef>,
    /// Active contacts of the employer responsible for receipts.
    pub receipt_to: Vec<String>,
}

/// A file to record.
#[derive(Debug, Clone, PartialEq)]
pub struct FileRecord {
    pub name: String,
    pub kind: &'static str,
    pub sha256: String,
    pub size: u64,
    pub counted: bool,
    pub amount: i64,
    pub lines: Vec<LineRecord>,
}

/// A line to record.
#[derive(Debug, Clone, PartialEq)]
pub struct LineRecord {
    pub line: usize,
    pub national_id: Option<String>,
    pub person_id: Option<i64>,
    pub amount: Option<i64>,
    pub problem: Option<String>,
}

/// A whole submission to record.
#[derive(Debug, Clone, PartialEq)]
pub struct SubmissionRecord {
    pub employer_id: i64,
    pub period: String,
    pub files: Vec<FileRecord>,
}

/// Attachments that are lists, and the organisation number and period the
/// message names.
pub fn target(f: &Facts, msg: &Incoming, files: &[Attached]) -> Target {
    let column_orgnr = files
        .iter()
        .filter_map(|a| a.read.as_ref().ok())
        .flat_map(|s| s.lines.iter())
        .find_map(|l| l.orgnr.clone());
    let employer = f.employer_named(&msg.subject, column_orgnr).cloned();
    let Some(employer) = employer else {
        return Target::AskEmployer;
    };
    let period = lists::period_from_subject(&msg.subject).or_else(|| {
        files
            .iter()
            .filter_map(|a| a.read.as_ref().ok())
            .flat_map(|s| s.lines.iter())
            .find_map(|l| l.period)
    });
    match period {
        Some(period) => Target::For { employer, period },
        None => Target::AskPeriod { employer },
    }
}

/// A contact who has not accepted the confidentiality declaration gets it
/// with a code; the list waits, and `AKSEPTERER <code>` processes it.
fn declaration(
    f: &Facts,
    s: &Settings,
    employer: &EmployerBrief,
    now: DateTime<Utc>,
    fresh: &mut dyn Fresh,
) -> Plan {
    super::confirm::waiting_for_code(
        f,
        s,
        "submission",
        "declaration",
        CodePurpose::Accept,
        json!({ "employer": employer.name }),
        now,
        fresh,
    )
}

/// An amount in øre as Norwegians write it: `25 139,50`.
pub fn kroner(ore: i64) -> String {
    let sign = if ore < 0 { "-" } else { "" };
    let ore = ore.unsigned_abs();
    let whole = (ore / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(' ');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped},{:02}", ore % 100)
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
/// Problems listed in the text of a receipt; more go in an attached sheet.
pub const MAX_PROBLEMS_IN_TEXT: usize = 50;

#[allow(clippy::too_many_arguments)]
pub fn decide(
    f: &Facts,
    s: &Settings,
    files: &[Attached],
    target: &Target,
    snap: &SubmissionSnapshot,
    now: DateTime<Utc>,
    fresh: &mut dyn Fresh,
) -> Plan {
    let lang = language(f, s);
    let (employer, period) = match target {
        Target::For { employer, period } => (employer, period),
        Target::AskEmployer => {
            return Plan::reply(
                "submission",
                Outcome::Rejected,
                Reply::new(
                    &f.sender,
                    "submission-which",
                    lang,
                    json!({ "employers": f.employers }),
                ),
            );
        }
        Target::AskPeriod { employer } => {
            return Plan::reply(
                "submission",
                Outcome::Rejected,
                Reply::new(
                    &f.sender,
                    "submission-period",
                    lang,
                    json!({ "employer": employer.name }),
                ),
            );
        }
    };
    if employer.declared.is_none() {
        return declaration(f, s, employer, now, fresh);
    }
    let period_text = period.to_string();
    let mut plan = Plan::reply(
        "submission",
        Outcome::Ok,
        Reply::new(&f.sender, "receipt", lang, json!({})),
    );
    let mut record = SubmissionRecord {
        employer_id: employer.id,
        period: period_text.clone(),
        files: Vec::new(),
    };
    let mut seen: HashSet<i64> = snap.earlier.clone();
    let mut files_out = Vec::new();
    let mut problems: Vec<serde_json::Value> = Vec::new();
    let (mut total_lines, mut total_matched, mut total_amount) = (0usize, 0usize, 0i64);
    let mut manual = Vec::new();
    for a in files {
        let kind = |k: FileKind| k.code();
        match &a.read {
            Err(ReadError::Unsupported) => continue,
            Err(ReadError::Pdf) => {
                manual.push(a.name.clone());
                files_out.push(json!({ "name": a.name, "status": "manual" }));
                plan.actions.push(Action::Pending(PendingChange {
                    kind: "pdf-list",
                    summary: format!("PDF-trekkliste {} fra {} for {period_text}", a.name, employer.name),
                    payload: json!({ "file": a.name, "sha256": a.sha256, "employer_id": employer.id, "period": period_text }),
                }));
                continue;
            }
            Err(e) => {
                files_out.push(json!({ "name": a.name, "status": "error", "error": e.code() }));
                continue;
            }
            Ok(sheet) => {
                if let Some(first) = snap.earlier_files.get(&a.sha256) {
                    files_out
                        .push(json!({ "name": a.name, "status": "duplicate", "first": first }));
                    record.files.push(FileRecord {
                        name: a.name.clone(),
                        kind: kind(sheet.kind),
                        sha256: a.sha256.clone(),
                        size: a.size,
                        counted: false,
                        amount: 0,
                        lines: Vec::new(),
                    });
                    continue;
                }
                let mut lines = Vec::new();
                let (mut matched, mut amount) = (0usize, 0i64);
                for l in &sheet.lines {
                    let mut problem: Option<(String, String)> = l
                        .problems
                        .first()
                        .map(|p| (p.code().to_string(), format!("{p:?}")));
                    let person = l.national_id.as_deref().and_then(|n| snap.people.get(n));
                    if problem.is_none() {
                        match person {
                            None => {
                                problem = Some((
                                    "unknown-person".into(),
                                    l.national_id.clone().unwrap_or_default(),
                                ))
                            }
                            Some(p) if !seen.insert(p.id) => {
                                problem = Some(("twice".into(), p.name.clone()))
                            }
                            Some(_) => {}
                        }
                    }
                    if problem.is_none() {
                        matched += 1;
                        amount += l.amount.unwrap_or(0);
                    }
                    if let Some((code, detail)) = &problem {
                        // An id that failed its check is shown as it was written.
                        let given = l.problems.iter().find_map(|p| match p {
                            lists::Problem::InvalidId { given, .. } => Some(given.clone()),
                            _ => None,
                        });
                        problems.push(json!({
                            "file": a.name, "line": l.line, "code": code,
                            "id": l.national_id.clone().or(given), "name": l.name, "detail": detail,
                        }));
                    }
                    lines.push(LineRecord {
                        line: l.line,
                        national_id: l.national_id.clone(),
                        person_id: person.map(|p| p.id),
                        amount: l.amount,
                        problem: problem.map(|(c, _)| c),
                    });
                }
                total_lines += sheet.lines.len();
                total_matched += matched;
                total_amount += amount;
                files_out.push(json!({
                    "name": a.name, "status": "read", "lines": sheet.lines.len(),
                    "matched": matched, "amount": kroner(amount),
                }));
                record.files.push(FileRecord {
                    name: a.name.clone(),
                    kind: kind(sheet.kind),
                    sha256: a.sha256.clone(),
                    size: a.size,
                    counted: true,
                    amount,
                    lines,
                });
            }
        }
    }
    let not_deducted: Vec<&PersonRef> = snap
        .members
        .iter()
        .filter(|m| !seen.contains(&m.id))
        .collect();
    let many = problems.len() > MAX_PROBLEMS_IN_TEXT;
    if many {
        let rows: Vec<Vec<String>> = problems
            .iter()
            .map(|p| {
                ["file", "line", "code", "id", "name"]
                    .iter()
                    .map(|k| match &p[*k] {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Null => String::new(),
                        v => v.to_string(),
                    })
                    .collect()
            })
            .collect();
        if let Ok(bytes) =
            crate::sheets::problems_sheet(&["Fil", "Linje", "Feil", "Fødselsnummer", "Navn"], &rows)
        {
            plan.replies[0].attachments.push((
                format!("feil-{period_text}.xlsx"),
                XLSX.into(),
                bytes,
            ));
        }
    }
    plan.result = if record.files.is_empty() && manual.is_empty() {
        Outcome::Rejected
    } else if !problems.is_empty() || files_out.iter().any(|f| f["status"] == "error") {
        Outcome::Partial
    } else if !manual.is_empty() && record.files.is_empty() {
        Outcome::Pending
    } else {
        Outcome::Ok
    };
    let vars = json!({
        "employer": employer.name, "orgnr": employer.orgnr,
        "period": format!("{:02}/{}", period.month, period.year),
        "files": files_out, "lines": total_lines, "matched": total_matched, "amount": kroner(total_amount),
        "problems": problems.iter().take(MAX_PROBLEMS_IN_TEXT).collect::<Vec<_>>(),
        "problem_count": problems.len(), "problems_attached": many,
        "not_deducted": not_deducted,
    });
    plan.replies[0].vars = vars.clone();
    for to in &snap.receipt_to {
        if !to.eq_ignore_ascii_case(&f.sender) {
            let mut r = Reply::new(to, "receipt", s.language, vars.clone());
            r.attachments = plan.replies[0].attachments.clone();
            plan.replies.push(r);
        }
    }
    if !record.files.is_empty() {
        plan.actions.push(Action::Submission(record));
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kroner_are_grouped_with_a_decimal_comma() {
        assert_eq!(kroner(2513950), "25 139,50");
        assert_eq!(kroner(5), "0,05");
        assert_eq!(kroner(123456789), "1 234 567,89");
        assert_eq!(kroner(-100), "-1,00");
    }
}
