//! Our graceful-restart recovery (`bgpd -R`, as calico-node starts BIRD: `bird -R`) with a real
//! BIRD 2.0.12 peer, read through our control socket by Calico's readiness parser.
//!
//! Our first run announces blocks 10.64.1.0/26 and 10.64.5.0/26 to BIRD (graceful restart on
//! both sides) and is killed (no NOTIFICATION): BIRD keeps them, stale. The second run starts
//! with `-R`, announces 10.64.1.0/26 and 10.64.3.0/26, and has a second graceful-restart peer
//! (10.99.0.3) that never comes up, so the recovery lasts until its wait timer. During the
//! recovery: `show status` has the `0024` lines, BIRD's row is `wait` with `GR recovery:
//! waiting` (its End-of-RIB arrived), Calico's `GRInProgress` is true and the young-node
//! readiness fails; BIRD still has our old routes (stale) and not the new block: our export is
//! deferred, while BIRD's routes reach us. When the timer runs out: the rows are `up`, no `0024`,
//! BIRD gets the new block and, with our End-of-RIB, drops the one we no longer announce.
//!
//! A second test has both peers up, one of them a graceful-restart-aware loadgen peer that holds
//! its End-of-RIB: Calico's young-node readiness answers "graceful restart in progress" (all
//! peers Established, `0024` present), neither peer gets our routes; its End-of-RIB ends the
//! recovery at once and readiness turns ready. Others: disabling the peer that never comes ends
//! the recovery (as in BIRD); with kernel writes on, the kernel routes of the previous run all
//! stay through the recovery (past the FIB's own 15 s startup wait) and the stale one goes only
//! after it.
//!
//! Those tests run with `[graceful_restart] recovery = "all-peers"` (BIRD's behaviour: the peer
//! that never comes holds the recovery until the wait timer). The default, `established-peers`,
//! has its own test here (the dead peer refuses our connection and stops holding the recovery
//! at once) and, under BIRD's command line beside BIRD 1.6.8, in `dropin_gr.rs`.

mod control_calico;
mod routes_common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use control_calico as calico;
use interop_tests::process::Proc;
use interop_tests::tempdir::TempDir;
use interop_tests::{require_root, wait_until, Bird, Fabric, Netns};
use routes_common as rc;

const AS: u32 = 64512;
/// Our recovery's wait timer (BIRD's default is 240 s).
const WAIT_S: u64 = 20;

fn bird_conf() -> String {
    bird_conf_with(&["10.64.2.0/26"])
}

fn bird_conf_with(statics: &[&str]) -> String {
    rc::bird_conf(
        "10.99.0.2",
        statics,
        &[("Mesh_10_99_0_1", "10.99.0.2", AS, "10.99.0.1", AS)],
    )
    .replace(
        "  hold time 9;\n",
        "  hold time 9;\n  graceful restart on;\n  graceful restart time 90;\n",
    )
}

/// Our daemon started with `-R`: its own process, configuration and control socket.
struct Restarted {
    proc: Proc,
    dir: TempDir,
}

impl Restarted {
    fn start(ns: &Netns, neighbors: &[&str], blocks: &str) -> Restarted {
        Self::start_waiting(ns, neighbors, blocks, WAIT_S)
    }

    fn start_waiting(ns: &Netns, neighbors: &[&str], blocks: &str, wait_s: u64) -> Restarted {
        Self::start_with(ns, neighbors, blocks, Some(wait_s), false, true)
    }

    /// `recovery`: `-R` with this wait; `kernel`: kernel writes on (routes kept at stop), a
    /// pool over the test blocks; `all_peers`: `[graceful_restart] recovery = "all-peers"`
    /// (otherwise the default, `established-peers`).
    fn start_with(
        ns: &Netns,
        neighbors: &[&str],
        blocks: &str,
        recovery: Option<u64>,
        kernel: bool,
        all_peers: bool,
    ) -> Restarted {
        let config = rc::ours(
            "10.99.0.1",
            AS,
            &["10.99.0.1"],
            &neighbors
                .iter()
                .map(|a| (*a, AS, "graceful_restart = true\n"))
                .collect::<Vec<_>>(),
        );
        let dir = TempDir::new("bgpd-gr").expect("temp dir");
        let mut toml = format!(
            "local_blocks = [{blocks}]\n{}",
            config.to_toml(&dir).expect("toml")
        );
        if kernel {
            toml = format!(
                "ip_pools = [{{ cidr = \"10.64.0.0/16\", ipip_mode = \"Never\" }}]\n{}",
                toml.replacen(
                    "[kernel]\nenable_writes = false\n",
                    "[kernel]\nenable_writes = true\npersist_on_stop = true\n",
                    1
                )
            );
            assert!(toml.contains("enable_writes = true"), "{toml}");
        }
        if all_peers {
            toml.push_str("\n[graceful_restart]\nrecovery = \"all-peers\"\n");
        }
        let conf = dir.write("bgpd.toml", &toml).expect("config");
        let bin = interop_tests::bgpd::binary().expect("bgpd binary");
        let bin = bin.to_str().expect("utf-8").to_owned();
        let mut argv = vec![
            bin,
            "-c".into(),
            conf.to_str().expect("utf-8").to_owned(),
            "--log-format".into(),
            "json".into(),
        ];
        if let Some(wait) = recovery {
            argv.extend([
                "-R".into(),
                "--graceful-restart-wait".into(),
                wait.to_string(),
            ]);
        }
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let proc = Proc::spawn_in(ns, "bgpd-r", &argv, dir.path()).expect("bgpd starts");
        let r = Restarted { proc, dir };
        wait_until(
            "bgpd -R to serve its socket",
            Duration::from_secs(10),
            || Ok(r.sock().exists()),
        )
        .expect("socket");
        r
    }

    fn sock(&self) -> PathBuf {
        self.dir.path().join("bgpd.ctl")
    }

    fn events(&self, event: &str) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.proc.stderr_path())
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["fields"]["event"].as_str() == Some(event))
            .collect()
    }
}

/// The raw reply to `cmd` (greeting included).
fn raw(socket: &Path, cmd: &str) -> String {
    let mut c = calico::Conn::dial(socket).expect("dial");
    c.write(&format!("{cmd}\n")).expect("write");
    let mut out = String::new();
    let mut finals = 0;
    while let Ok(Some(l)) = c.line() {
        out += &l;
        out.push('\n');
        let b = l.as_bytes();
        if b.len() >= 5 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b' ' {
            finals += 1;
            if finals == 2 {
                break;
            }
        }
    }
    out
}

fn row<'a>(peers: &'a [calico::BirdPeer], ip: &str) -> Option<&'a calico::BirdPeer> {
    peers.iter().find(|p| p.peer_ip == ip)
}

#[test]
fn restarting_with_dash_r_defers_our_export_until_recovery_and_calico_waits() {
    if !require_root("restarting_with_dash_r_defers_our_export_until_recovery_and_calico_waits") {
        return;
    }
    let fabric = Fabric::new(&format!("cgr-{}", std::process::id()), 3).expect("fabric");
    let bird = Bird::start(&fabric.node(2).ns, &bird_conf()).expect("bird starts");
    let mut first = rc::start_ours(
        &fabric.node(1).ns,
        &rc::ours(
            "10.99.0.1",
            AS,
            &["10.99.0.1"],
            &[("10.99.0.2", AS, "graceful_restart = true\n")],
        ),
        "local_blocks = [\"10.64.1.0/26\", \"10.64.5.0/26\"]\n",
    );
    let bird_routes = || bird.birdc("show route").unwrap_or_default();
    rc::converge(
        "BIRD learns both our blocks",
        || rc::bird_has(&bird, "10.64.1.0/26") && rc::bird_has(&bird, "10.64.5.0/26"),
        bird_routes,
    );

    // Killed: no NOTIFICATION, BIRD keeps our routes as stale (it negotiated GR with us).
    interop_tests::command::run("kill", &["-KILL", &first.proc().pid().to_string()]).expect("kill");
    wait_until("BIRD to see us go", Duration::from_secs(15), || {
        Ok(bird.bgp_state("10.99.0.1")?.as_deref() != Some("Established"))
    })
    .expect("BIRD sees the session down");
    drop(first);
    assert!(
        rc::bird_has(&bird, "10.64.5.0/26"),
        "stale routes kept by BIRD:\n{}",
        bird_routes()
    );

    let ours = Restarted::start(
        &fabric.node(1).ns,
        &["10.99.0.2", "10.99.0.3"],
        "\"10.64.1.0/26\", \"10.64.3.0/26\"",
    );
    let sock = ours.sock();
    let started = std::time::Instant::now();
    // BIRD up with us, its End-of-RIB received: its row waits, nothing pending for it.
    let waiting = || {
        let peers = calico::get_peers(&sock, '.').unwrap_or_default();
        row(&peers, "10.99.0.2").is_some_and(|p| p.state == "wait" && p.bgp_state == "Established")
            && raw(&sock, "show protocols all Mesh_10_99_0_2")
                .lines()
                .any(|l| l == "   GR recovery:    waiting")
    };
    wait_until(
        "BIRD's session up and waiting for our recovery",
        Duration::from_secs(15),
        || Ok(waiting()),
    )
    .unwrap_or_else(|e| {
        panic!(
            "{e}\n{}\n{}",
            raw(&sock, "show protocols"),
            raw(&sock, "show protocols all Mesh_10_99_0_2")
        )
    });
    assert!(
        started.elapsed() < Duration::from_secs(WAIT_S - 5),
        "enough of the window left"
    );
    let status = raw(&sock, "show status");
    let protocols = raw(&sock, "show protocols");
    let detail = raw(&sock, "show protocols all Mesh_10_99_0_2");
    eprintln!("--- during recovery:\n{status}{protocols}{detail}");
    let lines: Vec<&str> = status.lines().collect();
    assert_eq!(
        lines[6], "0024-Graceful restart recovery in progress",
        "{status}"
    );
    assert_eq!(
        lines[7], "   Waiting for 1 protocols to recover",
        "{status}"
    );
    assert!(
        lines[8].starts_with("   Wait timer is ") && lines[8].ends_with(&format!("/{WAIT_S}")),
        "{status}"
    );
    assert_eq!(lines[9], "0013 Daemon is up and running");
    assert!(
        protocols.contains(" Mesh_10_99_0_3 BGP      master   start  "),
        "{protocols}"
    );
    assert!(
        raw(&sock, "show protocols all Mesh_10_99_0_3")
            .lines()
            .any(|l| l == "   GR recovery:    pending"),
        "the peer that never came holds the recovery"
    );
    // Calico: GR in progress; the young node is not ready.
    assert_eq!(calico::gr_in_progress(&sock), Ok(true));
    assert_eq!(
        calico::readiness(&sock, '.', true),
        Err("BGP not established with 10.99.0.3".into())
    );
    // Import is not deferred: BIRD's block is ours already.
    let our_routes = || {
        interop_tests::command::run(
            "/usr/sbin/birdc",
            &["-s", sock.to_str().expect("utf-8"), "show", "route"],
        )
        .unwrap_or_default()
    };
    rc::converge(
        "BIRD's block in our RIB during the recovery",
        || our_routes().contains("10.64.2.0/26"),
        our_routes,
    );
    // Export is: BIRD still has our previous run's routes and not the new block.
    let b = bird_routes();
    assert!(
        b.contains("10.64.1.0/26") && b.contains("10.64.5.0/26") && !b.contains("10.64.3.0/26"),
        "BIRD during our recovery:\n{b}"
    );

    // The wait timer ends the recovery.
    wait_until(
        "our recovery to end",
        Duration::from_secs(WAIT_S + 10),
        || Ok(calico::gr_in_progress(&sock) == Ok(false)),
    )
    .expect("recovery over");
    let done = ours.events("graceful_restart_done");
    assert_eq!(done.len(), 1, "{done:?}");
    assert_eq!(done[0]["fields"]["still_waiting_for"].as_u64(), Some(1));
    let peers = calico::get_peers(&sock, '.').expect("peers");
    assert_eq!(
        row(&peers, "10.99.0.2").map(|p| p.state.as_str()),
        Some("up")
    );
    assert!(!raw(&sock, "show protocols all Mesh_10_99_0_2").contains("GR recovery"));
    assert_eq!(calico::readiness(&sock, '.', false), Ok(()));
    rc::converge(
        "BIRD gets the new block and drops the one we no longer announce",
        || {
            rc::bird_has(&bird, "10.64.1.0/26")
                && rc::bird_has(&bird, "10.64.3.0/26")
                && !rc::bird_has(&bird, "10.64.5.0/26")
        },
        bird_routes,
    );
    // The session to BIRD was never reset by the end of the recovery.
    assert_eq!(ours.events("established").len(), 1);
}

/// Environment of [`held_peer`] when the main test runs it inside node 3's namespace: the
/// directory where it reports and waits for orders.
const HELD_PEER_DIR: &str = "CONTROL_GR_HELD_PEER_DIR";

/// Not a test of its own: the main test runs this test binary again inside node 3's namespace
/// (`ip netns exec`) with [`HELD_PEER_DIR`] set, so that the loadgen session below starts
/// there. It is a graceful-restart-aware peer (no Restart State bit) that holds its End-of-RIB:
/// up, it writes `up`; it writes `held` (how many of our prefixes it has) every 100 ms; it sends
/// End-of-RIB once the file `send-eor` exists.
#[test]
fn held_peer() {
    let Ok(dir) = std::env::var(HELD_PEER_DIR) else {
        return;
    };
    let dir = PathBuf::from(dir);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let spec = interop_tests::loadgen::PeerSpec {
            local: "10.99.0.3".parse().expect("addr"),
            remote: "10.99.0.1".parse().expect("addr"),
            local_as: AS,
            remote_as: AS,
            hold_time: 9,
        };
        let session = interop_tests::loadgen::Session::connect(
            spec,
            Default::default(),
            Duration::from_secs(30),
        )
        .await
        .expect("session with our daemon");
        std::fs::write(dir.join("up"), "").expect("report");
        let mut sent = false;
        loop {
            let held = session.stats().held();
            std::fs::write(dir.join("held"), held.to_string()).expect("report");
            if !sent && dir.join("send-eor").exists() {
                let eor = bgp_proto::builder::end_of_rib(bgp_proto::Family::Ipv4Unicast);
                session.send(&eor).await.expect("End-of-RIB");
                sent = true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
}

/// Both peers up, one of them (a loadgen peer, graceful-restart aware) not done sending its
/// table: Calico's young-node readiness says "graceful restart in progress" until its
/// End-of-RIB ends our recovery, long before the wait timer; our routes reach it only then.
#[test]
fn calico_sees_graceful_restart_in_progress_until_the_last_end_of_rib() {
    if !require_root("calico_sees_graceful_restart_in_progress_until_the_last_end_of_rib") {
        return;
    }
    let wait_s = 60;
    let fabric = Fabric::new(&format!("cgh-{}", std::process::id()), 3).expect("fabric");
    let bird = Bird::start(&fabric.node(2).ns, &bird_conf()).expect("bird starts");
    let ours = Restarted::start_waiting(
        &fabric.node(1).ns,
        &["10.99.0.2", "10.99.0.3"],
        "\"10.64.1.0/26\"",
        wait_s,
    );
    let started = std::time::Instant::now();
    let peer_dir = TempDir::new("held-peer").expect("temp dir");
    let exe = std::env::current_exe().expect("test binary");
    let env = format!("{HELD_PEER_DIR}={}", peer_dir.path().display());
    let _peer = Proc::spawn_in(
        &fabric.node(3).ns,
        "held-peer",
        &[
            "env",
            &env,
            exe.to_str().expect("utf-8"),
            "--exact",
            "held_peer",
            "--nocapture",
        ],
        peer_dir.path(),
    )
    .expect("held peer starts");
    let sock = ours.sock();
    let held = || {
        std::fs::read_to_string(peer_dir.path().join("held"))
            .ok()
            .and_then(|t| t.trim().parse::<usize>().ok())
    };
    wait_until(
        "both sessions up, BIRD's End-of-RIB in",
        Duration::from_secs(20),
        || {
            let peers = calico::get_peers(&sock, '.').unwrap_or_default();
            Ok(peers.len() == 2
                && peers.iter().all(|p| p.bgp_state == "Established")
                && raw(&sock, "show protocols all Mesh_10_99_0_2")
                    .lines()
                    .any(|l| l == "   GR recovery:    waiting"))
        },
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", raw(&sock, "show protocols")));
    let detail = raw(&sock, "show protocols all Mesh_10_99_0_3");
    eprintln!(
        "--- a peer without End-of-RIB yet:\n{}{}{detail}",
        raw(&sock, "show status"),
        raw(&sock, "show protocols")
    );
    assert!(
        detail
            .lines()
            .any(|l| l == "   GR recovery:    pending waiting"),
        "{detail}"
    );
    assert_eq!(
        calico::readiness(&sock, '.', true),
        Err("graceful restart in progress".into())
    );
    assert_eq!(
        calico::readiness(&sock, '.', false),
        Ok(()),
        "an old node is ready"
    );
    // Our export waits, to both peers.
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(held(), Some(0), "the held peer got nothing from us yet");
    assert!(!rc::bird_has(&bird, "10.64.1.0/26"), "neither did BIRD");

    // Its End-of-RIB ends our recovery at once.
    std::fs::write(peer_dir.path().join("send-eor"), "").expect("order");
    wait_until(
        "the End-of-RIB to end our recovery",
        Duration::from_secs(10),
        || Ok(calico::gr_in_progress(&sock) == Ok(false)),
    )
    .expect("recovery over");
    assert!(
        started.elapsed() < Duration::from_secs(wait_s - 20),
        "ended by End-of-RIB, not by the timer"
    );
    let done = ours.events("graceful_restart_done");
    assert_eq!(done.len(), 1, "{done:?}");
    assert_eq!(done[0]["fields"]["still_waiting_for"].as_u64(), Some(0));
    assert_eq!(calico::readiness(&sock, '.', true), Ok(()));
    let peers = calico::get_peers(&sock, '.').expect("peers");
    assert!(peers.iter().all(|p| p.state == "up"), "{peers:?}");
    rc::converge(
        "BIRD gets our block",
        || rc::bird_has(&bird, "10.64.1.0/26"),
        || bird.birdc("show route").unwrap_or_default(),
    );
    wait_until(
        "the held peer gets our block",
        Duration::from_secs(10),
        || Ok(held() == Some(1)),
    )
    .expect("our block at the held peer");
}

/// The default recovery (`established-peers`): the peer that never comes (nothing listens at
/// 10.99.0.3: our connection is refused) stops holding the recovery at once, so it ends with
/// BIRD's End-of-RIB, long before the wait timer; Calico's `GRInProgress` turns false and BIRD
/// gets our block. The log says which peer was let go and why.
#[test]
fn by_default_a_peer_that_refuses_our_connection_does_not_hold_the_recovery() {
    if !require_root("by_default_a_peer_that_refuses_our_connection_does_not_hold_the_recovery") {
        return;
    }
    let wait_s = 60;
    let fabric = Fabric::new(&format!("cge-{}", std::process::id()), 3).expect("fabric");
    let bird = Bird::start(&fabric.node(2).ns, &bird_conf()).expect("bird starts");
    let started = std::time::Instant::now();
    let ours = Restarted::start_with(
        &fabric.node(1).ns,
        &["10.99.0.2", "10.99.0.3"],
        "\"10.64.1.0/26\"",
        Some(wait_s),
        false,
        false,
    );
    let sock = ours.sock();
    wait_until("the recovery to end", Duration::from_secs(20), || {
        Ok(calico::gr_in_progress(&sock) == Ok(false))
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", raw(&sock, "show status")));
    assert!(started.elapsed() < Duration::from_secs(wait_s / 2));
    let released = ours.events("graceful_restart_peer_released");
    assert_eq!(released.len(), 1, "{released:?}");
    assert_eq!(
        released[0]["fields"]["reason"].as_str(),
        Some("connect_failed")
    );
    assert_eq!(
        released[0]["fields"]["neighbor"].as_str(),
        Some("Mesh_10_99_0_3")
    );
    let done = ours.events("graceful_restart_done");
    assert_eq!(done[0]["fields"]["still_waiting_for"].as_u64(), Some(0));
    let peers = calico::get_peers(&sock, '.').expect("show protocols");
    assert_eq!(
        row(&peers, "10.99.0.2").map(|p| (p.state.as_str(), p.bgp_state.as_str())),
        Some(("up", "Established"))
    );
    rc::converge(
        "BIRD gets our block",
        || rc::bird_has(&bird, "10.64.1.0/26"),
        || bird.birdc("show route").unwrap_or_default(),
    );
}

/// As in BIRD, a peer the operator disables stops holding the recovery: disabling the peer that
/// never comes ends it at once, long before the wait timer.
#[test]
fn disabling_the_peer_that_never_comes_ends_the_recovery() {
    if !require_root("disabling_the_peer_that_never_comes_ends_the_recovery") {
        return;
    }
    let wait_s = 60;
    let fabric = Fabric::new(&format!("cgd-{}", std::process::id()), 3).expect("fabric");
    let bird = Bird::start(&fabric.node(2).ns, &bird_conf()).expect("bird starts");
    let ours = Restarted::start_waiting(
        &fabric.node(1).ns,
        &["10.99.0.2", "10.99.0.3"],
        "\"10.64.1.0/26\"",
        wait_s,
    );
    let started = std::time::Instant::now();
    let sock = ours.sock();
    wait_until("BIRD's session waiting", Duration::from_secs(20), || {
        Ok(raw(&sock, "show protocols all Mesh_10_99_0_2")
            .lines()
            .any(|l| l == "   GR recovery:    waiting"))
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", raw(&sock, "show protocols")));
    assert_eq!(calico::gr_in_progress(&sock), Ok(true));
    let s = sock.to_str().expect("utf-8");
    let (rc, out, _) = calico::run(&calico::bgpctl(), &["-s", s, "disable", "Mesh_10_99_0_3"]);
    assert_eq!(
        (rc, out.as_str()),
        (
            0,
            calico::client_output("Mesh_10_99_0_3: disabled").as_str()
        )
    );
    wait_until("the recovery to end", Duration::from_secs(5), || {
        Ok(calico::gr_in_progress(&sock) == Ok(false))
    })
    .expect("recovery over");
    assert!(started.elapsed() < Duration::from_secs(wait_s - 20));
    let done = ours.events("graceful_restart_done");
    assert_eq!(done[0]["fields"]["still_waiting_for"].as_u64(), Some(0));
    rc::converge(
        "BIRD gets our block",
        || rc::bird_has(&bird, "10.64.1.0/26"),
        || bird.birdc("show route").unwrap_or_default(),
    );
}

/// Our routes of the previous run in the kernel (kernel writes on, `persist_on_stop`): with
/// `-R` the FIB keeps them all through the recovery, also past its own startup wait (15 s),
/// and removes the one nobody announces any more only once the recovery is over.
#[test]
fn kernel_routes_of_the_previous_run_stay_until_the_recovery_ends() {
    if !require_root("kernel_routes_of_the_previous_run_stay_until_the_recovery_ends") {
        return;
    }
    let wait_s = 25;
    let fabric = Fabric::new(&format!("cgk-{}", std::process::id()), 3).expect("fabric");
    let ns = &fabric.node(1).ns;
    let bird = Bird::start(
        &fabric.node(2).ns,
        &bird_conf_with(&["10.64.2.0/26", "10.64.4.0/26"]),
    )
    .expect("bird starts");
    let kernel = || {
        ns.ip(&["-4", "route", "show", "proto", "bird"])
            .unwrap_or_default()
    };
    let has = |prefix: &str| {
        kernel()
            .lines()
            .any(|l| l.starts_with(&format!("{prefix} via 10.99.0.2")))
    };
    let mut first = Restarted::start_with(ns, &["10.99.0.2"], "\"10.64.1.0/26\"", None, true, true);
    rc::converge(
        "BIRD's blocks in our kernel",
        || has("10.64.2.0/26") && has("10.64.4.0/26"),
        kernel,
    );
    interop_tests::command::run("kill", &["-KILL", &first.proc.pid().to_string()]).expect("kill");
    let _ = first.proc.check_alive();
    drop(first);
    assert!(has("10.64.4.0/26"), "killed: the routes stay\n{}", kernel());
    // While we are away BIRD stops announcing one block.
    std::fs::write(
        bird.dir().join("bird.conf"),
        bird_conf_with(&["10.64.2.0/26"]),
    )
    .expect("bird config");
    bird.birdc("configure").expect("birdc configure");

    // Before the start: the daemon's timers start later than this.
    let started = std::time::Instant::now();
    let ours = Restarted::start_with(
        ns,
        &["10.99.0.2", "10.99.0.3"],
        "\"10.64.1.0/26\"",
        Some(wait_s),
        true,
        true,
    );
    let sock = ours.sock();
    wait_until(
        "past the FIB's own startup wait",
        Duration::from_secs(30),
        || Ok(started.elapsed() >= Duration::from_secs(18)),
    )
    .expect("time");
    assert_eq!(calico::gr_in_progress(&sock), Ok(true));
    assert!(
        has("10.64.2.0/26") && has("10.64.4.0/26"),
        "every route of the previous run kept during the recovery:\n{}",
        kernel()
    );
    let list = raw(&sock, "show protocols");
    assert!(
        list.contains("kernel1  Kernel   master   wait   "),
        "{list}"
    );

    rc::converge(
        "the route nobody announces removed after the recovery",
        || !has("10.64.4.0/26") && has("10.64.2.0/26"),
        kernel,
    );
    assert_eq!(calico::gr_in_progress(&sock), Ok(false));
    // The reconciliation came after the end of the recovery, not at the FIB's 15 s.
    let at = |event: &str| {
        ours.events(event)
            .first()
            .and_then(|e| e["timestamp"].as_str().map(str::to_owned))
            .unwrap_or_else(|| panic!("no {event} event"))
    };
    assert!(
        at("fib_reconciled") >= at("graceful_restart_done"),
        "reconciled at {}, recovery done at {}",
        at("fib_reconciled"),
        at("graceful_restart_done")
    );
    assert!(started.elapsed() >= Duration::from_secs(wait_s - 1));
    wait_until("kernel1 up", Duration::from_secs(5), || {
        Ok(raw(&sock, "show protocols").contains("kernel1  Kernel   master   up     "))
    })
    .expect("kernel1 up");
}
