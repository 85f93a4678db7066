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
