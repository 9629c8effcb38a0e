//! The routing information bases of the daemon (sans-IO, owned by one actor task in `bgpd`).
//!
//! What will live here (issue "Routes"):
//! - `adj_rib_in`: per-peer Adj-RIB-In, kept after import policy so that a policy change needs no
//!   route refresh;
//! - `loc_rib` and `best_path`: the RFC 4271 §9.1 decision process, recording why each loser lost,
//!   and multipath (ECMP) sets with a configurable limit;
//! - `route_reflection`: RFC 4456 client/non-client rules, ORIGINATOR_ID and CLUSTER_LIST;
//! - `adj_rib_out`: one Adj-RIB-Out per update group, UPDATEs encoded once per group;
//! - `intern`: hash-consed path attribute sets shared by `Arc`.
//!
//! The RIB knows nothing of sockets, netlink or config files; `bgpd` feeds it batches.
