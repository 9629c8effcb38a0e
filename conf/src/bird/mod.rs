//! The BIRD configuration front end: the subset of BIRD 1.6 (and the same constructs in BIRD
//! 2/3 channel syntax) that Calico's confd templates render (../shared/BIRD-CONFIG.md), read
//! into the typed [`Config`].
//!
//! Pipeline, one pass each:
//! 1. [`lex`]: the main file and its `include`s (spliced in place, BIRD's rules: a line of its
//!    own, relative to the including file, glob patterns, depth 8) into one token stream; each
//!    token knows its file and byte offset, and its text is read from the file table (16 bytes
//!    a token, no copy of any text).
//! 2. [`parse`]: statements in file order (`router id`, `listen bgp`, `function`, `filter`,
//!    `template`, `protocol` kernel/device/direct/static/bgp with their options, BIRD 2/3
//!    channel blocks); templates applied as they are used. [`filter`] compiles functions,
//!    named and inline filters straight to `policy::bird::ir`, resolving names as BIRD 1.6
//!    does (defined above the use) and checking types. Protocols with the same filter (a named
//!    one, a template's, or identical inline ones as Calico renders for every mesh peer) share
//!    one compiled program.
//! 3. [`lower`]: onto [`Config`] for one family: neighbors with BIRD's defaults, the kernel
//!    protocol, static routes, the direct protocol's interfaces, listen, control socket. Every
//!    program shares one function table (`Arc<[Function]>`).
//!
//! Errors name the file the construct is in (the included file's path inside an include, as
//! BIRD prints it), its line and column, and the construct (`protocol bgp Mesh_10_0_0_2`,
//! `filter calico_kernel_programming`). A syntax error stops the parse; errors in filters
//! (types, names) and in lowering are collected.
//!
//! Anything outside the subset is an error, never skipped: other protocol types (ospf, bfd,
//! pipe, …), other top-level statements (`define`, `log`, `table`, …), options bgpd does not
//! implement, filter statements such as `print`/`return`/`case`, typed sets other than prefix
//! and route-source sets. Everything Calico's templates render (both generations, all 160
//! fixture scenarios in `conf/tests/fixtures/calico`) is supported.
//!
//! Accepted and ignored (no effect on bgpd): `debug …`, `scan time`, the device protocol,
//! `listen bgp … v6only|dual`. With a note: the kernel protocol's `graceful restart`, and
//! `gateway direct` (BGP next hops are always resolved as `gateway recursive`, Calico's setting). BIRD 2/3 files holding both families: a protocol whose channels are all of the other
//! family belongs to the other daemon and is skipped.

mod diag;
mod filter;
mod lex;
mod lower;
mod parse;

use std::path::Path;

use crate::error::ConfigErrors;
use crate::model::{BirdFamily, Config};

/// Reads `path` (and its includes) for `family` (`bird.cfg` with [`BirdFamily::V4`],
/// `bird6.cfg` with [`BirdFamily::V6`]). This is also the check `bird -p -c FILE` performs:
/// a file that loads is a file BIRD's parse-only run accepts.
pub fn load(path: &Path, family: BirdFamily) -> Result<Config, ConfigErrors> {
    let mut sources = Vec::new();
    let resolve = |diags: Vec<diag::Diag>, sources: &[lex::Source]| ConfigErrors {
        errors: diags
            .into_iter()
            .map(|d| d.resolve(sources, path))
            .collect(),
    };
    let tokens = match lex::lex_files(path, &mut sources) {
        Ok(t) => t,
        Err(d) => return Err(resolve(vec![d], &sources)),
    };
    let (ast, mut diags) = match parse::Parser::new(tokens, &sources).parse() {
        Ok(r) => r,
        Err(d) => return Err(resolve(d, &sources)),
    };
    let files = sources.iter().map(|s| s.path.clone()).collect();
    let lowered = lower::lower(ast, family, files, &mut diags);
    match lowered {
        Some(l) if diags.is_empty() => {
            let mut config = l.config;
            config.notes = l
                .notes
                .into_iter()
                .map(|d| d.resolve(&sources, path))
                .collect();
            Ok(config)
        }
        _ => Err(resolve(diags, &sources)),
    }
}

/// Parses and checks `path` without keeping the result (`bird -p`); the same as [`load`].
pub fn parse_only(path: &Path, family: BirdFamily) -> Result<(), ConfigErrors> {
    load(path, family).map(|_| ())
}
