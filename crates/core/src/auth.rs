//! `Authentication-Results` headers (RFC 8601): the value of one header ->
//! [`AuthResults`], and whether they make a sender verified (SPEC section
//! 10).
//!
//! The value is read by RFC 8601 section 2.2's grammar, strictly:
//!
//! ```text
//! authres-payload = [CFWS] authserv-id [ CFWS authres-version ]
//!                   ( no-result / 1*resinfo ) [CFWS]
//! authserv-id     = value                      ; token / quoted-string
//! authres-version = 1*DIGIT [CFWS]             ; only "1" is understood
//! no-result       = [CFWS] ";" [CFWS] "none"
//! resinfo         = [CFWS] ";" methodspec [ CFWS reasonspec ]
//!                   [ CFWS 1*propspec ]
//! methodspec      = [CFWS] method [CFWS] "=" [CFWS] result
//! method          = Keyword [ [CFWS] "/" [CFWS] method-version ]
//! reasonspec      = "reason" [CFWS] "=" [CFWS] value
//! propspec        = ptype [CFWS] "." [CFWS] property [CFWS] "=" pvalue
//! pvalue          = [CFWS] ( value / [ [ local-part ] "@" ] domain-name )
//!                   [CFWS]
//! ```
//!
//! `value` is RFC 2045's `token` or RFC 5322's `quoted-string`; `Keyword` is
//! RFC 5321's `Ldh-str`. UTF-8 is allowed where RFC 6532 and RFC 6531 allow
//! it (inside quoted strings and comments, in a domain-name's U-labels and in
//! a local-part), never in a token. A value that does not match the grammar
//! as a whole (a version other than 1, no `;` after the authserv-id, an
//! unclosed comment, a property out of place) gives an [`AuthResults`] that
//! is not [`valid`](AuthResults::valid): [`verified`] ignores it.
//!
//! The parser looks at every byte at most a fixed number of times and never
//! recurses, so any input, however long or deeply nested, is read in linear
//! time; it never panics.

/// One `Authentication-Results` header (RFC 8601), in the order they stand in
/// the message (topmost first).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthResults {
    /// Whether the value matched RFC 8601's grammar (with version 1). When
    /// false, every result below is empty and the header counts for nothing.
    pub valid: bool,
    /// The authserv-id (a token, or a quoted string's content), ASCII
    /// letters lower-cased ("mx.forbund.example"). Set when the id itself
    /// could be read, even if the rest of the header could not.
    pub authserv_id: String,
    /// The first `dmarc=` result, lower-cased ("pass", "fail"), if present.
    pub dmarc: Option<String>,
    /// Every `dmarc=` result with its `header.from=` domain (ASCII letters
    /// lower-cased, as written otherwise).
    pub dmarc_results: Vec<(String, Option<String>)>,
    /// Every `dkim=` result with its `header.d=` domain (ASCII letters
    /// lower-cased, as written otherwise). `header.i` is not a domain for
    /// this: a result without `header.d` has `None`.
    pub dkim: Vec<(String, Option<String>)>,
    /// The first `spf=` result, if present.
    pub spf: Option<String>,
}

/// Whether the sender `from` is verified by the server `trusted_id` (SPEC
/// section 10). `results` topmost first.
///
/// The header that decides is the topmost valid one whose authserv-id is
/// `trusted_id` (ASCII case-insensitive); headers of other servers above it,
/// and headers that do not parse, are skipped. It verifies the sender when
/// it has
/// - a `dmarc=pass` whose `header.from` is the From address's domain, or
/// - a `dkim=pass` whose `header.d` is aligned with the From domain: both
///   have the same organisational domain (public suffix plus one label, by
///   the Public Suffix List with its private entries). A public suffix
///   (`no`, `co.uk`, `example`, `github.io`) has no organisational domain
///   and is never aligned.
///
/// Domains are compared with ASCII case folding only; IDNs as written (a
/// U-label is not the same as its A-label here). Results with a method
/// version other than 1 (`dkim/2=pass`) are not counted.
pub fn verified(results: &[AuthResults], from: &str, trusted_id: Option<&str>) -> bool {
    let Some(trusted) = trusted_id.filter(|t| !t.is_empty()) else {
        return false;
    };
    let Some((_, domain)) = from.rsplit_once('@') else {
        return false;
    };
    let domain = domain.to_ascii_lowercase();
    if !is_domain(&domain) {
        return false;
    }
    let Some(ar) = results
        .iter()
        .find(|a| a.valid && a.authserv_id.eq_ignore_ascii_case(trusted))
    else {
        return false;
    };
    let dmarc = ar.dmarc_results.iter().any(|(result, header_from)| {
        result == "pass"
            && header_from
                .as_deref()
                .is_some_and(|f| f.eq_ignore_ascii_case(&domain))
    });
    dmarc
        || ar.dkim.iter().any(|(result, d)| {
            result == "pass" && d.as_deref().is_some_and(|d| aligned(d, &domain))
        })
}

/// DMARC's relaxed alignment: `a` and `b` (ASCII lower-case) have the same
/// organisational domain.
fn aligned(a: &str, b: &str) -> bool {
    let a = a.to_ascii_lowercase();
    match (organisational(&a), organisational(b)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// The registrable domain of `name` (lower-case, no trailing dot) by the
/// Public Suffix List, both its ICANN and private sections; a TLD the list
/// does not know (`example`, `test`) is a public suffix of one label. `None`
/// for a public suffix itself and for anything that is not a domain name.
fn organisational(name: &str) -> Option<&[u8]> {
    if !is_domain(name) {
        return None;
    }
    psl::domain(name.as_bytes()).map(|d| d.as_bytes())
}

/// A domain name as postbud aligns it: dot-separated labels, none empty (so
/// no trailing dot), each of ASCII letters, digits and `-` (not at either
/// end) or non-ASCII characters (a U-label, taken as written).
fn is_domain(name: &str) -> bool {
    !name.is_empty()
        && name.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || !b.is_ascii())
        })
}

/// Parses an unfolded `Authentication-Results` value. Never panics; linear
/// in the length of `value`.
pub fn parse(value: &str) -> AuthResults {
    let mut out = AuthResults::default();
    let mut p = Parser {
        s: value.as_bytes(),
        i: 0,
    };
    let Ok(results) = p.payload(&mut out.authserv_id) else {
        return AuthResults {
            authserv_id: out.authserv_id,
            ..AuthResults::default()
        };
    };
    out.valid = true;
    for r in results {
        if r.version.as_deref().is_some_and(|v| v != "1") {
            continue;
        }
        let prop = |ptype: &str, name: &str| {
            r.props
                .iter()
                .find(|(t, n, _)| t == ptype && n == name)
                .map(|(_, _, v)| v.to_ascii_lowercase())
        };
        match r.method.as_str() {
            "dkim" => out.dkim.push((r.result.clone(), prop("header", "d"))),
            "dmarc" => {
                if out.dmarc.is_none() {
                    out.dmarc = Some(r.result.clone());
                }
                out.dmarc_results
                    .push((r.result.clone(), prop("header", "from")));
            }
            "spf" if out.spf.is_none() => out.spf = Some(r.result.clone()),
            _ => {}
        }
    }
    out
}

/// One `resinfo`: method, its version, result and properties (`ptype`,
/// `property`, value), keywords lower-cased.
struct ResInfo {
    method: String,
    version: Option<String>,
    result: String,
    props: Vec<(String, String, String)>,
}

/// The value does not match the grammar.
struct Invalid;

type Parsed<T> = Result<T, Invalid>;

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn peek_at(&self, n: usize) -> Option<u8> {
        self.s.get(self.i + n).copied()
    }

    fn at_end(&self) -> bool {
        self.i >= self.s.len()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, b: u8) -> Parsed<()> {
        if self.eat(b) { Ok(()) } else { Err(Invalid) }
    }

    /// `authres-payload`; `id` is set as soon as the authserv-id is read.
    fn payload(&mut self, id: &mut String) -> Parsed<Vec<ResInfo>> {
        self.cfws()?;
        *id = self.value()?.to_ascii_lowercase();
        if self.cfws()? && self.peek().is_some_and(|b| b.is_ascii_digit()) {
            let version = self.digits();
            self.cfws()?;
            if version != "1" {
                return Err(Invalid);
            }
        }
        self.expect(b';')?;
        self.cfws()?;
        // no-result: "none" alone (a method may also be called "none...").
        let start = self.i;
        if self.keyword().is_ok_and(|k| k == "none") {
            self.cfws()?;
            if self.at_end() {
                return Ok(Vec::new());
            }
        }
        self.i = start;
        let mut results = Vec::new();
        loop {
            results.push(self.resinfo()?);
            // resinfo ends after its trailing CFWS: the end or the next ";".
            if self.at_end() {
                return Ok(results);
            }
            self.expect(b';')?;
            self.cfws()?;
        }
    }

    /// `methodspec [ CFWS reasonspec ] [ CFWS 1*propspec ] [CFWS]`, after
    /// the `;` and its CFWS.
    fn resinfo(&mut self) -> Parsed<ResInfo> {
        let method = self.keyword()?;
        self.cfws()?;
        let mut version = None;
        if self.eat(b'/') {
            self.cfws()?;
            let v = self.digits();
            if v.is_empty() {
                return Err(Invalid);
            }
            version = Some(v);
            self.cfws()?;
        }
        self.expect(b'=')?;
        self.cfws()?;
        let result = self.keyword()?;
        let mut info = ResInfo {
            method,
            version,
            result,
            props: Vec::new(),
        };
        let mut separated = self.cfws()?;
        if separated && self.starts_keyword() {
            // "reason" "=" is a reasonspec; "reason" "." a ptype.
            let start = self.i;
            let word = self.keyword()?;
            self.cfws()?;
            if word == "reason" && self.eat(b'=') {
                self.cfws()?;
                self.value()?;
                separated = self.cfws()?;
            } else {
                self.i = start;
            }
        }
        if separated {
            while self.starts_keyword() {
                info.props.push(self.propspec()?);
            }
        }
        Ok(info)
    }

    /// `propspec`, with the pvalue's trailing CFWS.
    fn propspec(&mut self) -> Parsed<(String, String, String)> {
        let ptype = self.keyword()?;
        self.cfws()?;
        self.expect(b'.')?;
        self.cfws()?;
        let property = self.keyword()?;
        self.cfws()?;
        self.expect(b'=')?;
        self.cfws()?;
        let value = self.pvalue()?;
        self.cfws()?;
        Ok((ptype, property, value))
    }

    /// `value / [ [ local-part ] "@" ] domain-name`, without the CFWS.
    fn pvalue(&mut self) -> Parsed<String> {
        if self.peek() == Some(b'"') {
            let quoted = self.quoted_string()?;
            if !self.eat(b'@') {
                return Ok(quoted);
            }
            // A quoted local-part.
            let domain = self.run();
            if !is_domain_name(domain) {
                return Err(Invalid);
            }
            return Ok(format!("\"{quoted}\"@{}", as_str(domain)));
        }
        let run = self.run();
        // A `/` is no token character, but base64 (`header.b=ab/Cd+9`, as
        // rspamd writes it) holds one in about one signature of eight; it
        // can change no structure, so it is read as part of the value.
        let ok = if run.iter().all(|&b| is_tchar(b) || b == b'/') {
            !run.is_empty()
        } else if let Some(at) = run.iter().position(|&b| b == b'@') {
            let (local, domain) = (&run[..at], &run[at + 1..]);
            (local.is_empty() || is_dot_atom(local)) && is_domain_name(domain)
        } else {
            is_domain_name(run)
        };
        if ok {
            Ok(as_str(run).to_string())
        } else {
            Err(Invalid)
        }
    }

    /// The longest run of bytes that could belong to a token, a dot-atom or
    /// a domain-name: up to whitespace, a control, `(`, `)`, `"`, `;` or the
    /// end.
    fn run(&mut self) -> &[u8] {
        let start = self.i;
        while let Some(b) = self.peek() {
            if b <= b' ' || b == 0x7f || matches!(b, b'(' | b')' | b'"' | b';') {
                break;
            }
            self.i += 1;
        }
        &self.s[start..self.i]
    }

    /// `value`: an RFC 2045 token or a quoted-string's content.
    fn value(&mut self) -> Parsed<String> {
        if self.peek() == Some(b'"') {
            return self.quoted_string();
        }
        let start = self.i;
        while self.peek().is_some_and(is_tchar) {
            self.i += 1;
        }
        if self.i == start {
            return Err(Invalid);
        }
        Ok(as_str(&self.s[start..self.i]).to_string())
    }

    /// RFC 5321's `Ldh-str` (`*( ALPHA / DIGIT / "-" ) Let-dig`),
    /// lower-cased.
    fn keyword(&mut self) -> Parsed<String> {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            self.i += 1;
        }
        let word = &self.s[start..self.i];
        match word.last() {
            Some(b) if b.is_ascii_alphanumeric() => Ok(as_str(word).to_ascii_lowercase()),
            _ => Err(Invalid),
        }
    }

    fn starts_keyword(&self) -> bool {
        self.peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'-')
    }

    fn digits(&mut self) -> String {
        let start = self.i;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.i += 1;
        }
        as_str(&self.s[start..self.i]).to_string()
    }

    /// `[CFWS]`: whether any was there. An unclosed or malformed comment is
    /// invalid.
    fn cfws(&mut self) -> Parsed<bool> {
        let start = self.i;
        loop {
            self.fws();
            if self.peek() == Some(b'(') {
                self.comment()?;
            } else {
                return Ok(self.i > start);
            }
        }
    }

    /// `[FWS]`: spaces and tabs, and a line break only before one.
    fn fws(&mut self) {
        loop {
            match (self.peek(), self.peek_at(1), self.peek_at(2)) {
                (Some(b' ' | b'\t'), _, _) => self.i += 1,
                (Some(b'\r'), Some(b'\n'), Some(b' ' | b'\t')) => self.i += 3,
                (Some(b'\n'), Some(b' ' | b'\t'), _) => self.i += 2,
                _ => return,
            }
        }
    }

    /// A comment, nested to any depth (counted, not recursed).
    fn comment(&mut self) -> Parsed<()> {
        let mut depth = 0usize;
        loop {
            self.fws();
            let b = self.peek().ok_or(Invalid)?;
            self.i += 1;
            match b {
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                b'\\' => self.quoted_pair_tail()?,
                b if is_ctext(b) => {}
                _ => return Err(Invalid),
            }
        }
    }

    /// The character after a `\`: VCHAR, WSP or (RFC 6532) UTF-8.
    fn quoted_pair_tail(&mut self) -> Parsed<()> {
        match self.peek() {
            Some(b) if (b'!'..=b'~').contains(&b) || b == b' ' || b == b'\t' || !b.is_ascii() => {
                self.i += 1;
                Ok(())
            }
            _ => Err(Invalid),
        }
    }

    /// A quoted-string at `"`: its content, unfolded and unescaped.
    fn quoted_string(&mut self) -> Parsed<String> {
        self.expect(b'"')?;
        let mut out = Vec::new();
        loop {
            let before = self.i;
            self.fws();
            // Unfolding drops the line breaks and keeps the blanks.
            out.extend(
                self.s[before..self.i]
                    .iter()
                    .filter(|&&b| b == b' ' || b == b'\t'),
            );
            let b = self.peek().ok_or(Invalid)?;
            self.i += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    self.quoted_pair_tail()?;
                    out.push(self.s[self.i - 1]);
                }
                b if is_qtext(b) => out.push(b),
                _ => return Err(Invalid),
            }
        }
        String::from_utf8(out).map_err(|_| Invalid)
    }
}

/// The bytes between two ASCII delimiters of a `&str` are UTF-8.
fn as_str(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or_default()
}

/// RFC 2045 token characters: US-ASCII but controls, space and tspecials.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?=".contains(&b)
}

/// RFC 5322 ctext with RFC 6532's UTF-8.
fn is_ctext(b: u8) -> bool {
    matches!(b, 33..=39 | 42..=91 | 93..=126) || !b.is_ascii()
}

/// RFC 5322 qtext with RFC 6532's UTF-8.
fn is_qtext(b: u8) -> bool {
    matches!(b, 33 | 35..=91 | 93..=126) || !b.is_ascii()
}

/// RFC 5322 atext with RFC 6532's UTF-8.
fn is_atext(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b) || !b.is_ascii()
}

/// `dot-atom-text`.
fn is_dot_atom(s: &[u8]) -> bool {
    s.split(|&b| b == b'.')
        .all(|atom| !atom.is_empty() && atom.iter().all(|&b| is_atext(b)))
}

/// DKIM's `domain-name` (RFC 6376 section 3.5: at least two labels) with
/// RFC 6531's U-labels.
fn is_domain_name(s: &[u8]) -> bool {
    let name = as_str(s);
    name.contains('.') && s.len() == name.len() && is_domain(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dkim(r: &str, d: Option<&str>) -> (String, Option<String>) {
        (r.to_string(), d.map(str::to_string))
    }

    const ID: Option<&str> = Some("mx.forbund.example");

    fn ok(headers: &[&str], from: &str) -> bool {
        let results: Vec<AuthResults> = headers.iter().map(|h| parse(h)).collect();
        verified(&results, from, ID)
    }

    #[test]
    fn fixture_form() {
        let r = parse(
            "mx.forbund.example; dkim=pass header.d=ffm.example; \
             spf=pass smtp.mailfrom=leder.bergen@ffm.example; dmarc=pass header.from=ffm.example",
        );
        assert!(r.valid);
        assert_eq!(r.authserv_id, "mx.forbund.example");
        assert_eq!(r.dkim, vec![dkim("pass", Some("ffm.example"))]);
        assert_eq!(r.spf.as_deref(), Some("pass"));
        assert_eq!(r.dmarc.as_deref(), Some("pass"));
        assert_eq!(r.dmarc_results, vec![dkim("pass", Some("ffm.example"))]);
    }

    #[test]
    fn comments_versions_and_spacing() {
        let r = parse(
            "mx.example.com 1 (the mx); dkim = fail (bad sig; really) header.d=\"Bank.Example\" \
             header.s=x; dkim/1=pass header.i=@Other.Example; spf=softfail (sender (nested)) \
             smtp.mailfrom=a@b.example; DMARC=Fail (p=reject) header.from=bank.example",
        );
        assert!(r.valid);
        assert_eq!(r.authserv_id, "mx.example.com");
        // header.i is not a domain for alignment.
        assert_eq!(
            r.dkim,
            vec![dkim("fail", Some("bank.example")), dkim("pass", None)]
        );
        assert_eq!(r.spf.as_deref(), Some("softfail"));
        assert_eq!(r.dmarc.as_deref(), Some("fail"));
    }

    #[test]
    fn none_and_garbage() {
        let r = parse("mx.forbund.example; none");
        assert!(r.valid);
        assert_eq!(r.authserv_id, "mx.forbund.example");
        assert!(r.dkim.is_empty() && r.dmarc.is_none() && r.spf.is_none());
        assert_eq!(parse(""), AuthResults::default());
        let r = parse("(unclosed ; dkim=pass");
        assert!(!r.valid && r.dkim.is_empty());
        // An empty pvalue or result does not parse: the header is ignored.
        let r = parse("x; dkim=pass header.d= ; dmarc=");
        assert!(!r.valid && r.dkim.is_empty() && r.dmarc.is_none());
        assert_eq!(r.authserv_id, "x");
        assert!(!parse("x; none; dkim=pass").valid);
        assert!(parse("x; none=pass").valid);
    }

    /// The old parser read these; RFC 8601 does not, so they count for
    /// nothing now.
    #[test]
    fn missing_semicolons_and_other_versions_do_not_parse() {
        for bad in [
            "mx.x dkim=pass header.d=a.example dmarc=pass",
            "mx.x 2; dkim=pass header.d=a.example",
            "mx.x 1 2; dkim=pass",
            "mx.x; dkim=pass header.d=a.example dmarc=pass",
            "mx.x; dkim=pass header.d=a.example reason=late",
            "mx.x; dkim=pass header_d=a.example",
            "mx.x; dkim=pass; ",
            "mx.x; dkim=pass (unclosed",
            "mx.x; dkim=pass header.d=\"unclosed",
            "\"mx.x; dkim=pass",
            "mx.x:25; dkim=pass",
            "spf=pass smtp.mailfrom=a.example",
        ] {
            assert!(!parse(bad).valid, "{bad}");
        }
    }

    #[test]
    fn rfc_forms_that_parse() {
        for good in [
            "mx.x; dkim=pass",
            "mx.x 1; dkim=pass",
            "mx.x(c)1(c);(c)dkim(c)/(c)1(c)=(c)pass(c)reason(c)=(c)\"ok\"(c)header(c).(c)d(c)=(c)a.example(c)",
            "\"mx.x\"; dkim=pass header.d=a.example",
            "mx.x; dkim=pass header.d=\"a.example\"header.s=sel",
            "mx.x; dkim=pass header.b=\"ab/cd\" header.d=a.example",
            // base64 as rspamd and Gmail write it, unquoted (see `value`).
            "mx.x; dkim=pass header.b=ab/Cd+9 header.d=a.example",
            "mx.x; spf=pass smtp.mailfrom=\"a b\"@a.example",
            "mx.x; spf=pass smtp.mailfrom=a/b=c@a.example smtp.helo=@a.example",
            "mx.x; dkim=pass header.d=bücher.example (ø)",
            "mx.x; dkim=pass\r\n header.d=a.example",
            "mx.x; dkim=pass reason=z reason.x=y",
            "  mx.x  ;  none  ",
        ] {
            assert!(parse(good).valid, "{good}");
        }
        let r = parse("mx.x; dkim=pass reason=\"a; b\" header.d=\"A\\.example\"");
        assert_eq!(r.dkim, vec![dkim("pass", Some("a.example"))]);
        let r = parse("\"MX.\\x\" (c); none");
        assert_eq!(r.authserv_id, "mx.x");
    }

    #[test]
    fn dmarc_needs_the_from_domain() {
        let h = |v: &str| format!("mx.forbund.example; dmarc=pass{v}");
        assert!(ok(&[&h(" header.from=ffm.example")], "a@ffm.example"));
        assert!(ok(&[&h(" header.from=FFM.Example")], "a@ffm.EXAMPLE"));
        assert!(!ok(&[&h("")], "a@ffm.example"));
        assert!(!ok(&[&h(" header.from=evil.example")], "a@ffm.example"));
        assert!(!ok(&[&h(" header.from=mail.ffm.example")], "a@ffm.example"));
        assert!(!ok(&[&h(" header.from=ffm.example")], "a@mail.ffm.example"));
    }

    #[test]
    fn dkim_alignment_by_the_public_suffix_list() {
        let h = |d: &str| format!("mx.forbund.example; dkim=pass header.d={d}");
        for (d, from, expected) in [
            ("ffm.example", "a@ffm.example", true),
            ("mail.ffm.example", "a@ffm.example", true),
            ("ffm.example", "a@lag.ffm.example", true),
            ("x.ffm.example", "a@y.ffm.example", true),
            ("ffm.no", "a@a.ffm.no", true),
            ("example", "a@ffm.example", false),
            ("no", "a@ffm.no", false),
            ("co.uk", "a@ffm.co.uk", false),
            ("ffm.co.uk", "a@x.ffm.co.uk", true),
            ("evil.co.uk", "a@ffm.co.uk", false),
            ("github.io", "a@ffm.github.io", false),
            ("evil.github.io", "a@ffm.github.io", false),
            ("evilffm.example", "a@ffm.example", false),
            ("ffm.example.", "a@ffm.example", false),
            ("ffm.example", "a@[192.0.2.1]", false),
        ] {
            assert_eq!(ok(&[&h(d)], from), expected, "d={d} from={from}");
        }
    }

    #[test]
    fn properties_and_comments_do_not_end_a_result() {
        assert!(ok(
            &[
                "mx.forbund.example; dkim=pass reason=\"signature ok\" (good) \
               header.i=@ffm.example (i) policy.x=y header.d=ffm.example"
            ],
            "a@ffm.example"
        ));
        assert!(!ok(
            &["mx.forbund.example; dkim=pass header.i=@ffm.example"],
            "a@ffm.example"
        ));
    }

    #[test]
    fn ascii_case_folding_only() {
        let h = "mx.forbund.example; dkim=pass header.d=\u{212A}ommune.no";
        assert!(!ok(&[h], "a@kommune.no"));
        let h = "mx.forbund.example; dmarc=pass header.from=kommune.no";
        assert!(!ok(&[h], "a@\u{212A}ommune.no"));
        let h = "mx.forbund.example; dmarc=pass header.from=\"b\u{fc}cher.example\"";
        assert!(ok(&[h], "a@b\u{fc}cher.example"));
        assert!(!ok(&[h], "a@B\u{dc}CHER.example"));
    }

    #[test]
    fn the_topmost_parsing_header_of_the_trusted_server_decides() {
        let pass = "mx.forbund.example; dmarc=pass header.from=ffm.example";
        let fail = "mx.forbund.example; dmarc=fail header.from=ffm.example";
        assert!(ok(&["other.example; dmarc=fail", pass], "a@ffm.example"));
        assert!(!ok(&[fail, pass], "a@ffm.example"));
        assert!(ok(
            &["mx.forbund.example 2; dmarc=fail", pass],
            "a@ffm.example"
        ));
        assert!(ok(
            &["MX.Forbund.Example; dmarc=pass header.from=ffm.example"],
            "a@ffm.example"
        ));
        assert!(!ok(
            &["mx.forbund.example.evil; dmarc=pass header.from=ffm.example"],
            "a@ffm.example"
        ));
        let r = [parse(pass)];
        assert!(!verified(&r, "a@ffm.example", Some("")));
        assert!(!verified(&r, "a@ffm.example", None));
        assert!(!verified(&r, "ffm.example", ID));
    }

    #[test]
    fn big_inputs_are_linear() {
        let n = 1 << 20;
        for value in [
            "(".repeat(n),
            format!("mx; dkim=pass {}", "(".repeat(n)),
            format!("mx; dkim=pass reason=\"{}", "\\x".repeat(n / 2)),
            format!("mx; {}", "dkim=pass header.d=a.example; ".repeat(n / 32))
                .trim_end_matches("; ")
                .to_string(),
            format!("mx; dkim=pass header.d={}", "a.".repeat(n / 2)),
            "a".repeat(n),
            ";".repeat(n),
        ] {
            let start = std::time::Instant::now();
            let r = parse(&value);
            let _ = verified(&[r], "a@a.example", Some("mx"));
            assert!(start.elapsed().as_secs() < 5, "{}", &value[..20]);
        }
    }
}
