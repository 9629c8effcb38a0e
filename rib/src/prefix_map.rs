//! Per-family ordered maps keyed by prefix: the `prefix-map` crate, shared with the kernel
//! path (`fib-sync`) so the daemon has one per-prefix table structure.

pub use prefix_map::{Chunked, PrefixMap, CHUNK};
