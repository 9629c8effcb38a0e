//! Failover benchmark (ignored by default; run as root with
//! `cargo build -p bgpd && cargo test -p interop-tests --test bfd_failover_bench -- --ignored
//! --nocapture`): time from freezing the far side (SIGSTOP of every process of it) to the far
//! side's route gone from the near (detecting) side's RIB, with BFD 300 ms x 3 and with the
//! hold timer alone (hold 9 s, keepalive 3 s), eBGP over one link, for three detecting sides
//! in the same run:
//! - ours detecting, FRR 8.4.4 (bgpd + bfdd + zebra) frozen;
//! - FRR 8.4.4 detecting (bfdd profile 300/300/3), ours frozen;
//! - BIRD 2.0.12 detecting (`protocol bfd`, interval 300 ms, multiplier 3), ours frozen.
//!
//! Each cell: `RUNS` freezes of the same pair (thawed and re-established in between), median
//! and spread (min-max). The near side's RIB is polled through its CLI (one process per
//! poll, about 10-30 ms apart), which bounds the resolution.

use std::time::{Duration, Instant};

use interop_tests::bgpd::{Bgpd, BgpdConfig, BgpdNeighbor};
use interop_tests::command::run;
use interop_tests::{require_root, wait_until, Bird, Fabric, Frr};

const RUNS: usize = 5;
const OUR_BLOCK: &str = "10.99.210.0/26";
const FRR_ROUTE: &str = "10.99.200.0/24";

#[derive(Clone, Copy, PartialEq)]
enum Detector {
    Ours,
    Frr,
    Bird,
}

impl Detector {
    fn label(self) -> &'static str {
        match self {
            Detector::Ours => "ours (FRR frozen)",
            Detector::Frr => "FRR 8.4.4 (ours frozen)",
            Detector::Bird => "BIRD 2.0.12 (ours frozen)",
        }
    }
}

struct Cont(Vec<u32>);

impl Drop for Cont {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = run("kill", &["-CONT", &p.to_string()]);
        }
    }
}

fn ours(fab: &Fabric, peer_as: u32, bfd: bool) -> Bgpd {
    let (us, peer) = (fab.node(1), fab.node(2));
    let mut n = BgpdNeighbor::new("peer", &peer.v4.to_string(), peer_as);
    if bfd {
        n.extra = "bfd = true\nbfd_interval_ms = 300\nbfd_multiplier = 3\n".into();
    }
    let cfg = BgpdConfig {
        router_id: us.v4.to_string(),
        local_as: 65001,
        listen: vec![us.v4.to_string()],
        neighbors: vec![n],
    };
    Bgpd::start_with(&us.ns, &cfg, &format!("local_blocks = [\"{OUR_BLOCK}\"]\n"))
        .expect("our bgpd starts")
}

fn frr(fab: &Fabric, bfd: bool) -> Frr {
    let (us, peer) = (fab.node(1), fab.node(2));
    let u = us.v4;
    let mut conf = format!(
        "hostname frr\nrouter bgp 65002\n bgp router-id {}\n no bgp ebgp-requires-policy\n \
         no bgp network import-check\n neighbor {u} remote-as 65001\n \
         neighbor {u} timers 3 9\n neighbor {u} timers connect 2\n",
        peer.v4
    );
    if bfd {
        conf += &format!(" neighbor {u} bfd\n neighbor {u} bfd profile fast\n");
    }
    conf += &format!(" address-family ipv4 unicast\n  network {FRR_ROUTE}\n exit-address-family\n");
    let bfdd = "bfd\n profile fast\n  receive-interval 300\n  transmit-interval 300\n  \
                detect-multiplier 3\n !\n!\n";
    Frr::start_with_bfd(&peer.ns, &conf, bfd.then_some(bfdd)).expect("frr starts")
}

fn bird(fab: &Fabric, bfd: bool) -> Bird {
    let (us, peer) = (fab.node(1), fab.node(2));
    let conf = format!(
        "router id {p};\nprotocol device {{}}\n\
         protocol bfd {{ interface \"*\" {{ interval 300 ms; multiplier 3; }}; }}\n\
         protocol bgp peer {{ local {p} as 65003; neighbor {u} as 65001; hold time 9; \
         keepalive time 3; connect retry time 2; error wait time 1, 4; bfd {b}; \
         ipv4 {{ import all; export none; }}; }}\n",
        p = peer.v4,
        u = us.v4,
        b = if bfd { "on" } else { "off" }
    );
    Bird::start(&peer.ns, &conf).expect("bird starts")
}

/// One cell of the table: `RUNS` failover times.
fn cell(detector: Detector, bfd: bool, tag: &str) -> Vec<Duration> {
    let fab = Fabric::new(tag, 2).expect("fabric");
    let peer = fab.node(2).v4.to_string();
    let mut bgpd;
    let near_has: Box<dyn Fn() -> bool>;
    let far_pids: Vec<u32>;
    let _frr;
    let _bird;
    match detector {
        Detector::Ours => {
            let f = frr(&fab, bfd);
            far_pids = f.pids();
            _frr = Some(f);
            bgpd = ours(&fab, 65002, bfd);
            let sock = bgpd.dir().join("bgpd.ctl");
            near_has = Box::new(move || {
                let s = sock.to_string_lossy();
                run("/usr/sbin/birdc", &["-s", &s, "show", "route"])
                    .map(|t| t.contains(FRR_ROUTE))
                    .unwrap_or(false)
            });
        }
        Detector::Frr => {
            let f = frr(&fab, bfd);
            bgpd = ours(&fab, 65002, bfd);
            far_pids = vec![bgpd.proc().pid()];
            let dir = f.dir().to_string_lossy().into_owned();
            _frr = Some(f);
            near_has = Box::new(move || {
                run(
                    "/usr/bin/vtysh",
                    &["--vty_socket", &dir, "-c", "show bgp ipv4 unicast"],
                )
                .map(|t| t.contains(OUR_BLOCK))
                .unwrap_or(false)
            });
        }
        Detector::Bird => {
            let b = bird(&fab, bfd);
            bgpd = ours(&fab, 65003, bfd);
            far_pids = vec![bgpd.proc().pid()];
            let ctl = b.dir().join("bird.ctl").to_string_lossy().into_owned();
            _bird = Some(b);
            near_has = Box::new(move || {
                run("/usr/sbin/birdc", &["-s", &ctl, "show", "route"])
                    .map(|t| t.contains(OUR_BLOCK))
                    .unwrap_or(false)
            });
        }
    }
    let mut times = Vec::new();
    for i in 0..RUNS {
        bgpd.wait_established(&peer, Duration::from_secs(60))
            .expect("session up");
        wait_until("route on the near side", Duration::from_secs(60), || {
            Ok(near_has())
        })
        .expect("route present");
        if bfd {
            // Let both BFD sessions settle at the fast rate after (re)establishment.
            std::thread::sleep(Duration::from_secs(4));
        }
        for p in &far_pids {
            run("kill", &["-STOP", &p.to_string()]).expect("SIGSTOP");
        }
        let cont = Cont(far_pids.clone());
        let t0 = Instant::now();
        wait_until(
            "route gone on the near side",
            Duration::from_secs(30),
            || Ok(!near_has()),
        )
        .expect("route withdrawn");
        let took = t0.elapsed();
        eprintln!("{} bfd={bfd} run {i}: {took:?}", detector.label());
        times.push(took);
        drop(cont);
        // Our log's `established` count grows with each re-establishment.
        let _ = bgpd.wait_event("established", &peer, i + 2, Duration::from_secs(60));
    }
    times
}

fn summary(mut v: Vec<Duration>) -> String {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "median {:>7.0} ms  (min {:>6.0}, max {:>6.0})",
        ms(v[v.len() / 2]),
        ms(v[0]),
        ms(v[v.len() - 1])
    )
}

#[test]
#[ignore = "benchmark: run by hand as root (see the module doc)"]
fn bfd_failover_vs_hold_time_ours_frr_bird() {
    if !require_root("bfd_failover_vs_hold_time_ours_frr_bird") {
        return;
    }
    let mut rows = Vec::new();
    for (d, tag) in [
        (Detector::Ours, "bfb-o"),
        (Detector::Frr, "bfb-f"),
        (Detector::Bird, "bfb-b"),
    ] {
        let with = cell(d, true, &format!("{tag}1"));
        let without = cell(d, false, &format!("{tag}0"));
        rows.push((d, summary(with), summary(without)));
    }
    println!("\nfailover (freeze far side -> route gone from near side's RIB), {RUNS} runs each");
    println!(
        "{:<28} {:<44} hold 9 s / keepalive 3 s",
        "detecting side", "BFD 300 ms x 3"
    );
    for (d, a, b) in rows {
        println!("{:<28} {a:<44} {b}", d.label());
    }
}
