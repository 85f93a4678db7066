//! `KONTAKTER` [CONTACTS] and `KONTAKT NY | ENDRE | DEAKTIVER | AKTIVER
//! <address>` (SPEC section 5, seed 003): an employer's contact persons with
//! their responsibilities, only for the sender's own employers. Contacts are
//! deactivated, never deleted.

use super::changes::fields;
use super::snapshot::ContactBrief;
use super::{EmployerBrief, Facts, Settings, language};
use crate::plan::{Action, Outcome, Plan, Reply};
use crate::store::import::duties;
use postbud_core::classify::Keyword;
use serde_json::{Value, json};

fn refused(f: &Facts, s: &Settings, kind: &'static str, problem: &str, mut extra: Value) -> Plan {
    extra["employers"] = json!(f.employers);
    super::refused(f, s, kind, "contact-refused", problem, extra)
}

/// The employer a command is about: `arbeidsgiver:`/`orgnr:` or the only one.
fn employer<'a>(f: &'a Facts, named: Option<&str>) -> Result<&'a EmployerBrief, &'static str> {
    match named {
        Some(o) => {
            let digits: String = o.chars().filter(char::is_ascii_digit).collect();
            f.employers
                .iter()
                .find(|e| e.orgnr == digits)
                .ok_or("employer-unknown")
        }
        None => match f.employers.as_slice() {
            [e] => Ok(e),
            _ => Err("employer-which"),
        },
    }
}

pub fn decide(
    f: &Facts,
    s: &Settings,
    keyword: Keyword,
    args: &str,
    body: &str,
    contacts: &[ContactBrief],
) -> Plan {
    let lang = language(f, s);
    if keyword == Keyword::Kontakter {
        return Plan::reply(
            "contacts",
            Outcome::Ok,
            Reply::new(
                &f.sender,
                "contacts",
                lang,
                json!({ "employers": f.employers, "contacts": contacts }),
            ),
        );
    }
    let kind = "contact";
    let fs = fields(body);
    let address = args.split_whitespace().next().unwrap_or("").to_lowercase();
    if !address.contains('@') {
        return refused(f, s, kind, "no-address", json!({}));
    }
    let named = fs
        .get("arbeidsgiver")
        .or(fs.get("orgnr"))
        .map(String::as_str);
    let employer = match employer(f, named) {
        Ok(e) => e,
        Err(p) => return refused(f, s, kind, p, json!({})),
    };
    let existing = contacts
        .iter()
        .find(|c| c.email == address && c.employer_id == employer.id);
    let duties = match fs.get("ansvar").map(|d| duties(d)) {
        Some(Ok(d)) => Some(d),
        Some(Err(e)) => return refused(f, s, kind, "bad-duties", json!({ "given": e })),
        None => None,
    };
    let name = fs.get("navn").cloned();
    let phone = fs.get("telefon").or(fs.get("mobil")).cloned();
    let (create, active, what) = match (keyword, existing) {
        (Keyword::KontaktNy, None) => (true, None, "new"),
        (Keyword::KontaktNy, Some(_)) => {
            return refused(f, s, kind, "exists", json!({ "address": address }));
        }
        (_, None) => return refused(f, s, kind, "unknown", json!({ "address": address })),
        (Keyword::KontaktEndre, Some(_)) => (false, None, "edit"),
        (Keyword::KontaktAktiver, Some(_)) => (false, Some(true), "activate"),
        (Keyword::KontaktDeaktiver, Some(c)) => {
            let others = contacts
                .iter()
                .filter(|o| o.employer_id == employer.id && o.active && o.email != c.email)
                .count();
            if others == 0 {
                return refused(f, s, kind, "last-contact", json!({ "address": address }));
            }
            (false, Some(false), "deactivate")
        }
        _ => return refused(f, s, kind, "unknown", json!({ "address": address })),
    };
    let mut plan = Plan::reply(
        kind,
        Outcome::Ok,
        Reply::new(
            &f.sender,
            "contact-done",
            lang,
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

#[cfg(test)]
mod tests {
    use super::*;

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

    fn settings() -> Settings {
        Settings::for_tests()
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

    #[test]
    fn a_new_contact_needs_a_known_employer_when_there_are_several() {
        let f = facts(&[(1, "923609016"), (2, "987654321")]);
        let p = decide(
            &f,
            &settings(),
            Keyword::KontaktNy,
            "ny@bedrift.example",
            "navn: Ny",
            &[],
        );
        assert_eq!(p.result, Outcome::Rejected);
        let p = decide(
            &f,
            &settings(),
            Keyword::KontaktNy,
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
        let p = decide(
            &f,
            &settings(),
            Keyword::KontaktDeaktiver,
            "lonn@bedrift.example",
            "",
            &only,
        );
        assert_eq!(p.result, Outcome::Rejected);
        let p = decide(
            &f,
            &settings(),
            Keyword::KontaktAktiver,
            "old@bedrift.example",
            "",
            &only,
        );
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
        let p = decide(
            &f,
            &settings(),
            Keyword::KontaktEndre,
            "x@other.example",
            "navn: X",
            &theirs,
        );
        assert_eq!(p.result, Outcome::Rejected);
        assert!(p.actions.is_empty());
    }
}
