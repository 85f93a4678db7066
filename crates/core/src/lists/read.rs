//! Reading one list file: the kind decides the reader; every reader hands
//! rows of cells to the same builder (`row`), so every format makes lines
//! the same way.
//!
//! - csv and txt: decoded (BOM, else UTF-8, else Windows-1252), split into
//!   records with quotes, the delimiter chosen by where a header is found.
//! - xlsx and xlsm: calamine's cell reader, row by row, after the zip
//!   check; nothing of the sheet is held but the lines made.
//! - xls and ods: calamine's ranges, after the guards' estimates.
//!
//! Cells beyond column [`MAX_COLUMNS`] are not read, and text cells are
//! cut at 1,000 characters, so one row never costs much.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use calamine::{
    Data, DataRef, ExcelDateTime, Ods, Range, Reader, Xls, Xlsx, open_workbook_from_rs,
};
use chrono::NaiveDate;

use super::dates::parse_date;
use super::guard;
use super::header::{Column, columns_of, is_header};
use super::kind::{FileKind, kind_of};
use super::row::{Builder, Cell, Row};
use super::sheet::{HEADER_SCAN_ROWS, Limits, Line, ReadError, Sheet};

/// Columns read: A to ALL. A list has a handful.
pub const MAX_COLUMNS: usize = 1000;

/// Characters kept of one text cell.
const MAX_TEXT: usize = 1000;

/// Delimiters tried in text files, in order of preference on a tie.
const DELIMITERS: [char; 4] = [';', '\t', ',', '|'];

/// Reads a deduction list from an attachment's bytes and file name.
/// `today` only places two-digit birth years (`ddmmyy`) in a century.
///
/// Never panics; memory is bounded by `limits` (see the module
/// documentation of [`crate::lists`]).
///
/// # Errors
/// [`ReadError::Pdf`] for a PDF, [`ReadError::Unsupported`] for a file
/// that is no list, [`ReadError::TooLarge`] and
/// [`ReadError::TooManyRows`] past the limits, [`ReadError::NoHeader`]
/// when no sheet has a header row, [`ReadError::Unreadable`] for a damaged
/// file.
pub fn read(
    name: &str,
    bytes: &[u8],
    limits: &Limits,
    today: NaiveDate,
) -> Result<Sheet, ReadError> {
    let kind = kind_of(name, bytes).ok_or(ReadError::Unsupported)?;
    let too_large = |size: u64| {
        if size > limits.max_uncompressed_bytes {
            Err(ReadError::TooLarge {
                uncompressed: size,
                limit: limits.max_uncompressed_bytes,
            })
        } else {
            Ok(())
        }
    };
    // A guard's error may quote the file (quick-xml names the tag it could
    // not close, whatever its length): cut like a reader's.
    let unreadable = |why: String| cut_error(&why);
    let read = match kind {
        FileKind::Pdf => return Err(ReadError::Pdf),
        FileKind::Csv | FileKind::Txt => {
            too_large(bytes.len() as u64)?;
            read_text(bytes, limits, today)?
        }
        FileKind::Xlsx | FileKind::Xlsm => {
            too_large(guard::zip_uncompressed(bytes).map_err(unreadable)?)?;
            caught(|| read_xlsx(bytes, limits, today))?
        }
        FileKind::Ods => {
            too_large(guard::zip_uncompressed(bytes).map_err(unreadable)?)?;
            too_large(
                guard::ods_estimate(bytes, limits.max_uncompressed_bytes).map_err(unreadable)?,
            )?;
            caught(|| {
                let wb: Ods<_> =
                    open_workbook_from_rs(Cursor::new(bytes)).map_err(|e| cut_error(&e))?;
                read_ranges(wb, limits, today)
            })?
        }
        FileKind::Xls => {
            too_large(bytes.len() as u64)?;
            too_large(guard::xls_estimate(bytes).map_err(unreadable)?)?;
            caught(|| {
                let wb: Xls<_> =
                    open_workbook_from_rs(Cursor::new(bytes)).map_err(|e| cut_error(&e))?;
                read_ranges(wb, limits, today)
            })?
        }
    };
    Ok(Sheet {
        file: name.to_string(),
        kind,
        sheet: read.sheet,
        header_line: read.header_line,
        columns: read.columns,
        lines: read.lines,
        skipped: read.skipped,
    })
}

/// What a reader found, before it becomes a [`Sheet`].
struct Read {
    sheet: Option<String>,
    header_line: usize,
    columns: Vec<(Column, String)>,
    lines: Vec<Line>,
    skipped: usize,
}

impl Read {
    /// The builder's result, if it found a header.
    fn of(b: Builder<'_>, sheet: Option<String>) -> Option<Read> {
        let found = b.header?;
        Some(Read {
            sheet,
            header_line: found.line,
            columns: found.columns.into_iter().map(|(c, _, t)| (c, t)).collect(),
            lines: b.lines,
            skipped: b.skipped,
        })
    }
}

/// Runs a spreadsheet reader, turning a panic in it into
/// [`ReadError::Unreadable`].
fn caught(f: impl FnOnce() -> Result<Read, ReadError>) -> Result<Read, ReadError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(ReadError::Unreadable(
            "the spreadsheet reader failed on this file".into(),
        ))
    })
}

/// A reader's error as [`ReadError::Unreadable`], cut to a line.
fn cut_error(e: &dyn std::fmt::Display) -> ReadError {
    ReadError::Unreadable(e.to_string().chars().take(200).collect())
}

// ---------------------------------------------------------------------------
// Spreadsheets

/// xlsx and xlsm, streamed: each sheet in order until one has a header.
fn read_xlsx(bytes: &[u8], limits: &Limits, today: NaiveDate) -> Result<Read, ReadError> {
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).map_err(|e| cut_error(&e))?;
    let mut failure = None;
    for name in wb.sheet_names() {
        let mut b = Builder::new(limits, today);
        match stream_sheet(&mut wb, &name, &mut b) {
            Ok(()) => {}
            Err(Failure::List(e)) => return Err(e),
            Err(Failure::Reader(e)) if b.header.is_some() => return Err(e),
            Err(Failure::Reader(e)) => {
                failure.get_or_insert(e);
                continue;
            }
        }
        if let Some(read) = Read::of(b, Some(name)) {
            return Ok(read);
        }
    }
    Err(failure.unwrap_or(ReadError::NoHeader))
}

/// Why reading a sheet stopped: the list (too many rows), or the reader.
enum Failure {
    List(ReadError),
    Reader(ReadError),
}

/// One xlsx sheet's cells, grouped into rows as they come.
fn stream_sheet(
    wb: &mut Xlsx<Cursor<&[u8]>>,
    name: &str,
    b: &mut Builder<'_>,
) -> Result<(), Failure> {
    let mut cells = wb
        .worksheet_cells_reader(name)
        .map_err(|e| Failure::Reader(cut_error(&e)))?;
    let mut current: Option<Row> = None;
    loop {
        let cell = match cells.next_cell() {
            Ok(Some(cell)) => cell,
            Ok(None) => break,
            Err(e) => return Err(Failure::Reader(cut_error(&e))),
        };
        let (row, col) = cell.get_position();
        let line = row as usize + 1;
        if current.as_ref().is_some_and(|r| r.line != line) {
            let done = current.take().expect("checked just above");
            if !b.push(done).map_err(Failure::List)? {
                return Ok(());
            }
        }
        let current = current.get_or_insert_with(|| Row {
            line,
            cells: Vec::new(),
        });
        if (col as usize) < MAX_COLUMNS
            && let Some(value) = from_data_ref(cell.get_value())
        {
            current.cells.push((col as usize, value));
        }
    }
    if let Some(last) = current {
        b.push(last).map_err(Failure::List)?;
    }
    Ok(())
}

/// xls and ods: each sheet's range in order until one has a header.
fn read_ranges<RS, R>(mut wb: R, limits: &Limits, today: NaiveDate) -> Result<Read, ReadError>
where
    RS: std::io::Read + std::io::Seek,
    R: Reader<RS>,
    R::Error: std::fmt::Display,
{
    let mut failure = None;
    for name in wb.sheet_names() {
        let range = match wb.worksheet_range(&name) {
            Ok(range) => range,
            Err(e) => {
                failure.get_or_insert(cut_error(&e));
                continue;
            }
        };
        let mut b = Builder::new(limits, today);
        push_range(&range, &mut b)?;
        if let Some(read) = Read::of(b, Some(name)) {
            return Ok(read);
        }
    }
    Err(failure.unwrap_or(ReadError::NoHeader))
}

/// A range's rows into the builder, numbered from the range's start.
fn push_range(range: &Range<Data>, b: &mut Builder<'_>) -> Result<(), ReadError> {
    let Some((first_row, first_col)) = range.start() else {
        return Ok(());
    };
    for (i, cells) in range.rows().enumerate() {
        let row = Row {
            line: first_row as usize + i + 1,
            cells: cells
                .iter()
                .enumerate()
                .map(|(j, d)| (first_col as usize + j, d))
                .take_while(|(col, _)| *col < MAX_COLUMNS)
                .filter_map(|(col, d)| from_data(d).map(|c| (col, c)))
                .collect(),
        };
        if !b.push(row)? {
            break;
        }
    }
    Ok(())
}

/// Text kept of a text cell.
fn text(s: &str) -> Cell {
    Cell::Text(s.chars().take(MAX_TEXT).collect())
}

/// A date-formatted cell's date; a duration or a serial out of range is
/// not a date.
fn excel_date(dt: &ExcelDateTime) -> Cell {
    let serial = dt.as_f64();
    if dt.is_datetime() && serial.is_finite() && (0.0..2_958_466.0).contains(&serial) {
        let (y, m, d, ..) = dt.to_ymd_hms_milli();
        if let Some(date) = NaiveDate::from_ymd_opt(i32::from(y), u32::from(m), u32::from(d)) {
            return Cell::Date(date);
        }
    }
    Cell::Other(serial.to_string())
}

/// An ISO date (or date and time) cell from an ods.
fn iso_date(s: &str) -> Cell {
    let day = s.get(..10).unwrap_or(s);
    match parse_date(day, NaiveDate::MIN) {
        Some(d) if day.len() == 10 && day.as_bytes()[4] == b'-' => Cell::Date(d),
        _ => text(s),
    }
}

fn from_data_ref(d: &DataRef<'_>) -> Option<Cell> {
    Some(match d {
        DataRef::Int(i) => Cell::Int(*i),
        DataRef::Float(f) => Cell::Float(*f),
        DataRef::String(s) => text(s),
        DataRef::SharedString(s) => text(s),
        DataRef::Bool(b) => Cell::Bool(*b),
        DataRef::DateTime(dt) => excel_date(dt),
        DataRef::DateTimeIso(s) => iso_date(s),
        DataRef::DurationIso(s) => Cell::Other(s.chars().take(MAX_TEXT).collect()),
        DataRef::Error(e) => Cell::Other(format!("#{e:?}")),
        DataRef::Empty => return None,
    })
}

fn from_data(d: &Data) -> Option<Cell> {
    Some(match d {
        Data::Int(i) => Cell::Int(*i),
        Data::Float(f) => Cell::Float(*f),
        Data::String(s) => text(s),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(dt) => excel_date(dt),
        Data::DateTimeIso(s) => iso_date(s),
        Data::DurationIso(s) => Cell::Other(s.chars().take(MAX_TEXT).collect()),
        Data::Error(e) => Cell::Other(format!("#{e:?}")),
        Data::Empty => return None,
    })
}

// ---------------------------------------------------------------------------
// Text files

/// A csv or txt list: decoded, the delimiter chosen, records to rows.
fn read_text(bytes: &[u8], limits: &Limits, today: NaiveDate) -> Result<Read, ReadError> {
    let text = decode(bytes);
    let delimiter = choose_delimiter(&text).ok_or(ReadError::NoHeader)?;
    let mut b = Builder::new(limits, today);
    for (line, fields) in Records::new(&text, delimiter) {
        let row = Row {
            line,
            cells: fields
                .into_iter()
                .enumerate()
                .map(|(i, f)| (i, Cell::Text(f)))
                .collect(),
        };
        if !b.push(row)? {
            break;
        }
    }
    Read::of(b, None).ok_or(ReadError::NoHeader)
}

/// Text from bytes: by a byte order mark (UTF-8, UTF-16 LE/BE), else
/// UTF-8 when it is valid, else Windows-1252.
pub fn decode(bytes: &[u8]) -> String {
    if let Some((encoding, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        return encoding
            .decode_without_bom_handling(&bytes[bom..])
            .0
            .into_owned();
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::WINDOWS_1252
            .decode_without_bom_handling(bytes)
            .0
            .into_owned(),
    }
}

/// The delimiter under which a header row is found among the first rows,
/// the one recognising the most columns; `;`, tab, `,`, `|` on a tie.
fn choose_delimiter(text: &str) -> Option<char> {
    let mut best: Option<(usize, char)> = None;
    for d in DELIMITERS {
        let header = Records::new(text, d)
            .filter(|(_, fields)| fields.iter().any(|f| !f.trim().is_empty()))
            .take(HEADER_SCAN_ROWS)
            .map(|(_, fields)| columns_of(&fields.into_iter().enumerate().collect::<Vec<_>>()))
            .find(|columns| is_header(columns));
        if let Some(columns) = header
            && best.is_none_or(|(n, _)| columns.len() > n)
        {
            best = Some((columns.len(), d));
        }
    }
    best.map(|(_, d)| d)
}

/// Records of delimited text: fields split at the delimiter, a field
/// starting with `"` quoted until the closing `"` (`""` for a quote),
/// newlines inside quotes kept. Each record comes with the line it starts
/// on (1-based). Fields past [`MAX_COLUMNS`] are dropped.
struct Records<'a> {
    rest: &'a str,
    line: usize,
    delimiter: char,
}

impl<'a> Records<'a> {
    fn new(text: &'a str, delimiter: char) -> Records<'a> {
        Records {
            rest: text,
            line: 1,
            delimiter,
        }
    }
}

impl Iterator for Records<'_> {
    type Item = (usize, Vec<String>);

    fn next(&mut self) -> Option<(usize, Vec<String>)> {
        if self.rest.is_empty() {
            return None;
        }
        let start_line = self.line;
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        let mut chars = self.rest.char_indices().peekable();
        let mut end = self.rest.len();
        let keep = |fields: &mut Vec<String>, field: &mut String| {
            let f = std::mem::take(field);
            if fields.len() < MAX_COLUMNS {
                fields.push(f);
            }
        };
        while let Some((i, c)) = chars.next() {
            if quoted {
                match c {
                    '"' if chars.peek().is_some_and(|(_, n)| *n == '"') => {
                        chars.next();
                        push_limited(&mut field, '"');
                    }
                    '"' => quoted = false,
                    _ => {
                        if c == '\n' {
                            self.line += 1;
                        }
                        push_limited(&mut field, c);
                    }
                }
                continue;
            }
            match c {
                '"' if field.trim().is_empty() => {
                    field.clear();
                    quoted = true;
                }
                '\r' | '\n' => {
                    let mut next = i + 1;
                    if c == '\r' && chars.peek().is_some_and(|(_, n)| *n == '\n') {
                        next += 1;
                    }
                    self.line += 1;
                    end = next;
                    break;
                }
                c if c == self.delimiter => keep(&mut fields, &mut field),
                c => push_limited(&mut field, c),
            }
        }
        keep(&mut fields, &mut field);
        self.rest = &self.rest[end..];
        Some((start_line, fields))
    }
}

/// Adds a character to a field unless it already holds [`MAX_TEXT`] bytes'
/// worth (counted in bytes: cheap, and the cut is at a character anyway).
fn push_limited(field: &mut String, c: char) {
    if field.len() < MAX_TEXT * 4 {
        field.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(text: &str, d: char) -> Vec<(usize, Vec<String>)> {
        Records::new(text, d).collect()
    }

    #[test]
    fn records_with_quotes_and_line_ends() {
        let r = records(
            "a;b\r\n\"x;y\";\"say \"\"hi\"\"\"\n\"two\nlines\";z\rlast",
            ';',
        );
        assert_eq!(
            r,
            vec![
                (1, vec!["a".into(), "b".into()]),
                (2, vec!["x;y".into(), "say \"hi\"".into()]),
                (3, vec!["two\nlines".into(), "z".into()]),
                (5, vec!["last".into()]),
            ]
        );
        assert_eq!(records("", ';'), vec![]);
        assert_eq!(
            records("\n\n", ';'),
            vec![(1, vec![String::new()]), (2, vec![String::new()])]
        );
        assert_eq!(
            records("\"unclosed;x\ny", ';'),
            vec![(1, vec!["unclosed;x\ny".into()])]
        );
    }

    /// Found by fuzzing (`list_ods`): an ods whose content.xml closes a
    /// tag it never opened, with a long name, was refused with the whole
    /// name in the reason (the size guard's error was not cut).
    #[test]
    fn a_guard_error_is_cut_to_a_line() {
        use std::io::Write;
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        w.start_file("mimetype", stored).unwrap();
        w.write_all(b"application/vnd.oasis.opendocument.spreadsheet")
            .unwrap();
        w.start_file("content.xml", stored).unwrap();
        let name = "x".repeat(100_000);
        write!(w, "<office:document-content/></{name}>").unwrap();
        let bytes = w.finish().unwrap().into_inner();
        let today = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        match read("liste.ods", &bytes, &Limits::default(), today) {
            Err(ReadError::Unreadable(why)) => {
                assert!(why.starts_with("content.xml"), "{why}");
                assert!(why.chars().count() <= 200, "{} characters", why.len());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn decoding() {
        assert_eq!(decode(b"\xEF\xBB\xBFF\xC3\xB8dt"), "Født");
        assert_eq!(decode(b"F\xC3\xB8dt"), "Født");
        assert_eq!(decode(b"F\xF8dt"), "Født");
        assert_eq!(decode(b"\xFF\xFEF\x00\xF8\x00d\x00t\x00"), "Født");
        assert_eq!(decode(b"\xFE\xFF\x00F\x00\xF8\x00d\x00t"), "Født");
    }

    #[test]
    fn delimiters() {
        assert_eq!(choose_delimiter("Fnr;Navn;Beløp\n1;2;3,5"), Some(';'));
        assert_eq!(choose_delimiter("Fnr\tNavn\tBeløp\n1\t2\t3,5"), Some('\t'));
        assert_eq!(
            choose_delimiter("Fnr,Navn,Beløp\n1,\"N, K\",3.5"),
            Some(',')
        );
        assert_eq!(choose_delimiter("Fnr|Navn|Beløp\n1|2|3,5"), Some('|'));
        assert_eq!(
            choose_delimiter("Title, with comma\nFnr;Navn;Beløp\n1;2;3,5"),
            Some(';')
        );
        assert_eq!(choose_delimiter("Navn;Beløp\n"), None);
    }
}
