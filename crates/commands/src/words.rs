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
}
