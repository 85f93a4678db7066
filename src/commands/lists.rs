//! `MINE MEDLEMMER` [MY MEMBERS] and `MINE LIKEPERSONER` [MY PEERS]: an .xlsx
//! of exactly the people in the rep's scope, to the rep's own address.

use super::snapshot::{MemberBrief, PeerBrief};
use super::{Facts, Settings, language};
use crate::plan::{Outcome, Plan, Reply};
use crate::sheets::{self, MemberRow, PeerRow};
use serde_json::json;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

pub fn members(f: &Facts, s: &Settings, members: &[MemberBrief]) -> Plan {
    let rows: Vec<MemberRow> = members
        .iter()
        .map(|m| MemberRow {
            member_no: m.member_no.clone().unwrap_or_default(),
            name: m.name.clone(),
            email: m.email.clone(),
            phone: m.phone.clone(),
            permanent: m.permanent,
            main_employer: None,
            position: m.position.clone(),
            workplace: m.workplace.clone(),
            midlevel: m.midlevel.clone(),
            employer: m.employer.clone(),
        })
        .collect();
    attach(
        f,
        s,
        "members",
        "medlemmer.xlsx",
        sheets::members_sheet(&rows),
        rows.len(),
    )
}

pub fn peers(f: &Facts, s: &Settings, peers: &[PeerBrief]) -> Plan {
    let rows: Vec<PeerRow> = peers
        .iter()
        .map(|p| PeerRow {
            peer_no: p.peer_no.clone(),
            name: p.name.clone(),
            email: p.email.clone(),
            phone: p.phone.clone(),
            unit: p.unit.clone(),
            active_years: p.years.clone(),
        })
        .collect();
    attach(
        f,
        s,
        "peers",
        "likepersoner.xlsx",
        sheets::peers_sheet(&rows),
        rows.len(),
    )
}

fn attach(
    f: &Facts,
    s: &Settings,
    kind: &'static str,
    file: &str,
    sheet: anyhow::Result<Vec<u8>>,
    count: usize,
) -> Plan {
    let mut reply = Reply::new(
        &f.sender,
        "list",
        language(f, s),
        json!({ "what": kind, "count": count }),
    );
    match sheet {
        Ok(bytes) => reply
            .attachments
            .push((file.to_string(), XLSX.to_string(), bytes)),
        // A sheet that cannot be written is a bug, not the sender's fault:
        // the plan fails and the message is quarantined for an admin.
        Err(e) => reply.vars["error"] = json!(e.to_string()),
    }
    Plan::reply(kind, Outcome::Ok, reply)
}
