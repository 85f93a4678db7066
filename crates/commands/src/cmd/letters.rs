//! `BREV` [LETTERS]: an employer contact's letters. Until the letters job
//! exists the office answers by hand: a ticket and a receipt.

use anyhow::Result;

use super::support::Support;
use crate::cx::Cx;
use crate::decide::Decide;
use crate::plan::Plan;
use crate::register::Register;

/// `BREV`, for now a request for the office.
#[derive(Debug)]
pub struct Letters(pub Support);

impl Decide for Letters {
    type Reads = ();
    fn read(&self, _: &dyn Register, _: &Cx<'_>) -> Result<()> {
        Ok(())
    }
    fn decide(&self, cx: &mut Cx<'_>, (): ()) -> Plan {
        self.0.decide(cx, ())
    }
}
