//! The kernel side end to end: a full iBGP mesh of three of our daemons (Calico's default
//! topology), each writing the routes it learns into its node's kernel (`[kernel] enable_writes`).
//!
//! Every node has a local block `10.64.i.0/26` (and `fd64:0:i::/122`) and a "pod" namespace
//! holding `10.64.i.5`, joined to the node by a veth (`cali<i>`) with a /32 route towards it, as
//! Calico's CNI plugin does (with proxy ARP on the host side). Checked: the exact `ip route` lines (direct, IP-in-IP onlink via
//! `tunl0`, blackholes for our blocks, IPv6 always direct), TCP exchanges between pods through the
//! real packet path (python3 echo servers: no `ping` here), routes leaving the kernel when a peer goes down, and a restart with
//! `persist_on_stop` that rewrites none of the unchanged routes (watched with `ip monitor`).
//!
//! This machine's kernel has no `ipip` support: here the IP-in-IP case uses a veth named `tunl0`
//! as the device stand-in and checks the route lines only; `mesh_ipip_pods_ping_through_tunl0_in_a_vm`
//! runs the same test in a QEMU guest with Debian's stock kernel, where `tunl0` is real and the
//! pods' TCP exchanges cross it.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use interop_tests::bgpd::{binary, BgpdConfig, BgpdNeighbor};
use interop_tests::{require_root, wait_until, Fabric, Netns, Node, Proc, TempDir};

const AS: u32 = 64512;

/// One of our daemons with a hand-written `[kernel]` section.
struct Ours {
    proc: Proc,
    dir: TempDir,
}

impl Ours {
    fn start(node: &Node, n: u8, pools: &str, dir: TempDir) -> Ours {
        let me = node.index;
        let mut neighbors = Vec::new();
        for j in 1..=n {
            if j != me {
                neighbors.push(BgpdNeighbor::new(
                    &format!("Mesh_10_99_0_{j}"),
                    &format!("10.99.0.{j}"),
                    AS,
                ));
                neighbors.push(BgpdNeighbor::new(
                    &format!("Mesh_fd99__{j}"),
                    &format!("fd99::{j}"),
                    AS,
                ));
            }
        }
        let cfg = BgpdConfig {
            router_id: format!("10.99.0.{me}"),
            local_as: AS,
            listen: vec![format!("10.99.0.{me}"), format!("fd99::{me}")],
            neighbors,
        };
        let toml = cfg.to_toml(&dir).expect("config");
        let toml = toml.replacen(
            "[kernel]\nenable_writes = false\n",
            "[kernel]\nenable_writes = true\npersist_on_stop = true\nmetric = 0\n",
            1,
        );
        assert!(toml.contains("enable_writes = true"), "{toml}");
        let top = format!("local_blocks = [\"10.64.{me}.0/26\", \"fd64:0:{me}::/122\"]\n{pools}\n");
        let path = dir
            .write("bgpd.toml", &format!("{top}{toml}"))
            .expect("write config");
        let bin = binary().expect("bgpd binary");
        let (bin_s, conf_s) = (bin.to_string_lossy(), path.to_string_lossy());
        interop_tests::command::run(&bin_s, &["--check", "-c", &conf_s]).expect("config checks");
        let proc = Proc::spawn_in(
            &node.ns,
            "bgpd",
            &[&bin_s, "-c", &conf_s, "--log-format", "json"],
            dir.path(),
        )
        .expect("bgpd starts");
        Ours { proc, dir }
    }

    fn stop(mut self) -> TempDir {
        self.proc.stop(Duration::from_secs(10));
        self.dir
    }
}

/// A pod namespace behind `cali<i>` on node `i`, holding `10.64.i.5`: a /32 on the host side
/// and proxy ARP, as Calico does. (Calico's pod default route goes via 169.254.1.1, which proxy
/// ARP answers only when the node has a default route; these nodes have none, so the pod's
/// default is a device route.)
fn add_pod(node: &Node, prefix: &str) -> Netns {
    let i = node.index;
    let pod = Netns::new(&format!("{prefix}-pod{i}")).expect("pod ns");
    let cali = format!("cali{i}");
    node.ns
        .ip(&[
            "link",
            "add",
            &cali,
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            pod.name(),
        ])
        .expect("pod veth");
    node.ns.ip(&["link", "set", &cali, "up"]).expect("cali up");
    node.exec(&[
        "sysctl",
        "-qw",
        &format!("net.ipv4.conf.{cali}.proxy_arp=1"),
    ])
    .expect("proxy arp");
    node.exec(&["sysctl", "-qw", "net.ipv4.ip_forward=1"])
        .expect("forwarding");
    let addr = format!("10.64.{i}.5");
    node.ns
        .ip(&["route", "add", &format!("{addr}/32"), "dev", &cali])
        .expect("pod /32");
    pod.ip(&["addr", "add", &format!("{addr}/32"), "dev", "eth0"])
        .expect("pod addr");
    pod.ip(&["link", "set", "eth0", "up"]).expect("pod eth0 up");
    pod.ip(&["link", "set", "lo", "up"]).expect("pod lo up");
    // A device route: the node answers ARP (proxy ARP) for every address it routes elsewhere.
    pod.ip(&["route", "add", "default", "dev", "eth0"])
        .expect("pod default");
    pod
}

fn routes(node: &Node, v6: bool) -> String {
    let fam = if v6 { "-6" } else { "-4" };
    node.ns
        .ip(&[fam, "route", "show", "proto", "bird"])
        .unwrap_or_default()
}

fn has_line(node: &Node, v6: bool, want: &str) -> bool {
    routes(node, v6).lines().any(|l| l.trim() == want)
}

fn wait_line(node: &Node, v6: bool, want: &str) {
    let r = wait_until(
        &format!("node {}: `{want}`", node.index),
        Duration::from_secs(40),
        || Ok(has_line(node, v6, want)),
    );
    if r.is_err() {
        panic!(
            "node {} lacks `{want}`; kernel has:\n{}\n{}",
            node.index,
            routes(node, false),
            routes(node, true)
        );
    }
}

fn wait_gone(node: &Node, prefix: &str) {
    let r = wait_until(
        &format!("node {}: {prefix} removed", node.index),
        Duration::from_secs(30),
        || Ok(!routes(node, false).contains(prefix)),
    );
    assert!(
        r.is_ok(),
        "node {} still has {prefix}:\n{}",
        node.index,
        routes(node, false)
    );
}

/// Port of the pods' TCP echo servers.
const ECHO_PORT: &str = "7777";

/// A TCP server in `pod` answering `pong` to every connection (python3: this machine has no
/// `ping`, and a TCP exchange proves both directions of the path just as well).
fn echo_server(pod: &Netns, addr: &str) -> Proc {
    let script = format!(
        "import socket\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n\
         s.bind(('{addr}',{ECHO_PORT}))\ns.listen(8)\nwhile True:\n c,_=s.accept()\n c.sendall(b'pong')\n c.close()\n"
    );
    Proc::spawn(pod, "echo", &["python3", "-c", &script]).expect("echo server")
}

/// `true` when a TCP connection from `pod` to `to` gets `pong` back (retried for 10 s).
fn ping(pod: &Netns, to: &str) -> bool {
    let script = format!(
        "import socket\nc=socket.create_connection(('{to}',{ECHO_PORT}),timeout=2)\n\
         assert c.recv(4)==b'pong'\nprint('ok')\n"
    );
    let mut last = String::new();
    let ok = wait_until(
        &format!("TCP to {to}"),
        Duration::from_secs(10),
        || match pod.exec(&["python3", "-c", &script]) {
            Ok(o) if o.contains("ok") => Ok(true),
            Ok(o) => {
                last = o;
                Ok(false)
            }
            Err(e) => {
                last = e.to_string();
                Ok(false)
            }
        },
    )
    .is_ok();
    if !ok {
        eprintln!(
            "TCP from {} to {to} failed: {last}\npod neighbours:\n{}\npod routes:\n{}",
            pod.name(),
            pod.ip(&["neigh"]).unwrap_or_default(),
            pod.ip(&["route"]).unwrap_or_default()
        );
    }
    ok
}

/// The lines a node must have in Never / CrossSubnet-on-one-subnet mode.
fn direct_lines(fabric: &Fabric, n: u8) {
    for node in fabric.nodes() {
        let i = node.index;
        wait_line(node, false, &format!("blackhole 10.64.{i}.0/26"));
        wait_line(
            node,
            true,
            &format!("blackhole fd64:0:{i}::/122 dev lo metric 1024 pref medium"),
        );
        for j in (1..=n).filter(|j| *j != i) {
            wait_line(
                node,
                false,
                &format!("10.64.{j}.0/26 via 10.99.0.{j} dev eth0"),
            );
            wait_line(
                node,
                true,
                &format!("fd64:0:{j}::/122 via fd99::{j} dev eth0 metric 1024 pref medium"),
            );
        }
    }
}

fn mesh_direct(tag: &str, pools: &str) {
    let prefix = format!("{tag}-{}", std::process::id());
    let fabric = Fabric::new(&prefix, 3).expect("fabric");
    let pods: Vec<Netns> = fabric.nodes().iter().map(|n| add_pod(n, &prefix)).collect();
    let _echo: Vec<Proc> = pods
        .iter()
        .zip(1..)
        .map(|(p, i)| echo_server(p, &format!("10.64.{i}.5")))
        .collect();
    let mut ours: Vec<Ours> = fabric
        .nodes()
        .iter()
        .map(|n| Ours::start(n, 3, pools, TempDir::new("bgpd").expect("dir")))
        .collect();
    direct_lines(&fabric, 3);
    // A real packet path: pod 1 → node 1 → (our route) → node j → cali<j> → pod j.
    for to in ["10.64.2.5", "10.64.3.5"] {
        assert!(ping(&pods[0], to), "pod 1 cannot ping {to}");
    }
    // Node 3's daemon stops (Cease): its block leaves the other kernels.
    let gone = ours.pop().expect("three daemons");
    gone.stop();
    wait_gone(fabric.node(1), "10.64.3.0/26");
    wait_gone(fabric.node(2), "10.64.3.0/26");
    assert!(has_line(
        fabric.node(1),
        false,
        "10.64.2.0/26 via 10.99.0.2 dev eth0"
    ));
    assert!(ping(&pods[0], "10.64.2.5"), "pod 1 lost pod 2");
}

#[test]
fn mesh_never_mode_programs_direct_routes_and_pods_ping() {
    if !require_root("mesh_never_mode_programs_direct_routes_and_pods_ping") {
        return;
    }
    mesh_direct(
        "fibn",
        "ip_pools = [{ cidr = \"10.64.0.0/16\", ipip_mode = \"Never\" }, { cidr = \"fd64::/32\" }]",
    );
}

#[test]
fn mesh_cross_subnet_on_one_subnet_programs_direct_routes() {
    if !require_root("mesh_cross_subnet_on_one_subnet_programs_direct_routes") {
        return;
    }
    mesh_direct(
        "fibx",
        "ip_pools = [{ cidr = \"10.64.0.0/16\", ipip_mode = \"CrossSubnet\" }, \
         { cidr = \"fd64::/32\" }]",
    );
}

/// `tunl0` on every node: a real IP-in-IP device when the kernel has one (then `true`), else a
/// veth named `tunl0` so onlink routes through it can be installed and checked. With the `ipip`
/// module loaded every namespace is born with its fallback `tunl0` (the one Calico uses).
fn add_tunl0(fabric: &Fabric) -> bool {
    let mut real = true;
    for node in fabric.nodes() {
        let born = node
            .ns
            .ip(&["-d", "link", "show", "tunl0"])
            .is_ok_and(|o| o.contains("ipip"));
        if !born
            && node
                .ns
                .ip(&["link", "add", "tunl0", "type", "ipip"])
                .is_err()
        {
            real = false;
            node.ns
                .ip(&[
                    "link", "add", "tunl0", "type", "veth", "peer", "name", "tunl0p",
                ])
                .expect("tunl0 stand-in");
            node.ns
                .ip(&["link", "set", "tunl0p", "up"])
                .expect("tunl0p up");
        }
        node.ns
            .ip(&["link", "set", "tunl0", "up"])
            .expect("tunl0 up");
        let i = node.index;
        node.ns
            .ip(&["addr", "add", &format!("10.64.{i}.1/32"), "dev", "tunl0"])
            .expect("tunl0 address");
    }
    real
}

#[test]
fn mesh_ipip_always_programs_onlink_routes_via_tunl0() {
    if !require_root("mesh_ipip_always_programs_onlink_routes_via_tunl0") {
        return;
    }
    let prefix = format!("fibi-{}", std::process::id());
    let fabric = Fabric::new(&prefix, 3).expect("fabric");
    let real = add_tunl0(&fabric);
    let pods: Vec<Netns> = fabric.nodes().iter().map(|n| add_pod(n, &prefix)).collect();
    let pools = "ip_pools = [{ cidr = \"10.64.0.0/16\", ipip_mode = \"Always\" }, \
                 { cidr = \"fd64::/32\" }]";
    let _ours: Vec<Ours> = fabric
        .nodes()
        .iter()
        .map(|n| Ours::start(n, 3, pools, TempDir::new("bgpd").expect("dir")))
        .collect();
    for node in fabric.nodes() {
        let i = node.index;
        wait_line(node, false, &format!("blackhole 10.64.{i}.0/26"));
        for j in (1..=3).filter(|j| *j != i) {
            wait_line(
                node,
                false,
                &format!("10.64.{j}.0/26 via 10.99.0.{j} dev tunl0 onlink"),
            );
            // IPv6 is never tunnelled.
            wait_line(
                node,
                true,
                &format!("fd64:0:{j}::/122 via fd99::{j} dev eth0 metric 1024 pref medium"),
            );
        }
    }
    if real {
        let _echo: Vec<Proc> = pods
            .iter()
            .zip(1..)
            .map(|(p, i)| echo_server(p, &format!("10.64.{i}.5")))
            .collect();
        for to in ["10.64.2.5", "10.64.3.5"] {
            assert!(
                ping(&pods[0], to),
                "pod 1 cannot ping {to} through IP-in-IP"
            );
        }
        // The exchanges crossed the tunnels: nodes 2 and 3 decapsulated packets on tunl0.
        for node in &fabric.nodes()[1..] {
            let rx = node
                .ns
                .exec(&["cat", "/sys/class/net/tunl0/statistics/rx_packets"])
                .expect("tunl0 counters");
            let rx: u64 = rx.trim().parse().expect("a packet count");
            eprintln!("node {}: tunl0 received {rx} packets", node.index);
            assert!(rx > 0, "node {} received nothing on tunl0", node.index);
        }
    } else if std::env::var_os(REQUIRE_IPIP).is_some() {
        panic!("{REQUIRE_IPIP} is set but this kernel has no ipip device");
    } else {
        eprintln!(
            "skipping IP-in-IP ping here: kernel has no ipip support \
             (mesh_ipip_pods_ping_through_tunl0_in_a_vm runs it in a guest)"
        );
    }
}

/// Set in the guest: the IP-in-IP test fails instead of skipping its ping.
const REQUIRE_IPIP: &str = "BGPD_REQUIRE_IPIP";

/// The IP-in-IP test again, in a QEMU guest running Debian's stock kernel (which has `ipip`;
/// this machine's kernel has not): the same three daemons, namespaces and pods, and TCP
/// exchanges between pods through real `tunl0` devices. The guest runs this very test binary
/// from the host's filesystem (shared read-only).
#[test]
fn mesh_ipip_pods_ping_through_tunl0_in_a_vm() {
    let name = "mesh_ipip_pods_ping_through_tunl0_in_a_vm";
    if !require_root(name) {
        return;
    }
    if let Some(why) = interop_tests::vm::unavailable() {
        // CI builds the kit (scripts/test.sh): a missing kit there is a failure, not a skip.
        assert!(std::env::var_os("CI").is_none(), "{name}: {why}");
        eprintln!("skipping {name}: {why}");
        return;
    }
    let exe = std::env::current_exe().expect("test binary");
    binary().expect("bgpd binary next to the tests"); // built on the host, not in the guest
    let script = format!(
        "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n\
         export {REQUIRE_IPIP}=1 RUST_BACKTRACE=1\n\
         exec {} --exact mesh_ipip_always_programs_onlink_routes_via_tunl0 --nocapture\n",
        exe.display()
    );
    let run = interop_tests::vm::run(&script, Duration::from_secs(600)).expect("VM run");
    let ok = run.status == Some(0) && run.console.contains("test result: ok. 1 passed");
    assert!(
        ok,
        "the IP-in-IP mesh failed in the guest (status {:?}):\n{}",
        run.status, run.console
    );
    assert!(
        !run.console.contains("skipping IP-in-IP ping"),
        "the guest skipped the ping:\n{}",
        run.console
    );
    eprintln!("guest console:\n{}", run.console);
}

/// `ip monitor route` in a namespace, for the duration of a restart.
struct Monitor {
    child: Child,
    out: std::path::PathBuf,
}

impl Monitor {
    fn start(ns: &Netns, dir: &TempDir) -> Monitor {
        let out = dir.path().join("monitor.txt");
        let file = std::fs::File::create(&out).expect("monitor file");
        let child = Command::new("ip")
            .args(["netns", "exec", ns.name(), "ip", "monitor", "route"])
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(Stdio::null())
            .spawn()
            .expect("ip monitor");
        Monitor { child, out }
    }

    fn lines(&self) -> Vec<String> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn restart_with_persist_rewrites_no_unchanged_route() {
    if !require_root("restart_with_persist_rewrites_no_unchanged_route") {
        return;
    }
    let prefix = format!("fibr-{}", std::process::id());
    let fabric = Fabric::new(&prefix, 3).expect("fabric");
    let pools = "ip_pools = [{ cidr = \"10.64.0.0/16\" }, { cidr = \"fd64::/32\" }]";
    let mut ours: Vec<Option<Ours>> = fabric
        .nodes()
        .iter()
        .map(|n| Some(Ours::start(n, 3, pools, TempDir::new("bgpd").expect("dir"))))
        .collect();
    direct_lines(&fabric, 3);
    let node1 = fabric.node(1);
    let before = (routes(node1, false), routes(node1, true));
    let mon_dir = TempDir::new("monitor").expect("dir");
    let monitor = Monitor::start(&node1.ns, &mon_dir);
    std::thread::sleep(Duration::from_millis(300));
    // Stop (persist_on_stop = true): every route stays.
    let dir = ours[0].take().expect("node 1 daemon").stop();
    assert_eq!(routes(node1, false), before.0, "routes changed on stop");
    assert_eq!(routes(node1, true), before.1, "routes changed on stop");
    ours[0] = Some(Ours::start(node1, 3, pools, dir));
    // Wait for the startup reconciliation (the converged RIB), then for the mesh to settle.
    let log = |o: &Ours| std::fs::read_to_string(o.proc.stderr_path()).unwrap_or_default();
    let reconciled = wait_until("node 1 reconciles", Duration::from_secs(40), || {
        Ok(ours[0].as_ref().is_some_and(|o| {
            log(o)
                .lines()
                .filter(|l| l.contains("fib_reconciled"))
                .count()
                >= 1
        }))
    });
    assert!(
        reconciled.is_ok(),
        "no fib_reconciled after the restart:\n{}",
        ours[0].as_ref().map(log).unwrap_or_default()
    );
    direct_lines(&fabric, 3);
    std::thread::sleep(Duration::from_millis(500));
    // The monitor works: a change of ours shows up in it.
    node1
        .ns
        .ip(&["route", "add", "192.0.2.0/24", "dev", "eth0"])
        .expect("marker route");
    let seen = wait_until("ip monitor sees the marker", Duration::from_secs(5), || {
        Ok(monitor.lines().iter().any(|l| l.contains("192.0.2.0/24")))
    });
    assert!(
        seen.is_ok(),
        "ip monitor saw nothing: {:?}",
        monitor.lines()
    );
    let changes: Vec<String> = monitor
        .lines()
        .into_iter()
        .filter(|l| l.contains("10.64.") || l.contains("fd64:"))
        .collect();
    assert!(
        changes.is_empty(),
        "the restart touched unchanged routes:\n{}",
        changes.join("\n")
    );
    assert_eq!(routes(node1, false), before.0);
    assert_eq!(routes(node1, true), before.1);
}

/// A reload (SIGHUP) that moves node 1's block and turns its pool to VXLAN: node 1 blackholes
/// the new block and drops the old one and its route to node 2's block (Felix's business now);
/// node 2 learns the new block and loses the old one. No restart.
#[test]
fn reload_reprograms_blocks_and_pools() {
    if !require_root("reload_reprograms_blocks_and_pools") {
        return;
    }
    let prefix = format!("fibl-{}", std::process::id());
    let fabric = Fabric::new(&prefix, 2).expect("fabric");
    let pools =
        "ip_pools = [{ cidr = \"10.64.0.0/16\", ipip_mode = \"Never\" }, { cidr = \"fd64::/32\" }]";
    let ours: Vec<Ours> = fabric
        .nodes()
        .iter()
        .map(|n| Ours::start(n, 2, pools, TempDir::new("bgpd").expect("dir")))
        .collect();
    direct_lines(&fabric, 2);
    let (node1, node2) = (fabric.node(1), fabric.node(2));
    let path = ours[0].dir.path().join("bgpd.toml");
    let old = std::fs::read_to_string(&path).expect("config");
    let new = old
        .replacen("\"10.64.1.0/26\"", "\"10.64.1.64/26\"", 1)
        .replacen(
            "ipip_mode = \"Never\" }",
            "ipip_mode = \"Never\", vxlan_mode = \"Always\" }",
            1,
        );
    assert_ne!(old, new);
    std::fs::write(&path, new).expect("rewrite config");
    interop_tests::command::run("kill", &["-HUP", &ours[0].proc.pid().to_string()])
        .expect("SIGHUP");
    wait_line(node1, false, "blackhole 10.64.1.64/26");
    wait_gone(node1, "10.64.1.0/26");
    wait_gone(node1, "10.64.2.0/26");
    wait_line(node2, false, "10.64.1.64/26 via 10.99.0.1 dev eth0");
    wait_gone(node2, "10.64.1.0/26");
    // IPv6 is untouched.
    wait_line(
        node1,
        true,
        "fd64:0:2::/122 via fd99::2 dev eth0 metric 1024 pref medium",
    );
    let log = std::fs::read_to_string(ours[0].proc.stderr_path()).unwrap_or_default();
    assert!(log.contains("fib_reconfigured"), "{log}");
    assert!(
        !log.contains("\"session down\""),
        "a session went down:\n{log}"
    );
}
