//! `classify::classify` rule by rule (SPEC section 4), first match wins.

use postbud_core::classify::{ConfirmWord, Keyword, Kind, Silent, classify};
use postbud_core::message::{Address, Attachment, Dsn, Incoming, parse};

const OWN: &str = "post@forbund.example";

fn from(email: &str) -> Incoming {
    Incoming {
        from: Some(Address {
            name: None,
            email: email.to_string(),
        }),
        ..Default::default()
    }
}

/// A message from kari@example.no with this subject and (unquoted) text.
fn msg(subject: &str, text: &str) -> Incoming {
    Incoming {
        subject: subject.to_string(),
        text: text.to_string(),
        full_text: text.to_string(),
        ..from("kari@example.no")
    }
}

fn kind(subject: &str, text: &str) -> Kind {
    classify(&msg(subject, text), OWN)
}

fn command(keyword: Keyword, args: &str, body: &str) -> Kind {
    Kind::Command {
        keyword,
        args: args.to_string(),
        body: body.to_string(),
    }
}

fn attachment(name: Option<&str>, content_type: &str) -> Attachment {
    Attachment {
        name: name.map(str::to_string),
        content_type: content_type.to_string(),
        bytes: b"x".to_vec(),
    }
}

// ---- rule 1: never answered ----

#[test]
fn senders_never_answered() {
    let mut no_sender = msg("HJELP", "");
    no_sender.from = None;
    assert_eq!(classify(&no_sender, OWN), Kind::Silent(Silent::NoSender));
    assert_eq!(
        classify(&from("Post@Forbund.Example"), " post@forbund.example "),
        Kind::Silent(Silent::Own)
    );
    for system in [
        "mailer-daemon@mx.example.no",
        "MAILER-DAEMON@x",
        "postmaster@example.no",
        "no-reply@example.no",
        "noreply@example.no",
        "no_reply@example.no",
        "do-not-reply@example.no",
        "donotreply@example.no",
        "ikke-svar@nav.example",
        "ikkesvar@example.no",
        "noreply-varsel@example.no",
        "mailer-daemon",
    ] {
        assert_eq!(
            classify(&from(system), OWN),
            Kind::Silent(Silent::SystemSender),
            "{system}"
        );
    }
    for person in ["kari@example.no", "postmann@example.no", "norep@example.no"] {
        assert_eq!(classify(&from(person), OWN), Kind::Support, "{person}");
    }
}

#[test]
fn dsn_is_a_bounce_before_other_rules() {
    let dsn = Some(Dsn {
        failed: vec!["borte@example.no".to_string()],
        original_message_id: None,
    });
    let bounce = Kind::Bounce {
        failed: vec!["borte@example.no".to_string()],
    };
    for sender in ["MAILER-DAEMON@mx.forbund.example", "kari@example.no"] {
        let m = Incoming {
            dsn: dsn.clone(),
            auto_submitted: Some("auto-replied".into()),
            ..from(sender)
        };
        assert_eq!(classify(&m, OWN), bounce, "{sender}");
    }
    let m = Incoming {
        dsn: dsn.clone(),
        ..Default::default()
    };
    assert_eq!(classify(&m, OWN), bounce);
}

#[test]
fn header_rules() {
    let with = |f: &dyn Fn(&mut Incoming)| {
        let mut m = msg("HJELP", "");
        f(&mut m);
        classify(&m, OWN)
    };
    for v in [
        "auto-replied",
        "auto-generated",
        "auto-notified; owner=x",
        "yes",
    ] {
        assert_eq!(
            with(&|m| m.auto_submitted = Some(v.into())),
            Kind::Silent(Silent::AutoSubmitted),
            "{v}"
        );
    }
    assert_eq!(
        with(&|m| m.auto_submitted = Some("no".into())),
        command(Keyword::Hjelp, "", "")
    );
    assert_eq!(
        with(&|m| m.auto_submitted = Some("no (a person)".into())),
        command(Keyword::Hjelp, "", "")
    );
    for v in ["bulk", "junk", "list"] {
        assert_eq!(
            with(&|m| m.precedence = Some(v.into())),
            Kind::Silent(Silent::Bulk),
            "{v}"
        );
    }
    assert_eq!(
        with(&|m| m.precedence = Some("first-class".into())),
        command(Keyword::Hjelp, "", "")
    );
    assert_eq!(with(&|m| m.is_list = true), Kind::Silent(Silent::List));
}

#[test]
fn out_of_office_subjects() {
    for subject in [
        "Fravær: Re: [PB-2026-000001] Kvittering",
        "  fravær : KODE",
        "Fraværsmelding",
        "Autosvar: HJELP",
        "Automatisk svar: Ny likeperson",
        "Automatiskt svar: x",
        "Frånvaro: x",
        "Out of office",
        "Re: Out of Office until Monday",
        "I am out of the office",
        "Automatic reply: ENDRE",
        "Auto reply",
        "Autoreply: x",
        "Auto-Reply: x",
        "Abwesenheitsnotiz: x",
        "Ikke på kontoret",
        "Ferie: tilbake 1. desember",
    ] {
        assert_eq!(
            kind(subject, "KODE"),
            Kind::Silent(Silent::OutOfOffice),
            "{subject}"
        );
    }
    for subject in [
        "Ferie og medlemskap",
        "Spørsmål om fravær",
        "Fraværet mitt",
        "Hjemme",
    ] {
        assert_eq!(kind(subject, "Hei"), Kind::Support, "{subject}");
    }
}

// ---- rule 2: confirmation ----

#[test]
fn confirmations() {
    let bekreft = |code: &str| Kind::Confirm {
        word: ConfirmWord::Bekreft,
        code: code.to_string(),
    };
    let aksepterer = |code: &str| Kind::Confirm {
        word: ConfirmWord::Aksepterer,
        code: code.to_string(),
    };
    assert_eq!(kind("BEKREFT 123456", ""), bekreft("123456"));
    assert_eq!(kind("Re: SV: bekreft 123456", ""), bekreft("123456"));
    assert_eq!(
        kind("RE: [PB-2026-000004] Bekreft  0042 takk", ""),
        bekreft("0042")
    );
    assert_eq!(kind("Confirm 99", ""), bekreft("99"));
    assert_eq!(kind("AKSEPTERER 654321", ""), aksepterer("654321"));
    assert_eq!(kind("Accept 1", ""), aksepterer("1"));
    assert_eq!(kind("Hei", "\n\n  Bekreft 123456.\nmvh"), bekreft("123456"));
    assert_eq!(kind("", "Aksepterer: 777"), aksepterer("777"));
    // Confirmation wins over a command in the body.
    assert_eq!(kind("bekreft 5", "HJELP"), bekreft("5"));
    // No digits, no code: not a confirmation.
    assert_eq!(kind("Bekreft mottak av liste", "Hei"), Kind::Support);
    assert_eq!(kind("BEKREFT", "Hei"), Kind::Support);
    // Only the first non-empty line counts.
    assert_eq!(kind("Hei", "Takk\nBEKREFT 123456"), Kind::Support);
}

// ---- rule 3: commands ----

/// Arguments each keyword takes, as a user writes them.
fn example_args(k: Keyword) -> &'static str {
    use Keyword::*;
    match k {
        Aktivitet => "2026",
        Angre | Godkjenn | Avvis => "PB-2026-000001",
        Koble | Fjern | KontaktNy | KontaktEndre | KontaktDeaktiver | KontaktAktiver => {
            "ola@example.no"
        }
        Brev => "3",
        MeldUt | MedlemSluttet | MedlemFlyttet | ArbeidsstedNy | ArbeidsstedNyttNavn
        | ArbeidsstedAvslutt | NyTillitsvalgt => "Ola Hansen",
        _ => "",
    }
}

#[test]
fn every_keyword_in_subject_and_body() {
    for &k in Keyword::all() {
        let arg = example_args(k);
        for name in [k.name(), k.english()] {
            let lower = name.to_lowercase();
            let spaced = name.replace(' ', " \t ");
            assert_eq!(
                kind(&format!("Re: Fwd: {lower} {arg}"), "body"),
                command(k, arg, "body"),
                "{name} in subject"
            );
            assert_eq!(
                kind(&format!("SV: {spaced} {arg}"), "body"),
                command(k, arg, "body"),
                "{name} spaced"
            );
            assert_eq!(
                kind("Hei", &format!("\n {name}  {arg} \n\nline 2\nline 3")),
                command(k, arg, "line 2\nline 3"),
                "{name} in body"
            );
            assert_eq!(
                Keyword::at_start(&format!("{name}x")),
                None,
                "{name} glued to a word"
            );
            // Followed by a question, it is a question for the office.
            assert_eq!(
                kind(&format!("{name} {arg} hva gjør jeg nå?"), "body"),
                Kind::Support,
                "{name} followed by a question"
            );
        }
    }
}

#[test]
fn keyword_tables() {
    let all = Keyword::all();
    assert_eq!(all.len(), 30);
    let kinds = [
        "code",
        "update",
        "resign",
        "undo",
        "reps",
        "link",
        "unlink",
        "data",
        "help",
        "activity",
        "members",
        "peers",
        "member-missing",
        "member-left",
        "member-moved",
        "workplace",
        "new-rep",
        "submitted",
        "letters",
        "status",
        "contacts",
        "contact",
        "approve",
        "reject",
        "digest",
    ];
    let mut names = std::collections::HashSet::new();
    for &k in all {
        assert!(kinds.contains(&k.kind()), "{k:?}: {}", k.kind());
        assert!(names.insert(k.name()), "{} twice", k.name());
        assert_eq!(Keyword::at_start(k.name()), Some((k, "")));
        assert_eq!(Keyword::at_start(k.english()), Some((k, "")));
    }
    assert_eq!(Keyword::MeldUt.name(), "MELD UT");
    assert_eq!(Keyword::MeldUt.kind(), "resign");
    assert_eq!(Keyword::ArbeidsstedNyttNavn.kind(), "workplace");
    assert_eq!(Keyword::KontaktDeaktiver.kind(), "contact");
    assert_eq!(Keyword::Kontakter.kind(), "contacts");
}

#[test]
fn longest_keyword_wins() {
    assert_eq!(
        Keyword::at_start("arbeidssted nytt navn Lager 2"),
        Some((Keyword::ArbeidsstedNyttNavn, "Lager 2"))
    );
    assert_eq!(
        Keyword::at_start("ARBEIDSSTED NY Lager 3"),
        Some((Keyword::ArbeidsstedNy, "Lager 3"))
    );
    assert_eq!(
        Keyword::at_start("Kontakter"),
        Some((Keyword::Kontakter, ""))
    );
    assert_eq!(
        Keyword::at_start("KONTAKT NY per@bedrift.example"),
        Some((Keyword::KontaktNy, "per@bedrift.example"))
    );
    assert_eq!(Keyword::at_start("KONTAKT"), None);
    assert_eq!(Keyword::at_start("MEDLEM"), None);
    assert_eq!(Keyword::at_start("MELDUT"), None);
}

#[test]
fn not_commands() {
    for subject in [
        "Re: [PB-2026-000003] Kvittering",
        "Kodeord glemt",
        "Statusrapport",
        "Hjelpemidler",
        "Brevet kom ikke",
        "Får ikke logget inn",
        "Spørsmål: KODE",
    ] {
        assert_eq!(kind(subject, "Hei"), Kind::Support, "{subject}");
    }
    // A keyword after the first non-empty line is not a command.
    assert_eq!(kind("Hei", "Hei\nHJELP"), Kind::Support);
    assert_eq!(kind("Hei", "Hjelp, jeg får ikke logget inn"), Kind::Support);
}

#[test]
fn command_details() {
    assert_eq!(
        kind("AKTIVITET 2026", "Kari Nordmann, Ola"),
        command(Keyword::Aktivitet, "2026", "Kari Nordmann, Ola")
    );
    assert_eq!(
        kind("Re: [PB-2026-000009] Kvittering", "ANGRE PB-2026-000012\n"),
        command(Keyword::Angre, "PB-2026-000012", "")
    );
    assert_eq!(
        kind("Ny adresse", "KOBLE a@b.no"),
        command(Keyword::Koble, "a@b.no", "")
    );
    assert_eq!(
        kind("re:re:  meld   ut  fra 1. januar", "Jeg slutter."),
        command(Keyword::MeldUt, "fra 1. januar", "Jeg slutter.")
    );
    assert_eq!(
        kind("AVVIS PB-2026-000001 feil person", ""),
        command(Keyword::Avvis, "PB-2026-000001 feil person", "")
    );
}

#[test]
fn quoted_text_is_never_read() {
    let mut m = msg("Re: [PB-2026-000001] Kvittering", "Takk!");
    m.full_text = "Takk!\n\nOn Fri wrote:\n> HJELP\n> BEKREFT 123456\n".into();
    assert_eq!(classify(&m, OWN), Kind::Support);
}

// ---- rules 4-6 ----

#[test]
fn registration_strings() {
    let mut m = msg("VS: Ny registrering", "Se under.");
    m.full_text = "Se under.\n\n> REG1;id=F-1;lag=Bergen;sig=00\n".into();
    assert_eq!(classify(&m, OWN), Kind::Registration);

    let mut m = msg("Fwd", "");
    m.full_text = String::new();
    m.html = Some("<p>REG1<span>;id=F-1;lag=Bergen</span></p>".into());
    assert_eq!(classify(&m, OWN), Kind::Registration);

    // A command comes first.
    let mut m = msg("HJELP", "");
    m.full_text = "REG1;id=F-1".into();
    assert!(matches!(classify(&m, OWN), Kind::Command { .. }));
}

#[test]
fn deduction_lists() {
    for (name, ct) in [
        (Some("Trekk.XLSX"), "application/octet-stream"),
        (Some("liste.xlsm"), "application/octet-stream"),
        (Some("liste.xls"), "application/octet-stream"),
        (Some("liste.ods"), "application/octet-stream"),
        (Some("liste.csv"), "application/octet-stream"),
        (Some("trekk_102026.txt"), "text/plain"),
        (Some("Trekkliste oktober.pdf"), "application/octet-stream"),
        (None, "application/pdf"),
        (None, "text/csv"),
        (
            None,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        (None, "application/vnd.ms-excel"),
        (None, "application/vnd.oasis.opendocument.spreadsheet"),
    ] {
        let mut m = msg("Trekkliste 10/2026", "Vedlagt.");
        m.attachments = vec![
            attachment(Some("logo.png"), "image/png"),
            attachment(name, ct),
        ];
        assert_eq!(classify(&m, OWN), Kind::Deduction, "{name:?} {ct}");
    }
    let mut m = msg("Bilde", "Se vedlagt.");
    m.attachments = vec![
        attachment(Some("bilde.jpg"), "image/jpeg"),
        attachment(None, "text/plain"),
        attachment(Some("xlsx"), "application/octet-stream"),
    ];
    assert_eq!(classify(&m, OWN), Kind::Support);

    // Registration comes before deduction.
    let mut m = msg("Reg", "REG1;id=F-1");
    m.attachments = vec![attachment(Some("a.pdf"), "application/pdf")];
    assert_eq!(classify(&m, OWN), Kind::Registration);
}

/// Loops (hardening finding 7): what an automatic responder or a ticket
/// system sends is never answered.
#[test]
fn machines_that_answer_are_never_answered() {
    for headers in [
        "Return-Path: <>\r\n",
        "X-Autoreply: yes\r\n",
        "X-Autorespond: Thanks for your mail\r\n",
        "Precedence: auto_reply\r\n",
    ] {
        let raw = format!(
            "{headers}From: helpdesk@bedrift.example\r\nSubject: Re: spørsmål\r\nMessage-ID: <l@x>\r\n\r\nVi har mottatt saken din.\r\n"
        );
        let m = parse(raw.as_bytes()).unwrap();
        assert!(
            matches!(classify(&m, OWN), Kind::Silent(_)),
            "{headers}: {:?}",
            classify(&m, OWN)
        );
    }
    for subject in [
        "Ikke til stede",
        "Ikke til stede til 3. januar",
        "Ikkje til stades",
    ] {
        let raw = format!("From: a@example.no\r\nSubject: {subject}\r\n\r\nJeg er borte.\r\n");
        let m = parse(raw.as_bytes()).unwrap();
        assert!(
            matches!(classify(&m, OWN), Kind::Silent(Silent::OutOfOffice)),
            "{subject}"
        );
    }
    // A person's Return-Path is no reason to stay silent.
    let m = parse(
        b"Return-Path: <ola@example.no>\r\nFrom: ola@example.no\r\nSubject: hei\r\n\r\nhei\r\n",
    )
    .unwrap();
    assert_eq!(classify(&m, OWN), Kind::Support);
}

/// A sentence that begins with a keyword's word is a question for the office
/// (SPEC section 4, hardening finding 9); the keyword with its own arguments
/// is a command, in the subject or alone on the first line.
#[test]
fn a_keyword_counts_only_with_its_own_arguments() {
    let kind = |subject: &str, body: &str| {
        let raw = format!("From: ola@example.no\r\nSubject: {subject}\r\n\r\n{body}\r\n");
        classify(&parse(raw.as_bytes()).unwrap(), OWN)
    };
    let keyword = |k: &Kind| match k {
        Kind::Command { keyword, .. } => Some(*keyword),
        _ => None,
    };
    for (subject, body) in [
        ("Status på saken min?", "Hei, hva skjer?"),
        ("spørsmål", "Kode virker ikke, hva gjør jeg?"),
        ("Endre adresse?", "Hvordan endrer jeg adressen min?"),
        ("Kode", "virker ikke"),
        ("Hjelp meg!", "Jeg får ikke logget inn"),
        ("Aktivitet i laget", "Hei"),
        ("Godkjenn meg", ""),
    ] {
        let k = kind(subject, body);
        assert!(
            subject == "Kode" && keyword(&k) == Some(Keyword::Kode) || keyword(&k).is_none(),
            "{subject} / {body}: {k:?}"
        );
    }
    for (subject, body, expected) in [
        ("KODE", "", Keyword::Kode),
        ("Re: kode.", "", Keyword::Kode),
        ("hei", "STATUS\n50001 Ansatt", Keyword::Status),
        ("AKTIVITET 2026", "Kari", Keyword::Aktivitet),
        ("GODKJENN PB-2026-000001", "", Keyword::Godkjenn),
        ("AVVIS PB-2026-000001 feil person", "", Keyword::Avvis),
        (
            "KONTAKT NY ny@bedrift.example",
            "navn: Ny",
            Keyword::KontaktNy,
        ),
        (
            "MEDLEM SLUTTET Ola Hansen",
            "sluttdato: 30.11.2026",
            Keyword::MedlemSluttet,
        ),
        ("BREV 3", "", Keyword::Brev),
        ("ENDRE", "telefon: 912 34 567", Keyword::Endre),
        ("Spørsmål", "MELD UT\ndato: 31.12.2026", Keyword::MeldUt),
    ] {
        assert_eq!(
            keyword(&kind(subject, body)),
            Some(expected),
            "{subject} / {body}"
        );
    }
}
