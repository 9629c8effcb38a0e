//! Tests and benchmarks against real GoBGP, FRR and BIRD, each in its own network namespace.
//!
//! Nothing here ships in the daemon. Modules:
//! - [`netns`]: [`Netns`] guard and [`Fabric`] (bridge + N nodes, see its addressing note).
//! - [`process`]: [`Proc`], a process in a namespace stopped by PID on drop, logs in a temp dir.
//! - [`bird`], [`frr`], [`gobgp`]: launchers for the real peers with CLI helpers and
//!   `wait_established` checks that ask the peer's own CLI.
//! - [`capture`]: [`Capture`], tcpdump on a fabric split into BGP test vectors.
//! - [`wait`]: [`wait_until`] polling with a deadline.
//! - [`vm`]: a QEMU guest with Debian's stock kernel for what this machine's kernel lacks (`ipip`).
//! - [`dropin`]: Calico's rendered BIRD configuration run by BIRD 1.6.8 or by our daemon through
//!   a `bird`/`bird6` symlink, as calico-node starts it, and what the drop-in tests compare.
//! - [`sim`]: a lean simulator of hundreds or thousands of BGP peers for `scale_bench`.
//! - [`command`], [`tempdir`]: small utilities; [`error`]: [`HarnessError`].
//!
//! Tests that need root call [`require_root`] first and return when it says no.

pub mod bgpd;
pub mod bird;
pub mod capture;
pub mod command;
pub mod dropin;
pub mod error;
pub mod frr;
pub mod gobgp;
pub mod loadgen;
pub mod netns;
pub mod process;
pub mod procstat;
pub mod sim;
pub mod tempdir;
pub mod vm;
pub mod wait;
pub mod wire;

pub use bird::Bird;
pub use capture::Capture;
pub use error::{HarnessError, Result};
pub use frr::Frr;
pub use gobgp::Gobgp;
pub use netns::{Fabric, Netns, Node};
pub use process::Proc;
pub use tempdir::TempDir;
pub use wait::wait_until;

/// True when running as root with `ip netns` usable; otherwise prints
/// `skipping <test>: needs root and network namespaces` and returns false.
pub fn require_root(test: &str) -> bool {
    let uid = command::run("id", &["-u"])
        .map(|s| s.trim() == "0")
        .unwrap_or(false);
    let netns = uid && command::run("ip", &["netns", "list"]).is_ok();
    if !netns {
        eprintln!("skipping {test}: needs root and network namespaces");
    }
    netns
}
