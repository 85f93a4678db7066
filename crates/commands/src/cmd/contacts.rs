//! `KONTAKTER` [CONTACTS] (seed 003): the contact persons of the sender's
//! own employers with their responsibilities, active and deactivated.

use anyhow::Result;
use serde_json::json;

use crate::cx::Cx;
use crate::decide::Decide;
use crate::plan::{Outcome, Plan};
use crate::register::{ContactBrief, Register};

/// `KONTAKTER`
#[derive(Debug)]
pub struct Contacts;

/// The contacts of the sender's employers.
pub fn of_senders_employers(reg: &dyn Register, cx: &Cx<'_>) -> Result<Vec<ContactBrief>> {
    let ids: Vec<i64> = cx.facts.employers.iter().map(|e| e.id).collect();
    reg.contacts(&ids)
}

impl Decide for Contacts {
    type Reads = Vec<ContactBrief>;

    fn read(&self, reg: &dyn Register, cx: &Cx<'_>) -> Result<Vec<ContactBrief>> {
        of_senders_employers(reg, cx)
    }

    fn decide(&self, cx: &mut Cx<'_>, contacts: Vec<ContactBrief>) -> Plan {
        Plan::reply(
            "contacts",
            Outcome::Ok,
            cx.reply(
                "contacts",
                json!({ "employers": cx.facts.employers, "contacts": contacts }),
            ),
        )
    }
}
