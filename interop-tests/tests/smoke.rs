//! Harness smoke tests: each pair of real peers reaches Established, as seen by both peers' own
//! CLIs (birdc `show protocols all`, vtysh `show bgp neighbors json`, `gobgp neighbor -j`).

use std::time::Duration;

use interop_tests::{require_root, Bird, Fabric, Frr, Gobgp};

const UP: Duration = Duration::from_secs(40);

fn bird_conf(me: &str, asn: u32, peers: &[(&str, &str, u32)]) -> String {
    let mut s = format!("router id {me};\nprotocol device {{}}\n");
    for (name, addr, peer_as) in peers {
        s += &format!(
            "protocol bgp {name} {{\n  local {me} as {asn};\n  neighbor {addr} as {peer_as};\n  \
             connect delay time 1;\n  connect retry time 2;\n  \
             ipv4 {{ import all; export all; }};\n}}\n"
        );
    }
    s
}

fn frr_conf(me: &str, asn: u32, peers: &[(&str, u32)]) -> String {
    let mut s = format!(
        "hostname frr-{me}\nrouter bgp {asn}\n bgp router-id {me}\n no bgp ebgp-requires-policy\n"
    );
    for (addr, peer_as) in peers {
        s += &format!(" neighbor {addr} remote-as {peer_as}\n neighbor {addr} timers connect 2\n");
    }
    s
}

fn gobgp_conf(me: &str, asn: u32, peers: &[(&str, u32)]) -> String {
    let mut s = format!("[global.config]\n  as = {asn}\n  router-id = \"{me}\"\n");
    for (addr, peer_as) in peers {
        s += &format!(
            "[[neighbors]]\n  [neighbors.config]\n    neighbor-address = \"{addr}\"\n    \
             peer-as = {peer_as}\n  [neighbors.timers.config]\n    connect-retry = 2\n"
        );
    }
    s
}

#[test]
fn bird_frr_established() {
    if !require_root("bird_frr_established") {
        return;
    }
    let fab = Fabric::new("smk-bf", 2).expect("fabric");
    let (a, b) = (fab.node(1), fab.node(2));
    let (a4, b4) = (a.v4.to_string(), b.v4.to_string());
    let bird = Bird::start(&a.ns, &bird_conf(&a4, 65001, &[("frr", &b4, 65002)])).expect("bird");
    let frr = Frr::start(&b.ns, &frr_conf(&b4, 65002, &[(&a4, 65001)])).expect("frr");
    bird.wait_established(&b4, UP)
        .expect("bird sees Established");
    frr.wait_established(&a4, UP).expect("frr sees Established");
}

#[test]
fn frr_gobgp_established() {
    if !require_root("frr_gobgp_established") {
        return;
    }
    let fab = Fabric::new("smk-fg", 2).expect("fabric");
    let (a, b) = (fab.node(1), fab.node(2));
    let (a4, b4) = (a.v4.to_string(), b.v4.to_string());
    let frr = Frr::start(&a.ns, &frr_conf(&a4, 65001, &[(&b4, 65002)])).expect("frr");
    let gobgp = Gobgp::start(&b.ns, &gobgp_conf(&b4, 65002, &[(&a4, 65001)])).expect("gobgp");
    frr.wait_established(&b4, UP).expect("frr sees Established");
    gobgp
        .wait_established(&a4, UP)
        .expect("gobgp sees Established");
}

#[test]
fn gobgp_bird_established() {
    if !require_root("gobgp_bird_established") {
        return;
    }
    let fab = Fabric::new("smk-gb", 2).expect("fabric");
    let (a, b) = (fab.node(1), fab.node(2));
    let (a4, b4) = (a.v4.to_string(), b.v4.to_string());
    let gobgp = Gobgp::start(&a.ns, &gobgp_conf(&a4, 65001, &[(&b4, 65002)])).expect("gobgp");
    let bird = Bird::start(&b.ns, &bird_conf(&b4, 65002, &[("gobgp", &a4, 65001)])).expect("bird");
    gobgp
        .wait_established(&b4, UP)
        .expect("gobgp sees Established");
    bird.wait_established(&a4, UP)
        .expect("bird sees Established");
}
