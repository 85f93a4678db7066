//! The shape of the code, checked: no two modules depend on each other
//! (directly or round a circle), in the main crate and in each crate under
//! `crates/`; every file opens with a `//!` line saying what it owns; and
//! `src/lib.rs` names every module it declares.
//!
//! A module depends on another when its code (tests excluded) names an item
//! of it: `crate::x::…`, `super::…`, or a child's `x::…`. A parent that only
//! declares its children (`mod x;`) and re-exports them (`pub use x::…;`)
//! does not depend on them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Every `.rs` file under `dir` with its module path (`store::apply`).
fn modules(dir: &Path) -> BTreeMap<String, PathBuf> {
    fn walk(dir: &Path, prefix: &[String], out: &mut BTreeMap<String, PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().to_string();
            if p.is_dir() {
                let mut pre = prefix.to_vec();
                pre.push(name);
                walk(&p, &pre, out);
            } else if let Some(stem) = name.strip_suffix(".rs") {
                let mut path = prefix.to_vec();
                match stem {
                    "lib" if prefix.is_empty() => {}
                    "main" | "build" if prefix.is_empty() => continue,
                    "mod" => {}
                    s => path.push(s.to_string()),
                }
                out.insert(path.join("::"), p);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, &[], &mut out);
    out
}

/// The code of a file that counts: comments, strings, tests and
/// declarations/re-exports taken out.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or("");
    let mut out = String::new();
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("//")
            || t.starts_with("pub use ")
            || t.starts_with("pub mod ")
            || t.starts_with("mod ")
            || t.starts_with("pub(crate) mod ")
        {
            continue;
        }
        // Strings may hold `::` (SQL, messages): drop what stands in quotes.
        let mut in_str = false;
        let mut prev = ' ';
        for c in line.chars() {
            if c == '"' && prev != '\\' {
                in_str = !in_str;
            } else if !in_str {
                out.push(c);
            }
            prev = c;
        }
        out.push('\n');
    }
    out
}

/// The paths a file's code names: `crate::a::b`, `super::c`, `child::d`,
/// with `{…}` groups of `use` expanded one level.
fn named_paths(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes: Vec<char> = code.chars().collect();
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut i = 0;
    while i < bytes.len() {
        if ident(bytes[i]) && (i == 0 || !(ident(bytes[i - 1]) || bytes[i - 1] == ':')) {
            let start = i;
            let mut path = String::new();
            let mut j = i;
            loop {
                while j < bytes.len() && ident(bytes[j]) {
                    path.push(bytes[j]);
                    j += 1;
                }
                if j + 1 < bytes.len() && bytes[j] == ':' && bytes[j + 1] == ':' {
                    j += 2;
                    if j < bytes.len() && bytes[j] == '{' {
                        let end = (j..bytes.len()).find(|&k| bytes[k] == '}').unwrap_or(j);
                        let group: String = bytes[j + 1..end].iter().collect();
                        for part in group.split(',') {
                            let part = part.trim().trim_start_matches("self");
                            let head: String = part
                                .chars()
                                .take_while(|c| ident(*c) || *c == ':')
                                .collect();
                            if head.is_empty() {
                                out.push(path.clone());
                            } else {
                                out.push(format!("{path}::{head}"));
                            }
                        }
                        j = end + 1;
                        path.clear();
                        break;
                    }
                    path.push_str("::");
                    continue;
                }
                break;
            }
            if path.contains("::") {
                out.push(path);
            }
            i = j.max(start + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// Which module of `known` a path named in module `from` means, if any.
fn resolve(from: &str, path: &str, known: &BTreeMap<String, PathBuf>) -> Option<String> {
    let mut segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
    let mut base: Vec<String> = if from.is_empty() {
        Vec::new()
    } else {
        from.split("::").map(str::to_string).collect()
    };
    match segs.first() {
        Some(&"crate") => {
            base.clear();
            segs.remove(0);
        }
        Some(&"super") => {
            while segs.first() == Some(&"super") {
                base.pop();
                segs.remove(0);
            }
        }
        Some(&"self") => {
            segs.remove(0);
        }
        Some(first) => {
            // A child of `from` named by its own name.
            let mut child = base.clone();
            child.push(first.to_string());
            if !known.contains_key(&child.join("::")) {
                return None;
            }
        }
        None => return None,
    }
    // The longest module prefix.
    let mut best = base.join("::");
    let mut cur = base;
    for s in segs {
        cur.push(s.to_string());
        let name = cur.join("::");
        if known.contains_key(&name) {
            best = name;
        } else {
            break;
        }
    }
    known.contains_key(&best).then_some(best)
}

/// The module graph of one crate: who depends on whom.
fn graph(dir: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let known = modules(dir);
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (m, file) in &known {
        let text = std::fs::read_to_string(file).unwrap();
        let deps = g.entry(m.clone()).or_default();
        for path in named_paths(&code(&text)) {
            if let Some(to) = resolve(m, &path, &known)
                && to != *m
            {
                deps.insert(to);
            }
        }
    }
    g
}

/// A circle in `g`, if there is one.
fn circle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for d in g.get(n).into_iter().flatten() {
            match state.get(d.as_str()).copied().unwrap_or(0) {
                1 => {
                    let at = stack.iter().position(|s| s == d).unwrap_or(0);
                    let mut c = stack[at..].to_vec();
                    c.push(d.clone());
                    return Some(c);
                }
                0 => {
                    if let Some(c) = visit(d, g, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in g.keys() {
        if state.get(n.as_str()).copied().unwrap_or(0) == 0 {
            let mut stack = Vec::new();
            if let Some(c) = visit(n, g, &mut state, &mut stack) {
                return Some(c);
            }
        }
    }
    None
}

fn crates() -> Vec<PathBuf> {
    let mut dirs = vec![Path::new(ROOT).join("src")];
    for e in std::fs::read_dir(Path::new(ROOT).join("crates"))
        .unwrap()
        .flatten()
    {
        dirs.push(e.path().join("src"));
    }
    dirs
}

#[test]
fn no_module_depends_on_one_that_depends_on_it() {
    // The checker sees the dependencies there are.
    let main = graph(&Path::new(ROOT).join("src"));
    assert!(main["store::apply"].contains("render"), "{main:?}");
    assert!(main["pipeline"].contains("store::messages"), "{main:?}");
    let commands = graph(&Path::new(ROOT).join("crates/commands/src"));
    assert!(commands["cmd"].contains("cmd::record"), "{commands:?}");
    assert!(
        commands["cmd::member_left"].contains("cmd::reported"),
        "{commands:?}"
    );
    let mut checked = 0;
    for dir in crates() {
        let g = graph(&dir);
        checked += g.len();
        if let Some(c) = circle(&g) {
            panic!("a circle in {}: {}", dir.display(), c.join(" -> "));
        }
    }
    assert!(checked > 50, "only {checked} modules were looked at");
}

#[test]
fn the_checker_sees_a_circle() {
    let mut g = BTreeMap::new();
    g.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    g.insert("b".to_string(), BTreeSet::from(["c".to_string()]));
    g.insert("c".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(circle(&g).unwrap(), ["a", "b", "c", "a"]);
    let known: BTreeMap<String, PathBuf> = ["", "store", "store::apply", "render", "cmd", "cmd::x"]
        .iter()
        .map(|m| (m.to_string(), PathBuf::new()))
        .collect();
    assert_eq!(
        resolve("store::apply", "crate::render::Renderer", &known).as_deref(),
        Some("render")
    );
    assert_eq!(
        resolve("store::apply", "super::ts", &known).as_deref(),
        Some("store")
    );
    assert_eq!(
        resolve("cmd", "x::Thing", &known).as_deref(),
        Some("cmd::x")
    );
    assert_eq!(resolve("cmd", "serde_json::json", &known), None);
    assert_eq!(
        named_paths("use crate::{a::B, c};\nlet x = super::d::e();"),
        ["crate::a::B", "crate::c", "super::d::e"]
    );
}

#[test]
fn every_file_says_what_it_owns_and_lib_names_every_module() {
    for dir in crates() {
        for (m, file) in modules(&dir) {
            let text = std::fs::read_to_string(&file).unwrap();
            assert!(
                text.trim_start().starts_with("//!"),
                "{} (module `{m}`) has no `//!` line saying what it owns",
                file.display()
            );
        }
        let lib = std::fs::read_to_string(dir.join("lib.rs")).unwrap();
        for line in lib.lines() {
            if let Some(name) = line
                .trim()
                .strip_prefix("pub mod ")
                .and_then(|n| n.strip_suffix(';'))
            {
                assert!(
                    lib.contains(&format!("[`{name}`]")) || lib.contains(&format!("`{name}`")),
                    "{}/lib.rs declares `{name}` but its map does not name it",
                    dir.display()
                );
            }
        }
    }
}
