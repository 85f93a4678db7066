//! What a command needs from the register beyond `Facts`, read before
//! `decide` (by `store::snapshot`), always limited to the sender's scope.

use serde::Serialize;

/// A peer as reps see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeerBrief {
    pub id: i64,
    pub peer_no: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub unit: String,
    /// Years with registered activity, ascending.
    pub years: Vec<i32>,
}

/// A member as reps see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemberBrief {
    pub id: i64,
    pub member_no: Option<String>,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub birth_date: Option<String>,
    pub employer_id: Option<i64>,
    pub employer: Option<String>,
    pub workplace: Option<String>,
    pub midlevel: Option<String>,
    pub position: Option<String>,
    pub permanent: Option<bool>,
}

/// A workplace of an employer in scope.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkplaceBrief {
    pub id: i64,
    pub employer_id: i64,
    pub employer: String,
    pub orgnr: String,
    pub name: String,
    pub midlevel: Option<String>,
    pub open: bool,
}

/// A pending change, for an admin deciding it.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingBrief {
    pub id: i64,
    pub reference: String,
    pub kind: String,
    pub requested_by: String,
    pub summary: String,
    pub payload: serde_json::Value,
    pub status: String,
    /// For a new rep: the addresses holding that office now (told when it
    /// changes hands), with their languages.
    pub holders: Vec<(String, Option<crate::config::Language>)>,
    /// The language of whoever asked for the change, if known.
    pub requester_language: Option<crate::config::Language>,
    /// For a new rep: the new rep's language, if known.
    pub rep_language: Option<crate::config::Language>,
}

/// A unit by name, and whether the sender's scope holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitBrief {
    pub id: i64,
    pub name: String,
    pub in_scope: bool,
}

/// What the register already holds for one registration string.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RegistrationCheck {
    /// The chapter named, if registered.
    pub unit: Option<UnitBrief>,
    /// The form id was registered before (its peer number).
    pub form_known: Option<String>,
    /// A peer with the same address, or the same name and phone.
    pub person_known: Option<String>,
}

/// An employer contact (SPEC section 2, seed 003).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContactBrief {
    pub email: String,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub employer_id: i64,
    pub orgnr: String,
    pub employer: String,
    /// `receipts|letters|reminders`
    pub duties: String,
    /// The date the confidentiality declaration was accepted.
    pub declaration: Option<String>,
    pub active: bool,
}

/// The snapshot for one message.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Snapshot {
    #[default]
    None,
    Peers(Vec<PeerBrief>),
    Members {
        members: Vec<MemberBrief>,
        workplaces: Vec<WorkplaceBrief>,
    },
    Pending(Option<PendingBrief>),
    /// One check per registration string found, in order.
    Registrations(Vec<RegistrationCheck>),
    /// Every contact of the sender's employers, active or not.
    Contacts(Vec<ContactBrief>),
    /// An employer contact's own employers' submissions and members.
    Employer(super::employer::EmployerSnapshot),
    /// A deduction list: who and what it is for, and what the register holds.
    Submission {
        target: super::deduction::Target,
        snapshot: super::deduction::SubmissionSnapshot,
    },
}
