//! Our bgpd against BIRD 2 (`/usr/sbin/bird`): sessions over IPv4 and IPv6, active and passive,
//! 4-octet AS, TCP-MD5, wrong AS both ways, hold timer expiry, collision, shutdown. BIRD's view
//! comes from `birdc show protocols all` and its log (`log stderr all`).

mod sessions_common;

use interop_tests::Bird;
use sessions_common::{scenario, Daemon, Lab, Params, Peer};

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

struct BirdDaemon;

impl Daemon for BirdDaemon {
    type Peer<'l> = BirdPeer;
    fn start(lab: &Lab) -> Self::Peer<'_> {
        BirdPeer {
            bird: Bird::start(&lab.peer_node().ns, &bird_conf(lab)).expect("bird starts"),
        }
    }
}

#[test]
fn bird_established_over_ipv4_we_active() {
    scenario::established::<BirdDaemon>(
        "bird_established_over_ipv4_we_active",
        "sb-a4",
        Params::ebgp(),
    );
}

#[test]
fn bird_established_over_ipv4_we_passive() {
    scenario::established::<BirdDaemon>(
        "bird_established_over_ipv4_we_passive",
        "sb-p4",
        Params::we_passive(),
    );
}

#[test]
fn bird_established_over_ipv6() {
    scenario::established::<BirdDaemon>("bird_established_over_ipv6", "sb-a6", Params::ipv6());
}

#[test]
fn bird_established_with_four_octet_as_numbers() {
    scenario::established::<BirdDaemon>(
        "bird_established_with_four_octet_as_numbers",
        "sb-as4",
        Params::four_octet_as(),
    );
}

#[test]
fn bird_established_with_tcp_md5() {
    scenario::established::<BirdDaemon>(
        "bird_established_with_tcp_md5",
        "sb-md5",
        Params::tcp_md5(),
    );
}

#[test]
fn bird_reports_bad_peer_as_when_we_expect_another_as() {
    scenario::we_reject_wrong_as::<BirdDaemon>(
        "bird_reports_bad_peer_as_when_we_expect_another_as",
        "sb-was",
        &["Received: Bad peer AS"],
    );
}

#[test]
fn bird_sends_bad_peer_as_when_it_expects_another_as() {
    scenario::peer_rejects_wrong_as::<BirdDaemon>(
        "bird_sends_bad_peer_as_when_it_expects_another_as",
        "sb-pas",
        &["Bad peer AS"],
    );
}

#[test]
fn bird_hold_timer_expiry_when_bird_freezes_then_recovers() {
    scenario::hold_timer_expiry::<BirdDaemon>(
        "bird_hold_timer_expiry_when_bird_freezes_then_recovers",
        "sb-hold",
    );
}

#[test]
fn bird_collision_leaves_one_session() {
    scenario::collision::<BirdDaemon>("bird_collision_leaves_one_session", "sb-col", true);
}

#[test]
fn bird_shows_administrative_shutdown_on_our_sigterm() {
    scenario::sigterm::<BirdDaemon>(
        "bird_shows_administrative_shutdown_on_our_sigterm",
        "sb-term",
        &["Received: Administrative shutdown"],
    );
}

#[test]
fn bird_established_with_gtsm() {
    scenario::established::<BirdDaemon>("bird_established_with_gtsm", "sb-gtsm", Params::gtsm());
}

#[test]
fn bird_tcp_md5_key_mismatch_never_establishes() {
    scenario::md5_mismatch_never_establishes::<BirdDaemon>(
        "bird_tcp_md5_key_mismatch_never_establishes",
        "sb-md5x",
    );
}

#[test]
fn bird_unconfigured_peer_gets_connection_rejected() {
    scenario::unconfigured_peer_rejected::<BirdDaemon>(
        "bird_unconfigured_peer_gets_connection_rejected",
        "sb-unk",
        &["Received: Connection rejected"],
    );
}

#[test]
fn bird_established_over_ibgp_as_in_a_calico_mesh() {
    scenario::established::<BirdDaemon>(
        "bird_established_over_ibgp_as_in_a_calico_mesh",
        "sb-ibgp",
        Params::ibgp(),
    );
}

#[test]
fn bird_established_with_tcp_md5_over_ipv6_we_passive() {
    scenario::established::<BirdDaemon>(
        "bird_established_with_tcp_md5_over_ipv6_we_passive",
        "sb-md56",
        Params::tcp_md5_ipv6_we_passive(),
    );
}
