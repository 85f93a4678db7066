//! Running the scheduled jobs (SPEC section 11): `letters`, `reminders`,
//! `digest` and `retention`, each once per slot of its cron expression in
//! the organisation's time zone ([`crate::schedule`]), and the approved
//! changes whose day has come.
//!
//! A job's work is split into items (one employer's letter or reminder; the
//! digest; the deletions). Each item is read, decided (the pure
//! `postbud_commands::jobs`) and applied in its own transaction together
//! with the record that it is done for the slot; the slot is recorded when
//! every item is. So a crash in the middle of a job redoes only the items
//! not yet committed, and nothing is sent twice: mail goes through the
//! outbox like every reply. After downtime only the latest missed slot
//! runs; a job with no history starts counting at its first start.

use anyhow::{Context as _, Result, anyhow};
use chrono::{DateTime, Datelike, Months, Utc};
use postbud_commands::jobs::{self, Job};
use postbud_commands::plan::Plan;
use postbud_commands::{Cx, Facts, Fresh, Register};
use std::fmt::Write as _;

use crate::config::Config;
use crate::pipeline::Context;
use crate::schedule::{Due, Slots, format_slot, parse_slot};
use crate::store::apply::{self, Origin};
use crate::store::reads::Reader;
use crate::store::{self, Store, next_ref, pending, stats};

/// A job and when it runs.
pub struct Scheduled {
    pub job: Job,
    /// The cron expression as configured.
    pub expr: String,
    pub slots: Slots,
}

/// Every job with its slots, from `[schedule]` in `organisation.timezone`.
pub fn schedule(cfg: &Config) -> Result<Vec<Scheduled>> {
    let tz = cfg.settings().timezone;
    Job::ALL
        .into_iter()
        .map(|job| {
            let expr = match job {
                Job::Letters => &cfg.schedule.letters,
                Job::Reminders => &cfg.schedule.reminders,
                Job::Digest => &cfg.schedule.digest,
                Job::Retention => &cfg.schedule.retention,
            };
            let slots =
                Slots::new(expr, tz).map_err(|e| anyhow!("schedule.{}: {e}", job.name()))?;
            Ok(Scheduled {
                job,
                expr: expr.clone(),
                slots,
            })
        })
        .collect()
}

/// What one run of a job did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ran {
    pub job: &'static str,
    /// The slot it ran for; `None` for an extra run (`postbud jobs run`).
    pub slot: Option<String>,
    /// Items carried out now.
    pub items: usize,
    /// Items of the slot done before (a run resumed after a crash).
    pub done_before: usize,
    /// Mails queued.
    pub mails: usize,
    /// For a dry run: what it would do, one plan after another.
    pub plans: String,
}

/// What a scheduled run needs besides the register.
pub struct Runner<'a> {
    pub ctx: &'a Context,
    /// `retention.raw_body_days`.
    pub raw_body_days: i64,
}

impl Runner<'_> {
    pub fn from<'a>(ctx: &'a Context, cfg: &Config) -> Runner<'a> {
        Runner {
            ctx,
            raw_body_days: cfg.retention.raw_body_days,
        }
    }

    /// Carries out the approved changes whose day has come, then runs every
    /// job whose slot is due at `now` (a job seen for the first time only
    /// records where it starts). Returns the runs.
    pub fn tick(
        &self,
        store: &mut Store,
        jobs: &[Scheduled],
        now: DateTime<Utc>,
        fresh: &mut dyn Fresh,
    ) -> Result<Vec<Ran>> {
        self.apply_due(store, now)?;
        let mut ran = Vec::new();
        for s in jobs {
            let name = s.job.name();
            let last = store::jobs::last_slot(&store.conn, name)?;
            match s.slots.due(last.as_deref().and_then(parse_slot), now) {
                Due::Idle => {}
                Due::Baseline(b) => {
                    store::jobs::set_slot(&store.conn, name, &format_slot(b), now)?;
                    tracing::info!(job = name, from = %format_slot(b), "job scheduled");
                }
                Due::Run(slot) => {
                    let slot = format_slot(slot);
                    let r = self.run(store, s.job, Some(&slot), now, fresh, false)?;
                    store::jobs::set_slot(&store.conn, name, &slot, now)?;
                    tracing::info!(job = name, slot = %slot, items = r.items, mails = r.mails, "job ran");
                    ran.push(r);
                }
            }
        }
        Ok(ran)
    }

    /// Carries out the approved changes due today (SPEC section 11,
    /// "Dated changes"), in one transaction.
    pub fn apply_due(&self, store: &mut Store, now: DateTime<Utc>) -> Result<usize> {
        let tx = store
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let n = pending::apply_due(&tx, self.ctx.settings.today(now), now)?;
        tx.commit()?;
        if n > 0 {
            tracing::info!(changes = n, "dated changes carried out");
        }
        Ok(n)
    }

    /// One run of `job`: for `slot` (each item once, items done before are
    /// skipped), or an extra run (`slot` `None`). A dry run decides every
    /// item and changes nothing: `plans` says what it would do.
    pub fn run(
        &self,
        store: &mut Store,
        job: Job,
        slot: Option<&str>,
        now: DateTime<Utc>,
        fresh: &mut dyn Fresh,
        dry_run: bool,
    ) -> Result<Ran> {
        let name = job.name();
        let items: Vec<String> = match job {
            Job::Letters => store::jobs::employers_with_changes(&store.conn)?
                .into_iter()
                .map(|e| e.to_string())
                .collect(),
            Job::Reminders => store::jobs::reminder_employers(&store.conn)?
                .into_iter()
                .map(|e| e.to_string())
                .collect(),
            Job::Digest | Job::Retention => vec![name.to_string()],
        };
        let mut ran = Ran {
            job: name,
            slot: slot.map(str::to_string),
            ..Ran::default()
        };
        for item in &items {
            if let Some(slot) = slot
                && store::jobs::item_done(&store.conn, name, slot, item)?
            {
                ran.done_before += 1;
                continue;
            }
            let tx = store
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let plan = self
                .decide(&tx, job, item, now, fresh)
                .with_context(|| format!("job {name}, item {item}"))?;
            if dry_run {
                let _ = write!(ran.plans, "{plan}");
                continue; // dropped: rolled back
            }
            if !plan.actions.is_empty() || !plan.replies.is_empty() {
                let reference = match (&plan.reference, plan.needs_ref) {
                    (Some(r), _) => Some(r.clone()),
                    (None, true) => Some(next_ref(&tx, now.year())?),
                    (None, false) => None,
                };
                ran.mails += apply::apply(
                    &tx,
                    &self.ctx.renderer,
                    &plan,
                    Origin::Job { name },
                    reference.as_deref(),
                    false,
                    now,
                )?;
            }
            if let Some(slot) = slot {
                store::jobs::mark_item(&tx, name, slot, item, now)?;
            }
            tx.commit()?;
            ran.items += 1;
            #[cfg(debug_assertions)]
            test_hooks::after_item(ran.items);
        }
        Ok(ran)
    }

    /// Reads what one item needs and decides it.
    fn decide(
        &self,
        conn: &rusqlite::Connection,
        job: Job,
        item: &str,
        now: DateTime<Utc>,
        fresh: &mut dyn Fresh,
    ) -> Result<Plan> {
        let s = &self.ctx.settings;
        let facts = Facts {
            sender: s.org_address.clone(),
            ..Facts::default()
        };
        let cx = Cx {
            facts: &facts,
            settings: s,
            now,
            fresh,
        };
        let today = s.today(now);
        let employer = || -> Result<i64> { Ok(item.parse()?) };
        Ok(match job {
            Job::Letters => match store::jobs::letter_due(conn, employer()?)? {
                Some(due) => jobs::letters::decide(&cx, due),
                None => Plan::record(jobs::letters::KIND),
            },
            Job::Reminders => {
                // The calendar month before the one the job runs in.
                let month = today
                    .with_day(1)
                    .and_then(|d| d.checked_sub_months(Months::new(1)))
                    .unwrap_or(today);
                let period = format!("{:04}-{:02}", month.year(), month.month());
                match store::jobs::reminder_due(conn, employer()?, &period)? {
                    Some(due) => jobs::reminders::decide(&cx, due),
                    None => Plan::record(jobs::reminders::KIND),
                }
            }
            Job::Digest => {
                let figures = Reader(conn).digest(now)?;
                let admins = store::jobs::admins(conn, &self.ctx.admins, today)?;
                jobs::digest::decide(&cx, &figures, &admins)
            }
            Job::Retention => {
                let (letters, codes, raw) = jobs::retention::cutoffs(now, self.raw_body_days);
                let counts = store::jobs::retention_counts(conn, letters, codes, raw)?;
                jobs::retention::decide(&cx, self.raw_body_days, counts)
            }
        })
    }
}

/// `postbud jobs list`: each job, its schedule, the slot it last ran for
/// and the next.
pub fn list(store: &Store, jobs: &[Scheduled], now: DateTime<Utc>) -> Result<String> {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<10} {:<16} {:<22} {:<22} next",
        "job", "schedule", "last slot", "last ran (UTC)"
    );
    for s in jobs {
        let name = s.job.name();
        let last = store::jobs::last_slot(&store.conn, name)?;
        let ran = store::jobs::last_run(&store.conn, name)?;
        let next = s
            .slots
            .next(now)
            .map(|(slot, _)| format_slot(slot))
            .unwrap_or_else(|| "never".into());
        let _ = writeln!(
            out,
            "{name:<10} {:<16} {:<22} {:<22} {next}",
            s.expr,
            last.as_deref().unwrap_or("-"),
            ran.as_deref().map(|r| &r[..r.len().min(19)]).unwrap_or("-"),
        );
    }
    let figures = stats::digest(&store.conn, now)?;
    if !figures.scheduled.is_empty() {
        let _ = writeln!(out, "\napproved changes waiting for their day:");
        for c in &figures.scheduled {
            let _ = writeln!(
                out,
                "  {}  {}  {}",
                c.effective_on.as_deref().unwrap_or("-"),
                c.reference,
                c.summary
            );
        }
    }
    Ok(out)
}

/// Crash tests only, in debug builds: `POSTBUD_TEST_JOB_ABORT_AFTER=<n>`
/// aborts the process right after the n-th item of a run is committed.
#[cfg(debug_assertions)]
mod test_hooks {
    pub fn after_item(items: usize) {
        if std::env::var("POSTBUD_TEST_JOB_ABORT_AFTER")
            .ok()
            .and_then(|n| n.parse::<usize>().ok())
            == Some(items)
        {
            std::process::abort();
        }
    }
}
