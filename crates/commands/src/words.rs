//! Small readers of what people type, shared by the commands: names
//! compared as keys, dates, `felt: verdi` lines, amounts in kroner.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use unicode_normalization::UnicodeNormalization;

/// A name for comparing: NFC, case-folded, spaces collapsed, and the words
/// sorted so that "Nordmann, Kari" equals "Kari Nordmann".
pub fn name_key(s: &str) -> String {
    let folded: String = s.nfc().collect::<String>().to_lowercase().replace(',', " ");
    let mut words: Vec<&str> = folded.split_whitespace().collect();
    words.sort_unstable();
    words.join(" ")
}

/// A date as `YYYY-MM-DD`, `DD.MM.YYYY` or `D.M.YYYY`.
pub fn date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d.%m.%Y"))
        .ok()
}

/// The first date in a sentence, as members write one: `31.12.2026`,
/// `2026-12-31`, `1. januar`, `1 January 2027`, `1. marts 2027` (month names
/// in nb, nn, da and en). Without a year, the next such day on or after
/// `today`.
pub fn date_in_text(text: &str, today: NaiveDate) -> Option<NaiveDate> {
    use chrono::Datelike;
    const MONTHS: [&[&str]; 12] = [
        &["januar", "january", "jan"],
        &["februar", "february", "feb"],
        &["mars", "marts", "march", "mar"],
        &["april", "apr"],
        &["mai", "maj", "may"],
        &["juni", "june", "jun"],
        &["juli", "july", "jul"],
        &["august", "aug"],
        &["september", "sep", "sept"],
        &["oktober", "october", "okt", "oct"],
        &["november", "nov"],
        &["desember", "december", "des", "dec"],
    ];
    let words: Vec<String> = text
        .split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| matches!(c, ',' | ';' | '!' | '?' | '(' | ')'))
                .to_lowercase()
        })
        .collect();
    for (i, w) in words.iter().enumerate() {
        if let Some(d) = date(w.trim_end_matches('.')) {
            return Some(d);
        }
        let Ok(day) = w.trim_end_matches('.').parse::<u32>() else {
            continue;
        };
        let Some(month) = words.get(i + 1).and_then(|m| {
            let m = m.trim_end_matches('.');
            MONTHS.iter().position(|names| names.contains(&m))
        }) else {
            continue;
        };
        let month = month as u32 + 1;
        let year = words
            .get(i + 2)
            .map(|y| y.trim_end_matches('.'))
            .and_then(|y| y.parse::<i32>().ok())
            .filter(|y| (1900..=2200).contains(y));
        return match year {
            Some(y) => NaiveDate::from_ymd_opt(y, month, day),
            None => NaiveDate::from_ymd_opt(today.year(), month, day)
                .filter(|d| *d >= today)
                .or_else(|| NaiveDate::from_ymd_opt(today.year() + 1, month, day)),
        };
    }
    None
}

/// `felt: verdi` lines, keys lower-cased with æøå folded to ASCII; lines
/// without a value, and keys longer than a field name can be, are left out.
pub fn fields(body: &str) -> BTreeMap<String, String> {
    body.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (fold_key(k), v.trim().to_string()))
        .filter(|(k, v)| !k.is_empty() && !v.is_empty() && k.len() < 40)
        .collect()
}

/// A field name as [`fields`] keys it: trimmed, lower-cased, æøå as ASCII.
pub fn fold_key(k: &str) -> String {
    k.trim()
        .to_lowercase()
        .replace('ø', "o")
        .replace('å', "a")
        .replace('æ', "ae")
}

/// The first of `keys` present in `fields`.
pub fn field<'a>(fields: &'a BTreeMap<String, String>, keys: &[&str]) -> Option<&'a str> {
    keys.iter().find_map(|k| fields.get(*k).map(String::as_str))
}

/// The digits of `s`, in order ("923 609 016" -> "923609016").
pub fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// An amount in øre as Norwegians write it: `25 139,50`.
pub fn kroner(ore: i64) -> String {
    let sign = if ore < 0 { "-" } else { "" };
    let ore = ore.unsigned_abs();
    let whole = (ore / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(' ');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped},{:02}", ore % 100)
}

/// An organisation number of one of `known` named in `text`: a word of it
/// or the whole of it (`923 609 016`, `NO923609016MVA`).
pub fn orgnr_in<'a>(text: &str, known: impl Fn(&str) -> bool + 'a) -> Option<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .chain(std::iter::once(text))
        .find_map(|w| postbud_core::lists::check_orgnr(w).filter(|o| known(o)))
}

/// The responsibilities an employer contact can have (SPEC section 2).
pub const DUTIES: [&str; 3] = ["receipts", "letters", "reminders"];

/// Responsibilities as stored (`receipts|letters`), from any mix of `|`,
/// `,` and spaces. `Err` is the first word that is none of [`DUTIES`].
pub fn duties(s: &str) -> Result<String, String> {
    let mut out: Vec<&str> = Vec::new();
    for d in s
        .split(['|', ',', ' '])
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        let d = d.to_lowercase();
        let Some(known) = DUTIES.iter().find(|k| **k == d) else {
            return Err(d);
        };
        if !out.contains(known) {
            out.push(known);
        }
    }
    Ok(out.join("|"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_in_any_order_case_and_normal_form() {
        assert_eq!(name_key("Nordmann, Kari"), name_key("kari   NORDMANN"));
        assert_eq!(name_key("Åse"), name_key("A\u{30a}se"));
    }

    #[test]
    fn fields_fold_norwegian_letters_in_keys() {
        let f =
            fields("Fødselsdato: 01.02.1990\nNy arbeidsgiver: 923609016\nrolle:vara\n\nbare tekst");
        assert_eq!(f.get("fodselsdato").map(String::as_str), Some("01.02.1990"));
        assert_eq!(
            f.get("ny arbeidsgiver").map(String::as_str),
            Some("923609016")
        );
        assert_eq!(f.get("rolle").map(String::as_str), Some("vara"));
        assert_eq!(f.len(), 3);
    }

    #[test]
    fn dates_in_both_forms() {
        assert_eq!(date("2026-11-30"), NaiveDate::from_ymd_opt(2026, 11, 30));
        assert_eq!(date("1.12.2026"), NaiveDate::from_ymd_opt(2026, 12, 1));
        assert_eq!(date("neste uke"), None);
    }

    #[test]
    fn kroner_are_grouped_with_a_decimal_comma() {
        assert_eq!(kroner(2513950), "25 139,50");
        assert_eq!(kroner(5), "0,05");
        assert_eq!(kroner(123456789), "1 234 567,89");
        assert_eq!(kroner(-100), "-1,00");
    }

    #[test]
    fn an_orgnr_is_found_among_words_or_as_the_whole() {
        let known = |o: &str| o == "923609016";
        assert_eq!(
            orgnr_in("Trekkliste 923609016 10/2026", known).as_deref(),
            Some("923609016")
        );
        assert_eq!(orgnr_in("923 609 016", known).as_deref(), Some("923609016"));
        assert_eq!(orgnr_in("987654321", known), None);
    }

    #[test]
    fn dates_in_sentences() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        let d = |t: &str| date_in_text(t, today).map(|d| d.to_string());
        assert_eq!(
            d("Jeg ønsker å melde meg ut fra 1. januar.").as_deref(),
            Some("2027-01-01")
        );
        assert_eq!(d("fra 30. november").as_deref(), Some("2026-11-30"));
        assert_eq!(
            d("from 1 March 2027, thanks").as_deref(),
            Some("2027-03-01")
        );
        assert_eq!(d("fra 1. marts 2027").as_deref(), Some("2027-03-01"));
        assert_eq!(d("fra og med 31.12.2026.").as_deref(), Some("2026-12-31"));
        assert_eq!(d("så snart som mulig"), None);
        assert_eq!(d("31. februar"), None);
    }
}
