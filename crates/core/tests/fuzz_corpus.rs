//! The fuzz corpus as a test: every file kept under `fuzz/corpus/<target>/`
//! and `fuzz/regressions/<target>/` is fed through the same function the
//! cargo-fuzz target calls (`postbud_core::fuzzing`), on stable Rust and
//! without libFuzzer. Fuzzing itself is `fuzz/run.sh` (nightly, by hand).

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::{Duration, Instant};

use postbud_core::fuzzing::TARGETS;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// The files directly in `dir`, sorted; none when it does not exist.
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    paths
}

thread_local! {
    /// A panic in postbud's own code on this thread, even one postbud
    /// caught (`lists::read` runs its row code under `catch_unwind`).
    static OWN_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Notes panics outside dependencies, as the fuzz targets' hook does
/// (`fuzz/src/lib.rs`): a dependency's panic that postbud catches on
/// purpose (calamine, html2text, mail-parser) is no failure.
fn watch_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let place = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()))
                .unwrap_or_default();
            if !place.contains("/registry/src/") && !place.contains("/git/checkouts/") {
                OWN_PANIC.with(|p| *p.borrow_mut() = Some(format!("{place}: {info}")));
            }
            previous(info);
        }));
    });
}

/// Runs every file of `kind` (`corpus` or `regressions`) through its
/// target; the number of inputs per target.
fn run(kind: &str) -> Vec<(&'static str, usize)> {
    watch_panics();
    let mut counts = Vec::new();
    for &(name, target) in TARGETS {
        let mut n = 0;
        for path in files(&fuzz_dir().join(kind).join(name)) {
            let data = std::fs::read(&path).expect("readable input");
            let start = Instant::now();
            OWN_PANIC.with(|p| p.borrow_mut().take());
            let result = std::panic::catch_unwind(|| target(&data));
            let own = OWN_PANIC.with(|p| p.borrow_mut().take());
            assert!(
                result.is_ok() && own.is_none(),
                "target `{name}` panicked on {}: {}",
                path.display(),
                own.unwrap_or_default()
            );
            // Generous for an unoptimised build; the fuzzer's limit is 10 s.
            let took = start.elapsed();
            assert!(
                took < Duration::from_secs(60),
                "target `{name}` took {took:?} on {}",
                path.display()
            );
            n += 1;
        }
        counts.push((name, n));
    }
    counts
}

#[test]
fn every_target_has_a_fuzz_target_file() {
    for (name, _) in TARGETS {
        let file = fuzz_dir().join("fuzz_targets").join(format!("{name}.rs"));
        assert!(file.is_file(), "no {}", file.display());
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.contains(&format!("postbud_core::fuzzing::{name})")),
            "{} does not call postbud_core::fuzzing::{name}",
            file.display()
        );
    }
}

#[test]
fn the_corpus_runs_clean() {
    let counts = run("corpus");
    for (name, n) in &counts {
        assert!(
            *n > 0,
            "no corpus for target `{name}` in fuzz/corpus/{name}"
        );
    }
}

#[test]
fn the_regressions_run_clean() {
    // Every input the fuzzer found a bug with, kept after the fix.
    let counts = run("regressions");
    assert!(
        counts.iter().map(|(_, n)| n).sum::<usize>() > 0,
        "no regression inputs under fuzz/regressions"
    );
}
