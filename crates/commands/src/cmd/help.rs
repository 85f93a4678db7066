//! `HJELP` [HELP]: the commands this sender may use, by role.

use anyhow::Result;

use crate::cx::Cx;
use crate::decide::Decide;
use crate::plan::{Outcome, Plan};
use crate::register::Register;
use crate::rule::help_vars;

/// `HJELP`
#[derive(Debug)]
pub struct Help;

impl Decide for Help {
    type Reads = ();
    fn read(&self, _: &dyn Register, _: &Cx<'_>) -> Result<()> {
        Ok(())
    }
    fn decide(&self, cx: &mut Cx<'_>, (): ()) -> Plan {
        Plan::reply("help", Outcome::Ok, cx.reply("help", help_vars(cx.facts)))
    }
}
