//! Where messages come from: the `Mailbox` trait, with a Maildir and an IMAP
//! implementation side by side. Raw bytes in, moves out; no parsing here.

pub mod imap;
pub mod maildir;

use std::time::Duration;

/// One message fetched from a mailbox, not yet settled.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// Where it is in the mailbox: a Maildir file name, or `"<uidvalidity>:<uid>"`.
    pub key: String,
    /// The message exactly as stored.
    pub raw: Vec<u8>,
}

/// Where a handled message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    Processed,
    Quarantine,
}

/// An error talking to the mailbox, with what was being done.
#[derive(Debug, thiserror::Error)]
#[error("{context}: {source}")]
pub struct MailboxError {
    pub context: String,
    #[source]
    pub source: anyhow::Error,
}

impl MailboxError {
    pub fn new(context: impl Into<String>, source: impl Into<anyhow::Error>) -> Self {
        MailboxError {
            context: context.into(),
            source: source.into(),
        }
    }
}

/// A mailbox postbud reads. Messages are fetched in batches, handled, committed
/// to the register, and only then settled (moved). A message that is fetched
/// but never settled (a crash) is fetched again next time.
#[allow(async_fn_in_trait)]
pub trait Mailbox {
    /// Up to `max` messages from the inbox, oldest first. Messages returned by
    /// an earlier call and not yet settled are not returned again by the same
    /// connection.
    async fn fetch(&mut self, max: usize) -> Result<Vec<Fetched>, MailboxError>;

    /// Moves each message to its destination folder. Called only after the
    /// register has committed the messages' outcomes.
    async fn settle(&mut self, moves: &[(String, Destination)]) -> Result<(), MailboxError>;

    /// Waits until new mail may be there (IDLE, a file event or a poll
    /// interval), at most `max_wait`. Returns early is always allowed.
    async fn wait(&mut self, max_wait: Duration) -> Result<(), MailboxError>;
}
