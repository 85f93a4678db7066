//! Rows of cells, whatever file they came from, into [`Line`]s: finding
//! the header, skipping empty and sum rows, reading each column's value
//! and noting what is wrong.

use chrono::NaiveDate;

use super::amounts::{amount_from_f64, parse_amount};
use super::dates::{date_from_number, date_from_serial, parse_date};
use super::header::{Column, columns_of, is_header, is_sum_label};
use super::ids::{birth_date_from_id, check_national_id, check_orgnr};
use super::periods::{Period, period_from_text};
use super::sheet::{HEADER_SCAN_ROWS, Limits, Line, MAX_CELL_CHARS, Problem, ReadError};

/// One cell's value, as the readers give it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    /// Text (csv and txt give only text).
    Text(String),
    /// A whole number.
    Int(i64),
    /// A number.
    Float(f64),
    /// A cell formatted as a date.
    Date(NaiveDate),
    /// TRUE / FALSE.
    Bool(bool),
    /// A formula error (`#N/A`, ...) or a value we do not read (a duration).
    Other(String),
}

impl Cell {
    /// The cell as text, for a problem's `given` and for text columns.
    fn shown(&self) -> String {
        let s = match self {
            Cell::Text(s) | Cell::Other(s) => s.trim().to_string(),
            Cell::Int(i) => i.to_string(),
            Cell::Float(f) => number_text(*f),
            Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
            Cell::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        };
        cut(&s)
    }
}

/// A number as a person would write it: whole numbers without a fraction.
fn number_text(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
        // Whole and well inside i64 by the check above.
        (f as i64).to_string()
    } else {
        f.to_string()
    }
}

/// Text cut at [`MAX_CELL_CHARS`], inner whitespace collapsed.
fn cut(s: &str) -> String {
    let mut out = String::new();
    for (i, word) in s.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(word);
        if out.chars().count() > MAX_CELL_CHARS {
            return out.chars().take(MAX_CELL_CHARS).collect();
        }
    }
    out
}

/// One row: its number as the sender sees it and its cells holding
/// something, by column index (0 = A), left to right.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    pub line: usize,
    pub cells: Vec<(usize, Cell)>,
}

impl Row {
    fn get(&self, index: usize) -> Option<&Cell> {
        self.cells.iter().find(|(i, _)| *i == index).map(|(_, c)| c)
    }
}

/// Whether a cell holds anything (empty text is nothing).
pub(crate) fn holds_something(cell: &Cell) -> bool {
    match cell {
        Cell::Text(s) | Cell::Other(s) => !s.trim().is_empty(),
        _ => true,
    }
}

/// The header once found: its row and the columns read.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub line: usize,
    pub columns: Vec<(Column, usize, String)>,
}

impl Found {
    fn index(&self, column: Column) -> Option<usize> {
        self.columns
            .iter()
            .find(|(c, _, _)| *c == column)
            .map(|(_, i, _)| *i)
    }
}

/// Takes one sheet's rows in order and makes its lines.
pub(crate) struct Builder<'a> {
    limits: &'a Limits,
    today: NaiveDate,
    /// Rows holding something seen so far, against [`Limits::max_rows`].
    rows: u64,
    /// Rows looked at for the header.
    scanned: usize,
    pub header: Option<Found>,
    /// The last row number below the header, for counting blank rows.
    last_line: usize,
    pub lines: Vec<Line>,
    pub skipped: usize,
}

impl<'a> Builder<'a> {
    pub fn new(limits: &'a Limits, today: NaiveDate) -> Builder<'a> {
        Builder {
            limits,
            today,
            rows: 0,
            scanned: 0,
            header: None,
            last_line: 0,
            lines: Vec::new(),
            skipped: 0,
        }
    }

    /// Takes the next row (rows holding nothing may be left out).
    /// `Ok(false)` when the sheet has no header within
    /// [`HEADER_SCAN_ROWS`] rows: stop reading it.
    ///
    /// # Errors
    /// [`ReadError::TooManyRows`] past [`Limits::max_rows`].
    pub fn push(&mut self, mut row: Row) -> Result<bool, ReadError> {
        row.cells.retain(|(_, c)| holds_something(c));
        if row.cells.is_empty() {
            return Ok(true);
        }
        self.rows += 1;
        if self.rows > self.limits.max_rows {
            return Err(ReadError::TooManyRows {
                limit: self.limits.max_rows,
            });
        }
        let Some(found) = &self.header else {
            let texts: Vec<(usize, String)> = row
                .cells
                .iter()
                .filter_map(|(i, c)| match c {
                    Cell::Text(s) => Some((*i, s.clone())),
                    _ => None,
                })
                .collect();
            let columns = columns_of(&texts);
            if is_header(&columns) {
                self.header = Some(Found {
                    line: row.line,
                    columns,
                });
                self.last_line = row.line;
                return Ok(true);
            }
            self.scanned += 1;
            return Ok(self.scanned < HEADER_SCAN_ROWS);
        };
        if row.line > self.last_line + 1 {
            self.skipped += row.line - self.last_line - 1;
        }
        self.last_line = self.last_line.max(row.line);
        match line_of(found, &row, self.limits.allow_synthetic_ids, self.today) {
            Some(line) => self.lines.push(line),
            None => self.skipped += 1,
        }
        Ok(true)
    }
}

/// The line a row below the header makes, or `None` for a row to skip:
/// nothing in the columns read, a sum row, or only an amount.
fn line_of(found: &Found, row: &Row, allow_synthetic: bool, today: NaiveDate) -> Option<Line> {
    let cell = |column: Column| found.index(column).and_then(|i| row.get(i));
    let filled: Vec<Column> = found
        .columns
        .iter()
        .filter(|(_, i, _)| row.get(*i).is_some())
        .map(|(c, _, _)| *c)
        .collect();
    if filled.is_empty() || filled == [Column::Amount] {
        return None;
    }
    let sum_label = row
        .cells
        .iter()
        .any(|(_, c)| matches!(c, Cell::Text(s) if is_sum_label(s)));
    if sum_label && cell(Column::NationalId).is_none() {
        return None;
    }

    let mut line = Line {
        line: row.line,
        national_id: None,
        birth_date: None,
        name: None,
        employee_no: None,
        amount: None,
        period: None,
        orgnr: None,
        problems: Vec::new(),
    };
    let mut id_date = None;
    if let Some(c) = cell(Column::NationalId) {
        let given = id_text(c);
        match check_national_id(&given, allow_synthetic) {
            Ok(id) => {
                id_date = birth_date_from_id(&id);
                line.national_id = Some(id);
            }
            Err(why) => line.problems.push(Problem::InvalidId {
                given: cut(&given),
                why,
            }),
        }
    }
    let mut given_date = None;
    if let Some(c) = cell(Column::BirthDate) {
        match birth_date(c, today) {
            Some(d) => given_date = Some(d),
            None => line.problems.push(Problem::BadDate { given: c.shown() }),
        }
    }
    if let (Some(in_id), Some(given)) = (id_date, given_date)
        && in_id != given
    {
        line.problems.push(Problem::DateMismatch { in_id, given });
    }
    line.birth_date = given_date.or(id_date);
    if cell(Column::NationalId).is_none() && cell(Column::BirthDate).is_none() {
        line.problems.insert(0, Problem::MissingId);
    }

    line.name = match (
        cell(Column::Name),
        cell(Column::LastName),
        cell(Column::FirstName),
    ) {
        (Some(n), _, _) => Some(n.shown()),
        // Each part is cut; the two together are cut again.
        (None, Some(last), Some(first)) => {
            Some(cut(&format!("{}, {}", last.shown(), first.shown())))
        }
        (None, Some(one), None) | (None, None, Some(one)) => Some(one.shown()),
        (None, None, None) => None,
    };
    line.employee_no = cell(Column::EmployeeNo).map(Cell::shown);

    match cell(Column::Amount) {
        None => line.problems.push(Problem::MissingAmount),
        Some(c) => match amount(c) {
            Some(a) => line.amount = Some(a),
            None => line.problems.push(Problem::BadAmount { given: c.shown() }),
        },
    }
    if let Some(c) = cell(Column::Period) {
        match period(c) {
            Some(p) => line.period = Some(p),
            None => line.problems.push(Problem::BadPeriod { given: c.shown() }),
        }
    }
    if let Some(c) = cell(Column::OrgNr) {
        match check_orgnr(&c.shown()) {
            Some(o) => line.orgnr = Some(o),
            None => line.problems.push(Problem::BadOrgnr { given: c.shown() }),
        }
    }
    Some(line)
}

/// A national id cell as text: a number (an id stored as a number) as its
/// digits, so the dropped leading zero can be put back.
fn id_text(cell: &Cell) -> String {
    match cell {
        Cell::Text(s) => s.trim().chars().take(MAX_CELL_CHARS).collect(),
        other => other.shown(),
    }
}

/// A birth date from a cell: a date cell; a plain number as `ddmmyy` or
/// `ddmmyyyy` that lost its leading zero, else as a date serial; text in
/// the forms of [`parse_date`].
fn birth_date(cell: &Cell, today: NaiveDate) -> Option<NaiveDate> {
    match cell {
        Cell::Date(d) => Some(*d),
        Cell::Int(i) => date_from_number(*i as f64, today).or_else(|| date_from_serial(*i as f64)),
        Cell::Float(f) => date_from_number(*f, today).or_else(|| date_from_serial(*f)),
        Cell::Text(s) => parse_date(s, today),
        Cell::Bool(_) | Cell::Other(_) => None,
    }
}

/// An amount from a cell: a number in kroner, or text in the forms of
/// [`parse_amount`].
fn amount(cell: &Cell) -> Option<i64> {
    match cell {
        Cell::Int(i) => i
            .checked_mul(100)
            .filter(|v| v.abs() <= 100_000_000_000_000),
        Cell::Float(f) => amount_from_f64(*f),
        Cell::Text(s) => parse_amount(s),
        Cell::Date(_) | Cell::Bool(_) | Cell::Other(_) => None,
    }
}

/// A period from a cell: a date cell's month, or the forms of
/// [`period_from_text`] (a number as its digits: `102026`, `1026`).
fn period(cell: &Cell) -> Option<Period> {
    match cell {
        Cell::Date(d) => Some(Period::of_date(*d)),
        Cell::Int(_) | Cell::Float(_) | Cell::Text(_) => period_from_text(&cell.shown()),
        Cell::Bool(_) | Cell::Other(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    fn text_row(line: usize, cells: &[&str]) -> Row {
        Row {
            line,
            cells: cells
                .iter()
                .enumerate()
                .map(|(i, s)| (i, Cell::Text(s.to_string())))
                .collect(),
        }
    }

    /// Found by fuzzing (`list_csv`): a last and a first name of 200
    /// characters each made a name of 402, past `MAX_CELL_CHARS`.
    #[test]
    fn a_name_from_two_columns_is_cut_too() {
        let limits = Limits::default();
        let mut b = Builder::new(&limits, today());
        assert!(
            b.push(text_row(
                1,
                &["Fødselsdato", "Etternavn", "Fornavn", "Beløp"]
            ))
            .unwrap()
        );
        let (last, first) = ("Å".repeat(250), "B".repeat(250));
        assert!(
            b.push(text_row(2, &["01.01.1990", &last, &first, "100"]))
                .unwrap()
        );
        let name = b.lines[0].name.clone().unwrap();
        assert_eq!(name.chars().count(), MAX_CELL_CHARS);
        assert_eq!(name, "Å".repeat(MAX_CELL_CHARS));
        assert!(
            b.push(text_row(3, &["01.01.1990", "Nordmann", "Kari", "100"]))
                .unwrap()
        );
        assert_eq!(b.lines[1].name.as_deref(), Some("Nordmann, Kari"));
    }

    #[test]
    fn header_then_lines_then_sum() {
        let limits = Limits {
            allow_synthetic_ids: true,
            ..Limits::default()
        };
        let mut b = Builder::new(&limits, today());
        assert!(b.push(text_row(1, &["Trekkliste Bedrift AS"])).unwrap());
        assert!(b.push(text_row(2, &["Periode: oktober 2026"])).unwrap());
        assert!(
            b.push(text_row(4, &["Fødselsnummer", "Navn", "Ansattnr", "Trekk"]))
                .unwrap()
        );
        let row = Row {
            line: 5,
            cells: vec![
                (0, Cell::Float(6928401578.0)),
                (1, Cell::Text("Nordmann, Kari".into())),
                (2, Cell::Float(1001.0)),
                (3, Cell::Text("1234,5".into())),
            ],
        };
        assert!(b.push(row).unwrap());
        assert!(b.push(text_row(7, &["", "Sum", "", "25139,5"])).unwrap());
        assert!(b.push(text_row(8, &["", "", "", "100"])).unwrap());
        assert!(b.push(text_row(9, &["", "", "", ""])).unwrap());
        let header = b.header.as_ref().unwrap();
        assert_eq!(header.line, 4);
        assert_eq!(b.lines.len(), 1);
        let line = &b.lines[0];
        assert_eq!(line.line, 5);
        assert_eq!(line.national_id.as_deref(), Some("06928401578"));
        assert_eq!(line.birth_date, NaiveDate::from_ymd_opt(1984, 12, 6));
        assert_eq!(line.name.as_deref(), Some("Nordmann, Kari"));
        assert_eq!(line.employee_no.as_deref(), Some("1001"));
        assert_eq!(line.amount, Some(123_450));
        assert!(line.problems.is_empty(), "{:?}", line.problems);
        // Row 6 blank, row 7 the sum, row 8 only an amount.
        assert_eq!(b.skipped, 3);
    }

    #[test]
    fn problems_are_data() {
        let limits = Limits::default();
        let mut b = Builder::new(&limits, today());
        b.push(text_row(
            1,
            &[
                "Fnr",
                "Fødselsdato",
                "Etternavn",
                "Fornavn",
                "Beløp",
                "Periode",
                "Orgnr",
            ],
        ))
        .unwrap();
        b.push(text_row(
            2,
            &[
                "12345678901",
                "31.02.1990",
                "Feil",
                "Id",
                "fire hundre",
                "13/2026",
                "123",
            ],
        ))
        .unwrap();
        b.push(text_row(3, &["", "", "Uten", "Id", "", "", ""]))
            .unwrap();
        b.push(text_row(
            4,
            &[
                "15057712357",
                "16.05.1977",
                "Date",
                "Wrong",
                "1,5",
                "okt 2026",
                "923609016",
            ],
        ))
        .unwrap();
        let codes = |i: usize| {
            b.lines[i]
                .problems
                .iter()
                .map(Problem::code)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            codes(0),
            [
                "invalid-id",
                "bad-date",
                "bad-amount",
                "bad-period",
                "bad-orgnr"
            ]
        );
        assert_eq!(b.lines[0].name.as_deref(), Some("Feil, Id"));
        assert_eq!(codes(1), ["missing-id", "missing-amount"]);
        assert_eq!(codes(2), ["date-mismatch"]);
        assert_eq!(b.lines[2].amount, Some(150));
        assert_eq!(b.lines[2].period, Period::new(2026, 10));
        assert_eq!(b.lines[2].orgnr.as_deref(), Some("923609016"));
        assert_eq!(b.lines[2].birth_date, NaiveDate::from_ymd_opt(1977, 5, 16));
    }

    #[test]
    fn no_header_stops_early_and_rows_are_limited() {
        let limits = Limits {
            max_rows: 3,
            ..Limits::default()
        };
        let mut b = Builder::new(&limits, today());
        for i in 0..3 {
            b.push(text_row(i + 1, &["Fnr", "Trekk"])).unwrap();
        }
        assert_eq!(
            b.push(text_row(4, &["x"])),
            Err(ReadError::TooManyRows { limit: 3 })
        );
        let limits = Limits::default();
        let mut b = Builder::new(&limits, today());
        for i in 0..HEADER_SCAN_ROWS - 1 {
            assert!(b.push(text_row(i + 1, &["x"])).unwrap());
        }
        assert!(!b.push(text_row(HEADER_SCAN_ROWS, &["x"])).unwrap());
    }
}
