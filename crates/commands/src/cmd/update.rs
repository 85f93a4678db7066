//! `ENDRE` [UPDATE] (SPEC section 5, seed 001 "Profil" and
//! "Arbeidsforhold"): a member changes their own details with `felt: verdi`
//! lines. Contact fields (telefon, adresse, postnummer, poststed, språk)
//! apply at once; employment fields (arbeidsgiver, arbeidssted, stilling,
//! stillingsprosent, fast/vikar) become one pending change for the office.
//! Every value is checked, and the reply shows each field before and after
//! (or pending) and every line it could not use, with the reason.

use anyhow::Result;
use serde_json::{Value, json};

use crate::cx::Cx;
use crate::decide::Decide;
use crate::facts::Language;
use crate::plan::{Action, Change, FieldChange, Outcome, PendingChange, Plan};
use crate::register::{EmployerRef, PersonDetail, Register, WorkplaceBrief};
use crate::words::{fold_key, name_key};

/// The fields a member may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Phone,
    Address,
    Postcode,
    City,
    Language,
    Employer,
    Workplace,
    Position,
    Percent,
    Permanent,
}

impl Field {
    /// The field a `felt:` name means, in nb, nn, da or en, with the small
    /// spelling differences people type (`tlf`, `mobil`, `post nr`, `ny
    /// adresse`).
    pub fn named(key: &str) -> Option<Field> {
        let k: String = fold_key(key)
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        let k = ["nytt", "ny", "new", "min", "mitt", "my"]
            .iter()
            .find_map(|p| k.strip_prefix(p).filter(|r| r.len() > 2))
            .unwrap_or(&k);
        use Field::*;
        Some(match k {
            "telefon" | "tlf" | "tlfnr" | "mobil" | "mobiltelefon" | "telefonnummer"
            | "telefonnr" | "mobilnummer" | "mobilnr" | "phone" | "mobile" | "phonenumber"
            | "mobilephone" | "telephone" => Phone,
            "adresse" | "gateadresse" | "postadresse" | "adr" | "address" | "streetaddress"
            | "gadeadresse" => Address,
            "postnummer" | "postnr" | "postkode" | "zip" | "zipcode" | "postcode"
            | "postalcode" => Postcode,
            "poststed" | "sted" | "by" | "postby" | "city" | "town" | "poststad" => City,
            "sprak" | "sprog" | "language" | "malform" | "maal" => Language,
            "arbeidsgiver" | "arbeidsgivar" | "arbeidsgjevar" | "arbejdsgiver" | "employer" => {
                Employer
            }
            "arbeidssted" | "arbeidsstad" | "arbejdssted" | "workplace" | "avdeling" => Workplace,
            "stilling" | "stillingstittel" | "position" | "jobtitle" | "title" | "jobb" => Position,
            "stillingsprosent"
            | "prosent"
            | "stillingsandel"
            | "stillingsbrok"
            | "percent"
            | "percentage"
            | "procent"
            | "beskaeftigelsesgrad" => Percent,
            "fastvikar" | "fastellervikar" | "ansettelse" | "ansettelsesform" | "tilsetjing"
            | "tilsetting" | "ansaettelse" | "employment" | "employmenttype" => Permanent,
            _ => return None,
        })
    }

    /// Applied at once (a contact field), or pending (employment).
    pub fn is_contact(self) -> bool {
        matches!(
            self,
            Field::Phone | Field::Address | Field::Postcode | Field::City | Field::Language
        )
    }

    /// The key templates use, and the column of a contact field.
    pub fn key(self) -> &'static str {
        match self {
            Field::Phone => "phone",
            Field::Address => "address",
            Field::Postcode => "postcode",
            Field::City => "city",
            Field::Language => "language",
            Field::Employer => "employer",
            Field::Workplace => "workplace",
            Field::Position => "position",
            Field::Percent => "percent",
            Field::Permanent => "permanent",
        }
    }
}

/// `ENDRE` and its `felt: verdi` lines, in order.
#[derive(Debug)]
pub struct Update {
    /// (the field name as written, the value) for every line with a colon.
    pub lines: Vec<(String, String)>,
}

/// Lines of one `ENDRE` read, at most.
pub const MAX_LINES: usize = 50;

impl Update {
    /// Every `felt: verdi` line, and every line that begins with a field's
    /// name but has no colon (`telefon 913 00 000`), which is refused with
    /// its reason; other lines (a greeting, a signature) are not fields.
    pub fn parse(body: &str) -> Update {
        Update {
            lines: body
                .lines()
                .filter_map(|l| match l.split_once(':') {
                    Some((k, v)) => Some((k.trim().to_string(), v.trim().to_string())),
                    None => {
                        field_without_colon(l).then(|| (l.trim().to_string(), NO_COLON.to_string()))
                    }
                })
                .filter(|(k, _)| !k.is_empty() && k.chars().count() <= 40)
                .take(MAX_LINES)
                .collect(),
        }
    }
}

/// The value a line without a colon is read with: refused as `no-colon`.
const NO_COLON: &str = "\u{0}no-colon";

/// A line that begins with a field's name (one or two words) and has more
/// after it, but no colon.
fn field_without_colon(line: &str) -> bool {
    let words: Vec<&str> = line.split_whitespace().collect();
    (1..=2).any(|n| words.len() > n && Field::named(&words[..n].join(" ")).is_some())
}

/// A phone number as stored (`+4791234567`): Norwegian or Danish, 8 digits
/// with or without `+47`/`0047`/`+45`/`0045`, spaces and dashes allowed;
/// without a country code, `home` (`47` or `45`).
pub fn phone(s: &str, home: &str) -> Option<String> {
    let compact: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    let (country, rest) =
        if let Some(r) = compact.strip_prefix("+47").or(compact.strip_prefix("0047")) {
            ("47", r)
        } else if let Some(r) = compact.strip_prefix("+45").or(compact.strip_prefix("0045")) {
            ("45", r)
        } else {
            (home, compact.as_str())
        };
    (rest.len() == 8 && rest.chars().all(|c| c.is_ascii_digit()))
        .then(|| format!("+{country}{rest}"))
}

/// The country code a phone number without one is taken to have: Danish
/// for a member who writes Danish, else Norwegian.
fn home_country(l: Language) -> &'static str {
    if l == Language::Da { "45" } else { "47" }
}

/// A language as stored: nb, nn, da or en, from its code or its name.
pub fn language(s: &str) -> Option<Language> {
    Language::parse(s).or_else(|| {
        Some(match fold_key(s).as_str() {
            "bokmal" | "norsk" | "norsk bokmal" | "norwegian" => Language::Nb,
            "nynorsk" | "norsk nynorsk" => Language::Nn,
            "dansk" | "danish" => Language::Da,
            "engelsk" | "english" => Language::En,
            _ => return None,
        })
    })
}

/// A percentage of a full position: 1 to 100 (`80`, `80 %`, `80,5`).
pub fn percent(s: &str) -> Option<String> {
    let t = s.trim().trim_end_matches('%').trim().replace(',', ".");
    let v: f64 = t.parse().ok()?;
    (1.0..=100.0).contains(&v).then(|| {
        if v.fract() == 0.0 {
            format!("{}", v as i64)
        } else {
            format!("{v}")
        }
    })
}

/// Permanent (`fast`) or temporary (`vikar`).
pub fn permanent(s: &str) -> Option<bool> {
    match fold_key(s).replace('-', " ").as_str() {
        "fast" | "fast ansatt" | "fastansatt" | "fast tilsett" | "permanent" | "fast ansat" => {
            Some(true)
        }
        "vikar" | "vikariat" | "midlertidig" | "mellombels" | "temporary" | "tidsbegrenset" => {
            Some(false)
        }
        _ => None,
    }
}

/// What `ENDRE` reads: the member, and what their employment lines name.
#[derive(Debug, Default)]
pub struct UpdateReads {
    pub person: Option<PersonDetail>,
    /// Employers the `arbeidsgiver:` line names.
    pub employers: Vec<EmployerRef>,
    /// The workplaces of the employer named, or else of the member's own.
    pub workplaces: Vec<WorkplaceBrief>,
}

impl Decide for Update {
    type Reads = UpdateReads;

    fn read(&self, reg: &dyn Register, cx: &Cx<'_>) -> Result<UpdateReads> {
        let Some(me) = &cx.facts.person else {
            return Ok(UpdateReads::default());
        };
        let person = reg.person(me.id)?;
        let named = self
            .lines
            .iter()
            .find(|(k, _)| Field::named(k) == Some(Field::Employer))
            .map(|(_, v)| v.as_str());
        let employers = match named {
            Some(n) if !n.is_empty() => reg.employers_named(n)?,
            _ => Vec::new(),
        };
        let employer = match employers.as_slice() {
            [one] => Some(one.id),
            _ => person.as_ref().and_then(|p| p.employer_id),
        };
        let workplaces = match employer {
            Some(e) => reg.workplaces(e)?,
            None => Vec::new(),
        };
        Ok(UpdateReads {
            person,
            employers,
            workplaces,
        })
    }

    fn decide(&self, cx: &mut Cx<'_>, reads: UpdateReads) -> Plan {
        const KIND: &str = "update";
        let Some(me) = reads.person else {
            return Plan::reply(
                KIND,
                Outcome::Rejected,
                cx.reply("update", json!({ "lines": [], "nothing": true })),
            );
        };
        let mut outcomes: Vec<Value> = Vec::new();
        let mut changes: Vec<FieldChange> = Vec::new();
        let mut employment = Change::Employment {
            person_id: me.id,
            employer_id: None,
            employer: None,
            workplace: None,
            position: None,
            percent: None,
            permanent: None,
        };
        let mut pending_fields = 0usize;
        let mut refused = 0usize;
        let mut seen: Vec<Field> = Vec::new();
        let mut refuse = |outcomes: &mut Vec<Value>, line: &str, reason: &str| {
            outcomes.push(json!({ "status": "refused", "line": line, "reason": reason }));
            refused += 1;
        };
        for (key, value) in &self.lines {
            if value == NO_COLON {
                refuse(&mut outcomes, key, "no-colon");
                continue;
            }
            let line = format!("{key}: {value}");
            let Some(field) = Field::named(key) else {
                refuse(&mut outcomes, &line, "unknown-field");
                continue;
            };
            if seen.contains(&field) {
                refuse(&mut outcomes, &line, "twice");
                continue;
            }
            seen.push(field);
            if value.is_empty() {
                refuse(&mut outcomes, &line, "empty");
                continue;
            }
            if !field.is_contact() && me.member_no.is_none() {
                refuse(&mut outcomes, &line, "not-member");
                continue;
            }
            let before = |v: &Option<String>| v.clone();
            // A contact field: checked, then applied at once.
            let contact = match field {
                Field::Phone => Some((
                    phone(value, home_country(cx.language())),
                    before(&me.phone),
                    "bad-phone",
                )),
                Field::Postcode => Some((
                    (value.len() == 4 && value.chars().all(|c| c.is_ascii_digit()))
                        .then(|| value.clone()),
                    before(&me.postcode),
                    "bad-postcode",
                )),
                Field::Address => Some((
                    (value.chars().count() <= 100).then(|| value.clone()),
                    before(&me.address),
                    "too-long",
                )),
                Field::City => Some((
                    (value.chars().count() <= 60 && !value.chars().any(|c| c.is_ascii_digit()))
                        .then(|| value.clone()),
                    before(&me.city),
                    "bad-city",
                )),
                Field::Language => Some((
                    language(value).map(|l| l.code().to_string()),
                    before(&me.language),
                    "bad-language",
                )),
                _ => None,
            };
            if let Some((checked, before, problem)) = contact {
                match checked {
                    None => refuse(&mut outcomes, &line, problem),
                    Some(after) if before.as_deref() == Some(after.as_str()) => {
                        outcomes.push(
                            json!({ "status": "unchanged", "field": field.key(), "after": after }),
                        );
                    }
                    Some(after) => {
                        outcomes.push(json!({ "status": "applied", "field": field.key(), "before": before, "after": after }));
                        changes.push(FieldChange {
                            column: field.key(),
                            before,
                            after,
                        });
                    }
                }
                continue;
            }
            // An employment field: checked, then pending for the office.
            let Change::Employment {
                employer_id,
                employer,
                workplace,
                position,
                percent: pct,
                permanent: perm,
                ..
            } = &mut employment
            else {
                continue;
            };
            let (after, before): (Option<String>, Option<String>) = match field {
                Field::Employer => match reads.employers.as_slice() {
                    [e] => {
                        *employer_id = Some(e.id);
                        *employer = Some(e.name.clone());
                        (
                            Some(format!("{} ({})", e.name, e.orgnr)),
                            me.employer.clone(),
                        )
                    }
                    [] => {
                        refuse(&mut outcomes, &line, "employer-unknown");
                        continue;
                    }
                    _ => {
                        refuse(&mut outcomes, &line, "employer-several");
                        continue;
                    }
                },
                Field::Workplace => {
                    let key = name_key(value);
                    match reads
                        .workplaces
                        .iter()
                        .find(|w| w.open && name_key(&w.name) == key)
                    {
                        Some(w) => {
                            *workplace = Some(w.name.clone());
                            (Some(w.name.clone()), me.workplace.clone())
                        }
                        None => {
                            refuse(&mut outcomes, &line, "workplace-unknown");
                            continue;
                        }
                    }
                }
                Field::Position => {
                    if value.chars().count() > 60 {
                        refuse(&mut outcomes, &line, "too-long");
                        continue;
                    }
                    *position = Some(value.clone());
                    (Some(value.clone()), me.position.clone())
                }
                Field::Percent => match percent(value) {
                    Some(p) => {
                        *pct = Some(p.clone());
                        (Some(p), me.percent.clone())
                    }
                    None => {
                        refuse(&mut outcomes, &line, "bad-percent");
                        continue;
                    }
                },
                Field::Permanent => match permanent(value) {
                    Some(p) => {
                        *perm = Some(p);
                        let word = |p: bool| if p { "fast" } else { "vikar" }.to_string();
                        (Some(word(p)), me.permanent.map(word))
                    }
                    None => {
                        refuse(&mut outcomes, &line, "bad-permanent");
                        continue;
                    }
                },
                _ => continue,
            };
            pending_fields += 1;
            outcomes.push(json!({ "status": "pending", "field": field.key(), "before": before, "after": after }));
        }
        let applied = changes.len();
        let result = match (applied + pending_fields, refused) {
            (0, _) => Outcome::Rejected,
            (_, r) if r > 0 => Outcome::Partial,
            _ if pending_fields > 0 => Outcome::Pending,
            _ => Outcome::Ok,
        };
        let nothing = self.lines.is_empty();
        let mut plan = Plan::reply(
            KIND,
            result,
            cx.reply(
                "update",
                json!({ "lines": outcomes, "nothing": nothing, "pending": pending_fields > 0 }),
            ),
        );
        if !changes.is_empty() {
            plan.actions.push(Action::UpdatePerson {
                person_id: me.id,
                changes,
            });
        }
        if pending_fields > 0 {
            plan.actions.push(Action::Pending(PendingChange {
                summary: format!(
                    "{} ({}) endrer arbeidsforhold: {}",
                    me.name,
                    me.member_no.as_deref().unwrap_or("-"),
                    summary(&employment)
                ),
                change: employment,
            }));
        }
        plan
    }
}

/// `arbeidsgiver Bedrift AS, stilling Ergoterapeut, 80 %`.
fn summary(c: &Change) -> String {
    let Change::Employment {
        employer,
        workplace,
        position,
        percent,
        permanent,
        ..
    } = c
    else {
        return String::new();
    };
    let mut parts = Vec::new();
    if let Some(e) = employer {
        parts.push(format!("arbeidsgiver {e}"));
    }
    if let Some(w) = workplace {
        parts.push(format!("arbeidssted {w}"));
    }
    if let Some(p) = position {
        parts.push(format!("stilling {p}"));
    }
    if let Some(p) = percent {
        parts.push(format!("{p} %"));
    }
    if let Some(p) = permanent {
        parts.push(if *p { "fast" } else { "vikar" }.to_string());
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Command;
    use crate::testing::{Values, decide, sender};

    #[test]
    fn field_names_in_four_languages_and_as_people_type_them() {
        for (name, field) in [
            ("Telefon", Field::Phone),
            ("tlf", Field::Phone),
            ("Mobil", Field::Phone),
            ("telefonnummer", Field::Phone),
            ("phone", Field::Phone),
            ("Post nr", Field::Postcode),
            ("postnummer", Field::Postcode),
            ("Poststed", Field::City),
            ("Ny adresse", Field::Address),
            ("språk", Field::Language),
            ("sprog", Field::Language),
            ("Arbeidsgjevar", Field::Employer),
            ("arbejdsgiver", Field::Employer),
            ("Arbeidsstad", Field::Workplace),
            ("stillingsprosent", Field::Percent),
            ("Fast/vikar", Field::Permanent),
        ] {
            assert_eq!(Field::named(name), Some(field), "{name}");
        }
        assert_eq!(Field::named("Hilsen"), None);
    }

    #[test]
    fn values_are_checked() {
        assert_eq!(phone("912 34 567", "47").as_deref(), Some("+4791234567"));
        assert_eq!(
            phone("+47 912 34 567", "45").as_deref(),
            Some("+4791234567")
        );
        assert_eq!(
            phone("0045 12-34-56-78", "47").as_deref(),
            Some("+4512345678")
        );
        assert_eq!(phone("12 34 56 78", "45").as_deref(), Some("+4512345678"));
        assert_eq!(phone("1234", "47"), None);
        assert_eq!(phone("+46 70 123 45 67", "47"), None);
        assert_eq!(percent("80 %").as_deref(), Some("80"));
        assert_eq!(percent("62,5").as_deref(), Some("62.5"));
        assert_eq!(percent("0"), None);
        assert_eq!(percent("120"), None);
        assert_eq!(permanent("Vikar"), Some(false));
        assert_eq!(permanent("fast ansatt"), Some(true));
        assert_eq!(language("nynorsk"), Some(Language::Nn));
        assert_eq!(language("svensk"), None);
    }

    fn kari() -> PersonDetail {
        PersonDetail {
            id: 1,
            member_no: Some("50001".into()),
            name: "Kari Nordmann".into(),
            phone: Some("+4791234567".into()),
            city: Some("Bergen".into()),
            employer_id: Some(1),
            employer: Some("Bedrift AS".into()),
            workplace: Some("Hovedkontoret".into()),
            status: "active".into(),
            ..PersonDetail::default()
        }
    }

    fn run(body: &str, reads: Values) -> Plan {
        let me = sender("kari@example.no", false, false, false, true);
        decide(&Command::Update(Update::parse(body)), &me, &reads)
    }

    #[test]
    fn contact_fields_apply_at_once_and_employment_waits() {
        let reads = Values {
            person: Some(kari()),
            workplaces: vec![WorkplaceBrief {
                id: 2,
                employer_id: 1,
                employer: "Bedrift AS".into(),
                orgnr: "923609016".into(),
                name: "Lageret".into(),
                midlevel: None,
                open: true,
            }],
            ..Values::default()
        };
        let p = run(
            "tlf: 913 00 000\npost nr: 5003\nPoststed: Bergen\narbeidssted: lageret\nstillingsprosent: 80 %\nhilsen: Kari",
            reads,
        );
        assert_eq!(p.result, Outcome::Partial, "one line was no field");
        let lines = p.replies[0].vars["lines"].as_array().unwrap();
        let status: Vec<&str> = lines
            .iter()
            .map(|l| l["status"].as_str().unwrap())
            .collect();
        assert_eq!(
            status,
            [
                "applied",
                "applied",
                "unchanged",
                "pending",
                "pending",
                "refused"
            ]
        );
        assert_eq!(lines[0]["before"], "+4791234567");
        assert_eq!(lines[0]["after"], "+4791300000");
        assert!(
            matches!(&p.actions[0], Action::UpdatePerson { changes, .. } if changes.len() == 2)
        );
        assert!(matches!(
            &p.actions[1],
            Action::Pending(PendingChange { change: Change::Employment { workplace: Some(w), percent: Some(pc), .. }, .. })
                if w == "Lageret" && pc == "80"
        ));
    }

    #[test]
    fn bad_values_are_named_and_nothing_changes() {
        let reads = Values {
            person: Some(kari()),
            ..Values::default()
        };
        let p = run(
            "telefon: 123\npostnummer: 50031\narbeidsgiver: Ukjent AS\nstillingsprosent: 150",
            reads,
        );
        assert_eq!(p.result, Outcome::Rejected);
        assert!(p.actions.is_empty());
        let reasons: Vec<&str> = p.replies[0].vars["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["reason"].as_str().unwrap())
            .collect();
        assert_eq!(
            reasons,
            [
                "bad-phone",
                "bad-postcode",
                "employer-unknown",
                "bad-percent"
            ]
        );
    }

    #[test]
    fn a_field_without_a_colon_is_named_and_a_signature_is_not_a_field() {
        let reads = Values {
            person: Some(kari()),
            ..Values::default()
        };
        let p = run(
            "telefon 913 00 000\nny adresse Storgata 2\nHilsen Kari\nKari Nordmann",
            reads,
        );
        let lines = p.replies[0].vars["lines"].as_array().unwrap();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines[0]["line"], "telefon 913 00 000");
        assert_eq!(lines[0]["reason"], "no-colon");
        assert_eq!(lines[1]["reason"], "no-colon");
    }
}
