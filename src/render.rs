//! Replies as mail: minijinja templates from `templates/<language>/` (read
//! from disk so an admin can change them without rebuilding; the copies built
//! into the binary are the fallback) to a text and an HTML part, and the
//! headers of SPEC section 9, written with mail-builder.

use crate::config::Language;
use anyhow::{Context as _, Result};
use chrono::{DateTime, Utc};
use mail_builder::MessageBuilder;
use mail_builder::headers::raw::Raw;
use minijinja::Environment;
use serde::Serialize;
use std::path::PathBuf;

macro_rules! embed {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../templates/", $path)))),*]
    };
}

/// The templates built into the binary (a copy of `templates/`).
const EMBEDDED: &[(&str, &str)] = embed![
    "da/activity-year.txt",
    "da/activity.txt",
    "da/change-pending.txt",
    "da/change-refused.txt",
    "da/code-limit.txt",
    "da/code-neutral.txt",
    "da/code.txt",
    "da/confirm-ask.txt",
    "da/confirm-unknown.txt",
    "da/contact-done.txt",
    "da/contact-refused.txt",
    "da/contacts.txt",
    "da/decision-closed.txt",
    "da/decision-requester.txt",
    "da/decision-unknown.txt",
    "da/decision.txt",
    "da/declaration.txt",
    "da/help-list.txt",
    "da/help.txt",
    "da/layout.html",
    "da/list.txt",
    "da/member-missing.txt",
    "da/new-rep-welcome.txt",
    "da/not-allowed.txt",
    "da/receipt.txt",
    "da/registration.txt",
    "da/rep-replaced.txt",
    "da/status-which.txt",
    "da/status.txt",
    "da/submission-period.txt",
    "da/submission-which.txt",
    "da/submitted.txt",
    "da/support.txt",
    "da/too-many-attachments.txt",
    "en/activity-year.txt",
    "en/activity.txt",
    "en/change-pending.txt",
    "en/change-refused.txt",
    "en/code-limit.txt",
    "en/code-neutral.txt",
    "en/code.txt",
    "en/confirm-ask.txt",
    "en/confirm-unknown.txt",
    "en/contact-done.txt",
    "en/contact-refused.txt",
    "en/contacts.txt",
    "en/decision-closed.txt",
    "en/decision-requester.txt",
    "en/decision-unknown.txt",
    "en/decision.txt",
    "en/declaration.txt",
    "en/help-list.txt",
    "en/help.txt",
    "en/layout.html",
    "en/list.txt",
    "en/member-missing.txt",
    "en/new-rep-welcome.txt",
    "en/not-allowed.txt",
    "en/receipt.txt",
    "en/registration.txt",
    "en/rep-replaced.txt",
    "en/status-which.txt",
    "en/status.txt",
    "en/submission-period.txt",
    "en/submission-which.txt",
    "en/submitted.txt",
    "en/support.txt",
    "en/too-many-attachments.txt",
    "nb/activity-year.txt",
    "nb/activity.txt",
    "nb/change-pending.txt",
    "nb/change-refused.txt",
    "nb/code-limit.txt",
    "nb/code-neutral.txt",
    "nb/code.txt",
    "nb/confirm-ask.txt",
    "nb/confirm-unknown.txt",
    "nb/contact-done.txt",
    "nb/contact-refused.txt",
    "nb/contacts.txt",
    "nb/decision-closed.txt",
    "nb/decision-requester.txt",
    "nb/decision-unknown.txt",
    "nb/decision.txt",
    "nb/declaration.txt",
    "nb/help-list.txt",
    "nb/help.txt",
    "nb/layout.html",
    "nb/list.txt",
    "nb/member-missing.txt",
    "nb/new-rep-welcome.txt",
    "nb/not-allowed.txt",
    "nb/receipt.txt",
    "nb/registration.txt",
    "nb/rep-replaced.txt",
    "nb/status-which.txt",
    "nb/status.txt",
    "nb/submission-period.txt",
    "nb/submission-which.txt",
    "nb/submitted.txt",
    "nb/support.txt",
    "nb/too-many-attachments.txt",
    "nn/activity-year.txt",
    "nn/activity.txt",
    "nn/change-pending.txt",
    "nn/change-refused.txt",
    "nn/code-limit.txt",
    "nn/code-neutral.txt",
    "nn/code.txt",
    "nn/confirm-ask.txt",
    "nn/confirm-unknown.txt",
    "nn/contact-done.txt",
    "nn/contact-refused.txt",
    "nn/contacts.txt",
    "nn/decision-closed.txt",
    "nn/decision-requester.txt",
    "nn/decision-unknown.txt",
    "nn/decision.txt",
    "nn/declaration.txt",
    "nn/help-list.txt",
    "nn/help.txt",
    "nn/layout.html",
    "nn/list.txt",
    "nn/member-missing.txt",
    "nn/new-rep-welcome.txt",
    "nn/not-allowed.txt",
    "nn/receipt.txt",
    "nn/registration.txt",
    "nn/rep-replaced.txt",
    "nn/status-which.txt",
    "nn/status.txt",
    "nn/submission-period.txt",
    "nn/submission-which.txt",
    "nn/submitted.txt",
    "nn/support.txt",
    "nn/too-many-attachments.txt",
];

/// Renders templates and builds reply messages.
pub struct Renderer {
    env: Environment<'static>,
    org_name: String,
    org_address: String,
}

/// Everything a reply's headers need.
#[derive(Debug, Clone)]
pub struct Headers<'a> {
    pub to: &'a str,
    /// Subject of the message answered (user input: sanitised here).
    pub their_subject: &'a str,
    pub reference: &'a str,
    /// Message-ID of the message answered, without angle brackets.
    pub in_reply_to: Option<&'a str>,
    /// The answered message's References, without angle brackets.
    pub references: &'a [String],
    /// The reply's own Message-ID, without angle brackets.
    pub message_id: &'a str,
    pub kind: &'a str,
    pub result: &'a str,
    /// `auto-replied` for replies, `auto-generated` for letters and digests.
    pub auto_submitted: &'a str,
    pub date: DateTime<Utc>,
}

#[derive(Serialize)]
struct Layout<'a> {
    org: &'a str,
    reference: &'a str,
    paragraphs: Vec<Vec<&'a str>>,
}

impl Renderer {
    /// Templates are read from `dir/<lang>/<name>` when present there, else
    /// from the copies built into the binary.
    pub fn new(dir: Option<PathBuf>, org_name: &str, org_address: &str) -> Renderer {
        let mut env = Environment::new();
        if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
        {
            env.set_syntax(syntax);
        }
        env.set_loader(move |name| {
            if let Some(d) = &dir {
                let p = d.join(name);
                if p.is_file() {
                    return std::fs::read_to_string(&p).map(Some).map_err(|e| {
                        minijinja::Error::new(
                            minijinja::ErrorKind::InvalidOperation,
                            format!("cannot read template `{}`: {e}", p.display()),
                        )
                    });
                }
            }
            Ok(EMBEDDED
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, t)| t.to_string()))
        });
        Renderer {
            env,
            org_name: org_name.to_string(),
            org_address: org_address.to_string(),
        }
    }

    /// Renders `template` in `lang` into (text, html). `vars` gets `org` added.
    pub fn render(
        &self,
        lang: Language,
        template: &str,
        reference: &str,
        vars: &serde_json::Value,
    ) -> Result<(String, String)> {
        let mut vars = vars.clone();
        if let Some(m) = vars.as_object_mut() {
            m.insert("org".into(), self.org_name.clone().into());
            m.insert("org_address".into(), self.org_address.clone().into());
            m.insert("ref".into(), reference.into());
        }
        // A reply not yet translated falls back to Norwegian Bokmål.
        let mut name = format!("{}/{template}.txt", lang.code());
        if self.env.get_template(&name).is_err() {
            name = format!("nb/{template}.txt");
        }
        let text = self
            .env
            .get_template(&name)
            .and_then(|t| t.render(minijinja::value::Serde(&vars)))
            .with_context(|| format!("template `{name}`"))?;
        let text = tidy(&text);
        let paragraphs = text
            .split("\n\n")
            .map(|p| p.lines().collect::<Vec<_>>())
            .filter(|p| !p.is_empty())
            .collect();
        let layout = format!("{}/layout.html", lang.code());
        let html = self
            .env
            .get_template(&layout)
            .and_then(|t| {
                t.render(minijinja::value::Serde(&Layout {
                    org: &self.org_name,
                    reference,
                    paragraphs,
                }))
            })
            .with_context(|| format!("template `{layout}`"))?;
        Ok((text, html))
    }

    /// The reply's subject: `Re: [PB-…] <their subject>`, without earlier
    /// `Re:` prefixes or references, and never with a CR or LF.
    pub fn subject(their_subject: &str, reference: &str) -> String {
        let mut s = header_safe(their_subject);
        loop {
            let t = s.trim_start();
            let lower = t.to_lowercase();
            let cut = ["re:", "sv:", "vs:", "fwd:", "fw:", "aw:"]
                .iter()
                .find(|p| lower.starts_with(*p))
                .map(|p| p.len());
            let cut = cut.or_else(|| {
                (t.starts_with("[PB-") && t.len() >= 16 && t.get(15..16) == Some("]")).then_some(16)
            });
            match cut {
                Some(n) => s = t.get(n..).unwrap_or("").to_string(),
                None => break,
            }
        }
        let s = s.trim();
        if s.is_empty() {
            format!("Re: [{reference}]")
        } else {
            format!("Re: [{reference}] {s}")
        }
    }

    /// Builds the complete reply message.
    pub fn build(
        &self,
        h: &Headers<'_>,
        text: &str,
        html: &str,
        attachments: &[(String, String, Vec<u8>)],
    ) -> Result<(String, Vec<u8>)> {
        let subject = Self::subject(h.their_subject, h.reference);
        let mut refs: Vec<String> = h.references.iter().map(|r| header_safe(r)).collect();
        if let Some(id) = h.in_reply_to {
            let id = header_safe(id);
            if !refs.contains(&id) {
                refs.push(id);
            }
        }
        let mut b = MessageBuilder::new()
            .from((self.org_name.as_str(), self.org_address.as_str()))
            .to(header_safe(h.to))
            .subject(subject.clone())
            .message_id(h.message_id.to_string())
            .date(h.date.timestamp())
            .header("Auto-Submitted", Raw::new(h.auto_submitted.to_string()))
            .header("X-Auto-Response-Suppress", Raw::new("All"))
            .header("X-Postbud-Kind", Raw::new(h.kind.to_string()))
            .header("X-Postbud-Result", Raw::new(h.result.to_string()))
            .header("X-Postbud-Ref", Raw::new(h.reference.to_string()))
            .text_body(text.to_string())
            .html_body(html.to_string());
        if let Some(id) = h.in_reply_to {
            b = b.in_reply_to(header_safe(id));
        }
        if !refs.is_empty() {
            b = b.references(refs);
        }
        for (name, mime, bytes) in attachments {
            b = b.attachment(mime.clone(), header_safe(name), bytes.clone());
        }
        let raw = b.write_to_vec().context("cannot write reply")?;
        Ok((subject, raw))
    }
}

/// Strips CR, LF and other control characters from a value bound for a
/// header.
pub fn header_safe(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

/// Collapses runs of blank lines a template's `{% if %}` blocks leave behind.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim().to_string() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_on_disk_is_built_in() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
        for lang in std::fs::read_dir(dir).unwrap() {
            let lang = lang.unwrap();
            for f in std::fs::read_dir(lang.path()).unwrap() {
                let name = format!(
                    "{}/{}",
                    lang.file_name().to_string_lossy(),
                    f.unwrap().file_name().to_string_lossy()
                );
                assert!(
                    EMBEDDED.iter().any(|(n, _)| *n == name),
                    "{name} is not in EMBEDDED in src/render.rs"
                );
            }
        }
    }

    #[test]
    fn subject_drops_prefixes_and_old_references_and_line_breaks() {
        assert_eq!(
            Renderer::subject("kode", "PB-2026-000001"),
            "Re: [PB-2026-000001] kode"
        );
        assert_eq!(
            Renderer::subject("SV: Re: [PB-2026-000001] Kvittering", "PB-2026-000002"),
            "Re: [PB-2026-000002] Kvittering"
        );
        assert_eq!(
            Renderer::subject("evil\r\nBcc: x@y", "PB-2026-000003"),
            "Re: [PB-2026-000003] evil  Bcc: x@y"
        );
        assert_eq!(
            Renderer::subject("", "PB-2026-000004"),
            "Re: [PB-2026-000004]"
        );
    }
}
