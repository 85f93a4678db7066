//! Registration strings (SPEC section 6): found anywhere in a message body,
//! rejoined where mail clients broke or quoted them, verified against the
//! registration secret and read into fields. Pure; never panics on any
//! input; the work per message is bounded.
//!
//! # Finding
//! Each source (the body text with quotes kept, and the HTML part turned into
//! text) is read as lines. A quote prefix (`>`, `> `, `>> `, `> > `) is
//! removed from every line and blank lines are set aside, so the remaining
//! lines form one text with a *break* where each line ended. A string starts
//! at `REG1;` and ends after `;sig=` and its 16 hex digits, even across
//! blank lines (an HTML mail may put every wrapped line in its own `<p>`),
//! as long as it stays within [`MAX_LEN`] bytes and no other `REG1;` starts
//! before the `;sig=`. A string without a `sig` ends at the first blank
//! line, where the next `REG1;` starts, or at the end of the text.
//!
//! # Rejoining
//! At each break the original text held either nothing (the client broke a
//! word or a value) or one space (the client broke the line where a space
//! stood). A space is only considered inside a value that may hold one
//! (every field but `id`, `epost`, `rolle`, `dato`, `fdato` and `sig`), not
//! at the edge of a value, not inside a `%XX` escape, and not where the line
//! already ended or the next one began with whitespace (the space is still
//! there). Each such break first gets a guess, the *heuristic*: a space
//! where the previous line ends in a letter and the next begins with a
//! capital letter ("Kari" / "Nordmann"), nothing otherwise ("Nordm" /
//! "ann", "+47" / "912"). With a secret the variants are tried in order of
//! how many guesses they change (the guesses themselves first, then every
//! single change, then pairs, ...), at most [`MAX_VARIANTS`] per string and
//! within a hashing budget per message; the variant whose signature
//! verifies wins. With no secret, or when nothing verifies, the heuristic
//! variant is the one reported.
//!
//! At most [`MAX_STRINGS`] strings are read from one message.
//!
//! Percent escapes (`%3B`, `%3D`, `%25`) are decoded in values after
//! verification: the signature is over the text as written.
//!
//! # Reporting
//! Every string is reported once per message, in the order found: the same
//! string in the text and the HTML part, or quoted twice, is one string
//! (strings are the same when their 16-digit `sig` is, or else their text;
//! the better report is kept: valid over unverified over malformed).

use std::collections::HashMap;
use std::ops::Range;

use chrono::NaiveDate;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::message::{Incoming, html_to_text};

type HmacSha256 = Hmac<Sha256>;

/// The longest string read, in bytes of rejoined text (a real string is
/// about 200); `;sig=` further away than this from `REG1;` is not looked
/// for, and a string without `sig` is cut here.
pub const MAX_LEN: usize = 4096;

/// At most this many strings are read from one message, counting every
/// occurrence (a string quoted twice, or in the text and the HTML part,
/// counts twice); the rest of the message is not read.
pub const MAX_STRINGS: usize = 500;

/// At most this many rejoined variants of one string are tried against its
/// signature (every variant of 14 uncertain breaks; a client wrapping at 72
/// characters makes two or three).
pub const MAX_VARIANTS: usize = 1 << 14;

/// Bytes hashed for variants beyond the first, per message (under a tenth
/// of a second of work in a release build). Past it each string gets only its heuristic
/// variant.
const HASH_BUDGET: usize = 32 << 20;

/// What starts a string.
const MARK: &str = "REG1;";
/// What precedes the signature.
const SIG: &str = ";sig=";
/// Hex digits in a signature.
const SIG_HEX: usize = 16;

/// Fields whose values never hold a space, so a line break in them is never
/// read as one.
const NO_SPACES: [&str; 6] = ["id", "epost", "rolle", "dato", "fdato", "sig"];

/// A registration read from a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// `id`: the form's id for this registration; registered only once.
    pub form_id: String,
    /// `lag`: the chapter, which must be in the rep's scope.
    pub chapter: String,
    /// `navn`: the person's name as written in the form.
    pub name: String,
    /// `epost`: the person's address, lower-cased; identifies the person.
    pub email: String,
    /// `tlf`, as written, if given (with the name, also identifies a person).
    pub phone: Option<String>,
    /// `rolle`; [`Role::Likeperson`] when absent.
    pub role: Role,
    /// `fdato`: date of birth, if given.
    pub birth_date: Option<NaiveDate>,
    /// `dato`: the day the form was filled in.
    pub date: NaiveDate,
    /// The whole string as rejoined, `REG1;` through `;sig=` and its digits
    /// (or to its end when it has no `sig`): what was verified, for the
    /// audit trail and for an admin to see.
    pub signed_text: String,
}

/// The role a registration asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    /// `likeperson`: a peer supporter (the default).
    #[default]
    Likeperson,
    /// `medlem`: a member.
    Medlem,
}

/// Why a string that reads well was not verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unverified {
    /// No registration secret is configured (or it is empty).
    NoSecret,
    /// The string has no `;sig=`.
    MissingSig,
    /// The signature does not match any rejoined variant of the string, or
    /// is not 16 hex digits.
    BadSig,
}

/// One registration string found in a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// The signature verifies and the fields read well: may be applied.
    Valid(Registration),
    /// The fields read well but the signature was not verified. Never
    /// applied: it becomes a pending item for an admin.
    Unverified {
        /// The fields as read from the heuristic variant of the string.
        reg: Registration,
        /// The string as rejoined (the same as `reg.signed_text`).
        text: String,
        /// Why it was not verified.
        reason: Unverified,
    },
    /// Starts with `REG1;` but the fields do not read (a required field is
    /// missing, a date is not a date, ...), whatever its signature.
    Malformed {
        /// The string as rejoined (the variant that verified, if one did).
        text: String,
        /// What is wrong, in plain words ("the field `epost` is missing").
        reason: String,
    },
}

impl Found {
    /// The string as rejoined, whatever became of it.
    pub fn text(&self) -> &str {
        match self {
            Found::Valid(reg) => &reg.signed_text,
            Found::Unverified { text, .. } | Found::Malformed { text, .. } => text,
        }
    }
}

/// Every registration string in the message: in `full_text` (quotes kept)
/// and, when there is an HTML part, in its text. `secret` is the
/// registration secret; `None` (or empty) reports every string as
/// [`Unverified::NoSecret`] at best. See the module documentation for how
/// strings are found and rejoined.
pub fn find(msg: &Incoming, secret: Option<&[u8]>) -> Vec<Found> {
    let mut finder = Finder::new(secret);
    finder.scan(&msg.full_text);
    // Any single break of "REG1;" in the HTML leaves "REG" or "G1;" whole.
    if let Some(html) = &msg.html
        && (html.contains("REG") || html.contains("G1;"))
    {
        let text = html_to_text(html);
        if text != msg.full_text {
            finder.scan(&text);
        }
    }
    finder.into_found()
}

/// Every registration string in one text, found as [`find`] does.
pub fn find_in_text(text: &str, secret: Option<&[u8]>) -> Vec<Found> {
    let mut finder = Finder::new(secret);
    finder.scan(text);
    finder.into_found()
}

/// The signature of a string: the first 16 hex digits (lower-case) of
/// HMAC-SHA256 keyed with `secret` over `text_before_sig`, the exact text
/// before `;sig=`.
pub fn sign(text_before_sig: &str, secret: &[u8]) -> String {
    // HMAC takes a key of any length (a long one is hashed first).
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(text_before_sig.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .take(SIG_HEX / 2)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Collects the strings of one message: the key, what is left of the
/// hashing budget, and what was found so far (deduplicated).
struct Finder {
    /// The keyed MAC, cloned for every variant; None without a secret.
    key: Option<HmacSha256>,
    /// Bytes that may still be hashed for variants beyond the first.
    budget: usize,
    /// Strings read so far, duplicates and trial reads included.
    reads: usize,
    /// What was found, in order.
    found: Vec<Found>,
    /// Dedup key (the sig or the text) -> index in `found`.
    seen: HashMap<String, usize>,
}

/// The text of one source as a single line: quote prefixes removed, blank
/// lines dropped, lines joined with nothing; `breaks` says where lines met.
struct Joined {
    /// The lines' contents, one after the other.
    text: String,
    /// Where each line after the first began, in order.
    breaks: Vec<Break>,
}

/// Where two lines met in [`Joined::text`].
#[derive(Debug, Clone, Copy)]
struct Break {
    /// Byte offset in the joined text.
    at: usize,
    /// Blank lines stood between the two lines.
    paragraph: bool,
    /// Whitespace is already on one side, so nothing is inserted here.
    fixed: bool,
}

/// A string's place in the joined text, before it is read.
struct Span<'a> {
    /// From `REG1;` to the end of the string.
    text: &'a str,
    /// The breaks strictly inside, at offsets relative to `text`.
    breaks: Vec<Break>,
    /// Offset of `;sig=` in `text`, if the string has one.
    sig_at: Option<usize>,
}

/// A string read: what to report, and whether the signature verified.
struct Read {
    /// The report.
    found: Found,
    /// A variant's signature verified (the report is valid or malformed).
    verified: bool,
    /// The 16 signature digits lower-cased, when the string had them.
    sig: Option<String>,
}

impl Finder {
    fn new(secret: Option<&[u8]>) -> Self {
        let key = secret
            .filter(|s| !s.is_empty())
            .and_then(|s| HmacSha256::new_from_slice(s).ok());
        Finder {
            key,
            budget: HASH_BUDGET,
            reads: 0,
            found: Vec::new(),
            seen: HashMap::new(),
        }
    }

    fn into_found(self) -> Vec<Found> {
        self.found
    }

    /// Finds and reads every string in one source text.
    fn scan(&mut self, source: &str) {
        let joined = join(source);
        let text = joined.text.as_str();
        let starts: Vec<usize> = text.match_indices(MARK).map(|(i, _)| i).collect();
        if starts.is_empty() {
            return;
        }
        let sigs: Vec<usize> = text.match_indices(SIG).map(|(i, _)| i).collect();
        let paragraphs: Vec<usize> = joined
            .breaks
            .iter()
            .filter(|b| b.paragraph)
            .map(|b| b.at)
            .collect();
        let first_after =
            |list: &[usize], at: usize| list.get(list.partition_point(|&x| x < at)).copied();

        let mut pos = 0;
        while self.reads < MAX_STRINGS {
            let Some(start) = first_after(&starts, pos) else {
                break;
            };
            let next_start = first_after(&starts, start + 1);
            // "REG1;sig=" is a string with no fields: the ';' is shared.
            let sig_at = first_after(&sigs, start + MARK.len() - 1)
                .filter(|&k| k - start <= MAX_LEN)
                .map(|k| (k, sig_end(text, k)));

            if let Some((k, end)) = sig_at {
                let span = span(&joined, start, end, Some(k));
                if next_start.is_none_or(|n| n > k) {
                    let read = self.read(&span);
                    self.add(read);
                    pos = end;
                    continue;
                }
                // Another "REG1;" stands before this `;sig=`: either this
                // string has no sig, or a value holds "REG1;" (then the
                // signature over the whole tells).
                if self.key.is_some() {
                    let read = self.read(&span);
                    if read.verified {
                        self.add(read);
                        pos = end;
                        continue;
                    }
                }
            }

            let limit = [
                next_start,
                // A blank line inside the mark itself ("RE" / "G1;", each in
                // its own HTML paragraph) does not end the string.
                first_after(&paragraphs, start + MARK.len()),
                Some(floor_boundary(text, start + MAX_LEN)),
            ]
            .into_iter()
            .flatten()
            .fold(text.len(), usize::min);
            let rest = text.get(start..limit).unwrap_or_default();
            let span = span(&joined, start, start + rest.trim_end().len(), None);
            let read = self.read(&span);
            self.add(read);
            pos = limit.max(start + 1);
        }
    }

    /// Records a string unless it was found before; a better report of the
    /// same string replaces the earlier one in its place.
    fn add(&mut self, read: Read) {
        let key = match &read.sig {
            Some(sig) => format!("sig:{sig}"),
            None => format!("text:{}", read.found.text()),
        };
        match self.seen.get(&key) {
            Some(&i) => {
                if let Some(old) = self.found.get_mut(i)
                    && rank(&read.found) > rank(old)
                {
                    *old = read.found;
                }
            }
            None => {
                self.seen.insert(key, self.found.len());
                self.found.push(read.found);
            }
        }
    }

    /// Rejoins, verifies and reads one string.
    fn read(&mut self, span: &Span) -> Read {
        self.reads += 1;
        let (head, tail) = match span.sig_at {
            Some(k) => (
                span.text.get(..k).unwrap_or_default(),
                span.text.get(k..).unwrap_or_default(),
            ),
            None => (span.text, ""),
        };
        let digits = tail.get(SIG.len()..).unwrap_or_default();
        let sig = (digits.len() == SIG_HEX).then(|| digits.to_ascii_lowercase());
        let flex = uncertain_breaks(head, &span.breaks);

        let verified = match (&self.key, &sig) {
            (Some(_), Some(sig)) => self.verify(head, &flex, sig),
            _ => None,
        };
        let is_verified = verified.is_some();
        let rejoined = verified.unwrap_or_else(|| variant(head, &flex, &[]));
        let text = format!("{rejoined}{tail}");

        let found = match fields(&rejoined, &text) {
            Err(reason) => Found::Malformed { text, reason },
            Ok(reg) if is_verified => Found::Valid(reg),
            Ok(reg) => {
                let reason = if span.sig_at.is_none() {
                    Unverified::MissingSig
                } else if self.key.is_none() {
                    Unverified::NoSecret
                } else {
                    Unverified::BadSig
                };
                Found::Unverified { reg, text, reason }
            }
        };
        Read {
            found,
            verified: is_verified,
            sig,
        }
    }

    /// The variant of `head` whose signature is `sig`, trying variants in
    /// order of how many heuristic guesses they change.
    fn verify(&mut self, head: &str, flex: &[(usize, bool)], sig: &str) -> Option<String> {
        let key = self.key.as_ref()?;
        let expected = hex_bytes(sig)?;
        let mut tried = 0usize;
        for changed in 0..=flex.len() {
            let mut flipped: Vec<usize> = (0..changed).collect();
            loop {
                if tried >= MAX_VARIANTS || (tried > 0 && self.budget < head.len()) {
                    return None;
                }
                if tried > 0 {
                    self.budget -= head.len();
                }
                tried += 1;
                let text = variant(head, flex, &flipped);
                let mut mac = key.clone();
                mac.update(text.as_bytes());
                if mac.verify_truncated_left(&expected).is_ok() {
                    return Some(text);
                }
                if !next_combination(&mut flipped, flex.len()) {
                    break;
                }
            }
        }
        None
    }
}

/// Valid over unverified over malformed.
fn rank(found: &Found) -> u8 {
    match found {
        Found::Valid(_) => 2,
        Found::Unverified { .. } => 1,
        Found::Malformed { .. } => 0,
    }
}

/// The lines of `source` joined into one, see [`Joined`].
fn join(source: &str) -> Joined {
    let mut text = String::with_capacity(source.len());
    let mut breaks = Vec::new();
    let mut blank = false;
    for line in source.lines() {
        let content = unquote(line);
        if content.trim().is_empty() {
            blank = true;
            continue;
        }
        if !text.is_empty() {
            breaks.push(Break {
                at: text.len(),
                paragraph: blank,
                fixed: text.ends_with(char::is_whitespace)
                    || content.starts_with(char::is_whitespace),
            });
        }
        text.push_str(content);
        blank = false;
    }
    Joined { text, breaks }
}

/// A line without its quote prefix: `>`, each optionally followed by one
/// space (`> `, `>> `, `> > `), after optional leading whitespace. A line
/// with no `>` first is returned as it is.
fn unquote(line: &str) -> &str {
    let mut rest = line.trim_start();
    if !rest.starts_with('>') {
        return line;
    }
    while let Some(after) = rest.strip_prefix('>') {
        rest = after.strip_prefix(' ').unwrap_or(after);
        let next = rest.trim_start();
        if next.starts_with('>') {
            rest = next;
        }
    }
    rest
}

/// The end of the signature that follows `;sig=` at `k`: at most 16 hex
/// digits.
fn sig_end(text: &str, k: usize) -> usize {
    let from = k + SIG.len();
    let digits = text
        .get(from..)
        .unwrap_or_default()
        .bytes()
        .take(SIG_HEX)
        .take_while(u8::is_ascii_hexdigit)
        .count();
    from + digits
}

/// The string from `start` to `end` in the joined text, with its breaks.
fn span<'a>(joined: &'a Joined, start: usize, end: usize, sig: Option<usize>) -> Span<'a> {
    let from = joined.breaks.partition_point(|b| b.at <= start);
    let breaks = joined
        .breaks
        .get(from..)
        .unwrap_or_default()
        .iter()
        .take_while(|b| b.at < end)
        .map(|b| Break {
            at: b.at - start,
            ..*b
        })
        .collect();
    Span {
        text: joined.text.get(start..end).unwrap_or_default(),
        breaks,
        sig_at: sig.map(|k| k - start),
    }
}

/// The largest char boundary of `text` at or below `at`.
fn floor_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The breaks of `head` where a space may have stood, each with the
/// heuristic guess (true: a space), in order.
fn uncertain_breaks(head: &str, breaks: &[Break]) -> Vec<(usize, bool)> {
    let values = value_ranges(head);
    breaks
        .iter()
        .filter(|b| !b.fixed && b.at < head.len())
        .filter(|b| {
            // The values stand in order and apart: only the last one that
            // starts before the break can hold it (a search, not a scan of
            // every value for every break: a long string broken at every
            // character took a second).
            let i = values.partition_point(|(_, range)| range.start < b.at);
            i.checked_sub(1)
                .and_then(|i| values.get(i))
                .is_some_and(|(key, range)| b.at < range.end && may_hold_space(key))
        })
        .filter(|b| !inside_escape(head.get(..b.at).unwrap_or_default()))
        .map(|b| {
            let before = head.get(..b.at).and_then(|s| s.chars().next_back());
            let after = head.get(b.at..).and_then(|s| s.chars().next());
            let guess =
                before.is_some_and(char::is_alphabetic) && after.is_some_and(char::is_uppercase);
            (b.at, guess)
        })
        .collect()
}

/// Whether text ending in `before` is inside a `%XX` escape (`%` or `%X`):
/// the form escapes every `%`, so no space can follow there.
fn inside_escape(before: &str) -> bool {
    let mut last = before.chars().rev();
    match (last.next(), last.next()) {
        (Some('%'), _) => true,
        (Some(c), Some('%')) => c.is_ascii_hexdigit(),
        _ => false,
    }
}

fn may_hold_space(key: &str) -> bool {
    !NO_SPACES.iter().any(|k| key.trim().eq_ignore_ascii_case(k))
}

/// Each field's key and the byte range of its value in `head` (which starts
/// with `REG1;`).
fn value_ranges(head: &str) -> Vec<(&str, Range<usize>)> {
    let mut out = Vec::new();
    let mut start = MARK.len();
    for field in head.get(MARK.len()..).unwrap_or_default().split(';') {
        if let Some((key, value)) = field.split_once('=') {
            let from = start + key.len() + 1;
            out.push((key, from..from + value.len()));
        }
        start += field.len() + 1;
    }
    out
}

/// `head` with a space at every uncertain break whose guess is a space,
/// except those listed in `flipped` (indices into `flex`, ascending), where
/// the guess is reversed.
fn variant(head: &str, flex: &[(usize, bool)], flipped: &[usize]) -> String {
    let mut out = String::with_capacity(head.len() + flex.len());
    let mut last = 0;
    let mut flips = flipped.iter().peekable();
    for (i, &(at, guess)) in flex.iter().enumerate() {
        let flip = flips.next_if(|&&f| f == i).is_some();
        if guess != flip {
            out.push_str(head.get(last..at).unwrap_or_default());
            out.push(' ');
            last = at;
        }
    }
    out.push_str(head.get(last..).unwrap_or_default());
    out
}

/// Steps `idx` (ascending indices below `n`) to the next combination of the
/// same size in lexicographic order; false after the last.
fn next_combination(idx: &mut [usize], n: usize) -> bool {
    let k = idx.len();
    let Some(i) = (0..k)
        .rev()
        .find(|&i| idx.get(i).is_some_and(|&v| v + k < n + i))
    else {
        return false;
    };
    let mut value = idx.get(i).copied().unwrap_or_default();
    for slot in idx.iter_mut().skip(i) {
        value += 1;
        *slot = value;
    }
    true
}

/// 16 hex digits as 8 bytes.
fn hex_bytes(hex: &str) -> Option<[u8; SIG_HEX / 2]> {
    let mut out = [0u8; SIG_HEX / 2];
    if hex.len() != SIG_HEX {
        return None;
    }
    for (byte, pair) in out.iter_mut().zip(hex.as_bytes().chunks(2)) {
        let pair = std::str::from_utf8(pair).ok()?;
        *byte = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

/// Reads the fields of a rejoined string (`head`: `REG1;` up to `;sig=`);
/// `text` is the whole string, kept in the registration. Every problem is
/// named, joined with "; ".
fn fields(head: &str, text: &str) -> Result<Registration, String> {
    let mut problems: Vec<String> = Vec::new();
    let mut values: Vec<(String, String)> = Vec::new();
    for field in head.get(MARK.len()..).unwrap_or_default().split(';') {
        if field.trim().is_empty() {
            continue;
        }
        let Some((key, value)) = field.split_once('=') else {
            problems.push(format!("`{}` is not a field (it has no `=`)", clip(field)));
            continue;
        };
        let key = key.trim().to_lowercase();
        if values.iter().any(|(k, _)| *k == key) {
            problems.push(format!("the field `{}` appears twice", clip(&key)));
            continue;
        }
        values.push((key, unescape(value).trim().to_string()));
    }
    let get = |key: &str| {
        values
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };

    let missing: Vec<&str> = ["id", "lag", "navn", "epost", "dato"]
        .into_iter()
        .filter(|k| get(k).is_none())
        .collect();
    match missing.as_slice() {
        [] => {}
        [one] => problems.push(format!("the field `{one}` is missing")),
        [init @ .., last] => problems.push(format!(
            "the fields {} and `{last}` are missing",
            init.iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }

    let email = get("epost").and_then(|e| {
        let email = address(e);
        if email.is_none() {
            problems.push(format!(
                "the field `epost` is not an email address: `{}`",
                clip(e)
            ));
        }
        email
    });
    let mut read_date = |key: &str| {
        get(key).and_then(|d| {
            let date = date(d);
            if date.is_none() {
                problems.push(format!(
                    "the field `{key}` is not a date (YYYY-MM-DD): `{}`",
                    clip(d)
                ));
            }
            date
        })
    };
    let date = read_date("dato");
    let birth_date = read_date("fdato");
    let role = match get("rolle").map(str::to_lowercase).as_deref() {
        None | Some("likeperson") => Role::Likeperson,
        Some("medlem") => Role::Medlem,
        Some(other) => {
            problems.push(format!(
                "the field `rolle` must be `likeperson` or `medlem`, not `{}`",
                clip(other)
            ));
            Role::Likeperson
        }
    };

    let owned = |key: &str| get(key).map(str::to_string);
    match (
        problems.is_empty(),
        owned("id"),
        owned("lag"),
        owned("navn"),
        email,
        date,
    ) {
        (true, Some(form_id), Some(chapter), Some(name), Some(email), Some(date)) => {
            Ok(Registration {
                form_id,
                chapter,
                name,
                email,
                phone: owned("tlf"),
                role,
                birth_date,
                date,
                signed_text: text.to_string(),
            })
        }
        // Every way to get here pushed a problem.
        _ => Err(problems.join("; ")),
    }
}

/// `%3B`, `%3D` and `%25` (either case) decoded to `;`, `=` and `%`; any
/// other `%` is left as it stands.
fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(i) = rest.find('%') {
        out.push_str(rest.get(..i).unwrap_or_default());
        let code = rest.get(i + 1..i + 3).map(str::to_ascii_uppercase);
        let decoded = match code.as_deref() {
            Some("3B") => Some(';'),
            Some("3D") => Some('='),
            Some("25") => Some('%'),
            _ => None,
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = rest.get(i + 3..).unwrap_or_default();
            }
            None => {
                out.push('%');
                rest = rest.get(i + 1..).unwrap_or_default();
            }
        }
    }
    out.push_str(rest);
    out
}

/// A date written exactly `YYYY-MM-DD`.
fn date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let shaped = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    shaped
        .then(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        .flatten()
}

/// An address with one `@`, something before it, a dotted domain after it
/// and no whitespace; lower-cased.
fn address(s: &str) -> Option<String> {
    let (local, domain) = s.split_once('@')?;
    let ok = !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.contains(char::is_whitespace);
    ok.then(|| crate::message::address_key(s))
}

/// At most 40 characters of `s`, for a reason.
fn clip(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(MAX).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combinations_in_order() {
        let mut all = Vec::new();
        for k in 0..=3 {
            let mut idx: Vec<usize> = (0..k).collect();
            loop {
                all.push(idx.clone());
                if !next_combination(&mut idx, 3) {
                    break;
                }
            }
        }
        assert_eq!(
            all,
            vec![
                vec![],
                vec![0],
                vec![1],
                vec![2],
                vec![0, 1],
                vec![0, 2],
                vec![1, 2],
                vec![0, 1, 2]
            ]
        );
    }

    #[test]
    fn unquotes() {
        assert_eq!(unquote("> a"), "a");
        assert_eq!(unquote(">> a"), "a");
        assert_eq!(unquote("> > a"), "a");
        assert_eq!(unquote(">a"), "a");
        assert_eq!(unquote("  > a"), "a");
        assert_eq!(unquote(" a"), " a");
        assert_eq!(unquote(">"), "");
    }

    #[test]
    fn unescapes() {
        assert_eq!(unescape("a%3Bb%3db%25c%2"), "a;b=b%c%2");
        assert_eq!(unescape("100%"), "100%");
        assert_eq!(unescape("%%3B"), "%;");
        assert_eq!(unescape("%æ"), "%æ");
    }

    #[test]
    fn variants() {
        let flex = [(4, true), (8, false)];
        assert_eq!(variant("abcdefghij", &flex, &[]), "abcd efghij");
        assert_eq!(variant("abcdefghij", &flex, &[0]), "abcdefghij");
        assert_eq!(variant("abcdefghij", &flex, &[1]), "abcd efgh ij");
        assert_eq!(variant("abcdefghij", &flex, &[0, 1]), "abcdefgh ij");
    }

    /// The search for the value holding a break finds what a scan of every
    /// value finds.
    #[test]
    fn breaks_in_values_as_a_scan_finds_them() {
        let heads = [
            "REG1;id=F-1;lag=Bergen;navn=Kari Nordmann;epost=k@x.no;tlf=%3B1;dato=2026-11-20",
            "REG1;a=b;;=;navn=;x;y=z=w;NAVN=Ab",
            "REG1;",
            "REG1;navn",
        ];
        for head in heads {
            let breaks: Vec<Break> = (0..=head.len())
                .map(|at| Break {
                    at,
                    paragraph: false,
                    fixed: false,
                })
                .collect();
            let values = value_ranges(head);
            let scanned: Vec<usize> = breaks
                .iter()
                .filter(|b| b.at < head.len())
                .filter(|b| {
                    values.iter().any(|(key, range)| {
                        range.start < b.at && b.at < range.end && may_hold_space(key)
                    })
                })
                .filter(|b| !inside_escape(&head[..b.at]))
                .map(|b| b.at)
                .collect();
            let found: Vec<usize> = uncertain_breaks(head, &breaks)
                .into_iter()
                .map(|(at, _)| at)
                .collect();
            assert_eq!(found, scanned, "{head}");
        }
    }

    /// Found by fuzzing: a blank line inside `REG1;` cut the string to
    /// "RE", which is no string at all.
    #[test]
    fn blank_line_inside_the_mark() {
        for secret in [None, Some(&b"k"[..])] {
            let found = find_in_text("RE\n\nG1;", secret);
            assert_eq!(found.len(), 1);
            assert_eq!(found[0].text(), "REG1;");
            let found = find_in_text("REG1\n\n;id=1\n\nx", secret);
            assert_eq!(found[0].text(), "REG1;id=1");
        }
    }

    #[test]
    fn dates() {
        assert!(date("2026-11-20").is_some());
        assert!(date("2026-02-30").is_none());
        assert!(date("2026-1-20").is_none());
        assert!(date("20-11-2026").is_none());
        assert!(date("２026-11-20").is_none());
    }
}
