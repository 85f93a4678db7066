//! Fuzz target `message`: runs postbud_core::fuzzing::message, the body shared with
//! crates/core/tests/fuzz_corpus.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(init: postbud_fuzz::init("message"), |data: &[u8]| {
    postbud_fuzz::run(data, postbud_core::fuzzing::message)
});
