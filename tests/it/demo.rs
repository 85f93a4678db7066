//! `postbud demo` as a newcomer runs it: the binary, a fresh directory, the
//! account it prints, and the files it says to open.

use std::process::Command;

#[test]
fn the_demo_tells_the_whole_day_and_its_files_open() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("postbud-demo");
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_postbud"))
            .args(["demo", "--dir"])
            .arg(&demo)
            .env_remove("POSTBUD_NOW")
            .env_remove("POSTBUD_CONFIG")
            .output()
            .expect("run postbud demo")
    };
    let out = run();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for shown in [
        "Øystein Ærø-Åsen (Bergen): registrert som likeperson",
        "Kvittering for trekklisten fra Bedrift AS",
        "linje 42: ugyldig fødselsnummer",
        "stilling: Operatør -> Fagarbeider (venter på behandling)",
        "basic insurance",
        "er angret og blir ikke gjennomført",
        "Daglig sammendrag",
        "Stopp trekk for:",
        "quarantined for an admin",
        "seen before: not handled again",
    ] {
        assert!(text.contains(shown), "{shown:?} is not in:\n{text}");
    }
    // The files it names are there and open as what they claim to be.
    let attachments = demo.join("attachments");
    let named = |suffix: &str| {
        std::fs::read_dir(&attachments)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().ends_with(suffix))
            .unwrap_or_else(|| panic!("no {suffix} in {}", attachments.display()))
    };
    let pdf = named("kontingenttrekk-923609016-brev-1.pdf");
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF"));
    assert!(text.contains(&pdf.display().to_string()));
    let xlsx = named("medlemmer.xlsx");
    assert!(std::fs::read(&xlsx).unwrap().starts_with(b"PK"));
    let html = named(".html");
    assert!(std::fs::read_to_string(&html).unwrap().contains("<html"));

    // The same story each time, and a second run replaces the first.
    let again = run();
    assert!(again.status.success());
    let shown = |t: &str| t.replace(&demo.display().to_string(), "DEMO");
    assert_eq!(shown(&String::from_utf8_lossy(&again.stdout)), shown(&text));
    insta::assert_snapshot!("demo", shown(&text));

    // It never overwrites a directory it did not make.
    let other = dir.path().join("mine");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("notes.txt"), "mine").unwrap();
    let refused = Command::new(env!("CARGO_BIN_EXE_postbud"))
        .args(["demo", "--dir"])
        .arg(&other)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(other.join("notes.txt").exists());
}
