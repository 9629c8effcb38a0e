//! Regenerates the BGP codec test vectors under `bgp-proto/tests/vectors/` from real peers.
//!
//! Usage (as root): `cargo run -p interop-tests --bin capture_vectors [OUT_DIR] [SCENARIO...]`.
//! Each scenario builds a fabric, starts tcpdump on its bridge, runs BIRD / FRR / GoBGP with
//! many capabilities on, drives route changes, route refreshes and NOTIFICATIONs through their
//! CLIs, then splits the capture into one hex file per sender / receiver / connection.

use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::Duration;

use interop_tests::{require_root, Bird, Capture, Fabric, Frr, Gobgp, Result};

const BIRD_V: &str = "bird-2.0.12";
const FRR_V: &str = "frr-8.4.4";
const GOBGP_V: &str = "gobgp-3.10.0";
const UP: Duration = Duration::from_secs(40);

struct Ctx {
    script: PathBuf,
    out: PathBuf,
}

fn main() {
    if !require_root("capture_vectors") {
        return;
    }
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut args = std::env::args().skip(1);
    let out = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| crate_dir.join("../bgp-proto/tests/vectors"));
    let only: Vec<String> = args.collect();
    let ctx = Ctx {
        script: crate_dir.join("scripts/split_bgp_pcap.py"),
        out,
    };
    type Scenario = fn(&Ctx) -> Result<String>;
    let scenarios: [(&str, Scenario); 5] = [
        ("ebgp-as4-addpath", ebgp_as4_addpath),
        ("ebgp-as2", ebgp_as2),
        ("gobgp-ebgp", gobgp_ebgp),
        ("ibgp-rr", ibgp_rr),
        ("notifications", notifications),
    ];
    let mut failed = false;
    for (name, f) in scenarios {
        if !only.is_empty() && !only.iter().any(|o| o == name) {
            continue;
        }
        eprintln!("== scenario {name}");
        match f(&ctx) {
            Ok(files) => eprintln!("{files}"),
            Err(e) => {
                eprintln!("scenario {name} failed: {e}");
                failed = true;
            }
        }
    }
    if failed {
        std::process::exit(1);
    }
}

fn settle(secs: u64) {
    sleep(Duration::from_secs(secs));
}

/// BIRD (AS 4200000001) <-> FRR (AS 4200000002): one session over IPv4 carrying IPv4 and IPv6
/// unicast with ADD-PATH, GR/LLGR, extended messages, roles; one over IPv6 carrying IPv4 with
/// extended next hop. Then route refreshes both ways, withdrawals, and Cease from each side.
fn ebgp_as4_addpath(ctx: &Ctx) -> Result<String> {
    let fab = Fabric::new("cap-as4", 2)?;
    let (b, f) = (fab.node(1), fab.node(2));
    let cap = Capture::start(&fab)?;
    let bird_conf = r#"router id 10.99.0.1;
protocol device {}
protocol static s4 { ipv4; route 10.99.101.0/24 blackhole; route 10.99.102.0/24 blackhole; route 10.99.103.0/24 blackhole; }
protocol static s6 { ipv6; route fd99:101::/48 blackhole; route fd99:102::/48 blackhole; }
filter out4 {
  if net = 10.99.103.0/24 then {
BIG_COMMUNITIES
  }
  if net = 10.99.101.0/24 then {
    bgp_community.add((65000,100)); bgp_community.add((65535,65281));
    bgp_large_community.add((4200000001,1,2));
    bgp_ext_community.add((rt, 65000, 42)); bgp_ext_community.add((rt, 4200000001, 7));
    bgp_ext_community.add((ro, 10.99.0.1, 3));
    bgp_med = 50; bgp_path.prepend(4200000001); bgp_path.prepend(64512);
  }
  accept;
}
filter out6 {
  bgp_community.add((65000,600)); bgp_large_community.add((4200000001,6,6)); bgp_med = 60;
  accept;
}
protocol bgp frr {
  local 10.99.0.1 as 4200000001;
  neighbor 10.99.0.2 as 4200000002;
  connect delay time 1; connect retry time 2; error wait time 1, 5;
  graceful restart on; long lived graceful restart on;
  enable extended messages on;
  local role customer;
  ipv4 { import all; export filter out4; add paths on; };
  ipv6 { import all; export filter out6; add paths on; next hop address fd99::1; };
}
protocol bgp frr6 {
  local fd99::1 as 4200000001;
  neighbor fd99::2 as 4200000002;
  connect delay time 1; connect retry time 2; error wait time 1, 5;
  graceful restart on; long lived graceful restart on;
  enable extended messages on;
  ipv4 { import all; export filter out4; extended next hop on; };
}
"#;
    let frr_conf = r#"hostname frr-as4
router bgp 4200000002
 bgp router-id 10.99.0.2
 no bgp ebgp-requires-policy
 no bgp network import-check
 bgp graceful-restart
 bgp long-lived-graceful-restart stale-time 20
 neighbor 10.99.0.1 remote-as 4200000001
 neighbor 10.99.0.1 timers connect 2
 neighbor 10.99.0.1 local-role provider
 neighbor fd99::1 remote-as 4200000001
 neighbor fd99::1 timers connect 2
 neighbor fd99::1 capability extended-nexthop
 address-family ipv4 unicast
  network 10.99.201.0/24 route-map SETA
  network 10.99.202.0/24
  aggregate-address 10.99.200.0/22
  neighbor 10.99.0.1 addpath-tx-all-paths
  neighbor fd99::1 activate
 exit-address-family
 address-family ipv6 unicast
  network fd99:201::/48 route-map SETB
  network fd99:202::/48
  neighbor 10.99.0.1 activate
  neighbor 10.99.0.1 addpath-tx-all-paths
 exit-address-family
route-map SETA permit 10
 set community 65000:1 65000:2 graceful-shutdown
 set large-community 4200000002:3:4
 set extcommunity rt 65000:77
 set metric 123
 set as-path prepend 4200000002 4200000002
route-map SETB permit 10
 set community 65000:9
 set large-community 4200000002:5:6
 set metric 9
"#;
    // 1100 communities (4400 bytes) make one UPDATE longer than 4096 bytes: RFC 8654.
    let big: String = (1000..2100)
        .map(|n| format!("    bgp_community.add((65000,{n}));\n"))
        .collect();
    let bird_conf = bird_conf.replace("BIG_COMMUNITIES\n", &big);
    let bird = Bird::start(&b.ns, &bird_conf)?;
    let frr = Frr::start(&f.ns, frr_conf)?;
    if let Err(e) = bird.wait_established("10.99.0.2", UP) {
        eprintln!(
            "{}",
            bird.birdc("show protocols all frr").unwrap_or_default()
        );
        eprintln!(
            "{}",
            frr.vtysh("show bgp neighbors 10.99.0.1")
                .unwrap_or_default()
        );
        return Err(e);
    }
    frr.wait_established("10.99.0.1", UP)?;
    if let Err(e) = bird.wait_established("fd99::2", UP) {
        eprintln!(
            "{}",
            bird.birdc("show protocols all frr6").unwrap_or_default()
        );
        eprintln!(
            "{}",
            frr.vtysh("show bgp neighbors fd99::1").unwrap_or_default()
        );
        return Err(e);
    }
    frr.wait_established("fd99::1", UP)?;
    settle(5); // initial UPDATEs and End-of-RIB both ways
    bird.birdc("reload in frr")?; // ROUTE-REFRESH from BIRD
    frr.vtysh("clear bgp 10.99.0.1 soft in")?; // ROUTE-REFRESH from FRR
    settle(3);
    bird.birdc("disable s4")?; // IPv4 withdrawals
    bird.birdc("disable s6")?; // IPv6 MP_UNREACH
    frr.vtysh_lines(&[
        "configure terminal",
        "router bgp 4200000002",
        "address-family ipv4 unicast",
        "no network 10.99.202.0/24",
    ])?;
    settle(3);
    frr.vtysh_lines(&[
        "configure terminal",
        "router bgp 4200000002",
        "neighbor 10.99.0.1 shutdown message interop capture: frr admin shutdown",
    ])?;
    bird.birdc_args(&["disable", "frr6", "\"interop capture: bird disables frr6\""])?;
    settle(2);
    cap.finish(
        &ctx.script,
        &ctx.out,
        "ebgp-as4-addpath",
        &[(b.v4.to_string(), BIRD_V), (b.v6.to_string(), BIRD_V), (f.v4.to_string(), FRR_V), (f.v6.to_string(), FRR_V)],
        &["eBGP BIRD AS4200000001 <-> FRR AS4200000002; IPv4 transport session carries ipv4+ipv6 unicast, IPv6 transport session carries ipv4 unicast with extended next hop",
          "events: initial routes + End-of-RIB, ROUTE-REFRESH both ways (BIRD reload in, FRR clear soft in), withdrawals, FRR neighbor shutdown message, BIRD disable with message"],
    )
}

/// The GoBGP TOML for one neighbor with ipv4 and ipv6 unicast, GR + LLGR and ADD-PATH.
fn gobgp_neighbor(addr: &str, peer_as: u32, addpath: bool, ibgp_llgr: bool) -> String {
    let mut s = format!(
        "[[neighbors]]\n  [neighbors.config]\n    neighbor-address = \"{addr}\"\n    peer-as = {peer_as}\n  \
         [neighbors.timers.config]\n    connect-retry = 2\n  \
         [neighbors.graceful-restart.config]\n    enabled = true\n    restart-time = 120\n    \
         long-lived-enabled = {ibgp_llgr}\n"
    );
    for fam in ["ipv4-unicast", "ipv6-unicast"] {
        s += &format!(
            "  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = \"{fam}\"\n    \
             [neighbors.afi-safis.mp-graceful-restart.config]\n      enabled = true\n"
        );
        if ibgp_llgr {
            s += "    [neighbors.afi-safis.long-lived-graceful-restart.config]\n      enabled = true\n      restart-time = 3600\n";
        }
        if addpath {
            s += "    [neighbors.afi-safis.add-paths.config]\n      receive = true\n      send-max = 8\n";
        }
    }
    s
}

/// BIRD (AS 65001, `enable as4 off`) <-> FRR (AS 65002): 2-octet AS session where both sides
/// carry 4-octet AS numbers in their paths (AS4_PATH, AS_TRANS), FRR aggregates BIRD's routes
/// with `as-set`; a second session over IPv6 where FRR expects the wrong AS (OPEN error).
fn ebgp_as2(ctx: &Ctx) -> Result<String> {
    let fab = Fabric::new("cap-as2", 2)?;
    let (b, f) = (fab.node(1), fab.node(2));
    let cap = Capture::start(&fab)?;
    let bird_conf = r#"router id 10.99.0.1;
protocol device {}
protocol static s4 { ipv4; route 10.99.101.0/24 blackhole; route 10.99.102.0/24 blackhole; route 10.99.103.0/24 blackhole; }
protocol static s6 { ipv6; route fd99:101::/48 blackhole; }
filter out4 {
  if net = 10.99.101.0/24 then { bgp_path.prepend(4200000001); bgp_community.add((65001,1)); bgp_ext_community.add((rt, 65001, 1)); }
  if net = 10.99.102.0/24 then { bgp_origin = ORIGIN_INCOMPLETE; bgp_med = 7; }
  accept;
}
protocol bgp frr {
  local 10.99.0.1 as 65001;
  neighbor 10.99.0.2 as 65002;
  connect delay time 1; connect retry time 2; error wait time 1, 5;
  enable as4 off;
  graceful restart on;
  ipv4 { import all; export filter out4; };
  ipv6 { import all; export all; next hop address fd99::1; };
}
protocol bgp frr_wrong_as {
  local fd99::1 as 65001;
  neighbor fd99::2 as 65002;
  connect delay time 1; connect retry time 2; error wait time 2, 4;
  enable as4 off;
  ipv4 { import all; export all; };
}
"#;
    let frr_conf = r#"hostname frr-as2
router bgp 65002
 bgp router-id 10.99.0.2
 no bgp ebgp-requires-policy
 no bgp network import-check
 bgp graceful-restart
 neighbor 10.99.0.1 remote-as 65001
 neighbor 10.99.0.1 timers connect 2
 neighbor fd99::1 remote-as 65077
 neighbor fd99::1 timers connect 2
 address-family ipv4 unicast
  network 10.99.221.0/24 route-map AS4
  aggregate-address 10.99.100.0/22 as-set
  neighbor fd99::1 activate
 exit-address-family
 address-family ipv6 unicast
  network fd99:221::/48 route-map AS4
  neighbor 10.99.0.1 activate
 exit-address-family
route-map AS4 permit 10
 set as-path prepend 4200000009 65010
 set community 65002:221 65002:2
 set large-community 65002:1:221
 set origin egp
"#;
    let bird = Bird::start(&b.ns, bird_conf)?;
    let frr = Frr::start(&f.ns, frr_conf)?;
    if let Err(e) = bird.wait_established("10.99.0.2", UP) {
        eprintln!(
            "{}",
            bird.birdc("show protocols all frr").unwrap_or_default()
        );
        eprintln!(
            "{}",
            frr.vtysh("show bgp neighbors 10.99.0.1")
                .unwrap_or_default()
        );
        return Err(e);
    }
    frr.wait_established("10.99.0.1", UP)?;
    settle(6);
    bird.birdc("reload in frr")?; // plain ROUTE-REFRESH (no enhanced RR on this FRR session? see header)
    settle(2);
    bird.birdc("disable s4")?;
    settle(3);
    bird.birdc_args(&[
        "disable",
        "frr",
        "\"interop capture: bird maintenance on a 2-octet AS session\"",
    ])?;
    settle(2);
    cap.finish(
        &ctx.script,
        &ctx.out,
        "ebgp-as2",
        &[(b.v4.to_string(), BIRD_V), (b.v6.to_string(), BIRD_V), (f.v4.to_string(), FRR_V), (f.v6.to_string(), FRR_V)],
        &["eBGP BIRD AS65001 (enable as4 off) <-> FRR AS65002; IPv4 transport carries ipv4+ipv6 unicast with 4-octet ASNs in paths (AS_TRANS + AS4_PATH)",
          "FRR aggregates BIRD's 10.99.100.0/22 with as-set; over IPv6 transport FRR expects AS65077, so the BIRD session fails with an OPEN error (Bad Peer AS)",
          "events: initial routes + End-of-RIB, BIRD reload in (ROUTE-REFRESH), BIRD static withdrawal, BIRD disable with shutdown message"],
    )
}

/// GoBGP (AS 4200000003) <-> FRR (AS 4200000002) and <-> BIRD (AS 4200000001), with ADD-PATH,
/// GR + LLGR, both families; a third session where BIRD expects the wrong AS.
fn gobgp_ebgp(ctx: &Ctx) -> Result<String> {
    let fab = Fabric::new("cap-gob", 3)?;
    let (g, f, b) = (fab.node(1), fab.node(2), fab.node(3));
    let cap = Capture::start(&fab)?;
    let mut toml = "[global.config]\n  as = 4200000003\n  router-id = \"10.99.0.1\"\n".to_owned();
    toml += &gobgp_neighbor("10.99.0.2", 4200000002, true, true);
    toml += &gobgp_neighbor("10.99.0.3", 4200000001, true, true);
    toml += &gobgp_neighbor("fd99::3", 4200000001, false, false);
    let frr_conf = r#"hostname frr-gob
router bgp 4200000002
 bgp router-id 10.99.0.2
 no bgp ebgp-requires-policy
 no bgp network import-check
 bgp graceful-restart
 bgp long-lived-graceful-restart stale-time 20
 neighbor 10.99.0.1 remote-as 4200000003
 neighbor 10.99.0.1 timers connect 2
 address-family ipv4 unicast
  network 10.99.232.0/24 route-map R
  neighbor 10.99.0.1 addpath-tx-all-paths
 exit-address-family
 address-family ipv6 unicast
  network fd99:232::/48 route-map R
  neighbor 10.99.0.1 activate
  neighbor 10.99.0.1 addpath-tx-all-paths
 exit-address-family
route-map R permit 10
 set community 4200:2 65000:232
 set large-community 4200000002:232:1
 set extcommunity rt 4200000002:232
 set metric 232
"#;
    let bird_conf = r#"router id 10.99.0.3;
protocol device {}
protocol static s4 { ipv4; route 10.99.233.0/24 blackhole; }
protocol static s6 { ipv6; route fd99:233::/48 blackhole; }
filter to_gobgp { bgp_large_community.add((4200000001,233,1)); bgp_community.add((65000,233)); accept; }
protocol bgp gobgp {
  local 10.99.0.3 as 4200000001;
  neighbor 10.99.0.1 as 4200000003;
  connect delay time 1; connect retry time 2; error wait time 1, 5;
  graceful restart on; long lived graceful restart on;
  ipv4 { import all; export filter to_gobgp; add paths on; };
  ipv6 { import all; export filter to_gobgp; add paths on; next hop address fd99::3; };
}
protocol bgp gobgp_wrong_as {
  local fd99::3 as 4200000001;
  neighbor fd99::1 as 65099;
  connect delay time 1; connect retry time 2; error wait time 2, 4;
  ipv4 { import all; export all; };
}
"#;
    let gobgp = Gobgp::start(&g.ns, &toml)?;
    let frr = Frr::start(&f.ns, frr_conf)?;
    let bird = Bird::start(&b.ns, bird_conf)?;
    gobgp.wait_established("10.99.0.2", UP)?;
    frr.wait_established("10.99.0.1", UP)?;
    gobgp.wait_established("10.99.0.3", UP)?;
    bird.wait_established("10.99.0.1", UP)?;
    settle(3);
    gobgp.gobgp(&[
        "global",
        "rib",
        "add",
        "-a",
        "ipv4",
        "10.99.31.0/24",
        "origin",
        "igp",
        "med",
        "31",
        "community",
        "65000:31,65000:32,no-export",
        "large-community",
        "4200000003:31:1",
        "aggregator",
        "4200000003:10.99.0.1",
    ])?;
    gobgp.gobgp(&[
        "global",
        "rib",
        "add",
        "-a",
        "ipv4",
        "10.99.32.0/24",
        "origin",
        "incomplete",
        "aspath",
        "64999,4200000077",
    ])?;
    gobgp.gobgp(&[
        "global",
        "rib",
        "add",
        "-a",
        "ipv6",
        "fd99:31::/48",
        "med",
        "61",
        "community",
        "65000:61",
        "large-community",
        "4200000003:61:1",
    ])?;
    settle(4);
    gobgp.gobgp(&["neighbor", "10.99.0.2", "softresetin"])?; // ROUTE-REFRESH from GoBGP
    frr.vtysh("clear bgp 10.99.0.1 soft in")?; // ROUTE-REFRESH to GoBGP
    bird.birdc("reload in gobgp")?;
    settle(3);
    gobgp.gobgp(&["global", "rib", "del", "-a", "ipv4", "10.99.32.0/24"])?;
    gobgp.gobgp(&["global", "rib", "del", "-a", "ipv6", "fd99:31::/48"])?;
    settle(2);
    gobgp.gobgp(&[
        "neighbor",
        "10.99.0.3",
        "shutdown",
        "--reason",
        "interop capture: gobgp shutdown",
    ])?;
    frr.vtysh("clear bgp 10.99.0.1")?; // Cease / administrative reset, then a new session
    frr.wait_established("10.99.0.1", UP)?;
    settle(4);
    cap.finish(
        &ctx.script,
        &ctx.out,
        "gobgp-ebgp",
        &[(g.v4.to_string(), GOBGP_V), (g.v6.to_string(), GOBGP_V), (f.v4.to_string(), FRR_V),
          (b.v4.to_string(), BIRD_V), (b.v6.to_string(), BIRD_V)],
        &["eBGP GoBGP AS4200000003 <-> FRR AS4200000002 and <-> BIRD AS4200000001 (IPv4 transport, ipv4+ipv6 unicast, ADD-PATH, GR+LLGR); over IPv6 BIRD expects AS65099 (OPEN error)",
          "events: GoBGP routes added/withdrawn by CLI, ROUTE-REFRESH from each daemon, GoBGP neighbor shutdown with reason to BIRD, FRR clear bgp (Cease admin reset) then a second GoBGP-FRR connection"],
    )
}

/// iBGP AS 65000: FRR route reflector with BIRD and GoBGP as clients; LOCAL_PREF, ORIGINATOR_ID
/// and CLUSTER_LIST on reflected routes, both families.
fn ibgp_rr(ctx: &Ctx) -> Result<String> {
    let fab = Fabric::new("cap-rr", 3)?;
    let (f, b, g) = (fab.node(1), fab.node(2), fab.node(3));
    let cap = Capture::start(&fab)?;
    let frr_conf = r#"hostname frr-rr
router bgp 65000
 bgp router-id 10.99.0.1
 bgp cluster-id 10.99.0.100
 no bgp network import-check
 bgp graceful-restart
 neighbor 10.99.0.2 remote-as 65000
 neighbor 10.99.0.2 timers connect 2
 neighbor 10.99.0.2 timers 1 3
 neighbor 10.99.0.3 remote-as 65000
 neighbor 10.99.0.3 timers connect 2
 address-family ipv4 unicast
  network 10.99.41.0/24 route-map LP
  neighbor 10.99.0.2 route-reflector-client
  neighbor 10.99.0.3 route-reflector-client
 exit-address-family
 address-family ipv6 unicast
  network fd99:41::/48 route-map LP
  neighbor 10.99.0.2 activate
  neighbor 10.99.0.2 route-reflector-client
  neighbor 10.99.0.3 activate
  neighbor 10.99.0.3 route-reflector-client
 exit-address-family
route-map LP permit 10
 set local-preference 300
 set community 65000:41
 set extcommunity soo 65000:41
"#;
    let bird_conf = r#"router id 10.99.0.2;
protocol device {}
protocol static s4 { ipv4; route 10.99.42.0/24 blackhole; route 10.99.43.0/24 blackhole; }
protocol static s6 { ipv6; route fd99:42::/48 blackhole; }
filter lp { bgp_local_pref = 200; bgp_community.add((65000,42)); bgp_ext_community.add((rt, 65000, 42)); accept; }
protocol bgp to_rr {
  local 10.99.0.2 as 65000;
  neighbor 10.99.0.1 as 65000;
  connect delay time 1; connect retry time 2; error wait time 1, 5; hold time 3;
  graceful restart on;
  ipv4 { import all; export filter lp; };
  ipv6 { import all; export filter lp; next hop address fd99::2; };
}
"#;
    let mut toml = "[global.config]\n  as = 65000\n  router-id = \"10.99.0.3\"\n".to_owned();
    toml += &gobgp_neighbor("10.99.0.1", 65000, false, false);
    let frr = Frr::start(&f.ns, frr_conf)?;
    let bird = Bird::start(&b.ns, bird_conf)?;
    let gobgp = Gobgp::start(&g.ns, &toml)?;
    bird.wait_established("10.99.0.1", UP)?;
    gobgp.wait_established("10.99.0.1", UP)?;
    frr.wait_established("10.99.0.2", UP)?;
    frr.wait_established("10.99.0.3", UP)?;
    gobgp.gobgp(&[
        "global",
        "rib",
        "add",
        "-a",
        "ipv4",
        "10.99.43.0/24",
        "local-pref",
        "150",
        "community",
        "65000:43",
        "med",
        "43",
    ])?;
    gobgp.gobgp(&[
        "global",
        "rib",
        "add",
        "-a",
        "ipv6",
        "fd99:43::/48",
        "local-pref",
        "150",
    ])?;
    settle(6);
    frr.vtysh("clear bgp 10.99.0.3 soft in")?;
    settle(2);
    gobgp.gobgp(&["global", "rib", "del", "-a", "ipv4", "10.99.43.0/24"])?;
    settle(3);
    // Freeze BIRD past its 3 s hold time: FRR sends Hold Timer Expired (RFC 4271 §6.5).
    let pid = bird.pid().to_string();
    interop_tests::command::run("kill", &["-STOP", &pid])?;
    settle(5);
    interop_tests::command::run("kill", &["-CONT", &pid])?;
    bird.wait_established("10.99.0.1", UP)?;
    settle(3);
    bird.birdc("disable to_rr")?; // Cease, administrative shutdown without a message
    gobgp.gobgp(&["neighbor", "10.99.0.1", "reset"])?; // Cease, administrative reset
    settle(3);
    cap.finish(
        &ctx.script,
        &ctx.out,
        "ibgp-rr",
        &[(f.v4.to_string(), FRR_V), (b.v4.to_string(), BIRD_V), (g.v4.to_string(), GOBGP_V)],
        &["iBGP AS65000: FRR route reflector (cluster-id 10.99.0.100) with clients BIRD and GoBGP; ipv4+ipv6 unicast over IPv4 transport",
          "events: routes with LOCAL_PREF from each, reflected with ORIGINATOR_ID/CLUSTER_LIST, FRR clear soft in to GoBGP, GoBGP withdrawal, BIRD frozen (SIGSTOP) past hold time 3 s so FRR sends Hold Timer Expired, new BIRD session, BIRD disable (no message), GoBGP neighbor reset"],
    )
}

/// Sessions that fail on purpose, for NOTIFICATION vectors: BGP role mismatch (RFC 9234),
/// strict roles, prefix limits (Cease subcode 1, RFC 4486), strict capability match
/// (Unsupported Capability) and an unacceptable hold time.
fn notifications(ctx: &Ctx) -> Result<String> {
    let fab = Fabric::new("cap-ntf", 3)?;
    let (b, f, g) = (fab.node(1), fab.node(2), fab.node(3));
    let cap = Capture::start(&fab)?;
    let bird_conf = r#"router id 10.99.0.1;
protocol device {}
protocol static s4 { ipv4; route 10.99.51.0/24 blackhole; route 10.99.52.0/24 blackhole; route 10.99.53.0/24 blackhole; }
protocol bgp frr_role {
  local 10.99.0.1 as 65001; neighbor 10.99.0.2 as 65002;
  connect delay time 1; connect retry time 2; error wait time 30, 60;
  local role provider;
  ipv4 { import all; export all; };
}
protocol bgp frr_limit {
  local fd99::1 as 65001; neighbor fd99::2 as 65002;
  connect delay time 1; connect retry time 2; error wait time 30, 60;
  ipv4 { import all; export all; extended next hop on; };
}
protocol bgp gobgp_limit {
  local 10.99.0.1 as 65001; neighbor 10.99.0.3 as 65003;
  connect delay time 1; connect retry time 2; error wait time 30, 60;
  ipv4 { import all; export all; receive limit 1 action disable; };
}
protocol bgp gobgp_strict_role {
  local fd99::1 as 65001; neighbor fd99::3 as 65003;
  connect delay time 1; connect retry time 2; error wait time 30, 60;
  local role provider; require roles on;
  ipv4 { import all; export all; };
}
"#;
    let frr_conf = r#"hostname frr-ntf
router bgp 65002
 bgp router-id 10.99.0.2
 no bgp ebgp-requires-policy
 neighbor 10.99.0.1 remote-as 65001
 neighbor 10.99.0.1 timers connect 2
 neighbor 10.99.0.1 local-role provider
 neighbor fd99::1 remote-as 65001
 neighbor fd99::1 timers connect 2
 neighbor fd99::1 capability extended-nexthop
 neighbor 10.99.0.3 remote-as 65003
 neighbor 10.99.0.3 timers connect 2
 neighbor fd99::3 remote-as 65003
 neighbor fd99::3 timers connect 2
 neighbor fd99::3 strict-capability-match
 address-family ipv4 unicast
  neighbor fd99::3 activate
  neighbor fd99::1 activate
  neighbor fd99::1 maximum-prefix 1
 exit-address-family
"#;
    let mut toml = "[global.config]\n  as = 65003\n  router-id = \"10.99.0.3\"\n".to_owned();
    toml += &gobgp_neighbor("10.99.0.1", 65001, false, false);
    toml += &gobgp_neighbor("fd99::1", 65001, false, false);
    toml += &gobgp_neighbor("fd99::2", 65002, false, false);
    toml += "[[neighbors]]\n  [neighbors.config]\n    neighbor-address = \"10.99.0.2\"\n    peer-as = 65002\n  \
             [neighbors.timers.config]\n    connect-retry = 2\n    hold-time = 2\n    keepalive-interval = 1\n";
    let bird = Bird::start(&b.ns, bird_conf)?;
    let frr = Frr::start(&f.ns, frr_conf)?;
    let gobgp = Gobgp::start(&g.ns, &toml)?;
    for p in ["10.99.51.0/24", "10.99.52.0/24", "10.99.53.0/24"] {
        gobgp.gobgp(&["global", "rib", "add", "-a", "ipv4", p])?;
    }
    // The failures need a few connect attempts; give every pair time to meet.
    settle(15);
    let state = bird.birdc("show protocols")? + &frr.vtysh("show bgp summary")?;
    cap.finish(
        &ctx.script,
        &ctx.out,
        "notifications",
        &[(b.v4.to_string(), BIRD_V), (b.v6.to_string(), BIRD_V), (f.v4.to_string(), FRR_V),
          (f.v6.to_string(), FRR_V), (g.v4.to_string(), GOBGP_V), (g.v6.to_string(), GOBGP_V)],
        &["failing sessions: BIRD<->FRR over IPv4 both claim role provider (Role Mismatch); BIRD->FRR over IPv6 sends 3 routes to FRR maximum-prefix 1 (Cease/Maximum Number of Prefixes Reached)",
          "GoBGP->BIRD over IPv4 sends 3 routes to BIRD receive limit 1 (Cease/1); BIRD over IPv6 has local role provider + require roles and GoBGP sends no role (Role Mismatch); GoBGP offers hold time 2 to FRR over IPv4 (Unacceptable Hold Time); FRR strict-capability-match with GoBGP over IPv6 (Unsupported Capability)"],
    )
    .map(|files| format!("{files}\nBIRD and FRR sessions at the end:\n{state}"))
}
