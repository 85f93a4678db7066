//! The .xlsx attachments: `MINE MEDLEMMER` and `MINE LIKEPERSONER` (SPEC
//! section 5, the columns of seed 001) and a generic sheet of problems for
//! receipts too long for a mail body. Pure: rows in, the bytes of a workbook out.
//!
//! Every cell is written as text with the text format `@`, so a member number,
//! a phone number such as `+47 912 34 567` or a value starting with `=` stays
//! exactly as registered, and stays text when someone edits the cell.

use anyhow::{Context, Result};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, FormatBorder, Workbook};

/// One row of `MINE MEDLEMMER`: a member in the rep's scope.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberRow {
    /// Medlemsnr; text, leading zeros kept.
    pub member_no: String,
    /// Navn.
    pub name: String,
    /// E-post: the member's registered address.
    pub email: Option<String>,
    /// Mobil.
    pub phone: Option<String>,
    /// Fast/vikar: `Some(true)` for a permanent position.
    pub permanent: Option<bool>,
    /// Hovedarbeidsgiver: whether this employer is the member's main one.
    pub main_employer: Option<bool>,
    /// Stilling.
    pub position: Option<String>,
    /// Arbeidssted.
    pub workplace: Option<String>,
    /// Mellomnivå: the mid-level unit the workplace is registered under.
    pub midlevel: Option<String>,
    /// Arbeidsgiver.
    pub employer: Option<String>,
}

/// One row of `MINE LIKEPERSONER`: a peer in the rep's local branch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerRow {
    /// Likepersonnr.
    pub peer_no: String,
    /// Navn.
    pub name: String,
    /// E-post.
    pub email: Option<String>,
    /// Telefon.
    pub phone: Option<String>,
    /// Lokallag.
    pub unit: String,
    /// The years reported active (`AKTIVITET`), printed sorted: "2023, 2024".
    pub active_years: Vec<i32>,
}

const MEMBER_HEADERS: [&str; 10] = [
    "Medlemsnr",
    "Navn",
    "E-post",
    "Mobil",
    "Fast/vikar",
    "Hovedarbeidsgiver",
    "Stilling",
    "Arbeidssted",
    "Mellomnivå",
    "Arbeidsgiver",
];

const PEER_HEADERS: [&str; 6] = [
    "Likepersonnr",
    "Navn",
    "E-post",
    "Telefon",
    "Lokallag",
    "Aktive år",
];

/// The member list of a rep, one row per member, in the order given.
pub fn members_sheet(rows: &[MemberRow]) -> Result<Vec<u8>> {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let yes_no = |v: Option<bool>, yes: &str, no: &str| match v {
        Some(true) => yes.to_string(),
        Some(false) => no.to_string(),
        None => String::new(),
    };
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.member_no.clone(),
                r.name.clone(),
                opt(&r.email),
                opt(&r.phone),
                yes_no(r.permanent, "Fast", "Vikar"),
                yes_no(r.main_employer, "Ja", "Nei"),
                opt(&r.position),
                opt(&r.workplace),
                opt(&r.midlevel),
                opt(&r.employer),
            ]
        })
        .collect();
    workbook("Medlemmer", &MEMBER_HEADERS, &cells).context("cannot write the member list")
}

/// The peer list of a rep, one row per peer, in the order given.
pub fn peers_sheet(rows: &[PeerRow]) -> Result<Vec<u8>> {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut years = r.active_years.clone();
            years.sort_unstable();
            years.dedup();
            let years: Vec<String> = years.iter().map(i32::to_string).collect();
            vec![
                r.peer_no.clone(),
                r.name.clone(),
                r.email.clone().unwrap_or_default(),
                r.phone.clone().unwrap_or_default(),
                r.unit.clone(),
                years.join(", "),
            ]
        })
        .collect();
    workbook("Likepersoner", &PEER_HEADERS, &cells).context("cannot write the peer list")
}

/// Any table of text: the headers, then the rows. Rows may be shorter or
/// longer than the headers.
pub fn problems_sheet(headers: &[&str], rows: &[Vec<String>]) -> Result<Vec<u8>> {
    workbook("Problemer", headers, rows).context("cannot write the problem list")
}

/// Excel's limit for one cell, counted in UTF-16 units.
const MAX_CELL: usize = 32_767;
/// The widest a column is made, in characters.
const MAX_WIDTH: usize = 50;

fn workbook(sheet_name: &str, headers: &[&str], rows: &[Vec<String>]) -> Result<Vec<u8>> {
    let mut book = Workbook::new();
    // A fixed creation date keeps the output a function of the rows alone;
    // 1980-01-01 is also the date on every entry of the zip container.
    let created = ExcelDateTime::from_ymd(1980, 1, 1)?;
    book.set_properties(
        &DocProperties::new()
            .set_title(sheet_name)
            .set_creation_datetime(&created),
    );

    let text = Format::new().set_num_format("@");
    let header = Format::new()
        .set_num_format("@")
        .set_bold()
        .set_background_color("#E7E6E6")
        .set_border_bottom(FormatBorder::Thin);

    let columns = rows
        .iter()
        .map(Vec::len)
        .chain([headers.len()])
        .max()
        .unwrap_or(0);
    let mut widths: Vec<usize> = (0..columns)
        .map(|c| headers.get(c).map_or(0, |h| h.chars().count() + 3))
        .collect();

    let sheet = book.add_worksheet();
    sheet.set_name(sheet_name)?;
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string_with_format(0, col(c)?, fit(h), &header)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let r = u32::try_from(r + 1).context("too many rows for one sheet")?;
        for (c, value) in row.iter().enumerate() {
            let value = fit(value);
            widths[c] = widths[c].max(value.chars().count() + 1);
            sheet.write_string_with_format(r, col(c)?, value, &text)?;
        }
    }
    for (c, w) in widths.iter().enumerate() {
        sheet.set_column_width(col(c)?, (*w).clamp(8, MAX_WIDTH) as f64)?;
        sheet.set_column_format(col(c)?, &text)?;
    }
    if columns > 0 {
        sheet.set_freeze_panes(1, 0)?;
        let last_row = u32::try_from(rows.len()).context("too many rows for one sheet")?;
        sheet.autofilter(0, 0, last_row, col(columns - 1)?)?;
    }
    Ok(book.save_to_buffer()?)
}

fn col(c: usize) -> Result<u16> {
    u16::try_from(c).context("too many columns for one sheet")
}

/// The value cut to what one cell can hold, on a character boundary.
fn fit(s: &str) -> &str {
    let mut units = 0;
    for (i, ch) in s.char_indices() {
        units += ch.len_utf16();
        if units > MAX_CELL {
            return &s[..i];
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, Reader, Xlsx};
    use std::io::Cursor;

    /// The first sheet as (its name, the cells), every cell required to be text.
    fn read(bytes: Vec<u8>) -> (String, Vec<Vec<String>>) {
        let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).unwrap();
        let name = book.sheet_names()[0].clone();
        let range = book.worksheet_range(&name).unwrap();
        let rows = range
            .rows()
            .map(|row| {
                row.iter()
                    .map(|cell| match cell {
                        Data::String(s) => s.clone(),
                        Data::Empty => String::new(),
                        other => panic!("cell is not text: {other:?}"),
                    })
                    .collect()
            })
            .collect();
        (name, rows)
    }

    fn member() -> MemberRow {
        MemberRow {
            member_no: "0012345".into(),
            name: "Åse Øvrebø-Ærø".into(),
            email: Some("ase@example.no".into()),
            phone: Some("+47 912 34 567".into()),
            permanent: Some(true),
            main_employer: Some(false),
            position: Some("Ergoterapeut".into()),
            workplace: Some("Rehabilitering, Tromsø".into()),
            midlevel: Some("Klinikk nord".into()),
            employer: Some("UNN HF".into()),
        }
    }

    #[test]
    fn members_sheet_has_the_seed_columns_and_text_cells() {
        let other = MemberRow {
            member_no: "777".into(),
            name: "Máret Čoarvi-Đoalli".into(),
            phone: Some("91234567".into()),
            permanent: Some(false),
            ..MemberRow::default()
        };
        let (name, cells) = read(members_sheet(&[member(), other]).unwrap());
        assert_eq!(name, "Medlemmer");
        assert_eq!(cells[0], MEMBER_HEADERS);
        assert_eq!(
            cells[1],
            [
                "0012345",
                "Åse Øvrebø-Ærø",
                "ase@example.no",
                "+47 912 34 567",
                "Fast",
                "Nei",
                "Ergoterapeut",
                "Rehabilitering, Tromsø",
                "Klinikk nord",
                "UNN HF"
            ]
        );
        assert_eq!(
            cells[2][..5],
            ["777", "Máret Čoarvi-Đoalli", "", "91234567", "Vikar"]
        );
        assert!(cells[2][5..].iter().all(String::is_empty));
    }

    #[test]
    fn members_sheet_is_deterministic_and_empty_list_has_headers() {
        assert_eq!(
            members_sheet(&[member()]).unwrap(),
            members_sheet(&[member()]).unwrap()
        );
        let (_, cells) = read(members_sheet(&[]).unwrap());
        assert_eq!(cells, [MEMBER_HEADERS]);
    }

    #[test]
    fn peers_sheet_has_the_columns_and_sorted_years() {
        let peer = PeerRow {
            peer_no: "L-0042".into(),
            name: "Kåre Bjørnstad".into(),
            email: None,
            phone: Some("+47 912 34 567".into()),
            unit: "Lokallag Trøndelag".into(),
            active_years: vec![2024, 2022, 2024, 2023],
        };
        let (name, cells) = read(peers_sheet(&[peer]).unwrap());
        assert_eq!(name, "Likepersoner");
        assert_eq!(cells[0], PEER_HEADERS);
        assert_eq!(
            cells[1],
            [
                "L-0042",
                "Kåre Bjørnstad",
                "",
                "+47 912 34 567",
                "Lokallag Trøndelag",
                "2022, 2023, 2024"
            ]
        );
    }

    #[test]
    fn problems_sheet_keeps_formulas_numbers_and_odd_text_as_text() {
        let long = "æ".repeat(40_000);
        let rows = vec![
            vec!["3".into(), "=SUM(A1:A2)".into(), "1e5".into()],
            vec!["4".into(), "tab\there\u{1}".into()],
            vec!["5".into(), long, "x".into(), "extra column".into()],
        ];
        let (name, cells) = read(problems_sheet(&["Rad", "Problem", "Verdi"], &rows).unwrap());
        assert_eq!(name, "Problemer");
        assert_eq!(cells[0], ["Rad", "Problem", "Verdi", ""]);
        assert_eq!(cells[1], ["3", "=SUM(A1:A2)", "1e5", ""]);
        assert_eq!(cells[2], ["4", "tab\there\u{1}", "", ""]);
        assert_eq!(cells[3][1].chars().count(), MAX_CELL);
        assert_eq!(cells[3][3], "extra column");
    }

    #[test]
    fn problems_sheet_without_anything_is_still_a_workbook() {
        let (name, cells) = read(problems_sheet(&[], &[]).unwrap());
        assert_eq!(name, "Problemer");
        assert!(cells.is_empty());
    }
}
