//! Tests and benchmarks against real GoBGP, FRR and BIRD, each in its own network namespace.
//!
//! What will live here: a harness of guards (namespaces, veth pairs, processes) that clean up on
//! drop and on panic, launchers for each peer as described in `shared/LAB.md`, and the scenarios
//! under `tests/`. Nothing here ships in the daemon.
