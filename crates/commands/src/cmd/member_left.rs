//! `MEDLEM SLUTTET <member>` [MEMBER LEFT]: a member in the rep's scope left
//! the employer (`sluttdato:`, `ny arbeidsgiver:`); pending for the office.

use anyhow::Result;

use super::reported::{Fields, comment, from_date, one_member, pending, when};
use crate::cx::Cx;
use crate::decide::Decide;
use crate::plan::{Change, PendingChange, Plan};
use crate::register::{MembersInScope, Register};
use crate::words::field;

/// `MEDLEM SLUTTET`
#[derive(Debug)]
pub struct MemberLeft {
    /// The member as the rep named them.
    pub who: String,
    pub fields: Fields,
}

impl Decide for MemberLeft {
    type Reads = MembersInScope;

    fn read(&self, reg: &dyn Register, cx: &Cx<'_>) -> Result<MembersInScope> {
        reg.members(&cx.facts.scope)
    }

    fn decide(&self, cx: &mut Cx<'_>, reads: MembersInScope) -> Plan {
        const KIND: &str = "member-left";
        let when = match when(cx, KIND, &self.fields) {
            Ok(w) => w,
            Err(refused) => return refused,
        };
        let m = match one_member(cx, KIND, &self.who, &reads.members) {
            Ok(m) => m,
            Err(p) => return p,
        };
        let new_employer =
            field(&self.fields, &["ny arbeidsgiver", "arbeidsgiver"]).map(str::to_string);
        let summary = format!(
            "{} ({}) har sluttet hos {}{}{}",
            m.name,
            m.member_no.as_deref().unwrap_or("-"),
            m.employer.as_deref().unwrap_or("arbeidsgiveren"),
            from_date(&when),
            new_employer
                .as_deref()
                .map(|e| format!(", ny arbeidsgiver {e}"))
                .unwrap_or_default(),
        );
        pending(
            cx,
            KIND,
            PendingChange {
                summary,
                change: Change::MemberLeft {
                    person_id: m.id,
                    end_date: when,
                    new_employer_orgnr: new_employer,
                    comment: comment(&self.fields),
                },
            },
        )
    }
}
