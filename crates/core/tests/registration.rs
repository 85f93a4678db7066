//! Registration strings (SPEC section 6): the test vectors, the grammar, how
//! broken and quoted strings are rejoined, and the registration fixtures in
//! `tests/fixtures/mail`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use postbud_core::message::parse;
use postbud_core::registration::{
    Found, MAX_STRINGS, Registration, Role, Unverified, find, find_in_text, sign,
};

const KEY: &[u8] = b"test-secret-do-not-use";

const KARI: &str = "REG1;id=F-20261120-0042;lag=Bergen;navn=Kari Nordmann;epost=kari.nordmann@example.no;tlf=+4791234567;rolle=likeperson;dato=2026-11-20;sig=0a322fab0e00b541";
const OYSTEIN: &str = "REG1;id=F-20261121-0007;lag=Tromsø;navn=Øystein Ærø-Åsen;epost=oystein@example.no;rolle=likeperson;dato=2026-11-21;sig=a222193be0f108f6";
/// The second string of the fixtures: Øystein in Bergen, with a phone.
const OYSTEIN_BERGEN: &str = "REG1;id=F-20261121-0007;lag=Bergen;navn=Øystein Ærø-Åsen;epost=oystein@example.no;tlf=+4740000007;rolle=likeperson;dato=2026-11-20;sig=759a586e702383f2";

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("a test date")
}

fn kari() -> Registration {
    Registration {
        form_id: "F-20261120-0042".into(),
        chapter: "Bergen".into(),
        name: "Kari Nordmann".into(),
        email: "kari.nordmann@example.no".into(),
        phone: Some("+4791234567".into()),
        role: Role::Likeperson,
        birth_date: None,
        date: day("2026-11-20"),
        signed_text: KARI.into(),
    }
}

fn oystein_bergen() -> Registration {
    Registration {
        form_id: "F-20261121-0007".into(),
        chapter: "Bergen".into(),
        name: "Øystein Ærø-Åsen".into(),
        email: "oystein@example.no".into(),
        phone: Some("+4740000007".into()),
        role: Role::Likeperson,
        birth_date: None,
        date: day("2026-11-20"),
        signed_text: OYSTEIN_BERGEN.into(),
    }
}

/// A signed string from fields in the order given.
fn signed(fields: &[(&str, &str)]) -> String {
    let mut text = "REG1".to_string();
    for (k, v) in fields {
        text.push_str(&format!(";{k}={v}"));
    }
    let sig = sign(&text, KEY);
    format!("{text};sig={sig}")
}

fn valid(found: &[Found]) -> Vec<&Registration> {
    found
        .iter()
        .filter_map(|f| match f {
            Found::Valid(reg) => Some(reg),
            _ => None,
        })
        .collect()
}

fn only_valid(found: &[Found]) -> Registration {
    match found {
        [Found::Valid(reg)] => reg.clone(),
        other => panic!("expected one valid string, got {other:#?}"),
    }
}

fn malformed_reason(found: &[Found]) -> String {
    match found {
        [Found::Malformed { reason, .. }] => reason.clone(),
        other => panic!("expected one malformed string, got {other:#?}"),
    }
}

// --- The test vectors and the grammar ---------------------------------------

#[test]
fn spec_vectors_sign_and_verify() {
    for vector in [KARI, OYSTEIN, OYSTEIN_BERGEN] {
        let (head, sig) = vector.split_once(";sig=").expect("a sig");
        assert_eq!(sign(head, KEY), sig);
    }
    assert_eq!(only_valid(&find_in_text(KARI, Some(KEY))), kari());
    let oystein = only_valid(&find_in_text(OYSTEIN, Some(KEY)));
    assert_eq!(oystein.chapter, "Tromsø");
    assert_eq!(oystein.name, "Øystein Ærø-Åsen");
    assert_eq!(oystein.email, "oystein@example.no");
    assert_eq!(oystein.phone, None);
    assert_eq!(oystein.date, day("2026-11-21"));
    assert_eq!(oystein.signed_text, OYSTEIN);
}

#[test]
fn a_changed_string_does_not_verify() {
    let tampered = KARI.replace("+4791234567", "+4790000000");
    match find_in_text(&tampered, Some(KEY)).as_slice() {
        [
            Found::Unverified {
                reg,
                text,
                reason: Unverified::BadSig,
            },
        ] => {
            assert_eq!(reg.phone.as_deref(), Some("+4790000000"));
            assert_eq!(text, &tampered);
        }
        other => panic!("{other:#?}"),
    }
    // The wrong key, and a sig that is not 16 hex digits.
    let found = find_in_text(KARI, Some(b"another-secret"));
    assert!(matches!(
        found.as_slice(),
        [Found::Unverified {
            reason: Unverified::BadSig,
            ..
        }]
    ));
    let short = KARI.strip_suffix("b541").expect("the vector");
    let found = find_in_text(short, Some(KEY));
    assert!(matches!(
        found.as_slice(),
        [Found::Unverified {
            reason: Unverified::BadSig,
            ..
        }]
    ));
}

#[test]
fn upper_case_sig_verifies() {
    let upper = KARI.replace("0a322fab0e00b541", "0A322FAB0E00B541");
    let reg = only_valid(&find_in_text(&upper, Some(KEY)));
    assert_eq!(reg.signed_text, upper);
}

#[test]
fn without_a_secret_nothing_verifies() {
    for secret in [None, Some(&b""[..])] {
        match find_in_text(KARI, secret).as_slice() {
            [
                Found::Unverified {
                    reg,
                    reason: Unverified::NoSecret,
                    ..
                },
            ] => assert_eq!(reg, &kari()),
            other => panic!("{other:#?}"),
        }
    }
}

#[test]
fn a_string_without_sig_ends_at_a_blank_line() {
    let text = "Hei\n\nREG1;id=F-1;lag=Bergen;navn=Kari\nNordmann;epost=k@example.no;dato=2026-11-20\n\nMvh\nLise";
    match find_in_text(text, Some(KEY)).as_slice() {
        [
            Found::Unverified {
                reg,
                text,
                reason: Unverified::MissingSig,
            },
        ] => {
            assert_eq!(
                text,
                "REG1;id=F-1;lag=Bergen;navn=Kari Nordmann;epost=k@example.no;dato=2026-11-20"
            );
            assert_eq!(reg.name, "Kari Nordmann");
        }
        other => panic!("{other:#?}"),
    }
}

#[test]
fn escapes_are_decoded_after_verification() {
    let s = signed(&[
        ("id", "F%3B1"),
        ("lag", "Sør%3DVest"),
        ("navn", "Ola %25 Normann%3B jr"),
        ("epost", "Ola@Example.NO"),
        ("dato", "2026-11-20"),
    ]);
    let reg = only_valid(&find_in_text(&s, Some(KEY)));
    assert_eq!(reg.form_id, "F;1");
    assert_eq!(reg.chapter, "Sør=Vest");
    assert_eq!(reg.name, "Ola % Normann; jr");
    assert_eq!(reg.email, "ola@example.no");
    assert_eq!(reg.signed_text, s);
    // Verified over the escaped text: decoding first would not verify.
    assert!(s.contains("%3B1"));
}

#[test]
fn fields_in_any_order_and_optional_fields() {
    let s = signed(&[
        ("dato", "2026-11-20"),
        ("fdato", "1980-02-29"),
        ("rolle", "medlem"),
        ("epost", "per@example.no"),
        ("navn", "Per Hansen"),
        ("lag", "Oslo"),
        ("ukjent", "framtidig felt"),
        ("id", "F-9"),
    ]);
    let reg = only_valid(&find_in_text(&s, Some(KEY)));
    assert_eq!(reg.form_id, "F-9");
    assert_eq!(reg.chapter, "Oslo");
    assert_eq!(reg.role, Role::Medlem);
    assert_eq!(reg.birth_date, Some(day("1980-02-29")));
    assert_eq!(reg.phone, None);
}

#[test]
fn missing_and_bad_fields_are_named() {
    let base = [
        ("id", "F-1"),
        ("lag", "Bergen"),
        ("navn", "Kari"),
        ("epost", "k@example.no"),
        ("dato", "2026-11-20"),
    ];
    let without = |key: &str| -> Vec<(&'static str, &'static str)> {
        base.iter().copied().filter(|(k, _)| *k != key).collect()
    };
    let reason = malformed_reason(&find_in_text(&signed(&without("epost")), Some(KEY)));
    assert_eq!(reason, "the field `epost` is missing");
    let two: Vec<_> = without("id")
        .into_iter()
        .filter(|(k, _)| *k != "dato")
        .collect();
    let reason = malformed_reason(&find_in_text(&signed(&two), Some(KEY)));
    assert_eq!(reason, "the fields `id` and `dato` are missing");
    let reason = malformed_reason(&find_in_text("REG1;", Some(KEY)));
    assert_eq!(
        reason,
        "the fields `id`, `lag`, `navn`, `epost` and `dato` are missing"
    );

    let with = |key: &'static str, value: &'static str| {
        let mut fields = without(key);
        fields.push((key, value));
        fields
    };
    let cases = [
        (
            with("dato", "2026-13-01"),
            "the field `dato` is not a date (YYYY-MM-DD): `2026-13-01`",
        ),
        (
            with("fdato", "1.2.1980"),
            "the field `fdato` is not a date (YYYY-MM-DD): `1.2.1980`",
        ),
        (
            with("rolle", "leder"),
            "the field `rolle` must be `likeperson` or `medlem`, not `leder`",
        ),
        (
            with("epost", "kari at example"),
            "the field `epost` is not an email address: `kari at example`",
        ),
        (with("navn", "Kari"), "the field `navn` appears twice"),
    ];
    for (mut fields, expected) in cases {
        if expected.contains("twice") {
            fields.push(("navn", "Kari"));
        }
        let s = signed(&fields);
        let found = find_in_text(&s, Some(KEY));
        assert_eq!(malformed_reason(&found), expected, "{s}");
        // The text is the verified string, for the admin to see.
        assert_eq!(found.first().map(Found::text), Some(s.as_str()));
    }
    let reason = malformed_reason(&find_in_text(
        "REG1;id=F-1;lag=Bergen;navnKari;epost=k@example.no;dato=2026-11-20;sig=0000000000000000",
        Some(KEY),
    ));
    assert_eq!(
        reason,
        "`navnKari` is not a field (it has no `=`); the field `navn` is missing"
    );
}

// --- Finding and rejoining ----------------------------------------------------

#[test]
fn a_string_inside_a_sentence() {
    let text = format!("Her er den: {KARI} takk for hjelpen.");
    assert_eq!(only_valid(&find_in_text(&text, Some(KEY))), kari());
    let text = format!("Her er den:{KARI}.");
    assert_eq!(only_valid(&find_in_text(&text, Some(KEY))), kari());
}

#[test]
fn breaks_inside_values_and_for_spaces() {
    // A space became the break ("Kari\nNordmann"), a value was broken
    // ("kari.nordm\nann"), a key ("ro\nlle"), the mark ("RE\nG1;") and the
    // signature ("0a32\n2fab").
    let text = "Hei\nRE\nG1;id=F-20261120-0042;lag=Bergen;navn=Kari\nNordmann;epost=kari.nordm\nann@example.no;tlf=+4791234567;ro\nlle=likeperson;dato=2026-11-20;sig=0a32\n2fab0e00b541\nMvh";
    assert_eq!(only_valid(&find_in_text(text, Some(KEY))), kari());
    // The space kept at the end of the line (format=flowed not undone).
    let text = KARI.replace("Kari ", "Kari \n");
    assert_eq!(only_valid(&find_in_text(&text, Some(KEY))), kari());
    // A lower-case word after a space: the heuristic guesses wrong, the
    // signature decides.
    let s = signed(&[
        ("id", "F-2"),
        ("lag", "Bergen"),
        ("navn", "Jan van der Berg"),
        ("epost", "jan@example.no"),
        ("tlf", "+47 912 34 567"),
        ("dato", "2026-11-20"),
    ]);
    let wrapped = s
        .replace("van der", "van\nder")
        .replace("der Berg", "der\nBerg")
        .replace("912 34", "912\n34");
    let reg = only_valid(&find_in_text(&wrapped, Some(KEY)));
    assert_eq!(reg.name, "Jan van der Berg");
    assert_eq!(reg.phone.as_deref(), Some("+47 912 34 567"));
    assert_eq!(reg.signed_text, s);
}

#[test]
fn quoted_lines_and_blank_lines_between_pieces() {
    let text = "Se under.\n\n> REG1;id=F-20261120-0042;lag=Bergen;navn=Kari\n> Nordmann;epost=kari.nordm\n>> ann@example.no;tlf=+4791234567;rolle=likeperson;dato=2026-11-20;sig=0a\n> > 322fab0e00b541\n";
    assert_eq!(only_valid(&find_in_text(text, Some(KEY))), kari());
    // Every wrapped line its own paragraph (HTML with one <p> per line).
    let text = "REG1;id=F-20261120-0042;lag=Bergen;navn=Kari\n\nNordmann;epost=kari.nordmann@example.no;tlf=+4791234567;rolle=like\n\n \n\nperson;dato=2026-11-20;sig=0a322fab0e00b541\n\nMvh";
    assert_eq!(only_valid(&find_in_text(text, Some(KEY))), kari());
    // A continuation line that lost its quote prefix.
    let text = "> REG1;id=F-20261120-0042;lag=Bergen;navn=Kari Nordmann;epost=kari.nordmann@example.no;tlf=+47912\n34567;rolle=likeperson;dato=2026-11-20;sig=0a322fab0e00b541";
    assert_eq!(only_valid(&find_in_text(text, Some(KEY))), kari());
}

#[test]
fn several_strings_each_once() {
    let text = format!(
        "{KARI}\n{OYSTEIN}\n\n> {KARI}\n>\n>> {OYSTEIN}\nREG1;id=x\n\n{}",
        KARI.replace("Kari ", "Kari\n")
    );
    let found = find_in_text(&text, Some(KEY));
    assert_eq!(found.len(), 3, "{found:#?}");
    let valid = valid(&found);
    assert_eq!(valid.len(), 2);
    assert_eq!(valid.first().map(|r| r.signed_text.as_str()), Some(KARI));
    assert_eq!(valid.get(1).map(|r| r.signed_text.as_str()), Some(OYSTEIN));
    assert!(matches!(found.get(2), Some(Found::Malformed { text, .. }) if text == "REG1;id=x"));
}

#[test]
fn a_string_without_sig_before_a_signed_one() {
    let text =
        format!("REG1;id=F-1;lag=Bergen;navn=Kari;epost=k@example.no;dato=2026-11-20\n{KARI}");
    let found = find_in_text(&text, Some(KEY));
    assert!(matches!(
        found.first(),
        Some(Found::Unverified {
            reason: Unverified::MissingSig,
            text,
            ..
        }) if text == "REG1;id=F-1;lag=Bergen;navn=Kari;epost=k@example.no;dato=2026-11-20"
    ));
    assert_eq!(valid(&found), vec![&kari()]);
}

#[test]
fn a_value_may_hold_the_mark() {
    let s = signed(&[
        ("id", "F-3"),
        ("lag", "REG1"),
        ("navn", "Kari"),
        ("epost", "k@example.no"),
        ("dato", "2026-11-20"),
    ]);
    let reg = only_valid(&find_in_text(&s, Some(KEY)));
    assert_eq!(reg.chapter, "REG1");
}

#[test]
fn the_heuristic_without_a_secret() {
    let text = "REG1;id=F-20261120-0042;lag=Bergen;navn=Kari\nNordmann;epost=kari.nordmann@example.no;tlf=+4791234567;ro\nlle=likeperson;dato=2026-11-20;sig=0a322fab0e00b541";
    match find_in_text(text, None).as_slice() {
        [Found::Unverified { reg, text, .. }] => {
            assert_eq!(reg, &kari());
            assert_eq!(text, KARI);
        }
        other => panic!("{other:#?}"),
    }
}

#[test]
fn adversarial_input_is_bounded() {
    let start = Instant::now();
    // A thousand fragments, with a sig at the end.
    let text = format!("{}{KARI}", "REG1;".repeat(1000));
    let found = find_in_text(&text, Some(KEY));
    assert!(found.len() <= MAX_STRINGS);
    // Fragments one per line.
    let text = "REG1;navn=A\n".repeat(5000);
    let found = find_in_text(&text, Some(KEY));
    assert!(found.len() <= MAX_STRINGS);
    // A very long line, and one long string of many uncertain breaks.
    let text = format!("REG1;navn={}", "x".repeat(1_000_000));
    assert_eq!(find_in_text(&text, Some(KEY)).len(), 1);
    let name = vec!["Ab"; 600].join("\nCd");
    let text =
        format!("REG1;id=F;lag=B;navn={name};epost=a@b.no;dato=2026-11-20;sig=0123456789abcdef\n");
    let many = text.repeat(200);
    let found = find_in_text(&many, Some(KEY));
    assert!(!found.is_empty());
    // Many starts before each of many sigs (each start could reach a sig).
    let text = format!("{};sig=0123456789abcdef", "REG1;".repeat(800)).repeat(250);
    let found = find_in_text(&text, Some(KEY));
    assert!(found.len() <= MAX_STRINGS);
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    // Odd bytes and odd places.
    for text in [
        "REG1;sig=",
        "REG1;;;;sig=zz",
        "REG1;=;=;sig=0123456789abcdef",
        "ÆREG1;navn=ø%;sig=ø",
        "> \n>\nREG1",
        "REG1;navn=%3",
        "REG1;id=é;sig=0123456789ABCDEF0123",
    ] {
        let _ = find_in_text(text, Some(KEY));
        let _ = find_in_text(text, None);
    }
}

// --- Fixtures -----------------------------------------------------------------

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/mail");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "eml")
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("registration-"))
        })
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
            (name, std::fs::read(&p).expect("readable fixture"))
        })
        .collect()
}

/// What each fixture holds, as registrations (valid with the key).
fn expected(name: &str) -> Vec<Registration> {
    match name {
        "registration-hardwrap"
        | "registration-flowed-thunderbird"
        | "registration-gmail-html-only" => vec![kari(), oystein_bergen()],
        "registration-outlook-qp" | "registration-quoted-forward" => vec![kari()],
        "registration-tampered" => {
            let mut reg = kari();
            reg.phone = Some("+4790000000".into());
            reg.signed_text = KARI.replace("+4791234567", "+4790000000");
            vec![reg]
        }
        other => panic!("no expectation for fixture {other}"),
    }
}

#[test]
fn registration_fixtures() {
    let corpus = fixtures();
    assert_eq!(corpus.len(), 6, "registration fixtures");
    for (name, raw) in &corpus {
        let msg = parse(raw).unwrap_or_else(|| panic!("{name}: not parsed"));
        let found = find(&msg, Some(KEY));
        let want = expected(name);
        if name == "registration-tampered" {
            assert!(valid(&found).is_empty(), "{name}: {found:#?}");
            match found.as_slice() {
                [
                    Found::Unverified {
                        reg,
                        reason: Unverified::BadSig,
                        ..
                    },
                ] => assert_eq!(Some(reg), want.first(), "{name}"),
                other => panic!("{name}: {other:#?}"),
            }
        } else {
            let got: Vec<Registration> = valid(&found).into_iter().cloned().collect();
            assert_eq!(got, want, "{name}");
            assert_eq!(found.len(), want.len(), "{name}: {found:#?}");
        }
    }
}

#[test]
fn registration_fixtures_without_a_secret() {
    // The heuristic alone rejoins every fixture right.
    for (name, raw) in fixtures() {
        let msg = parse(&raw).unwrap_or_else(|| panic!("{name}: not parsed"));
        let got: Vec<Registration> = find(&msg, None)
            .into_iter()
            .map(|f| match f {
                Found::Unverified {
                    reg,
                    reason: Unverified::NoSecret,
                    ..
                } => reg,
                other => panic!("{name}: {other:#?}"),
            })
            .collect();
        assert_eq!(got, expected(&name), "{name}");
    }
}
