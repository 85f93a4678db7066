//! The schedule end to end (SPEC section 11): letters with their PDFs,
//! `BREV`, reminders, the digest and `DIGEST`, retention, dated changes,
//! each slot once across restarts and crashes; a driven clock, no sleeping.
//! Kari Nordmann (50001) and the employer's 40 members; the employer's
//! contact lonn@bedrift.example has every duty and accepted the
//! declaration.

use crate::reps::{attachment, verified};
use crate::support::{FIXTURES, Home, Reply, fixture};
use chrono::{DateTime, Utc};
use postbud::commands::jobs::Job;
use postbud::jobs::{Runner, schedule};
use postbud::pipeline::Context;
use postbud::store::import::{ImportKind, import};

const KARI: &str = "kari.nordmann@example.no";
const LONN: &str = "lonn@bedrift.example";
const KONTOR: &str = "kontor@forbund.example";

fn home() -> Home {
    let home = Home::new(&format!(
        "{}[lists]\nallow_synthetic_ids = true\n",
        crate::reps::security()
    ));
    let mut store = home.store();
    for (kind, file) in [
        (ImportKind::Members, "members.csv"),
        (ImportKind::Contacts, "contacts.csv"),
    ] {
        let text = std::fs::read_to_string(format!("{FIXTURES}/register/{file}")).unwrap();
        import(&mut store.conn, kind, file, &text, home.now(), &|_, _| {}).unwrap();
    }
    home
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// Runs one tick of the scheduler at `now` (dated changes, due jobs), then
/// sends what it queued; returns the mails written by it.
fn tick(home: &Home, now: &str) -> Vec<Reply> {
    home.clock.set(at(now));
    let before = home.replies().len();
    let ctx = Context::from_config(&home.cfg);
    let jobs = schedule(&home.cfg).unwrap();
    Runner::from(&ctx, &home.cfg)
        .tick(&mut home.store(), &jobs, home.now(), &mut home.random())
        .unwrap();
    home.run(); // sends the outbox
    home.replies().into_iter().skip(before).collect()
}

/// Delivers, runs once, returns what was written.
fn send(home: &Home, raw: &[u8]) -> Vec<Reply> {
    let before = home.replies().len();
    home.deliver(raw);
    home.run();
    home.replies().into_iter().skip(before).collect()
}

fn kind(r: &Reply) -> String {
    r.header("X-Postbud-Kind").unwrap_or_default()
}

fn approve(home: &Home, reference: &str) {
    postbud::admin::decide_pending(
        &mut home.store(),
        &Context::from_config(&home.cfg),
        reference,
        true,
        None,
        home.now(),
        &mut home.random(),
    )
    .unwrap();
}

/// Kari resigns from `date`; the office approves; returns the reference.
fn kari_resigns(home: &Home, date: &str) -> String {
    let r = &send(home, &verified(KARI, "MELD UT", &format!("dato: {date}")))[0];
    let reference = r.header("X-Postbud-Ref").unwrap();
    approve(home, &reference);
    reference
}

#[test]
fn a_month_of_slots_letters_once_with_their_pdf_and_brev_sends_one_again() {
    let home = home();
    // The first tick only starts counting: nothing runs.
    assert!(tick(&home, "2026-11-20T09:00:00Z").is_empty());
    assert_eq!(home.count("SELECT COUNT(*) FROM jobs"), 4);
    // Kari resigns today; a rep reports Ola left.
    kari_resigns(&home, "20.11.2026");
    assert_eq!(
        home.count(
            "SELECT COUNT(*) FROM employer_changes WHERE what = 'stop' AND why = 'resigned'"
        ),
        1
    );
    // 1 December 07:00 Oslo (06:00 UTC): the letter goes out, once.
    let mut letters = Vec::new();
    for now in [
        "2026-11-30T23:59:00Z",
        "2026-12-01T05:59:59Z",
        "2026-12-01T06:00:00Z",
        "2026-12-01T06:00:30Z",
        "2026-12-01T12:00:00Z",
        "2026-12-15T06:00:00Z",
    ] {
        letters.extend(tick(&home, now).into_iter().filter(|r| kind(r) == "letter"));
    }
    assert_eq!(letters.len(), 1, "{letters:#?}");
    let l = &letters[0];
    assert_eq!(l.to, LONN);
    assert_eq!(
        l.header("Auto-Submitted").as_deref(),
        Some("auto-generated")
    );
    assert!(l.header("In-Reply-To").is_none());
    assert!(
        l.subject.contains("Vedrørende kontingenttrekk"),
        "{}",
        l.subject
    );
    assert!(
        l.text.contains("Kari Nordmann") && l.text.contains("meldt seg ut"),
        "{}",
        l.text
    );
    let (name, pdf) = attachment(l);
    assert_eq!(name, "kontingenttrekk-923609016-brev-1.pdf");
    assert!(pdf.starts_with(b"%PDF"));
    insta::assert_snapshot!("letter_nb", l.snapshot());
    // Nothing new: the next month has no letter.
    assert!(
        tick(&home, "2027-01-01T06:00:00Z")
            .iter()
            .all(|r| kind(r) != "letter")
    );
    // BREV lists it; BREV 1 sends it again with the same PDF.
    let list = &send(&home, &verified(LONN, "BREV", ""))[0];
    assert_eq!(kind(list), "letters");
    assert!(list.text.contains("Brev 1, 2026-12-01"), "{}", list.text);
    let again = &send(&home, &verified(LONN, "BREV 1", ""))[0];
    assert_eq!(attachment(again).1, pdf, "the letter as kept");
    let none = &send(&home, &verified(LONN, "BREV 7", ""))[0];
    assert!(
        none.text.contains("finner ikke brev nr. 7"),
        "{}",
        none.text
    );
}

#[test]
fn a_change_with_a_later_date_waits_for_its_day_and_then_reaches_the_letter() {
    let home = home();
    tick(&home, "2026-11-20T09:00:00Z");
    let reference = kari_resigns(&home, "31.12.2026");
    let status = || -> (String, String) {
        home.store()
            .conn
            .query_row(
                "SELECT (SELECT status FROM pending_changes WHERE ref = ?1), (SELECT status FROM people WHERE member_no = '50001')",
                [&reference],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
    };
    assert_eq!(status(), ("scheduled".into(), "active".into()));
    // The decision told Kari the day.
    let told = home.replies().into_iter().rfind(|r| r.to == KARI).unwrap();
    assert!(told.text.contains("31.12.2026"), "{}", told.text);
    // The December letter does not name her yet.
    let dec = tick(&home, "2026-12-01T06:00:00Z");
    assert!(dec.iter().all(|r| kind(r) != "letter"), "{dec:#?}");
    // 30 December 23:59 Oslo: still active. Midnight: resigned.
    tick(&home, "2026-12-30T22:59:00Z");
    assert_eq!(status().1, "active");
    tick(&home, "2026-12-30T23:00:00Z");
    assert_eq!(status(), ("applied".into(), "resigned".into()));
    let jan = tick(&home, "2027-01-01T06:00:00Z");
    let letter = jan
        .iter()
        .find(|r| kind(r) == "letter")
        .expect("January's letter");
    assert!(letter.text.contains("31.12.2026"), "{}", letter.text);
    // `run --once` carries out due changes too.
    let r2 = kari_resigns_other(&home);
    home.clock.set(at("2027-02-01T00:00:00Z"));
    home.run();
    assert_eq!(
        home.count(&format!(
            "SELECT COUNT(*) FROM pending_changes WHERE ref = '{r2}' AND status = 'applied'"
        )),
        1
    );
}

/// Ola Ødegård (50002) reported left at the end of January by a rep
/// (approved at once, takes effect on the day).
fn kari_resigns_other(home: &Home) -> String {
    crate::reps::import_rep_register(home);
    let r = &send(
        home,
        &verified(
            "per.hansen@example.no",
            "MEDLEM SLUTTET 50002",
            "sluttdato: 31.01.2027",
        ),
    )[0];
    let reference = r.header("X-Postbud-Ref").unwrap();
    approve(home, &reference);
    reference
}

#[test]
fn reminders_for_a_missing_list_and_for_members_not_deducted() {
    let home = home();
    tick(&home, "2026-11-19T09:00:00Z");
    // 20 November 07:00: no list for October yet.
    let got = tick(&home, "2026-11-20T06:00:00Z");
    let reminder = got
        .iter()
        .find(|r| kind(r) == "reminder")
        .expect("a reminder");
    assert_eq!(reminder.to, LONN);
    assert!(
        reminder.text.contains("ikke mottatt trekklisten")
            && reminder.text.contains("oktober 2026"),
        "{}",
        reminder.text
    );
    // The list comes; three members are not on it; one is answered.
    send(&home, &fixture("deduction-xlsx.eml"));
    send(&home, &verified(LONN, "STATUS", "50037 Permittert"));
    let ctx = Context::from_config(&home.cfg);
    let ran = Runner::from(&ctx, &home.cfg)
        .run(
            &mut home.store(),
            Job::Reminders,
            None,
            home.now(),
            &mut home.random(),
            false,
        )
        .unwrap();
    assert_eq!(ran.mails, 1);
    home.run();
    let last = home.replies().pop().unwrap();
    assert_eq!(kind(&last), "reminder");
    assert!(
        last.text.contains("50038") && last.text.contains("50039"),
        "{}",
        last.text
    );
    assert!(!last.text.contains("50037"), "answered: {}", last.text);
    assert!(last.text.contains("STATUS"), "{}", last.text);
    insta::assert_snapshot!("reminder_unanswered_nb", last.snapshot());
}

#[test]
fn the_digest_every_morning_and_digest_on_demand() {
    let home = home();
    tick(&home, "2026-11-20T09:00:00Z");
    crate::reps::import_rep_register(&home);
    send(
        &home,
        &verified(
            "per.hansen@example.no",
            "MEDLEM SLUTTET 50002",
            "sluttdato: 31.12.2026",
        ),
    );
    send(&home, b"From: ola@example.no\r\nSubject: Et sporsmal\r\nMessage-ID: <q@example.no>\r\n\r\nHei\r\n");
    send(&home, b"From: \r\nSubject: x\r\n\r\n");
    let got = tick(&home, "2026-11-21T05:00:00Z");
    let digest: Vec<&Reply> = got.iter().filter(|r| kind(r) == "digest").collect();
    assert_eq!(digest.len(), 1);
    let d = digest[0];
    assert_eq!(d.to, KONTOR);
    assert_eq!(
        d.header("Auto-Submitted").as_deref(),
        Some("auto-generated")
    );
    assert!(d.text.contains("GODKJENN eller AVVIS"), "{}", d.text);
    assert!(d.text.contains("Åpne henvendelser (1)"), "{}", d.text);
    assert!(d.text.contains("I karantene (1 i alt"), "{}", d.text);
    assert!(d.html.contains("<table>"), "{}", d.html);
    screenshot(&d.html, "digest");
    // Once a day.
    assert!(
        tick(&home, "2026-11-21T09:00:00Z")
            .iter()
            .all(|r| kind(r) != "digest")
    );
    // DIGEST now, to the admin who asks; refused to anyone else.
    let now = &send(&home, &verified(KONTOR, "DIGEST", ""))[0];
    assert_eq!(kind(now), "digest");
    assert_eq!(now.header("X-Postbud-Result").as_deref(), Some("ok"));
    let other = &send(&home, &verified(KARI, "DIGEST", ""))[0];
    assert_eq!(
        other.header("X-Postbud-Result").as_deref(),
        Some("rejected")
    );
    // stats reads the same figures.
    let stats = postbud::admin::stats(&home.store(), home.now()).unwrap();
    assert!(stats.contains("pending changes"), "{stats}");
}

#[test]
fn retention_deletes_what_is_old_and_a_message_is_still_known_after() {
    let home = home();
    tick(&home, "2026-11-20T09:00:00Z");
    let ask = b"From: ola@example.no\r\nSubject: Et sporsmal\r\nMessage-ID: <old@example.no>\r\n\r\nHei\r\n";
    send(&home, ask);
    send(&home, &verified(KARI, "KODE", ""));
    kari_resigns(&home, "20.11.2026");
    tick(&home, "2026-12-01T06:00:00Z"); // a letter
    assert_eq!(home.count("SELECT COUNT(*) FROM letters"), 1);
    assert_eq!(
        home.count("SELECT COUNT(*) FROM messages WHERE raw IS NOT NULL"),
        3
    );
    // 03:30 daily: after 90 days the bodies go, after six months the letter.
    tick(&home, "2027-03-01T02:30:00Z");
    assert_eq!(
        home.count("SELECT COUNT(*) FROM codes"),
        0,
        "used and expired codes"
    );
    assert_eq!(
        home.count("SELECT COUNT(*) FROM messages WHERE raw IS NOT NULL"),
        0
    );
    assert_eq!(
        home.count("SELECT COUNT(*) FROM messages"),
        3,
        "the records stay"
    );
    assert_eq!(home.count("SELECT COUNT(*) FROM letters"), 1);
    tick(&home, "2027-06-02T02:30:00Z");
    assert_eq!(home.count("SELECT COUNT(*) FROM letters"), 0);
    assert!(home.count("SELECT COUNT(*) FROM audit WHERE action = 'delete'") >= 3);
    // The same message again is still a duplicate.
    let again = send(&home, ask);
    assert!(again.is_empty(), "{again:#?}");
}

#[test]
fn a_week_of_downtime_runs_a_missed_digest_once() {
    let home = home();
    tick(&home, "2026-11-20T09:00:00Z");
    let got = tick(&home, "2026-11-28T12:00:00Z");
    assert_eq!(got.iter().filter(|r| kind(r) == "digest").count(), 1);
    let last: String = home
        .store()
        .conn
        .query_row(
            "SELECT last_slot FROM jobs WHERE name = 'digest'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(last, "2026-11-28T06:00:00");
}

#[test]
fn jobs_list_and_a_dry_run_change_nothing() {
    let home = home();
    tick(&home, "2026-11-20T09:00:00Z");
    kari_resigns(&home, "20.11.2026");
    let bin = env!("CARGO_BIN_EXE_postbud");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(bin)
            .arg("--config")
            .arg(home.config_path())
            .args(args)
            .env("POSTBUD_NOW", "2026-11-20T10:00:00Z")
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let list = run(&["jobs", "list"]);
    assert!(
        list.contains("letters")
            && list.contains("0 0 7 1 * *")
            && list.contains("2026-12-01T07:00:00"),
        "{list}"
    );
    let dry = run(&["jobs", "run", "letters", "--dry-run"]);
    assert!(
        dry.contains("keep letter 1 to Bedrift AS") && dry.contains("mail to lonn@bedrift.example"),
        "{dry}"
    );
    assert_eq!(home.count("SELECT COUNT(*) FROM letters"), 0);
    assert_eq!(
        home.count("SELECT COUNT(*) FROM outbox WHERE kind = 'letter'"),
        0
    );
    let real = run(&["jobs", "run", "letters"]);
    assert!(real.contains("1 mails queued"), "{real}");
    assert_eq!(home.count("SELECT COUNT(*) FROM letters"), 1);
    // An extra run takes no slot.
    let slot: Option<String> = home
        .store()
        .conn
        .query_row(
            "SELECT last_slot FROM jobs WHERE name = 'letters'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(slot.as_deref(), Some("2026-11-20T10:00:00"));
}

/// The daemon dies in the middle of the monthly letters (after the first
/// employer's is committed); started again, it writes the others and
/// never the first twice, and the slot is then done.
#[test]
fn a_crash_in_the_middle_of_the_letters_redoes_only_what_was_not_done() {
    use std::process::Command;
    let home = home();
    let mut store = home.store();
    let now = home.now();
    let employers = "orgnr,navn,enhet\n974760673,Andre AS,Bergen\n971526920,Tredje AS,Bergen\n";
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
                    lonn@andre.example,Lønn,,974760673,letters,2026-01-05\n\
                    lonn@tredje.example,Lønn,,971526920,letters,2026-01-05\n";
    import(
        &mut store.conn,
        ImportKind::Contacts,
        "c.csv",
        contacts,
        now,
        &|_, _| {},
    )
    .unwrap();
    // A change for each employer, as the letters job finds them.
    for (i, orgnr) in ["923609016", "974760673", "971526920"].iter().enumerate() {
        store
            .conn
            .execute(
                "INSERT INTO employer_changes (employer_id, person_id, what, why, effective_on, recorded_at)
                 SELECT e.id, p.id, 'stop', 'resigned', '2026-11-30', '2026-11-20T09:00:00Z'
                 FROM employers e, people p WHERE e.orgnr = ?1 AND p.member_no = ?2",
                rusqlite::params![orgnr, format!("5000{i}")],
            )
            .unwrap();
    }
    // The jobs have run before; the letters' slot of 1 December is due.
    for job in ["letters", "reminders", "digest", "retention"] {
        postbud::store::jobs::set_slot(&store.conn, job, "2026-11-30T12:00:00", now).unwrap();
    }
    drop(store);
    let daemon = |abort_after: Option<&str>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_postbud"));
        c.arg("--config")
            .arg(home.config_path())
            .arg("run")
            .env("POSTBUD_NOW", "2026-12-01T06:00:10Z")
            .env("POSTBUD_LOG", "error");
        if let Some(n) = abort_after {
            c.env("POSTBUD_TEST_JOB_ABORT_AFTER", n);
        }
        c.spawn().unwrap()
    };
    let mut first = daemon(Some("1"));
    let status = first.wait().unwrap();
    assert!(!status.success(), "it aborted: {status:?}");
    assert_eq!(
        home.count("SELECT COUNT(*) FROM letters"),
        1,
        "one employer done"
    );
    assert_eq!(
        home.count("SELECT COUNT(*) FROM job_items WHERE job = 'letters'"),
        1
    );
    let slot = || -> String {
        home.store()
            .conn
            .query_row(
                "SELECT last_slot FROM jobs WHERE name = 'letters'",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert_eq!(slot(), "2026-11-30T12:00:00", "the slot is not done");
    // Started again: the other two, then the slot.
    let mut second = daemon(None);
    let start = std::time::Instant::now();
    while slot() != "2026-12-01T07:00:00" {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "the slot never finished"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(second.id().to_string())
        .status();
    assert!(second.wait().unwrap().success());
    assert_eq!(home.count("SELECT COUNT(*) FROM letters"), 3);
    assert_eq!(
        home.count("SELECT COUNT(DISTINCT employer_id) FROM letters"),
        3
    );
    assert_eq!(
        home.count("SELECT COUNT(*) FROM outbox WHERE kind = 'letter'"),
        3,
        "each contact once"
    );
    assert_eq!(
        home.count("SELECT COUNT(*) FROM employer_changes WHERE letter_id IS NULL"),
        0
    );
}

/// Renders `html` in headless Chromium (Debian's `chromium`; the test fails
/// when it is missing) to `target/pictures/<name>.png`, for a person to
/// look at, and checks that a picture came out.
pub fn screenshot(html: &str, name: &str) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/pictures");
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join(format!("{name}.html"));
    let png = dir.join(format!("{name}.png"));
    std::fs::write(&page, html).unwrap();
    let _ = std::fs::remove_file(&png);
    let profile = tempfile::tempdir().unwrap();
    let out = std::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=900,1500",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap_or_else(|e| panic!("cannot run chromium (apt-get install chromium): {e}"));
    assert!(
        out.status.success(),
        "chromium: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&png).expect("a screenshot");
    assert!(
        bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
        "a picture, not a blank"
    );
}

/// The digest at 02:30 every night, across both clock changes in Oslo:
/// the autumn night has 02:30 twice and the digest comes once; the spring
/// night has no 02:30 and the digest comes when the clock jumps (03:00).
#[test]
fn the_clock_changes_in_october_and_march() {
    let home = Home::new("[schedule]\ndigest = \"0 30 2 * * *\"\n");
    let digests_between = |from: &str, to: &str| -> Vec<String> {
        let mut t = at(from);
        let mut sent = Vec::new();
        while t <= at(to) {
            for r in tick(&home, &t.to_rfc3339()) {
                if kind(&r) == "digest" {
                    sent.push(t.to_rfc3339());
                }
            }
            t += chrono::Duration::minutes(10);
        }
        sent
    };
    tick(&home, "2026-10-24T12:00:00Z");
    // 25 October 2026: 02:30 CEST is 00:30 UTC; 02:30 CET (01:30 UTC) again.
    assert_eq!(
        digests_between("2026-10-24T22:00:00Z", "2026-10-25T04:00:00Z"),
        ["2026-10-25T00:30:00+00:00"]
    );
    // 28 March 2027: 02:00 CET jumps to 03:00 CEST at 01:00 UTC.
    // (Five months away: the missed night runs once when it comes back.)
    let back = tick(&home, "2027-03-27T12:00:00Z");
    assert_eq!(back.iter().filter(|r| kind(r) == "digest").count(), 1);
    assert_eq!(
        digests_between("2027-03-27T12:10:00Z", "2027-03-28T04:00:00Z"),
        ["2027-03-28T01:00:00+00:00"]
    );
}

/// What a rep reports with a date takes effect on it (SPEC section 11,
/// "Dated changes"): a member who left (the end date kept, the new
/// employer found by name, each employer's next letter told), a workplace
/// closed from a date; and a chapter's rep can be appointed by mail.
#[test]
fn reports_take_effect_on_their_dates_and_a_chapter_rep_is_appointed() {
    let home = home();
    crate::reps::import_rep_register(&home);
    let employers = "orgnr,navn,enhet\n974760673,Annen AS,Bergen\n";
    import(
        &mut home.store().conn,
        ImportKind::Employers,
        "e.csv",
        employers,
        home.now(),
        &|_, _| {},
    )
    .unwrap();
    tick(&home, "2026-11-20T09:00:00Z");
    let rep = "per.hansen@example.no";
    let reference = |got: Vec<Reply>| got[0].header("X-Postbud-Ref").unwrap();
    let left = reference(send(
        &home,
        &verified(
            rep,
            "MEDLEM SLUTTET 50001",
            "sluttdato: 15.12.2026\nny arbeidsgiver: annen as",
        ),
    ));
    home.store()
        .conn
        .execute(
            "INSERT INTO workplaces (employer_id, name) SELECT id, 'Lageret' FROM employers WHERE orgnr = '923609016'",
            [],
        )
        .unwrap();
    let close = reference(send(
        &home,
        &verified(rep, "ARBEIDSSTED AVSLUTT Lageret", "dato: 01.01.2027"),
    ));
    let chapter = reference(send(
        &home,
        &verified(
            "leder.bergen@ffm.example",
            "NY TILLITSVALGT 50001",
            "rolle: tillitsvalgt\nnivå: enhet\nenhet: Bergen\nfra: 01.12.2026",
        ),
    ));
    for r in [&left, &close, &chapter] {
        approve(&home, r);
    }
    let employer_of_kari = || -> Option<String> {
        home.store()
            .conn
            .query_row(
                "SELECT e.orgnr FROM people p LEFT JOIN employers e ON e.id = p.employer_id WHERE p.member_no = '50001'",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert_eq!(
        home.count("SELECT COUNT(*) FROM pending_changes WHERE status = 'scheduled'"),
        3
    );
    assert_eq!(
        employer_of_kari().as_deref(),
        Some("923609016"),
        "not before the day"
    );
    // 1 December: the chapter's rep begins; the letters job runs too.
    tick(&home, "2026-12-01T06:00:00Z");
    assert_eq!(
        home.count("SELECT COUNT(*) FROM roles r JOIN units u ON u.id = r.unit_id WHERE r.level = 'enhet' AND u.name = 'Bergen' AND r.employer_id IS NULL AND r.email = 'kari.nordmann@example.no'"),
        1
    );
    // 15 December 00:00 Oslo: Kari left; Annen AS is her employer now.
    tick(&home, "2026-12-14T23:00:00Z");
    assert_eq!(employer_of_kari().as_deref(), Some("974760673"));
    assert_eq!(
        home.count("SELECT COUNT(*) FROM employment_ends WHERE ended_on = '2026-12-15'"),
        1
    );
    assert_eq!(
        home.count("SELECT COUNT(*) FROM employer_changes WHERE what = 'stop' AND why = 'left'"),
        1
    );
    assert_eq!(
        home.count(
            "SELECT COUNT(*) FROM employer_changes WHERE what = 'start' AND why = 'moved-in'"
        ),
        1
    );
    assert_eq!(
        home.count("SELECT COUNT(*) FROM workplaces WHERE name = 'Lageret' AND open = 1"),
        1
    );
    tick(&home, "2026-12-31T23:00:00Z");
    assert_eq!(
        home.count("SELECT COUNT(*) FROM workplaces WHERE name = 'Lageret' AND open = 0"),
        1
    );
    // January's letters: both employers told.
    let jan = tick(&home, "2027-01-01T06:00:00Z");
    assert_eq!(home.count("SELECT COUNT(*) FROM letters"), 2);
    let to_lonn = jan
        .iter()
        .find(|r| kind(r) == "letter")
        .expect("Bedrift's letter");
    assert!(
        to_lonn.text.contains("sluttet hos dere") && to_lonn.text.contains("15.12.2026"),
        "{}",
        to_lonn.text
    );
}

/// `BREV` from a contact of another employer, or from an address that is no
/// contact at all: the letter names members, so neither learns it exists.
#[test]
fn brev_never_sends_another_employers_letter() {
    let home = home();
    tick(&home, "2026-11-20T09:00:00Z");
    kari_resigns(&home, "20.11.2026");
    let sent = tick(&home, "2026-12-01T06:00:00Z");
    assert!(
        sent.iter().any(|r| kind(r) == "letter"),
        "Bedrift AS has letter 1"
    );
    let mut store = home.store();
    import(
        &mut store.conn,
        ImportKind::Employers,
        "e.csv",
        "orgnr,navn,enhet\n974760673,Andre AS,Bergen\n",
        home.now(),
        &|_, _| {},
    )
    .unwrap();
    import(
        &mut store.conn,
        ImportKind::Contacts,
        "c.csv",
        "epost,navn,telefon,orgnr,ansvar,erklaering_akseptert\n\
         lonn@andre.example,Lønn,,974760673,letters,2026-01-05\n",
        home.now(),
        &|_, _| {},
    )
    .unwrap();
    drop(store);
    let other = &send(&home, &verified("lonn@andre.example", "BREV 1", ""))[0];
    assert_eq!(other.to, "lonn@andre.example");
    assert_eq!(crate::reps::attachment_count(other), 0, "{}", other.text);
    assert!(!other.text.contains("Kari"), "{}", other.text);
    let list = &send(&home, &verified("lonn@andre.example", "BREV", ""))[0];
    assert!(!list.text.contains("Brev 1"), "{}", list.text);
    // Nor does an address that is no contact.
    let stranger = send(&home, &verified("someone@example.no", "BREV 1", ""));
    assert!(
        stranger
            .iter()
            .all(|r| crate::reps::attachment_count(r) == 0 && !r.text.contains("Kari")),
        "{stranger:#?}"
    );
}
