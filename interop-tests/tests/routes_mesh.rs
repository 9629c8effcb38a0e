//! Routes through our daemon in Calico's default topology, a full iBGP mesh (AS 64512): our
//! bgpd (node 1), BIRD 2.0.12 (node 2) and GoBGP 3.10 (node 3), one session per pair and
//! family. Each node announces its blocks (ours from `local_blocks`, BIRD's from static
//! routes, GoBGP's with `gobgp global rib add`); every node must end with every other node's
//! blocks, IPv4 and IPv6, in its own RIB. Then BIRD stops and its blocks leave ours and GoBGP's.

mod control_calico;
mod routes_common;

use interop_tests::{require_root, Bird, Fabric, Gobgp};
use routes_common as rc;

const AS: u32 = 64512;

fn bird_conf() -> String {
    let mut s = String::from(
        "log stderr all;\nrouter id 10.99.0.2;\nprotocol device {}\n\
         protocol direct { ipv4; ipv6; }\n\
         protocol static s4 { ipv4; route 10.64.2.0/26 blackhole; }\n\
         protocol static s6 { ipv6; route fd64:0:2::/122 blackhole; }\n\
         template bgp mesh {\n  hold time 9;\n  keepalive time 3;\n  connect delay time 1;\n  \
         connect retry time 2;\n  error wait time 1, 4;\n}\n",
    );
    for (name, local, peer) in [
        ("n1v4", "10.99.0.2", "10.99.0.1"),
        ("n3v4", "10.99.0.2", "10.99.0.3"),
        ("n1v6", "fd99::2", "fd99::1"),
        ("n3v6", "fd99::2", "fd99::3"),
    ] {
        let ch = if peer.contains(':') { "ipv6" } else { "ipv4" };
        s += &format!(
            "protocol bgp {name} from mesh {{\n  local {local} as {AS};\n  neighbor {peer} as {AS};\n  \
             {ch} {{ import all; export where source = RTS_STATIC; next hop self; }};\n}}\n"
        );
    }
    s
}

#[test]
fn full_mesh_with_bird_and_gobgp_exchanges_every_block_v4_and_v6() {
    if !require_root("full_mesh_with_bird_and_gobgp_exchanges_every_block_v4_and_v6") {
        return;
    }
    let fabric = Fabric::new(&format!("rm-{}", std::process::id()), 3).expect("fabric");
    let config = rc::ours(
        "10.99.0.1",
        AS,
        &["10.99.0.1", "fd99::1"],
        &[
            ("10.99.0.2", AS, ""),
            ("fd99::2", AS, ""),
            ("10.99.0.3", AS, ""),
            ("fd99::3", AS, ""),
        ],
    );
    let top = "local_blocks = [\"10.64.1.0/26\", \"fd64:0:1::/122\"]\n\
               ip_pools = [{ cidr = \"10.64.0.0/16\" }, { cidr = \"fd64::/32\" }]\n";
    let ours = rc::start_ours(&fabric.node(1).ns, &config, top);
    let bird = Bird::start(&fabric.node(2).ns, &bird_conf()).expect("bird starts");
    let gobgp = Gobgp::start(
        &fabric.node(3).ns,
        &rc::gobgp_conf(
            AS,
            "10.99.0.3",
            &[
                ("10.99.0.1", AS),
                ("fd99::1", AS),
                ("10.99.0.2", AS),
                ("fd99::2", AS),
            ],
        ),
    )
    .expect("gobgp starts");
    gobgp
        .gobgp(&["global", "rib", "add", "10.64.3.0/26", "-a", "ipv4"])
        .expect("gobgp add v4");
    gobgp
        .gobgp(&["global", "rib", "add", "fd64:0:3::/122", "-a", "ipv6"])
        .expect("gobgp add v6");

    let blocks = [
        ("10.64.1.0/26", 1),
        ("fd64:0:1::/122", 1),
        ("10.64.2.0/26", 2),
        ("fd64:0:2::/122", 2),
        ("10.64.3.0/26", 3),
        ("fd64:0:3::/122", 3),
    ];
    let state = || {
        format!(
            "ours v4:\n{}\nours v6:\n{}\nbird:\n{}\n{}\ngobgp:\n{}\n{}",
            ours.show(false, "show route").unwrap_or_default(),
            ours.show(true, "show route").unwrap_or_default(),
            bird.birdc("show route table master4").unwrap_or_default(),
            bird.birdc("show route table master6").unwrap_or_default(),
            gobgp
                .gobgp(&["global", "rib", "-a", "ipv4"])
                .unwrap_or_default(),
            gobgp
                .gobgp(&["global", "rib", "-a", "ipv6"])
                .unwrap_or_default(),
        )
    };
    rc::converge(
        "every node has every other node's blocks",
        || {
            blocks.iter().all(|(p, owner)| {
                (*owner == 1 || rc::ours_has(&ours, p))
                    && (*owner == 2 || rc::bird_has(&bird, p))
                    && (*owner == 3 || rc::gobgp_has(&gobgp, p))
            })
        },
        state,
    );
    // Next hops: BIRD reaches our block via us, we reach BIRD's via BIRD.
    let r = rc::bird_route(&bird, "10.64.1.0/26");
    assert!(r.contains("via 10.99.0.1"), "{r}");
    let r6 = rc::bird_route(&bird, "fd64:0:1::/122");
    assert!(r6.contains("via fd99::1"), "{r6}");
    let mine = rc::our_routes(&ours, false);
    let line = mine
        .iter()
        .find(|(p, _)| p == "10.64.2.0/26")
        .map(|(_, l)| l.clone())
        .unwrap_or_default();
    assert!(line.contains("via 10.99.0.2"), "{line}");
    let gob = gobgp
        .gobgp_json(&["global", "rib", "-a", "ipv4", "-j"])
        .expect("gobgp rib");
    let nh = gob["10.64.1.0/26"][0]["attrs"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .find_map(|x| x["nexthop"].as_str().map(str::to_owned))
        })
        .unwrap_or_default();
    assert_eq!(nh, "10.99.0.1", "{gob}");
    // Calico's route status reader (`readBIRDRoutes`, re-implemented) accepts our table.
    let calico = control_calico::read_bird_routes(&ours.dir().join("bgpd.ctl"))
        .unwrap_or_else(|e| panic!("calico's parser: {e}\n{}", state()));
    let bird_block = calico
        .iter()
        .find(|r| r.dest == "10.64.2.0/26")
        .unwrap_or_else(|| panic!("{calico:?}"));
    assert_eq!(
        (
            bird_block.kind.as_str(),
            bird_block.gateway.as_str(),
            bird_block.interface.as_str(),
            bird_block.learned_from.as_str(),
            bird_block.primary
        ),
        ("via", "10.99.0.2", "eth0", "Mesh_10_99_0_2", true),
        "{calico:?}"
    );
    let own = calico.iter().find(|r| r.dest == "10.64.1.0/26");
    assert_eq!(
        own.map(|r| (r.kind.as_str(), r.learned_from.as_str())),
        Some(("blackhole", "static1")),
        "{calico:?}"
    );
    println!("mesh converged:\n{}", state());

    // BIRD goes away: its blocks leave our RIB and GoBGP's.
    drop(bird);
    rc::converge(
        "BIRD's blocks withdrawn everywhere",
        || {
            !rc::ours_has(&ours, "10.64.2.0/26")
                && !rc::ours_has(&ours, "fd64:0:2::/122")
                && !rc::gobgp_has(&gobgp, "10.64.2.0/26")
                && rc::gobgp_has(&gobgp, "10.64.1.0/26")
        },
        || {
            format!(
                "ours: {:?}\ngobgp: {}",
                rc::our_routes(&ours, false),
                gobgp
                    .gobgp(&["global", "rib", "-a", "ipv4"])
                    .unwrap_or_default()
            )
        },
    );
}
