//! The PDF letter a newly approved rep hands to the employer (SPEC section 5,
//! `NY TILLITSVALGT`): pure, from a [`NewRepLetter`] to the bytes of an A4 PDF.
//!
//! printpdf has no layout engine, so this file wraps lines, breaks pages and
//! numbers them itself. The text is embedded as Liberation Sans (SIL OFL 1.1,
//! `fonts/LICENSE-LiberationSans.txt`), so names outside WinAnsi, such as
//! "Máret Čoarvi-Đoalli" or "Łukasz Wiśniewski", print as written. The wording
//! per language is the table [`words`].

use std::collections::BTreeSet;

use anyhow::{Context, Result, anyhow};
use chrono::{Datelike, NaiveDate};
use printpdf::{
    Color, Line, LinePoint, Mm, Op, ParsedFont, PdfDocument, PdfFontHandle, PdfPage,
    PdfSaveOptions, Point, Pt, Rgb, TextItem,
};
use unicode_normalization::UnicodeNormalization;

use crate::config::Language;

const REGULAR_TTF: &[u8] = include_bytes!("../fonts/LiberationSans-Regular.ttf");
const BOLD_TTF: &[u8] = include_bytes!("../fonts/LiberationSans-Bold.ttf");

/// Everything the letter says; the caller has looked it all up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRepLetter {
    /// The organisation sending the letter: the header and the signature.
    pub org_name: String,
    /// The organisation's mail address, where the employer can ask questions.
    pub org_address: String,
    /// The reference of the approved change, `PB-YYYY-NNNNNN`, so a question
    /// from the employer can be traced back.
    pub reference: String,
    /// The letter's date (the day it was approved), passed in: no clock here.
    pub date: NaiveDate,
    /// The language the letter is written in.
    pub language: Language,
    /// The addressee.
    pub employer_name: String,
    /// The employer's organisation number, printed under its name when known.
    pub employer_orgnr: Option<String>,
    /// The new rep.
    pub rep_name: String,
    /// `tillitsvalgt` or `vara`; anything else is printed as given.
    pub role: String,
    /// `arbeidsgiver`, `mellomnivå` or `arbeidssted`; anything else is
    /// printed as given.
    pub level: String,
    /// The rep's workplace, when the level is below the employer.
    pub workplace: Option<String>,
    /// The unit the rep is elected for (a mid-level unit or a workplace).
    pub unit: Option<String>,
    /// The first day the rep holds the role.
    pub valid_from: NaiveDate,
    /// The rep this one replaces, if any.
    pub previous_rep: Option<String>,
}

/// Renders the letter as a PDF (one page unless the names are very long).
pub fn new_rep_letter(l: &NewRepLetter) -> Result<Vec<u8>> {
    let w = words(l.language);
    let deputy = is_deputy(&l.role);
    let regular = Face::load(REGULAR_TTF, false).context("cannot load the regular letter font")?;
    let bold = Face::load(BOLD_TTF, true).context("cannot load the bold letter font")?;

    let mut doc = PdfDocument::new(&clean(w.subject[deputy as usize]));
    let day = pdf_date(l.date);
    doc.metadata.info.creation_date = day;
    doc.metadata.info.modification_date = day;
    doc.metadata.info.metadata_date = day;
    doc.metadata.info.author = clean(&l.org_name);

    let org = clean(&l.org_name);
    let rep = clean(&l.rep_name);
    let employer = clean(&l.employer_name);
    let from = format_date(l.language, l.valid_from);
    let previous = present(&l.previous_rep);
    let vars: &[(&str, &str)] = &[
        ("org", &org),
        ("rep", &rep),
        ("employer", &employer),
        ("from", &from),
        ("previous", previous.as_deref().unwrap_or("")),
        ("address", &clean(&l.org_address)),
        ("reference", &clean(&l.reference)),
    ];

    let mut p = Pages::new();

    // Header: the organisation, its address, a rule.
    p.paragraph(&bold, &org, 16.0, LEFT, TEXT_WIDTH, BLACK);
    p.paragraph(&regular, &l.org_address, 10.0, LEFT, TEXT_WIDTH, GREY);
    p.y += 2.0;
    p.rule();
    p.y += 12.0;

    // Addressee on the left, date and reference on the right, side by side.
    let top = p.y;
    p.paragraph(&regular, w.to, 9.0, LEFT, ADDRESS_WIDTH, GREY);
    p.paragraph(&bold, &employer, 11.0, LEFT, ADDRESS_WIDTH, BLACK);
    if let Some(nr) = present(&l.employer_orgnr) {
        p.paragraph(
            &regular,
            &format!("{} {nr}", w.orgnr),
            11.0,
            LEFT,
            ADDRESS_WIDTH,
            BLACK,
        );
    }
    let left_end = p.y;
    p.y = top;
    let date = format_date(l.language, l.date);
    for (label, value) in [(w.date, date.as_str()), (w.our_ref, l.reference.as_str())] {
        p.paragraph(&regular, label, 9.0, META_X, META_WIDTH, GREY);
        p.paragraph(&regular, value, 11.0, META_X, META_WIDTH, BLACK);
        p.y += 1.0;
    }
    p.y = p.y.max(left_end) + 14.0;

    p.paragraph(
        &bold,
        w.subject[deputy as usize],
        14.0,
        LEFT,
        TEXT_WIDTH,
        BLACK,
    );
    p.y += 4.0;

    let mut intro = fill(w.intro[deputy as usize], vars);
    if previous.is_some() {
        intro.push(' ');
        intro.push_str(&fill(w.replaces, vars));
    }
    p.paragraph(&regular, &intro, BODY_PT, LEFT, TEXT_WIDTH, BLACK);
    p.y += 4.0;

    // The facts again as a small table, easy to copy into the employer's records.
    let role = match l.role.trim().to_lowercase().as_str() {
        "tillitsvalgt" => w.roles[0].to_string(),
        "vara" => w.roles[1].to_string(),
        _ => clean(&l.role),
    };
    let level = match l.level.trim().to_lowercase().as_str() {
        "arbeidsgiver" => w.levels[0].to_string(),
        "mellomnivå" | "mellomniva" => w.levels[1].to_string(),
        "arbeidssted" => w.levels[2].to_string(),
        _ => clean(&l.level),
    };
    let mut rows = vec![
        (w.labels.name, rep.clone()),
        (w.labels.role, role),
        (w.labels.level, level),
    ];
    if let Some(unit) = present(&l.unit) {
        rows.push((w.labels.unit, unit));
    }
    if let Some(workplace) = present(&l.workplace) {
        rows.push((w.labels.workplace, workplace));
    }
    rows.push((w.labels.from, from.clone()));
    if let Some(prev) = &previous {
        rows.push((w.labels.replaces, prev.clone()));
    }
    for (label, value) in rows {
        p.table_row(&regular, label, &value);
    }
    p.y += 4.0;

    p.paragraph(
        &regular,
        &fill(w.ask, vars),
        BODY_PT,
        LEFT,
        TEXT_WIDTH,
        BLACK,
    );
    p.y += 6.0;
    p.paragraph(&regular, w.closing, BODY_PT, LEFT, TEXT_WIDTH, BLACK);
    p.y += 2.0;
    p.paragraph(&bold, &org, BODY_PT, LEFT, TEXT_WIDTH, BLACK);

    let footer_left = [format!("{org} · {}", clean(&l.org_address)), org.clone()];
    let pages = p.finish(&regular, &footer_left, &clean(&l.reference), w.page);
    let pages = emit(&mut doc, pages, &regular, &bold);
    let mut warnings = Vec::new();
    Ok(doc
        .with_pages(pages)
        .save(&PdfSaveOptions::default(), &mut warnings))
}

// --- the words ---

/// The labels of the table of facts.
struct Labels {
    name: &'static str,
    role: &'static str,
    level: &'static str,
    unit: &'static str,
    workplace: &'static str,
    from: &'static str,
    replaces: &'static str,
}

/// The fixed text of the letter in one language. `{name}` placeholders are
/// filled by [`fill`]; `[_; 2]` is (rep, deputy).
struct Words {
    subject: [&'static str; 2],
    to: &'static str,
    orgnr: &'static str,
    date: &'static str,
    our_ref: &'static str,
    intro: [&'static str; 2],
    replaces: &'static str,
    labels: Labels,
    /// `tillitsvalgt`, `vara`.
    roles: [&'static str; 2],
    /// `arbeidsgiver`, `mellomnivå`, `arbeidssted`.
    levels: [&'static str; 3],
    ask: &'static str,
    closing: &'static str,
    /// `{n}` and `{total}`.
    page: &'static str,
}

fn words(language: Language) -> Words {
    match language {
        Language::Nb => Words {
            subject: [
                "Melding om ny tillitsvalgt",
                "Melding om ny vara for tillitsvalgt",
            ],
            to: "Til",
            orgnr: "Org.nr.",
            date: "Dato",
            our_ref: "Vår referanse",
            intro: [
                "{org} melder med dette at {rep} er valgt som tillitsvalgt for våre \
                 medlemmer hos {employer} fra og med {from}.",
                "{org} melder med dette at {rep} er valgt som vara for tillitsvalgt for \
                 våre medlemmer hos {employer} fra og med {from}.",
            ],
            replaces: "{rep} tar over etter {previous}.",
            labels: Labels {
                name: "Navn",
                role: "Verv",
                level: "Nivå",
                unit: "Enhet",
                workplace: "Arbeidssted",
                from: "Gjelder fra",
                replaces: "Erstatter",
            },
            roles: ["Tillitsvalgt", "Vara for tillitsvalgt"],
            levels: ["Arbeidsgiver", "Mellomnivå", "Arbeidssted"],
            ask: "Vi ber arbeidsgiver merke seg endringen. Spørsmål om denne meldingen \
                  kan sendes til {address}, merket {reference}.",
            closing: "Med vennlig hilsen",
            page: "Side {n} av {total}",
        },
        Language::Nn => Words {
            subject: [
                "Melding om ny tillitsvald",
                "Melding om ny vara for tillitsvald",
            ],
            to: "Til",
            orgnr: "Org.nr.",
            date: "Dato",
            our_ref: "Vår referanse",
            intro: [
                "{org} melder med dette at {rep} er vald som tillitsvald for medlemmene \
                 våre hos {employer} frå og med {from}.",
                "{org} melder med dette at {rep} er vald som vara for tillitsvald for \
                 medlemmene våre hos {employer} frå og med {from}.",
            ],
            replaces: "{rep} tek over etter {previous}.",
            labels: Labels {
                name: "Namn",
                role: "Verv",
                level: "Nivå",
                unit: "Eining",
                workplace: "Arbeidsstad",
                from: "Gjeld frå",
                replaces: "Erstattar",
            },
            roles: ["Tillitsvald", "Vara for tillitsvald"],
            levels: ["Arbeidsgivar", "Mellomnivå", "Arbeidsstad"],
            ask: "Vi ber arbeidsgivaren merke seg endringa. Spørsmål om denne meldinga \
                  kan sendast til {address}, merkt {reference}.",
            closing: "Med venleg helsing",
            page: "Side {n} av {total}",
        },
        Language::Da => Words {
            subject: [
                "Meddelelse om ny tillidsrepræsentant",
                "Meddelelse om ny suppleant for tillidsrepræsentanten",
            ],
            to: "Til",
            orgnr: "Org.nr.",
            date: "Dato",
            our_ref: "Vores reference",
            intro: [
                "{org} meddeler hermed, at {rep} er valgt som tillidsrepræsentant for \
                 vores medlemmer hos {employer} med virkning fra {from}.",
                "{org} meddeler hermed, at {rep} er valgt som suppleant for \
                 tillidsrepræsentanten for vores medlemmer hos {employer} med virkning \
                 fra {from}.",
            ],
            replaces: "{rep} afløser {previous}.",
            labels: Labels {
                name: "Navn",
                role: "Hverv",
                level: "Niveau",
                unit: "Enhed",
                workplace: "Arbejdssted",
                from: "Gælder fra",
                replaces: "Afløser",
            },
            roles: ["Tillidsrepræsentant", "Suppleant for tillidsrepræsentanten"],
            levels: ["Arbejdsgiver", "Mellemniveau", "Arbejdssted"],
            ask: "Vi beder arbejdsgiveren notere ændringen. Spørgsmål om denne meddelelse \
                  kan sendes til {address} med reference {reference}.",
            closing: "Med venlig hilsen",
            page: "Side {n} af {total}",
        },
        Language::En => Words {
            subject: [
                "Notice of new union representative",
                "Notice of new deputy union representative",
            ],
            to: "To",
            orgnr: "Org. no.",
            date: "Date",
            our_ref: "Our reference",
            intro: [
                "{org} hereby gives notice that {rep} has been elected union \
                 representative for our members at {employer}, effective from {from}.",
                "{org} hereby gives notice that {rep} has been elected deputy union \
                 representative for our members at {employer}, effective from {from}.",
            ],
            replaces: "{rep} replaces {previous}.",
            labels: Labels {
                name: "Name",
                role: "Role",
                level: "Level",
                unit: "Unit",
                workplace: "Workplace",
                from: "Effective from",
                replaces: "Replaces",
            },
            roles: ["Union representative", "Deputy union representative"],
            levels: ["Employer", "Intermediate level", "Workplace"],
            ask: "We ask the employer to take note of this change. Questions about this \
                  notice may be sent to {address}, quoting reference {reference}.",
            closing: "Kind regards",
            page: "Page {n} of {total}",
        },
    }
}

fn is_deputy(role: &str) -> bool {
    role.trim().eq_ignore_ascii_case("vara")
}

/// `5. mars 2025`, `5 March 2025`, with no-break spaces so a date is never
/// split over two lines.
fn format_date(language: Language, d: NaiveDate) -> String {
    const NB: [&str; 12] = [
        "januar",
        "februar",
        "mars",
        "april",
        "mai",
        "juni",
        "juli",
        "august",
        "september",
        "oktober",
        "november",
        "desember",
    ];
    const DA: [&str; 12] = [
        "januar",
        "februar",
        "marts",
        "april",
        "maj",
        "juni",
        "juli",
        "august",
        "september",
        "oktober",
        "november",
        "december",
    ];
    const EN: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let m = d.month0() as usize;
    match language {
        Language::Nb | Language::Nn => format!("{}.\u{a0}{}\u{a0}{}", d.day(), NB[m], d.year()),
        Language::Da => format!("{}.\u{a0}{}\u{a0}{}", d.day(), DA[m], d.year()),
        Language::En => format!("{}\u{a0}{}\u{a0}{}", d.day(), EN[m], d.year()),
    }
}

fn pdf_date(d: NaiveDate) -> printpdf::date::DateTime {
    use printpdf::date::{Date, DateTime, Offset, Time};
    DateTime::new_in_offset(
        Date {
            year: d.year(),
            month: d.month() as u8,
            day: d.day() as u8,
        },
        Time {
            hour: 0,
            minute: 0,
            second: 0,
            millisecond: 0,
        },
        Offset {
            hours: 0,
            minutes: 0,
            seconds: 0,
            milliseconds: 0,
        },
    )
}

/// Replaces `{key}` in `template` in one pass, so a value that itself holds
/// `{rep}` stays as written.
fn fill(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}').and_then(|end| {
            let key = &after[..end];
            vars.iter().find(|(k, _)| *k == key).map(|(_, v)| (end, *v))
        }) {
            Some((end, value)) => {
                out.push_str(value);
                rest = &after[end + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// User input as one printable line: composed (NFC, so a name typed as
/// "a" + combining accent shows as one letter), control characters and runs of
/// white space turned into single spaces; a no-break space stays one.
fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.nfc() {
        let c = match c {
            '\u{a0}' => c,
            c if c.is_whitespace() || c.is_control() => ' ',
            c => c,
        };
        if c == ' ' && (out.is_empty() || out.ends_with(' ')) {
            continue;
        }
        out.push(c);
    }
    out.truncate(out.trim_end().len());
    out
}

/// `Some` with the cleaned value when the option holds more than white space.
fn present(v: &Option<String>) -> Option<String> {
    v.as_deref().map(clean).filter(|s| !s.is_empty())
}

// --- layout ---

const PAGE_W: f32 = 210.0;
const PAGE_H: f32 = 297.0;
const LEFT: f32 = 25.0;
const RIGHT: f32 = 20.0;
const TEXT_WIDTH: f32 = PAGE_W - LEFT - RIGHT;
/// Top and bottom of the writing area, in mm from the top edge.
const TOP: f32 = 20.0;
const BOTTOM: f32 = PAGE_H - 25.0;
const META_X: f32 = 135.0;
const META_WIDTH: f32 = PAGE_W - RIGHT - META_X;
const ADDRESS_WIDTH: f32 = META_X - LEFT - 8.0;
const LABEL_WIDTH: f32 = 40.0;
const BODY_PT: f32 = 11.0;
const BLACK: f32 = 0.0;
const GREY: f32 = 0.4;
const PT_TO_MM: f32 = 25.4 / 72.0;

/// One of the two embedded fonts, parsed for widths and coverage.
struct Face {
    ttf: &'static [u8],
    parsed: ParsedFont,
    bold: bool,
}

impl Face {
    fn load(ttf: &'static [u8], bold: bool) -> Result<Face> {
        let parsed = ParsedFont::from_bytes(ttf, 0, &mut Vec::new())
            .ok_or_else(|| anyhow!("the embedded TrueType font does not parse"))?;
        Ok(Face { ttf, parsed, bold })
    }

    /// The text as this font can print it: characters it has no glyph for
    /// become `?` rather than an empty box of unknown width.
    fn printable(&self, s: &str) -> String {
        clean(s)
            .chars()
            .map(|c| {
                if self.parsed.lookup_glyph_index(c as u32).is_some() {
                    c
                } else {
                    '?'
                }
            })
            .collect()
    }

    fn width_mm(&self, s: &str, pt: f32) -> f32 {
        let units: u32 = s
            .chars()
            .filter_map(|c| {
                let g = self.parsed.lookup_glyph_index(c as u32)?;
                self.parsed.get_glyph_width(g)
            })
            .map(u32::from)
            .sum();
        units as f32 / f32::from(self.parsed.units_per_em.max(1)) * pt * PT_TO_MM
    }

    /// Greedy word wrap to `width` mm; a word longer than a line is cut.
    fn wrap(&self, s: &str, pt: f32, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in self.printable(s).split(' ').filter(|w| !w.is_empty()) {
            let candidate = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if self.width_mm(&candidate, pt) <= width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            for c in word.chars() {
                line.push(c);
                if self.width_mm(&line, pt) > width && line.chars().count() > 1 {
                    line.pop();
                    lines.push(std::mem::take(&mut line));
                    line.push(c);
                }
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
        lines
    }

    /// Adds the font to the document, cut down to the glyphs of `used`
    /// (printpdf only subsets with its heavy `text_layout` feature): a few
    /// KB instead of 400. Falls back to the whole font if subsetting fails.
    fn embed<'a>(
        &self,
        doc: &mut PdfDocument,
        used: impl Iterator<Item = &'a str>,
    ) -> PdfFontHandle {
        let chars: BTreeSet<char> = used.flat_map(str::chars).collect();
        let gids: BTreeSet<u16> = chars
            .iter()
            .filter_map(|&c| self.parsed.lookup_glyph_index(c as u32))
            .collect();
        let font = self
            .subset(&gids)
            .filter(|sub| {
                chars
                    .iter()
                    .all(|&c| sub.lookup_glyph_index(c as u32).is_some())
            })
            .unwrap_or_else(|| self.parsed.clone());
        PdfFontHandle::External(doc.add_font(&font))
    }

    fn subset(&self, gids: &BTreeSet<u16>) -> Option<ParsedFont> {
        use allsorts::binary::read::ReadScope;
        use allsorts::font_data::FontData;
        use allsorts::subset::{CmapTarget, SubsetProfile, subset};
        use allsorts::tag;
        let data = ReadScope::new(self.ttf).read::<FontData<'_>>().ok()?;
        let provider = data.table_provider(0).ok()?;
        // .notdef first, as allsorts requires.
        let ids: Vec<u16> = std::iter::once(0)
            .chain(gids.iter().copied().filter(|&g| g != 0))
            .collect();
        let tables = vec![
            tag::CMAP,
            tag::HEAD,
            tag::CVT,
            tag::FPGM,
            tag::HHEA,
            tag::HMTX,
            tag::MAXP,
            tag::NAME,
            tag::OS_2,
            tag::POST,
            tag::PREP,
        ];
        let bytes = subset(
            &provider,
            &ids,
            &SubsetProfile::Custom(tables),
            CmapTarget::Unicode,
        )
        .ok()?;
        ParsedFont::from_bytes(&bytes, 0, &mut Vec::new())
    }
}

/// What goes on a page, laid out before the fonts are embedded (the subset
/// needs to know every character first). `y` is in mm from the top.
enum Mark {
    Text {
        bold: bool,
        x: f32,
        y: f32,
        pt: f32,
        grey: f32,
        text: String,
    },
    Rule {
        y: f32,
    },
}

/// The pages written so far, and where the next line goes (`y`, in mm from
/// the top of the current page).
struct Pages {
    done: Vec<Vec<Mark>>,
    marks: Vec<Mark>,
    y: f32,
}

impl Pages {
    fn new() -> Pages {
        Pages {
            done: Vec::new(),
            marks: Vec::new(),
            y: TOP,
        }
    }

    fn line_height(pt: f32) -> f32 {
        pt * 1.4 * PT_TO_MM
    }

    /// Starts a new page if `height` mm do not fit on this one.
    fn need(&mut self, height: f32) {
        if self.y + height > BOTTOM && self.y > TOP {
            self.done.push(std::mem::take(&mut self.marks));
            self.y = TOP;
        }
    }

    fn text(&mut self, face: &Face, x: f32, y: f32, pt: f32, grey: f32, text: &str) {
        self.marks.push(Mark::Text {
            bold: face.bold,
            x,
            y,
            pt,
            grey,
            text: text.to_string(),
        });
    }

    /// Wrapped text from `x`, `width` mm wide, moving `y` down past it.
    fn paragraph(&mut self, face: &Face, s: &str, pt: f32, x: f32, width: f32, grey: f32) {
        let lh = Self::line_height(pt);
        for line in face.wrap(s, pt, width) {
            self.need(lh);
            self.y += lh;
            self.text(face, x, self.y - lh * 0.25, pt, grey, &line);
        }
    }

    /// A label in grey and a value wrapped beside it.
    fn table_row(&mut self, face: &Face, label: &str, value: &str) {
        let lh = Self::line_height(BODY_PT);
        let lines = face.wrap(value, BODY_PT, TEXT_WIDTH - LABEL_WIDTH);
        self.need(lh * lines.len().clamp(1, 3) as f32);
        let label_y = self.y + lh * 0.75;
        let label = face.printable(label);
        self.text(face, LEFT, label_y, BODY_PT, GREY, &label);
        if lines.is_empty() {
            self.y += lh;
        }
        for line in lines {
            self.need(lh);
            self.y += lh;
            self.text(
                face,
                LEFT + LABEL_WIDTH,
                self.y - lh * 0.25,
                BODY_PT,
                BLACK,
                &line,
            );
        }
    }

    fn rule(&mut self) {
        self.marks.push(Mark::Rule { y: self.y });
    }

    /// Closes the last page and gives every page its footer: who sent it on
    /// the left (the first of `left` that fits, else the start of the last),
    /// the reference and "page n of total" on the right.
    fn finish(
        mut self,
        face: &Face,
        left: &[String],
        reference: &str,
        page: &str,
    ) -> Vec<Vec<Mark>> {
        self.done.push(std::mem::take(&mut self.marks));
        let total = self.done.len().to_string();
        let pt = 8.0;
        let y = PAGE_H - 12.0;
        let mut pages = Vec::new();
        for (i, marks) in std::mem::take(&mut self.done).into_iter().enumerate() {
            self.marks = marks;
            let n = (i + 1).to_string();
            let right = format!(
                "{reference} · {}",
                fill(page, &[("n", &n), ("total", &total)])
            );
            let right = face.printable(&right);
            let right_width = face.width_mm(&right, pt);
            let room = TEXT_WIDTH - right_width - 6.0;
            let fits = left
                .iter()
                .map(|s| face.printable(s))
                .find(|s| face.width_mm(s, pt) <= room);
            let lines = left
                .last()
                .map(|s| face.wrap(s, pt, room))
                .unwrap_or_default();
            if let Some(text) = fits.or_else(|| lines.into_iter().next()) {
                self.text(face, LEFT, y, pt, GREY, &text);
            }
            self.text(face, PAGE_W - RIGHT - right_width, y, pt, GREY, &right);
            pages.push(std::mem::take(&mut self.marks));
        }
        pages
    }
}

/// Embeds the two fonts, subset to what the pages use, and turns the marks
/// into PDF pages.
fn emit(doc: &mut PdfDocument, pages: Vec<Vec<Mark>>, regular: &Face, bold: &Face) -> Vec<PdfPage> {
    let used = |want_bold: bool| {
        pages.iter().flatten().filter_map(move |m| match m {
            Mark::Text { bold, text, .. } if *bold == want_bold => Some(text.as_str()),
            _ => None,
        })
    };
    let regular = regular.embed(doc, used(false));
    let bold = bold.embed(doc, used(true));
    pages
        .into_iter()
        .map(|marks| {
            let mut ops = Vec::new();
            for mark in marks {
                match mark {
                    Mark::Text {
                        bold: is_bold,
                        x,
                        y,
                        pt,
                        grey,
                        text,
                    } => ops.extend([
                        Op::StartTextSection,
                        Op::SetFillColor {
                            col: Color::Rgb(Rgb::new(grey, grey, grey, None)),
                        },
                        Op::SetFont {
                            font: if is_bold {
                                bold.clone()
                            } else {
                                regular.clone()
                            },
                            size: Pt(pt),
                        },
                        Op::SetTextCursor {
                            pos: Point::new(Mm(x), Mm(PAGE_H - y)),
                        },
                        Op::ShowText {
                            items: vec![TextItem::Text(text)],
                        },
                        Op::EndTextSection,
                    ]),
                    Mark::Rule { y } => {
                        let at = |x: f32| LinePoint {
                            p: Point::new(Mm(x), Mm(PAGE_H - y)),
                            bezier: false,
                        };
                        ops.extend([
                            Op::SetOutlineColor {
                                col: Color::Rgb(Rgb::new(0.6, 0.6, 0.6, None)),
                            },
                            Op::SetOutlineThickness { pt: Pt(0.5) },
                            Op::DrawLine {
                                line: Line {
                                    points: vec![at(LEFT), at(PAGE_W - RIGHT)],
                                    is_closed: false,
                                },
                            },
                        ])
                    }
                }
            }
            PdfPage::new(Mm(PAGE_W), Mm(PAGE_H), ops)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::process::Command;

    fn letter(language: Language) -> NewRepLetter {
        NewRepLetter {
            org_name: "Norsk Forbund for Ergoterapeuter".into(),
            org_address: "post@forbund.example".into(),
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
        std::fs::write(&path, new_rep_letter(l).unwrap()).unwrap();
        path.to_str().unwrap().to_string()
    }

    fn text_of(pdf: &str) -> String {
        let text = String::from_utf8(poppler("pdftotext", &["-layout", pdf, "-"]).stdout).unwrap();
        text.replace('\u{a0}', " ")
    }

    #[test]
    fn letter_is_a_pdf() {
        for language in [Language::Nb, Language::Nn, Language::Da, Language::En] {
            let bytes = new_rep_letter(&letter(language)).unwrap();
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
        let png = dir.path().join("nb");
        poppler(
            "pdftoppm",
            &[
                "-png",
                "-r",
                "50",
                "-singlefile",
                &pdf,
                png.to_str().unwrap(),
            ],
        );
        let png = std::fs::read(dir.path().join("nb.png")).expect("pdftoppm wrote no PNG");
        assert!(png.starts_with(b"\x89PNG"));
        // A blank A4 page at 50 dpi is about 1 KB as PNG.
        assert!(png.len() > 8_000, "PNG looks blank: {} bytes", png.len());

        // The same page as raw grey pixels: count the dark ones.
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
        l.rep_name = "{previous} (a) \\b <c> \r\nd\te\u{0}f 中文 😀".into();
        l.employer_name = "X".repeat(300);
        l.previous_rep = Some("  ".into());
        l.unit = Some(format!("{} ", "Ganske lang enhetsbetegnelse".repeat(200)));
        l.role = "something else".into();
        let pdf = write_pdf(dir.path(), "hostile", &l);
        let text = text_of(&pdf);
        assert!(text.contains("{previous} (a) \\b <c> d e f ?? ?"), "{text}");
        assert!(
            text.contains("Side 1 av ") && text.contains("Side 2 av "),
            "{text}"
        );
        assert!(
            !text.contains("Erstatter"),
            "blank previous rep is left out: {text}"
        );
    }

    #[test]
    fn fill_does_not_expand_values() {
        let out = fill("{a} and {b} {unknown} {", &[("a", "{b}"), ("b", "B")]);
        assert_eq!(out, "{b} and B {unknown} {");
    }

    #[test]
    fn clean_composes_and_flattens() {
        assert_eq!(clean(" Ma\u{301}ret\n\n Čoarvi "), "Máret Čoarvi");
    }
}
