//! A peer that stops reading (its receive window closes) while it keeps its session up with
//! KEEPALIVEs: our daemon must neither stall the other peers nor queue UPDATEs for it without
//! bound, nor lose any: it lags, and when it reads again it gets the current table.
//!
//! Three reflector clients of our daemon, all from one load generator in node 2's namespace:
//! A (10.99.0.2) announces [`ROUTES`] /26s, B (10.99.0.3) reads, C (10.99.0.4, a 4 KiB receive
//! buffer) stops reading right after its session is up. B must get all of A's routes while C
//! is stuck; then A announces them all again with another AS_PATH, withdraws [`WITHDRAWN`] and
//! announces [`ADDED`] new ones, B follows, and C, reading again, must end with exactly B's
//! count. Our daemon's peak memory (VmHWM) is printed.

use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use bgp_proto::builder::{withdraw_into, Withdraw};
use bgp_proto::NlriEntry;
use bytes::BytesMut;
use interop_tests::bgpd::{Bgpd, BgpdConfig, BgpdNeighbor};
use interop_tests::loadgen::{context, encode_announce, slash26, PeerSpec, Session};
use interop_tests::{require_root, wait_until, Fabric, Proc, TempDir};

/// Environment of [`slow_peer_clients`] when the main test runs it in node 2's namespace.
const CLIENTS_DIR: &str = "FAULTS_SLOW_PEER_DIR";
const ROUTES: u32 = 100_000;
const WITHDRAWN: u32 = 40_000;
const ADDED: u32 = 10_000;
const BASE: Ipv4Addr = Ipv4Addr::new(10, 128, 0, 0);
const OUR_AS: u32 = 65001;

fn spec(last: u8) -> PeerSpec {
    PeerSpec {
        local: Ipv4Addr::new(10, 99, 0, last),
        remote: Ipv4Addr::new(10, 99, 0, 1),
        local_as: OUR_AS,
        remote_as: OUR_AS,
        hold_time: 240,
    }
}

fn report(dir: &std::path::Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("report");
}

/// Waits until `f` holds, up to `secs`; false if it never did.
async fn until(secs: u64, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + Duration::from_secs(secs);
    while !f() {
        if Instant::now() > end {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    true
}

/// Not a test of its own: run by the main test inside node 2's namespace (see the module
/// docs). Writes `result` (or `error`) into the directory it is given.
#[test]
fn slow_peer_clients() {
    let Ok(dir) = std::env::var(CLIENTS_DIR) else {
        return;
    };
    let dir = PathBuf::from(dir);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let r: Result<String, String> = rt.block_on(async {
        let t = Duration::from_secs(30);
        let e = |e: interop_tests::loadgen::LoadgenError| e.to_string();
        let b = Session::connect(spec(3), HashSet::new(), t)
            .await
            .map_err(e)?;
        let c = Session::connect_with(spec(4), HashSet::new(), t, Some(4096))
            .await
            .map_err(e)?;
        c.pause_reading(true);
        let a = Session::connect(spec(2), HashSet::new(), t)
            .await
            .map_err(e)?;
        let first = encode_announce(
            (0..ROUTES).map(|i| slash26(BASE, i)),
            spec(2).local,
            &[],
            true,
        )
        .map_err(e)?;
        let start = Instant::now();
        a.send(&first).await.map_err(e)?;
        if !until(60, || b.stats().held() == ROUTES as usize).await {
            return Err(format!("B holds {} of {ROUTES}", b.stats().held()));
        }
        let b_first = start.elapsed();
        let c_stuck = c.stats().held();
        report(&dir, "stuck", "");
        // Churn while C is stuck: every route again with another AS_PATH, then some go and
        // new ones come (C's stuck connection cannot hold all of it: it lags).
        let again = encode_announce(
            (0..ROUTES).map(|i| slash26(BASE, i)),
            spec(2).local,
            &[65010],
            true,
        )
        .map_err(e)?;
        let mut second = BytesMut::from(&again[..]);
        withdraw_into(
            &context(),
            Withdraw::Ipv4Classic,
            (0..WITHDRAWN).map(|i| NlriEntry::new(slash26(BASE, i).into())),
            &mut second,
        )
        .map_err(|e| e.to_string())?;
        let added = encode_announce(
            (ROUTES..ROUTES + ADDED).map(|i| slash26(BASE, i)),
            spec(2).local,
            &[],
            true,
        )
        .map_err(e)?;
        second.extend_from_slice(&added);
        a.send(&second).await.map_err(e)?;
        let want = (ROUTES - WITHDRAWN + ADDED) as usize;
        if !until(60, || b.stats().held() == want).await {
            return Err(format!(
                "B holds {} of {want} after the churn",
                b.stats().held()
            ));
        }
        // C reads again: it must end with exactly the current table.
        let resumed = Instant::now();
        c.pause_reading(false);
        if !until(60, || c.stats().held() == want).await {
            return Err(format!(
                "C holds {} of {want} ({:?})",
                c.stats().held(),
                c.stats().error()
            ));
        }
        let c_done = resumed.elapsed();
        tokio::time::sleep(Duration::from_secs(1)).await;
        if c.stats().held() != want || b.stats().held() != want {
            return Err(format!(
                "not settled: C {} B {} of {want}",
                c.stats().held(),
                b.stats().held()
            ));
        }
        Ok(format!(
            "b_first_s {:.2} c_held_while_stuck {c_stuck} c_catch_up_s {:.2} updates_b {} \
             updates_c {}",
            b_first.as_secs_f64(),
            c_done.as_secs_f64(),
            b.stats().updates(),
            c.stats().updates()
        ))
    });
    match r {
        Ok(text) => report(&dir, "result", &text),
        Err(text) => report(&dir, "error", &text),
    }
}

fn vm_hwm_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

#[test]
fn a_peer_that_stops_reading_lags_without_stalling_the_others_and_catches_up_when_it_reads() {
    if !require_root(
        "a_peer_that_stops_reading_lags_without_stalling_the_others_and_catches_up_when_it_reads",
    ) {
        return;
    }
    let fabric = Fabric::new(&format!("fsp-{}", std::process::id()), 2).expect("fabric");
    for a in ["10.99.0.3/24", "10.99.0.4/24"] {
        fabric
            .node(2)
            .ns
            .ip(&["addr", "add", a, "dev", "eth0"])
            .expect("client address");
    }
    let neighbors = [2u8, 3, 4]
        .iter()
        .map(|n| {
            let mut x = BgpdNeighbor::new(&format!("c{n}"), &format!("10.99.0.{n}"), OUR_AS);
            x.passive = true;
            x.hold_time = 240;
            x.keepalive_time = 80;
            x.extra = "route_reflector_client = true\n".into();
            x
        })
        .collect();
    let config = BgpdConfig {
        router_id: "10.99.0.1".into(),
        local_as: OUR_AS,
        listen: vec!["10.99.0.1".into()],
        neighbors,
    };
    let top = "cluster_id = \"10.99.0.1\"\nip_pools = [{ cidr = \"10.128.0.0/9\" }]\n";
    let mut ours = Bgpd::start_with(&fabric.node(1).ns, &config, top).expect("our bgpd starts");
    let dir = TempDir::new("slow-peer").expect("temp dir");
    let exe = std::env::current_exe().expect("test binary");
    let env = format!("{CLIENTS_DIR}={}", dir.path().display());
    let _clients = Proc::spawn_in(
        &fabric.node(2).ns,
        "slow-peer-clients",
        &[
            "env",
            &env,
            exe.to_str().expect("utf-8"),
            "--exact",
            "slow_peer_clients",
            "--nocapture",
        ],
        dir.path(),
    )
    .expect("clients start");
    let done = |name: &str| dir.path().join(name).exists();
    wait_until("the clients' verdict", Duration::from_secs(200), || {
        Ok(done("result") || done("error"))
    })
    .expect("clients finish");
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap_or_default();
    let pid = ours.proc().pid();
    println!(
        "faults_slow_peer: {} routes, VmHWM {:.1} MiB; {}",
        ROUTES,
        vm_hwm_kib(pid) as f64 / 1024.0,
        read("result")
    );
    assert!(!done("error"), "{}", read("error"));
    let lagged = ours.events("peer_lagging", None);
    assert!(
        lagged
            .iter()
            .any(|e| e["fields"]["peer"].as_str() == Some("10.99.0.4")),
        "C lagged: {lagged:?}"
    );
    // B may lag for a moment too (a burst outruns any reader): every lag ends in a catch-up.
    let caught = ours.events("peer_caught_up", None);
    for peer in ["10.99.0.2", "10.99.0.3", "10.99.0.4"] {
        let n = |v: &[serde_json::Value]| {
            v.iter()
                .filter(|e| e["fields"]["peer"].as_str() == Some(peer))
                .count()
        };
        assert_eq!(n(&lagged), n(&caught), "{peer}: {lagged:?} {caught:?}");
    }
}
