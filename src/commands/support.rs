//! Support requests (SPEC section 4, rule 6): a ticket under the message's
//! reference and a receipt to the sender. Also where a kind whose workflow is
//! not built yet goes, so that nothing is ever dropped.

use super::{Facts, Settings, language};
use crate::plan::{Action, Outcome, Plan, Reply};
use postbud_core::message::Incoming;
use serde_json::json;

/// How much of the body a ticket keeps in the register.
const MAX_TICKET_BODY: usize = 20_000;

/// A ticket and a receipt. `topic` is what the message looked like
/// ("support", or a command's kind handled by the office for now).
pub fn decide(f: &Facts, msg: &Incoming, s: &Settings, topic: &str) -> Plan {
    let body = truncate(&msg.full_text, MAX_TICKET_BODY);
    Plan {
        kind: "support",
        result: Outcome::Pending,
        actions: vec![Action::OpenTicket {
            topic: topic.to_string(),
            subject: msg.subject.clone(),
            body,
        }],
        replies: vec![Reply::new(
            &f.sender,
            "support",
            language(f, s),
            json!({
                "name": f.person.as_ref().map(|p| p.name.clone()),
                "their_subject": msg.subject,
                "topic": topic,
            }),
        )],
        needs_ref: true,
    }
}

/// More attachments than `limits.max_attachments`: nothing is read, the
/// sender is told why.
pub fn too_many_attachments(f: &Facts, msg: &Incoming, s: &Settings) -> Plan {
    Plan::reply(
        "support",
        Outcome::Rejected,
        Reply::new(
            &f.sender,
            "too-many-attachments",
            language(f, s),
            json!({ "count": msg.attachments.len(), "limit": s.max_attachments }),
        ),
    )
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n[…]", &s[..end])
}
