//! Sender trust (SPEC section 10): a sender is verified when the topmost
//! `Authentication-Results` header from the trusted server id says
//! `dmarc=pass`, or `dkim=pass` with a `d=` aligned to the From domain.

use postbud_core::message::Incoming;

/// Whether `msg`'s sender is verified by the server `trusted_id`.
pub fn verified(msg: &Incoming, trusted_id: Option<&str>) -> bool {
    let (Some(trusted), Some(from)) = (trusted_id, msg.from.as_ref()) else {
        return false;
    };
    let Some(domain) = from
        .email
        .rsplit_once('@')
        .map(|(_, d)| d.to_ascii_lowercase())
    else {
        return false;
    };
    let Some(ar) = msg
        .auth_results
        .iter()
        .find(|a| a.authserv_id.eq_ignore_ascii_case(trusted))
    else {
        return false;
    };
    if ar.dmarc.as_deref() == Some("pass") {
        return true;
    }
    ar.dkim.iter().any(|(result, d)| {
        result == "pass"
            && d.as_deref().is_some_and(|d| {
                let d = d.to_ascii_lowercase();
                domain == d || domain.ends_with(&format!(".{d}"))
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use postbud_core::message::parse;

    fn msg(headers: &str) -> Incoming {
        parse(format!("From: a@ffm.example\r\n{headers}Subject: x\r\n\r\nbody\r\n").as_bytes())
            .unwrap()
    }

    const ID: Option<&str> = Some("mx.forbund.example");

    #[test]
    fn dmarc_pass_from_the_trusted_server() {
        assert!(verified(
            &msg(
                "Authentication-Results: mx.forbund.example; dmarc=pass header.from=ffm.example\r\n"
            ),
            ID
        ));
    }

    #[test]
    fn aligned_dkim_pass_is_enough_and_an_unaligned_one_is_not() {
        assert!(verified(
            &msg("Authentication-Results: mx.forbund.example; dkim=pass header.d=ffm.example\r\n"),
            ID
        ));
        assert!(!verified(
            &msg(
                "Authentication-Results: mx.forbund.example; dkim=pass header.d=other.example\r\n"
            ),
            ID
        ));
    }

    #[test]
    fn another_server_or_a_fail_is_not_trusted() {
        assert!(!verified(
            &msg("Authentication-Results: evil.example; dmarc=pass\r\n"),
            ID
        ));
        assert!(!verified(
            &msg("Authentication-Results: mx.forbund.example; dmarc=fail\r\n"),
            ID
        ));
        assert!(!verified(&msg(""), ID));
        assert!(!verified(
            &msg("Authentication-Results: mx.forbund.example; dmarc=pass\r\n"),
            None
        ));
    }

    #[test]
    fn only_the_topmost_header_of_the_trusted_server_counts() {
        let m = msg("Authentication-Results: mx.forbund.example; dmarc=fail\r\n\
             Authentication-Results: mx.forbund.example; dmarc=pass\r\n");
        assert!(!verified(&m, ID));
    }

    #[test]
    fn the_fixtures() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/mail/");
        let read = |f: &str| parse(&std::fs::read(format!("{dir}{f}")).unwrap()).unwrap();
        assert!(verified(&read("registration-hardwrap.eml"), ID));
        assert!(!verified(&read("deduction-spoofed.eml"), ID));
        assert!(!verified(&read("update-unverified.eml"), ID));
    }
}
