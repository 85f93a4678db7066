//! Letters as PDF, to an employer:
//! - the letter a newly approved rep hands to the employer (SPEC section 5,
//!   `NY TILLITSVALGT`), template `letter-new-rep.txt`;
//! - the monthly letter "Vedrørende kontingenttrekk for våre medlemmer"
//!   (SPEC section 11, `letters`; seed 002): the members to start and to
//!   stop deducting union dues for, template `letter-deductions.txt`.
//!
//! The wording is the template in the letter's language, written in the
//! markup of [`pdf::Document::parse`]: this file gives the template its
//! values and turns what it wrote into a PDF with [`pdf`].

use anyhow::Result;
use chrono::{Datelike, NaiveDate};
use postbud_commands::plan::{DeductionLetter, DeductionLine, NewRepLetter};
use serde_json::json;

use crate::pdf::{self, Document};

/// The template of the new rep's letter.
pub const NEW_REP_TEMPLATE: &str = "letter-new-rep";

/// The template of the monthly letter about union-dues deductions.
pub const DEDUCTIONS_TEMPLATE: &str = "letter-deductions";

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

/// The values [`DEDUCTIONS_TEMPLATE`] reads, each one line of text fit for
/// the markup:
/// - `number`, the letter's number at this employer, and `reference`,
///   what the employer quotes: `<orgnr>-<number>` (the organisation number
///   without spaces; `<employer id>-<number>` when there is none);
/// - `date`, `employer`, `orgnr` (`None` when blank);
/// - `start` and `stop`, lists of `{ name, member_no, birth, from, why }`:
///   `birth` a date (`None` when unknown or not `YYYY-MM-DD`), `from` a
///   date, `why` the code (`new-member`, `moved-in`; `resigned`, `left`,
///   `moved-away`) in lower case, or what else the plan wrote.
pub fn deduction_vars(l: &DeductionLetter) -> serde_json::Value {
    let orgnr: String = pdf::cell(&l.employer_orgnr)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let reference = if orgnr.is_empty() {
        format!("{}-{}", l.employer_id, l.number)
    } else {
        format!("{orgnr}-{}", l.number)
    };
    let line = |m: &DeductionLine| {
        json!({
            "name": pdf::cell(&m.name),
            "member_no": present(&m.member_no),
            "birth": m
                .birth_date
                .as_deref()
                .and_then(|b| NaiveDate::parse_from_str(b.trim(), "%Y-%m-%d").ok())
                .map(date),
            "from": date(m.from),
            "why": pdf::cell(&m.why.trim().to_lowercase()),
        })
    };
    json!({
        "number": l.number,
        "reference": reference,
        "date": date(l.date),
        "employer": pdf::cell(&l.employer_name),
        "orgnr": Some(pdf::cell(&l.employer_orgnr)).filter(|s| !s.is_empty()),
        "start": l.start.iter().map(line).collect::<Vec<_>>(),
        "stop": l.stop.iter().map(line).collect::<Vec<_>>(),
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

    // --- the monthly letter about deductions ---

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn member(name: &str, no: Option<&str>, birth: Option<&str>, why: &str) -> DeductionLine {
        DeductionLine {
            member_no: no.map(Into::into),
            name: name.into(),
            birth_date: birth.map(Into::into),
            why: why.into(),
            from: day(2026, 12, 1),
        }
    }

    fn deductions(language: Language) -> DeductionLetter {
        DeductionLetter {
            employer_id: 17,
            number: 3,
            date: day(2026, 11, 20),
            language,
            employer_name: "Universitetssykehuset Nord-Norge HF".into(),
            employer_orgnr: "983 974 899".into(),
            start: vec![
                member(
                    "Kari Nordmann",
                    Some("10234"),
                    Some("1985-03-15"),
                    "new-member",
                ),
                member("Máret Čoarvi-Đoalli", None, Some("1992-11-02"), "moved-in"),
            ],
            stop: vec![
                member("Ola Hansen", Some("9876"), Some("1961-01-07"), "resigned"),
                member("Per Olsen", Some("8812"), None, "left"),
                member(
                    "Łukasz Wiśniewski",
                    Some("11020"),
                    Some("1979-06-23"),
                    "moved-away",
                ),
            ],
        }
    }

    fn long_deductions(language: Language, stops: usize) -> DeductionLetter {
        let mut l = deductions(language);
        l.stop = (0..stops)
            .map(|i| {
                let why = ["resigned", "left", "moved-away"][i % 3];
                let name = format!("Medlem{i:03} Etternavnesen");
                member(
                    &name,
                    Some(&format!("{}", 20000 + i)),
                    Some("1980-02-29"),
                    why,
                )
            })
            .collect();
        l
    }

    fn write_deductions(dir: &Path, name: &str, l: &DeductionLetter) -> String {
        let path = dir.join(format!("{name}.pdf"));
        std::fs::write(&path, renderer().deduction_letter(l).unwrap()).unwrap();
        path.to_str().unwrap().to_string()
    }

    #[test]
    fn deduction_vars_give_the_reference_dates_and_codes() {
        let v = deduction_vars(&deductions(Language::Nb));
        assert_eq!(v["reference"], "983974899-3");
        assert_eq!(v["number"], 3);
        assert_eq!(v["orgnr"], "983 974 899");
        assert_eq!(
            v["start"][0]["birth"],
            json!({"day": 15, "month": 3, "year": 1985})
        );
        assert_eq!(v["start"][1]["member_no"], serde_json::Value::Null);
        assert_eq!(v["stop"][1]["birth"], serde_json::Value::Null);
        assert_eq!(v["stop"][2]["why"], "moved-away");
        let mut l = deductions(Language::Nb);
        l.employer_orgnr = " ".into();
        l.stop[0].name = "A | B\nC".into();
        l.stop[0].birth_date = Some("15.03.1985".into());
        let v = deduction_vars(&l);
        assert_eq!(v["reference"], "17-3");
        assert_eq!(v["orgnr"], serde_json::Value::Null);
        assert_eq!(v["stop"][0]["name"], "A ¦ B C");
        assert_eq!(v["stop"][0]["birth"], serde_json::Value::Null);
    }

    #[test]
    fn deduction_letter_text_holds_both_lists_in_every_language() {
        let dir = tempfile::tempdir().unwrap();
        for (language, words) in [
            (
                Language::Nb,
                [
                    "Vedrørende kontingenttrekk for våre medlemmer",
                    "Start trekk for disse medlemmene",
                    "Stopp trekk for disse medlemmene",
                    "ny i forbundet",
                    "flyttet til annen arbeidsgiver",
                    "20. november 2026",
                    "15.03.1985",
                    "Side 1 av 1",
                ],
            ),
            (
                Language::Nn,
                [
                    "Vedkomande kontingenttrekk for medlemene våre",
                    "Start trekk for desse medlemene",
                    "Stopp trekk for desse medlemene",
                    "byrja hos dykk",
                    "slutta hos dykk",
                    "20. november 2026",
                    "15.03.1985",
                    "Side 1 av 1",
                ],
            ),
            (
                Language::Da,
                [
                    "Vedrørende kontingenttræk for vores medlemmer",
                    "Start træk for disse medlemmer",
                    "Stop træk for disse medlemmer",
                    "begyndt hos jer",
                    "meldt sig ud",
                    "20. november 2026",
                    "15.03.1985",
                    "Side 1 af 1",
                ],
            ),
            (
                Language::En,
                [
                    "Concerning union dues deductions for our members",
                    "Start deductions for these members",
                    "Stop deductions for these members",
                    "new member",
                    "moved to another employer",
                    "20 November 2026",
                    "15 Mar 1985",
                    "Page 1 of 1",
                ],
            ),
        ] {
            let pdf = write_deductions(dir.path(), language.code(), &deductions(language));
            let text = text_of(&pdf);
            for expected in words.iter().chain(&[
                "Máret Čoarvi-Đoalli",
                "Łukasz Wiśniewski",
                "Universitetssykehuset Nord-Norge HF",
                "983 974 899",
                "983974899-3",
                "10234",
                "Kari Nordmann",
                "Per Olsen",
            ]) {
                assert!(
                    text.contains(expected),
                    "{language:?}: no {expected:?} in\n{text}"
                );
            }
            assert!(
                !text.contains('?'),
                "{language:?}: a glyph is missing:\n{text}"
            );
        }
    }

    #[test]
    fn deduction_letter_with_only_stops_has_no_start_table() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = deductions(Language::Nb);
        l.start.clear();
        l.number = 1;
        let text = text_of(&write_deductions(dir.path(), "stops", &l));
        assert!(text.contains("Stopp trekk"), "{text}");
        assert!(!text.contains("Start trekk"), "{text}");
        assert!(!text.contains("brev nr. 0"), "{text}");
        assert_eq!(text.matches("Fødselsdato").count(), 1, "{text}");
        l.stop.clear();
        let text = text_of(&write_deductions(dir.path(), "none", &l));
        assert!(text.contains("ingen endringer"), "{text}");
        assert!(!text.contains("Fødselsdato"), "{text}");
    }

    #[test]
    fn a_long_deduction_letter_repeats_the_table_header_on_every_page() {
        let dir = tempfile::tempdir().unwrap();
        let pdf = write_deductions(dir.path(), "long", &long_deductions(Language::Nb, 150));
        let text = text_of(&pdf);
        let pages: Vec<&str> = text
            .split('\u{c}')
            .filter(|p| !p.trim().is_empty())
            .collect();
        assert!(pages.len() >= 3, "{} pages:\n{text}", pages.len());
        let total = pages.len();
        for (i, page) in pages.iter().enumerate() {
            assert!(
                page.contains(&format!("Side {} av {total}", i + 1)),
                "page {}:\n{page}",
                i + 1
            );
            if page.contains("Etternavnesen") {
                assert!(
                    page.contains("Fødselsdato") && page.contains("Medlemsnr."),
                    "page {} has rows but no header:\n{page}",
                    i + 1
                );
            }
        }
        for i in [0, 75, 149] {
            assert!(text.contains(&format!("Medlem{i:03} Etternavnesen")), "{i}");
        }
        assert!(text.contains("Med vennlig hilsen"), "{text}");
    }

    #[test]
    fn a_table_caption_is_never_left_alone_at_the_foot_of_a_page() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = deductions(Language::Nb);
        for starts in (18..=26).chain(70..=78) {
            l.start = (0..starts)
                .map(|i| member(&format!("Ny{i:02} Person"), None, None, "new-member"))
                .collect();
            let pdf = write_deductions(dir.path(), "caption", &l);
            for page in text_of(&pdf).split('\u{c}') {
                if page.contains("Stopp trekk for disse medlemmene") {
                    assert!(
                        page.contains("Ola Hansen"),
                        "{starts} starts: the caption is apart from its table:\n{page}"
                    );
                }
            }
        }
    }

    #[test]
    fn deduction_letter_renders_to_a_png_that_is_not_blank() {
        let dir = tempfile::tempdir().unwrap();
        let pdf = write_deductions(dir.path(), "nb", &deductions(Language::Nb));
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

    /// What one letter costs: the monthly job writes one per employer (5,000
    /// in well under a minute with everything else). Prints the time; in a
    /// release build it must stay far below the budget.
    #[test]
    fn a_ten_line_deduction_letter_renders_quickly() {
        let mut l = long_deductions(Language::Nb, 8);
        l.start.truncate(2);
        let r = renderer();
        r.deduction_letter(&l).unwrap();
        let runs = 20;
        let mut times: Vec<std::time::Duration> = (0..runs)
            .map(|_| {
                let t = std::time::Instant::now();
                std::hint::black_box(r.deduction_letter(&l).unwrap());
                t.elapsed()
            })
            .collect();
        times.sort();
        let median = times[runs / 2];
        println!(
            "a 10-line deduction letter: median {:.2} ms, fastest {:.2} ms over {runs} renders",
            median.as_secs_f64() * 1e3,
            times[0].as_secs_f64() * 1e3
        );
        if !cfg!(debug_assertions) {
            assert!(median.as_millis() < 20, "{median:?} a letter");
        }
    }

    /// Writes sample letters for a person to look at:
    /// `POSTBUD_LETTERS_DIR=/tmp/letters cargo test --lib letters -- --ignored`.
    #[test]
    #[ignore]
    fn write_sample_deduction_letters() {
        let Ok(dir) = std::env::var("POSTBUD_LETTERS_DIR") else {
            return;
        };
        let dir = Path::new(&dir);
        std::fs::create_dir_all(dir).unwrap();
        write_deductions(dir, "long-nb", &long_deductions(Language::Nb, 150));
        for language in Language::ALL {
            write_deductions(dir, language.code(), &deductions(language));
        }
    }
}
