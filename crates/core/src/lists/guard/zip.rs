//! The zip guard (xlsx, xlsm, ods): the uncompressed sizes a zip's central
//! directory declares, summed before anything is inflated. The zip crate
//! refuses to inflate an entry past its declared size, so the sum bounds
//! what calamine can inflate.

use std::io::Cursor;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junk_is_refused() {
        assert!(zip_uncompressed(b"PK\x03\x04").is_err());
    }
}
