//! Deduction lists (SPEC section 8): who the submission is from and for,
//! which period, each line matched against the register, and the receipt:
//! files read, lines, matched, total, every problem by file and line, and
//! the members registered at the employer who are in no list for the period
//! (utrukne). The same file for the same employer and period is not counted
//! again. A PDF is kept for an admin. A contact who has not accepted the
//! confidentiality declaration gets it with a code, and the list waits.

use std::collections::HashSet;

use anyhow::Result;
use chrono::NaiveDate;
use postbud_core::lists::{self, FileKind, Limits, Period, ReadError, Sheet};
use postbud_core::message::Incoming;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::codes::waiting_for_code;
use crate::decide::Decide;
use crate::facts::{Cx, EmployerBrief, Facts};
use crate::plan::{
    Action, Attach, Change, CodePurpose, FileRecord, LineRecord, Outcome, PendingChange, Plan,
    Reply, SubmissionRecord, Table,
};
use crate::register::{PersonRef, Register, SubmissionReads};
use crate::words::{kroner, orgnr_in};

/// One attachment as read.
#[derive(Debug)]
pub struct Attached {
    pub name: String,
    pub sha256: String,
    pub size: u64,
    pub read: Result<Sheet, ReadError>,
}

/// A message with deduction lists attached.
#[derive(Debug)]
pub struct Submission {
    pub subject: String,
    pub files: Vec<Attached>,
}

impl Submission {
    /// Reads every attachment as a list (the expensive part, done before
    /// the register is touched).
    pub fn read(msg: &Incoming, limits: &Limits, today: NaiveDate) -> Submission {
        let files = msg
            .attachments
            .iter()
            .map(|a| {
                let name = a.name.clone().unwrap_or_else(|| "vedlegg".into());
                let sha256: String = Sha256::digest(&a.bytes)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                Attached {
                    read: lists::read(&name, &a.bytes, limits, today),
                    name,
                    sha256,
                    size: a.bytes.len() as u64,
                }
            })
            .collect();
        Submission {
            subject: msg.subject.clone(),
            files,
        }
    }

    fn lines(&self) -> impl Iterator<Item = &lists::Line> {
        self.files
            .iter()
            .filter_map(|a| a.read.as_ref().ok())
            .flat_map(|s| s.lines.iter())
    }

    /// Who and what the submission is for: the employer the subject (or a
    /// column of the list) names among the sender's, or the only one; the
    /// period of the subject, or of a column.
    pub fn target(&self, f: &Facts) -> Target {
        let known = |o: &str| f.employers.iter().any(|e| e.orgnr == o);
        let named =
            orgnr_in(&self.subject, known).or_else(|| self.lines().find_map(|l| l.orgnr.clone()));
        let Some(employer) = f.employer_named(named.as_deref()).cloned() else {
            return Target::AskEmployer;
        };
        let period = lists::period_from_subject(&self.subject)
            .or_else(|| self.lines().find_map(|l| l.period));
        match period {
            Some(period) => Target::For { employer, period },
            None => Target::AskPeriod { employer },
        }
    }
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

/// Problems listed in the text of a receipt; more go in an attached sheet.
pub const MAX_PROBLEMS_IN_TEXT: usize = 50;

impl Decide for Submission {
    type Reads = (Target, SubmissionReads);

    fn read(&self, reg: &dyn Register, cx: &Cx<'_>) -> Result<(Target, SubmissionReads)> {
        let target = self.target(cx.facts);
        let reads = match &target {
            Target::For { employer, period } => {
                let ids: Vec<&str> = self
                    .lines()
                    .filter_map(|l| l.national_id.as_deref())
                    .collect();
                reg.submission(employer.id, &period.to_string(), &ids)?
            }
            _ => SubmissionReads::default(),
        };
        Ok((target, reads))
    }

    fn decide(&self, cx: &mut Cx<'_>, (target, snap): (Target, SubmissionReads)) -> Plan {
        let (employer, period) = match target {
            Target::For { employer, period } => (employer, period),
            Target::AskEmployer => {
                return Plan::reply(
                    "submission",
                    Outcome::Rejected,
                    cx.reply(
                        "submission-which",
                        json!({ "employers": cx.facts.employers }),
                    ),
                );
            }
            Target::AskPeriod { employer } => {
                return Plan::reply(
                    "submission",
                    Outcome::Rejected,
                    cx.reply("submission-period", json!({ "employer": employer.name })),
                );
            }
        };
        if employer.declared.is_none() {
            return waiting_for_code(
                cx,
                "submission",
                "declaration",
                CodePurpose::Accept,
                json!({ "employer": employer.name }),
            );
        }
        receipt(cx, &self.files, &employer, period, &snap)
    }
}

/// Matches every line and writes the receipt.
fn receipt(
    cx: &Cx<'_>,
    files: &[Attached],
    employer: &EmployerBrief,
    period: Period,
    snap: &SubmissionReads,
) -> Plan {
    let period_text = period.to_string();
    let mut plan = Plan::reply("submission", Outcome::Ok, cx.reply("receipt", json!({})));
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
        let sheet = match &a.read {
            Err(ReadError::Unsupported) => continue,
            Err(ReadError::Pdf) => {
                manual.push(a.name.clone());
                files_out.push(json!({ "name": a.name, "status": "manual" }));
                plan.actions.push(Action::Pending(PendingChange {
                    summary: format!(
                        "PDF-trekkliste {} fra {} for {period_text}",
                        a.name, employer.name
                    ),
                    change: Change::PdfList {
                        file: a.name.clone(),
                        sha256: a.sha256.clone(),
                        employer_id: employer.id,
                        period: period_text.clone(),
                    },
                }));
                continue;
            }
            Err(e) => {
                files_out.push(json!({ "name": a.name, "status": "error", "error": e.code() }));
                continue;
            }
            Ok(sheet) => sheet,
        };
        if let Some(first) = snap.earlier_files.get(&a.sha256) {
            files_out.push(json!({ "name": a.name, "status": "duplicate", "first": first }));
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
    let not_deducted: Vec<&PersonRef> = snap
        .members
        .iter()
        .filter(|m| !seen.contains(&m.id))
        .collect();
    let many = problems.len() > MAX_PROBLEMS_IN_TEXT;
    if many {
        plan.replies[0]
            .attachments
            .push(problems_sheet(&problems, &period_text));
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
        if !to.eq_ignore_ascii_case(&cx.facts.sender) {
            let mut r = Reply::new(to, "receipt", cx.settings.language, vars.clone());
            r.attachments = plan.replies[0].attachments.clone();
            plan.replies.push(r);
        }
    }
    if !record.files.is_empty() {
        plan.actions.push(Action::Submission(record));
    }
    plan
}

/// Every problem of a receipt as a sheet, for receipts with more than
/// [`MAX_PROBLEMS_IN_TEXT`].
fn problems_sheet(problems: &[serde_json::Value], period: &str) -> Attach {
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
    Attach::Workbook {
        file: format!("feil-{period}.xlsx"),
        sheets: vec![Table {
            name: "Problemer".into(),
            headers: ["Fil", "Linje", "Feil", "Fødselsnummer", "Navn"]
                .iter()
                .map(|h| h.to_string())
                .collect(),
            rows,
        }],
    }
}
