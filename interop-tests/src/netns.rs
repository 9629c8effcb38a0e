//! [`Netns`] guards and the [`Fabric`] of node namespaces joined by a bridge.
//!
//! Addressing: every fabric is made of its own namespaces (names carry the PID and a counter),
//! so every fabric may use the same lab addresses without colliding: node `i` (1-based) gets
//! `10.99.0.i/24` and `fd99::i/64` (nodad) on `eth0`,
//! where DAD is off so the link-local address is usable at once (FRR needs it for IPv6 next hops). Parallel tests never share a segment.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use crate::command::{run, run_quiet};
use crate::error::Result;
use crate::process::Proc;

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A network namespace named `<prefix>-<pid>-<n>`, with `lo` up. Dropping it kills every
/// process inside (all were started by us: the namespace is ours) and deletes it.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates a uniquely named namespace and brings `lo` up.
    pub fn new(prefix: &str) -> Result<Self> {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("{prefix}-{}-{n}", std::process::id());
        run("ip", &["netns", "add", &name])?;
        let ns = Self { name };
        ns.ip(&["link", "set", "lo", "up"])?;
        Ok(ns)
    }

    /// The namespace's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `ip -n NAME args...`.
    pub fn ip(&self, args: &[&str]) -> Result<String> {
        let mut v = vec!["-n", self.name.as_str()];
        v.extend_from_slice(args);
        run("ip", &v)
    }

    /// Runs `argv` inside the namespace to completion and returns its stdout.
    pub fn exec(&self, argv: &[&str]) -> Result<String> {
        let mut v = vec!["netns", "exec", self.name.as_str()];
        v.extend_from_slice(argv);
        run("ip", &v)
    }

    /// Starts a long-running `argv` inside the namespace (see [`Proc`]).
    pub fn spawn(&self, label: &str, argv: &[&str]) -> Result<Proc> {
        Proc::spawn(self, label, argv)
    }

    /// PIDs of the processes currently inside the namespace.
    pub fn pids(&self) -> Vec<u32> {
        run("ip", &["netns", "pids", &self.name])
            .map(|s| {
                s.split_whitespace()
                    .filter_map(|p| p.parse().ok())
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Every process in the namespace is one we started (directly or as a daemon's child).
        let pids = self.pids();
        for pid in &pids {
            run_quiet("kill", &["-TERM", &pid.to_string()]);
        }
        for _ in 0..20 {
            if self.pids().is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        for pid in self.pids() {
            run_quiet("kill", &["-KILL", &pid.to_string()]);
        }
        run_quiet("ip", &["netns", "del", &self.name]);
    }
}

/// One node of a [`Fabric`]: its namespace and addresses on `eth0`.
#[derive(Debug)]
pub struct Node {
    /// 1-based index; the last octet of the node's addresses.
    pub index: u8,
    /// `10.99.0.index`.
    pub v4: Ipv4Addr,
    /// `fd99::index`.
    pub v6: Ipv6Addr,
    /// The node's namespace.
    pub ns: Netns,
}

impl Node {
    /// Runs `argv` in the node's namespace (see [`Netns::exec`]).
    pub fn exec(&self, argv: &[&str]) -> Result<String> {
        self.ns.exec(argv)
    }
}

/// A bridge namespace (`br0`) and N node namespaces, each joined to the bridge by a veth pair
/// (`v<i>` on the bridge side, `eth0` in the node). See the module docs for addressing.
#[derive(Debug)]
pub struct Fabric {
    // Nodes drop before the bridge so their veth ends go first.
    nodes: Vec<Node>,
    bridge: Netns,
}

impl Fabric {
    /// Builds a fabric of `n` nodes (1..=250); namespace names start with `prefix`.
    pub fn new(prefix: &str, n: u8) -> Result<Self> {
        let bridge = Netns::new(&format!("{prefix}-br"))?;
        bridge.ip(&["link", "add", "br0", "type", "bridge"])?;
        bridge.ip(&["link", "set", "br0", "up"])?;
        let mut nodes = Vec::with_capacity(usize::from(n));
        for i in 1..=n {
            let ns = Netns::new(&format!("{prefix}-n{i}"))?;
            let veth = format!("v{i}");
            bridge.ip(&[
                "link",
                "add",
                &veth,
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                ns.name(),
            ])?;
            bridge.ip(&["link", "set", &veth, "master", "br0"])?;
            bridge.ip(&["link", "set", &veth, "up"])?;
            let v4 = Ipv4Addr::new(10, 99, 0, i);
            let v6 = Ipv6Addr::new(0xfd99, 0, 0, 0, 0, 0, 0, u16::from(i));
            ns.ip(&["addr", "add", &format!("{v4}/24"), "dev", "eth0"])?;
            ns.ip(&[
                "-6",
                "addr",
                "add",
                &format!("{v6}/64"),
                "dev",
                "eth0",
                "nodad",
            ])?;
            // No DAD, so the link-local address FRR needs for IPv6 next hops exists at once.
            ns.exec(&["sysctl", "-qw", "net.ipv6.conf.eth0.accept_dad=0"])?;
            ns.ip(&["link", "set", "eth0", "up"])?;
            nodes.push(Node {
                index: i,
                v4,
                v6,
                ns,
            });
        }
        Ok(Self { nodes, bridge })
    }

    /// Node `i` (1-based). Panics if out of range: a test bug, not an input error.
    pub fn node(&self, i: u8) -> &Node {
        &self.nodes[usize::from(i) - 1]
    }

    /// All nodes.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The bridge namespace (capture all traffic on `br0` here).
    pub fn bridge(&self) -> &Netns {
        &self.bridge
    }
}
