//! Our bgpd against GoBGP 3.10 (`/usr/bin/gobgpd`): sessions over IPv4 and IPv6, active and
//! passive, 4-octet AS, TCP-MD5, wrong AS both ways, hold timer expiry, collision, shutdown.
//! GoBGP's view comes from `gobgp neighbor PEER -j` and its log. GoBGP connects slowly (LAB.md).

mod sessions_common;

use interop_tests::{require_root, Gobgp};
use sessions_common::{Lab, Params, Peer};

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

fn start(lab: &Lab) -> GobgpPeer<'_> {
    let g = Gobgp::start(&lab.peer_node().ns, &gobgp_conf(lab)).expect("gobgpd starts");
    GobgpPeer { g }
}

fn lab(test: &str, prefix: &str, params: Params) -> Option<Lab> {
    require_root(test).then(|| Lab::new(prefix, params))
}

#[test]
fn gobgp_established_over_ipv4_we_active() {
    let Some(lab) = lab(
        "gobgp_established_over_ipv4_we_active",
        "sg-a4",
        Params::ebgp(),
    ) else {
        return;
    };
    let peer = start(&lab);
    let bgpd = lab.start_bgpd();
    sessions_common::established(&lab, &bgpd, &peer);
}

#[test]
fn gobgp_established_over_ipv4_we_passive() {
    let params = Params {
        we_passive: true,
        peer_passive: false,
        ..Params::ebgp()
    };
    let Some(lab) = lab("gobgp_established_over_ipv4_we_passive", "sg-p4", params) else {
        return;
    };
    let bgpd = lab.start_bgpd();
    let peer = start(&lab);
    sessions_common::established(&lab, &bgpd, &peer);
}

#[test]
fn gobgp_established_over_ipv6() {
    let params = Params {
        v6: true,
        ..Params::ebgp()
    };
    let Some(lab) = lab("gobgp_established_over_ipv6", "sg-a6", params) else {
        return;
    };
    let peer = start(&lab);
    let bgpd = lab.start_bgpd();
    sessions_common::established(&lab, &bgpd, &peer);
}

#[test]
fn gobgp_established_with_four_octet_as_numbers() {
    let params = Params {
        our_as: 4_200_000_001,
        peer_as: 4_200_000_002,
        we_expect: 4_200_000_002,
        peer_expects: 4_200_000_001,
        ..Params::ebgp()
    };
    let Some(lab) = lab(
        "gobgp_established_with_four_octet_as_numbers",
        "sg-as4",
        params,
    ) else {
        return;
    };
    let peer = start(&lab);
    let bgpd = lab.start_bgpd();
    sessions_common::established(&lab, &bgpd, &peer);
}

#[test]
fn gobgp_established_with_tcp_md5() {
    let params = Params {
        password: Some("s3cret-bird".into()),
        ..Params::ebgp()
    };
    let Some(lab) = lab("gobgp_established_with_tcp_md5", "sg-md5", params) else {
        return;
    };
    let peer = start(&lab);
    let bgpd = lab.start_bgpd();
    sessions_common::established(&lab, &bgpd, &peer);
}

#[test]
fn gobgp_reports_bad_peer_as_when_we_expect_another_as() {
    let params = Params {
        we_expect: 65099,
        ..Params::ebgp()
    };
    let Some(lab) = lab(
        "gobgp_reports_bad_peer_as_when_we_expect_another_as",
        "sg-was",
        params,
    ) else {
        return;
    };
    let peer = start(&lab);
    let bgpd = lab.start_bgpd();
    sessions_common::we_reject_wrong_as(
        &lab,
        &bgpd,
        &peer,
        &["NOTIFICATIONs received: 1", "NOTIFICATIONs received: 2"],
    );
}

#[test]
fn gobgp_sends_bad_peer_as_when_it_expects_another_as() {
    let params = Params {
        peer_expects: 65099,
        ..Params::ebgp()
    };
    let Some(lab) = lab(
        "gobgp_sends_bad_peer_as_when_it_expects_another_as",
        "sg-pas",
        params,
    ) else {
        return;
    };
    let peer = start(&lab);
    let bgpd = lab.start_bgpd();
    sessions_common::peer_rejects_wrong_as(
        &lab,
        &bgpd,
        &peer,
        &["as number mismatch expected 65099, received 65001"],
    );
}

#[test]
fn gobgp_hold_timer_expiry_when_gobgp_freezes_then_recovers() {
    let Some(lab) = lab(
        "gobgp_hold_timer_expiry_when_gobgp_freezes_then_recovers",
        "sg-hold",
        Params::ebgp(),
    ) else {
        return;
    };
    let mut peer = start(&lab);
    let bgpd = lab.start_bgpd();
    sessions_common::hold_timer_expiry(&lab, &bgpd, &mut peer);
}

#[test]
fn gobgp_collision_leaves_one_session() {
    let params = Params {
        peer_passive: false,
        ..Params::ebgp()
    };
    let Some(lab) = lab("gobgp_collision_leaves_one_session", "sg-col", params) else {
        return;
    };
    lab.set_link(false);
    let bgpd = lab.start_bgpd();
    let peer = start(&lab);
    sessions_common::collision(&lab, &bgpd, &peer, false);
}

#[test]
fn gobgp_shows_administrative_shutdown_on_our_sigterm() {
    let Some(lab) = lab(
        "gobgp_shows_administrative_shutdown_on_our_sigterm",
        "sg-term",
        Params::ebgp(),
    ) else {
        return;
    };
    let peer = start(&lab);
    let mut bgpd = lab.start_bgpd();
    sessions_common::sigterm(
        &lab,
        &mut bgpd,
        &peer,
        &["subcode 2(administrative shutdown)"],
    );
}

#[test]
fn gobgp_established_with_gtsm() {
    let params = Params {
        gtsm: true,
        ..Params::ebgp()
    };
    let Some(lab) = lab("gobgp_established_with_gtsm", "sg-gtsm", params) else {
        return;
    };
    let peer = start(&lab);
    let bgpd = lab.start_bgpd();
    sessions_common::established(&lab, &bgpd, &peer);
}

#[test]
fn gobgp_tcp_md5_key_mismatch_never_establishes() {
    let params = Params {
        password: Some("ours".into()),
        peer_password: Some("theirs".into()),
        ..Params::ebgp()
    };
    let Some(lab) = lab(
        "gobgp_tcp_md5_key_mismatch_never_establishes",
        "sg-md5x",
        params,
    ) else {
        return;
    };
    let peer = start(&lab);
    let bgpd = lab.start_bgpd();
    sessions_common::md5_mismatch_never_establishes(&lab, &bgpd, &peer);
}

#[test]
fn gobgp_unconfigured_peer_gets_connection_rejected() {
    let params = Params {
        unconfigured: true,
        we_passive: true,
        peer_passive: false,
        ..Params::ebgp()
    };
    let Some(lab) = lab(
        "gobgp_unconfigured_peer_gets_connection_rejected",
        "sg-unk",
        params,
    ) else {
        return;
    };
    let bgpd = lab.start_bgpd();
    let peer = start(&lab);
    sessions_common::unconfigured_peer_rejected(
        &lab,
        &bgpd,
        &peer,
        &["NOTIFICATIONs received: 1", "NOTIFICATIONs received: 2"],
    );
}

#[test]
fn gobgp_established_over_ibgp_as_in_a_calico_mesh() {
    let params = Params {
        our_as: 64512,
        peer_as: 64512,
        we_expect: 64512,
        peer_expects: 64512,
        ..Params::ebgp()
    };
    let Some(lab) = lab(
        "gobgp_established_over_ibgp_as_in_a_calico_mesh",
        "sg-ibgp",
        params,
    ) else {
        return;
    };
    let peer = start(&lab);
    let bgpd = lab.start_bgpd();
    sessions_common::established(&lab, &bgpd, &peer);
}

#[test]
fn gobgp_established_with_tcp_md5_over_ipv6_we_passive() {
    let params = Params {
        v6: true,
        password: Some("s3cret-v6".into()),
        we_passive: true,
        peer_passive: false,
        ..Params::ebgp()
    };
    let Some(lab) = lab(
        "gobgp_established_with_tcp_md5_over_ipv6_we_passive",
        "sg-md56",
        params,
    ) else {
        return;
    };
    // Our listener holds the key; the peer connects.
    let bgpd = lab.start_bgpd();
    let peer = start(&lab);
    sessions_common::established(&lab, &bgpd, &peer);
}
