//! Deduction lists read from real files: the fixture list as LibreOffice
//! wrote it (xlsx, xls, ods, and the CSV it came from as .txt), the same
//! list in other text encodings and delimiters, small spreadsheets built
//! here, and files built to be too large to read.
//!
//! Line numbers: the spreadsheets have two title rows and a blank row above
//! the header (row 4), so their lines are rows 5-42 and the sum row 43 is
//! skipped; the .txt has the header on line 1 and its lines are 2-39. The
//! same person is on row n of a spreadsheet and line n - 3 of the .txt.

use std::io::{Cursor, Write};

use chrono::NaiveDate;
use postbud_core::lists::ids::{WHY_MOD11, WHY_SYNTHETIC};
use postbud_core::lists::{
    Column, FileKind, Limits, Line, Period, Problem, ReadError, Sheet, read,
};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/");

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

fn synthetic_ok() -> Limits {
    Limits {
        allow_synthetic_ids: true,
        ..Limits::default()
    }
}

fn fixture(ext: &str) -> (String, Vec<u8>) {
    let name = format!("trekkliste-2026-10.{ext}");
    let bytes = std::fs::read(format!("{DIR}lists/{name}")).unwrap();
    (name, bytes)
}

fn read_fixture(ext: &str, limits: &Limits) -> Result<Sheet, ReadError> {
    let (name, bytes) = fixture(ext);
    read(&name, &bytes, limits, today())
}

/// The employer's members from the fixture register: (national id, birth
/// date, "Last, First"), in file order.
fn members() -> Vec<(String, NaiveDate, String)> {
    let text = std::fs::read_to_string(format!("{DIR}register/members.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (id, born, name) = (col("fodselsnummer"), col("fodselsdato"), col("navn"));
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let (first, last) = f[name].rsplit_once(' ').unwrap();
            (
                f[id].to_string(),
                f[born].parse().unwrap(),
                format!("{last}, {first}"),
            )
        })
        .collect()
}

/// A line with its number moved, to compare the .txt with a spreadsheet.
fn shifted(line: &Line, by: usize) -> Line {
    Line {
        line: line.line + by,
        ..line.clone()
    }
}

#[test]
fn the_four_fixture_formats_read_to_the_same_lines() {
    let xlsx = read_fixture("xlsx", &synthetic_ok()).unwrap();
    let xls = read_fixture("xls", &synthetic_ok()).unwrap();
    let ods = read_fixture("ods", &synthetic_ok()).unwrap();
    let txt = read_fixture("txt", &synthetic_ok()).unwrap();

    assert_eq!(
        (xlsx.kind, xls.kind, ods.kind, txt.kind),
        (FileKind::Xlsx, FileKind::Xls, FileKind::Ods, FileKind::Txt)
    );
    let columns = vec![
        (Column::NationalId, "Fødselsnummer".to_string()),
        (Column::Name, "Navn".to_string()),
        (Column::EmployeeNo, "Ansattnr".to_string()),
        (Column::Amount, "Trekk".to_string()),
    ];
    for sheet in [&xlsx, &xls, &ods] {
        assert_eq!(sheet.header_line, 4, "{}", sheet.file);
        assert_eq!(sheet.columns, columns, "{}", sheet.file);
        assert_eq!(sheet.sheet.as_deref(), Some("trekkliste"), "{}", sheet.file);
        // The sum row.
        assert_eq!(sheet.skipped, 1, "{}", sheet.file);
        assert_eq!(sheet.lines.first().unwrap().line, 5);
        assert_eq!(sheet.lines.last().unwrap().line, 42);
    }
    assert_eq!(txt.header_line, 1);
    assert_eq!(txt.columns, columns);
    assert_eq!(txt.skipped, 0);

    assert_eq!(xlsx.lines.len(), 38);
    assert_eq!(xls.lines, xlsx.lines);
    assert_eq!(ods.lines, xlsx.lines);
    let txt_moved: Vec<Line> = txt.lines.iter().map(|l| shifted(l, 3)).collect();
    assert_eq!(txt_moved, xlsx.lines);

    // The amounts add up to the sum row's 25139,5.
    let total: i64 = xlsx.lines.iter().filter_map(|l| l.amount).sum();
    assert_eq!(total, 2_513_950);
}

#[test]
fn the_lines_are_the_registers_members_but_the_last_three_and_one_bad_id() {
    let sheet = read_fixture("xlsx", &synthetic_ok()).unwrap();
    let members = members();
    let listed = &members[..members.len() - 3];
    let good: Vec<&Line> = sheet
        .lines
        .iter()
        .filter(|l| l.problems.is_empty())
        .collect();
    assert_eq!(good.len(), listed.len());
    for (line, (id, born, name)) in good.iter().zip(listed) {
        assert_eq!(line.national_id.as_ref(), Some(id), "line {}", line.line);
        assert_eq!(line.birth_date, Some(*born), "line {}", line.line);
        assert_eq!(line.name.as_ref(), Some(name), "line {}", line.line);
        assert!(line.amount.is_some_and(|a| a > 0));
    }

    let bad: Vec<&Line> = sheet
        .lines
        .iter()
        .filter(|l| !l.problems.is_empty())
        .collect();
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].line, 42);
    assert_eq!(bad[0].national_id, None);
    assert_eq!(bad[0].name.as_deref(), Some("Feil, Id"));
    assert_eq!(
        bad[0].problems,
        [Problem::InvalidId {
            given: "12345678901".into(),
            why: WHY_MOD11
        }]
    );
    assert_eq!(bad[0].problems[0].code(), "invalid-id");
}

#[test]
fn ids_that_lost_their_leading_zero_are_repaired() {
    // The xlsx, xls and ods store the ids as numbers: 6928401578 for
    // 06928401578 (born on the 6th).
    let zeros = members()
        .iter()
        .take(37)
        .filter(|(id, ..)| id.starts_with('0'))
        .count();
    assert!(
        zeros >= 5,
        "the fixture should have people born on days 01-09"
    );
    for ext in ["xlsx", "xls", "ods"] {
        let sheet = read_fixture(ext, &synthetic_ok()).unwrap();
        let repaired: Vec<&String> = sheet
            .lines
            .iter()
            .filter_map(|l| l.national_id.as_ref())
            .filter(|id| id.starts_with('0'))
            .collect();
        assert_eq!(repaired.len(), zeros, "{ext}");
        assert!(repaired.iter().all(|id| id.len() == 11), "{ext}");
        let kari = sheet.lines.iter().find(|l| l.line == 6).unwrap();
        assert_eq!(kari.national_id.as_deref(), Some("06928401578"), "{ext}");
        assert_eq!(
            kari.birth_date,
            NaiveDate::from_ymd_opt(1984, 12, 6),
            "{ext}"
        );
    }
}

#[test]
fn synthetic_ids_are_refused_unless_allowed() {
    for ext in ["xlsx", "xls", "ods", "txt"] {
        let sheet = read_fixture(ext, &Limits::default()).unwrap();
        assert_eq!(sheet.lines.len(), 38);
        let mut synthetic = 0;
        let mut mod11 = 0;
        for line in &sheet.lines {
            assert_eq!(line.national_id, None, "{ext} line {}", line.line);
            assert_eq!(line.birth_date, None, "{ext} line {}", line.line);
            match &line.problems[..] {
                [Problem::InvalidId { why, .. }] if *why == WHY_SYNTHETIC => synthetic += 1,
                [Problem::InvalidId { why, .. }] if *why == WHY_MOD11 => mod11 += 1,
                other => panic!("{ext} line {}: {other:?}", line.line),
            }
        }
        assert_eq!((synthetic, mod11), (37, 1), "{ext}");
    }
}

#[test]
fn a_pdf_is_for_manual_handling_and_other_files_are_no_lists() {
    assert_eq!(read_fixture("pdf", &Limits::default()), Err(ReadError::Pdf));
    assert_eq!(
        read("logo.png", b"\x89PNG\r\n", &Limits::default(), today()),
        Err(ReadError::Unsupported)
    );
    let (_, pdf) = fixture("pdf");
    assert_eq!(
        read("liste.xlsx", &pdf, &Limits::default(), today()),
        Err(ReadError::Pdf)
    );
}

/// The .txt fixture (Windows-1252, `;`) as other encodings and delimiters.
#[test]
fn text_encodings_and_delimiters() {
    let (_, bytes) = fixture("txt");
    let want = read("liste.txt", &bytes, &synthetic_ok(), today())
        .unwrap()
        .lines;
    let text: String = bytes.iter().map(|b| char::from(*b)).collect(); // Latin-1 = 1252 here
    assert!(text.contains("Ødegård"));

    let utf8 = text.as_bytes().to_vec();
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend(&utf8);
    let utf16 = |big: bool| {
        let mut out = if big {
            vec![0xFE, 0xFF]
        } else {
            vec![0xFF, 0xFE]
        };
        for u in text.encode_utf16() {
            out.extend(if big {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            });
        }
        out
    };
    let delimited = |d: &str, quote: bool| -> Vec<u8> {
        let mut out = String::new();
        for line in text.lines() {
            let fields: Vec<String> = line
                .split(';')
                .map(|f| {
                    if quote && f.contains([',', ' ']) {
                        format!("\"{f}\"")
                    } else {
                        f.to_string()
                    }
                })
                .map(|f| {
                    if d == "," {
                        f.replace("4,5", "4.5")
                            .replace(",0", ".0")
                            .replace("2,5", "2.5")
                    } else {
                        f
                    }
                })
                .collect();
            out.push_str(&fields.join(d));
            out.push_str("\r\n");
        }
        out.into_bytes()
    };
    for (name, bytes) in [
        ("utf8.csv", utf8.clone()),
        ("bom.csv", bom),
        ("le.txt", utf16(false)),
        ("be.txt", utf16(true)),
        ("tab.txt", delimited("\t", false)),
        ("comma.csv", delimited(",", true)),
        ("pipe.txt", delimited("|", false)),
        ("quoted.csv", delimited(";", true)),
    ] {
        let sheet =
            read(name, &bytes, &synthetic_ok(), today()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(sheet.lines, want, "{name}");
    }

    // Title rows above the header, a blank line and a sum line below.
    let mut titled = b"Trekkliste Bedrift AS\r\nPeriode: oktober 2026\r\n\r\n".to_vec();
    titled.extend(&utf8);
    titled.extend(b"\r\n;Sum;;25139,5\r\n");
    let sheet = read("titled.csv", &titled, &synthetic_ok(), today()).unwrap();
    assert_eq!(sheet.header_line, 4);
    assert_eq!(sheet.skipped, 2);
    assert_eq!(
        sheet
            .lines
            .iter()
            .map(|l| shifted(l, 0))
            .collect::<Vec<_>>(),
        want.iter().map(|l| shifted(l, 3)).collect::<Vec<_>>()
    );
}

#[test]
fn rows_past_the_limit_stop_the_reading() {
    let limits = Limits {
        max_rows: 10,
        ..synthetic_ok()
    };
    for ext in ["xlsx", "xls", "ods", "txt"] {
        assert_eq!(
            read_fixture(ext, &limits),
            Err(ReadError::TooManyRows { limit: 10 }),
            "{ext}"
        );
    }
    // 38 lines, a header, two title rows and a sum row hold something.
    let limits = Limits {
        max_rows: 42,
        ..synthetic_ok()
    };
    assert!(read_fixture("xlsx", &limits).is_ok());
    let limits = Limits {
        max_rows: 41,
        ..synthetic_ok()
    };
    assert!(read_fixture("xlsx", &limits).is_err());
}

#[test]
fn a_list_without_a_header_row() {
    let csv = "Navn;Beløp\nKari;100\n";
    assert_eq!(
        read("a.csv", csv.as_bytes(), &Limits::default(), today()),
        Err(ReadError::NoHeader)
    );
    assert_eq!(
        read("a.csv", b"", &Limits::default(), today()),
        Err(ReadError::NoHeader)
    );
    let junk: String = (0..200).map(|i| format!("rad {i};{i}\n")).collect();
    let late = format!("{junk}Fnr;Beløp\n15057712357;100\n");
    assert_eq!(
        read("a.csv", late.as_bytes(), &Limits::default(), today()),
        Err(ReadError::NoHeader)
    );
}

#[test]
fn birth_dates_periods_and_orgnr_in_text() {
    let csv = "Navn;Født;Periode;Orgnr;Beløp\n\
               Kari Nordmann;06.12.1984;10/2026;923 609 016;kr 1 234,50\n\
               Ola Nordmann;061284;oktober 2026;NO923609016MVA;1.234,50\n\
               Per Nordmann;1984-12-06;2026-10;923609016;1234.50\n\
               Åse Nordmann;6/12/84;1026;923609016;\"1,234.50\"\n\
               Feil Dato;31.02.1984;13/2026;923609017;tolv\n\
               Totalt;;;;4938,00\n";
    let sheet = read("a.csv", csv.as_bytes(), &Limits::default(), today()).unwrap();
    assert_eq!(sheet.lines.len(), 5);
    assert_eq!(sheet.skipped, 1);
    let date = NaiveDate::from_ymd_opt(1984, 12, 6);
    for line in &sheet.lines[..4] {
        assert_eq!(line.birth_date, date, "line {}", line.line);
        assert_eq!(
            line.period,
            Some(Period {
                year: 2026,
                month: 10
            }),
            "line {}",
            line.line
        );
        assert_eq!(
            line.orgnr.as_deref(),
            Some("923609016"),
            "line {}",
            line.line
        );
        assert_eq!(line.amount, Some(123_450), "line {}", line.line);
        assert!(
            line.problems.is_empty(),
            "line {}: {:?}",
            line.line,
            line.problems
        );
    }
    let codes: Vec<&str> = sheet.lines[4].problems.iter().map(Problem::code).collect();
    assert_eq!(codes, ["bad-date", "bad-amount", "bad-period", "bad-orgnr"]);
}

// ---------------------------------------------------------------------------
// Spreadsheets built here.

/// A zip of the given files, deflated.
fn zip_of(files: &[(&str, &str)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, content) in files {
        let options =
            zip::write::SimpleFileOptions::default().compression_method(if *name == "mimetype" {
                zip::CompressionMethod::Stored
            } else {
                zip::CompressionMethod::Deflated
            });
        w.start_file(*name, options).unwrap();
        w.write_all(content.as_bytes()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// A one-sheet xlsx; style 1 is a date format.
fn xlsx_of(sheet_data: &str) -> Vec<u8> {
    let sheet = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{sheet_data}</sheetData></worksheet>"#
    );
    zip_of(&[
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>"#,
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Ark1" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#,
        ),
        (
            "xl/styles.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/></cellXfs></styleSheet>"#,
        ),
        ("xl/worksheets/sheet1.xml", &sheet),
    ])
}

/// An inline-string cell.
fn s(r: &str, text: &str) -> String {
    format!(r#"<c r="{r}" t="inlineStr"><is><t>{text}</t></is></c>"#)
}

/// A number cell, with style 1 (a date) when `date`.
fn n(r: &str, value: &str, date: bool) -> String {
    if date {
        format!(r#"<c r="{r}" s="1"><v>{value}</v></c>"#)
    } else {
        format!(r#"<c r="{r}"><v>{value}</v></c>"#)
    }
}

#[test]
fn an_xlsx_with_dates_numbers_and_gaps() {
    let rows = [
        format!(
            r#"<row r="2">{}</row>"#,
            s("B2", "Kontingenttrekk november")
        ),
        format!(
            r#"<row r="5">{}{}{}{}{}{}</row>"#,
            s("B5", "Etternavn"),
            s("C5", "Fornavn"),
            s("D5", "Fødselsdato"),
            s("E5", "Trekkperiode"),
            s("F5", "Org.nr."),
            s("G5", "Beløp (kr)")
        ),
        // 32874 is 1 January 1990; 46296 is 1 October 2026.
        format!(
            r#"<row r="6">{}{}{}{}{}{}</row>"#,
            s("B6", "Nordmann"),
            s("C6", "Kari"),
            n("D6", "32874", true),
            n("E6", "46296", true),
            n("F6", "923609016", false),
            n("G6", "455", false)
        ),
        // A birth date typed as ddmmyy, stored as a number without its zero.
        format!(
            r#"<row r="8">{}{}{}{}{}</row>"#,
            s("B8", "Nordmann"),
            s("C8", "Ola"),
            n("D8", "10190", false),
            n("E8", "102026", false),
            n("G8", "412.5", false)
        ),
        format!(
            r#"<row r="9">{}{}</row>"#,
            s("B9", "Totalt"),
            n("G9", "867.5", false)
        ),
    ];
    let bytes = xlsx_of(&rows.concat());
    let sheet = read("liste.xlsx", &bytes, &Limits::default(), today()).unwrap();
    assert_eq!(sheet.header_line, 5);
    assert_eq!(
        sheet.columns.iter().map(|(c, _)| *c).collect::<Vec<_>>(),
        [
            Column::LastName,
            Column::FirstName,
            Column::BirthDate,
            Column::Period,
            Column::OrgNr,
            Column::Amount
        ]
    );
    assert_eq!(sheet.lines.len(), 2);
    // Row 7 blank, row 9 the sum.
    assert_eq!(sheet.skipped, 2);
    let (kari, ola) = (&sheet.lines[0], &sheet.lines[1]);
    assert_eq!((kari.line, ola.line), (6, 8));
    assert_eq!(kari.name.as_deref(), Some("Nordmann, Kari"));
    assert_eq!(kari.birth_date, NaiveDate::from_ymd_opt(1990, 1, 1));
    assert_eq!(
        kari.period,
        Some(Period {
            year: 2026,
            month: 10
        })
    );
    assert_eq!(kari.orgnr.as_deref(), Some("923609016"));
    assert_eq!(kari.amount, Some(45_500));
    assert!(kari.problems.is_empty(), "{:?}", kari.problems);
    assert_eq!(ola.birth_date, NaiveDate::from_ymd_opt(1990, 1, 1));
    assert_eq!(
        ola.period,
        Some(Period {
            year: 2026,
            month: 10
        })
    );
    assert_eq!(ola.amount, Some(41_250));
    assert!(ola.problems.is_empty(), "{:?}", ola.problems);
}

/// A one-table ods with the given rows.
fn ods_of(rows: &str) -> Vec<u8> {
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3"><office:body><office:spreadsheet><table:table table:name="Ark1">{rows}</table:table></office:spreadsheet></office:body></office:document-content>"#
    );
    zip_of(&[
        ("mimetype", "application/vnd.oasis.opendocument.spreadsheet"),
        (
            "META-INF/manifest.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#,
        ),
        ("content.xml", &content),
    ])
}

const ODS_HEADER: &str = r#"<table:table-row><table:table-cell office:value-type="string"><text:p>Fnr</text:p></table:table-cell><table:table-cell office:value-type="string"><text:p>Trekk</text:p></table:table-cell></table:table-row>"#;

#[test]
fn an_ods_built_here_reads() {
    let rows = format!(
        r#"{ODS_HEADER}<table:table-row><table:table-cell office:value-type="float" office:value="15057712357"/><table:table-cell office:value-type="float" office:value="455"/></table:table-row><table:table-row table:number-rows-repeated="1048000"><table:table-cell table:number-columns-repeated="1024"/></table:table-row>"#
    );
    let sheet = read("liste.ods", &ods_of(&rows), &Limits::default(), today()).unwrap();
    assert_eq!(sheet.lines.len(), 1);
    assert_eq!(sheet.lines[0].national_id.as_deref(), Some("15057712357"));
    assert_eq!(sheet.lines[0].amount, Some(45_500));
}

// ---------------------------------------------------------------------------
// Too large: checked before anything is inflated or expanded.

#[test]
fn zip_sizes_are_checked_before_inflating() {
    let small = Limits {
        max_uncompressed_bytes: 4096,
        ..Limits::default()
    };
    for ext in ["xlsx", "ods"] {
        match read_fixture(ext, &small) {
            Err(ReadError::TooLarge {
                uncompressed,
                limit: 4096,
            }) => assert!(uncompressed > 4096, "{ext}"),
            other => panic!("{ext}: {other:?}"),
        }
    }
    // An xlsx-like zip whose central directory declares a 4 GB entry (the
    // local header too): refused from the directory, never inflated.
    let mut bytes = xlsx_of(&format!(
        r#"<row r="1">{}{}</row>"#,
        s("A1", "Fnr"),
        s("B1", "Trekk")
    ));
    let mut patched = 0;
    let mut i = 0;
    while i + 4 <= bytes.len() {
        if bytes[i..i + 4] == *b"PK\x01\x02"
            && bytes[i + 46..].starts_with(b"xl/worksheets/sheet1.xml")
        {
            bytes[i + 24..i + 28].copy_from_slice(&0xFFFF_FF00u32.to_le_bytes());
            patched += 1;
        }
        if bytes[i..i + 4] == *b"PK\x03\x04"
            && bytes[i + 30..].starts_with(b"xl/worksheets/sheet1.xml")
        {
            bytes[i + 22..i + 26].copy_from_slice(&0xFFFF_FF00u32.to_le_bytes());
            patched += 1;
        }
        i += 1;
    }
    assert_eq!(patched, 2);
    match read("bomb.xlsx", &bytes, &Limits::default(), today()) {
        Err(ReadError::TooLarge {
            uncompressed,
            limit,
        }) => {
            assert!(uncompressed >= 0xFFFF_FF00);
            assert_eq!(limit, 100 << 20);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn ods_repeats_are_measured_before_calamine_expands_them() {
    // A kilobyte of XML that calamine would expand to 16,384 cells a row
    // for a million rows.
    let rows = format!(
        r#"{ODS_HEADER}<table:table-row table:number-rows-repeated="1000000"><table:table-cell office:value-type="float" office:value="1" table:number-columns-repeated="16384"/></table:table-row><table:table-row><table:table-cell office:value-type="float" office:value="2"/></table:table-row>"#
    );
    let bytes = ods_of(&rows);
    assert!(bytes.len() < 4096);
    assert!(matches!(
        read("bomb.ods", &bytes, &Limits::default(), today()),
        Err(ReadError::TooLarge { .. })
    ));

    // One cell standing for a billion spaces.
    let rows = format!(
        r#"{ODS_HEADER}<table:table-row><table:table-cell office:value-type="string"><text:p>a<text:s text:c="1000000000"/>b</text:p></table:table-cell></table:table-row>"#
    );
    assert!(matches!(
        read("spaces.ods", &ods_of(&rows), &Limits::default(), today()),
        Err(ReadError::TooLarge { .. })
    ));

    // A long text repeated across a row.
    let long = "x".repeat(10_000);
    let rows = format!(
        r#"{ODS_HEADER}<table:table-row><table:table-cell office:value-type="string" table:number-columns-repeated="16384"><text:p>{long}</text:p></table:table-cell></table:table-row>"#
    );
    assert!(matches!(
        read("text.ods", &ods_of(&rows), &Limits::default(), today()),
        Err(ReadError::TooLarge { .. })
    ));
}

/// The fixture xls with bytes replaced at an offset.
fn xls_patched(at: usize, new: &[u8]) -> Vec<u8> {
    let (_, mut bytes) = fixture("xls");
    bytes[at..at + new.len()].copy_from_slice(new);
    bytes
}

/// Where a byte pattern occurs in the fixture xls.
fn xls_find(pattern: &[u8]) -> usize {
    let (_, bytes) = fixture("xls");
    bytes
        .windows(pattern.len())
        .position(|w| w == pattern)
        .unwrap()
}

#[test]
fn xls_grids_are_measured_and_loops_refused() {
    // DIMENSIONS (type 0x0200, 14 bytes): rows 0-43, columns 0-4. Declaring
    // four billion rows would make calamine reserve them.
    let dims = xls_find(b"\x00\x02\x0e\x00\x00\x00\x00\x00\x2b\x00\x00\x00");
    let bytes = xls_patched(dims + 8, &0xFFFF_FFF0u32.to_le_bytes());
    assert!(matches!(
        read("dims.xls", &bytes, &Limits::default(), today()),
        Err(ReadError::TooLarge { .. })
    ));

    // A NUMBER cell (type 0x0203) moved to row 65535, column 255: calamine
    // would build a 65536 x 256 grid.
    let number = xls_find(b"\x03\x02\x0e\x00\x04\x00\x00\x00");
    let bytes = xls_patched(number + 4, &[0xFF, 0xFF, 0xFF, 0x00]);
    assert!(matches!(
        read("far.xls", &bytes, &Limits::default(), today()),
        Err(ReadError::TooLarge { .. })
    ));

    // The directory's sector chain made to loop on itself: calamine would
    // read it forever.
    let (_, bytes) = fixture("xls");
    let dir_start = u32::from_le_bytes(bytes[48..52].try_into().unwrap()) as usize;
    let first_fat = u32::from_le_bytes(bytes[76..80].try_into().unwrap()) as usize;
    let entry = 512 + first_fat * 512 + dir_start * 4;
    let bytes = xls_patched(entry, &(dir_start as u32).to_le_bytes());
    assert!(matches!(
        read("loop.xls", &bytes, &Limits::default(), today()),
        Err(ReadError::Unreadable(_))
    ));
}
