//! postbud's pure core: bytes of a message in, facts about it out. No I/O,
//! no clock, no database, no async: everything here is a function of its
//! arguments, so it is tested case by case and fuzzed.
//!
//! # Layout
//! - [`message`]: raw bytes -> [`message::Incoming`] (mail-parser): sender,
//!   subject, body text without quoted replies, charsets, HTML, attachments,
//!   `Authentication-Results`, delivery status reports, the message identity.
//! - [`classify`]: [`message::Incoming`] -> [`classify::Kind`], SPEC section 4.
//! - [`registration`]: registration strings, SPEC section 6: find, rejoin, verify.
//! - [`lists`]: deduction lists, SPEC section 8: a spreadsheet or text file
//!   -> its header, lines (ids, birth dates, amounts, periods) and problems.
//!
//! - [`auth`]: `Authentication-Results` headers and sender trust.
//! - [`mime`]: how deep a message's parts nest, before it is parsed.
//!
//! Private helpers of [`message`]: `headers` (raw header fields with their
//! byte spans), `text` (normalising, HTML to text, `format=flowed`, quoted
//! replies), `dsn` (delivery status fields).
//!
//! `fuzzing` (hidden): the fuzz targets' bodies, shared by `fuzz/` and the
//! corpus test.

pub mod auth;
pub mod classify;
mod dsn;
#[doc(hidden)]
pub mod fuzzing;
mod headers;
pub mod lists;
pub mod message;
pub mod mime;
pub mod registration;
mod text;
