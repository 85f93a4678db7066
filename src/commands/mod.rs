//! One file per command or workflow, each a pure `decide`; this file is the
//! dispatcher from a classified message to a `Plan` (SPEC sections 4 and 5).
//! Nothing here reads the register, the clock or the network: what it needs
//! comes in as `Facts`, `Settings`, `now` and `Fresh`.

pub mod activity;
pub mod changes;
pub mod code;
pub mod confirm;
pub mod contacts;
pub mod decisions;
pub mod deduction;
pub mod employer;
pub mod help;
pub mod lists;
pub mod registration;
pub mod snapshot;
pub mod support;
pub mod trust;

use crate::config::{Config, Language};
use crate::plan::{Action, Outcome, Plan, Reply};
use chrono::{DateTime, Utc};
use postbud_core::classify::{Keyword, Kind};
use postbud_core::message::Incoming;
use postbud_core::registration::Found;
use snapshot::Snapshot;

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
    /// The message's sender is verified (`trust::verified`), or confirmed
    /// the command with `BEKREFT <code>`.
    pub verified: bool,
    /// What this sender may see and change as a rep (empty for others).
    pub scope: Scope,
    /// The employers this sender is an active contact for.
    pub employers: Vec<EmployerBrief>,
}

impl Facts {
    /// The employer a message is about, among the sender's: the one whose
    /// organisation number the subject (or else `fallback`, e.g. a column of
    /// the list) names, or the only one. `None` when that leaves a choice.
    pub fn employer_named(
        &self,
        subject: &str,
        fallback: Option<String>,
    ) -> Option<&EmployerBrief> {
        let in_subject = subject
            .split(|c: char| !c.is_ascii_alphanumeric())
            .chain(std::iter::once(subject))
            .find_map(|w| {
                postbud_core::lists::check_orgnr(w)
                    .filter(|o| self.employers.iter().any(|e| &e.orgnr == o))
            });
        match (in_subject.or(fallback), self.employers.as_slice()) {
            (Some(o), _) => self.employers.iter().find(|e| e.orgnr == o),
            (None, [only]) => Some(only),
            _ => None,
        }
    }
}

/// A refusal: `template` with `problem` and `extra` as its values.
pub fn refused(
    f: &Facts,
    s: &Settings,
    kind: &'static str,
    template: &'static str,
    problem: &str,
    extra: serde_json::Value,
) -> Plan {
    let mut vars = serde_json::json!({ "problem": problem });
    if let (Some(v), Some(e)) = (vars.as_object_mut(), extra.as_object()) {
        v.extend(e.clone());
    }
    Plan::reply(
        kind,
        Outcome::Rejected,
        Reply::new(&f.sender, template, language(f, s), vars),
    )
}

/// An employer, as its contacts see it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
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
    /// `security.trusted_authserv_id`
    pub trusted_authserv_id: Option<String>,
    /// The key registration strings are signed with.
    pub registration_secret: Option<String>,
    /// Limits for reading deduction lists.
    pub list_limits: postbud_core::lists::Limits,
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
            trusted_authserv_id: c.security.trusted_authserv_id.clone(),
            registration_secret: c.security.registration_secret.clone(),
            list_limits: postbud_core::lists::Limits {
                max_uncompressed_bytes: c.limits.max_uncompressed_bytes,
                max_rows: c.limits.max_rows,
                allow_synthetic_ids: c.lists.allow_synthetic_ids,
            },
        }
    }
}

#[cfg(test)]
impl Settings {
    /// Settings for unit tests: Norwegian Bokmål, Oslo, the SPEC defaults.
    pub fn for_tests() -> Settings {
        Settings {
            org_name: "Forbundet".into(),
            org_address: "post@forbund.example".into(),
            language: Language::Nb,
            code_ttl_minutes: 15,
            max_replies_per_hour: 20,
            max_attachments: 20,
            timezone: chrono_tz::Europe::Oslo,
            trusted_authserv_id: None,
            registration_secret: None,
            list_limits: Default::default(),
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

/// Rep commands: need a current rep role or a grant.
pub fn rep_only(k: Keyword) -> bool {
    use Keyword::*;
    matches!(
        k,
        Aktivitet
            | MineMedlemmer
            | MineLikepersoner
            | MedlemMangler
            | MedlemSluttet
            | MedlemFlyttet
            | ArbeidsstedNy
            | ArbeidsstedNyttNavn
            | ArbeidsstedAvslutt
            | NyTillitsvalgt
    )
}

/// Employer contacts' commands: need an active contact.
pub fn contact_only(k: Keyword) -> bool {
    use Keyword::*;
    matches!(
        k,
        Kontakter
            | KontaktNy
            | KontaktEndre
            | KontaktDeaktiver
            | KontaktAktiver
            | Innsendte
            | Status
            | Brev
    )
}

/// The reply to a command the sender's role does not allow, with the list
/// of what they may use.
fn not_allowed(f: &Facts, s: &Settings, kind: &'static str, word: &str) -> Plan {
    let mut vars = help::help_vars(f);
    vars["command"] = serde_json::json!(word);
    vars["for_whom"] = serde_json::json!(match kind {
        "approve" | "reject" => "office",
        "contacts" | "contact" | "submitted" | "status" | "letters" => "employers",
        _ => "reps",
    });
    Plan::reply(
        kind,
        Outcome::Rejected,
        Reply::new(&f.sender, "not-allowed", language(f, s), vars),
    )
}

/// Decides what handling `msg`, classified as `kind`, does. `regs` are the
/// registration strings found in it, `snap` what the register holds that
/// this command needs.
#[allow(clippy::too_many_arguments)]
pub fn decide(
    f: &Facts,
    msg: &Incoming,
    kind: &Kind,
    regs: &[Found],
    lists: &[deduction::Attached],
    snap: &Snapshot,
    s: &Settings,
    now: DateTime<Utc>,
    fresh: &mut dyn Fresh,
) -> Plan {
    if msg.attachments.len() > s.max_attachments
        && !matches!(kind, Kind::Silent(_) | Kind::Bounce { .. })
    {
        return support::too_many_attachments(f, msg, s);
    }
    let is_rep = f.is_rep || !f.scope.is_empty();
    match kind {
        Kind::Command { keyword, .. } if rep_only(*keyword) && !is_rep => {
            return not_allowed(f, s, keyword.kind(), keyword.name());
        }
        Kind::Command { keyword, .. } if contact_only(*keyword) && !f.is_contact => {
            return not_allowed(f, s, keyword.kind(), keyword.name());
        }
        Kind::Command {
            keyword: k @ (Keyword::Godkjenn | Keyword::Avvis),
            ..
        } if !f.is_admin => {
            return not_allowed(f, s, k.kind(), k.name());
        }
        Kind::Registration if !is_rep => return not_allowed(f, s, "registration", "REG1"),
        _ => {}
    }
    if confirm::needs_trust(kind) && !f.verified {
        let k = match kind {
            Kind::Command { keyword, .. } => keyword.kind(),
            _ => "registration",
        };
        return confirm::ask(f, s, k, now, fresh);
    }
    let empty = Vec::new();
    let (members, workplaces) = match snap {
        Snapshot::Members {
            members,
            workplaces,
        } => (members, workplaces),
        _ => (&empty, &Vec::new()),
    };
    let peers = match snap {
        Snapshot::Peers(p) => p.as_slice(),
        _ => &[],
    };
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
        Kind::Confirm { word, code } => confirm::unknown(f, *word, code, s),
        Kind::Command {
            keyword,
            args,
            body,
        } => match keyword {
            Keyword::Kode => code::decide(f, s, now, fresh),
            Keyword::Hjelp => help::decide(f, s),
            Keyword::Aktivitet => activity::decide(f, s, args, body, peers, now),
            Keyword::MineMedlemmer => lists::members(f, s, members),
            Keyword::MineLikepersoner => lists::peers(f, s, peers),
            Keyword::MedlemMangler
            | Keyword::MedlemSluttet
            | Keyword::MedlemFlyttet
            | Keyword::ArbeidsstedNy
            | Keyword::ArbeidsstedNyttNavn
            | Keyword::ArbeidsstedAvslutt
            | Keyword::NyTillitsvalgt => {
                changes::decide(f, s, msg, *keyword, args, body, members, workplaces)
            }
            Keyword::Kontakter
            | Keyword::KontaktNy
            | Keyword::KontaktEndre
            | Keyword::KontaktDeaktiver
            | Keyword::KontaktAktiver => {
                let contacts = match snap {
                    Snapshot::Contacts(c) => c.as_slice(),
                    _ => &[],
                };
                contacts::decide(f, s, *keyword, args, body, contacts)
            }
            Keyword::Innsendte | Keyword::Status => {
                let empty = employer::EmployerSnapshot::default();
                let e = match snap {
                    Snapshot::Employer(e) => e,
                    _ => &empty,
                };
                if *keyword == Keyword::Innsendte {
                    employer::submitted(f, s, e)
                } else {
                    employer::status(f, s, msg, body, e)
                }
            }
            Keyword::Godkjenn | Keyword::Avvis => {
                let pending = match snap {
                    Snapshot::Pending(p) => p.as_ref(),
                    _ => None,
                };
                decisions::decide(f, s, *keyword, args, pending, now)
            }
            other => support::decide(f, msg, s, other.kind()),
        },
        Kind::Registration => {
            let checks = match snap {
                Snapshot::Registrations(c) => c.as_slice(),
                _ => &[],
            };
            registration::decide(f, s, regs, checks)
        }
        Kind::Deduction => match snap {
            Snapshot::Submission { target, snapshot } => {
                deduction::decide(f, s, lists, target, snapshot, now, fresh)
            }
            _ => not_allowed(f, s, "submission", "trekkliste"),
        },
        Kind::Support => support::decide(f, msg, s, "support"),
    }
}
