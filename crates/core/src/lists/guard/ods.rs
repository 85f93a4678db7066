//! The ods guard: the memory calamine's expansion of `content.xml`'s
//! repeated cells and rows would take, estimated from a streaming scan.
//!
//! A few hundred bytes of `content.xml` can repeat a cell 16,384 times and
//! a row a million times, and calamine expands the repeats into a grid.
//! `content.xml` is scanned (streaming, nothing kept) and the memory of
//! calamine's raw cells and grids estimated, conservatively.

use std::io::Cursor;

use quick_xml::events::Event;

use super::cells::{GRID_CELL, LIST_CELL};

/// calamine's ods row and column caps.
const ODS_MAX_ROWS: u64 = 1_048_576;
const ODS_MAX_COLUMNS: u64 = 16_384;

/// The memory calamine would need for an ods's cells, estimated from
/// `content.xml` without keeping anything of it. Stops as soon as the
/// estimate passes `limit` (the value returned is then above `limit`).
///
/// A cell counts as holding something when it has a value, a value type or
/// a formula, or any content at all (calamine reads less: this errs on the
/// large side). Repeats are expanded as calamine expands them: empty cells
/// only before a later cell of the row, rows within the first and last row
/// holding something, at most 16,384 cells a row and 1,048,576 rows.
///
/// # Errors
/// When the zip or its `content.xml` cannot be read.
pub fn ods_estimate(bytes: &[u8], limit: u64) -> Result<u64, String> {
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| format!("not a zip file: {e}"))?;
    let content = archive
        .by_name("content.xml")
        .map_err(|e| format!("content.xml: {e}"))?;
    let mut reader = quick_xml::Reader::from_reader(std::io::BufReader::new(content));
    let config = reader.config_mut();
    config.expand_empty_elements = true;
    config.trim_text(false);
    config.check_end_names = false;

    let mut scan = OdsScan::default();
    let mut buf = Vec::with_capacity(1024);
    loop {
        buf.clear();
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => scan.start(&e)?,
            Ok(Event::End(_)) => scan.end(),
            Ok(Event::Text(t)) => scan.content(t.len(), !t.trim().is_empty()),
            Ok(Event::CData(t)) => scan.content(t.len(), true),
            Ok(Event::GeneralRef(t)) => scan.content(t.len() + 2, true),
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Err(format!("content.xml: {e}")),
        }
        if scan.total() > limit {
            return Ok(scan.total());
        }
    }
    Ok(scan.total())
}

/// The state of the `content.xml` scan.
#[derive(Default)]
struct OdsScan {
    /// Element depth.
    depth: usize,
    /// Depth of the open `table:table`, if any.
    table: Option<usize>,
    /// Depth of the open row, if any.
    row: Option<usize>,
    /// Depth of the open cell, if any.
    cell: Option<usize>,
    /// The open cell: its (capped) repeats, whether it holds something, and
    /// the most bytes of text its value and formula can take.
    cell_repeats: u64,
    cell_full: bool,
    cell_bytes: u64,
    /// The open row: its repeats (capped), cells pushed, empty cells not yet
    /// pushed, and the first and last position holding something.
    row_repeats: u64,
    row_cells: u64,
    row_deferred: u64,
    row_first: Option<u64>,
    row_last: u64,
    /// Bytes of text in the open row's cells as pushed (each a copy).
    row_text: u64,
    /// The open table: rows so far, rows from the first to the last row
    /// holding something, empty rows since the last, columns spanned.
    table_rows: u64,
    dense_rows: u64,
    pending_rows: u64,
    seen_full_row: bool,
    col_min: u64,
    col_max: u64,
    /// Raw cells pushed in all tables, and their text.
    raw_cells: u64,
    raw_text: u64,
    /// Grid cells of the finished tables.
    grid_cells: u64,
    /// Text in the grids (each repeated row a copy of its own).
    grid_text: u64,
}

impl OdsScan {
    /// The estimate so far, in bytes.
    fn total(&self) -> u64 {
        let open = self.dense_rows.saturating_mul(self.width());
        self.raw_cells
            .saturating_add(self.row_cells)
            .saturating_mul(LIST_CELL)
            .saturating_add(
                self.grid_cells
                    .saturating_add(open)
                    .saturating_mul(GRID_CELL),
            )
            .saturating_add(self.raw_text)
            .saturating_add(self.row_text)
            .saturating_add(self.grid_text)
    }

    fn width(&self) -> u64 {
        if self.seen_full_row {
            self.col_max.saturating_sub(self.col_min) + 1
        } else {
            0
        }
    }

    fn start(&mut self, e: &quick_xml::events::BytesStart<'_>) -> Result<(), String> {
        self.depth += 1;
        if self.cell.is_some() {
            // Inside a cell: `<text:s text:c="n"/>` stands for n spaces,
            // any other element for at most one character.
            self.cell_full = true;
            let spaces = if e.name().as_ref() == "text:s" {
                attr_number(e, "text:c")?.unwrap_or(1)
            } else {
                1
            };
            self.cell_bytes = self.cell_bytes.saturating_add(spaces);
            return Ok(());
        }
        match e.name().as_ref() {
            "table:table" if self.table.is_none() => {
                self.table = Some(self.depth);
                self.table_rows = 0;
                self.dense_rows = 0;
                self.pending_rows = 0;
                self.seen_full_row = false;
                self.col_min = u64::MAX;
                self.col_max = 0;
            }
            "table:table-row" if self.table.is_some() && self.row.is_none() => {
                let repeats = attr_number(e, "table:number-rows-repeated")?.unwrap_or(1);
                let capped = repeats.min(ODS_MAX_ROWS.saturating_sub(self.table_rows));
                self.table_rows += capped;
                self.row = Some(self.depth);
                self.row_repeats = capped;
                self.row_cells = 0;
                self.row_deferred = 0;
                self.row_first = None;
                self.row_text = 0;
            }
            "table:table-cell" | "table:covered-table-cell" if self.row.is_some() => {
                let repeats = attr_number(e, "table:number-columns-repeated")?.unwrap_or(1);
                self.cell = Some(self.depth);
                self.cell_repeats = repeats;
                let mut full = false;
                let mut bytes: u64 = 0;
                for a in e.attributes().with_checks(false) {
                    let a = a.map_err(|e| format!("content.xml: {e}"))?;
                    bytes += a.value.len() as u64;
                    full |= matches!(
                        a.key.as_ref(),
                        "office:value"
                            | "office:string-value"
                            | "office:date-value"
                            | "office:time-value"
                            | "office:boolean-value"
                            | "office:value-type"
                            | "table:formula"
                    );
                }
                self.cell_full = full;
                self.cell_bytes = bytes;
            }
            _ => {}
        }
        Ok(())
    }

    fn content(&mut self, len: usize, something: bool) {
        if self.cell.is_some() {
            self.cell_full |= something;
            self.cell_bytes = self.cell_bytes.saturating_add(len as u64);
        }
    }

    fn end(&mut self) {
        let depth = self.depth;
        self.depth = self.depth.saturating_sub(1);
        if self.cell == Some(depth) {
            self.cell = None;
            // As calamine: empty cells wait until a later cell of the row.
            let room = ODS_MAX_COLUMNS.saturating_sub(self.row_cells);
            self.row_cells += self.row_deferred.min(room);
            self.row_deferred = 0;
            let room = ODS_MAX_COLUMNS.saturating_sub(self.row_cells);
            let n = self.cell_repeats.min(room);
            if self.cell_full {
                if n > 0 {
                    self.row_first.get_or_insert(self.row_cells);
                    self.row_last = self.row_cells + n - 1;
                }
                self.row_cells += n;
                self.row_text = self
                    .row_text
                    .saturating_add(self.cell_bytes.saturating_mul(n));
            } else {
                self.row_deferred = n;
            }
        } else if self.row == Some(depth) {
            self.row = None;
            self.raw_cells = self.raw_cells.saturating_add(self.row_cells);
            self.row_cells = 0;
            self.raw_text = self.raw_text.saturating_add(self.row_text);
            let row_text = std::mem::take(&mut self.row_text);
            match self.row_first {
                Some(first) => {
                    self.col_min = self.col_min.min(first);
                    self.col_max = self.col_max.max(self.row_last);
                    if self.seen_full_row {
                        self.dense_rows = self.dense_rows.saturating_add(self.pending_rows);
                    }
                    self.dense_rows = self.dense_rows.saturating_add(self.row_repeats);
                    // Text twice: the grid of values and that of formulas.
                    self.grid_text = self.grid_text.saturating_add(
                        row_text.saturating_mul(self.row_repeats).saturating_mul(2),
                    );
                    self.pending_rows = 0;
                    self.seen_full_row = true;
                }
                None if self.seen_full_row => {
                    self.pending_rows = self.pending_rows.saturating_add(self.row_repeats);
                }
                None => {}
            }
        } else if self.table == Some(depth) {
            self.table = None;
            self.grid_cells = self
                .grid_cells
                .saturating_add(self.dense_rows.saturating_mul(self.width()));
            self.dense_rows = 0;
            self.seen_full_row = false;
        }
    }
}

/// A numeric attribute, as calamine parses it (`usize`, the first of its
/// name). A malformed attribute list is refused.
fn attr_number(e: &quick_xml::events::BytesStart<'_>, key: &str) -> Result<Option<u64>, String> {
    for a in e.attributes().with_checks(false) {
        let a = a.map_err(|e| format!("content.xml: {e}"))?;
        if a.key.as_ref() == key {
            let text: &str = &a.value;
            let n: usize = text
                .parse()
                .map_err(|_| format!("a repeat count is not a number: {text:.20}"))?;
            return Ok(Some(n as u64));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junk_is_refused() {
        assert!(ods_estimate(b"PK\x03\x04", 1000).is_err());
    }
}
