//! The mail corpus in `tests/fixtures/mail`: every message is parsed and
//! classified, and the kind must be the one its file name implies.

use std::path::{Path, PathBuf};

use postbud_core::classify::{Keyword, Kind, Silent, classify};
use postbud_core::message::{Incoming, identity, parse};

const OWN: &str = "post@forbund.example";

fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/mail");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let name = p
                .file_stem()
                .and_then(|s| s.to_str())
                .expect("utf-8 file name")
                .to_string();
            let raw = std::fs::read(&p).expect("readable fixture");
            (name, raw)
        })
        .collect()
}

fn command(kind: &Kind) -> (Keyword, &str, &str) {
    match kind {
        Kind::Command {
            keyword,
            args,
            body,
        } => (*keyword, args.as_str(), body.as_str()),
        other => panic!("expected a command, got {other:?}"),
    }
}

/// Checks one message against the kind its name implies; false for a name
/// no rule covers.
fn check(name: &str, msg: &Incoming, kind: &Kind) -> bool {
    match name {
        n if n.starts_with("autoreply") => assert!(
            matches!(
                kind,
                Kind::Silent(Silent::AutoSubmitted | Silent::OutOfOffice)
            ),
            "{kind:?}"
        ),
        "bounce-dsn" => {
            assert_eq!(
                kind,
                &Kind::Bounce {
                    failed: vec!["borte@example.no".to_string()]
                }
            );
            let dsn = msg.dsn.as_ref().expect("a DSN");
            assert_eq!(
                dsn.original_message_id.as_deref(),
                Some("pb.2026.000003@forbund.example")
            );
            assert!(msg.attachments.is_empty(), "DSN parts are no attachments");
        }
        "code" => assert_eq!(command(kind).0, Keyword::Kode),
        "support" => assert_eq!(kind, &Kind::Support),
        "update-phone" => {
            let (keyword, args, body) = command(kind);
            assert_eq!(keyword, Keyword::Endre);
            assert_eq!(args, "");
            assert_eq!(body, "telefon: +47 913 00 000\npoststed: Bergen");
        }
        "update-unverified" => assert_eq!(command(kind).0, Keyword::MeldUt),
        n if n.starts_with("activity") => {
            let (keyword, args, body) = command(kind);
            assert_eq!(keyword, Keyword::Aktivitet);
            let year = if n == "activity-wrong-year" {
                "2023"
            } else {
                "2026"
            };
            assert_eq!(args, year);
            assert!(
                body.starts_with("Kari Nordmann, Øystein Ærø-Åsen"),
                "{body}"
            );
        }
        n if n.starts_with("registration-") => assert_eq!(kind, &Kind::Registration),
        n if n.starts_with("deduction-") => {
            assert_eq!(kind, &Kind::Deduction);
            assert_eq!(msg.attachments.len(), 1, "{:?}", msg.attachments);
        }
        _ => return false,
    }
    true
}

#[test]
fn every_fixture_has_the_kind_its_name_says() {
    let corpus = corpus();
    assert!(!corpus.is_empty(), "no fixtures found");
    let mut checked = 0;
    for (name, raw) in &corpus {
        let msg = parse(raw).unwrap_or_else(|| panic!("{name}: not parsed"));
        let kind = classify(&msg, OWN);
        let known = std::panic::catch_unwind(|| check(name, &msg, &kind))
            .unwrap_or_else(|_| panic!("{name}: wrong kind or details, see above"));
        assert!(known, "{name}: no rule for this file name");
        assert!(msg.from.is_some(), "{name}: no sender");
        assert!(
            identity(raw, Some(&msg)).starts_with("mid:"),
            "{name}: no Message-ID identity"
        );
        checked += 1;
    }
    assert_eq!(checked, corpus.len());
    // The corpus holds at least these; a lost directory must not pass.
    assert!(checked >= 21, "only {checked} fixtures");
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
