//! Mail from templates: minijinja templates from `templates/<language>/`
//! (read from disk so an admin can change them without rebuilding; copies of
//! every file there are built into the binary) to a text and an HTML part,
//! attachments rendered from a plan's data, and the headers of SPEC section
//! 9, written with mail-builder.
//!
//! Templates are a checked contract: a variable a template names that the
//! reply does not give is an error, as is a template that does not parse.
//! Norwegian Bokmål stands in only for a template that is missing in the
//! recipient's language, never for a broken one; [`Renderer::check`] lists
//! what is broken for `postbud check-config` and the daemon's start.
//!
//! A template may start with a line `Subject: …`: the subject of mail that
//! answers no message (from the command line or a scheduled job). A reply
//! to a message is always `Re: [PB-…] <their subject>`.

use anyhow::{Context as _, Result, anyhow};
use chrono::{DateTime, Utc};
use mail_builder::MessageBuilder;
use mail_builder::headers::raw::Raw;
use minijinja::{Environment, ErrorKind, UndefinedBehavior};
use postbud_commands::facts::Language;
use postbud_commands::plan::Attach;
use postbud_core::message::Incoming;
use serde::Serialize;
use std::path::PathBuf;

include!(concat!(env!("OUT_DIR"), "/templates.rs"));

/// Renders templates and builds mail.
pub struct Renderer {
    env: Environment<'static>,
    /// Where an admin's templates are read from, if anywhere.
    dir: Option<PathBuf>,
    org_name: String,
    org_address: String,
}

/// A template rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// The template's `Subject:` line, if it has one.
    pub subject: Option<String>,
    pub text: String,
    pub html: String,
}

/// Everything a mail's headers need.
#[derive(Debug, Clone)]
pub struct Headers<'a> {
    pub to: &'a str,
    /// The message answered, if any: the subject is `Re: …` it, and
    /// `In-Reply-To`/`References` point at it. Mail that answers nothing is
    /// `Auto-Submitted: auto-generated`.
    pub answered: Option<&'a Incoming>,
    pub reference: &'a str,
    /// The mail's own Message-ID, without angle brackets.
    pub message_id: &'a str,
    pub kind: &'a str,
    pub result: &'a str,
    pub date: DateTime<Utc>,
}

#[derive(Serialize)]
struct Layout<'a> {
    org: &'a str,
    reference: &'a str,
    paragraphs: Vec<Vec<&'a str>>,
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

impl Renderer {
    /// Templates are read from `dir/<lang>/<name>` when present there, else
    /// from the copies built into the binary.
    pub fn new(dir: Option<PathBuf>, org_name: &str, org_address: &str) -> Renderer {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
        {
            env.set_syntax(syntax);
        }
        // `{{ "5. mars 2025" | nbsp }}`: never broken over two lines.
        env.add_filter("nbsp", |s: String| s.replace(' ', "\u{a0}"));
        let from = dir.clone();
        env.set_loader(move |name| {
            if let Some(d) = &from {
                let p = d.join(name);
                if p.is_file() {
                    return std::fs::read_to_string(&p).map(Some).map_err(|e| {
                        minijinja::Error::new(
                            ErrorKind::InvalidOperation,
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
            dir,
            org_name: org_name.to_string(),
            org_address: org_address.to_string(),
        }
    }

    /// postbud's own address: From of every mail.
    pub fn org_address(&self) -> &str {
        &self.org_address
    }

    /// The organisation's name.
    pub fn org_name(&self) -> &str {
        &self.org_name
    }

    /// Every template that does not parse, as `file: what is wrong`: the
    /// admin's copies on disk and the built-in ones.
    pub fn check(&self) -> Vec<String> {
        let mut names: Vec<String> = EMBEDDED.iter().map(|(n, _)| n.to_string()).collect();
        if let Some(dir) = &self.dir
            && let Ok(langs) = std::fs::read_dir(dir)
        {
            for lang in langs.flatten().filter(|l| l.path().is_dir()) {
                for f in std::fs::read_dir(lang.path())
                    .into_iter()
                    .flatten()
                    .flatten()
                {
                    let name = format!(
                        "{}/{}",
                        lang.file_name().to_string_lossy(),
                        f.file_name().to_string_lossy()
                    );
                    if (name.ends_with(".txt") || name.ends_with(".html")) && !names.contains(&name)
                    {
                        names.push(name);
                    }
                }
            }
        }
        names.sort();
        names
            .iter()
            .filter_map(|n| {
                self.env.get_template(n).err().map(|e| {
                    let place = match &self.dir {
                        Some(d) if d.join(n).is_file() => d.join(n).display().to_string(),
                        _ => format!("(built in) {n}"),
                    };
                    format!("{place}: {}", describe(&e))
                })
            })
            .collect()
    }

    /// The template `name` in `lang`, or in nb when `lang` has none.
    fn template_name(&self, lang: Language, name: &str) -> Result<String> {
        let wanted = format!("{}/{name}", lang.code());
        match self.env.get_template(&wanted) {
            Ok(_) => Ok(wanted),
            Err(e) if e.kind() == ErrorKind::TemplateNotFound => {
                let nb = format!("nb/{name}");
                self.env
                    .get_template(&nb)
                    .map(|_| nb.clone())
                    .map_err(|e| anyhow!("template `{nb}`: {}", describe(&e)))
            }
            Err(e) => Err(anyhow!("template `{wanted}`: {}", describe(&e))),
        }
    }

    /// Renders `template` in `lang`. `vars` gets `org`, `org_address` and
    /// `ref` added.
    pub fn render(
        &self,
        lang: Language,
        template: &str,
        reference: &str,
        vars: &serde_json::Value,
    ) -> Result<Rendered> {
        let mut vars = vars.clone();
        if let Some(m) = vars.as_object_mut() {
            m.insert("org".into(), self.org_name.clone().into());
            m.insert("org_address".into(), self.org_address.clone().into());
            m.insert("ref".into(), reference.into());
        }
        let name = self.template_name(lang, &format!("{template}.txt"))?;
        let text = self
            .env
            .get_template(&name)
            .and_then(|t| t.render(minijinja::value::Serde(&vars)))
            .map_err(|e| anyhow!("template `{name}`: {}", describe(&e)))?;
        let tidied = tidy(&text);
        let (subject, text) = split_subject(&tidied);
        let paragraphs = text
            .split("\n\n")
            .map(|p| p.lines().collect::<Vec<_>>())
            .filter(|p| !p.is_empty())
            .collect();
        // A template with an HTML companion (`digest.html`: tables) is
        // laid out by it; every other one by the common layout.
        let html = match self.template_name(lang, &format!("{template}.html")) {
            Ok(own) => self
                .env
                .get_template(&own)
                .and_then(|t| t.render(minijinja::value::Serde(&vars)))
                .map_err(|e| anyhow!("template `{own}`: {}", describe(&e)))?,
            Err(_) => {
                let layout = self.template_name(lang, "layout.html")?;
                self.env
                    .get_template(&layout)
                    .and_then(|t| {
                        t.render(minijinja::value::Serde(&Layout {
                            org: &self.org_name,
                            reference,
                            paragraphs,
                        }))
                    })
                    .map_err(|e| anyhow!("template `{layout}`: {}", describe(&e)))?
            }
        };
        Ok(Rendered {
            subject,
            text: text.to_string(),
            html,
        })
    }

    /// Renders `template` in `lang` to text only, with `org` and
    /// `org_address` added (letters laid out by [`crate::pdf`]).
    pub fn text(&self, lang: Language, template: &str, vars: &serde_json::Value) -> Result<String> {
        let mut vars = vars.clone();
        if let Some(m) = vars.as_object_mut() {
            m.insert("org".into(), self.org_name.clone().into());
            m.insert("org_address".into(), self.org_address.clone().into());
        }
        let name = self.template_name(lang, &format!("{template}.txt"))?;
        self.env
            .get_template(&name)
            .and_then(|t| t.render(minijinja::value::Serde(&vars)))
            .map_err(|e| anyhow!("template `{name}`: {}", describe(&e)))
    }

    /// An attachment rendered: (file name, MIME type, bytes). A failure is
    /// an error for the whole plan, never a sentence in the reply.
    pub fn attachment(&self, a: &Attach) -> Result<(String, String, Vec<u8>)> {
        Ok(match a {
            Attach::Workbook { file, sheets } => (
                file.clone(),
                XLSX.into(),
                crate::sheets::workbook(sheets)
                    .with_context(|| format!("cannot write the sheet `{file}`"))?,
            ),
            Attach::NewRepLetter { file, letter } => (
                file.clone(),
                "application/pdf".into(),
                self.letter(letter)
                    .with_context(|| format!("cannot write the letter `{file}`"))?,
            ),
            // Read from the register by `store::apply`, which has it.
            Attach::KeptLetter { file, .. } => {
                anyhow::bail!("the kept letter `{file}` is read from the register, not rendered")
            }
        })
    }

    /// The new rep's letter as a PDF, worded by its template.
    pub fn letter(&self, l: &postbud_commands::plan::NewRepLetter) -> Result<Vec<u8>> {
        use crate::letters;
        let markup = self.text(
            l.language,
            letters::NEW_REP_TEMPLATE,
            &letters::new_rep_vars(l),
        )?;
        letters::pdf(&markup, l.date, &self.org_name, &self.org_address)
    }

    /// The monthly letter about union-dues deductions as a PDF, worded by
    /// its template.
    pub fn deduction_letter(&self, l: &postbud_commands::plan::DeductionLetter) -> Result<Vec<u8>> {
        use crate::letters;
        let markup = self.text(
            l.language,
            letters::DEDUCTIONS_TEMPLATE,
            &letters::deduction_vars(l),
        )?;
        letters::pdf(&markup, l.date, &self.org_name, &self.org_address)
    }

    /// The monthly letter's title (what `BREV` lists) and its PDF, from one
    /// rendering of its template.
    pub fn deduction_letter_titled(
        &self,
        l: &postbud_commands::plan::DeductionLetter,
    ) -> Result<(String, Vec<u8>)> {
        use crate::letters;
        let markup = self.text(
            l.language,
            letters::DEDUCTIONS_TEMPLATE,
            &letters::deduction_vars(l),
        )?;
        let title = crate::pdf::Document::parse(&markup).title;
        Ok((
            title,
            letters::pdf(&markup, l.date, &self.org_name, &self.org_address)?,
        ))
    }

    /// The subject of a reply: `Re: [PB-…] <their subject>`, without
    /// earlier `Re:` prefixes or references, and never with a CR or LF.
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

    /// Builds the complete mail; returns its subject and bytes.
    pub fn build(
        &self,
        h: &Headers<'_>,
        r: &Rendered,
        attachments: &[(String, String, Vec<u8>)],
    ) -> Result<(String, Vec<u8>)> {
        let subject = match h.answered {
            Some(msg) => Self::subject(&msg.subject, h.reference),
            None => format!(
                "[{}] {}",
                h.reference,
                header_safe(r.subject.as_deref().unwrap_or(&self.org_name))
            ),
        };
        let mut b = MessageBuilder::new()
            .from((self.org_name.as_str(), self.org_address.as_str()))
            .to(header_safe(h.to))
            .subject(subject.clone())
            .message_id(h.message_id.to_string())
            .date(h.date.timestamp())
            .header(
                "Auto-Submitted",
                Raw::new(match h.answered {
                    Some(_) => "auto-replied",
                    None => "auto-generated",
                }),
            )
            .header("X-Auto-Response-Suppress", Raw::new("All"))
            .header("X-Postbud-Kind", Raw::new(h.kind.to_string()))
            .header("X-Postbud-Result", Raw::new(h.result.to_string()))
            .header("X-Postbud-Ref", Raw::new(h.reference.to_string()))
            .text_body(r.text.clone())
            .html_body(r.html.clone());
        if let Some(msg) = h.answered {
            let mut refs: Vec<String> = msg.references.iter().map(|r| header_safe(r)).collect();
            if let Some(id) = &msg.message_id {
                let id = header_safe(id);
                if !refs.contains(&id) {
                    refs.push(id.clone());
                }
                b = b.in_reply_to(id);
            }
            if !refs.is_empty() {
                b = b.references(refs);
            }
        }
        for (name, mime, bytes) in attachments {
            b = b.attachment(mime.clone(), header_safe(name), bytes.clone());
        }
        let raw = b.write_to_vec().context("cannot write the mail")?;
        Ok((subject, raw))
    }
}

/// A template error in plain words, with the line when known.
fn describe(e: &minijinja::Error) -> String {
    let mut s = match e.line() {
        Some(line) => format!("line {line}: {}", e.kind()),
        None => e.kind().to_string(),
    };
    if let Some(detail) = e.detail() {
        s.push_str(": ");
        s.push_str(detail);
    }
    s
}

/// The `Subject: …` first line of a rendered template, and the rest.
fn split_subject(text: &str) -> (Option<String>, &str) {
    match text.strip_prefix("Subject:") {
        Some(rest) => {
            let (line, body) = rest.split_once('\n').unwrap_or((rest, ""));
            (Some(line.trim().to_string()), body.trim_start_matches('\n'))
        }
        None => (None, text),
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

    #[test]
    fn a_subject_line_is_taken_off_the_text() {
        assert_eq!(
            split_subject("Subject: Hei\n\nTekst\n"),
            (Some("Hei".into()), "Tekst\n")
        );
        assert_eq!(split_subject("Tekst\n"), (None, "Tekst\n"));
    }

    fn admin_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let p = dir.path().join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        dir
    }

    #[test]
    fn an_undefined_variable_is_an_error_not_an_empty_string() {
        let dir = admin_dir(&[("nb/help.txt", "Hei {{ nmae }}\n")]);
        let r = Renderer::new(Some(dir.path().into()), "Forbundet", "post@forbund.example");
        let e = r
            .render(
                Language::Nb,
                "help",
                "PB-2026-000001",
                &serde_json::json!({ "name": "Kari" }),
            )
            .unwrap_err();
        assert!(format!("{e:#}").contains("undefined"), "{e:#}");
    }

    #[test]
    fn a_broken_template_is_reported_and_never_replaced_by_nb() {
        let dir = admin_dir(&[("da/help.txt", "Hej {% if name %}\n")]);
        let r = Renderer::new(Some(dir.path().into()), "Forbundet", "post@forbund.example");
        let problems = r.check();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("da/help.txt") && problems[0].contains("line"),
            "{problems:?}"
        );
        let e = r
            .render(
                Language::Da,
                "help",
                "PB-2026-000001",
                &serde_json::json!({}),
            )
            .unwrap_err();
        assert!(format!("{e:#}").contains("da/help.txt"), "{e:#}");
    }

    #[test]
    fn a_missing_translation_falls_back_to_nb() {
        let dir = admin_dir(&[("nb/only-nb.txt", "Bare bokmål\n")]);
        let r = Renderer::new(Some(dir.path().into()), "Forbundet", "post@forbund.example");
        let out = r
            .render(
                Language::En,
                "only-nb",
                "PB-2026-000001",
                &serde_json::json!({}),
            )
            .unwrap();
        assert_eq!(out.text, "Bare bokmål\n");
    }
}
