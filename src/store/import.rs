//! `postbud import`: CSV files with a header row (SPEC section 12), columns in
//! any order. Every row is checked first; one bad row and nothing of the file
//! is applied, and every bad row is reported with its line number (every
//! problem of the row, not only the first).
//!
//! What is checked: national ids (fødselsnummer and D-numbers with both
//! mod-11 checks, Danish CPR numbers with a real date; synthetic test ids
//! only when allowed) and that their date agrees with `fodselsdato`; birth
//! dates (real, not in the future); organisation numbers (9 digits, mod-11);
//! mail addresses (plausible; stored lower-cased); the dates `fra`, `til`
//! and `erklaering_akseptert`; that the units and employers a row names
//! exist (a unit's parent may also be in the same file); roles, levels and
//! responsibilities from their lists; the same thing twice in one file.
//!
//! Each row is compared with what the register holds before anything is
//! written: an unchanged row writes nothing (no `updated_at`, no audit row),
//! so importing the same file twice changes nothing the second time. A
//! column the file does not have leaves that field as it is. The
//! [`Summary`] counts new, changed and unchanged rows and names the fields
//! of each changed row; a dry run does all of it in a transaction that is
//! rolled back.

use super::{audit, ts};
use anyhow::{Result, bail};
use chrono::{DateTime, NaiveDate, Utc};
use postbud_commands::cmd::link::plausible;
use postbud_commands::words::duties;
use postbud_core::lists::ids::{WHY_DATE, WHY_LENGTH, WHY_MOD11, WHY_SYNTHETIC};
use postbud_core::lists::{birth_date_from_id, check_national_id, check_orgnr};
use postbud_core::message::address_key;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::{HashMap, HashSet};
use std::fmt;

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

impl ImportKind {
    /// The name on the command line, and in the audit log.
    pub fn name(self) -> &'static str {
        match self {
            ImportKind::Units => "units",
            ImportKind::Employers => "employers",
            ImportKind::Members => "members",
            ImportKind::Peers => "peers",
            ImportKind::Roles => "roles",
            ImportKind::Grants => "grants",
            ImportKind::Contacts => "contacts",
        }
    }

    /// The columns a file must have, and every column it may have.
    fn columns(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            ImportKind::Units => (&["navn", "type"], &["navn", "type", "forelder"]),
            ImportKind::Employers => (&["orgnr", "navn"], &["orgnr", "navn", "enhet"]),
            ImportKind::Members => (&["medlemsnr", "navn"], MEMBER_COLUMNS),
            ImportKind::Peers => (
                &["likepersonnr", "navn", "enhet"],
                &["likepersonnr", "navn", "epost", "telefon", "enhet"],
            ),
            ImportKind::Roles => (
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
            ),
            ImportKind::Grants => (
                &["epost", "grunn"],
                &["epost", "enhet", "orgnr", "grunn", "fra", "til"],
            ),
            ImportKind::Contacts => (
                &["epost", "orgnr"],
                &[
                    "epost",
                    "navn",
                    "telefon",
                    "orgnr",
                    "ansvar",
                    "erklaering_akseptert",
                ],
            ),
        }
    }
}

/// How an import runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// Do everything in a transaction that is rolled back: the summary says
    /// what would change; nothing is changed.
    pub dry_run: bool,
    /// Accept synthetic test ids (month + 80) as national ids
    /// (`[lists] allow_synthetic_ids`).
    pub allow_synthetic_ids: bool,
}

/// A row that changes something the register holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub line: usize,
    /// What the row is, by its key columns (`medlemsnr 50001`).
    pub key: String,
    /// The columns whose values change.
    pub fields: Vec<&'static str>,
}

/// What an import did, or would do (a dry run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub kind: ImportKind,
    pub file: String,
    pub dry_run: bool,
    /// Rows in the file (empty rows not counted).
    pub rows: usize,
    pub new: usize,
    pub changed: usize,
    pub unchanged: usize,
    /// Every changed row, in file order.
    pub changes: Vec<Change>,
}

/// At most this many changed rows are listed in a summary; the rest are
/// counted.
pub const CHANGES_LISTED: usize = 20;

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let counts = format!(
            "{} new, {} changed, {} unchanged",
            self.new, self.changed, self.unchanged
        );
        if self.dry_run {
            writeln!(
                f,
                "dry run: {} rows of {} in {}: {counts}",
                self.rows,
                self.kind.name(),
                self.file
            )?;
        } else {
            writeln!(
                f,
                "imported {} rows of {} from {}: {counts}",
                self.rows,
                self.kind.name(),
                self.file
            )?;
        }
        if !self.changes.is_empty() {
            writeln!(
                f,
                "{}:",
                if self.dry_run {
                    "would change"
                } else {
                    "changed"
                }
            )?;
        }
        for c in self.changes.iter().take(CHANGES_LISTED) {
            writeln!(f, "  line {} ({}): {}", c.line, c.key, c.fields.join(", "))?;
        }
        if self.changes.len() > CHANGES_LISTED {
            writeln!(
                f,
                "  and {} more changed rows",
                self.changes.len() - CHANGES_LISTED
            )?;
        }
        if self.dry_run {
            writeln!(f, "(dry run: nothing was changed)")?;
        }
        Ok(())
    }
}

/// A file's rows, by column name, with their line numbers.
pub struct Table {
    /// The header's column names, lower-cased.
    pub headers: Vec<String>,
    pub rows: Vec<(usize, HashMap<String, String>)>,
}

impl Table {
    /// Whether the file has the column at all (a column it does not have
    /// leaves that field of existing rows as it is).
    pub fn has(&self, col: &str) -> bool {
        self.headers.iter().any(|h| h == col)
    }
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
    for (i, h) in headers.iter().enumerate() {
        if !known.contains(&h.as_str()) {
            problems.push(format!(
                "line 1: unknown column `{h}` (known: {})",
                known.join(", ")
            ));
        } else if headers[..i].contains(h) {
            problems.push(format!("line 1: the column `{h}` is there twice"));
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
    Ok(Table { headers, rows })
}

fn cell<'a>(row: &'a HashMap<String, String>, k: &str) -> Option<&'a str> {
    row.get(k).map(String::as_str).filter(|s| !s.is_empty())
}

/// Imports a file of `kind` in one transaction. Returns the rows in the
/// file. Synthetic test ids are accepted (the sample and test registers
/// hold them); the command line goes by `[lists] allow_synthetic_ids`
/// through [`import_with`].
pub fn import(
    conn: &mut Connection,
    kind: ImportKind,
    file: &str,
    text: &str,
    now: DateTime<Utc>,
    progress: &dyn Fn(usize, usize),
) -> Result<usize> {
    let options = ImportOptions {
        dry_run: false,
        allow_synthetic_ids: true,
    };
    Ok(import_with(conn, kind, file, text, now, progress, options)?.rows)
}

/// Imports a file of `kind` in one transaction, committed unless it is a
/// dry run; `progress(done, total)` is called as rows are handled. Every
/// bad row is an [`ImportError`], and then nothing is changed.
pub fn import_with(
    conn: &mut Connection,
    kind: ImportKind,
    file: &str,
    text: &str,
    now: DateTime<Utc>,
    progress: &dyn Fn(usize, usize),
    options: ImportOptions,
) -> Result<Summary> {
    let (required, known) = kind.columns();
    let t = read_csv(file, text, required, known)?;
    let tx = conn.transaction()?;
    let mut run = Run {
        conn: &tx,
        today: now.date_naive(),
        stamp: ts(now),
        allow_synthetic: options.allow_synthetic_ids,
        progress,
        total: t.rows.len(),
        problems: Vec::new(),
        seen: HashMap::new(),
        new: 0,
        unchanged: 0,
        changes: Vec::new(),
    };
    progress(0, run.total);
    match kind {
        ImportKind::Units => units(&mut run, &t)?,
        ImportKind::Employers => employers(&mut run, &t)?,
        ImportKind::Members => members(&mut run, &t)?,
        ImportKind::Peers => peers(&mut run, &t)?,
        ImportKind::Roles => roles(&mut run, &t)?,
        ImportKind::Grants => grants(&mut run, &t)?,
        ImportKind::Contacts => contacts(&mut run, &t)?,
    }
    progress(run.total, run.total);
    if !run.problems.is_empty() {
        let mut problems = std::mem::take(&mut run.problems);
        problems.sort_by_key(|(line, _)| *line);
        // The transaction is rolled back as it is dropped.
        return Err(ImportError {
            file: file.to_string(),
            problems: problems
                .into_iter()
                .map(|(line, what)| format!("line {line}: {what}"))
                .collect(),
        }
        .into());
    }
    let mut changes = std::mem::take(&mut run.changes);
    changes.sort_by_key(|c| c.line);
    let summary = Summary {
        kind,
        file: file.to_string(),
        dry_run: options.dry_run,
        rows: t.rows.len(),
        new: run.new,
        changed: changes.len(),
        unchanged: run.unchanged,
        changes,
    };
    if summary.new + summary.changed > 0 {
        imported(&tx, now, &summary)?;
    }
    if options.dry_run {
        tx.rollback()?;
    } else {
        tx.commit()?;
    }
    Ok(summary)
}

/// Rows are reported to the progress callback in steps of this many.
const PROGRESS_EVERY: usize = 250;

/// One import in hand: the problems found so far and what each good row did.
struct Run<'a> {
    conn: &'a Connection,
    today: NaiveDate,
    stamp: String,
    allow_synthetic: bool,
    progress: &'a dyn Fn(usize, usize),
    total: usize,
    problems: Vec<(usize, String)>,
    /// Each row's key, with the first line it was on.
    seen: HashMap<String, usize>,
    new: usize,
    unchanged: usize,
    changes: Vec<Change>,
}

impl Run<'_> {
    fn tick(&self, i: usize) {
        if i > 0 && i.is_multiple_of(PROGRESS_EVERY) {
            (self.progress)(i, self.total);
        }
    }

    fn bad(&mut self, line: usize, problems: Vec<String>) {
        self.problems
            .extend(problems.into_iter().map(|p| (line, p)));
    }

    /// The line `key` was first on, when it is there before `line`.
    fn seen_before(&mut self, key: String, line: usize) -> Option<usize> {
        let first = *self.seen.entry(key).or_insert(line);
        (first != line).then_some(first)
    }

    /// A row that was not in the register.
    fn added(&mut self) {
        self.new += 1;
    }

    /// A row that was: changed in `fields`, or unchanged when there are none.
    fn compared(&mut self, line: usize, key: String, fields: Vec<&'static str>) {
        if fields.is_empty() {
            self.unchanged += 1;
        } else {
            self.changes.push(Change { line, key, fields });
        }
    }

    /// A national id as the register keeps it, or what is wrong with it.
    fn national_id(&self, raw: &str) -> Result<String, String> {
        let col = "`fodselsnummer`";
        let id = check_national_id(raw, self.allow_synthetic).map_err(|why| match why {
            WHY_LENGTH => format!(
                "{col} `{raw}` is not a national id: 11 digits (fødselsnummer or D-number), or a Danish CPR number written DDMMYY-SSSS"
            ),
            WHY_MOD11 => format!("{col} `{raw}` has a wrong control digit (mod-11)"),
            WHY_DATE if is_cpr_shaped(raw) => format!(
                "{col} `{raw}` is a Danish CPR number whose date (DDMMYY) does not exist"
            ),
            WHY_DATE => format!(
                "{col} `{raw}` does not begin with a date that exists (DDMMYY; a D-number adds 4 to the first digit) in the century its individual number gives"
            ),
            WHY_SYNTHETIC => format!(
                "{col} `{raw}` is a synthetic test id (month + 80), not allowed here (`[lists] allow_synthetic_ids`)"
            ),
            other => format!("{col} `{raw}` is not a valid national id ({other})"),
        })?;
        match birth_date_from_id(&id) {
            Some(born) if born > self.today => Err(format!(
                "{col} `{raw}` is for someone born {born}, which is in the future"
            )),
            _ => Ok(id),
        }
    }

    /// A date in `col` that must not be after today.
    fn past_date(
        &self,
        row: &HashMap<String, String>,
        col: &str,
    ) -> Result<Option<NaiveDate>, String> {
        match date_cell(row, col)? {
            Some(d) if d > self.today => Err(format!("`{col}` `{d}` is in the future")),
            d => Ok(d),
        }
    }
}

/// `DDMMYY-SSSS`: how a Danish CPR number is told from a Norwegian id.
fn is_cpr_shaped(s: &str) -> bool {
    let s = s.trim();
    s.len() == 11
        && s.bytes().enumerate().all(|(i, b)| {
            if i == 6 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        })
}

/// The columns whose values differ between what is held and what comes.
#[derive(Default)]
struct Diff(Vec<&'static str>);

impl Diff {
    fn check<T: PartialEq + ?Sized>(&mut self, col: &'static str, old: &T, new: &T) {
        if old != new {
            self.0.push(col);
        }
    }
}

/// The value from the file when it has the column, else what is held.
fn pick<T>(has: bool, new: T, old: T) -> T {
    if has { new } else { old }
}

/// A mail address in `col`: plausible, lower-cased as the register
/// compares addresses.
fn email(col: &str, raw: &str) -> Result<String, String> {
    let e = address_key(raw);
    if plausible(&e) {
        Ok(e)
    } else {
        Err(format!(
            "`{col}` `{raw}` is not a mail address (name@domain.example)"
        ))
    }
}

/// The required `epost` of a row, or what is wrong with it.
fn required_email(row: &HashMap<String, String>) -> Result<String, String> {
    match cell(row, "epost") {
        Some(e) => email("epost", e),
        None => Err("`epost` is empty".into()),
    }
}

/// Who an address belongs to.
fn owner(conn: &Connection, email: &str) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT person_id FROM addresses WHERE email = ?1")?
        .query_row([email], |r| r.get(0))
        .optional()?)
}

fn unit_id(conn: &Connection, name: &str) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT id FROM units WHERE name = ?1")?
        .query_row([name], |r| r.get(0))
        .optional()?)
}

/// A workplace of an employer by name, added when it is not there.
fn workplace_id(conn: &Connection, employer: i64, name: &str) -> Result<i64> {
    let found: Option<i64> = conn
        .prepare_cached("SELECT id FROM workplaces WHERE employer_id = ?1 AND name = ?2")?
        .query_row(params![employer, name], |r| r.get(0))
        .optional()?;
    if let Some(id) = found {
        return Ok(id);
    }
    conn.prepare_cached("INSERT INTO workplaces (employer_id, name) VALUES (?1, ?2)")?
        .execute(params![employer, name])?;
    Ok(conn.last_insert_rowid())
}

fn units(run: &mut Run, t: &Table) -> Result<()> {
    let conn = run.conn;
    let in_file: HashSet<&str> = t.rows.iter().filter_map(|(_, r)| cell(r, "navn")).collect();
    // Parents may come after children in the file: add and retype all,
    // then link. Each good row: its line, name, and the parent it had
    // (`None` for a new unit) with the columns changed so far.
    type Good<'a> = (usize, &'a str, Option<(Option<i64>, Diff)>);
    let mut good: Vec<Good> = Vec::new();
    for (i, (line, row)) in t.rows.iter().enumerate() {
        run.tick(i);
        let line = *line;
        let mut p = Vec::new();
        let name = cell(row, "navn");
        match name {
            None => p.push("`navn` is empty".to_string()),
            Some(n) => {
                if let Some(first) = run.seen_before(n.to_string(), line) {
                    p.push(format!("`navn` `{n}` is also on line {first}"));
                }
            }
        }
        let ty = cell(row, "type").unwrap_or("");
        if !["lag", "region", "forbund"].contains(&ty) {
            p.push(format!("`type` `{ty}` is not lag, region or forbund"));
        }
        if let Some(parent) = cell(row, "forelder") {
            if Some(parent) == name {
                p.push(format!("`forelder` `{parent}` is the unit itself"));
            } else if !in_file.contains(parent) && unit_id(conn, parent)?.is_none() {
                p.push(format!(
                    "`forelder` `{parent}` is not in the file or the register"
                ));
            }
        }
        let Some(name) = name.filter(|_| p.is_empty()) else {
            run.bad(line, p);
            continue;
        };
        let old: Option<(i64, String, Option<i64>)> = conn
            .prepare_cached("SELECT id, type, parent_id FROM units WHERE name = ?1")?
            .query_row([name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        match old {
            None => {
                conn.execute(
                    "INSERT INTO units (name, type) VALUES (?1, ?2)",
                    params![name, ty],
                )?;
                good.push((line, name, None));
            }
            Some((id, old_ty, parent)) => {
                let mut d = Diff::default();
                d.check("type", old_ty.as_str(), ty);
                if !d.0.is_empty() {
                    conn.execute("UPDATE units SET type = ?2 WHERE id = ?1", params![id, ty])?;
                }
                good.push((line, name, Some((parent, d))));
            }
        }
    }
    if !run.problems.is_empty() {
        return Ok(());
    }
    let parents: HashMap<&str, &str> = t
        .rows
        .iter()
        .filter_map(|(_, r)| Some((cell(r, "navn")?, cell(r, "forelder")?)))
        .collect();
    for (line, name, old) in good {
        let held = old.as_ref().and_then(|(parent, _)| *parent);
        // No parent in the file leaves the unit's parent as it is.
        let parent = match parents.get(name) {
            Some(parent) => {
                let pid = unit_id(conn, parent)?;
                if pid != held {
                    conn.execute(
                        "UPDATE units SET parent_id = ?2 WHERE name = ?1",
                        params![name, pid],
                    )?;
                }
                if let Some(chain) = loop_from(conn, name)? {
                    run.bad(
                        line,
                        vec![format!("`forelder` `{parent}` makes a loop: {chain}")],
                    );
                    continue;
                }
                pid
            }
            None => held,
        };
        match old {
            None => run.added(),
            Some((_, mut d)) => {
                d.check("forelder", &held, &parent);
                run.compared(line, format!("navn {name}"), d.0);
            }
        }
    }
    Ok(())
}

/// The chain of parents from `name` back to itself, when there is one.
fn loop_from(conn: &Connection, name: &str) -> Result<Option<String>> {
    let mut chain = vec![name.to_string()];
    let mut at = name.to_string();
    loop {
        let parent: Option<String> = conn
            .prepare_cached(
                "SELECT p.name FROM units u JOIN units p ON p.id = u.parent_id WHERE u.name = ?1",
            )?
            .query_row([&at], |r| r.get(0))
            .optional()?;
        let Some(parent) = parent else {
            return Ok(None);
        };
        if parent == name {
            chain.push(parent);
            return Ok(Some(chain.join(" → ")));
        }
        if chain.contains(&parent) {
            // A loop above this unit: reported on that unit's own row.
            return Ok(None);
        }
        chain.push(parent.clone());
        at = parent;
    }
}

/// A valid organisation number as the register keeps it (9 digits), or
/// what is wrong with it.
fn orgnr(col: &str, raw: &str) -> Result<String, String> {
    check_orgnr(raw).ok_or_else(|| {
        format!("`{col}` `{raw}` is not a valid organisation number (9 digits, mod-11)")
    })
}

fn employers(run: &mut Run, t: &Table) -> Result<()> {
    let conn = run.conn;
    for (i, (line, row)) in t.rows.iter().enumerate() {
        run.tick(i);
        let line = *line;
        let mut p = Vec::new();
        let no = match cell(row, "orgnr") {
            None => {
                p.push("`orgnr` is empty".to_string());
                None
            }
            Some(raw) => match orgnr("orgnr", raw) {
                Ok(n) => {
                    if let Some(first) = run.seen_before(n.clone(), line) {
                        p.push(format!("`orgnr` `{raw}` is also on line {first}"));
                    }
                    Some(n)
                }
                Err(e) => {
                    p.push(e);
                    None
                }
            },
        };
        let name = cell(row, "navn");
        if name.is_none() {
            p.push("`navn` is empty".into());
        }
        let unit = unit_cell(conn, row, "enhet")?.unwrap_or_else(|e| {
            p.push(e);
            None
        });
        let (Some(no), Some(name), true) = (no, name, p.is_empty()) else {
            run.bad(line, p);
            continue;
        };
        let old: Option<(i64, String, Option<i64>)> = conn
            .prepare_cached("SELECT id, name, unit_id FROM employers WHERE orgnr = ?1")?
            .query_row([&no], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        match old {
            None => {
                conn.execute(
                    "INSERT INTO employers (orgnr, name, unit_id) VALUES (?1, ?2, ?3)",
                    params![no, name, unit],
                )?;
                run.added();
            }
            Some((id, old_name, old_unit)) => {
                let unit = pick(t.has("enhet"), unit, old_unit);
                let mut d = Diff::default();
                d.check("navn", old_name.as_str(), name);
                d.check("enhet", &old_unit, &unit);
                if !d.0.is_empty() {
                    conn.execute(
                        "UPDATE employers SET name = ?2, unit_id = ?3 WHERE id = ?1",
                        params![id, name, unit],
                    )?;
                }
                run.compared(line, format!("orgnr {no}"), d.0);
            }
        }
    }
    Ok(())
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

/// A member's fields as the import sets them.
#[derive(Debug, Clone, PartialEq)]
struct Member {
    name: String,
    birth: Option<String>,
    national_id: Option<String>,
    phone: Option<String>,
    language: Option<String>,
    employer: Option<i64>,
    workplace: Option<i64>,
    position: Option<String>,
    unit: Option<i64>,
    status: String,
}

impl Member {
    /// What a new member has before the file says otherwise.
    fn fresh() -> Member {
        Member {
            name: String::new(),
            birth: None,
            national_id: None,
            phone: None,
            language: None,
            employer: None,
            workplace: None,
            position: None,
            unit: None,
            status: "active".into(),
        }
    }

    fn held(conn: &Connection, member_no: &str) -> Result<Option<(i64, Member)>> {
        Ok(conn
            .prepare_cached(
                "SELECT id, name, birth_date, national_id, phone, language, employer_id,
                        workplace_id, position, unit_id, status
                 FROM people WHERE member_no = ?1",
            )?
            .query_row([member_no], |r| {
                Ok((
                    r.get(0)?,
                    Member {
                        name: r.get(1)?,
                        birth: r.get(2)?,
                        national_id: r.get(3)?,
                        phone: r.get(4)?,
                        language: r.get(5)?,
                        employer: r.get(6)?,
                        workplace: r.get(7)?,
                        position: r.get(8)?,
                        unit: r.get(9)?,
                        status: r.get(10)?,
                    },
                ))
            })
            .optional()?)
    }

    /// The columns that differ from `new`.
    fn diff(&self, new: &Member) -> Diff {
        let mut d = Diff::default();
        d.check("navn", &self.name, &new.name);
        d.check("fodselsdato", &self.birth, &new.birth);
        d.check("fodselsnummer", &self.national_id, &new.national_id);
        d.check("telefon", &self.phone, &new.phone);
        d.check("sprak", &self.language, &new.language);
        d.check("arbeidsgiver_orgnr", &self.employer, &new.employer);
        d.check("arbeidssted", &self.workplace, &new.workplace);
        d.check("stilling", &self.position, &new.position);
        d.check("enhet", &self.unit, &new.unit);
        d.check("status", &self.status, &new.status);
        d
    }
}

fn members(run: &mut Run, t: &Table) -> Result<()> {
    let conn = run.conn;
    for (i, (line, row)) in t.rows.iter().enumerate() {
        run.tick(i);
        let line = *line;
        let mut p = Vec::new();
        let no = cell(row, "medlemsnr");
        match no {
            None => p.push("`medlemsnr` is empty".to_string()),
            Some(n) => {
                if let Some(first) = run.seen_before(n.to_string(), line) {
                    p.push(format!("`medlemsnr` `{n}` is also on line {first}"));
                }
            }
        }
        let name = cell(row, "navn");
        if name.is_none() {
            p.push("`navn` is empty".into());
        }
        let birth = run.past_date(row, "fodselsdato").unwrap_or_else(|e| {
            p.push(e);
            None
        });
        let national_id = match cell(row, "fodselsnummer") {
            None => None,
            Some(raw) => match run.national_id(raw) {
                Ok(id) => {
                    if let Some(born) = birth
                        && let Some(by_id) = birth_date_from_id(&id)
                        && by_id != born
                    {
                        p.push(format!(
                            "`fodselsnummer` `{raw}` is for someone born {by_id}, but `fodselsdato` is {born}"
                        ));
                    }
                    Some(id)
                }
                Err(e) => {
                    p.push(e);
                    None
                }
            },
        };
        let language = match cell(row, "sprak") {
            Some(l) => match crate::config::Language::parse(l) {
                Some(l) => Some(l.code().to_string()),
                None => {
                    p.push(format!("`sprak` `{l}` is not nb, nn, da or en"));
                    None
                }
            },
            None => None,
        };
        let employer = employer_cell(conn, row, "arbeidsgiver_orgnr")?;
        let employer_ok = employer.is_ok();
        let employer = employer.unwrap_or_else(|e| {
            p.push(e);
            None
        });
        let unit = unit_cell(conn, row, "enhet")?.unwrap_or_else(|e| {
            p.push(e);
            None
        });
        let mut emails: Vec<String> = Vec::new();
        for raw in cell(row, "epost").unwrap_or("").split('|') {
            let raw = raw.trim();
            if raw.is_empty() {
                continue;
            }
            match email("epost", raw) {
                Ok(e) if !emails.contains(&e) => emails.push(e),
                Ok(_) => {}
                Err(e) => p.push(e),
            }
        }
        let held = match no {
            Some(no) => Member::held(conn, no)?,
            None => None,
        };
        let person = held.as_ref().map(|(id, _)| *id);
        let mut fresh_emails = Vec::new();
        for e in emails {
            match owner(conn, &e)? {
                Some(o) if Some(o) != person => {
                    p.push(format!("`epost` `{e}` already belongs to another person"))
                }
                Some(_) => {}
                None => fresh_emails.push(e),
            }
        }
        let base = held
            .as_ref()
            .map(|(_, m)| m.clone())
            .unwrap_or_else(Member::fresh);
        let employer = pick(t.has("arbeidsgiver_orgnr"), employer, base.employer);
        let workplace = if t.has("arbeidssted") {
            match (employer, cell(row, "arbeidssted")) {
                (Some(e), Some(w)) => Some((e, w)),
                (None, Some(w)) => {
                    if employer_ok {
                        p.push(format!("`arbeidssted` `{w}` without `arbeidsgiver_orgnr`"));
                    }
                    None
                }
                (_, None) => None,
            }
        } else {
            None
        };
        let (Some(no), Some(name), true) = (no, name, p.is_empty()) else {
            run.bad(line, p);
            continue;
        };
        let workplace = match workplace {
            Some((e, w)) => Some(workplace_id(conn, e, w)?),
            // No `arbeidssted` column: the workplace stays, unless the
            // employer it belongs to does not.
            None if !t.has("arbeidssted") && employer == base.employer => base.workplace,
            None => None,
        };
        let new = Member {
            name: name.to_string(),
            birth: pick(
                t.has("fodselsdato"),
                birth.map(|d| d.to_string()),
                base.birth.clone(),
            ),
            national_id: pick(
                t.has("fodselsnummer"),
                national_id,
                base.national_id.clone(),
            ),
            phone: pick(
                t.has("telefon"),
                cell(row, "telefon").map(String::from),
                base.phone.clone(),
            ),
            language: pick(t.has("sprak"), language, base.language.clone()),
            employer,
            workplace,
            position: pick(
                t.has("stilling"),
                cell(row, "stilling").map(String::from),
                base.position.clone(),
            ),
            unit: pick(t.has("enhet"), unit, base.unit),
            status: pick(
                t.has("status"),
                cell(row, "status").unwrap_or("active").to_string(),
                base.status.clone(),
            ),
        };
        let m = &new;
        let (person, mut fields) = match held {
            None => {
                conn.prepare_cached(
                    "INSERT INTO people (member_no, name, birth_date, national_id, phone, language,
                                         employer_id, workplace_id, position, unit_id, status,
                                         created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)",
                )?
                .execute(params![
                    no,
                    m.name,
                    m.birth,
                    m.national_id,
                    m.phone,
                    m.language,
                    m.employer,
                    m.workplace,
                    m.position,
                    m.unit,
                    m.status,
                    run.stamp
                ])?;
                run.added();
                (conn.last_insert_rowid(), None)
            }
            Some((id, old)) => {
                let d = old.diff(m);
                if !d.0.is_empty() {
                    conn.prepare_cached(
                        "UPDATE people SET name = ?2, birth_date = ?3, national_id = ?4, phone = ?5,
                             language = ?6, employer_id = ?7, workplace_id = ?8, position = ?9,
                             unit_id = ?10, status = ?11, updated_at = ?12
                         WHERE id = ?1",
                    )?
                    .execute(params![
                        id,
                        m.name,
                        m.birth,
                        m.national_id,
                        m.phone,
                        m.language,
                        m.employer,
                        m.workplace,
                        m.position,
                        m.unit,
                        m.status,
                        run.stamp
                    ])?;
                }
                (id, Some(d.0))
            }
        };
        for e in &fresh_emails {
            conn.prepare_cached(
                "INSERT INTO addresses (person_id, email, verified, added_at) VALUES (?1, ?2, 1, ?3)",
            )?
            .execute(params![person, e, run.stamp])?;
        }
        if let Some(f) = &mut fields
            && !fresh_emails.is_empty()
        {
            f.push("epost");
        }
        if let Some(f) = fields {
            run.compared(line, format!("medlemsnr {no}"), f);
        }
    }
    Ok(())
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
            let id = match check_orgnr(o) {
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

fn date_cell(row: &HashMap<String, String>, col: &str) -> Result<Option<NaiveDate>, String> {
    match cell(row, col) {
        None => Ok(None),
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| format!("`{col}` `{d}` is not a date (YYYY-MM-DD)")),
    }
}

/// `fra` and `til` as stored, or what is wrong with them (`til` before
/// `fra` included).
fn period_cells(
    row: &HashMap<String, String>,
    p: &mut Vec<String>,
) -> (Option<String>, Option<String>) {
    let from = date_cell(row, "fra").unwrap_or_else(|e| {
        p.push(e);
        None
    });
    let to = date_cell(row, "til").unwrap_or_else(|e| {
        p.push(e);
        None
    });
    if let (Some(f), Some(t)) = (from, to)
        && t < f
    {
        p.push(format!("`til` `{t}` is before `fra` `{f}`"));
    }
    (from.map(|d| d.to_string()), to.map(|d| d.to_string()))
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

fn peers(run: &mut Run, t: &Table) -> Result<()> {
    let conn = run.conn;
    for (i, (line, row)) in t.rows.iter().enumerate() {
        run.tick(i);
        let line = *line;
        let mut p = Vec::new();
        let (no, name) = (cell(row, "likepersonnr"), cell(row, "navn"));
        if no.is_none() || name.is_none() {
            p.push("`likepersonnr` and `navn` must be filled in".to_string());
        }
        if let Some(n) = no
            && let Some(first) = run.seen_before(n.to_string(), line)
        {
            p.push(format!("`likepersonnr` `{n}` is also on line {first}"));
        }
        let unit = match unit_cell(conn, row, "enhet")? {
            Ok(Some(u)) => Some(u),
            Ok(None) => {
                p.push("`enhet` is empty".into());
                None
            }
            Err(e) => {
                p.push(e);
                None
            }
        };
        let address = match cell(row, "epost").map(|e| email("epost", e)) {
            Some(Ok(e)) => Some(e),
            Some(Err(e)) => {
                p.push(e);
                None
            }
            None => None,
        };
        let phone = cell(row, "telefon");
        let held: Option<(i64, i64)> = match no {
            Some(no) => conn
                .prepare_cached("SELECT person_id, unit_id FROM peers WHERE peer_no = ?1")?
                .query_row([no], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?,
            None => None,
        };
        let owned_by = match &address {
            Some(e) => owner(conn, e)?,
            None => None,
        };
        if let (Some(e), Some(o)) = (&address, owned_by) {
            match held {
                Some((person, _)) if person != o => p.push(format!(
                    "`epost` `{e}` belongs to someone else than this peer"
                )),
                Some(_) => {}
                None => {
                    let other: Option<String> = conn
                        .prepare_cached("SELECT peer_no FROM peers WHERE person_id = ?1")?
                        .query_row([o], |r| r.get(0))
                        .optional()?;
                    if let Some(other) = other {
                        p.push(format!("`epost` `{e}` belongs to the peer `{other}`"));
                    }
                }
            }
        }
        let (Some(no), Some(name), Some(unit), true) = (no, name, unit, p.is_empty()) else {
            run.bad(line, p);
            continue;
        };
        let (person, new) = match held {
            Some((person, _)) => (person, false),
            None => (
                person_for(conn, address.as_deref(), name, phone, &run.stamp)?,
                true,
            ),
        };
        let mut d = Diff::default();
        let (old_name, old_phone): (String, Option<String>) = conn
            .prepare_cached("SELECT name, phone FROM people WHERE id = ?1")?
            .query_row([person], |r| Ok((r.get(0)?, r.get(1)?)))?;
        // An empty `telefon` keeps the phone the person has.
        let phone = phone.map(String::from).or(old_phone.clone());
        d.check("navn", old_name.as_str(), name);
        d.check("telefon", &old_phone, &phone);
        if !d.0.is_empty() {
            conn.execute(
                "UPDATE people SET name = ?2, phone = ?3, updated_at = ?4 WHERE id = ?1",
                params![person, name, phone, run.stamp],
            )?;
        }
        match held {
            None => {
                conn.execute(
                    "INSERT INTO peers (peer_no, person_id, unit_id, registered_at) VALUES (?1, ?2, ?3, ?4)",
                    params![no, person, unit, run.stamp],
                )?;
            }
            Some((_, old_unit)) => {
                d.check("enhet", &old_unit, &unit);
                if old_unit != unit {
                    conn.execute(
                        "UPDATE peers SET unit_id = ?2 WHERE peer_no = ?1",
                        params![no, unit],
                    )?;
                }
                if let Some(e) = &address
                    && owned_by.is_none()
                {
                    conn.execute(
                        "INSERT INTO addresses (person_id, email, verified, added_at) VALUES (?1, ?2, 1, ?3)",
                        params![person, e, run.stamp],
                    )?;
                    d.0.push("epost");
                }
            }
        }
        if new {
            run.added();
        } else {
            run.compared(line, format!("likepersonnr {no}"), d.0);
        }
    }
    Ok(())
}

const ROLES: &[&str] = &["tillitsvalgt", "vara", "koordinator", "admin"];
const LEVELS: &[&str] = &["arbeidsgiver", "mellomniva", "arbeidssted", "enhet"];

fn roles(run: &mut Run, t: &Table) -> Result<()> {
    let conn = run.conn;
    for (i, (line, row)) in t.rows.iter().enumerate() {
        run.tick(i);
        let line = *line;
        let mut p = Vec::new();
        let email = required_email(row).unwrap_or_else(|e| {
            p.push(e);
            String::new()
        });
        let role = cell(row, "rolle").unwrap_or("").to_lowercase();
        let level = cell(row, "niva")
            .unwrap_or("")
            .to_lowercase()
            .replace('å', "a");
        if !ROLES.contains(&role.as_str()) {
            p.push(format!("rolle `{role}` is not one of {}", ROLES.join(", ")));
        }
        let level_ok = LEVELS.contains(&level.as_str());
        if !level_ok {
            p.push(format!(
                "niva `{level}` is not one of {}",
                LEVELS.join(", ")
            ));
        }
        let unit = unit_cell(conn, row, "enhet")?;
        let employer = employer_cell(conn, row, "orgnr")?;
        let named_ok = unit.is_ok() && employer.is_ok();
        let unit = unit.unwrap_or_else(|e| {
            p.push(e);
            None
        });
        let employer = employer.unwrap_or_else(|e| {
            p.push(e);
            None
        });
        let (from, to) = period_cells(row, &mut p);
        let workplace_name = cell(row, "arbeidssted");
        let needs = match level.as_str() {
            "enhet" if unit.is_none() => Some("`enhet`"),
            "arbeidsgiver" | "mellomniva" | "arbeidssted" if employer.is_none() => Some("`orgnr`"),
            "mellomniva" | "arbeidssted" if workplace_name.is_none() => Some("`arbeidssted`"),
            _ => None,
        };
        if let Some(col) = needs
            && level_ok
            && named_ok
        {
            p.push(format!("niva `{level}` needs {col}"));
        }
        if p.is_empty() {
            let key = format!(
                "{email}\t{role}\t{level}\t{employer:?}\t{workplace_name:?}\t{unit:?}\t{from:?}"
            );
            if let Some(first) = run.seen_before(key, line) {
                p.push(format!("the same role as on line {first}"));
            }
        }
        if !p.is_empty() {
            run.bad(line, p);
            continue;
        }
        let (workplace, midlevel) = match (level.as_str(), employer, workplace_name) {
            ("arbeidssted", Some(e), Some(w)) => (Some(workplace_id(conn, e, w)?), None),
            ("mellomniva", _, Some(m)) => (None, Some(m.to_string())),
            _ => (None, None),
        };
        let person = owner(conn, &email)?;
        let held: Option<(Option<String>, Option<i64>)> = conn
            .prepare_cached(
                "SELECT valid_to, person_id FROM roles WHERE email = ?1 AND role = ?2 AND level = ?3
                 AND employer_id IS ?4 AND workplace_id IS ?5 AND unit_id IS ?6 AND midlevel IS ?7
                 AND valid_from IS ?8 ORDER BY id LIMIT 1",
            )?
            .query_row(
                params![email, role, level, employer, workplace, unit, midlevel, from],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        match held {
            None => {
                conn.execute(
                    "INSERT INTO roles (email, person_id, role, level, employer_id, workplace_id, unit_id, midlevel,
                                        valid_from, valid_to)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                    params![email, person, role, level, employer, workplace, unit, midlevel, from, to],
                )?;
                run.added();
            }
            Some((old_to, old_person)) => {
                // A role keeps the person it was linked to when the address
                // is no one's.
                let person = person.or(old_person);
                let mut d = Diff::default();
                d.check("til", &old_to, &to);
                d.check("epost (person)", &old_person, &person);
                if !d.0.is_empty() {
                    conn.execute(
                        "UPDATE roles SET valid_to = ?9, person_id = ?10 WHERE email = ?1 AND role = ?2
                         AND level = ?3 AND employer_id IS ?4 AND workplace_id IS ?5 AND unit_id IS ?6
                         AND midlevel IS ?7 AND valid_from IS ?8",
                        params![email, role, level, employer, workplace, unit, midlevel, from, to, person],
                    )?;
                }
                run.compared(
                    line,
                    format!("epost {email}, rolle {role}, niva {level}"),
                    d.0,
                );
            }
        }
    }
    Ok(())
}

fn grants(run: &mut Run, t: &Table) -> Result<()> {
    let conn = run.conn;
    for (i, (line, row)) in t.rows.iter().enumerate() {
        run.tick(i);
        let line = *line;
        let mut p = Vec::new();
        let email = required_email(row).unwrap_or_else(|e| {
            p.push(e);
            String::new()
        });
        let reason = cell(row, "grunn");
        if reason.is_none() {
            p.push("`grunn` is empty: every grant needs a reason".into());
        }
        let (unit, employer) = match (
            unit_cell(conn, row, "enhet")?,
            employer_cell(conn, row, "orgnr")?,
        ) {
            (Ok(None), Ok(None)) => {
                p.push("a grant needs `enhet` or `orgnr`".into());
                (None, None)
            }
            (u, e) => (
                u.unwrap_or_else(|e| {
                    p.push(e);
                    None
                }),
                e.unwrap_or_else(|e| {
                    p.push(e);
                    None
                }),
            ),
        };
        let (from, to) = period_cells(row, &mut p);
        if p.is_empty() {
            let key = format!("{email}\t{unit:?}\t{employer:?}\t{from:?}");
            if let Some(first) = run.seen_before(key, line) {
                p.push(format!("the same grant as on line {first}"));
            }
        }
        let (Some(reason), true) = (reason, p.is_empty()) else {
            run.bad(line, p);
            continue;
        };
        let held: Option<(i64, String, Option<String>)> = conn
            .prepare_cached(
                "SELECT id, reason, valid_to FROM grants WHERE email = ?1 AND unit_id IS ?2
                 AND employer_id IS ?3 AND valid_from IS ?4 ORDER BY id LIMIT 1",
            )?
            .query_row(params![email, unit, employer, from], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        match held {
            None => {
                conn.execute(
                    "INSERT INTO grants (email, unit_id, employer_id, reason, valid_from, valid_to)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![email, unit, employer, reason, from, to],
                )?;
                run.added();
            }
            Some((id, old_reason, old_to)) => {
                let to = pick(t.has("til"), to, old_to.clone());
                let mut d = Diff::default();
                d.check("grunn", old_reason.as_str(), reason);
                d.check("til", &old_to, &to);
                if !d.0.is_empty() {
                    conn.execute(
                        "UPDATE grants SET reason = ?2, valid_to = ?3 WHERE id = ?1",
                        params![id, reason, to],
                    )?;
                }
                run.compared(line, format!("epost {email}"), d.0);
            }
        }
    }
    Ok(())
}

/// The audit row of an import that changed something.
fn imported(conn: &Connection, now: DateTime<Utc>, s: &Summary) -> Result<()> {
    audit(
        conn,
        now,
        None,
        "import",
        "import",
        s.kind.name(),
        Some(&s.file),
        Some(&format!(
            "{} rows: {} new, {} changed, {} unchanged",
            s.rows, s.new, s.changed, s.unchanged
        )),
    )
}

fn contacts(run: &mut Run, t: &Table) -> Result<()> {
    let conn = run.conn;
    for (i, (line, row)) in t.rows.iter().enumerate() {
        run.tick(i);
        let line = *line;
        let mut p = Vec::new();
        let email = required_email(row).unwrap_or_else(|e| {
            p.push(e);
            String::new()
        });
        let employer = match employer_cell(conn, row, "orgnr")? {
            Ok(Some(e)) => Some(e),
            Ok(None) => {
                p.push("`orgnr` is empty".into());
                None
            }
            Err(e) => {
                p.push(e);
                None
            }
        };
        let duties = match duties(cell(row, "ansvar").unwrap_or("")) {
            Ok(d) => d,
            Err(word) => {
                p.push(format!(
                    "`ansvar` `{word}` is not one of {}",
                    postbud_commands::words::DUTIES.join(", ")
                ));
                String::new()
            }
        };
        let declaration = run
            .past_date(row, "erklaering_akseptert")
            .unwrap_or_else(|e| {
                p.push(e);
                None
            })
            .map(|d| d.to_string());
        if let Some(e) = employer
            && p.is_empty()
            && let Some(first) = run.seen_before(format!("{email}\t{e}"), line)
        {
            p.push(format!(
                "`epost` `{email}` for this employer is also on line {first}"
            ));
        }
        let (Some(employer), true) = (employer, p.is_empty()) else {
            run.bad(line, p);
            continue;
        };
        let (name, phone) = (cell(row, "navn"), cell(row, "telefon"));
        type Held = (i64, Option<String>, Option<String>, String, Option<String>);
        let held: Option<Held> = conn
            .prepare_cached(
                "SELECT id, name, phone, duties, declaration FROM contacts
                 WHERE email = ?1 AND employer_id = ?2",
            )?
            .query_row(params![email, employer], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .optional()?;
        match held {
            None => {
                conn.execute(
                    "INSERT INTO contacts (email, name, phone, employer_id, duties, declaration)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![email, name, phone, employer, duties, declaration],
                )?;
                run.added();
            }
            Some((id, old_name, old_phone, old_duties, old_declaration)) => {
                let name = pick(t.has("navn"), name.map(String::from), old_name.clone());
                let phone = pick(t.has("telefon"), phone.map(String::from), old_phone.clone());
                let duties = pick(t.has("ansvar"), duties, old_duties.clone());
                // An empty date keeps the one the contact accepted on.
                let declaration = declaration.or(old_declaration.clone());
                let mut d = Diff::default();
                d.check("navn", &old_name, &name);
                d.check("telefon", &old_phone, &phone);
                d.check("ansvar", &old_duties, &duties);
                d.check("erklaering_akseptert", &old_declaration, &declaration);
                if !d.0.is_empty() {
                    conn.execute(
                        "UPDATE contacts SET name = ?2, phone = ?3, duties = ?4, declaration = ?5
                         WHERE id = ?1",
                        params![id, name, phone, duties, declaration],
                    )?;
                }
                let orgnr: String = conn.query_row(
                    "SELECT orgnr FROM employers WHERE id = ?1",
                    [employer],
                    |r| r.get(0),
                )?;
                run.compared(line, format!("epost {email}, orgnr {orgnr}"), d.0);
            }
        }
    }
    Ok(())
}
