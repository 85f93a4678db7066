//! A plan: what handling one message will do, as data. `decide` produces it
//! without touching the register, the clock or the network; `store::apply`
//! carries it out in one transaction.

use crate::config::Language;
use chrono::{DateTime, Utc};

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
}

impl CodePurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            CodePurpose::Login => "login",
            CodePurpose::Confirm => "confirm",
            CodePurpose::Accept => "accept",
        }
    }
}

/// A change that waits for an admin (`GODKJENN` / `AVVIS`).
#[derive(Debug, Clone, PartialEq)]
pub struct PendingChange {
    /// member-left, member-moved, workplace-new, workplace-rename,
    /// workplace-close, new-rep, registration
    pub kind: &'static str,
    /// One line for admins: "Kari Nordmann (50001) har sluttet 2026-11-30".
    pub summary: String,
    /// What approving it does, as data.
    pub payload: serde_json::Value,
}

/// A peer to register (from a registration string, or an approved one).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NewPeer {
    pub form_id: Option<String>,
    pub unit_id: i64,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub birth_date: Option<String>,
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
    /// Store a hashed one-time code. `for_this_message`: confirming it
    /// carries out the message being handled (its row is the payload).
    IssueCode {
        email: String,
        purpose: CodePurpose,
        salt: String,
        hash: String,
        expires_at: DateTime<Utc>,
        for_this_message: bool,
    },
    /// A code was used (a confirmation carried out).
    UseCode { id: i64 },
    /// A peer was active in a year.
    RecordActivity { peer_id: i64, year: i32 },
    /// Register a new peer.
    RegisterPeer(NewPeer),
    /// A change for an admin to approve; gets its own reference.
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
    Submission(crate::commands::deduction::SubmissionRecord),
    /// An admin approved (carry it out) or rejected a pending change.
    Decide {
        pending_id: i64,
        approve: bool,
        reason: Option<String>,
    },
    /// Remember that an unknown address got its neutral reply today.
    NeutralReplied { email: String, day: String },
    /// These addresses bounce.
    MarkBouncing { emails: Vec<String> },
}

/// A reply to queue. The reference and the subject are filled in by `apply`.
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
    /// Files attached: (file name, MIME type, bytes).
    pub attachments: Vec<(String, String, Vec<u8>)>,
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
        }
    }
}
