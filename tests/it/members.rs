//! Members' self-service end to end (SPEC section 5 "Members", section 10;
//! seeds 001 and 004): a real-shaped message into the daemon, the register
//! read back, the reply read as the member reads it. Kari Nordmann (50001,
//! kari.nordmann@example.no, nb) and Per Hansen (50104, a rep for the
//! employer, per.hansen@example.no and per@privat.example, en).

use crate::reps::{import_rep_register, security, unverified, verified};
use crate::support::{Home, Reply};
use postbud::admin;
use postbud::pipeline::Context;

const KARI: &str = "kari.nordmann@example.no";
const PER: &str = "per.hansen@example.no";

fn home() -> Home {
    let home = Home::new(&security());
    import_rep_register(&home);
    home
}

/// The replies written since `before` replies, to `to`.
fn new_to(home: &Home, before: usize, to: &str) -> Vec<Reply> {
    home.replies()
        .into_iter()
        .skip(before)
        .filter(|r| r.to == to)
        .collect()
}

/// Delivers one message, runs once, returns the replies it wrote (with
/// any mail an admin's decision at the command line queued before).
fn send(home: &Home, raw: &[u8]) -> Vec<Reply> {
    let before = home.replies().len();
    home.deliver(raw);
    home.run();
    home.replies().into_iter().skip(before).collect()
}

/// The one reply of `kind` among `got`.
fn of_kind<'a>(got: &'a [Reply], k: &str) -> &'a Reply {
    let found: Vec<&Reply> = got.iter().filter(|r| kind(r) == k).collect();
    assert_eq!(found.len(), 1, "one {k} reply in {got:?}");
    found[0]
}

fn kind(r: &Reply) -> String {
    r.header("X-Postbud-Kind").unwrap_or_default()
}

fn result(r: &Reply) -> String {
    r.header("X-Postbud-Result").unwrap_or_default()
}

fn reference(r: &Reply) -> String {
    r.header("X-Postbud-Ref").unwrap_or_default()
}

/// The code after `BEKREFT ` in a text.
fn bekreft_code(text: &str) -> String {
    text.split("BEKREFT ")
        .nth(1)
        .expect("BEKREFT and a code")
        .chars()
        .take(6)
        .collect()
}

fn person_value(home: &Home, member_no: &str, column: &str) -> Option<String> {
    home.store()
        .conn
        .query_row(
            &format!("SELECT {column} FROM people WHERE member_no = ?1"),
            [member_no],
            |r| r.get(0),
        )
        .unwrap()
}

fn ctx(home: &Home) -> Context {
    Context::from_config(&home.cfg)
}

#[test]
fn update_applies_contact_fields_and_the_office_approves_the_employment_change() {
    let home = home();
    let got = send(
        &home,
        &verified(
            KARI,
            "ENDRE",
            "Mobil: 913 00 000\nPost nr: 5003\npoststed: Bergen\narbeidssted: Lageret\nstillingsprosent: 80 %\nHilsen Kari",
        ),
    );
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!(kind(r), "update");
    assert_eq!(result(r), "partial", "the workplace is unknown: {}", r.text);
    insta::assert_snapshot!("members_update_nb", r.snapshot());
    assert_eq!(
        person_value(&home, "50001", "phone").as_deref(),
        Some("+4791300000")
    );
    assert_eq!(
        person_value(&home, "50001", "postcode").as_deref(),
        Some("5003")
    );
    // The percentage waits for the office, under the reply's reference.
    let pending = admin::pending_list(&home.store()).unwrap();
    assert!(
        pending.contains(&reference(r)) && pending.contains("employment"),
        "{pending}"
    );
    assert!(pending.contains("80 %"), "{pending}");
    assert_eq!(person_value(&home, "50001", "percent"), None);
    // GODKJENN: applied, and Kari told in her language with the reference.
    let got = send(
        &home,
        &verified(
            "kontor@forbund.example",
            &format!("GODKJENN {}", reference(r)),
            "",
        ),
    );
    let to_kari: Vec<&Reply> = got.iter().filter(|g| g.to == KARI).collect();
    assert_eq!(to_kari.len(), 1);
    assert_eq!(kind(to_kari[0]), "approve");
    assert_eq!(reference(to_kari[0]), reference(r));
    assert!(to_kari[0].text.contains("godkjent"), "{}", to_kari[0].text);
    assert_eq!(
        person_value(&home, "50001", "percent").as_deref(),
        Some("80")
    );
}

#[test]
fn an_employment_change_shows_in_the_reps_member_list_once_approved() {
    let home = home();
    // A workplace of the employer.
    home.store()
        .conn
        .execute(
            "INSERT INTO workplaces (employer_id, name) SELECT id, 'Lageret' FROM employers WHERE orgnr = '923609016'",
            [],
        )
        .unwrap();
    let r = &send(
        &home,
        &verified(KARI, "ENDRE", "arbeidssted: lageret\nstilling: Lagerleder"),
    )[0];
    assert_eq!(result(r), "pending", "{}", r.text);
    assert!(r.text.contains("Hovedkontoret -> Lageret"), "{}", r.text);
    // Per (a rep for the employer) sees the old workplace until it is approved.
    let workplace_in_list = |home: &Home, n: &str| {
        // A new message each time (the same one again would be a duplicate).
        let list = send(home, &verified(PER, "MINE MEDLEMMER", n));
        let cells = crate::reps::xlsx_cells(&crate::reps::attachment(of_kind(&list, "members")).1);
        let kari = cells
            .iter()
            .find(|row| row[1] == "Kari Nordmann")
            .unwrap()
            .clone();
        (kari[7].clone(), kari[6].clone())
    };
    assert_eq!(
        workplace_in_list(&home, "1"),
        ("Hovedkontoret".into(), "Operatør".into())
    );
    admin::decide_pending(
        &mut home.store(),
        &ctx(&home),
        &reference(r),
        true,
        None,
        home.now(),
        &mut home.random(),
    )
    .unwrap();
    assert_eq!(
        workplace_in_list(&home, "2"),
        ("Lageret".into(), "Lagerleder".into())
    );
}

#[test]
fn an_unverified_change_waits_for_a_code_sent_only_to_the_registered_address() {
    let home = home();
    // A forger writes as Kari: the code goes to Kari, nothing changes.
    let got = send(&home, &unverified(KARI, "ENDRE", "telefon: 40000000"));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].to, KARI);
    assert_eq!(result(&got[0]), "pending");
    assert!(
        got[0].text.contains("endre opplysningene dine"),
        "{}",
        got[0].text
    );
    let phone = || person_value(&home, "50001", "phone");
    assert_eq!(phone().as_deref(), Some("+4791234567"), "as registered");
    let code = bekreft_code(&got[0].text);
    // The code from another address carries out nothing.
    let other = send(&home, &unverified(PER, &format!("BEKREFT {code}"), ""));
    assert_eq!(kind(&other[0]), "confirm");
    assert_eq!(phone().as_deref(), Some("+4791234567"));
    // From Kari's address it does.
    let done = send(&home, &unverified(KARI, &format!("BEKREFT {code}"), ""));
    assert_eq!(kind(&done[0]), "update");
    assert_eq!(result(&done[0]), "ok");
    assert_eq!(
        person_value(&home, "50001", "phone").as_deref(),
        Some("+4740000000")
    );
}

#[test]
fn resign_then_undo_and_too_late_and_someone_elses_reference() {
    let home = home();
    let r = &send(&home, &verified(KARI, "MELD UT", ""))[0];
    assert_eq!(
        (kind(r).as_str(), result(r).as_str()),
        ("resign", "pending")
    );
    assert!(
        r.text.contains("grunnforsikringen"),
        "the warning of seed 001: {}",
        r.text
    );
    assert!(
        r.text.contains("30.11.2026"),
        "the end of this month: {}",
        r.text
    );
    let first = reference(r);
    // Per cannot undo it, and cannot tell it from a reference that is none.
    let theirs = &send(&home, &verified(PER, &format!("ANGRE {first}"), ""))[0];
    let none = &send(&home, &verified(PER, "ANGRE PB-2026-999999", ""))[0];
    assert_eq!(result(theirs), "rejected");
    assert_eq!(
        theirs.text.replace(&first, "REF"),
        none.text.replace("PB-2026-999999", "REF"),
        "the same words"
    );
    // Kari undoes it.
    let undone = &send(&home, &verified(KARI, &format!("ANGRE {first}"), ""))[0];
    assert_eq!(
        (kind(undone).as_str(), result(undone).as_str()),
        ("undo", "ok")
    );
    assert_eq!(
        reference(undone),
        first,
        "the reply carries the change's reference"
    );
    assert_eq!(
        home.count("SELECT COUNT(*) FROM pending_changes WHERE status = 'undone'"),
        1
    );
    // Resigns again, from a date; approved; then it is too late to undo.
    let again = &send(&home, &verified(KARI, "MELD UT", "dato: 31.12.2026"))[0];
    assert!(again.text.contains("31.12.2026"), "{}", again.text);
    admin::decide_pending(
        &mut home.store(),
        &ctx(&home),
        &reference(again),
        true,
        None,
        home.now(),
        &mut home.random(),
    )
    .unwrap();
    // It takes effect on its day; until then it is scheduled.
    assert_eq!(
        person_value(&home, "50001", "status").as_deref(),
        Some("active")
    );
    home.clock.set("2026-12-30T23:00:00Z".parse().unwrap());
    home.run();
    assert_eq!(
        person_value(&home, "50001", "status").as_deref(),
        Some("resigned")
    );
    assert_eq!(
        person_value(&home, "50001", "status_from").as_deref(),
        Some("2026-12-31")
    );
    let got = send(
        &home,
        &verified(KARI, &format!("ANGRE {}", reference(again)), ""),
    );
    let late = of_kind(&got, "undo");
    assert_eq!(result(late), "rejected");
    assert!(late.text.contains("for sent"), "{}", late.text);
}

#[test]
fn my_reps_lists_the_reps_at_the_members_employer_and_chapter_only() {
    let home = home();
    // Unverified is fine: the list goes to Kari's registered address.
    let r = &send(&home, &unverified(KARI, "MINE TILLITSVALGTE", ""))[0];
    assert_eq!((kind(r).as_str(), result(r).as_str()), ("reps", "ok"));
    assert!(r.text.contains(PER), "the employer's rep: {}", r.text);
    assert!(
        r.text.contains("leder.bergen@ffm.example"),
        "the chapter's: {}",
        r.text
    );
    assert!(
        !r.text.contains("leder.oslo"),
        "not another chapter's: {}",
        r.text
    );
    insta::assert_snapshot!("members_reps_nb", r.snapshot());
}

#[test]
fn seed_004_a_wrong_private_address_linked_and_removed() {
    let home = home();
    let privat = "kari.privat@gmail.example";
    let got = send(
        &home,
        &verified(KARI, "KOBLE kari.privat@gmail.example", ""),
    );
    assert_eq!(got.len(), 2, "{got:?}");
    let to_kari = got.iter().find(|r| r.to == KARI).unwrap();
    let to_new = got.iter().find(|r| r.to == privat).unwrap();
    assert_eq!(
        (kind(to_kari).as_str(), result(to_kari).as_str()),
        ("link", "pending")
    );
    assert!(!to_kari.text.contains("BEKREFT 0") && to_new.text.contains("BEKREFT "));
    assert!(
        !to_new.text.contains("Kari"),
        "the new address is not told who asked"
    );
    assert_eq!(
        to_new.header("Auto-Submitted").as_deref(),
        Some("auto-generated")
    );
    let code = bekreft_code(&to_new.text);
    // Guessed from Kari's own address, the link code is no code.
    let wrong = send(&home, &verified(KARI, &format!("BEKREFT {code}"), ""));
    assert_eq!(kind(&wrong[0]), "confirm");
    assert_eq!(
        home.count("SELECT COUNT(*) FROM addresses WHERE email = 'kari.privat@gmail.example'"),
        0
    );
    // From the new address (unverified: the code is the proof), it links.
    let before = home.replies().len();
    let done = send(&home, &unverified(privat, &format!("BEKREFT {code}"), ""));
    assert_eq!(done.len(), 2);
    assert_eq!(kind(&done[0]), "link");
    assert_eq!(result(&done[0]), "ok");
    assert_eq!(new_to(&home, before, KARI).len(), 1, "Kari hears of it");
    assert_eq!(
        home.count("SELECT COUNT(*) FROM addresses a JOIN people p ON p.id = a.person_id WHERE a.email = 'kari.privat@gmail.example' AND p.member_no = '50001' AND a.verified = 1"),
        1
    );
    // The new address now speaks for Kari.
    let help = &send(&home, &unverified(privat, "HJELP", ""))[0];
    assert!(help.text.contains("Hei Kari Nordmann"), "{}", help.text);
    // It was a wrong address: Kari removes it.
    let r = &send(
        &home,
        &verified(KARI, "FJERN <Kari.Privat@Gmail.example>", ""),
    )[0];
    assert_eq!((kind(r).as_str(), result(r).as_str()), ("unlink", "ok"));
    assert_eq!(
        home.count("SELECT COUNT(*) FROM addresses WHERE email = 'kari.privat@gmail.example'"),
        0
    );
    // Never the last.
    let r = &send(&home, &verified(KARI, &format!("FJERN {KARI}"), ""))[0];
    assert_eq!(result(r), "rejected");
    assert_eq!(
        home.count(&format!(
            "SELECT COUNT(*) FROM addresses WHERE email = '{KARI}'"
        )),
        1
    );
    let audit = home.count(
        "SELECT COUNT(*) FROM audit WHERE entity = 'address' AND action IN ('link', 'unlink')",
    );
    assert_eq!(audit, 2);
}

#[test]
fn another_members_address_is_never_linked_nor_removed_and_the_reply_does_not_tell() {
    let home = home();
    let free = &send(&home, &verified(KARI, "KOBLE ny.adresse@example.no", ""));
    let taken = &send(&home, &verified(KARI, "KOBLE per@privat.example", ""));
    assert_eq!(taken.len(), 1, "no mail to Per's address");
    let to_kari = |got: &[Reply]| got.iter().find(|r| r.to == KARI).unwrap().text.clone();
    assert_eq!(
        to_kari(taken).replace("per@privat.example", "X"),
        to_kari(free).replace("ny.adresse@example.no", "X"),
        "Kari cannot tell whose, or whether it is anyone's"
    );
    assert_eq!(
        home.count("SELECT COUNT(*) FROM codes WHERE email = 'per@privat.example'"),
        0
    );
    // FJERN of Per's address: not Kari's, nothing removed.
    let r = &send(&home, &verified(KARI, "FJERN per@privat.example", ""))[0];
    assert_eq!(result(r), "rejected");
    assert!(!r.text.contains("Per"), "{}", r.text);
    assert_eq!(
        home.count("SELECT COUNT(*) FROM addresses WHERE email = 'per@privat.example'"),
        1
    );
}

#[test]
fn my_data_goes_to_the_member_as_a_workbook_and_the_office_exports_the_same() {
    use calamine::Reader as _;
    let home = home();
    send(&home, &verified(KARI, "MELD UT", ""));
    let r = &send(&home, &unverified(KARI, "MINE DATA", ""))[0];
    assert_eq!(r.to, KARI);
    assert_eq!((kind(r).as_str(), result(r).as_str()), ("data", "ok"));
    assert!(r.text.contains("Medlemsnummer: 50001"), "{}", r.text);
    let (name, bytes) = crate::reps::attachment(r);
    assert_eq!(name, "mine-data.xlsx");
    let mut wb = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let sheets = wb.sheet_names();
    assert_eq!(sheets.len(), 11, "{sheets:?}");
    let person = wb.worksheet_range("Person").unwrap();
    let cells: Vec<String> = person
        .rows()
        .flat_map(|r| r.iter().map(|c| c.to_string()))
        .collect();
    assert!(
        cells.contains(&"069284*****".to_string()),
        "masked: {cells:?}"
    );
    assert!(!cells.iter().any(|c| c.contains("06928401578")));
    let pending = wb.worksheet_range("Til behandling").unwrap();
    assert_eq!(pending.rows().count(), 2, "the header and the resignation");
    let messages = wb.worksheet_range("Meldinger").unwrap();
    assert!(
        messages.rows().count() >= 2,
        "the messages of the last 12 months"
    );
    // An address in no one's record gets the list of what it may do.
    let stranger = &send(&home, &verified("ukjent@example.no", "MINE DATA", ""))[0];
    assert_eq!(result(stranger), "rejected");
    assert!(crate::reps::attachment_count(stranger) == 0);
    // The office: the same parts, the whole national id.
    let shown = admin::person_show(&home.store(), &ctx(&home), "50001", home.now()).unwrap();
    assert!(
        shown.contains("06928401578") && shown.contains("Til behandling"),
        "{shown}"
    );
    let file = home.dir.path().join("kari.xlsx");
    let out = admin::person_export(&home.store(), &ctx(&home), KARI, &file, home.now()).unwrap();
    assert!(out.contains("11 sheets"), "{out}");
    let mut wb = calamine::open_workbook_auto(&file).unwrap();
    assert_eq!(wb.sheet_names(), sheets);
    let cells: Vec<String> = wb
        .worksheet_range("Person")
        .unwrap()
        .rows()
        .flat_map(|r| r.iter().map(|c| c.to_string()))
        .collect();
    assert!(cells.contains(&"06928401578".to_string()));
    assert!(
        admin::person_show(&home.store(), &ctx(&home), "nobody@example.no", home.now()).is_err()
    );
}

#[test]
fn help_lists_what_the_senders_roles_allow() {
    use postbud::store::import::{ImportKind, import};
    let home = home();
    let text = std::fs::read_to_string(format!(
        "{}/register/contacts.csv",
        crate::support::FIXTURES
    ))
    .unwrap();
    import(
        &mut home.store().conn,
        ImportKind::Contacts,
        "contacts.csv",
        &text,
        home.now(),
        &|_, _| {},
    )
    .unwrap();
    let help = |from: &str| send(&home, &verified(from, "HJELP", ""))[0].text.clone();
    let kari = help(KARI);
    assert!(
        kari.contains("MELD UT") && !kari.contains("AKTIVITET") && !kari.contains("KONTAKTER"),
        "{kari}"
    );
    let per = help(PER);
    assert!(
        per.contains("MELD UT") && per.contains("AKTIVITET") && !per.contains("KONTAKTER"),
        "{per}"
    );
    let lonn = help("lonn@bedrift.example");
    assert!(
        lonn.contains("KONTAKTER") && !lonn.contains("MELD UT") && !lonn.contains("AKTIVITET"),
        "{lonn}"
    );
    let stranger = help("ukjent@example.no");
    assert!(
        stranger.contains("KODE")
            && !stranger.contains("MELD UT")
            && !stranger.contains("AKTIVITET"),
        "{stranger}"
    );
    assert!(stranger.contains("ikke registrert"), "{stranger}");
    insta::assert_snapshot!("members_help_unknown_nb", stranger);
}

#[test]
fn a_member_in_english_gets_the_decision_in_english() {
    let home = home();
    let r = &send(&home, &verified(PER, "UPDATE", "position: Senior operator"))[0];
    assert_eq!(result(r), "pending");
    assert!(r.text.starts_with("Hello"), "{}", r.text);
    let got = send(
        &home,
        &verified(
            "kontor@forbund.example",
            &format!("AVVIS {} not your title", reference(r)),
            "",
        ),
    );
    let per = got.iter().find(|g| g.to == PER).unwrap();
    assert_eq!(kind(per), "reject");
    assert!(
        per.text.contains("rejected") && per.text.contains("not your title"),
        "{}",
        per.text
    );
    assert_eq!(
        person_value(&home, "50104", "position").as_deref(),
        Some("Operatør")
    );
}
