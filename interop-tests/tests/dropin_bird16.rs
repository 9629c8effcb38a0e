//! The proof that our daemon is a drop-in for BIRD 1.6.8 in calico-node: Calico's rendered BIRD
//! configuration (confd v3.32 shape, `tests/dropin/<scenario>/<node>/`), every Calico node run as
//! calico-node's runit runs it (`bird -R -s SOCKET -d -c bird.cfg`, see `interop_tests::dropin`),
//! each scenario twice in fresh namespaces: once with BIRD 1.6.8 on every node, once with OUR
//! daemon behind the `bird` symlink on the subject node (the other nodes stay BIRD 1.6.8, so the
//! subject is the only difference).
//!
//! Observed on the subject, and required identical between the two runs:
//! - `ip route show proto bird`, sorted, exactly (metrics, blackholes);
//! - `show protocols` rows on the control socket: name, proto, table, state, info (not since);
//! - after confd's reload (the new `bird.cfg` staged as `.bird.cfgNNNN`, `bird -p -c` on it with
//!   the same program must exit 0, renamed in place, SIGHUP): the routes and rows again, and no
//!   flap of the sessions whose peer did not change, judged by the TCP connection (same local
//!   and remote port pair in `ss` before and after), not by the `since` column.
//!
//! Per scenario, also what the subject's peers see (the clients of a route reflector, the FRR
//! ToRs' RIBs: prefix, next hop, AS path, communities, local pref) and session details.
//!
//! Scenarios (each a folder of rendered files per node, `reload/` for the subject's new main
//! file, `expected/` for BIRD 1.6.8's observed results; the other nodes' FRR configs beside):
//! 1. `mesh3`: three-node mesh, node 3 on another subnet behind a router, no encapsulation;
//! 2. `dual`: dual-stack mesh, `bird` and `bird6` per node;
//! 3. `rr`: the subject as route reflector with two clients;
//! 4. `ebgp`: eBGP to two FRR ToRs with a BGPFilter and prefixAdvertisement communities; this
//!    one also covers service IP advertisement (the service range as a static blackhole,
//!    exported, not programmed: Calico's `/staticroutes` and `/rejectcidrs` lines);
//! 5. `peeropts`: BGPPeer options: password, keepalive time, restart time, ttl security, per-peer
//!    local AS, next hop keep, reachableBy.
//!
//! Lab addresses only (10.99.0.0/16): the pools, blocks and the service range are 10.99.x
//! stand-ins for Calico's usual 192.168.0.0/16 and 10.96.0.0/12. `krt_tunnel` (IP-in-IP) cannot
//! be compared here (upstream BIRD 1.6.8 lacks Calico's attribute): `dropin_ipip.rs` checks our
//! routes against the lines Calico's BIRD fork would install.
//!
//! BIRD's run is also checked against the scenario's `expected/` files (written from BIRD 1.6.8's
//! behaviour, kept as data): when BIRD 1.6.8 itself does not match them, the harness or the
//! expectation is wrong, and the test says so before ever starting our daemon.
//!
//! `DROPIN_ONLY=bird16` runs only BIRD's half. Run with
//! `cargo test -p interop-tests --test dropin_bird16 -- --nocapture --test-threads=1`.

use std::path::Path;
use std::time::{Duration, Instant};

use interop_tests::dropin::{
    bgp_connections, bird16_available, expected_lines, kernel_routes, line_diff, same_connections,
    scenario_dir, two_subnet_fabric, CalicoBird, Daemon, Family, ProtocolRow,
};
use interop_tests::{require_root, Fabric, Frr, Netns};

/// How long a scenario may take to converge (Calico's timers: connect delay 2 s, retry 5 s).
const CONVERGE: Duration = Duration::from_secs(40);
/// After the reload converged: how long to keep watching for a late session reset.
const AFTER_RELOAD: Duration = Duration::from_secs(3);

/// What one run observed on the subject: named observations, each a list of lines, in order.
/// A name with an `expected/<name>.txt` file in the scenario is also checked against it.
struct Observed {
    daemon: Daemon,
    items: Vec<(String, Vec<String>)>,
    /// The subject's log tail, printed when the runs differ.
    log: String,
}

impl Observed {
    fn new(daemon: Daemon) -> Self {
        Self {
            daemon,
            items: Vec::new(),
            log: String::new(),
        }
    }

    fn push(&mut self, name: &str, lines: Vec<String>) {
        self.items.push((name.to_owned(), lines));
    }

    fn get(&self, name: &str) -> Option<&Vec<String>> {
        self.items.iter().find(|(n, _)| n == name).map(|(_, l)| l)
    }

    fn print(&self) {
        eprintln!("===== {} on the subject", self.daemon.label());
        for (name, lines) in &self.items {
            eprintln!("--- {name}");
            for l in lines {
                eprintln!("    {l}");
            }
        }
    }

    /// Differences to the scenario's `expected/` files.
    fn against_expected(&self, scenario: &Path) -> Vec<String> {
        let mut out = Vec::new();
        for (name, lines) in &self.items {
            let file = scenario.join("expected").join(format!("{name}.txt"));
            if !file.exists() {
                continue;
            }
            match expected_lines(&file).map(sorted) {
                Ok(want) if want == sorted(lines.clone()) => {}
                Ok(want) => out.push(format!(
                    "{name} ({}: - expected, + {}):\n{}",
                    file.display(),
                    self.daemon.label(),
                    line_diff(&want, lines)
                )),
                Err(e) => out.push(format!("{name}: {e}")),
            }
        }
        out
    }

    /// Differences to another run (`self` is BIRD 1.6.8's).
    fn against(&self, other: &Observed) -> Vec<String> {
        let mut out = Vec::new();
        for (name, lines) in &self.items {
            match other.get(name) {
                Some(o) if o == lines => {}
                Some(o) => out.push(format!(
                    "{name} (- {}, + {}):\n{}",
                    self.daemon.label(),
                    other.daemon.label(),
                    line_diff(lines, o)
                )),
                None => out.push(format!(
                    "{name}: not observed with {} (an earlier step failed)",
                    other.daemon.label()
                )),
            }
        }
        out
    }
}

/// The expected files are compared without regard to line order.
fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// What the subject shows for `family`: its kernel routes and its protocol rows (sorted: the
/// order of the rows is not part of what Calico reads; a different order is printed as a note).
fn observe(
    ns: &Netns,
    node: &CalicoBird,
    family: Family,
    prefix: &str,
) -> Vec<(String, Vec<String>)> {
    let fam = match family {
        Family::V4 => "v4",
        Family::V6 => "v6",
    };
    let routes = kernel_routes(ns, family).unwrap_or_else(|e| vec![format!("error: {e}")]);
    let rows = match node.protocols() {
        Ok(rows) => {
            let mut lines: Vec<String> = rows.iter().map(ProtocolRow::line).collect();
            lines.sort();
            lines
        }
        Err(e) => vec![format!("error: {e}")],
    };
    vec![
        (format!("{prefix}routes-{fam}"), routes),
        (format!("{prefix}protocols-{fam}"), rows),
    ]
}

/// Polls `look` until every observation that has an expected file equals it, or `timeout`;
/// returns the last observation either way (a mismatch is reported by the comparison).
fn settle(
    scenario: &Path,
    timeout: Duration,
    mut look: impl FnMut() -> Vec<(String, Vec<String>)>,
) -> Vec<(String, Vec<String>)> {
    let start = Instant::now();
    loop {
        let now = look();
        let done = now.iter().all(|(name, lines)| {
            let file = scenario.join("expected").join(format!("{name}.txt"));
            !file.exists()
                || expected_lines(&file).is_ok_and(|w| sorted(w) == sorted(lines.clone()))
        });
        if done || start.elapsed() >= timeout {
            return now;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Runs `scenario` with BIRD 1.6.8 on every node, checks that against the expected files, then
/// with our daemon on the subject and compares. Every difference is listed before failing.
fn side_by_side(test: &str, scenario: &str, run: fn(Daemon) -> Observed) {
    if !require_root(test) || !bird16_available(test) {
        return;
    }
    let dir = scenario_dir(scenario);
    let bird = run(Daemon::Bird16);
    bird.print();
    let bad = bird.against_expected(&dir);
    if !bad.is_empty() {
        eprintln!("{}", bird.log);
        panic!(
            "{scenario}: BIRD 1.6.8 itself does not match the expected files: the harness or the \
             expectation is wrong, not our daemon\n{}",
            bad.join("\n")
        );
    }
    if std::env::var("DROPIN_ONLY").as_deref() == Ok("bird16") {
        eprintln!("{scenario}: DROPIN_ONLY=bird16, our daemon not run");
        return;
    }
    let ours = run(Daemon::Bgpd);
    ours.print();
    // BIRD's run matched the expected files above, so comparing with BIRD's run is enough.
    let bad = bird.against(&ours);
    if !bad.is_empty() {
        eprintln!("===== bgpd log tail\n{}", ours.log);
        panic!(
            "{scenario}: our daemon differs from BIRD 1.6.8 ({} difference(s)):\n{}",
            bad.len(),
            bad.join("\n")
        );
    }
}

/// Starts the subject; on failure records it (our daemon may not start yet) and returns None.
fn start_subject(
    obs: &mut Observed,
    ns: &Netns,
    daemon: Daemon,
    family: Family,
    from: &Path,
) -> Option<CalicoBird> {
    match CalicoBird::start(ns, daemon, family, from) {
        Ok(n) => {
            obs.push(
                &format!("start-{}", family.program()),
                vec!["running".into()],
            );
            Some(n)
        }
        Err(e) => {
            obs.push(
                &format!("start-{}", family.program()),
                vec![format!("failed: {e}")],
            );
            None
        }
    }
}

/// confd's reload of the subject's main file; records whether `bird -p -c` accepted it.
fn reload(obs: &mut Observed, ns: &Netns, node: &CalicoBird, new: &Path) -> bool {
    let prog = node.family().program();
    let name = format!("reload-check-{prog}");
    let text = match std::fs::read_to_string(new) {
        Ok(t) => t,
        Err(e) => panic!("{}: {e}", new.display()),
    };
    match node.reconfigure(ns, &text) {
        Ok(()) => {
            obs.push(
                &name,
                vec![format!(
                    "{prog} -p -c accepted the staged file; SIGHUP sent"
                )],
            );
            true
        }
        Err(e) => {
            obs.push(&name, vec![format!("failed: {e}")]);
            false
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Scenario 1: three-node mesh, no encapsulation (ipipMode Never).

/// Nodes 10.99.0.1 and 10.99.0.2 share 10.99.0.0/24; node 3 is 10.99.1.3/24, on another subnet
/// behind a router: the fabric's bridge namespace routes between 10.99.0.254 and 10.99.1.254 (one
/// segment, two subnets). The mesh is `multihop`; the next hop 10.99.1.3 resolves recursively
/// through the kernel-learned route `10.99.1.0/24 via 10.99.0.254` (`gateway recursive`).
fn mesh3_lab() -> Fabric {
    two_subnet_fabric("dm3")
}

/// Subject: node 2 (active towards 10.99.0.1, passive towards 10.99.1.3, as the mesh's string
/// comparison of addresses decides). Reload: a peer added (10.99.0.4, never there: passive) and
/// the import filter of `Mesh_10_99_0_1` changed to refuse node 1's block.
fn mesh3(daemon: Daemon) -> Observed {
    let sc = scenario_dir("mesh3");
    let fab = mesh3_lab();
    let mut obs = Observed::new(daemon);
    let _n1 = CalicoBird::start(&fab.node(1).ns, Daemon::Bird16, Family::V4, &sc.join("n1"))
        .expect("BIRD 1.6.8 on node 1");
    let _n3 = CalicoBird::start(&fab.node(3).ns, Daemon::Bird16, Family::V4, &sc.join("n3"))
        .expect("BIRD 1.6.8 on node 3");
    let ns = &fab.node(2).ns;
    let Some(mut subj) = start_subject(&mut obs, ns, daemon, Family::V4, &sc.join("n2")) else {
        return obs;
    };
    for item in settle(&sc, CONVERGE, || observe(ns, &subj, Family::V4, "")) {
        obs.items.push(item);
    }
    let before = bgp_connections(ns).unwrap_or_default();
    if reload(&mut obs, ns, &subj, &sc.join("reload/n2/bird.cfg")) {
        for item in settle(&sc, CONVERGE, || observe(ns, &subj, Family::V4, "reload-")) {
            obs.items.push(item);
        }
        std::thread::sleep(AFTER_RELOAD);
        let after = bgp_connections(ns).unwrap_or_default();
        obs.push(
            "reload-connections",
            same_connections(&before, &after, &["10.99.0.1", "10.99.1.3"]),
        );
    }
    obs.log = subj.log_tail(40);
    if subj.proc().check_alive().is_err() {
        obs.push("alive-at-end", vec!["exited".into()]);
    } else {
        obs.push("alive-at-end", vec!["running".into()]);
    }
    obs
}

#[test]
fn mesh3_bgpd_is_a_drop_in_for_bird16() {
    side_by_side("mesh3_bgpd_is_a_drop_in_for_bird16", "mesh3", mesh3);
}

// ---------------------------------------------------------------------------------------------
// Scenario 2: dual-stack mesh, `bird` and `bird6` per node (two processes, two sockets).

/// Three nodes on one segment (10.99.0.i/24, fd99::i/64), each running `bird` and `bird6`; the
/// subject (node 2) runs both as the subject daemon. Each process owns its family's kernel
/// routes. Reload: `bird6.cfg` only, with a peer added (fd99::4, passive) and the import filter
/// of `Mesh_fd99__3` refusing node 3's IPv6 block; the IPv4 process must not notice.
fn dual(daemon: Daemon) -> Observed {
    let sc = scenario_dir("dual");
    let fab = Fabric::new("dds", 3).expect("fabric");
    let mut obs = Observed::new(daemon);
    let mut others = Vec::new();
    for i in [1u8, 3] {
        for fam in [Family::V4, Family::V6] {
            let from = sc.join(format!("n{i}"));
            others.push(
                CalicoBird::start(&fab.node(i).ns, Daemon::Bird16, fam, &from)
                    .expect("BIRD 1.6.8 on the other nodes"),
            );
        }
    }
    let ns = &fab.node(2).ns;
    let from = sc.join("n2");
    let Some(mut v4) = start_subject(&mut obs, ns, daemon, Family::V4, &from) else {
        return obs;
    };
    let Some(mut v6) = start_subject(&mut obs, ns, daemon, Family::V6, &from) else {
        obs.log = v4.log_tail(40);
        return obs;
    };
    let both = |prefix: &str| {
        let mut v = observe(ns, &v4, Family::V4, prefix);
        v.extend(observe(ns, &v6, Family::V6, prefix));
        v
    };
    for item in settle(&sc, CONVERGE, || both("")) {
        obs.items.push(item);
    }
    let before = bgp_connections(ns).unwrap_or_default();
    if reload(&mut obs, ns, &v6, &sc.join("reload/n2/bird6.cfg")) {
        for item in settle(&sc, CONVERGE, || both("reload-")) {
            obs.items.push(item);
        }
        std::thread::sleep(AFTER_RELOAD);
        let after = bgp_connections(ns).unwrap_or_default();
        obs.push(
            "reload-connections",
            same_connections(
                &before,
                &after,
                &["10.99.0.1", "10.99.0.3", "fd99::1", "fd99::3"],
            ),
        );
    }
    obs.log = format!("{}\n{}", v4.log_tail(30), v6.log_tail(30));
    let alive = |n: &mut CalicoBird| {
        if n.proc().check_alive().is_ok() {
            "running"
        } else {
            "exited"
        }
    };
    obs.push(
        "alive-at-end",
        vec![
            format!("bird {}", alive(&mut v4)),
            format!("bird6 {}", alive(&mut v6)),
        ],
    );
    obs
}

#[test]
fn dual_stack_bgpd_is_a_drop_in_for_bird_and_bird6() {
    side_by_side(
        "dual_stack_bgpd_is_a_drop_in_for_bird_and_bird6",
        "dual",
        dual,
    );
}

// ---------------------------------------------------------------------------------------------
// Scenario 3: a node as route reflector with two clients.

/// Node 1 is the route reflector (`rr client; rr cluster id 244.0.0.1;` towards nodes 2 and 3,
/// `Node_*` peers, no mesh); nodes 2 and 3 peer with it only. The subject is the reflector; the
/// clients' kernel routes and the reflected route's attributes on node 2 (originator id, cluster
/// list) show what it reflected. Reload: a client added (`Global_10_99_0_4`, passive) and the
/// export filter towards node 3 changed to stop reflecting node 2's block.
fn rr(daemon: Daemon) -> Observed {
    let sc = scenario_dir("rr");
    let fab = Fabric::new("drr", 3).expect("fabric");
    let mut obs = Observed::new(daemon);
    let n2 = CalicoBird::start(&fab.node(2).ns, Daemon::Bird16, Family::V4, &sc.join("n2"))
        .expect("BIRD 1.6.8 on node 2");
    let _n3 = CalicoBird::start(&fab.node(3).ns, Daemon::Bird16, Family::V4, &sc.join("n3"))
        .expect("BIRD 1.6.8 on node 3");
    let ns = &fab.node(1).ns;
    let Some(mut subj) = start_subject(&mut obs, ns, daemon, Family::V4, &sc.join("n1")) else {
        return obs;
    };
    let look = |prefix: &str| {
        let mut v = observe(ns, &subj, Family::V4, prefix);
        for i in [2u8, 3] {
            let r = kernel_routes(&fab.node(i).ns, Family::V4)
                .unwrap_or_else(|e| vec![format!("error: {e}")]);
            v.push((format!("{prefix}client-n{i}-routes-v4"), r));
        }
        let attrs = n2
            .bgp_attributes("10.99.64.128/26")
            .unwrap_or_else(|e| vec![format!("error: {e}")]);
        v.push((format!("{prefix}client-n2-reflected-attributes"), attrs));
        v
    };
    for item in settle(&sc, CONVERGE, || look("")) {
        obs.items.push(item);
    }
    let before = bgp_connections(ns).unwrap_or_default();
    if reload(&mut obs, ns, &subj, &sc.join("reload/n1/bird.cfg")) {
        for item in settle(&sc, CONVERGE, || look("reload-")) {
            obs.items.push(item);
        }
        std::thread::sleep(AFTER_RELOAD);
        let after = bgp_connections(ns).unwrap_or_default();
        obs.push(
            "reload-connections",
            same_connections(&before, &after, &["10.99.0.2", "10.99.0.3"]),
        );
    }
    obs.log = subj.log_tail(40);
    let alive = if subj.proc().check_alive().is_ok() {
        "running"
    } else {
        "exited"
    };
    obs.push("alive-at-end", vec![alive.into()]);
    obs
}

#[test]
fn route_reflector_bgpd_is_a_drop_in_for_bird16() {
    side_by_side("route_reflector_bgpd_is_a_drop_in_for_bird16", "rr", rr);
}

// ---------------------------------------------------------------------------------------------
// Scenario 4: eBGP to ToRs (FRR 8.4), a BGPFilter, communities, a service IP range.

/// One line per path in FRR's IPv4 RIB: prefix, next hop, AS path, communities, local pref, MED
/// (from `show bgp ipv4 unicast PREFIX json` for every prefix of `show bgp ipv4 unicast json`).
fn frr_rib(frr: &Frr) -> Vec<String> {
    let table = match frr.vtysh_json("show bgp ipv4 unicast json") {
        Ok(t) => t,
        Err(e) => return vec![format!("error: {e}")],
    };
    let Some(routes) = table.get("routes").and_then(|r| r.as_object()) else {
        return vec![format!("no routes in {table}")];
    };
    let mut out = Vec::new();
    for prefix in routes.keys() {
        let detail = match frr.vtysh_json(&format!("show bgp ipv4 unicast {prefix} json")) {
            Ok(d) => d,
            Err(e) => {
                out.push(format!("{prefix} error: {e}"));
                continue;
            }
        };
        for path in detail["paths"].as_array().into_iter().flatten() {
            let s = |v: &serde_json::Value| match v {
                serde_json::Value::Null => "-".to_owned(),
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            out.push(format!(
                "{prefix} nexthop {} aspath \"{}\" community \"{}\" largecommunity \"{}\" localpref {} med {}",
                s(&path["nexthops"][0]["ip"]),
                s(&path["aspath"]["string"]),
                s(&path["community"]["string"]),
                s(&path["largeCommunity"]["string"]),
                s(&path["locPrf"]),
                s(&path["metric"]),
            ));
        }
    }
    out.sort();
    out
}

/// Node 1 (AS 64512, the subject) peers with ToRs on nodes 2 and 3 (FRR, AS 65001 / 65002;
/// `Node_*` peers, both sides active). Its BGPFilter `tor` gives routes tagged 65000:100 a
/// higher priority (local pref 2147483391, kernel metric 256) and refuses 10.99.201.0/24 on
/// import; on export it tags the service range 10.99.96.0/20 (a static blackhole, not
/// programmed into the kernel) with 65000:300; prefixAdvertisements tag the pool with 64512:100.
/// Checked: the subject's routes and rows and both ToRs' RIBs. Reload: ToR 3 (node 4, AS 65003,
/// running and knocking from the start) added, and the import rule for 10.99.201.0/24 removed.
fn ebgp(daemon: Daemon) -> Observed {
    let sc = scenario_dir("ebgp");
    let fab = Fabric::new("deb", 4).expect("fabric");
    let mut obs = Observed::new(daemon);
    let mut tors = Vec::new();
    for (i, name) in [(2u8, "tor1"), (3, "tor2"), (4, "tor3")] {
        let conf = std::fs::read_to_string(sc.join(name).join("bgpd.conf")).expect("FRR config");
        tors.push(Frr::start(&fab.node(i).ns, &conf).expect("FRR ToR"));
    }
    let ns = &fab.node(1).ns;
    let Some(mut subj) = start_subject(&mut obs, ns, daemon, Family::V4, &sc.join("n1")) else {
        return obs;
    };
    let look = |prefix: &str, n_tors: usize| {
        let mut v = observe(ns, &subj, Family::V4, prefix);
        for (i, frr) in tors.iter().enumerate().take(n_tors) {
            v.push((format!("{prefix}tor{}-rib", i + 1), frr_rib(frr)));
        }
        v
    };
    for item in settle(&sc, CONVERGE, || look("", 2)) {
        obs.items.push(item);
    }
    let before = bgp_connections(ns).unwrap_or_default();
    if reload(&mut obs, ns, &subj, &sc.join("reload/n1/bird.cfg")) {
        for item in settle(&sc, CONVERGE, || look("reload-", 3)) {
            obs.items.push(item);
        }
        std::thread::sleep(AFTER_RELOAD);
        let after = bgp_connections(ns).unwrap_or_default();
        obs.push(
            "reload-connections",
            same_connections(&before, &after, &["10.99.0.2", "10.99.0.3"]),
        );
    }
    obs.log = subj.log_tail(40);
    let alive = if subj.proc().check_alive().is_ok() {
        "running"
    } else {
        "exited"
    };
    obs.push("alive-at-end", vec![alive.into()]);
    obs
}

#[test]
fn ebgp_tors_with_bgpfilter_bgpd_is_a_drop_in_for_bird16() {
    side_by_side(
        "ebgp_tors_with_bgpfilter_bgpd_is_a_drop_in_for_bird16",
        "ebgp",
        ebgp,
    );
}

// ---------------------------------------------------------------------------------------------
// Scenario 6: BGPPeer options.

/// The lines of a session's details that show the peer options at work.
const DETAIL_LABELS: &[&str] = &[
    "BGP state",
    "Neighbor AS",
    "Neighbor caps",
    "Session",
    "Source address",
    "Hold timer",
    "Keepalive timer",
];

/// Node 1 (the subject) with three BGPPeers: node 2 (BIRD 1.6.8, iBGP) with password,
/// keepaliveTime 10 s, maxRestartTime 60 s and ttlSecurity 1 on both sides (TCP-MD5 and GTSM:
/// the session comes up only if both are honoured); FRR on node 3 (AS 65010) seeing node 1 as
/// AS 65100 (per-peer `local as`) with `next hop keep` (node 2's block reaches FRR with next hop
/// 10.99.0.2); node 4 (BIRD 1.6.8) at 10.99.9.4 on its loopback, reachable only through the
/// static route `10.99.9.4/32 via 10.99.0.4` (reachableBy). Reload: the FRR peer's import
/// refuses 10.99.210.0/24, and a passive peer is added.
fn peeropts(daemon: Daemon) -> Observed {
    let sc = scenario_dir("peeropts");
    let fab = Fabric::new("dpo", 4).expect("fabric");
    let n4ns = &fab.node(4).ns;
    n4ns.ip(&["addr", "add", "10.99.9.4/32", "dev", "lo"])
        .expect("node 4 loopback address");
    // The static route to node 4 as a previous run left it (`persist`): with `-R`, kernel
    // exports wait for every peer's End-of-RIB, and node 4's session needs this very route, so
    // a node's first start would wait out the 240 s recovery timer (BIRD 1.6.8 and ours alike).
    fab.node(1)
        .ns
        .ip(&[
            "route",
            "add",
            "10.99.9.4/32",
            "via",
            "10.99.0.4",
            "proto",
            "bird",
        ])
        .expect("persisted route to node 4");
    let mut obs = Observed::new(daemon);
    let n2 = CalicoBird::start(&fab.node(2).ns, Daemon::Bird16, Family::V4, &sc.join("n2"))
        .expect("BIRD 1.6.8 on node 2");
    let _n4 = CalicoBird::start(n4ns, Daemon::Bird16, Family::V4, &sc.join("n4"))
        .expect("BIRD 1.6.8 on node 4");
    let conf = std::fs::read_to_string(sc.join("frr3/bgpd.conf")).expect("FRR config");
    let frr = Frr::start(&fab.node(3).ns, &conf).expect("FRR on node 3");
    let ns = &fab.node(1).ns;
    let Some(mut subj) = start_subject(&mut obs, ns, daemon, Family::V4, &sc.join("n1")) else {
        return obs;
    };
    let look = |prefix: &str| {
        let mut v = observe(ns, &subj, Family::V4, prefix);
        let err = |e: interop_tests::HarnessError| vec![format!("error: {e}")];
        v.push((
            format!("{prefix}details-Node_10_99_0_2"),
            subj.protocol_details("Node_10_99_0_2", DETAIL_LABELS)
                .unwrap_or_else(err),
        ));
        v.push((
            format!("{prefix}n2-details-Node_10_99_0_1"),
            n2.protocol_details("Node_10_99_0_1", DETAIL_LABELS)
                .unwrap_or_else(err),
        ));
        v.push((format!("{prefix}frr3-rib"), frr_rib(&frr)));
        v
    };
    for item in settle(&sc, CONVERGE, || look("")) {
        obs.items.push(item);
    }
    let before = bgp_connections(ns).unwrap_or_default();
    if reload(&mut obs, ns, &subj, &sc.join("reload/n1/bird.cfg")) {
        for item in settle(&sc, CONVERGE, || look("reload-")) {
            obs.items.push(item);
        }
        std::thread::sleep(AFTER_RELOAD);
        let after = bgp_connections(ns).unwrap_or_default();
        obs.push(
            "reload-connections",
            same_connections(&before, &after, &["10.99.0.2", "10.99.0.3", "10.99.9.4"]),
        );
    }
    obs.log = subj.log_tail(40);
    let alive = if subj.proc().check_alive().is_ok() {
        "running"
    } else {
        "exited"
    };
    obs.push("alive-at-end", vec![alive.into()]);
    obs
}

#[test]
fn bgppeer_options_bgpd_is_a_drop_in_for_bird16() {
    side_by_side(
        "bgppeer_options_bgpd_is_a_drop_in_for_bird16",
        "peeropts",
        peeropts,
    );
}
