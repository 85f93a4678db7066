//! parse + identity + classify never panic: on arbitrary bytes, on
//! mail-shaped fragments glued together, and on fixture messages with bytes
//! flipped, cut, inserted and moved.

use std::path::Path;
use std::sync::OnceLock;

use postbud_core::classify::{Keyword, classify};
use postbud_core::message::{html_to_text, identity, parse};
use proptest::prelude::*;

fn fixtures() -> &'static [Vec<u8>] {
    static FIXTURES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/mail");
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .expect("fixture directory")
            .map(|e| e.expect("directory entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        paths.sort();
        let fixtures: Vec<Vec<u8>> = paths
            .iter()
            .map(|p| std::fs::read(p).expect("readable fixture"))
            .collect();
        assert!(!fixtures.is_empty(), "no fixtures in {}", dir.display());
        fixtures
    })
}

/// Everything a caller may do with a message.
fn exercise(raw: &[u8]) {
    let msg = parse(raw);
    let _ = identity(raw, None);
    let id = identity(raw, msg.as_ref());
    assert!(id.starts_with("mid:") || id.starts_with("sha256:"));
    if let Some(msg) = msg {
        let _ = classify(&msg, "post@forbund.example");
        let _ = classify(&msg, "");
        let _ = Keyword::at_start(&msg.subject);
        if let Some(html) = &msg.html {
            let _ = html_to_text(html);
        }
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip {
        at: usize,
        byte: u8,
    },
    Truncate {
        at: usize,
    },
    Delete {
        at: usize,
        len: usize,
    },
    /// Insert a slice of another fixture.
    Insert {
        at: usize,
        from: usize,
        start: usize,
        len: usize,
    },
    /// Insert a piece of MIME syntax.
    Syntax {
        at: usize,
        piece: usize,
    },
}

const PIECES: [&[u8]; 18] = [
    b"\r\n",
    b"\n\n",
    b"\r\n\r\n",
    b"--",
    b"--B1--\r\n",
    b"Content-Type: multipart/report; report-type=delivery-status; boundary=\"x\"\r\n",
    b"Content-Type: message/delivery-status\r\n\r\nAction: failed\r\nFinal-Recipient: rfc822;",
    b"Content-Type: message/rfc822\r\n\r\n",
    b"Content-Transfer-Encoding: base64\r\n",
    b"Content-Transfer-Encoding: quoted-printable\r\n=\r\n=C3=",
    b"Content-Type: text/html; charset=iso-8859-1\r\n\r\n<div><blockquote>",
    b"format=flowed; delsp=yes",
    b"=?utf-8?q?=C3=A6?= =?iso-8859-1?b?5g==?=",
    b"Authentication-Results: ; (( dkim=\"",
    b"\xc3\xa6\xc3",
    b"\xff\xfe\x00\x80",
    b" wrote:\n> ",
    b"From: <>\r\n",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Flip { at, byte }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        (any::<usize>(), 0usize..64).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<usize>(), any::<usize>(), any::<usize>(), 0usize..512).prop_map(
            |(at, from, start, len)| Mutation::Insert {
                at,
                from,
                start,
                len
            }
        ),
        (any::<usize>(), 0..PIECES.len()).prop_map(|(at, piece)| Mutation::Syntax { at, piece }),
    ]
}

fn mutate(mut raw: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    let fixtures = fixtures();
    for m in mutations {
        let at = |at: usize, len: usize| if len == 0 { 0 } else { at % (len + 1) };
        match *m {
            Mutation::Flip { at: i, byte } => {
                if !raw.is_empty() {
                    let i = i % raw.len();
                    raw[i] ^= byte;
                }
            }
            Mutation::Truncate { at: i } => {
                let i = at(i, raw.len());
                raw.truncate(i);
            }
            Mutation::Delete { at: i, len } => {
                let i = at(i, raw.len());
                let end = (i + len).min(raw.len());
                raw.drain(i..end);
            }
            Mutation::Insert {
                at: i,
                from,
                start,
                len,
            } => {
                let source = &fixtures[from % fixtures.len()];
                let start = at(start, source.len());
                let end = (start + len).min(source.len());
                let i = at(i, raw.len());
                raw.splice(i..i, source[start..end].iter().copied());
            }
            Mutation::Syntax { at: i, piece } => {
                let i = at(i, raw.len());
                raw.splice(i..i, PIECES[piece].iter().copied());
            }
        }
    }
    raw
}

proptest! {
    // 2,000 cases each by default (a few seconds); PROPTEST_CASES for more.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(2000),
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_bytes(raw in proptest::collection::vec(any::<u8>(), 0..2048)) {
        exercise(&raw);
    }

    #[test]
    fn glued_fragments(pieces in proptest::collection::vec(0..PIECES.len(), 0..40),
                       header in proptest::collection::vec(any::<u8>(), 0..64)) {
        let mut raw = b"From: a@example.no\r\nContent-Type: multipart/mixed; boundary=\"x\"\r\n".to_vec();
        raw.extend_from_slice(&header);
        for p in pieces {
            raw.extend_from_slice(PIECES[p]);
            raw.extend_from_slice(b"\r\n--x\r\n");
        }
        exercise(&raw);
    }

    #[test]
    fn mutated_fixtures(which in any::<usize>(),
                        mutations in proptest::collection::vec(mutation(), 1..8)) {
        let fixtures = fixtures();
        let raw = mutate(fixtures[which % fixtures.len()].clone(), &mutations);
        exercise(&raw);
    }
}

#[test]
fn every_fixture_cut_at_every_line() {
    for raw in fixtures().iter().filter(|r| r.len() < 4096) {
        for (i, _) in raw.iter().enumerate().filter(|(_, b)| **b == b'\n') {
            exercise(&raw[..i]);
            exercise(&raw[i + 1..]);
        }
    }
}
