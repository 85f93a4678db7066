//! `postbud import`: CSV files with a header row (SPEC section 12), columns in
//! any order. Every row is checked first; one bad row and nothing of the file
//! is applied, and every bad row is reported with its line number.

use super::{audit, ts};
use anyhow::{Result, bail};
use chrono::{DateTime, NaiveDate, Utc};
use postbud_commands::words::duties;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;

/// What can be imported in this version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImportKind {
    Units,
    Employers,
    Members,
    Peers,
    Roles,
    /// Access beyond a role's scope: `epost, enhet, orgnr, grunn, fra, til`.
    Grants,
    Contacts,
}

/// A file's rows, by column name, with their line numbers.
pub struct Table {
    pub rows: Vec<(usize, HashMap<String, String>)>,
}

/// Bad rows, each `line N: what`.
#[derive(Debug, thiserror::Error)]
#[error("{file}: nothing was imported:\n{}", .problems.join("\n"))]
pub struct ImportError {
    pub file: String,
    pub problems: Vec<String>,
}

/// Reads CSV text; checks that `required` columns are there.
pub fn read_csv(file: &str, text: &str, required: &[&str], known: &[&str]) -> Result<Table> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = rdr
        .headers()?
        .iter()
        .map(|h| h.trim().to_lowercase())
        .collect();
    let mut problems = Vec::new();
    for r in required {
        if !headers.iter().any(|h| h == r) {
            problems.push(format!("line 1: the column `{r}` is missing"));
        }
    }
    for h in &headers {
        if !known.contains(&h.as_str()) {
            problems.push(format!(
                "line 1: unknown column `{h}` (known: {})",
                known.join(", ")
            ));
        }
    }
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line() as usize).unwrap_or(0);
                problems.push(format!("line {line}: {e}"));
                continue;
            }
        };
        let line = rec.position().map(|p| p.line() as usize).unwrap_or(0);
        if rec.iter().all(|c| c.is_empty()) {
            continue;
        }
        if rec.len() > headers.len() {
            problems.push(format!(
                "line {line}: {} cells, but the header has {} columns",
                rec.len(),
                headers.len()
            ));
            continue;
        }
        let map = headers
            .iter()
            .cloned()
            .zip(rec.iter().map(str::to_string))
            .collect();
        rows.push((line, map));
    }
    if !problems.is_empty() {
        return Err(ImportError {
            file: file.to_string(),
            problems,
        }
        .into());
    }
    Ok(Table { rows })
}

fn cell<'a>(row: &'a HashMap<String, String>, k: &str) -> Option<&'a str> {
    row.get(k).map(String::as_str).filter(|s| !s.is_empty())
}

/// Imports a file of `kind` in one transaction. Returns the rows applied.
pub fn import(
    conn: &mut Connection,
    kind: ImportKind,
    file: &str,
    text: &str,
    now: DateTime<Utc>,
    progress: &dyn Fn(usize, usize),
) -> Result<usize> {
    let tx = conn.transaction()?;
    let (n, problems) = match kind {
        ImportKind::Units => units(&tx, file, text, now)?,
        ImportKind::Employers => employers(&tx, file, text, now)?,
        ImportKind::Members => members(&tx, file, text, now, progress)?,
        ImportKind::Peers => peers(&tx, file, text, now)?,
        ImportKind::Roles => roles(&tx, file, text, now)?,
        ImportKind::Grants => grants(&tx, file, text, now)?,
        ImportKind::Contacts => contacts(&tx, file, text, now)?,
    };
    if !problems.is_empty() {
        return Err(ImportError {
            file: file.to_string(),
            problems,
        }
        .into());
    }
    tx.commit()?;
    Ok(n)
}

fn unit_id(conn: &Connection, name: &str) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT id FROM units WHERE name = ?1")?
        .query_row([name], |r| r.get(0))
        .optional()?)
}

fn units(
    conn: &Connection,
    file: &str,
    text: &str,
    now: DateTime<Utc>,
) -> Result<(usize, Vec<String>)> {
    let t = read_csv(file, text, &["navn", "type"], &["navn", "type", "forelder"])?;
    let mut problems = Vec::new();
    // Parents may come after children in the file: insert all, then link.
    for (line, row) in &t.rows {
        let Some(name) = cell(row, "navn") else {
            problems.push(format!("line {line}: `navn` is empty"));
            continue;
        };
        let ty = cell(row, "type").unwrap_or("");
        if !["lag", "region", "forbund"].contains(&ty) {
            problems.push(format!(
                "line {line}: type `{ty}` is not lag, region or forbund"
            ));
            continue;
        }
        conn.execute(
            "INSERT INTO units (name, type) VALUES (?1, ?2) ON CONFLICT(name) DO UPDATE SET type = excluded.type",
            params![name, ty],
        )?;
    }
    for (line, row) in &t.rows {
        let (Some(name), Some(parent)) = (cell(row, "navn"), cell(row, "forelder")) else {
            continue;
        };
        match unit_id(conn, parent)? {
            Some(pid) => {
                conn.execute(
                    "UPDATE units SET parent_id = ?2 WHERE name = ?1",
                    params![name, pid],
                )?;
            }
            None => problems.push(format!(
                "line {line}: parent unit `{parent}` is not in the file or the register"
            )),
        }
    }
    imported(conn, now, "units", file, t.rows.len())?;
    Ok((t.rows.len(), problems))
}

/// A Norwegian organisation number: 9 digits with a mod-11 check digit.
pub fn valid_orgnr(s: &str) -> Option<String> {
    let d: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
    if d.len() != 9 {
        return None;
    }
    let w = [3, 2, 7, 6, 5, 4, 3, 2];
    let digits: Vec<u32> = d.chars().filter_map(|c| c.to_digit(10)).collect();
    let sum: u32 = digits.iter().zip(w).map(|(a, b)| a * b).sum();
    let check = match 11 - sum % 11 {
        11 => 0,
        10 => return None,
        c => c,
    };
    (check == digits[8]).then_some(d)
}

fn employers(
    conn: &Connection,
    file: &str,
    text: &str,
    now: DateTime<Utc>,
) -> Result<(usize, Vec<String>)> {
    let t = read_csv(file, text, &["orgnr", "navn"], &["orgnr", "navn", "enhet"])?;
    let mut problems = Vec::new();
    for (line, row) in &t.rows {
        let raw = cell(row, "orgnr").unwrap_or("");
        let Some(orgnr) = valid_orgnr(raw) else {
            problems.push(format!(
                "line {line}: `{raw}` is not a valid organisation number (9 digits, mod-11)"
            ));
            continue;
        };
        let Some(name) = cell(row, "navn") else {
            problems.push(format!("line {line}: `navn` is empty"));
            continue;
        };
        let unit = match unit_cell(conn, row, "enhet")? {
            Ok(u) => u,
            Err(e) => {
                problems.push(format!("line {line}: {e}"));
                continue;
            }
        };
        conn.execute(
            "INSERT INTO employers (orgnr, name, unit_id) VALUES (?1, ?2, ?3)
             ON CONFLICT(orgnr) DO UPDATE SET name = excluded.name, unit_id = excluded.unit_id",
            params![orgnr, name, unit],
        )?;
    }
    imported(conn, now, "employers", file, t.rows.len())?;
    Ok((t.rows.len(), problems))
}

const MEMBER_COLUMNS: &[&str] = &[
    "medlemsnr",
    "navn",
    "fodselsdato",
    "fodselsnummer",
    "epost",
    "telefon",
    "arbeidsgiver_orgnr",
    "arbeidssted",
    "stilling",
    "enhet",
    "sprak",
    "status",
];

fn members(
    conn: &Connection,
    file: &str,
    text: &str,
    now: DateTime<Utc>,
    progress: &dyn Fn(usize, usize),
) -> Result<(usize, Vec<String>)> {
    let t = read_csv(file, text, &["medlemsnr", "navn"], MEMBER_COLUMNS)?;
    let mut problems = Vec::new();
    let total = t.rows.len();
    let stamp = ts(now);
    for (i, (line, row)) in t.rows.iter().enumerate() {
        if i % 1000 == 0 {
            progress(i, total);
        }
        let mut bad = |what: String| problems.push(format!("line {line}: {what}"));
        let Some(no) = cell(row, "medlemsnr") else {
            bad("`medlemsnr` is empty".into());
            continue;
        };
        let Some(name) = cell(row, "navn") else {
            bad("`navn` is empty".into());
            continue;
        };
        let birth = match cell(row, "fodselsdato") {
            Some(d) => match NaiveDate::parse_from_str(d, "%Y-%m-%d") {
                Ok(d) => Some(d.to_string()),
                Err(_) => {
                    bad(format!("`fodselsdato` `{d}` is not a date (YYYY-MM-DD)"));
                    continue;
                }
            },
            None => None,
        };
        let nid = match cell(row, "fodselsnummer") {
            Some(n) => {
                let d: String = n.chars().filter(|c| c.is_ascii_digit()).collect();
                let d =
                    if d.len() == 10 && n.chars().all(|c| c.is_ascii_digit()) && !n.contains('-') {
                        format!("0{d}")
                    } else {
                        d
                    };
                if d.len() != 11 && d.len() != 10 {
                    bad(format!(
                        "`fodselsnummer` `{n}` is not 11 (or a Danish CPR's 10) digits"
                    ));
                    continue;
                }
                Some(d)
            }
            None => None,
        };
        let lang = match cell(row, "sprak") {
            Some(l) => match crate::config::Language::parse(l) {
                Some(l) => Some(l.code()),
                None => {
                    bad(format!("`sprak` `{l}` is not nb, nn, da or en"));
                    continue;
                }
            },
            None => None,
        };
        let employer = match employer_cell(conn, row, "arbeidsgiver_orgnr")? {
            Ok(e) => e,
            Err(e) => {
                bad(e);
                continue;
            }
        };
        let unit = match unit_cell(conn, row, "enhet")? {
            Ok(u) => u,
            Err(e) => {
                bad(e);
                continue;
            }
        };
        let workplace = match (employer, cell(row, "arbeidssted")) {
            (Some(e), Some(w)) => {
                conn.execute(
                    "INSERT OR IGNORE INTO workplaces (employer_id, name) VALUES (?1, ?2)",
                    params![e, w],
                )?;
                Some(conn.query_row(
                    "SELECT id FROM workplaces WHERE employer_id = ?1 AND name = ?2",
                    params![e, w],
                    |r| r.get::<_, i64>(0),
                )?)
            }
            (None, Some(_)) => {
                bad("`arbeidssted` without `arbeidsgiver_orgnr`".into());
                continue;
            }
            _ => None,
        };
        let status = cell(row, "status").unwrap_or("active");
        conn.execute(
            "INSERT INTO people (member_no, name, birth_date, national_id, phone, language, employer_id,
                                 workplace_id, position, unit_id, status, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)
             ON CONFLICT(member_no) DO UPDATE SET name = excluded.name, birth_date = excluded.birth_date,
                 national_id = excluded.national_id, phone = excluded.phone, language = excluded.language,
                 employer_id = excluded.employer_id, workplace_id = excluded.workplace_id,
                 position = excluded.position, unit_id = excluded.unit_id, status = excluded.status,
                 updated_at = excluded.updated_at",
            params![
                no,
                name,
                birth,
                nid,
                cell(row, "telefon"),
                lang,
                employer,
                workplace,
                cell(row, "stilling"),
                unit,
                status,
                stamp
            ],
        )?;
        let pid: i64 = conn.query_row("SELECT id FROM people WHERE member_no = ?1", [no], |r| {
            r.get(0)
        })?;
        for email in cell(row, "epost").unwrap_or("").split('|') {
            let email = email.trim().to_lowercase();
            if email.is_empty() {
                continue;
            }
            if !email.contains('@') {
                bad(format!("`{email}` is not a mail address"));
                continue;
            }
            let owner: Option<i64> = conn
                .query_row(
                    "SELECT person_id FROM addresses WHERE email = ?1",
                    [&email],
                    |r| r.get(0),
                )
                .optional()?;
            match owner {
                Some(o) if o != pid => bad(format!("`{email}` already belongs to another person")),
                Some(_) => {}
                None => {
                    conn.execute(
                        "INSERT INTO addresses (person_id, email, verified, added_at) VALUES (?1, ?2, 1, ?3)",
                        params![pid, email, stamp],
                    )?;
                }
            }
        }
    }
    progress(total, total);
    imported(conn, now, "members", file, total)?;
    Ok((total, problems))
}

/// Reads a file for import, naming it in the error.
pub fn read_file(path: &std::path::Path) -> Result<String> {
    match std::fs::read(path) {
        Ok(b) => match String::from_utf8(b) {
            Ok(s) => Ok(s),
            Err(_) => bail!(
                "`{}` is not UTF-8 text (save the CSV as UTF-8)",
                path.display()
            ),
        },
        Err(e) => bail!("cannot read `{}`: {e}", path.display()),
    }
}

/// A unit named in a cell: `Ok(None)` when the cell is empty, `Err` with the
/// problem when no such unit is registered.
fn unit_cell(
    conn: &Connection,
    row: &HashMap<String, String>,
    col: &str,
) -> Result<Result<Option<i64>, String>> {
    Ok(match cell(row, col) {
        None => Ok(None),
        Some(u) => match unit_id(conn, u)? {
            Some(id) => Ok(Some(id)),
            None => Err(format!(
                "unit `{u}` is not in the register (import units first)"
            )),
        },
    })
}

/// An employer by organisation number in a cell, like `unit_cell`.
fn employer_cell(
    conn: &Connection,
    row: &HashMap<String, String>,
    col: &str,
) -> Result<Result<Option<i64>, String>> {
    Ok(match cell(row, col) {
        None => Ok(None),
        Some(o) => {
            let id = match valid_orgnr(o) {
                Some(n) => conn
                    .prepare_cached("SELECT id FROM employers WHERE orgnr = ?1")?
                    .query_row([n], |r| r.get(0))
                    .optional()?,
                None => None,
            };
            match id {
                Some(id) => Ok(Some(id)),
                None => Err(format!(
                    "employer `{o}` is not in the register (import employers first)"
                )),
            }
        }
    })
}

fn date_cell(row: &HashMap<String, String>, col: &str) -> Result<Option<String>, String> {
    match cell(row, col) {
        None => Ok(None),
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map(|d| Some(d.to_string()))
            .map_err(|_| format!("`{col}` `{d}` is not a date (YYYY-MM-DD)")),
    }
}

/// The person an address belongs to, or a new person with that address.
pub fn person_for(
    conn: &Connection,
    email: Option<&str>,
    name: &str,
    phone: Option<&str>,
    stamp: &str,
) -> Result<i64> {
    if let Some(e) = email
        && let Some(id) = conn
            .query_row(
                "SELECT person_id FROM addresses WHERE email = ?1",
                [e],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
    {
        return Ok(id);
    }
    conn.execute(
        "INSERT INTO people (name, phone, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)",
        params![name, phone, stamp],
    )?;
    let id = conn.last_insert_rowid();
    if let Some(e) = email {
        conn.execute(
            "INSERT INTO addresses (person_id, email, verified, added_at) VALUES (?1, ?2, 1, ?3)",
            params![id, e, stamp],
        )?;
    }
    Ok(id)
}

fn peers(
    conn: &Connection,
    file: &str,
    text: &str,
    now: DateTime<Utc>,
) -> Result<(usize, Vec<String>)> {
    let t = read_csv(
        file,
        text,
        &["likepersonnr", "navn", "enhet"],
        &["likepersonnr", "navn", "epost", "telefon", "enhet"],
    )?;
    let mut problems = Vec::new();
    let stamp = ts(now);
    for (line, row) in &t.rows {
        let mut bad = |what: String| problems.push(format!("line {line}: {what}"));
        let (Some(no), Some(name)) = (cell(row, "likepersonnr"), cell(row, "navn")) else {
            bad("`likepersonnr` and `navn` must be filled in".into());
            continue;
        };
        let unit = match unit_cell(conn, row, "enhet")? {
            Ok(Some(u)) => u,
            Ok(None) => {
                bad("`enhet` is empty".into());
                continue;
            }
            Err(e) => {
                bad(e);
                continue;
            }
        };
        let email = cell(row, "epost").map(|e| e.to_lowercase());
        if email.as_deref().is_some_and(|e| !e.contains('@')) {
            bad(format!(
                "`{}` is not a mail address",
                email.unwrap_or_default()
            ));
            continue;
        }
        let existing: Option<i64> = conn
            .query_row(
                "SELECT person_id FROM peers WHERE peer_no = ?1",
                [no],
                |r| r.get(0),
            )
            .optional()?;
        let person = match existing {
            Some(p) => p,
            None => person_for(conn, email.as_deref(), name, cell(row, "telefon"), &stamp)?,
        };
        conn.execute(
            "UPDATE people SET name = ?2, phone = COALESCE(?3, phone), updated_at = ?4 WHERE id = ?1",
            params![person, name, cell(row, "telefon"), stamp],
        )?;
        conn.execute(
            "INSERT INTO peers (peer_no, person_id, unit_id, registered_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(peer_no) DO UPDATE SET unit_id = excluded.unit_id",
            params![no, person, unit, stamp],
        )?;
    }
    imported(conn, now, "peers", file, t.rows.len())?;
    Ok((t.rows.len(), problems))
}

const ROLES: &[&str] = &["tillitsvalgt", "vara", "koordinator", "admin"];
const LEVELS: &[&str] = &["arbeidsgiver", "mellomniva", "arbeidssted", "enhet"];

fn roles(
    conn: &Connection,
    file: &str,
    text: &str,
    now: DateTime<Utc>,
) -> Result<(usize, Vec<String>)> {
    let t = read_csv(
        file,
        text,
        &["epost", "rolle", "niva"],
        &[
            "epost",
            "rolle",
            "niva",
            "orgnr",
            "arbeidssted",
            "enhet",
            "fra",
            "til",
        ],
    )?;
    let mut problems = Vec::new();
    for (line, row) in &t.rows {
        let mut bad = |what: String| problems.push(format!("line {line}: {what}"));
        let email = cell(row, "epost").unwrap_or("").to_lowercase();
        let role = cell(row, "rolle").unwrap_or("").to_lowercase();
        let level = cell(row, "niva")
            .unwrap_or("")
            .to_lowercase()
            .replace('å', "a");
        if !email.contains('@') {
            bad(format!("`{email}` is not a mail address"));
            continue;
        }
        if !ROLES.contains(&role.as_str()) {
            bad(format!("rolle `{role}` is not one of {}", ROLES.join(", ")));
            continue;
        }
        if !LEVELS.contains(&level.as_str()) {
            bad(format!(
                "niva `{level}` is not one of {}",
                LEVELS.join(", ")
            ));
            continue;
        }
        let (unit, employer) = match (
            unit_cell(conn, row, "enhet")?,
            employer_cell(conn, row, "orgnr")?,
        ) {
            (Ok(u), Ok(e)) => (u, e),
            (Err(e), _) | (_, Err(e)) => {
                bad(e);
                continue;
            }
        };
        let (from, to) = match (date_cell(row, "fra"), date_cell(row, "til")) {
            (Ok(f), Ok(t)) => (f, t),
            (Err(e), _) | (_, Err(e)) => {
                bad(e);
                continue;
            }
        };
        let needs = match level.as_str() {
            "enhet" if unit.is_none() => Some("`enhet`"),
            "arbeidsgiver" | "mellomniva" | "arbeidssted" if employer.is_none() => Some("`orgnr`"),
            "mellomniva" | "arbeidssted" if cell(row, "arbeidssted").is_none() => {
                Some("`arbeidssted`")
            }
            _ => None,
        };
        if let Some(col) = needs {
            bad(format!("niva `{level}` needs {col}"));
            continue;
        }
        let (workplace, midlevel) = match (level.as_str(), employer, cell(row, "arbeidssted")) {
            ("arbeidssted", Some(e), Some(w)) => {
                conn.execute(
                    "INSERT OR IGNORE INTO workplaces (employer_id, name) VALUES (?1, ?2)",
                    params![e, w],
                )?;
                let id: i64 = conn.query_row(
                    "SELECT id FROM workplaces WHERE employer_id = ?1 AND name = ?2",
                    params![e, w],
                    |r| r.get(0),
                )?;
                (Some(id), None)
            }
            ("mellomniva", _, Some(m)) => (None, Some(m.to_string())),
            _ => (None, None),
        };
        let person: Option<i64> = conn
            .query_row(
                "SELECT person_id FROM addresses WHERE email = ?1",
                [&email],
                |r| r.get(0),
            )
            .optional()?;
        let exists: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM roles WHERE email = ?1 AND role = ?2 AND level = ?3
                 AND employer_id IS ?4 AND workplace_id IS ?5 AND unit_id IS ?6 AND midlevel IS ?7
                 AND valid_from IS ?8)",
            params![
                email, role, level, employer, workplace, unit, midlevel, from
            ],
            |r| r.get(0),
        )?;
        if exists {
            conn.execute(
                "UPDATE roles SET valid_to = ?9, person_id = ?10 WHERE email = ?1 AND role = ?2 AND level = ?3
                 AND employer_id IS ?4 AND workplace_id IS ?5 AND unit_id IS ?6 AND midlevel IS ?7
                 AND valid_from IS ?8",
                params![email, role, level, employer, workplace, unit, midlevel, from, to, person],
            )?;
        } else {
            conn.execute(
                "INSERT INTO roles (email, person_id, role, level, employer_id, workplace_id, unit_id, midlevel,
                                    valid_from, valid_to)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![email, person, role, level, employer, workplace, unit, midlevel, from, to],
            )?;
        }
    }
    imported(conn, now, "roles", file, t.rows.len())?;
    Ok((t.rows.len(), problems))
}

fn grants(
    conn: &Connection,
    file: &str,
    text: &str,
    now: DateTime<Utc>,
) -> Result<(usize, Vec<String>)> {
    let t = read_csv(
        file,
        text,
        &["epost", "grunn"],
        &["epost", "enhet", "orgnr", "grunn", "fra", "til"],
    )?;
    let mut problems = Vec::new();
    for (line, row) in &t.rows {
        let mut bad = |what: String| problems.push(format!("line {line}: {what}"));
        let email = cell(row, "epost").unwrap_or("").to_lowercase();
        if !email.contains('@') {
            bad(format!("`{email}` is not a mail address"));
            continue;
        }
        let Some(reason) = cell(row, "grunn") else {
            bad("`grunn` is empty: every grant needs a reason".into());
            continue;
        };
        let (unit, employer) = match (
            unit_cell(conn, row, "enhet")?,
            employer_cell(conn, row, "orgnr")?,
        ) {
            (Ok(None), Ok(None)) => {
                bad("a grant needs `enhet` or `orgnr`".into());
                continue;
            }
            (Ok(u), Ok(e)) => (u, e),
            (Err(e), _) | (_, Err(e)) => {
                bad(e);
                continue;
            }
        };
        let (from, to) = match (date_cell(row, "fra"), date_cell(row, "til")) {
            (Ok(f), Ok(t)) => (f, t),
            (Err(e), _) | (_, Err(e)) => {
                bad(e);
                continue;
            }
        };
        conn.execute(
            "INSERT INTO grants (email, unit_id, employer_id, reason, valid_from, valid_to)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![email, unit, employer, reason, from, to],
        )?;
    }
    imported(conn, now, "grants", file, t.rows.len())?;
    Ok((t.rows.len(), problems))
}

/// The audit row of an import.
fn imported(
    conn: &Connection,
    now: DateTime<Utc>,
    what: &str,
    file: &str,
    rows: usize,
) -> Result<()> {
    audit(
        conn,
        now,
        None,
        "import",
        "import",
        what,
        Some(file),
        Some(&format!("{rows} rows")),
    )
}

fn contacts(
    conn: &Connection,
    file: &str,
    text: &str,
    now: DateTime<Utc>,
) -> Result<(usize, Vec<String>)> {
    let t = read_csv(
        file,
        text,
        &["epost", "orgnr"],
        &[
            "epost",
            "navn",
            "telefon",
            "orgnr",
            "ansvar",
            "erklaering_akseptert",
        ],
    )?;
    let mut problems = Vec::new();
    for (line, row) in &t.rows {
        let mut bad = |what: String| problems.push(format!("line {line}: {what}"));
        let email = cell(row, "epost").unwrap_or("").to_lowercase();
        if !email.contains('@') {
            bad(format!("`{email}` is not a mail address"));
            continue;
        }
        let employer = match employer_cell(conn, row, "orgnr")? {
            Ok(Some(e)) => e,
            Ok(None) => {
                bad("`orgnr` is empty".into());
                continue;
            }
            Err(e) => {
                bad(e);
                continue;
            }
        };
        let duties = match duties(cell(row, "ansvar").unwrap_or("")) {
            Ok(d) => d,
            Err(word) => {
                bad(format!(
                    "responsibility `{word}` is not one of {}",
                    postbud_commands::words::DUTIES.join(", ")
                ));
                continue;
            }
        };
        let declaration = match date_cell(row, "erklaering_akseptert") {
            Ok(d) => d,
            Err(e) => {
                bad(e);
                continue;
            }
        };
        conn.execute(
            "INSERT INTO contacts (email, name, phone, employer_id, duties, declaration) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(email, employer_id) DO UPDATE SET name = excluded.name, phone = excluded.phone,
                 duties = excluded.duties, declaration = COALESCE(excluded.declaration, declaration)",
            params![email, cell(row, "navn"), cell(row, "telefon"), employer, duties, declaration],
        )?;
    }
    imported(conn, now, "contacts", file, t.rows.len())?;
    Ok((t.rows.len(), problems))
}
