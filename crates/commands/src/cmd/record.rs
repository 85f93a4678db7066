//! Messages recorded and never answered (SPEC section 4, rule 1): automatic
//! replies, lists, postbud's own mail, and delivery status reports, whose
//! failed addresses are marked as bouncing.

use anyhow::Result;

use crate::cx::Cx;
use crate::decide::Decide;
use crate::plan::{Action, Plan};
use crate::register::Register;

/// A message never answered, and why.
#[derive(Debug)]
pub struct Silent(pub postbud_core::classify::Silent);

impl Decide for Silent {
    type Reads = ();
    fn read(&self, _: &dyn Register, _: &Cx<'_>) -> Result<()> {
        Ok(())
    }
    fn decide(&self, _: &mut Cx<'_>, (): ()) -> Plan {
        Plan::record("silent")
    }
}

/// A delivery status report (RFC 3464).
#[derive(Debug)]
pub struct Bounce {
    /// The recipients whose delivery failed, lower-cased.
    pub failed: Vec<String>,
}

impl Decide for Bounce {
    type Reads = ();
    fn read(&self, _: &dyn Register, _: &Cx<'_>) -> Result<()> {
        Ok(())
    }
    fn decide(&self, _: &mut Cx<'_>, (): ()) -> Plan {
        let mut p = Plan::record("bounce");
        if !self.failed.is_empty() {
            p.actions.push(Action::MarkBouncing {
                emails: self.failed.clone(),
            });
        }
        p
    }
}
