//! The size guards: checks made before calamine inflates or expands a
//! spreadsheet, so that a small file cannot make it allocate without bound
//! (SPEC section 3: "xlsx and ods are zip files: check before inflating").
//!
//! Nothing is inflated, expanded or parsed by calamine before these say
//! yes; each returns a size, which `read` compares with
//! [`super::Limits::max_uncompressed_bytes`] (for ods and xls the
//! "uncompressed size" includes the expanded grid).
//!
//! One file per format:
//! - `zip` (**xlsx, xlsm, ods**): the zip central directory's declared
//!   uncompressed sizes are summed before anything is inflated. The zip
//!   crate refuses to inflate an entry past its declared size, so the sum
//!   bounds what calamine can inflate.
//! - `ods` (**ods**): a few hundred bytes of `content.xml` can repeat a cell
//!   16,384 times and a row a million times, and calamine expands the
//!   repeats into a grid. `content.xml` is scanned (streaming, nothing
//!   kept) and the memory of calamine's raw cells and grids estimated,
//!   conservatively.
//! - `xls` (**xls**): calamine builds a dense grid from the highest row and
//!   column any cell names and reserves what a `DIMENSIONS` record
//!   declares, and a loop in the compound file's sector chains would make
//!   it read forever. The compound file is walked as calamine walks it
//!   (chains checked for loops and bounds), the workbook stream's records
//!   are read the same way, and the grid memory estimated.
//! - `cells`: what is shared: the memory one of calamine's cells costs.
//!
//! This file only declares the formats and re-exports their checks, so it
//! depends on none of them (see `tests/module_graph.rs`).

mod cells;
mod ods;
mod xls;
mod zip;

pub use self::zip::zip_uncompressed;
pub use ods::ods_estimate;
pub use xls::xls_estimate;
