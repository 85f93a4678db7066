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
    let code = fresh.code();
    let salt = fresh.salt();
    let mut reply = Reply::new(
        &f.sender,
        "confirm-ask",
        language(f, s),
        json!({ "code": code, "hours": CONFIRM_HOURS }),
    );
    reply.secret = true;
    let mut p = Plan::reply(kind, Outcome::Pending, reply);
    p.actions.push(Action::IssueCode {
        email: f.sender.clone(),
        purpose: CodePurpose::Confirm,
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
