//! .xlsx attachments: a plan's tables (`MINE MEDLEMMER`, `MINE LIKEPERSONER`,
//! problems of a long receipt) written as a workbook, one sheet per table.
//! Pure: tables in, the bytes of a workbook out.
//!
//! Every cell is written as text with the text format `@`, so a member number,
//! a phone number such as `+47 912 34 567` or a value starting with `=` stays
//! exactly as registered, and stays text when someone edits the cell.

use anyhow::{Context, Result};
use postbud_commands::plan::Table;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, FormatBorder, Workbook, Worksheet};

/// A workbook with one sheet per table, in order.
pub fn workbook(tables: &[Table]) -> Result<Vec<u8>> {
    let mut book = Workbook::new();
    // A fixed creation date keeps the output a function of the rows alone;
    // 1980-01-01 is also the date on every entry of the zip container.
    let created = ExcelDateTime::from_ymd(1980, 1, 1)?;
    let title = tables.first().map(|t| t.name.as_str()).unwrap_or("postbud");
    book.set_properties(
        &DocProperties::new()
            .set_title(title)
            .set_creation_datetime(&created),
    );
    for t in tables {
        // Rows go to a temporary file as they are written: a sheet of a
        // hundred thousand rows costs no more memory than one of ten.
        let sheet = book.add_worksheet_with_constant_memory()?;
        write_sheet(sheet, t).with_context(|| format!("sheet `{}`", t.name))?;
    }
    Ok(book.save_to_buffer()?)
}

/// Excel's limit for one cell, counted in UTF-16 units.
const MAX_CELL: usize = 32_767;
/// The widest a column is made, in characters.
const MAX_WIDTH: usize = 50;

fn write_sheet(sheet: &mut Worksheet, t: &Table) -> Result<()> {
    let (headers, rows) = (&t.headers, &t.rows);
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

    sheet.set_name(&t.name)?;
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
    Ok(())
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

    fn table(name: &str, headers: &[&str], rows: Vec<Vec<String>>) -> Table {
        Table {
            name: name.into(),
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows,
        }
    }

    #[test]
    fn cells_stay_text_and_the_output_is_a_function_of_the_rows() {
        let rows = vec![vec![
            "0012345".to_string(),
            "Åse Øvrebø-Ærø".into(),
            "+47 912 34 567".into(),
        ]];
        let t = table("Medlemmer", &["Medlemsnr", "Navn", "Mobil"], rows);
        let bytes = workbook(std::slice::from_ref(&t)).unwrap();
        assert_eq!(bytes, workbook(&[t]).unwrap());
        let (name, cells) = read(bytes);
        assert_eq!(name, "Medlemmer");
        assert_eq!(cells[0], ["Medlemsnr", "Navn", "Mobil"]);
        assert_eq!(cells[1], ["0012345", "Åse Øvrebø-Ærø", "+47 912 34 567"]);
    }

    #[test]
    fn formulas_numbers_and_odd_text_stay_text() {
        let long = "æ".repeat(40_000);
        let rows = vec![
            vec!["3".into(), "=SUM(A1:A2)".into(), "1e5".into()],
            vec!["4".into(), "tab\there\u{1}".into()],
            vec!["5".into(), long, "x".into(), "extra column".into()],
        ];
        let (name, cells) =
            read(workbook(&[table("Problemer", &["Rad", "Problem", "Verdi"], rows)]).unwrap());
        assert_eq!(name, "Problemer");
        assert_eq!(cells[0], ["Rad", "Problem", "Verdi", ""]);
        assert_eq!(cells[1], ["3", "=SUM(A1:A2)", "1e5", ""]);
        assert_eq!(cells[2], ["4", "tab\there\u{1}", "", ""]);
        assert_eq!(cells[3][1].chars().count(), MAX_CELL);
        assert_eq!(cells[3][3], "extra column");
    }

    #[test]
    fn an_empty_table_is_still_a_workbook_and_several_are_several_sheets() {
        let (name, cells) = read(workbook(&[table("Problemer", &[], vec![])]).unwrap());
        assert_eq!(name, "Problemer");
        assert!(cells.is_empty());
        let two = workbook(&[table("A", &["x"], vec![]), table("B", &["y"], vec![])]).unwrap();
        let book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(two)).unwrap();
        assert_eq!(calamine::Reader::sheet_names(&book), ["A", "B"]);
    }
}
