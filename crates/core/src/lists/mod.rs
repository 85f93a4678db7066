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
//! This file only declares the modules and re-exports their public items
//! (`postbud_core::lists::Sheet` and so on), so it depends on none of them
//! and no child depends on it (see `tests/module_graph.rs`).
//! - `sheet`: what a list is read into ([`Sheet`], [`Line`], [`Problem`],
//!   [`ReadError`]) and the [`Limits`] it is read under.
//! - `kind`: [`FileKind`] and [`kind_of`], the kind of an attachment.
//! - [`read`](mod@read): dispatch by kind, text files, calamine.
//! - `guard`: size checks before calamine inflates or expands anything,
//!   one file per format.
//! - [`header`]: column names, header row, sum rows.
//! - `row`: one row of cells -> one [`Line`].
//! - [`ids`]: national ids, D-numbers, synthetic ids, CPR, organisation numbers.
//! - [`amounts`], [`periods`], [`dates`]: the value forms.

pub mod amounts;
pub mod dates;
mod guard;
pub mod header;
pub mod ids;
mod kind;
pub mod periods;
pub mod read;
mod row;
mod sheet;

pub use amounts::parse_amount;
pub use header::Column;
pub use ids::{birth_date_from_id, check_national_id, check_orgnr};
pub use kind::{FileKind, kind_of};
pub use periods::{Period, period_from_subject};
pub use read::read;
pub use sheet::{HEADER_SCAN_ROWS, Limits, Line, MAX_CELL_CHARS, Problem, ReadError, Sheet};
