//! The kinds of file a deduction list comes in ([`FileKind`]), and telling
//! an attachment's kind from its name and first bytes ([`kind_of`]).

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
