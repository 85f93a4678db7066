//! Header fields read straight from raw bytes: name, unfolded value and the
//! byte span of the field (continuation lines included). Used where the
//! bytes themselves matter (the identity hash, `Authentication-Results`,
//! delivery status fields) rather than mail-parser's decoded values.

use std::ops::Range;

/// One header field of a header block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Field {
    /// The name before the colon, trimmed; empty for a line that is not a
    /// header field (an mbox `From ` line, garbage).
    pub name: String,
    /// The value after the colon, continuation lines joined with a space,
    /// trimmed; invalid UTF-8 replaced.
    pub value: String,
    /// Where the whole field (name, value, continuation lines and line
    /// endings) stands in the input.
    pub span: Range<usize>,
}

impl Field {
    /// Whether the field has this name (ASCII case-insensitive).
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }
}

/// Reads the header block at the start of `raw`: its fields, and the offset
/// where the body starts (after the empty line; `raw.len()` when there is
/// none). Never panics; always makes progress on non-empty input.
pub(crate) fn read_block(raw: &[u8]) -> (Vec<Field>, usize) {
    let mut fields: Vec<Field> = Vec::new();
    let mut pos = 0;
    while pos < raw.len() {
        let rest = raw.get(pos..).unwrap_or_default();
        let line_len = rest
            .iter()
            .position(|&b| b == b'\n')
            .map_or(rest.len(), |i| i + 1);
        let line = rest.get(..line_len).unwrap_or_default();
        let content = trim_eol(line);
        let end = pos + line_len;
        if content.is_empty() {
            return (fields, end);
        }
        let folded = matches!(content.first(), Some(b' ' | b'\t'));
        match fields.last_mut() {
            Some(last) if folded => {
                let more = String::from_utf8_lossy(content);
                let more = more.trim();
                if !more.is_empty() {
                    if !last.value.is_empty() {
                        last.value.push(' ');
                    }
                    last.value.push_str(more);
                }
                last.span.end = end;
            }
            _ => fields.push(new_field(content, pos..end)),
        }
        pos = end;
    }
    (fields, raw.len())
}

/// Reads consecutive blocks of fields separated by empty lines (the body of
/// a `message/delivery-status` part).
pub(crate) fn read_blocks(raw: &[u8]) -> Vec<Vec<Field>> {
    let mut blocks = Vec::new();
    let mut pos = 0;
    while pos < raw.len() {
        let rest = raw.get(pos..).unwrap_or_default();
        let (fields, consumed) = read_block(rest);
        if !fields.is_empty() {
            blocks.push(fields);
        }
        // `read_block` consumes at least one byte of non-empty input.
        pos += consumed.max(1);
    }
    blocks
}

fn new_field(content: &[u8], span: Range<usize>) -> Field {
    let text = String::from_utf8_lossy(content);
    match text.split_once(':') {
        Some((name, value))
            if !name.trim().is_empty() && !name.trim().contains(char::is_whitespace) =>
        {
            Field {
                name: name.trim().to_string(),
                value: value.trim().to_string(),
                span,
            }
        }
        _ => Field {
            name: String::new(),
            value: text.trim().to_string(),
            span,
        },
    }
}

/// `line` without its trailing LF or CRLF.
fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// A mail address as postbud compares it: trimmed, ASCII letters
/// lower-cased and nothing else, so that no other character turns into an
/// ASCII one (the Kelvin sign K lower-cases into `k` by Unicode's rules:
/// `\u{212A}ari@example.no` must never be `kari@example.no`).
pub fn address_key(s: &str) -> String {
    s.trim().to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfolds_and_spans() {
        let raw = b"Received: from a\r\n\tby b\r\nSubject: Hei\r\n\r\nbody";
        let (fields, body) = read_block(raw);
        assert_eq!(fields.len(), 2);
        assert!(fields[0].is("received"));
        assert_eq!(fields[0].value, "from a by b");
        assert_eq!(fields[0].span, 0..25);
        assert_eq!(fields[1].value, "Hei");
        assert_eq!(&raw[body..], b"body");
    }

    #[test]
    fn blocks_and_odd_lines() {
        let blocks = read_blocks(b"\n\nA: 1\nB: 2\n\n\nC: 3\nnot a field\n");
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[1][1].name, "");
        assert_eq!(blocks[1][1].value, "not a field");
        assert!(read_blocks(b"").is_empty());
    }
}
