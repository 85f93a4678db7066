//! `BEKREFT <code>` / `AKSEPTERER <code>`: carries out what a code stands for.
//! The commands that ask for confirmation (an unverified sender's change, a
//! declaration, a link) come with their workflows; until one is waiting, a
//! confirmation is answered as not matching anything.

use super::{Facts, Settings, language};
use crate::plan::{Outcome, Plan, Reply};
use postbud_core::classify::ConfirmWord;
use serde_json::json;

pub fn decide(f: &Facts, word: ConfirmWord, code: &str, s: &Settings) -> Plan {
    let word = match word {
        ConfirmWord::Bekreft => "BEKREFT",
        ConfirmWord::Aksepterer => "AKSEPTERER",
    };
    Plan {
        kind: "confirm",
        result: Outcome::Rejected,
        actions: Vec::new(),
        replies: vec![Reply {
            to: f.sender.clone(),
            template: "confirm-unknown",
            language: language(f, s),
            vars: json!({ "word": word, "code": code }),
            secret: false,
        }],
        needs_ref: true,
    }
}
