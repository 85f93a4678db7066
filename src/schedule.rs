//! When a scheduled job's slots fall (SPEC section 11), in the organisation's time zone. Pure.
//!
//! A job's schedule is a cron expression with a seconds field, e.g.
//! `0 0 7 1 * *` (07:00 on the 1st) or `0 30 3 * * *` (03:30 daily), read in
//! the organisation's time zone (Europe/Oslo by default). Nothing here reads a
//! clock: `now` is always passed in, so the caller ([`crate::jobs`]) decides
//! when to look and what to record.
//!
//! # Slots
//! A *slot* is a local wall-clock time ([`NaiveDateTime`], no zone) that the
//! expression matches. Slots are computed without time zones: the cron
//! schedule is iterated on [`Utc`] with the naive local times treated as if
//! they were UTC, so every wall-clock time occurs exactly once and daylight
//! saving time never skips or repeats a slot. (The `cron` crate's own zone
//! handling is not used: it silently skips a slot that falls in the
//! spring-forward gap and yields one in the repeated autumn hour twice.)
//!
//! # The instant a slot runs at ([`Slots::instant`])
//! - a wall-clock time that exists once: that instant;
//! - one that exists twice (the autumn fall-back repeats 02:00–03:00 in
//!   Europe/Oslo): the *earlier* instant, so the slot runs once, at its first
//!   occurrence;
//! - one that does not exist (the spring-forward gap: 02:30 on the last
//!   Sunday of March in Europe/Oslo): the first instant after the gap, the
//!   moment of the jump (03:00 CEST).
//!
//! This is what ISC cron does: a job of the skipped hour runs right after
//! the jump, one of the repeated hour once. The instant is nondecreasing in
//! the slot (slots in a gap share the jump's instant), which is what makes
//! "the latest slot whose instant has passed" well defined.
//!
//! # When a job is due ([`Slots::due`])
//! The caller durably stores `last`, the slot the job last ran for (as
//! [`format_slot`] writes it), and asks [`Slots::due`] with it and `now`:
//! - no history yet: [`Due::Baseline`]: the caller records the given slot
//!   *without running the job*, so a new job does not catch up on its first
//!   start but runs at its next slot. The baseline is now's local wall-clock
//!   time (whole seconds), or, in the second pass of a repeated autumn hour,
//!   the latest slot already passed in the first pass if that is later, so
//!   that it does not run either;
//! - otherwise, with `l` the latest slot whose instant is at or before
//!   `now` ([`Slots::latest`]): [`Due::Run`]`(l)` if `l > last`, else
//!   [`Due::Idle`]. Only the latest missed slot runs: after a week of
//!   downtime a daily job runs once, not seven times. A slot equal to `last`
//!   never runs again, so the repeated autumn hour runs once, and a slot the
//!   caller ran but did not record (a crash before its commit) is due again.
//!
//! The caller records `l` once the run is committed and sleeps until
//! [`Slots::next`]'s instant.
//!
//! # The cron dialect (the `cron` crate, 0.17)
//! Six fields, `sec min hour day-of-month month day-of-week`, with an
//! optional seventh, the year (1970–2100; there are no slots outside those
//! years). Days of the week count from Sunday = 1 to Saturday = 7 (names such
//! as `Mon` are safer), and a day-of-month and a day-of-week both given must
//! *both* match (not either, as in Vixie cron). `@daily`, `@monthly` and the
//! like are accepted.

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeDelta, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use cron::Schedule;
use std::str::FromStr;

/// How a slot is stored: local wall-clock time, no zone.
const SLOT_FORMAT: &str = "%Y-%m-%dT%H:%M:%S";

/// A job's cron schedule in the organisation's time zone.
#[derive(Debug, Clone)]
pub struct Slots {
    schedule: Schedule,
    tz: Tz,
}

/// What a job should do now (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// No history: record this slot without running the job.
    Baseline(NaiveDateTime),
    /// Run the job for this slot, then record it.
    Run(NaiveDateTime),
    /// Nothing to do.
    Idle,
}

impl Slots {
    /// `expr` is a cron expression with seconds; the error says what is wrong
    /// (the caller adds the config key).
    pub fn new(expr: &str, tz: Tz) -> Result<Slots, String> {
        let schedule = Schedule::from_str(expr).map_err(|e| {
            let fields = expr.split_whitespace().count();
            if fields < 6 && !expr.trim_start().starts_with('@') {
                let example = if fields == 5 {
                    format!(" (e.g. \"0 {}\")", expr.trim())
                } else {
                    String::new()
                };
                format!(
                    "cron expression {expr:?} has {fields} field{}; it needs 6, seconds first{example}",
                    if fields == 1 { "" } else { "s" }
                )
            } else {
                format!("invalid cron expression {expr:?}: {}", parse_error(expr, &e))
            }
        })?;
        if schedule
            .after(&DateTime::<Utc>::UNIX_EPOCH)
            .next()
            .is_none()
        {
            return Err(format!("cron expression {expr:?} matches no time"));
        }
        Ok(Slots { schedule, tz })
    }

    /// The instant `slot` runs at: its only or earlier occurrence, or, in a
    /// spring-forward gap, the moment of the jump.
    pub fn instant(&self, slot: NaiveDateTime) -> DateTime<Utc> {
        if let Some(t) = self.earliest(slot) {
            return t;
        }
        // In a gap. Walk to its end, coarse to fine: `inside` stays a
        // wall-clock time in the gap, and ends one second before its end.
        // (Real gaps are an hour or so; Pacific/Apia skipped a whole day.)
        let mut inside = slot.with_nanosecond(0).unwrap_or(slot);
        for (step, most) in [
            (TimeDelta::hours(1), 48),
            (TimeDelta::minutes(1), 60),
            (TimeDelta::seconds(1), 60),
        ] {
            for _ in 0..most {
                let ahead = inside + step;
                if self.earliest(ahead).is_some() {
                    break;
                }
                inside = ahead;
            }
        }
        // Unreachable for real zones; fall back to reading the slot as UTC.
        self.earliest(inside + TimeDelta::seconds(1))
            .unwrap_or_else(|| slot.and_utc())
    }

    /// The latest slot whose instant is at or before `now`; `None` if there
    /// is none (before 1970).
    pub fn latest(&self, now: DateTime<Utc>) -> Option<NaiveDateTime> {
        // Slots after now's wall-clock time can only have passed in the second
        // pass of a repeated hour: then they may be up to now's wall-clock
        // time read with the earlier (summer) offset.
        let local = self.local(now);
        let horizon = match self.tz.from_local_datetime(&local) {
            LocalResult::Ambiguous(a, b) => {
                let earlier = a.min(b).with_timezone(&Utc);
                local + (now - earlier).max(TimeDelta::zero())
            }
            _ => local,
        };
        // `after(x).rev()` yields the slots strictly before x, newest first.
        // Instants are nondecreasing in slots, so at most the slots of one
        // repeated hour are passed over before the answer.
        let before = (horizon + TimeDelta::nanoseconds(1)).and_utc();
        self.schedule
            .after(&before)
            .rev()
            .map(|t| t.naive_utc())
            .find(|&slot| self.instant(slot) <= now)
    }

    /// The first slot whose instant is after `now`, with that instant; `None`
    /// if there is none (after 2100).
    pub fn next(&self, now: DateTime<Utc>) -> Option<(NaiveDateTime, DateTime<Utc>)> {
        // Slots at or before now's wall-clock time have passed; later ones
        // have too if they were in the first pass of a repeated hour.
        let local = self.local(now);
        self.schedule
            .after(&local.and_utc())
            .map(|t| {
                let slot = t.naive_utc();
                (slot, self.instant(slot))
            })
            .find(|&(_, at)| at > now)
    }

    /// What the job should do at `now`, given `last`, the slot it last ran
    /// for (or its baseline); see the module doc.
    pub fn due(&self, last: Option<NaiveDateTime>, now: DateTime<Utc>) -> Due {
        match last {
            None => {
                let local = self.local(now);
                let local = local.with_nanosecond(0).unwrap_or(local);
                Due::Baseline(self.latest(now).map_or(local, |l| l.max(local)))
            }
            Some(last) => match self.latest(now) {
                Some(l) if l > last => Due::Run(l),
                _ => Due::Idle,
            },
        }
    }

    /// Now's wall-clock time in the zone.
    fn local(&self, now: DateTime<Utc>) -> NaiveDateTime {
        now.with_timezone(&self.tz).naive_local()
    }

    /// The earliest instant with this wall-clock time; `None` in a gap.
    fn earliest(&self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        match self.tz.from_local_datetime(&local) {
            LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
            LocalResult::Ambiguous(a, b) => Some(a.min(b).with_timezone(&Utc)),
            LocalResult::None => None,
        }
    }
}

/// The `cron` crate's parse error on one line. It reads "{expr}\n{caret
/// under the fault}\n{reason}", and the reason may be empty.
fn parse_error(expr: &str, e: &cron::error::Error) -> String {
    let text = e.to_string();
    let mut lines = text.lines().skip_while(|l| *l != expr);
    let (Some(_), Some(caret)) = (lines.next(), lines.next()) else {
        return text.split_whitespace().collect::<Vec<_>>().join(" ");
    };
    let reason = lines.collect::<Vec<_>>().join(" ");
    let reason = reason.trim();
    if !reason.is_empty() {
        return reason.to_string();
    }
    match caret.find('^').and_then(|at| expr.get(at..)) {
        Some(rest) if !rest.trim().is_empty() => format!("cannot read {:?}", rest.trim()),
        _ => "it ends too early".to_string(),
    }
}

/// A slot as stored: `2026-12-01T07:00:00` (local, no zone).
pub fn format_slot(slot: NaiveDateTime) -> String {
    slot.format(SLOT_FORMAT).to_string()
}

/// The inverse of [`format_slot`]; `None` if `s` is not in that form.
pub fn parse_slot(s: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s.trim(), SLOT_FORMAT).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use chrono_tz::Europe::Oslo;

    fn slots(expr: &str) -> Slots {
        Slots::new(expr, Oslo).unwrap()
    }

    /// A wall-clock time.
    fn wall(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d)
            .unwrap()
            .and_hms_opt(h, mi, s)
            .unwrap()
    }

    /// An instant, given in UTC.
    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        wall(y, mo, d, h, mi, s).and_utc()
    }

    /// The caller's loop: ask at every `step` in `[from, to)`, record
    /// baselines and runs. Returns each run's slot and when it ran.
    fn drive(
        slots: &Slots,
        last: &mut Option<NaiveDateTime>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        step: TimeDelta,
    ) -> Vec<(NaiveDateTime, DateTime<Utc>)> {
        let mut runs = Vec::new();
        let mut now = from;
        while now < to {
            match slots.due(*last, now) {
                Due::Baseline(b) => *last = Some(b),
                Due::Run(slot) => {
                    runs.push((slot, now));
                    *last = Some(slot);
                }
                Due::Idle => {}
            }
            now += step;
        }
        runs
    }

    #[test]
    fn daily_through_december() {
        let s = slots("0 0 6 * * *");
        let mut last = Some(wall(2026, 11, 30, 6, 0, 0));
        let runs = drive(
            &s,
            &mut last,
            utc(2026, 12, 1, 0, 0, 0),
            utc(2027, 1, 1, 0, 0, 0),
            TimeDelta::minutes(1),
        );
        assert_eq!(runs.len(), 31);
        for (day, &(slot, at)) in (1..=31).zip(&runs) {
            assert_eq!(slot, wall(2026, 12, day, 6, 0, 0));
            assert_eq!(at, utc(2026, 12, day, 5, 0, 0));
            assert_eq!(s.instant(slot), at);
        }
        assert_eq!(last, Some(wall(2026, 12, 31, 6, 0, 0)));
    }

    #[test]
    fn monthly_across_a_year() {
        let s = slots("0 0 7 1 * *");
        let mut last = Some(wall(2026, 12, 1, 7, 0, 0));
        let runs = drive(
            &s,
            &mut last,
            utc(2027, 1, 1, 0, 0, 0),
            utc(2028, 1, 1, 0, 0, 0),
            TimeDelta::minutes(10),
        );
        assert_eq!(runs.len(), 12);
        for (month, &(slot, at)) in (1..=12).zip(&runs) {
            assert_eq!(slot, wall(2027, month, 1, 7, 0, 0));
            // Summer time 2027: 28 March to 31 October.
            let utc_hour = if (4..=10).contains(&month) { 5 } else { 6 };
            assert_eq!(at, utc(2027, month, 1, utc_hour, 0, 0), "month {month}");
        }
    }

    #[test]
    fn first_start_baselines_then_runs_at_the_next_slot() {
        let s = slots("0 0 6 * * *");
        // 13:00 local, after the day's slot: it is not caught up.
        let start = utc(2026, 12, 10, 12, 0, 0) + TimeDelta::milliseconds(250);
        assert_eq!(
            s.due(None, start),
            Due::Baseline(wall(2026, 12, 10, 13, 0, 0))
        );
        let mut last = None;
        let runs = drive(
            &s,
            &mut last,
            start,
            utc(2026, 12, 12, 0, 0, 0),
            TimeDelta::minutes(1),
        );
        assert_eq!(
            runs,
            vec![(
                wall(2026, 12, 11, 6, 0, 0),
                utc(2026, 12, 11, 5, 0, 0) + TimeDelta::milliseconds(250)
            )]
        );
        // Started exactly at a slot: that slot is the baseline, not run.
        let at = utc(2026, 12, 10, 5, 0, 0);
        assert_eq!(s.due(None, at), Due::Baseline(wall(2026, 12, 10, 6, 0, 0)));
        assert_eq!(s.due(Some(wall(2026, 12, 10, 6, 0, 0)), at), Due::Idle);
    }

    #[test]
    fn downtime_runs_the_latest_slot_once() {
        let s = slots("0 0 6 * * *");
        let last = wall(2026, 12, 1, 6, 0, 0);
        let now = utc(2026, 12, 8, 12, 0, 0);
        let slot = wall(2026, 12, 8, 6, 0, 0);
        assert_eq!(s.due(Some(last), now), Due::Run(slot));
        assert_eq!(s.due(Some(slot), now), Due::Idle);
        assert_eq!(s.due(Some(slot), now + TimeDelta::hours(3)), Due::Idle);
    }

    #[test]
    fn a_slot_not_recorded_before_a_restart_is_due_again() {
        let s = slots("0 0 6 * * *");
        let last = wall(2026, 12, 1, 6, 0, 0);
        let slot = wall(2026, 12, 2, 6, 0, 0);
        assert_eq!(
            s.due(Some(last), utc(2026, 12, 2, 5, 0, 30)),
            Due::Run(slot)
        );
        // Crash before the commit: `last` is unchanged when the daemon restarts.
        let restart = utc(2026, 12, 2, 5, 3, 0);
        assert_eq!(s.due(Some(last), restart), Due::Run(slot));
        // Once recorded, it is done.
        assert_eq!(s.due(Some(slot), restart), Due::Idle);
        assert_eq!(s.due(Some(slot), utc(2026, 12, 3, 4, 59, 59)), Due::Idle);
    }

    #[test]
    fn spring_forward_runs_the_skipped_slot_at_the_jump() {
        // 2027-03-28 02:00 CET becomes 03:00 CEST (01:00 UTC).
        let s = slots("0 30 2 * * *");
        let skipped = wall(2027, 3, 28, 2, 30, 0);
        assert_eq!(s.instant(skipped), utc(2027, 3, 28, 1, 0, 0));
        assert_eq!(
            s.instant(wall(2027, 3, 28, 2, 0, 0)),
            utc(2027, 3, 28, 1, 0, 0)
        );
        assert_eq!(
            s.instant(wall(2027, 3, 28, 2, 59, 59)),
            utc(2027, 3, 28, 1, 0, 0)
        );
        let mut last = Some(wall(2027, 3, 25, 2, 30, 0));
        let runs = drive(
            &s,
            &mut last,
            utc(2027, 3, 26, 0, 0, 0),
            utc(2027, 3, 30, 0, 0, 0),
            TimeDelta::minutes(1),
        );
        assert_eq!(
            runs,
            vec![
                (wall(2027, 3, 26, 2, 30, 0), utc(2027, 3, 26, 1, 30, 0)),
                (wall(2027, 3, 27, 2, 30, 0), utc(2027, 3, 27, 1, 30, 0)),
                (skipped, utc(2027, 3, 28, 1, 0, 0)),
                (wall(2027, 3, 29, 2, 30, 0), utc(2027, 3, 29, 0, 30, 0)),
            ]
        );
        let before_jump = utc(2027, 3, 28, 0, 59, 59);
        assert_eq!(
            s.next(before_jump),
            Some((skipped, utc(2027, 3, 28, 1, 0, 0)))
        );
        assert_eq!(s.latest(before_jump), Some(wall(2027, 3, 27, 2, 30, 0)));

        let s = slots("0 0 6 * * *");
        let mut last = Some(wall(2027, 3, 25, 6, 0, 0));
        let runs = drive(
            &s,
            &mut last,
            utc(2027, 3, 26, 0, 0, 0),
            utc(2027, 3, 30, 0, 0, 0),
            TimeDelta::minutes(1),
        );
        assert_eq!(
            runs,
            vec![
                (wall(2027, 3, 26, 6, 0, 0), utc(2027, 3, 26, 5, 0, 0)),
                (wall(2027, 3, 27, 6, 0, 0), utc(2027, 3, 27, 5, 0, 0)),
                (wall(2027, 3, 28, 6, 0, 0), utc(2027, 3, 28, 4, 0, 0)),
                (wall(2027, 3, 29, 6, 0, 0), utc(2027, 3, 29, 4, 0, 0)),
            ]
        );
    }

    #[test]
    fn fall_back_runs_the_repeated_hour_once() {
        // 2026-10-25 03:00 CEST becomes 02:00 CET (01:00 UTC).
        let s = slots("0 30 2 * * *");
        let slot = wall(2026, 10, 25, 2, 30, 0);
        assert_eq!(s.instant(slot), utc(2026, 10, 25, 0, 30, 0));
        let mut last = Some(wall(2026, 10, 24, 2, 30, 0));
        let runs = drive(
            &s,
            &mut last,
            utc(2026, 10, 24, 22, 0, 0),
            utc(2026, 10, 25, 6, 0, 0),
            TimeDelta::minutes(1),
        );
        assert_eq!(runs, vec![(slot, utc(2026, 10, 25, 0, 30, 0))]);
        // The second 02:30 (CET).
        assert_eq!(s.due(Some(slot), utc(2026, 10, 25, 1, 30, 0)), Due::Idle);
        assert_eq!(s.latest(utc(2026, 10, 25, 1, 30, 0)), Some(slot));
        assert_eq!(
            s.next(utc(2026, 10, 25, 1, 30, 0)),
            Some((wall(2026, 10, 26, 2, 30, 0), utc(2026, 10, 26, 1, 30, 0)))
        );

        // Hourly over the 25 real hours of that local day: 24 slots, each once.
        let s = slots("0 0 * * * *");
        let mut last = Some(wall(2026, 10, 24, 23, 0, 0));
        let runs = drive(
            &s,
            &mut last,
            utc(2026, 10, 24, 22, 0, 0), // 00:00 CEST
            utc(2026, 10, 25, 23, 0, 0), // 00:00 CET the next day
            TimeDelta::minutes(1),
        );
        let expected: Vec<_> = (0..24).map(|h| wall(2026, 10, 25, h, 0, 0)).collect();
        let ran: Vec<_> = runs.iter().map(|&(slot, _)| slot).collect();
        assert_eq!(ran, expected);
        for &(slot, at) in &runs {
            assert_eq!(s.instant(slot), at);
            // Nothing runs in the second pass of the repeated hour.
            assert!(!(utc(2026, 10, 25, 1, 0, 0)..utc(2026, 10, 25, 2, 0, 0)).contains(&at));
        }
        assert_eq!(
            runs[2],
            (wall(2026, 10, 25, 2, 0, 0), utc(2026, 10, 25, 0, 0, 0))
        );
        assert_eq!(
            runs[3],
            (wall(2026, 10, 25, 3, 0, 0), utc(2026, 10, 25, 2, 0, 0))
        );
    }

    #[test]
    fn first_start_in_the_second_pass_of_the_repeated_hour() {
        // 01:30 UTC is 02:30 CET; 02:45 already passed at 00:45 UTC (CEST).
        let s = slots("0 */15 * * * *");
        let now = utc(2026, 10, 25, 1, 30, 0);
        assert_eq!(s.latest(now), Some(wall(2026, 10, 25, 2, 45, 0)));
        assert_eq!(
            s.due(None, now),
            Due::Baseline(wall(2026, 10, 25, 2, 45, 0))
        );
        assert_eq!(
            s.next(now),
            Some((wall(2026, 10, 25, 3, 0, 0), utc(2026, 10, 25, 2, 0, 0)))
        );
        let mut last = None;
        let runs = drive(
            &s,
            &mut last,
            now,
            utc(2026, 10, 25, 2, 30, 0),
            TimeDelta::minutes(1),
        );
        assert_eq!(
            runs,
            vec![
                (wall(2026, 10, 25, 3, 0, 0), utc(2026, 10, 25, 2, 0, 0)),
                (wall(2026, 10, 25, 3, 15, 0), utc(2026, 10, 25, 2, 15, 0)),
            ]
        );
    }

    #[test]
    fn next_is_after_now_and_latest_at_or_before() {
        let s = slots("0 0 6 * * *");
        let at = utc(2026, 12, 10, 5, 0, 0);
        assert_eq!(s.latest(at), Some(wall(2026, 12, 10, 6, 0, 0)));
        assert_eq!(
            s.next(at),
            Some((wall(2026, 12, 11, 6, 0, 0), utc(2026, 12, 11, 5, 0, 0)))
        );
        let just_before = at - TimeDelta::seconds(1);
        assert_eq!(s.latest(just_before), Some(wall(2026, 12, 9, 6, 0, 0)));
        assert_eq!(s.next(just_before), Some((wall(2026, 12, 10, 6, 0, 0), at)));

        // Across both changes of 2026-2027, at odd times: latest and next are
        // neighbouring slots, one passed and one not.
        for expr in [
            "0 0 * * * *",
            "0 */15 * * * *",
            "0 30 2 * * *",
            "15 0 7 1 * *",
        ] {
            let s = slots(expr);
            for (from, to) in [
                (utc(2026, 10, 24, 20, 0, 0), utc(2026, 10, 25, 6, 0, 0)),
                (utc(2027, 3, 27, 20, 0, 0), utc(2027, 3, 28, 6, 0, 0)),
            ] {
                let mut now = from;
                while now < to {
                    let latest = s.latest(now).unwrap();
                    let (next, at) = s.next(now).unwrap();
                    assert!(s.instant(latest) <= now, "{expr} at {now}");
                    assert!(at > now, "{expr} at {now}");
                    assert_eq!(at, s.instant(next));
                    let successor = s.schedule.after(&latest.and_utc()).next().unwrap();
                    assert_eq!(successor.naive_utc(), next, "{expr} at {now}");
                    now += TimeDelta::seconds(7 * 60 + 13);
                }
            }
        }
    }

    #[test]
    fn format_and_parse() {
        let slot = wall(2026, 12, 1, 7, 0, 0);
        assert_eq!(format_slot(slot), "2026-12-01T07:00:00");
        assert_eq!(parse_slot("2026-12-01T07:00:00"), Some(slot));
        assert_eq!(
            parse_slot(&format_slot(wall(2027, 3, 28, 2, 30, 5))),
            Some(wall(2027, 3, 28, 2, 30, 5))
        );
        assert_eq!(parse_slot("2026-12-01 07:00:00"), None);
        assert_eq!(parse_slot("2026-12-01T07:00:00+01:00"), None);
        assert_eq!(parse_slot(""), None);
    }

    #[test]
    fn every_second_is_cheap() {
        let s = slots("* * * * * *");
        let now = utc(2026, 12, 10, 12, 0, 0) + TimeDelta::milliseconds(500);
        let local = wall(2026, 12, 10, 13, 0, 0);
        assert_eq!(s.latest(now), Some(local));
        assert_eq!(
            s.next(now),
            Some((local + TimeDelta::seconds(1), utc(2026, 12, 10, 12, 0, 1)))
        );
        assert_eq!(
            s.due(Some(wall(2026, 12, 1, 0, 0, 0)), now),
            Due::Run(local)
        );
        assert_eq!(s.due(Some(local), now), Due::Idle);
        assert_eq!(s.due(None, now), Due::Baseline(local));
        // The worst case: the second pass of the repeated hour.
        let now = utc(2026, 10, 25, 1, 30, 0);
        assert_eq!(s.latest(now), Some(wall(2026, 10, 25, 2, 59, 59)));
        assert_eq!(
            s.next(now),
            Some((wall(2026, 10, 25, 3, 0, 0), utc(2026, 10, 25, 2, 0, 0)))
        );
        // Many calls stay fast (a second-by-second scan of any range would not).
        let mut last = None;
        let runs = drive(
            &s,
            &mut last,
            utc(2026, 12, 10, 0, 0, 0),
            utc(2026, 12, 10, 0, 10, 0),
            TimeDelta::seconds(1),
        );
        assert_eq!(runs.len(), 599);
    }

    #[test]
    fn a_gap_of_a_whole_day() {
        // Pacific/Apia skipped 2011-12-30: 23:59:59 -10 was followed by
        // 2011-12-31 00:00 +14 (2011-12-30 10:00 UTC).
        let s = Slots::new("0 0 12 * * *", chrono_tz::Pacific::Apia).unwrap();
        assert_eq!(
            s.instant(wall(2011, 12, 30, 12, 0, 0)),
            utc(2011, 12, 30, 10, 0, 0)
        );
        assert_eq!(
            s.latest(utc(2011, 12, 30, 10, 0, 0)),
            Some(wall(2011, 12, 30, 12, 0, 0))
        );
    }

    #[test]
    fn bad_expressions_say_why() {
        let e = Slots::new("30 3 * * *", Oslo).unwrap_err();
        assert!(
            e.contains("5 fields") && e.contains("\"0 30 3 * * *\""),
            "{e}"
        );
        let e = Slots::new("banana", Oslo).unwrap_err();
        assert!(e.contains("banana") && !e.contains('\n'), "{e}");
        let e = Slots::new("0 0 25 * * *", Oslo).unwrap_err();
        assert!(
            e.contains("Hours") && e.contains("'25'") && !e.contains('\n'),
            "{e}"
        );
        let e = Slots::new("0 0 7 * * 0", Oslo).unwrap_err();
        assert!(e.contains("Days of Week") && !e.contains('\n'), "{e}");
        let e = Slots::new("0 0 7 x * *", Oslo).unwrap_err();
        assert!(e.contains('x') && !e.contains('\n'), "{e}");
        let e = Slots::new("0 0 7 1 * * 2020 9", Oslo).unwrap_err();
        assert!(!e.contains('\n'), "{e}");
        let e = Slots::new("", Oslo).unwrap_err();
        assert!(e.contains("0 fields"), "{e}");
        let e = Slots::new("0 0 0 30 2 *", Oslo).unwrap_err();
        assert!(e.contains("matches no time"), "{e}");
        assert!(Slots::new("0 0 7 1 * *", Oslo).is_ok());
        assert!(Slots::new("0 30 3 * * *", Oslo).is_ok());
        assert!(Slots::new("@daily", Oslo).is_ok());
    }
}
