//! Our bgpd against FRR 8.4 (`/usr/lib/frr/bgpd`): sessions over IPv4 and IPv6, active and
//! passive, 4-octet AS, TCP-MD5, wrong AS both ways, hold timer expiry, collision, shutdown.
//! FRR's view comes from `vtysh -c 'show bgp neighbors PEER json'` and its log (stdout).

mod sessions_common;

use interop_tests::{require_root, Frr};
use sessions_common::{Lab, Params, Peer};

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

fn start(lab: &Lab) -> FrrPeer {
    let frr = Frr::start(&lab.peer_node().ns, &frr_conf(lab)).expect("frr starts");
    FrrPeer { frr }
}

fn lab(test: &str, prefix: &str, params: Params) -> Option<Lab> {
    require_root(test).then(|| Lab::new(prefix, params))
}

#[test]
fn frr_established_over_ipv4_we_active() {
    let Some(lab) = lab(
        "frr_established_over_ipv4_we_active",
        "sf-a4",
        Params::ebgp(),
    ) else {
        return;
    };
    let peer = start(&lab);
    let bgpd = lab.start_bgpd();
    sessions_common::established(&lab, &bgpd, &peer);
}

#[test]
fn frr_established_over_ipv4_we_passive() {
    let params = Params {
        we_passive: true,
        peer_passive: false,
        ..Params::ebgp()
    };
    let Some(lab) = lab("frr_established_over_ipv4_we_passive", "sf-p4", params) else {
        return;
    };
    let bgpd = lab.start_bgpd();
    let peer = start(&lab);
    sessions_common::established(&lab, &bgpd, &peer);
}

#[test]
fn frr_established_over_ipv6() {
    let params = Params {
        v6: true,
        ..Params::ebgp()
    };
    let Some(lab) = lab("frr_established_over_ipv6", "sf-a6", params) else {
        return;
    };
    let peer = start(&lab);
    let bgpd = lab.start_bgpd();
    sessions_common::established(&lab, &bgpd, &peer);
}

#[test]
fn frr_established_with_four_octet_as_numbers() {
    let params = Params {
        our_as: 4_200_000_001,
        peer_as: 4_200_000_002,
        we_expect: 4_200_000_002,
        peer_expects: 4_200_000_001,
        ..Params::ebgp()
    };
    let Some(lab) = lab(
        "frr_established_with_four_octet_as_numbers",
        "sf-as4",
        params,
    ) else {
        return;
    };
    let peer = start(&lab);
    let bgpd = lab.start_bgpd();
    sessions_common::established(&lab, &bgpd, &peer);
}

#[test]
fn frr_established_with_tcp_md5() {
    let params = Params {
        password: Some("s3cret-bird".into()),
        ..Params::ebgp()
    };
    let Some(lab) = lab("frr_established_with_tcp_md5", "sf-md5", params) else {
        return;
    };
    let peer = start(&lab);
    let bgpd = lab.start_bgpd();
    sessions_common::established(&lab, &bgpd, &peer);
}

#[test]
fn frr_reports_bad_peer_as_when_we_expect_another_as() {
    let params = Params {
        we_expect: 65099,
        ..Params::ebgp()
    };
    let Some(lab) = lab(
        "frr_reports_bad_peer_as_when_we_expect_another_as",
        "sf-was",
        params,
    ) else {
        return;
    };
    let peer = start(&lab);
    let bgpd = lab.start_bgpd();
    sessions_common::we_reject_wrong_as(&lab, &bgpd, &peer, &["Bad Peer AS"]);
}

#[test]
fn frr_sends_bad_peer_as_when_it_expects_another_as() {
    let params = Params {
        peer_expects: 65099,
        ..Params::ebgp()
    };
    let Some(lab) = lab(
        "frr_sends_bad_peer_as_when_it_expects_another_as",
        "sf-pas",
        params,
    ) else {
        return;
    };
    let peer = start(&lab);
    let bgpd = lab.start_bgpd();
    sessions_common::peer_rejects_wrong_as(&lab, &bgpd, &peer, &["Bad Peer AS"]);
}

#[test]
fn frr_hold_timer_expiry_when_frr_freezes_then_recovers() {
    let Some(lab) = lab(
        "frr_hold_timer_expiry_when_frr_freezes_then_recovers",
        "sf-hold",
        Params::ebgp(),
    ) else {
        return;
    };
    let mut peer = start(&lab);
    let bgpd = lab.start_bgpd();
    sessions_common::hold_timer_expiry(&lab, &bgpd, &mut peer);
}

#[test]
fn frr_collision_leaves_one_session() {
    let params = Params {
        peer_passive: false,
        ..Params::ebgp()
    };
    let Some(lab) = lab("frr_collision_leaves_one_session", "sf-col", params) else {
        return;
    };
    lab.set_link(false);
    let bgpd = lab.start_bgpd();
    let peer = start(&lab);
    sessions_common::collision(&lab, &bgpd, &peer, true);
}

#[test]
fn frr_shows_administrative_shutdown_on_our_sigterm() {
    let Some(lab) = lab(
        "frr_shows_administrative_shutdown_on_our_sigterm",
        "sf-term",
        Params::ebgp(),
    ) else {
        return;
    };
    let peer = start(&lab);
    let mut bgpd = lab.start_bgpd();
    sessions_common::sigterm(&lab, &mut bgpd, &peer, &["Administrative Shutdown"]);
}

#[test]
fn frr_established_with_gtsm() {
    let params = Params {
        gtsm: true,
        ..Params::ebgp()
    };
    let Some(lab) = lab("frr_established_with_gtsm", "sf-gtsm", params) else {
        return;
    };
    let peer = start(&lab);
    let bgpd = lab.start_bgpd();
    sessions_common::established(&lab, &bgpd, &peer);
}

#[test]
fn frr_tcp_md5_key_mismatch_never_establishes() {
    let params = Params {
        password: Some("ours".into()),
        peer_password: Some("theirs".into()),
        ..Params::ebgp()
    };
    let Some(lab) = lab(
        "frr_tcp_md5_key_mismatch_never_establishes",
        "sf-md5x",
        params,
    ) else {
        return;
    };
    let peer = start(&lab);
    let bgpd = lab.start_bgpd();
    sessions_common::md5_mismatch_never_establishes(&lab, &bgpd, &peer);
}

#[test]
fn frr_unconfigured_peer_gets_connection_rejected() {
    let params = Params {
        unconfigured: true,
        we_passive: true,
        peer_passive: false,
        ..Params::ebgp()
    };
    let Some(lab) = lab(
        "frr_unconfigured_peer_gets_connection_rejected",
        "sf-unk",
        params,
    ) else {
        return;
    };
    let bgpd = lab.start_bgpd();
    let peer = start(&lab);
    sessions_common::unconfigured_peer_rejected(&lab, &bgpd, &peer, &["Connection Rejected"]);
}

#[test]
fn frr_established_over_ibgp_as_in_a_calico_mesh() {
    let params = Params {
        our_as: 64512,
        peer_as: 64512,
        we_expect: 64512,
        peer_expects: 64512,
        ..Params::ebgp()
    };
    let Some(lab) = lab(
        "frr_established_over_ibgp_as_in_a_calico_mesh",
        "sf-ibgp",
        params,
    ) else {
        return;
    };
    let peer = start(&lab);
    let bgpd = lab.start_bgpd();
    sessions_common::established(&lab, &bgpd, &peer);
}

#[test]
fn frr_established_with_tcp_md5_over_ipv6_we_passive() {
    let params = Params {
        v6: true,
        password: Some("s3cret-v6".into()),
        we_passive: true,
        peer_passive: false,
        ..Params::ebgp()
    };
    let Some(lab) = lab(
        "frr_established_with_tcp_md5_over_ipv6_we_passive",
        "sf-md56",
        params,
    ) else {
        return;
    };
    // Our listener holds the key; the peer connects.
    let bgpd = lab.start_bgpd();
    let peer = start(&lab);
    sessions_common::established(&lab, &bgpd, &peer);
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
    let Some(lab) = lab(test, prefix, params) else {
        return;
    };
    let peer = start(&lab);
    let bgpd = lab.start_bgpd();
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
