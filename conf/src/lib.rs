//! The daemon's configuration model.
//!
//! What will live here (issue "Sessions"): the TOML schema (serde, `deny_unknown_fields`),
//! validation that reports every error with file, line, column and field path, the embedded default
//! configuration, and the diff between two configurations that a reload applies.
