//! `MEDLEM MANGLER` [MEMBER MISSING]: a rep reports someone missing from the
//! register (name, birth date, address, phone, workplace as `felt: verdi`
//! lines); a ticket for the office, nothing changes yet.

use anyhow::Result;
use serde_json::json;

use super::reported::{Fields, when};
use crate::cx::Cx;
use crate::decide::Decide;
use crate::plan::{Action, Outcome, Plan};
use crate::register::Register;

/// `MEDLEM MANGLER`
#[derive(Debug)]
pub struct MemberMissing {
    pub subject: String,
    pub body: String,
    pub fields: Fields,
}

impl Decide for MemberMissing {
    type Reads = ();
    fn read(&self, _: &dyn Register, _: &Cx<'_>) -> Result<()> {
        Ok(())
    }

    fn decide(&self, cx: &mut Cx<'_>, (): ()) -> Plan {
        const KIND: &str = "member-missing";
        if let Err(refused) = when(cx, KIND, &self.fields) {
            return refused;
        }
        let mut p = Plan::reply(
            KIND,
            Outcome::Pending,
            cx.reply("member-missing", json!({ "fields": self.fields })),
        );
        p.actions.push(Action::OpenTicket {
            topic: KIND.to_string(),
            subject: self.subject.clone(),
            body: self.body.clone(),
        });
        p
    }
}
