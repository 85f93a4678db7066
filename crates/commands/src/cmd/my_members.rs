//! `MINE MEDLEMMER` [MY MEMBERS]: an .xlsx of exactly the members in the
//! rep's scope (the columns of seed 001), to the rep's own address.

use anyhow::Result;
use serde_json::json;

use crate::cx::Cx;
use crate::decide::Decide;
use crate::plan::{Attach, Outcome, Plan, Table};
use crate::register::{MemberBrief, MembersInScope, Register};

/// `MINE MEDLEMMER`
#[derive(Debug)]
pub struct MyMembers;

/// The columns of seed 001's member list.
pub const HEADERS: [&str; 10] = [
    "Medlemsnr",
    "Navn",
    "E-post",
    "Mobil",
    "Fast/vikar",
    "Hovedarbeidsgiver",
    "Stilling",
    "Arbeidssted",
    "Mellomnivå",
    "Arbeidsgiver",
];

/// The member list as a table, one row per member, in the order given.
pub fn table(members: &[MemberBrief]) -> Table {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let rows = members
        .iter()
        .map(|m| {
            vec![
                opt(&m.member_no),
                m.name.clone(),
                opt(&m.email),
                opt(&m.phone),
                match m.permanent {
                    Some(true) => "Fast".into(),
                    Some(false) => "Vikar".into(),
                    None => String::new(),
                },
                // Whether this is the member's main employer is not registered.
                String::new(),
                opt(&m.position),
                opt(&m.workplace),
                opt(&m.midlevel),
                opt(&m.employer),
            ]
        })
        .collect();
    Table {
        name: "Medlemmer".into(),
        headers: HEADERS.iter().map(|h| h.to_string()).collect(),
        rows,
    }
}

impl Decide for MyMembers {
    type Reads = MembersInScope;

    fn read(&self, reg: &dyn Register, cx: &Cx<'_>) -> Result<MembersInScope> {
        reg.members(&cx.facts.scope)
    }

    fn decide(&self, cx: &mut Cx<'_>, reads: MembersInScope) -> Plan {
        let members = reads.members;
        let mut reply = cx.reply("list", json!({ "what": "members", "count": members.len() }));
        reply.attachments.push(Attach::Workbook {
            file: "medlemmer.xlsx".into(),
            sheets: vec![table(&members)],
        });
        Plan::reply("members", Outcome::Ok, reply)
    }
}
