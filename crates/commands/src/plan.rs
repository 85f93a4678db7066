//! A plan: what handling one message (or one admin command, or one
//! scheduled job) will do, as data. Decisions produce it without touching
//! the register, the clock or the network; the store carries it out in one
//! transaction. It owns every record it writes (pending changes as a typed
//! [`Change`], submissions, new peers) and every attachment as data
//! ([`Attach`]), rendered to bytes only when the plan is applied.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::facts::Language;

/// `X-Postbud-Result` (and the messages table's `result`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Partial,
    Pending,
    Rejected,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Partial => "partial",
            Outcome::Pending => "pending",
            Outcome::Rejected => "rejected",
        }
    }
}

/// What a code is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodePurpose {
    /// `KODE`: a login code a web portal checks with `postbud code verify`.
    Login,
    /// `BEKREFT <code>`: carries out a command an unverified sender sent.
    Confirm,
    /// `AKSEPTERER <code>`: accepts the confidentiality declaration.
    Accept,
    /// `BEKREFT <code>` from an address a member asked to link (`KOBLE`).
    Link,
}

impl CodePurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            CodePurpose::Login => "login",
            CodePurpose::Confirm => "confirm",
            CodePurpose::Accept => "accept",
            CodePurpose::Link => "link",
        }
    }

    /// The purposes answered with the same word, whose wrong guesses count
    /// together and die together: `BEKREFT` answers confirmations and links.
    pub fn kin(self) -> &'static [CodePurpose] {
        match self {
            CodePurpose::Confirm | CodePurpose::Link => &[CodePurpose::Confirm, CodePurpose::Link],
            CodePurpose::Accept => &[CodePurpose::Accept],
            CodePurpose::Login => &[CodePurpose::Login],
        }
    }
}

/// What approving a pending change does, as data; stored as JSON tagged
/// with its kind (`{"kind": "member-left", ...}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Change {
    /// `MEDLEM SLUTTET`: the member left the employer.
    MemberLeft {
        person_id: i64,
        end_date: Option<String>,
        /// The new employer as the rep gave it: an organisation number or a name.
        new_employer_orgnr: Option<String>,
        comment: Option<String>,
    },
    /// `MEDLEM FLYTTET`: the member moved to another workplace.
    MemberMoved {
        person_id: i64,
        employer_id: i64,
        workplace: String,
        date: Option<String>,
        comment: Option<String>,
    },
    /// `ARBEIDSSTED NY`.
    WorkplaceNew {
        employer_id: i64,
        workplace: String,
        midlevel: Option<String>,
        date: Option<String>,
        comment: Option<String>,
    },
    /// `ARBEIDSSTED NYTT NAVN`.
    WorkplaceRename {
        workplace_id: i64,
        new_name: String,
        date: Option<String>,
        comment: Option<String>,
    },
    /// `ARBEIDSSTED AVSLUTT`.
    WorkplaceClose {
        workplace_id: i64,
        date: Option<String>,
        comment: Option<String>,
    },
    /// `NY TILLITSVALGT`.
    NewRep(Box<NewRepChange>),
    /// A registration string that could not be applied at once.
    Registration {
        peer: NewPeer,
        /// The string as found.
        text: String,
        /// Why it waits: no-secret, missing-sig, bad-sig, member.
        why: String,
    },
    /// A member registered at another employer is on this employer's list:
    /// approving registers them at this one.
    DeductedElsewhere {
        person_id: i64,
        employer_id: i64,
        period: String,
    },
    /// `ENDRE` of employment fields: what is given changes (`None` stays).
    Employment {
        person_id: i64,
        employer_id: Option<i64>,
        /// The employer's name, for the summary and the letters.
        employer: Option<String>,
        workplace: Option<String>,
        position: Option<String>,
        percent: Option<String>,
        permanent: Option<bool>,
    },
    /// `MELD UT`: the membership ends on `from`.
    Resign { person_id: i64, from: String },
    /// A deduction list as PDF, handled by hand.
    PdfList {
        file: String,
        sha256: String,
        employer_id: i64,
        period: String,
    },
}

impl Change {
    /// The day an approved change takes effect, when it names one (SPEC
    /// section 11, "Dated changes"): a later one waits until that day.
    pub fn effective_on(&self) -> Option<chrono::NaiveDate> {
        let day = match self {
            Change::MemberLeft { end_date, .. } => end_date.as_deref(),
            Change::MemberMoved { date, .. }
            | Change::WorkplaceNew { date, .. }
            | Change::WorkplaceRename { date, .. }
            | Change::WorkplaceClose { date, .. } => date.as_deref(),
            Change::NewRep(rep) => Some(rep.from.as_str()),
            Change::Resign { from, .. } => Some(from.as_str()),
            Change::Registration { .. }
            | Change::DeductedElsewhere { .. }
            | Change::Employment { .. }
            | Change::PdfList { .. } => None,
        }?;
        chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()
    }

    /// The kind as stored in `pending_changes.kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Change::MemberLeft { .. } => "member-left",
            Change::MemberMoved { .. } => "member-moved",
            Change::WorkplaceNew { .. } => "workplace-new",
            Change::WorkplaceRename { .. } => "workplace-rename",
            Change::WorkplaceClose { .. } => "workplace-close",
            Change::NewRep(_) => "new-rep",
            Change::Registration { .. } => "registration",
            Change::DeductedElsewhere { .. } => "deducted-elsewhere",
            Change::Employment { .. } => "employment",
            Change::Resign { .. } => "resign",
            Change::PdfList { .. } => "pdf-list",
        }
    }
}

/// A new rep or deputy, as asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewRepChange {
    pub person_id: i64,
    pub email: String,
    pub name: String,
    /// `tillitsvalgt` or `vara`.
    pub role: String,
    /// `arbeidsgiver`, `mellomniva`, `arbeidssted` or `enhet`.
    pub level: String,
    pub employer_id: i64,
    pub employer: String,
    pub orgnr: Option<String>,
    pub workplace_id: Option<i64>,
    pub workplace: Option<String>,
    pub midlevel: Option<String>,
    pub unit_id: Option<i64>,
    /// The chapter or region, for a rep at level `enhet`.
    #[serde(default)]
    pub unit: Option<String>,
    /// The first day of the office, `YYYY-MM-DD`.
    pub from: String,
    pub comment: Option<String>,
}

/// A change for an admin to approve (`GODKJENN` / `AVVIS`).
#[derive(Debug, Clone, PartialEq)]
pub struct PendingChange {
    /// One line for admins: "Kari Nordmann (50001) har sluttet 2026-11-30".
    pub summary: String,
    /// What approving it does.
    pub change: Change,
}

/// A peer to register (from a registration string, or an approved one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewPeer {
    pub form_id: Option<String>,
    pub unit_id: i64,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub birth_date: Option<String>,
}

/// A deduction-list submission, its files and lines.
#[derive(Debug, Clone, PartialEq)]
pub struct SubmissionRecord {
    pub employer_id: i64,
    pub period: String,
    pub files: Vec<FileRecord>,
}

/// A file of a submission.
#[derive(Debug, Clone, PartialEq)]
pub struct FileRecord {
    pub name: String,
    pub kind: &'static str,
    pub sha256: String,
    pub size: u64,
    /// False for a file received before for the same employer and period.
    pub counted: bool,
    pub amount: i64,
    pub lines: Vec<LineRecord>,
}

/// A line of a file.
#[derive(Debug, Clone, PartialEq)]
pub struct LineRecord {
    pub line: usize,
    pub national_id: Option<String>,
    pub person_id: Option<i64>,
    pub amount: Option<i64>,
    pub problem: Option<&'static str>,
}

/// What confirming a code carries out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carries {
    /// Nothing: a login code.
    Nothing,
    /// The message being handled.
    ThisMessage,
    /// A message handled before, by its row: the one a confirmation carried
    /// out that needs a second code (a list confirmed with `BEKREFT` that
    /// then waits for `AKSEPTERER`).
    Message(i64),
}

/// A change to the register.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A support ticket under the message's reference.
    OpenTicket {
        topic: String,
        subject: String,
        body: String,
    },
    /// Store a hashed one-time code, and what confirming it carries out.
    IssueCode {
        email: String,
        purpose: CodePurpose,
        salt: String,
        hash: String,
        expires_at: chrono::DateTime<chrono::Utc>,
        carries: Carries,
    },
    /// A code was used (a confirmation carried out).
    UseCode { id: i64 },
    /// A wrong login code was given for code `id`.
    WrongCode { id: i64 },
    /// A wrong confirmation code came from `email`; `kill`: it was the last
    /// guess allowed, and every live code of the purpose dies with it.
    WrongGuess {
        email: String,
        purpose: CodePurpose,
        kill: bool,
    },
    /// A peer was active in a year.
    RecordActivity { peer_id: i64, year: i32 },
    /// Register a new peer.
    RegisterPeer(NewPeer),
    /// A change for an admin to approve. The first one a plan asks for
    /// takes the reference of the message; any further one gets its own.
    Pending(PendingChange),
    /// Add or change an employer contact (`None` fields stay as they are).
    Contact {
        employer_id: i64,
        email: String,
        create: bool,
        name: Option<String>,
        phone: Option<String>,
        duties: Option<String>,
        active: Option<bool>,
    },
    /// An employer's answer for a member who was not deducted.
    NotDeducted {
        employer_id: i64,
        period: String,
        person_id: i64,
        status: String,
        comment: Option<String>,
    },
    /// A contact accepted the confidentiality declaration.
    Declare { email: String },
    /// A deduction-list submission, its files and lines.
    Submission(SubmissionRecord),
    /// An admin approved (carry it out) or rejected a pending change.
    Decide {
        pending_id: i64,
        approve: bool,
        reason: Option<String>,
        /// The day an approved change takes effect: today, or its own later
        /// date (then it waits as scheduled until that day).
        on: chrono::NaiveDate,
        /// `on` is after today.
        scheduled: bool,
    },
    /// Remember that an unknown address got its neutral reply today.
    NeutralReplied { email: String, day: String },
    /// These addresses bounce.
    MarkBouncing { emails: Vec<String> },
    /// Change a person's contact fields at once (`ENDRE`).
    UpdatePerson {
        person_id: i64,
        changes: Vec<FieldChange>,
    },
    /// Link an address to a person (`KOBLE`, confirmed from that address).
    LinkAddress { person_id: i64, email: String },
    /// Remove one of a person's addresses (`FJERN`).
    UnlinkAddress { person_id: i64, email: String },
    /// A requester took back their pending change (`ANGRE`).
    Undo { pending_id: i64 },
    /// Keep a letter to an employer (its PDF made from it) and mark the
    /// changes it tells as told.
    RecordLetter {
        letter: Box<DeductionLetter>,
        changes: Vec<i64>,
    },
    /// The retention job's deletions (SPEC section 11): letters written
    /// before `letters_before`, codes used or expired before `codes_before`,
    /// raw bodies of messages handled before `raw_before`.
    Purge {
        letters_before: chrono::DateTime<chrono::Utc>,
        codes_before: chrono::DateTime<chrono::Utc>,
        raw_before: chrono::DateTime<chrono::Utc>,
    },
}

/// One field of a person changed: its column, and the values before and
/// after (for the audit log and the reply).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    /// `phone`, `address`, `postcode`, `city` or `language`.
    pub column: &'static str,
    pub before: Option<String>,
    pub after: String,
}

/// A table in a workbook: a sheet name, its column headers and rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub name: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// The monthly letter to an employer, "Vedrørende kontingenttrekk for våre
/// medlemmer" (SPEC section 11, seed 002): the members to start and to stop
/// deducting union dues for, with the dates. Numbered per employer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeductionLetter {
    pub employer_id: i64,
    /// The letter's number at this employer: 1, 2, …
    pub number: i64,
    /// The day it is written.
    pub date: chrono::NaiveDate,
    /// The language it is written in (the organisation's).
    pub language: crate::facts::Language,
    pub employer_name: String,
    pub employer_orgnr: String,
    /// Members to start deducting for.
    pub start: Vec<DeductionLine>,
    /// Members to stop deducting for.
    pub stop: Vec<DeductionLine>,
}

/// One member in a [`DeductionLetter`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeductionLine {
    pub member_no: Option<String>,
    pub name: String,
    /// `YYYY-MM-DD`, so the employer can tell two people of one name apart.
    pub birth_date: Option<String>,
    /// new-member, moved-in (start); resigned, left, moved-away (stop).
    pub why: String,
    /// From this day.
    pub from: chrono::NaiveDate,
}

/// The letter a newly approved rep hands to the employer: everything it
/// says, looked up when the change was decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewRepLetter {
    /// The reference of the approved change, so a question from the
    /// employer can be traced back.
    pub reference: String,
    /// The letter's date (the day it was approved).
    pub date: chrono::NaiveDate,
    /// The language the letter is written in (the organisation's).
    pub language: Language,
    pub employer_name: String,
    pub employer_orgnr: Option<String>,
    pub rep_name: String,
    /// `tillitsvalgt` or `vara`; anything else is printed as given.
    pub role: String,
    /// `arbeidsgiver`, `mellomniva` or `arbeidssted`.
    pub level: String,
    /// The rep's workplace or mid-level, when the level is below the employer.
    pub workplace: Option<String>,
    /// The unit the rep is elected for.
    pub unit: Option<String>,
    /// The first day the rep holds the role.
    pub valid_from: chrono::NaiveDate,
    /// The rep this one replaces, if any.
    pub previous_rep: Option<String>,
}

/// A file to attach, as data; rendered when the plan is applied.
#[derive(Debug, Clone, PartialEq)]
pub enum Attach {
    /// An .xlsx workbook, one sheet per table.
    Workbook { file: String, sheets: Vec<Table> },
    /// The new rep's PDF letter.
    NewRepLetter {
        file: String,
        letter: Box<NewRepLetter>,
    },
    /// A letter to an employer as kept (its PDF), by employer and number.
    KeptLetter {
        file: String,
        employer_id: i64,
        number: i64,
    },
}

impl Attach {
    /// The file name the recipient sees.
    pub fn file(&self) -> &str {
        match self {
            Attach::Workbook { file, .. }
            | Attach::NewRepLetter { file, .. }
            | Attach::KeptLetter { file, .. } => file,
        }
    }
}

/// A reply to queue. The reference and the subject are filled in when the
/// plan is applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// Recipient address.
    pub to: String,
    /// Template name under `templates/<language>/`, without `.txt`.
    pub template: &'static str,
    pub language: Language,
    /// Values the template reads (user input included: escaped in HTML).
    pub vars: serde_json::Value,
    /// Wipe the stored body once sent (it holds a code).
    pub secret: bool,
    /// Files to attach.
    pub attachments: Vec<Attach>,
}

impl Reply {
    /// A reply without attachments whose body may be kept.
    pub fn new(
        to: &str,
        template: &'static str,
        language: Language,
        vars: serde_json::Value,
    ) -> Reply {
        Reply {
            to: to.to_string(),
            template,
            language,
            vars,
            secret: false,
            attachments: Vec::new(),
        }
    }
}

/// Everything handling one message does.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// `X-Postbud-Kind` / messages.kind; "silent" and "bounce" for the
    /// unanswered kinds.
    pub kind: &'static str,
    pub result: Outcome,
    pub actions: Vec<Action>,
    pub replies: Vec<Reply>,
    /// True when the message needs a reference even without a reply.
    pub needs_ref: bool,
    /// The reference the mail carries when the plan is about something
    /// that has one already (a pending change decided); else the message
    /// gets a new one.
    pub reference: Option<String>,
}

impl Plan {
    /// A plan that answers with one reply.
    pub fn reply(kind: &'static str, result: Outcome, reply: Reply) -> Plan {
        Plan {
            kind,
            result,
            actions: Vec::new(),
            replies: vec![reply],
            needs_ref: true,
            reference: None,
        }
    }

    /// A plan that records the message and does nothing else.
    pub fn record(kind: &'static str) -> Plan {
        Plan {
            kind,
            result: Outcome::Ok,
            actions: Vec::new(),
            replies: Vec::new(),
            needs_ref: false,
            reference: None,
        }
    }
}

/// One line per action and reply, for `--dry-run` and logs. Codes are
/// never printed.
impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} ({})", self.kind, self.result.as_str())?;
        for a in &self.actions {
            writeln!(f, "  {a}")?;
        }
        for r in &self.replies {
            write!(
                f,
                "  mail to {} ({}, {})",
                r.to,
                r.template,
                r.language.code()
            )?;
            for a in &r.attachments {
                write!(f, " + {}", a.file())?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::OpenTicket { topic, subject, .. } => {
                write!(f, "open a ticket ({topic}): «{subject}»")
            }
            Action::IssueCode { email, purpose, .. } => {
                write!(f, "issue a {} code to {email}", purpose.as_str())
            }
            Action::UseCode { id } => write!(f, "use code {id}"),
            Action::WrongCode { id } => write!(f, "count a wrong try against code {id}"),
            Action::WrongGuess {
                email,
                purpose,
                kill,
            } => write!(
                f,
                "count a wrong {} guess from {email}{}",
                purpose.as_str(),
                if *kill {
                    " (the last: its codes die)"
                } else {
                    ""
                }
            ),
            Action::RecordActivity { peer_id, year } => {
                write!(f, "record peer {peer_id} active in {year}")
            }
            Action::RegisterPeer(p) => write!(f, "register peer {} <{}>", p.name, p.email),
            Action::Pending(p) => write!(f, "ask the office: {}", p.summary),
            Action::Contact {
                email,
                employer_id,
                create,
                active,
                ..
            } => {
                let what = match (create, active) {
                    (true, _) => "add",
                    (_, Some(true)) => "activate",
                    (_, Some(false)) => "deactivate",
                    _ => "change",
                };
                write!(f, "{what} contact {email} of employer {employer_id}")
            }
            Action::NotDeducted {
                person_id,
                status,
                period,
                ..
            } => write!(f, "record {status} for person {person_id} in {period}"),
            Action::Declare { email } => write!(f, "record the declaration of {email}"),
            Action::Submission(s) => write!(
                f,
                "record {} file(s) for employer {} in {}",
                s.files.len(),
                s.employer_id,
                s.period
            ),
            Action::Decide {
                pending_id,
                approve,
                on,
                scheduled,
                ..
            } => match (approve, scheduled) {
                (true, true) => write!(f, "schedule pending change {pending_id} for {on}"),
                (true, false) => write!(f, "carry out pending change {pending_id}"),
                (false, _) => write!(f, "reject pending change {pending_id}"),
            },
            Action::NeutralReplied { email, day } => {
                write!(f, "note the neutral reply to {email} on {day}")
            }
            Action::MarkBouncing { emails } => write!(f, "mark {} as bouncing", emails.join(", ")),
            Action::UpdatePerson { person_id, changes } => write!(
                f,
                "change {} of person {person_id}",
                changes
                    .iter()
                    .map(|c| c.column)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Action::LinkAddress { person_id, email } => {
                write!(f, "link {email} to person {person_id}")
            }
            Action::UnlinkAddress { person_id, email } => {
                write!(f, "remove {email} from person {person_id}")
            }
            Action::Undo { pending_id } => write!(f, "undo pending change {pending_id}"),
            Action::RecordLetter { letter, changes } => write!(
                f,
                "keep letter {} to {} ({}): {} to start, {} to stop ({} changes)",
                letter.number,
                letter.employer_name,
                letter.employer_orgnr,
                letter.start.len(),
                letter.stop.len(),
                changes.len()
            ),
            Action::Purge {
                letters_before,
                codes_before,
                raw_before,
            } => write!(
                f,
                "delete letters written before {}, codes used or expired before {}, raw bodies of messages handled before {}",
                letters_before.format("%Y-%m-%d"),
                codes_before.format("%Y-%m-%d %H:%M"),
                raw_before.format("%Y-%m-%d")
            ),
        }
    }
}
