//! The command line's own documentation: shell completions and manual pages
//! come from the same definition as the commands, so they list every one.

use std::process::Command;

fn postbud(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_postbud"))
        .args(args)
        .output()
        .expect("run postbud");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn completions_and_manual_pages_cover_every_command() {
    for shell in ["bash", "zsh", "fish"] {
        let script = postbud(&["completions", shell]);
        for word in ["outbox", "resend", "jobs", "dry-run", "person"] {
            assert!(script.contains(word), "{shell}: {word}");
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let said = postbud(&["man", dir.path().to_str().unwrap()]);
    assert!(said.contains("manual pages"), "{said}");
    let page = |name: &str| {
        std::fs::read_to_string(dir.path().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    assert!(page("postbud.1").contains(".TH postbud 1"));
    assert!(page("postbud-import.1").contains("dry\\-run"));
    assert!(page("postbud-outbox-resend.1").contains("outbox list"));
    assert!(page("postbud-jobs-run.1").contains("letters, reminders, digest or retention"));
}
