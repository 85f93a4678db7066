//! `MINE DATA` [MY DATA] (SPEC section 5; GDPR article 15): everything the
//! register holds on the member, as an .xlsx with one sheet per part and a
//! readable summary in the text, to the registered address that asked.
//! [`tables`] is shared with the office's `postbud person show|export`.

use anyhow::Result;
use chrono::Duration;
use serde_json::json;

use crate::cx::Cx;
use crate::decide::Decide;
use crate::facts::Language;
use crate::plan::{Attach, Outcome, Plan, Table};
use crate::register::{PersonData, PersonDetail, Register};

/// `MINE DATA`
#[derive(Debug)]
pub struct MyData;

/// Months of messages and replies a member's data shows.
pub const MESSAGE_MONTHS: i64 = 12;

/// One word in nb, nn, da and en.
type Words = [&'static str; 4];

fn word(l: Language, w: &Words) -> String {
    let i = match l {
        Language::Nb => 0,
        Language::Nn => 1,
        Language::Da => 2,
        Language::En => 3,
    };
    w[i].to_string()
}

/// A national id with all but its birth date hidden (`010190*****`, CPR
/// `010190****`): a mail can go astray, and the member knows their number.
pub fn masked(id: &str) -> String {
    id.chars()
        .enumerate()
        .map(|(i, c)| if i < 6 { c } else { '*' })
        .collect()
}

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

fn yes_no(l: Language, b: bool) -> String {
    word(
        l,
        if b {
            &["ja", "ja", "ja", "yes"]
        } else {
            &["nei", "nei", "nej", "no"]
        },
    )
}

/// A sheet of two columns, field and value.
fn fields(l: Language, name: &Words, rows: Vec<(&Words, String)>) -> Table {
    Table {
        name: word(l, name),
        headers: vec![
            word(l, &["Felt", "Felt", "Felt", "Field"]),
            word(l, &["Verdi", "Verdi", "Værdi", "Value"]),
        ],
        rows: rows.into_iter().map(|(k, v)| vec![word(l, k), v]).collect(),
    }
}

/// A sheet of rows under headers.
fn list(l: Language, name: &Words, headers: &[Words], rows: &[Vec<String>]) -> Table {
    Table {
        name: word(l, name),
        headers: headers.iter().map(|h| word(l, h)).collect(),
        rows: rows.to_vec(),
    }
}

/// Everything the register holds on a person, one table per part, in
/// `l`. `mask` hides the personal number of the national id (a mail to
/// the member); the office's export shows it.
pub fn tables(p: &PersonDetail, d: &PersonData, l: Language, mask: bool) -> Vec<Table> {
    let id = p
        .national_id
        .as_deref()
        .map(|i| if mask { masked(i) } else { i.to_string() })
        .unwrap_or_default();
    let permanent = p.permanent.map(|f| {
        word(
            l,
            if f {
                &["fast", "fast", "fast", "permanent"]
            } else {
                &["vikar", "vikar", "vikar", "temporary"]
            },
        )
    });
    vec![
        fields(
            l,
            &["Person", "Person", "Person", "Person"],
            vec![
                (&["Navn", "Namn", "Navn", "Name"], p.name.clone()),
                (
                    &[
                        "Medlemsnummer",
                        "Medlemsnummer",
                        "Medlemsnummer",
                        "Member number",
                    ],
                    opt(&p.member_no),
                ),
                (
                    &["Fødselsdato", "Fødselsdato", "Fødselsdato", "Birth date"],
                    opt(&p.birth_date),
                ),
                (
                    &[
                        "Fødselsnummer",
                        "Fødselsnummer",
                        "CPR-nummer",
                        "National id",
                    ],
                    id,
                ),
                (&["Telefon", "Telefon", "Telefon", "Phone"], opt(&p.phone)),
                (
                    &["Adresse", "Adresse", "Adresse", "Address"],
                    opt(&p.address),
                ),
                (
                    &["Postnummer", "Postnummer", "Postnummer", "Postcode"],
                    opt(&p.postcode),
                ),
                (&["Poststed", "Poststad", "By", "City"], opt(&p.city)),
                (&["Språk", "Språk", "Sprog", "Language"], opt(&p.language)),
            ],
        ),
        list(
            l,
            &["E-post", "E-post", "E-mail", "Email"],
            &[
                ["Adresse", "Adresse", "Adresse", "Address"],
                ["Bekreftet", "Stadfesta", "Bekræftet", "Verified"],
                ["Lagt til", "Lagt til", "Tilføjet", "Added"],
            ],
            &p.addresses
                .iter()
                .map(|a| vec![a.email.clone(), yes_no(l, a.verified), a.added_at.clone()])
                .collect::<Vec<_>>(),
        ),
        fields(
            l,
            &[
                "Arbeidsforhold",
                "Arbeidsforhold",
                "Ansættelse",
                "Employment",
            ],
            vec![
                (
                    &["Arbeidsgiver", "Arbeidsgjevar", "Arbejdsgiver", "Employer"],
                    opt(&p.employer),
                ),
                (
                    &[
                        "Organisasjonsnummer",
                        "Organisasjonsnummer",
                        "CVR-nummer",
                        "Organisation number",
                    ],
                    opt(&p.orgnr),
                ),
                (
                    &["Arbeidssted", "Arbeidsstad", "Arbejdssted", "Workplace"],
                    opt(&p.workplace),
                ),
                (
                    &["Mellomnivå", "Mellomnivå", "Mellemniveau", "Mid-level"],
                    opt(&p.midlevel),
                ),
                (
                    &["Stilling", "Stilling", "Stilling", "Position"],
                    opt(&p.position),
                ),
                (
                    &[
                        "Stillingsprosent",
                        "Stillingsprosent",
                        "Beskæftigelsesgrad",
                        "Percent",
                    ],
                    opt(&p.percent),
                ),
                (
                    &[
                        "Fast/vikar",
                        "Fast/vikar",
                        "Fast/vikar",
                        "Permanent/temporary",
                    ],
                    opt(&permanent),
                ),
            ],
        ),
        fields(
            l,
            &["Medlemskap", "Medlemskap", "Medlemskab", "Membership"],
            vec![
                (&["Status", "Status", "Status", "Status"], p.status.clone()),
                (&["Fra", "Frå", "Fra", "From"], opt(&p.status_from)),
                (
                    &["Lokallag", "Lokallag", "Lokalafdeling", "Chapter"],
                    opt(&p.unit),
                ),
            ],
        ),
        list(
            l,
            &["Verv", "Verv", "Tillidshverv", "Roles"],
            &[
                ["Rolle", "Rolle", "Rolle", "Role"],
                ["Nivå", "Nivå", "Niveau", "Level"],
                ["For", "For", "For", "At"],
                ["Fra", "Frå", "Fra", "From"],
                ["Til", "Til", "Til", "To"],
            ],
            &d.roles,
        ),
        list(
            l,
            &["Likeperson", "Likeperson", "Ligeperson", "Peer"],
            &[
                [
                    "Likepersonnummer",
                    "Likepersonnummer",
                    "Ligepersonnummer",
                    "Peer number",
                ],
                ["Lokallag", "Lokallag", "Lokalafdeling", "Chapter"],
                ["Registrert", "Registrert", "Registreret", "Registered"],
                ["Aktive år", "Aktive år", "Aktive år", "Active years"],
            ],
            &d.peer,
        ),
        list(
            l,
            &[
                "Til behandling",
                "Til handsaming",
                "Til behandling",
                "Pending",
            ],
            &[
                ["Referanse", "Referanse", "Reference", "Reference"],
                ["Hva", "Kva", "Hvad", "What"],
                ["Status", "Status", "Status", "Status"],
                ["Sendt", "Sendt", "Sendt", "Sent"],
                ["Avgjort", "Avgjort", "Afgjort", "Decided"],
            ],
            &d.pending
                .iter()
                .map(|r| {
                    vec![
                        r.reference.clone(),
                        r.summary.clone(),
                        r.status.clone(),
                        r.created_at.clone(),
                        opt(&r.decided_at),
                    ]
                })
                .collect::<Vec<_>>(),
        ),
        list(
            l,
            &["Henvendelser", "Førespurnader", "Henvendelser", "Tickets"],
            &[
                ["Referanse", "Referanse", "Reference", "Reference"],
                ["Emne", "Emne", "Emne", "Subject"],
                ["Status", "Status", "Status", "Status"],
                ["Opprettet", "Oppretta", "Oprettet", "Created"],
            ],
            &d.tickets,
        ),
        list(
            l,
            &["Meldinger", "Meldingar", "Beskeder", "Messages"],
            &[
                ["Mottatt", "Motteke", "Modtaget", "Received"],
                ["Fra", "Frå", "Fra", "From"],
                ["Emne", "Emne", "Emne", "Subject"],
                ["Type", "Type", "Type", "Kind"],
                ["Resultat", "Resultat", "Resultat", "Result"],
                ["Referanse", "Referanse", "Reference", "Reference"],
            ],
            &d.messages,
        ),
        list(
            l,
            &["Svar", "Svar", "Svar", "Replies"],
            &[
                ["Laget", "Laga", "Oprettet", "Created"],
                ["Til", "Til", "Til", "To"],
                ["Emne", "Emne", "Emne", "Subject"],
                ["Type", "Type", "Type", "Kind"],
                ["Status", "Status", "Status", "State"],
            ],
            &d.replies,
        ),
        list(
            l,
            &[
                "Arbeidsgiverkontakt",
                "Arbeidsgjevarkontakt",
                "Arbejdsgiverkontakt",
                "Employer contact",
            ],
            &[
                ["Arbeidsgiver", "Arbeidsgjevar", "Arbejdsgiver", "Employer"],
                ["Ansvar", "Ansvar", "Ansvar", "Duties"],
                [
                    "Taushetserklæring",
                    "Teieerklæring",
                    "Tavshedserklæring",
                    "Declaration",
                ],
                ["Aktiv", "Aktiv", "Aktiv", "Active"],
            ],
            &d.contact_for,
        ),
    ]
}

/// The readable summary the reply's text shows.
pub fn summary(p: &PersonDetail, d: &PersonData) -> serde_json::Value {
    // `Storgata 1, 5003 Bergen`
    let place = [&p.postcode, &p.city]
        .into_iter()
        .flatten()
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    let address = [p.address.clone().unwrap_or_default(), place]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    json!({
        "name": p.name,
        "member_no": p.member_no,
        "status": p.status,
        "status_from": p.status_from,
        "employer": p.employer,
        "workplace": p.workplace,
        "position": p.position,
        "unit": p.unit,
        "phone": p.phone,
        "address": address,
        "addresses": p.addresses.iter().map(|a| a.email.clone()).collect::<Vec<_>>(),
        "national_id": p.national_id.is_some(),
        "roles": d.roles.len(),
        "peer": !d.peer.is_empty(),
        "pending": d.pending,
        "tickets": d.tickets.len(),
        "messages": d.messages.len(),
        "replies": d.replies.len(),
        "contact_for": d.contact_for.len(),
        "months": MESSAGE_MONTHS,
    })
}

impl Decide for MyData {
    type Reads = Option<(PersonDetail, PersonData)>;

    fn read(&self, reg: &dyn Register, cx: &Cx<'_>) -> Result<Self::Reads> {
        let Some(me) = &cx.facts.person else {
            return Ok(None);
        };
        let Some(person) = reg.person(me.id)? else {
            return Ok(None);
        };
        let since = cx.now - Duration::days(365 * MESSAGE_MONTHS / 12);
        Ok(Some((person, reg.person_data(me.id, since)?)))
    }

    fn decide(&self, cx: &mut Cx<'_>, reads: Self::Reads) -> Plan {
        const KIND: &str = "data";
        // Only to one of the member's own registered addresses.
        let Some((p, d)) = reads.filter(|(p, _)| {
            p.addresses
                .iter()
                .any(|a| a.email.eq_ignore_ascii_case(&cx.facts.sender))
        }) else {
            return crate::rule::refused(
                cx,
                KIND,
                "not-allowed",
                "members",
                crate::rule::help_vars(cx.facts),
            );
        };
        let mut reply = cx.reply("data", summary(&p, &d));
        reply.attachments.push(Attach::Workbook {
            file: "mine-data.xlsx".into(),
            sheets: tables(&p, &d, cx.language(), true),
        });
        Plan::reply(KIND, Outcome::Ok, reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Command;
    use crate::register::{AddressRow, PendingRow};
    use crate::testing::{Values, decide, sender};

    fn kari() -> PersonDetail {
        PersonDetail {
            id: 1,
            member_no: Some("50001".into()),
            name: "Kari Nordmann".into(),
            national_id: Some("01019012345".into()),
            status: "active".into(),
            addresses: vec![AddressRow {
                email: "kari@example.no".into(),
                verified: true,
                added_at: "2026-01-02".into(),
            }],
            ..PersonDetail::default()
        }
    }

    #[test]
    fn every_part_is_a_sheet_and_the_personal_number_stays_home() {
        let data = PersonData {
            pending: vec![PendingRow {
                reference: "PB-2026-000004".into(),
                kind: "resign".into(),
                summary: "melder seg ut".into(),
                status: "pending".into(),
                created_at: "2026-11-19".into(),
                decided_at: None,
            }],
            ..PersonData::default()
        };
        let reads = Values {
            person: Some(kari()),
            data,
            ..Values::default()
        };
        let me = sender("kari@example.no", false, false, false, true);
        let p = decide(&Command::MyData(MyData), &me, &reads);
        assert_eq!(p.result, Outcome::Ok);
        let Attach::Workbook { sheets, .. } = &p.replies[0].attachments[0] else {
            panic!("a workbook");
        };
        let names: Vec<&str> = sheets.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Person",
                "E-post",
                "Arbeidsforhold",
                "Medlemskap",
                "Verv",
                "Likeperson",
                "Til behandling",
                "Henvendelser",
                "Meldinger",
                "Svar",
                "Arbeidsgiverkontakt"
            ]
        );
        assert_eq!(sheets[0].rows[3][1], "010190*****");
        assert_eq!(sheets[6].rows[0][0], "PB-2026-000004");
        let office = tables(&kari(), &PersonData::default(), Language::En, false);
        assert_eq!(office[0].rows[3], ["National id", "01019012345"]);
    }

    #[test]
    fn an_address_not_the_members_own_gets_nothing() {
        let reads = Values {
            person: Some(kari()),
            ..Values::default()
        };
        let other = sender("kari.jobb@example.no", false, false, false, true);
        let p = decide(&Command::MyData(MyData), &other, &reads);
        assert_eq!(p.result, Outcome::Rejected);
        assert!(p.replies[0].attachments.is_empty());
    }

    #[test]
    fn masking_keeps_the_birth_date() {
        assert_eq!(masked("01019012345"), "010190*****");
        assert_eq!(masked("0101901234"), "010190****");
    }
}
