//! The one error type of the harness.

use std::path::PathBuf;
use std::time::Duration;

/// Everything that can go wrong while building a lab or driving a peer.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// A helper command (`ip`, `birdc`, `vtysh`, `gobgp`, ...) could not be started.
    #[error("cannot run {cmd}: {source}")]
    Spawn {
        /// The command line.
        cmd: String,
        /// Why the OS refused.
        source: std::io::Error,
    },
    /// A helper command ran but exited unsuccessfully.
    #[error("{cmd} failed ({status}): {stderr}")]
    Command {
        /// The command line.
        cmd: String,
        /// Its exit status, as text.
        status: String,
        /// What it printed on stderr (and stdout when stderr was empty).
        stderr: String,
    },
    /// A file or directory operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A peer's JSON output could not be parsed.
    #[error("cannot parse JSON from {cmd}: {source}")]
    Json {
        /// The command whose output was parsed.
        cmd: String,
        /// The parser error.
        source: serde_json::Error,
    },
    /// A condition did not become true in time.
    #[error("timed out after {timeout:?} waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long we waited.
        timeout: Duration,
    },
    /// A daemon exited while it should be running.
    #[error("{name} exited early ({status}); log tail:\n{log}")]
    Exited {
        /// The daemon's label.
        name: String,
        /// Its exit status, as text.
        status: String,
        /// The last lines of its stdout/stderr.
        log: String,
    },
}

/// Result alias of the harness.
pub type Result<T> = std::result::Result<T, HarnessError>;
