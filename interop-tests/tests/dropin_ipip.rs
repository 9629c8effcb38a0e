//! IP-in-IP programming (`krt_tunnel`, the attribute Calico's BIRD fork adds) by our daemon run
//! as calico-node's `bird`, checked against the `ip route` lines the fork would install.
//!
//! Upstream BIRD 1.6.8 does not know `krt_tunnel`, so the side-by-side comparison of
//! `dropin_bird16.rs` cannot cover it. Here the subject (node 1) always runs OUR daemon, started
//! exactly as runit starts `bird` (`bird -R -s SOCK -d -c bird.cfg` through a symlink named
//! `bird`, see `interop_tests::dropin`); nodes 2 and 3 run BIRD 1.6.8 with a plain kernel filter
//! (no `krt_tunnel`) and only announce their blocks. The expected lines in
//! `tests/dropin/ipip/expected/` are derived from the fork's `sysdep/linux/netlink.c`
//! (`nl_send_route`: a gateway route whose `krt_tunnel` names an existing interface goes out on
//! that interface, via the route's BGP NEXT_HOP, with `RTNH_F_ONLINK`; `krt_tunnel = ""` is a
//! plain gateway route; a metric only when `krt_metric` is set); each file says so.
//!
//! Lab (10.99.0.0/16 only): pool 10.99.64.0/18, blocks 10.99.64.{0,64,128}/26 on nodes 1, 2, 3.
//! Nodes 1 (10.99.0.1) and 2 (10.99.0.2) share 10.99.0.0/24; node 3 (10.99.1.3/24) is on another
//! subnet behind the bridge namespace acting as a router (10.99.0.254 / 10.99.1.254). This kernel
//! has no `ipip` module, so node 1's `tunl0` is a stand-in: a `dummy` link, or an `ifb` link
//! where `dummy` is missing too (both: no link layer, up with carrier). The kernel accepts
//! `onlink` routes through it, which is all checked here: what we program, not that packets are
//! encapsulated (that is the VM test's job). As Felix does in IPIP mode, `tunl0` carries an
//! address from node 1's block (10.99.64.1/32), which must be neither programmed nor announced.
//!
//! Cases (`tests/dropin/ipip/`):
//! 1. `crosssubnet`: Calico v3.31's (generation 1) rendering, ipipMode CrossSubnet
//!    (`n1-crosssubnet/`): node 2's block direct on eth0, node 3's via tunl0 onlink, no metric
//!    (generation 1 sets no `krt_metric`). Then confd's reload for ipipMode Always
//!    (`reload/n1-crosssubnet/bird_ipam.cfg` renamed in place, `bird -p -c` on the main file,
//!    SIGHUP): node 2's block moves to tunl0 onlink, and neither session flaps (same TCP port
//!    pair in `ss` before and after).
//! 2. `always`: the generation-2 form when BIRD programs IPIP cluster routes
//!    (`krt_tunnel="tunl0"` for the pool after the `krt_metric` prologue, `n1-always/`): both
//!    remote blocks via tunl0 onlink, metric 1024.
//!
//! Checked per case: node 1's `ip route show proto bird` lines exactly (any order), its
//! `show protocols` rows, node 2's kernel routes (what node 1 announced), and node 1 still
//! running at the end. Every difference is listed before failing.
//!
//! Needs root (skips otherwise) and BIRD 1.6.8 in `/tmp/bird16` (skips otherwise). Run with
//! `cargo test -p interop-tests --test dropin_ipip -- --nocapture --test-threads=1`.

use std::time::{Duration, Instant};

use interop_tests::dropin::{
    bgp_connections, bird16_available, expected_lines, kernel_routes, line_diff, same_connections,
    scenario_dir, two_subnet_fabric, CalicoBird, Daemon, Family, ProtocolRow,
};
use interop_tests::{require_root, Fabric, Netns};

/// How long the mesh may take to converge (Calico's timers: connect delay 2 s, retry 5 s).
const CONVERGE: Duration = Duration::from_secs(40);
/// After the reload converged: how long to keep watching for a late session reset.
const AFTER_RELOAD: Duration = Duration::from_secs(3);

/// Named observations (each a list of lines); a name with `expected/<name>.txt` is checked.
type Observations = Vec<(String, Vec<String>)>;

/// The three-node lab of the module docs; node 1's `tunl0` stand-in included.
fn lab(prefix: &str) -> Fabric {
    let fab = two_subnet_fabric(prefix);
    tunnel_stand_in(&fab.node(1).ns);
    fab
}

/// Creates `tunl0` in `ns` as a `dummy` link (an `ifb` link if this kernel lacks `dummy`), up,
/// with the tunnel address Felix would give it.
fn tunnel_stand_in(ns: &Netns) {
    let kind = ["dummy", "ifb"]
        .into_iter()
        .find(|kind| ns.ip(&["link", "add", "tunl0", "type", kind]).is_ok())
        .expect("neither a dummy nor an ifb link can be created for tunl0");
    eprintln!("tunl0 stand-in: a {kind} link");
    ns.ip(&["link", "set", "tunl0", "up"]).expect("tunl0 up");
    ns.ip(&["addr", "add", "10.99.64.1/32", "dev", "tunl0"])
        .expect("tunl0 address");
}

/// What one look at the lab shows: node 1's routes and rows, node 2's routes.
fn observe(fab: &Fabric, subject: &CalicoBird, prefix: &str) -> Observations {
    let err = |e: interop_tests::HarnessError| vec![format!("error: {e}")];
    let rows = subject
        .protocols()
        .map(|rows| {
            let mut v: Vec<String> = rows.iter().map(ProtocolRow::line).collect();
            v.sort();
            v
        })
        .unwrap_or_else(err);
    vec![
        (
            format!("{prefix}routes-v4"),
            kernel_routes(&fab.node(1).ns, Family::V4).unwrap_or_else(err),
        ),
        (format!("{prefix}protocols-v4"), rows),
        (
            format!("{prefix}n2-routes-v4"),
            kernel_routes(&fab.node(2).ns, Family::V4).unwrap_or_else(err),
        ),
    ]
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn expected_file(name: &str) -> std::path::PathBuf {
    scenario_dir("ipip")
        .join("expected")
        .join(format!("{name}.txt"))
}

/// Whether `lines` equal the expected file of `name` (true when there is none).
fn matches(name: &str, lines: &[String]) -> bool {
    let file = expected_file(name);
    !file.exists() || expected_lines(&file).is_ok_and(|w| sorted(w) == sorted(lines.to_vec()))
}

/// Polls `look` until every observation with an expected file matches it, or `timeout`;
/// returns the last observation either way (a mismatch is reported by [`differences`]).
fn settle(timeout: Duration, mut look: impl FnMut() -> Observations) -> Observations {
    let start = Instant::now();
    loop {
        let now = look();
        if now.iter().all(|(name, lines)| matches(name, lines)) || start.elapsed() >= timeout {
            return now;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Every observation that differs from its expected file, as a diff; an error when an expected
/// file was never observed (an earlier step failed).
fn differences(case: &str, obs: &Observations) -> Vec<String> {
    let mut out = Vec::new();
    for (name, lines) in obs {
        let file = expected_file(name);
        if !file.exists() {
            continue;
        }
        match expected_lines(&file) {
            Ok(want) if sorted(want.clone()) == sorted(lines.clone()) => {}
            Ok(want) => out.push(format!(
                "{name} ({}: - expected, + observed):\n{}",
                file.display(),
                line_diff(&want, lines)
            )),
            Err(e) => out.push(format!("{name}: {e}")),
        }
    }
    let dir = scenario_dir("ipip").join("expected");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("expected dir")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.strip_suffix(".txt").map(str::to_owned)
        })
        .filter(|n| n.starts_with(&format!("{case}-")))
        .collect();
    names.sort();
    for n in names {
        if !obs.iter().any(|(o, _)| *o == n) {
            out.push(format!("{n}: not observed (an earlier step failed)"));
        }
    }
    out
}

/// Runs one case: nodes 2 and 3 on BIRD 1.6.8, node 1 on our daemon from `subject_dir`; when
/// `reload_ipam` is given, confd's rewrite of `bird_ipam.cfg` with that file and SIGHUP.
/// Prints what was observed and fails listing every difference to the expected files.
fn run_case(test: &str, case: &str, subject_dir: &str, reload_ipam: Option<&str>) {
    if !require_root(test) || !bird16_available(test) {
        return;
    }
    let sc = scenario_dir("ipip");
    let fab = lab(&format!("dip{}", &case[..2]));
    let _n2 = CalicoBird::start(&fab.node(2).ns, Daemon::Bird16, Family::V4, &sc.join("n2"))
        .expect("BIRD 1.6.8 on node 2");
    let _n3 = CalicoBird::start(&fab.node(3).ns, Daemon::Bird16, Family::V4, &sc.join("n3"))
        .expect("BIRD 1.6.8 on node 3");
    let ns = &fab.node(1).ns;
    let mut subject = CalicoBird::start(ns, Daemon::Bgpd, Family::V4, &sc.join(subject_dir))
        .unwrap_or_else(|e| panic!("{case}: our daemon as `bird` did not start: {e}"));
    let mut obs: Observations = settle(CONVERGE, || observe(&fab, &subject, &format!("{case}-")));
    if let Some(ipam) = reload_ipam {
        let before = bgp_connections(ns).unwrap_or_default();
        let text = std::fs::read_to_string(sc.join(ipam)).expect("reload bird_ipam.cfg");
        match subject.reconfigure_included(ns, "bird_ipam.cfg", &text) {
            Ok(()) => {
                let prefix = format!("{case}-reload-");
                obs.extend(settle(CONVERGE, || observe(&fab, &subject, &prefix)));
                std::thread::sleep(AFTER_RELOAD);
                let after = bgp_connections(ns).unwrap_or_default();
                obs.push((
                    format!("{case}-reload-connections"),
                    same_connections(&before, &after, &["10.99.0.2", "10.99.1.3"]),
                ));
            }
            Err(e) => obs.push((format!("{case}-reload"), vec![format!("failed: {e}")])),
        }
    }
    let alive = subject.proc().check_alive().is_ok();
    eprintln!("===== {case}: observed (node 1 = our daemon)");
    for (name, lines) in &obs {
        eprintln!("--- {name}");
        for l in lines {
            eprintln!("    {l}");
        }
    }
    let mut bad = differences(case, &obs);
    if !alive {
        bad.push("our daemon exited before the end".into());
    }
    if !bad.is_empty() {
        eprintln!("===== bgpd log tail\n{}", subject.log_tail(60));
        panic!(
            "{case}: our daemon's IP-in-IP programming differs from Calico's BIRD fork \
             ({} difference(s)):\n{}",
            bad.len(),
            bad.join("\n")
        );
    }
}

#[test]
fn crosssubnet_programs_off_subnet_blocks_via_tunl0_onlink_and_reload_to_always_moves_the_rest() {
    run_case(
        "crosssubnet_programs_off_subnet_blocks_via_tunl0_onlink_and_reload_to_always_moves_the_rest",
        "crosssubnet",
        "n1-crosssubnet",
        Some("reload/n1-crosssubnet/bird_ipam.cfg"),
    );
}

#[test]
fn always_programs_every_remote_block_via_tunl0_onlink() {
    run_case(
        "always_programs_every_remote_block_via_tunl0_onlink",
        "always",
        "n1-always",
        None,
    );
}
