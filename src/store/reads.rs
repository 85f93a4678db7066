//! [`Register`] over SQLite: what each command reads, loaded in the
//! message's transaction and always limited to the scope or employers the
//! caller passes in.

use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};
use postbud_commands::facts::{Language, Scope};
use postbud_commands::plan::Change;
use postbud_commands::register::*;
use postbud_core::registration::Found;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

use super::{people, ts};

/// The register read through one connection (inside the caller's
/// transaction).
pub struct Reader<'a>(pub &'a Connection);

/// `1,2,3`, or `NULL` for none (an `IN (NULL)` matches nothing).
fn id_list(ids: &[i64]) -> String {
    if ids.is_empty() {
        "NULL".into()
    } else {
        ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
    }
}

impl Register for Reader<'_> {
    fn peers(&self, scope: &Scope) -> Result<Vec<PeerBrief>> {
        let sql = format!(
            "SELECT pe.id, pe.peer_no, p.name, (SELECT MIN(email) FROM addresses WHERE person_id = p.id), p.phone,
                    u.name, (SELECT group_concat(year) FROM (SELECT year FROM peer_activity WHERE peer_id = pe.id ORDER BY year))
             FROM peers pe JOIN people p ON p.id = pe.person_id JOIN units u ON u.id = pe.unit_id
             WHERE pe.unit_id IN ({}) ORDER BY pe.peer_no",
            id_list(&scope.units)
        );
        let mut stmt = self.0.prepare(&sql)?;
        let rows = stmt
            .query_map([], |r| {
                let years: Option<String> = r.get(6)?;
                Ok(PeerBrief {
                    id: r.get(0)?,
                    peer_no: r.get(1)?,
                    name: r.get(2)?,
                    email: r.get(3)?,
                    phone: r.get(4)?,
                    unit: r.get(5)?,
                    years: years
                        .unwrap_or_default()
                        .split(',')
                        .filter_map(|y| y.trim().parse().ok())
                        .collect(),
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    fn members(&self, scope: &Scope) -> Result<MembersInScope> {
        let conn = self.0;
        let mut mid = String::from("0");
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        for (e, m) in &scope.midlevels {
            mid.push_str(&format!(
                " OR (p.employer_id = {e} AND w.midlevel = ?{})",
                args.len() + 1
            ));
            args.push(m.clone().into());
        }
        let sql = format!(
            "SELECT p.id, p.member_no, p.name, (SELECT MIN(email) FROM addresses WHERE person_id = p.id), p.phone,
                    p.birth_date, p.employer_id, e.name, w.name, w.midlevel, p.position, p.permanent
             FROM people p LEFT JOIN employers e ON e.id = p.employer_id LEFT JOIN workplaces w ON w.id = p.workplace_id
             WHERE p.member_no IS NOT NULL AND p.status = 'active'
               AND (p.unit_id IN ({u}) OR p.employer_id IN ({e}) OR p.workplace_id IN ({w}) OR {mid})
             ORDER BY p.name, p.member_no",
            u = id_list(&scope.units),
            e = id_list(&scope.employers),
            w = id_list(&scope.workplaces),
        );
        let members: Vec<MemberBrief> = conn
            .prepare(&sql)?
            .query_map(params_from_iter(args.iter()), |r| {
                Ok(MemberBrief {
                    id: r.get(0)?,
                    member_no: r.get(1)?,
                    name: r.get(2)?,
                    email: r.get(3)?,
                    phone: r.get(4)?,
                    birth_date: r.get(5)?,
                    employer_id: r.get(6)?,
                    employer: r.get(7)?,
                    workplace: r.get(8)?,
                    midlevel: r.get(9)?,
                    position: r.get(10)?,
                    permanent: r.get(11)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        let mut employers: Vec<i64> = scope.employers.clone();
        employers.extend(members.iter().filter_map(|m| m.employer_id));
        employers.extend(scope.midlevels.iter().map(|(e, _)| *e));
        employers.sort();
        employers.dedup();
        let sql = format!(
            "SELECT w.id, w.employer_id, e.name, e.orgnr, w.name, w.midlevel, w.open
             FROM workplaces w JOIN employers e ON e.id = w.employer_id
             WHERE w.employer_id IN ({}) ORDER BY e.name, w.name",
            id_list(&employers)
        );
        let workplaces = conn
            .prepare(&sql)?
            .query_map([], |r| {
                Ok(WorkplaceBrief {
                    id: r.get(0)?,
                    employer_id: r.get(1)?,
                    employer: r.get(2)?,
                    orgnr: r.get(3)?,
                    name: r.get(4)?,
                    midlevel: r.get(5)?,
                    open: r.get(6)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(MembersInScope {
            members,
            workplaces,
        })
    }

    fn pending(&self, reference: &str, today: NaiveDate) -> Result<Option<PendingBrief>> {
        let conn = self.0;
        let found: Option<(i64, String, String, String, String, String)> = conn
            .query_row(
                "SELECT id, ref, requested_by, summary, payload, status FROM pending_changes WHERE ref = ?1",
                [reference.trim().to_uppercase()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
            )
            .optional()?;
        let Some((id, reference, requested_by, summary, payload, status)) = found else {
            return Ok(None);
        };
        let change: Change = serde_json::from_str(&payload)
            .map_err(|e| anyhow::anyhow!("pending change {reference} cannot be read: {e}"))?;
        let mut p = PendingBrief {
            id,
            requester_language: language_of(conn, &requested_by)?,
            requester: people::owner(conn, &requested_by)?,
            reference,
            requested_by,
            summary,
            change,
            status,
            holders: Vec::new(),
            rep_language: None,
        };
        if let Change::NewRep(rep) = &p.change {
            p.rep_language = language_of(conn, &rep.email)?;
            let emails: Vec<String> = conn
                .prepare(
                    "SELECT DISTINCT email FROM roles WHERE role = ?1 AND level = ?2 AND employer_id IS ?3
                         AND workplace_id IS ?4 AND midlevel IS ?5
                         AND (valid_from IS NULL OR valid_from <= ?6) AND (valid_to IS NULL OR valid_to = '' OR valid_to >= ?6)
                         AND email <> ?7",
                )?
                .query_map(
                    params![
                        rep.role,
                        rep.level,
                        rep.employer_id,
                        rep.workplace_id,
                        rep.midlevel,
                        today.to_string(),
                        rep.email
                    ],
                    |r| r.get::<_, String>(0),
                )?
                .collect::<Result<_, _>>()?;
            for e in emails {
                let l = language_of(conn, &e)?;
                p.holders.push((e, l));
            }
        }
        Ok(Some(p))
    }

    fn registrations(&self, scope: &Scope, found: &[Found]) -> Result<Vec<RegistrationCheck>> {
        let conn = self.0;
        let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
        // (peer number and unit, if a peer) of a person.
        let peer_of = |person: i64| -> Result<Option<(String, i64)>> {
            Ok(conn
                .prepare_cached("SELECT peer_no, unit_id FROM peers WHERE person_id = ?1")?
                .query_row([person], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?)
        };
        found
            .iter()
            .map(|f| {
                let reg = match f {
                    Found::Valid(r) | Found::Unverified { reg: r, .. } => r,
                    Found::Malformed { .. } => return Ok(RegistrationCheck::default()),
                };
                let unit = conn
                    .prepare_cached("SELECT id, name FROM units WHERE lower(name) = lower(?1)")?
                    .query_row([reg.chapter.trim()], |r| {
                        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
                    })
                    .optional()?
                    .map(|(id, name)| UnitBrief {
                        id,
                        name,
                        in_scope: scope.units.contains(&id),
                    });
                // Every person the string may mean: by form, by address, by
                // name and phone.
                let mut people: Vec<i64> = Vec::new();
                if let Some(p) = conn
                    .prepare_cached("SELECT person_id FROM peers WHERE form_id = ?1")?
                    .query_row([&reg.form_id], |r| r.get(0))
                    .optional()?
                {
                    people.push(p);
                }
                if let Some(p) = conn
                    .prepare_cached("SELECT person_id FROM addresses WHERE email = ?1")?
                    .query_row([&reg.email], |r| r.get(0))
                    .optional()?
                {
                    people.push(p);
                }
                if let Some(phone) = reg.phone.as_deref().filter(|p| !digits(p).is_empty()) {
                    let same: Vec<(i64, Option<String>)> = conn
                        .prepare_cached(
                            "SELECT id, phone FROM people WHERE lower(name) = lower(?1)",
                        )?
                        .query_map([&reg.name], |r| Ok((r.get(0)?, r.get(1)?)))?
                        .collect::<Result<_, _>>()?;
                    people.extend(
                        same.into_iter()
                            .filter(|(_, p)| {
                                p.as_deref().is_some_and(|p| digits(p) == digits(phone))
                            })
                            .map(|(id, _)| id),
                    );
                }
                let mut check = RegistrationCheck {
                    unit,
                    ..RegistrationCheck::default()
                };
                for person in people {
                    match peer_of(person)? {
                        Some((peer_no, unit)) if scope.units.contains(&unit) => {
                            check.known_in_scope.get_or_insert(peer_no);
                        }
                        _ => check.known_elsewhere = true,
                    }
                }
                Ok(check)
            })
            .collect()
    }

    fn contacts(&self, employers: &[i64]) -> Result<Vec<ContactBrief>> {
        let sql = format!(
            "SELECT c.email, c.name, c.phone, c.employer_id, e.orgnr, e.name, c.duties, c.declaration, c.active
             FROM contacts c JOIN employers e ON e.id = c.employer_id
             WHERE c.employer_id IN ({}) ORDER BY e.name, c.active DESC, c.email",
            id_list(employers)
        );
        let rows = self
            .0
            .prepare(&sql)?
            .query_map([], |r| {
                Ok(ContactBrief {
                    email: r.get(0)?,
                    name: r.get(1)?,
                    phone: r.get(2)?,
                    employer_id: r.get(3)?,
                    orgnr: r.get(4)?,
                    employer: r.get(5)?,
                    duties: r.get(6)?,
                    declaration: r.get(7)?,
                    active: r.get(8)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    fn submitted(&self, employers: &[i64], since: DateTime<Utc>) -> Result<Vec<Submitted>> {
        let rows = self
            .0
            .prepare(&format!(
                "SELECT employer_id, period, MIN(received_at), MAX(received_at), COUNT(*),
                        SUM(CASE WHEN duplicate_of IS NULL THEN lines ELSE 0 END)
                 FROM submission_files WHERE employer_id IN ({}) AND received_at >= ?1
                 GROUP BY employer_id, period ORDER BY period DESC",
                id_list(employers)
            ))?
            .query_map([ts(since)], |r| {
                let day = |s: String| s.get(..10).unwrap_or(&s).to_string();
                Ok(Submitted {
                    employer_id: r.get(0)?,
                    period: r.get(1)?,
                    first: day(r.get(2)?),
                    last: day(r.get(3)?),
                    files: r.get(4)?,
                    lines: r.get(5)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    fn employer_members(&self, employers: &[i64]) -> Result<Vec<(i64, PersonRef)>> {
        let rows = self
            .0
            .prepare(&format!(
                "SELECT employer_id, id, name, member_no, birth_date FROM people
                 WHERE employer_id IN ({}) AND status = 'active' AND member_no IS NOT NULL",
                id_list(employers)
            ))?
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    PersonRef {
                        id: r.get(1)?,
                        name: r.get(2)?,
                        member_no: r.get(3)?,
                        birth_date: r.get(4)?,
                    },
                ))
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    fn submission(&self, employer: i64, period: &str, ids: &[&str]) -> Result<SubmissionReads> {
        let conn = self.0;
        let person = |r: &rusqlite::Row<'_>| -> rusqlite::Result<PersonRef> {
            Ok(PersonRef {
                id: r.get(0)?,
                name: r.get(1)?,
                member_no: r.get(2)?,
                birth_date: r.get(3)?,
            })
        };
        let mut snap = SubmissionReads::default();
        // Members registered at this employer, or who left it in the last
        // 12 months: nobody else is matched (SPEC section 8).
        let year_ago = period_start(period)
            .map(|d| (d - chrono::Duration::days(366)).to_string())
            .unwrap_or_default();
        let mut here = conn.prepare_cached(
            "SELECT p.id, p.name, p.member_no, p.birth_date FROM people p
             WHERE p.national_id = ?1 AND p.status = 'active' AND p.member_no IS NOT NULL
               AND (p.employer_id = ?2 OR EXISTS (SELECT 1 FROM employment_ends e
                        WHERE e.person_id = p.id AND e.employer_id = ?2 AND e.ended_on >= ?3))",
        )?;
        let mut elsewhere = conn.prepare_cached(
            "SELECT p.id, p.name, p.member_no, e.name FROM people p LEFT JOIN employers e ON e.id = p.employer_id
             WHERE p.national_id = ?1 AND p.status = 'active' AND p.member_no IS NOT NULL",
        )?;
        for nid in ids {
            if snap.people.contains_key(*nid) || snap.elsewhere.contains_key(*nid) {
                continue;
            }
            if let Some(p) = here
                .query_row(params![nid, employer, year_ago], person)
                .optional()?
            {
                snap.people.insert(nid.to_string(), p);
            } else if let Some(m) = elsewhere
                .query_row([nid], |r| {
                    Ok(MemberElsewhere {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        member_no: r.get(2)?,
                        employer: r.get(3)?,
                    })
                })
                .optional()?
            {
                snap.elsewhere.insert(nid.to_string(), m);
            }
        }
        snap.earlier = conn
            .prepare_cached(
                "SELECT DISTINCT l.person_id FROM submission_lines l JOIN submission_files f ON f.id = l.file_id
                 WHERE f.employer_id = ?1 AND f.period = ?2 AND l.person_id IS NOT NULL AND l.problem IS NULL",
            )?
            .query_map(params![employer, period], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        snap.earlier_files = conn
            .prepare_cached(
                "SELECT sha256, MIN(received_at) FROM submission_files WHERE employer_id = ?1 AND period = ?2 GROUP BY sha256",
            )?
            .query_map(params![employer, period], |r| {
                let at: String = r.get(1)?;
                Ok((r.get(0)?, at.get(..10).unwrap_or(&at).to_string()))
            })?
            .collect::<Result<_, _>>()?;
        snap.members = conn
            .prepare_cached(
                "SELECT id, name, member_no, birth_date FROM people
                 WHERE employer_id = ?1 AND status = 'active' AND member_no IS NOT NULL ORDER BY name, member_no",
            )?
            .query_map([employer], person)?
            .collect::<Result<_, _>>()?;
        snap.receipt_to = conn
            .prepare_cached(
                "SELECT email FROM contacts WHERE employer_id = ?1 AND active = 1 AND duties LIKE '%receipts%'
                     AND declaration IS NOT NULL ORDER BY email",
            )?
            .query_map([employer], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(snap)
    }

    fn live_codes(
        &self,
        email: &str,
        purpose: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<StoredCode>> {
        let rows = self
            .0
            .prepare_cached(
                "SELECT id, salt, hash, expires_at, tries, payload FROM codes
                 WHERE email = ?1 AND purpose = ?2 AND used_at IS NULL AND expires_at > ?3",
            )?
            .query_map(params![email, purpose, ts(now)], |r| {
                Ok(StoredCode {
                    id: r.get(0)?,
                    salt: r.get(1)?,
                    hash: r.get(2)?,
                    expires_at: r
                        .get::<_, String>(3)?
                        .parse()
                        .unwrap_or(DateTime::<Utc>::MIN_UTC),
                    used: false,
                    tries: r.get(4)?,
                    message_row: r.get::<_, Option<String>>(5)?.and_then(|p| p.parse().ok()),
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    fn code_guard(&self, email: &str, purpose: &str, now: DateTime<Utc>) -> Result<CodeGuard> {
        let (live, wrong) = self
            .0
            .prepare_cached(
                "SELECT (SELECT COUNT(*) FROM codes WHERE email = ?1 AND purpose = ?2
                             AND used_at IS NULL AND expires_at > ?3),
                        (SELECT COUNT(*) FROM code_failures WHERE email = ?1 AND purpose = ?2
                             AND at > ?4)",
            )?
            .query_row(
                params![
                    email,
                    purpose,
                    ts(now),
                    ts(now - chrono::Duration::hours(24))
                ],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
        Ok(CodeGuard { live, wrong })
    }

    fn digest(&self, now: DateTime<Utc>) -> Result<DigestFigures> {
        super::stats::digest(self.0, now)
    }

    fn letters(&self, employers: &[i64], since: DateTime<Utc>) -> Result<Vec<LetterRow>> {
        super::jobs::letters(self.0, employers, since)
    }

    fn units(&self, scope: &Scope) -> Result<Vec<UnitBrief>> {
        let sql = format!(
            "SELECT id, name FROM units WHERE id IN ({}) ORDER BY name",
            id_list(&scope.units)
        );
        Ok(self
            .0
            .prepare(&sql)?
            .query_map([], |r| {
                Ok(UnitBrief {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    in_scope: true,
                })
            })?
            .collect::<Result<_, _>>()?)
    }

    fn person(&self, id: i64) -> Result<Option<PersonDetail>> {
        people::detail(self.0, id)
    }

    fn address_owner(&self, email: &str) -> Result<Option<i64>> {
        people::owner(self.0, email)
    }

    fn employers_named(&self, named: &str) -> Result<Vec<EmployerRef>> {
        people::employers_named(self.0, named)
    }

    fn workplaces(&self, employer: i64) -> Result<Vec<WorkplaceBrief>> {
        people::workplaces(self.0, employer)
    }

    fn reps_of(&self, person: &PersonDetail, today: NaiveDate) -> Result<Vec<RepBrief>> {
        people::reps_of(self.0, person, today)
    }

    fn pending_of(&self, person: i64) -> Result<Vec<PendingRow>> {
        people::pending_of(self.0, person)
    }

    fn person_data(&self, person: i64, since: DateTime<Utc>) -> Result<PersonData> {
        people::data(self.0, person, since)
    }

    fn message_raw(&self, row: i64) -> Result<Option<Vec<u8>>> {
        Ok(self
            .0
            .prepare_cached("SELECT raw FROM messages WHERE id = ?1")?
            .query_row([row], |r| r.get::<_, Option<Vec<u8>>>(0))
            .optional()?
            .flatten())
    }
}

/// The first day of a period `YYYY-MM`.
fn period_start(period: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(&format!("{period}-01"), "%Y-%m-%d").ok()
}

/// The language of the person an address belongs to.
fn language_of(conn: &Connection, email: &str) -> Result<Option<Language>> {
    let l: Option<Option<String>> = conn
        .prepare_cached(
            "SELECT p.language FROM addresses a JOIN people p ON p.id = a.person_id WHERE a.email = ?1",
        )?
        .query_row([email], |r| r.get(0))
        .optional()?;
    Ok(l.flatten().as_deref().and_then(Language::parse))
}
