//! Session scenarios shared by `sessions_bird.rs`, `sessions_frr.rs` and `sessions_gobgp.rs`:
//! our bgpd on node 1, the real peer on node 2 of a two-node fabric. Every scenario asserts on
//! the peer's own view (its CLI and log) as well as ours (bgpd's JSON log).

#![allow(dead_code)] // each test file uses a subset

pub mod scenario;

use std::time::Duration;

use interop_tests::bgpd::{Bgpd, BgpdConfig, BgpdNeighbor};
use interop_tests::command::run;
use interop_tests::{wait_until, Fabric, Node, Result};

/// How long a session may take to come up (GoBGP connects slowly, see LAB.md).
pub const UP: Duration = Duration::from_secs(45);

/// The real peer under test, as the scenarios see it.
pub trait Peer {
    /// The peer's own view: is its session to `us` Established?
    fn is_established(&self, us: &str) -> Result<bool>;
    /// PID of the process that speaks BGP (for SIGSTOP/SIGCONT).
    fn bgp_pid(&mut self) -> u32;
    /// What the peer says about the session to `us`: CLI output plus its log.
    fn session_text(&self, us: &str) -> Result<String>;
    /// Name and version, for messages.
    fn label(&self) -> &'static str;
}

/// A real daemon that can play the peer: starts on node 2 with the configuration the lab's
/// [`Params`] ask for. GoBGP's handle borrows the lab's namespace, hence the lifetime.
pub trait Daemon {
    type Peer<'l>: Peer;
    fn start(lab: &Lab) -> Self::Peer<'_>;
}

/// What differs between scenarios.
#[derive(Debug, Clone)]
pub struct Params {
    pub v6: bool,
    pub our_as: u32,
    pub peer_as: u32,
    /// The AS our bgpd expects of the peer (wrong on purpose in one scenario).
    pub we_expect: u32,
    /// The AS the peer expects of us.
    pub peer_expects: u32,
    pub we_passive: bool,
    pub peer_passive: bool,
    pub password: Option<String>,
    /// The peer's key when it differs from ours (mismatch scenario).
    pub peer_password: Option<String>,
    /// Both sides use GTSM (RFC 5082): TTL 255 sent, lower TTLs dropped.
    pub gtsm: bool,
    /// Our bgpd does not know the peer (it configures a neighbor at node 3's address instead).
    pub unconfigured: bool,
    /// Our bgpd announces graceful restart (peers such as FRR then track End-of-RIB).
    pub graceful_restart: bool,
    /// Our bgpd announces extended messages (RFC 8654).
    pub extended_messages: bool,
}

impl Params {
    /// eBGP 65001 (us) – 65002 (peer) over IPv4; we connect, the peer only listens.
    pub fn ebgp() -> Self {
        Self {
            v6: false,
            our_as: 65001,
            peer_as: 65002,
            we_expect: 65002,
            peer_expects: 65001,
            we_passive: false,
            peer_passive: true,
            password: None,
            peer_password: None,
            gtsm: false,
            unconfigured: false,
            graceful_restart: false,
            extended_messages: false,
        }
    }

    /// We only listen; the peer connects.
    pub fn we_passive() -> Self {
        Self {
            we_passive: true,
            peer_passive: false,
            ..Self::ebgp()
        }
    }

    pub fn ipv6() -> Self {
        Self {
            v6: true,
            ..Self::ebgp()
        }
    }

    pub fn four_octet_as() -> Self {
        Self {
            our_as: 4_200_000_001,
            peer_as: 4_200_000_002,
            we_expect: 4_200_000_002,
            peer_expects: 4_200_000_001,
            ..Self::ebgp()
        }
    }

    pub fn tcp_md5() -> Self {
        Self {
            password: Some("s3cret-bird".into()),
            ..Self::ebgp()
        }
    }

    pub fn gtsm() -> Self {
        Self {
            gtsm: true,
            ..Self::ebgp()
        }
    }

    /// iBGP in one AS, as in a Calico node-to-node mesh.
    pub fn ibgp() -> Self {
        Self {
            our_as: 64512,
            peer_as: 64512,
            we_expect: 64512,
            peer_expects: 64512,
            ..Self::ebgp()
        }
    }

    /// TCP-MD5 over IPv6 with our listener holding the key; the peer connects.
    pub fn tcp_md5_ipv6_we_passive() -> Self {
        Self {
            v6: true,
            password: Some("s3cret-v6".into()),
            we_passive: true,
            peer_passive: false,
            ..Self::ebgp()
        }
    }

    /// The key the peer is configured with.
    pub fn peer_key(&self) -> Option<&str> {
        self.peer_password.as_deref().or(self.password.as_deref())
    }
}

/// Addresses of one scenario.
#[derive(Debug, Clone)]
pub struct Addrs {
    /// Our transport address (IPv4 or IPv6).
    pub us: String,
    /// The peer's transport address.
    pub peer: String,
    pub our_id: String,
    pub peer_id: String,
}

/// A two-node fabric: node 1 runs our bgpd, node 2 the peer.
pub struct Lab {
    pub fab: Fabric,
    pub addrs: Addrs,
    pub params: Params,
}

impl Lab {
    pub fn new(prefix: &str, params: Params) -> Lab {
        let fab = Fabric::new(prefix, 2).expect("fabric");
        let (a, b) = (fab.node(1), fab.node(2));
        let addrs = Addrs {
            us: if params.v6 {
                a.v6.to_string()
            } else {
                a.v4.to_string()
            },
            peer: if params.v6 {
                b.v6.to_string()
            } else {
                b.v4.to_string()
            },
            our_id: a.v4.to_string(),
            peer_id: b.v4.to_string(),
        };
        Lab { fab, addrs, params }
    }

    pub fn our_node(&self) -> &Node {
        self.fab.node(1)
    }

    pub fn peer_node(&self) -> &Node {
        self.fab.node(2)
    }

    pub fn start_bgpd(&self) -> Bgpd {
        let p = &self.params;
        let address = match (p.unconfigured, p.v6) {
            (false, _) => self.addrs.peer.clone(),
            (true, false) => "10.99.0.3".to_owned(),
            (true, true) => "fd99::3".to_owned(),
        };
        let mut n = BgpdNeighbor::new("peer", &address, p.we_expect);
        n.passive = p.we_passive;
        n.password = p.password.clone();
        if p.gtsm {
            n.extra += "ttl_security = true\n";
        }
        if p.graceful_restart {
            n.extra += "graceful_restart = true\n";
        }
        if p.extended_messages {
            n.extra += "extended_messages = true\n";
        }
        let config = BgpdConfig {
            router_id: self.addrs.our_id.clone(),
            local_as: p.our_as,
            listen: vec![self.addrs.us.clone()],
            neighbors: vec![n],
        };
        Bgpd::start(&self.our_node().ns, &config).expect("our bgpd starts")
    }

    /// Cuts (or restores) our node's link at the bridge, so connection attempts from both
    /// sides stay pending and complete together when it comes back.
    pub fn set_link(&self, up: bool) {
        let state = if up { "up" } else { "down" };
        self.fab
            .bridge()
            .ip(&["link", "set", "v1", state])
            .expect("set bridge port");
    }

    /// Outgoing connection attempts (SYN-SENT) to `to` in `node`.
    pub fn syn_sent(node: &Node, to: &str) -> usize {
        let out = node
            .exec(&["ss", "-Htn", "state", "syn-sent"])
            .unwrap_or_default();
        out.lines().filter(|l| l.contains(to)).count()
    }

    /// TCP connections between us and the peer on port 179 that are established, seen from
    /// our namespace.
    pub fn tcp_sessions(&self) -> usize {
        let out = self
            .our_node()
            .exec(&["ss", "-Htn", "state", "established"])
            .unwrap_or_default();
        out.lines()
            .filter(|l| l.contains(&self.addrs.peer) && l.contains(":179"))
            .count()
    }
}

/// Both sides see Established.
pub fn wait_both_up(lab: &Lab, bgpd: &Bgpd, peer: &dyn Peer) {
    bgpd.wait_established(&lab.addrs.peer, UP)
        .expect("our bgpd sees Established");
    wait_until(&format!("{} sees Established", peer.label()), UP, || {
        peer.is_established(&lab.addrs.us)
    })
    .expect("peer sees Established");
}

/// Session comes up and both sides agree; the peer's text is printed for the record.
pub fn established(lab: &Lab, bgpd: &Bgpd, peer: &dyn Peer) {
    wait_both_up(lab, bgpd, peer);
    let ev = bgpd
        .wait_event("established", &lab.addrs.peer, 1, UP)
        .expect("established event");
    assert_eq!(
        ev["fields"]["peer_as"].as_str().map(str::to_owned),
        Some(lab.params.peer_as.to_string()),
        "negotiated peer AS: {ev}"
    );
    assert_eq!(
        ev["fields"]["hold_time"].as_u64(),
        Some(9),
        "hold time: {ev}"
    );
}

fn contains_ci(hay: &str, needle: &str) -> bool {
    hay.to_lowercase().contains(&needle.to_lowercase())
}

/// Waits until the peer's text about the session contains one of `needles`.
pub fn wait_peer_says(lab: &Lab, peer: &dyn Peer, needles: &[&str]) -> String {
    let mut text = String::new();
    let found = wait_until(
        &format!("{} to show one of {needles:?}", peer.label()),
        Duration::from_secs(20),
        || {
            text = peer.session_text(&lab.addrs.us)?;
            Ok(needles.iter().any(|n| contains_ci(&text, n)))
        },
    );
    if let Err(e) = found {
        panic!("{e}\n--- peer says:\n{text}");
    }
    text
}

/// We expect the wrong AS: we send OPEN Message Error / Bad Peer AS, the peer reports it.
pub fn we_reject_wrong_as(lab: &Lab, bgpd: &Bgpd, peer: &dyn Peer, peer_words: &[&str]) {
    let ev = bgpd
        .wait_event("notification_sent", &lab.addrs.peer, 1, UP)
        .expect("we send a NOTIFICATION");
    assert_eq!(ev["fields"]["code"].as_u64(), Some(2), "{ev}");
    assert_eq!(ev["fields"]["subcode"].as_u64(), Some(2), "{ev}");
    wait_peer_says(lab, peer, peer_words);
    assert!(bgpd.events("established", None).is_empty());
}

/// The peer expects the wrong AS: it sends Bad Peer AS, we log it.
pub fn peer_rejects_wrong_as(lab: &Lab, bgpd: &Bgpd, peer: &dyn Peer, peer_words: &[&str]) {
    let ev = bgpd
        .wait_event("notification_received", &lab.addrs.peer, 1, UP)
        .expect("we receive a NOTIFICATION");
    assert_eq!(ev["fields"]["code"].as_u64(), Some(2), "{ev}");
    assert_eq!(ev["fields"]["subcode"].as_u64(), Some(2), "{ev}");
    wait_peer_says(lab, peer, peer_words);
    assert!(bgpd.events("established", None).is_empty());
}

fn signal(pid: u32, sig: &str) {
    run("kill", &[sig, &pid.to_string()]).expect("kill");
}

/// The peer freezes (SIGSTOP): our hold timer (9 s) expires, we send 4/0; after SIGCONT the
/// session comes back.
pub fn hold_timer_expiry(lab: &Lab, bgpd: &Bgpd, peer: &mut dyn Peer) {
    wait_both_up(lab, bgpd, peer);
    let pid = peer.bgp_pid();
    signal(pid, "-STOP");
    // Continue the peer even if an assertion below fails.
    struct Cont(u32);
    impl Drop for Cont {
        fn drop(&mut self) {
            let _ = run("kill", &["-CONT", &self.0.to_string()]);
        }
    }
    let cont = Cont(pid);
    let down = bgpd
        .wait_event("down", &lab.addrs.peer, 1, Duration::from_secs(20))
        .expect("our session goes down");
    assert_eq!(
        down["fields"]["reason"].as_str(),
        Some("hold timer expired"),
        "{down}"
    );
    let sent = bgpd
        .wait_event(
            "notification_sent",
            &lab.addrs.peer,
            1,
            Duration::from_secs(1),
        )
        .expect("NOTIFICATION sent");
    assert_eq!(
        (
            sent["fields"]["code"].as_u64(),
            sent["fields"]["subcode"].as_u64()
        ),
        (Some(4), Some(0)),
        "{sent}"
    );
    drop(cont);
    bgpd.wait_event("established", &lab.addrs.peer, 2, Duration::from_secs(60))
        .expect("session re-established after SIGCONT");
    wait_both_up(lab, bgpd, peer);
}

/// Both sides connect at once: the link is cut until both have a connection attempt pending,
/// then restored. Whatever the exact timing, exactly one TCP session remains and both sides
/// are Established on it. Call with the link down (see [`Lab::set_link`]) and both started.
///
/// `must_collide`: fail when only one TCP connection was ever made (the peer's attempt was
/// abandoned before the link came back). GoBGP times its attempts out on its own schedule, so
/// its runs sometimes make only one connection; they still check the one-session invariant.
pub fn collision(lab: &Lab, bgpd: &Bgpd, peer: &dyn Peer, must_collide: bool) {
    wait_until("both sides to try connecting", UP, || {
        Ok(Lab::syn_sent(lab.our_node(), &lab.addrs.peer) > 0
            && Lab::syn_sent(lab.peer_node(), &lab.addrs.us) > 0)
    })
    .expect("both sides connecting");
    lab.set_link(true);
    wait_both_up(lab, bgpd, peer);
    // Let any second connection finish its OPEN exchange and be resolved.
    wait_until("one TCP session", Duration::from_secs(15), || {
        Ok(lab.tcp_sessions() == 1)
    })
    .expect("exactly one TCP session");
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(lab.tcp_sessions(), 1, "still exactly one TCP session");
    assert_eq!(bgpd.state(&lab.addrs.peer), "Established");
    assert!(peer.is_established(&lab.addrs.us).expect("peer view"));
    assert_eq!(
        bgpd.events("established", Some(&lab.addrs.peer)).len(),
        1,
        "the session never flapped"
    );
    let rejected = bgpd
        .events("notification_sent", None)
        .iter()
        .filter(|v| v["fields"]["code"].as_u64() == Some(6))
        .count();
    let received = bgpd
        .events("notification_received", None)
        .iter()
        .filter(|v| v["fields"]["code"].as_u64() == Some(6))
        .count();
    let tcp = bgpd.events("tcp_up", None).len();
    eprintln!(
        "{}: TCP connections: {tcp}, collisions resolved by us: {}, Cease sent by us: \
         {rejected}, Cease received: {received}",
        peer.label(),
        bgpd.events("collision", None).len()
    );
    if must_collide {
        assert!(
            tcp >= 2,
            "both sides connected ({tcp} TCP connections seen by us)"
        );
    } else if tcp < 2 {
        eprintln!("note: no simultaneous connection in this run, only the invariant was checked");
    }
}

/// Our SIGTERM: Cease / Administrative Shutdown with our message reaches the peer.
pub fn sigterm(lab: &Lab, bgpd: &mut Bgpd, peer: &dyn Peer, peer_words: &[&str]) {
    wait_both_up(lab, bgpd, peer);
    bgpd.proc().stop(Duration::from_secs(5));
    let sent = bgpd.events("notification_sent", Some(&lab.addrs.peer));
    let n = sent.last().expect("we sent a NOTIFICATION on shutdown");
    assert_eq!(
        (
            n["fields"]["code"].as_u64(),
            n["fields"]["subcode"].as_u64()
        ),
        (Some(6), Some(2)),
        "{n}"
    );
    assert_eq!(bgpd.events("exit", None).len(), 1, "clean exit logged");
    wait_peer_says(lab, peer, peer_words);
}

/// A peer we do not know connects: we answer Cease / Connection Rejected and log it.
pub fn unconfigured_peer_rejected(lab: &Lab, bgpd: &Bgpd, peer: &dyn Peer, peer_words: &[&str]) {
    wait_until("our bgpd to reject the peer", UP, || {
        Ok(bgpd.events("rejected", None).iter().any(|v| {
            v["fields"]["peer"]
                .as_str()
                .is_some_and(|p| p.contains(&lab.addrs.peer))
        }))
    })
    .expect("rejected event");
    wait_peer_says(lab, peer, peer_words);
    assert!(bgpd.events("established", None).is_empty());
}

/// Different TCP-MD5 keys: no session comes up on either side within several connect retries.
pub fn md5_mismatch_never_establishes(lab: &Lab, bgpd: &Bgpd, peer: &dyn Peer) {
    let watch = Duration::from_secs(12);
    let up = wait_until("any side Established", watch, || {
        Ok(!bgpd.events("established", None).is_empty()
            || peer.is_established(&lab.addrs.us).unwrap_or(false))
    });
    assert!(up.is_err(), "a session came up despite different keys");
    assert_eq!(
        lab.tcp_sessions(),
        0,
        "no TCP session without the right key"
    );
}
