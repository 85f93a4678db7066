//! What reps' change reports share (SPEC section 5: `MEDLEM …`,
//! `ARBEIDSSTED …`, `NY TILLITSVALGT`): the date and comment fields, finding
//! the member a rep names within their scope, and the two replies: pending
//! for the office, or refused with the reason. Anything outside the scope is
//! answered as not found, never as "exists elsewhere".

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::cx::Cx;
use crate::plan::{Action, Outcome, PendingChange, Plan};
use crate::register::{MemberBrief, WorkplaceBrief};
use crate::rule;
use crate::words::{date, field, name_key};

/// `felt: verdi` lines of a report.
pub type Fields = BTreeMap<String, String>;

/// The date a report gives (`dato:`, `fra:`, `sluttdato:`), as
/// `YYYY-MM-DD`; `Err` is the refusal for a date that cannot be read.
pub fn when(cx: &Cx<'_>, kind: &'static str, fs: &Fields) -> Result<Option<String>, Plan> {
    let Some(given) = field(fs, &["dato", "fra", "sluttdato", "fra dato"]) else {
        return Ok(None);
    };
    match date(given) {
        Some(d) => Ok(Some(d.to_string())),
        None => Err(refused(cx, kind, "bad-date", json!({ "given": given }))),
    }
}

/// The comment a report gives, if any.
pub fn comment(fs: &Fields) -> Option<String> {
    field(fs, &["kommentar", "annet", "comment"]).map(str::to_string)
}

/// Why a report could not be taken, in the sender's language.
pub fn refused(cx: &Cx<'_>, kind: &'static str, problem: &str, extra: Value) -> Plan {
    rule::refused(cx, kind, "change-refused", problem, extra)
}

/// A report taken: the change waits for the office, and the reply says so
/// under the change's reference.
pub fn pending(cx: &Cx<'_>, kind: &'static str, change: PendingChange) -> Plan {
    let mut p = Plan::reply(
        kind,
        Outcome::Pending,
        cx.reply("change-pending", json!({ "summary": change.summary })),
    );
    p.actions.push(Action::Pending(change));
    p
}

/// The members a rep's words name: a member number, an address or a name.
fn find_member<'a>(who: &str, members: &'a [MemberBrief]) -> Vec<&'a MemberBrief> {
    let who = who.trim();
    let lower = who.to_lowercase();
    let by_no: Vec<_> = members
        .iter()
        .filter(|m| m.member_no.as_deref() == Some(who))
        .collect();
    if !by_no.is_empty() {
        return by_no;
    }
    if lower.contains('@') {
        return members
            .iter()
            .filter(|m| m.email.as_deref() == Some(lower.as_str()))
            .collect();
    }
    let key = name_key(who);
    members
        .iter()
        .filter(|m| name_key(&m.name) == key)
        .collect()
}

/// The one member in scope `who` names; `Err` is the refusal (none named,
/// not found, or several with their numbers).
pub fn one_member<'a>(
    cx: &Cx<'_>,
    kind: &'static str,
    who: &str,
    members: &'a [MemberBrief],
) -> Result<&'a MemberBrief, Plan> {
    if who.trim().is_empty() {
        return Err(refused(cx, kind, "no-member", json!({})));
    }
    match find_member(who, members).as_slice() {
        [m] => Ok(m),
        [] => Err(refused(cx, kind, "member-unknown", json!({ "who": who }))),
        many => Err(refused(
            cx,
            kind,
            "member-ambiguous",
            json!({ "who": who, "candidates": many.iter().map(|m| json!({"no": m.member_no, "name": m.name, "workplace": m.workplace})).collect::<Vec<_>>() }),
        )),
    }
}

/// The employers of the workplaces in scope: (id, orgnr, name), sorted.
pub fn employers(workplaces: &[WorkplaceBrief]) -> Vec<(i64, String, String)> {
    let mut employers: Vec<(i64, String, String)> = workplaces
        .iter()
        .map(|w| (w.employer_id, w.orgnr.clone(), w.employer.clone()))
        .collect();
    employers.sort();
    employers.dedup();
    employers
}

/// " fra 2026-12-01" when there is a date.
pub fn from_date(when: &Option<String>) -> String {
    when.as_deref()
        .map(|d| format!(" fra {d}"))
        .unwrap_or_default()
}
