//! Retention (SPEC section 11): letters older than six months, codes used
//! or expired, raw bodies of messages older than `raw_body_days` (the
//! record that a message was handled stays, so it is still recognised when
//! delivered again). One audited action with the cut-off times.

use chrono::{DateTime, Duration, Utc};

use crate::cx::Cx;
use crate::plan::{Action, Plan};
use crate::register::RetentionCounts;

/// The job's kind.
pub const KIND: &str = "retention";

/// Letters are kept this long (seed 002: six months).
pub const LETTER_MONTHS: u32 = 6;

/// Used and expired codes are kept this long (the guessing counts of the
/// last 24 hours read them).
pub const CODE_HOURS: i64 = 48;

/// What is old enough to go at `now`: (letters written before, codes used
/// or expired before, raw bodies of messages handled before).
pub fn cutoffs(
    now: DateTime<Utc>,
    raw_body_days: i64,
) -> (DateTime<Utc>, DateTime<Utc>, DateTime<Utc>) {
    (
        now.checked_sub_months(chrono::Months::new(LETTER_MONTHS))
            .unwrap_or(now),
        now - Duration::hours(CODE_HOURS),
        now - Duration::days(raw_body_days),
    )
}

/// The deletions due now, given how many there are of each kind; nothing
/// when nothing is old enough.
pub fn decide(cx: &Cx<'_>, raw_body_days: i64, counts: RetentionCounts) -> Plan {
    let mut plan = Plan::record(KIND);
    if counts == RetentionCounts::default() {
        return plan;
    }
    let (letters_before, codes_before, raw_before) = cutoffs(cx.now, raw_body_days);
    plan.actions.push(Action::Purge {
        letters_before,
        codes_before,
        raw_before,
    });
    plan
}
