//! A small layout engine for A4 letters as PDF (printpdf has none): a
//! [`Document`] of a letterhead, an addressee, dates and references, and
//! body blocks (headings, paragraphs, label/value rows, tables whose header
//! repeats on every page), wrapped, broken into pages and numbered "page n
//! of total". Pure: a document in, the bytes of a PDF out.
//!
//! The body is written in a small markup, so that letters' wording lives in
//! templates: see [`Document::parse`]. The text is embedded as Liberation
//! Sans (SIL OFL 1.1, `fonts/LICENSE-LiberationSans.txt`), subset to the
//! glyphs used, so names outside WinAnsi, such as "Máret Čoarvi-Đoalli" or
//! "Łukasz Wiśniewski", print as written.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use anyhow::{Result, anyhow};
use chrono::{Datelike, NaiveDate};
use printpdf::{
    Color, Line, LinePoint, Mm, Op, ParsedFont, PdfDocument, PdfFontHandle, PdfPage,
    PdfSaveOptions, Point, Pt, Rgb, TextItem,
};
use unicode_normalization::UnicodeNormalization;

const REGULAR_TTF: &[u8] = include_bytes!("../fonts/LiberationSans-Regular.ttf");
const BOLD_TTF: &[u8] = include_bytes!("../fonts/LiberationSans-Bold.ttf");

/// A letter: the letterhead and meta block, then the body.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Document {
    /// The PDF's title (metadata).
    pub title: String,
    /// The letter's date, for the PDF's metadata.
    pub date: Option<NaiveDate>,
    /// The sender at the top: the organisation and its address.
    pub org: String,
    pub org_address: String,
    /// A small grey label above the addressee ("Til").
    pub to_label: String,
    /// The addressee: the first line bold, the rest regular.
    pub addressee: Vec<String>,
    /// Label and value pairs in the right column (date, reference).
    pub meta: Vec<(String, String)>,
    /// The reference in the footer of every page.
    pub reference: String,
    /// The footer's page label with `{n}` and `{total}`.
    pub page_label: String,
    pub body: Vec<Block>,
}

/// A part of a letter's body.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Heading(String),
    Paragraph(String),
    /// A paragraph in bold (a signature).
    Bold(String),
    /// A grey label with a value beside it.
    Field(String, String),
    /// A table: its header (repeated at the top of each page it spans) and
    /// rows.
    Table {
        header: Vec<String>,
        rows: Vec<Vec<String>>,
    },
}

impl Document {
    /// Reads a letter from markup, one instruction or text line each:
    /// - `@title: …`, `@to: …` (the label above the addressee), `@addressee:
    ///   …` (one per line), `@meta: label | value`, `@reference: …`,
    ///   `@page: Side {n} av {total}`, `@org: …`, `@org_address: …`;
    /// - `# heading`;
    /// - `**bold line**`;
    /// - `| label | value |`: a field; `|= a | b | c |` starts a table whose
    ///   following `| … |` lines are its rows, until a blank line;
    /// - any other lines are text; a blank line ends a paragraph.
    ///
    /// User input must not hold line breaks or `|` (see [`cell`]).
    pub fn parse(markup: &str) -> Document {
        let mut d = Document::default();
        let mut para: Vec<&str> = Vec::new();
        let mut table: Option<(Vec<String>, Vec<Vec<String>>)> = None;
        let cells = |l: &str| -> Vec<String> {
            l.trim()
                .trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect()
        };
        let flush = |para: &mut Vec<&str>, body: &mut Vec<Block>| {
            if !para.is_empty() {
                body.push(Block::Paragraph(para.join(" ")));
                para.clear();
            }
        };
        for line in markup.lines() {
            let t = line.trim();
            if let Some((header, rows)) = &mut table {
                if t.starts_with('|') {
                    rows.push(cells(t));
                    continue;
                }
                d.body.push(Block::Table {
                    header: std::mem::take(header),
                    rows: std::mem::take(rows),
                });
                table = None;
            }
            if t.is_empty() {
                flush(&mut para, &mut d.body);
            } else if let Some(rest) = t.strip_prefix('@') {
                let (key, value) = rest.split_once(':').unwrap_or((rest, ""));
                let value = value.trim().to_string();
                match key.trim() {
                    "title" => d.title = value,
                    "to" => d.to_label = value,
                    "addressee" => d.addressee.push(value),
                    "meta" => {
                        let (l, v) = value.split_once('|').unwrap_or((&value, ""));
                        d.meta.push((l.trim().to_string(), v.trim().to_string()));
                    }
                    "reference" => d.reference = value,
                    "page" => d.page_label = value,
                    "org" => d.org = value,
                    "org_address" => d.org_address = value,
                    _ => para.push(t),
                }
            } else if let Some(h) = t.strip_prefix("# ") {
                flush(&mut para, &mut d.body);
                d.body.push(Block::Heading(h.trim().to_string()));
            } else if let Some(b) = t.strip_prefix("**").and_then(|b| b.strip_suffix("**")) {
                flush(&mut para, &mut d.body);
                d.body.push(Block::Bold(b.trim().to_string()));
            } else if let Some(h) = t.strip_prefix("|=") {
                flush(&mut para, &mut d.body);
                table = Some((cells(h), Vec::new()));
            } else if t.starts_with('|') {
                flush(&mut para, &mut d.body);
                let mut c = cells(t).into_iter();
                let label = c.next().unwrap_or_default();
                let value = c.collect::<Vec<_>>().join(" ");
                if !value.is_empty() {
                    d.body.push(Block::Field(label, value));
                }
            } else {
                para.push(t);
            }
        }
        if let Some((header, rows)) = table {
            d.body.push(Block::Table { header, rows });
        }
        flush(&mut para, &mut d.body);
        d
    }

    /// Lays the letter out and writes the PDF.
    pub fn render(&self) -> Result<Vec<u8>> {
        let (regular, bold) = match &*FACES {
            Ok((regular, bold)) => (regular, bold),
            Err(e) => return Err(anyhow!("{e}")),
        };
        let mut doc = PdfDocument::new(&clean(&self.title));
        if let Some(date) = self.date {
            let day = pdf_date(date);
            doc.metadata.info.creation_date = day;
            doc.metadata.info.modification_date = day;
            doc.metadata.info.metadata_date = day;
        }
        doc.metadata.info.author = clean(&self.org);

        let mut p = Pages::new();
        // Header: the organisation, its address, a rule.
        p.paragraph(bold, &self.org, 16.0, LEFT, TEXT_WIDTH, BLACK);
        p.paragraph(regular, &self.org_address, 10.0, LEFT, TEXT_WIDTH, GREY);
        p.y += 2.0;
        p.rule();
        p.y += 12.0;

        // Addressee on the left, date and reference on the right, side by side.
        let top = p.y;
        if !self.to_label.is_empty() {
            p.paragraph(regular, &self.to_label, 9.0, LEFT, ADDRESS_WIDTH, GREY);
        }
        for (i, line) in self.addressee.iter().enumerate() {
            let face = if i == 0 { bold } else { regular };
            p.paragraph(face, line, 11.0, LEFT, ADDRESS_WIDTH, BLACK);
        }
        let left_end = p.y;
        p.y = top;
        for (label, value) in &self.meta {
            p.paragraph(regular, label, 9.0, META_X, META_WIDTH, GREY);
            p.paragraph(regular, value, 11.0, META_X, META_WIDTH, BLACK);
            p.y += 1.0;
        }
        p.y = p.y.max(left_end) + 14.0;

        // Tables under one header share their column widths, so that two
        // lists in one letter (start and stop) line up.
        let mut columns: Vec<(&[String], Vec<f32>)> = Vec::new();
        for block in &self.body {
            if let Block::Table { header, rows } = block {
                let natural = natural_widths(regular, bold, header, rows);
                match columns.iter_mut().find(|(h, _)| *h == header.as_slice()) {
                    Some((_, widths)) => {
                        widths.resize(widths.len().max(natural.len()), 0.0);
                        for (w, n) in widths.iter_mut().zip(natural) {
                            *w = w.max(n);
                        }
                    }
                    None => columns.push((header, natural)),
                }
            }
        }

        let mut after_field = false;
        for (i, block) in self.body.iter().enumerate() {
            let field = matches!(block, Block::Field(..));
            if after_field && !field {
                p.y += 4.0;
            }
            after_field = field;
            match block {
                Block::Heading(h) => {
                    p.paragraph(bold, h, 14.0, LEFT, TEXT_WIDTH, BLACK);
                    p.y += 4.0;
                }
                Block::Paragraph(text) => {
                    p.paragraph(regular, text, BODY_PT, LEFT, TEXT_WIDTH, BLACK);
                    p.y += 4.0;
                }
                Block::Bold(text) => {
                    // A bold line right above a table is its caption: it
                    // goes to the next page with the table's first rows.
                    if let Some(Block::Table { .. }) = self.body.get(i + 1) {
                        let lines = bold.wrap(text, BODY_PT, TEXT_WIDTH).len() as f32;
                        p.need(
                            Pages::line_height(BODY_PT) * lines
                                + 2.0
                                + Pages::line_height(TABLE_PT) * 3.0,
                        );
                    }
                    p.paragraph(bold, text, BODY_PT, LEFT, TEXT_WIDTH, BLACK);
                    p.y += 2.0;
                }
                Block::Field(label, value) => p.table_row(regular, label, value),
                Block::Table { header, rows } => {
                    let natural = columns
                        .iter()
                        .find(|(h, _)| *h == header.as_slice())
                        .map(|(_, w)| w.as_slice())
                        .unwrap_or_default();
                    p.table(regular, bold, header, rows, natural);
                    p.y += 4.0;
                }
            }
        }

        let org = clean(&self.org);
        let footer_left = [format!("{org} · {}", clean(&self.org_address)), org];
        let pages = p.finish(
            regular,
            &footer_left,
            &clean(&self.reference),
            &self.page_label,
        );
        let pages = emit(&mut doc, pages, regular, bold);
        let mut warnings = Vec::new();
        Ok(doc
            .with_pages(pages)
            .save(&PdfSaveOptions::default(), &mut warnings))
    }
}

/// A value as markup may hold it: one line, composed, and no `|` (shown as
/// `¦`), so user input can never start a markup line or a table cell.
pub fn cell(s: &str) -> String {
    clean(s).replace('|', "¦")
}

/// User input as one printable line: composed (NFC, so a name typed as
/// "a" + combining accent shows as one letter), control characters and runs of
/// white space turned into single spaces; a no-break space stays one.
pub(crate) fn clean(s: &str) -> String {
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

/// The two embedded fonts, regular and bold, parsed once for every letter
/// the process writes (parsing them took a fifth of a letter's time).
static FACES: LazyLock<Result<(Face, Face), String>> = LazyLock::new(|| {
    let regular = Face::load(REGULAR_TTF, false)
        .map_err(|e| format!("cannot load the regular letter font: {e:#}"))?;
    let bold = Face::load(BOLD_TTF, true)
        .map_err(|e| format!("cannot load the bold letter font: {e:#}"))?;
    Ok((regular, bold))
});

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

/// The point size of a table's text.
const TABLE_PT: f32 = 10.0;

/// The text of column `c` of a table row, empty when the row is short.
fn text(r: &[String], c: usize) -> &str {
    r.get(c).map(String::as_str).unwrap_or("")
}

/// The width in mm each column of a table would like: its widest cell
/// (header in bold), within 12 to 70 mm, and a 3 mm gap.
fn natural_widths(
    regular: &Face,
    bold: &Face,
    header: &[String],
    rows: &[Vec<String>],
) -> Vec<f32> {
    let n = rows
        .iter()
        .map(Vec::len)
        .chain([header.len()])
        .max()
        .unwrap_or(0)
        .max(1);
    (0..n)
        .map(|c| {
            let widest = rows
                .iter()
                .map(|r| regular.width_mm(&regular.printable(text(r, c)), TABLE_PT))
                .chain([bold.width_mm(&bold.printable(text(header, c)), TABLE_PT)])
                .fold(0.0f32, f32::max);
            widest.clamp(12.0, 70.0) + 3.0
        })
        .collect()
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

    /// A table: the header in bold with a rule under it, repeated at the
    /// top of every page the rows run onto; columns as wide as `natural`
    /// (see [`natural_widths`]) in proportion, filling the text width;
    /// cells wrapped.
    fn table(
        &mut self,
        regular: &Face,
        bold: &Face,
        header: &[String],
        rows: &[Vec<String>],
        natural: &[f32],
    ) {
        const PT: f32 = TABLE_PT;
        let lh = Self::line_height(PT);
        let n = natural.len().max(1);
        let natural: Vec<f32> = (0..n)
            .map(|c| natural.get(c).copied().unwrap_or(15.0))
            .collect();
        let total: f32 = natural.iter().sum();
        let widths: Vec<f32> = natural.iter().map(|w| w * TEXT_WIDTH / total).collect();
        let xs: Vec<f32> = widths
            .iter()
            .scan(LEFT, |x, w| {
                let at = *x;
                *x += w;
                Some(at)
            })
            .collect();
        let draw = |p: &mut Pages, face: &Face, cells: &[String]| {
            let wrapped: Vec<Vec<String>> = (0..n)
                .map(|c| face.wrap(text(cells, c), PT, widths[c] - 3.0))
                .collect();
            let height = wrapped.iter().map(Vec::len).max().unwrap_or(1).max(1);
            for (c, lines) in wrapped.iter().enumerate() {
                for (i, line) in lines.iter().enumerate() {
                    let y = p.y + lh * (i as f32 + 0.75);
                    p.text(face, xs[c], y, PT, BLACK, line);
                }
            }
            p.y += lh * height as f32;
        };
        let head = |p: &mut Pages| {
            draw(p, bold, header);
            p.y += 0.5;
            p.rule();
            p.y += 1.0;
        };
        self.need(lh * 3.0);
        head(self);
        for row in rows {
            let lines = (0..n)
                .map(|c| regular.wrap(text(row, c), PT, widths[c] - 3.0).len())
                .max()
                .unwrap_or(1)
                .max(1);
            let pages = self.done.len();
            self.need(lh * lines as f32);
            if self.done.len() != pages {
                head(self);
            }
            draw(self, regular, row);
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

    #[test]
    fn fill_does_not_expand_values() {
        let out = fill("{a} and {b} {unknown} {", &[("a", "{b}"), ("b", "B")]);
        assert_eq!(out, "{b} and B {unknown} {");
    }

    #[test]
    fn clean_composes_and_flattens() {
        assert_eq!(clean(" Ma\u{301}ret\n\n Čoarvi "), "Máret Čoarvi");
    }

    #[test]
    fn markup_is_read_into_blocks() {
        let d = Document::parse(
            "@title: Brev\n@to: Til\n@addressee: Bedrift AS\n@addressee: Org.nr. 923609016\n\
             @meta: Dato | 1. desember 2026\n@page: Side {n} av {total}\n\n# Overskrift\n\n\
             Første linje\nfortsetter.\n\n| Navn | Kari |\n| Tom | |\n\n|= Nr | Navn |\n| 1 | Kari |\n| 2 | Ola |\n\n**Forbundet**\n",
        );
        assert_eq!(d.title, "Brev");
        assert_eq!(d.addressee, ["Bedrift AS", "Org.nr. 923609016"]);
        assert_eq!(
            d.meta,
            [("Dato".to_string(), "1. desember 2026".to_string())]
        );
        assert_eq!(
            d.body,
            [
                Block::Heading("Overskrift".into()),
                Block::Paragraph("Første linje fortsetter.".into()),
                Block::Field("Navn".into(), "Kari".into()),
                Block::Table {
                    header: vec!["Nr".into(), "Navn".into()],
                    rows: vec![
                        vec!["1".into(), "Kari".into()],
                        vec!["2".into(), "Ola".into()]
                    ],
                },
                Block::Bold("Forbundet".into()),
            ]
        );
    }

    #[test]
    fn tables_under_one_header_line_up() {
        let mut d = Document::parse(
            "|= Navn | Dato | Grunn |\n| Kari | 01.12.2026 | ny |\n\n\
             |= Navn | Dato | Grunn |\n| Bartholomeus Wiśniewski-Andersen | 01.12.2026 | flyttet til annen arbeidsgiver |\n",
        );
        d.org = "Forbundet".into();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.pdf");
        std::fs::write(&path, d.render().unwrap()).unwrap();
        let out = std::process::Command::new("pdftotext")
            .args(["-bbox", path.to_str().unwrap(), "-"])
            .output()
            .expect("pdftotext (poppler-utils)");
        let html = String::from_utf8_lossy(&out.stdout);
        let x_of = |word: &str| -> Vec<String> {
            html.lines()
                .filter(|l| l.ends_with(&format!(">{word}</word>")))
                .filter_map(|l| l.split('"').nth(1).map(str::to_string))
                .collect()
        };
        for word in ["Dato", "Grunn"] {
            let xs = x_of(word);
            assert_eq!(xs.len(), 2, "{word}: {html}");
            assert_eq!(xs[0], xs[1], "{word} at different places: {xs:?}");
        }
    }

    #[test]
    fn a_long_table_repeats_its_header_on_every_page() {
        let mut markup = String::from("@page: Side {n} av {total}\n|= Nummer | Navn |\n");
        for i in 0..120 {
            markup.push_str(&format!("| {i} | Person {i} |\n"));
        }
        let mut d = Document::parse(&markup);
        d.org = "Forbundet".into();
        let pdf = d.render().unwrap();
        assert!(pdf.starts_with(b"%PDF"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.pdf");
        std::fs::write(&path, pdf).unwrap();
        let out = std::process::Command::new("pdftotext")
            .args([path.to_str().unwrap(), "-"])
            .output()
            .expect("pdftotext (poppler-utils)");
        let text = String::from_utf8_lossy(&out.stdout);
        let pages = text.matches("Side ").count();
        assert!(pages >= 3, "{pages} pages");
        assert_eq!(text.matches("Nummer").count(), pages, "{text}");
        assert!(text.contains("Person 119"));
    }
}
