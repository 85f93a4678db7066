//! One clock and one source of randomness, handed to the daemon, `run
//! --once`, the command line and the scheduled jobs. `POSTBUD_NOW` (RFC
//! 3339) pins the time and `POSTBUD_SEED` (a number) the randomness, so
//! tests and demos produce the same references, dates and codes every run.

use anyhow::{Context as _, Result};
use chrono::{DateTime, Utc};
use postbud_commands::facts::Fresh;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::{Arc, Mutex};

/// The time postbud goes by: the system's, or one pinned (and moved by
/// hand in tests).
#[derive(Debug, Clone, Default)]
pub struct Clock {
    pinned: Arc<Mutex<Option<DateTime<Utc>>>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock::default()
    }

    /// A clock that stands still at `at` until moved.
    pub fn fixed(at: DateTime<Utc>) -> Clock {
        Clock {
            pinned: Arc::new(Mutex::new(Some(at))),
        }
    }

    /// `POSTBUD_NOW` when set, else the system clock.
    pub fn from_env() -> Result<Clock> {
        match std::env::var("POSTBUD_NOW") {
            Ok(t) => Ok(Clock::fixed(
                DateTime::parse_from_rfc3339(t.trim())
                    .with_context(|| format!("POSTBUD_NOW=`{t}` is not an RFC 3339 time"))?
                    .with_timezone(&Utc),
            )),
            Err(_) => Ok(Clock::system()),
        }
    }

    /// The time now.
    pub fn now(&self) -> DateTime<Utc> {
        match *self.pinned.lock().unwrap_or_else(|p| p.into_inner()) {
            Some(t) => t,
            None => Utc::now(),
        }
    }

    /// Pins the clock at `at` (every clone sees it).
    pub fn set(&self, at: DateTime<Utc>) {
        *self.pinned.lock().unwrap_or_else(|p| p.into_inner()) = Some(at);
    }

    /// Moves a pinned clock on by `by`.
    pub fn advance(&self, by: chrono::Duration) {
        let mut t = self.pinned.lock().unwrap_or_else(|p| p.into_inner());
        *t = Some(t.unwrap_or_else(Utc::now) + by);
    }
}

/// Codes and salts from a CSPRNG (ChaCha): seeded by the OS, or by
/// `POSTBUD_SEED` for repeatable runs.
pub struct Random(StdRng);

impl Random {
    /// Seeded by the operating system.
    pub fn os() -> Random {
        Random(StdRng::from_os_rng())
    }

    /// Seeded by `seed`: the same codes every run.
    pub fn seeded(seed: u64) -> Random {
        Random(StdRng::seed_from_u64(seed))
    }

    /// `POSTBUD_SEED` when set, else the OS.
    pub fn from_env() -> Result<Random> {
        match std::env::var("POSTBUD_SEED") {
            Ok(s) => {
                Ok(Random::seeded(s.trim().parse().with_context(|| {
                    format!("POSTBUD_SEED=`{s}` is not a number")
                })?))
            }
            Err(_) => Ok(Random::os()),
        }
    }
}

impl Fresh for Random {
    fn code(&mut self) -> String {
        format!("{:06}", self.0.random_range(0..1_000_000u32))
    }
    fn salt(&mut self) -> String {
        format!("{:032x}", self.0.random::<u128>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pinned_clock_stands_still_until_moved() {
        let t: DateTime<Utc> = "2026-11-20T08:00:00Z".parse().unwrap();
        let c = Clock::fixed(t);
        assert_eq!(c.now(), t);
        let other = c.clone();
        other.advance(chrono::Duration::hours(1));
        assert_eq!(c.now(), t + chrono::Duration::hours(1));
    }

    #[test]
    fn a_seed_gives_the_same_codes() {
        let (mut a, mut b) = (Random::seeded(7), Random::seeded(7));
        assert_eq!(a.code(), b.code());
        assert_eq!(a.salt(), b.salt());
        assert_eq!(a.code().len(), 6);
    }
}
