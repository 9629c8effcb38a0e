//! Our bgpd against GoBGP 3.10 (`/usr/bin/gobgpd`): sessions over IPv4 and IPv6, active and
//! passive, 4-octet AS, TCP-MD5, wrong AS both ways, hold timer expiry, collision, shutdown.
//! GoBGP's view comes from `gobgp neighbor PEER -j` and its log. GoBGP connects slowly (LAB.md).

mod sessions_common;

use interop_tests::Gobgp;
use sessions_common::{scenario, Daemon, Lab, Params, Peer};

struct GobgpPeer<'a> {
    g: Gobgp<'a>,
}

impl Peer for GobgpPeer<'_> {
    fn is_established(&self, us: &str) -> interop_tests::Result<bool> {
        // GoBGP's SessionState: 6 = Established.
        Ok(self.g.session_state(us)? == Some(6))
    }
    fn bgp_pid(&mut self) -> u32 {
        self.g.proc().pid()
    }
    fn session_text(&self, us: &str) -> interop_tests::Result<String> {
        let cli = self.g.gobgp(&["neighbor", us])?;
        // GoBGP logs no code for NOTIFICATIONs it receives before Established; its counter
        // (`gobgp neighbor -j`) is what it shows.
        let v = self.g.gobgp_json(&["neighbor", us])?;
        let rcvd = v["state"]["messages"]["received"]["notification"]
            .as_u64()
            .unwrap_or(0);
        let counter = format!("NOTIFICATIONs received: {rcvd}");
        let dir = self.g.dir();
        let out = std::fs::read_to_string(dir.join("gobgpd.out")).unwrap_or_default();
        let err = std::fs::read_to_string(dir.join("gobgpd.err")).unwrap_or_default();
        Ok(format!("{cli}\n{counter}\n--- log:\n{out}\n{err}"))
    }
    fn label(&self) -> &'static str {
        "GoBGP 3.10.0"
    }
}

fn gobgp_conf(lab: &Lab) -> String {
    let p = &lab.params;
    let a = &lab.addrs;
    let mut s = format!(
        "[global.config]\n  as = {}\n  router-id = \"{}\"\n  local-address-list = [\"{}\"]\n\
         [[neighbors]]\n  [neighbors.config]\n    neighbor-address = \"{}\"\n    peer-as = {}\n",
        p.peer_as, a.peer_id, a.peer, a.us, p.peer_expects
    );
    if let Some(pw) = p.peer_key() {
        s += &format!("    auth-password = \"{pw}\"\n");
    }
    s += "  [neighbors.timers.config]\n    connect-retry = 2\n    hold-time = 9\n    \
          keepalive-interval = 3\n";
    if p.gtsm {
        s += "  [neighbors.ttl-security.config]\n    enabled = true\n    ttl-min = 255\n";
    }
    if p.peer_passive {
        s += "  [neighbors.transport.config]\n    passive-mode = true\n";
    }
    let family = if p.v6 { "ipv6-unicast" } else { "ipv4-unicast" };
    s += &format!(
        "  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = \"{family}\"\n"
    );
    s
}

struct GobgpDaemon;

impl Daemon for GobgpDaemon {
    type Peer<'l> = GobgpPeer<'l>;
    fn start(lab: &Lab) -> Self::Peer<'_> {
        GobgpPeer {
            g: Gobgp::start(&lab.peer_node().ns, &gobgp_conf(lab)).expect("gobgpd starts"),
        }
    }
}

/// GoBGP logs no code for NOTIFICATIONs it receives before Established; its counter (see
/// `session_text`) is what shows ours arrived: one or two, depending on its connection retries.
const NOTIFICATION_COUNTER: &[&str] = &["NOTIFICATIONs received: 1", "NOTIFICATIONs received: 2"];

/// GoBGP times its connection attempts out on its own schedule, so a collision run sometimes
/// makes only one connection; the one-session invariant is still checked.
const MUST_COLLIDE: bool = false;

#[test]
fn gobgp_established_over_ipv4_we_active() {
    scenario::established::<GobgpDaemon>(
        "gobgp_established_over_ipv4_we_active",
        "sg-a4",
        Params::ebgp(),
    );
}

#[test]
fn gobgp_established_over_ipv4_we_passive() {
    scenario::established::<GobgpDaemon>(
        "gobgp_established_over_ipv4_we_passive",
        "sg-p4",
        Params::we_passive(),
    );
}

#[test]
fn gobgp_established_over_ipv6() {
    scenario::established::<GobgpDaemon>("gobgp_established_over_ipv6", "sg-a6", Params::ipv6());
}

#[test]
fn gobgp_established_with_four_octet_as_numbers() {
    scenario::established::<GobgpDaemon>(
        "gobgp_established_with_four_octet_as_numbers",
        "sg-as4",
        Params::four_octet_as(),
    );
}

#[test]
fn gobgp_established_with_tcp_md5() {
    scenario::established::<GobgpDaemon>(
        "gobgp_established_with_tcp_md5",
        "sg-md5",
        Params::tcp_md5(),
    );
}

#[test]
fn gobgp_reports_bad_peer_as_when_we_expect_another_as() {
    scenario::we_reject_wrong_as::<GobgpDaemon>(
        "gobgp_reports_bad_peer_as_when_we_expect_another_as",
        "sg-was",
        NOTIFICATION_COUNTER,
    );
}

#[test]
fn gobgp_sends_bad_peer_as_when_it_expects_another_as() {
    scenario::peer_rejects_wrong_as::<GobgpDaemon>(
        "gobgp_sends_bad_peer_as_when_it_expects_another_as",
        "sg-pas",
        &["as number mismatch expected 65099, received 65001"],
    );
}

#[test]
fn gobgp_hold_timer_expiry_when_gobgp_freezes_then_recovers() {
    scenario::hold_timer_expiry::<GobgpDaemon>(
        "gobgp_hold_timer_expiry_when_gobgp_freezes_then_recovers",
        "sg-hold",
    );
}

#[test]
fn gobgp_collision_leaves_one_session() {
    scenario::collision::<GobgpDaemon>(
        "gobgp_collision_leaves_one_session",
        "sg-col",
        MUST_COLLIDE,
    );
}

#[test]
fn gobgp_shows_administrative_shutdown_on_our_sigterm() {
    scenario::sigterm::<GobgpDaemon>(
        "gobgp_shows_administrative_shutdown_on_our_sigterm",
        "sg-term",
        &["subcode 2(administrative shutdown)"],
    );
}

#[test]
fn gobgp_established_with_gtsm() {
    scenario::established::<GobgpDaemon>("gobgp_established_with_gtsm", "sg-gtsm", Params::gtsm());
}

#[test]
fn gobgp_tcp_md5_key_mismatch_never_establishes() {
    scenario::md5_mismatch_never_establishes::<GobgpDaemon>(
        "gobgp_tcp_md5_key_mismatch_never_establishes",
        "sg-md5x",
    );
}

#[test]
fn gobgp_unconfigured_peer_gets_connection_rejected() {
    scenario::unconfigured_peer_rejected::<GobgpDaemon>(
        "gobgp_unconfigured_peer_gets_connection_rejected",
        "sg-unk",
        NOTIFICATION_COUNTER,
    );
}

#[test]
fn gobgp_established_over_ibgp_as_in_a_calico_mesh() {
    scenario::established::<GobgpDaemon>(
        "gobgp_established_over_ibgp_as_in_a_calico_mesh",
        "sg-ibgp",
        Params::ibgp(),
    );
}

#[test]
fn gobgp_established_with_tcp_md5_over_ipv6_we_passive() {
    scenario::established::<GobgpDaemon>(
        "gobgp_established_with_tcp_md5_over_ipv6_we_passive",
        "sg-md56",
        Params::tcp_md5_ipv6_we_passive(),
    );
}
