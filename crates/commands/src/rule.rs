//! Who may use a command and whether it needs a verified sender (SPEC
//! sections 5 and 10), and the reply to someone it does not admit.

use serde_json::json;

use crate::cx::Cx;
use crate::facts::Facts;
use crate::plan::{Outcome, Plan};

/// Who may use a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Anyone who writes (members' commands decide for themselves what an
    /// unknown address gets).
    Anyone,
    /// A registered person: the address belongs to someone in the
    /// register (a member's commands about themself).
    Registered,
    /// Reps: a current role, or a grant.
    Reps,
    /// Active employer contacts.
    Contacts,
    /// The office: `organisation.admins` or the admin role.
    Admins,
}

impl Audience {
    /// Whether `f` is in this audience.
    pub fn admits(self, f: &Facts) -> bool {
        match self {
            Audience::Anyone => true,
            Audience::Registered => f.person.is_some(),
            Audience::Reps => f.is_rep(),
            Audience::Contacts => f.is_contact,
            Audience::Admins => f.is_admin,
        }
    }

    /// The word the refusal template uses for who may use it.
    fn for_whom(self) -> &'static str {
        match self {
            Audience::Anyone => "anyone",
            Audience::Registered => "members",
            Audience::Reps => "reps",
            Audience::Contacts => "employers",
            Audience::Admins => "office",
        }
    }
}

/// Whether a command waits for a verified sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// Runs for any sender: it changes nothing and shows nothing about
    /// others, or it answers only a registered address.
    Open,
    /// Changes the register or shows other people's data: an unverified
    /// sender confirms with `BEKREFT <code>` first (SPEC section 10).
    Verified,
}

/// The rule of one command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub audience: Audience,
    pub trust: Trust,
}

impl Rule {
    pub const fn new(audience: Audience, trust: Trust) -> Rule {
        Rule { audience, trust }
    }
}

/// Which sections of the command list the sender sees in `HJELP` and in a
/// refusal: exactly what their roles allow. A registered person sees the
/// members' commands; an address in no role sees what it can do (ask for a
/// code, ask for help, write to the office) and how to get registered.
pub fn help_vars(f: &Facts) -> serde_json::Value {
    json!({
        "name": f.person.as_ref().map(|p| p.name.clone()),
        "member": f.person.is_some(),
        "unknown": f.person.is_none() && !f.is_rep && !f.is_contact && !f.is_admin,
        "rep": f.is_rep,
        "contact": f.is_contact,
        "admin": f.is_admin,
    })
}

/// The reply to a command the sender's role does not allow, with the list
/// of what they may use.
pub fn not_allowed(cx: &Cx<'_>, kind: &'static str, word: &str, audience: Audience) -> Plan {
    let mut vars = help_vars(cx.facts);
    vars["command"] = json!(word);
    vars["for_whom"] = json!(audience.for_whom());
    Plan::reply(kind, Outcome::Rejected, cx.reply("not-allowed", vars))
}

/// A refusal: `template` with `problem` and `extra` as its values.
pub fn refused(
    cx: &Cx<'_>,
    kind: &'static str,
    template: &'static str,
    problem: &str,
    extra: serde_json::Value,
) -> Plan {
    let mut vars = json!({ "problem": problem });
    if let (Some(v), Some(e)) = (vars.as_object_mut(), extra.as_object()) {
        v.extend(e.clone());
    }
    Plan::reply(kind, Outcome::Rejected, cx.reply(template, vars))
}
