//! Our bgpd against BIRD 2 (`/usr/sbin/bird`): sessions over IPv4 and IPv6, active and passive,
//! 4-octet AS, TCP-MD5, wrong AS both ways, hold timer expiry, collision, shutdown. BIRD's view
//! comes from `birdc show protocols all` and its log (`log stderr all`).

mod sessions_common;

use interop_tests::{require_root, Bird};
use sessions_common::{Lab, Params, Peer};

struct BirdPeer {
    bird: Bird,
}

impl Peer for BirdPeer {
    fn is_established(&self, us: &str) -> interop_tests::Result<bool> {
        Ok(self.bird.bgp_state(us)?.as_deref() == Some("Established"))
    }
    fn bgp_pid(&mut self) -> u32 {
        self.bird.proc().pid()
    }
    fn session_text(&self, _us: &str) -> interop_tests::Result<String> {
        let cli = self.bird.birdc("show protocols all ours")?;
        let log = std::fs::read_to_string(self.bird.dir().join("bird.err")).unwrap_or_default();
        Ok(format!("{cli}\n--- log:\n{log}"))
    }
    fn label(&self) -> &'static str {
        "BIRD 2.0.12"
    }
}

fn bird_conf(lab: &Lab) -> String {
    let p = &lab.params;
    let a = &lab.addrs;
    let channel = if p.v6 { "ipv6" } else { "ipv4" };
    let mut opts = String::new();
    if p.peer_passive {
        opts += "  passive on;\n";
    }
    if let Some(pw) = p.peer_key() {
        opts += &format!("  password \"{pw}\";\n");
    }
    if p.gtsm {
        opts += "  ttl security on;\n";
    }
    format!(
        "log stderr all;\nrouter id {};\nprotocol device {{}}\n\
         protocol bgp ours {{\n  local {} as {};\n  neighbor {} as {};\n  hold time 9;\n  \
         keepalive time 3;\n  connect delay time 1;\n  connect retry time 2;\n  \
         error wait time 1, 4;\n{opts}  {channel} {{ import all; export none; }};\n}}\n",
        a.peer_id, a.peer, p.peer_as, a.us, p.peer_expects
    )
}

fn start(lab: &Lab) -> BirdPeer {
    let bird = Bird::start(&lab.peer_node().ns, &bird_conf(lab)).expect("bird starts");
    BirdPeer { bird }
}

fn lab(test: &str, prefix: &str, params: Params) -> Option<Lab> {
    require_root(test).then(|| Lab::new(prefix, params))
}

#[test]
fn bird_established_over_ipv4_we_active() {
    let Some(lab) = lab(
        "bird_established_over_ipv4_we_active",
        "sb-a4",
        Params::ebgp(),
    ) else {
        return;
    };
    let peer = start(&lab);
    let bgpd = lab.start_bgpd();
    sessions_common::established(&lab, &bgpd, &peer);
}

#[test]
fn bird_established_over_ipv4_we_passive() {
    let params = Params {
        we_passive: true,
        peer_passive: false,
        ..Params::ebgp()
    };
    let Some(lab) = lab("bird_established_over_ipv4_we_passive", "sb-p4", params) else {
        return;
    };
    let bgpd = lab.start_bgpd();
    let peer = start(&lab);
    sessions_common::established(&lab, &bgpd, &peer);
}

#[test]
fn bird_established_over_ipv6() {
    let params = Params {
        v6: true,
        ..Params::ebgp()
    };
    let Some(lab) = lab("bird_established_over_ipv6", "sb-a6", params) else {
        return;
    };
    let peer = start(&lab);
    let bgpd = lab.start_bgpd();
    sessions_common::established(&lab, &bgpd, &peer);
}

#[test]
fn bird_established_with_four_octet_as_numbers() {
    let params = Params {
        our_as: 4_200_000_001,
        peer_as: 4_200_000_002,
        we_expect: 4_200_000_002,
        peer_expects: 4_200_000_001,
        ..Params::ebgp()
    };
    let Some(lab) = lab(
        "bird_established_with_four_octet_as_numbers",
        "sb-as4",
        params,
    ) else {
        return;
    };
    let peer = start(&lab);
    let bgpd = lab.start_bgpd();
    sessions_common::established(&lab, &bgpd, &peer);
}

#[test]
fn bird_established_with_tcp_md5() {
    let params = Params {
        password: Some("s3cret-bird".into()),
        ..Params::ebgp()
    };
    let Some(lab) = lab("bird_established_with_tcp_md5", "sb-md5", params) else {
        return;
    };
    let peer = start(&lab);
    let bgpd = lab.start_bgpd();
    sessions_common::established(&lab, &bgpd, &peer);
}

#[test]
fn bird_reports_bad_peer_as_when_we_expect_another_as() {
    let params = Params {
        we_expect: 65099,
        ..Params::ebgp()
    };
    let Some(lab) = lab(
        "bird_reports_bad_peer_as_when_we_expect_another_as",
        "sb-was",
        params,
    ) else {
        return;
    };
    let peer = start(&lab);
    let bgpd = lab.start_bgpd();
    sessions_common::we_reject_wrong_as(&lab, &bgpd, &peer, &["Received: Bad peer AS"]);
}

#[test]
fn bird_sends_bad_peer_as_when_it_expects_another_as() {
    let params = Params {
        peer_expects: 65099,
        ..Params::ebgp()
    };
    let Some(lab) = lab(
        "bird_sends_bad_peer_as_when_it_expects_another_as",
        "sb-pas",
        params,
    ) else {
        return;
    };
    let peer = start(&lab);
    let bgpd = lab.start_bgpd();
    sessions_common::peer_rejects_wrong_as(&lab, &bgpd, &peer, &["Bad peer AS"]);
}

#[test]
fn bird_hold_timer_expiry_when_bird_freezes_then_recovers() {
    let Some(lab) = lab(
        "bird_hold_timer_expiry_when_bird_freezes_then_recovers",
        "sb-hold",
        Params::ebgp(),
    ) else {
        return;
    };
    let mut peer = start(&lab);
    let bgpd = lab.start_bgpd();
    sessions_common::hold_timer_expiry(&lab, &bgpd, &mut peer);
}

#[test]
fn bird_collision_leaves_one_session() {
    let params = Params {
        peer_passive: false,
        ..Params::ebgp()
    };
    let Some(lab) = lab("bird_collision_leaves_one_session", "sb-col", params) else {
        return;
    };
    lab.set_link(false);
    let bgpd = lab.start_bgpd();
    let peer = start(&lab);
    sessions_common::collision(&lab, &bgpd, &peer, true);
}

#[test]
fn bird_shows_administrative_shutdown_on_our_sigterm() {
    let Some(lab) = lab(
        "bird_shows_administrative_shutdown_on_our_sigterm",
        "sb-term",
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
        &["Received: Administrative shutdown"],
    );
}

#[test]
fn bird_established_with_gtsm() {
    let params = Params {
        gtsm: true,
        ..Params::ebgp()
    };
    let Some(lab) = lab("bird_established_with_gtsm", "sb-gtsm", params) else {
        return;
    };
    let peer = start(&lab);
    let bgpd = lab.start_bgpd();
    sessions_common::established(&lab, &bgpd, &peer);
}

#[test]
fn bird_tcp_md5_key_mismatch_never_establishes() {
    let params = Params {
        password: Some("ours".into()),
        peer_password: Some("theirs".into()),
        ..Params::ebgp()
    };
    let Some(lab) = lab(
        "bird_tcp_md5_key_mismatch_never_establishes",
        "sb-md5x",
        params,
    ) else {
        return;
    };
    let peer = start(&lab);
    let bgpd = lab.start_bgpd();
    sessions_common::md5_mismatch_never_establishes(&lab, &bgpd, &peer);
}

#[test]
fn bird_unconfigured_peer_gets_connection_rejected() {
    let params = Params {
        unconfigured: true,
        we_passive: true,
        peer_passive: false,
        ..Params::ebgp()
    };
    let Some(lab) = lab(
        "bird_unconfigured_peer_gets_connection_rejected",
        "sb-unk",
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
        &["Received: Connection rejected"],
    );
}

#[test]
fn bird_established_over_ibgp_as_in_a_calico_mesh() {
    let params = Params {
        our_as: 64512,
        peer_as: 64512,
        we_expect: 64512,
        peer_expects: 64512,
        ..Params::ebgp()
    };
    let Some(lab) = lab(
        "bird_established_over_ibgp_as_in_a_calico_mesh",
        "sb-ibgp",
        params,
    ) else {
        return;
    };
    let peer = start(&lab);
    let bgpd = lab.start_bgpd();
    sessions_common::established(&lab, &bgpd, &peer);
}

#[test]
fn bird_established_with_tcp_md5_over_ipv6_we_passive() {
    let params = Params {
        v6: true,
        password: Some("s3cret-v6".into()),
        we_passive: true,
        peer_passive: false,
        ..Params::ebgp()
    };
    let Some(lab) = lab(
        "bird_established_with_tcp_md5_over_ipv6_we_passive",
        "sb-md56",
        params,
    ) else {
        return;
    };
    // Our listener holds the key; the peer connects.
    let bgpd = lab.start_bgpd();
    let peer = start(&lab);
    sessions_common::established(&lab, &bgpd, &peer);
}
