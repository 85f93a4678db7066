//! National ids and organisation numbers (domain.md): the Norwegian
//! fødselsnummer with both mod-11 checks, D-numbers (day + 40), synthetic
//! test ids (month + 80, only when allowed), the leading zero a spreadsheet
//! drops, the Danish CPR number, and the Norwegian organisation number.

use chrono::NaiveDate;

/// Why an id was refused: the digits are not 10 or 11 (or the text is not
/// an id at all).
pub const WHY_LENGTH: &str = "length";
/// Why an id was refused: a check digit does not match.
pub const WHY_MOD11: &str = "mod-11";
/// Why an id was refused: its first six digits are no date (after the
/// D-number and synthetic offsets), or the individual number does not fit
/// the year.
pub const WHY_DATE: &str = "date";
/// Why an id was refused: a synthetic test id (month + 80) while
/// [`crate::lists::Limits::allow_synthetic_ids`] is off.
pub const WHY_SYNTHETIC: &str = "synthetic ids not allowed";

/// Weights of the first check digit over `DDMMYYIII`.
const K1_WEIGHTS: [u32; 9] = [3, 7, 6, 1, 8, 9, 4, 5, 2];
/// Weights of the second check digit over `DDMMYYIIIK1`.
const K2_WEIGHTS: [u32; 10] = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
/// Weights of an organisation number's check digit over its first 8 digits.
const ORGNR_WEIGHTS: [u32; 8] = [3, 2, 7, 6, 5, 4, 3, 2];

/// Checks a national id as written in a list and returns it normalised.
///
/// - A Danish CPR number written `DDMMYY-SSSS` (the hyphen is what tells it
///   from a Norwegian id that lost its leading zero) is accepted when its
///   date exists, without the modulus-11 check (no longer valid since
///   2007); it comes back as its 10 digits.
/// - Anything else is a Norwegian fødselsnummer: spaces, and one hyphen or
///   space between the date and the personal number, are ignored; 10
///   digits are padded back to 11 (a spreadsheet dropped the leading zero
///   of someone born on days 01-09). Then, in this order: the two check
///   digits ([`WHY_MOD11`]), the date with its century from the individual
///   number, D-numbers (day + 40) included ([`WHY_DATE`]), and synthetic
///   test ids (month + 80), refused unless `allow_synthetic`
///   ([`WHY_SYNTHETIC`]). H-numbers (month + 40) are refused as
///   [`WHY_DATE`]: they are not used on a payroll.
///
/// # Errors
/// One of [`WHY_LENGTH`], [`WHY_MOD11`], [`WHY_DATE`], [`WHY_SYNTHETIC`].
pub fn check_national_id(s: &str, allow_synthetic: bool) -> Result<String, &'static str> {
    let s = s.trim();
    if let Some(cpr) = cpr_digits(s) {
        return match cpr_birth_date(&cpr) {
            Some(_) => Ok(cpr),
            None => Err(WHY_DATE),
        };
    }
    let mut digits = String::with_capacity(11);
    for c in s.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '\u{a0}' | '\u{202f}' | '-' | '.' => {}
            _ => return Err(WHY_LENGTH),
        }
        if digits.len() > 11 {
            return Err(WHY_LENGTH);
        }
    }
    if digits.len() == 10 {
        digits.insert(0, '0');
    }
    if digits.len() != 11 {
        return Err(WHY_LENGTH);
    }
    let d: Vec<u32> = digits.bytes().map(|b| u32::from(b - b'0')).collect();
    if !check_digits_match(&d) {
        return Err(WHY_MOD11);
    }
    let Some((_, synthetic)) = norwegian_birth_date(&d) else {
        return Err(WHY_DATE);
    };
    if synthetic && !allow_synthetic {
        return Err(WHY_SYNTHETIC);
    }
    Ok(digits)
}

/// The birth date in a normalised id as [`check_national_id`] returns it:
/// 11 digits are a fødselsnummer (D-numbers and synthetic ids decoded),
/// 10 digits a CPR number. `None` for anything else or a date that does
/// not exist.
pub fn birth_date_from_id(id: &str) -> Option<NaiveDate> {
    if !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match id.len() {
        11 => {
            let d: Vec<u32> = id.bytes().map(|b| u32::from(b - b'0')).collect();
            norwegian_birth_date(&d).map(|(date, _)| date)
        }
        10 => cpr_birth_date(id),
        _ => None,
    }
}

/// Checks a Norwegian organisation number: spaces, dots and hyphens are
/// ignored, as are a `NO` prefix and an `MVA` suffix (`NO923609016MVA`);
/// 9 digits with a valid check digit come back as those 9 digits.
pub fn check_orgnr(s: &str) -> Option<String> {
    let mut t: String = s
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '.' | '-'))
        .collect();
    t.make_ascii_uppercase();
    let t = t.strip_prefix("NO").unwrap_or(&t);
    let t = t.strip_suffix("MVA").unwrap_or(t);
    if t.len() != 9 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let d: Vec<u32> = t.bytes().map(|b| u32::from(b - b'0')).collect();
    let sum: u32 = ORGNR_WEIGHTS.iter().zip(&d).map(|(w, x)| w * x).sum();
    let check = match 11 - sum % 11 {
        11 => 0,
        10 => return None,
        k => k,
    };
    (check == d[8]).then(|| t.to_string())
}

/// The digits of a CPR number written `DDMMYY-SSSS`, or `None`.
fn cpr_digits(s: &str) -> Option<String> {
    let (date, serial) = s.split_once('-')?;
    let ok = date.len() == 6
        && serial.len() == 4
        && date.bytes().all(|b| b.is_ascii_digit())
        && serial.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| format!("{date}{serial}"))
}

/// The birth date of a 10-digit CPR number: the 7th digit with the year
/// gives the century (CPR office's table).
fn cpr_birth_date(cpr: &str) -> Option<NaiveDate> {
    let d: Vec<u32> = cpr
        .bytes()
        .map(|b| u32::from(b.wrapping_sub(b'0')))
        .collect();
    if d.len() != 10 || d.iter().any(|x| *x > 9) {
        return None;
    }
    let day = d[0] * 10 + d[1];
    let month = d[2] * 10 + d[3];
    let yy = (d[4] * 10 + d[5]) as i32;
    let century = match d[6] {
        0..=3 => 1900,
        4 | 9 if yy <= 36 => 2000,
        4 | 9 => 1900,
        _ if yy <= 57 => 2000,
        _ => 1800,
    };
    NaiveDate::from_ymd_opt(century + yy, month, day)
}

/// Both check digits of an 11-digit fødselsnummer.
fn check_digits_match(d: &[u32]) -> bool {
    let k1 = match 11 - K1_WEIGHTS.iter().zip(d).map(|(w, x)| w * x).sum::<u32>() % 11 {
        11 => 0,
        10 => return false,
        k => k,
    };
    if k1 != d[9] {
        return false;
    }
    let k2 = match 11 - K2_WEIGHTS.iter().zip(d).map(|(w, x)| w * x).sum::<u32>() % 11 {
        11 => 0,
        10 => return false,
        k => k,
    };
    k2 == d[10]
}

/// The birth date of an 11-digit fødselsnummer (D-number and synthetic
/// offsets removed) and whether it is a synthetic id. The century comes
/// from the individual number together with the year.
fn norwegian_birth_date(d: &[u32]) -> Option<(NaiveDate, bool)> {
    let mut day = d[0] * 10 + d[1];
    let mut month = d[2] * 10 + d[3];
    let yy = (d[4] * 10 + d[5]) as i32;
    let individual = d[6] * 100 + d[7] * 10 + d[8];
    if day > 40 {
        day -= 40;
    }
    let synthetic = month > 80;
    if synthetic {
        month -= 80;
    }
    let century = match individual {
        0..=499 => 1900,
        500..=749 if yy >= 54 => 1800,
        500..=999 if yy <= 39 => 2000,
        900..=999 if yy >= 40 => 1900,
        _ => return None,
    };
    NaiveDate::from_ymd_opt(century + yy, month, day).map(|date| (date, synthetic))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Makes a valid fødselsnummer from its first nine digits.
    fn make(nine: &str) -> String {
        let mut d: Vec<u32> = nine.bytes().map(|b| u32::from(b - b'0')).collect();
        let k1 = (11 - K1_WEIGHTS.iter().zip(&d).map(|(w, x)| w * x).sum::<u32>() % 11) % 11;
        assert!(k1 < 10, "{nine} has no valid first check digit");
        d.push(k1);
        let k2 = (11 - K2_WEIGHTS.iter().zip(&d).map(|(w, x)| w * x).sum::<u32>() % 11) % 11;
        assert!(k2 < 10, "{nine} has no valid second check digit");
        format!("{nine}{k1}{k2}")
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn computed_ids_are_what_the_algorithm_says() {
        // Worked by hand with Skatteetaten's weights.
        assert_eq!(make("150577123"), "15057712357");
        assert_eq!(make("010190124"), "01019012480");
        assert_eq!(make("410190123"), "41019012393");
        assert_eq!(
            check_national_id("15057712357", false),
            Ok("15057712357".into())
        );
        assert_eq!(birth_date_from_id("15057712357"), Some(date(1977, 5, 15)));
    }

    #[test]
    fn leading_zero_is_restored() {
        assert_eq!(
            check_national_id("1019012480", false),
            Ok("01019012480".into())
        );
        assert_eq!(
            check_national_id("01019012480", false),
            Ok("01019012480".into())
        );
        assert_eq!(birth_date_from_id("01019012480"), Some(date(1990, 1, 1)));
    }

    #[test]
    fn spaces_and_separators_are_ignored() {
        assert_eq!(
            check_national_id(" 150577 12357 ", false),
            Ok("15057712357".into())
        );
        assert_eq!(
            check_national_id("150577-12357", false),
            Ok("15057712357".into())
        );
        assert_eq!(
            check_national_id("150577\u{a0}12357", false),
            Ok("15057712357".into())
        );
    }

    #[test]
    fn check_digits() {
        assert_eq!(check_national_id("12345678901", true), Err(WHY_MOD11));
        assert_eq!(check_national_id("15057712358", false), Err(WHY_MOD11));
        assert_eq!(check_national_id("15057712347", false), Err(WHY_MOD11));
        // 010190123 has no valid first check digit at all (it would be 10).
        for k in 0..100 {
            let id = format!("010190123{k:02}");
            assert_eq!(check_national_id(&id, true), Err(WHY_MOD11), "{id}");
        }
    }

    #[test]
    fn lengths_and_junk() {
        for s in [
            "",
            "123",
            "123456789",
            "150577123571",
            "1505771235a",
            "abc",
            "15.05.1977",
        ] {
            assert_eq!(check_national_id(s, true), Err(WHY_LENGTH), "{s}");
        }
    }

    #[test]
    fn centuries_from_the_individual_number() {
        assert_eq!(
            birth_date_from_id(&make("010100500")),
            Some(date(2000, 1, 1))
        );
        assert_eq!(
            birth_date_from_id(&make("290200500")),
            Some(date(2000, 2, 29))
        );
        assert_eq!(
            birth_date_from_id(&make("010154600")),
            Some(date(1854, 1, 1))
        );
        assert_eq!(
            birth_date_from_id(&make("150577900")),
            Some(date(1977, 5, 15))
        );
        assert_eq!(
            birth_date_from_id(&make("311299499")),
            Some(date(1999, 12, 31))
        );
        // 750-899 with a year from 40 on fits no century.
        let id = make("010150800");
        assert_eq!(check_national_id(&id, true), Err(WHY_DATE));
    }

    #[test]
    fn dates_must_exist() {
        // 29 February 1900 did not exist (individual 000-499: 1900s).
        let id = make("290200123");
        assert_eq!(check_national_id(&id, true), Err(WHY_DATE));
        let id = make("320190123");
        assert_eq!(check_national_id(&id, true), Err(WHY_DATE));
        // H-numbers (month + 40) are not taken.
        let id = make("014190123");
        assert_eq!(check_national_id(&id, true), Err(WHY_DATE));
    }

    #[test]
    fn d_numbers() {
        let id = make("410190123");
        assert_eq!(check_national_id(&id, false), Ok(id.clone()));
        assert_eq!(birth_date_from_id(&id), Some(date(1990, 1, 1)));
        let id = make("710190123");
        assert_eq!(birth_date_from_id(&id), Some(date(1990, 1, 31)));
    }

    #[test]
    fn synthetic_ids_only_when_allowed() {
        let id = make("018190123");
        assert_eq!(check_national_id(&id, false), Err(WHY_SYNTHETIC));
        assert_eq!(check_national_id(&id, true), Ok(id.clone()));
        assert_eq!(birth_date_from_id(&id), Some(date(1990, 1, 1)));
        // From the fixture register: Kari Nordmann, born 6 December 1984.
        assert_eq!(
            check_national_id("6928401578", true),
            Ok("06928401578".into())
        );
        assert_eq!(birth_date_from_id("06928401578"), Some(date(1984, 12, 6)));
        // Synthetic D-number.
        let id = make("418190123");
        assert_eq!(check_national_id(&id, true), Ok(id.clone()));
    }

    #[test]
    fn danish_cpr() {
        assert_eq!(
            check_national_id("010190-1234", false),
            Ok("0101901234".into())
        );
        assert_eq!(birth_date_from_id("0101901234"), Some(date(1990, 1, 1)));
        assert_eq!(birth_date_from_id("0101054321"), Some(date(2005, 1, 1)));
        assert_eq!(birth_date_from_id("0101404321"), Some(date(1940, 1, 1)));
        assert_eq!(birth_date_from_id("0101105678"), Some(date(2010, 1, 1)));
        assert_eq!(birth_date_from_id("0101805678"), Some(date(1880, 1, 1)));
        assert_eq!(check_national_id("320190-1234", false), Err(WHY_DATE));
        // Without the hyphen 10 digits are a Norwegian id missing its zero.
        assert_eq!(check_national_id("0101901234", false), Err(WHY_MOD11));
    }

    #[test]
    fn organisation_numbers() {
        for s in [
            "923609016",
            "923 609 016",
            "NO923609016MVA",
            "no 923 609 016 mva",
            "923.609.016",
        ] {
            assert_eq!(check_orgnr(s), Some("923609016".into()), "{s}");
        }
        for s in ["923609017", "92360901", "9236090161", "", "abc", "NO"] {
            assert_eq!(check_orgnr(s), None, "{s}");
        }
    }
}
