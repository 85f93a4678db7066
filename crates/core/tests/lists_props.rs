//! `lists::read` and the value parsers never panic: random bytes under
//! every file name extension, the fixture lists with random bytes changed
//! or cut off, random delimited text, random strings. `PROPTEST_CASES`
//! sets the number of cases (256 by default).

use chrono::NaiveDate;
use postbud_core::lists::dates::parse_date;
use postbud_core::lists::periods::period_from_text;
use postbud_core::lists::{
    Limits, check_national_id, check_orgnr, parse_amount, period_from_subject, read,
};
use proptest::prelude::*;

const EXTENSIONS: [&str; 9] = [
    "xlsx", "xlsm", "xls", "ods", "csv", "txt", "tsv", "pdf", "bin",
];
const FIXTURES: [&str; 4] = ["xlsx", "xls", "ods", "txt"];

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

fn fixture(ext: &str) -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/lists/trekkliste-2026-10."
    );
    std::fs::read(format!("{path}{ext}")).unwrap()
}

/// Small limits, so that the size checks are reached too.
fn limits() -> Limits {
    Limits {
        max_uncompressed_bytes: 1 << 20,
        max_rows: 100,
        allow_synthetic_ids: true,
    }
}

proptest! {
    #[test]
    fn random_bytes_under_any_name(ext in 0..EXTENSIONS.len(), bytes in proptest::collection::vec(any::<u8>(), 0..2048), magic in 0..4usize) {
        let mut b = match magic {
            0 => Vec::new(),
            1 => b"PK\x03\x04".to_vec(),
            2 => b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1".to_vec(),
            _ => b"\xFF\xFE".to_vec(),
        };
        b.extend(bytes);
        let _ = read(&format!("liste.{}", EXTENSIONS[ext]), &b, &limits(), today());
    }

    #[test]
    fn fixtures_with_bytes_changed(which in 0..FIXTURES.len(), changes in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let ext = FIXTURES[which];
        let mut bytes = fixture(ext);
        for (at, value) in changes {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        let _ = read(&format!("liste.{ext}"), &bytes, &limits(), today());
    }

    #[test]
    fn fixtures_cut_short(which in 0..FIXTURES.len(), keep in any::<prop::sample::Index>()) {
        let ext = FIXTURES[which];
        let bytes = fixture(ext);
        let keep = keep.index(bytes.len());
        let _ = read(&format!("liste.{ext}"), &bytes[..keep], &limits(), today());
    }

    #[test]
    fn delimited_text(text in "[;,\t|\"\r\n0-9a-zæøå .-]{0,400}", header in 0..3usize) {
        let head = ["", "Fødselsnummer;Navn;Trekk\n", "Fnr,Født,Beløp,Periode,Orgnr\n"][header];
        let _ = read("liste.csv", format!("{head}{text}").as_bytes(), &limits(), today());
    }

    #[test]
    fn value_parsers(s in "\\PC{0,40}") {
        let _ = parse_amount(&s);
        let _ = period_from_subject(&s);
        let _ = period_from_text(&s);
        let _ = check_national_id(&s, true);
        let _ = check_orgnr(&s);
        let _ = parse_date(&s, today());
    }

    #[test]
    fn number_like_values(s in "[0-9 .,/\\-]{0,20}(kr|,-)?") {
        let _ = parse_amount(&s);
        let _ = period_from_subject(&s);
        let _ = check_national_id(&s, false);
        let _ = parse_date(&s, today());
    }
}
