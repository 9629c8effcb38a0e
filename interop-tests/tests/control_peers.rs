//! Our control socket with real peers up: our bgpd on node 1 in an iBGP mesh (AS 64512, names
//! as Calico generates them) with BIRD 2.0.12 on node 2 and FRR 8.4 on node 3. Calico's
//! consumers (re-implemented in `control_calico`) read it; the real `birdc`/`birdcl` read it;
//! a bad command and 1 MiB of garbage get errors while both sessions stay up (neither our
//! `since` nor BIRD's changes, no second `established` event); `disable`/`enable` reach the
//! peer. The verbatim replies are printed for the record.

mod control_calico;

use std::path::Path;
use std::time::Duration;

use control_calico as calico;
use interop_tests::bgpd::{Bgpd, BgpdConfig, BgpdNeighbor};
use interop_tests::{require_root, wait_until, Bird, Fabric, Frr};

const AS: u32 = 64512;
const UP: Duration = Duration::from_secs(45);

fn bird_conf() -> String {
    format!(
        "log stderr all;\nrouter id 10.99.0.2;\nprotocol device {{}}\n\
         protocol bgp Mesh_10_99_0_1 {{\n  local 10.99.0.2 as {AS};\n  neighbor 10.99.0.1 as {AS};\n  \
         hold time 9;\n  keepalive time 3;\n  connect delay time 1;\n  connect retry time 2;\n  \
         error wait time 1, 4;\n  passive on;\n  ipv4 {{ import all; export none; }};\n}}\n"
    )
}

fn frr_conf() -> String {
    format!(
        "hostname frr\nlog stdout informational\nrouter bgp {AS}\n bgp router-id 10.99.0.3\n \
         no bgp ebgp-requires-policy\n neighbor 10.99.0.1 remote-as {AS}\n \
         neighbor 10.99.0.1 timers 3 9\n neighbor 10.99.0.1 timers connect 2\n \
         neighbor 10.99.0.1 passive\n"
    )
}

/// The raw reply bytes of `cmd` (greeting included), as a client that does not wait.
fn raw(socket: &Path, cmd: &str) -> String {
    let mut c = calico::Conn::dial(socket).expect("dial");
    c.write(&format!("{cmd}\n")).expect("write");
    let mut out = String::new();
    let mut greeted = false;
    while let Ok(Some(l)) = c.line() {
        out += &l;
        out.push('\n');
        let b = l.as_bytes();
        if b.len() >= 5 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b' ' {
            if greeted {
                break;
            }
            greeted = true;
        }
    }
    out
}

/// BIRD 2's `since` column for its session to us.
fn bird_since(bird: &Bird) -> String {
    let text = bird.birdc("show protocols Mesh_10_99_0_1").expect("birdc");
    text.lines()
        .find(|l| l.starts_with("Mesh_10_99_0_1"))
        .and_then(|l| l.split_whitespace().nth(4).map(str::to_owned))
        .unwrap_or_default()
}

#[test]
fn calico_reads_our_socket_with_bird_and_frr_peers_up() {
    if !require_root("calico_reads_our_socket_with_bird_and_frr_peers_up") {
        return;
    }
    let fab = Fabric::new("ctl-p", 3).expect("fabric");
    let bird = Bird::start(&fab.node(2).ns, &bird_conf()).expect("bird starts");
    let frr = Frr::start(&fab.node(3).ns, &frr_conf()).expect("frr starts");
    let config = BgpdConfig {
        router_id: "10.99.0.1".into(),
        local_as: AS,
        listen: vec!["10.99.0.1".into()],
        neighbors: vec![
            BgpdNeighbor::new("Mesh_10_99_0_2", "10.99.0.2", AS),
            BgpdNeighbor::new("Mesh_10_99_0_3", "10.99.0.3", AS),
        ],
    };
    let bgpd = Bgpd::start(&fab.node(1).ns, &config).expect("our bgpd starts");
    let sock = bgpd.dir().join("bgpd.ctl");
    let s = sock.to_str().expect("utf-8").to_owned();
    bgpd.wait_established("10.99.0.2", UP)
        .expect("BIRD session up");
    bgpd.wait_established("10.99.0.3", UP)
        .expect("FRR session up");
    bird.wait_established("10.99.0.1", UP)
        .expect("BIRD sees us");
    frr.wait_established("10.99.0.1", UP).expect("FRR sees us");
    wait_until("both rows up on the socket", UP, || {
        Ok(calico::get_peers(&sock, '.')
            .map(|p| p.len() == 2 && p.iter().all(|p| p.state == "up"))
            .unwrap_or(false))
    })
    .expect("rows up");

    let list = raw(&sock, "show protocols");
    let detail = raw(&sock, "show protocols all Mesh_10_99_0_2");
    eprintln!(
        "--- show protocols (raw):\n{list}--- show protocols all Mesh_10_99_0_2 (raw):\n{detail}"
    );
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(
        lines[0],
        format!("0001 BIRD {} ready.", calico::GREETING_VERSION)
    );
    assert_eq!(
        lines[1],
        "2002-name     proto    table    state  since       info"
    );
    // Non-BGP rows first (`static1`, and `kernel1`/`device1` with kernel writes on), as BIRD.
    assert!(lines[2].starts_with("1002-"), "{:?}", lines[2]);
    assert!(
        list.contains("static1  Static   master   up     "),
        "{list}"
    );
    let n = lines.len();
    assert!(lines[n - 3].starts_with(" Mesh_10_99_0_2 BGP      master   up     "));
    assert!(
        lines[n - 3].ends_with("    Established   "),
        "{:?}",
        lines[n - 3]
    );
    assert!(lines[n - 2].starts_with(" Mesh_10_99_0_3 BGP      master   up     "));
    assert_eq!(lines[n - 1], "0000 ");
    for want in [
        "   BGP state:          Established",
        "     Neighbor address: 10.99.0.2",
        "     Neighbor AS:      64512",
        "     Neighbor ID:      10.99.0.2",
        "     Session:          internal multihop AS4",
        "     Source address:   10.99.0.1",
    ] {
        assert!(detail.lines().any(|l| l == want), "{want:?} in\n{detail}");
    }
    assert!(detail.contains("     Hold timer:       "));
    assert!(detail.ends_with("\n \n0000 \n"));

    // Calico: readiness (young node needs all peers, then GR), calicoctl, status reporter.
    assert_eq!(calico::readiness(&sock, '.', true), Ok(()));
    assert_eq!(calico::readiness(&sock, '.', false), Ok(()));
    let peers = calico::get_peers(&sock, '.').expect("peers");
    let table = calico::calicoctl_table(&peers);
    assert_eq!(table[1][..3], ["10.99.0.2", "node-to-node mesh", "up"]);
    assert_eq!(table[1][4], "Established");
    assert_eq!(table[2][0], "10.99.0.3");
    let (reported, up) = calico::read_bird_peers(&sock, '.').expect("reporter");
    assert_eq!(up, 2);
    assert_eq!(reported[0].bgp_state, "Established");
    assert_eq!(reported[0].neighbor_address, "10.99.0.2");
    assert_eq!(reported[1].neighbor_address, "10.99.0.3");
    let st = calico::read_bird_status(&sock).expect("status");
    assert!(st.ready);
    assert_eq!(st.router_id, "10.99.0.1");
    // No blocks: only `direct1`'s device route of the node's fabric address.
    let routes = calico::read_bird_routes(&sock).expect("routes");
    assert_eq!(routes.len(), 1, "{routes:?}");
    assert_eq!(
        (
            routes[0].dest.as_str(),
            routes[0].kind.as_str(),
            routes[0].learned_from.as_str()
        ),
        ("10.99.0.0/24", "dev", "direct1")
    );
    assert!(routes[0].primary);
    assert!(
        list.contains("\n1002-direct1  Direct   master   up     "),
        "{list}"
    );

    // The real BIRD clients.
    let (rc, out, err) = calico::run(
        Path::new("/usr/sbin/birdc"),
        &["-s", &s, "show", "protocols"],
    );
    assert_eq!(rc, 0, "{err}");
    assert!(out.contains("Mesh_10_99_0_3 BGP      master   up"), "{out}");
    let (rc, out, _) = calico::run(Path::new("/usr/sbin/birdcl"), &["-s", &s, "show", "status"]);
    assert_eq!(rc, 0);
    assert!(
        out.starts_with(&format!("BIRD {} ready.\n", calico::GREETING_VERSION)),
        "{out}"
    );

    // A bad command and 1 MiB of garbage: errors, and the sessions do not notice.
    let since_before: Vec<String> = peers.iter().map(|p| p.since.clone()).collect();
    let bird_before = bird_since(&bird);
    assert_eq!(
        raw(&sock, "show bananas").lines().nth(1),
        Some("9001 syntax error")
    );
    let junk: Vec<u8> = (0..(1u32 << 20))
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    let out = calico::raw_exchange(&sock, &junk, Duration::from_millis(1500));
    assert!(out
        .lines()
        .skip(1)
        .all(|l| l.starts_with("9001 ") || l.starts_with("9000 ")));
    assert!(out.lines().count() > 1, "errors were answered");
    // Longer than the 9 s hold time: a stalled daemon would have lost both sessions.
    std::thread::sleep(Duration::from_secs(10));
    let after = calico::get_peers(&sock, '.').expect("peers after");
    let since_after: Vec<String> = after.iter().map(|p| p.since.clone()).collect();
    assert_eq!(since_before, since_after, "our sessions kept their uptime");
    assert!(after.iter().all(|p| p.bgp_state == "Established"));
    assert_eq!(
        bird_since(&bird),
        bird_before,
        "BIRD's session kept its uptime"
    );
    assert_eq!(bgpd.events("established", Some("10.99.0.2")).len(), 1);
    assert_eq!(bgpd.events("established", Some("10.99.0.3")).len(), 1);

    // disable reaches the peer (Cease); the peer vanishes from Calico's list; enable restores.
    let ctl = calico::bgpctl();
    let (rc, out, _) = calico::run(&ctl, &["-s", &s, "disable", "Mesh_10_99_0_2"]);
    assert_eq!(
        (rc, out.as_str()),
        (
            0,
            calico::client_output("Mesh_10_99_0_2: disabled").as_str()
        )
    );
    wait_until("BIRD to see the session down", UP, || {
        Ok(bird.bgp_state("10.99.0.1")?.as_deref() != Some("Established"))
    })
    .expect("BIRD sees the Cease");
    let peers = calico::get_peers(&sock, '.').expect("peers");
    assert_eq!(peers.len(), 1, "a down row has no info column: {peers:?}");
    assert_eq!(calico::readiness(&sock, '.', true), Ok(()));
    let (rc, _, _) = calico::run(&ctl, &["-s", &s, "enable", "Mesh_10_99_0_2"]);
    assert_eq!(rc, 0);
    bird.wait_established("10.99.0.1", UP)
        .expect("BIRD sees us again");
    let detail = raw(&sock, "show protocols all Mesh_10_99_0_2");
    eprintln!("--- after disable/enable:\n{detail}");
}
