//! ADD-PATH transmit (RFC 7911) by a route reflector, AS 64512, five nodes on one subnet:
//! node 1 reflects for four clients; BIRD 2.0.12 on nodes 2 and 3 both announce 10.64.9.0/26
//! (one range announced by two nodes, as a service range is); FRR 8.4.4 on node 4
//! (`maximum-paths ibgp 4`, zebra installing into its namespace's kernel; FRR advertises
//! ADD-PATH receive by default) and BIRD 2.0.12 on node 5 (`add paths rx`, kernel protocol with
//! `merge paths on`) read both paths from the reflector and install both next hops. When node 3
//! stops announcing, exactly its path goes at both clients (withdrawn by its path identifier).
//! - `we_reflect_every_path_to_add_path_clients`: our daemon reflects (`add_path = both` on
//!   every neighbor, as Calico's `add paths on`);
//! - `bird16_reflects_every_path_to_add_path_clients`: BIRD 1.6.8 (Calico's generation) in the
//!   same place with `add paths on`, the reference the first test matches.

mod routes_common;

use std::path::PathBuf;
use std::time::Duration;

use interop_tests::bgpd::Bgpd;
use interop_tests::dropin::bird16_available;
use interop_tests::{require_root, wait_until, Bird, Fabric, Frr, Netns, Proc, TempDir};
use routes_common as rc;

const AS: u32 = 64512;
const BLOCK: &str = "10.64.9.0/26";
const BIRD16: &str = "/tmp/bird16/usr/sbin/bird";
const BIRDC16: &str = "/tmp/bird16/usr/sbin/birdc";

/// The reflector under test.
enum Reflector {
    Ours(Bgpd),
    Bird16 {
        proc: Proc,
        ctl: PathBuf,
        _dir: TempDir,
    },
}

impl Reflector {
    fn birdc(&self, cmd: &str) -> String {
        match self {
            Reflector::Ours(b) => b.show(false, cmd).unwrap_or_default(),
            Reflector::Bird16 { ctl, .. } => {
                let ctl = ctl.to_string_lossy();
                let mut argv = vec!["-s", ctl.as_ref()];
                argv.extend(cmd.split_whitespace());
                interop_tests::command::run(BIRDC16, &argv).unwrap_or_default()
            }
        }
    }
}

fn ours(ns: &Netns) -> Reflector {
    let both = "route_reflector_client = true\nadd_path = { ipv4 = \"both\" }\n";
    let config = rc::ours(
        "10.99.0.1",
        AS,
        &["10.99.0.1"],
        &[
            ("10.99.0.2", AS, both),
            ("10.99.0.3", AS, both),
            ("10.99.0.4", AS, both),
            ("10.99.0.5", AS, both),
        ],
    );
    let top = "cluster_id = \"10.99.0.1\"\nip_pools = [{ cidr = \"10.64.0.0/16\" }]\n";
    Reflector::Ours(rc::start_ours(ns, &config, top))
}

fn bird16(ns: &Netns) -> Reflector {
    let mut conf = format!(
        "router id 10.99.0.1;\nlisten bgp address 10.99.0.1;\nprotocol device {{ scan time 2; }}\n\
         protocol direct {{ interface \"*\"; }}\n\
         template bgp reflected {{\n  local as {AS};\n  rr client;\n  rr cluster id 10.99.0.1;\n  \
         add paths on;\n  import all;\n  export all;\n  hold time 9;\n  keepalive time 3;\n  \
         connect delay time 1;\n  connect retry time 2;\n  error wait time 1,4;\n}}\n"
    );
    for n in 2..=5 {
        conf += &format!(
            "protocol bgp Mesh_10_99_0_{n} from reflected {{ neighbor 10.99.0.{n} as {AS}; \
             source address 10.99.0.1; }}\n"
        );
    }
    let dir = TempDir::new("bird16-rr").expect("temp dir");
    let path = dir.write("bird.conf", &conf).expect("config written");
    let ctl = dir.path().join("bird.ctl");
    let (path_s, ctl_s) = (path.to_string_lossy(), ctl.to_string_lossy());
    let proc = Proc::spawn_in(
        ns,
        "bird16",
        &[BIRD16, "-f", "-c", &path_s, "-s", &ctl_s],
        dir.path(),
    )
    .expect("BIRD 1.6.8 starts");
    let mut r = Reflector::Bird16 {
        proc,
        ctl,
        _dir: dir,
    };
    wait_until(
        "BIRD 1.6.8's birdc to answer",
        Duration::from_secs(10),
        || {
            if let Reflector::Bird16 { proc, .. } = &mut r {
                proc.check_alive()?;
            }
            Ok(r.birdc("show status").contains("Daemon is up"))
        },
    )
    .expect("BIRD 1.6.8 answers");
    r
}

/// BIRD 2 client reading ADD-PATH and merging equal paths into one kernel route.
fn bird_client_conf() -> String {
    format!(
        "log stderr all;\nrouter id 10.99.0.5;\nprotocol device {{}}\n\
         protocol direct {{ ipv4; }}\n\
         protocol kernel {{ ipv4 {{ export where source = RTS_BGP; }}; merge paths on; }}\n\
         protocol bgp reflector {{\n  local 10.99.0.5 as {AS};\n  neighbor 10.99.0.1 as {AS};\n  \
         hold time 9;\n  keepalive time 3;\n  connect delay time 1;\n  connect retry time 2;\n  \
         error wait time 1, 4;\n  ipv4 {{ import all; export none; add paths rx; }};\n}}\n"
    )
}

/// Next hops of BIRD's routes for `BLOCK`, sorted.
fn bird_next_hops(bird: &Bird) -> Vec<String> {
    let text = bird
        .birdc(&format!("show route {BLOCK} table master4"))
        .unwrap_or_default();
    let mut v: Vec<String> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("via "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    v.sort();
    v
}

/// Next hops of FRR's BGP paths for `BLOCK` and how many of them are in its multipath set.
fn frr_next_hops(frr: &Frr) -> (Vec<String>, usize) {
    let Some(v) = rc::frr_route(frr, BLOCK) else {
        return (Vec::new(), 0);
    };
    let paths = v["paths"].as_array().cloned().unwrap_or_default();
    let mut hops: Vec<String> = paths
        .iter()
        .filter_map(|p| p["nexthops"][0]["ip"].as_str().map(str::to_owned))
        .collect();
    hops.sort();
    let multi = paths
        .iter()
        .filter(|p| p["multipath"].as_bool() == Some(true))
        .count();
    (hops, multi)
}

/// Gateways of the kernel route for `BLOCK` in `ns` (one per ECMP next hop), sorted.
fn kernel_next_hops(ns: &Netns) -> Vec<String> {
    let text = ns.ip(&["route", "show", BLOCK]).unwrap_or_default();
    let mut v: Vec<String> = Vec::new();
    for w in text.split_whitespace().collect::<Vec<_>>().windows(2) {
        if w[0] == "via" {
            v.push(w[1].to_owned());
        }
    }
    v.sort();
    v
}

fn both() -> Vec<String> {
    vec!["10.99.0.2".to_owned(), "10.99.0.3".to_owned()]
}

fn only_node2() -> Vec<String> {
    vec!["10.99.0.2".to_owned()]
}

fn run(test: &str, start: fn(&Netns) -> Reflector) {
    let fabric = Fabric::new(&format!("ap-{}", std::process::id()), 5).expect("fabric");
    let reflector = start(&fabric.node(1).ns);
    let announcers: Vec<Bird> = [2u8, 3]
        .iter()
        .map(|n| {
            let me = format!("10.99.0.{n}");
            Bird::start(
                &fabric.node(*n).ns,
                &rc::bird_conf(&me, &[BLOCK], &[("up", &me, AS, "10.99.0.1", AS)]),
            )
            .expect("announcing BIRD starts")
        })
        .collect();
    let frr_conf = rc::frr_conf(AS, "10.99.0.4", &[("10.99.0.1", AS, "")], &[]).replace(
        " address-family ipv4 unicast\n",
        " address-family ipv4 unicast\n  maximum-paths ibgp 4\n",
    );
    let frr = Frr::start_with_fib(&fabric.node(4).ns, &frr_conf).expect("frr starts");
    let bird = Bird::start(&fabric.node(5).ns, &bird_client_conf()).expect("bird client starts");
    let (frr_ns, bird_ns) = (&fabric.node(4).ns, &fabric.node(5).ns);
    let state = || {
        format!(
            "{test}\nreflector:\n{}\n{}\nbird client:\n{}\nkernel {:?}\nfrr:\n{}\nkernel {:?}",
            reflector.birdc("show protocols"),
            reflector.birdc(&format!("show route {BLOCK} all")),
            bird.birdc(&format!("show route {BLOCK} table master4 all"))
                .unwrap_or_default(),
            kernel_next_hops(bird_ns),
            frr.vtysh(&format!("show bgp ipv4 unicast {BLOCK}"))
                .unwrap_or_default(),
            kernel_next_hops(frr_ns),
        )
    };
    rc::converge(
        "both clients read both paths and install both next hops",
        || {
            bird_next_hops(&bird) == both()
                && kernel_next_hops(bird_ns) == both()
                && frr_next_hops(&frr) == (both(), 2)
                && kernel_next_hops(frr_ns) == both()
        },
        state,
    );
    // The session to the BIRD client sends path identifiers and receives none (BIRD's
    // `add paths rx`), as BIRD 1.6 shows it.
    let detail = reflector.birdc("show protocols all Mesh_10_99_0_5");
    let session = detail
        .lines()
        .find(|l| l.trim_start().starts_with("Session:"))
        .unwrap_or_default();
    assert!(
        session.contains("add-path-tx") && !session.contains("add-path-rx"),
        "{detail}"
    );
    println!("{}", state());

    // Node 3 stops announcing: its path goes at both clients, node 2's stays.
    announcers[1].birdc("disable up").expect("birdc disable");
    rc::converge(
        "only node 2's path is left",
        || {
            bird_next_hops(&bird) == only_node2()
                && kernel_next_hops(bird_ns) == only_node2()
                && frr_next_hops(&frr).0 == only_node2()
                && kernel_next_hops(frr_ns) == only_node2()
        },
        state,
    );
}

#[test]
fn we_reflect_every_path_to_add_path_clients() {
    let test = "we_reflect_every_path_to_add_path_clients";
    if !require_root(test) {
        return;
    }
    run(test, ours);
}

#[test]
fn bird16_reflects_every_path_to_add_path_clients() {
    let test = "bird16_reflects_every_path_to_add_path_clients";
    if !require_root(test) || !bird16_available(test) {
        return;
    }
    run(test, bird16);
}
