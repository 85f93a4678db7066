//! Birth dates in lists: `dd.mm.yyyy`, `ddmmyy`, ISO, and spreadsheet
//! date serials (days since 1899-12-30).

use chrono::{Datelike, Days, NaiveDate};

/// The last serial a spreadsheet can show as a date (9999-12-31).
const MAX_SERIAL: f64 = 2_958_465.0;

/// Nobody younger than this is on a payroll: a two-digit year that would
/// make someone younger belongs to the century before.
const MIN_AGE: i32 = 14;

/// Reads a date written as text.
///
/// Taken: `dd.mm.yyyy` (also with `/` or `-`, and one-digit day or month),
/// `dd.mm.yy`, `ddmmyy`, `ddmmyyyy`, ISO `yyyy-mm-dd` (a time after it,
/// as spreadsheets export dates, is ignored) and `yyyymmdd`. A two-digit
/// year is in this century unless that would make the person younger than
/// 14 on `today`, in which case it is in the last.
pub fn parse_date(s: &str, today: NaiveDate) -> Option<NaiveDate> {
    let s = s.trim();
    // ISO with a time: "1990-01-01T00:00:00", "1990-01-01 00:00:00".
    let s = match s.find(['T', ' ']) {
        Some(i) if i == 10 && s.as_bytes().get(4) == Some(&b'-') => &s[..i],
        _ => s,
    };
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return from_digits(s, today);
    }
    let parts: Vec<&str> = s.split(['.', '/', '-']).collect();
    if parts.len() != 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let n = |p: &str| p.parse::<u32>().ok();
    if parts[0].len() == 4 && s.as_bytes()[4] == b'-' {
        // ISO: yyyy-mm-dd.
        if parts[1].len() > 2 || parts[2].len() > 2 {
            return None;
        }
        return NaiveDate::from_ymd_opt(n(parts[0])? as i32, n(parts[1])?, n(parts[2])?);
    }
    if parts[0].len() > 2 || parts[1].len() > 2 {
        return None;
    }
    let (day, month) = (n(parts[0])?, n(parts[1])?);
    let year = match parts[2].len() {
        4 => n(parts[2])? as i32,
        2 => pivot(n(parts[2])? as i32, today),
        _ => return None,
    };
    NaiveDate::from_ymd_opt(year, month, day)
}

/// A date from digits only: `ddmmyy`, `ddmmyyyy` or `yyyymmdd`.
fn from_digits(s: &str, today: NaiveDate) -> Option<NaiveDate> {
    let n = |r: std::ops::Range<usize>| s[r].parse::<u32>().ok();
    match s.len() {
        6 => NaiveDate::from_ymd_opt(pivot(n(4..6)? as i32, today), n(2..4)?, n(0..2)?),
        8 => {
            let ymd = NaiveDate::from_ymd_opt(n(0..4)? as i32, n(4..6)?, n(6..8)?)
                .filter(|d| (1850..=2100).contains(&d.year()));
            ymd.or_else(|| NaiveDate::from_ymd_opt(n(4..8)? as i32, n(2..4)?, n(0..2)?))
        }
        _ => None,
    }
}

/// The full year of a two-digit year of birth.
fn pivot(yy: i32, today: NaiveDate) -> i32 {
    let this_century = today.year() / 100 * 100;
    if this_century + yy > today.year() - MIN_AGE {
        this_century - 100 + yy
    } else {
        this_century + yy
    }
}

/// The date of a spreadsheet serial (days since 1899-12-30, the fraction
/// being the time of day). Serials below 61 are shifted by a day as
/// spreadsheets do (they count a 29 February 1900 that never was).
/// `None` outside 1..=2958465 or when not finite.
pub fn date_from_serial(serial: f64) -> Option<NaiveDate> {
    if !serial.is_finite() || !(1.0..=MAX_SERIAL).contains(&serial) {
        return None;
    }
    // In 1..=2958465 by the check above.
    let mut days = serial.floor() as u64;
    if days < 61 {
        days += 1;
    }
    NaiveDate::from_ymd_opt(1899, 12, 30)?.checked_add_days(Days::new(days))
}

/// A number in a birth-date column that is not formatted as a date:
/// the digits of `ddmmyy` or `ddmmyyyy` that lost a leading zero when a
/// spreadsheet read them as a number (`10190` is `010190`).
pub fn date_from_number(v: f64, today: NaiveDate) -> Option<NaiveDate> {
    if !v.is_finite() || !(1.0..1e8).contains(&v) || v.fract() != 0.0 {
        return None;
    }
    // A whole number below 10^8 by the check above.
    let digits = (v as u64).to_string();
    let padded = match digits.len() {
        5 => format!("0{digits}"),
        7 => format!("0{digits}"),
        _ => digits,
    };
    from_digits(&padded, today)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    const TODAY: fn() -> NaiveDate = || date(2026, 11, 23);

    #[test]
    fn every_written_form() {
        let today = TODAY();
        let cases = [
            ("01.01.1990", date(1990, 1, 1)),
            ("1.1.1990", date(1990, 1, 1)),
            ("24/05/2001", date(2001, 5, 24)),
            ("24-05-2001", date(2001, 5, 24)),
            ("24.05.01", date(2001, 5, 24)),
            ("010190", date(1990, 1, 1)),
            ("240501", date(2001, 5, 24)),
            ("01011990", date(1990, 1, 1)),
            ("19900101", date(1990, 1, 1)),
            ("1990-01-01", date(1990, 1, 1)),
            ("1990-1-1", date(1990, 1, 1)),
            ("1990-01-01T00:00:00", date(1990, 1, 1)),
            ("1990-01-01 00:00:00", date(1990, 1, 1)),
            (" 29.02.2000 ", date(2000, 2, 29)),
        ];
        for (s, want) in cases {
            assert_eq!(parse_date(s, today), Some(want), "{s:?}");
        }
    }

    #[test]
    fn two_digit_years_pivot_on_today() {
        let today = TODAY();
        // 2012 would make someone 14 in 2026: still this century.
        assert_eq!(parse_date("010112", today), Some(date(2012, 1, 1)));
        // 2013 would make them 13: the last century.
        assert_eq!(parse_date("010113", today), Some(date(1913, 1, 1)));
        assert_eq!(parse_date("010199", today), Some(date(1999, 1, 1)));
    }

    #[test]
    fn refused_forms() {
        let today = TODAY();
        for s in [
            "",
            "abc",
            "32.01.1990",
            "29.02.1900",
            "01.13.1990",
            "1990-13-01",
            "0101",
            "1.1.",
            "01.01.19900",
            "123.1.1990",
            "1990/01/01",
            "01-01",
            "2001-5-24x",
            "31041990",
            "T",
        ] {
            assert_eq!(parse_date(s, today), None, "{s:?}");
        }
    }

    #[test]
    fn serials() {
        assert_eq!(date_from_serial(32874.0), Some(date(1990, 1, 1)));
        assert_eq!(date_from_serial(32874.75), Some(date(1990, 1, 1)));
        assert_eq!(date_from_serial(61.0), Some(date(1900, 3, 1)));
        assert_eq!(date_from_serial(1.0), Some(date(1900, 1, 1)));
        assert_eq!(date_from_serial(2_958_465.0), Some(date(9999, 12, 31)));
        for v in [0.0, -1.0, 2_958_466.0, f64::NAN, f64::INFINITY] {
            assert_eq!(date_from_serial(v), None, "{v}");
        }
    }

    #[test]
    fn numbers_that_lost_a_zero() {
        let today = TODAY();
        assert_eq!(date_from_number(10190.0, today), Some(date(1990, 1, 1)));
        assert_eq!(date_from_number(240501.0, today), Some(date(2001, 5, 24)));
        assert_eq!(date_from_number(1011990.0, today), Some(date(1990, 1, 1)));
        assert_eq!(date_from_number(19900101.0, today), Some(date(1990, 1, 1)));
        assert_eq!(date_from_number(1.5, today), None);
        assert_eq!(date_from_number(999.0, today), None);
    }
}
