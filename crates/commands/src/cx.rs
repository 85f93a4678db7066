//! [`Cx`]: what every decision is handed besides the command and what it
//! read: the sender's facts, the settings, the time and randomness.

use chrono::{DateTime, NaiveDate, Utc};

use crate::facts::{Facts, Fresh, Language, Settings};
use crate::plan::Reply;

/// Everything a decision reads besides the command and its register
/// reads: who asks, the settings, the time and randomness.
pub struct Cx<'a> {
    pub facts: &'a Facts,
    pub settings: &'a Settings,
    pub now: DateTime<Utc>,
    pub fresh: &'a mut dyn Fresh,
}

impl Cx<'_> {
    /// The organisation's date today.
    pub fn today(&self) -> NaiveDate {
        self.settings.today(self.now)
    }

    /// The sender's language.
    pub fn language(&self) -> Language {
        self.facts.language(self.settings)
    }

    /// A reply to the sender, in their language.
    pub fn reply(&self, template: &'static str, vars: serde_json::Value) -> Reply {
        Reply::new(&self.facts.sender, template, self.language(), vars)
    }
}
