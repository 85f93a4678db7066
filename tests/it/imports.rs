//! `postbud import` as the office runs it (SPEC section 12): the binary on a
//! real register, checks with line numbers, `--dry-run`, the summary, the
//! same file twice, and progress for every kind.

use std::cell::RefCell;
use std::path::Path;
use std::process::Command;

use postbud::store::import::{ImportKind, ImportOptions, import_with};

use crate::support::Home;

const HEADER: &str =
    "medlemsnr,navn,fodselsdato,fodselsnummer,arbeidsgiver_orgnr,arbeidssted,enhet,sprak,status\n";

/// A real fødselsnummer (both control digits right) and a D-number (day + 40).
const FNR: &str = "15038510190";
const DNR: &str = "55038510184";

fn postbud(home: &Home, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_postbud"))
        .arg("--config")
        .arg(home.config_path())
        .args(args)
        .env("POSTBUD_LOG", "error")
        .output()
        .expect("run postbud");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn write(home: &Home, name: &str, text: &str) -> String {
    let path = home.dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn members_file(rows: &[String]) -> String {
    format!("{HEADER}{}\n", rows.join("\n"))
}

fn row(nr: u32, name: &str, born: &str, id: &str) -> String {
    format!("{nr},{name},{born},{id},923609016,Hovedkontoret,Bergen,nb,active")
}

#[test]
fn national_ids_get_both_mod11_checks_and_d_numbers_and_every_bad_row_is_named() {
    let home = Home::new("[lists]\nallow_synthetic_ids = false\n");
    let before = home.count("SELECT COUNT(*) FROM people");
    let file = write(
        &home,
        "members.csv",
        &members_file(&[
            row(60001, "Ola Fnr", "1985-03-15", FNR),
            row(60002, "Dina Dnr", "1985-03-15", DNR),
            // The second control digit is wrong (the first is right).
            row(60003, "Feil Kontroll", "1985-03-15", "15038510191"),
            // No 32nd of March.
            row(60004, "Feil Dato", "1985-03-32", "32038510190"),
            // Right digits, but the birth date column disagrees.
            row(60005, "Feil Fodselsdato", "1985-03-16", FNR),
            // A synthetic test id (month + 80) where they are not allowed.
            row(60006, "Syntetisk", "1996-11-16", "16919608173"),
        ]),
    );
    let (ok, out) = postbud(&home, &["import", "members", &file]);
    assert!(!ok, "{out}");
    assert!(out.contains("nothing was imported"), "{out}");
    assert!(
        out.contains("line 4: `fodselsnummer` `15038510191` has a wrong control digit"),
        "{out}"
    );
    assert!(out.contains("line 5:"), "{out}");
    assert!(
        out.contains("line 6:") && out.contains("born 1985-03-15"),
        "{out}"
    );
    assert!(
        out.contains("line 7:") && out.contains("synthetic"),
        "{out}"
    );
    assert!(
        !out.contains("line 2:") && !out.contains("line 3:"),
        "{out}"
    );
    assert_eq!(home.count("SELECT COUNT(*) FROM people"), before);

    // The good rows alone go in: a fødselsnummer and a D-number.
    let file = write(
        &home,
        "members-good.csv",
        &members_file(&[
            row(60001, "Ola Fnr", "1985-03-15", FNR),
            row(60002, "Dina Dnr", "1985-03-15", DNR),
        ]),
    );
    let (ok, out) = postbud(&home, &["import", "members", &file]);
    assert!(ok, "{out}");
    assert_eq!(home.count("SELECT COUNT(*) FROM people"), before + 2);
}

#[test]
fn a_dry_run_reports_what_would_change_and_changes_nothing_then_the_real_run_does_it_once() {
    let home = Home::new("");
    let first = write(
        &home,
        "members.csv",
        &members_file(&[
            row(60001, "Ola Fnr", "1985-03-15", FNR),
            row(60002, "Dina Dnr", "1985-03-15", DNR),
        ]),
    );
    assert!(postbud(&home, &["import", "members", &first]).0);
    let audit = || home.count("SELECT COUNT(*) FROM audit");
    let (members, audited) = (home.count("SELECT COUNT(*) FROM people"), audit());

    // One new row, one changed (the name), one as it was.
    let second = write(
        &home,
        "members-2.csv",
        &members_file(&[
            row(60001, "Ola Fnr", "1985-03-15", FNR),
            row(60002, "Dina D. Nordmann", "1985-03-15", DNR),
            row(60003, "Ny Medlem", "1990-01-01", "01019010046"),
        ]),
    );
    let (ok, out) = postbud(&home, &["import", "members", &second, "--dry-run"]);
    assert!(ok, "{out}");
    assert!(out.contains("dry run: 3 rows of members"), "{out}");
    assert!(out.contains("1 new, 1 changed, 1 unchanged"), "{out}");
    assert!(out.contains("line 3 (medlemsnr 60002): navn"), "{out}");
    assert!(out.contains("nothing was changed"), "{out}");
    assert_eq!(home.count("SELECT COUNT(*) FROM people"), members);
    assert_eq!(audit(), audited, "a dry run audits nothing");
    assert_eq!(
        home.count("SELECT COUNT(*) FROM people WHERE name = 'Dina D. Nordmann'"),
        0
    );

    let (ok, out) = postbud(&home, &["import", "members", &second]);
    assert!(ok, "{out}");
    assert!(out.contains("imported 3 rows of members"), "{out}");
    assert!(out.contains("1 new, 1 changed, 1 unchanged"), "{out}");
    assert_eq!(home.count("SELECT COUNT(*) FROM people"), members + 1);
    assert_eq!(
        home.count("SELECT COUNT(*) FROM people WHERE name = 'Dina D. Nordmann'"),
        1
    );
    let after = audit();
    assert!(after > audited, "a real import is audited");

    // The same file again changes nothing, not even the audit log.
    let (ok, out) = postbud(&home, &["import", "members", &second]);
    assert!(ok, "{out}");
    assert!(out.contains("0 new, 0 changed, 3 unchanged"), "{out}");
    assert_eq!(audit(), after);
}

#[test]
fn every_kind_reports_progress_from_nothing_to_all_of_it() {
    let home = Home::new("");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/register");
    let mut store = home.store();
    // A members file long enough for steps between the first and the last.
    let many: Vec<String> = (0..600)
        .map(|i| {
            format!(
                "{},Medlem {i},,,923609016,Hovedkontoret,Bergen,nb,active",
                70000 + i
            )
        })
        .collect();
    let members = members_file(&many);
    // And a units file, so that steps are not a members-only thing.
    let mut units = std::fs::read_to_string(fixtures.join("units.csv")).unwrap();
    for i in 0..600 {
        units.push_str(&format!("Lag {i},lag,Forbundet\n"));
    }
    let grants = "epost,enhet,orgnr,grunn,fra,til\n\
                  leder.bergen@ffm.example,Bergen,,vikar for leder,2026-01-01,\n";
    for (kind, text) in [
        (ImportKind::Units, units),
        (
            ImportKind::Employers,
            std::fs::read_to_string(fixtures.join("employers.csv")).unwrap(),
        ),
        (ImportKind::Members, members),
        (
            ImportKind::Peers,
            std::fs::read_to_string(fixtures.join("peers.csv")).unwrap(),
        ),
        (
            ImportKind::Roles,
            std::fs::read_to_string(fixtures.join("roles.csv")).unwrap(),
        ),
        (ImportKind::Grants, grants.to_string()),
        (
            ImportKind::Contacts,
            std::fs::read_to_string(fixtures.join("contacts.csv")).unwrap(),
        ),
    ] {
        let calls = RefCell::new(Vec::new());
        let summary = import_with(
            &mut store.conn,
            kind,
            kind.name(),
            &text,
            home.now(),
            &|done, total| calls.borrow_mut().push((done, total)),
            ImportOptions {
                dry_run: false,
                allow_synthetic_ids: true,
            },
        )
        .unwrap_or_else(|e| panic!("{}: {e:#}", kind.name()));
        let calls = calls.into_inner();
        let rows = summary.rows;
        assert!(rows > 0, "{}", kind.name());
        assert_eq!(calls.first(), Some(&(0, rows)), "{}", kind.name());
        assert_eq!(calls.last(), Some(&(rows, rows)), "{}", kind.name());
        assert!(
            calls.windows(2).all(|w| w[0].0 <= w[1].0),
            "{}: {calls:?}",
            kind.name()
        );
        if matches!(kind, ImportKind::Members | ImportKind::Units) {
            assert!(calls.len() > 3, "{}: steps between: {calls:?}", kind.name());
        }
    }
}
