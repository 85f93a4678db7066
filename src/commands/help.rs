//! `HJELP` [HELP]: the commands this sender may use, by role.

use super::{Facts, Settings, language};
use crate::plan::{Outcome, Plan, Reply};
use serde_json::json;

pub fn decide(f: &Facts, s: &Settings) -> Plan {
    Plan::reply(
        "help",
        Outcome::Ok,
        Reply::new(&f.sender, "help", language(f, s), help_vars(f)),
    )
}

/// Which sections of the command list the sender sees. Everyone sees the
/// member commands (a new member starts by asking for a code).
pub fn help_vars(f: &Facts) -> serde_json::Value {
    json!({
        "name": f.person.as_ref().map(|p| p.name.clone()),
        "member": true,
        "rep": f.is_rep,
        "contact": f.is_contact,
        "admin": f.is_admin,
    })
}
