//! The [`Command`] enum: what a message asks for, parsed once from its
//! classification with every argument it carries ([`Command::parse`]), the
//! rule of who may use it ([`Command::rule`]), and the one dispatch that
//! reads what it needs from the register and decides ([`Command::decide`]).
//! One file per command; adding one is a file, a variant here, the arms of
//! the matches below (the compiler lists them), a register query if it
//! reads something new, and its templates.

pub mod activity;
pub mod code;
pub mod confirm;
pub mod contact;
pub mod contacts;
pub mod decision;
pub mod digest;
pub mod help;
pub mod letters;
pub mod link;
pub mod member_left;
pub mod member_missing;
pub mod member_moved;
pub mod my_data;
pub mod my_members;
pub mod my_peers;
pub mod my_reps;
pub mod new_rep;
pub mod record;
pub mod registration;
pub mod reported;
pub mod resign;
pub mod status;
pub mod submission;
pub mod submitted;
pub mod support;
pub mod undo;
pub mod unlink;
pub mod update;
pub mod workplace;

use anyhow::{Result, anyhow, bail};
use chrono::NaiveDate;
use postbud_core::classify::{self, Keyword, Kind};
use postbud_core::message::{self, Incoming};

use crate::cx::Cx;
use crate::decide::run;
use crate::facts::Settings;
use crate::plan::{CodePurpose, Plan};
use crate::register::Register;
use crate::rule::{self, Audience, Rule, Trust};
use crate::words::fields;

/// What a message asks for.
#[derive(Debug)]
pub enum Command {
    /// Recorded, never answered (SPEC section 4, rule 1).
    Silent(record::Silent),
    /// A delivery status report: the failed addresses bounce.
    Bounce(record::Bounce),
    /// More attachments than allowed: nothing is read.
    TooManyAttachments(support::TooManyAttachments),
    /// `BEKREFT <code>` / `AKSEPTERER <code>`.
    Confirm(confirm::Confirm),
    /// `KODE`
    Code(code::Code),
    /// `HJELP`
    Help(help::Help),
    /// A support request, or a command the office handles by hand for now.
    Support(support::Support),
    /// `ENDRE`
    Update(update::Update),
    /// `MELD UT [date]`
    Resign(resign::Resign),
    /// `ANGRE <ref>`
    Undo(undo::Undo),
    /// `MINE TILLITSVALGTE`
    MyReps(my_reps::MyReps),
    /// `KOBLE <address>`
    Link(link::Link),
    /// `FJERN <address>`
    Unlink(unlink::Unlink),
    /// `MINE DATA`
    MyData(my_data::MyData),
    /// `AKTIVITET <year>`
    Activity(activity::Activity),
    /// `MINE MEDLEMMER`
    MyMembers(my_members::MyMembers),
    /// `MINE LIKEPERSONER`
    MyPeers(my_peers::MyPeers),
    /// `MEDLEM MANGLER`
    MemberMissing(member_missing::MemberMissing),
    /// `MEDLEM SLUTTET <member>`
    MemberLeft(member_left::MemberLeft),
    /// `MEDLEM FLYTTET <member>`
    MemberMoved(member_moved::MemberMoved),
    /// `ARBEIDSSTED NY | NYTT NAVN | AVSLUTT`
    Workplace(workplace::Workplace),
    /// `NY TILLITSVALGT`
    NewRep(new_rep::NewRep),
    /// Registration strings pasted by a rep.
    Registration(registration::Registration),
    /// Deduction lists attached by an employer contact.
    Submission(submission::Submission),
    /// `INNSENDTE`
    Submitted(submitted::Submitted),
    /// `STATUS`
    Status(status::Status),
    /// `BREV [nr]`
    Letters(letters::Letters),
    /// `DIGEST`
    Digest(digest::Digest),
    /// `KONTAKTER`
    Contacts(contacts::Contacts),
    /// `KONTAKT NY | ENDRE | DEAKTIVER | AKTIVER <address>`
    Contact(contact::Contact),
    /// `GODKJENN <ref>` / `AVVIS <ref> [reason]`
    Decision(decision::Decision),
}

impl Command {
    /// The command a classified message holds. Pure; reads attachments
    /// (deduction lists) and registration strings here, so the work is done
    /// before the register is touched.
    pub fn parse(kind: Kind, msg: &Incoming, s: &Settings, today: NaiveDate) -> Command {
        if msg.attachments.len() > s.max_attachments
            && !matches!(kind, Kind::Silent(_) | Kind::Bounce { .. })
        {
            return Command::TooManyAttachments(support::TooManyAttachments {
                count: msg.attachments.len(),
                limit: s.max_attachments,
            });
        }
        match kind {
            Kind::Silent(why) => Command::Silent(record::Silent(why)),
            Kind::Bounce { failed } => Command::Bounce(record::Bounce { failed }),
            Kind::Confirm { word, code } => Command::Confirm(confirm::Confirm { word, code }),
            Kind::Command {
                keyword,
                args,
                body,
            } => Command::from_keyword(keyword, args, body, msg),
            Kind::Registration => Command::Registration(registration::Registration {
                found: postbud_core::registration::find(
                    msg,
                    s.registration_secret.as_deref().map(str::as_bytes),
                ),
            }),
            Kind::Deduction => Command::Submission(submission::Submission::read(
                msg,
                &s.list_limits,
                s.max_rows_per_message,
                today,
            )),
            Kind::Support => Command::Support(support::Support::of(msg, "support")),
        }
    }

    fn from_keyword(keyword: Keyword, args: String, body: String, msg: &Incoming) -> Command {
        use Keyword as K;
        use workplace::What;
        let workplace = |what| {
            Command::Workplace(workplace::Workplace {
                what,
                name: args.clone(),
                fields: fields(&body),
            })
        };
        let contact = |what| Command::Contact(contact::Contact::parse(what, &args, &body));
        match keyword {
            K::Kode => Command::Code(code::Code),
            K::Hjelp => Command::Help(help::Help),
            K::Endre => Command::Update(update::Update::parse(&body)),
            K::MeldUt => Command::Resign(resign::Resign::parse(&args, &body)),
            K::Angre => Command::Undo(undo::Undo::parse(&args)),
            K::MineTillitsvalgte => Command::MyReps(my_reps::MyReps),
            K::Koble => Command::Link(link::Link::parse(&args)),
            K::Fjern => Command::Unlink(unlink::Unlink::parse(&args)),
            K::MineData => Command::MyData(my_data::MyData),
            K::Aktivitet => Command::Activity(activity::Activity::parse(&args, body)),
            K::MineMedlemmer => Command::MyMembers(my_members::MyMembers),
            K::MineLikepersoner => Command::MyPeers(my_peers::MyPeers),
            K::MedlemMangler => Command::MemberMissing(member_missing::MemberMissing {
                subject: msg.subject.clone(),
                fields: fields(&body),
                body,
            }),
            K::MedlemSluttet => Command::MemberLeft(member_left::MemberLeft {
                who: args,
                fields: fields(&body),
            }),
            K::MedlemFlyttet => Command::MemberMoved(member_moved::MemberMoved {
                who: args,
                fields: fields(&body),
            }),
            K::ArbeidsstedNy => workplace(What::New),
            K::ArbeidsstedNyttNavn => workplace(What::Rename),
            K::ArbeidsstedAvslutt => workplace(What::Close),
            K::NyTillitsvalgt => Command::NewRep(new_rep::NewRep {
                who: args,
                fields: fields(&body),
            }),
            K::Innsendte => Command::Submitted(submitted::Submitted),
            K::Status => Command::Status(status::Status {
                subject: msg.subject.clone(),
                body,
            }),
            K::Brev => Command::Letters(letters::Letters::parse(&args)),
            K::Kontakter => Command::Contacts(contacts::Contacts),
            K::KontaktNy => contact(contact::What::New),
            K::KontaktEndre => contact(contact::What::Edit),
            K::KontaktDeaktiver => contact(contact::What::Deactivate),
            K::KontaktAktiver => contact(contact::What::Activate),
            K::Godkjenn => Command::Decision(decision::Decision::parse(true, &args)),
            K::Avvis => Command::Decision(decision::Decision::parse(false, &args)),
            K::Digest => Command::Digest(digest::Digest),
        }
    }

    /// Who may use the command and whether it needs a verified sender.
    pub fn rule(&self) -> Rule {
        use Audience::{Admins, Anyone, Contacts, Registered, Reps};
        use Trust::{Open, Verified};
        match self {
            Command::Silent(_)
            | Command::Bounce(_)
            | Command::TooManyAttachments(_)
            | Command::Confirm(_)
            | Command::Code(_)
            | Command::Help(_)
            | Command::Support(_) => Rule::new(Anyone, Open),
            // A member's own data goes only to their registered address.
            Command::MyReps(_) | Command::MyData(_) => Rule::new(Registered, Open),
            Command::Update(_)
            | Command::Resign(_)
            | Command::Undo(_)
            | Command::Link(_)
            | Command::Unlink(_) => Rule::new(Registered, Verified),
            Command::Activity(_)
            | Command::MyMembers(_)
            | Command::MyPeers(_)
            | Command::MemberLeft(_)
            | Command::MemberMoved(_)
            | Command::Workplace(_)
            | Command::NewRep(_)
            | Command::Registration(_) => Rule::new(Reps, Verified),
            // A missing member is a ticket for the office: nothing changes yet.
            Command::MemberMissing(_) => Rule::new(Reps, Open),
            Command::Submission(_)
            | Command::Submitted(_)
            | Command::Status(_)
            | Command::Contacts(_)
            | Command::Contact(_) => Rule::new(Contacts, Verified),
            // The list names no one; a letter goes only to the contact's own
            // address, for an employer whose declaration they accepted.
            Command::Letters(_) => Rule::new(Contacts, Open),
            Command::Decision(_) | Command::Digest(_) => Rule::new(Admins, Verified),
        }
    }

    /// `X-Postbud-Kind` of the replies (SPEC section 9).
    pub fn kind(&self) -> &'static str {
        match self {
            Command::Silent(_) => "silent",
            Command::Bounce(_) => "bounce",
            Command::TooManyAttachments(_) | Command::Support(_) => "support",
            Command::Letters(_) => "letters",
            Command::Digest(_) => "digest",
            Command::Confirm(_) => "confirm",
            Command::Code(_) => "code",
            Command::Help(_) => "help",
            Command::Update(_) => "update",
            Command::Resign(_) => "resign",
            Command::Undo(_) => "undo",
            Command::MyReps(_) => "reps",
            Command::Link(_) => "link",
            Command::Unlink(_) => "unlink",
            Command::MyData(_) => "data",
            Command::Activity(_) => "activity",
            Command::MyMembers(_) => "members",
            Command::MyPeers(_) => "peers",
            Command::MemberMissing(_) => "member-missing",
            Command::MemberLeft(_) => "member-left",
            Command::MemberMoved(_) => "member-moved",
            Command::Workplace(_) => "workplace",
            Command::NewRep(_) => "new-rep",
            Command::Registration(_) => "registration",
            Command::Submission(_) => "submission",
            Command::Submitted(_) => "submitted",
            Command::Status(_) => "status",
            Command::Contacts(_) => "contacts",
            Command::Contact(_) => "contact",
            Command::Decision(d) => d.kind(),
        }
    }

    /// The word the sender wrote, as a refusal quotes it.
    pub fn word(&self) -> &'static str {
        use Keyword as K;
        match self {
            Command::Silent(_) | Command::Bounce(_) | Command::TooManyAttachments(_) => "",
            Command::Support(_) => "",
            Command::Confirm(c) => c.word(),
            Command::Code(_) => K::Kode.name(),
            Command::Help(_) => K::Hjelp.name(),
            Command::Update(_) => K::Endre.name(),
            Command::Resign(_) => K::MeldUt.name(),
            Command::Undo(_) => K::Angre.name(),
            Command::MyReps(_) => K::MineTillitsvalgte.name(),
            Command::Link(_) => K::Koble.name(),
            Command::Unlink(_) => K::Fjern.name(),
            Command::MyData(_) => K::MineData.name(),
            Command::Activity(_) => K::Aktivitet.name(),
            Command::MyMembers(_) => K::MineMedlemmer.name(),
            Command::MyPeers(_) => K::MineLikepersoner.name(),
            Command::MemberMissing(_) => K::MedlemMangler.name(),
            Command::MemberLeft(_) => K::MedlemSluttet.name(),
            Command::MemberMoved(_) => K::MedlemFlyttet.name(),
            Command::Workplace(w) => w.what.keyword().name(),
            Command::NewRep(_) => K::NyTillitsvalgt.name(),
            Command::Registration(_) => "REG1",
            Command::Submission(_) => "trekkliste",
            Command::Submitted(_) => K::Innsendte.name(),
            Command::Status(_) => K::Status.name(),
            Command::Letters(_) => K::Brev.name(),
            Command::Digest(_) => K::Digest.name(),
            Command::Contacts(_) => K::Kontakter.name(),
            Command::Contact(c) => c.what.keyword().name(),
            Command::Decision(d) => d.keyword().name(),
        }
    }

    /// Decides the command for the sender in `cx`: refused when the rule
    /// does not admit them, a code to confirm with when it needs a verified
    /// sender they are not, else what it reads is loaded through `reg` and
    /// the command decides.
    pub fn decide(&self, reg: &dyn Register, cx: &mut Cx<'_>) -> Result<Plan> {
        let rule = self.rule();
        if !rule.audience.admits(cx.facts) {
            return Ok(rule::not_allowed(
                cx,
                self.kind(),
                self.word(),
                rule.audience,
            ));
        }
        if rule.trust == Trust::Verified && !cx.facts.verified {
            return confirm::ask(reg, cx, self.kind(), self.word());
        }
        match self {
            Command::Silent(c) => run(c, reg, cx),
            Command::Bounce(c) => run(c, reg, cx),
            Command::TooManyAttachments(c) => run(c, reg, cx),
            // The one command that decides another: the message it confirms.
            Command::Confirm(c) => match c.check(reg, cx)? {
                confirm::Checked::Answer(plan) => Ok(plan),
                confirm::Checked::CarryOut {
                    purpose,
                    code_id,
                    row,
                    raw,
                } => {
                    let waiting = read(cx.settings, &raw, cx.today())
                        .map_err(|e| anyhow!("the confirmed message can no longer be read: {e}"))?;
                    // A link code confirms the address, not the member's
                    // command: the `KOBLE` completes.
                    if purpose == CodePurpose::Link {
                        let asked = match &waiting.command {
                            Command::Link(l) => l.address.as_str(),
                            _ => "",
                        };
                        let from = waiting.msg.from.as_ref().map_or("", |a| a.email.as_str());
                        let w = link::waiting(reg, cx, from, asked)?;
                        return Ok(link::finish(cx, w, code_id));
                    }
                    if matches!(waiting.command, Command::Confirm(_)) {
                        bail!("a confirmation cannot confirm another confirmation");
                    }
                    let facts = c.confirmed_facts(cx);
                    let mut inner = Cx {
                        facts: &facts,
                        settings: cx.settings,
                        now: cx.now,
                        fresh: &mut *cx.fresh,
                    };
                    let plan = waiting.command.decide(reg, &mut inner)?;
                    Ok(c.finish(cx, plan, code_id, row))
                }
            },
            Command::Code(c) => run(c, reg, cx),
            Command::Help(c) => run(c, reg, cx),
            Command::Support(c) => run(c, reg, cx),
            Command::Update(c) => run(c, reg, cx),
            Command::Resign(c) => run(c, reg, cx),
            Command::Undo(c) => run(c, reg, cx),
            Command::MyReps(c) => run(c, reg, cx),
            Command::Link(c) => run(c, reg, cx),
            Command::Unlink(c) => run(c, reg, cx),
            Command::MyData(c) => run(c, reg, cx),
            Command::Activity(c) => run(c, reg, cx),
            Command::MyMembers(c) => run(c, reg, cx),
            Command::MyPeers(c) => run(c, reg, cx),
            Command::MemberMissing(c) => run(c, reg, cx),
            Command::MemberLeft(c) => run(c, reg, cx),
            Command::MemberMoved(c) => run(c, reg, cx),
            Command::Workplace(c) => run(c, reg, cx),
            Command::NewRep(c) => run(c, reg, cx),
            Command::Registration(c) => run(c, reg, cx),
            Command::Submission(c) => run(c, reg, cx),
            Command::Submitted(c) => run(c, reg, cx),
            Command::Status(c) => run(c, reg, cx),
            Command::Letters(c) => run(c, reg, cx),
            Command::Digest(c) => run(c, reg, cx),
            Command::Contacts(c) => run(c, reg, cx),
            Command::Contact(c) => run(c, reg, cx),
            Command::Decision(c) => run(c, reg, cx),
        }
    }
}

/// A message read: what it is and what it asks for.
#[derive(Debug)]
pub struct Read {
    pub msg: Incoming,
    /// Its identity for exactly-once (SPEC section 3).
    pub identity: String,
    /// The sender is verified by the trusted server (SPEC section 10).
    pub verified: bool,
    pub command: Command,
}

/// The pure first stage of handling a message: the size limit, parsing,
/// the identity, the classification (SPEC section 4) and the command with
/// its arguments. Needs no register, so it runs beside the writer. `Err` is
/// the reason to quarantine the message.
pub fn read(s: &Settings, raw: &[u8], today: NaiveDate) -> Result<Read, String> {
    let max = s.max_message_bytes;
    if raw.len() as u64 > max {
        return Err(format!(
            "the message is {} bytes, more than the limit of {max} (limits.max_message_bytes)",
            raw.len()
        ));
    }
    if let Err(deep) = postbud_core::mime::depth(raw, s.bounds.max_depth) {
        return Err(format!(
            "the message's parts are nested more than {} deep (at least {deep}; limits.max_nesting)",
            s.bounds.max_depth
        ));
    }
    let msg = message::parse_within(raw, &s.bounds)
        .ok_or("not a mail message: no header could be read")?;
    if msg.from_headers > 1 {
        return Err(format!(
            "several senders: the message has {} From header fields",
            msg.from_headers
        ));
    }
    let kind = classify::classify(&msg, &s.org_address);
    if kind == Kind::Silent(classify::Silent::NoSender) {
        return Err("the message has no sender address (From) that could be read".into());
    }
    let command = Command::parse(kind, &msg, s, today);
    let from = msg.from.as_ref().map(|a| a.email.as_str()).unwrap_or("");
    Ok(Read {
        identity: message::identity(raw, Some(&msg)),
        // A From holding several addresses is never verified (SPEC 3).
        verified: msg.from_addresses == 1
            && postbud_core::auth::verified(
                &msg.auth_results,
                from,
                s.trusted_authserv_id.as_deref(),
            ),
        msg,
        command,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Action, Carries, CodePurpose, Outcome};
    use crate::testing::{NoRegister, Values, command, decide, sender};

    /// Every keyword's rule, as SPEC sections 5 and 10 give it.
    #[test]
    fn the_rule_table() {
        use Audience::*;
        use Trust::*;
        let cases: &[(&str, &str, Audience, Trust)] = &[
            ("KODE", "", Anyone, Open),
            ("HJELP", "", Anyone, Open),
            ("Et spørsmål", "hei", Anyone, Open),
            ("ENDRE", "telefon: 1", Registered, Verified),
            ("MELD UT", "", Registered, Verified),
            ("ANGRE PB-2026-000001", "", Registered, Verified),
            ("KOBLE k@x.example", "", Registered, Verified),
            ("FJERN k@x.example", "", Registered, Verified),
            ("MINE TILLITSVALGTE", "", Registered, Open),
            ("MINE DATA", "", Registered, Open),
            ("AKTIVITET 2026", "Kari", Reps, Verified),
            ("MINE MEDLEMMER", "", Reps, Verified),
            ("MINE LIKEPERSONER", "", Reps, Verified),
            ("MEDLEM MANGLER", "navn: X", Reps, Open),
            ("MEDLEM SLUTTET 50001", "", Reps, Verified),
            ("MEDLEM FLYTTET 50001", "", Reps, Verified),
            ("ARBEIDSSTED NY Lageret", "", Reps, Verified),
            ("ARBEIDSSTED NYTT NAVN Lageret", "", Reps, Verified),
            ("ARBEIDSSTED AVSLUTT Lageret", "", Reps, Verified),
            ("NY TILLITSVALGT", "", Reps, Verified),
            ("INNSENDTE", "", Contacts, Verified),
            ("STATUS", "", Contacts, Verified),
            ("BREV", "", Contacts, Open),
            ("KONTAKTER", "", Contacts, Verified),
            ("KONTAKT NY a@b.example", "", Contacts, Verified),
            ("KONTAKT DEAKTIVER a@b.example", "", Contacts, Verified),
            ("GODKJENN PB-2026-000001", "", Admins, Verified),
            ("AVVIS PB-2026-000001", "", Admins, Verified),
            ("DIGEST", "", Admins, Verified),
            ("BREV 2", "", Contacts, Open),
            ("BEKREFT 123456", "", Anyone, Open),
            (
                "Registrering",
                "REG1;id=F-1;lag=Bergen;navn=X;epost=x@example.no;dato=2026-11-20;sig=0000000000000000",
                Reps,
                Verified,
            ),
        ];
        for (subject, body, audience, trust) in cases {
            let c = command("kari@example.no", subject, body);
            assert_eq!(c.rule(), Rule::new(*audience, *trust), "{subject}: {:?}", c);
        }
    }

    #[test]
    fn a_command_outside_the_senders_role_is_refused_before_anything_is_read() {
        for (subject, for_whom) in [
            ("AKTIVITET 2026", "reps"),
            ("MINE MEDLEMMER", "reps"),
            ("KONTAKTER", "employers"),
            ("STATUS", "employers"),
            ("GODKJENN PB-2026-000001", "office"),
        ] {
            let member = sender("kari@example.no", false, false, false, true);
            let p = decide(
                &command("kari@example.no", subject, ""),
                &member,
                &NoRegister,
            );
            assert_eq!(p.result, Outcome::Rejected, "{subject}");
            assert_eq!(p.replies[0].template, "not-allowed", "{subject}");
            assert_eq!(p.replies[0].vars["for_whom"], for_whom, "{subject}");
            assert!(p.actions.is_empty(), "{subject}: nothing changes");
        }
    }

    #[test]
    fn an_unverified_sender_gets_a_code_and_nothing_else_happens() {
        let rep = sender("leder@ffm.example", true, false, false, false);
        let p = decide(
            &command("leder@ffm.example", "MINE MEDLEMMER", ""),
            &rep,
            &NoRegister,
        );
        assert_eq!(p.result, Outcome::Pending);
        assert_eq!(p.kind, "members");
        assert_eq!(p.replies[0].template, "confirm-ask");
        assert!(p.replies[0].secret, "the body holds the code");
        assert!(matches!(
            &p.actions[..],
            [Action::IssueCode {
                purpose: CodePurpose::Confirm,
                carries: Carries::ThisMessage,
                ..
            }]
        ));
        // A rule that is open runs for an unverified sender.
        let p = decide(
            &command("leder@ffm.example", "HJELP", ""),
            &rep,
            &NoRegister,
        );
        assert_eq!(p.replies[0].template, "help");
    }

    #[test]
    fn a_right_confirmation_carries_out_the_waiting_message_as_verified() {
        use crate::codes::hash;
        use crate::register::{MemberBrief, MembersInScope, StoredCode};
        let waiting = b"From: leder@ffm.example\r\nSubject: MINE MEDLEMMER\r\nMessage-ID: <w@ffm.example>\r\n\r\n\r\n";
        let reg = Values {
            codes: vec![StoredCode {
                id: 7,
                salt: "s".into(),
                hash: hash("s", "654321"),
                expires_at: crate::testing::now() + chrono::Duration::hours(1),
                used: false,
                tries: 0,
                message_row: Some(3),
            }],
            raw: Some(waiting.to_vec()),
            members: MembersInScope {
                members: vec![MemberBrief {
                    id: 1,
                    member_no: Some("50001".into()),
                    name: "Kari Nordmann".into(),
                    email: None,
                    phone: None,
                    birth_date: None,
                    employer_id: None,
                    employer: None,
                    workplace: None,
                    midlevel: None,
                    position: None,
                    permanent: None,
                }],
                workplaces: vec![],
            },
            ..Values::default()
        };
        let rep = sender("leder@ffm.example", true, false, false, false);
        let p = decide(
            &command("leder@ffm.example", "BEKREFT 654321", ""),
            &rep,
            &reg,
        );
        assert_eq!(p.kind, "members");
        assert_eq!(p.replies[0].template, "list");
        assert_eq!(p.replies[0].vars["count"], 1);
        assert_eq!(p.actions.last(), Some(&Action::UseCode { id: 7 }));
        // A wrong one counts a try and carries out nothing.
        let p = decide(
            &command("leder@ffm.example", "BEKREFT 111111", ""),
            &rep,
            &reg,
        );
        assert_eq!(p.replies[0].template, "confirm-unknown");
        assert!(matches!(
            &p.actions[..],
            [Action::WrongGuess { kill: false, .. }]
        ));
    }
}
