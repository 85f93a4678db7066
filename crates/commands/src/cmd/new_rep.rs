//! `NY TILLITSVALGT` [NEW REP]: a rep reports a member in scope elected rep
//! or deputy (`rolle:`) at a level (`nivå:` arbeidsgiver, mellomnivå,
//! arbeidssted, or enhet with `enhet:` a chapter or region in the rep's
//! scope) from a date (`fra:`); pending for the office, and in force from
//! that date once approved. The new and the outgoing rep are told (see
//! `decision`).

use anyhow::Result;
use serde_json::json;

use super::reported::{Fields, comment, one_member, pending, refused, when};
use crate::cx::Cx;
use crate::decide::Decide;
use crate::plan::{Change, NewRepChange, PendingChange, Plan};
use crate::register::{MembersInScope, Register, UnitBrief};
use crate::words::{field, name_key};

/// `NY TILLITSVALGT`
#[derive(Debug)]
pub struct NewRep {
    /// What followed the keyword (the member, unless `medlem:` names them).
    pub who: String,
    pub fields: Fields,
}

impl Decide for NewRep {
    type Reads = (MembersInScope, Vec<UnitBrief>);

    fn read(&self, reg: &dyn Register, cx: &Cx<'_>) -> Result<Self::Reads> {
        Ok((reg.members(&cx.facts.scope)?, reg.units(&cx.facts.scope)?))
    }

    fn decide(&self, cx: &mut Cx<'_>, (reads, units): Self::Reads) -> Plan {
        const KIND: &str = "new-rep";
        let fs = &self.fields;
        let when = match when(cx, KIND, fs) {
            Ok(w) => w,
            Err(refused) => return refused,
        };
        let who = field(fs, &["medlem", "navn"]).unwrap_or(&self.who);
        let m = match one_member(cx, KIND, who, &reads.members) {
            Ok(m) => m,
            Err(p) => return p,
        };
        let Some(email) = m.email.clone() else {
            return refused(cx, KIND, "no-address", json!({ "who": m.name }));
        };
        let role = field(fs, &["rolle", "verv"])
            .unwrap_or("tillitsvalgt")
            .to_lowercase();
        if role != "tillitsvalgt" && role != "vara" {
            return refused(cx, KIND, "bad-role", json!({ "given": role }));
        }
        let level = field(fs, &["niva"])
            .unwrap_or("arbeidssted")
            .to_lowercase()
            .replace('å', "a");
        let level = match level.as_str() {
            "lag" | "lokallag" | "region" => "enhet".to_string(),
            _ => level,
        };
        let Some(from) = when else {
            return refused(cx, KIND, "bad-date", json!({ "given": "" }));
        };
        let Some(employer_id) = m.employer_id else {
            return refused(cx, KIND, "employer-unknown", json!({}));
        };
        let employer = m.employer.clone().unwrap_or_default();
        let workplaces = &reads.workplaces;
        let orgnr = workplaces
            .iter()
            .find(|w| w.employer_id == employer_id)
            .map(|w| w.orgnr.clone());
        let mut unit_id = None;
        let mut unit: Option<String> = None;
        let (workplace_id, workplace, midlevel) = match level.as_str() {
            "arbeidsgiver" => (None, None, None),
            // A chapter's or region's rep: a unit the reporting rep holds.
            "enhet" => {
                let named = field(fs, &["enhet", "lag", "lokallag", "region"]);
                let found = match (named, units.as_slice()) {
                    (Some(n), _) => units.iter().find(|u| name_key(&u.name) == name_key(n)),
                    (None, [only]) => Some(only),
                    (None, _) => None,
                };
                match found {
                    Some(u) => {
                        unit_id = Some(u.id);
                        unit = Some(u.name.clone());
                        (None, None, None)
                    }
                    None => {
                        return refused(
                            cx,
                            KIND,
                            "unit-unknown",
                            json!({ "who": named, "units": units.iter().map(|u| &u.name).collect::<Vec<_>>() }),
                        );
                    }
                }
            }
            "mellomniva" => (
                None,
                None,
                field(fs, &["mellomniva", "arbeidssted"]).map(str::to_string),
            ),
            "arbeidssted" => {
                let name = field(fs, &["arbeidssted"])
                    .map(str::to_string)
                    .or(m.workplace.clone());
                let w = name.as_deref().and_then(|n| {
                    workplaces
                        .iter()
                        .find(|w| w.employer_id == employer_id && name_key(&w.name) == name_key(n))
                });
                match w {
                    Some(w) => (Some(w.id), Some(w.name.clone()), None),
                    None => {
                        return refused(cx, KIND, "workplace-unknown", json!({ "who": name }));
                    }
                }
            }
            _ => return refused(cx, KIND, "bad-level", json!({ "given": level })),
        };
        let summary = format!(
            "{} ({}) ny {role} på nivå {level} hos {employer}{} fra {from}",
            m.name,
            m.member_no.as_deref().unwrap_or("-"),
            workplace
                .as_deref()
                .or(midlevel.as_deref())
                .or(unit.as_deref())
                .map(|w| format!(", {w}"))
                .unwrap_or_default()
        );
        pending(
            cx,
            KIND,
            PendingChange {
                summary,
                change: Change::NewRep(Box::new(NewRepChange {
                    person_id: m.id,
                    email,
                    name: m.name.clone(),
                    role,
                    level,
                    employer_id,
                    employer,
                    orgnr,
                    workplace_id,
                    workplace,
                    midlevel,
                    unit_id,
                    unit,
                    from,
                    comment: comment(fs),
                })),
            },
        )
    }
}
