//! Builds the list of templates compiled into the binary from the files
//! under `templates/`, so the built-in copies can never fall behind the
//! directory an admin edits.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut names: Vec<String> = Vec::new();
    for lang in std::fs::read_dir(&root).expect("templates/ is readable") {
        let lang = lang.expect("a directory entry");
        if !lang.path().is_dir() {
            continue;
        }
        println!("cargo:rerun-if-changed={}", lang.path().display());
        for f in std::fs::read_dir(lang.path()).expect("a language directory is readable") {
            let f = f.expect("a directory entry");
            let name = format!(
                "{}/{}",
                lang.file_name().to_string_lossy(),
                f.file_name().to_string_lossy()
            );
            if name.ends_with(".txt") || name.ends_with(".html") {
                println!("cargo:rerun-if-changed={}", f.path().display());
                names.push(name);
            }
        }
    }
    names.sort();
    let mut out = String::from(
        "/// The templates built into the binary: every file under `templates/`.\n\
         pub const EMBEDDED: &[(&str, &str)] = &[\n",
    );
    for n in &names {
        let _ = writeln!(
            out,
            "    ({n:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/templates/{n}\"))),"
        );
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR is set")).join("templates.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}
