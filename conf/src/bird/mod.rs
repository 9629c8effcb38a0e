//! The BIRD configuration front end: the subset of BIRD 1.6 (and the same constructs in BIRD
//! 2/3 channel syntax) that Calico's confd templates render, read into the typed [`Config`].
//!
//! (Being written: lexer with includes, parser, filter compiler to `policy::bird`, lowering.)

use std::path::Path;

use crate::error::{ConfigError, ConfigErrors, ErrorKind};
use crate::model::{BirdFamily, Config};

/// Reads `path` (and its includes) for `family`.
pub fn load(path: &Path, family: BirdFamily) -> Result<Config, ConfigErrors> {
    let _ = family;
    Err(ConfigErrors {
        errors: vec![ConfigError {
            file: path.display().to_string(),
            location: None,
            path: String::new(),
            kind: ErrorKind::Io,
            message: "the BIRD configuration front end is not built yet".to_string(),
            hint: None,
        }],
    })
}
