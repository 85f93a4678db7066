//! Finding the header row by its column names (Norwegian, Danish,
//! English), and telling sum rows from people.

/// What a column holds, as its header names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    /// Fødselsnummer, personnummer, fnr, CPR, national id.
    NationalId,
    /// Fødselsdato, født, birth date.
    BirthDate,
    /// The whole name (`Navn`, `Name`, `Etternavn, fornavn`).
    Name,
    /// The family name alone (`Etternavn`, `Efternavn`, `Last name`).
    LastName,
    /// The given name alone (`Fornavn`, `First name`).
    FirstName,
    /// Ansattnummer, ansattnr, employee no.
    EmployeeNo,
    /// Beløp, trekk, kontingent, amount.
    Amount,
    /// Periode, måned, period.
    Period,
    /// Organisasjonsnummer, orgnr.
    OrgNr,
}

impl Column {
    /// A stable name for logs and receipts.
    pub fn code(self) -> &'static str {
        match self {
            Column::NationalId => "national-id",
            Column::BirthDate => "birth-date",
            Column::Name => "name",
            Column::LastName => "last-name",
            Column::FirstName => "first-name",
            Column::EmployeeNo => "employee-no",
            Column::Amount => "amount",
            Column::Period => "period",
            Column::OrgNr => "orgnr",
        }
    }
}

/// Header text folded for comparison: lower case, letters and digits only
/// (`Fødselsnr.` -> `fødselsnr`, `Employee No.` -> `employeeno`); `aa` and
/// `oe`/`o` spellings of æ ø å are compared through `fold_ascii`.
pub fn normalise(text: &str) -> String {
    text.chars()
        .take(200)
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// The ASCII spelling of a folded header: `ø` -> `o`, `æ` -> `ae`,
/// `å` -> `a`, and `oe`/`aa` written for them -> `o`/`a`.
fn fold_ascii(s: &str) -> String {
    let mut t = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            'ø' | 'ö' | 'ó' => t.push('o'),
            'æ' | 'ä' => t.push_str("ae"),
            'å' | 'á' | 'à' => t.push('a'),
            'é' | 'è' => t.push('e'),
            _ => t.push(c),
        }
    }
    t.replace("oe", "o").replace("aa", "a")
}

/// What a header cell names, if anything we read. Matching is on the
/// folded text ([`normalise`], then without æøå), by whole name or by
/// the start of a name (`Fødselsnummer (11 siffer)`), for amounts also by
/// a part of the name (`Månedlig trekk`).
pub fn classify(header: &str) -> Option<Column> {
    classify_scored(header).map(|(column, _)| column)
}

/// [`classify`] with how sure the match is: 2 for a whole name or the
/// start of one, 1 for a part of the name.
fn classify_scored(header: &str) -> Option<(Column, u8)> {
    let n = normalise(header);
    if n.is_empty() || n.len() > 60 {
        return None;
    }
    let a = fold_ascii(&n);
    let a = a.as_str();
    let starts = |prefixes: &[&str]| prefixes.iter().any(|p| a.starts_with(p));
    let is = |names: &[&str]| names.contains(&a);
    let has = |parts: &[&str]| parts.iter().any(|p| a.contains(p));

    if starts(&[
        "fodselsnr",
        "fodselsnum",
        "personnr",
        "personnum",
        "cpr",
        "nationalid",
        "dnr",
        "dnum",
    ]) || is(&[
        "fnr", "fnrdnr", "pnr", "ssn", "idnr", "idnummer", "nin", "personid",
    ]) || has(&["fodselsnummer", "personnummer", "nationalid"])
    {
        return Some((Column::NationalId, 2));
    }
    if starts(&[
        "fodselsdato",
        "fodselsdag",
        "fodt",
        "fodd",
        "birthdate",
        "dateofbirth",
        "birthday",
    ]) || is(&["dob", "fdato", "fodsel"])
    {
        return Some((Column::BirthDate, 2));
    }
    if starts(&[
        "orgnr",
        "orgnum",
        "organisasjonsnr",
        "organisasjonsnum",
        "organisationsnr",
    ]) || starts(&[
        "organisationsnum",
        "organizationnum",
        "organizationno",
        "orgno",
    ]) || is(&[
        "virksomhetsnummer",
        "virksomhetsnr",
        "foretaksnummer",
        "foretaksnr",
    ]) {
        return Some((Column::OrgNr, 2));
    }
    if starts(&[
        "periode",
        "period",
        "maned",
        "month",
        "lonnsperiode",
        "trekkperiode",
        "trekkmaned",
    ]) || is(&["mnd", "termin"])
    {
        return Some((Column::Period, 2));
    }
    if starts(&[
        "ansattnr",
        "ansattnum",
        "ansattno",
        "ansattid",
        "ansnr",
        "employeeno",
        "employeenum",
    ]) || starts(&[
        "employeenr",
        "employeeid",
        "empno",
        "empid",
        "medarbejdernr",
        "medarbejdernum",
    ]) || starts(&[
        "medarbeidernr",
        "lonnsnr",
        "lonnr",
        "lonnsnummer",
        "personalnr",
        "personalnum",
        "staffno",
    ]) {
        return Some((Column::EmployeeNo, 2));
    }
    // Codes, kinds, dates and rates of a deduction are no amount, nor is the
    // list's title.
    let not_amount = has(&[
        "kode", "code", "type", "dato", "date", "prosent", "percent", "sats", "trekkart", "liste",
        "list",
    ]);
    if !not_amount {
        if starts(&[
            "belop",
            "belob",
            "trekk",
            "kontingent",
            "amount",
            "fagforeningstrekk",
            "fradrag",
        ]) || starts(&["deduction", "dues"])
            || is(&["kr", "nok", "dkk", "sum", "sumtrekk"])
        {
            // "Sum" alone heads an amount column; a sum *row* is told apart
            // by [`is_sum_label`] below the header.
            return Some((Column::Amount, 2));
        }
        if has(&["trekk", "belop", "belob", "kontingent", "amount"]) {
            return Some((Column::Amount, 1));
        }
    }
    let last = has(&[
        "etternavn",
        "efternavn",
        "lastname",
        "surname",
        "familyname",
        "slektsnavn",
    ]);
    let first = has(&["fornavn", "firstname", "givenname"]);
    match (last, first) {
        (true, true) => return Some((Column::Name, 2)),
        (true, false) => return Some((Column::LastName, 2)),
        (false, true) => return Some((Column::FirstName, 2)),
        (false, false) => {}
    }
    if is(&[
        "navn",
        "name",
        "fulltnavn",
        "fullname",
        "fuldtnavn",
        "ansattnavn",
        "ansatt",
        "medlemsnavn",
    ]) || is(&[
        "membername",
        "employeename",
        "employee",
        "medarbejder",
        "medarbejdernavn",
        "medlem",
    ]) || is(&[
        "member",
        "navnansatt",
        "arbeidstaker",
        "arbeidstakernavn",
        "ansattesnavn",
    ]) {
        return Some((Column::Name, 2));
    }
    None
}

/// The columns a row would give as a header: for each kind the cell that
/// names it best, the leftmost among equals, with the cell's index and
/// text, ordered by index. A row is the header when [`is_header`] says so.
pub fn columns_of(cells: &[(usize, String)]) -> Vec<(Column, usize, String)> {
    let mut best: Vec<(Column, u8, usize, &str)> = Vec::new();
    for (index, text) in cells {
        let Some((column, score)) = classify_scored(text) else {
            continue;
        };
        match best.iter_mut().find(|(c, ..)| *c == column) {
            Some(b) if b.1 < score => *b = (column, score, *index, text),
            Some(_) => {}
            None => best.push((column, score, *index, text)),
        }
    }
    let mut out: Vec<(Column, usize, String)> = best
        .into_iter()
        .map(|(c, _, i, t)| (c, i, t.trim().to_string()))
        .collect();
    out.sort_by_key(|(_, i, _)| *i);
    out
}

/// A header names who (a national id or a birth date) and how much.
pub fn is_header(columns: &[(Column, usize, String)]) -> bool {
    let has = |c: Column| columns.iter().any(|(k, _, _)| *k == c);
    (has(Column::NationalId) || has(Column::BirthDate)) && has(Column::Amount)
}

/// A text cell that labels a sum row: its first word is `Sum`, `Summa`,
/// `Summer`, `Total`, `Totalt`, `Totalsum`, `I alt`/`Ialt` (any case, a
/// colon after it allowed).
pub fn is_sum_label(text: &str) -> bool {
    let lower = text.trim().to_lowercase();
    let first: String = lower
        .split(|c: char| !c.is_alphanumeric())
        .find(|w| !w.is_empty())
        .unwrap_or("")
        .to_string();
    if matches!(
        first.as_str(),
        "sum" | "summa" | "summer" | "total" | "totalt" | "totalsum" | "ialt" | "totaler"
    ) {
        return true;
    }
    let words: Vec<&str> = lower.split_whitespace().collect();
    words.len() >= 2 && words[0] == "i" && words[1].trim_end_matches([':', '.']) == "alt"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names() {
        let cases = [
            ("Fødselsnummer", Column::NationalId),
            ("Fødselsnr.", Column::NationalId),
            ("FØDSELSNUMMER (11 siffer)", Column::NationalId),
            ("Fodselsnummer", Column::NationalId),
            ("Foedselsnummer", Column::NationalId),
            ("Personnummer", Column::NationalId),
            ("Personnr", Column::NationalId),
            ("Fnr", Column::NationalId),
            ("F.nr.", Column::NationalId),
            ("CPR", Column::NationalId),
            ("CPR-nr.", Column::NationalId),
            ("National ID", Column::NationalId),
            ("Fødselsnummer/D-nummer", Column::NationalId),
            ("Fødselsdato", Column::BirthDate),
            ("Født", Column::BirthDate),
            ("Født dato", Column::BirthDate),
            ("Birth date", Column::BirthDate),
            ("Date of birth", Column::BirthDate),
            ("Navn", Column::Name),
            ("Name", Column::Name),
            ("Etternavn, fornavn", Column::Name),
            ("Etternavn", Column::LastName),
            ("Efternavn", Column::LastName),
            ("Last name", Column::LastName),
            ("Fornavn", Column::FirstName),
            ("First name", Column::FirstName),
            ("Ansattnummer", Column::EmployeeNo),
            ("Ansattnr", Column::EmployeeNo),
            ("Ansatt nr.", Column::EmployeeNo),
            ("Employee no.", Column::EmployeeNo),
            ("Employee number", Column::EmployeeNo),
            ("Medarbejdernr", Column::EmployeeNo),
            ("Beløp", Column::Amount),
            ("Beløb", Column::Amount),
            ("Belop", Column::Amount),
            ("Trekk", Column::Amount),
            ("Trekk (kr)", Column::Amount),
            ("Kontingent", Column::Amount),
            ("Kontingenttrekk", Column::Amount),
            ("Fagforeningstrekk", Column::Amount),
            ("Amount", Column::Amount),
            ("Periode", Column::Period),
            ("Period", Column::Period),
            ("Trekkperiode", Column::Period),
            ("Måned", Column::Period),
            ("Orgnr", Column::OrgNr),
            ("Org.nr.", Column::OrgNr),
            ("Organisasjonsnummer", Column::OrgNr),
        ];
        for (text, want) in cases {
            assert_eq!(classify(text), Some(want), "{text:?}");
        }
        for text in [
            "",
            "Trekkliste Bedrift AS",
            "Avdeling",
            "Stilling",
            "Merknad",
            "Kommentar",
            "Dato",
        ] {
            assert_eq!(classify(text), None, "{text:?}");
        }
    }

    #[test]
    fn header_rows() {
        let row = |cells: &[&str]| -> Vec<(usize, String)> {
            cells
                .iter()
                .enumerate()
                .map(|(i, s)| (i, s.to_string()))
                .collect()
        };
        assert!(is_header(&columns_of(&row(&[
            "Fødselsnummer",
            "Navn",
            "Ansattnr",
            "Trekk"
        ]))));
        assert!(is_header(&columns_of(&row(&[
            "Navn",
            "Fødselsdato",
            "Beløp"
        ]))));
        assert!(!is_header(&columns_of(&row(&["Periode: oktober 2026"]))));
        assert!(!is_header(&columns_of(&row(&["Navn", "Beløp"]))));
        let cols = columns_of(&row(&["Fnr", "Fødselsnummer", "Trekk", "Beløp"]));
        assert_eq!(
            cols.iter().map(|(c, i, _)| (*c, *i)).collect::<Vec<_>>(),
            [(Column::NationalId, 0), (Column::Amount, 2)]
        );
    }

    #[test]
    fn sum_labels() {
        for s in [
            "Sum",
            "SUM:",
            "Sum trekk",
            "Totalt",
            "Total",
            "I alt",
            "i alt:",
            "Ialt",
            "Totalsum",
        ] {
            assert!(is_sum_label(s), "{s:?}");
        }
        for s in [
            "Sumstad, Kari",
            "Nordmann, Kari",
            "Totland, Per",
            "Iversen",
            "",
        ] {
            assert!(!is_sum_label(s), "{s:?}");
        }
    }
}
