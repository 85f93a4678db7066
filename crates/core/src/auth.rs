//! `Authentication-Results` headers (RFC 8601): the value of one header ->
//! [`AuthResults`], and whether they make a sender verified (SPEC section
//! 10). Lenient: comments are dropped, whitespace around `=` is allowed, and
//! a result that is missing its `;` separator is still read.

/// One `Authentication-Results` header (RFC 8601), in the order they stand in
/// the message (topmost first).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthResults {
    /// The authserv-id, the first token ("mx.forbund.example").
    pub authserv_id: String,
    /// `dmarc=` result, lower-cased ("pass", "fail"), if present.
    pub dmarc: Option<String>,
    /// Every `dkim=` result with its `header.d=` domain (lower-cased).
    pub dkim: Vec<(String, Option<String>)>,
    /// `spf=` result, if present.
    pub spf: Option<String>,
}

/// Whether the sender `from` is verified by the server `trusted_id`: the
/// topmost header of that server says `dmarc=pass`, or `dkim=pass` with a
/// `header.d` aligned to the From domain. `results` topmost first.
pub fn verified(results: &[AuthResults], from: &str, trusted_id: Option<&str>) -> bool {
    let Some(trusted) = trusted_id else {
        return false;
    };
    let Some(domain) = from.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()) else {
        return false;
    };
    let Some(ar) = results
        .iter()
        .find(|a| a.authserv_id.eq_ignore_ascii_case(trusted))
    else {
        return false;
    };
    if ar.dmarc.as_deref() == Some("pass") {
        return true;
    }
    ar.dkim.iter().any(|(result, d)| {
        result == "pass"
            && d.as_deref().is_some_and(|d| {
                let d = d.to_ascii_lowercase();
                domain == d || domain.ends_with(&format!(".{d}"))
            })
    })
}

#[derive(Debug, PartialEq, Eq)]
enum Token {
    Word(String),
    Semi,
    Eq,
}

/// Parses an unfolded `Authentication-Results` value. Never panics.
pub(crate) fn parse(value: &str) -> AuthResults {
    let items = pair_up(tokenize(value));
    let mut out = AuthResults::default();
    let mut items = items.into_iter().peekable();

    // authserv-id [version] ";" ...; a header that starts straight with a
    // result has no authserv-id.
    if let Some(Item::Word(id)) = items.peek() {
        out.authserv_id = id.to_ascii_lowercase();
        items.next();
    }

    let mut method = String::new();
    for item in items {
        let Item::Pair(key, val) = item else {
            continue;
        };
        let key = key.to_ascii_lowercase();
        if !key.contains('.') {
            method = key.split('/').next().unwrap_or_default().trim().to_string();
            let result = val.to_ascii_lowercase();
            match method.as_str() {
                "dkim" => out.dkim.push((result, None)),
                "dmarc" if out.dmarc.is_none() => out.dmarc = Some(result),
                "spf" if out.spf.is_none() => out.spf = Some(result),
                _ => {}
            }
            continue;
        }
        if method != "dkim" {
            continue;
        }
        let domain = match key.as_str() {
            "header.d" => val.trim().to_ascii_lowercase(),
            "header.i" => val
                .rsplit('@')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase(),
            _ => continue,
        };
        if let Some((_, d @ None)) = out.dkim.last_mut()
            && !domain.is_empty()
        {
            *d = Some(domain);
        }
    }
    out
}

#[derive(Debug, PartialEq, Eq)]
enum Item {
    /// A lone word: the authserv-id, a version, `none`.
    Word(String),
    /// `key=value`.
    Pair(String, String),
    Semi,
}

/// Joins `word = word` into pairs.
fn pair_up(tokens: Vec<Token>) -> Vec<Item> {
    let mut items = Vec::new();
    let mut tokens = tokens.into_iter().peekable();
    while let Some(token) = tokens.next() {
        match token {
            Token::Semi => items.push(Item::Semi),
            Token::Eq => {} // a stray `=`
            Token::Word(word) => {
                if tokens.peek() == Some(&Token::Eq) {
                    tokens.next();
                    let value = match tokens.peek() {
                        Some(Token::Word(_)) => match tokens.next() {
                            Some(Token::Word(v)) => v,
                            _ => String::new(),
                        },
                        _ => String::new(),
                    };
                    items.push(Item::Pair(word, value));
                } else {
                    items.push(Item::Word(word));
                }
            }
        }
    }
    items
}

/// Words, `;` and `=`, with comments dropped and quoted strings unquoted.
fn tokenize(value: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    let mut chars = value.chars();
    let flush = |word: &mut String, tokens: &mut Vec<Token>| {
        if !word.is_empty() {
            tokens.push(Token::Word(std::mem::take(word)));
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '(' => {
                flush(&mut word, &mut tokens);
                let mut depth = 1usize;
                while depth > 0 {
                    match chars.next() {
                        Some('(') => depth += 1,
                        Some(')') => depth -= 1,
                        Some('\\') => {
                            chars.next();
                        }
                        Some(_) => {}
                        None => break,
                    }
                }
            }
            '"' => loop {
                match chars.next() {
                    Some('"') | None => break,
                    Some('\\') => {
                        if let Some(c) = chars.next() {
                            word.push(c);
                        }
                    }
                    Some(c) => word.push(c),
                }
            },
            ';' => {
                flush(&mut word, &mut tokens);
                tokens.push(Token::Semi);
            }
            '=' => {
                flush(&mut word, &mut tokens);
                tokens.push(Token::Eq);
            }
            c if c.is_whitespace() => flush(&mut word, &mut tokens),
            c => word.push(c),
        }
    }
    flush(&mut word, &mut tokens);
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dkim(r: &str, d: Option<&str>) -> (String, Option<String>) {
        (r.to_string(), d.map(str::to_string))
    }

    #[test]
    fn fixture_form() {
        let r = parse(
            "mx.forbund.example; dkim=pass header.d=ffm.example; \
             spf=pass smtp.mailfrom=leder.bergen@ffm.example; dmarc=pass header.from=ffm.example",
        );
        assert_eq!(r.authserv_id, "mx.forbund.example");
        assert_eq!(r.dkim, vec![dkim("pass", Some("ffm.example"))]);
        assert_eq!(r.spf.as_deref(), Some("pass"));
        assert_eq!(r.dmarc.as_deref(), Some("pass"));
    }

    #[test]
    fn comments_versions_and_spacing() {
        let r = parse(
            "mx.example.com 1 (the mx); dkim = fail (bad sig; really) header.d=\"Bank.Example\" \
             header.s=x; dkim/1=pass header.i=@Other.Example; spf=softfail (sender (nested)) \
             smtp.mailfrom=a@b; DMARC=Fail (p=reject) header.from=bank.example",
        );
        assert_eq!(r.authserv_id, "mx.example.com");
        assert_eq!(
            r.dkim,
            vec![
                dkim("fail", Some("bank.example")),
                dkim("pass", Some("other.example"))
            ]
        );
        assert_eq!(r.spf.as_deref(), Some("softfail"));
        assert_eq!(r.dmarc.as_deref(), Some("fail"));
    }

    #[test]
    fn none_and_garbage() {
        let r = parse("mx.forbund.example; none");
        assert_eq!(r.authserv_id, "mx.forbund.example");
        assert!(r.dkim.is_empty() && r.dmarc.is_none() && r.spf.is_none());
        let r = parse("");
        assert_eq!(r, AuthResults::default());
        let r = parse("(unclosed ; dkim=pass");
        assert!(r.dkim.is_empty());
        let r = parse("x; dkim=pass header.d= ; = ; dmarc=");
        assert_eq!(r.dkim, vec![dkim("pass", None)]);
        assert_eq!(r.dmarc.as_deref(), Some(""));
    }

    #[test]
    fn missing_semicolons() {
        let r = parse("mx.x dkim=pass header.d=a.example dmarc=pass");
        assert_eq!(r.authserv_id, "mx.x");
        assert_eq!(r.dkim, vec![dkim("pass", Some("a.example"))]);
        assert_eq!(r.dmarc.as_deref(), Some("pass"));
    }
}
