//! `AKTIVITET <year>` [ACTIVITY] (SPEC section 7): a comma-separated list of
//! peers active that year, matched within the rep's scope by peer number,
//! address or name. Unknown names are never created.

use anyhow::Result;
use chrono::Datelike;
use serde::Serialize;
use serde_json::json;

use crate::cx::Cx;
use crate::decide::Decide;
use crate::plan::{Action, Attach, Outcome, Plan, Table};
use crate::register::{PeerBrief, Register};
use crate::words::name_key;
use postbud_core::message::address_key;

/// `AKTIVITET <year>` and the list in the body.
#[derive(Debug)]
pub struct Activity {
    /// The year as given, when it is a number.
    pub year: Option<i32>,
    /// What followed the keyword, for the reply when it is no year.
    pub given: String,
    /// The list.
    pub body: String,
}

impl Activity {
    pub fn parse(args: &str, body: String) -> Activity {
        Activity {
            year: args.split_whitespace().next().and_then(|y| y.parse().ok()),
            given: args.trim().to_string(),
            body,
        }
    }
}

/// What became of one entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Entry {
    Registered {
        entry: String,
        peer_no: String,
        name: String,
    },
    Already {
        entry: String,
        peer_no: String,
        name: String,
    },
    Unknown {
        entry: String,
    },
    Ambiguous {
        entry: String,
        candidates: Vec<String>,
    },
}

/// Lines that close a message rather than list peers.
fn is_closing(line: &str) -> bool {
    let l = line.trim().to_lowercase();
    [
        "mvh",
        "hilsen",
        "med vennlig hilsen",
        "vennlig hilsen",
        "venlig hilsen",
        "regards",
        "best regards",
        "--",
    ]
    .iter()
    .any(|c| l == *c || l.starts_with(&format!("{c} ")) || l.starts_with(&format!("{c},")))
}

/// Entries read from one list, at most: a chapter's peers are hundreds, and
/// a list of a million names must cost neither memory nor a huge reply.
pub const MAX_ENTRIES: usize = 5_000;
/// Entries listed in the reply's text; with more, all are in an attached
/// sheet.
pub const MAX_ENTRIES_IN_TEXT: usize = 100;

/// The entries of a list: the first paragraph, split at commas, semicolons
/// and line breaks, at most [`MAX_ENTRIES`] (and whether there were more).
/// "Nordmann, Kari" (two single words that name one peer together) stays
/// one entry.
pub fn entries(body: &str, peers: &[PeerBrief]) -> (Vec<String>, bool) {
    let para: Vec<&str> = body
        .trim_start()
        .split("\n\n")
        .next()
        .unwrap_or("")
        .lines()
        .filter(|l| !is_closing(l))
        .collect();
    let mut parts: Vec<String> = para
        .iter()
        .flat_map(|l| l.split([',', ';']))
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .take(MAX_ENTRIES + 2)
        .collect();
    let more = parts.len() > MAX_ENTRIES;
    parts.truncate(MAX_ENTRIES + 1);
    let names: std::collections::HashSet<String> =
        peers.iter().map(|p| name_key(&p.name)).collect();
    let known = |k: &str| names.contains(k);
    let mut out = Vec::new();
    let mut i = 0;
    while i < parts.len() {
        let single = |s: &str| !s.contains(' ') && !s.contains('@');
        if i + 1 < parts.len()
            && single(&parts[i])
            && single(&parts[i + 1])
            && known(&name_key(&format!("{} {}", parts[i], parts[i + 1])))
        {
            out.push(format!("{}, {}", parts[i], parts[i + 1]));
            i += 2;
        } else {
            out.push(parts[i].clone());
            i += 1;
        }
    }
    out.truncate(MAX_ENTRIES);
    (out, more)
}

/// Matches entries against the peers in scope for `year`, by peer number,
/// address or name (looked up, not searched: linear in the list).
pub fn match_entries(entries: &[String], peers: &[PeerBrief], year: i32) -> Vec<Entry> {
    use std::collections::{HashMap, HashSet};
    let mut by_no: HashMap<String, &PeerBrief> = HashMap::new();
    let mut by_email: HashMap<String, Vec<&PeerBrief>> = HashMap::new();
    let mut by_name: HashMap<String, Vec<&PeerBrief>> = HashMap::new();
    for p in peers {
        by_no.entry(p.peer_no.to_ascii_lowercase()).or_insert(p);
        if let Some(e) = &p.email {
            by_email.entry(address_key(e)).or_default().push(p);
        }
        by_name.entry(name_key(&p.name)).or_default().push(p);
    }
    let mut seen: HashSet<i64> = HashSet::new();
    entries
        .iter()
        .map(|e| {
            let found: Vec<&PeerBrief> = if let Some(p) = by_no.get(&e.to_ascii_lowercase()) {
                vec![*p]
            } else if e.contains('@') {
                by_email.get(&address_key(e)).cloned().unwrap_or_default()
            } else {
                by_name.get(&name_key(e)).cloned().unwrap_or_default()
            };
            match found.as_slice() {
                [] => Entry::Unknown { entry: e.clone() },
                [p] if p.years.contains(&year) || seen.contains(&p.id) => Entry::Already {
                    entry: e.clone(),
                    peer_no: p.peer_no.clone(),
                    name: p.name.clone(),
                },
                [p] => {
                    seen.insert(p.id);
                    Entry::Registered {
                        entry: e.clone(),
                        peer_no: p.peer_no.clone(),
                        name: p.name.clone(),
                    }
                }
                many => Entry::Ambiguous {
                    entry: e.clone(),
                    candidates: many.iter().map(|p| p.peer_no.clone()).collect(),
                },
            }
        })
        .collect()
}

/// Every entry and what became of it, as a sheet.
fn sheet(matched: &[Entry], year: i32) -> Attach {
    let rows = matched
        .iter()
        .map(|m| match m {
            Entry::Registered { entry, peer_no, .. } => {
                vec![entry.clone(), "registrert".into(), peer_no.clone()]
            }
            Entry::Already { entry, peer_no, .. } => {
                vec![entry.clone(), "allerede registrert".into(), peer_no.clone()]
            }
            Entry::Unknown { entry } => vec![entry.clone(), "ukjent".into(), String::new()],
            Entry::Ambiguous { entry, candidates } => {
                vec![entry.clone(), "flere passer".into(), candidates.join(", ")]
            }
        })
        .collect();
    Attach::Workbook {
        file: format!("aktivitet-{year}.xlsx"),
        sheets: vec![Table {
            name: format!("Aktivitet {year}"),
            headers: vec!["Oppført".into(), "Resultat".into(), "Likepersonnr".into()],
            rows,
        }],
    }
}

impl Decide for Activity {
    type Reads = Vec<PeerBrief>;

    fn read(&self, reg: &dyn Register, cx: &Cx<'_>) -> Result<Vec<PeerBrief>> {
        reg.peers(&cx.facts.scope)
    }

    fn decide(&self, cx: &mut Cx<'_>, peers: Vec<PeerBrief>) -> Plan {
        let this_year = cx.today().year();
        let Some(year) = self.year.filter(|y| *y == this_year || *y == this_year - 1) else {
            return Plan::reply(
                "activity",
                Outcome::Rejected,
                cx.reply(
                    "activity-year",
                    json!({ "given": self.given, "this_year": this_year, "last_year": this_year - 1 }),
                ),
            );
        };
        let (entries, more) = entries(&self.body, &peers);
        let matched = match_entries(&entries, &peers, year);
        let attached = matched.len() > MAX_ENTRIES_IN_TEXT;
        let mut reply = cx.reply(
            "activity",
            json!({
                "year": year,
                "entries": &matched[..matched.len().min(MAX_ENTRIES_IN_TEXT)],
                "count": matched.len(),
                "attached": attached,
                "more": more,
                "max": MAX_ENTRIES,
            }),
        );
        if attached {
            reply.attachments.push(sheet(&matched, year));
        }
        let mut plan = Plan::reply("activity", Outcome::Ok, reply);
        for m in &matched {
            if let Entry::Registered { peer_no, .. } = m
                && let Some(p) = peers.iter().find(|p| &p.peer_no == peer_no)
            {
                plan.actions.push(Action::RecordActivity {
                    peer_id: p.id,
                    year,
                });
            }
        }
        let good = matched
            .iter()
            .filter(|m| matches!(m, Entry::Registered { .. } | Entry::Already { .. }))
            .count();
        plan.result = match (good, matched.len()) {
            (_, 0) | (0, _) => Outcome::Rejected,
            (g, n) if g == n => Outcome::Ok,
            _ => Outcome::Partial,
        };
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(id: i64, no: &str, name: &str, email: &str, years: &[i32]) -> PeerBrief {
        PeerBrief {
            id,
            peer_no: no.into(),
            name: name.into(),
            email: Some(email.into()),
            phone: None,
            unit: "Bergen".into(),
            years: years.to_vec(),
        }
    }

    fn peers() -> Vec<PeerBrief> {
        vec![
            peer(1, "LP-0001", "Kari Nordmann", "kari@example.no", &[]),
            peer(
                2,
                "LP-0002",
                "Øystein Ærø-Åsen",
                "oystein@example.no",
                &[2026],
            ),
            peer(3, "LP-0003", "Ola Hansen", "ola1@example.no", &[]),
            peer(4, "LP-0004", "Ola  Hansen", "ola2@example.no", &[]),
        ]
    }

    #[test]
    fn each_entry_gets_its_status() {
        let body =
            "Kari Nordmann, Øystein Ærø-Åsen, Ukjent Person, ola hansen, LP-0001\n\nMvh Lise Leder";
        let (e, more) = entries(body, &peers());
        assert!(!more);
        assert_eq!(
            e,
            [
                "Kari Nordmann",
                "Øystein Ærø-Åsen",
                "Ukjent Person",
                "ola hansen",
                "LP-0001"
            ]
        );
        let m = match_entries(&e, &peers(), 2026);
        assert!(matches!(&m[0], Entry::Registered { peer_no, .. } if peer_no == "LP-0001"));
        assert!(matches!(&m[1], Entry::Already { .. }));
        assert!(matches!(&m[2], Entry::Unknown { .. }));
        assert!(
            matches!(&m[3], Entry::Ambiguous { candidates, .. } if candidates == &["LP-0003", "LP-0004"])
        );
        assert!(
            matches!(&m[4], Entry::Already { .. }),
            "the same peer twice in one list"
        );
    }

    #[test]
    fn a_million_names_cost_a_few_thousand_and_a_sheet() {
        let body = (0..1_000_000)
            .map(|i| format!("Navn {i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let t = std::time::Instant::now();
        let (e, more) = entries(&body, &peers());
        assert!(more);
        assert_eq!(e.len(), MAX_ENTRIES);
        let m = match_entries(&e, &peers(), 2026);
        assert_eq!(m.len(), MAX_ENTRIES);
        assert!(t.elapsed().as_secs() < 5, "{:?}", t.elapsed());
    }

    #[test]
    fn last_name_first_stays_one_entry() {
        let (e, _) = entries("Nordmann, Kari\nkari@example.no", &peers());
        assert_eq!(e, ["Nordmann, Kari", "kari@example.no"]);
    }
}
