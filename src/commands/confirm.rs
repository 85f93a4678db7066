//! Confirmations (SPEC section 10): a command that changes the register or
//! reveals other people's data, from a sender that is not verified, waits for
//! `BEKREFT <code>` from the same address (codes live 24 hours); only that
//! carries it out. `AKSEPTERER` comes with the employers' workflow.

use super::{Facts, Fresh, Settings, code, language};
use crate::plan::{Action, CodePurpose, Outcome, Plan, Reply};
use chrono::{DateTime, Duration, Utc};
use postbud_core::classify::{ConfirmWord, Keyword, Kind};
use serde_json::json;

/// How long a confirmation code lives.
pub const CONFIRM_HOURS: i64 = 24;

/// Whether `kind` needs a verified (or confirming) sender.
pub fn needs_trust(kind: &Kind) -> bool {
    match kind {
        Kind::Registration | Kind::Deduction => true,
        // A missing member is a ticket for the office: nothing changes yet.
        Kind::Command { keyword, .. } => {
            (super::rep_only(*keyword) && *keyword != Keyword::MedlemMangler)
                || matches!(
                    keyword,
                    Keyword::Godkjenn
                        | Keyword::Avvis
                        | Keyword::Kontakter
                        | Keyword::KontaktNy
                        | Keyword::KontaktEndre
                        | Keyword::KontaktDeaktiver
                        | Keyword::KontaktAktiver
                        | Keyword::Innsendte
                        | Keyword::Status
                )
        }
        _ => false,
    }
}

/// Asks an unverified sender to confirm: a code, and the command waits.
pub fn ask(
    f: &Facts,
    s: &Settings,
    kind: &'static str,
    now: DateTime<Utc>,
    fresh: &mut dyn Fresh,
) -> Plan {
    waiting_for_code(
        f,
        s,
        kind,
        "confirm-ask",
        CodePurpose::Confirm,
        json!({}),
        now,
        fresh,
    )
}

/// A reply carrying a fresh code (`code` and `hours` added to `vars`); the
/// message waits until the code comes back from the same address within
/// `CONFIRM_HOURS`. The reply's body is wiped from the outbox once sent.
#[allow(clippy::too_many_arguments)]
pub fn waiting_for_code(
    f: &Facts,
    s: &Settings,
    kind: &'static str,
    template: &'static str,
    purpose: CodePurpose,
    mut vars: serde_json::Value,
    now: DateTime<Utc>,
    fresh: &mut dyn Fresh,
) -> Plan {
    let code = fresh.code();
    let salt = fresh.salt();
    vars["code"] = json!(code);
    vars["hours"] = json!(CONFIRM_HOURS);
    let mut reply = Reply::new(&f.sender, template, language(f, s), vars);
    reply.secret = true;
    let mut p = Plan::reply(kind, Outcome::Pending, reply);
    p.actions.push(Action::IssueCode {
        email: f.sender.clone(),
        purpose,
        hash: code::hash(&salt, &code),
        salt,
        expires_at: now + Duration::hours(CONFIRM_HOURS),
        for_this_message: true,
    });
    p
}

/// A confirmation that matches nothing waiting.
pub fn unknown(f: &Facts, word: ConfirmWord, code: &str, s: &Settings) -> Plan {
    let word = match word {
        ConfirmWord::Bekreft => "BEKREFT",
        ConfirmWord::Aksepterer => "AKSEPTERER",
    };
    Plan::reply(
        "confirm",
        Outcome::Rejected,
        Reply::new(
            &f.sender,
            "confirm-unknown",
            language(f, s),
            json!({ "word": word, "code": code }),
        ),
    )
}
