//! Fuzz target `list_xls`: runs postbud_core::fuzzing::list_xls, the body shared with
//! crates/core/tests/fuzz_corpus.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(init: postbud_fuzz::init("list_xls"), |data: &[u8]| {
    postbud_fuzz::run(data, postbud_core::fuzzing::list_xls)
});
