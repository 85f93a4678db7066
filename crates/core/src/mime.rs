//! How deep a message's MIME parts nest, found by a linear scan of the raw
//! bytes before mail-parser builds its tree: a tree tens of thousands of
//! levels deep overflows the stack when it is walked or dropped, so a
//! message nested deeper than the limit (SPEC section 3: 30) is never given
//! to the parser.
//!
//! The scan follows what mail-parser does: a header block; a `multipart/*`
//! part with a boundary opens a level whose children start after each
//! `--boundary` line; a `message/rfc822` (or `message/global`) part that is
//! not base64 or quoted-printable encoded holds a nested message whose
//! header block starts right after its own; an encoded one is parsed by
//! mail-parser at most 3 levels deep and counts as one level here. The
//! scan stops as soon as the limit is passed, so its work is bounded by the
//! bytes it has to look at.

use mail_parser::decoders::{base64::base64_decode, quoted_printable::quoted_printable_decode};

/// The nesting depth of `raw` when it is at most `limit`; `Err` when it is
/// deeper (with the depth reached when the scan stopped). A container
/// (multipart, nested message) is one level; its parts are inside it.
pub fn depth(raw: &[u8], limit: usize) -> Result<usize, usize> {
    depth_in(raw, limit, 3)
}

/// [`depth`], looking into at most `encoded` levels of encoded nested
/// messages (mail-parser decodes and parses 3).
fn depth_in(raw: &[u8], limit: usize, encoded: usize) -> Result<usize, usize> {
    // Open multiparts, innermost last: their boundary and level.
    let mut stack: Vec<(Vec<u8>, usize)> = Vec::new();
    let (mut pos, mut level, mut deepest) = (0usize, 0usize, 0usize);
    loop {
        let block = header_block(raw, pos);
        pos = block.body;
        let opened = match block.kind {
            Part::Leaf => None,
            Part::Message => Some(None),
            Part::Multipart(boundary) => Some(Some(boundary)),
            Part::EncodedMessage(base64) => {
                // Decoded, it is a message of its own, one level down.
                if encoded > 0 {
                    let end = match stack.last() {
                        Some((b, _)) => delimiter_start(raw, pos, b).unwrap_or(raw.len()),
                        None => raw.len(),
                    };
                    let body = &raw[pos..end];
                    let decoded = if base64 {
                        base64_decode(body)
                    } else {
                        quoted_printable_decode(body)
                    };
                    if let Some(decoded) = decoded {
                        let room = limit.saturating_sub(level + 1);
                        match depth_in(&decoded, room, encoded - 1) {
                            Ok(d) => deepest = deepest.max(level + 1 + d),
                            Err(d) => return Err(level + 1 + d),
                        }
                        if deepest > limit {
                            return Err(deepest);
                        }
                    }
                }
                None
            }
        };
        if let Some(boundary) = opened {
            level += 1;
            deepest = deepest.max(level);
            if deepest > limit {
                return Err(deepest);
            }
            match boundary {
                // A nested message's header block follows at once.
                None => continue,
                Some(b) => {
                    let first = next_delimiter(raw, pos, &b);
                    stack.push((b, level));
                    match first {
                        Some((after, false)) => {
                            pos = after;
                            continue;
                        }
                        Some((after, true)) => {
                            pos = after;
                            stack.pop();
                        }
                        None => return Ok(deepest),
                    }
                }
            }
        }
        // After a leaf (or an empty multipart): the next part of the
        // innermost open multipart, closing those that end.
        loop {
            let Some((boundary, at)) = stack.last() else {
                return Ok(deepest);
            };
            match next_delimiter(raw, pos, boundary) {
                Some((after, false)) => {
                    pos = after;
                    level = *at;
                    break;
                }
                Some((after, true)) => {
                    pos = after;
                    stack.pop();
                }
                None => return Ok(deepest),
            }
        }
    }
}

/// What a header block says the part is.
enum Part {
    Multipart(Vec<u8>),
    Message,
    /// A nested message in base64 (`true`) or quoted-printable.
    EncodedMessage(bool),
    Leaf,
}

struct Block {
    kind: Part,
    /// Where the body starts.
    body: usize,
}

/// Reads the header block at `pos`: the part's content type (and boundary)
/// and transfer encoding, and where its body starts.
fn header_block(raw: &[u8], pos: usize) -> Block {
    let mut i = pos;
    let mut content_type: Vec<u8> = Vec::new();
    let mut encoding: Vec<u8> = Vec::new();
    // Which header the current (possibly folded) line continues.
    let mut current: u8 = 0;
    while i < raw.len() {
        let end = raw[i..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(raw.len(), |e| i + e + 1);
        let line = &raw[i..end];
        let trimmed = trim_eol(line);
        i = end;
        if trimmed.is_empty() {
            break;
        }
        if trimmed[0] == b' ' || trimmed[0] == b'\t' {
            match current {
                1 if content_type.len() < 4096 => content_type.extend_from_slice(trimmed),
                2 if encoding.len() < 256 => encoding.extend_from_slice(trimmed),
                _ => {}
            }
            continue;
        }
        current = 0;
        if let Some(v) = value_of(trimmed, b"content-type") {
            content_type = v.iter().take(4096).copied().collect();
            current = 1;
        } else if let Some(v) = value_of(trimmed, b"content-transfer-encoding") {
            encoding = v.iter().take(256).copied().collect();
            current = 2;
        }
    }
    let ct = content_type.to_ascii_lowercase();
    let ct_trim: Vec<u8> = ct
        .iter()
        .copied()
        .skip_while(|b| b.is_ascii_whitespace())
        .collect();
    let kind = if ct_trim.starts_with(b"multipart/") {
        match boundary(&content_type) {
            Some(b) if !b.is_empty() => Part::Multipart(b),
            _ => Part::Leaf,
        }
    } else if ct_trim.starts_with(b"message/rfc822") || ct_trim.starts_with(b"message/global") {
        let enc = encoding.to_ascii_lowercase();
        let enc = trim_ws(&enc);
        if enc.starts_with(b"base64") {
            Part::EncodedMessage(true)
        } else if enc.starts_with(b"quoted-printable") {
            Part::EncodedMessage(false)
        } else {
            Part::Message
        }
    } else {
        Part::Leaf
    };
    Block { kind, body: i }
}

/// The value of header `name` on `line` (`Name: value`), case-insensitive.
fn value_of<'a>(line: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let colon = line.iter().position(|&b| b == b':')?;
    let head = trim_ws(&line[..colon]);
    head.eq_ignore_ascii_case(name).then(|| &line[colon + 1..])
}

/// The `boundary=` parameter of a content type, unquoted.
fn boundary(ct: &[u8]) -> Option<Vec<u8>> {
    let lower = ct.to_ascii_lowercase();
    let at = lower
        .windows(9)
        .position(|w| w == b"boundary=")
        .map(|p| p + 9)?;
    let rest = &ct[at..];
    let value: Vec<u8> = if rest.first() == Some(&b'"') {
        rest[1..]
            .iter()
            .take_while(|&&b| b != b'"')
            .copied()
            .collect()
    } else {
        rest.iter()
            .take_while(|&&b| b != b';' && !b.is_ascii_whitespace())
            .copied()
            .collect()
    };
    Some(value)
}

/// Where the next `--boundary` line at or after `pos` starts.
fn delimiter_start(raw: &[u8], pos: usize, boundary: &[u8]) -> Option<usize> {
    let mut i = pos;
    while i < raw.len() {
        if (i == 0 || raw[i - 1] == b'\n')
            && raw[i..].starts_with(b"--")
            && raw[i + 2..].starts_with(boundary)
        {
            return Some(i);
        }
        i += raw[i..].iter().position(|&b| b == b'\n')? + 1;
    }
    None
}

/// The next `--boundary` line at or after `pos`: where the line after it
/// starts, and whether it closes (`--boundary--`).
fn next_delimiter(raw: &[u8], pos: usize, boundary: &[u8]) -> Option<(usize, bool)> {
    let mut i = pos;
    while i < raw.len() {
        let at_line_start = i == 0 || raw[i - 1] == b'\n';
        if at_line_start && raw[i..].starts_with(b"--") && raw[i + 2..].starts_with(boundary) {
            let after_b = i + 2 + boundary.len();
            let closing = raw[after_b..].starts_with(b"--");
            let end = raw[after_b..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(raw.len(), |e| after_b + e + 1);
            return Some((end, closing));
        }
        // Jump to the next line.
        match raw[i..].iter().position(|&b| b == b'\n') {
            Some(e) => i += e + 1,
            None => return None,
        }
    }
    None
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    while end > 0 && (line[end - 1] == b'\n' || line[end - 1] == b'\r') {
        end -= 1;
    }
    &line[..end]
}

fn trim_ws(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &s[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(n: usize) -> Vec<u8> {
        let mut raw = String::from("From: a@b.example\r\nSubject: x\r\n");
        for _ in 0..n {
            raw.push_str("Content-Type: message/rfc822\r\n\r\n");
        }
        raw.push_str("Content-Type: text/plain\r\n\r\nhello\r\n");
        raw.into_bytes()
    }

    #[test]
    fn nested_messages_are_counted_and_stopped_at_the_limit() {
        assert_eq!(depth(&nested(0), 30), Ok(0));
        assert_eq!(depth(&nested(30), 30), Ok(30));
        assert_eq!(depth(&nested(31), 30), Err(31));
        let t = std::time::Instant::now();
        assert!(depth(&nested(500_000), 30).is_err());
        assert!(t.elapsed().as_millis() < 500, "{:?}", t.elapsed());
    }

    #[test]
    fn siblings_do_not_add_up_and_children_do() {
        let flat = "From: a@b\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
            --b1\r\nContent-Type: text/plain\r\n\r\nhei\r\n\
            --b1\r\nContent-Type: message/rfc822\r\n\r\nFrom: c@d\r\nSubject: fwd\r\n\r\nbody\r\n\
            --b1\r\nContent-Type: message/rfc822\r\n\r\nFrom: e@f\r\nSubject: fwd\r\n\r\nbody\r\n\
            --b1\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n\
            --b1--\r\n";
        assert_eq!(depth(flat.as_bytes(), 30), Ok(2));
        let deep = "From: a@b\r\nContent-Type: multipart/mixed; boundary=outer\r\n\r\n\
            --outer\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n\
            --inner\r\nContent-Type: text/plain\r\n\r\nhei\r\n\
            --inner\r\nContent-Type: text/html\r\n\r\n<p>hei</p>\r\n\
            --inner--\r\n\
            --outer\r\nContent-Type: text/plain\r\n\r\nvedlegg\r\n\
            --outer--\r\n";
        assert_eq!(depth(deep.as_bytes(), 30), Ok(2));
    }

    #[test]
    fn deep_multiparts_are_stopped_too() {
        let mut raw = String::from("From: a@b\r\n");
        for i in 0..100 {
            raw.push_str(&format!(
                "Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n"
            ));
        }
        raw.push_str("Content-Type: text/plain\r\n\r\nhei\r\n");
        assert_eq!(depth(raw.as_bytes(), 30), Err(31));
        assert_eq!(depth(raw.as_bytes(), 200), Ok(100));
    }

    #[test]
    fn a_deep_message_hidden_in_base64_is_found() {
        let inner = nested(100);
        let b64: String = {
            const T: &[u8; 64] =
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            let mut out = String::new();
            for chunk in inner.chunks(3) {
                let n = chunk.iter().fold(0u32, |a, &b| a << 8 | u32::from(b))
                    << (8 * (3 - chunk.len()));
                for k in 0..4 {
                    if k <= chunk.len() {
                        out.push(T[(n >> (18 - 6 * k) & 63) as usize] as char);
                    } else {
                        out.push('=');
                    }
                }
            }
            out
        };
        let raw = format!(
            "From: a@b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
             Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n{b64}\r\n--b--\r\n"
        );
        assert!(depth(raw.as_bytes(), 30).is_err());
        assert_eq!(depth(raw.as_bytes(), 200), Ok(102));
    }

    #[test]
    fn junk_ends_quietly() {
        for raw in [
            &b""[..],
            b"\r\n\r\n",
            b"Content-Type: multipart/mixed; boundary=\r\n\r\n--\r\n",
            b"Content-Type: multipart/x; boundary=\"\r\n",
        ] {
            assert!(depth(raw, 30).is_ok());
        }
    }
}
