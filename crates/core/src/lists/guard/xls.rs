//! The xls guard: the compound file and the BIFF workbook stream walked as
//! calamine walks them, sector chains checked, the grid memory estimated.
//!
//! calamine builds a dense grid from the highest row and column any cell
//! names and reserves what a `DIMENSIONS` record declares, and a loop in
//! the compound file's sector chains would make it read forever. The
//! compound file is walked as calamine walks it (chains checked for loops
//! and bounds), the workbook stream's records are read the same way, and
//! the grid memory estimated.

use std::mem::size_of;

use calamine::{Cell, Data};

use super::cells::{GRID_CELL, LIST_CELL};

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
    }
}
