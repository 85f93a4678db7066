//! The file transport: one `.eml` per outbox row, named by the row id and
//! written atomically (temporary file, then rename), so after a crash the
//! file's presence tells whether the row was delivered.

use super::{Envelope, SendError, Transport};
use std::path::{Path, PathBuf};

/// Writes messages into a directory.
pub struct FileTransport {
    dir: PathBuf,
}

impl FileTransport {
    pub fn new(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(FileTransport {
            dir: dir.to_path_buf(),
        })
    }

    /// The file a row is delivered to.
    pub fn path_of(&self, id: i64) -> PathBuf {
        self.dir.join(format!("{id:08}.eml"))
    }
}

impl Transport for FileTransport {
    async fn send(&mut self, env: &Envelope) -> Result<(), SendError> {
        let tmp = self.dir.join(format!(".{:08}.tmp", env.id));
        let mut data = Vec::with_capacity(env.raw.len() + 100);
        data.extend_from_slice(
            format!("X-Postbud-Envelope-To: {}\r\n", env.to.join(", ")).as_bytes(),
        );
        data.extend_from_slice(&env.raw);
        std::fs::write(&tmp, &data)
            .and_then(|()| std::fs::rename(&tmp, self.path_of(env.id)))
            .map_err(|e| {
                SendError::Temporary(format!("cannot write to `{}`: {e}", self.dir.display()))
            })
    }

    fn was_delivered(&self, id: i64) -> Option<bool> {
        Some(self.path_of(id).exists())
    }

    fn checks_delivery(&self) -> bool {
        true
    }
}
