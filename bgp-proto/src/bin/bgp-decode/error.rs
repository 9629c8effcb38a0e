//! Errors that stop `bgp-decode`: input it cannot read. Malformed BGP messages are not errors
//! here; they are printed as data.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{input}:{line}: bad hex: {problem}")]
    BadHex {
        input: String,
        line: usize,
        problem: String,
    },
    #[error("{path}: MRT record at offset {offset}: {problem}")]
    Mrt {
        path: PathBuf,
        offset: usize,
        problem: crate::mrt::MrtError,
    },
    #[error("cannot write output: {0}")]
    Write(std::io::Error),
    #[error("--add-path: unknown family {0:?} (expected ipv4, ipv6)")]
    AddPathFamily(String),
}
