//! Templates are a checked contract: one test renders every template in nb,
//! nn, da and en, with the values the code gives it.
//!
//! `tests/templates/examples.json` holds, for every template, one or more
//! sets of variables built the way the commands build them (`cx.reply`,
//! `Reply::new`, `rule::refused`, …), with `pending_refs` as `apply` adds
//! it; the renderer adds `org`, `org_address` and `ref`. Every set is
//! rendered, text and HTML, with the built-in templates, and every text is
//! a snapshot (`it__templates__<template>_<example>_<lang>.snap`).
//! Templates only included by others (`help-list`) are checked through
//! the templates that include them. An example marked `known_bug` is what
//! the code builds today for a template that cannot render it: it must keep
//! failing with an undefined value until the code is fixed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use postbud::commands::Language;
use postbud::render::Renderer;
use serde::Deserialize;

/// The reference every mail is rendered under.
const REFERENCE: &str = "PB-2026-000042";

/// Templates rendered as text only, not as mail (see src/letters.rs).
const TEXT_ONLY: &[&str] = &["letter-deductions", "letter-new-rep"];

/// Files under a language directory that are not templates of their own.
const LAYOUT: &str = "layout.html";

/// One set of variables for a template, and which code path builds it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Example {
    case: String,
    vars: serde_json::Value,
    /// The code builds these variables, but the template needs one they
    /// lack, and the fix belongs in the code (named here). The example must
    /// fail with an undefined value in every language until it is fixed;
    /// then the vars and this note are updated.
    #[serde(default)]
    known_bug: Option<String>,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// The examples, by template name.
fn examples() -> BTreeMap<String, Vec<Example>> {
    let path = root().join("tests/templates/examples.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every template file: name (without `.txt`) -> the languages it is in.
fn templates() -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for lang in std::fs::read_dir(root().join("templates")).unwrap() {
        let lang = lang.unwrap();
        if !lang.path().is_dir() {
            continue;
        }
        let code = lang.file_name().to_string_lossy().to_string();
        for f in std::fs::read_dir(lang.path()).unwrap() {
            let name = f.unwrap().file_name().to_string_lossy().to_string();
            if name == LAYOUT {
                out.entry(name).or_default().insert(code.clone());
            } else if let Some(stem) = name.strip_suffix(".txt") {
                out.entry(stem.to_string())
                    .or_default()
                    .insert(code.clone());
            } else if let Some(stem) = name.strip_suffix(".html")
                && lang.path().join(format!("{stem}.txt")).is_file()
            {
                // The HTML part of `<stem>.txt`, rendered and checked with it.
            } else {
                panic!(
                    "templates/{code}/{name} is neither a .txt template, nor a .txt's .html part, nor {LAYOUT}"
                );
            }
        }
    }
    out
}

/// The template source of `name` in `lang`.
fn source(lang: &str, name: &str) -> String {
    std::fs::read_to_string(root().join(format!("templates/{lang}/{name}.txt"))).unwrap()
}

/// The templates `{% include %}`d by others, with the file that includes
/// them; an include must stay within its own language.
fn included() -> BTreeMap<String, String> {
    let re = regex::Regex::new(r#"\{%-?\s*include\s+"([^"]+)"\s*-?%\}"#).unwrap();
    let mut out = BTreeMap::new();
    for (name, langs) in templates() {
        if name == LAYOUT {
            continue;
        }
        for lang in &langs {
            for cap in re.captures_iter(&source(lang, &name)) {
                let target = &cap[1];
                let (tl, tn) = target.split_once('/').unwrap_or(("", target));
                assert_eq!(
                    tl, lang,
                    "templates/{lang}/{name}.txt includes `{target}`, outside its language"
                );
                let tn = tn.strip_suffix(".txt").unwrap_or(tn).to_string();
                out.entry(tn).or_insert_with(|| name.clone());
            }
        }
    }
    out
}

fn languages() -> [(Language, &'static str); 4] {
    Language::ALL.map(|l| (l, l.code()))
}

#[test]
fn every_template_has_examples_and_every_example_a_template() {
    let templates = templates();
    let examples = examples();
    let included = included();
    let mut problems = Vec::new();
    for name in templates.keys().filter(|n| *n != LAYOUT) {
        match (examples.get(name), included.get(name)) {
            (Some(list), _) if list.is_empty() => {
                problems.push(format!("`{name}` has an empty list of examples"))
            }
            (Some(_), _) => {}
            (None, Some(by)) if examples.contains_key(by) => {}
            (None, Some(by)) => problems.push(format!(
                "`{name}` is only included by `{by}`, which has no examples"
            )),
            (None, None) => problems.push(format!(
                "templates/*/{name}.txt has no example in tests/templates/examples.json"
            )),
        }
    }
    for name in examples.keys() {
        if !templates.contains_key(name) || name == LAYOUT {
            problems.push(format!(
                "examples.json names `{name}`, but there is no templates/*/{name}.txt"
            ));
        }
    }
    for (name, list) in &examples {
        for (i, e) in list.iter().enumerate() {
            if !e.vars.is_object() {
                problems.push(format!(
                    "{name} example {i} ({}): vars is not an object",
                    e.case
                ));
            }
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn every_template_is_in_every_language() {
    let all: BTreeSet<String> = languages().iter().map(|(_, c)| c.to_string()).collect();
    let mut problems = Vec::new();
    for (name, langs) in templates() {
        if !all.is_subset(&langs) || !langs.is_subset(&all) {
            let missing: Vec<_> = all.difference(&langs).cloned().collect();
            let extra: Vec<_> = langs.difference(&all).cloned().collect();
            problems.push(format!(
                "`{name}` is missing in [{}]{}",
                missing.join(", "),
                if extra.is_empty() {
                    String::new()
                } else {
                    format!(" and is in unknown languages [{}]", extra.join(", "))
                }
            ));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// One example rendered: what the snapshot holds.
fn render(
    r: &Renderer,
    lang: Language,
    name: &str,
    vars: &serde_json::Value,
) -> anyhow::Result<String> {
    if TEXT_ONLY.contains(&name) {
        return r.text(lang, name, vars);
    }
    let out = r.render(lang, name, REFERENCE, vars)?;
    anyhow::ensure!(
        out.html.contains("<p>") && out.html.contains(REFERENCE),
        "the HTML part has no paragraphs or no reference:\n{}",
        out.html
    );
    anyhow::ensure!(
        !out.html.contains("{{") && !out.html.contains("{%"),
        "template syntax left in the HTML part:\n{}",
        out.html
    );
    Ok(match out.subject {
        Some(s) => format!("Subject: {s}\n\n{}", out.text),
        None => out.text,
    })
}

/// What no reply may hold, whatever the template.
fn flaws(name: &str, lang: Language, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for bad in ["{{", "}}", "{%", "%}", "{#"] {
        if text.contains(bad) {
            out.push(format!("template syntax `{bad}` left in the text"));
        }
    }
    if !TEXT_ONLY.contains(&name) && text.contains("\n\n\n") {
        out.push("two blank lines in a row".into());
    }
    for empty in ["«»", "»«", "\"\"", "()", " ,", " .", " :"] {
        if text.contains(empty) {
            out.push(format!("an empty value: `{empty}`"));
        }
    }
    // minijinja prints a null as `None`; English has the word `none` itself.
    let none = regex::Regex::new(if lang == Language::En {
        r"\bNone\b"
    } else {
        r"(?i)\bnone\b"
    })
    .unwrap();
    if none.is_match(text) {
        out.push("a null printed as `None`".into());
    }
    out
}

#[test]
fn every_example_renders_in_every_language() {
    let r = Renderer::new(None, "Forbundet", "post@forbund.example");
    let examples = examples();
    let mut rendered = Vec::new();
    let mut failures = Vec::new();
    for (name, list) in &examples {
        for (i, e) in list.iter().enumerate() {
            for (lang, code) in languages() {
                let at = format!("{name} [{code}] example {i} ({})", e.case);
                if let Some(bug) = &e.known_bug {
                    match render(&r, lang, name, &e.vars) {
                        Err(err) if format!("{err:#}").contains("undefined value") => {}
                        Err(err) => failures.push(format!("{at}: {err:#}")),
                        Ok(_) => failures.push(format!(
                            "{at}: renders now; the known bug ({bug}) is gone: update the example"
                        )),
                    }
                    continue;
                }
                match render(&r, lang, name, &e.vars) {
                    Ok(text) => {
                        for flaw in flaws(name, lang, &text) {
                            failures.push(format!("{at}: {flaw}:\n{text}"));
                        }
                        rendered.push((format!("{name}_{i}_{code}"), e.case.clone(), text));
                    }
                    Err(err) => failures.push(format!("{at}: {err:#}")),
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} renderings failed:\n\n{}",
        failures.len(),
        failures.len() + rendered.len(),
        failures.join("\n\n")
    );
    for (snapshot, case, text) in rendered {
        insta::with_settings!({ description => case, omit_expression => true }, {
            insta::assert_snapshot!(snapshot, text);
        });
    }
}
