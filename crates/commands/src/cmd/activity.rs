//! `AKTIVITET <year>` [ACTIVITY] (SPEC section 7): a comma-separated list of
//! peers active that year, matched within the rep's scope by peer number,
//! address or name. Unknown names are never created.

use anyhow::Result;
use chrono::Datelike;
use serde::Serialize;
use serde_json::json;

use crate::cx::Cx;
use crate::decide::Decide;
use crate::plan::{Action, Outcome, Plan};
use crate::register::{PeerBrief, Register};
use crate::words::name_key;

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

/// The entries of a list: the first paragraph, split at commas, semicolons
/// and line breaks. "Nordmann, Kari" (two single words that name one peer
/// together) stays one entry.
pub fn entries(body: &str, peers: &[PeerBrief]) -> Vec<String> {
    let para: Vec<&str> = body
        .trim_start()
        .split("\n\n")
        .next()
        .unwrap_or("")
        .lines()
        .filter(|l| !is_closing(l))
        .collect();
    let parts: Vec<String> = para
        .iter()
        .flat_map(|l| l.split([',', ';']))
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect();
    let known = |k: &str| peers.iter().any(|p| name_key(&p.name) == k);
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
    out
}

/// Matches entries against the peers in scope for `year`.
pub fn match_entries(entries: &[String], peers: &[PeerBrief], year: i32) -> Vec<Entry> {
    let mut seen: Vec<i64> = Vec::new();
    entries
        .iter()
        .map(|e| {
            let lower = e.to_lowercase();
            let found: Vec<&PeerBrief> =
                if let Some(p) = peers.iter().find(|p| p.peer_no.eq_ignore_ascii_case(e)) {
                    vec![p]
                } else if lower.contains('@') {
                    peers
                        .iter()
                        .filter(|p| p.email.as_deref() == Some(lower.as_str()))
                        .collect()
                } else {
                    let key = name_key(e);
                    peers.iter().filter(|p| name_key(&p.name) == key).collect()
                };
            match found.as_slice() {
                [] => Entry::Unknown { entry: e.clone() },
                [p] if p.years.contains(&year) || seen.contains(&p.id) => Entry::Already {
                    entry: e.clone(),
                    peer_no: p.peer_no.clone(),
                    name: p.name.clone(),
                },
                [p] => {
                    seen.push(p.id);
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
        let entries = entries(&self.body, &peers);
        let matched = match_entries(&entries, &peers, year);
        let mut plan = Plan::reply(
            "activity",
            Outcome::Ok,
            cx.reply("activity", json!({ "year": year, "entries": matched })),
        );
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
        let e = entries(body, &peers());
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
    fn last_name_first_stays_one_entry() {
        let e = entries("Nordmann, Kari\nkari@example.no", &peers());
        assert_eq!(e, ["Nordmann, Kari", "kari@example.no"]);
    }
}
