//! What a deduction list is read into: the [`Sheet`] with its [`Line`]s and
//! their [`Problem`]s, a [`ReadError`] when it cannot be read at all, and
//! the [`Limits`] it is read under.

use std::fmt;

use chrono::NaiveDate;

use super::header::Column;
use super::kind::FileKind;
use super::periods::Period;

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

/// One row of a list below its header: who, how much, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The row (spreadsheet) or line (text file) number, 1-based, as the
    /// sender sees it; see the documentation of [`crate::lists`].
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
    /// of [`ids`](super::ids): `"length"`, `"mod-11"`, `"date"`,
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
