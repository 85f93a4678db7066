//! The Maildir mailbox: messages arrive in `new/` (or were left in `cur/` by
//! a mail client) and, once handled, are moved straight to `cur/` of the
//! processed or quarantine folder, flagged seen. Those folders are Maildir++
//! subfolders (`.Behandlet/`, `.Karantene/` beside `cur/`), so an IMAP server
//! pointed at the same maildir shows them as folders.

use super::{Destination, Fetched, Mailbox, MailboxError};
use std::collections::{HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A local maildir.
pub struct MaildirMailbox {
    root: PathBuf,
    processed: PathBuf,
    quarantine: PathBuf,
    /// Keys handed out by `fetch` and not settled yet.
    pending: HashSet<String>,
    /// Keys listed but not handed out yet, oldest first: a large inbox is
    /// listed once, not once per batch.
    queue: VecDeque<String>,
}

/// Creates `dir/{cur,new,tmp}`.
pub fn create(dir: &Path) -> std::io::Result<()> {
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(dir.join(sub))?;
    }
    Ok(())
}

/// Delivers `raw` into `dir/new/` the Maildir way (write to tmp, rename).
pub fn deliver(dir: &Path, raw: &[u8]) -> std::io::Result<String> {
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let name = format!(
        "{}.M{:06}P{}Q{:08}.postbud",
        now.as_secs(),
        now.subsec_micros(),
        std::process::id(),
        SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let tmp = dir.join("tmp").join(&name);
    std::fs::write(&tmp, raw)?;
    std::fs::rename(&tmp, dir.join("new").join(&name))?;
    Ok(name)
}

impl MaildirMailbox {
    /// Opens (creating if needed) the maildir at `root` with its two folders.
    pub fn open(root: &Path, processed: &str, quarantine: &str) -> Result<Self, MailboxError> {
        let processed = root.join(format!(".{processed}"));
        let quarantine = root.join(format!(".{quarantine}"));
        for d in [root, &processed, &quarantine] {
            create(d).map_err(|e| {
                MailboxError::new(
                    format!(
                        "cannot create maildir folder structure at `{}`",
                        d.display()
                    ),
                    e,
                )
            })?;
        }
        Ok(MaildirMailbox {
            root: root.to_path_buf(),
            processed,
            quarantine,
            pending: HashSet::new(),
            queue: VecDeque::new(),
        })
    }

    fn list(&self, sub: &str) -> Result<Vec<String>, MailboxError> {
        let dir = self.root.join(sub);
        let rd = std::fs::read_dir(&dir)
            .map_err(|e| MailboxError::new(format!("cannot list `{}`", dir.display()), e))?;
        let mut names: Vec<String> = rd
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| !n.starts_with('.'))
            .collect();
        names.sort();
        Ok(names)
    }
}

impl Mailbox for MaildirMailbox {
    async fn fetch(&mut self, max: usize) -> Result<Vec<Fetched>, MailboxError> {
        if self.queue.is_empty() {
            // A key is `new/<name>` or `cur/<name>`: where the file is now.
            let mut keys: Vec<(String, String)> = Vec::new();
            for sub in ["cur", "new"] {
                for name in self.list(sub)? {
                    let key = format!("{sub}/{name}");
                    if !self.pending.contains(&key) {
                        keys.push((name, key));
                    }
                }
            }
            // Maildir names start with the delivery time: oldest first.
            keys.sort();
            self.queue = keys.into_iter().map(|(_, k)| k).collect();
        }
        let mut out = Vec::new();
        while out.len() < max {
            let Some(key) = self.queue.pop_front() else {
                break;
            };
            let path = self.root.join(&key);
            match std::fs::read(&path) {
                Ok(raw) => {
                    self.pending.insert(key.clone());
                    out.push(Fetched { key, raw });
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    return Err(MailboxError::new(
                        format!("cannot read `{}`", path.display()),
                        e,
                    ));
                }
            }
        }
        Ok(out)
    }

    async fn settle(&mut self, moves: &[(String, Destination)]) -> Result<(), MailboxError> {
        for (key, dest) in moves {
            let from = self.root.join(key);
            let folder = match dest {
                Destination::Processed => &self.processed,
                Destination::Quarantine => &self.quarantine,
            };
            let name = key.rsplit('/').next().unwrap_or(key);
            let base = name.split(":2,").next().unwrap_or(name);
            let to = folder.join("cur").join(format!("{base}:2,S"));
            match std::fs::rename(&from, &to) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(MailboxError::new(
                        format!("cannot move `{}` to `{}`", from.display(), to.display()),
                        e,
                    ));
                }
            }
            self.pending.remove(key);
        }
        Ok(())
    }

    async fn wait(&mut self, max_wait: Duration) -> Result<(), MailboxError> {
        let until = Instant::now() + max_wait;
        while Instant::now() < until {
            if !self.list("new")?.is_empty() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(200).min(until - Instant::now())).await;
        }
        Ok(())
    }
}
