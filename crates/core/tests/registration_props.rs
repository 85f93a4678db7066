//! Registration strings survive mail clients: random registrations are
//! signed, put in a body among other text, hard-wrapped at random points
//! (inside values and where spaces stood), perhaps quoted, sent as plain
//! text, quoted-printable or HTML only, and must come back from
//! `parse` + `find` exactly. And `find` never panics on odd text.
//! `PROPTEST_CASES` sets the number of cases (256 by default).

use chrono::NaiveDate;
use postbud_core::message::parse;
use postbud_core::registration::{Found, Registration, Role, find, find_in_text, sign};
use proptest::prelude::*;

const KEY: &[u8] = b"test-secret-do-not-use";

/// The fields of one registration, as the form would write them.
#[derive(Debug, Clone)]
struct Form {
    id: String,
    lag: String,
    navn: String,
    epost: String,
    tlf: Option<String>,
    rolle: Option<Role>,
    fdato: Option<NaiveDate>,
    dato: NaiveDate,
    /// A field postbud does not know (yet), signed all the same.
    extra: Option<(String, String)>,
    /// The order of the fields after `REG1`.
    order: Vec<usize>,
}

impl Form {
    /// The signed string.
    fn string(&self) -> String {
        let date = |d: &NaiveDate| d.format("%Y-%m-%d").to_string();
        let fields: Vec<Option<(String, String)>> = vec![
            Some(("id".into(), self.id.clone())),
            Some(("lag".into(), self.lag.clone())),
            Some(("navn".into(), self.navn.clone())),
            Some(("epost".into(), self.epost.clone())),
            self.tlf.clone().map(|t| ("tlf".into(), t)),
            self.rolle.map(|r| {
                let r = match r {
                    Role::Likeperson => "likeperson",
                    Role::Medlem => "medlem",
                };
                ("rolle".into(), r.into())
            }),
            self.fdato.as_ref().map(|d| ("fdato".into(), date(d))),
            Some(("dato".into(), date(&self.dato))),
            self.extra.clone(),
        ];
        let mut text = "REG1".to_string();
        for &i in &self.order {
            if let Some(Some((key, value))) = fields.get(i) {
                text.push_str(&format!(";{key}={}", escape(value)));
            }
        }
        let sig = sign(&text, KEY);
        format!("{text};sig={sig}")
    }

    fn expected(&self) -> Registration {
        Registration {
            form_id: self.id.clone(),
            chapter: self.lag.clone(),
            name: self.navn.clone(),
            email: self.epost.to_lowercase(),
            phone: self.tlf.clone(),
            role: self.rolle.unwrap_or_default(),
            birth_date: self.fdato,
            date: self.dato,
            signed_text: self.string(),
        }
    }
}

fn escape(value: &str) -> String {
    value
        .replace('%', "%25")
        .replace(';', "%3B")
        .replace('=', "%3D")
}

/// Words of names and chapters: letters with æøå and the characters that
/// need escapes.
fn words(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec("[A-Za-zÆØÅæøåé;=%'-]{1,10}", 1..=max).prop_map(|w| w.join(" "))
}

fn day() -> impl Strategy<Value = NaiveDate> {
    (1930i32..2030, 1u32..=365)
        .prop_map(|(y, d)| NaiveDate::from_yo_opt(y, d).unwrap_or(NaiveDate::MIN))
}

fn form() -> impl Strategy<Value = Form> {
    (
        (
            "F-[0-9]{8}-[0-9]{4}",
            words(2),
            words(4),
            "[A-Za-z0-9._+=-]{1,12}@[a-z0-9-]{1,10}\\.(no|com)",
            prop::option::of("\\+47 ?[0-9]{3} ?[0-9]{2} ?[0-9]{3}"),
        ),
        (
            prop::option::of(prop_oneof![Just(Role::Likeperson), Just(Role::Medlem)]),
            prop::option::of(day()),
            day(),
            prop::option::of(("x[a-z]{2,5}", words(3))),
            Just((0..9).collect::<Vec<usize>>()).prop_shuffle(),
        ),
    )
        .prop_map(
            |((id, lag, navn, epost, tlf), (rolle, fdato, dato, extra, order))| Form {
                id,
                lag,
                navn,
                epost,
                tlf,
                rolle,
                fdato,
                dato,
                extra,
                order,
            },
        )
}

/// How the message is sent.
#[derive(Debug, Clone, Copy)]
enum Send {
    Plain,
    QuotedPrintable,
    /// HTML only, lines joined with `<br>`, base64-encoded or not.
    HtmlBr {
        base64: bool,
    },
    /// HTML only, every line in a `<div>` (Gmail) or a `<p>` (Outlook).
    HtmlBlocks {
        p: bool,
    },
}

fn send() -> impl Strategy<Value = Send> {
    prop_oneof![
        Just(Send::Plain),
        Just(Send::QuotedPrintable),
        any::<bool>().prop_map(|base64| Send::HtmlBr { base64 }),
        any::<bool>().prop_map(|p| Send::HtmlBlocks { p }),
    ]
}

/// A small deterministic generator for the wrapping decisions.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const PROSE: [&str; 16] = [
    "Hei",
    "her",
    "er",
    "registreringen",
    "fra",
    "skjemaet",
    "Mvh",
    "Lise",
    "Leder",
    "takk",
    "bedre",
    "sent",
    "enn",
    "aldri",
    "Bergen",
    "likeperson",
];

fn prose(rng: &mut Rng) -> String {
    let n = 1 + rng.below(12);
    (0..n)
        .map(|_| PROSE.get(rng.below(PROSE.len())).copied().unwrap_or("hei"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The body: prose and the strings (one of them perhaps twice), some on
/// their own, some inside a sentence.
fn body(strings: &[String], rng: &mut Rng) -> String {
    let mut blocks: Vec<String> = Vec::new();
    if rng.chance(70) {
        blocks.push(prose(rng));
    }
    let mut all: Vec<&String> = strings.iter().collect();
    if rng.chance(20)
        && let Some(first) = strings.first()
    {
        all.push(first);
    }
    for s in all {
        let block = match rng.below(3) {
            0 => s.clone(),
            1 => format!("{}: {s}", prose(rng)),
            _ => format!("{s} {}", prose(rng)),
        };
        blocks.push(block);
        if rng.chance(40) {
            blocks.push(prose(rng));
        }
    }
    let mut out = String::new();
    for (i, block) in blocks.iter().enumerate() {
        if i > 0 {
            out.push_str(if rng.chance(60) { "\n\n" } else { "\n" });
        }
        out.push_str(block);
    }
    out
}

/// Hard-wraps one line at `width` characters: where a space stood (the
/// space is dropped), or anywhere (inside a word or value).
fn wrap_line(line: &str, width: usize, rng: &mut Rng) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest: Vec<char> = line.chars().collect();
    while rest.len() > width {
        let space = rest
            .iter()
            .take(width + 1)
            .rposition(|&c| c == ' ')
            .filter(|&i| i > 0);
        match space {
            Some(i) if rng.chance(60) => {
                out.push(rest.iter().take(i).collect());
                rest.drain(..=i);
            }
            _ => {
                let cut = 1 + rng.below(width);
                out.push(rest.iter().take(cut).collect());
                rest.drain(..cut);
            }
        }
    }
    out.push(rest.into_iter().collect());
    out
}

/// Wraps and perhaps quotes a body.
fn mangle(body: &str, rng: &mut Rng) -> String {
    let width = match rng.below(4) {
        0 => 10_000,
        _ => 15 + rng.below(70),
    };
    let quote = match rng.below(5) {
        0 => Some("> "),
        1 => Some(">> "),
        2 => Some("> > "),
        _ => None,
    };
    // Quoted after wrapping (every line has the prefix), or wrapped after
    // quoting (continuation lines lost it).
    let quote_first = rng.chance(30);
    let mut lines = Vec::new();
    for line in body.split('\n') {
        let line = match quote {
            Some(q) if quote_first => format!("{q}{line}"),
            _ => line.to_string(),
        };
        for piece in wrap_line(&line, width, rng) {
            lines.push(match quote {
                Some(q) if !quote_first => format!("{q}{piece}"),
                _ => piece,
            });
        }
    }
    lines.join("\n")
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn quoted_printable(body: &str) -> String {
    let mut out = String::new();
    for line in body.split('\n') {
        let bytes = line.as_bytes();
        let mut encoded: Vec<String> = Vec::new();
        for (i, &b) in bytes.iter().enumerate() {
            let last = i + 1 == bytes.len();
            let literal = (b'!'..=b'~').contains(&b) && b != b'=' || b == b' ' && !last;
            encoded.push(if literal {
                (b as char).to_string()
            } else {
                format!("={b:02X}")
            });
        }
        let mut width = 0;
        for token in encoded {
            if width + token.len() > 75 {
                out.push_str("=\r\n");
                width = 0;
            }
            width += token.len();
            out.push_str(&token);
        }
        out.push_str("\r\n");
    }
    out
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for (n, chunk) in bytes.chunks(3).enumerate() {
        if n > 0 && n % 19 == 0 {
            out.push_str("\r\n");
        }
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let v = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                let idx = (v >> (18 - 6 * i)) & 63;
                out.push(char::from(ALPHABET[idx as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out.push_str("\r\n");
    out
}

/// A whole message with the body sent as `how`.
fn message(body: &str, how: Send) -> Vec<u8> {
    let headers = "From: leder.bergen@ffm.example\r\nTo: post@forbund.example\r\nSubject: Registrering\r\nMessage-ID: <prop@ffm.example>\r\nMIME-Version: 1.0\r\n";
    let crlf = |s: &str| s.replace('\n', "\r\n");
    let (content_type, encoding, content) = match how {
        Send::Plain => ("text/plain", "8bit", crlf(body) + "\r\n"),
        Send::QuotedPrintable => ("text/plain", "quoted-printable", quoted_printable(body)),
        Send::HtmlBr { base64: b64 } => {
            let html = format!(
                "<div dir=\"ltr\">{}</div>",
                body.split('\n')
                    .map(html_escape)
                    .collect::<Vec<_>>()
                    .join("<br>")
            );
            if b64 {
                ("text/html", "base64", base64(html.as_bytes()))
            } else {
                ("text/html", "8bit", html + "\r\n")
            }
        }
        Send::HtmlBlocks { p } => {
            let tag = if p { "p" } else { "div" };
            let html: String = body
                .split('\n')
                .map(|line| {
                    let inner = if line.is_empty() {
                        "<br>".to_string()
                    } else {
                        html_escape(line)
                    };
                    format!("<{tag}>{inner}</{tag}>\r\n")
                })
                .collect();
            (
                "text/html",
                "8bit",
                format!("<html><body>\r\n{html}</body></html>\r\n"),
            )
        }
    };
    format!(
        "{headers}Content-Type: {content_type}; charset=utf-8\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n{content}"
    )
    .into_bytes()
}

fn config() -> ProptestConfig {
    // Cases from PROPTEST_CASES (256 by default); no regression files.
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn strings_survive_mail_clients(
        forms in prop::collection::vec(form(), 1..=3),
        how in send(),
        seed in any::<u64>(),
    ) {
        let mut rng = Rng(seed | 1);
        let strings: Vec<String> = forms.iter().map(Form::string).collect();
        let body = mangle(&body(&strings, &mut rng), &mut rng);
        let raw = message(&body, how);
        let msg = parse(&raw).expect("a message");
        let found = find(&msg, Some(KEY));

        let mut want: Vec<Registration> = Vec::new();
        for form in &forms {
            let reg = form.expected();
            if !want.iter().any(|w| w.signed_text == reg.signed_text) {
                want.push(reg);
            }
        }
        let got: Vec<Registration> = found
            .iter()
            .map(|f| match f {
                Found::Valid(reg) => Ok(reg.clone()),
                other => Err(format!("{other:?}")),
            })
            .collect::<Result<_, _>>()
            .map_err(|e| TestCaseError::fail(format!("{e}\nbody:\n{body}")))?;
        prop_assert_eq!(got, want, "body:\n{}", body);
    }

    #[test]
    fn find_never_panics(
        pieces in prop::collection::vec(
            prop_oneof![
                Just("REG1;".to_string()),
                Just(";sig=".to_string()),
                Just("\n".to_string()),
                Just("\n\n".to_string()),
                Just("> ".to_string()),
                Just("=".to_string()),
                Just("%3".to_string()),
                Just("0123456789abcdef".to_string()),
                "[a-zæø ;=%>\n]{0,12}",
                any::<String>(),
            ],
            0..60,
        ),
    ) {
        let text: String = pieces.concat();
        let _ = find_in_text(&text, Some(KEY));
        let _ = find_in_text(&text, None);
    }
}
