//! Diagnostics: every problem found in a configuration, with file, line, column, field path and
//! a hint, so an operator can fix them all in one pass.

use std::fmt;
use std::ops::Range;

/// What kind of problem a [`ConfigError`] reports. Tests and callers match on this, never on text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The file could not be read.
    Io,
    /// The text is not valid TOML.
    Syntax,
    /// A key the schema does not know (typo, or a field in the wrong section).
    UnknownField,
    /// A value of the wrong TOML type (a string where a number is expected, ...).
    WrongType,
    /// A required field is absent.
    Missing,
    /// A value that does not parse (an address, a prefix, an enum word, a name).
    Invalid,
    /// A number outside its allowed range.
    OutOfRange,
    /// Two items that must be unique are not (neighbor names, addresses, blocks).
    Duplicate,
    /// A neighbor names a template that does not exist.
    UnknownTemplate,
    /// A name that is not defined: a filter in `filters = [...]`, a community name.
    UnknownName,
    /// Two settings that cannot be combined (GTSM and multihop, hold and keepalive, ...).
    Conflict,
    /// A password file or environment variable could not be read.
    Secret,
    /// A prefix relation that does not hold (a block outside every pool, overlapping pools).
    Prefix,
    /// Not an error: something allowed but worth knowing (returned in [`crate::Config::notes`]).
    Note,
}

/// A line and column, both counted from 1; the column counts characters, not bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

impl Location {
    /// The location of byte `offset` in `text` (clamped to the text's end).
    pub fn of_offset(text: &str, offset: usize) -> Location {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Location { line, column }
    }
}

/// One problem in a configuration.
///
/// Displayed as `bgpd.toml:14:13: neighbor "tor1".remote_as: 4294967296 is not a valid AS number
/// (hint: ...)`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// The file name given for messages.
    pub file: String,
    /// Where in the file; `None` when the whole file is concerned (unreadable file).
    pub location: Option<Location>,
    /// The field path, e.g. `neighbor "tor1".remote_as` or `ip_pools[0].cidr`; may be empty.
    pub path: String,
    pub kind: ErrorKind,
    pub message: String,
    pub hint: Option<String>,
}

impl ConfigError {
    pub(crate) fn new(
        file: &str,
        text: &str,
        span: Option<Range<usize>>,
        kind: ErrorKind,
        path: impl Into<String>,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> ConfigError {
        ConfigError {
            file: file.to_string(),
            location: span.map(|s| Location::of_offset(text, s.start)),
            path: path.into(),
            kind,
            message: message.into(),
            hint,
        }
    }

    /// The line, or 0 when the error has no location.
    pub fn line(&self) -> usize {
        self.location.map_or(0, |l| l.line)
    }

    /// The column, or 0 when the error has no location.
    pub fn column(&self) -> usize {
        self.location.map_or(0, |l| l.column)
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(loc) = self.location {
            write!(f, ":{}:{}", loc.line, loc.column)?;
        }
        f.write_str(": ")?;
        if self.kind == ErrorKind::Note {
            f.write_str("note: ")?;
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }
}

/// Every error found in one configuration, in file order. Displayed one error per line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors {
    pub errors: Vec<ConfigError>,
}

impl ConfigErrors {
    pub fn iter(&self) -> std::slice::Iter<'_, ConfigError> {
        self.errors.iter()
    }

    pub fn len(&self) -> usize {
        self.errors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl<'a> IntoIterator for &'a ConfigErrors {
    type Item = &'a ConfigError;
    type IntoIter = std::slice::Iter<'a, ConfigError>;
    fn into_iter(self) -> Self::IntoIter {
        self.errors.iter()
    }
}
