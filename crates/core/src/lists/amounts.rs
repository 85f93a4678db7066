//! Amounts in øre (or cents), from text in the Norwegian, Danish and English
//! forms of domain.md and from spreadsheet numbers.

/// The largest amount taken, in whole kroner: well above any deduction,
/// far below where `i64` øre or `f64` precision ends.
const MAX_KRONER: i64 = 1_000_000_000_000;

/// Reads an amount written as text and returns it in øre.
///
/// Taken: `1 234,50` (spaces, non-breaking spaces or apostrophes between
/// thousands), `1234.50`, `1.234,50`, `1,234.50`, `kr 1234,50`, `1234,50 kr`,
/// `NOK 1234`, `1234,-`, `-455,00`. With both `.` and `,` the last one is
/// the decimal mark, and the other must group thousands by three. With
/// only one kind, written once and followed by exactly three digits, it
/// groups thousands (`1,234` and `1.234` are 1234 kroner: nobody writes
/// tenths of an øre); followed by one or two digits it is the decimal mark;
/// written more than once it groups thousands. More than two decimals, a
/// bare mark (`1234,`) or anything else: `None`.
pub fn parse_amount(s: &str) -> Option<i64> {
    let mut t = s.trim().to_lowercase();
    for suffix in [",-", ",–", ".-", ",—"] {
        if let Some(rest) = t.strip_suffix(suffix) {
            t = rest.to_string();
            break;
        }
    }
    let t = strip_currency(t.trim());
    let (negative, t) = match t.strip_prefix(['-', '−', '–']) {
        Some(rest) => (true, rest.trim_start()),
        None => (false, t),
    };
    let t = strip_currency(t);
    let body: String = t
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}' | '\''))
        .collect();
    if body.is_empty()
        || !body
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
    {
        return None;
    }
    let (int, frac) = split_marks(&body)?;
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if int.len() > 13 || frac.len() > 2 {
        return None;
    }
    let kroner: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let ore: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().ok()? * 10,
        _ => frac.parse().ok()?,
    };
    if kroner > MAX_KRONER {
        return None;
    }
    let value = kroner * 100 + ore;
    Some(if negative { -value } else { value })
}

/// A spreadsheet number in kroner as øre, rounded to the nearest øre.
/// `None` when it is not finite or beyond any plausible amount.
pub fn amount_from_f64(v: f64) -> Option<i64> {
    if !v.is_finite() || v.abs() > MAX_KRONER as f64 {
        return None;
    }
    // In range by the check above, so the cast is exact.
    Some((v * 100.0).round() as i64)
}

/// Removes a currency word before or after the number.
fn strip_currency(t: &str) -> &str {
    let mut t = t.trim();
    for word in ["kr.", "kr", "nok", "dkk", "sek", "eur"] {
        if let Some(rest) = t.strip_prefix(word) {
            t = rest.trim_start();
        }
        if let Some(rest) = t.strip_suffix(word) {
            t = rest.trim_end();
        }
    }
    t
}

/// Splits digits with `.` and `,` into the whole part (thousands marks
/// removed) and the decimals, or `None` when the marks make no sense.
fn split_marks(body: &str) -> Option<(String, String)> {
    let last_dot = body.rfind('.');
    let last_comma = body.rfind(',');
    let decimal_at = match (last_dot, last_comma) {
        (None, None) => return Some((body.to_string(), String::new())),
        (Some(d), Some(c)) => Some(d.max(c)),
        (Some(i), None) | (None, Some(i)) => {
            let mark = body.as_bytes()[i];
            let count = body.bytes().filter(|b| *b == mark).count();
            let after = body.len() - i - 1;
            let before = i;
            if count > 1 || (after == 3 && (1..=3).contains(&before)) {
                None
            } else {
                Some(i)
            }
        }
    };
    let (int_part, frac) = match decimal_at {
        Some(i) => (&body[..i], &body[i + 1..]),
        None => (body, ""),
    };
    if frac.is_empty() && decimal_at.is_some() {
        return None;
    }
    if frac.contains(['.', ',']) {
        return None;
    }
    // Whatever marks remain in the whole part group thousands by three.
    let groups: Vec<&str> = int_part.split(['.', ',']).collect();
    if groups.len() > 1 {
        let mark_kinds = int_part.contains('.') as u8 + int_part.contains(',') as u8;
        let ok = mark_kinds == 1
            && (1..=3).contains(&groups[0].len())
            && groups[1..].iter().all(|g| g.len() == 3);
        if !ok {
            return None;
        }
    }
    Some((groups.concat(), frac.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_written_form() {
        let cases = [
            ("1 234,50", 123_450),
            ("1\u{a0}234,50", 123_450),
            ("1234.50", 123_450),
            ("1.234,50", 123_450),
            ("1,234.50", 123_450),
            ("kr 1234,50", 123_450),
            ("Kr. 1 234,50", 123_450),
            ("1234,50 kr", 123_450),
            ("NOK 1234.50", 123_450),
            ("1234,-", 123_400),
            ("1 234,-", 123_400),
            ("1234", 123_400),
            ("1234,5", 123_450),
            ("455,0", 45_500),
            ("0,50", 50),
            (",50", 50),
            ("1,234", 123_400),
            ("1.234", 123_400),
            ("1.234.567", 123_456_700),
            ("1,234,567.89", 123_456_789),
            ("1.234.567,89", 123_456_789),
            ("1'234.50", 123_450),
            ("-455,00", -45_500),
            ("- 455", -45_500),
            ("kr -455,00", -45_500),
            ("  400  ", 40_000),
        ];
        for (s, want) in cases {
            assert_eq!(parse_amount(s), Some(want), "{s:?}");
        }
    }

    #[test]
    fn refused_forms() {
        for s in [
            "",
            " ",
            "kr",
            "abc",
            "12a",
            "1234,",
            "1234,567",
            "1,2.3",
            "1.23,4.5",
            "12.34.56",
            "1.234,567",
            "1,23,456",
            "1..2",
            "1e5",
            "NaN",
            "--5",
            "99999999999999999999",
            "12345678901234",
        ] {
            assert_eq!(parse_amount(s), None, "{s:?}");
        }
    }

    #[test]
    fn numbers_from_cells() {
        assert_eq!(amount_from_f64(1234.5), Some(123_450));
        assert_eq!(amount_from_f64(0.1 + 0.2), Some(30));
        assert_eq!(amount_from_f64(-455.0), Some(-45_500));
        assert_eq!(amount_from_f64(f64::NAN), None);
        assert_eq!(amount_from_f64(f64::INFINITY), None);
        assert_eq!(amount_from_f64(1e300), None);
    }
}
