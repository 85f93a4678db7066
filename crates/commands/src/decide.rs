//! The [`Decide`] trait every command implements: what it reads from the
//! register, and what it decides from that.

use anyhow::Result;

use crate::cx::Cx;
use crate::plan::Plan;
use crate::register::Register;

/// One command: what it reads from the register, and what it decides.
pub trait Decide {
    /// What the command reads, loaded through [`Register`] before deciding.
    type Reads;
    /// Loads exactly what [`Decide::decide`] needs, within the sender's
    /// scope.
    fn read(&self, reg: &dyn Register, cx: &Cx<'_>) -> Result<Self::Reads>;
    /// The plan. Pure: nothing beyond `cx` and `reads`.
    fn decide(&self, cx: &mut Cx<'_>, reads: Self::Reads) -> Plan;
}

/// Reads what `c` needs, then decides it.
pub fn run<C: Decide>(c: &C, reg: &dyn Register, cx: &mut Cx<'_>) -> Result<Plan> {
    let reads = c.read(reg, cx)?;
    Ok(c.decide(cx, reads))
}
