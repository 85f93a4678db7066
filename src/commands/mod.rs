//! One file per command or workflow, each a pure `decide`; this file is the
//! dispatcher from a classified message to a `Plan` (SPEC sections 4 and 5).
//! Nothing here reads the register, the clock or the network: what it needs
//! comes in as `Facts`, `Settings`, `now` and `Fresh`.

pub mod code;
pub mod confirm;
pub mod help;
pub mod support;

use crate::config::{Config, Language};
use crate::plan::{Action, Plan};
use chrono::{DateTime, Utc};
use postbud_core::classify::{Keyword, Kind};
use postbud_core::message::Incoming;

/// What the register knows about the sender, read before deciding.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// The sender's address, lower-cased.
    pub sender: String,
    /// The person this address is registered to, if any.
    pub person: Option<Person>,
    /// Listed in `organisation.admins`.
    pub is_admin: bool,
    /// Holds a current rep/deputy/coordinator role.
    pub is_rep: bool,
    /// An active employer contact.
    pub is_contact: bool,
    /// Replies queued to this address in the last hour.
    pub replies_last_hour: i64,
    /// Codes issued to this address in the last hour.
    pub codes_last_hour: i64,
    /// An unknown address already got its neutral code reply today.
    pub neutral_today: bool,
}

/// The registered person behind an address.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    pub id: i64,
    pub name: String,
    pub language: Option<Language>,
}

/// The parts of the config decisions read.
#[derive(Debug, Clone)]
pub struct Settings {
    pub org_name: String,
    pub org_address: String,
    pub language: Language,
    pub code_ttl_minutes: i64,
    pub max_replies_per_hour: i64,
    pub max_attachments: usize,
    pub timezone: chrono_tz::Tz,
}

impl Settings {
    pub fn from_config(c: &Config) -> Settings {
        Settings {
            org_name: c.organisation.name.clone(),
            org_address: c.organisation.address.to_lowercase(),
            language: c.organisation.language,
            code_ttl_minutes: c.security.code_ttl_minutes,
            max_replies_per_hour: c.security.max_replies_per_hour,
            max_attachments: c.limits.max_attachments,
            timezone: c
                .organisation
                .timezone
                .parse()
                .unwrap_or(chrono_tz::Europe::Oslo),
        }
    }
}

/// Randomness, passed in so decisions are testable. The real one is a CSPRNG.
pub trait Fresh {
    /// A 6-digit one-time code.
    fn code(&mut self) -> String;
    /// A salt for hashing a code.
    fn salt(&mut self) -> String;
}

/// Codes and salts from the thread-local CSPRNG (ChaCha, seeded by the OS).
pub struct OsFresh;

impl Fresh for OsFresh {
    fn code(&mut self) -> String {
        format!("{:06}", rand::random_range(0..1_000_000u32))
    }
    fn salt(&mut self) -> String {
        format!("{:032x}", rand::random::<u128>())
    }
}

/// The language to answer the sender in.
pub fn language(f: &Facts, s: &Settings) -> Language {
    f.person
        .as_ref()
        .and_then(|p| p.language)
        .unwrap_or(s.language)
}

/// Decides what handling `msg`, classified as `kind`, does.
pub fn decide(
    f: &Facts,
    msg: &Incoming,
    kind: &Kind,
    s: &Settings,
    now: DateTime<Utc>,
    fresh: &mut dyn Fresh,
) -> Plan {
    if msg.attachments.len() > s.max_attachments
        && !matches!(kind, Kind::Silent(_) | Kind::Bounce { .. })
    {
        return support::too_many_attachments(f, msg, s);
    }
    match kind {
        Kind::Silent(_) => Plan::record("silent"),
        Kind::Bounce { failed } => {
            let mut p = Plan::record("bounce");
            if !failed.is_empty() {
                p.actions.push(Action::MarkBouncing {
                    emails: failed.clone(),
                });
            }
            p
        }
        Kind::Confirm { word, code } => confirm::decide(f, *word, code, s),
        Kind::Command {
            keyword: Keyword::Kode,
            ..
        } => code::decide(f, s, now, fresh),
        Kind::Command {
            keyword: Keyword::Hjelp,
            ..
        } => help::decide(f, s),
        Kind::Command { keyword, .. } => support::decide(f, msg, s, keyword.kind()),
        Kind::Registration => support::decide(f, msg, s, "registration"),
        Kind::Deduction => support::decide(f, msg, s, "submission"),
        Kind::Support => support::decide(f, msg, s, "support"),
    }
}
