//! One function per scenario, generic over the peer daemon: each sets up the lab (skipping when
//! not root), starts both sides in the order the scenario needs and runs the checks of the
//! parent module. The per-daemon test files call these with their test name, namespace prefix
//! and the words their daemon uses.

use interop_tests::bgpd::Bgpd;
use interop_tests::require_root;

use super::{Daemon, Lab, Params};

/// The lab for `test`, or `None` (with the reason printed) when not root.
pub fn lab(test: &str, prefix: &str, params: Params) -> Option<Lab> {
    require_root(test).then(|| Lab::new(prefix, params))
}

/// Starts both sides, the passive one first so the active side finds it listening.
pub fn start_both<D: Daemon>(lab: &Lab) -> (D::Peer<'_>, Bgpd) {
    if lab.params.we_passive {
        let bgpd = lab.start_bgpd();
        (D::start(lab), bgpd)
    } else {
        let peer = D::start(lab);
        (peer, lab.start_bgpd())
    }
}

/// The session comes up with `params` ([`super::established`]).
pub fn established<D: Daemon>(test: &str, prefix: &str, params: Params) {
    let Some(lab) = lab(test, prefix, params) else {
        return;
    };
    let (peer, bgpd) = start_both::<D>(&lab);
    super::established(&lab, &bgpd, &peer);
}

/// We expect AS 65099: we send Bad Peer AS, the peer shows one of `peer_words`.
pub fn we_reject_wrong_as<D: Daemon>(test: &str, prefix: &str, peer_words: &[&str]) {
    let params = Params {
        we_expect: 65099,
        ..Params::ebgp()
    };
    let Some(lab) = lab(test, prefix, params) else {
        return;
    };
    let (peer, bgpd) = start_both::<D>(&lab);
    super::we_reject_wrong_as(&lab, &bgpd, &peer, peer_words);
}

/// The peer expects AS 65099: it sends Bad Peer AS and shows one of `peer_words`.
pub fn peer_rejects_wrong_as<D: Daemon>(test: &str, prefix: &str, peer_words: &[&str]) {
    let params = Params {
        peer_expects: 65099,
        ..Params::ebgp()
    };
    let Some(lab) = lab(test, prefix, params) else {
        return;
    };
    let (peer, bgpd) = start_both::<D>(&lab);
    super::peer_rejects_wrong_as(&lab, &bgpd, &peer, peer_words);
}

/// The peer freezes, our hold timer expires, the session recovers ([`super::hold_timer_expiry`]).
pub fn hold_timer_expiry<D: Daemon>(test: &str, prefix: &str) {
    let Some(lab) = lab(test, prefix, Params::ebgp()) else {
        return;
    };
    let (mut peer, bgpd) = start_both::<D>(&lab);
    super::hold_timer_expiry(&lab, &bgpd, &mut peer);
}

/// Both sides connect at once ([`super::collision`]); the link is down while both start.
pub fn collision<D: Daemon>(test: &str, prefix: &str, must_collide: bool) {
    let params = Params {
        peer_passive: false,
        ..Params::ebgp()
    };
    let Some(lab) = lab(test, prefix, params) else {
        return;
    };
    lab.set_link(false);
    let bgpd = lab.start_bgpd();
    let peer = D::start(&lab);
    super::collision(&lab, &bgpd, &peer, must_collide);
}

/// Our SIGTERM reaches the peer as Administrative Shutdown, shown as one of `peer_words`.
pub fn sigterm<D: Daemon>(test: &str, prefix: &str, peer_words: &[&str]) {
    let Some(lab) = lab(test, prefix, Params::ebgp()) else {
        return;
    };
    let (peer, mut bgpd) = start_both::<D>(&lab);
    super::sigterm(&lab, &mut bgpd, &peer, peer_words);
}

/// Different TCP-MD5 keys on the two sides: no session.
pub fn md5_mismatch_never_establishes<D: Daemon>(test: &str, prefix: &str) {
    let params = Params {
        password: Some("ours".into()),
        peer_password: Some("theirs".into()),
        ..Params::ebgp()
    };
    let Some(lab) = lab(test, prefix, params) else {
        return;
    };
    let (peer, bgpd) = start_both::<D>(&lab);
    super::md5_mismatch_never_establishes(&lab, &bgpd, &peer);
}

/// The peer connects to us though we do not know it: Connection Rejected, shown as one of
/// `peer_words`.
pub fn unconfigured_peer_rejected<D: Daemon>(test: &str, prefix: &str, peer_words: &[&str]) {
    let params = Params {
        unconfigured: true,
        we_passive: true,
        peer_passive: false,
        ..Params::ebgp()
    };
    let Some(lab) = lab(test, prefix, params) else {
        return;
    };
    let (peer, bgpd) = start_both::<D>(&lab);
    super::unconfigured_peer_rejected(&lab, &bgpd, &peer, peer_words);
}
