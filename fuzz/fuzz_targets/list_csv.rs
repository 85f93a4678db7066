//! Fuzz target `list_csv`: runs postbud_core::fuzzing::list_csv, the body shared with
//! crates/core/tests/fuzz_corpus.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(init: postbud_fuzz::init("list_csv"), |data: &[u8]| {
    postbud_fuzz::run(data, postbud_core::fuzzing::list_csv)
});
