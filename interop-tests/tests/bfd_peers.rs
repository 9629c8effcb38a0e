//! BFD (RFC 5880/5881) between our bgpd and real peers: FRR 8.4.4's bfdd (profile 300 ms x 3)
//! and BIRD 2.0.12 (`protocol bfd`, `interval 300 ms; multiplier 3;`), eBGP over one link
//! with hold time 9 s. BFD comes Up on both sides; when the peer freezes (SIGSTOP of every
//! process of it), our BFD session times out after 0.9 s and takes the BGP session down
//! with Cease / BFD Down (RFC 9384), and the peer's route leaves our RIB well before the
//! hold time would have expired.

use std::time::{Duration, Instant};

use interop_tests::bgpd::{Bgpd, BgpdConfig, BgpdNeighbor};
use interop_tests::command::run;
use interop_tests::{require_root, wait_until, Bird, Fabric, Frr};

/// The peer's route we watch.
const FRR_ROUTE: &str = "10.99.200.0/24";
const BIRD_ROUTE: &str = "10.99.201.0/24";
/// BFD detection time (300 ms x 3) plus generous slack for a loaded machine; still a third
/// of the 9 s hold time.
const FAILOVER_LIMIT: Duration = Duration::from_secs(3);

/// Sends SIGCONT to the frozen PIDs when dropped (also when an assertion fails).
struct Frozen(Vec<u32>);

impl Frozen {
    fn freeze(pids: Vec<u32>) -> Frozen {
        for p in &pids {
            run("kill", &["-STOP", &p.to_string()]).expect("SIGSTOP");
        }
        Frozen(pids)
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = run("kill", &["-CONT", &p.to_string()]);
        }
    }
}

fn start_ours(fab: &Fabric, peer_as: u32) -> Bgpd {
    start_ours_with(fab, peer_as, "")
}

/// Our bgpd (AS 65001) with one BFD neighbor; `extra`: more TOML lines for it.
fn start_ours_with(fab: &Fabric, peer_as: u32, extra: &str) -> Bgpd {
    let (us, peer) = (fab.node(1), fab.node(2));
    let mut n = BgpdNeighbor::new("peer", &peer.v4.to_string(), peer_as);
    n.extra = format!("bfd = true\nbfd_interval_ms = 300\nbfd_multiplier = 3\n{extra}");
    let cfg = BgpdConfig {
        router_id: us.v4.to_string(),
        local_as: 65001,
        listen: vec![us.v4.to_string()],
        neighbors: vec![n],
    };
    Bgpd::start(&us.ns, &cfg).expect("our bgpd starts")
}

fn has_route(bgpd: &Bgpd, prefix: &str) -> bool {
    bgpd.show(false, "show route")
        .map(|t| t.contains(prefix))
        .unwrap_or(false)
}

/// Our `show protocols all peer` says the BFD session is Up.
fn our_bfd_up(bgpd: &Bgpd) -> bool {
    bgpd.show(false, "show protocols all peer")
        .map(|t| t.contains("BFD session:      Up"))
        .unwrap_or(false)
}

/// Freezes `pids`, then measures until `prefix` has left our RIB; checks the cause.
fn freeze_and_check_failover(bgpd: &Bgpd, peer: &str, prefix: &str, pids: Vec<u32>) {
    let downs_before = bgpd.events("down", Some(peer)).len();
    let frozen = Frozen::freeze(pids);
    let t0 = Instant::now();
    wait_until(
        "the route to leave our RIB",
        Duration::from_secs(15),
        || Ok(!has_route(bgpd, prefix)),
    )
    .expect("route withdrawn");
    let took = t0.elapsed();
    let down = bgpd
        .wait_event("down", peer, downs_before + 1, Duration::from_secs(1))
        .expect("session down");
    assert_eq!(
        down["fields"]["reason"].as_str(),
        Some("BFD session down"),
        "{down}"
    );
    let sent = bgpd
        .events("notification_sent", Some(peer))
        .last()
        .cloned()
        .expect("NOTIFICATION sent");
    assert_eq!(
        (
            sent["fields"]["code"].as_u64(),
            sent["fields"]["subcode"].as_u64()
        ),
        (Some(6), Some(10)),
        "{sent}"
    );
    assert!(
        took < FAILOVER_LIMIT,
        "route withdrawn after {took:?}, BFD should take about 0.9 s"
    );
    eprintln!("failover: route withdrawn {took:?} after the peer froze");
    let state = bgpd
        .show(false, "show protocols all peer")
        .unwrap_or_default();
    assert!(state.contains("Error: BFD session down"), "{state}");
    drop(frozen);
}

#[test]
fn frr_bfd_comes_up_and_a_frozen_frr_is_detected_within_the_detection_time() {
    let test = "frr_bfd_comes_up_and_a_frozen_frr_is_detected_within_the_detection_time";
    if !require_root(test) {
        return;
    }
    let fab = Fabric::new("bfd-f", 2).expect("fabric");
    let (us, peer) = (fab.node(1), fab.node(2));
    let bfdd = "bfd\n profile fast\n  receive-interval 300\n  transmit-interval 300\n  \
                detect-multiplier 3\n !\n!\n";
    let bgpd_conf = format!(
        "hostname frr\nlog stdout informational\nrouter bgp 65002\n bgp router-id {p}\n \
         no bgp ebgp-requires-policy\n no bgp network import-check\n \
         neighbor {u} remote-as 65001\n neighbor {u} timers 3 9\n \
         neighbor {u} timers connect 2\n neighbor {u} bfd\n neighbor {u} bfd profile fast\n \
         address-family ipv4 unicast\n  network {FRR_ROUTE}\n exit-address-family\n",
        p = peer.v4,
        u = us.v4
    );
    let frr = Frr::start_with_bfd(&peer.ns, &bgpd_conf, Some(bfdd)).expect("frr starts");
    let bgpd = start_ours(&fab, 65002);
    let p = peer.v4.to_string();
    let u = us.v4.to_string();
    bgpd.wait_established(&p, Duration::from_secs(30))
        .expect("our session Established");
    wait_until("FRR's BFD peer up", Duration::from_secs(15), || {
        let v = frr.vtysh_json("show bfd peers json")?;
        Ok(v.as_array().is_some_and(|a| {
            a.iter()
                .any(|s| s["peer"].as_str() == Some(&u) && s["status"].as_str() == Some("up"))
        }))
    })
    .expect("FRR's BFD session with us is up");
    wait_until("our BFD session Up", Duration::from_secs(15), || {
        Ok(our_bfd_up(&bgpd))
    })
    .expect("our BFD session is Up");
    wait_until("FRR's route in our RIB", Duration::from_secs(30), || {
        Ok(has_route(&bgpd, FRR_ROUTE))
    })
    .expect("route received");
    // FRR agrees on the timers we advertise.
    let peers = frr.vtysh("show bfd peers").unwrap_or_default();
    assert!(peers.contains("Receive interval: 300ms"), "{peers}");
    // Our `show bfd sessions` (BIRD 2's format): Up, 0.3 s interval, 0.9 s detection time.
    let ours = bgpd.show(false, "show bfd sessions").unwrap_or_default();
    let row = ours
        .lines()
        .find(|l| l.trim_start().starts_with(p.as_str()))
        .unwrap_or_default();
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        (cols.get(2), cols.get(4), cols.get(5)),
        (Some(&"Up"), Some(&"0.300"), Some(&"0.900")),
        "{ours}"
    );
    freeze_and_check_failover(&bgpd, &p, FRR_ROUTE, frr.pids());
    // Thawed, FRR's BFD and BGP come back and so does the route.
    bgpd.wait_event("established", &p, 2, Duration::from_secs(60))
        .expect("session re-established");
    wait_until("FRR's route back", Duration::from_secs(30), || {
        Ok(has_route(&bgpd, FRR_ROUTE))
    })
    .expect("route back");
}

#[test]
fn bird2_bfd_comes_up_and_a_frozen_bird_is_detected_within_the_detection_time() {
    let test = "bird2_bfd_comes_up_and_a_frozen_bird_is_detected_within_the_detection_time";
    if !require_root(test) {
        return;
    }
    let fab = Fabric::new("bfd-b", 2).expect("fabric");
    let (us, peer) = (fab.node(1), fab.node(2));
    let conf = format!(
        "router id {p};\nprotocol device {{}}\n\
         protocol static {{ ipv4; route {BIRD_ROUTE} blackhole; }}\n\
         protocol bfd {{ interface \"*\" {{ interval 300 ms; multiplier 3; }}; }}\n\
         protocol bgp peer {{ local {p} as 65003; neighbor {u} as 65001; hold time 9; \
         keepalive time 3; connect retry time 2; error wait time 1, 4; bfd on; \
         ipv4 {{ import all; export all; }}; }}\n",
        p = peer.v4,
        u = us.v4
    );
    let bird = Bird::start(&peer.ns, &conf).expect("bird starts");
    let bgpd = start_ours(&fab, 65003);
    let p = peer.v4.to_string();
    let u = us.v4.to_string();
    bgpd.wait_established(&p, Duration::from_secs(30))
        .expect("our session Established");
    wait_until("BIRD's BFD session Up", Duration::from_secs(15), || {
        let t = bird.birdc("show bfd sessions")?;
        Ok(t.lines()
            .any(|l| l.starts_with(u.as_str()) && l.split_whitespace().nth(2) == Some("Up")))
    })
    .expect("BIRD's BFD session with us is Up");
    wait_until("our BFD session Up", Duration::from_secs(15), || {
        Ok(our_bfd_up(&bgpd))
    })
    .expect("our BFD session is Up");
    wait_until("BIRD's route in our RIB", Duration::from_secs(30), || {
        Ok(has_route(&bgpd, BIRD_ROUTE))
    })
    .expect("route received");
    // BIRD's view of our timers: 0.300 s interval, 0.900 s timeout.
    let sessions = bird.birdc("show bfd sessions").unwrap_or_default();
    assert!(sessions.contains("0.300    0.900"), "{sessions}");
    freeze_and_check_failover(&bgpd, &p, BIRD_ROUTE, vec![bird.pid()]);
    bgpd.wait_event("established", &p, 2, Duration::from_secs(60))
        .expect("session re-established");
}

/// A reload that re-times BFD (500 ms) keeps the BGP session, even on a BFD session that
/// failed before (its past failure is no reason to act again), and the new timers reach the
/// peer by a Poll Sequence: our transmit interval becomes max(500, BIRD's 300 RX) = 0.5 s,
/// our detection time 3 x max(500, BIRD's 300 TX) = 1.5 s.
#[test]
fn bfd_reload_retimes_the_session_without_a_bgp_reset() {
    let test = "bfd_reload_retimes_the_session_without_a_bgp_reset";
    if !require_root(test) {
        return;
    }
    let fab = Fabric::new("bfd-r", 2).expect("fabric");
    let (us, peer) = (fab.node(1), fab.node(2));
    let conf = format!(
        "router id {p};\nprotocol device {{}}\n\
         protocol static {{ ipv4; route {BIRD_ROUTE} blackhole; }}\n\
         protocol bfd {{ interface \"*\" {{ interval 300 ms; multiplier 3; }}; }}\n\
         protocol bgp peer {{ local {p} as 65003; neighbor {u} as 65001; hold time 9; \
         keepalive time 3; connect retry time 2; error wait time 1, 4; bfd on; \
         ipv4 {{ import all; export all; }}; }}\n",
        p = peer.v4,
        u = us.v4
    );
    let bird = Bird::start(&peer.ns, &conf).expect("bird starts");
    let bgpd = start_ours(&fab, 65003);
    let p = peer.v4.to_string();
    let bfd_row = || {
        bgpd.show(false, "show bfd sessions")
            .unwrap_or_default()
            .lines()
            .find(|l| l.trim_start().starts_with(p.as_str()))
            .map(|l| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    bgpd.wait_established(&p, Duration::from_secs(30))
        .expect("our session Established");
    wait_until("our BFD session Up", Duration::from_secs(15), || {
        Ok(our_bfd_up(&bgpd))
    })
    .expect("BFD Up");
    wait_until("BIRD's route", Duration::from_secs(30), || {
        Ok(has_route(&bgpd, BIRD_ROUTE))
    })
    .expect("route received");
    // One failure first.
    freeze_and_check_failover(&bgpd, &p, BIRD_ROUTE, vec![bird.pid()]);
    bgpd.wait_event("established", &p, 2, Duration::from_secs(60))
        .expect("session re-established");
    wait_until("our BFD session Up again", Duration::from_secs(15), || {
        Ok(our_bfd_up(&bgpd))
    })
    .expect("BFD Up again");
    let downs = bgpd.events("down", Some(&p)).len();
    let ups = bgpd.events("established", Some(&p)).len();
    let path = bgpd.dir().join("bgpd.toml");
    let text = std::fs::read_to_string(&path).expect("config");
    let retimed = text.replace("bfd_interval_ms = 300", "bfd_interval_ms = 500");
    assert_ne!(text, retimed);
    std::fs::write(&path, retimed).expect("write config");
    let r = bgpd.show(false, "configure").expect("configure");
    assert!(r.contains("Reconfigured"), "{r}");
    wait_until("BFD re-timed", Duration::from_secs(10), || {
        let row = bfd_row();
        Ok(row.get(4).map(String::as_str) == Some("0.500")
            && row.get(5).map(String::as_str) == Some("1.500"))
    })
    .unwrap_or_else(|e| panic!("{e}: {:?}", bfd_row()));
    // BIRD followed the Poll: its timeout is 3 x our new 500 ms TX.
    wait_until("BIRD's timeout 1.5 s", Duration::from_secs(10), || {
        Ok(bird
            .birdc("show bfd sessions")?
            .lines()
            .any(|l| l.split_whitespace().nth(5) == Some("1.500")))
    })
    .unwrap_or_else(|e| panic!("{e}: {:?}", bird.birdc("show bfd sessions")));
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(bgpd.events("down", Some(&p)).len(), downs, "no BGP reset");
    assert_eq!(bgpd.events("established", Some(&p)).len(), ups);
    assert!(our_bfd_up(&bgpd));
}

/// iBGP as in a Calico mesh: BIRD runs BFD multihop for every multihop BGP session (iBGP is
/// multihop 64 by default) on UDP 4784 (RFC 5883); ours with `bfd_multihop = true`.
#[test]
fn bird2_ibgp_multihop_bfd_comes_up_and_a_frozen_bird_is_detected() {
    let test = "bird2_ibgp_multihop_bfd_comes_up_and_a_frozen_bird_is_detected";
    if !require_root(test) {
        return;
    }
    let fab = Fabric::new("bfd-m", 2).expect("fabric");
    let (us, peer) = (fab.node(1), fab.node(2));
    let conf = format!(
        "router id {p};\nprotocol device {{}}\n\
         protocol static {{ ipv4; route {BIRD_ROUTE} blackhole; }}\n\
         protocol bfd {{ multihop {{ interval 300 ms; multiplier 3; }}; }}\n\
         protocol bgp peer {{ local {p} as 65001; neighbor {u} as 65001; hold time 9; \
         keepalive time 3; connect retry time 2; error wait time 1, 4; bfd on; \
         ipv4 {{ import all; export all; }}; }}\n",
        p = peer.v4,
        u = us.v4
    );
    let bird = Bird::start(&peer.ns, &conf).expect("bird starts");
    let bgpd = start_ours_with(&fab, 65001, "bfd_multihop = true\n");
    let p = peer.v4.to_string();
    let u = us.v4.to_string();
    bgpd.wait_established(&p, Duration::from_secs(30))
        .expect("our session Established");
    wait_until(
        "BIRD's multihop BFD session Up",
        Duration::from_secs(15),
        || {
            let t = bird.birdc("show bfd sessions")?;
            // Multihop: no interface (`---`).
            Ok(t.lines().any(|l| {
                let c: Vec<&str> = l.split_whitespace().collect();
                c.first() == Some(&u.as_str())
                    && c.get(1) == Some(&"---")
                    && c.get(2) == Some(&"Up")
            }))
        },
    )
    .unwrap_or_else(|e| panic!("{e}: {:?}", bird.birdc("show bfd sessions")));
    wait_until("our BFD session Up", Duration::from_secs(15), || {
        Ok(our_bfd_up(&bgpd))
    })
    .expect("our BFD session is Up");
    wait_until("BIRD's route in our RIB", Duration::from_secs(30), || {
        Ok(has_route(&bgpd, BIRD_ROUTE))
    })
    .expect("route received");
    freeze_and_check_failover(&bgpd, &p, BIRD_ROUTE, vec![bird.pid()]);
}

/// `bfd_graceful` with graceful restart negotiated (BIRD's `bfd graceful`): on BFD Down the
/// connection is closed without a NOTIFICATION and the peer's routes stay, stale, as for a
/// restarting peer (RFC 4724 §4.2), instead of being withdrawn.
#[test]
fn bfd_graceful_keeps_the_routes_of_a_frozen_graceful_restart_peer() {
    let test = "bfd_graceful_keeps_the_routes_of_a_frozen_graceful_restart_peer";
    if !require_root(test) {
        return;
    }
    let fab = Fabric::new("bfd-g", 2).expect("fabric");
    let (us, peer) = (fab.node(1), fab.node(2));
    let conf = format!(
        "router id {p};\nprotocol device {{}}\n\
         protocol static {{ ipv4; route {BIRD_ROUTE} blackhole; }}\n\
         protocol bfd {{ interface \"*\" {{ interval 300 ms; multiplier 3; }}; }}\n\
         protocol bgp peer {{ local {p} as 65003; neighbor {u} as 65001; hold time 9; \
         keepalive time 3; connect retry time 2; error wait time 1, 4; bfd on; \
         graceful restart on; ipv4 {{ import all; export all; }}; }}\n",
        p = peer.v4,
        u = us.v4
    );
    let bird = Bird::start(&peer.ns, &conf).expect("bird starts");
    let bgpd = start_ours_with(
        &fab,
        65003,
        "bfd_graceful = true\ngraceful_restart = true\n",
    );
    let p = peer.v4.to_string();
    bgpd.wait_established(&p, Duration::from_secs(30))
        .expect("our session Established");
    wait_until("our BFD session Up", Duration::from_secs(15), || {
        Ok(our_bfd_up(&bgpd))
    })
    .expect("BFD Up");
    wait_until("BIRD's route", Duration::from_secs(30), || {
        Ok(has_route(&bgpd, BIRD_ROUTE))
    })
    .expect("route received");
    let sent_before = bgpd.events("notification_sent", Some(&p)).len();
    let frozen = Frozen::freeze(vec![bird.pid()]);
    let down = bgpd
        .wait_event("down", &p, 1, Duration::from_secs(5))
        .expect("session down within the BFD detection time");
    assert_eq!(
        down["fields"]["reason"].as_str(),
        Some("BFD session down"),
        "{down}"
    );
    assert_eq!(
        bgpd.events("notification_sent", Some(&p)).len(),
        sent_before,
        "no NOTIFICATION on a graceful BFD down"
    );
    // Kept as stale routes (BIRD's restart time is 120 s), well past the detection time.
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        has_route(&bgpd, BIRD_ROUTE),
        "route kept while the peer restarts"
    );
    drop(frozen);
    bgpd.wait_event("established", &p, 2, Duration::from_secs(60))
        .expect("session re-established");
}
