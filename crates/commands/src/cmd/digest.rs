//! `DIGEST` [DIGEST] (SPEC section 5, Admins): the digest now, to the admin
//! who asks (the daily job mails every admin; see `jobs::digest`).

use anyhow::Result;

use crate::cx::Cx;
use crate::decide::Decide;
use crate::jobs::digest;
use crate::plan::{Outcome, Plan};
use crate::register::{DigestFigures, Register};

/// `DIGEST`
#[derive(Debug)]
pub struct Digest;

impl Decide for Digest {
    type Reads = DigestFigures;

    fn read(&self, reg: &dyn Register, cx: &Cx<'_>) -> Result<DigestFigures> {
        reg.digest(cx.now)
    }

    fn decide(&self, cx: &mut Cx<'_>, f: DigestFigures) -> Plan {
        Plan::reply(
            digest::KIND,
            Outcome::Ok,
            cx.reply("digest", digest::vars(&f, cx)),
        )
    }
}
