//! Body text: line endings and no-break spaces normalised, HTML turned into
//! text, `format=flowed` rejoined, and quoted reply text cut away so that
//! commands are read only from what the sender wrote.

/// CRLF and lone CR -> LF, U+00A0 -> space.
pub(crate) fn normalise(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push('\n');
            }
            '\u{a0}' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// HTML -> plain text with html2text (paragraphs, lists and quotes kept;
/// no link footnotes), falling back to mail-parser's simpler, linear
/// conversion if html2text fails, for HTML nested deeper than
/// [`MAX_HTML_DEPTH`] (html2text's time grows with the square of the depth:
/// 3,000 nested lists take most of a second), or with more than
/// [`MAX_HTML_CELLS`] table cells. Normalised as [`normalise`].
pub(crate) fn html_to_text(html: &str) -> String {
    let converted = if nesting_depth(html) <= MAX_HTML_DEPTH && cells(html) <= MAX_HTML_CELLS {
        // html2text is not documented as panic-free; a panic there must not
        // take the message (or the daemon) with it.
        std::panic::catch_unwind(|| {
            html2text::config::plain_no_decorate()
                .link_footnotes(false)
                .string_from_read(html.as_bytes(), 10_000)
                .ok()
        })
        .ok()
        .flatten()
    } else {
        None
    };
    let text =
        converted.unwrap_or_else(|| mail_parser::decoders::html::html_to_text(html).to_string());
    normalise(&text)
}

/// More table cells than this, and HTML is not given to html2text: it lays
/// a table out in memory at about 2 KB a cell (200,000 cells: 430 MB and a
/// second). Mail-parser's linear conversion runs the cells together, which
/// a table that large can afford.
pub(crate) const MAX_HTML_CELLS: usize = 2_000;

/// How many table cells (`<td`, `<th`) `html` opens, counted up to one past
/// [`MAX_HTML_CELLS`].
fn cells(html: &str) -> usize {
    let b = html.as_bytes();
    let mut n = 0;
    let mut i = 0;
    while let Some(p) = b.get(i..).and_then(|r| r.iter().position(|&c| c == b'<')) {
        i += p + 1;
        if b.get(i..i + 2)
            .is_some_and(|t| t.eq_ignore_ascii_case(b"td") || t.eq_ignore_ascii_case(b"th"))
            && b.get(i + 2).is_none_or(|c| !c.is_ascii_alphanumeric())
        {
            n += 1;
            if n > MAX_HTML_CELLS {
                break;
            }
        }
    }
    n
}

/// Deeper than this, HTML is not given to html2text. Mail from real clients
/// nests a few dozen levels, long Outlook threads perhaps a hundred.
pub(crate) const MAX_HTML_DEPTH: usize = 400;

/// How deep the elements of `html` nest, estimated from its tags: void
/// elements, self-closing tags and elements that close implicitly (`p`,
/// `li`, `td`, ...) are not counted.
fn nesting_depth(html: &str) -> usize {
    const UNCOUNTED: [&[u8]; 24] = [
        b"area", b"base", b"br", b"col", b"embed", b"hr", b"img", b"input", b"link", b"meta",
        b"param", b"source", b"track", b"wbr", b"p", b"li", b"dt", b"dd", b"tr", b"td", b"th",
        b"option", b"o:p", b"html",
    ];
    let bytes = html.as_bytes();
    let (mut depth, mut max) = (0usize, 0usize);
    let mut pos = 0;
    while let Some(offset) = bytes
        .get(pos..)
        .and_then(|rest| rest.iter().position(|&b| b == b'<'))
    {
        pos += offset + 1;
        let closing = bytes.get(pos) == Some(&b'/');
        let start = if closing { pos + 1 } else { pos };
        let name: Vec<u8> = bytes
            .get(start..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b':')
            .map(u8::to_ascii_lowercase)
            .collect();
        if name.is_empty() || UNCOUNTED.contains(&name.as_slice()) {
            continue;
        }
        if closing {
            depth = depth.saturating_sub(1);
            continue;
        }
        let self_closing = bytes
            .get(start..)
            .and_then(|rest| rest.iter().position(|&b| b == b'>'))
            .and_then(|end| bytes.get((start + end).checked_sub(1)?))
            == Some(&b'/');
        if !self_closing {
            depth += 1;
            max = max.max(depth);
        }
    }
    max
}

/// Rejoins a `format=flowed` body (RFC 3676): a line ending in a space is
/// continued by the next line of the same quote depth; space-stuffing is
/// removed. With `del_sp` the trailing space itself is dropped. Expects LF
/// line endings.
pub(crate) fn unflow(s: &str, del_sp: bool) -> String {
    let mut out = String::with_capacity(s.len());
    // The quote depth of the paragraph being joined, if one is open.
    let mut open: Option<usize> = None;
    for line in s.strip_suffix('\n').unwrap_or(s).split('\n') {
        let depth = line.chars().take_while(|&c| c == '>').count();
        // '>' is one byte, so `depth` is a char boundary.
        let rest = line.get(depth..).unwrap_or_default();
        let rest = rest.strip_prefix(' ').unwrap_or(rest);
        if let Some(d) = open
            && d != depth
        {
            out.push('\n');
            open = None;
        }
        if open.is_none() && depth > 0 {
            out.extend(std::iter::repeat_n('>', depth));
            out.push(' ');
        }
        if rest.ends_with(' ') && rest != "-- " {
            out.push_str(if del_sp {
                rest.strip_suffix(' ').unwrap_or(rest)
            } else {
                rest
            });
            open = Some(depth);
        } else {
            out.push_str(rest);
            out.push('\n');
            open = None;
        }
    }
    if open.is_some() {
        out.push('\n');
    }
    if !s.ends_with('\n') {
        out.pop();
    }
    out
}

/// The text without quoted replies: `>` lines are dropped; an attribution
/// line ("On ... wrote:", "Den ... skrev:", "Le ... a écrit :"), an Outlook
/// header block ("From:"/"Fra:" followed by "Sent:"/"Sendt:"/"Date:"/
/// "Dato:"), an "-----Original Message-----" or forwarded-message separator,
/// or a signature separator ("-- ") ends the text. Leading blank lines
/// and trailing whitespace are trimmed. Expects LF line endings.
pub(crate) fn strip_quotes(s: &str) -> String {
    let lines: Vec<&str> = s.split('\n').collect();
    let mut end = lines.len();
    for (i, line) in lines.iter().enumerate() {
        if is_quoted(line) {
            continue;
        }
        if is_separator(line) || is_outlook_block(&lines, i) {
            end = i;
            break;
        }
        // "On Fri, 20 Nov 2026 at 09:15, Kari Nordmann <" /
        // "kari@example.no> wrote:" is one attribution on two lines.
        if let Some(prev) = i.checked_sub(1).and_then(|p| lines.get(p))
            && opens_attribution(prev)
            && is_attribution(&format!("{prev} {line}"))
        {
            end = i - 1;
            break;
        }
        if is_attribution(line) {
            end = i;
            break;
        }
    }
    let kept: Vec<&str> = lines
        .iter()
        .take(end)
        .filter(|l| !is_quoted(l))
        .copied()
        .collect();
    // Outlook's "____" rule and similar decoration left above a cut block.
    let mut last = kept.len();
    while last > 0
        && kept.get(last - 1).is_some_and(|l| {
            let t = l.trim();
            t.is_empty() || t.len() >= 5 && t.chars().all(|c| c == '_' || c == '-')
        })
    {
        last -= 1;
    }
    let kept = kept.get(..last).unwrap_or_default();
    let first = kept
        .iter()
        .position(|l| !l.trim().is_empty())
        .unwrap_or(kept.len());
    let mut text = kept.get(first..).unwrap_or_default().join("\n");
    text.truncate(text.trim_end().len());
    text
}

fn is_quoted(line: &str) -> bool {
    line.trim_start().starts_with('>')
}

/// A signature separator or an original/forwarded message separator.
fn is_separator(line: &str) -> bool {
    if line == "-- " || line == "--" {
        return true;
    }
    let t = line.trim();
    let lower = t.to_lowercase();
    if ["begin forwarded message:", "videresendt melding:"].contains(&lower.as_str()) {
        return true;
    }
    if !(t.starts_with("--") || t.starts_with("__")) {
        return false;
    }
    let inner = lower.trim_matches(|c: char| c == '-' || c == '_' || c.is_whitespace());
    const MARKERS: [&str; 18] = [
        "original message",
        "forwarded message",
        "opprinnelig melding",
        "opprinnelig e-post",
        "videresendt melding",
        "videresendt e-post",
        "opprindelig meddelelse",
        "oprindelig meddelelse",
        "videresendt meddelelse",
        "ursprungligt meddelande",
        "vidarebefordrat meddelande",
        "ursprüngliche nachricht",
        "weitergeleitete nachricht",
        "message d'origine",
        "message transféré",
        "original meddelelse",
        "mensaje original",
        "oorspronkelijk bericht",
    ];
    MARKERS.contains(&inner)
}

/// "From: ..." (or a translation) with a "Sent:"/"Date:" line within the
/// next three lines: the header block Outlook puts above a quoted message.
fn is_outlook_block(lines: &[&str], i: usize) -> bool {
    const FROM: [&str; 5] = ["from:", "fra:", "från:", "von:", "de:"];
    const SENT: [&str; 10] = [
        "sent:",
        "sendt:",
        "skickat:",
        "gesendet:",
        "date:",
        "dato:",
        "datum:",
        "envoyé :",
        "envoyé:",
        "sent at:",
    ];
    let starts = |line: &str, set: &[&str]| {
        let lower = line.trim_start().trim_start_matches('*').to_lowercase();
        set.iter().any(|p| lower.starts_with(p))
    };
    let Some(line) = lines.get(i) else {
        return false;
    };
    starts(line, &FROM) && lines.iter().skip(i + 1).take(3).any(|l| starts(l, &SENT))
}

/// A line that reads like a reply attribution: "... wrote:", "... skrev:",
/// or "Den <date> skrev <name>:" / "Am <date> schrieb <name>:".
fn is_attribution(line: &str) -> bool {
    const VERBS: [&str; 7] = [
        " wrote",
        " skrev",
        " schrieb",
        " a écrit",
        " escribió",
        " schreef",
        " kirjoitti",
    ];
    let lower = line.trim().to_lowercase();
    if lower.len() > 400 {
        return false;
    }
    let Some(head) = lower.strip_suffix(':') else {
        return lower.ends_with(" a écrit");
    };
    let head = head.trim_end();
    VERBS.iter().any(|w| head.ends_with(w))
        || opens_attribution(line) && VERBS.iter().any(|w| head.contains(&format!("{w} ")))
}

/// The first line of an attribution broken in two.
fn opens_attribution(line: &str) -> bool {
    let t = line.trim_start();
    ["On ", "Den ", "Le ", "Am ", "El ", "Op ", "På "]
        .iter()
        .any(|w| t.starts_with(w))
        && !t.trim_end().ends_with('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises() {
        assert_eq!(normalise("a\r\nb\rc\u{a0}d\n"), "a\nb\nc d\n");
    }

    #[test]
    fn measures_nesting() {
        assert_eq!(nesting_depth(""), 0);
        assert_eq!(
            nesting_depth("<div><p>a<br>b<img src=x/></div><div><b>x</b></div>"),
            2
        );
        assert_eq!(nesting_depth("<ul><li>a<ul><li>b</ul></ul>"), 2);
        assert_eq!(nesting_depth("</div></div><x/><<<"), 0);
        assert_eq!(nesting_depth(&"<div>".repeat(1000)), 1000);
    }

    #[test]
    fn a_huge_table_is_converted_in_linear_time_and_memory() {
        let mut html = String::from("<table>");
        for i in 0..200_000 {
            if i % 10 == 0 {
                html.push_str("<tr>");
            }
            html.push_str("<td>x</td>");
        }
        html.push_str("</table>");
        let t = std::time::Instant::now();
        let text = html_to_text(&html);
        assert!(t.elapsed().as_millis() < 2_000, "{:?}", t.elapsed());
        assert!(text.contains('x'));
        assert_eq!(cells("<td><TH x><tdx><td>"), 3);
    }

    #[test]
    fn deep_html_is_converted_quickly() {
        let n = 100_000;
        let html = format!("{}dypt{}", "<ul><li>".repeat(n), "</li></ul>".repeat(n));
        let start = std::time::Instant::now();
        assert!(html_to_text(&html).contains("dypt"));
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
        let html = format!(
            "{}grunt{}",
            "<blockquote>".repeat(20),
            "</blockquote>".repeat(20)
        );
        assert_eq!(
            html_to_text(&html).trim(),
            format!("{}grunt", "> ".repeat(20))
        );
    }

    #[test]
    fn unflows() {
        assert_eq!(
            unflow("navn=Kari \nNordmann\nx", false),
            "navn=Kari Nordmann\nx"
        );
        assert_eq!(unflow("ab \ncd\n", true), "abcd\n");
        assert_eq!(unflow("> a \n> b\nc", false), "> a b\nc");
        assert_eq!(unflow(" From me\n-- \nsig", false), "From me\n-- \nsig");
        assert_eq!(unflow("", false), "");
        assert_eq!(unflow("a \n", false), "a \n");
    }

    #[test]
    fn english_attribution() {
        let s = "Yes please.\n\nOn Fri, 20 Nov 2026 at 09:15, Kari <kari@example.no> wrote:\n> old\n> text\n";
        assert_eq!(strip_quotes(s), "Yes please.");
    }

    #[test]
    fn broken_attribution() {
        let s = "ANGRE PB-2026-000012\n\nOn Fri, 20 Nov 2026 at 09:15, Kari Nordmann <\nkari@example.no> wrote:\n\nENDRE\n";
        assert_eq!(strip_quotes(s), "ANGRE PB-2026-000012");
    }

    #[test]
    fn norwegian_attribution() {
        let s =
            "Takk!\nDen fre. 20. nov. 2026 kl. 09:15 skrev Postbud <post@forbund.example>:\nKODE\n";
        assert_eq!(strip_quotes(s), "Takk!");
        let s = "Takk!\n\nDen fre. 20. nov. 2026 kl. 09:15 skrev Postbud <\npost@forbund.example>:\n\n> KODE\n";
        assert_eq!(strip_quotes(s), "Takk!");
        let s = "Hei\n\npost@forbund.example skrev:\nHJELP";
        assert_eq!(strip_quotes(s), "Hei");
        let s = "Ok\nLe ven. 20 nov. 2026 à 09:15, Postbud a écrit :\nx";
        assert_eq!(strip_quotes(s), "Ok");
    }

    #[test]
    fn outlook_block() {
        let s = "Se vedlegg.\n\n________________________________\nFra: Postbud <post@forbund.example>\nSendt: fredag 20. november 2026 09:15\nTil: Kari\nEmne: KODE\n\nHJELP\n";
        assert_eq!(strip_quotes(s), "Se vedlegg.");
        let s = "Ok\n\nFrom: Postbud\nSent: Friday\nTo: x\nSubject: y\n\nz";
        assert_eq!(strip_quotes(s), "Ok");
        // "Fra:" alone is not a header block.
        assert_eq!(
            strip_quotes("Fra: Bergen\nTil: Oslo\n"),
            "Fra: Bergen\nTil: Oslo"
        );
    }

    #[test]
    fn separators_and_signature() {
        let s = "Hei\n-----Original Message-----\nFrom: x\nKODE";
        assert_eq!(strip_quotes(s), "Hei");
        let s = "Hei\n-----Opprinnelig melding-----\nKODE";
        assert_eq!(strip_quotes(s), "Hei");
        let s = "Se under\n\n---------- Forwarded message ---------\nFrom: a\nDate: b\n";
        assert_eq!(strip_quotes(s), "Se under");
        let s = "telefon: 1\npoststed: Bergen\n\n-- \nSendt fra min iPhone\n";
        assert_eq!(strip_quotes(s), "telefon: 1\npoststed: Bergen");
    }

    #[test]
    fn interleaved_quotes() {
        let s = "\n\n> spørsmål 1\nsvar 1\n  > spørsmål 2\nsvar 2\n\n";
        assert_eq!(strip_quotes(s), "svar 1\nsvar 2");
    }

    #[test]
    fn nothing_to_strip() {
        assert_eq!(strip_quotes(""), "");
        assert_eq!(
            strip_quotes("Jeg skrev et brev.\nMvh Ola"),
            "Jeg skrev et brev.\nMvh Ola"
        );
    }
}
