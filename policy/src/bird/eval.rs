//! Running a [`Program`] on one route.
//!
//! CONTRACT (the evaluator is being written; the types below are what bgpd and conf use):
//! - [`run`] never allocates per route: values are borrowed from the program and the route,
//!   writes go into [`Changes`] (inline storage for the few communities/prepends a filter adds).
//! - Reads see the filter's own earlier writes (`krt_metric = 1024; if krt_metric < 1024 …`).
//! - `accept`/`reject` end the whole program, also inside a function; falling off the end of
//!   the program is BIRD's default: reject for a filter (BIRD 1.6 logs "... filter ... did not
//!   accept/reject"; we answer [`Verdict::Reject`]).
//! - A runtime error (type mismatch, arithmetic on an undefined attribute) rejects the route and
//!   is reported as [`RuntimeError`] so the caller can log it once.

use std::net::IpAddr;

use bgp_proto::attribute::PathAttributes;
use ipnet::IpNet;

use super::ir::{Program, RouteSourceKind};

/// What a filter can read of a route: its prefix, where it came from, and its attributes.
#[derive(Debug, Clone, Copy)]
pub struct RouteView<'a> {
    pub net: IpNet,
    pub source: RouteSourceKind,
    /// Outgoing interface (BIRD's `ifname`); `None` when unknown or for a blackhole.
    pub ifname: Option<&'a str>,
    /// BIRD's route preference before the filter (BGP 100, static 200, device 240).
    pub preference: u32,
    /// `krt_metric` before the filter (a kernel-learned route's metric); usually `None`.
    pub krt_metric: Option<u32>,
    /// The next hop (BIRD's `bgp_next_hop` for BGP routes; also the gateway).
    pub next_hop: Option<IpAddr>,
    /// BGP path attributes; `None` for non-BGP routes.
    pub attrs: Option<&'a PathAttributes>,
}

/// What the filter wrote. Empty when it wrote nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes<'p> {
    pub preference: Option<u32>,
    pub krt_metric: Option<u32>,
    /// `krt_tunnel = "…"`; `Some("")` is an explicit "no tunnel".
    pub krt_tunnel: Option<&'p str>,
    pub local_pref: Option<u32>,
    pub med: Option<u32>,
    /// Standard communities added, in order (each once), as `(asn, value)`.
    pub communities_added: smallvec::SmallVec<[(u16, u16); 4]>,
    pub communities_deleted: smallvec::SmallVec<[(u16, u16); 2]>,
    /// Large communities added, in order (each once).
    pub large_added: smallvec::SmallVec<[(u32, u32, u32); 2]>,
    pub large_deleted: smallvec::SmallVec<[(u32, u32, u32); 2]>,
    /// ASes prepended, in the order of the `prepend` calls (the last one ends up leftmost).
    pub prepended: smallvec::SmallVec<[u32; 4]>,
}

impl Changes<'_> {
    /// Whether the filter wrote nothing.
    pub fn is_empty(&self) -> bool {
        *self == Changes::default()
    }

    /// Whether a BGP path attribute changes (local pref, MED, communities, AS path).
    pub fn touches_bgp(&self) -> bool {
        self.local_pref.is_some()
            || self.med.is_some()
            || !self.communities_added.is_empty()
            || !self.communities_deleted.is_empty()
            || !self.large_added.is_empty()
            || !self.large_deleted.is_empty()
            || !self.prepended.is_empty()
    }
}

/// Accept or reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Accept,
    Reject,
}

/// The result of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome<'p> {
    pub verdict: Verdict,
    pub changes: Changes<'p>,
}

/// A filter failed on a route (BIRD: "filter runtime error"); the route is rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuntimeError {
    #[error("{op}: operands of incompatible types ({left} and {right})")]
    TypeMismatch {
        op: &'static str,
        left: &'static str,
        right: &'static str,
    },
    #[error("{0} is not defined on this route")]
    Undefined(&'static str),
    #[error("integer out of range in {0}")]
    Overflow(&'static str),
    #[error("call of function #{0}, which does not exist")]
    NoSuchFunction(usize),
    #[error("value of type {found} cannot be assigned to {attr}")]
    BadAssignment {
        attr: &'static str,
        found: &'static str,
    },
}

/// Run `program` on `route`.
pub fn run<'p>(program: &'p Program, route: &RouteView<'_>) -> Result<Outcome<'p>, RuntimeError> {
    let _ = (program, route);
    Ok(Outcome {
        verdict: Verdict::Reject,
        changes: Changes::default(),
    })
}
