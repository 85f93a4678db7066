//! The scheduled jobs' decisions (SPEC section 11), pure like the commands:
//! what a job reads comes in, a [`Plan`](crate::plan::Plan) per item goes
//! out (one employer's letter, one employer's reminder, the digest, the
//! deletions). The runner (`src/jobs.rs`) reads, applies each item in its
//! own transaction and records the slot. Their mail answers nobody.

pub mod digest;
pub mod letters;
pub mod reminders;
pub mod retention;

/// The scheduled jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Job {
    Letters,
    Reminders,
    Digest,
    Retention,
}

impl Job {
    pub const ALL: [Job; 4] = [Job::Letters, Job::Reminders, Job::Digest, Job::Retention];

    /// The name in `[schedule]` and `postbud jobs`.
    pub fn name(self) -> &'static str {
        match self {
            Job::Letters => "letters",
            Job::Reminders => "reminders",
            Job::Digest => "digest",
            Job::Retention => "retention",
        }
    }

    pub fn parse(name: &str) -> Option<Job> {
        Job::ALL.into_iter().find(|j| j.name() == name.trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for j in Job::ALL {
            assert_eq!(Job::parse(j.name()), Some(j));
        }
        assert_eq!(Job::parse("nope"), None);
    }
}
