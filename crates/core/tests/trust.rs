//! Sender trust (SPEC section 10) from real-shaped messages: the topmost
//! `Authentication-Results` of the trusted server decides.

use postbud_core::auth::verified;
use postbud_core::message::{Incoming, parse};

const ID: Option<&str> = Some("mx.forbund.example");

fn msg(headers: &str) -> Incoming {
    parse(format!("From: a@ffm.example\r\n{headers}Subject: x\r\n\r\nbody\r\n").as_bytes()).unwrap()
}

fn is_verified(m: &Incoming, id: Option<&str>) -> bool {
    let from = m.from.as_ref().map(|a| a.email.as_str()).unwrap_or("");
    verified(&m.auth_results, from, id)
}

#[test]
fn dmarc_pass_from_the_trusted_server() {
    assert!(is_verified(
        &msg("Authentication-Results: mx.forbund.example; dmarc=pass header.from=ffm.example\r\n"),
        ID
    ));
}

#[test]
fn aligned_dkim_pass_is_enough_and_an_unaligned_one_is_not() {
    assert!(is_verified(
        &msg("Authentication-Results: mx.forbund.example; dkim=pass header.d=ffm.example\r\n"),
        ID
    ));
    assert!(!is_verified(
        &msg("Authentication-Results: mx.forbund.example; dkim=pass header.d=other.example\r\n"),
        ID
    ));
}

#[test]
fn another_server_or_a_fail_is_not_trusted() {
    assert!(!is_verified(
        &msg("Authentication-Results: evil.example; dmarc=pass\r\n"),
        ID
    ));
    assert!(!is_verified(
        &msg("Authentication-Results: mx.forbund.example; dmarc=fail\r\n"),
        ID
    ));
    assert!(!is_verified(&msg(""), ID));
    assert!(!is_verified(
        &msg("Authentication-Results: mx.forbund.example; dmarc=pass\r\n"),
        None
    ));
}

#[test]
fn only_the_topmost_header_of_the_trusted_server_counts() {
    let m = msg("Authentication-Results: mx.forbund.example; dmarc=fail\r\n\
         Authentication-Results: mx.forbund.example; dmarc=pass\r\n");
    assert!(!is_verified(&m, ID));
}

#[test]
fn the_fixtures() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/mail/");
    let read = |f: &str| parse(&std::fs::read(format!("{dir}{f}")).unwrap()).unwrap();
    assert!(is_verified(&read("registration-hardwrap.eml"), ID));
    assert!(!is_verified(&read("deduction-spoofed.eml"), ID));
    assert!(!is_verified(&read("update-unverified.eml"), ID));
}

/// The findings of SPEC section 10's review, end to end through
/// `message::parse`: each of these was decided the other way before.
#[test]
fn dmarc_pass_needs_header_from_to_be_the_from_domain() {
    for (header_from, expected) in [
        ("", false),
        (" header.from=evil.example", false),
        (" header.from=mail.ffm.example", false),
        (" header.from=FFM.Example", true),
    ] {
        let m = msg(&format!(
            "Authentication-Results: mx.forbund.example; dmarc=pass{header_from}\r\n"
        ));
        assert_eq!(is_verified(&m, ID), expected, "{header_from:?}");
    }
}

#[test]
fn dkim_alignment_follows_the_public_suffix_list() {
    let from = |from: &str, d: &str| {
        parse(
            format!(
                "From: {from}\r\nAuthentication-Results: mx.forbund.example; \
                 dkim=pass header.d={d}\r\nSubject: x\r\n\r\nbody\r\n"
            )
            .as_bytes(),
        )
        .unwrap()
    };
    for (addr, d, expected) in [
        ("a@ffm.example", "example", false),
        ("a@ffm.no", "no", false),
        ("a@ffm.co.uk", "co.uk", false),
        ("a@ffm.github.io", "github.io", false),
        ("a@ffm.example", "mail.ffm.example", true),
        ("a@a.ffm.no", "ffm.no", true),
        ("a@ffm.no", "post.ffm.no", true),
        ("a@ffm.no", "evil.no", false),
    ] {
        assert_eq!(is_verified(&from(addr, d), ID), expected, "{addr} d={d}");
    }
}

#[test]
fn properties_and_comments_keep_header_d_and_header_i_is_not_it() {
    let m = msg("Authentication-Results: mx.forbund.example; dkim=pass\r\n \
         reason=\"signature ok\" (checked) header.s=sel header.d=ffm.example\r\n");
    assert!(is_verified(&m, ID));
    let m = msg("Authentication-Results: mx.forbund.example; dkim=pass header.i=@ffm.example\r\n");
    assert!(!is_verified(&m, ID));
}

#[test]
fn a_header_that_does_not_parse_neither_counts_nor_blocks() {
    for bad in [
        "mx.forbund.example 2; dmarc=pass header.from=ffm.example",
        "mx.forbund.example dmarc=pass header.from=ffm.example",
        "mx.forbund.example; dkim=pass header.d=ffm.example reason=late",
    ] {
        let m = msg(&format!("Authentication-Results: {bad}\r\n"));
        assert!(!is_verified(&m, ID), "{bad}");
    }
    let m = msg(
        "Authentication-Results: mx.forbund.example 2; dmarc=fail\r\n\
         Authentication-Results: mx.forbund.example; dmarc=pass header.from=ffm.example\r\n",
    );
    assert!(is_verified(&m, ID));
}

#[test]
fn the_authserv_id_is_a_value_compared_exactly() {
    for (id, expected) in [
        ("mx.forbund.example (our mx)", true),
        ("\"mx.forbund.example\"", true),
        ("MX.FORBUND.EXAMPLE", true),
        ("mx.forbund.example.evil", false),
        ("\"mx.forbund.example \"", false),
        // Only CFWS and a version may follow the id before the ";".
        ("mx.forbund.example garbage", false),
        ("mx.forbund.example:25", false),
    ] {
        let m = msg(&format!(
            "Authentication-Results: {id}; dmarc=pass header.from=ffm.example\r\n"
        ));
        assert_eq!(is_verified(&m, ID), expected, "{id}");
    }
}

#[test]
fn a_kelvin_sign_is_not_a_k() {
    let m = parse(
        "From: a@\u{212A}ommune.example\r\nAuthentication-Results: mx.forbund.example; \
         dmarc=pass header.from=kommune.example\r\nSubject: x\r\n\r\nbody\r\n"
            .as_bytes(),
    )
    .unwrap();
    assert!(!is_verified(&m, ID));
}
