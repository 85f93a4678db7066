//! `INNSENDTE` [SUBMITTED]: the periods the sender's employers submitted in
//! the last 12 months, with dates.

use anyhow::Result;
use chrono::Duration;
use serde_json::json;

use crate::cx::Cx;
use crate::decide::Decide;
use crate::plan::{Outcome, Plan};
use crate::register::{self, Register};

/// `INNSENDTE`
#[derive(Debug)]
pub struct Submitted;

impl Decide for Submitted {
    type Reads = Vec<register::Submitted>;

    fn read(&self, reg: &dyn Register, cx: &Cx<'_>) -> Result<Vec<register::Submitted>> {
        let ids: Vec<i64> = cx.facts.employers.iter().map(|e| e.id).collect();
        reg.submitted(&ids, cx.now - Duration::days(366))
    }

    fn decide(&self, cx: &mut Cx<'_>, submitted: Vec<register::Submitted>) -> Plan {
        let employers: Vec<_> = cx
            .facts
            .employers
            .iter()
            .map(|e| {
                json!({
                    "name": e.name, "orgnr": e.orgnr,
                    "periods": submitted.iter().filter(|p| p.employer_id == e.id).collect::<Vec<_>>(),
                })
            })
            .collect();
        Plan::reply(
            "submitted",
            Outcome::Ok,
            cx.reply("submitted", json!({ "employers": employers })),
        )
    }
}
