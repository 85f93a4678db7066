//! Reps' change reports (SPEC section 5): `MEDLEM MANGLER` becomes a ticket
//! for the office; `MEDLEM SLUTTET`, `MEDLEM FLYTTET`, `ARBEIDSSTED NY |
//! NYTT NAVN | AVSLUTT` and `NY TILLITSVALGT` become pending changes. Only
//! members and workplaces in the rep's scope can be named; anything else is
//! answered as not found, never as "exists elsewhere".

use super::activity::name_key;
use super::snapshot::{MemberBrief, WorkplaceBrief};
use super::{Facts, Settings, language};
use crate::plan::{Action, Outcome, PendingChange, Plan, Reply};
use chrono::NaiveDate;
use postbud_core::classify::Keyword;
use postbud_core::message::Incoming;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// `felt: verdi` lines, keys lower-cased with æøå folded to ASCII.
pub fn fields(body: &str) -> BTreeMap<String, String> {
    body.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| {
            let k = k
                .trim()
                .to_lowercase()
                .replace('ø', "o")
                .replace('å', "a")
                .replace('æ', "ae");
            (k, v.trim().to_string())
        })
        .filter(|(k, v)| !k.is_empty() && !v.is_empty() && k.len() < 40)
        .collect()
}

fn field<'a>(f: &'a BTreeMap<String, String>, keys: &[&str]) -> Option<&'a str> {
    keys.iter().find_map(|k| f.get(*k).map(String::as_str))
}

/// A date as `YYYY-MM-DD`, `DD.MM.YYYY` or `D.M.YYYY`.
pub fn date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d.%m.%Y"))
        .ok()
}

/// The member a rep names: member number, address or name, within scope.
fn find_member<'a>(who: &str, members: &'a [MemberBrief]) -> Vec<&'a MemberBrief> {
    let who = who.trim();
    let lower = who.to_lowercase();
    let by_no: Vec<_> = members
        .iter()
        .filter(|m| m.member_no.as_deref() == Some(who))
        .collect();
    if !by_no.is_empty() {
        return by_no;
    }
    if lower.contains('@') {
        return members
            .iter()
            .filter(|m| m.email.as_deref() == Some(lower.as_str()))
            .collect();
    }
    let key = name_key(who);
    members
        .iter()
        .filter(|m| name_key(&m.name) == key)
        .collect()
}

fn reply(
    f: &Facts,
    s: &Settings,
    kind: &'static str,
    result: Outcome,
    template: &'static str,
    vars: Value,
) -> Plan {
    Plan::reply(
        kind,
        result,
        Reply::new(&f.sender, template, language(f, s), vars),
    )
}

/// Why a report could not be taken, in the sender's language (a template
/// with a `problem` key).
fn refused(f: &Facts, s: &Settings, kind: &'static str, problem: &str, extra: Value) -> Plan {
    super::refused(f, s, kind, "change-refused", problem, extra)
}

fn pending(f: &Facts, s: &Settings, kind: &'static str, change: PendingChange) -> Plan {
    let mut p = reply(
        f,
        s,
        kind,
        Outcome::Pending,
        "change-pending",
        json!({ "summary": change.summary }),
    );
    p.actions.push(Action::Pending(change));
    p
}

fn one_member<'a>(
    f: &Facts,
    s: &Settings,
    kind: &'static str,
    who: &str,
    members: &'a [MemberBrief],
) -> Result<&'a MemberBrief, Plan> {
    if who.trim().is_empty() {
        return Err(refused(f, s, kind, "no-member", json!({})));
    }
    match find_member(who, members).as_slice() {
        [m] => Ok(m),
        [] => Err(refused(f, s, kind, "member-unknown", json!({ "who": who }))),
        many => Err(refused(
            f,
            s,
            kind,
            "member-ambiguous",
            json!({ "who": who, "candidates": many.iter().map(|m| json!({"no": m.member_no, "name": m.name, "workplace": m.workplace})).collect::<Vec<_>>() }),
        )),
    }
}

/// The employer a workplace report is about: named by `arbeidsgiver:` or
/// the only one in scope.
fn employer_of<'a>(
    fs: &BTreeMap<String, String>,
    workplaces: &'a [WorkplaceBrief],
    scope_employers: &[(i64, String, String)],
) -> Result<(i64, String), &'static str> {
    let named = field(fs, &["arbeidsgiver", "orgnr"])
        .map(|o| o.chars().filter(char::is_ascii_digit).collect::<String>());
    let _ = workplaces;
    match named {
        Some(o) => scope_employers
            .iter()
            .find(|(_, orgnr, _)| *orgnr == o)
            .map(|(id, _, name)| (*id, name.clone()))
            .ok_or("employer-unknown"),
        None => match scope_employers {
            [(id, _, name)] => Ok((*id, name.clone())),
            [] => Err("employer-unknown"),
            _ => Err("employer-which"),
        },
    }
}

/// Decides a change report.
pub fn decide(
    f: &Facts,
    s: &Settings,
    msg: &Incoming,
    keyword: Keyword,
    args: &str,
    body: &str,
    members: &[MemberBrief],
    workplaces: &[WorkplaceBrief],
) -> Plan {
    let kind = keyword.kind();
    let fs = fields(body);
    let mut employers: Vec<(i64, String, String)> = workplaces
        .iter()
        .map(|w| (w.employer_id, w.orgnr.clone(), w.employer.clone()))
        .collect();
    employers.sort();
    employers.dedup();
    let when = field(&fs, &["dato", "fra", "sluttdato", "fra dato"]);
    let when_date = when.and_then(date).map(|d| d.to_string());
    if when.is_some() && when_date.is_none() {
        return refused(f, s, kind, "bad-date", json!({ "given": when }));
    }
    let comment = field(&fs, &["kommentar", "annet", "comment"]).map(str::to_string);
    match keyword {
        Keyword::MedlemMangler => {
            let mut p = reply(
                f,
                s,
                kind,
                Outcome::Pending,
                "member-missing",
                json!({ "fields": fs }),
            );
            p.actions.push(Action::OpenTicket {
                topic: kind.to_string(),
                subject: msg.subject.clone(),
                body: body.to_string(),
            });
            p
        }
        Keyword::MedlemSluttet => {
            let m = match one_member(f, s, kind, args, members) {
                Ok(m) => m,
                Err(p) => return p,
            };
            let new_employer = field(&fs, &["ny arbeidsgiver", "arbeidsgiver"]).map(str::to_string);
            pending(
                f,
                s,
                kind,
                PendingChange {
                    kind: "member-left",
                    summary: format!(
                        "{} ({}) har sluttet hos {}{}{}",
                        m.name,
                        m.member_no.as_deref().unwrap_or("-"),
                        m.employer.as_deref().unwrap_or("arbeidsgiveren"),
                        when_date
                            .as_deref()
                            .map(|d| format!(" fra {d}"))
                            .unwrap_or_default(),
                        new_employer
                            .as_deref()
                            .map(|e| format!(", ny arbeidsgiver {e}"))
                            .unwrap_or_default(),
                    ),
                    payload: json!({ "person_id": m.id, "end_date": when_date, "new_employer_orgnr": new_employer, "comment": comment }),
                },
            )
        }
        Keyword::MedlemFlyttet => {
            let m = match one_member(f, s, kind, args, members) {
                Ok(m) => m,
                Err(p) => return p,
            };
            let Some(to) = field(&fs, &["arbeidssted", "nytt arbeidssted"]) else {
                return refused(f, s, kind, "no-workplace", json!({}));
            };
            let Some(employer) = m.employer_id else {
                return refused(f, s, kind, "member-unknown", json!({ "who": args }));
            };
            pending(
                f,
                s,
                kind,
                PendingChange {
                    kind: "member-moved",
                    summary: format!(
                        "{} ({}) flytter fra {} til {}{}",
                        m.name,
                        m.member_no.as_deref().unwrap_or("-"),
                        m.workplace.as_deref().unwrap_or("-"),
                        to,
                        when_date
                            .as_deref()
                            .map(|d| format!(" fra {d}"))
                            .unwrap_or_default()
                    ),
                    payload: json!({ "person_id": m.id, "employer_id": employer, "workplace": to, "date": when_date, "comment": comment }),
                },
            )
        }
        Keyword::ArbeidsstedNy => {
            let name = args.trim();
            if name.is_empty() {
                return refused(f, s, kind, "no-workplace", json!({}));
            }
            let (employer_id, employer) = match employer_of(&fs, workplaces, &employers) {
                Ok(e) => e,
                Err(problem) => {
                    return refused(
                        f,
                        s,
                        kind,
                        problem,
                        json!({ "employers": employers.iter().map(|e| json!({"orgnr": e.1, "name": e.2})).collect::<Vec<_>>() }),
                    );
                }
            };
            let midlevel = field(&fs, &["mellomniva"]).map(str::to_string);
            pending(
                f,
                s,
                kind,
                PendingChange {
                    kind: "workplace-new",
                    summary: format!("Nytt arbeidssted {name} hos {employer}"),
                    payload: json!({ "employer_id": employer_id, "workplace": name, "midlevel": midlevel, "date": when_date, "comment": comment }),
                },
            )
        }
        Keyword::ArbeidsstedNyttNavn | Keyword::ArbeidsstedAvslutt => {
            let name = args.trim();
            let key = name_key(name);
            let found: Vec<&WorkplaceBrief> = workplaces
                .iter()
                .filter(|w| name_key(&w.name) == key)
                .collect();
            let w = match found.as_slice() {
                [w] => *w,
                [] => return refused(f, s, kind, "workplace-unknown", json!({ "who": name })),
                _ => return refused(f, s, kind, "employer-which", json!({})),
            };
            if keyword == Keyword::ArbeidsstedAvslutt {
                pending(
                    f,
                    s,
                    kind,
                    PendingChange {
                        kind: "workplace-close",
                        summary: format!(
                            "Arbeidsstedet {} hos {} avsluttes{}",
                            w.name,
                            w.employer,
                            when_date
                                .as_deref()
                                .map(|d| format!(" fra {d}"))
                                .unwrap_or_default()
                        ),
                        payload: json!({ "workplace_id": w.id, "date": when_date, "comment": comment }),
                    },
                )
            } else {
                let Some(new_name) = field(&fs, &["nytt navn", "navn"]) else {
                    return refused(f, s, kind, "no-new-name", json!({}));
                };
                pending(
                    f,
                    s,
                    kind,
                    PendingChange {
                        kind: "workplace-rename",
                        summary: format!(
                            "Arbeidsstedet {} hos {} får nytt navn: {new_name}",
                            w.name, w.employer
                        ),
                        payload: json!({ "workplace_id": w.id, "new_name": new_name, "date": when_date, "comment": comment }),
                    },
                )
            }
        }
        Keyword::NyTillitsvalgt => {
            let who = field(&fs, &["medlem", "navn"]).unwrap_or(args);
            let m = match one_member(f, s, kind, who, members) {
                Ok(m) => m,
                Err(p) => return p,
            };
            let Some(email) = m.email.clone() else {
                return refused(f, s, kind, "no-address", json!({ "who": m.name }));
            };
            let role = field(&fs, &["rolle", "verv"])
                .unwrap_or("tillitsvalgt")
                .to_lowercase();
            if role != "tillitsvalgt" && role != "vara" {
                return refused(f, s, kind, "bad-role", json!({ "given": role }));
            }
            let level = field(&fs, &["niva"])
                .unwrap_or("arbeidssted")
                .to_lowercase()
                .replace('å', "a");
            let Some(from) = when_date.clone() else {
                return refused(f, s, kind, "bad-date", json!({ "given": "" }));
            };
            let (employer_id, employer) = match m.employer_id {
                Some(e) => (e, m.employer.clone().unwrap_or_default()),
                None => return refused(f, s, kind, "employer-unknown", json!({})),
            };
            let orgnr = workplaces
                .iter()
                .find(|w| w.employer_id == employer_id)
                .map(|w| w.orgnr.clone());
            let (workplace_id, workplace, midlevel) = match level.as_str() {
                "arbeidsgiver" => (None, None, None),
                "mellomniva" => (
                    None,
                    None,
                    field(&fs, &["mellomniva", "arbeidssted"]).map(str::to_string),
                ),
                "arbeidssted" => {
                    let name = field(&fs, &["arbeidssted"])
                        .map(str::to_string)
                        .or(m.workplace.clone());
                    let w = name.as_deref().and_then(|n| {
                        workplaces.iter().find(|w| {
                            w.employer_id == employer_id && name_key(&w.name) == name_key(n)
                        })
                    });
                    match w {
                        Some(w) => (Some(w.id), Some(w.name.clone()), None),
                        None => {
                            return refused(
                                f,
                                s,
                                kind,
                                "workplace-unknown",
                                json!({ "who": name }),
                            );
                        }
                    }
                }
                _ => return refused(f, s, kind, "bad-level", json!({ "given": level })),
            };
            pending(
                f,
                s,
                kind,
                PendingChange {
                    kind: "new-rep",
                    summary: format!(
                        "{} ({}) ny {role} på nivå {level} hos {employer}{} fra {from}",
                        m.name,
                        m.member_no.as_deref().unwrap_or("-"),
                        workplace
                            .as_deref()
                            .or(midlevel.as_deref())
                            .map(|w| format!(", {w}"))
                            .unwrap_or_default()
                    ),
                    payload: json!({
                        "person_id": m.id, "email": email, "name": m.name, "role": role, "level": level,
                        "employer_id": employer_id, "employer": employer, "orgnr": orgnr,
                        "workplace_id": workplace_id, "workplace": workplace, "midlevel": midlevel,
                        "unit_id": null, "from": from, "comment": comment,
                    }),
                },
            )
        }
        _ => refused(f, s, kind, "unknown-command", json!({})),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_fold_norwegian_letters_in_keys() {
        let f =
            fields("Fødselsdato: 01.02.1990\nNy arbeidsgiver: 923609016\nrolle:vara\n\nbare tekst");
        assert_eq!(f.get("fodselsdato").map(String::as_str), Some("01.02.1990"));
        assert_eq!(
            f.get("ny arbeidsgiver").map(String::as_str),
            Some("923609016")
        );
        assert_eq!(f.get("rolle").map(String::as_str), Some("vara"));
        assert_eq!(f.len(), 3);
    }

    #[test]
    fn dates_in_both_forms() {
        assert_eq!(date("2026-11-30"), NaiveDate::from_ymd_opt(2026, 11, 30));
        assert_eq!(date("1.12.2026"), NaiveDate::from_ymd_opt(2026, 12, 1));
        assert_eq!(date("neste uke"), None);
    }
}
