//! `MEDLEM FLYTTET <member>` [MEMBER MOVED]: a member in the rep's scope
//! moved to another workplace (`arbeidssted:`); pending for the office.

use anyhow::Result;
use serde_json::json;

use super::reported::{Fields, comment, from_date, one_member, pending, refused, when};
use crate::cx::Cx;
use crate::decide::Decide;
use crate::plan::{Change, PendingChange, Plan};
use crate::register::{MembersInScope, Register};
use crate::words::field;

/// `MEDLEM FLYTTET`
#[derive(Debug)]
pub struct MemberMoved {
    /// The member as the rep named them.
    pub who: String,
    pub fields: Fields,
}

impl Decide for MemberMoved {
    type Reads = MembersInScope;

    fn read(&self, reg: &dyn Register, cx: &Cx<'_>) -> Result<MembersInScope> {
        reg.members(&cx.facts.scope)
    }

    fn decide(&self, cx: &mut Cx<'_>, reads: MembersInScope) -> Plan {
        const KIND: &str = "member-moved";
        let when = match when(cx, KIND, &self.fields) {
            Ok(w) => w,
            Err(refused) => return refused,
        };
        let m = match one_member(cx, KIND, &self.who, &reads.members) {
            Ok(m) => m,
            Err(p) => return p,
        };
        let Some(to) = field(&self.fields, &["arbeidssted", "nytt arbeidssted"]) else {
            return refused(cx, KIND, "no-workplace", json!({}));
        };
        let Some(employer) = m.employer_id else {
            return refused(cx, KIND, "member-unknown", json!({ "who": self.who }));
        };
        let summary = format!(
            "{} ({}) flytter fra {} til {}{}",
            m.name,
            m.member_no.as_deref().unwrap_or("-"),
            m.workplace.as_deref().unwrap_or("-"),
            to,
            from_date(&when)
        );
        pending(
            cx,
            KIND,
            PendingChange {
                summary,
                change: Change::MemberMoved {
                    person_id: m.id,
                    employer_id: employer,
                    workplace: to.to_string(),
                    date: when,
                    comment: comment(&self.fields),
                },
            },
        )
    }
}
