//! Size checks made before calamine reads a spreadsheet, so that a small
//! file cannot make it allocate without bound (SPEC section 3: "xlsx and
//! ods are zip files: check before inflating").
//!
//! - **xlsx, xlsm, ods**: the zip central directory's declared uncompressed
//!   sizes are summed before anything is inflated. The zip crate refuses to
//!   inflate an entry past its declared size, so the sum bounds what
//!   calamine can inflate.
//! - **ods**: a few hundred bytes of `content.xml` can repeat a cell 16,384
//!   times and a row a million times, and calamine expands the repeats into
//!   a grid. `content.xml` is scanned (streaming, nothing kept) and the
//!   memory of calamine's raw cells and grids estimated, conservatively.
//! - **xls**: calamine builds a dense grid from the highest row and column
//!   any cell names and reserves what a `DIMENSIONS` record declares, and
//!   a loop in the compound file's sector chains would make it read forever.
//!   The compound file is walked as calamine walks it (chains checked for
//!   loops and bounds), the workbook stream's records are read the same way,
//!   and the grid memory estimated.
//!
//! Each estimate is compared with [`super::Limits::max_uncompressed_bytes`]:
//! for ods and xls "uncompressed size" includes the expanded grid.

use std::io::Cursor;
use std::mem::size_of;

use calamine::{Cell, Data};
use quick_xml::events::Event;

/// Bytes per cell in calamine's grids: the value and the formula text.
const GRID_CELL: u64 = (size_of::<Data>() + size_of::<String>()) as u64;
/// Bytes per cell calamine collects before it builds a grid.
const LIST_CELL: u64 = (size_of::<Cell<Data>>() + size_of::<Cell<String>>()) as u64;

/// calamine's ods row and column caps.
const ODS_MAX_ROWS: u64 = 1_048_576;
const ODS_MAX_COLUMNS: u64 = 16_384;

/// The sum of the uncompressed sizes a zip file's central directory
/// declares, counted before anything is inflated.
///
/// # Errors
/// The text of the zip reader's error when there is no readable central
/// directory.
pub fn zip_uncompressed(bytes: &[u8]) -> Result<u64, String> {
    let archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| format!("not a zip file: {e}"))?;
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive
            .by_index_data(i)
            .map_err(|e| format!("zip entry {i}: {e}"))?;
        total = total.saturating_add(entry.size());
    }
    Ok(total)
}

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

// ---------------------------------------------------------------------------
// xls: the compound file and the workbook stream, walked as calamine walks
// them.

const CFB_SIGNATURE: &[u8; 8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";
const RESERVED_SECTORS: u32 = 0xFFFF_FFFA;
const DIFSECT: u32 = 0xFFFF_FFFC;
const ENDOFCHAIN: u32 = 0xFFFF_FFFE;
/// At most this many sheets are walked; a real workbook has a handful.
const MAX_XLS_SHEETS: usize = 256;

/// The memory calamine would need for an xls's cells, estimated after
/// checking the compound file's chains for loops and bounds.
///
/// # Errors
/// When the compound file is malformed in a way calamine might loop on,
/// read past, or panic on: then calamine is not asked at all.
pub fn xls_estimate(bytes: &[u8]) -> Result<u64, String> {
    let stream = Cfb::open(bytes)?.workbook()?;
    biff_estimate(&stream)
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// A compound file as calamine's `Cfb` reads it.
struct Cfb<'a> {
    bytes: &'a [u8],
    /// Where sector 0 starts (the header is one sector long).
    base: usize,
    sector: usize,
    maxid: u32,
    fats: Vec<u32>,
    dirs: Vec<(String, u32, u64)>,
    mini_stream: Vec<u8>,
    mini_fats: Vec<u32>,
}

impl<'a> Cfb<'a> {
    fn open(bytes: &'a [u8]) -> Result<Cfb<'a>, String> {
        let bad = |what: &str| format!("not an xls file: {what}");
        if bytes.len() < 512 || &bytes[..8] != CFB_SIGNATURE {
            return Err(bad("no compound file signature"));
        }
        let version = u16_at(bytes, 26).unwrap_or(0);
        let sector = match u16_at(bytes, 30) {
            Some(9) => 512,
            Some(12) if bytes.len() >= 4096 => 4096,
            _ => return Err(bad("sector size")),
        };
        if u16_at(bytes, 32) != Some(6) {
            return Err(bad("mini sector size"));
        }
        let maxid = u32::try_from(bytes.len() / sector).map_err(|_| bad("too long"))?;
        let mut cfb = Cfb {
            bytes,
            base: sector,
            sector,
            maxid,
            fats: Vec::new(),
            dirs: Vec::new(),
            mini_stream: Vec::new(),
            mini_fats: Vec::new(),
        };
        let header = &bytes[..512];
        let u32_list = |b: &[u8]| -> Result<Vec<u32>, String> {
            if !b.len().is_multiple_of(4) {
                return Err(bad("a sector cut short"));
            }
            Ok(b.chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect())
        };
        let mut difat = u32_list(&header[76..512])?;
        let mut id = u32_at(header, 68).unwrap_or(ENDOFCHAIN);
        let mut difat_sectors = 0usize;
        while id < RESERVED_SECTORS {
            difat_sectors += 1;
            if difat_sectors > maxid as usize + 1 {
                return Err(bad("DIFAT chain too long"));
            }
            difat.extend(u32_list(cfb.sector(id)?)?);
            id = difat.pop().ok_or_else(|| bad("empty DIFAT sector"))?;
        }
        let fat_ids: Vec<u32> = difat.into_iter().filter(|id| *id < DIFSECT).collect();
        if fat_ids.len() > maxid as usize + 1 {
            return Err(bad("more FAT sectors than sectors"));
        }
        let mut fats = Vec::new();
        for id in fat_ids {
            fats.extend(u32_list(cfb.sector(id)?)?);
        }
        cfb.fats = fats;

        let dir_start = u32_at(header, 48).unwrap_or(ENDOFCHAIN);
        let dirs = cfb.chain(dir_start, u64::MAX, false)?;
        cfb.dirs = dirs
            .chunks_exact(128)
            .map(|c| {
                let mut name = encoding_rs::UTF_16LE.decode(&c[..64]).0.into_owned();
                if let Some(l) = name.find('\0') {
                    name.truncate(l);
                }
                let start = u32_at(c, 116).unwrap_or(ENDOFCHAIN);
                let len = if sector == 512 {
                    u64::from(u32_at(c, 120).unwrap_or(0))
                } else {
                    u64_at(c, 120).unwrap_or(0)
                };
                (name, start, len)
            })
            .collect();
        let Some(&(_, root_start, root_len)) = cfb.dirs.first() else {
            return Err(bad("no root directory"));
        };
        if version != 3 && root_start == ENDOFCHAIN {
            return Err(bad("empty root directory"));
        }
        let mini_fat_len = u64::from(u32_at(header, 64).unwrap_or(0));
        if mini_fat_len > 0 {
            cfb.mini_stream = cfb.chain(root_start, root_len, false)?;
            let mini_fat_start = u32_at(header, 60).unwrap_or(ENDOFCHAIN);
            let minifat = cfb.chain(
                mini_fat_start,
                mini_fat_len.saturating_mul(sector as u64),
                false,
            )?;
            cfb.mini_fats = u32_list(&minifat)?;
        }
        Ok(cfb)
    }

    /// A sector as calamine's `Sectors::get` returns it (short at the end
    /// of the file); a sector starting past the end is refused (calamine
    /// would panic).
    fn sector(&self, id: u32) -> Result<&'a [u8], String> {
        if id > self.maxid {
            return Err(format!("not an xls file: sector {id} past the end"));
        }
        let start = self.base + id as usize * self.sector;
        if start > self.bytes.len() {
            return Err(format!("not an xls file: sector {id} past the end"));
        }
        Ok(&self.bytes[start..(start + self.sector).min(self.bytes.len())])
    }

    /// A chain of sectors (or mini sectors) as calamine's `get_chain`
    /// reads it, up to `len` bytes; a loop or a link out of the table is
    /// refused.
    fn chain(&self, start: u32, len: u64, mini: bool) -> Result<Vec<u8>, String> {
        let bad = |what: &str| format!("not an xls file: {what}");
        let (table, count) = if mini {
            (&self.mini_fats, (self.maxid as usize).saturating_mul(8) + 1)
        } else {
            (&self.fats, self.maxid as usize + 1)
        };
        let mut seen = vec![false; count];
        let mut out = Vec::new();
        let mut id = start;
        while id != ENDOFCHAIN {
            let slot = seen
                .get_mut(id as usize)
                .ok_or_else(|| bad("a chain leaves the file"))?;
            if *slot {
                return Err(bad("a sector chain loops"));
            }
            *slot = true;
            let data = if mini {
                let at = id as usize * 64;
                self.mini_stream
                    .get(at..at + 64)
                    .ok_or_else(|| bad("a mini sector past the mini stream"))?
            } else {
                self.sector(id)?
            };
            let want = usize::try_from(len.saturating_sub(out.len() as u64)).unwrap_or(usize::MAX);
            out.extend_from_slice(&data[..data.len().min(want)]);
            if out.len() as u64 >= len {
                break;
            }
            id = *table
                .get(id as usize)
                .ok_or_else(|| bad("a chain link outside the FAT"))?;
        }
        Ok(out)
    }

    /// The stream calamine parses: `Workbook`, else `Book`.
    fn workbook(&self) -> Result<Vec<u8>, String> {
        for name in ["Workbook", "Book"] {
            if let Some((_, start, len)) = self
                .dirs
                .iter()
                .find(|(n, _, _)| n.eq_ignore_ascii_case(name))
            {
                return self.chain(*start, *len, *len < 4096);
            }
        }
        Err("not an xls file: no workbook stream".into())
    }
}

/// BIFF records as calamine's `RecordIter` reads them: type, data, and
/// the `CONTINUE` records after it. `None` at the end or where calamine
/// would stop with an error (or where a record has more than
/// [`MAX_CONTINUES`] continuations: calamine takes them one by one from the
/// front of a vector, which would take quadratic time).
struct Records<'a> {
    stream: &'a [u8],
    /// Bytes walked, for the work bound.
    walked: usize,
    /// Set when a record had too many continuations.
    too_many_continues: bool,
}

/// The most `CONTINUE` records after one record (a 25 MB string table
/// needs about 3,000).
const MAX_CONTINUES: usize = 8192;

impl<'a> Records<'a> {
    fn new(stream: &'a [u8]) -> Records<'a> {
        Records {
            stream,
            walked: 0,
            too_many_continues: false,
        }
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = (u16, &'a [u8], Vec<&'a [u8]>);

    fn next(&mut self) -> Option<Self::Item> {
        let typ = u16_at(self.stream, 0)?;
        let len = usize::from(u16_at(self.stream, 2)?);
        let data = self.stream.get(4..4 + len)?;
        self.stream = &self.stream[4 + len..];
        self.walked += 4 + len;
        let mut continues = Vec::new();
        while self.stream.len() > 4 && u16_at(self.stream, 0) == Some(0x003C) {
            let len = usize::from(u16_at(self.stream, 2)?);
            continues.push(self.stream.get(4..4 + len)?);
            self.stream = &self.stream[4 + len..];
            self.walked += 4 + len;
            if continues.len() > MAX_CONTINUES {
                self.too_many_continues = true;
                return None;
            }
        }
        Some((typ, data, continues))
    }
}

/// The length in characters of each string of a shared string table
/// (`SST`), read as calamine's `parse_sst` reads them; a string of `n`
/// characters becomes at most `3 n` bytes of UTF-8. Where calamine would
/// fail the list read so far is returned (calamine then reads nothing).
fn sst_lengths<'a>(data: &'a [u8], continues: &[&'a [u8]]) -> Vec<u64> {
    let mut out = Vec::new();
    let Some(mut data) = data.get(8..) else {
        return out;
    };
    let mut rest = continues.iter();
    // calamine's `continue_record`: the next continuation replaces the data.
    let mut next = |data: &mut &'a [u8]| match rest.next() {
        Some(c) => {
            *data = c;
            true
        }
        None => false,
    };
    while !data.is_empty() || next(&mut data) {
        if data.is_empty() {
            out.push(0);
            continue;
        }
        let (Some(cch), Some(&flags)) = (u16_at(data, 0), data.get(2)) else {
            return out;
        };
        data = &data[3..];
        let mut skip: u64 = 0;
        if flags & 0x8 != 0 {
            let Some(runs) = u16_at(data, 0) else {
                return out;
            };
            skip += u64::from(runs) * 4;
            data = &data[2..];
        }
        if flags & 0x4 != 0 {
            let Some(ext) = u32_at(data, 0) else {
                return out;
            };
            // calamine reads an i32 and casts it to usize.
            skip =
                skip.saturating_add(i32::from_le_bytes(ext.to_le_bytes()) as isize as usize as u64);
            data = &data[4..];
        }
        let mut len = usize::from(cch);
        let mut high = flags & 0x1 != 0;
        while len > 0 {
            let n = if high {
                (data.len() / 2).min(len)
            } else {
                data.len().min(len)
            };
            data = &data[if high { 2 * n } else { n }..];
            len -= n;
            if len > 0 {
                if !next(&mut data) {
                    return out;
                }
                let Some(&first) = data.first() else {
                    return out;
                };
                high = first & 0x1 != 0;
                data = &data[1..];
            }
        }
        out.push(u64::from(cch));
        while skip > 0 {
            if data.is_empty() && !next(&mut data) {
                return out;
            }
            let n = (data.len() as u64).min(skip);
            data = &data[n as usize..];
            skip -= n;
        }
    }
    out
}

/// The highest and lowest row and column named, and how many cells.
#[derive(Default)]
struct Extent {
    min: Option<(u64, u64)>,
    max: (u64, u64),
}

impl Extent {
    fn add(&mut self, row: u64, col: u64) {
        let min = self.min.get_or_insert((row, col));
        min.0 = min.0.min(row);
        min.1 = min.1.min(col);
        self.max.0 = self.max.0.max(row);
        self.max.1 = self.max.1.max(col);
    }

    fn area(&self) -> u64 {
        match self.min {
            Some((r, c)) => (self.max.0 - r + 1).saturating_mul(self.max.1 - c + 1),
            None => 0,
        }
    }
}

/// The memory calamine needs for the cells of a workbook stream: per sheet
/// the cells collected, what `DIMENSIONS` reserves, and the dense grids
/// (values, formulas, and the copy `worksheet_range` returns).
fn biff_estimate(stream: &[u8]) -> Result<u64, String> {
    let mut positions = Vec::new();
    let mut strings: Vec<u64> = Vec::new();
    let mut globals = Records::new(stream);
    for (typ, data, continues) in &mut globals {
        match typ {
            0x0085 => {
                if data.len() < 6 {
                    break;
                }
                positions.push(u32_at(data, 0).unwrap_or(0) as usize);
            }
            0x00FC => strings = sst_lengths(data, &continues),
            0x000A => break,
            _ => {}
        }
    }
    if globals.too_many_continues {
        return Err("a record with too many continuations".into());
    }
    if positions.len() > MAX_XLS_SHEETS {
        return Err(format!("too many sheets ({})", positions.len()));
    }
    // The strings of the table, as calamine keeps them.
    let mut total: u64 = strings.iter().fold(0u64, |t, n| {
        t.saturating_add(3 * n + size_of::<String>() as u64)
    });
    // Each sheet's records are walked once; sheets sharing records (only a
    // crafted file does that) may not make the walk longer than twice the
    // stream.
    let mut walked = globals.walked;
    let budget = stream.len().saturating_mul(2).saturating_add(1 << 16);
    for pos in positions {
        let sheet = stream
            .get(pos..)
            .ok_or("a sheet starts past the workbook stream")?;
        let mut records = Records::new(sheet);
        let mut extent = Extent::default();
        let mut reserved: u64 = 0;
        let mut cells: u64 = 0;
        // Bytes of text in the cells (each string is a copy of its own).
        let mut text: u64 = 0;
        let mut formula_text: u64 = 0;
        let mut formula_at = (0u64, 0u64);
        let mut seen_bof = false;
        let mut depth = 0usize;
        for (typ, data, _) in &mut records {
            if depth > 0 {
                match typ {
                    0x0809 => depth += 1,
                    0x000A => depth -= 1,
                    _ => {}
                }
                continue;
            }
            let row = u64::from(u16_at(data, 0).unwrap_or(0));
            let col = u64::from(u16_at(data, 2).unwrap_or(0));
            match typ {
                0x0809 if seen_bof => depth += 1,
                0x0809 => seen_bof = true,
                0x0200 => reserved = reserved.saturating_add(dimensions(data)?),
                0x00FD if data.len() >= 4 => {
                    extent.add(row, col);
                    cells += 1;
                    let index = u32_at(data, 6).unwrap_or(u32::MAX) as usize;
                    text = text.saturating_add(strings.get(index).map_or(0, |n| 3 * n));
                }
                0x0204 | 0x00D6 | 0x0207 if data.len() >= 4 || typ == 0x0207 => {
                    if typ == 0x0207 {
                        extent.add(formula_at.0, formula_at.1);
                    } else {
                        extent.add(row, col);
                    }
                    cells += 1;
                    text = text.saturating_add(3 * data.len() as u64);
                }
                0x0203 | 0x0205 | 0x027E if data.len() >= 4 => {
                    extent.add(row, col);
                    cells += 1;
                }
                0x00BD if data.len() >= 6 => {
                    let n = ((data.len() - 6) / 6).max(1) as u64;
                    extent.add(row, col);
                    extent.add(row, col + n - 1);
                    cells += n;
                }
                0x0006 if data.len() >= 20 => {
                    formula_at = (row, col);
                    extent.add(row, col);
                    cells += 1;
                    // The formula's text as calamine writes it out: a token
                    // of a few bytes may name a sheet or a defined name of
                    // up to 255 characters.
                    formula_text = formula_text.saturating_add(256 * data.len() as u64);
                }
                0x000A => break,
                _ => {}
            }
        }
        if records.too_many_continues {
            return Err("a record with too many continuations".into());
        }
        walked += records.walked;
        if walked > budget {
            return Err("sheets overlap in the workbook stream".into());
        }
        // The cells as collected, what DIMENSIONS reserves, the grids of
        // values and formulas, the copy `worksheet_range` returns, and the
        // text twice (the grid and the copy), formulas once.
        total = total
            .saturating_add(formula_text)
            .saturating_add(reserved.saturating_mul(size_of::<Cell<Data>>() as u64))
            .saturating_add(cells.saturating_mul(LIST_CELL))
            .saturating_add(
                extent
                    .area()
                    .saturating_mul(GRID_CELL + size_of::<Data>() as u64),
            )
            .saturating_add(text.saturating_mul(2));
    }
    Ok(total)
}

/// The cells a `DIMENSIONS` record makes calamine reserve; a record its
/// arithmetic would overflow on is refused.
fn dimensions(data: &[u8]) -> Result<u64, String> {
    let (rf, rl, mut cf, cl) = match data.len() {
        10 => (
            u32::from(u16_at(data, 0).unwrap_or(0)),
            u32::from(u16_at(data, 2).unwrap_or(0)),
            u32::from(u16_at(data, 4).unwrap_or(0)),
            u32::from(u16_at(data, 6).unwrap_or(0)),
        ),
        14 | 16 => (
            u32_at(data, 0).unwrap_or(0),
            u32_at(data, 4).unwrap_or(0),
            u32::from(u16_at(data, 8).unwrap_or(0)),
            u32::from(u16_at(data, 10).unwrap_or(0)),
        ),
        // calamine stops with an error here: nothing reserved.
        _ => return Ok(0),
    };
    if 0xFF < cf || cl < cf {
        cf = 0;
    }
    let (end_row, end_col) = if rl >= 1 && cl >= 1 {
        (rl - 1, cl - 1)
    } else {
        (rf, cf)
    };
    if end_row < rf || end_col < cf {
        return Err("a DIMENSIONS record ends before it starts".into());
    }
    let rows = u64::from(end_row - rf) + 1;
    let cols = u64::from(end_col - cf) + 1;
    Ok(rows.saturating_mul(cols))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dimension_records() {
        let rec = |rf: u32, rl: u32, cf: u16, cl: u16| {
            let mut d = Vec::new();
            d.extend(rf.to_le_bytes());
            d.extend(rl.to_le_bytes());
            d.extend(cf.to_le_bytes());
            d.extend(cl.to_le_bytes());
            d.extend([0, 0]);
            d
        };
        assert_eq!(dimensions(&rec(0, 43, 0, 4)), Ok(43 * 4));
        assert!(dimensions(&rec(10, 5, 0, 4)).is_err());
        assert!(dimensions(&rec(0, 0, 5, 5)).is_ok());
        assert_eq!(
            dimensions(&rec(0, u32::MAX, 0, 255)),
            Ok(u64::from(u32::MAX) * 255)
        );
    }

    #[test]
    fn records_stop_where_calamine_stops() {
        let mut s = Vec::new();
        s.extend([0x09, 0x08, 2, 0, 1, 2]);
        s.extend([0x3C, 0x00, 1, 0, 9]);
        s.extend([0x0A, 0x00, 0, 0]);
        s.extend([0x03, 0x02, 200, 0]);
        let recs: Vec<_> = Records::new(&s).collect();
        assert_eq!(
            recs,
            vec![
                (0x0809, &[1u8, 2][..], vec![&[9u8][..]]),
                (0x000A, &[][..], vec![])
            ]
        );
    }

    #[test]
    fn junk_is_refused() {
        assert!(xls_estimate(b"").is_err());
        assert!(xls_estimate(&[0u8; 600]).is_err());
        let mut b = CFB_SIGNATURE.to_vec();
        b.resize(1024, 0xFF);
        assert!(xls_estimate(&b).is_err());
        assert!(zip_uncompressed(b"PK\x03\x04").is_err());
        assert!(ods_estimate(b"PK\x03\x04", 1000).is_err());
    }
}
