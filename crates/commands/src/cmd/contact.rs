//! `KONTAKT NY | ENDRE | DEAKTIVER | AKTIVER <address>` [CONTACT NEW | EDIT
//! | DEACTIVATE | ACTIVATE] (SPEC section 5, seed 003): an employer's contact
//! persons, only for the sender's own employers. Contacts are deactivated,
//! never deleted, and the last active one cannot be.

use anyhow::Result;
use postbud_core::classify::Keyword;
use serde_json::{Value, json};

use super::contacts::of_senders_employers;
use super::reported::Fields;
use crate::cx::Cx;
use crate::decide::Decide;
use crate::facts::{EmployerBrief, Facts};
use crate::plan::{Action, Outcome, Plan};
use crate::register::{ContactBrief, Register};
use crate::rule;
use crate::words::{digits, duties, fields};

/// Which `KONTAKT` command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum What {
    New,
    Edit,
    Deactivate,
    Activate,
}

impl What {
    pub fn keyword(self) -> Keyword {
        match self {
            What::New => Keyword::KontaktNy,
            What::Edit => Keyword::KontaktEndre,
            What::Deactivate => Keyword::KontaktDeaktiver,
            What::Activate => Keyword::KontaktAktiver,
        }
    }
}

/// `KONTAKT … <address>` with `felt: verdi` lines (navn, telefon, ansvar,
/// arbeidsgiver).
#[derive(Debug)]
pub struct Contact {
    pub what: What,
    /// The contact's address, lower-cased (empty when none was given).
    pub address: String,
    pub fields: Fields,
}

impl Contact {
    pub fn parse(what: What, args: &str, body: &str) -> Contact {
        Contact {
            what,
            address: args.split_whitespace().next().unwrap_or("").to_lowercase(),
            fields: fields(body),
        }
    }
}

const KIND: &str = "contact";

fn refused(cx: &Cx<'_>, problem: &str, mut extra: Value) -> Plan {
    extra["employers"] = json!(cx.facts.employers);
    rule::refused(cx, KIND, "contact-refused", problem, extra)
}

/// The employer a command is about: `arbeidsgiver:`/`orgnr:` or the only one.
fn employer<'a>(f: &'a Facts, named: Option<&str>) -> Result<&'a EmployerBrief, &'static str> {
    match named {
        Some(o) => {
            let o = digits(o);
            f.employers
                .iter()
                .find(|e| e.orgnr == o)
                .ok_or("employer-unknown")
        }
        None => match f.employers.as_slice() {
            [e] => Ok(e),
            _ => Err("employer-which"),
        },
    }
}

impl Decide for Contact {
    type Reads = Vec<ContactBrief>;

    fn read(&self, reg: &dyn Register, cx: &Cx<'_>) -> Result<Vec<ContactBrief>> {
        of_senders_employers(reg, cx)
    }

    fn decide(&self, cx: &mut Cx<'_>, contacts: Vec<ContactBrief>) -> Plan {
        let fs = &self.fields;
        let address = self.address.clone();
        if !address.contains('@') {
            return refused(cx, "no-address", json!({}));
        }
        let named = fs
            .get("arbeidsgiver")
            .or(fs.get("orgnr"))
            .map(String::as_str);
        let employer = match employer(cx.facts, named) {
            Ok(e) => e,
            Err(p) => return refused(cx, p, json!({})),
        };
        let existing = contacts
            .iter()
            .find(|c| c.email == address && c.employer_id == employer.id);
        let duties = match fs.get("ansvar").map(|d| duties(d)) {
            Some(Ok(d)) => Some(d),
            Some(Err(e)) => return refused(cx, "bad-duties", json!({ "given": e })),
            None => None,
        };
        let name = fs.get("navn").cloned();
        let phone = fs.get("telefon").or(fs.get("mobil")).cloned();
        let (create, active, what) = match (self.what, existing) {
            (What::New, None) => (true, None, "new"),
            (What::New, Some(_)) => {
                return refused(cx, "exists", json!({ "address": address }));
            }
            (_, None) => return refused(cx, "unknown", json!({ "address": address })),
            (What::Edit, Some(_)) => (false, None, "edit"),
            (What::Activate, Some(_)) => (false, Some(true), "activate"),
            (What::Deactivate, Some(c)) => {
                let others = contacts
                    .iter()
                    .filter(|o| o.employer_id == employer.id && o.active && o.email != c.email)
                    .count();
                if others == 0 {
                    return refused(cx, "last-contact", json!({ "address": address }));
                }
                (false, Some(false), "deactivate")
            }
        };
        let mut plan = Plan::reply(
            KIND,
            Outcome::Ok,
            cx.reply(
                "contact-done",
                json!({ "what": what, "address": address, "employer": employer.name, "name": name, "phone": phone, "duties": duties }),
            ),
        );
        plan.actions.push(Action::Contact {
            employer_id: employer.id,
            email: address,
            create,
            name,
            phone,
            duties,
            active,
        });
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Settings;
    use crate::testing::{Fixed, now};

    fn facts(employers: &[(i64, &str)]) -> Facts {
        Facts {
            sender: "lonn@bedrift.example".into(),
            is_contact: true,
            verified: true,
            employers: employers
                .iter()
                .map(|(id, orgnr)| EmployerBrief {
                    id: *id,
                    orgnr: orgnr.to_string(),
                    name: format!("E{id}"),
                    declared: None,
                })
                .collect(),
            ..Facts::default()
        }
    }

    fn contact(email: &str, employer: i64, active: bool) -> ContactBrief {
        ContactBrief {
            email: email.into(),
            name: None,
            phone: None,
            employer_id: employer,
            orgnr: String::new(),
            employer: String::new(),
            duties: "receipts".into(),
            declaration: None,
            active,
        }
    }

    fn decide(f: &Facts, what: What, args: &str, body: &str, contacts: &[ContactBrief]) -> Plan {
        let s = Settings::for_tests();
        let mut cx = Cx {
            facts: f,
            settings: &s,
            now: now(),
            fresh: &mut Fixed,
        };
        Contact::parse(what, args, body).decide(&mut cx, contacts.to_vec())
    }

    #[test]
    fn a_new_contact_needs_a_known_employer_when_there_are_several() {
        let f = facts(&[(1, "923609016"), (2, "987654321")]);
        let p = decide(&f, What::New, "ny@bedrift.example", "navn: Ny", &[]);
        assert_eq!(p.result, Outcome::Rejected);
        let p = decide(
            &f,
            What::New,
            "ny@bedrift.example",
            "arbeidsgiver: 987 654 321\nansvar: receipts|letters",
            &[],
        );
        assert!(
            matches!(&p.actions[0], Action::Contact { employer_id: 2, create: true, duties: Some(d), .. } if d == "receipts|letters")
        );
    }

    #[test]
    fn the_last_active_contact_cannot_be_deactivated() {
        let f = facts(&[(1, "923609016")]);
        let only = [
            contact("lonn@bedrift.example", 1, true),
            contact("old@bedrift.example", 1, false),
        ];
        let p = decide(&f, What::Deactivate, "lonn@bedrift.example", "", &only);
        assert_eq!(p.result, Outcome::Rejected);
        let p = decide(&f, What::Activate, "old@bedrift.example", "", &only);
        assert!(matches!(
            &p.actions[0],
            Action::Contact {
                active: Some(true),
                ..
            }
        ));
    }

    #[test]
    fn another_employers_contact_is_unknown() {
        let f = facts(&[(1, "923609016")]);
        let theirs = [contact("x@other.example", 7, true)];
        let p = decide(&f, What::Edit, "x@other.example", "navn: X", &theirs);
        assert_eq!(p.result, Outcome::Rejected);
        assert!(p.actions.is_empty());
    }
}
