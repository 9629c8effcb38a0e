//! Positions and problems inside the front end, turned into [`ConfigError`]s at the end (file
//! name and line/column resolved from the file table).

use std::path::PathBuf;

use super::lex::Source;
use crate::error::{ConfigError, ErrorKind, Location};

/// A byte offset in one of the files read (index into the file table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Pos {
    pub file: u32,
    pub offset: u32,
}

/// One problem, before its position is resolved to a line and column.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Diag {
    pub pos: Option<Pos>,
    /// The file when there is no position (an unreadable main file).
    pub file: Option<PathBuf>,
    pub kind: ErrorKind,
    /// The construct, e.g. `protocol bgp Mesh_10_0_0_2`; may be empty.
    pub path: String,
    pub message: String,
    pub hint: Option<String>,
}

impl Diag {
    pub(crate) fn at(pos: Pos, kind: ErrorKind, message: impl Into<String>) -> Diag {
        Diag {
            pos: Some(pos),
            file: None,
            kind,
            path: String::new(),
            message: message.into(),
            hint: None,
        }
    }

    pub(crate) fn in_construct(mut self, path: &str) -> Diag {
        if self.path.is_empty() {
            self.path = path.to_string();
        }
        self
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Diag {
        self.hint = Some(hint.into());
        self
    }

    pub(crate) fn resolve(self, sources: &[Source], main: &std::path::Path) -> ConfigError {
        let (file, location) = match self
            .pos
            .and_then(|p| sources.get(p.file as usize).map(|s| (s, p.offset as usize)))
        {
            Some((s, off)) => (
                s.path.display().to_string(),
                Some(Location::of_offset(&s.text, off)),
            ),
            None => (
                self.file
                    .unwrap_or_else(|| main.to_path_buf())
                    .display()
                    .to_string(),
                None,
            ),
        };
        ConfigError {
            file,
            location,
            path: self.path,
            kind: self.kind,
            message: self.message,
            hint: self.hint,
        }
    }
}
