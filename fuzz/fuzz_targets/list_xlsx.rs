//! Fuzz target `list_xlsx`: runs postbud_core::fuzzing::list_xlsx, the body shared with
//! crates/core/tests/fuzz_corpus.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(init: postbud_fuzz::init("list_xlsx"), |data: &[u8]| {
    postbud_fuzz::run(data, postbud_core::fuzzing::list_xlsx)
});
