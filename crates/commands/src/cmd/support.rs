//! Support requests (SPEC section 4, rule 6): a ticket under the message's
//! reference and a receipt to the sender. Also where a command the office
//! handles by hand for now goes, so that nothing is ever dropped; and the
//! answer to a message with more attachments than allowed.

use anyhow::Result;
use postbud_core::message::Incoming;
use serde_json::json;

use crate::cx::Cx;
use crate::decide::Decide;
use crate::plan::{Action, Outcome, Plan};
use crate::register::Register;

/// How much of the body a ticket keeps in the register.
const MAX_TICKET_BODY: usize = 20_000;

/// A request for the office.
#[derive(Debug)]
pub struct Support {
    /// What the message looked like: "support", or the kind of a command
    /// the office handles for now.
    pub topic: &'static str,
    pub subject: String,
    /// The whole text, quotes kept, cut at [`MAX_TICKET_BODY`] bytes.
    pub body: String,
}

impl Support {
    pub fn of(msg: &Incoming, topic: &'static str) -> Support {
        Support {
            topic,
            subject: msg.subject.clone(),
            body: truncate(&msg.full_text, MAX_TICKET_BODY),
        }
    }
}

impl Decide for Support {
    type Reads = ();
    fn read(&self, _: &dyn Register, _: &Cx<'_>) -> Result<()> {
        Ok(())
    }
    fn decide(&self, cx: &mut Cx<'_>, (): ()) -> Plan {
        Plan {
            kind: "support",
            result: Outcome::Pending,
            actions: vec![Action::OpenTicket {
                topic: self.topic.to_string(),
                subject: self.subject.clone(),
                body: self.body.clone(),
            }],
            replies: vec![cx.reply(
                "support",
                json!({
                    "name": cx.facts.person.as_ref().map(|p| p.name.clone()),
                    "their_subject": self.subject,
                    "topic": self.topic,
                }),
            )],
            needs_ref: true,
            reference: None,
        }
    }
}

/// More attachments than `limits.max_attachments`: nothing is read, the
/// sender is told why.
#[derive(Debug)]
pub struct TooManyAttachments {
    pub count: usize,
    pub limit: usize,
}

impl Decide for TooManyAttachments {
    type Reads = ();
    fn read(&self, _: &dyn Register, _: &Cx<'_>) -> Result<()> {
        Ok(())
    }
    fn decide(&self, cx: &mut Cx<'_>, (): ()) -> Plan {
        Plan::reply(
            "support",
            Outcome::Rejected,
            cx.reply(
                "too-many-attachments",
                json!({ "count": self.count, "limit": self.limit }),
            ),
        )
    }
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
