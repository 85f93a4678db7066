//! `Incoming` -> `Kind`: what a message is, SPEC section 4, first match wins.
//! Pure: the only context is postbud's own address.

use crate::message::{Attachment, Incoming};

/// Why a message is recorded but never answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Silent {
    /// From postbud's own address.
    Own,
    /// MAILER-DAEMON, postmaster, no-reply and the like.
    SystemSender,
    /// Auto-Submitted other than `no`.
    AutoSubmitted,
    /// Precedence bulk/junk/list.
    Bulk,
    /// List-Id or List-Unsubscribe.
    List,
    /// An out-of-office subject.
    OutOfOffice,
    /// No usable From address.
    NoSender,
}

/// Keywords of SPEC section 5 (Norwegian with English aliases).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Keyword {
    Kode,
    Endre,
    MeldUt,
    Angre,
    MineTillitsvalgte,
    Koble,
    Fjern,
    MineData,
    Hjelp,
    Aktivitet,
    MineMedlemmer,
    MineLikepersoner,
    MedlemMangler,
    MedlemSluttet,
    MedlemFlyttet,
    ArbeidsstedNy,
    ArbeidsstedNyttNavn,
    ArbeidsstedAvslutt,
    NyTillitsvalgt,
    Innsendte,
    Brev,
    Status,
    Kontakter,
    KontaktNy,
    KontaktEndre,
    KontaktDeaktiver,
    KontaktAktiver,
    Godkjenn,
    Avvis,
    Digest,
}

/// Every keyword with its Norwegian name, English alias and
/// `X-Postbud-Kind` value (SPEC sections 5 and 9).
const KEYWORDS: [(Keyword, &str, &str, &str); 30] = [
    (Keyword::Kode, "KODE", "CODE", "code"),
    (Keyword::Endre, "ENDRE", "UPDATE", "update"),
    (Keyword::MeldUt, "MELD UT", "RESIGN", "resign"),
    (Keyword::Angre, "ANGRE", "UNDO", "undo"),
    (
        Keyword::MineTillitsvalgte,
        "MINE TILLITSVALGTE",
        "MY REPS",
        "reps",
    ),
    (Keyword::Koble, "KOBLE", "LINK", "link"),
    (Keyword::Fjern, "FJERN", "UNLINK", "unlink"),
    (Keyword::MineData, "MINE DATA", "MY DATA", "data"),
    (Keyword::Hjelp, "HJELP", "HELP", "help"),
    (Keyword::Aktivitet, "AKTIVITET", "ACTIVITY", "activity"),
    (
        Keyword::MineMedlemmer,
        "MINE MEDLEMMER",
        "MY MEMBERS",
        "members",
    ),
    (
        Keyword::MineLikepersoner,
        "MINE LIKEPERSONER",
        "MY PEERS",
        "peers",
    ),
    (
        Keyword::MedlemMangler,
        "MEDLEM MANGLER",
        "MEMBER MISSING",
        "member-missing",
    ),
    (
        Keyword::MedlemSluttet,
        "MEDLEM SLUTTET",
        "MEMBER LEFT",
        "member-left",
    ),
    (
        Keyword::MedlemFlyttet,
        "MEDLEM FLYTTET",
        "MEMBER MOVED",
        "member-moved",
    ),
    (
        Keyword::ArbeidsstedNy,
        "ARBEIDSSTED NY",
        "WORKPLACE NEW",
        "workplace",
    ),
    (
        Keyword::ArbeidsstedNyttNavn,
        "ARBEIDSSTED NYTT NAVN",
        "WORKPLACE RENAME",
        "workplace",
    ),
    (
        Keyword::ArbeidsstedAvslutt,
        "ARBEIDSSTED AVSLUTT",
        "WORKPLACE CLOSE",
        "workplace",
    ),
    (
        Keyword::NyTillitsvalgt,
        "NY TILLITSVALGT",
        "NEW REP",
        "new-rep",
    ),
    (Keyword::Innsendte, "INNSENDTE", "SUBMITTED", "submitted"),
    (Keyword::Brev, "BREV", "LETTERS", "letters"),
    (Keyword::Status, "STATUS", "STATUS", "status"),
    (Keyword::Kontakter, "KONTAKTER", "CONTACTS", "contacts"),
    (Keyword::KontaktNy, "KONTAKT NY", "CONTACT NEW", "contact"),
    (
        Keyword::KontaktEndre,
        "KONTAKT ENDRE",
        "CONTACT EDIT",
        "contact",
    ),
    (
        Keyword::KontaktDeaktiver,
        "KONTAKT DEAKTIVER",
        "CONTACT DEACTIVATE",
        "contact",
    ),
    (
        Keyword::KontaktAktiver,
        "KONTAKT AKTIVER",
        "CONTACT ACTIVATE",
        "contact",
    ),
    (Keyword::Godkjenn, "GODKJENN", "APPROVE", "approve"),
    (Keyword::Avvis, "AVVIS", "REJECT", "reject"),
    (Keyword::Digest, "DIGEST", "DIGEST", "digest"),
];

/// What may follow a keyword on its own line (SPEC section 4: a line that
/// merely begins with a keyword's word is no command).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Args {
    /// Nothing (a full stop or colon at most).
    None,
    /// A year: `AKTIVITET 2026`.
    Year,
    /// A reference, then words that are not a question: `GODKJENN PB-2026-000001`,
    /// `AVVIS PB-2026-000001 feil person`, `ANGRE PB-2026-000001`.
    Reference,
    /// One mail address: `KOBLE ola@privat.no`, `KONTAKT NY a@b.no`.
    Address,
    /// Nothing, or a number: `BREV`, `BREV 3`.
    OptionalNumber,
    /// Nothing, or words that are not a question: a name, a date.
    Words,
}

impl Args {
    fn accepts(self, rest: &str) -> bool {
        let rest = rest.trim().trim_end_matches(['.', ':', '!']).trim();
        let words: Vec<&str> = rest.split_whitespace().collect();
        let is_year = |w: &str| w.len() == 4 && w.chars().all(|c| c.is_ascii_digit());
        let is_reference = |w: &str| {
            let w = w.trim_matches(|c: char| matches!(c, '[' | ']' | '(' | ')' | ',' | '.'));
            let mut parts = w.split('-');
            matches!(
                (parts.next(), parts.next(), parts.next(), parts.next()),
                (Some(pb), Some(y), Some(n), None)
                    if pb.eq_ignore_ascii_case("PB") && is_year(y) && !n.is_empty() && n.chars().all(|c| c.is_ascii_digit())
            )
        };
        let is_address = |w: &str| {
            let w = w.trim_matches(|c: char| matches!(c, '<' | '>' | ',' | ';'));
            w.split_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.contains('@'))
        };
        match self {
            Args::None => rest.is_empty(),
            Args::Year => matches!(words.as_slice(), [y] if is_year(y)),
            Args::Reference => {
                words.first().is_some_and(|w| is_reference(w)) && !rest.contains('?')
            }
            Args::Address => matches!(words.as_slice(), [a] if is_address(a)),
            Args::OptionalNumber => match words.as_slice() {
                [] => true,
                [n] => n.chars().all(|c| c.is_ascii_digit()),
                _ => false,
            },
            Args::Words => !rest.contains('?'),
        }
    }
}

impl Keyword {
    /// Every keyword, in the order of SPEC section 5.
    pub fn all() -> &'static [Keyword] {
        const ALL: [Keyword; 30] = {
            let mut all = [Keyword::Kode; 30];
            let mut i = 0;
            while i < 30 {
                all[i] = KEYWORDS[i].0;
                i += 1;
            }
            all
        };
        &ALL
    }

    /// The Norwegian keyword as users write it: "MELD UT".
    pub fn name(self) -> &'static str {
        self.entry().1
    }

    /// The English alias: "RESIGN".
    pub fn english(self) -> &'static str {
        self.entry().2
    }

    /// The `X-Postbud-Kind` value of replies to it (SPEC section 9):
    /// "resign"; every `ARBEIDSSTED ...` is "workplace", every
    /// `KONTAKT ...` but `KONTAKTER` is "contact".
    pub fn kind(self) -> &'static str {
        self.entry().3
    }

    /// The keyword at the start of `line` (Norwegian or English,
    /// case-insensitive, words of a multi-word keyword separated by any
    /// whitespace), followed by the end or whitespace, and the rest of the
    /// line after it, trimmed. The longest keyword wins ("ARBEIDSSTED NYTT
    /// NAVN" over "ARBEIDSSTED NY").
    pub fn at_start(line: &str) -> Option<(Keyword, &str)> {
        let mut best: Option<(Keyword, &str)> = None;
        for &(keyword, nb, en, _) in &KEYWORDS {
            for name in [nb, en] {
                let Some(rest) = match_words(line, name) else {
                    continue;
                };
                // Less left over = more of the line matched.
                if best.is_none_or(|(_, r)| rest.len() < r.len()) {
                    best = Some((keyword, rest));
                }
            }
        }
        best.map(|(k, rest)| (k, rest.trim()))
    }

    /// What may follow the keyword on its line.
    fn args(self) -> Args {
        use Keyword::*;
        match self {
            Kode | Hjelp | MineTillitsvalgte | MineData | MineMedlemmer | MineLikepersoner
            | Innsendte | Status | Kontakter | Digest | Endre | MedlemMangler => Args::None,
            Aktivitet => Args::Year,
            Angre | Godkjenn | Avvis => Args::Reference,
            Koble | Fjern | KontaktNy | KontaktEndre | KontaktDeaktiver | KontaktAktiver => {
                Args::Address
            }
            Brev => Args::OptionalNumber,
            MeldUt | MedlemSluttet | MedlemFlyttet | ArbeidsstedNy | ArbeidsstedNyttNavn
            | ArbeidsstedAvslutt | NyTillitsvalgt => Args::Words,
        }
    }

    /// The keyword at the start of `line` with what follows it, when what
    /// follows is the keyword's own arguments: a line that merely begins with
    /// a keyword's word ("Status på saken min?") is none.
    pub fn command_in(line: &str) -> Option<(Keyword, &str)> {
        let line = line.trim_end().trim_end_matches(['.', '!', ':']);
        Keyword::at_start(line).filter(|(k, rest)| k.args().accepts(rest))
    }

    fn entry(self) -> &'static (Keyword, &'static str, &'static str, &'static str) {
        KEYWORDS
            .iter()
            .find(|e| e.0 == self)
            .unwrap_or(&KEYWORDS[0]) // every variant has a row (tested)
    }
}

/// `line` after the words of `name` (case-insensitive, any whitespace
/// before and between them), when the last word is followed by the end of
/// the line or whitespace.
fn match_words<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = line;
    for word in name.split(' ') {
        let trimmed = rest.trim_start();
        if trimmed.len() == rest.len() && rest.len() != line.len() {
            return None; // no whitespace between two words
        }
        let head = trimmed.get(..word.len())?;
        if !head.eq_ignore_ascii_case(word) {
            return None;
        }
        rest = trimmed.get(word.len()..)?;
    }
    match rest.chars().next() {
        None => Some(rest),
        Some(c) if c.is_whitespace() => Some(rest),
        Some(_) => None,
    }
}

/// `BEKREFT` or `AKSEPTERER`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmWord {
    Bekreft,
    Aksepterer,
}

/// What a message is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// Recorded, never answered.
    Silent(Silent),
    /// A delivery status report: these addresses bounce. Never answered.
    Bounce { failed: Vec<String> },
    /// `BEKREFT <code>` / `AKSEPTERER <code>`.
    Confirm { word: ConfirmWord, code: String },
    /// A command keyword; `args` is the rest of the subject line or of the
    /// body line after the keyword (trimmed), `body` the text after the line
    /// the keyword stood on (or the whole unquoted text when the keyword came
    /// from the subject).
    Command {
        keyword: Keyword,
        args: String,
        body: String,
    },
    /// The body holds one or more `REG1;` registration strings.
    Registration,
    /// List-type attachments (xlsx, xlsm, xls, ods, csv, txt, pdf).
    Deduction,
    /// Everything else.
    Support,
}

/// Classifies a message. `own_address` is postbud's configured address.
pub fn classify(msg: &Incoming, own_address: &str) -> Kind {
    if let Some(silent) = silent(msg, own_address) {
        return silent;
    }
    let subject = strip_subject_prefixes(&msg.subject);
    let first_line = msg.text.lines().find(|l| !l.trim().is_empty());

    if let Some((word, code)) = confirm_in(subject).or_else(|| first_line.and_then(confirm_in)) {
        return Kind::Confirm { word, code };
    }

    if let Some((keyword, args)) = Keyword::command_in(subject) {
        return Kind::Command {
            keyword,
            args: args.to_string(),
            body: msg.text.clone(),
        };
    }
    if let Some(line) = first_line
        && let Some((keyword, args)) = Keyword::command_in(line)
    {
        return Kind::Command {
            keyword,
            args: args.to_string(),
            body: text_after_first_line(&msg.text),
        };
    }

    if has_registration(msg) {
        return Kind::Registration;
    }
    if msg.attachments.iter().any(is_list_attachment) {
        return Kind::Deduction;
    }
    Kind::Support
}

/// Rule 1 of SPEC section 4: the messages that are never answered.
fn silent(msg: &Incoming, own_address: &str) -> Option<Kind> {
    if let Some(dsn) = &msg.dsn {
        return Some(Kind::Bounce {
            failed: dsn.failed.clone(),
        });
    }
    let Some(from) = &msg.from else {
        return Some(Kind::Silent(Silent::NoSender));
    };
    let reason = if from.email.eq_ignore_ascii_case(own_address.trim()) {
        Some(Silent::Own)
    } else if is_system_sender(&from.email) {
        Some(Silent::SystemSender)
    } else if msg.null_return_path
        || msg.autoreply_header
        || msg
            .auto_submitted
            .as_deref()
            .map(first_token)
            .is_some_and(|v| !v.is_empty() && v != "no")
    {
        Some(Silent::AutoSubmitted)
    } else if msg
        .precedence
        .as_deref()
        .map(first_token)
        .is_some_and(|v| ["bulk", "junk", "list", "auto_reply"].contains(&v.as_str()))
    {
        Some(Silent::Bulk)
    } else if msg.is_list {
        Some(Silent::List)
    } else if is_out_of_office(&msg.subject) {
        Some(Silent::OutOfOffice)
    } else {
        None
    };
    reason.map(Kind::Silent)
}

/// A header value's first token (before `;`, a comment or whitespace),
/// lower-cased.
fn first_token(value: &str) -> String {
    value
        .split(|c: char| c == ';' || c == '(' || c.is_whitespace())
        .find(|t| !t.is_empty())
        .unwrap_or_default()
        .to_lowercase()
}

/// MAILER-DAEMON, postmaster and no-reply addresses ("no-reply",
/// "noreply", "no_reply", "do-not-reply", "ikke-svar", ... also with a
/// suffix: "noreply-varsel@").
fn is_system_sender(email: &str) -> bool {
    let local = email.rsplit_once('@').map_or(email, |(l, _)| l);
    let local = local.split('+').next().unwrap_or_default();
    let squeezed: String = local
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | '.'))
        .flat_map(char::to_lowercase)
        .collect();
    ["mailerdaemon", "postmaster"].contains(&squeezed.as_str())
        || ["noreply", "donotreply", "ikkesvar", "ikkebesvar"]
            .iter()
            .any(|p| squeezed.starts_with(p))
}

/// An out-of-office subject: an autoreply phrase at the start (followed by
/// the end, `:` or whitespace) or one of the unambiguous ones anywhere;
/// single words that also occur in real requests ("Ferie", "Fravær") only
/// as "Ferie:".
fn is_out_of_office(subject: &str) -> bool {
    let lower = subject.trim_start().to_lowercase();
    const ANYWHERE: [&str; 15] = [
        "out of office",
        "out of the office",
        "automatisk svar",
        "automatiskt svar",
        "automatic reply",
        "auto reply",
        "autoreply",
        "auto-reply",
        "autosvar",
        "auto-svar",
        "fraværsmelding",
        "frånvaromeddelande",
        "abwesenheitsnotiz",
        "ikke på kontoret",
        "ude af kontoret",
    ];
    const AT_START_WITH_COLON: [&str; 12] = [
        "fravær",
        "fraværende",
        "frånvaro",
        "frånvarande",
        "ferie",
        "semester",
        "abwesenheit",
        "abwesend",
        "vacation",
        "away",
        "borte",
        "permisjon",
    ];
    if ANYWHERE.iter().any(|p| lower.contains(p)) {
        return true;
    }
    // Phrases an automatic reply starts with, and a person's subject rarely
    // does ("Ikke til stede til 3. januar").
    const AT_START: [&str; 5] = [
        "ikke til stede",
        "ikkje til stades",
        "ikke tilstede",
        "inte på kontoret",
        "ej på kontoret",
    ];
    if AT_START.iter().any(|p| lower.starts_with(p)) {
        return true;
    }
    AT_START_WITH_COLON.iter().any(|p| {
        lower
            .strip_prefix(p)
            .is_some_and(|rest| rest.trim_start().starts_with(':'))
    })
}

/// The subject without reply and forward prefixes (`Re:`, `SV:`, `VS:`,
/// `Fwd:`, `FW:`, `AW:`, `WG:`, `Antw:`, `Re[2]:`, any number, any case)
/// and without bracketed tags before the text (`[PB-2026-000003]`).
fn strip_subject_prefixes(subject: &str) -> &str {
    const PREFIXES: [&str; 13] = [
        "re", "sv", "svar", "vs", "fw", "fwd", "aw", "wg", "antw", "tr", "vb", "vl", "rv",
    ];
    let mut s = subject.trim_start();
    loop {
        if s.starts_with('[')
            && let Some(end) = s.find(']')
            && end <= 60
        {
            s = s.get(end + 1..).unwrap_or_default().trim_start();
            continue;
        }
        let Some(colon) = s.find(':') else {
            return s;
        };
        let head = s.get(..colon).unwrap_or_default().trim_end();
        // "Re[2]" / "Re(2)" / "Re 2"
        let head = head
            .trim_end_matches(|c: char| c.is_ascii_digit() || matches!(c, '[' | ']' | '(' | ')'))
            .trim_end();
        if PREFIXES.iter().any(|p| head.eq_ignore_ascii_case(p)) {
            s = s.get(colon + 1..).unwrap_or_default().trim_start();
        } else {
            return s;
        }
    }
}

/// `BEKREFT <code>` / `AKSEPTERER <code>` (or CONFIRM / ACCEPT) at the
/// start of `line`; the code is the next token with any punctuation around
/// it removed, and must hold a digit.
fn confirm_in(line: &str) -> Option<(ConfirmWord, String)> {
    let mut words = line.split_whitespace();
    let word = words.next()?.trim_end_matches(':');
    let word = if word.eq_ignore_ascii_case("BEKREFT") || word.eq_ignore_ascii_case("CONFIRM") {
        ConfirmWord::Bekreft
    } else if word.eq_ignore_ascii_case("AKSEPTERER") || word.eq_ignore_ascii_case("ACCEPT") {
        ConfirmWord::Aksepterer
    } else {
        return None;
    };
    let code = words.next()?.trim_matches(|c: char| !c.is_alphanumeric());
    code.chars()
        .any(|c| c.is_ascii_digit())
        .then(|| (word, code.to_string()))
}

/// The text after its first non-empty line, without leading blank lines.
fn text_after_first_line(text: &str) -> String {
    let mut lines = text.lines().skip_while(|l| l.trim().is_empty());
    lines.next();
    let rest: Vec<&str> = lines.skip_while(|l| l.trim().is_empty()).collect();
    rest.join("\n").trim_end().to_string()
}

/// A registration string anywhere in the body, quotes included, or in the
/// HTML part.
fn has_registration(msg: &Incoming) -> bool {
    const MARK: &str = "REG1;";
    // The HTML is converted only when it could hold the mark: "REG1<wbr>;"
    // still contains "REG".
    msg.full_text.contains(MARK)
        || msg.html.as_deref().is_some_and(|h| {
            h.contains(MARK) || h.contains("REG") && crate::message::html_to_text(h).contains(MARK)
        })
}

/// An attachment of a deduction list type (SPEC section 8), by file
/// extension or by MIME type.
fn is_list_attachment(a: &Attachment) -> bool {
    const EXTENSIONS: [&str; 7] = ["xlsx", "xlsm", "xls", "ods", "csv", "txt", "pdf"];
    const TYPES: [&str; 10] = [
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-excel.sheet.macroenabled.12",
        "application/vnd.ms-excel",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/x-vnd.oasis.opendocument.spreadsheet",
        "text/csv",
        "application/csv",
        "text/comma-separated-values",
        "text/x-csv",
        "application/pdf",
    ];
    let by_name = a
        .name
        .as_deref()
        .and_then(|n| n.trim().rsplit_once('.'))
        .is_some_and(|(_, ext)| EXTENSIONS.iter().any(|e| ext.eq_ignore_ascii_case(e)));
    by_name || TYPES.contains(&a.content_type.as_str())
}
