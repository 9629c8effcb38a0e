//! Our bgpd against FRR 8.4 (`/usr/lib/frr/bgpd`): sessions over IPv4 and IPv6, active and
//! passive, 4-octet AS, TCP-MD5, wrong AS both ways, hold timer expiry, collision, shutdown.
//! FRR's view comes from `vtysh -c 'show bgp neighbors PEER json'` and its log (stdout).

mod sessions_common;

use interop_tests::Frr;
use sessions_common::{scenario, Daemon, Lab, Params, Peer};

struct FrrPeer {
    frr: Frr,
}

impl Peer for FrrPeer {
    fn is_established(&self, us: &str) -> interop_tests::Result<bool> {
        Ok(self.frr.bgp_state(us)?.as_deref() == Some("Established"))
    }
    fn bgp_pid(&mut self) -> u32 {
        self.frr.bgpd().pid()
    }
    fn session_text(&self, us: &str) -> interop_tests::Result<String> {
        let cli = self.frr.vtysh(&format!("show bgp neighbors {us} json"))?;
        let log = std::fs::read_to_string(self.frr.dir().join("bgpd.out")).unwrap_or_default();
        Ok(format!("{cli}\n--- log:\n{log}"))
    }
    fn label(&self) -> &'static str {
        "FRR 8.4.4"
    }
}

fn frr_conf(lab: &Lab) -> String {
    let p = &lab.params;
    let a = &lab.addrs;
    let us = &a.us;
    let mut s = format!(
        "hostname frr\nlog stdout informational\nrouter bgp {}\n bgp router-id {}\n \
         no bgp ebgp-requires-policy\n bgp log-neighbor-changes\n neighbor {us} remote-as {}\n \
         neighbor {us} timers 3 9\n neighbor {us} timers connect 2\n",
        p.peer_as, a.peer_id, p.peer_expects
    );
    if p.peer_passive {
        s += &format!(" neighbor {us} passive\n");
    }
    if let Some(pw) = p.peer_key() {
        s += &format!(" neighbor {us} password {pw}\n");
    }
    if p.gtsm {
        s += &format!(" neighbor {us} ttl-security hops 1\n");
    }
    if p.v6 {
        s += &format!(
            " address-family ipv6 unicast\n  neighbor {us} activate\n exit-address-family\n"
        );
    }
    s
}

struct FrrDaemon;

impl Daemon for FrrDaemon {
    type Peer<'l> = FrrPeer;
    fn start(lab: &Lab) -> Self::Peer<'_> {
        FrrPeer {
            frr: Frr::start(&lab.peer_node().ns, &frr_conf(lab)).expect("frr starts"),
        }
    }
}

#[test]
fn frr_established_over_ipv4_we_active() {
    scenario::established::<FrrDaemon>(
        "frr_established_over_ipv4_we_active",
        "sf-a4",
        Params::ebgp(),
    );
}

#[test]
fn frr_established_over_ipv4_we_passive() {
    scenario::established::<FrrDaemon>(
        "frr_established_over_ipv4_we_passive",
        "sf-p4",
        Params::we_passive(),
    );
}

#[test]
fn frr_established_over_ipv6() {
    scenario::established::<FrrDaemon>("frr_established_over_ipv6", "sf-a6", Params::ipv6());
}

#[test]
fn frr_established_with_four_octet_as_numbers() {
    scenario::established::<FrrDaemon>(
        "frr_established_with_four_octet_as_numbers",
        "sf-as4",
        Params::four_octet_as(),
    );
}

#[test]
fn frr_established_with_tcp_md5() {
    scenario::established::<FrrDaemon>("frr_established_with_tcp_md5", "sf-md5", Params::tcp_md5());
}

#[test]
fn frr_reports_bad_peer_as_when_we_expect_another_as() {
    scenario::we_reject_wrong_as::<FrrDaemon>(
        "frr_reports_bad_peer_as_when_we_expect_another_as",
        "sf-was",
        &["Bad Peer AS"],
    );
}

#[test]
fn frr_sends_bad_peer_as_when_it_expects_another_as() {
    scenario::peer_rejects_wrong_as::<FrrDaemon>(
        "frr_sends_bad_peer_as_when_it_expects_another_as",
        "sf-pas",
        &["Bad Peer AS"],
    );
}

#[test]
fn frr_hold_timer_expiry_when_frr_freezes_then_recovers() {
    scenario::hold_timer_expiry::<FrrDaemon>(
        "frr_hold_timer_expiry_when_frr_freezes_then_recovers",
        "sf-hold",
    );
}

#[test]
fn frr_collision_leaves_one_session() {
    scenario::collision::<FrrDaemon>("frr_collision_leaves_one_session", "sf-col", true);
}

#[test]
fn frr_shows_administrative_shutdown_on_our_sigterm() {
    scenario::sigterm::<FrrDaemon>(
        "frr_shows_administrative_shutdown_on_our_sigterm",
        "sf-term",
        &["Administrative Shutdown"],
    );
}

#[test]
fn frr_established_with_gtsm() {
    scenario::established::<FrrDaemon>("frr_established_with_gtsm", "sf-gtsm", Params::gtsm());
}

#[test]
fn frr_tcp_md5_key_mismatch_never_establishes() {
    scenario::md5_mismatch_never_establishes::<FrrDaemon>(
        "frr_tcp_md5_key_mismatch_never_establishes",
        "sf-md5x",
    );
}

#[test]
fn frr_unconfigured_peer_gets_connection_rejected() {
    scenario::unconfigured_peer_rejected::<FrrDaemon>(
        "frr_unconfigured_peer_gets_connection_rejected",
        "sf-unk",
        &["Connection Rejected"],
    );
}

#[test]
fn frr_established_over_ibgp_as_in_a_calico_mesh() {
    scenario::established::<FrrDaemon>(
        "frr_established_over_ibgp_as_in_a_calico_mesh",
        "sf-ibgp",
        Params::ibgp(),
    );
}

#[test]
fn frr_established_with_tcp_md5_over_ipv6_we_passive() {
    scenario::established::<FrrDaemon>(
        "frr_established_with_tcp_md5_over_ipv6_we_passive",
        "sf-md56",
        Params::tcp_md5_ipv6_we_passive(),
    );
}

/// FRR's record of End-of-RIB received from us for `family` (`ipv4Unicast`, `ipv6Unicast`).
fn end_of_rib_received(frr: &Frr, us: &str, family: &str) -> interop_tests::Result<bool> {
    let v = frr.vtysh_json(&format!("show bgp neighbors {us} json"))?;
    Ok(v[us]["gracefulRestartInfo"]["endOfRibRecv"][family].as_bool() == Some(true))
}

fn frr_gets_end_of_rib(v6: bool, test: &str, prefix: &str) {
    let params = Params {
        v6,
        graceful_restart: true,
        ..Params::ebgp()
    };
    let Some(lab) = scenario::lab(test, prefix, params) else {
        return;
    };
    let (peer, bgpd) = scenario::start_both::<FrrDaemon>(&lab);
    sessions_common::established(&lab, &bgpd, &peer);
    let family = if v6 { "ipv6Unicast" } else { "ipv4Unicast" };
    interop_tests::wait_until(
        &format!("FRR to record End-of-RIB {family} from us"),
        std::time::Duration::from_secs(10),
        || end_of_rib_received(&peer.frr, &lab.addrs.us, family),
    )
    .expect("End-of-RIB received by FRR");
}

#[test]
fn frr_receives_our_end_of_rib_for_ipv4() {
    frr_gets_end_of_rib(false, "frr_receives_our_end_of_rib_for_ipv4", "sf-eor4");
}

#[test]
fn frr_receives_our_end_of_rib_for_ipv6() {
    frr_gets_end_of_rib(true, "frr_receives_our_end_of_rib_for_ipv6", "sf-eor6");
}

/// FRR announces extended messages (RFC 8654) by default; with `extended_messages = true` ours
/// does too, and FRR's neighbor view says both sides did.
#[test]
fn frr_negotiates_extended_messages_when_we_announce_them() {
    let params = Params {
        extended_messages: true,
        ..Params::ebgp()
    };
    let test = "frr_negotiates_extended_messages_when_we_announce_them";
    let Some(lab) = scenario::lab(test, "sf-ext", params) else {
        return;
    };
    let (peer, bgpd) = scenario::start_both::<FrrDaemon>(&lab);
    sessions_common::established(&lab, &bgpd, &peer);
    let us = &lab.addrs.us;
    let v = peer
        .frr
        .vtysh_json(&format!("show bgp neighbors {us} json"))
        .expect("FRR neighbor json");
    let ext = &v[us.as_str()]["neighborCapabilities"]["extendedMessage"];
    assert_eq!(ext.as_str(), Some("advertisedAndReceived"), "FRR: {v:#}");
}
