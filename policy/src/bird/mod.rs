//! BIRD filter programs: the subset of BIRD's filter language that Calico's confd renders
//! (../shared/BIRD-CONFIG.md §2.3), compiled once per (re)load and evaluated per route.
//!
//! `conf` parses BIRD configuration text and compiles every `filter`, `function` and inline
//! `import filter { … }` / `export filter { … }` into a [`Program`]; this module owns the
//! compiled form ([`ir`]) and its evaluation ([`eval`]). The typed Calico rules of the TOML
//! configuration (`export`, `import`, `filter`) and these programs read the same route model
//! (`bgp_proto::attribute::PathAttributes` plus [`RouteView`]'s non-BGP facts) and both answer
//! with a verdict and a set of changes; bgpd applies the changes to the route it holds (one
//! copy of the route, two ways to decide).
//!
//! Modules:
//! - [`ir`]: statements, expressions, constants, attributes, functions, [`Program`].
//! - [`eval`]: [`run`] a program on a [`RouteView`]: [`Outcome`] (accept/reject) and
//!   [`Changes`] (what the filter wrote), without allocating per route.

pub mod eval;
pub mod ir;

pub use eval::{run, Changes, Outcome, RouteView, RuntimeError, Verdict};
pub use ir::{
    ArithOp, Attr, CmpOp, Const, Expr, Function, FunctionId, MaskItem, Method, PrefixPattern,
    Program, RouteSourceKind, Stmt,
};
