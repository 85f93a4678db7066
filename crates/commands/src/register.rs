//! What decisions read from the register: the [`Register`] trait, one query
//! per kind of read, and the types those queries return. The store
//! implements it over SQLite; tests implement it with plain values. Every
//! query is limited by its arguments (a rep's scope, a contact's
//! employers): nothing outside them is ever returned.

use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};
use postbud_core::registration::Found;
use serde::Serialize;

use crate::facts::{Language, Scope};
use crate::plan::Change;

/// The register as decisions read it.
pub trait Register {
    /// Peers in the scope's units, with their activity years.
    fn peers(&self, scope: &Scope) -> Result<Vec<PeerBrief>>;
    /// Active members in the scope, and the workplaces of their employers
    /// and of the scope's employers.
    fn members(&self, scope: &Scope) -> Result<MembersInScope>;
    /// A pending change by reference (any status), with who to tell.
    fn pending(&self, reference: &str, today: NaiveDate) -> Result<Option<PendingBrief>>;
    /// For each registration string: its chapter, and whether its form or
    /// its person is registered already.
    fn registrations(&self, scope: &Scope, found: &[Found]) -> Result<Vec<RegistrationCheck>>;
    /// The contacts of `employers`, active and deactivated.
    fn contacts(&self, employers: &[i64]) -> Result<Vec<ContactBrief>>;
    /// The periods `employers` submitted since `since`.
    fn submitted(&self, employers: &[i64], since: DateTime<Utc>) -> Result<Vec<Submitted>>;
    /// Active members registered at each of `employers`.
    fn employer_members(&self, employers: &[i64]) -> Result<Vec<(i64, PersonRef)>>;
    /// What the register holds for a submission from `employer` for
    /// `period` naming the national ids `ids`.
    fn submission(&self, employer: i64, period: &str, ids: &[&str]) -> Result<SubmissionReads>;
    /// The live codes of `purpose` for `email` (unused, unexpired).
    fn live_codes(&self, email: &str, purpose: &str, now: DateTime<Utc>)
    -> Result<Vec<StoredCode>>;
    /// The raw bytes of a message handled before (one waiting for a code).
    fn message_raw(&self, row: i64) -> Result<Option<Vec<u8>>>;
    /// How many codes of `purpose` `email` holds, and how many wrong
    /// guesses it made at them in the 24 hours before `now`.
    fn code_guard(&self, email: &str, purpose: &str, now: DateTime<Utc>) -> Result<CodeGuard>;
    /// The figures of the digest and `postbud stats`: the 24 hours before
    /// `now`, and what waits (SPEC section 11).
    fn digest(&self, now: DateTime<Utc>) -> Result<DigestFigures>;
    /// The letters of `employers` written since `since`, newest first.
    fn letters(&self, employers: &[i64], since: DateTime<Utc>) -> Result<Vec<LetterRow>>;
    /// The units (chapters, regions) of a scope, by name.
    fn units(&self, scope: &Scope) -> Result<Vec<UnitBrief>>;
    /// Everything about one person a member may see of themself.
    fn person(&self, id: i64) -> Result<Option<PersonDetail>>;
    /// The person an address belongs to, if any.
    fn address_owner(&self, email: &str) -> Result<Option<i64>>;
    /// Employers whose organisation number or name (compared as a name
    /// key) is `named`.
    fn employers_named(&self, named: &str) -> Result<Vec<EmployerRef>>;
    /// The workplaces of an employer.
    fn workplaces(&self, employer: i64) -> Result<Vec<WorkplaceBrief>>;
    /// Current reps and deputies at the person's employer, mid-level and
    /// workplace, and of their chapter, on `today`.
    fn reps_of(&self, person: &PersonDetail, today: NaiveDate) -> Result<Vec<RepBrief>>;
    /// Changes asked for by any of the person's addresses, newest first.
    fn pending_of(&self, person: i64) -> Result<Vec<PendingRow>>;
    /// Everything else the register holds on a person (SPEC section 5,
    /// `MINE DATA`), messages and replies since `since`.
    fn person_data(&self, person: i64, since: DateTime<Utc>) -> Result<PersonData>;
}

/// What the digest shows (and `postbud stats`), each list at most
/// [`DIGEST_LIST_MAX`] long with its full count beside it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DigestFigures {
    /// Messages handled in the 24 hours: outcome, kind, result, count.
    pub messages: Vec<Counted>,
    pub messages_total: i64,
    /// Replies and letters sent in the 24 hours, and those waiting to go.
    pub sent: i64,
    pub queued: i64,
    /// Mail that failed, or whose delivery is uncertain (not resolved).
    pub failed: Vec<FailedMail>,
    pub failed_total: i64,
    /// Pending changes waiting for an admin, oldest first (not PDFs, not
    /// members deducted elsewhere: those are below).
    pub pending: Vec<WaitingChange>,
    pub pending_total: i64,
    /// Deduction lists sent as PDF, for an admin to handle by hand.
    pub pdfs: Vec<WaitingChange>,
    /// Members on a list from an employer other than their registered one.
    pub deducted_elsewhere: Vec<WaitingChange>,
    /// Approved changes that take effect on a later day.
    pub scheduled: Vec<WaitingChange>,
    /// Open tickets, oldest first.
    pub tickets: Vec<OpenTicket>,
    pub tickets_total: i64,
    /// Messages quarantined in the 24 hours, with the reason, and how many
    /// wait in the quarantine in all.
    pub quarantined: Vec<QuarantinedBrief>,
    pub quarantine_total: i64,
    /// Addresses that bounced in the 24 hours: (address, bounces in all).
    pub bouncing: Vec<(String, i64)>,
    /// Addresses that ran out of confirmation guesses in the 24 hours:
    /// (address, purpose).
    pub locked: Vec<(String, String)>,
    /// Messages held over the reply limit in the 24 hours: (sender, subject).
    pub held: Vec<(String, String)>,
}

/// The longest list a digest shows of one kind.
pub const DIGEST_LIST_MAX: usize = 100;

/// A count of messages by outcome, kind and result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Counted {
    pub outcome: String,
    pub kind: String,
    pub result: String,
    pub count: i64,
}

/// Mail that did not go out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedMail {
    /// Its outbox row (`postbud outbox resend <id>`).
    pub id: i64,
    pub to: String,
    pub kind: String,
    pub reference: Option<String>,
    /// failed or unknown
    pub state: String,
    pub error: Option<String>,
    pub created_at: String,
}

/// A change waiting (or scheduled), with its reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaitingChange {
    pub reference: String,
    pub kind: String,
    pub requested_by: String,
    pub created_at: String,
    pub summary: String,
    /// For a scheduled change: the day it takes effect.
    pub effective_on: Option<String>,
}

/// An open ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenTicket {
    pub reference: String,
    pub sender: String,
    pub subject: String,
    pub topic: String,
    pub created_at: String,
}

/// A quarantined message: its row (for `postbud quarantine show`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuarantinedBrief {
    pub id: i64,
    pub sender: Option<String>,
    pub subject: Option<String>,
    pub reason: String,
    pub at: String,
}

/// A letter as `BREV` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LetterRow {
    pub employer_id: i64,
    pub employer: String,
    pub orgnr: String,
    pub number: i64,
    pub subject: String,
    /// `YYYY-MM-DD`
    pub date: String,
}

/// An employer's changes that no letter has told yet: what the monthly
/// letter needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetterDue {
    pub employer_id: i64,
    pub employer: String,
    pub orgnr: String,
    /// The next letter's number at this employer.
    pub number: i64,
    /// (employer_changes row, start?, the line).
    pub changes: Vec<(i64, bool, crate::plan::DeductionLine)>,
    /// Active contacts with the letters duty who accepted the declaration.
    pub contacts: Vec<String>,
}

/// What a reminder to one employer needs (SPEC section 11).
#[derive(Debug, Clone, PartialEq)]
pub struct ReminderDue {
    pub employer_id: i64,
    pub employer: String,
    pub orgnr: String,
    /// The period, `YYYY-MM`.
    pub period: String,
    /// No list came for the period.
    pub missing: bool,
    /// Members registered here, not on the period's list, whose status no
    /// one has answered.
    pub unanswered: Vec<PersonRef>,
    /// Active contacts with the reminders duty who accepted the declaration.
    pub contacts: Vec<String>,
}

/// What the retention job would delete (SPEC section 11).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RetentionCounts {
    /// Letters older than six months.
    pub letters: i64,
    /// Codes used, or expired.
    pub codes: i64,
    /// Raw bodies of messages older than `raw_body_days`.
    pub raw_bodies: i64,
    /// Marks of messages handled, as old as the raw bodies.
    pub in_hand: i64,
}

/// An employer by number and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EmployerRef {
    pub id: i64,
    pub orgnr: String,
    pub name: String,
}

/// One of a person's mail addresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AddressRow {
    pub email: String,
    pub verified: bool,
    pub added_at: String,
}

/// A person as they see themself.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PersonDetail {
    pub id: i64,
    pub member_no: Option<String>,
    pub name: String,
    pub birth_date: Option<String>,
    pub national_id: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    pub language: Option<String>,
    pub employer_id: Option<i64>,
    pub employer: Option<String>,
    pub orgnr: Option<String>,
    pub workplace_id: Option<i64>,
    pub workplace: Option<String>,
    pub midlevel: Option<String>,
    pub position: Option<String>,
    pub percent: Option<String>,
    pub permanent: Option<bool>,
    pub unit_id: Option<i64>,
    pub unit: Option<String>,
    /// active, resigned, …
    pub status: String,
    pub status_from: Option<String>,
    pub addresses: Vec<AddressRow>,
}

/// A rep or deputy as a member sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepBrief {
    pub name: Option<String>,
    pub email: String,
    pub phone: Option<String>,
    /// tillitsvalgt, vara, koordinator
    pub role: String,
    /// arbeidsgiver, mellomniva, arbeidssted, enhet
    pub level: String,
    /// What the level is: the employer, mid-level, workplace or chapter.
    pub at: String,
}

/// A pending change as its requester sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PendingRow {
    pub reference: String,
    pub kind: String,
    pub summary: String,
    pub status: String,
    pub created_at: String,
    pub decided_at: Option<String>,
}

/// The rest of what the register holds on a person, for `MINE DATA`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PersonData {
    /// Roles: (role, level, at, from, to).
    pub roles: Vec<Vec<String>>,
    /// Peer: (peer number, chapter, registered, active years).
    pub peer: Vec<Vec<String>>,
    pub pending: Vec<PendingRow>,
    /// Tickets: (reference, subject, status, created).
    pub tickets: Vec<Vec<String>>,
    /// Messages: (received, from, subject, kind, result, reference).
    pub messages: Vec<Vec<String>>,
    /// Replies: (created, to, subject, kind, state).
    pub replies: Vec<Vec<String>>,
    /// Employer contact roles: (employer, duties, declaration, active).
    pub contact_for: Vec<Vec<String>>,
}

/// What guards against guessing one address's codes of one purpose (SPEC
/// section 10, "Guessing").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CodeGuard {
    /// Live codes (unused, unexpired).
    pub live: i64,
    /// Wrong guesses in the last 24 hours.
    pub wrong: i64,
}

/// A stored code, as checking sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCode {
    pub id: i64,
    pub salt: String,
    pub hash: String,
    pub expires_at: DateTime<Utc>,
    pub used: bool,
    pub tries: i64,
    /// For a confirmation: the row of the message it carries out.
    pub message_row: Option<i64>,
}

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

/// Members in a rep's scope and the workplaces they may name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MembersInScope {
    pub members: Vec<MemberBrief>,
    pub workplaces: Vec<WorkplaceBrief>,
}

/// A pending change, for an admin deciding it.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingBrief {
    pub id: i64,
    pub reference: String,
    pub requested_by: String,
    /// The person the requesting address belongs to, if any.
    pub requester: Option<i64>,
    pub summary: String,
    pub change: Change,
    pub status: String,
    /// For a new rep: the addresses holding that office now (told when it
    /// changes hands), with their languages.
    pub holders: Vec<(String, Option<Language>)>,
    /// The language of whoever asked for the change, if known.
    pub requester_language: Option<Language>,
    /// For a new rep: the new rep's language, if known.
    pub rep_language: Option<Language>,
}

/// A unit by name, and whether the sender's scope holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitBrief {
    pub id: i64,
    pub name: String,
    pub in_scope: bool,
}

/// What the register already holds for one registration string, as far as
/// the sender may know it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RegistrationCheck {
    /// The chapter named, if registered.
    pub unit: Option<UnitBrief>,
    /// A peer in the sender's scope registered from this form, or with the
    /// same address, or the same name and phone: its peer number.
    pub known_in_scope: Option<String>,
    /// The form or the person is registered outside the sender's scope (a
    /// member, or another chapter's peer). Never told to the sender.
    pub known_elsewhere: bool,
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

/// A person a deduction list or a `STATUS` line may name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonRef {
    pub id: i64,
    pub name: String,
    pub member_no: Option<String>,
    pub birth_date: Option<String>,
}

/// A member registered at another employer whose id is in a list: for
/// the office only, never for the employer.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberElsewhere {
    pub id: i64,
    pub name: String,
    pub member_no: Option<String>,
    /// The employer the member is registered at, if any.
    pub employer: Option<String>,
}

/// What the register holds for one employer and period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SubmissionReads {
    /// Members registered at the employer (or whose employment there ended
    /// in the last 12 months) by national id, for the ids in the lists.
    pub people: std::collections::HashMap<String, PersonRef>,
    /// Active members registered elsewhere by national id, for the ids in
    /// the lists that are not in `people`.
    pub elsewhere: std::collections::HashMap<String, MemberElsewhere>,
    /// People already in a list for this employer and period.
    pub earlier: std::collections::HashSet<i64>,
    /// Files already received for this employer and period: sha256 -> date.
    pub earlier_files: std::collections::HashMap<String, String>,
    /// Active members registered at the employer.
    pub members: Vec<PersonRef>,
    /// Active contacts of the employer responsible for receipts who have
    /// accepted the confidentiality declaration.
    pub receipt_to: Vec<String>,
}
