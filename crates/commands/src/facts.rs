//! Who the sender is and what the decisions may know besides the command:
//! [`Facts`] about the sender (read from the register before deciding),
//! [`Settings`] from the config, [`Language`], and [`Fresh`] randomness.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Languages a reply can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Nb,
    Nn,
    Da,
    En,
}

impl Language {
    /// Every language, in the order of the template directories.
    pub const ALL: [Language; 4] = [Language::Nb, Language::Nn, Language::Da, Language::En];

    /// The template directory name.
    pub fn code(self) -> &'static str {
        match self {
            Language::Nb => "nb",
            Language::Nn => "nn",
            Language::Da => "da",
            Language::En => "en",
        }
    }

    /// Parses "nb", "nn", "da", "en" (case-insensitive; "no" is nb, "dk" da).
    pub fn parse(s: &str) -> Option<Language> {
        match s.trim().to_ascii_lowercase().as_str() {
            "nb" | "no" => Some(Language::Nb),
            "nn" => Some(Language::Nn),
            "da" | "dk" => Some(Language::Da),
            "en" => Some(Language::En),
            _ => None,
        }
    }
}

/// What the register knows about the sender, read before deciding.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// The sender's address, lower-cased.
    pub sender: String,
    /// The person this address is registered to, if any.
    pub person: Option<Person>,
    /// Listed in `organisation.admins`, or holds the admin role.
    pub is_admin: bool,
    /// Holds a current rep/deputy/coordinator role.
    pub is_rep: bool,
    /// An active employer contact.
    pub is_contact: bool,
    /// Replies queued to this address in the last hour.
    pub replies_last_hour: i64,
    /// Login codes issued to this address in the last hour.
    pub codes_last_hour: i64,
    /// An unknown address already got its neutral code reply today.
    pub neutral_today: bool,
    /// The sender is verified (SPEC section 10), or confirmed the command
    /// with `BEKREFT <code>`.
    pub verified: bool,
    /// What this sender may see and change as a rep (empty for others).
    pub scope: Scope,
    /// The employers this sender is an active contact for.
    pub employers: Vec<EmployerBrief>,
}

impl Facts {
    /// A rep: a current role, or a grant that gives a scope.
    pub fn is_rep(&self) -> bool {
        self.is_rep || !self.scope.is_empty()
    }

    /// The language to answer the sender in.
    pub fn language(&self, s: &Settings) -> Language {
        self.person
            .as_ref()
            .and_then(|p| p.language)
            .unwrap_or(s.language)
    }

    /// The employer a message is about, among the sender's: the one whose
    /// organisation number `named` gives (from the subject, or a column of a
    /// list), or the only one. `None` when that leaves a choice.
    pub fn employer_named(&self, named: Option<&str>) -> Option<&EmployerBrief> {
        match (named, self.employers.as_slice()) {
            (Some(o), _) => self.employers.iter().find(|e| e.orgnr == o),
            (None, [only]) => Some(only),
            _ => None,
        }
    }
}

/// An employer, as its contacts see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmployerBrief {
    pub id: i64,
    pub orgnr: String,
    pub name: String,
    /// When the sender, as this employer's contact, accepted the
    /// confidentiality declaration.
    pub declared: Option<String>,
}

/// A rep's scope (SPEC section 10): units (with the units below them),
/// employers, workplaces and mid-levels from current roles, plus explicit
/// grants. Everything else is invisible to the rep.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scope {
    pub units: Vec<i64>,
    pub employers: Vec<i64>,
    pub workplaces: Vec<i64>,
    /// (employer id, mid-level name)
    pub midlevels: Vec<(i64, String)>,
}

impl Scope {
    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
            && self.employers.is_empty()
            && self.workplaces.is_empty()
            && self.midlevels.is_empty()
    }
}

/// The registered person behind an address.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    pub id: i64,
    pub name: String,
    pub language: Option<Language>,
    /// A member (has a member number), not only a peer.
    pub member: bool,
}

/// The parts of the config decisions read.
#[derive(Debug, Clone)]
pub struct Settings {
    pub org_name: String,
    /// postbud's own address, lower-cased.
    pub org_address: String,
    /// The organisation's language: replies to people whose language is
    /// not known, and letters to employers.
    pub language: Language,
    pub code_ttl_minutes: i64,
    pub max_replies_per_hour: i64,
    pub max_attachments: usize,
    pub timezone: chrono_tz::Tz,
    /// `security.trusted_authserv_id`
    pub trusted_authserv_id: Option<String>,
    /// The key registration strings are signed with.
    pub registration_secret: Option<String>,
    /// Limits for reading deduction lists.
    pub list_limits: postbud_core::lists::Limits,
    /// Bytes a message may have (`limits.max_message_bytes`).
    pub max_message_bytes: u64,
    /// Rows in all the lists of one message.
    pub max_rows_per_message: u64,
    /// MIME nesting and HTML read per part.
    pub bounds: postbud_core::message::Bounds,
}

impl Settings {
    /// The organisation's calendar date at `now`: the one place where a
    /// time becomes a date.
    pub fn today(&self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.timezone).date_naive()
    }

    /// Settings for tests: Norwegian Bokmål, Oslo, the SPEC defaults.
    pub fn for_tests() -> Settings {
        Settings {
            org_name: "Forbundet".into(),
            org_address: "post@forbund.example".into(),
            language: Language::Nb,
            code_ttl_minutes: 15,
            max_replies_per_hour: 20,
            max_attachments: 20,
            timezone: chrono_tz::Europe::Oslo,
            trusted_authserv_id: Some("mx.forbund.example".into()),
            registration_secret: None,
            list_limits: Default::default(),
            max_message_bytes: 26_214_400,
            max_rows_per_message: 1_000_000,
            bounds: Default::default(),
        }
    }
}

/// Randomness, passed in so decisions are testable. The real one is a
/// CSPRNG; tests pin its seed.
pub trait Fresh {
    /// A 6-digit one-time code.
    fn code(&mut self) -> String;
    /// A salt for hashing a code.
    fn salt(&mut self) -> String;
}
