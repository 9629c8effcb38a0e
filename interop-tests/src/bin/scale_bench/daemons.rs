//! The four daemons under test, configured alike for one [`Scenario`]: ours (TOML), BIRD 2.0.12
//! and BIRD 1.6.8 (Calico's `bird.cfg` shape: `bgp_template`, `multihop`, pool export filter),
//! FRR 8.4 (a peer group; update groups are FRR's default). Every daemon is passive (the
//! simulated peers connect), keeps routes out of the kernel, and keeps its own default hold and
//! keepalive times; connect retry is 1 s where it can be set.

use std::path::{Path, PathBuf};
use std::time::Duration;

use interop_tests::command::run;
use interop_tests::{wait_until, Bird, Frr, Netns, Proc, TempDir};

use crate::{Res, Scenario, AS, DUT};

/// BIRD 1.6.8, extracted from Debian's package (see `interop_tests::dropin`).
const BIRD16: &str = "/tmp/bird16/usr/sbin/bird";
const BIRDC16: &str = "/tmp/bird16/usr/sbin/birdc";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ours,
    Bird2,
    Bird16,
    Frr,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Ours => "ours",
            Kind::Bird2 => "bird2",
            Kind::Bird16 => "bird1.6",
            Kind::Frr => "frr",
        }
    }

    pub fn parse(s: &str) -> Res<Kind> {
        Ok(match s {
            "ours" => Kind::Ours,
            "bird2" | "bird" => Kind::Bird2,
            "bird16" | "bird1.6" => Kind::Bird16,
            "frr" => Kind::Frr,
            x => return Err(format!("unknown daemon {x}").into()),
        })
    }
}

/// A running daemon; its guards stop it on drop.
pub enum Daemon {
    /// Ours or BIRD 1.6.8: a process and a BIRD-style control socket.
    Socket {
        proc: Proc,
        ctl: PathBuf,
        birdc: &'static str,
        _dir: TempDir,
    },
    Bird2(Bird),
    Frr(Frr),
}

impl Daemon {
    pub fn pid(&self) -> u32 {
        match self {
            Daemon::Socket { proc, .. } => proc.pid(),
            Daemon::Bird2(b) => b.pid(),
            Daemon::Frr(f) => f.pid(),
        }
    }

    /// Networks in the daemon's table (ours and BIRD: `show route count`; FRR: `Total
    /// Prefixes` of `show bgp ipv4 unicast statistics`, which does not list the peers).
    pub fn networks(&self) -> Res<usize> {
        match self {
            Daemon::Socket { ctl, birdc, .. } => {
                let c = ctl.to_string_lossy();
                parse_route_count(&run(birdc, &["-s", c.as_ref(), "show", "route", "count"])?)
            }
            Daemon::Bird2(b) => parse_route_count(&b.birdc("show route count")?),
            Daemon::Frr(f) => {
                let out = f.vtysh("show bgp ipv4 unicast statistics")?;
                // `Total Prefixes                :         1001`
                Ok(out
                    .lines()
                    .find_map(|l| l.trim().strip_prefix("Total Prefixes"))
                    .and_then(|r| r.trim_start_matches([' ', ':']).trim().parse().ok())
                    .unwrap_or(0))
            }
        }
    }
}

/// `... X of Y routes for Z networks ...` (BIRD and ours): Z.
fn parse_route_count(text: &str) -> Res<usize> {
    let line = text
        .lines()
        .find(|l| l.contains("routes for"))
        .ok_or_else(|| format!("no route count in {text:?}"))?;
    Ok(line
        .split_whitespace()
        .skip_while(|w| *w != "for")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0))
}

fn node_name(a: std::net::Ipv4Addr) -> String {
    format!("Node_{}", a.to_string().replace('.', "_"))
}

fn ours_conf(sc: &Scenario, ctl: &Path) -> String {
    let mut s = format!("router_id = \"{DUT}\"\nlocal_as = {AS}\n");
    if sc.reflector {
        s += &format!("cluster_id = \"{DUT}\"\n");
    }
    if let Some(b) = sc.daemon_block() {
        s += &format!("local_blocks = [\"{b}\"]\n");
    }
    s += &format!(
        "\n[listen]\naddresses = [\"{DUT}\"]\n\n[kernel]\nenable_writes = false\n\n[control]\n\
         socket = \"{}\"\n\n[[ip_pools]]\ncidr = \"{}\"\n\n[[templates]]\nname = \"t\"\n\
         remote_as = {AS}\nmultihop = 64\npassive = true\nconnect_retry_time = 1\n\
         connect_delay_time = 2\nerror_wait_min = 5\nerror_wait_max = 30\ngraceful_restart = true\n",
        ctl.display(),
        sc.pool()
    );
    for a in sc.peer_addrs() {
        s += &format!(
            "\n[[neighbors]]\nname = \"{}\"\ntemplate = \"t\"\naddress = \"{a}\"\n\
             source_address = \"{DUT}\"\n",
            node_name(a)
        );
        if sc.reflector {
            s += "route_reflector_client = true\n";
        }
    }
    s
}

/// Calico's export function (`bird_ipam.cfg`, generation 1) for one pool; identical text for
/// BIRD 1.6 and BIRD 2.
fn calico_functions(pool: &str) -> String {
    format!(
        "function reject_tunnel_routes () {{\n  if (defined(ifname)) then {{\n    if ((ifname ~ \
         \"*.cali\") || (ifname ~ \"*.calico\")) then {{ reject; }}\n  }}\n}}\n\
         function reject_local_routes () {{\n  if (defined(ifname)) then {{\n    if (ifname ~ \
         \"bpf*.cali\") then {{ reject; }}\n  }}\n}}\n\
         function calico_export_to_bgp_peers(bool internal_peer) {{\n  if (internal_peer) then \
         {{ reject_tunnel_routes(); }}\n  reject_local_routes();\n  if ( net ~ {pool} ) then {{ \
         accept; }}\n}}\n"
    )
}

/// BIRD 1.6.8: Calico's generation-1 `bird.cfg` for a route reflector (or a mesh node), with
/// the kernel protocol exporting nothing (as every daemon here: no kernel writes) but learning
/// the route to the peers' subnet, which `gateway recursive` resolves next hops through.
fn bird16_conf(sc: &Scenario) -> String {
    let mut s = format!("router id {DUT};\n{}", calico_functions(&sc.pool()));
    s += "protocol kernel {\n  learn;\n  persist;\n  scan time 2;\n  import all;\n  export none;\n  \
          graceful restart;\n  merge paths on;\n}\nprotocol device {\n  scan time 2;\n}\n\
          protocol direct {\n  interface -\"cali*\", -\"kube-ipvs*\", \"*\";\n}\n";
    if let Some(b) = sc.daemon_block() {
        s += &format!("protocol static {{\n  route {b} blackhole;\n}}\n");
    }
    s += &format!(
        "template bgp bgp_template {{\n  description \"Connection to BGP peer\";\n  local as \
         {AS};\n  gateway recursive;\n  add paths on;\n  graceful restart;\n  connect delay time \
         2;\n  connect retry time 1;\n  error wait time 5,30;\n}}\n"
    );
    for a in sc.peer_addrs() {
        s += &format!(
            "protocol bgp {} from bgp_template {{\n  ttl security off;\n  multihop;\n  neighbor \
             {a} as {AS};\n  source address {DUT};\n  passive on;\n  import filter {{ accept; }};\n  \
             export filter {{ calico_export_to_bgp_peers(true); reject; }};\n",
            node_name(a)
        );
        if sc.reflector {
            s += &format!("  rr client;\n  rr cluster id {DUT};\n");
        }
        s += "}\n";
    }
    s
}

/// BIRD 2.0.12: the same configuration in BIRD 2's channel syntax.
fn bird2_conf(sc: &Scenario) -> String {
    let mut s = format!("router id {DUT};\n{}", calico_functions(&sc.pool()));
    s += "protocol kernel {\n  ipv4 { import all; export none; };\n  learn;\n  persist;\n  scan \
          time 2;\n  graceful restart;\n  merge paths on;\n}\nprotocol device {\n  scan time 2;\n}\n\
          protocol direct {\n  ipv4;\n  interface -\"cali*\", -\"kube-ipvs*\", \"*\";\n}\n";
    if let Some(b) = sc.daemon_block() {
        s += &format!("protocol static {{\n  ipv4;\n  route {b} blackhole;\n}}\n");
    }
    s += &format!(
        "template bgp bgp_template {{\n  description \"Connection to BGP peer\";\n  local as \
         {AS};\n  graceful restart;\n  connect delay time 2;\n  connect retry time 1;\n  error \
         wait time 5,30;\n  ipv4 {{ gateway recursive; add paths on; import filter {{ accept; }}; \
         export filter {{ calico_export_to_bgp_peers(true); reject; }}; }};\n}}\n"
    );
    for a in sc.peer_addrs() {
        s += &format!(
            "protocol bgp {} from bgp_template {{\n  multihop;\n  neighbor {a} as {AS};\n  \
             source address {DUT};\n  passive on;\n",
            node_name(a)
        );
        if sc.reflector {
            s += &format!("  rr client;\n  rr cluster id {DUT};\n");
        }
        s += "}\n";
    }
    s
}

fn frr_conf(sc: &Scenario) -> String {
    let mut s = format!(
        "hostname bgpd\nrouter bgp {AS}\n bgp router-id {DUT}\n no bgp ebgp-requires-policy\n no \
         bgp network import-check\n"
    );
    if sc.reflector {
        s += &format!(" bgp cluster-id {DUT}\n");
    }
    s += &format!(
        " neighbor C peer-group\n neighbor C remote-as {AS}\n neighbor C passive\n neighbor C \
         update-source {DUT}\n neighbor C timers connect 1\n"
    );
    for a in sc.peer_addrs() {
        s += &format!(" neighbor {a} peer-group C\n");
    }
    s += " address-family ipv4 unicast\n";
    if let Some(b) = sc.daemon_block() {
        s += &format!("  network {b}\n");
    }
    if sc.reflector {
        s += "  neighbor C route-reflector-client\n";
    }
    s += " exit-address-family\n";
    s
}

/// Starts `kind` in `ns` for `sc` and returns once it answers on its control interface.
pub fn start(kind: Kind, ns: &Netns, bgpd: &Path, sc: &Scenario) -> Res<Daemon> {
    Ok(match kind {
        Kind::Ours => {
            let dir = TempDir::new("scale-ours")?;
            let ctl = dir.path().join("bgpd.ctl");
            let conf = dir.write("bgpd.toml", &ours_conf(sc, &ctl))?;
            let (b, c) = (bgpd.to_string_lossy(), conf.to_string_lossy());
            run(&b, &["--check", "-c", &c])?;
            // `SCALE_WRAP="valgrind --tool=massif ..."` runs ours under a profiler.
            let wrap = std::env::var("SCALE_WRAP").unwrap_or_default();
            let mut argv: Vec<&str> = wrap.split_whitespace().collect();
            argv.extend([b.as_ref(), "-c", c.as_ref()]);
            let mut proc = Proc::spawn_in(ns, "bgpd", &argv, dir.path())?;
            wait_until("our control socket", Duration::from_secs(60), || {
                proc.check_alive()?;
                Ok(ctl.exists())
            })?;
            Daemon::Socket {
                proc,
                ctl,
                birdc: interop_tests::bird::BIRDC,
                _dir: dir,
            }
        }
        Kind::Bird16 => {
            let dir = TempDir::new("scale-bird16")?;
            let ctl = dir.path().join("bird.ctl");
            let conf = dir.write("bird.conf", &bird16_conf(sc))?;
            let (c, s) = (conf.to_string_lossy(), ctl.to_string_lossy());
            let mut proc = Proc::spawn_in(
                ns,
                "bird16",
                &[BIRD16, "-f", "-c", &c, "-s", &s],
                dir.path(),
            )?;
            wait_until("BIRD 1.6 to answer", Duration::from_secs(60), || {
                proc.check_alive()?;
                Ok(run(BIRDC16, &["-s", s.as_ref(), "show", "status"]).is_ok())
            })?;
            Daemon::Socket {
                proc,
                ctl,
                birdc: BIRDC16,
                _dir: dir,
            }
        }
        Kind::Bird2 => Daemon::Bird2(Bird::start(ns, &bird2_conf(sc))?),
        Kind::Frr => Daemon::Frr(Frr::start(ns, &frr_conf(sc))?),
    })
}
