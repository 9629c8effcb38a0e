//! The routing information bases of the daemon (sans-IO, owned by one actor task in `bgpd`).
//!
//! A route's way through this crate: [`Rib::apply_update`] stores what a peer sent in the
//! Adj-RIB-In with the import verdict (from the caller's [`ImportPolicy`]), runs the RFC 4271
//! §9.1 decision process for the touched prefixes and returns the Loc-RIB [`Changes`]; `bgpd`
//! gives those to the FIB and to [`Rib::export`], which applies the RFC 4456 / RFC 4271 §9.2
//! rules and the caller's [`ExportPolicy`] per update group and returns encoded UPDATEs once
//! per group ([`GroupUpdate`]).
//!
//! Modules:
//! - [`intern`]: hash-consed attribute sets ([`Attrs`], one `Arc` per distinct set);
//! - [`peer`]: who we are ([`LocalInfo`]), peers ([`PeerInfo`]), update group keys;
//! - [`adj_rib_in`]: received paths and the import hook;
//! - [`limit`]: per-peer route counts and prefix limits (BIRD's receive / import limit);
//! - [`best_path`]: the decision process as a pure function, with why each loser lost;
//! - [`loc_rib`]: per-prefix destinations, selection (best + ECMP) and change sets;
//! - [`next_hop`]: recursive next-hop resolution against the caller's IGP table;
//! - [`route_reflection`]: RFC 4456 rules, loop detection, outgoing attribute changes;
//! - [`adj_rib_out`]: per-group Adj-RIB-Out and UPDATE encoding, the export hook, and members
//!   that fell behind (`adj_rib_out::lag`: what they held of each prefix changed since);
//! - [`prefix_map`]: per-family ordered maps keyed by prefix;
//! - [`rib`]: the [`Rib`] facade tying them together;
//! - [`error`]: the crate's error enum.
//!
//! The RIB knows nothing of sockets, netlink, config files or the policy crate.
//!
//! Split horizon: a route never goes back to the peer it came from (as BIRD, unlike FRR's update
//! groups, which send it and let the peer drop it by ORIGINATOR_ID or AS_PATH). A group of one
//! peer does not even hold that peer's routes; in a larger group each route is still encoded
//! once, and [`GroupUpdate`] keeps the routes of each member apart ([`SplitHorizon`]): they go
//! to the other members, and the member itself gets a withdrawal instead where it held an older
//! route of ours for the prefix. Dumps (session up, route refresh) leave out the peer's own
//! routes too. Known simplification: peer ids must fit in 24 bits.
//!
//! ADD-PATH transmit (RFC 7911): a group that negotiated it for a family is sent every feasible
//! path of each prefix in that family (the selection first, then every other path that was
//! accepted, is loop-free and has a resolvable next hop), each path under an identifier the
//! group's Adj-RIB-Out keeps for it; other groups get the best path only. This is what BIRD 1.6
//! sends with `add paths tx` (every route of its table the export filter accepts, not only the
//! ECMP set), so a Calico client behind a reflector of ours sees every node announcing a
//! service range and merges the equal ones into ECMP itself. Changes to paths outside the
//! selection reach export as [`Changes::other_paths`], only while such a group exists.
//!
//! Memory per route (IPv4, one path, no FIB): the Loc-RIB entry (5-octet key and a 32-octet
//! `Dest` with the path inline, in full sorted runs, see [`prefix_map`]) and, for each update
//! group that carries it, an Adj-RIB-Out entry (5-octet key and an 8-octet handle); attribute
//! sets are shared.

pub mod adj_rib_in;
pub mod adj_rib_out;
pub mod best_path;
pub mod error;
pub mod intern;
pub mod limit;
pub mod loc_rib;
pub mod next_hop;
pub mod peer;
pub mod prefix_map;
pub mod rib;
pub mod route_reflection;

pub use adj_rib_in::{AcceptAll, ImportPolicy, ImportVerdict};
pub use adj_rib_out::{
    AdjRibOut, ExportAll, ExportPolicy, ExportVerdict, GroupUpdate, SplitHorizon,
};
pub use best_path::{DecisionKeys, Ineligible, LossReason};
pub use error::RibError;
pub use intern::{AttrSet, Attrs};
pub use limit::{FamilyLimits, LimitHit, LimitKind, LimitState, RouteCounts, RouteLimit};
pub use loc_rib::{Changes, LocRibChange, SelectedRoute};
pub use next_hop::IgpRoute;
pub use peer::{
    DecisionOptions, GroupId, GroupKey, LocalInfo, NextHopMode, PeerId, PeerInfo, SessionInfo,
    SessionKind,
};
pub use rib::{Encoded, PathExplanation, PeerUp, Rib, RibStats, RouteUpdate};
pub use route_reflection::RouteOrigin;
