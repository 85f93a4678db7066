//! Reps' workflows end to end (SPEC sections 5-7, 10): registration strings,
//! activity lists, member and peer lists, change reports, approval, trust
//! and scope. The fixture register is imported; replies are read back.

use crate::support::{FIXTURES, Home, Reply, fixture};
use postbud::store::import::{ImportKind, import};

/// A home with the fixture register (units, employers, members with
/// addresses, peers, roles), the registration secret, and one more rep:
/// per.hansen@example.no, tillitsvalgt for the employer.
fn home() -> Home {
    let home = Home::new(&security());
    import_rep_register(&home);
    home
}

/// The [security] section the rep tests use.
pub fn security() -> String {
    format!(
        "[security]\ntrusted_authserv_id = \"mx.forbund.example\"\nregistration_secret_file = \"{FIXTURES}/registration.secret\"\n"
    )
}

/// Imports the fixture peers and roles, and two more reps.
pub fn import_rep_register(home: &Home) {
    let mut store = home.store();
    let now = home.now();
    for (kind, file) in [
        (ImportKind::Peers, "peers.csv"),
        (ImportKind::Roles, "roles.csv"),
    ] {
        let text = std::fs::read_to_string(format!("{FIXTURES}/register/{file}")).unwrap();
        import(&mut store.conn, kind, file, &text, now, &|_, _| {}).unwrap();
    }
    let roles = "epost,rolle,niva,orgnr,arbeidssted,enhet,fra,til\n\
                 per.hansen@example.no,tillitsvalgt,arbeidsgiver,923609016,,,2025-01-01,\n\
                 leder.oslo@ffm.example,koordinator,enhet,,,Oslo,2025-01-01,\n";
    import(
        &mut store.conn,
        ImportKind::Roles,
        "roles.csv",
        roles,
        now,
        &|_, _| {},
    )
    .unwrap();
}

/// A message from `from` that the trusted server verified.
pub fn verified(from: &str, subject: &str, body: &str) -> Vec<u8> {
    let domain = from.rsplit('@').next().unwrap();
    let id = format!("{:x}", rand_id(from, subject, body));
    format!(
        "From: {from}\r\nTo: post@forbund.example\r\nSubject: {subject}\r\nMessage-ID: <{id}@{domain}>\r\n\
         Authentication-Results: mx.forbund.example; dkim=pass header.d={domain}; dmarc=pass header.from={domain}\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

pub fn unverified(from: &str, subject: &str, body: &str) -> Vec<u8> {
    let id = format!("{:x}", rand_id(from, subject, body));
    format!(
        "From: {from}\r\nTo: post@forbund.example\r\nSubject: {subject}\r\nMessage-ID: <{id}@x>\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

fn rand_id(a: &str, b: &str, c: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (a, b, c).hash(&mut h);
    h.finish()
}

fn replies_to<'a>(replies: &'a [Reply], to: &str) -> Vec<&'a Reply> {
    replies.iter().filter(|r| r.to == to).collect()
}

/// The first attachment of a reply: (name, bytes).
pub fn attachment(r: &Reply) -> (String, Vec<u8>) {
    use mail_parser::MimeHeaders;
    let m = mail_parser::MessageParser::default().parse(&r.raw).unwrap();
    let a = m.attachments().next().expect("an attachment");
    (
        a.attachment_name().unwrap_or("").to_string(),
        a.contents().to_vec(),
    )
}

pub fn xlsx_cells(bytes: &[u8]) -> Vec<Vec<String>> {
    use calamine::Reader;
    let mut wb =
        calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let name = wb.sheet_names()[0].clone();
    let range = wb.worksheet_range(&name).unwrap();
    range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}

#[test]
fn registration_strings_register_once_and_never_overwrite() {
    let home = home();
    home.deliver(&fixture("registration-hardwrap.eml"));
    home.run();
    let r = &home.replies()[0];
    assert_eq!(r.to, "leder.bergen@ffm.example");
    assert_eq!(r.header("X-Postbud-Kind").as_deref(), Some("registration"));
    insta::assert_snapshot!("registration_hardwrap_nb", r.snapshot());
    assert!(
        r.text
            .contains("Kari Nordmann (Bergen): var allerede registrert (LP-0001)"),
        "{}",
        r.text
    );
    assert!(
        r.text
            .contains("Øystein Ærø-Åsen (Bergen): registrert som likeperson"),
        "{}",
        r.text
    );
    assert_eq!(home.count("SELECT COUNT(*) FROM peers"), 3);
    let phone: String = home.store().conn.query_row(
        "SELECT phone FROM people p JOIN peers pe ON pe.person_id = p.id WHERE pe.peer_no = 'LP-0001'", [], |r| r.get(0)).unwrap();
    assert_eq!(phone, "+4791234567", "nothing overwritten");
}

#[test]
fn every_registration_fixture_comes_out_right() {
    for (file, registered, pending) in [
        ("registration-hardwrap.eml", 1, 0),
        ("registration-flowed-thunderbird.eml", 1, 0),
        ("registration-gmail-html-only.eml", 1, 0),
        // Only the first string, whose person is a peer already.
        ("registration-outlook-qp.eml", 0, 0),
        ("registration-quoted-forward.eml", 0, 0),
        ("registration-tampered.eml", 0, 1),
    ] {
        let home = home();
        home.deliver(&fixture(file));
        home.run();
        let replies = home.replies();
        assert_eq!(replies.len(), 1, "{file}");
        assert_eq!(
            home.count("SELECT COUNT(*) FROM peers") - 2,
            registered,
            "{file}: {}",
            replies[0].text
        );
        assert_eq!(
            home.count("SELECT COUNT(*) FROM pending_changes WHERE kind = 'registration'"),
            pending,
            "{file}"
        );
    }
}

#[test]
fn an_unverified_rep_confirms_with_a_code_from_the_same_address() {
    let home = home();
    let raw = String::from_utf8(fixture("registration-hardwrap.eml")).unwrap();
    let stripped: String = {
        // Drop the Authentication-Results header (three folded lines).
        let mut out = Vec::new();
        let mut skipping = false;
        for line in raw.split_inclusive('\n') {
            if line.starts_with("Authentication-Results:") {
                skipping = true;
                continue;
            }
            if skipping && (line.starts_with(' ') || line.starts_with('\t')) {
                continue;
            }
            skipping = false;
            out.push(line);
        }
        out.concat()
    };
    home.deliver(stripped.as_bytes());
    home.run();
    let ask = &home.replies()[0];
    assert_eq!(ask.header("X-Postbud-Result").as_deref(), Some("pending"));
    let code: String = ask
        .text
        .split("BEKREFT ")
        .nth(1)
        .unwrap()
        .chars()
        .take(6)
        .collect();
    assert_eq!(
        home.count("SELECT COUNT(*) FROM peers"),
        2,
        "nothing before confirmation"
    );
    // A wrong code from the same address, then the right one from another: nothing.
    home.deliver(&unverified(
        "leder.bergen@ffm.example",
        "BEKREFT 000000",
        "",
    ));
    home.deliver(&unverified(
        "someone@else.example",
        &format!("BEKREFT {code}"),
        "",
    ));
    home.run();
    assert_eq!(home.count("SELECT COUNT(*) FROM peers"), 2);
    home.deliver(&unverified(
        "leder.bergen@ffm.example",
        &format!("Re: BEKREFT {code}"),
        "",
    ));
    home.run();
    assert_eq!(home.count("SELECT COUNT(*) FROM peers"), 3);
    let last = home.replies().pop().unwrap();
    assert_eq!(
        last.header("X-Postbud-Kind").as_deref(),
        Some("registration")
    );
    // The code is used up.
    home.deliver(&unverified(
        "leder.bergen@ffm.example",
        &format!("BEKREFT {code}"),
        "again",
    ));
    home.run();
    assert_eq!(
        home.replies()
            .pop()
            .unwrap()
            .header("X-Postbud-Kind")
            .as_deref(),
        Some("confirm")
    );
}

#[test]
fn activity_lists_are_matched_within_the_scope() {
    let home = home();
    home.deliver(&fixture("activity.eml"));
    home.deliver(&verified(
        "leder.bergen@ffm.example",
        "AKTIVITET 2026",
        "Kari Nordmann, Ola Annenlag",
    ));
    home.deliver(&fixture("activity-wrong-year.eml"));
    home.run();
    let replies = home.replies();
    insta::assert_snapshot!("activity_nb", replies[0].snapshot());
    assert!(
        replies[0]
            .text
            .contains("Kari Nordmann: registrert (LP-0001)")
    );
    assert!(replies[0].text.contains("Ukjent Person: ukjent"));
    assert!(
        replies[1]
            .text
            .contains("Kari Nordmann: var allerede registrert for 2026")
    );
    assert!(
        replies[1].text.contains("Ola Annenlag: ukjent"),
        "a peer of another chapter is unknown here"
    );
    assert_eq!(
        replies[2].header("X-Postbud-Result").as_deref(),
        Some("rejected")
    );
    assert_eq!(home.count("SELECT COUNT(*) FROM peer_activity"), 1);
}

#[test]
fn peer_and_member_lists_hold_exactly_the_scope() {
    let home = home();
    home.deliver(&verified(
        "leder.bergen@ffm.example",
        "MINE LIKEPERSONER",
        "",
    ));
    home.deliver(&verified("leder.oslo@ffm.example", "MINE LIKEPERSONER", ""));
    home.deliver(&verified("per.hansen@example.no", "MINE MEDLEMMER", ""));
    home.run();
    let replies = home.replies();
    let (name, bergen) = attachment(replies_to(&replies, "leder.bergen@ffm.example")[0]);
    assert_eq!(name, "likepersoner.xlsx");
    let bergen = xlsx_cells(&bergen);
    assert_eq!(bergen.len(), 2, "{bergen:?}");
    assert_eq!(bergen[1][0], "LP-0001");
    let oslo = xlsx_cells(&attachment(replies_to(&replies, "leder.oslo@ffm.example")[0]).1);
    assert_eq!(oslo.len(), 2);
    assert_eq!(oslo[1][0], "LP-0900");
    let members = xlsx_cells(&attachment(replies_to(&replies, "per.hansen@example.no")[0]).1);
    assert_eq!(members[0][0], "Medlemsnr");
    assert_eq!(
        members.len(),
        3,
        "the two members at the employer: {members:?}"
    );
}

#[test]
fn rep_commands_from_others_are_refused_with_the_help_list() {
    let home = home();
    home.deliver(&verified(
        "kari.nordmann@example.no",
        "AKTIVITET 2026",
        "Kari Nordmann",
    ));
    home.deliver(&verified("kari.nordmann@example.no", "MINE MEDLEMMER", ""));
    home.deliver(&verified(
        "per.hansen@example.no",
        "GODKJENN PB-2026-000001",
        "",
    ));
    home.run();
    let replies = home.replies();
    assert_eq!(replies.len(), 3);
    for r in &replies {
        assert_eq!(
            r.header("X-Postbud-Result").as_deref(),
            Some("rejected"),
            "{}",
            r.text
        );
        assert!(r.text.contains("KODE"), "the help list comes along");
        assert!(
            r.raw.windows(5).all(|w| w != b"50001"),
            "no member data leaks"
        );
    }
    insta::assert_snapshot!("not_allowed_en", replies[2].snapshot());
    assert_eq!(home.count("SELECT COUNT(*) FROM peer_activity"), 0);
}

#[test]
fn out_of_scope_is_never_seen_or_changed() {
    let home = home();
    // Oslo's coordinator pastes Bergen's strings and names Bergen's peer.
    let raw = String::from_utf8(fixture("registration-hardwrap.eml"))
        .unwrap()
        .replace("leder.bergen@ffm.example", "leder.oslo@ffm.example");
    home.deliver(raw.as_bytes());
    home.deliver(&verified(
        "leder.oslo@ffm.example",
        "AKTIVITET 2026",
        "Kari Nordmann, LP-0001, kari.nordmann@example.no",
    ));
    home.deliver(&verified(
        "per.hansen@example.no",
        "MEDLEM SLUTTET Ola Annenlag",
        "dato: 30.11.2026",
    ));
    home.run();
    let replies = home.replies();
    assert_eq!(replies.len(), 3);
    assert!(
        replies[0]
            .text
            .contains("ikke blant dem du har tilgang til"),
        "{}",
        replies[0].text
    );
    assert!(
        !replies[1].text.contains("LP-0001 )") && replies[1].text.matches("ukjent").count() == 3,
        "{}",
        replies[1].text
    );
    assert!(
        replies[2].text.contains("We did not find"),
        "{}",
        replies[2].text
    );
    for r in &replies {
        assert!(
            !String::from_utf8_lossy(&r.raw).contains("+4791234567"),
            "no phone number leaks"
        );
    }
    assert_eq!(home.count("SELECT COUNT(*) FROM peers"), 2);
    assert_eq!(home.count("SELECT COUNT(*) FROM peer_activity"), 0);
    assert_eq!(home.count("SELECT COUNT(*) FROM pending_changes"), 0);
}

#[test]
fn a_new_rep_is_approved_by_mail_and_both_reps_are_told_with_a_letter() {
    let home = home();
    home.deliver(&verified(
        "per.hansen@example.no",
        "NY TILLITSVALGT",
        "medlem: 50001\nrolle: tillitsvalgt\nnivå: arbeidsgiver\nfra: 01.12.2026",
    ));
    home.run();
    let receipt = &home.replies()[0];
    assert_eq!(
        receipt.header("X-Postbud-Result").as_deref(),
        Some("pending")
    );
    let reference: String = home
        .store()
        .conn
        .query_row("SELECT ref FROM pending_changes", [], |r| r.get(0))
        .unwrap();
    assert!(receipt.text.contains(&reference));
    home.deliver(&verified(
        "kontor@forbund.example",
        &format!("GODKJENN {reference}"),
        "",
    ));
    home.run();
    let replies = home.replies();
    let to_kari = replies_to(&replies, "kari.nordmann@example.no");
    assert_eq!(to_kari.len(), 1);
    let (name, pdf) = attachment(to_kari[0]);
    assert!(name.ends_with(".pdf") && pdf.starts_with(b"%PDF"), "{name}");
    if let Some(dir) = std::env::var_os("POSTBUD_KEEP_LETTER") {
        std::fs::write(std::path::Path::new(&dir).join(&name), &pdf).unwrap(); // to look at it
    }
    let to_per = replies_to(&replies, "per.hansen@example.no");
    assert_eq!(to_per.len(), 3, "receipt, decision, replaced");
    insta::assert_snapshot!("new_rep_receipt_en", to_per[0].snapshot());
    insta::assert_snapshot!("new_rep_decision_en", to_per[1].snapshot());
    insta::assert_snapshot!("rep_replaced_en", to_per[2].snapshot());
    insta::assert_snapshot!("new_rep_welcome_nb", to_kari[0].snapshot());
    assert!(
        to_per
            .iter()
            .any(|r| r.text.contains("takes over your office"))
    );
    // The office begins on its date: the role is there from that day.
    assert_eq!(
        home.count("SELECT COUNT(*) FROM roles WHERE email = 'kari.nordmann@example.no'"),
        0
    );
    home.clock.set("2026-11-30T23:00:00Z".parse().unwrap());
    home.run();
    assert_eq!(home.count("SELECT COUNT(*) FROM roles WHERE email = 'kari.nordmann@example.no' AND valid_from = '2026-12-01'"), 1);
    assert_eq!(home.count("SELECT COUNT(*) FROM roles WHERE email = 'per.hansen@example.no' AND valid_to = '2026-11-30'"), 1);
    // Deciding twice is refused.
    home.deliver(&verified(
        "kontor@forbund.example",
        &format!("AVVIS {reference} for sent"),
        "x",
    ));
    home.run();
    let last = home.replies().pop().unwrap();
    assert_eq!(last.header("X-Postbud-Result").as_deref(), Some("rejected"));
}

#[test]
fn workplace_and_member_changes_wait_for_the_office_and_cli_decides_them() {
    let home = home();
    home.deliver(&verified(
        "per.hansen@example.no",
        "ARBEIDSSTED NY Lageret",
        "dato: 01.12.2026",
    ));
    home.deliver(&verified(
        "per.hansen@example.no",
        "MEDLEM FLYTTET 50001",
        "arbeidssted: Lageret",
    ));
    home.deliver(&verified(
        "per.hansen@example.no",
        "MEDLEM MANGLER",
        "navn: Ny Person\nfødselsdato: 01.01.1990",
    ));
    home.run();
    assert_eq!(
        home.count("SELECT COUNT(*) FROM pending_changes WHERE status = 'pending'"),
        2
    );
    assert_eq!(
        home.count("SELECT COUNT(*) FROM tickets WHERE topic = 'member-missing'"),
        1
    );
    let cfg = postbud::config::load(&home.config_path()).unwrap();
    let ctx = postbud::pipeline::Context::from_config(&cfg);
    let mut store = home.store();
    let listed = postbud::admin::pending_list(&store).unwrap();
    assert!(listed.contains("Lageret"), "{listed}");
    let refs: Vec<String> = store
        .conn
        .prepare("SELECT ref FROM pending_changes ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let now = home.now();
    postbud::admin::decide_pending(
        &mut store,
        &ctx,
        &refs[0],
        true,
        None,
        now,
        &mut home.random(),
    )
    .unwrap();
    postbud::admin::decide_pending(
        &mut store,
        &ctx,
        &refs[1],
        false,
        Some("feil person"),
        now,
        &mut home.random(),
    )
    .unwrap();
    assert!(
        postbud::admin::decide_pending(
            &mut store,
            &ctx,
            &refs[1],
            true,
            None,
            now,
            &mut home.random()
        )
        .is_err()
    );
    drop(store);
    // The new workplace opens on its date (1 December), not before.
    assert_eq!(
        home.count("SELECT COUNT(*) FROM workplaces WHERE name = 'Lageret'"),
        0
    );
    assert_eq!(
        home.count("SELECT COUNT(*) FROM pending_changes WHERE status = 'scheduled' AND effective_on = '2026-12-01'"),
        1
    );
    home.clock.set("2026-11-30T23:00:00Z".parse().unwrap());
    home.run();
    assert_eq!(
        home.count("SELECT COUNT(*) FROM workplaces WHERE name = 'Lageret'"),
        1
    );
    assert_eq!(home.count("SELECT COUNT(*) FROM people WHERE member_no = '50001' AND workplace_id IN (SELECT id FROM workplaces WHERE name = 'Lageret')"), 0);
    home.run();
    let told = replies_to(&home.replies(), "per.hansen@example.no").len();
    assert_eq!(told, 5, "three receipts and two decisions");
}

#[test]
fn imports_report_every_bad_row_by_line_and_apply_nothing() {
    let home = Home::new("");
    let mut store = home.store();
    let now = home.now();
    let peers = "likepersonnr,navn,epost,telefon,enhet\n\
                 LP-0100,God Rad,god@example.no,,Bergen\n\
                 LP-0101,Feil Lag,feil@example.no,,Atlantis\n\
                 LP-0102,,tom@example.no,,Bergen\n";
    let err = import(
        &mut store.conn,
        ImportKind::Peers,
        "peers.csv",
        peers,
        now,
        &|_, _| {},
    )
    .unwrap_err()
    .to_string();
    insta::assert_snapshot!("import_peers_errors", err);
    let roles = "epost,rolle,niva,orgnr,arbeidssted,enhet,fra,til\n\
                 a@example.no,tillitsvalgt,arbeidssted,923609016,,,2025-01-01,\n\
                 b@example.no,sjef,enhet,,,Bergen,,\n\
                 c@example.no,vara,arbeidsgiver,923609017,,,,\n\
                 d@example.no,koordinator,enhet,,,Bergen,1. januar,\n";
    let err = import(
        &mut store.conn,
        ImportKind::Roles,
        "roles.csv",
        roles,
        now,
        &|_, _| {},
    )
    .unwrap_err()
    .to_string();
    insta::assert_snapshot!("import_roles_errors", err);
    drop(store);
    assert_eq!(home.count("SELECT COUNT(*) FROM peers"), 0);
    assert_eq!(home.count("SELECT COUNT(*) FROM roles"), 0);
    assert_eq!(
        home.count("SELECT COUNT(*) FROM people WHERE name = 'God Rad'"),
        0
    );
}

/// A signed string (the public form signs whatever is typed) that a rep
/// pastes with another chapter's person's address.
fn signed(chapter: &str, form: &str, name: &str, email: &str, phone: &str) -> String {
    let text = format!(
        "REG1;id={form};lag={chapter};navn={name};epost={email};tlf={phone};rolle=likeperson;dato=2026-11-20"
    );
    let sig = postbud::core::registration::sign(&text, b"test-secret-do-not-use");
    format!("{text};sig={sig}")
}

/// Hardening finding 5: a signed string naming Bergen's peer (or a member)
/// pasted by Oslo's coordinator never pulls the person into Oslo, and the
/// reply does not say the person exists, nor where.
#[test]
fn a_registration_never_pulls_in_someone_from_outside_the_scope() {
    let home = home();
    let body = format!(
        "{}\n\n{}\n",
        signed(
            "Oslo",
            "F-EVIL-1",
            "Kari Nordmann",
            "kari.nordmann@example.no",
            "+4791234567"
        ),
        signed(
            "Oslo",
            "F-EVIL-2",
            "Per Hansen",
            "per.hansen@example.no",
            "+4799999999"
        ),
    );
    home.deliver(&verified("leder.oslo@ffm.example", "Registreringer", &body));
    home.deliver(&verified("leder.oslo@ffm.example", "MINE LIKEPERSONER", ""));
    home.run();
    let replies = home.replies();
    let answer = &replies[0];
    assert_eq!(
        answer.header("X-Postbud-Result").as_deref(),
        Some("pending")
    );
    for secret in ["LP-0001", "Bergen", "50104", "allerede"] {
        assert!(!answer.text.contains(secret), "{secret}:\n{}", answer.text);
    }
    assert_eq!(
        home.count("SELECT COUNT(*) FROM peers"),
        2,
        "nobody was registered or moved"
    );
    assert_eq!(
        home.count("SELECT COUNT(*) FROM pending_changes WHERE kind = 'registration'"),
        2,
        "the office decides"
    );
    let (_, sheet) = attachment(replies_to(&replies, "leder.oslo@ffm.example")[1]);
    let cells = xlsx_cells(&sheet);
    assert_eq!(
        cells.len(),
        2,
        "Oslo still sees only its own peer: {cells:?}"
    );
}

/// How many attachments a reply has.
pub fn attachment_count(r: &Reply) -> usize {
    mail_parser::MessageParser::default()
        .parse(&r.raw)
        .unwrap()
        .attachments()
        .count()
}
