//! What every fuzz target shares: running a body from
//! `postbud_core::fuzzing` and telling a panic that escapes postbud (a
//! finding: the process aborts and libFuzzer saves the input) from a panic
//! inside a dependency that postbud catches on purpose (calamine, html2text
//! and mail-parser are run under `catch_unwind`, and their panics become
//! "unreadable"): that one is noted once per place, with its input saved as
//! `dependency-panic-*` beside the artifacts, and fuzzing goes on.
//!
//! A panic whose location is in postbud's own code aborts at once, even
//! when postbud would catch it (`lists::read` runs its own row code under
//! `catch_unwind` too, and a bug there must not pass as an unreadable file).

use std::cell::RefCell;
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::panic::PanicHookInfo;
use std::sync::Mutex;

thread_local! {
    /// The input being run, for the panic hook to save.
    static INPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Places of dependency panics already noted.
static NOTED: Mutex<Option<HashSet<String>>> = Mutex::new(None);

/// Installs the panic hook; call from `fuzz_target!(init: ...)`, after
/// libfuzzer-sys installed its own (print, then abort), which it wraps.
pub fn init(target: &'static str) {
    let abort_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info: &PanicHookInfo<'_>| {
        let place = info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
            .unwrap_or_default();
        if !in_dependency(&place) {
            abort_hook(info);
            return;
        }
        let first = NOTED
            .lock()
            .map(|mut noted| noted.get_or_insert_with(HashSet::new).insert(place.clone()))
            .unwrap_or(false);
        if first {
            let saved = save(target, &place);
            eprintln!(
                "postbud-fuzz: a panic in a dependency, caught by postbud: {place}: {} \
                 (input saved as {saved})",
                message(info)
            );
        }
    }));
}

/// Runs `body` on `data`; a panic that gets out of it aborts.
pub fn run(data: &[u8], body: fn(&[u8])) {
    INPUT.with(|input| {
        let mut input = input.borrow_mut();
        input.clear();
        input.extend_from_slice(data);
    });
    if std::panic::catch_unwind(|| body(data)).is_err() {
        eprintln!("postbud-fuzz: a panic got out of postbud (see above)");
        std::process::abort();
    }
}

/// A location in a crate from the registry (or git), not in postbud or std.
fn in_dependency(place: &str) -> bool {
    place.contains("/registry/src/") || place.contains("/git/checkouts/")
}

fn message(info: &PanicHookInfo<'_>) -> String {
    let payload = info.payload();
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// Saves the current input as `dependency-panic-<hash of place>` in the
/// artifact directory (libFuzzer's `-artifact_prefix`, else
/// `artifacts/<target>/`).
fn save(target: &str, place: &str) -> String {
    let prefix = std::env::args()
        .find_map(|a| a.strip_prefix("-artifact_prefix=").map(str::to_string))
        .unwrap_or_else(|| format!("artifacts/{target}/"));
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    place.hash(&mut hasher);
    let path = format!("{prefix}dependency-panic-{:016x}", hasher.finish());
    let written = INPUT.with(|input| std::fs::write(&path, &*input.borrow()));
    match written {
        Ok(()) => path,
        Err(e) => format!("nowhere ({path}: {e})"),
    }
}
