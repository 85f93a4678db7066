//! Deduction periods (months): from a message's subject and from a
//! period column, in the forms of domain.md.

use std::fmt;
use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate};
use regex::Regex;

/// One deduction period: a calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    /// The year, 2000-2099 when read from text.
    pub year: i32,
    /// The month, 1-12.
    pub month: u32,
}

impl Period {
    /// A period, or `None` when `month` is not 1-12.
    pub fn new(year: i32, month: u32) -> Option<Period> {
        (1..=12).contains(&month).then_some(Period { year, month })
    }

    /// The month a date falls in.
    pub fn of_date(date: NaiveDate) -> Period {
        Period {
            year: date.year(),
            month: date.month(),
        }
    }
}

impl fmt::Display for Period {
    /// `2026-10`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// Month names and abbreviations, Norwegian (bokmål and nynorsk), Danish
/// and English, lower case, with their month.
const MONTHS: &[(&str, u32)] = &[
    ("januar", 1),
    ("january", 1),
    ("jan", 1),
    ("februar", 2),
    ("february", 2),
    ("feb", 2),
    ("mars", 3),
    ("marts", 3),
    ("march", 3),
    ("mar", 3),
    ("april", 4),
    ("apr", 4),
    ("mai", 5),
    ("maj", 5),
    ("may", 5),
    ("juni", 6),
    ("june", 6),
    ("jun", 6),
    ("juli", 7),
    ("july", 7),
    ("jul", 7),
    ("august", 8),
    ("aug", 8),
    ("september", 9),
    ("sept", 9),
    ("sep", 9),
    ("oktober", 10),
    ("october", 10),
    ("okt", 10),
    ("oct", 10),
    ("november", 11),
    ("nov", 11),
    ("desember", 12),
    ("december", 12),
    ("des", 12),
    ("dec", 12),
];

/// A month name (optionally abbreviated with a dot) and a four-digit year.
static NAMED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(\p{L}{3,9})\.?[\s\-/]*([0-9]{4})").expect("a valid pattern"));

/// `2026-10`, `2026/10`, `2026.10`.
static YEAR_MONTH: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"([0-9]{4})[\-/.]([0-9]{1,2})").expect("a valid pattern"));

/// `10/2026`, `10-2026`, `10.2026`, `1/2026`.
static MONTH_YEAR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"([0-9]{1,2})[\-/.]([0-9]{4})").expect("a valid pattern"));

/// A run of digits.
static DIGITS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[0-9]+").expect("a valid pattern"));

/// The period a subject names: `10/2026`, `10-2026`, `2026-10`, `1026`
/// (MMYY), `102026` (MMYYYY), `202610` (YYYYMM), `oktober 2026`,
/// `okt. 2026`, Danish and English month names. Years are 2000-2099.
///
/// `None` when the subject names no period, or names two different ones
/// (`september og oktober 2026`, a date in another month beside the period):
/// then the list's period column decides, or the sender is asked.
pub fn period_from_subject(subject: &str) -> Option<Period> {
    let mut found: Option<Period> = None;
    for p in candidates(subject) {
        match found {
            None => found = Some(p),
            Some(f) if f == p => {}
            Some(_) => return None,
        }
    }
    found
}

/// The period in a period cell written as text: the forms of
/// [`period_from_subject`]; the cell must name exactly one.
pub fn period_from_text(s: &str) -> Option<Period> {
    // A date in a period column names its month.
    let s = s.trim();
    if s.len() <= 64 {
        period_from_subject(s)
    } else {
        None
    }
}

/// Every period the text names, in every form, in no particular order.
/// A match counts only where it stands alone: no digit right before or
/// after it (`110/2026`, `10/20261` name nothing), no letter right before
/// a month name.
fn candidates(text: &str) -> Vec<Period> {
    let text: String = text.chars().take(1000).collect();
    let text = text.as_str();
    let before = |at: usize| text[..at].chars().next_back();
    let after = |at: usize| text[at..].chars().next();
    let digit = |c: Option<char>| c.is_some_and(|c| c.is_numeric());
    let apart = |m: regex::Match<'_>| !digit(before(m.start())) && !digit(after(m.end()));
    let mut out = Vec::new();
    for c in NAMED.captures_iter(text) {
        let (all, word) = (c.get(0).expect("group 0"), &c[1]);
        if !apart(all) || before(all.start()).is_some_and(char::is_alphabetic) {
            continue;
        }
        let word = word.to_lowercase();
        let Some((_, month)) = MONTHS.iter().find(|(name, _)| *name == word) else {
            continue;
        };
        if let Some(p) = year(&c[2]).and_then(|y| Period::new(y, *month)) {
            out.push(p);
        }
    }
    for c in YEAR_MONTH.captures_iter(text) {
        if apart(c.get(0).expect("group 0"))
            && let Some(p) = year(&c[1]).and_then(|y| Period::new(y, c[2].parse().ok()?))
        {
            out.push(p);
        }
    }
    for c in MONTH_YEAR.captures_iter(text) {
        if apart(c.get(0).expect("group 0"))
            && let Some(p) = year(&c[2]).and_then(|y| Period::new(y, c[1].parse().ok()?))
        {
            out.push(p);
        }
    }
    for m in DIGITS.find_iter(text) {
        if let Some(p) = from_digits(m.as_str()) {
            out.push(p);
        }
    }
    out
}

/// A four-digit year in 2000-2099.
fn year(s: &str) -> Option<i32> {
    s.parse().ok().filter(|y| (2000..=2099).contains(y))
}

/// `MMYY`, `MMYYYY` or `YYYYMM`.
fn from_digits(s: &str) -> Option<Period> {
    let month = |r: std::ops::Range<usize>| s[r].parse::<u32>().ok();
    match s.len() {
        4 => Period::new(2000 + s[2..4].parse::<i32>().ok()?, month(0..2)?),
        6 => year(&s[2..6])
            .and_then(|y| Period::new(y, month(0..2)?))
            .or_else(|| year(&s[0..4]).and_then(|y| Period::new(y, month(4..6)?))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(year: i32, month: u32) -> Option<Period> {
        Some(Period { year, month })
    }

    #[test]
    fn every_subject_form() {
        let cases = [
            ("Trekkliste 10/2026", p(2026, 10)),
            ("Trekkliste 10-2026", p(2026, 10)),
            ("Trekkliste 10.2026", p(2026, 10)),
            ("Trekk 1/2026", p(2026, 1)),
            ("Trekkliste 2026-10", p(2026, 10)),
            ("Trekkliste 2026/10", p(2026, 10)),
            ("Periode 1026", p(2026, 10)),
            ("Periode 1020", p(2020, 10)),
            ("Periode 102026", p(2026, 10)),
            ("Periode 202610", p(2026, 10)),
            ("Trekkliste oktober 2026", p(2026, 10)),
            ("Trekkliste Oktober 2026", p(2026, 10)),
            ("trekk okt. 2026", p(2026, 10)),
            ("trekk okt 2026", p(2026, 10)),
            ("trekk okt.2026", p(2026, 10)),
            ("Fagforeningstrekk desember 2026", p(2026, 12)),
            ("Kontingent maj 2026", p(2026, 5)),
            ("Kontingent marts 2026", p(2026, 3)),
            ("Union dues for March 2026", p(2026, 3)),
            ("Dues Sept. 2026", p(2026, 9)),
            ("Trekkliste oktober-2026", p(2026, 10)),
            ("Trekkliste for oktober 2026 (10/2026)", p(2026, 10)),
            ("SV: Trekkliste 10/2026 Bedrift AS 923609016", p(2026, 10)),
            ("10/2026", p(2026, 10)),
        ];
        for (s, want) in cases {
            assert_eq!(period_from_subject(s), want, "{s:?}");
        }
    }

    #[test]
    fn no_period_or_two() {
        for s in [
            "Trekkliste",
            "Trekkliste 2026",
            "Trekkliste 13/2026",
            "Trekkliste 1326",
            "Bedrift AS 923609016",
            "Trekk september og oktober 2026 (09/2026, 10/2026)",
            "Trekkliste 10/1999",
            "Trekkliste 10/2026 og 11/2026",
            "Mandag 2026",
            "",
        ] {
            assert_eq!(period_from_subject(s), None, "{s:?}");
        }
    }

    #[test]
    fn period_cells() {
        assert_eq!(period_from_text("10/2026"), p(2026, 10));
        assert_eq!(period_from_text("okt. 2026"), p(2026, 10));
        assert_eq!(period_from_text("202610"), p(2026, 10));
        assert_eq!(period_from_text("2026-10-01"), p(2026, 10));
        assert_eq!(period_from_text("x"), None);
        assert_eq!(
            Period::of_date(NaiveDate::from_ymd_opt(2026, 10, 31).unwrap()),
            Period {
                year: 2026,
                month: 10
            }
        );
        assert_eq!(p(2026, 1).unwrap().to_string(), "2026-01");
    }
}
