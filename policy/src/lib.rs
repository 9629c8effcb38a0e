//! The companion module: pure decisions over routes and a compiled policy.
//!
//! What will live here:
//! - `export` / `import` (issue "Routes"): Calico's export rules (own IPAM blocks, IP pools,
//!   service addresses), BGPFilter-like per-peer rules, communities added to chosen prefixes;
//! - `program` (issue "Kernel FIB sync"): how a route is programmed in the kernel (direct,
//!   IP-in-IP via `tunl0` onlink, left to Felix for VXLAN, blackhole for local blocks).
//!
//! Modules of the import/export part: `route` (what policy knows of a route), `filter`
//! (BGPFilter rules), `modification` (communities/prepend on accept), `export`, `import`,
//! `error` (`PolicyError`).
//!
//! No I/O: every decision is a function of its inputs, testable without a RIB or a kernel.

pub mod bird;
pub mod error;
pub mod export;
pub mod filter;
pub mod import;
pub mod modification;
pub mod program;
pub mod route;
