//! `MINE TILLITSVALGTE` [MY REPS] (SPEC section 5, seed 001 "Mine
//! tillitsvalgte"): the current reps and deputies at the member's employer,
//! mid-level and workplace, and of the member's chapter, with role, level
//! and how to reach them. To the member's own registered address only.

use anyhow::Result;
use serde_json::json;

use crate::cx::Cx;
use crate::decide::Decide;
use crate::plan::{Outcome, Plan};
use crate::register::{PersonDetail, Register, RepBrief};

/// `MINE TILLITSVALGTE`
#[derive(Debug)]
pub struct MyReps;

impl Decide for MyReps {
    type Reads = (Option<PersonDetail>, Vec<RepBrief>);

    fn read(&self, reg: &dyn Register, cx: &Cx<'_>) -> Result<Self::Reads> {
        let Some(me) = &cx.facts.person else {
            return Ok((None, Vec::new()));
        };
        let Some(person) = reg.person(me.id)? else {
            return Ok((None, Vec::new()));
        };
        let reps = reg.reps_of(&person, cx.today())?;
        Ok((Some(person), reps))
    }

    fn decide(&self, cx: &mut Cx<'_>, (person, reps): Self::Reads) -> Plan {
        let employer = person.as_ref().and_then(|p| p.employer.clone());
        Plan::reply(
            "reps",
            Outcome::Ok,
            cx.reply("reps", json!({ "reps": reps, "employer": employer })),
        )
    }
}
