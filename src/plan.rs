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
}

impl CodePurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            CodePurpose::Login => "login",
        }
    }
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
    /// Store a hashed one-time code.
    IssueCode {
        email: String,
        purpose: CodePurpose,
        salt: String,
        hash: String,
        expires_at: DateTime<Utc>,
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
