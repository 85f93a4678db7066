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
use crate::cx::Cx;
use crate::decide::Decide;
use crate::facts::{EmployerBrief, Facts};
use crate::plan::{
    Action, Attach, Change, CodePurpose, FileRecord, LineRecord, Outcome, PendingChange, Plan,
    Reply, SubmissionRecord, Table,
};
use crate::register::{CodeGuard, PersonRef, Register, SubmissionReads};
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
    /// the register is touched), at most `max_rows` rows in all: a file
    /// past that is refused as too long.
    pub fn read(msg: &Incoming, limits: &Limits, max_rows: u64, today: NaiveDate) -> Submission {
        let mut left = max_rows;
        let files = msg
            .attachments
            .iter()
            .map(|a| {
                // A name is shown in the receipt: one line, printable.
                let name: String = match a.name.as_deref() {
                    Some(n) => n
                        .chars()
                        .map(|c| if c.is_control() { ' ' } else { c })
                        .collect(),
                    None => "vedlegg".into(),
                };
                let sha256: String = Sha256::digest(&a.bytes)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                let file_limits = Limits {
                    max_rows: limits.max_rows.min(left),
                    ..limits.clone()
                };
                let read = lists::read(&name, &a.bytes, &file_limits, today);
                if let Ok(sheet) = &read {
                    left = left.saturating_sub(sheet.lines.len() as u64);
                }
                Attached {
                    read,
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

/// What a submission reads: who and what it is for, what the register
/// holds for that, and (before the declaration) the guard on new codes.
pub struct SubmissionRead {
    pub target: Target,
    pub reads: SubmissionReads,
    pub accept_guard: CodeGuard,
}

impl Decide for Submission {
    type Reads = SubmissionRead;

    fn read(&self, reg: &dyn Register, cx: &Cx<'_>) -> Result<SubmissionRead> {
        let target = self.target(cx.facts);
        let mut accept_guard = CodeGuard::default();
        let reads = match &target {
            Target::For { employer, .. } if employer.declared.is_none() => {
                accept_guard =
                    reg.code_guard(&cx.facts.sender, CodePurpose::Accept.as_str(), cx.now)?;
                SubmissionReads::default()
            }
            Target::For { employer, period } => {
                let ids: Vec<&str> = self
                    .lines()
                    .filter_map(|l| l.national_id.as_deref())
                    .collect();
                reg.submission(employer.id, &period.to_string(), &ids)?
            }
            _ => SubmissionReads::default(),
        };
        Ok(SubmissionRead {
            target,
            reads,
            accept_guard,
        })
    }

    fn decide(&self, cx: &mut Cx<'_>, read: SubmissionRead) -> Plan {
        let SubmissionRead {
            target,
            reads: snap,
            accept_guard,
        } = read;
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
                accept_guard,
                "submission",
                "declaration",
                CodePurpose::Accept,
                json!({ "employer": employer.name }),
            );
        }
        receipt(cx, &self.files, &employer, period, &snap)
    }
}

/// Problems listed in a sheet attached to a receipt, at most; a receipt
/// stays under 5 MB whatever the lists hold.
pub const MAX_PROBLEMS_IN_SHEET: usize = 100_000;

/// One problem of a receipt, as the file gave it.
struct Problem<'a> {
    file: &'a str,
    line: usize,
    code: &'static str,
    /// The national id as written, if any.
    id: Option<&'a str>,
    /// The name as the file gives it.
    name: Option<&'a str>,
}

impl Problem<'_> {
    fn json(&self) -> serde_json::Value {
        json!({ "file": self.file, "line": self.line, "code": self.code, "id": self.id, "name": self.name })
    }

    fn cells(&self) -> Vec<String> {
        vec![
            self.file.to_string(),
            self.line.to_string(),
            self.code.to_string(),
            self.id.unwrap_or_default().to_string(),
            self.name.unwrap_or_default().to_string(),
        ]
    }
}

/// Matches every line against the members registered at the employer and
/// writes the receipt. A receipt never tells the employer anything it did
/// not send: a person is named as the file names them, and an id that is
/// unknown reads the same as one of a member registered elsewhere (SPEC
/// section 8); the office is told of the latter as a pending change.
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
    let mut elsewhere_told: HashSet<i64> = HashSet::new();
    let mut files_out = Vec::new();
    // The problems a receipt can show (text and sheet), and how many in all.
    let mut problems: Vec<Problem<'_>> = Vec::new();
    let mut problem_count = 0usize;
    let (mut total_lines, mut total_matched, mut total_amount) = (0usize, 0usize, 0i64);
    let mut manual = Vec::new();
    let mut unread = false;
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
                unread = true;
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
        let mut lines = Vec::with_capacity(sheet.lines.len());
        let (mut matched, mut amount) = (0usize, 0i64);
        for l in &sheet.lines {
            let mut problem: Option<&'static str> = l.problems.first().map(|p| p.code());
            let person = l.national_id.as_deref().and_then(|n| snap.people.get(n));
            if problem.is_none() {
                match person {
                    None => problem = Some("not-member-here"),
                    Some(p) if !seen.insert(p.id) => problem = Some("twice"),
                    Some(_) => {}
                }
            }
            // A member registered at another employer: the office is told.
            if person.is_none()
                && let Some(other) = l.national_id.as_deref().and_then(|n| snap.elsewhere.get(n))
                && elsewhere_told.insert(other.id)
            {
                plan.actions.push(Action::Pending(PendingChange {
                    summary: format!(
                        "{} ({}) står på trekklisten fra {} for {period_text}, men er registrert hos {}",
                        other.name,
                        other.member_no.as_deref().unwrap_or("-"),
                        employer.name,
                        other.employer.as_deref().unwrap_or("ingen arbeidsgiver"),
                    ),
                    change: Change::DeductedElsewhere {
                        person_id: other.id,
                        employer_id: employer.id,
                        period: period_text.clone(),
                    },
                }));
            }
            match problem {
                None => {
                    matched += 1;
                    amount += l.amount.unwrap_or(0);
                }
                Some(code) => {
                    problem_count += 1;
                    // Past what a receipt can show, problems are counted only.
                    if problems.len() < MAX_PROBLEMS_IN_SHEET {
                        // An id that failed its check is shown as it was written.
                        let given = l.problems.iter().find_map(|p| match p {
                            lists::Problem::InvalidId { given, .. } => Some(given.as_str()),
                            _ => None,
                        });
                        problems.push(Problem {
                            file: &a.name,
                            line: l.line,
                            code,
                            id: l.national_id.as_deref().or(given),
                            name: l.name.as_deref(),
                        });
                    }
                }
            }
            // The id of someone who is no member registered here is not kept.
            lines.push(LineRecord {
                line: l.line,
                national_id: person.and(l.national_id.clone()),
                person_id: person.map(|p| p.id),
                amount: l.amount,
                problem,
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
    // Members not deducted, only when every list could be read.
    let not_deducted: Vec<&PersonRef> = if unread {
        Vec::new()
    } else {
        snap.members
            .iter()
            .filter(|m| !seen.contains(&m.id))
            .collect()
    };
    let mut sheets = Vec::new();
    if problem_count > MAX_PROBLEMS_IN_TEXT {
        sheets.push(Table {
            name: "Problemer".into(),
            headers: ["Fil", "Linje", "Feil", "Fødselsnummer", "Navn"]
                .iter()
                .map(|h| h.to_string())
                .collect(),
            rows: problems.iter().map(Problem::cells).collect(),
        });
    }
    if not_deducted.len() > MAX_PROBLEMS_IN_TEXT {
        sheets.push(Table {
            name: "Ikke trukket".into(),
            headers: ["Medlemsnr", "Navn", "Fødselsdato"]
                .iter()
                .map(|h| h.to_string())
                .collect(),
            rows: not_deducted
                .iter()
                .map(|m| {
                    vec![
                        m.member_no.clone().unwrap_or_default(),
                        m.name.clone(),
                        m.birth_date.clone().unwrap_or_default(),
                    ]
                })
                .collect(),
        });
    }
    if !sheets.is_empty() {
        plan.replies[0].attachments.push(Attach::Workbook {
            file: format!("kvittering-{period_text}.xlsx"),
            sheets,
        });
    }
    plan.result = if record.files.is_empty() && manual.is_empty() {
        Outcome::Rejected
    } else if problem_count > 0 || unread {
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
        "problems": problems.iter().take(MAX_PROBLEMS_IN_TEXT).map(Problem::json).collect::<Vec<_>>(),
        "problem_count": problem_count,
        "problems_attached": problem_count > MAX_PROBLEMS_IN_TEXT,
        "problems_in_sheet": problems.len(),
        "not_deducted": not_deducted.iter().take(MAX_PROBLEMS_IN_TEXT).collect::<Vec<_>>(),
        "not_deducted_count": not_deducted.len(),
        "not_deducted_unknown": unread,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Command;
    use crate::testing::{Values, decide, sender};
    use postbud_core::lists::Line;

    fn line(n: usize, id: &str, amount: i64) -> Line {
        Line {
            line: n,
            national_id: Some(id.into()),
            birth_date: None,
            name: Some(format!("Navn {n}")),
            employee_no: None,
            amount: Some(amount),
            period: None,
            orgnr: None,
            problems: vec![],
        }
    }

    fn sheet(lines: Vec<Line>) -> Result<Sheet, ReadError> {
        Ok(Sheet {
            file: "liste.xlsx".into(),
            kind: FileKind::Xlsx,
            sheet: None,
            header_line: 1,
            columns: vec![],
            lines,
            skipped: 0,
        })
    }

    fn submission(subject: &str, files: Vec<(&str, Result<Sheet, ReadError>)>) -> Command {
        Command::Submission(Submission {
            subject: subject.into(),
            files: files
                .into_iter()
                .map(|(name, read)| Attached {
                    name: name.into(),
                    sha256: format!("sha-{name}"),
                    size: 10,
                    read,
                })
                .collect(),
        })
    }

    fn person(id: i64, name: &str) -> PersonRef {
        PersonRef {
            id,
            name: name.into(),
            member_no: Some(format!("5000{id}")),
            birth_date: None,
        }
    }

    fn reads() -> Values {
        let mut s = SubmissionReads::default();
        s.people
            .insert("11111111111".into(), person(1, "Kari Nordmann"));
        s.people
            .insert("22222222222".into(), person(2, "Ola Hansen"));
        s.members = vec![
            person(1, "Kari Nordmann"),
            person(2, "Ola Hansen"),
            person(3, "Per Utrukket"),
        ];
        s.receipt_to = vec!["lonn@bedrift.example".into(), "kopi@bedrift.example".into()];
        Values {
            submission: s,
            ..Values::default()
        }
    }

    #[test]
    fn a_list_is_matched_line_by_line_and_the_receipt_says_what_is_wrong() {
        let contact = sender("lonn@bedrift.example", false, true, false, true);
        let lines = vec![
            line(4, "11111111111", 41250),
            line(5, "22222222222", 41250),
            line(6, "11111111111", 41250),
            line(7, "33333333333", 100),
        ];
        let p = decide(
            &submission("Trekkliste 10/2026", vec![("liste.xlsx", sheet(lines))]),
            &contact,
            &reads(),
        );
        assert_eq!(p.result, Outcome::Partial);
        let v = &p.replies[0].vars;
        assert_eq!(v["lines"], 4);
        assert_eq!(v["matched"], 2);
        assert_eq!(v["amount"], "825,00");
        let codes: Vec<&str> = v["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, ["twice", "not-member-here"]);
        assert_eq!(v["not_deducted"][0]["name"], "Per Utrukket");
        assert_eq!(
            p.replies.len(),
            2,
            "a copy to the other contact for receipts"
        );
        assert_eq!(p.replies[1].to, "kopi@bedrift.example");
        assert!(
            matches!(&p.actions[..], [Action::Submission(r)] if r.period == "2026-10" && r.files[0].lines.len() == 4)
        );
    }

    /// Hardening finding 4: a contact learns nothing about people who are
    /// not members registered at the employer; the office learns of members
    /// registered elsewhere, and ids of non-members are not kept.
    #[test]
    fn the_receipt_is_no_membership_oracle() {
        let contact = sender("lonn@bedrift.example", false, true, false, true);
        let mut reg = reads();
        reg.submission.elsewhere.insert(
            "44444444444".into(),
            crate::register::MemberElsewhere {
                id: 9,
                name: "Medlem Hos Andre".into(),
                member_no: Some("50009".into()),
                employer: Some("Annen AS".into()),
            },
        );
        let mut elsewhere = line(8, "44444444444", 100);
        elsewhere.name = Some("Som Fila Skriver".into());
        let mut twice = line(6, "11111111111", 100);
        twice.name = Some("Kari N.".into());
        let lines = vec![
            line(4, "11111111111", 100),
            twice,
            line(7, "33333333333", 100),
            elsewhere,
        ];
        let p = decide(
            &submission("Trekkliste 10/2026", vec![("l.xlsx", sheet(lines))]),
            &contact,
            &reg,
        );
        let text = serde_json::to_string(&p.replies[0].vars).unwrap();
        assert!(
            !text.contains("Medlem Hos Andre") && !text.contains("Annen AS"),
            "{text}"
        );
        let problems = p.replies[0].vars["problems"].as_array().unwrap();
        assert_eq!(problems[0]["name"], "Kari N.");
        assert_eq!(
            problems[1]["code"], problems[2]["code"],
            "unknown and elsewhere read the same"
        );
        assert!(matches!(
            &p.actions[0],
            Action::Pending(PendingChange { change: Change::DeductedElsewhere { person_id: 9, employer_id: 1, .. }, summary })
                if summary.contains("Annen AS")
        ));
        let Some(Action::Submission(r)) = p.actions.last() else {
            panic!("{:?}", p.actions)
        };
        let kept: Vec<Option<&str>> = r.files[0]
            .lines
            .iter()
            .map(|l| l.national_id.as_deref())
            .collect();
        assert_eq!(kept, [Some("11111111111"), Some("11111111111"), None, None]);
    }

    #[test]
    fn members_not_deducted_are_listed_only_when_every_file_was_read() {
        let contact = sender("lonn@bedrift.example", false, true, false, true);
        let p = decide(
            &submission(
                "Trekkliste 10/2026",
                vec![
                    ("a.xlsx", sheet(vec![line(4, "11111111111", 100)])),
                    ("b.xlsx", Err(ReadError::TooManyRows { limit: 10 })),
                ],
            ),
            &contact,
            &reads(),
        );
        assert_eq!(
            p.replies[0].vars["not_deducted"].as_array().unwrap().len(),
            0
        );
        assert_eq!(p.replies[0].vars["not_deducted_unknown"], true);
        assert_eq!(p.result, Outcome::Partial);
    }

    /// Hardening finding 9: a line break in an attachment's name cannot
    /// forge a line in the receipt.
    #[test]
    fn an_attachment_name_is_one_line() {
        let msg = Incoming {
            subject: "Trekkliste 10/2026".into(),
            attachments: vec![postbud_core::message::Attachment {
                name: Some("liste.csv\r\n  Alt er godkjent.csv".into()),
                content_type: "text/csv".into(),
                bytes: b"Fodselsnummer;Belop\n".to_vec(),
            }],
            ..Incoming::default()
        };
        let s = Submission::read(
            &msg,
            &Limits::default(),
            1_000_000,
            crate::testing::now().date_naive(),
        );
        assert_eq!(s.files[0].name, "liste.csv    Alt er godkjent.csv");
    }

    #[test]
    fn which_employer_and_which_period_are_asked_for() {
        let mut two = sender("lonn@bedrift.example", false, true, false, true);
        two.employers.push(crate::facts::EmployerBrief {
            id: 2,
            orgnr: "974760673".into(),
            name: "Annen AS".into(),
            declared: None,
        });
        let p = decide(
            &submission("Trekkliste 10/2026", vec![("l.xlsx", sheet(vec![]))]),
            &two,
            &Values::default(),
        );
        assert_eq!(p.replies[0].template, "submission-which");
        let one = sender("lonn@bedrift.example", false, true, false, true);
        let p = decide(
            &submission("Trekkliste", vec![("l.xlsx", sheet(vec![]))]),
            &one,
            &Values::default(),
        );
        assert_eq!(p.replies[0].template, "submission-period");
    }

    #[test]
    fn without_the_declaration_the_list_waits_for_a_code() {
        let mut contact = sender("lonn@bedrift.example", false, true, false, true);
        contact.employers[0].declared = None;
        let p = decide(
            &submission("Trekkliste 10/2026", vec![("l.xlsx", sheet(vec![]))]),
            &contact,
            &reads(),
        );
        assert_eq!(p.replies[0].template, "declaration");
        assert!(matches!(
            &p.actions[..],
            [Action::IssueCode {
                purpose: CodePurpose::Accept,
                ..
            }]
        ));
    }

    #[test]
    fn a_pdf_waits_for_the_office_and_a_file_sent_before_is_not_counted() {
        let contact = sender("lonn@bedrift.example", false, true, false, true);
        let mut reg = reads();
        reg.submission
            .earlier_files
            .insert("sha-gammel.xlsx".into(), "2026-11-01".into());
        let p = decide(
            &submission(
                "Trekkliste 10/2026",
                vec![
                    ("liste.pdf", Err(ReadError::Pdf)),
                    ("gammel.xlsx", sheet(vec![line(4, "11111111111", 100)])),
                ],
            ),
            &contact,
            &reg,
        );
        let files = p.replies[0].vars["files"].as_array().unwrap();
        assert_eq!(files[0]["status"], "manual");
        assert_eq!(files[1]["status"], "duplicate");
        assert_eq!(files[1]["first"], "2026-11-01");
        assert!(matches!(
            &p.actions[0],
            Action::Pending(PendingChange {
                change: Change::PdfList { .. },
                ..
            })
        ));
        assert!(matches!(&p.actions[1], Action::Submission(r) if !r.files[0].counted));
    }
}
