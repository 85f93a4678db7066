//! The digest (SPEC section 11): for each admin, the last 24 hours and what
//! waits for them, each waiting change with the reference to `GODKJENN` or
//! `AVVIS`. The daily job mails every admin; `DIGEST` mails the one who
//! asks.

use serde_json::json;

use crate::cx::Cx;
use crate::facts::Language;
use crate::plan::{Outcome, Plan, Reply};
use crate::register::DigestFigures;

/// The digest's kind (`X-Postbud-Kind`).
pub const KIND: &str = "digest";

/// The values of the `digest` template.
pub fn vars(f: &DigestFigures, cx: &Cx<'_>) -> serde_json::Value {
    let waiting = f.pending_total
        + f.pdfs.len() as i64
        + f.deducted_elsewhere.len() as i64
        + f.tickets_total
        + f.quarantine_total
        + f.failed_total;
    json!({
        "f": f,
        "date": cx.today().format("%d.%m.%Y").to_string(),
        "waiting": waiting,
        "quiet": f.messages_total == 0 && waiting == 0,
    })
}

/// The digest to each of `admins` (address, language), one mail each.
pub fn decide(cx: &Cx<'_>, f: &DigestFigures, admins: &[(String, Option<Language>)]) -> Plan {
    let vars = vars(f, cx);
    let mut plan = Plan::record(KIND);
    plan.result = Outcome::Ok;
    plan.needs_ref = true;
    for (to, language) in admins {
        plan.replies.push(Reply::new(
            to,
            "digest",
            language.unwrap_or(cx.settings.language),
            vars.clone(),
        ));
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{Facts, Settings};
    use crate::register::WaitingChange;
    use crate::testing::{Fixed, now};

    #[test]
    fn every_admin_gets_one_in_their_language() {
        let s = Settings::for_tests();
        let facts = Facts::default();
        let cx = Cx {
            facts: &facts,
            settings: &s,
            now: now(),
            fresh: &mut Fixed,
        };
        let f = DigestFigures {
            pending: vec![WaitingChange {
                reference: "PB-2026-000007".into(),
                kind: "member-left".into(),
                requested_by: "leder@ffm.example".into(),
                created_at: "2026-11-19T10:00:00Z".into(),
                summary: "Kari Nordmann har sluttet".into(),
                effective_on: None,
            }],
            pending_total: 1,
            ..DigestFigures::default()
        };
        let p = decide(
            &cx,
            &f,
            &[
                ("kontor@forbund.example".into(), None),
                ("leder@forbund.example".into(), Some(Language::En)),
            ],
        );
        assert_eq!(p.kind, "digest");
        let to: Vec<(&str, Language)> = p
            .replies
            .iter()
            .map(|r| (r.to.as_str(), r.language))
            .collect();
        assert_eq!(
            to,
            [
                ("kontor@forbund.example", Language::Nb),
                ("leder@forbund.example", Language::En)
            ]
        );
        assert_eq!(p.replies[0].vars["waiting"], 1);
        assert_eq!(
            p.replies[0].vars["f"]["pending"][0]["reference"],
            "PB-2026-000007"
        );
    }
}
