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

use crate::codes::{MAX_WRONG_GUESSES, Verdict, verify, waiting_for_code};
use crate::cx::Cx;
use crate::facts::Facts;
use crate::plan::{Action, Carries, CodePurpose, Outcome, Plan};
use crate::register::Register;

/// `BEKREFT <code>` / `AKSEPTERER <code>`.
#[derive(Debug)]
pub struct Confirm {
    pub word: ConfirmWord,
    pub code: String,
}

/// Asks an unverified sender to confirm: a code, and the command (whose
/// word and kind the reply names, so the sender knows what the code will
/// carry out) waits.
pub fn ask(reg: &dyn Register, cx: &mut Cx<'_>, kind: &'static str, word: &str) -> Result<Plan> {
    let guard = reg.code_guard(&cx.facts.sender, CodePurpose::Confirm.as_str(), cx.now)?;
    Ok(waiting_for_code(
        cx,
        guard,
        kind,
        "confirm-ask",
        CodePurpose::Confirm,
        json!({ "command": word, "what": kind }),
    ))
}

/// What checking a confirmation found.
#[derive(Debug)]
pub enum Checked {
    /// Nothing to carry out: the answer (a wrong or unknown code).
    Answer(Plan),
    /// The code is right: carry out the message it was given for (its
    /// row and bytes).
    CarryOut {
        /// `Link`: the address that confirms is the one a `KOBLE` named.
        purpose: CodePurpose,
        code_id: i64,
        row: i64,
        raw: Vec<u8>,
    },
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
    /// wrong code counts a guess against the address; the fifth in 24 hours
    /// kills every live code of the purpose, and until then nothing is
    /// checked (SPEC section 10, "Guessing").
    pub fn check(&self, reg: &dyn Register, cx: &Cx<'_>) -> Result<Checked> {
        let purpose = self.purpose();
        let guard = reg.code_guard(&cx.facts.sender, purpose.as_str(), cx.now)?;
        if guard.locked() {
            return Ok(Checked::Answer(self.locked(cx)));
        }
        // Every live code the word answers: a confirmation, or a link.
        let mut codes = Vec::new();
        let mut purposes = Vec::new();
        for p in purpose.kin() {
            for c in reg.live_codes(&cx.facts.sender, p.as_str(), cx.now)? {
                purposes.push((c.id, *p));
                codes.push(c);
            }
        }
        let code = match verify(&codes, &self.code, cx.now) {
            Verdict::Right(code) => code,
            Verdict::Wrong(_) => {
                let kill = guard.wrong + 1 >= MAX_WRONG_GUESSES;
                let mut p = if kill {
                    self.locked(cx)
                } else {
                    self.unknown(cx)
                };
                p.actions.push(Action::WrongGuess {
                    email: cx.facts.sender.clone(),
                    purpose,
                    kill,
                });
                return Ok(Checked::Answer(p));
            }
            Verdict::NoCode => return Ok(Checked::Answer(self.unknown(cx))),
        };
        let waiting = match code.message_row {
            Some(row) => reg.message_raw(row)?.map(|raw| (row, raw)),
            None => None,
        };
        Ok(match waiting {
            Some((row, raw)) => Checked::CarryOut {
                purpose: purposes
                    .iter()
                    .find(|(id, _)| *id == code.id)
                    .map_or(purpose, |(_, p)| *p),
                code_id: code.id,
                row,
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
    /// (`AKSEPTERER`) and the code used up. A code the confirmed command
    /// asks for in turn carries out the message it confirmed (`row`), not
    /// this confirmation.
    pub fn finish(&self, cx: &Cx<'_>, mut plan: Plan, code_id: i64, row: i64) -> Plan {
        for a in &mut plan.actions {
            if let Action::IssueCode { carries, .. } = a
                && *carries == Carries::ThisMessage
            {
                *carries = Carries::Message(row);
            }
        }
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

    /// The address is out of guesses: nothing is checked for a day.
    fn locked(&self, cx: &Cx<'_>) -> Plan {
        Plan::reply(
            "confirm",
            Outcome::Rejected,
            cx.reply(
                "confirm-locked",
                json!({ "hours": crate::codes::CONFIRM_HOURS }),
            ),
        )
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

#[cfg(test)]
mod tests {
    use crate::codes::{MAX_LIVE_CONFIRMATIONS, MAX_WRONG_GUESSES, hash};
    use crate::plan::{Action, CodePurpose, Outcome};
    use crate::register::{CodeGuard, StoredCode};
    use crate::testing::{Values, command, decide, now, sender};

    fn with_code(guard: CodeGuard) -> Values {
        Values {
            codes: vec![StoredCode {
                id: 1,
                salt: "s".into(),
                hash: hash("s", "111111"),
                expires_at: now() + chrono::Duration::hours(1),
                used: false,
                tries: 0,
                message_row: Some(1),
            }],
            guard,
            raw: Some(b"From: lonn@bedrift.example\r\nSubject: KONTAKTER\r\n\r\n".to_vec()),
            ..Values::default()
        }
    }

    #[test]
    fn a_wrong_guess_counts_against_the_address_and_the_fifth_kills_its_codes() {
        let contact = sender("lonn@bedrift.example", false, true, false, false);
        let guess = command("lonn@bedrift.example", "BEKREFT 222222", "");
        let p = decide(
            &guess,
            &contact,
            &with_code(CodeGuard { live: 1, wrong: 0 }),
        );
        assert_eq!(p.replies[0].template, "confirm-unknown");
        assert_eq!(
            p.actions,
            [Action::WrongGuess {
                email: "lonn@bedrift.example".into(),
                purpose: CodePurpose::Confirm,
                kill: false
            }]
        );
        let last = CodeGuard {
            live: 1,
            wrong: MAX_WRONG_GUESSES - 1,
        };
        let p = decide(&guess, &contact, &with_code(last));
        assert_eq!(p.replies[0].template, "confirm-locked");
        assert!(matches!(
            &p.actions[..],
            [Action::WrongGuess { kill: true, .. }]
        ));
    }

    #[test]
    fn an_address_out_of_guesses_is_not_checked_even_with_the_right_code() {
        let contact = sender("lonn@bedrift.example", false, true, false, false);
        let locked = CodeGuard {
            live: 1,
            wrong: MAX_WRONG_GUESSES,
        };
        let right = command("lonn@bedrift.example", "BEKREFT 111111", "");
        let p = decide(&right, &contact, &with_code(locked));
        assert_eq!(p.result, Outcome::Rejected);
        assert_eq!(p.replies[0].template, "confirm-locked");
        assert!(p.actions.is_empty(), "nothing checked, nothing counted");
        // And no new code is made for it.
        let ask = command("lonn@bedrift.example", "KONTAKTER", "");
        let p = decide(&ask, &contact, &with_code(locked));
        assert_eq!(p.replies[0].template, "confirm-locked");
        assert!(p.actions.is_empty());
    }

    #[test]
    fn an_address_holds_at_most_three_live_confirmation_codes() {
        let contact = sender("lonn@bedrift.example", false, true, false, false);
        let ask = command("lonn@bedrift.example", "KONTAKTER", "");
        let full = CodeGuard {
            live: MAX_LIVE_CONFIRMATIONS,
            wrong: 0,
        };
        let p = decide(&ask, &contact, &with_code(full));
        assert_eq!(p.replies[0].template, "confirm-wait");
        assert!(p.actions.is_empty(), "no new code");
        let p = decide(&ask, &contact, &with_code(CodeGuard { live: 2, wrong: 0 }));
        assert_eq!(p.replies[0].template, "confirm-ask");
        assert_eq!(p.replies[0].vars["what"], "contacts");
        assert!(matches!(&p.actions[..], [Action::IssueCode { .. }]));
    }
}
