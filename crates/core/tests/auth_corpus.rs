//! Sender trust (SPEC section 10) against an independent implementation:
//! `tests/data/auth-results.json` holds `Authentication-Results` headers,
//! From addresses and trusted ids with the verdict computed by
//! `tests/data/make_auth_corpus.py` (Python's authres for the grammar,
//! publicsuffixlist for organisational domains; RFC 8601 overrules authres
//! where they differ, and those cases carry a `note`). Every case goes
//! through `auth::parse` and `auth::verified`; all disagreements are listed.

use postbud_core::auth::{AuthResults, parse, verified};
use serde_json::Value;

#[test]
fn agrees_with_the_python_corpus() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/auth-results.json");
    let text = std::fs::read_to_string(path).expect("auth-results.json");
    let corpus: Value = serde_json::from_str(&text).expect("valid JSON");
    let cases = corpus["cases"].as_array().expect("cases");

    let mut ran = 0;
    let mut wrong = Vec::new();
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let headers: Vec<&str> = case["headers"]
            .as_array()
            .expect("headers")
            .iter()
            .map(|h| h.as_str().expect("header"))
            .collect();
        let from = case["from"].as_str().expect("from");
        let trusted = case["trusted_id"].as_str();
        let expected = case["verified"].as_bool().expect("verified");

        let results: Vec<AuthResults> = headers.iter().map(|h| parse(h)).collect();
        let got = verified(&results, from, trusted);
        ran += 1;
        if got != expected {
            let note = case["note"].as_str().unwrap_or("");
            wrong.push(format!(
                "{name}: expected {expected}, got {got}\n    from {from:?}, trusted {trusted:?}\n    \
                 headers {headers:?}\n    parsed {results:?}\n    {note}"
            ));
        }
    }
    assert!(ran > 200, "only {ran} cases");
    assert!(
        wrong.is_empty(),
        "{} of {ran} cases disagree:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
