//! Letters as PDF: the letter a newly approved rep hands to the employer
//! (SPEC section 5, `NY TILLITSVALGT`). The wording is the template
//! `letter-new-rep.txt` in the letter's language, written in the markup of
//! [`pdf::Document::parse`]: this file gives the template its values and
//! turns what it wrote into a PDF with [`pdf`].

use anyhow::Result;
use chrono::{Datelike, NaiveDate};
use postbud_commands::plan::NewRepLetter;
use serde_json::json;

use crate::pdf::{self, Document};

/// The template of the new rep's letter.
pub const NEW_REP_TEMPLATE: &str = "letter-new-rep";

/// A date as templates read it: `{{ d.day }}`, `{{ d.month }}`, `{{ d.year }}`.
fn date(d: NaiveDate) -> serde_json::Value {
    json!({ "day": d.day(), "month": d.month(), "year": d.year() })
}

/// `Some` with the value as markup may hold it, when it holds more than
/// white space.
fn present(v: &Option<String>) -> Option<String> {
    v.as_deref().map(pdf::cell).filter(|s| !s.is_empty())
}

/// The values [`NEW_REP_TEMPLATE`] reads, each one line of text fit for
/// the markup.
pub fn new_rep_vars(l: &NewRepLetter) -> serde_json::Value {
    json!({
        "reference": pdf::cell(&l.reference),
        "date": date(l.date),
        "from": date(l.valid_from),
        "employer": pdf::cell(&l.employer_name),
        "orgnr": present(&l.employer_orgnr),
        "rep": pdf::cell(&l.rep_name),
        "deputy": l.role.trim().eq_ignore_ascii_case("vara"),
        "role": pdf::cell(&l.role.trim().to_lowercase()),
        "level": pdf::cell(&l.level.trim().to_lowercase()),
        "workplace": present(&l.workplace),
        "unit": present(&l.unit),
        "previous": present(&l.previous_rep),
    })
}

/// A letter as a PDF from the markup its template wrote; `org` and
/// `org_address` head it unless the markup says otherwise.
pub fn pdf(markup: &str, date: NaiveDate, org: &str, org_address: &str) -> Result<Vec<u8>> {
    let mut doc = Document::parse(markup);
    doc.date = Some(date);
    if doc.org.is_empty() {
        doc.org = org.to_string();
    }
    if doc.org_address.is_empty() {
        doc.org_address = org_address.to_string();
    }
    doc.render()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Renderer;
    use postbud_commands::facts::Language;
    use std::path::Path;
    use std::process::Command;

    fn letter(language: Language) -> NewRepLetter {
        NewRepLetter {
            reference: "PB-2025-000123".into(),
            date: NaiveDate::from_ymd_opt(2025, 3, 5).unwrap(),
            language,
            employer_name: "Universitetssykehuset Nord-Norge HF".into(),
            employer_orgnr: Some("983 974 899".into()),
            rep_name: "Máret Čoarvi-Đoalli".into(),
            role: "tillitsvalgt".into(),
            level: "arbeidssted".into(),
            workplace: Some("Ergoterapiavdelingen, Tromsø".into()),
            unit: Some("Klinikk for rehabilitering".into()),
            valid_from: NaiveDate::from_ymd_opt(2025, 4, 1).unwrap(),
            previous_rep: Some("Łukasz Wiśniewski".into()),
        }
    }

    fn renderer() -> Renderer {
        Renderer::new(
            None,
            "Norsk Forbund for Ergoterapeuter",
            "post@forbund.example",
        )
    }

    /// Renders with poppler: fails (not skips) when pdftoppm is missing.
    fn poppler(tool: &str, args: &[&str]) -> std::process::Output {
        let out = Command::new(tool)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {tool} (apt-get install poppler-utils): {e}"));
        assert!(
            out.status.success(),
            "{tool} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn write_pdf(dir: &Path, name: &str, l: &NewRepLetter) -> String {
        let path = dir.join(format!("{name}.pdf"));
        std::fs::write(&path, renderer().letter(l).unwrap()).unwrap();
        path.to_str().unwrap().to_string()
    }

    fn text_of(pdf: &str) -> String {
        let text = String::from_utf8(poppler("pdftotext", &["-layout", pdf, "-"]).stdout).unwrap();
        text.replace('\u{a0}', " ")
    }

    #[test]
    fn letter_is_a_small_pdf_in_every_language() {
        for language in Language::ALL {
            let bytes = renderer().letter(&letter(language)).unwrap();
            assert!(bytes.starts_with(b"%PDF"), "{language:?}");
            assert!(
                bytes.len() < 100_000,
                "fonts are subset: {} bytes",
                bytes.len()
            );
        }
    }

    #[test]
    fn letter_renders_to_a_png_that_is_not_blank() {
        let dir = tempfile::tempdir().unwrap();
        let pdf = write_pdf(dir.path(), "nb", &letter(Language::Nb));
        let pgm = dir.path().join("nb");
        poppler(
            "pdftoppm",
            &[
                "-gray",
                "-r",
                "50",
                "-singlefile",
                &pdf,
                pgm.to_str().unwrap(),
            ],
        );
        let pgm = std::fs::read(dir.path().join("nb.pgm")).unwrap();
        let dark = pgm.iter().skip(20).filter(|&&b| b < 100).count();
        assert!(dark > 1_000, "only {dark} dark pixels");
    }

    #[test]
    fn letter_text_holds_the_names_in_every_language() {
        let dir = tempfile::tempdir().unwrap();
        for (language, subject) in [
            (Language::Nb, "Melding om ny tillitsvalgt"),
            (Language::Nn, "Melding om ny tillitsvald"),
            (Language::Da, "Meddelelse om ny tillidsrepræsentant"),
            (Language::En, "Notice of new union representative"),
        ] {
            let pdf = write_pdf(dir.path(), language.code(), &letter(language));
            let text = text_of(&pdf);
            for expected in [
                subject,
                "Máret Čoarvi-Đoalli",
                "Łukasz Wiśniewski",
                "Universitetssykehuset Nord-Norge HF",
                "PB-2025-000123",
                "Klinikk for rehabilitering",
            ] {
                assert!(
                    text.contains(expected),
                    "{language:?}: no {expected:?} in\n{text}"
                );
            }
        }
        let text = text_of(&write_pdf(dir.path(), "date", &letter(Language::Nb)));
        assert!(
            text.contains("5. mars 2025") && text.contains("1. april 2025"),
            "{text}"
        );
    }

    #[test]
    fn deputy_letter_says_deputy() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = letter(Language::En);
        l.role = "vara".into();
        l.previous_rep = None;
        let text = text_of(&write_pdf(dir.path(), "vara", &l));
        assert!(
            text.contains("Notice of new deputy union representative"),
            "{text}"
        );
        assert!(!text.contains("Replaces"), "{text}");
    }

    #[test]
    fn hostile_and_huge_input_still_renders() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = letter(Language::Nb);
        l.rep_name = "{previous} (a) \\b <c> \r\n# d\te\u{0}f | 中文 😀 {{ org }}".into();
        l.employer_name = "X".repeat(300);
        l.previous_rep = Some("  ".into());
        l.unit = Some(format!("{} ", "Ganske lang enhetsbetegnelse".repeat(200)));
        l.role = "something else".into();
        let pdf = write_pdf(dir.path(), "hostile", &l);
        let text = text_of(&pdf);
        assert!(
            text.contains("{previous} (a) \\b <c> # d e f ¦ ?? ? {{ org }}"),
            "{text}"
        );
        assert!(
            text.contains("Side 1 av ") && text.contains("Side 2 av "),
            "{text}"
        );
        assert!(
            !text.contains("Erstatter"),
            "blank previous rep is left out: {text}"
        );
    }
}
