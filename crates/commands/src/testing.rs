//! What unit tests of decisions share: a pinned time, fixed randomness, and
//! registers made of plain values.

use anyhow::{Result, bail};
use chrono::{DateTime, NaiveDate, Utc};
use postbud_core::registration::Found;

use crate::facts::{Fresh, Scope};
use crate::register::*;

/// 2026-11-20 08:00 UTC.
pub fn now() -> DateTime<Utc> {
    "2026-11-20T08:00:00Z".parse().unwrap()
}

/// Always the code 123456 and the salt "salt".
pub struct Fixed;

impl Fresh for Fixed {
    fn code(&mut self) -> String {
        "123456".into()
    }
    fn salt(&mut self) -> String {
        "salt".into()
    }
}

/// A register any read from fails the test: for commands that read nothing.
pub struct NoRegister;

/// A register of plain values: each query returns its field.
#[derive(Default)]
pub struct Values {
    pub peers: Vec<PeerBrief>,
    pub members: MembersInScope,
    pub pending: Option<PendingBrief>,
    pub registrations: Vec<RegistrationCheck>,
    pub contacts: Vec<ContactBrief>,
    pub submitted: Vec<Submitted>,
    pub employer_members: Vec<(i64, PersonRef)>,
    pub submission: SubmissionReads,
    pub codes: Vec<StoredCode>,
    pub raw: Option<Vec<u8>>,
    pub guard: CodeGuard,
    pub person: Option<PersonDetail>,
    /// The owner of any address not in `owners`.
    pub owner: Option<i64>,
    pub owners: Vec<(&'static str, i64)>,
    /// Live codes of purpose `link` (`codes` are every other purpose's).
    pub link_codes: Vec<StoredCode>,
    pub employers: Vec<EmployerRef>,
    pub workplaces: Vec<WorkplaceBrief>,
    pub reps: Vec<RepBrief>,
    pub pending_of: Vec<PendingRow>,
    pub data: PersonData,
    pub units: Vec<UnitBrief>,
    pub digest: DigestFigures,
    pub letters: Vec<LetterRow>,
}

impl Register for Values {
    fn peers(&self, _: &Scope) -> Result<Vec<PeerBrief>> {
        Ok(self.peers.clone())
    }
    fn members(&self, _: &Scope) -> Result<MembersInScope> {
        Ok(self.members.clone())
    }
    fn pending(&self, _: &str, _: NaiveDate) -> Result<Option<PendingBrief>> {
        Ok(self.pending.clone())
    }
    fn registrations(&self, _: &Scope, _: &[Found]) -> Result<Vec<RegistrationCheck>> {
        Ok(self.registrations.clone())
    }
    fn contacts(&self, _: &[i64]) -> Result<Vec<ContactBrief>> {
        Ok(self.contacts.clone())
    }
    fn submitted(&self, _: &[i64], _: DateTime<Utc>) -> Result<Vec<Submitted>> {
        Ok(self.submitted.clone())
    }
    fn employer_members(&self, _: &[i64]) -> Result<Vec<(i64, PersonRef)>> {
        Ok(self.employer_members.clone())
    }
    fn submission(&self, _: i64, _: &str, _: &[&str]) -> Result<SubmissionReads> {
        Ok(self.submission.clone())
    }
    fn live_codes(&self, _: &str, purpose: &str, _: DateTime<Utc>) -> Result<Vec<StoredCode>> {
        Ok(if purpose == "link" {
            self.link_codes.clone()
        } else {
            self.codes.clone()
        })
    }
    fn message_raw(&self, _: i64) -> Result<Option<Vec<u8>>> {
        Ok(self.raw.clone())
    }
    fn code_guard(&self, _: &str, _: &str, _: DateTime<Utc>) -> Result<CodeGuard> {
        Ok(self.guard)
    }
    fn units(&self, _: &Scope) -> Result<Vec<UnitBrief>> {
        Ok(self.units.clone())
    }
    fn digest(&self, _: DateTime<Utc>) -> Result<DigestFigures> {
        Ok(self.digest.clone())
    }
    fn letters(&self, _: &[i64], _: DateTime<Utc>) -> Result<Vec<LetterRow>> {
        Ok(self.letters.clone())
    }
    fn person(&self, _: i64) -> Result<Option<PersonDetail>> {
        Ok(self.person.clone())
    }
    fn address_owner(&self, email: &str) -> Result<Option<i64>> {
        Ok(self
            .owners
            .iter()
            .find(|(e, _)| *e == email)
            .map(|(_, id)| *id)
            .or(self.owner))
    }
    fn employers_named(&self, _: &str) -> Result<Vec<EmployerRef>> {
        Ok(self.employers.clone())
    }
    fn workplaces(&self, _: i64) -> Result<Vec<WorkplaceBrief>> {
        Ok(self.workplaces.clone())
    }
    fn reps_of(&self, _: &PersonDetail, _: NaiveDate) -> Result<Vec<RepBrief>> {
        Ok(self.reps.clone())
    }
    fn pending_of(&self, _: i64) -> Result<Vec<PendingRow>> {
        Ok(self.pending_of.clone())
    }
    fn person_data(&self, _: i64, _: DateTime<Utc>) -> Result<PersonData> {
        Ok(self.data.clone())
    }
}

impl Register for NoRegister {
    fn peers(&self, _: &Scope) -> Result<Vec<PeerBrief>> {
        bail!("read peers")
    }
    fn members(&self, _: &Scope) -> Result<MembersInScope> {
        bail!("read members")
    }
    fn pending(&self, _: &str, _: NaiveDate) -> Result<Option<PendingBrief>> {
        bail!("read pending")
    }
    fn registrations(&self, _: &Scope, _: &[Found]) -> Result<Vec<RegistrationCheck>> {
        bail!("read registrations")
    }
    fn contacts(&self, _: &[i64]) -> Result<Vec<ContactBrief>> {
        bail!("read contacts")
    }
    fn submitted(&self, _: &[i64], _: DateTime<Utc>) -> Result<Vec<Submitted>> {
        bail!("read submitted")
    }
    fn employer_members(&self, _: &[i64]) -> Result<Vec<(i64, PersonRef)>> {
        bail!("read employer members")
    }
    fn submission(&self, _: i64, _: &str, _: &[&str]) -> Result<SubmissionReads> {
        bail!("read submission")
    }
    fn live_codes(&self, _: &str, _: &str, _: DateTime<Utc>) -> Result<Vec<StoredCode>> {
        bail!("read codes")
    }
    fn message_raw(&self, _: i64) -> Result<Option<Vec<u8>>> {
        bail!("read a message")
    }
    fn code_guard(&self, _: &str, _: &str, _: DateTime<Utc>) -> Result<CodeGuard> {
        Ok(CodeGuard::default())
    }
    fn units(&self, _: &Scope) -> Result<Vec<UnitBrief>> {
        bail!("read units")
    }
    fn digest(&self, _: DateTime<Utc>) -> Result<DigestFigures> {
        bail!("read the digest")
    }
    fn letters(&self, _: &[i64], _: DateTime<Utc>) -> Result<Vec<LetterRow>> {
        bail!("read letters")
    }
    fn person(&self, _: i64) -> Result<Option<PersonDetail>> {
        bail!("read a person")
    }
    fn address_owner(&self, _: &str) -> Result<Option<i64>> {
        bail!("read an address")
    }
    fn employers_named(&self, _: &str) -> Result<Vec<EmployerRef>> {
        bail!("read employers")
    }
    fn workplaces(&self, _: i64) -> Result<Vec<WorkplaceBrief>> {
        bail!("read workplaces")
    }
    fn reps_of(&self, _: &PersonDetail, _: NaiveDate) -> Result<Vec<RepBrief>> {
        bail!("read reps")
    }
    fn pending_of(&self, _: i64) -> Result<Vec<PendingRow>> {
        bail!("read pending changes")
    }
    fn person_data(&self, _: i64, _: DateTime<Utc>) -> Result<PersonData> {
        bail!("read a person's data")
    }
}

/// Decides `command` for `facts` with the test settings, fixed time and
/// randomness, reading through `reg`.
pub fn decide(
    command: &crate::cmd::Command,
    facts: &crate::facts::Facts,
    reg: &dyn Register,
) -> crate::plan::Plan {
    let s = crate::facts::Settings::for_tests();
    let mut cx = crate::cx::Cx {
        facts,
        settings: &s,
        now: now(),
        fresh: &mut Fixed,
    };
    command.decide(reg, &mut cx).unwrap()
}

/// A sender known as a person, with the roles given.
pub fn sender(
    email: &str,
    rep: bool,
    contact: bool,
    admin: bool,
    verified: bool,
) -> crate::facts::Facts {
    crate::facts::Facts {
        sender: email.into(),
        person: Some(crate::facts::Person {
            id: 1,
            name: "Kari Nordmann".into(),
            language: None,
            member: true,
        }),
        is_rep: rep,
        is_contact: contact,
        is_admin: admin,
        verified,
        scope: if rep {
            Scope {
                units: vec![1],
                ..Scope::default()
            }
        } else {
            Scope::default()
        },
        employers: if contact {
            vec![crate::facts::EmployerBrief {
                id: 1,
                orgnr: "923609016".into(),
                name: "Bedrift AS".into(),
                declared: Some("2026-01-01".into()),
            }]
        } else {
            Vec::new()
        },
        ..Default::default()
    }
}

/// A message from `from` with `subject` and `body`, read as postbud reads it.
pub fn command(from: &str, subject: &str, body: &str) -> crate::cmd::Command {
    let raw = format!(
        "From: {from}\r\nTo: post@forbund.example\r\nSubject: {subject}\r\nMessage-ID: <t@example.no>\r\n\r\n{body}\r\n"
    );
    crate::cmd::read(
        &crate::facts::Settings::for_tests(),
        raw.as_bytes(),
        now().date_naive(),
    )
    .unwrap()
    .command
}
