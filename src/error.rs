//! The command line's errors, grouped by what failed, each with its exit
//! status (SPEC section 12): 1 a command that did not succeed (a wrong
//! code), 2 the config or the command line, 3 the register, 1 anything else.

use std::process::ExitCode;

use crate::config::ConfigError;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The config could not be read or is not valid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The register could not be opened, migrated, read or written.
    #[error("{0:#}")]
    Register(anyhow::Error),
    /// The command ran and its answer is no (`code verify` with a wrong code).
    #[error("{0}")]
    No(String),
    /// Anything else.
    #[error("{0:#}")]
    Other(#[from] anyhow::Error),
}

impl Error {
    /// The exit status for this error.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            Error::No(_) => 1,
            Error::Config(_) => 2,
            Error::Register(_) => 3,
            Error::Other(_) => 1,
        })
    }

    /// A register error, with what was being done.
    pub fn register(e: impl Into<anyhow::Error>) -> Error {
        Error::Register(e.into())
    }
}

/// What the CLI's commands return.
pub type Result<T, E = Error> = std::result::Result<T, E>;
