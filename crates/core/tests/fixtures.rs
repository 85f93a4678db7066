//! The mail corpus in `tests/fixtures/mail`: every `X.eml` is parsed and
//! classified, and the results must be what `X.json` beside it says.
//!
//! `X.json` holds, as [`facts`] writes them: the From address, subject and
//! Message-ID; the kind (`{"kind": "command", "keyword": "KODE", "args":
//! "", "body": "…"}`, `{"kind": "silent", "why": "AutoSubmitted"}`,
//! `{"kind": "bounce", "failed": […]}`, `{"kind": "confirm", "word":
//! "BEKREFT", "code": "…"}`, `{"kind": "registration"}`, `{"kind":
//! "deduction"}`, `{"kind": "support"}`); the attachments (name, MIME type,
//! decoded size); whether there is an HTML part; the topmost
//! `Authentication-Results` header's dmarc value; the delivery status
//! report (failed addresses, original Message-ID); and the identity string.
//! An `.eml` without a `.json`, or a `.json` without an `.eml`, fails.
//!
//! # Regenerating the `.json` files
//! For a new fixture, or after a deliberate change to parsing or
//! classification, write them from the current results:
//!
//! ```text
//! POSTBUD_BLESS=1 cargo test -p postbud-core --test fixtures
//! ```
//!
//! Then read every new or changed file (`git diff tests/fixtures/mail`) and
//! check by hand that it is what the message really is: blessing writes
//! what the code does now, right or wrong.
//!
//! What is not one message's result stays a plain assert below: DSN parts
//! are no attachments, every fixture has a sender and a Message-ID, the
//! auth results of the genuine and the spoofed messages, the attachments'
//! decoded bytes, the number of fixtures.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use postbud_core::classify::{Kind, classify};
use postbud_core::message::{Incoming, identity, parse};
use serde_json::{Value, json};

const OWN: &str = "post@forbund.example";

/// Set to `1` to write the `.json` files instead of checking them.
const BLESS: &str = "POSTBUD_BLESS";

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/mail")
}

/// The file names (without extension) in the corpus with extension `ext`.
fn stems(ext: &str) -> BTreeSet<String> {
    let dir = dir();
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .map(|p| {
            p.file_stem()
                .and_then(|s| s.to_str())
                .expect("utf-8 file name")
                .to_string()
        })
        .collect()
}

/// Every message of the corpus: name (without `.eml`) and bytes, in name
/// order.
fn corpus() -> Vec<(String, Vec<u8>)> {
    stems("eml")
        .into_iter()
        .map(|name| {
            let raw = std::fs::read(dir().join(format!("{name}.eml"))).expect("readable fixture");
            (name, raw)
        })
        .collect()
}

/// A kind as data.
fn kind_json(kind: &Kind) -> Value {
    match kind {
        Kind::Silent(why) => json!({"kind": "silent", "why": format!("{why:?}")}),
        Kind::Bounce { failed } => json!({"kind": "bounce", "failed": failed}),
        Kind::Confirm { word, code } => json!({
            "kind": "confirm",
            "word": format!("{word:?}").to_uppercase(),
            "code": code,
        }),
        Kind::Command {
            keyword,
            args,
            body,
        } => json!({
            "kind": "command",
            "keyword": keyword.name(),
            "args": args,
            "body": body,
        }),
        Kind::Registration => json!({"kind": "registration"}),
        Kind::Deduction => json!({"kind": "deduction"}),
        Kind::Support => json!({"kind": "support"}),
    }
}

/// What the corpus checks of one message: the contents of its `.json`.
fn facts(raw: &[u8], msg: &Incoming, kind: &Kind) -> Value {
    let attachments: Vec<Value> = msg
        .attachments
        .iter()
        .map(|a| {
            json!({
                "name": a.name,
                "content_type": a.content_type,
                "size": a.bytes.len(),
            })
        })
        .collect();
    json!({
        "from": msg.from.as_ref().map(|a| a.email.as_str()),
        "subject": msg.subject,
        "message_id": msg.message_id,
        "kind": kind_json(kind),
        "attachments": attachments,
        "html": msg.html.is_some(),
        "dmarc": msg.auth_results.first().and_then(|a| a.dmarc.as_deref()),
        "dsn": msg.dsn.as_ref().map(|d| json!({
            "failed": d.failed,
            "original_message_id": d.original_message_id,
        })),
        "identity": identity(raw, Some(msg)),
    })
}

/// The keys on which `want` and `got` differ, each with both values.
fn differences(want: &Value, got: &Value) -> Vec<String> {
    let (Value::Object(w), Value::Object(g)) = (want, got) else {
        return vec![format!("expected {want}, got {got}")];
    };
    let keys: BTreeSet<&String> = w.keys().chain(g.keys()).collect();
    keys.into_iter()
        .filter(|k| w.get(*k) != g.get(*k))
        .map(|k| {
            let show = |v: Option<&Value>| v.map_or("(missing)".to_string(), Value::to_string);
            format!(
                "  {k}:\n    expected {}\n    got      {}",
                show(w.get(k)),
                show(g.get(k))
            )
        })
        .collect()
}

#[test]
fn every_fixture_is_what_its_json_says() {
    let bless = std::env::var(BLESS).is_ok_and(|v| v == "1");
    let emls = stems("eml");
    let mut problems = Vec::new();
    for orphan in stems("json").difference(&emls) {
        problems.push(format!("{orphan}.json: no {orphan}.eml beside it"));
    }
    let mut checked = 0;
    for (name, raw) in corpus() {
        let Some(msg) = parse(&raw) else {
            problems.push(format!("{name}.eml: not parsed"));
            continue;
        };
        let kind = classify(&msg, OWN);
        let got = facts(&raw, &msg, &kind);
        let path = dir().join(format!("{name}.json"));
        if bless {
            let text = serde_json::to_string_pretty(&got).expect("json") + "\n";
            std::fs::write(&path, text)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        } else {
            let Ok(text) = std::fs::read_to_string(&path) else {
                problems.push(format!(
                    "{name}.eml: no {name}.json beside it (write it with {BLESS}=1)"
                ));
                continue;
            };
            let want: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()));
            let diff = differences(&want, &got);
            if !diff.is_empty() {
                problems.push(format!("{name}:\n{}", diff.join("\n")));
            }
        }
        checked += 1;
    }
    assert!(
        problems.is_empty(),
        "{} of the corpus do not match (after a deliberate change, rerun with {BLESS}=1 and \
         check the diff by hand):\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(checked > 0, "no fixtures found in {}", dir().display());
    // The corpus holds at least these; a lost directory must not pass.
    assert!(checked >= 21, "only {checked} fixtures");
}

#[test]
fn every_fixture_has_a_sender_and_a_message_id() {
    for (name, raw) in corpus() {
        let msg = parse(&raw).unwrap_or_else(|| panic!("{name}: not parsed"));
        assert!(msg.from.is_some(), "{name}: no sender");
        assert!(
            identity(&raw, Some(&msg)).starts_with("mid:"),
            "{name}: no Message-ID identity"
        );
    }
}

#[test]
fn dsn_parts_are_no_attachments() {
    let mut reports = 0;
    for (name, raw) in corpus() {
        let msg = parse(&raw).expect("parsed");
        if msg.dsn.is_some() {
            assert!(
                msg.attachments.is_empty(),
                "{name}: DSN parts are no attachments"
            );
            reports += 1;
        }
    }
    assert!(reports > 0, "no delivery status report in the corpus");
}

#[test]
fn registration_fixtures_all_counted() {
    let n = corpus()
        .iter()
        .filter(|(name, _)| name.starts_with("registration-"))
        .count();
    assert_eq!(n, 6);
}

#[test]
fn spoofed_deduction_has_failing_auth_results() {
    let (_, raw) = corpus()
        .into_iter()
        .find(|(n, _)| n == "deduction-spoofed")
        .expect("deduction-spoofed.eml");
    let msg = parse(&raw).expect("parsed");
    assert_eq!(msg.auth_results.len(), 1);
    let ar = &msg.auth_results[0];
    assert_eq!(ar.authserv_id, "mx.forbund.example");
    assert_eq!(ar.dmarc.as_deref(), Some("fail"));
    assert_eq!(ar.spf.as_deref(), Some("fail"));
    assert_eq!(
        ar.dkim,
        vec![("fail".to_string(), Some("bedrift.example".to_string()))]
    );
}

#[test]
fn genuine_fixtures_pass_auth() {
    for (name, raw) in corpus() {
        let msg = parse(&raw).expect("parsed");
        let Some(ar) = msg.auth_results.first() else {
            continue;
        };
        assert_eq!(ar.authserv_id, "mx.forbund.example", "{name}");
        let domain = msg
            .from
            .as_ref()
            .and_then(|a| a.email.rsplit_once('@'))
            .map(|(_, d)| d.to_string());
        if name != "deduction-spoofed" {
            assert_eq!(ar.dmarc.as_deref(), Some("pass"), "{name}");
            assert_eq!(ar.dkim, vec![("pass".to_string(), domain)], "{name}");
        }
    }
}

#[test]
fn deduction_attachments_are_decoded() {
    for (name, raw) in corpus() {
        let msg = parse(&raw).expect("parsed");
        let Some(a) = msg.attachments.first() else {
            continue;
        };
        let (ext, magic): (&str, &[u8]) = match name.as_str() {
            "deduction-xlsx" | "deduction-spoofed" => ("xlsx", b"PK\x03\x04"),
            "deduction-ods" => ("ods", b"PK\x03\x04"),
            "deduction-pdf" => ("pdf", b"%PDF"),
            "deduction-xls" => ("xls", b"\xd0\xcf\x11\xe0"),
            // Windows-1252 as sent, not decoded as text: "Fødselsnummer;".
            "deduction-txt" => ("txt", b"F\xf8dselsnummer;"),
            other => panic!("{other}: unexpected attachment {:?}", a.name),
        };
        let file = a.name.as_deref().expect("a file name");
        assert!(file.ends_with(ext), "{name}: {file}");
        assert!(a.bytes.starts_with(magic), "{name}");
        assert!(!a.bytes.is_empty(), "{name}");
    }
}
