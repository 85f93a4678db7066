//! Deduction lists end to end (SPEC section 8) with the fixture register:
//! every deduction-*.eml gives the receipt its README implies.

use crate::support::{FIXTURES, Home, fixture};
use postbud::store::import::{ImportKind, import};

/// The fixture register: the employer's 40 members and its contact (who
/// has accepted the declaration). Synthetic ids are allowed, as in the
/// Norwegian test registry the fixtures come from.
fn home() -> Home {
    let home = Home::new(&format!(
        "{}[lists]\nallow_synthetic_ids = true\n",
        crate::reps::security()
    ));
    let mut store = home.store();
    let now = home.now();
    for (kind, file) in [
        (ImportKind::Members, "members.csv"),
        (ImportKind::Contacts, "contacts.csv"),
    ] {
        let text = std::fs::read_to_string(format!("{FIXTURES}/register/{file}")).unwrap();
        import(&mut store.conn, kind, file, &text, now, &|_, _| {}).unwrap();
    }
    // Per Hansen of the shared test register is no member of this employer.
    store
        .conn
        .execute(
            "UPDATE people SET employer_id = NULL WHERE member_no = '50104'",
            [],
        )
        .unwrap();
    home
}

const NOT_DEDUCTED: [&str; 3] = ["50037", "50038", "50039"];

/// The problem lines of a receipt: `<file> linje <n>: …`.
fn receipt_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| {
            l.split(" linje ")
                .nth(1)
                .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
        })
        .map(|l| l.trim().to_string())
        .collect()
}

#[test]
fn every_format_gives_the_same_receipt() {
    let mut receipts = Vec::new();
    for file in [
        "deduction-xlsx.eml",
        "deduction-xls.eml",
        "deduction-ods.eml",
        "deduction-txt.eml",
    ] {
        let home = home();
        home.deliver(&fixture(file));
        home.run();
        let replies = home.replies();
        assert_eq!(
            replies.len(),
            1,
            "{file}: the sender is the receipts contact"
        );
        let r = &replies[0];
        assert_eq!(r.to, "lonn@bedrift.example");
        assert_eq!(
            r.header("X-Postbud-Kind").as_deref(),
            Some("submission"),
            "{file}"
        );
        assert_eq!(
            r.header("X-Postbud-Result").as_deref(),
            Some("partial"),
            "{file}: one bad id\n{}",
            r.text
        );
        for no in NOT_DEDUCTED {
            assert!(r.text.contains(no), "{file}: {no} not deducted\n{}", r.text);
        }
        assert_eq!(
            r.text.matches("ugyldig fødselsnummer").count(),
            1,
            "{file}\n{}",
            r.text
        );
        assert!(
            r.text.contains("Totalt: 38 linjer, 37 godkjent"),
            "{file}\n{}",
            r.text
        );
        if file == "deduction-xlsx.eml" {
            insta::assert_snapshot!("receipt_xlsx_nb", r.snapshot());
        }
        receipts.push((file, receipt_lines(&r.text)));
        assert_eq!(home.count("SELECT COUNT(*) FROM submission_lines"), 38);
    }
    // The spreadsheets agree line for line; the txt has no title rows, so
    // its line numbers are three lower, and the same otherwise.
    let sheets: Vec<_> = receipts
        .iter()
        .filter(|(f, _)| !f.ends_with("txt.eml"))
        .collect();
    for (f, lines) in &sheets[1..] {
        assert_eq!(
            lines.iter().filter(|l| l.contains(" linje ")).count(),
            1,
            "{f}"
        );
    }
    let bad_line = |lines: &Vec<String>| -> i64 {
        let l = lines.iter().find(|l| l.contains(" linje ")).unwrap();
        l.split(" linje ")
            .nth(1)
            .unwrap()
            .split(':')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let xlsx = bad_line(&receipts[0].1);
    assert_eq!(bad_line(&receipts[1].1), xlsx);
    assert_eq!(bad_line(&receipts[2].1), xlsx);
    assert_eq!(bad_line(&receipts[3].1), xlsx - 3);
}

#[test]
fn the_same_file_again_is_not_counted_twice() {
    let home = home();
    home.deliver(&fixture("deduction-xlsx.eml"));
    home.run();
    // Sent again (another message) and the same list as ods in a third.
    let again = String::from_utf8(fixture("deduction-xlsx.eml"))
        .unwrap()
        .replace("Message-ID: <", "Message-ID: <again.");
    home.deliver(again.as_bytes());
    home.run();
    let r = home.replies().pop().unwrap();
    assert!(r.text.contains("samme fil ble mottatt"), "{}", r.text);
    assert!(r.text.contains("Totalt: 0 linjer"), "{}", r.text);
    assert_eq!(
        home.count("SELECT COUNT(*) FROM submission_files WHERE duplicate_of IS NOT NULL"),
        1
    );
    // Several files for one period add up: the ods's people are there already.
    home.deliver(&fixture("deduction-ods.eml"));
    home.run();
    let r = home.replies().pop().unwrap();
    assert!(r.text.contains("står to ganger i perioden"), "{}", r.text);
}

#[test]
fn a_pdf_waits_for_an_admin_and_a_spoofed_list_for_confirmation() {
    let home = home();
    home.deliver(&fixture("deduction-pdf.eml"));
    home.deliver(&fixture("deduction-spoofed.eml"));
    home.run();
    let replies = home.replies();
    assert_eq!(replies.len(), 2);
    assert!(
        replies[0].text.contains("blir behandlet manuelt"),
        "{}",
        replies[0].text
    );
    assert_eq!(
        home.count("SELECT COUNT(*) FROM pending_changes WHERE kind = 'pdf-list'"),
        1
    );
    assert_eq!(
        replies[1].header("X-Postbud-Result").as_deref(),
        Some("pending")
    );
    assert!(replies[1].text.contains("BEKREFT"), "{}", replies[1].text);
    assert_eq!(
        home.count("SELECT COUNT(*) FROM submission_lines"),
        0,
        "the spoofed list is not processed"
    );
}

#[test]
fn a_list_from_someone_who_is_no_contact_is_refused() {
    let home = home();
    let raw = String::from_utf8(fixture("deduction-xlsx.eml"))
        .unwrap()
        .replace("lonn@bedrift.example", "fremmed@bedrift.example");
    home.deliver(raw.as_bytes());
    home.run();
    let r = &home.replies()[0];
    assert_eq!(r.header("X-Postbud-Result").as_deref(), Some("rejected"));
    assert!(!r.text.contains("50037"), "no member data to a stranger");
    assert_eq!(home.count("SELECT COUNT(*) FROM submissions"), 0);
}

#[test]
fn a_contact_accepts_the_declaration_and_the_waiting_list_is_processed() {
    let home = home();
    home.store()
        .conn
        .execute("UPDATE contacts SET declaration = NULL", [])
        .unwrap();
    home.deliver(&fixture("deduction-xlsx.eml"));
    home.run();
    let ask = home.replies().pop().unwrap();
    assert_eq!(ask.header("X-Postbud-Result").as_deref(), Some("pending"));
    assert!(ask.text.contains("Taushetserklæring"), "{}", ask.text);
    assert_eq!(
        home.count("SELECT COUNT(*) FROM submissions"),
        0,
        "the list waits"
    );
    let code: String = ask
        .text
        .split("AKSEPTERER ")
        .nth(1)
        .unwrap()
        .chars()
        .take(6)
        .collect();
    home.deliver(&crate::reps::unverified(
        "lonn@bedrift.example",
        &format!("AKSEPTERER {code}"),
        "",
    ));
    home.run();
    let receipt = home.replies().pop().unwrap();
    assert_eq!(
        receipt.header("X-Postbud-Kind").as_deref(),
        Some("submission")
    );
    assert!(
        receipt.text.contains("Totalt: 38 linjer"),
        "{}",
        receipt.text
    );
    assert_eq!(
        home.count("SELECT COUNT(*) FROM contacts WHERE declaration IS NOT NULL"),
        1
    );
    assert_eq!(home.count("SELECT COUNT(*) FROM submissions"), 1);
}

#[test]
fn status_answers_and_submitted_periods() {
    let home = home();
    home.deliver(&fixture("deduction-xlsx.eml"));
    home.run();
    home.deliver(&crate::reps::verified(
        "lonn@bedrift.example",
        "STATUS",
        "50037 Permittert\n11.09.1996 Annet: foreldrepermisjon\n50038 Sluttet: sluttet 30.09\n99999 Ansatt\n\nHilsen Lønn",
    ));
    home.deliver(&crate::reps::verified(
        "lonn@bedrift.example",
        "INNSENDTE",
        "",
    ));
    home.run();
    let replies = home.replies();
    let status = &replies[1];
    assert_eq!(
        status.header("X-Postbud-Result").as_deref(),
        Some("partial"),
        "{}",
        status.text
    );
    insta::assert_snapshot!("status_nb", status.snapshot());
    assert_eq!(
        home.count("SELECT COUNT(*) FROM not_deducted WHERE period = '2026-10'"),
        2,
        "50037 answered twice, 50038 once"
    );
    assert_eq!(home.count("SELECT COUNT(*) FROM not_deducted WHERE status = 'annet' AND comment = 'foreldrepermisjon'"), 1);
    let submitted = &replies[2];
    assert!(
        submitted.text.contains("2026-10: 38 linjer i 1 fil"),
        "{}",
        submitted.text
    );
}

#[test]
fn several_employers_receipt_copies_and_many_problems() {
    let home = home();
    let mut store = home.store();
    let now = home.now();
    let employers = "orgnr,navn,enhet\n974760673,Annen AS,Bergen\n";
    import(
        &mut store.conn,
        ImportKind::Employers,
        "e.csv",
        employers,
        now,
        &|_, _| {},
    )
    .unwrap();
    let contacts = "epost,navn,telefon,orgnr,ansvar,erklaering_akseptert\n\
                    lonn@bedrift.example,Lønn,,974760673,receipts,2026-01-05\n\
                    regnskap@bedrift.example,Regnskap,,923609016,receipts,2026-01-05\n";
    import(
        &mut store.conn,
        ImportKind::Contacts,
        "c.csv",
        contacts,
        now,
        &|_, _| {},
    )
    .unwrap();
    drop(store);
    // A contact of two employers who names neither is asked which.
    let raw = String::from_utf8(fixture("deduction-xlsx.eml"))
        .unwrap()
        .replace("Bedrift AS\r\n", "\r\n")
        .replace("Bedrift AS\n", "\n");
    home.deliver(raw.as_bytes());
    home.run();
    let ask = home.replies().pop().unwrap();
    assert_eq!(ask.header("X-Postbud-Result").as_deref(), Some("rejected"));
    assert!(
        ask.text.contains("974760673") && ask.text.contains("923609016"),
        "{}",
        ask.text
    );
    // Naming it in the subject works, and the receipts contact gets a copy.
    let named = raw.replace("Message-ID: <", "Message-ID: <named.").replace(
        "Subject: Trekkliste 10/2026",
        "Subject: Trekkliste 10/2026 923609016",
    );
    home.deliver(named.as_bytes());
    home.run();
    let replies = home.replies();
    let copies: Vec<_> = replies
        .iter()
        .filter(|r| {
            r.header("X-Postbud-Kind").as_deref() == Some("submission") && r.text.contains("Totalt")
        })
        .collect();
    assert_eq!(
        copies.iter().map(|r| r.to.as_str()).collect::<Vec<_>>(),
        ["lonn@bedrift.example", "regnskap@bedrift.example"]
    );
    // More than 50 problems go in an attached sheet.
    let mut csv = String::from("Fødselsnummer;Navn;Beløp\r\n");
    for i in 0..60 {
        csv.push_str(&format!("1234567890{};Feil {i};100,00\r\n", i % 10));
    }
    let b64 = base64_encode(csv.as_bytes());
    let msg = format!(
        "From: lonn@bedrift.example\r\nTo: post@forbund.example\r\nSubject: Trekkliste 11/2026 923609016\r\n\
         Message-ID: <many@bedrift.example>\r\n\
         Authentication-Results: mx.forbund.example; dmarc=pass header.from=bedrift.example\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nVedlagt.\r\n\
         --b\r\nContent-Type: text/csv\r\nContent-Disposition: attachment; filename=\"liste.csv\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{b64}\r\n--b--\r\n"
    );
    home.deliver(msg.as_bytes());
    home.run();
    let r = home
        .replies()
        .into_iter()
        .rev()
        .find(|r| r.to == "lonn@bedrift.example")
        .unwrap();
    assert!(
        r.text.contains("Feil (60), alle står i vedlagt regneark"),
        "{}",
        r.text
    );
    let (name, bytes) = crate::reps::attachment(&r);
    assert!(name.ends_with(".xlsx"));
    assert_eq!(crate::reps::xlsx_cells(&bytes).len(), 61);
}

fn base64_encode(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn a_spreadsheet_over_the_size_limit_is_refused_before_it_is_inflated() {
    let home = Home::new(&format!(
        "{}[lists]\nallow_synthetic_ids = true\n[limits]\nmax_uncompressed_bytes = 2000\n",
        crate::reps::security()
    ));
    let mut store = home.store();
    let text = std::fs::read_to_string(format!("{FIXTURES}/register/contacts.csv")).unwrap();
    import(
        &mut store.conn,
        ImportKind::Contacts,
        "contacts.csv",
        &text,
        home.now(),
        &|_, _| {},
    )
    .unwrap();
    drop(store);
    home.deliver(&fixture("deduction-xlsx.eml"));
    home.run();
    let r = &home.replies()[0];
    assert!(r.text.contains("kunne ikke leses (for stor)"), "{}", r.text);
    assert_eq!(r.header("X-Postbud-Result").as_deref(), Some("rejected"));
}

/// Hardening finding 9: an unverified contact without the declaration
/// confirms with BEKREFT, then accepts with AKSEPTERER, and the list is
/// processed; the first answer is labelled a submission, not a registration.
#[test]
fn a_list_confirmed_with_bekreft_and_then_accepted_is_processed() {
    let home = home();
    home.store()
        .conn
        .execute("UPDATE contacts SET declaration = NULL", [])
        .unwrap();
    home.deliver(&fixture("deduction-spoofed.eml"));
    home.run();
    let ask = home.replies().pop().unwrap();
    assert_eq!(ask.header("X-Postbud-Kind").as_deref(), Some("submission"));
    assert!(ask.text.contains("BEKREFT"), "{}", ask.text);
    let code = code_after(&ask.text, "BEKREFT ");
    home.deliver(&crate::reps::unverified(
        "lonn@bedrift.example",
        &format!("BEKREFT {code}"),
        "",
    ));
    home.run();
    let declaration = home.replies().pop().unwrap();
    assert!(
        declaration.text.contains("AKSEPTERER"),
        "{}",
        declaration.text
    );
    assert_eq!(
        home.count("SELECT COUNT(*) FROM submissions"),
        0,
        "still waiting"
    );
    let code = code_after(&declaration.text, "AKSEPTERER ");
    home.deliver(&crate::reps::unverified(
        "lonn@bedrift.example",
        &format!("AKSEPTERER {code}"),
        "",
    ));
    home.run();
    let receipt = home.replies().pop().unwrap();
    assert_eq!(
        receipt.header("X-Postbud-Kind").as_deref(),
        Some("submission")
    );
    assert!(
        receipt.text.contains("Totalt: 38 linjer"),
        "{}",
        receipt.text
    );
    assert_eq!(home.count("SELECT COUNT(*) FROM submissions"), 1);
}

/// Hardening findings 4 and 6: a contact's list is matched only against
/// the members registered at the employer, the receipt names nobody the
/// file did not name, the office learns of a member registered elsewhere,
/// national ids of non-members are not kept, and receipts go only to
/// contacts who accepted the declaration.
#[test]
fn a_deduction_list_is_no_membership_oracle() {
    let home = home();
    {
        let store = home.store();
        let c = &store.conn;
        // A member of another employer, a resigned member of this one, and
        // a second receipts contact who never accepted the declaration.
        c.execute_batch(
            "INSERT INTO employers (orgnr, name) VALUES ('974760673', 'Annen AS');
             UPDATE people SET employer_id = (SELECT id FROM employers WHERE orgnr = '974760673'),
                 name = 'Hemmelig Medlem' WHERE member_no = '50010';
             UPDATE people SET status = 'resigned', name = 'Utmeldt Medlem' WHERE member_no = '50011';
             INSERT INTO contacts (email, name, employer_id, duties)
                 VALUES ('ny@bedrift.example', 'Ny', (SELECT id FROM employers WHERE orgnr = '923609016'), 'receipts');",
        )
        .unwrap();
    }
    home.deliver(&fixture("deduction-xlsx.eml"));
    home.run();
    let replies = home.replies();
    assert_eq!(
        replies.len(),
        1,
        "no copy to a contact without the declaration"
    );
    let r = &replies[0];
    assert!(
        !r.text.contains("Hemmelig Medlem") && !r.text.contains("Annen AS"),
        "{}",
        r.text
    );
    assert!(!r.text.contains("Utmeldt Medlem"), "{}", r.text);
    assert_eq!(
        r.text
            .matches("er ikke et medlem registrert hos Bedrift AS")
            .count(),
        2,
        "the member elsewhere and the resigned one read like anyone unknown\n{}",
        r.text
    );
    assert_eq!(
        home.count("SELECT COUNT(*) FROM pending_changes WHERE kind = 'deducted-elsewhere'"),
        1,
        "the office is told of the member registered elsewhere"
    );
    assert_eq!(
        home.count("SELECT COUNT(*) FROM submission_lines WHERE national_id IS NOT NULL AND person_id IS NULL"),
        0,
        "no id of a non-member is kept"
    );
}

/// The code after `word` in a reply.
fn code_after(text: &str, word: &str) -> String {
    text.split(word).nth(1).unwrap().chars().take(6).collect()
}
