//! Deduction lists (trekklister, SPEC section 8): an attachment's bytes and
//! file name in, the people and amounts it lists out, each line with the
//! problems found in it. Pure: no file is read, no clock is asked (today's
//! date comes in), nothing is matched against the register here.
//!
//! Bad input is data: a bad row is a [`Line`] with [`Problem`]s, never a
//! panic; only a file that cannot be read as a list at all is a
//! [`ReadError`]. [`read()`] never panics and its memory is bounded by
//! [`Limits`], whatever the bytes (calamine is checked before it is asked,
//! see `guard`, and its panics are caught).
//!
//! # Files
//! - `.xlsx`, `.xlsm`, `.xls`, `.ods` through calamine, from memory. The
//!   first sheet with a header row is read.
//! - `.csv`, `.txt` (and `.tsv`): UTF-8 with or without BOM, UTF-16 LE/BE
//!   with BOM, otherwise Windows-1252; delimiter `;`, tab, `,` or `|`, the
//!   one under which a header row is found (with the most columns
//!   recognised); fields may be quoted with `"`.
//! - `.pdf`: [`ReadError::Pdf`], for the caller to store as a pending item.
//! - The kind comes from the file name, corrected by the content where the
//!   content is unambiguous ([`kind_of`]).
//!
//! # Rows and line numbers
//! [`Line::line`] is the row number the sender sees: the spreadsheet row
//! (1-based, title rows and blank rows above included), or the line of a
//! text file where the record starts (a quoted field may span lines). So
//! the same list as `.xlsx`, `.xls` and `.ods` has the same line numbers;
//! as `.csv` written without the title rows they are smaller by the number
//! of rows left out.
//!
//! The header row is the first row, among the first [`HEADER_SCAN_ROWS`]
//! rows holding anything, that names a national id or birth-date column
//! and an amount column ([`header`]). Below it a row is skipped (and
//! counted in [`Sheet::skipped`]) when it is empty (blank rows between the
//! header and the last row read count too), holds nothing in the columns
//! read, is a sum row (a text cell `Sum`, `Totalt`, `Total`, `I alt`, ...,
//! and no national id), or holds only an amount.
//!
//! # Layout
//! - [`read`](mod@read): dispatch by kind, text files, calamine.
//! - `guard`: size checks before calamine inflates or expands anything.
//! - [`header`]: column names, header row, sum rows.
//! - `row`: one row of cells -> one [`Line`].
//! - [`ids`]: national ids, D-numbers, synthetic ids, CPR, organisation numbers.
//! - [`amounts`], [`periods`], [`dates`]: the value forms.

pub mod amounts;
pub mod dates;
mod guard;
pub mod header;
pub mod ids;
pub mod periods;
pub mod read;
mod row;

use std::fmt;

use chrono::NaiveDate;

pub use amounts::parse_amount;
pub use header::Column;
pub use ids::{birth_date_from_id, check_national_id, check_orgnr};
pub use periods::{Period, period_from_subject};
pub use read::read;

/// Rows holding anything that are looked at for the header row, per sheet.
pub const HEADER_SCAN_ROWS: usize = 50;

/// The longest text kept from a cell (names, and the `given` text of a
/// problem); the rest is cut.
pub const MAX_CELL_CHARS: usize = 200;

/// What a list may cost, and what it may hold (configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// The most bytes a spreadsheet may inflate to (SPEC section 3: 100 MB):
    /// for xlsx, xlsm and ods the sizes the zip declares; for ods and xls
    /// also the memory of the expanded cell grid; for csv and txt the file.
    pub max_uncompressed_bytes: u64,
    /// The most rows holding anything a list may have (SPEC section 3:
    /// 1,000,000), title and header rows included; reading stops there.
    pub max_rows: u64,
    /// Whether synthetic test ids (month + 80) are valid national ids
    /// (`[lists] allow_synthetic_ids`, on in tests only).
    pub allow_synthetic_ids: bool,
}

impl Default for Limits {
    /// SPEC section 3's limits; synthetic ids refused.
    fn default() -> Limits {
        Limits {
            max_uncompressed_bytes: 100 << 20,
            max_rows: 1_000_000,
            allow_synthetic_ids: false,
        }
    }
}

/// The kinds of attachment a list comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// Office Open XML workbook.
    Xlsx,
    /// Office Open XML workbook with macros (never run, only read).
    Xlsm,
    /// Excel 97-2003 (BIFF in a compound file).
    Xls,
    /// OpenDocument spreadsheet.
    Ods,
    /// Comma (or other) separated values.
    Csv,
    /// Text with separated values.
    Txt,
    /// A PDF: stored and handled by hand.
    Pdf,
}

impl FileKind {
    /// A stable name for logs and receipts (the usual extension).
    pub fn code(self) -> &'static str {
        match self {
            FileKind::Xlsx => "xlsx",
            FileKind::Xlsm => "xlsm",
            FileKind::Xls => "xls",
            FileKind::Ods => "ods",
            FileKind::Csv => "csv",
            FileKind::Txt => "txt",
            FileKind::Pdf => "pdf",
        }
    }
}

/// The kind of an attachment: its extension (any case), corrected by its
/// first bytes where they are unambiguous. A PDF is a PDF whatever its name;
/// a zip holding `xl/workbook.xml` is an xlsx (xlsm if named so or holding
/// macros), one with the OpenDocument spreadsheet mimetype an ods; a
/// compound file is an xls (an encrypted xlsx is one too, and will not
/// read); a `.xls`/`.xlsx` that is plain text (old "Excel" exports) is
/// read as text. `None` for anything else (images, signatures, .docx).
pub fn kind_of(name: &str, bytes: &[u8]) -> Option<FileKind> {
    const ZIP: &[u8] = b"PK\x03\x04";
    const CFB: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let by_name = match ext.as_str() {
        "xlsx" => Some(FileKind::Xlsx),
        "xlsm" => Some(FileKind::Xlsm),
        "xls" => Some(FileKind::Xls),
        "ods" => Some(FileKind::Ods),
        "csv" | "tsv" => Some(FileKind::Csv),
        "txt" => Some(FileKind::Txt),
        "pdf" => Some(FileKind::Pdf),
        _ => None,
    };
    if bytes.starts_with(b"%PDF-") {
        return Some(FileKind::Pdf);
    }
    if bytes.starts_with(ZIP) {
        let head = &bytes[..bytes.len().min(200)];
        if find(head, b"mimetype").is_some() && find(head, b"opendocument.spreadsheet").is_some() {
            return Some(FileKind::Ods);
        }
        if find(bytes, b"xl/workbook.xml").is_some() {
            let macros = find(bytes, b"xl/vbaProject.bin").is_some();
            return Some(if macros || by_name == Some(FileKind::Xlsm) {
                FileKind::Xlsm
            } else {
                FileKind::Xlsx
            });
        }
        return match by_name {
            Some(k @ (FileKind::Xlsx | FileKind::Xlsm | FileKind::Ods)) => Some(k),
            _ => None,
        };
    }
    if bytes.starts_with(CFB) {
        return match by_name {
            Some(FileKind::Xls | FileKind::Xlsx | FileKind::Xlsm) => Some(FileKind::Xls),
            _ => None,
        };
    }
    match by_name {
        Some(FileKind::Xls | FileKind::Xlsx) if looks_like_text(bytes) => Some(FileKind::Txt),
        other => other,
    }
}

/// No NUL in the first 4 KB (or a UTF-16 byte order mark).
fn looks_like_text(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\xFF\xFE")
        || bytes.starts_with(b"\xFE\xFF")
        || !bytes.iter().take(4096).any(|b| *b == 0)
}

/// Where `needle` first occurs in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// One row of a list below its header: who, how much, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The row (spreadsheet) or line (text file) number, 1-based, as the
    /// sender sees it; see the module documentation.
    pub line: usize,
    /// The national id, checked and normalised: 11 digits (the leading zero
    /// restored), or 10 for a Danish CPR number. `None` when missing or
    /// invalid (then [`Problem::InvalidId`] says why).
    pub national_id: Option<String>,
    /// The birth date: from a birth-date column, else from the national id.
    pub birth_date: Option<NaiveDate>,
    /// The name as written (`Nordmann, Kari`); from separate last and first
    /// name columns `Last, First`. Spaces collapsed, cut at
    /// [`MAX_CELL_CHARS`].
    pub name: Option<String>,
    /// The employer's number for the person, as written.
    pub employee_no: Option<String>,
    /// The amount deducted, in øre (cents), possibly negative (a refund).
    pub amount: Option<i64>,
    /// The period of the line, from a period column.
    pub period: Option<Period>,
    /// The employer's organisation number, from an organisation-number
    /// column, checked (9 digits).
    pub orgnr: Option<String>,
    /// What is wrong with the line, in column order; empty when nothing.
    pub problems: Vec<Problem>,
}

/// Something wrong in one line. Data, not wording: the receipt's templates
/// say it in the member's language, keyed by [`Problem::code`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The national id is not valid; `why` is one of the `WHY_*` constants
    /// of [`ids`]: `"length"`, `"mod-11"`, `"date"`,
    /// `"synthetic ids not allowed"`.
    InvalidId { given: String, why: &'static str },
    /// Neither a national id nor a birth date.
    MissingId,
    /// The birth date is not a date in a known form.
    BadDate { given: String },
    /// The birth date differs from the one in the (valid) national id.
    DateMismatch { in_id: NaiveDate, given: NaiveDate },
    /// The amount is not a number in a known form.
    BadAmount { given: String },
    /// No amount.
    MissingAmount,
    /// The period cell names no month.
    BadPeriod { given: String },
    /// The organisation number is not valid.
    BadOrgnr { given: String },
}

impl Problem {
    /// A stable key for templates and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Problem::InvalidId { .. } => "invalid-id",
            Problem::MissingId => "missing-id",
            Problem::BadDate { .. } => "bad-date",
            Problem::DateMismatch { .. } => "date-mismatch",
            Problem::BadAmount { .. } => "bad-amount",
            Problem::MissingAmount => "missing-amount",
            Problem::BadPeriod { .. } => "bad-period",
            Problem::BadOrgnr { .. } => "bad-orgnr",
        }
    }
}

/// A list as read from one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheet {
    /// The attachment's file name, as given.
    pub file: String,
    /// What it was read as.
    pub kind: FileKind,
    /// The worksheet's name (spreadsheets only).
    pub sheet: Option<String>,
    /// The header row's number, counted as [`Line::line`].
    pub header_line: usize,
    /// The columns read, left to right, with their header text.
    pub columns: Vec<(Column, String)>,
    /// The lines below the header, in file order, sum and empty rows left out.
    pub lines: Vec<Line>,
    /// Rows below the header left out: empty, sum rows, rows with nothing
    /// in the columns read.
    pub skipped: usize,
}

/// Why a file could not be read as a list at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// It would inflate (or expand) to more than the limit.
    TooLarge { uncompressed: u64, limit: u64 },
    /// It has more rows than the limit; reading stopped there.
    TooManyRows { limit: u64 },
    /// No row names a national-id or birth-date column and an amount column.
    NoHeader,
    /// The file is damaged or not what its name says; what failed.
    Unreadable(String),
    /// A PDF: store it for manual handling.
    Pdf,
    /// Not a kind of file lists come in.
    Unsupported,
}

impl ReadError {
    /// A stable key for templates and logs.
    pub fn code(&self) -> &'static str {
        match self {
            ReadError::TooLarge { .. } => "too-large",
            ReadError::TooManyRows { .. } => "too-many-rows",
            ReadError::NoHeader => "no-header",
            ReadError::Unreadable(_) => "unreadable",
            ReadError::Pdf => "pdf",
            ReadError::Unsupported => "unsupported",
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::TooLarge {
                uncompressed,
                limit,
            } => {
                write!(
                    f,
                    "spreadsheet would take {uncompressed} bytes uncompressed, over the limit of {limit}"
                )
            }
            ReadError::TooManyRows { limit } => write!(f, "list has more than {limit} rows"),
            ReadError::NoHeader => write!(
                f,
                "no header row with a national id or birth date and an amount column"
            ),
            ReadError::Unreadable(why) => write!(f, "file cannot be read: {why}"),
            ReadError::Pdf => write!(f, "pdf list, to be handled by hand"),
            ReadError::Unsupported => write!(f, "not a kind of file a list comes in"),
        }
    }
}

impl std::error::Error for ReadError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(
            kind_of("a.XLSX", b"PK\x03\x04 xl/workbook.xml"),
            Some(FileKind::Xlsx)
        );
        assert_eq!(
            kind_of("a.xlsm", b"PK\x03\x04 xl/workbook.xml"),
            Some(FileKind::Xlsm)
        );
        assert_eq!(
            kind_of("a.xls", b"PK\x03\x04 xl/workbook.xml"),
            Some(FileKind::Xlsx)
        );
        assert_eq!(
            kind_of(
                "a.bin",
                b"PK\x03\x04 mimetypeapplication/vnd.oasis.opendocument.spreadsheet"
            ),
            Some(FileKind::Ods)
        );
        assert_eq!(kind_of("a.ods", b"PK\x03\x04junk"), Some(FileKind::Ods));
        assert_eq!(kind_of("a.docx", b"PK\x03\x04 word/document.xml"), None);
        assert_eq!(kind_of("a.csv", b"PK\x03\x04"), None);
        assert_eq!(
            kind_of("a.xls", b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"),
            Some(FileKind::Xls)
        );
        assert_eq!(
            kind_of("a.xlsx", b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"),
            Some(FileKind::Xls)
        );
        assert_eq!(kind_of("a.doc", b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"), None);
        assert_eq!(kind_of("a.xls", b"Fnr\tTrekk\n"), Some(FileKind::Txt));
        assert_eq!(kind_of("a.csv", b"a;b"), Some(FileKind::Csv));
        assert_eq!(kind_of("a.TSV", b"a\tb"), Some(FileKind::Csv));
        assert_eq!(kind_of("a.txt", b"a;b"), Some(FileKind::Txt));
        assert_eq!(kind_of("a.txt", b"%PDF-1.6"), Some(FileKind::Pdf));
        assert_eq!(kind_of("scan.pdf", b""), Some(FileKind::Pdf));
        assert_eq!(kind_of("logo.png", b"\x89PNG"), None);
        assert_eq!(kind_of("noext", b"a;b"), None);
    }
}
