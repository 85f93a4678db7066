//! The bodies of the fuzz targets (`fuzz/fuzz_targets/*.rs`, run with
//! cargo-fuzz) and of the corpus test (`tests/fuzz_corpus.rs`, run with
//! `cargo test`): one function per target, each taking the fuzzer's bytes,
//! calling what the target fuzzes and asserting what must hold of the
//! result. A panic is a finding. Not part of the API: hidden from the
//! documentation, and only here so that both places call the same code.

use std::collections::HashSet;

use chrono::{Datelike, NaiveDate};

use crate::classify::{Kind, classify};
use crate::lists::{self, Limits, Period, ReadError};
use crate::message::{self, Incoming};
use crate::registration::{self, Found};
use crate::{auth, dsn, headers, text};

/// postbud's own address in the targets.
pub const OWN_ADDRESS: &str = "post@forbund.example";

/// The registration secret the fixtures are signed with.
pub const SECRET: &[u8] = b"test-secret-do-not-use";

/// The day the targets run on.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 20).unwrap_or_default()
}

/// A target's body: the fuzzer's bytes in, a panic for a finding.
pub type Target = fn(&[u8]);

/// Every target: its name (the file in `fuzz/fuzz_targets/` and the
/// directory under `fuzz/corpus/`) and its body.
pub const TARGETS: &[(&str, Target)] = &[
    ("message", message),
    ("html", html),
    ("quote", quote),
    ("registration", registration),
    ("period", period),
    ("ids", ids),
    ("amount", amount),
    ("date", date),
    ("auth", auth),
    ("dsn", dsn),
    ("list_xlsx", list_xlsx),
    ("list_xls", list_xls),
    ("list_ods", list_ods),
    ("list_csv", list_csv),
    ("list_txt", list_txt),
];

/// The target called `name`, if there is one.
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

// ---------------------------------------------------------------------------
// Messages

/// A whole message: parse, identity, classify, registration strings.
pub fn message(data: &[u8]) {
    let msg = message::parse(data);
    let bare = message::identity(data, None);
    assert!(
        bare.starts_with("sha256:") && bare.len() == 7 + 64,
        "{bare}"
    );
    let id = message::identity(data, msg.as_ref());
    assert!(id.starts_with("mid:") || id == bare, "{id}");
    let Some(msg) = msg else {
        return;
    };
    check_incoming(&msg);
    check_kind(&msg, &classify(&msg, OWN_ADDRESS));
    let _ = classify(&msg, "");
    // Without the secret: trying rejoined variants against a signature
    // takes up to a tenth of a second per message by design, and would
    // take most of this target's time; `registration` fuzzes that.
    check_found(&registration::find(&msg, None), false);
}

/// What [`message::parse`] promises of its result.
fn check_incoming(msg: &Incoming) {
    for text in [&msg.text, &msg.full_text] {
        assert!(!text.contains('\r'), "CR left in the body text: {text:?}");
        assert!(!text.contains('\u{a0}'), "no-break space left: {text:?}");
    }
    assert_eq!(msg.text.trim_end(), msg.text, "text not trimmed at the end");
    assert!(
        !msg.text.starts_with('\n'),
        "text starts with a blank line: {:?}",
        msg.text
    );
    assert_eq!(msg.subject.trim(), msg.subject, "subject not trimmed");
    assert!(
        !msg.subject.chars().any(char::is_control),
        "control character in the subject: {:?}",
        msg.subject
    );
    for address in msg.from.iter().chain(&msg.reply_to) {
        assert!(!address.email.is_empty());
        assert_eq!(address.email.trim(), address.email);
        if let Some(name) = &address.name {
            assert!(!name.is_empty() && !name.chars().any(char::is_control));
        }
    }
    if let Some(id) = &msg.message_id {
        // `<<id>>` keeps one `<`: such an id is no id postbud sent.
        assert!(!id.is_empty() && id.trim() == id, "message id {id:?}");
    }
    for id in &msg.references {
        assert!(!id.is_empty());
    }
    if let Some(dsn) = &msg.dsn {
        assert!(msg.attachments.is_empty(), "a report with attachments");
        assert_distinct(&dsn.failed);
    }
    for a in &msg.attachments {
        assert!(!a.content_type.bytes().any(|b| b.is_ascii_uppercase()));
    }
}

/// Addresses: none empty, none twice.
fn assert_distinct(addresses: &[String]) {
    let mut seen = HashSet::new();
    for address in addresses {
        assert!(!address.is_empty());
        assert!(seen.insert(address), "{address} twice");
    }
}

/// What [`classify`] promises of a kind.
fn check_kind(msg: &Incoming, kind: &Kind) {
    match kind {
        Kind::Bounce { failed } => {
            assert_eq!(Some(failed), msg.dsn.as_ref().map(|d| &d.failed));
        }
        Kind::Confirm { code, .. } => {
            assert!(code.chars().any(|c| c.is_ascii_digit()), "code {code:?}");
        }
        Kind::Command { args, .. } => assert_eq!(args.trim(), args),
        Kind::Silent(_) | Kind::Registration | Kind::Deduction | Kind::Support => {}
    }
    if msg.dsn.is_some() {
        assert!(matches!(kind, Kind::Bounce { .. }), "a report as {kind:?}");
    }
}

/// HTML to text.
pub fn html(data: &[u8]) {
    let html = String::from_utf8_lossy(data);
    let text = message::html_to_text(&html);
    assert!(!text.contains('\r'), "CR left: {text:?}");
    assert!(!text.contains('\u{a0}'), "no-break space left: {text:?}");
}

/// Quoted replies, `format=flowed` and line endings: the bytes as the
/// text/plain body of a message (the first byte chooses the
/// Content-Type parameters and the transfer encoding), and the same text
/// given to the text functions straight.
pub fn quote(data: &[u8]) {
    let (mode, body) = data.split_first().unwrap_or((&0, &[]));
    let params = match mode % 4 {
        0 => "",
        1 => "; format=flowed",
        2 => "; format=flowed; delsp=yes",
        _ => "; format=fixed",
    };
    let charset = match (mode / 4) % 4 {
        0 => "utf-8",
        1 => "iso-8859-1",
        2 => "windows-1252",
        _ => "us-ascii",
    };
    let encoding = match (mode / 16) % 3 {
        0 => "8bit",
        1 => "quoted-printable",
        _ => "base64",
    };
    let mut raw = format!(
        "From: Kari Nordmann <kari@example.no>\r\nTo: {OWN_ADDRESS}\r\n\
         Subject: Re: KODE\r\nMessage-ID: <q1@example.no>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset={charset}{params}\r\n\
         Content-Transfer-Encoding: {encoding}\r\n\r\n"
    )
    .into_bytes();
    raw.extend_from_slice(body);
    let msg = message::parse(&raw).expect("a message with headers is a message");
    check_incoming(&msg);
    check_kind(&msg, &classify(&msg, OWN_ADDRESS));

    let normalised = text::normalise(&String::from_utf8_lossy(body));
    assert!(!normalised.contains('\r'));
    let unflowed = text::unflow(&normalised, mode % 2 == 0);
    let stripped = text::strip_quotes(&unflowed);
    assert_eq!(stripped.trim_end(), stripped);
    assert!(!stripped.starts_with('\n'));
    for line in stripped.lines() {
        assert!(
            !line.trim_start().starts_with('>'),
            "quoted line kept: {line:?}"
        );
    }
}

/// Registration strings in a text, with the fixtures' secret and without.
pub fn registration(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    check_found(&registration::find_in_text(&text, Some(SECRET)), true);
    check_found(&registration::find_in_text(&text, None), false);
}

/// What [`registration::find`] promises of what it finds.
fn check_found(found: &[Found], with_secret: bool) {
    assert!(found.len() <= registration::MAX_STRINGS);
    let mut seen = HashSet::new();
    for f in found {
        let text = f.text();
        assert!(text.starts_with("REG1;"), "found {text:?}");
        assert!(seen.insert(text), "{text:?} reported twice");
        match f {
            Found::Valid(reg) => {
                assert!(with_secret, "valid without a secret: {text:?}");
                let (head, sig) = text.rsplit_once(";sig=").expect("a valid string has a sig");
                assert_eq!(
                    registration::sign(head, SECRET),
                    sig.to_ascii_lowercase(),
                    "{text:?}"
                );
                check_registration(reg);
            }
            Found::Unverified { reg, text, .. } => {
                assert_eq!(&reg.signed_text, text);
                check_registration(reg);
            }
            Found::Malformed { reason, .. } => assert!(!reason.is_empty()),
        }
    }
}

fn check_registration(reg: &registration::Registration) {
    for value in [&reg.form_id, &reg.chapter, &reg.name, &reg.email] {
        assert!(!value.is_empty());
    }
    assert!(reg.email.contains('@') && !reg.email.contains(char::is_whitespace));
    assert!(
        !reg.email.bytes().any(|b| b.is_ascii_uppercase()),
        "{:?}",
        reg.email
    );
}

/// The fields of a delivery status report, header blocks, and the bytes as
/// the status part of a `multipart/report`.
pub fn dsn(data: &[u8]) {
    let (fields, body) = headers::read_block(data);
    assert!(body <= data.len());
    let mut end = 0;
    for f in &fields {
        assert_eq!(f.span.start, end, "fields not contiguous");
        assert!(f.span.end > f.span.start && f.span.end <= body);
        end = f.span.end;
        assert!(!f.name.contains(':') && !f.name.contains(char::is_whitespace));
    }
    let blocks = headers::read_blocks(data);
    assert!(blocks.iter().all(|b| !b.is_empty()));

    assert_distinct(&dsn::failed_recipients(data));
    if let Some(id) = dsn::message_id_in_headers(data) {
        assert!(!id.is_empty() && id.trim() == id, "{id:?}");
    }
    let _ = dsn::strip_angles(&String::from_utf8_lossy(data));

    let mut raw = b"From: MAILER-DAEMON@mx.example\r\nTo: post@forbund.example\r\n\
        Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn.1@mx.example>\r\n\
        MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status;\r\n\
        \tboundary=\"=_b\"\r\n\r\n--=_b\r\nContent-Type: text/plain\r\n\r\nNot delivered.\r\n\
        --=_b\r\nContent-Type: message/delivery-status\r\n\r\n"
        .to_vec();
    raw.extend_from_slice(data);
    raw.extend_from_slice(
        b"\r\n--=_b\r\nContent-Type: text/rfc822-headers\r\n\r\n\
          Message-ID: <pb.1@forbund.example>\r\n\r\n--=_b--\r\n",
    );
    let msg = message::parse(&raw).expect("a message with headers is a message");
    check_incoming(&msg);
    check_kind(&msg, &classify(&msg, OWN_ADDRESS));
}

/// One `Authentication-Results` value.
pub fn auth(data: &[u8]) {
    let value = String::from_utf8_lossy(data);
    let results = auth::parse(&value);
    let id = results.authserv_id.clone();
    let _ = auth::verified(std::slice::from_ref(&results), "kari@example.no", Some(&id));
    let _ = auth::verified(&[results], &value, Some("mx.forbund.example"));
}

// ---------------------------------------------------------------------------
// List values

/// Periods from a subject and from a cell; a period found reads back from
/// its own display.
pub fn period(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let check = |p: Period| {
        assert!(
            (2000..=2099).contains(&p.year) && (1..=12).contains(&p.month),
            "{p:?}"
        );
        let shown = p.to_string();
        assert_eq!(lists::period_from_subject(&shown), Some(p), "{shown}");
        assert_eq!(lists::periods::period_from_text(&shown), Some(p), "{shown}");
    };
    if let Some(p) = lists::period_from_subject(&text) {
        check(p);
    }
    if let Some(p) = lists::periods::period_from_text(&text) {
        check(p);
    }
}

/// National ids and organisation numbers.
pub fn ids(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let strict = lists::check_national_id(&text, false);
    let lenient = lists::check_national_id(&text, true);
    if let Ok(id) = &strict {
        assert_eq!(
            lenient.as_ref(),
            Ok(id),
            "allowing synthetic ids refused {text:?}"
        );
    }
    match &lenient {
        Ok(id) => {
            assert!(
                (id.len() == 10 || id.len() == 11) && id.bytes().all(|b| b.is_ascii_digit()),
                "{text:?} -> {id:?}"
            );
            if id.len() == 11 {
                assert_eq!(lists::check_national_id(id, true).as_ref(), Ok(id));
            }
            assert!(
                lists::birth_date_from_id(id).is_some(),
                "{id} has no birth date"
            );
        }
        Err(why) => assert!(
            [
                lists::ids::WHY_LENGTH,
                lists::ids::WHY_MOD11,
                lists::ids::WHY_DATE,
                lists::ids::WHY_SYNTHETIC
            ]
            .contains(why)
        ),
    }
    if let Err(why) = &strict {
        assert!(lenient.is_err() || *why == lists::ids::WHY_SYNTHETIC);
    }
    let _ = lists::birth_date_from_id(&text);
    if let Some(org) = lists::check_orgnr(&text) {
        assert!(
            org.len() == 9 && org.bytes().all(|b| b.is_ascii_digit()),
            "{org:?}"
        );
        assert_eq!(lists::check_orgnr(&org).as_ref(), Some(&org));
    }
}

/// Amounts; an amount found reads back from the ways it is written.
pub fn amount(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Some(ore) = lists::parse_amount(&text) {
        assert!(
            ore.unsigned_abs() <= 100_000_000_000_099,
            "{text:?} -> {ore}"
        );
        for shown in amount_forms(ore) {
            assert_eq!(
                lists::parse_amount(&shown),
                Some(ore),
                "{text:?} -> {shown:?}"
            );
        }
    }
    if let Some(bytes) = data.get(..8) {
        let v = f64::from_le_bytes(bytes.try_into().unwrap_or_default());
        if let Some(ore) = lists::amounts::amount_from_f64(v) {
            assert!(ore.unsigned_abs() <= 100_000_000_000_000, "{v} -> {ore}");
        }
    }
}

/// An amount in øre written as a list would: `-1234,50`, `1 234,50`,
/// `kr 1.234,50`, `1234.50`.
pub fn amount_forms(ore: i64) -> Vec<String> {
    let sign = if ore < 0 { "-" } else { "" };
    let (kroner, rest) = (ore.unsigned_abs() / 100, ore.unsigned_abs() % 100);
    let digits = kroner.to_string();
    let group = |mark: char| {
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(mark);
            }
            out.push(c);
        }
        out
    };
    vec![
        format!("{sign}{kroner},{rest:02}"),
        format!("{sign}{kroner}.{rest:02}"),
        format!("{sign}{},{rest:02}", group(' ')),
        format!("kr {sign}{},{rest:02}", group('.')),
        format!("{sign}{}.{rest:02} NOK", group(',')),
    ]
}

/// Dates; a date found reads back from the forms it is written in.
pub fn date(data: &[u8]) {
    let today = today();
    let text = String::from_utf8_lossy(data);
    if let Some(d) = lists::dates::parse_date(&text, today) {
        assert!((0..=9999).contains(&d.year()), "{text:?} -> {d}");
        for format in ["%d.%m.%Y", "%Y-%m-%d", "%d/%m/%Y"] {
            let shown = d.format(format).to_string();
            assert_eq!(
                lists::dates::parse_date(&shown, today),
                Some(d),
                "{text:?} -> {shown}"
            );
        }
    }
    if let Some(bytes) = data.get(..8) {
        let v = f64::from_le_bytes(bytes.try_into().unwrap_or_default());
        let _ = lists::dates::date_from_serial(v);
        let _ = lists::dates::date_from_number(v, today);
    }
}

// ---------------------------------------------------------------------------
// Lists

/// The limits the list targets read under: the production ones, with the
/// fixtures' synthetic ids allowed.
fn limits() -> Limits {
    Limits {
        allow_synthetic_ids: true,
        ..Limits::default()
    }
}

/// Reads the bytes as a list named `name` and checks what was read.
fn list(name: &str, data: &[u8]) {
    let limits = limits();
    let sheet = match lists::read(name, data, &limits, today()) {
        Ok(sheet) => sheet,
        Err(ReadError::Unreadable(why)) => {
            assert!(why.chars().count() <= 200, "a long reason: {why:?}");
            return;
        }
        Err(_) => return,
    };
    assert!(lists::header::is_header(
        &sheet
            .columns
            .iter()
            .enumerate()
            .map(|(i, (c, t))| (*c, i, t.clone()))
            .collect::<Vec<_>>()
    ));
    assert!(sheet.header_line >= 1);
    assert!(sheet.lines.len() as u64 <= limits.max_rows);
    for line in &sheet.lines {
        assert!(line.line >= 1);
        if let Some(id) = &line.national_id {
            assert!(
                (id.len() == 10 || id.len() == 11) && id.bytes().all(|b| b.is_ascii_digit()),
                "{id:?}"
            );
        }
        if let Some(org) = &line.orgnr {
            assert!(org.len() == 9 && org.bytes().all(|b| b.is_ascii_digit()));
        }
        if let Some(a) = line.amount {
            assert!(a.unsigned_abs() <= 100_000_000_000_099, "{a}");
        }
        if let Some(p) = line.period {
            assert!((1..=12).contains(&p.month));
        }
        for text in line.name.iter().chain(&line.employee_no) {
            assert!(text.chars().count() <= lists::MAX_CELL_CHARS, "{text:?}");
        }
        assert!(
            line.national_id.is_some() || line.birth_date.is_some() || !line.problems.is_empty(),
            "{line:?}"
        );
    }
}

/// A list named `.xlsx`.
pub fn list_xlsx(data: &[u8]) {
    list("x.xlsx", data);
}

/// A list named `.xls`.
pub fn list_xls(data: &[u8]) {
    list("x.xls", data);
}

/// A list named `.ods`.
pub fn list_ods(data: &[u8]) {
    list("x.ods", data);
}

/// A list named `.csv`.
pub fn list_csv(data: &[u8]) {
    list("x.csv", data);
}

/// A list named `.txt`.
pub fn list_txt(data: &[u8]) {
    list("x.txt", data);
}
