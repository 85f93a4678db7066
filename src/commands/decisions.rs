//! `GODKJENN <ref>` [APPROVE] and `AVVIS <ref> [reason]` [REJECT]: an admin
//! decides a pending change. The requester is told; for a new rep, the new
//! and the outgoing rep are told too, and the new rep gets a PDF letter to
//! hand to the employer.

use super::snapshot::PendingBrief;
use super::{Facts, Settings, language};
use crate::letters::{self, NewRepLetter};
use crate::plan::{Action, Outcome, Plan, Reply};
use chrono::{DateTime, NaiveDate, Utc};
use postbud_core::classify::Keyword;
use serde_json::json;

pub fn decide(
    f: &Facts,
    s: &Settings,
    keyword: Keyword,
    args: &str,
    pending: Option<&PendingBrief>,
    now: DateTime<Utc>,
) -> Plan {
    let approve = keyword == Keyword::Godkjenn;
    let kind = keyword.kind();
    let lang = language(f, s);
    let mut words = args.split_whitespace();
    let reference = words.next().unwrap_or("").to_uppercase();
    let reason: String = words.collect::<Vec<_>>().join(" ");
    let reason = (!reason.is_empty()).then_some(reason);
    let Some(p) = pending else {
        return Plan::reply(
            kind,
            Outcome::Rejected,
            Reply::new(
                &f.sender,
                "decision-unknown",
                lang,
                json!({ "reference": reference }),
            ),
        );
    };
    if p.status != "pending" {
        return Plan::reply(
            kind,
            Outcome::Rejected,
            Reply::new(
                &f.sender,
                "decision-closed",
                lang,
                json!({ "reference": p.reference, "status": p.status }),
            ),
        );
    }
    let vars = json!({
        "reference": p.reference, "summary": p.summary, "approved": approve, "reason": reason,
    });
    let mut plan = Plan::reply(
        kind,
        Outcome::Ok,
        Reply::new(&f.sender, "decision", lang, vars.clone()),
    );
    plan.actions.push(Action::Decide {
        pending_id: p.id,
        approve,
        reason: reason.clone(),
    });
    if !p.requested_by.eq_ignore_ascii_case(&f.sender) {
        plan.replies.push(Reply::new(
            &p.requested_by,
            "decision-requester",
            p.requester_language.unwrap_or(s.language),
            vars.clone(),
        ));
    }
    if approve && p.kind == "new-rep" {
        let v = &p.payload;
        let text = |k: &str| v[k].as_str().map(str::to_string);
        let from = text("from")
            .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok())
            .unwrap_or_else(|| now.date_naive());
        let letter = NewRepLetter {
            org_name: s.org_name.clone(),
            org_address: s.org_address.clone(),
            reference: p.reference.clone(),
            date: now.with_timezone(&s.timezone).date_naive(),
            // The letter is for the employer: the organisation's language.
            language: s.language,
            employer_name: text("employer").unwrap_or_default(),
            employer_orgnr: text("orgnr"),
            rep_name: text("name").unwrap_or_default(),
            role: text("role").unwrap_or_default(),
            level: text("level").unwrap_or_default(),
            workplace: text("workplace").or(text("midlevel")),
            unit: None,
            valid_from: from,
            previous_rep: None,
        };
        let rep_vars = json!({
            "reference": p.reference, "name": letter.rep_name, "role": letter.role, "level": letter.level,
            "employer": letter.employer_name, "workplace": letter.workplace, "from": from.to_string(),
        });
        if let Some(email) = text("email") {
            let lang = p.rep_language.unwrap_or(s.language);
            let mut welcome = Reply::new(&email, "new-rep-welcome", lang, rep_vars.clone());
            match letters::new_rep_letter(&letter) {
                Ok(pdf) => welcome.attachments.push((
                    format!("melding-om-ny-tillitsvalgt-{}.pdf", p.reference),
                    "application/pdf".into(),
                    pdf,
                )),
                Err(e) => welcome.vars["letter_error"] = json!(e.to_string()),
            }
            plan.replies.push(welcome);
        }
        for (old, lang) in &p.holders {
            plan.replies.push(Reply::new(
                old,
                "rep-replaced",
                lang.unwrap_or(s.language),
                rep_vars.clone(),
            ));
        }
    }
    plan
}
