//! Raw message bytes -> `Incoming`: what postbud needs to know of a message,
//! decoded and normalised. Never panics on any input.

use mail_parser::decoders::{base64::base64_decode, quoted_printable::quoted_printable_decode};
use mail_parser::{
    Encoding, HeaderValue, Message, MessageParser, MessagePart, MimeHeaders, PartType,
};
use sha2::{Digest, Sha256};

use crate::{auth, dsn, headers, text};

/// One mail address as postbud uses it: `email` lower-cased and trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// Display name, if the header had one ("Ola Normann").
    pub name: Option<String>,
    /// The address itself, lower-cased ("ola.normann@example.no").
    pub email: String,
}

pub use crate::auth::AuthResults;
pub use crate::headers::address_key;

/// An attachment: name, MIME type and decoded bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// File name from Content-Disposition or Content-Type name=, if any.
    pub name: Option<String>,
    /// MIME type lower-cased, "application/pdf".
    pub content_type: String,
    /// Decoded content.
    pub bytes: Vec<u8>,
}

/// A delivery status report (RFC 3464): who could not be reached.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dsn {
    /// Final-Recipient addresses whose Action is `failed`, lower-cased.
    pub failed: Vec<String>,
    /// Message-ID of the original message, from the returned headers, if any
    /// (without angle brackets).
    pub original_message_id: Option<String>,
}

/// A parsed incoming message.
#[derive(Debug, Clone, Default)]
pub struct Incoming {
    /// Message-ID without angle brackets, if the message had one.
    pub message_id: Option<String>,
    /// The From address (first one), if there was a parseable one.
    pub from: Option<Address>,
    /// How many `From` header fields the message has (more than one: the
    /// message is not handled, SPEC section 3).
    pub from_headers: usize,
    /// How many addresses the (first) `From` field holds: a sender with
    /// several is never verified.
    pub from_addresses: usize,
    /// `Return-Path: <>`: a message from a machine (a bounce, an automatic
    /// reply) that must not be answered.
    pub null_return_path: bool,
    /// `X-Autoreply`, `X-Autorespond` or `X-Autoresponder` is present.
    pub autoreply_header: bool,
    /// Reply-To, if present (first address).
    pub reply_to: Option<Address>,
    /// Decoded subject, trimmed; empty if none.
    pub subject: String,
    /// References + In-Reply-To ids without angle brackets.
    pub references: Vec<String>,
    /// Body text (text/plain, else HTML turned into text), LF line endings,
    /// U+00A0 replaced by spaces, `format=flowed` rejoined, with quoted
    /// replies (`> ` lines, "On ... wrote:", "Den ... skrev:", Outlook's
    /// "From:/Sendt:" block, "-----Original Message-----" and forwarded
    /// message separators and everything after them) and a signature after
    /// "-- " removed; leading blank lines and trailing whitespace trimmed.
    /// Commands are read only from this.
    pub text: String,
    /// The same body text with quotes and signature kept (registration
    /// strings may be in a forwarded, quoted part). Several text/plain body
    /// parts are joined with a newline.
    pub full_text: String,
    /// Raw HTML body when the message had one (for finding strings in
    /// HTML-only mail), else None.
    pub html: Option<String>,
    /// Lower-cased value of `Auto-Submitted`, if present.
    pub auto_submitted: Option<String>,
    /// Lower-cased value of `Precedence`, if present.
    pub precedence: Option<String>,
    /// `List-Id` or `List-Unsubscribe` present.
    pub is_list: bool,
    /// Every `Authentication-Results` header, topmost first.
    pub auth_results: Vec<AuthResults>,
    /// Attachments (not the text/html body parts, not DSN machinery parts).
    pub attachments: Vec<Attachment>,
    /// Set when the message is a delivery status report.
    pub dsn: Option<Dsn>,
}

/// Bounds on the work one message may cause (SPEC section 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// MIME parts nested deeper than this: not parsed at all.
    pub max_depth: usize,
    /// Bytes of HTML read per part; the rest is left unread.
    pub max_html_bytes: usize,
}

impl Default for Bounds {
    /// The SPEC's defaults: 30 levels, 2 MB of HTML a part.
    fn default() -> Bounds {
        Bounds {
            max_depth: 30,
            max_html_bytes: 2 << 20,
        }
    }
}

/// Parses raw bytes within the default [`Bounds`]. `None` when the bytes
/// are not a message at all (empty, or no header field before the first
/// blank line) or nest deeper than the bounds allow. Never panics.
pub fn parse(raw: &[u8]) -> Option<Incoming> {
    parse_within(raw, &Bounds::default())
}

/// [`parse`] within `bounds`.
pub fn parse_within(raw: &[u8], bounds: &Bounds) -> Option<Incoming> {
    // A tree deeper than the bounds is never built (walking or dropping it
    // would overflow the stack).
    crate::mime::depth(raw, bounds.max_depth).ok()?;
    // mail-parser is fuzzed and documented as never panicking; should it
    // panic all the same, the bytes are treated as no message rather than
    // taking the intake loop down.
    let msg = std::panic::catch_unwind(|| MessageParser::default().parse(raw))
        .ok()
        .flatten()?;
    // A message has at least its root part; without one there is nothing.
    msg.parts.first()?;
    // mail-parser takes any bytes for a body; without a single header field
    // ("hello", a stray blank line first) they are not a message.
    let (fields, _) = headers::read_block(raw);
    if fields.iter().all(|f| f.name.is_empty()) {
        return None;
    }

    let header = |name: &str| {
        fields
            .iter()
            .find(|f| f.is(name))
            .map(|f| f.value.to_lowercase())
    };

    let (full_text, html) = body_text(&msg, bounds.max_html_bytes);
    let dsn = delivery_status(&msg);
    let attachments = if dsn.is_some() {
        Vec::new()
    } else {
        attachments(&msg)
    };

    Some(Incoming {
        message_id: msg
            .message_id()
            .map(|id| dsn::strip_angles(id).to_string())
            .filter(|id| !id.is_empty()),
        from: first_address(msg.from()),
        from_headers: fields.iter().filter(|f| f.is("From")).count(),
        from_addresses: msg.from().map_or(0, |a| a.iter().count()),
        null_return_path: fields.iter().any(|f| {
            f.is("Return-Path")
                && f.value
                    .trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .trim()
                    .is_empty()
        }),
        autoreply_header: fields
            .iter()
            .any(|f| f.is("X-Autoreply") || f.is("X-Autorespond") || f.is("X-Autoresponder")),
        reply_to: first_address(msg.reply_to()),
        subject: msg.subject().map(one_line).unwrap_or_default(),
        references: references(&msg),
        text: text::strip_quotes(&full_text),
        full_text,
        html,
        auto_submitted: header("Auto-Submitted"),
        precedence: header("Precedence"),
        is_list: fields
            .iter()
            .any(|f| f.is("List-Id") || f.is("List-Unsubscribe")),
        auth_results: fields
            .iter()
            .filter(|f| f.is("Authentication-Results"))
            .map(|f| auth::parse(&f.value))
            .collect(),
        attachments,
        dsn,
    })
}

/// HTML turned into plain text the way [`parse`] does it for an HTML-only
/// message (html2text; paragraphs, lists and quotes kept; LF line endings;
/// U+00A0 as a space). For finding strings in the HTML part of a message.
pub fn html_to_text(html: &str) -> String {
    text::html_to_text(html)
}

/// The identity of a message for exactly-once (SPEC section 3):
/// `"mid:<message-id> <sender>"` when there is a Message-ID, else
/// `"sha256:<hex>"` of the raw message with its trace headers (`Received`,
/// `Return-Path`, `Delivered-To`, `X-Original-To`, with their continuation
/// lines) removed and CRLF taken as LF (a copy stored in a Maildir and one
/// fetched over IMAP hash alike). For unparseable bytes (`incoming` None)
/// the same hash of the bytes.
pub fn identity(raw: &[u8], incoming: Option<&Incoming>) -> String {
    if let Some(msg) = incoming
        && let Some(id) = &msg.message_id
    {
        let from = msg.from.as_ref().map_or("", |a| a.email.as_str());
        return format!("mid:{id} {from}");
    }
    const TRACE: [&str; 4] = ["Received", "Return-Path", "Delivered-To", "X-Original-To"];
    let (fields, _) = headers::read_block(raw);
    let mut kept: Vec<u8> = Vec::with_capacity(raw.len());
    let mut pos = 0;
    for field in &fields {
        if TRACE.iter().any(|t| field.is(t)) {
            kept.extend_from_slice(raw.get(pos..field.span.start).unwrap_or_default());
            pos = field.span.end;
        }
    }
    kept.extend_from_slice(raw.get(pos..).unwrap_or_default());

    let mut hasher = Sha256::new();
    let mut rest = kept.as_slice();
    while let Some(i) = rest.windows(2).position(|w| w == b"\r\n") {
        hasher.update(rest.get(..i).unwrap_or_default());
        hasher.update(b"\n");
        rest = rest.get(i + 2..).unwrap_or_default();
    }
    hasher.update(rest);
    let hex: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

/// The body as text (quotes kept) and the raw HTML body, if any, each HTML
/// part cut at `max_html` bytes.
fn body_text(msg: &Message, max_html: usize) -> (String, Option<String>) {
    let plain: Vec<String> = msg
        .text_body
        .iter()
        .filter_map(|&id| msg.parts.get(id as usize))
        .filter_map(|part| plain_text(msg, part))
        .collect();
    let html: Vec<&str> = msg
        .html_body
        .iter()
        .filter_map(|&id| msg.parts.get(id as usize))
        .filter_map(|part| match &part.body {
            PartType::Html(html) => Some(cut(html.as_ref(), max_html)),
            _ => None,
        })
        .collect();
    let html = (!html.is_empty()).then(|| html.join("\n"));
    let full_text = if !plain.is_empty() {
        plain.join("\n")
    } else if let Some(html) = &html {
        text::html_to_text(html)
    } else {
        String::new()
    };
    (full_text, html)
}

/// `s` cut to at most `max` bytes, on a character boundary.
fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A text/plain body part: charset fixed where mail-parser could not decode
/// it, line endings normalised, `format=flowed` rejoined.
fn plain_text(msg: &Message, part: &MessagePart) -> Option<String> {
    let PartType::Text(decoded) = &part.body else {
        return None;
    };
    let ct = part.content_type();
    let charset = ct.and_then(|ct| ct.attribute("charset"));
    let decoded = if decoded.contains('\u{fffd}') {
        redecode(msg, part, charset).unwrap_or_else(|| decoded.to_string())
    } else {
        decoded.to_string()
    };
    let normalised = text::normalise(&decoded);
    let param = |name: &str| {
        ct.and_then(|ct| ct.attribute(name)).is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case(if name == "format" { "flowed" } else { "yes" })
        })
    };
    Some(if param("format") {
        text::unflow(&normalised, param("delsp"))
    } else {
        normalised
    })
}

/// Decodes a text part again from its raw bytes, for text mail-parser
/// could only decode with replacement characters: with the declared charset
/// as encoding_rs knows it (WHATWG labels: iso-8859-1, latin1 and us-ascii
/// are windows-1252), and as windows-1252 where the bytes are not valid in
/// the declared (or default) UTF-8.
fn redecode(msg: &Message, part: &MessagePart, charset: Option<&str>) -> Option<String> {
    let bytes = transfer_decoded(msg, part)?;
    let declared = charset.and_then(|c| encoding_rs::Encoding::for_label(c.trim().as_bytes()));
    if let Some(enc) = declared.filter(|e| *e != encoding_rs::UTF_8) {
        return Some(enc.decode_without_bom_handling(&bytes).0.into_owned());
    }
    Some(match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => encoding_rs::WINDOWS_1252
            .decode_without_bom_handling(e.as_bytes())
            .0
            .into_owned(),
    })
}

/// A part's bytes with only the transfer encoding undone (no charset
/// decoding), read from the raw message.
fn transfer_decoded(msg: &Message, part: &MessagePart) -> Option<Vec<u8>> {
    let raw = msg
        .raw_message
        .get(part.offset_body as usize..part.offset_end as usize)?;
    match part.encoding {
        Encoding::Base64 => base64_decode(raw),
        Encoding::QuotedPrintable => quoted_printable_decode(raw),
        Encoding::None => Some(raw.to_vec()),
    }
}

/// The attachments: every part mail-parser set aside as one, except
/// unnamed inline text that is really part of the body.
fn attachments(msg: &Message) -> Vec<Attachment> {
    msg.attachments
        .iter()
        .filter_map(|&id| msg.parts.get(id as usize))
        .filter_map(|part| {
            let name = part
                .attachment_name()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(String::from);
            let is_text = matches!(part.body, PartType::Text(_) | PartType::Html(_));
            let disposed = part
                .content_disposition()
                .is_some_and(|d| d.ctype().eq_ignore_ascii_case("attachment"));
            if matches!(part.body, PartType::Multipart(_)) || is_text && name.is_none() && !disposed
            {
                return None;
            }
            let content_type = match part.content_type() {
                Some(ct) => match ct.subtype() {
                    Some(sub) => format!("{}/{}", ct.ctype(), sub),
                    None => ct.ctype().to_string(),
                }
                .to_lowercase(),
                None => match part.body {
                    PartType::Text(_) => "text/plain",
                    PartType::Html(_) => "text/html",
                    PartType::Message(_) => "message/rfc822",
                    _ => "application/octet-stream",
                }
                .to_string(),
            };
            // Text parts are charset-decoded by mail-parser; a list reader
            // wants the bytes as sent.
            let bytes = if is_text {
                transfer_decoded(msg, part).unwrap_or_else(|| part.contents().to_vec())
            } else {
                part.contents().to_vec()
            };
            Some(Attachment {
                name,
                content_type,
                bytes,
            })
        })
        .collect()
}

/// The delivery status report, when the message is a `multipart/report`
/// of `report-type=delivery-status` (or has a delivery-status part).
fn delivery_status(msg: &Message) -> Option<Dsn> {
    let ct = msg.parts.first()?.content_type()?;
    let is_report = ct.ctype().eq_ignore_ascii_case("multipart")
        && ct
            .subtype()
            .is_some_and(|s| s.eq_ignore_ascii_case("report"));
    if !is_report {
        return None;
    }
    let status_parts: Vec<&MessagePart> = msg
        .parts
        .iter()
        .filter(|p| {
            has_type(p, "message", "delivery-status")
                || has_type(p, "message", "global-delivery-status")
        })
        .collect();
    match ct.attribute("report-type") {
        Some(rt) if !rt.trim().eq_ignore_ascii_case("delivery-status") => return None,
        None if status_parts.is_empty() => return None,
        _ => {}
    }
    let mut failed: Vec<String> = Vec::new();
    for part in status_parts {
        let bytes = match part.contents() {
            [] => transfer_decoded(msg, part).unwrap_or_default(),
            bytes => bytes.to_vec(),
        };
        for address in dsn::failed_recipients(&bytes) {
            if !failed.contains(&address) {
                failed.push(address);
            }
        }
    }
    let original_message_id = msg.parts.iter().find_map(|p| {
        if let Some(returned) = p.message() {
            return returned
                .message_id()
                .map(|id| dsn::strip_angles(id).to_string())
                .filter(|id| !id.is_empty());
        }
        let returned_headers = has_type(p, "text", "rfc822-headers")
            || has_type(p, "message", "rfc822-headers")
            || has_type(p, "message", "global-headers")
            || has_type(p, "message", "rfc822");
        returned_headers
            .then(|| dsn::message_id_in_headers(p.contents()))
            .flatten()
    });
    Some(Dsn {
        failed,
        original_message_id,
    })
}

fn has_type(part: &MessagePart, ctype: &str, subtype: &str) -> bool {
    part.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case(ctype)
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case(subtype))
    })
}

/// The first entry of an address header that has an address.
fn first_address(header: Option<&mail_parser::Address>) -> Option<Address> {
    header?.iter().find_map(|addr| {
        let email = addr
            .address
            .as_deref()?
            .trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .trim();
        let email = address_key(email);
        if email.is_empty() {
            return None;
        }
        let name = addr.name.as_deref().map(one_line).filter(|n| !n.is_empty());
        Some(Address { name, email })
    })
}

/// In-Reply-To then References, without angle brackets or duplicates.
fn references(msg: &Message) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for value in [msg.in_reply_to(), msg.references()] {
        let found: Vec<&str> = match value {
            HeaderValue::Text(id) => vec![id.as_ref()],
            HeaderValue::TextList(list) => list.iter().map(|id| id.as_ref()).collect(),
            _ => Vec::new(),
        };
        for id in found {
            let id = dsn::strip_angles(id);
            if !id.is_empty() && !ids.iter().any(|known| known == id) {
                ids.push(id.to_string());
            }
        }
    }
    ids
}

/// A header text on one line: control characters as spaces, trimmed.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}
