//! `MINE LIKEPERSONER` [MY PEERS]: an .xlsx of exactly the peers in the rep's
//! scope (the columns of seed 000), to the rep's own address.

use anyhow::Result;
use serde_json::json;

use crate::cx::Cx;
use crate::decide::Decide;
use crate::plan::{Attach, Outcome, Plan, Table};
use crate::register::{PeerBrief, Register};

/// `MINE LIKEPERSONER`
#[derive(Debug)]
pub struct MyPeers;

/// The columns of the peer list.
pub const HEADERS: [&str; 6] = [
    "Likepersonnr",
    "Navn",
    "E-post",
    "Telefon",
    "Lokallag",
    "Aktive år",
];

/// The peer list as a table, one row per peer, in the order given.
pub fn table(peers: &[PeerBrief]) -> Table {
    let rows = peers
        .iter()
        .map(|p| {
            let mut years = p.years.clone();
            years.sort_unstable();
            years.dedup();
            let years: Vec<String> = years.iter().map(i32::to_string).collect();
            vec![
                p.peer_no.clone(),
                p.name.clone(),
                p.email.clone().unwrap_or_default(),
                p.phone.clone().unwrap_or_default(),
                p.unit.clone(),
                years.join(", "),
            ]
        })
        .collect();
    Table {
        name: "Likepersoner".into(),
        headers: HEADERS.iter().map(|h| h.to_string()).collect(),
        rows,
    }
}

impl Decide for MyPeers {
    type Reads = Vec<PeerBrief>;

    fn read(&self, reg: &dyn Register, cx: &Cx<'_>) -> Result<Vec<PeerBrief>> {
        reg.peers(&cx.facts.scope)
    }

    fn decide(&self, cx: &mut Cx<'_>, peers: Vec<PeerBrief>) -> Plan {
        let mut reply = cx.reply("list", json!({ "what": "peers", "count": peers.len() }));
        reply.attachments.push(Attach::Workbook {
            file: "likepersoner.xlsx".into(),
            sheets: vec![table(&peers)],
        });
        Plan::reply("peers", Outcome::Ok, reply)
    }
}
