//! Shared by the `routes_*` tests: configuration text for our daemon, BIRD, FRR and GoBGP, and
//! readers of each daemon's own RIB (ours through our control socket with the real `birdc`).

#![allow(dead_code)]

use std::time::Duration;

use interop_tests::bgpd::{Bgpd, BgpdConfig, BgpdNeighbor};
use interop_tests::{wait_until, Bird, Frr, Gobgp, Netns};

/// How long routes get to propagate (sessions included).
pub const CONVERGE: Duration = Duration::from_secs(40);

/// A neighbor name as Calico writes them: `Mesh_10_99_0_2`, `Mesh_fd99__2`.
pub fn name(prefix: &str, addr: &str) -> String {
    format!("{prefix}_{}", addr.replace(['.', ':'], "_"))
}

/// Our daemon's configuration: `neighbors` as (address, AS, extra TOML lines).
pub fn ours(
    router_id: &str,
    local_as: u32,
    listen: &[&str],
    neighbors: &[(&str, u32, &str)],
) -> BgpdConfig {
    BgpdConfig {
        router_id: router_id.into(),
        local_as,
        listen: listen.iter().map(|s| s.to_string()).collect(),
        neighbors: neighbors
            .iter()
            .map(|(addr, asn, extra)| {
                let mut n = BgpdNeighbor::new(&name("Mesh", addr), addr, *asn);
                n.extra = extra.to_string();
                n
            })
            .collect(),
    }
}

/// Starts our daemon in `ns` with `top` (top-level `key = value` lines).
pub fn start_ours(ns: &Netns, config: &BgpdConfig, top: &str) -> Bgpd {
    Bgpd::start_with(ns, config, top).expect("our bgpd starts")
}

/// The prefixes our daemon shows (`show route` on our control socket, read by BIRD's birdc),
/// with the rest of each line.
pub fn our_routes(b: &Bgpd, v6: bool) -> Vec<(String, String)> {
    let text = b.show(v6, "show route").unwrap_or_default();
    let mut out = Vec::new();
    let mut last = String::new();
    for l in text.lines() {
        // birdc strips the reply codes; a continuation line (ECMP) starts with whitespace.
        let t = l.trim_start();
        if t.is_empty() || t.starts_with("BIRD") || t.starts_with("Access restricted") {
            continue;
        }
        let first = t.split_whitespace().next().unwrap_or_default();
        if first.contains('/') {
            last = first.to_string();
            out.push((last.clone(), t.to_string()));
        } else if !l.starts_with(|c: char| c.is_alphanumeric()) && !last.is_empty() {
            out.push((last.clone(), t.to_string()));
        }
    }
    out
}

/// Whether our daemon has `prefix`.
pub fn ours_has(b: &Bgpd, prefix: &str) -> bool {
    our_routes(b, prefix.contains(':'))
        .iter()
        .any(|(p, _)| p == prefix)
}

/// BIRD's table for the prefix's family has `prefix`.
pub fn bird_has(bird: &Bird, prefix: &str) -> bool {
    let table = if prefix.contains(':') {
        "master6"
    } else {
        "master4"
    };
    bird.birdc(&format!("show route table {table}"))
        .map(|t| {
            t.lines()
                .any(|l| l.split_whitespace().next() == Some(prefix))
        })
        .unwrap_or(false)
}

/// `birdc show route all for PREFIX` (attributes included).
pub fn bird_route(bird: &Bird, prefix: &str) -> String {
    let table = if prefix.contains(':') {
        "master6"
    } else {
        "master4"
    };
    bird.birdc(&format!("show route {prefix} table {table} all"))
        .unwrap_or_default()
}

/// GoBGP's global RIB has `prefix`.
pub fn gobgp_has(g: &Gobgp<'_>, prefix: &str) -> bool {
    let fam = if prefix.contains(':') { "ipv6" } else { "ipv4" };
    g.gobgp_json(&["global", "rib", "-a", fam, "-j"])
        .map(|v| v.get(prefix).is_some())
        .unwrap_or(false)
}

/// FRR's BGP table entry for `prefix` (`show bgp ipv4|ipv6 unicast PREFIX json`), `None` when absent.
pub fn frr_route(frr: &Frr, prefix: &str) -> Option<serde_json::Value> {
    let fam = if prefix.contains(':') { "ipv6" } else { "ipv4" };
    let v = frr
        .vtysh_json(&format!("show bgp {fam} unicast {prefix} json"))
        .ok()?;
    v.get("paths")
        .and_then(|p| p.as_array())
        .is_some_and(|p| !p.is_empty())
        .then_some(v)
}

/// Waits until `pred` holds, printing `state()` when it does not.
pub fn converge(what: &str, mut pred: impl FnMut() -> bool, state: impl Fn() -> String) {
    if let Err(e) = wait_until(what, CONVERGE, || Ok(pred())) {
        panic!("{e}\n--- state:\n{}", state());
    }
}

/// Waits until `pred` holds for a shorter time (withdrawals, filters).
pub fn converge_within(
    what: &str,
    t: Duration,
    mut pred: impl FnMut() -> bool,
    state: impl Fn() -> String,
) {
    if let Err(e) = wait_until(what, t, || Ok(pred())) {
        panic!("{e}\n--- state:\n{}", state());
    }
}

/// GoBGP TOML: global AS / router id and iBGP/eBGP neighbors (address, AS, family, extra).
pub fn gobgp_conf(asn: u32, router_id: &str, neighbors: &[(&str, u32)]) -> String {
    let mut s = format!("[global.config]\n  as = {asn}\n  router-id = \"{router_id}\"\n");
    for (addr, peer_as) in neighbors {
        let fam = if addr.contains(':') {
            "ipv6-unicast"
        } else {
            "ipv4-unicast"
        };
        s += &format!(
            "[[neighbors]]\n  [neighbors.config]\n    neighbor-address = \"{addr}\"\n    \
             peer-as = {peer_as}\n  [neighbors.timers.config]\n    connect-retry = 2\n    \
             hold-time = 9\n    keepalive-interval = 3\n  [[neighbors.afi-safis]]\n    \
             [neighbors.afi-safis.config]\n      afi-safi-name = \"{fam}\"\n"
        );
    }
    s
}

/// FRR `bgpd.conf`: `router bgp ASN` with `neighbors` (address, AS, extra per-neighbor lines
/// inside `address-family ipv4 unicast`), announcing `networks` (IPv4).
pub fn frr_conf(
    asn: u32,
    router_id: &str,
    neighbors: &[(&str, u32, &str)],
    networks: &[&str],
) -> String {
    let mut s = format!(
        "hostname frr\nlog stdout informational\nrouter bgp {asn}\n bgp router-id {router_id}\n \
         no bgp ebgp-requires-policy\n no bgp network import-check\n bgp bestpath as-path multipath-relax\n"
    );
    for (addr, peer_as, _) in neighbors {
        s += &format!(
            " neighbor {addr} remote-as {peer_as}\n neighbor {addr} timers 3 9\n \
             neighbor {addr} timers connect 2\n"
        );
    }
    s += " address-family ipv4 unicast\n";
    for n in networks {
        s += &format!("  network {n}\n");
    }
    for (addr, _, extra) in neighbors {
        for l in extra.lines().filter(|l| !l.trim().is_empty()) {
            s += &format!("  neighbor {addr} {}\n", l.trim());
        }
    }
    s += " exit-address-family\n";
    s
}

/// A BIRD 2 config: iBGP/eBGP sessions (name, local address, local AS, peer address, peer AS)
/// over IPv4, exporting its static routes `statics` (blackholes).
pub fn bird_conf(
    router_id: &str,
    statics: &[&str],
    sessions: &[(&str, &str, u32, &str, u32)],
) -> String {
    let mut s = format!(
        "log stderr all;\nrouter id {router_id};\nprotocol device {{}}\n\
         protocol direct {{ ipv4; }}\nprotocol static s4 {{\n  ipv4;\n"
    );
    for p in statics {
        s += &format!("  route {p} blackhole;\n");
    }
    s += "}\n";
    for (name, local, las, peer, pas) in sessions {
        s += &format!(
            "protocol bgp {name} {{\n  local {local} as {las};\n  neighbor {peer} as {pas};\n  \
             hold time 9;\n  keepalive time 3;\n  connect delay time 1;\n  connect retry time 2;\n  \
             error wait time 1, 4;\n  \
             ipv4 {{ import all; export where source = RTS_STATIC; next hop self; }};\n}}\n"
        );
    }
    s
}

/// The lines our daemon shows for `prefix` (several for an ECMP set).
pub fn our_lines(b: &Bgpd, prefix: &str) -> Vec<String> {
    our_routes(b, prefix.contains(':'))
        .into_iter()
        .filter(|(p, _)| p == prefix)
        .map(|(_, l)| l)
        .collect()
}
