//! `message::parse` and `message::identity` case by case: text extraction,
//! charsets, quotes, headers, authentication results, attachments, DSNs.

use postbud_core::message::{Incoming, identity, parse};

/// A message from header lines and a body, joined with CRLF.
fn mail(headers: &[&str], body: &str) -> Vec<u8> {
    let mut raw = headers.join("\r\n").into_bytes();
    raw.extend_from_slice(b"\r\n\r\n");
    raw.extend_from_slice(body.replace('\n', "\r\n").as_bytes());
    raw
}

fn plain(body: &str) -> Incoming {
    let raw = mail(
        &[
            "From: Kari Nordmann <Kari.Nordmann@Example.NO>",
            "Subject: Hei",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
        ],
        body,
    );
    parse(&raw).expect("parsed")
}

// ---- text ----

#[test]
fn html_only_becomes_text() {
    let raw = mail(
        &[
            "From: a@example.no",
            "Content-Type: text/html; charset=utf-8",
        ],
        "<html><body><div>HJELP</div><div>Linje&nbsp;to</div>\
         <ul><li>en</li><li>to</li></ul>\
         <div class=\"gmail_quote\"><div>On Fri, 20 Nov 2026 at 09:15 Postbud &lt;post@forbund.example&gt; wrote:</div>\
         <blockquote>KODE</blockquote></div></body></html>",
    );
    let msg = parse(&raw).expect("parsed");
    assert!(
        msg.html
            .as_deref()
            .is_some_and(|h| h.contains("<div>HJELP</div>"))
    );
    assert!(msg.text.starts_with("HJELP\nLinje to\n"), "{:?}", msg.text);
    assert!(msg.text.contains("en") && msg.text.contains("to"));
    assert!(!msg.text.contains("KODE"), "{:?}", msg.text);
    assert!(!msg.text.contains("wrote"), "{:?}", msg.text);
    assert!(msg.full_text.contains("KODE"));
    assert!(!msg.full_text.contains('\u{a0}'));
    assert!(!msg.full_text.contains('\r'));
}

#[test]
fn plain_part_wins_over_html() {
    let raw = mail(
        &[
            "From: a@example.no",
            "Content-Type: multipart/alternative; boundary=\"b\"",
        ],
        "--b\nContent-Type: text/plain; charset=utf-8\n\nfra plain\n--b\n\
         Content-Type: text/html; charset=utf-8\n\n<p>fra html</p>\n--b--\n",
    );
    let msg = parse(&raw).expect("parsed");
    assert_eq!(msg.text, "fra plain");
    assert!(msg.html.as_deref().is_some_and(|h| h.contains("fra html")));
    assert!(msg.attachments.is_empty());
}

#[test]
fn quoted_printable_is_decoded() {
    let raw = mail(
        &[
            "From: a@example.no",
            "Content-Type: text/plain; charset=\"utf-8\"",
            "Content-Transfer-Encoding: quoted-printable",
        ],
        "Jeg f=C3=A5r ikke logget inn med min adress=\ne. Hilsen =C3=98ystein=20\n",
    );
    let msg = parse(&raw).expect("parsed");
    assert_eq!(
        msg.text,
        "Jeg får ikke logget inn med min adresse. Hilsen Øystein"
    );
    assert_eq!(
        msg.full_text,
        "Jeg får ikke logget inn med min adresse. Hilsen Øystein \n"
    );
}

/// 0x80 is € and 0x96 is – in windows-1252; strict ISO-8859-1 has C1
/// controls there. A message claiming ISO-8859-1 is read as windows-1252.
#[test]
fn iso_8859_1_is_read_as_windows_1252() {
    for (charset, cte) in [
        ("iso-8859-1", "8bit"),
        ("ISO-8859-1", "8bit"),
        ("latin1", "8bit"),
        ("us-ascii", "8bit"),
        ("windows-1252", "8bit"),
    ] {
        let mut raw = mail(
            &[
                "From: a@example.no",
                &format!("Content-Type: text/plain; charset=\"{charset}\""),
                &format!("Content-Transfer-Encoding: {cte}"),
            ],
            "",
        );
        raw.extend_from_slice(b"Trekk 1 234 \x80 \x96 l\xf8nn\r\n");
        let msg = parse(&raw).expect("parsed");
        assert_eq!(msg.text, "Trekk 1 234 € – lønn", "{charset}");
    }
    let raw = mail(
        &[
            "From: a@example.no",
            "Content-Type: text/plain; charset=iso-8859-1",
            "Content-Transfer-Encoding: quoted-printable",
        ],
        "Bel=F8p =80 100 =96 betalt\n",
    );
    assert_eq!(parse(&raw).expect("parsed").text, "Beløp € 100 – betalt");
}

#[test]
fn undeclared_or_wrong_charset_falls_back_to_windows_1252() {
    for ct in [
        "Content-Type: text/plain",
        "Content-Type: text/plain; charset=utf-8",
    ] {
        let mut raw = mail(&["From: a@example.no", ct], "");
        raw.extend_from_slice(b"Bj\xf8rn \x96 \x80\r\n");
        let msg = parse(&raw).expect("parsed");
        assert_eq!(msg.text, "Bjørn – €", "{ct}");
    }
    // Valid UTF-8 without a declared charset stays UTF-8.
    let mut raw = mail(&["From: a@example.no"], "");
    raw.extend_from_slice("Bjørn\r\n".as_bytes());
    assert_eq!(parse(&raw).expect("parsed").text, "Bjørn");
}

#[test]
fn nbsp_and_line_endings() {
    let msg = plain("a\u{a0}b\nc\rd\n");
    assert_eq!(msg.full_text, "a b\nc\nd\n");
}

#[test]
fn format_flowed_is_rejoined() {
    let raw = mail(
        &[
            "From: a@example.no",
            "Content-Type: text/plain; charset=utf-8; format=flowed",
        ],
        "navn=Kari \nNordmann;epost=kari@example.no\n\n-- \nLise\n",
    );
    let msg = parse(&raw).expect("parsed");
    assert_eq!(msg.text, "navn=Kari Nordmann;epost=kari@example.no");
    let raw = mail(
        &[
            "From: a@example.no",
            "Content-Type: text/plain; charset=utf-8; format=flowed; delsp=yes",
        ],
        "likeper \nson\n",
    );
    assert_eq!(parse(&raw).expect("parsed").text, "likeperson");
}

// ---- quotes ----

#[test]
fn quotes_english() {
    let msg = plain(
        "MINE DATA\n\nOn Fri, 20 Nov 2026 at 09:15, Postbud <post@forbund.example> wrote:\n> HJELP\n> KODE\n",
    );
    assert_eq!(msg.text, "MINE DATA");
    assert!(msg.full_text.contains("> HJELP"));
}

#[test]
fn quotes_norwegian() {
    let msg = plain(
        "Takk, det stemmer.\n\nDen fre. 20. nov. 2026 kl. 09:15 skrev Postbud <post@forbund.example>:\n\nKODE\n",
    );
    assert_eq!(msg.text, "Takk, det stemmer.");
    let msg = plain("Ja.\n\npost@forbund.example skrev:\nHJELP\n");
    assert_eq!(msg.text, "Ja.");
}

#[test]
fn quotes_outlook() {
    let msg = plain(
        "Se vedlagt.\n\nMed vennlig hilsen\nKari\n\n________________________________\n\
         Fra: Postbud <post@forbund.example>\nSendt: fredag 20. november 2026 09:15\n\
         Til: Kari Nordmann <kari@example.no>\nEmne: Re: [PB-2026-000001] KODE\n\nDin kode er 123456.\n",
    );
    assert_eq!(msg.text, "Se vedlagt.\n\nMed vennlig hilsen\nKari");
    let msg =
        plain("ok\n\n-----Original Message-----\nFrom: Postbud\nSent: Friday\nSubject: HJELP\n");
    assert_eq!(msg.text, "ok");
    let msg = plain("ok\n\n-----Opprinnelig melding-----\nFra: Postbud\nDato: fredag\n\nKODE\n");
    assert_eq!(msg.text, "ok");
    let msg = plain("Se under\n\n---------- Forwarded message ---------\nFrom: x\n\nKODE\n");
    assert_eq!(msg.text, "Se under");
}

#[test]
fn interleaved_quotes_keep_the_answers() {
    let msg = plain("> Hva er telefonnummeret?\n912 34 567\n> Og adressen?\nStorgata 1\n");
    assert_eq!(msg.text, "912 34 567\nStorgata 1");
}

#[test]
fn signature_is_dropped() {
    let msg = plain("ENDRE\ntelefon: 1\n\n-- \nKari Nordmann\nTlf 999\n");
    assert_eq!(msg.text, "ENDRE\ntelefon: 1");
    assert!(msg.full_text.contains("Tlf 999"));
}

// ---- headers ----

#[test]
fn header_fields() {
    let raw = mail(
        &[
            "From: \"Nordmann, Kari\" <Kari.Nordmann@Example.NO >",
            "Reply-To: Other <OTHER@example.no>, second@example.no",
            "Subject: =?utf-8?q?F=C3=A5r?= ikke\r\n logget inn  ",
            "Message-ID: <abc.123@Example.no>",
            "In-Reply-To: <pb.1@forbund.example>",
            "References: <pb.0@forbund.example>\r\n <pb.1@forbund.example>",
            "Auto-Submitted: Auto-Replied",
            "Precedence: BULK",
            "List-Unsubscribe: <mailto:x@example.no>",
        ],
        "hei\n",
    );
    let msg = parse(&raw).expect("parsed");
    let from = msg.from.as_ref().expect("from");
    assert_eq!(from.email, "kari.nordmann@example.no");
    assert_eq!(from.name.as_deref(), Some("Nordmann, Kari"));
    assert_eq!(
        msg.reply_to.as_ref().map(|a| a.email.as_str()),
        Some("other@example.no")
    );
    assert_eq!(msg.subject, "Får ikke logget inn");
    assert_eq!(msg.message_id.as_deref(), Some("abc.123@Example.no"));
    assert_eq!(
        msg.references,
        vec!["pb.1@forbund.example", "pb.0@forbund.example"]
    );
    assert_eq!(msg.auto_submitted.as_deref(), Some("auto-replied"));
    assert_eq!(msg.precedence.as_deref(), Some("bulk"));
    assert!(msg.is_list);
    assert!(msg.dsn.is_none());
}

#[test]
fn missing_headers() {
    let msg = parse(b"X-Nothing: here\r\n\r\nbody").expect("a header block is a message");
    assert!(msg.from.is_none() && msg.reply_to.is_none() && msg.message_id.is_none());
    assert_eq!(msg.subject, "");
    assert!(msg.references.is_empty() && !msg.is_list);
    assert!(msg.auto_submitted.is_none() && msg.precedence.is_none());
    let msg = parse(b"From: Kari Nordmann\r\n\r\n").expect("parsed");
    assert!(
        msg.from.is_none(),
        "a name without an address: {:?}",
        msg.from
    );
}

#[test]
fn not_a_message() {
    for raw in [
        &b""[..],
        b"hello world",
        b"\r\n\r\nFrom: a@example.no\r\n",
        b"\x00\x01",
    ] {
        assert!(parse(raw).is_none(), "{raw:?}");
    }
    assert!(parse(b"Subject: hei").is_some());
}

#[test]
fn garbage_body_is_still_a_message() {
    let mut raw = mail(
        &[
            "From: a@example.no",
            "Content-Type: multipart/mixed; boundary=x",
        ],
        "",
    );
    raw.extend_from_slice(b"--x\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n@@@\xff\xfe\x00--\r\n--x");
    let msg = parse(&raw).expect("parsed");
    assert_eq!(msg.from.map(|a| a.email).as_deref(), Some("a@example.no"));
}

// ---- authentication results ----

#[test]
fn auth_results_topmost_first() {
    let raw = mail(
        &[
            "Authentication-Results: mx.forbund.example; dkim=pass\r\n header.d=ffm.example (good);\r\n\tspf=pass smtp.mailfrom=a@ffm.example; dmarc=pass header.from=ffm.example",
            "Received: from x by y",
            "authentication-results: evil.example; dmarc=fail",
            "Authentication-Results: mx.forbund.example; none",
            "From: a@ffm.example",
        ],
        "hei\n",
    );
    let msg = parse(&raw).expect("parsed");
    let ids: Vec<&str> = msg
        .auth_results
        .iter()
        .map(|a| a.authserv_id.as_str())
        .collect();
    assert_eq!(
        ids,
        vec!["mx.forbund.example", "evil.example", "mx.forbund.example"]
    );
    let top = &msg.auth_results[0];
    assert_eq!(top.dmarc.as_deref(), Some("pass"));
    assert_eq!(top.spf.as_deref(), Some("pass"));
    assert_eq!(
        top.dkim,
        vec![("pass".to_string(), Some("ffm.example".to_string()))]
    );
    assert_eq!(msg.auth_results[1].dmarc.as_deref(), Some("fail"));
    assert!(msg.auth_results[2].dmarc.is_none() && msg.auth_results[2].dkim.is_empty());
}

// ---- attachments ----

#[test]
fn attachments_are_not_body_parts() {
    let raw = mail(
        &[
            "From: a@example.no",
            "Content-Type: multipart/mixed; boundary=\"m\"",
        ],
        "--m\nContent-Type: multipart/alternative; boundary=\"a\"\n\n\
         --a\nContent-Type: text/plain; charset=utf-8\n\nVedlagt.\n\
         --a\nContent-Type: text/html; charset=utf-8\n\n<p>Vedlagt.</p>\n--a--\n\
         --m\nContent-Type: text/csv; name=\"liste.csv\"\nContent-Transfer-Encoding: base64\n\n\
         RsO4ZHNlbHNudW1tZXI7QmVsw7hwCg==\n\
         --m\nContent-Type: application/octet-stream\n\
         Content-Disposition: attachment; filename=\"Trekk Oktober.XLSX\"\n\
         Content-Transfer-Encoding: base64\n\nUEsDBA==\n--m--\n",
    );
    let msg = parse(&raw).expect("parsed");
    assert_eq!(msg.text, "Vedlagt.");
    assert_eq!(msg.attachments.len(), 2, "{:?}", msg.attachments);
    let csv = &msg.attachments[0];
    assert_eq!(csv.name.as_deref(), Some("liste.csv"));
    assert_eq!(csv.content_type, "text/csv");
    assert_eq!(csv.bytes, "Fødselsnummer;Beløp\n".as_bytes());
    let xlsx = &msg.attachments[1];
    assert_eq!(xlsx.name.as_deref(), Some("Trekk Oktober.XLSX"));
    assert_eq!(xlsx.content_type, "application/octet-stream");
    assert_eq!(xlsx.bytes, b"PK\x03\x04");
}

// ---- delivery status reports ----

#[test]
fn dsn_with_returned_message() {
    let raw = mail(
        &[
            "From: postmaster@mx.example.no",
            "Content-Type: multipart/report; report-type=\"Delivery-Status\"; boundary=\"r\"",
        ],
        "--r\nContent-Type: text/plain\n\nFeil.\n\
         --r\nContent-Type: message/delivery-status\n\n\
         Reporting-MTA: dns; mx.example.no\n\n\
         Final-Recipient: rfc822; A@Example.no\nAction: failed\nStatus: 5.1.1\n\n\
         Final-Recipient: rfc822;b@example.no\nAction: delivered\n\n\
         Final-Recipient: rfc822;\n <c@example.no>\nAction: failed\n\n\
         --r\nContent-Type: message/rfc822\n\n\
         From: post@forbund.example\nMessage-ID: <pb.2026.7@forbund.example>\nSubject: x\n\nbody\n\
         --r--\n",
    );
    let msg = parse(&raw).expect("parsed");
    let dsn = msg.dsn.as_ref().expect("a DSN");
    assert_eq!(dsn.failed, vec!["a@example.no", "c@example.no"]);
    assert_eq!(
        dsn.original_message_id.as_deref(),
        Some("pb.2026.7@forbund.example")
    );
    assert!(msg.attachments.is_empty());
    assert_eq!(msg.text, "Feil.");
}

#[test]
fn dsn_status_part_in_base64() {
    let raw = mail(
        &[
            "From: MAILER-DAEMON@x",
            "Content-Type: multipart/report; report-type=delivery-status; boundary=r",
        ],
        "--r\nContent-Type: text/plain\n\nFeil.\n\
         --r\nContent-Type: message/delivery-status\nContent-Transfer-Encoding: base64\n\n\
         RmluYWwtUmVjaXBpZW50OiByZmM4MjI7IGRAZXhhbXBsZS5ubwpBY3Rpb246IGZhaWxlZAo=\n\
         --r--\n",
    );
    let dsn = parse(&raw).expect("parsed").dsn.expect("a DSN");
    assert_eq!(dsn.failed, vec!["d@example.no"]);
    assert_eq!(dsn.original_message_id, None);
}

#[test]
fn other_reports_are_no_dsn() {
    let raw = mail(
        &[
            "From: kari@example.no",
            "Content-Type: multipart/report; report-type=disposition-notification; boundary=r",
        ],
        "--r\nContent-Type: text/plain\n\nLest.\n--r\nContent-Type: message/disposition-notification\n\n\
         Final-Recipient: rfc822; kari@example.no\nDisposition: manual-action/MDN-sent-manually; displayed\n--r--\n",
    );
    assert!(parse(&raw).expect("parsed").dsn.is_none());
}

// ---- identity ----

fn delivered(trace: &str) -> Vec<u8> {
    format!(
        "{trace}From: kari@example.no\r\nTo: post@forbund.example\r\nSubject: Hei\r\n\r\nHei der.\r\n"
    )
    .into_bytes()
}

#[test]
fn identity_without_message_id_ignores_trace_headers() {
    let a = delivered(
        "Return-Path: <kari@example.no>\r\nDelivered-To: post@forbund.example\r\n\
         Received: from mx1.example.no (mx1 [192.0.2.1])\r\n\tby mx.forbund.example with ESMTPS id A1\r\n\
         \tfor <post@forbund.example>; Fri, 20 Nov 2026 09:15:00 +0100\r\n",
    );
    let b = delivered(
        "X-Original-To: post@forbund.example\r\nReceived: from mx2.example.no\r\n by mx.forbund.example id B2;\r\n Fri, 20 Nov 2026 09:15:07 +0100\r\n\
         Received: from mx3\r\nReturn-Path: <kari@example.no>\r\n",
    );
    let c = delivered("");
    let ids: Vec<String> = [&a, &b, &c]
        .iter()
        .map(|raw| identity(raw, parse(raw).as_ref()))
        .collect();
    assert!(ids[0].starts_with("sha256:"), "{}", ids[0]);
    assert_eq!(ids[0].len(), "sha256:".len() + 64);
    assert_eq!(ids[0], ids[1]);
    assert_eq!(ids[0], ids[2]);
    // Unparsed: the same hash.
    assert_eq!(identity(&a, None), ids[0]);
    // CRLF or LF: the same message.
    let lf = String::from_utf8(c.clone())
        .expect("utf-8")
        .replace("\r\n", "\n");
    assert_eq!(identity(lf.as_bytes(), None), ids[0]);
    // Another body is another message.
    let other = String::from_utf8(c)
        .expect("utf-8")
        .replace("Hei der", "Hei du");
    assert_ne!(identity(other.as_bytes(), None), ids[0]);
}

#[test]
fn identity_with_message_id() {
    let raw = mail(
        &[
            "Received: from a by b",
            "From: Kari <KARI@example.no>",
            "Message-ID: <x.1@example.no>",
        ],
        "hei\n",
    );
    let msg = parse(&raw).expect("parsed");
    assert_eq!(
        identity(&raw, Some(&msg)),
        "mid:x.1@example.no kari@example.no"
    );
    let raw = mail(&["Message-ID: <x.1@example.no>"], "hei\n");
    let msg = parse(&raw).expect("parsed");
    assert_eq!(identity(&raw, Some(&msg)), "mid:x.1@example.no ");
    assert!(identity(b"", None).starts_with("sha256:"));
}
