//! Confirmations (SPEC section 10). A command that changes the register or
//! reveals other people's data, from a sender that is not verified, waits:
//! [`ask`] answers with a code. `BEKREFT <code>` from the same address
//! carries the waiting message out, decided as from a verified sender;
//! `AKSEPTERER <code>` accepts the confidentiality declaration and carries
//! out the deduction list that waited for it. The dispatch reads the waiting
//! message again and decides it with [`Confirm::confirmed_facts`].

use anyhow::Result;
use postbud_core::classify::ConfirmWord;
use serde_json::json;

use crate::codes::{Verdict, verify, waiting_for_code};
use crate::cx::Cx;
use crate::facts::Facts;
use crate::plan::{Action, CodePurpose, Outcome, Plan};
use crate::register::Register;

/// `BEKREFT <code>` / `AKSEPTERER <code>`.
#[derive(Debug)]
pub struct Confirm {
    pub word: ConfirmWord,
    pub code: String,
}

/// Asks an unverified sender to confirm: a code, and the command waits.
pub fn ask(cx: &mut Cx<'_>, kind: &'static str) -> Plan {
    waiting_for_code(cx, kind, "confirm-ask", CodePurpose::Confirm, json!({}))
}

/// What checking a confirmation found.
#[derive(Debug)]
pub enum Checked {
    /// Nothing to carry out: the answer (a wrong or unknown code).
    Answer(Plan),
    /// The code is right: carry out the message it was given for.
    CarryOut { code_id: i64, raw: Vec<u8> },
}

impl Confirm {
    fn purpose(&self) -> CodePurpose {
        match self.word {
            ConfirmWord::Bekreft => CodePurpose::Confirm,
            ConfirmWord::Aksepterer => CodePurpose::Accept,
        }
    }

    /// The word as the sender wrote it in Norwegian.
    pub fn word(&self) -> &'static str {
        match self.word {
            ConfirmWord::Bekreft => "BEKREFT",
            ConfirmWord::Aksepterer => "AKSEPTERER",
        }
    }

    /// Checks the code against the sender's live codes of its purpose. A
    /// wrong code counts a try.
    pub fn check(&self, reg: &dyn Register, cx: &Cx<'_>) -> Result<Checked> {
        let codes = reg.live_codes(&cx.facts.sender, self.purpose().as_str(), cx.now)?;
        let code = match verify(&codes, &self.code, cx.now) {
            Verdict::Right(code) => code,
            Verdict::Wrong(id) => {
                let mut p = self.unknown(cx);
                p.actions.push(Action::WrongCode { id });
                return Ok(Checked::Answer(p));
            }
            Verdict::NoCode => return Ok(Checked::Answer(self.unknown(cx))),
        };
        let raw = match code.message_row {
            Some(row) => reg.message_raw(row)?,
            None => None,
        };
        Ok(match raw {
            Some(raw) => Checked::CarryOut {
                code_id: code.id,
                raw,
            },
            None => Checked::Answer(self.unknown(cx)),
        })
    }

    /// The sender as the confirmed command sees them: verified, and after
    /// `AKSEPTERER` as having accepted the declaration today.
    pub fn confirmed_facts(&self, cx: &Cx<'_>) -> Facts {
        let mut facts = cx.facts.clone();
        facts.verified = true;
        if self.purpose() == CodePurpose::Accept {
            let today = cx.today().to_string();
            for e in &mut facts.employers {
                e.declared.get_or_insert(today.clone());
            }
        }
        facts
    }

    /// The confirmed command's plan, with the declaration recorded first
    /// (`AKSEPTERER`) and the code used up.
    pub fn finish(&self, cx: &Cx<'_>, mut plan: Plan, code_id: i64) -> Plan {
        if self.purpose() == CodePurpose::Accept {
            plan.actions.insert(
                0,
                Action::Declare {
                    email: cx.facts.sender.clone(),
                },
            );
        }
        plan.actions.push(Action::UseCode { id: code_id });
        plan
    }

    /// A confirmation that matches nothing waiting.
    fn unknown(&self, cx: &Cx<'_>) -> Plan {
        Plan::reply(
            "confirm",
            Outcome::Rejected,
            cx.reply(
                "confirm-unknown",
                json!({ "word": self.word(), "code": self.code }),
            ),
        )
    }
}
