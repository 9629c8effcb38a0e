//! fib-sync against the real kernel, each test in its own network namespace (needs root).
//!
//! The executor runs on a thread that entered the namespace with `setns` before opening its
//! netlink sockets; `ip -n NS ...` sets up devices and reads the result.

use std::net::IpAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use fib_sync::{Families, FibConfig, FibError, FibEvent, FibSync, NextHop, Route, RouteDelta};
use ipnet::IpNet;
use nix::sched::{setns, CloneFlags};
use policy::program::{program, EncapMode, PoolEncap, Programming, RouteFacts};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A namespace removed on drop (also when the test panics).
struct Netns(Ns);

/// A namespace's name, usable from any thread (`ip -n NAME`).
#[derive(Clone)]
struct Ns {
    name: String,
}

impl std::ops::Deref for Netns {
    type Target = Ns;
    fn deref(&self) -> &Ns {
        &self.0
    }
}

impl Netns {
    /// `None` (with the reason printed) when we cannot create namespaces.
    fn new(test: &str) -> Option<Netns> {
        if !nix::unistd::geteuid().is_root() {
            eprintln!("skipping {test}: needs root to create network namespaces");
            return None;
        }
        let name = format!(
            "fibt{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let ok = Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("skipping {test}: `ip netns add` failed");
            return None;
        }
        let ns = Netns(Ns { name });
        ns.ip(&["link", "set", "lo", "up"]);
        Some(ns)
    }

    /// Runs `body` on a thread inside the namespace (entered with `setns` before anything opens
    /// a socket), with its own tokio runtime.
    fn run<F, Fut, T>(&self, body: F) -> T
    where
        F: FnOnce(Ns) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = T>,
        T: Send + 'static,
    {
        let ns = self.0.clone();
        let path = format!("/run/netns/{}", ns.name);
        std::thread::spawn(move || {
            let file = std::fs::File::open(&path).unwrap();
            setns(&file, CloneFlags::CLONE_NEWNET).unwrap();
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(body(ns))
        })
        .join()
        .unwrap()
    }
}

impl Ns {
    /// Runs `ip -n NS args...`, panicking on failure.
    fn ip(&self, args: &[&str]) -> String {
        let out = self.try_ip(args);
        match out {
            Ok(s) => s,
            Err(e) => panic!("ip {args:?}: {e}"),
        }
    }

    fn try_ip(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new("ip")
            .arg("-n")
            .arg(&self.name)
            .args(args)
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// An uplink `eth0` (a veth pair, both ends up so it has carrier) with 10.99.0.1/24 and
    /// fd99::1/64: the node's connected subnets.
    fn with_uplink(&self) {
        self.ip(&[
            "link", "add", "eth0", "type", "veth", "peer", "name", "eth0p",
        ]);
        self.ip(&["link", "set", "eth0p", "up"]);
        self.ip(&["link", "set", "eth0", "up"]);
        self.ip(&["addr", "add", "10.99.0.1/24", "dev", "eth0"]);
        self.ip(&["addr", "add", "fd99::1/64", "dev", "eth0", "nodad"]);
    }

    /// Makes `tunl0` exist (created, or already there when the ipip module is loaded) and up.
    fn add_tunl0(&self) {
        if self.try_ip(&["link", "show", "tunl0"]).is_err() {
            if let Err(e) = self.try_ip(&["link", "add", "tunl0", "type", "ipip"]) {
                // No ipip module here (and no modprobe): a veth named tunl0 carries onlink
                // routes the same way, which is all these tests look at.
                eprintln!(
                    "note: ipip unavailable ({}), using a veth named tunl0",
                    e.trim()
                );
                self.ip(&[
                    "link", "add", "tunl0", "type", "veth", "peer", "name", "tunl0p",
                ]);
                self.ip(&["link", "set", "tunl0p", "up"]);
            }
        }
        self.ip(&["link", "set", "tunl0", "up"]);
    }

    /// Our routes as `ip route` prints them (multipath continuation lines joined).
    fn bird_routes(&self, v6: bool) -> Vec<String> {
        let fam = if v6 { "-6" } else { "-4" };
        let out = self.ip(&[fam, "route", "show", "table", "main"]);
        let mut lines: Vec<String> = Vec::new();
        for line in out.lines() {
            if line.starts_with(char::is_whitespace) {
                if let Some(last) = lines.last_mut() {
                    last.push_str(" | ");
                    last.push_str(line.trim());
                }
            } else {
                lines.push(line.trim().to_owned());
            }
        }
        lines.retain(|l| l.contains("proto bird"));
        lines.sort();
        lines
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.0.name])
            .status();
    }
}

/// A child process killed (by its PID) on drop.
struct Monitor(Child);

impl Drop for Monitor {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn lines(v: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

/// The route policy::program asks for, as a fib-sync delta.
fn programmed(prefix: &str, next_hop: Option<&str>, local: bool, pool: PoolEncap) -> Option<Route> {
    let connected = [net("10.99.0.0/24"), net("fd99::/64")];
    let facts = RouteFacts {
        prefix: net(prefix),
        next_hop: next_hop.map(ip),
        local_block: local,
        pool: Some(pool),
        connected: &connected,
    };
    match program(&facts) {
        Programming::Direct { via } => Some(Route::via(net(prefix), vec![NextHop::direct(via)])),
        Programming::IpIp { via } => Some(Route::via(
            net(prefix),
            vec![FibConfig::default().tunnel_nexthop(via)],
        )),
        Programming::Blackhole => Some(Route::blackhole(net(prefix))),
        Programming::VxlanSkip | Programming::None => None,
    }
}

fn pool(ipip: EncapMode, vxlan: EncapMode) -> PoolEncap {
    PoolEncap { ipip, vxlan }
}

#[test]
fn programs_each_encapsulation_mode() {
    let Some(ns) = Netns::new("programs_each_encapsulation_mode") else {
        return;
    };
    ns.with_uplink();
    ns.add_tunl0();
    use EncapMode::{Always, CrossSubnet, Never};
    // Per mode, the lines `ip route` shows for: a local block, a remote block behind a node on
    // the same subnet (10.99.0.2), one behind a node on another subnet (10.98.0.2).
    let cases: Vec<(PoolEncap, Vec<&'static str>, usize)> = vec![
        (
            pool(Always, Never),
            vec![
                "10.64.1.0/26 via 10.99.0.2 dev tunl0 proto bird onlink",
                "10.64.2.0/26 via 10.98.0.2 dev tunl0 proto bird onlink",
                "blackhole 10.64.0.0/26 proto bird",
            ],
            0,
        ),
        (
            pool(CrossSubnet, Never),
            vec![
                "10.64.1.0/26 via 10.99.0.2 dev eth0 proto bird",
                "10.64.2.0/26 via 10.98.0.2 dev tunl0 proto bird onlink",
                "blackhole 10.64.0.0/26 proto bird",
            ],
            0,
        ),
        // No encapsulation: the other subnet's next hop is unreachable, so that route waits.
        (
            pool(Never, Never),
            vec![
                "10.64.1.0/26 via 10.99.0.2 dev eth0 proto bird",
                "blackhole 10.64.0.0/26 proto bird",
            ],
            1,
        ),
        // VXLAN: Felix's business, nothing from us but the blackhole.
        (
            pool(Never, Always),
            vec!["blackhole 10.64.0.0/26 proto bird"],
            0,
        ),
        (
            pool(Never, CrossSubnet),
            vec![
                "10.64.1.0/26 via 10.99.0.2 dev eth0 proto bird",
                "blackhole 10.64.0.0/26 proto bird",
            ],
            0,
        ),
    ];
    ns.run(move |ns| async move {
        let fib = FibSync::start(FibConfig::default()).await.unwrap();
        for (mode, want, deferred) in cases {
            let desired: Vec<Route> = [
                programmed("10.64.0.0/26", None, true, mode),
                programmed("10.64.1.0/26", Some("10.99.0.2"), false, mode),
                programmed("10.64.2.0/26", Some("10.98.0.2"), false, mode),
            ]
            .into_iter()
            .flatten()
            .collect();
            let report = fib.reconcile(desired).await.unwrap();
            assert!(report.failed.is_empty(), "{mode:?}: {report:?}");
            assert_eq!(report.deferred.len(), deferred, "{mode:?}: {report:?}");
            if deferred == 1 {
                assert!(matches!(
                    report.deferred[0].1,
                    FibError::GatewayUnreachable { .. }
                ));
            }
            assert_eq!(ns.bird_routes(false), lines(&want), "{mode:?}");
        }
        fib.stop().await.unwrap();
    });
}

#[test]
fn ecmp_ipv6_and_withdraw() {
    let Some(ns) = Netns::new("ecmp_ipv6_and_withdraw") else {
        return;
    };
    ns.with_uplink();
    ns.add_tunl0();
    ns.run(|ns| async move {
        let fib = FibSync::start(FibConfig::default()).await.unwrap();
        let cfg = FibConfig::default();
        let ipip_ecmp = Route::via(
            net("10.64.3.0/26"),
            vec![
                cfg.tunnel_nexthop(ip("10.98.0.3")),
                cfg.tunnel_nexthop(ip("10.99.0.2")),
            ],
        );
        let report = fib
            .apply(vec![RouteDelta::Install(ipip_ecmp)])
            .await
            .unwrap();
        assert_eq!(report.installed, 1, "{report:?}");
        assert_eq!(
            ns.bird_routes(false),
            lines(&["10.64.3.0/26 proto bird | nexthop via 10.98.0.3 dev tunl0 weight 1 onlink | nexthop via 10.99.0.2 dev tunl0 weight 1 onlink"])
        );
        fib.apply(vec![RouteDelta::Remove(net("10.64.3.0/26"))])
            .await
            .unwrap();
        let ecmp = Route::via(
            net("10.64.2.0/26"),
            vec![NextHop::direct(ip("10.99.0.3")), NextHop::direct(ip("10.99.0.2"))],
        );
        let v6 = Route::via(net("fd00:10:64::/122"), vec![NextHop::direct(ip("fd99::2"))]);
        let v6_ecmp = Route::via(
            net("fd00:10:66::/122"),
            vec![NextHop::direct(ip("fd99::2")), NextHop::direct(ip("fd99::3"))],
        );
        let v6_local = Route::blackhole(net("fd00:10:65::/122"));
        let report = fib
            .apply(vec![
                RouteDelta::Install(ecmp.clone()),
                RouteDelta::Install(v6.clone()),
                RouteDelta::Install(v6_ecmp.clone()),
                RouteDelta::Install(v6_local.clone()),
            ])
            .await
            .unwrap();
        assert_eq!(report.installed, 4, "{report:?}");
        assert_eq!(
            ns.bird_routes(false),
            lines(&["10.64.2.0/26 proto bird | nexthop via 10.99.0.2 dev eth0 weight 1 | nexthop via 10.99.0.3 dev eth0 weight 1"])
        );
        assert_eq!(
            ns.bird_routes(true),
            lines(&[
                "fd00:10:64::/122 via fd99::2 dev eth0 proto bird metric 1024 pref medium",
                "blackhole fd00:10:65::/122 dev lo proto bird metric 1024 pref medium",
                "fd00:10:66::/122 proto bird metric 1024 pref medium | nexthop via fd99::2 dev eth0 weight 1 | nexthop via fd99::3 dev eth0 weight 1",
            ])
        );
        // Applying the same routes again writes nothing.
        let again = fib
            .apply(vec![
                RouteDelta::Install(ecmp.clone()),
                RouteDelta::Install(v6.clone()),
                RouteDelta::Install(v6_ecmp.clone()),
                RouteDelta::Install(v6_local.clone()),
            ])
            .await
            .unwrap();
        assert_eq!((again.installed, again.unchanged), (0, 4), "{again:?}");
        // Withdraw, with coalescing: install-then-remove in one batch is a removal.
        let report = fib
            .apply(vec![
                RouteDelta::Install(ecmp.clone()),
                RouteDelta::Remove(net("10.64.2.0/26")),
                RouteDelta::Remove(net("fd00:10:64::/122")),
                RouteDelta::Remove(net("fd00:10:66::/122")),
            ])
            .await
            .unwrap();
        assert_eq!((report.removed, report.coalesced), (3, 1), "{report:?}");
        assert_eq!(ns.bird_routes(false), Vec::<String>::new());
        assert_eq!(
            ns.bird_routes(true),
            lines(&["blackhole fd00:10:65::/122 dev lo proto bird metric 1024 pref medium"])
        );
        fib.stop().await.unwrap();
    });
}

#[test]
fn restart_keeps_unchanged_routes_and_removes_stale_ones() {
    let Some(ns) = Netns::new("restart_keeps_unchanged_routes_and_removes_stale_ones") else {
        return;
    };
    ns.with_uplink();
    ns.add_tunl0();
    let name = ns.name.clone();
    ns.run(move |ns| async move {
        let keep1 = Route::via(
            net("10.64.1.0/26"),
            vec![NextHop::onlink(ip("10.99.0.2"), "tunl0")],
        );
        let keep2 = Route::blackhole(net("10.64.0.0/26"));
        let stale = Route::via(net("10.64.3.0/26"), vec![NextHop::direct(ip("10.99.0.3"))]);
        let changed = Route::via(net("10.64.4.0/26"), vec![NextHop::direct(ip("10.99.0.4"))]);
        let keep6 = Route::via(
            net("fd00:10:66::/122"),
            vec![
                NextHop::direct(ip("fd99::2")),
                NextHop::direct(ip("fd99::3")),
            ],
        );
        let stale6 = Route::blackhole(net("fd00:10:67::/122"));
        let first = FibSync::start(FibConfig::default()).await.unwrap();
        first
            .apply(
                [&keep1, &keep2, &stale, &changed, &keep6, &stale6]
                    .map(|r| RouteDelta::Install(r.clone()))
                    .to_vec(),
            )
            .await
            .unwrap();
        assert_eq!(first.stop().await.unwrap(), 0, "persist keeps routes");
        assert_eq!(ns.bird_routes(false).len(), 4);
        assert_eq!(ns.bird_routes(true).len(), 2);

        // Watch the kernel's route notifications while the second instance starts.
        let monitor = Monitor(
            Command::new("ip")
                .args(["-n", &name, "monitor", "route"])
                .stdout(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        let second = FibSync::start(FibConfig::default()).await.unwrap();
        // Another process writes a route stamped with our protocol after our start dump: the
        // reconcile must see it (and remove it, as nobody wants it).
        ns.ip(&[
            "route",
            "add",
            "10.64.8.0/26",
            "via",
            "10.99.0.8",
            "proto",
            "bird",
        ]);
        let added = Route::via(net("10.64.5.0/26"), vec![NextHop::direct(ip("10.99.0.5"))]);
        let changed_now = Route::via(net("10.64.4.0/26"), vec![NextHop::direct(ip("10.99.0.6"))]);
        let report = second
            .reconcile(vec![
                keep1.clone(),
                keep2.clone(),
                keep6.clone(),
                changed_now,
                added,
            ])
            .await
            .unwrap();
        assert_eq!(
            (report.unchanged, report.installed, report.removed),
            (3, 2, 3),
            "{report:?}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut monitor = monitor;
        let _ = monitor.0.kill();
        let out = monitor.0.wait_with_output_ref();
        let seen: Vec<&str> = out.lines().collect();
        assert!(
            !seen
                .iter()
                .any(|l| l.contains("10.64.1.0/26") || l.contains("10.64.0.0/26")),
            "unchanged routes were rewritten: {seen:?}"
        );
        assert!(
            seen.iter().any(|l| l.starts_with("Deleted 10.64.3.0/26")),
            "{seen:?}"
        );
        assert!(
            seen.iter()
                .any(|l| l.starts_with("10.64.5.0/26 via 10.99.0.5")),
            "{seen:?}"
        );
        assert_eq!(
            ns.bird_routes(false),
            lines(&[
                "10.64.1.0/26 via 10.99.0.2 dev tunl0 proto bird onlink",
                "10.64.4.0/26 via 10.99.0.6 dev eth0 proto bird",
                "10.64.5.0/26 via 10.99.0.5 dev eth0 proto bird",
                "blackhole 10.64.0.0/26 proto bird",
            ])
        );
        let stop_cfg = FibConfig {
            persist: false,
            ..FibConfig::default()
        };
        drop(second);
        let third = FibSync::start(stop_cfg).await.unwrap();
        assert_eq!(
            third.stop().await.unwrap(),
            5,
            "persist=false removes our routes"
        );
        assert_eq!(ns.bird_routes(false), Vec::<String>::new());
        assert_eq!(ns.bird_routes(true), Vec::<String>::new());
    });
}

trait WaitOutput {
    fn wait_with_output_ref(&mut self) -> String;
}

impl WaitOutput for Child {
    fn wait_with_output_ref(&mut self) -> String {
        use std::io::Read;
        let mut s = String::new();
        if let Some(mut out) = self.stdout.take() {
            let _ = out.read_to_string(&mut s);
        }
        let _ = self.wait();
        s
    }
}

#[test]
fn routes_wait_for_tunl0_and_come_back_with_it() {
    let Some(ns) = Netns::new("routes_wait_for_tunl0_and_come_back_with_it") else {
        return;
    };
    ns.with_uplink();
    ns.run(|ns| async move {
        let fib = FibSync::start(FibConfig::default()).await.unwrap();
        let tunnelled = Route::via(
            net("10.64.1.0/26"),
            vec![NextHop::onlink(ip("10.99.0.2"), "tunl0")],
        );
        let report = fib
            .apply(vec![RouteDelta::Install(tunnelled)])
            .await
            .unwrap();
        // Either tunl0 is absent, or (ipip module loaded) present but down.
        assert_eq!(report.deferred.len(), 1, "{report:?}");
        assert!(report.deferred[0].1.is_dependency());
        assert_eq!(ns.bird_routes(false), Vec::<String>::new());
        ns.add_tunl0();
        let want = lines(&["10.64.1.0/26 via 10.99.0.2 dev tunl0 proto bird onlink"]);
        let mut got = Vec::new();
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            got = ns.bird_routes(false);
            if got == want {
                break;
            }
        }
        assert_eq!(got, want, "route installed once tunl0 is up");
        // Link down flushes it in the kernel; link up brings it back.
        ns.ip(&["link", "set", "tunl0", "down"]);
        tokio::time::sleep(Duration::from_millis(100)).await;
        ns.ip(&["link", "set", "tunl0", "up"]);
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            got = ns.bird_routes(false);
            if got == want {
                break;
            }
        }
        assert_eq!(got, want, "route re-installed after link down/up");
        // Someone deletes our route: it is noticed from the event and put back.
        ns.ip(&["route", "del", "10.64.1.0/26", "proto", "bird"]);
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            got = ns.bird_routes(false);
            if got == want {
                break;
            }
        }
        assert_eq!(got, want, "route re-installed after an external delete");
        let stats = fib.stats().await.unwrap();
        assert!(stats.deferred_total >= 1 && stats.pending == 0, "{stats:?}");
        assert!(stats.resyncs >= 2, "{stats:?}");
        fib.stop().await.unwrap();
    });
}

#[test]
fn foreign_routes_are_never_touched() {
    let Some(ns) = Netns::new("foreign_routes_are_never_touched") else {
        return;
    };
    ns.with_uplink();
    // A pod's /32 (as the CNI plugin adds it), a static route and Felix-like routes.
    ns.ip(&[
        "route",
        "add",
        "10.64.0.5/32",
        "dev",
        "eth0",
        "scope",
        "link",
    ]);
    ns.ip(&[
        "route",
        "add",
        "10.64.1.0/26",
        "via",
        "10.99.0.7",
        "proto",
        "static",
    ]);
    ns.ip(&[
        "route",
        "add",
        "10.64.9.0/26",
        "via",
        "10.99.0.8",
        "proto",
        "kernel",
    ]);
    let before = ns.ip(&["-4", "route", "show"]);
    ns.run(|ns| async move {
        let fib = FibSync::start(FibConfig {
            persist: false,
            ..FibConfig::default()
        })
        .await
        .unwrap();
        let report = fib.reconcile(vec![]).await.unwrap();
        assert_eq!(report.removed, 0, "{report:?}");
        let report = fib
            .apply(vec![
                RouteDelta::Remove(net("10.64.9.0/26")),
                RouteDelta::Remove(net("10.64.0.5/32")),
            ])
            .await
            .unwrap();
        assert_eq!((report.removed, report.failed.len()), (0, 0), "{report:?}");
        // Our own route next to them comes and goes without disturbing them.
        let ours = Route::via(net("10.64.2.0/26"), vec![NextHop::direct(ip("10.99.0.2"))]);
        fib.apply(vec![RouteDelta::Install(ours)]).await.unwrap();
        assert_eq!(
            ns.bird_routes(false),
            lines(&["10.64.2.0/26 via 10.99.0.2 dev eth0 proto bird"])
        );
        assert_eq!(fib.stop().await.unwrap(), 1);
    });
    assert_eq!(ns.ip(&["-4", "route", "show"]), before);
}

/// calico-node's pair: `bird` and `bird6` both write protocol 12 into the main table; each
/// instance's startup reconcile, writes and stop leave the other family's routes alone.
#[test]
fn family_scoped_instance_leaves_the_other_familys_routes_alone() {
    let Some(ns) = Netns::new("family_scoped_instance_leaves_the_other_familys_routes_alone")
    else {
        return;
    };
    ns.with_uplink();
    // Routes of our protocol from a previous run, one per family.
    ns.ip(&[
        "route",
        "add",
        "10.64.3.0/26",
        "via",
        "10.99.0.3",
        "proto",
        "12",
    ]);
    ns.ip(&[
        "-6",
        "route",
        "add",
        "fd99:64:3::/122",
        "via",
        "fd99::3",
        "proto",
        "12",
    ]);
    assert_eq!(
        ns.bird_routes(false),
        lines(&["10.64.3.0/26 via 10.99.0.3 dev eth0 proto bird"])
    );
    let v6_left = ns.bird_routes(true);
    assert_eq!(v6_left.len(), 1, "{v6_left:?}");
    // An IPv4-only instance (`bird`): its reconcile removes its stale IPv4 route only.
    let v6_before = v6_left.clone();
    ns.run(move |ns| async move {
        let fib = FibSync::start(FibConfig {
            persist: false,
            families: Families::V4,
            ..FibConfig::default()
        })
        .await
        .unwrap();
        let report = fib.reconcile(vec![]).await.unwrap();
        assert_eq!(report.removed, 1, "{report:?}");
        assert_eq!(ns.bird_routes(false), Vec::<String>::new());
        assert_eq!(ns.bird_routes(true), v6_before, "the IPv6 route survives");
        // An IPv6 delta is refused, not written.
        let report = fib
            .apply(vec![RouteDelta::Install(Route::via(
                net("fd99:64:4::/122"),
                vec![NextHop::direct(ip("fd99::4"))],
            ))])
            .await
            .unwrap();
        assert_eq!(report.installed, 0, "{report:?}");
        assert!(
            matches!(
                report.failed.as_slice(),
                [(_, FibError::OtherFamily { .. })]
            ),
            "{report:?}"
        );
        // Our route of our family, then stop without persist: only it goes.
        let ours = Route::via(net("10.64.2.0/26"), vec![NextHop::direct(ip("10.99.0.2"))]);
        fib.apply(vec![RouteDelta::Install(ours)]).await.unwrap();
        assert_eq!(fib.stop().await.unwrap(), 1);
        assert_eq!(ns.bird_routes(true), v6_before);
    });
    // The other way round: an IPv6-only instance (`bird6`) keeps an IPv4 route of ours.
    ns.ip(&[
        "route",
        "add",
        "10.64.3.0/26",
        "via",
        "10.99.0.3",
        "proto",
        "12",
    ]);
    ns.run(move |ns| async move {
        let fib = FibSync::start(FibConfig {
            persist: false,
            families: Families::V6,
            ..FibConfig::default()
        })
        .await
        .unwrap();
        // An IPv4 route written meanwhile (by `bird`) is not a foreign write either.
        ns.ip(&[
            "route",
            "add",
            "10.64.5.0/26",
            "via",
            "10.99.0.5",
            "proto",
            "12",
        ]);
        let report = fib.reconcile(vec![]).await.unwrap();
        assert_eq!(report.removed, 1, "the stale IPv6 route only: {report:?}");
        assert_eq!(ns.bird_routes(true), Vec::<String>::new());
        assert_eq!(
            ns.bird_routes(false),
            lines(&[
                "10.64.3.0/26 via 10.99.0.3 dev eth0 proto bird",
                "10.64.5.0/26 via 10.99.0.5 dev eth0 proto bird",
            ])
        );
        assert_eq!(fib.stop().await.unwrap(), 0);
    });
    assert_eq!(ns.bird_routes(false).len(), 2);
    assert_eq!(ns.bird_routes(true), Vec::<String>::new());
}

#[test]
fn learns_links_addresses_and_foreign_routes_from_events() {
    let Some(ns) = Netns::new("learns_links_addresses_and_foreign_routes_from_events") else {
        return;
    };
    ns.with_uplink();
    ns.run(|ns| async move {
        let fib = FibSync::start(FibConfig::default()).await.unwrap();
        let mut events = fib.subscribe();
        assert!(fib
            .connected_subnets()
            .await
            .unwrap()
            .contains(&net("10.99.0.0/24")));
        ns.ip(&["addr", "add", "10.98.0.1/24", "dev", "eth0"]);
        ns.ip(&[
            "route",
            "add",
            "10.70.0.0/16",
            "via",
            "10.99.0.9",
            "proto",
            "static",
        ]);
        ns.ip(&["link", "set", "eth0", "down"]);
        let mut seen = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        while seen.len() < 3 {
            match tokio::time::timeout_at(deadline, events.recv()).await {
                Ok(Ok(event)) => match event {
                    FibEvent::AddressAdded { addr, .. } if addr == net("10.98.0.1/24") => {
                        seen.push("address")
                    }
                    FibEvent::ForeignRouteAdded {
                        prefix,
                        protocol: 4,
                    } if prefix == net("10.70.0.0/16") => seen.push("static route"),
                    FibEvent::LinkUpdated(link) if link.name == "eth0" && !link.up => {
                        seen.push("link down")
                    }
                    _ => {}
                },
                _ => break,
            }
        }
        seen.sort();
        assert_eq!(seen, vec!["address", "link down", "static route"]);
        // Event-driven, no polling: the new subnet is known without a restart.
        assert!(fib
            .connected_subnets()
            .await
            .unwrap()
            .contains(&net("10.98.0.0/24")));
        fib.stop().await.unwrap();
    });
}

/// Requests go without `NLM_F_ACK` except the last of each 64 KiB `send`: refusals anywhere,
/// also on a chunk's last request (which carries the ack), must all be reported, and every
/// accepted route counted.
#[test]
fn refusals_spread_over_many_chunks_are_all_reported() {
    let Some(ns) = Netns::new("refusals_spread_over_many_chunks_are_all_reported") else {
        return;
    };
    ns.with_uplink();
    let n: u32 = 5000;
    // A 60-octet message each: 1093 per chunk, so 1085..1100 spans the first chunk's end.
    let refused = |i: u32| i % 7 == 3 || (1085..1100).contains(&i) || i == n - 1;
    let prefix = |i: u32| {
        IpNet::new(
            IpAddr::from(std::net::Ipv4Addr::from((20u32 << 24) + i)),
            32,
        )
        .unwrap()
    };
    let batch: Vec<RouteDelta> = (0..n)
        .map(|i| {
            // 10.200.0.1 is on no connected subnet: the kernel answers ENETUNREACH.
            let gw = if refused(i) {
                "10.200.0.1"
            } else {
                "10.99.0.2"
            };
            RouteDelta::Install(Route::via(prefix(i), vec![NextHop::direct(ip(gw))]))
        })
        .collect();
    let want_refused: Vec<IpNet> = (0..n).filter(|i| refused(*i)).map(prefix).collect();
    let count = ns.run(move |_| async move {
        let fib = FibSync::start(FibConfig {
            persist: false,
            ..FibConfig::default()
        })
        .await
        .unwrap();
        let report = fib.apply(batch).await.unwrap();
        let mut deferred: Vec<IpNet> = report.deferred.iter().map(|(p, _)| *p).collect();
        deferred.sort();
        assert_eq!(deferred, want_refused, "{:?}", report.failed.first());
        assert!(report
            .deferred
            .iter()
            .all(|(_, e)| matches!(e, FibError::GatewayUnreachable { .. })));
        assert_eq!(report.installed, n as usize - want_refused.len());
        let stats = fib.stats().await.unwrap();
        assert_eq!(stats.installed, report.installed);
        assert_eq!(stats.pending, want_refused.len());
        report.installed
    });
    let in_kernel = ns
        .ip(&["-4", "route", "show", "proto", "bird"])
        .lines()
        .count();
    assert_eq!(in_kernel, count);
}

/// Starts `ip monitor route` in the namespace `name` (killed on drop).
fn watch_routes(name: &str) -> Monitor {
    Monitor(
        Command::new("ip")
            .args(["-n", name, "monitor", "route"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    )
}

impl Monitor {
    /// Stops the monitor (after the kernel's last notifications had time to arrive) and
    /// returns the lines it printed about routes of ours (not, e.g., the link-local routes the
    /// kernel adds once the uplink's IPv6 comes up).
    async fn lines(mut self) -> Vec<String> {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let _ = self.0.kill();
        let out = self.0.wait_with_output_ref();
        out.lines()
            .filter(|l| l.contains("proto bird"))
            .map(str::to_owned)
            .collect()
    }
}

/// The index of the first line starting with `start`, or a panic showing all of them.
fn line_index(seen: &[String], start: &str) -> usize {
    seen.iter()
        .position(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("no line starting with {start:?} in {seen:?}"))
}

/// As BIRD's kernel protocol in calico-node writes them: a BGP route with `krt_metric = 1024`
/// shows `metric 1024`, a blackhole of our own block without `krt_metric` (config metric 0)
/// shows none; an IPv6 route asking for 0 gets the kernel's 1024.
#[test]
fn each_route_is_installed_with_its_own_metric() {
    let Some(ns) = Netns::new("each_route_is_installed_with_its_own_metric") else {
        return;
    };
    ns.with_uplink();
    ns.run(|ns| async move {
        let cfg = FibConfig {
            metric: 0,
            persist: false,
            ..FibConfig::default()
        };
        let fib = FibSync::start(cfg).await.unwrap();
        let block = Route::blackhole(net("10.64.0.0/26"));
        let bgp = Route::via(net("10.64.1.0/26"), vec![NextHop::direct(ip("10.99.0.2"))])
            .with_metric(Some(1024));
        let bgp_low = Route::via(net("10.64.2.0/26"), vec![NextHop::direct(ip("10.99.0.3"))])
            .with_metric(Some(100));
        let v6 = Route::via(
            net("fd00:10:64::/122"),
            vec![NextHop::direct(ip("fd99::2"))],
        )
        .with_metric(Some(0));
        let v6_own = Route::blackhole(net("fd00:10:65::/122")).with_metric(Some(512));
        let report = fib
            .apply(
                [&block, &bgp, &bgp_low, &v6, &v6_own]
                    .map(|r| RouteDelta::Install(r.clone()))
                    .to_vec(),
            )
            .await
            .unwrap();
        assert_eq!(report.installed, 5, "{report:?}");
        assert_eq!(
            ns.bird_routes(false),
            lines(&[
                "10.64.1.0/26 via 10.99.0.2 dev eth0 proto bird metric 1024",
                "10.64.2.0/26 via 10.99.0.3 dev eth0 proto bird metric 100",
                "blackhole 10.64.0.0/26 proto bird",
            ])
        );
        assert_eq!(
            ns.bird_routes(true),
            lines(&[
                "blackhole fd00:10:65::/122 dev lo proto bird metric 512 pref medium",
                "fd00:10:64::/122 via fd99::2 dev eth0 proto bird metric 1024 pref medium",
            ])
        );
        // The same routes again: nothing to write.
        let report = fib
            .apply(
                [&block, &bgp, &bgp_low, &v6, &v6_own]
                    .map(|r| RouteDelta::Install(r.clone()))
                    .to_vec(),
            )
            .await
            .unwrap();
        assert_eq!((report.unchanged, report.installed), (5, 0), "{report:?}");
        // Removing deletes by the route's own metric.
        let report = fib
            .apply(vec![
                RouteDelta::Remove(bgp.prefix),
                RouteDelta::Remove(v6_own.prefix),
            ])
            .await
            .unwrap();
        assert_eq!((report.removed, report.failed.len()), (2, 0), "{report:?}");
        assert_eq!(ns.bird_routes(false).len(), 2);
        assert_eq!(ns.bird_routes(true).len(), 1);
        assert_eq!(
            fib.stop().await.unwrap(),
            3,
            "persist=false removes the rest"
        );
        assert_eq!(ns.bird_routes(false), Vec::<String>::new());
        assert_eq!(ns.bird_routes(true), Vec::<String>::new());
    });
}

/// The kernel keys routes by prefix and metric: a new metric for a prefix is installed first,
/// then the old route deleted, leaving exactly one route and no moment without one.
#[test]
fn metric_change_replaces_the_route_new_first() {
    let Some(ns) = Netns::new("metric_change_replaces_the_route_new_first") else {
        return;
    };
    ns.with_uplink();
    let name = ns.name.clone();
    ns.run(move |ns| async move {
        let fib = FibSync::start(FibConfig::default()).await.unwrap();
        let v4 = |m| {
            Route::via(net("10.64.1.0/26"), vec![NextHop::direct(ip("10.99.0.2"))])
                .with_metric(Some(m))
        };
        let v6 = |m| {
            Route::via(
                net("fd00:10:64::/122"),
                vec![NextHop::direct(ip("fd99::2"))],
            )
            .with_metric(m)
        };
        fib.apply(vec![
            RouteDelta::Install(v4(1024)),
            RouteDelta::Install(v6(None)),
        ])
        .await
        .unwrap();
        let monitor = watch_routes(&name);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let report = fib
            .apply(vec![
                RouteDelta::Install(v4(512)),
                RouteDelta::Install(v6(Some(512))),
            ])
            .await
            .unwrap();
        assert_eq!(
            (report.installed, report.removed, report.failed.len()),
            (2, 2, 0),
            "{report:?}"
        );
        let seen = monitor.lines().await;
        assert_eq!(
            ns.bird_routes(false),
            lines(&["10.64.1.0/26 via 10.99.0.2 dev eth0 proto bird metric 512"])
        );
        assert_eq!(
            ns.bird_routes(true),
            lines(&["fd00:10:64::/122 via fd99::2 dev eth0 proto bird metric 512 pref medium"])
        );
        for (new, old) in [
            (
                "10.64.1.0/26 via 10.99.0.2 dev eth0 proto bird metric 512",
                "Deleted 10.64.1.0/26",
            ),
            (
                "fd00:10:64::/122 via fd99::2 dev eth0 proto bird metric 512",
                "Deleted fd00:10:64::/122",
            ),
        ] {
            let (added, deleted) = (line_index(&seen, new), line_index(&seen, old));
            assert!(added < deleted, "new route first: {seen:?}");
            assert!(
                seen[deleted].contains("metric 1024"),
                "the old route goes: {seen:?}"
            );
        }
        // And back to the configured metric (0, IPv6: the kernel's 1024).
        let report = fib
            .apply(vec![
                RouteDelta::Install(v4(0)),
                RouteDelta::Install(v6(None)),
            ])
            .await
            .unwrap();
        assert_eq!((report.installed, report.removed), (2, 2), "{report:?}");
        assert_eq!(
            ns.bird_routes(false),
            lines(&["10.64.1.0/26 via 10.99.0.2 dev eth0 proto bird"])
        );
        assert_eq!(
            ns.bird_routes(true),
            lines(&["fd00:10:64::/122 via fd99::2 dev eth0 proto bird metric 1024 pref medium"])
        );
        let stats = fib.stats().await.unwrap();
        assert_eq!((stats.desired, stats.installed), (2, 2), "{stats:?}");
        fib.stop().await.unwrap();
    });
}

/// A restart (persisted routes, new instance) with the same per-route metrics rewrites
/// nothing, an IPv6 `Some(0)` included (the kernel reports 1024); with another metric it
/// replaces exactly that route; with two routes of ours for one prefix it keeps the one of the
/// wanted metric.
#[test]
fn restart_compares_each_routes_own_metric() {
    let Some(ns) = Netns::new("restart_compares_each_routes_own_metric") else {
        return;
    };
    ns.with_uplink();
    let name = ns.name.clone();
    ns.run(move |ns| async move {
        let block = Route::blackhole(net("10.64.0.0/26"));
        let bgp = |m| {
            Route::via(net("10.64.1.0/26"), vec![NextHop::direct(ip("10.99.0.2"))])
                .with_metric(Some(m))
        };
        let v6 = Route::via(
            net("fd00:10:64::/122"),
            vec![NextHop::direct(ip("fd99::2"))],
        )
        .with_metric(Some(0));
        let first = FibSync::start(FibConfig::default()).await.unwrap();
        let report = first
            .apply(
                [block.clone(), bgp(1024), v6.clone()]
                    .map(RouteDelta::Install)
                    .to_vec(),
            )
            .await
            .unwrap();
        assert_eq!(report.installed, 3, "{report:?}");
        assert_eq!(first.stop().await.unwrap(), 0, "persist keeps routes");

        // Same routes, same metrics: nothing is written.
        let monitor = watch_routes(&name);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let second = FibSync::start(FibConfig::default()).await.unwrap();
        let report = second
            .reconcile(vec![block.clone(), bgp(1024), v6.clone()])
            .await
            .unwrap();
        assert_eq!(
            (report.unchanged, report.installed, report.removed),
            (3, 0, 0),
            "{report:?}"
        );
        let seen = monitor.lines().await;
        assert!(seen.is_empty(), "unchanged routes were rewritten: {seen:?}");
        assert_eq!(second.stop().await.unwrap(), 0);

        // Another metric for one route: exactly that route is replaced, new first.
        let monitor = watch_routes(&name);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let third = FibSync::start(FibConfig::default()).await.unwrap();
        let report = third
            .reconcile(vec![block.clone(), bgp(512), v6.clone()])
            .await
            .unwrap();
        assert_eq!(
            (report.unchanged, report.installed, report.removed),
            (2, 1, 1),
            "{report:?}"
        );
        let seen = monitor.lines().await;
        let added = line_index(
            &seen,
            "10.64.1.0/26 via 10.99.0.2 dev eth0 proto bird metric 512",
        );
        let deleted = line_index(&seen, "Deleted 10.64.1.0/26");
        assert!(
            added < deleted && seen[deleted].contains("metric 1024"),
            "{seen:?}"
        );
        assert_eq!(seen.len(), 2, "only that route was touched: {seen:?}");
        assert_eq!(
            ns.bird_routes(false),
            lines(&[
                "10.64.1.0/26 via 10.99.0.2 dev eth0 proto bird metric 512",
                "blackhole 10.64.0.0/26 proto bird",
            ])
        );
        assert_eq!(third.stop().await.unwrap(), 0);

        // Two routes of ours for the prefix (another writer added one of metric 100 while we
        // were down; the kernel dumps it first): the one of the wanted metric stays untouched,
        // the other goes.
        ns.ip(&[
            "route",
            "add",
            "10.64.1.0/26",
            "via",
            "10.99.0.2",
            "proto",
            "bird",
            "metric",
            "100",
        ]);
        let monitor = watch_routes(&name);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let fourth = FibSync::start(FibConfig {
            persist: false,
            ..FibConfig::default()
        })
        .await
        .unwrap();
        let report = fourth
            .reconcile(vec![block.clone(), bgp(512), v6.clone()])
            .await
            .unwrap();
        assert_eq!(
            (report.unchanged, report.installed, report.removed),
            (3, 0, 1),
            "{report:?}"
        );
        let seen = monitor.lines().await;
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert!(
            seen[0].starts_with("Deleted 10.64.1.0/26") && seen[0].contains("metric 100 "),
            "{seen:?}"
        );
        assert_eq!(
            ns.bird_routes(false),
            lines(&[
                "10.64.1.0/26 via 10.99.0.2 dev eth0 proto bird metric 512",
                "blackhole 10.64.0.0/26 proto bird",
            ])
        );
        assert_eq!(fourth.stop().await.unwrap(), 3);
    });
}

/// Polls our routes (IPv4) until they are `want` (2 s at most) and returns the last look.
async fn wait_routes(ns: &Ns, want: &[String]) -> Vec<String> {
    let mut got = Vec::new();
    for _ in 0..100 {
        got = ns.bird_routes(false);
        if got == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    got
}

/// BIRD's `gateway recursive` (mesh3: node 3 behind a router; BIRD 1.6.8 checked in a
/// namespace): the route goes via what the gateway resolves to in the kernel's table (a
/// default route included); when it resolves to nothing, BIRD exports the route as
/// `unreachable` and so do we; it follows the foreign routes as they come and go.
#[test]
fn recursive_next_hop_follows_the_route_to_its_gateway() {
    let Some(ns) = Netns::new("recursive_next_hop_follows_the_route_to_its_gateway") else {
        return;
    };
    ns.with_uplink();
    let behind_router = [
        "route",
        "add",
        "10.99.1.0/24",
        "via",
        "10.99.0.254",
        "proto",
        "static",
    ];
    ns.ip(&behind_router);
    ns.run(move |ns| async move {
        let fib = FibSync::start(FibConfig {
            persist: false,
            ..FibConfig::default()
        })
        .await
        .unwrap();
        let node3 = Route::via(
            net("10.99.64.128/26"),
            vec![NextHop::recursive(ip("10.99.1.3"))],
        )
        .with_metric(Some(1024));
        // On a connected subnet: installed as a direct hop, no lookup.
        let node2 = Route::via(
            net("10.99.64.64/26"),
            vec![NextHop::recursive(ip("10.99.0.2"))],
        );
        let report = fib
            .apply(vec![
                RouteDelta::Install(node3.clone()),
                RouteDelta::Install(node2),
            ])
            .await
            .unwrap();
        assert_eq!(
            (report.installed, report.deferred.len()),
            (2, 0),
            "{report:?}"
        );
        let via_router = "10.99.64.128/26 via 10.99.0.254 dev eth0 proto bird metric 1024";
        let node2_line = "10.99.64.64/26 via 10.99.0.2 dev eth0 proto bird";
        assert_eq!(ns.bird_routes(false), lines(&[via_router, node2_line]));

        // The router's route goes: nothing resolves the gateway, the route is unreachable.
        ns.ip(&["route", "del", "10.99.1.0/24"]);
        let unreachable = "unreachable 10.99.64.128/26 proto bird metric 1024";
        let want = lines(&[unreachable, node2_line]);
        assert_eq!(wait_routes(&ns, &want).await, want, "gateway unresolvable");
        // A default route resolves it (BIRD learns the kernel's default route).
        ns.ip(&["route", "add", "default", "via", "10.99.0.253"]);
        let want = lines(&[
            "10.99.64.128/26 via 10.99.0.253 dev eth0 proto bird metric 1024",
            node2_line,
        ]);
        assert_eq!(
            wait_routes(&ns, &want).await,
            want,
            "through the default route"
        );
        // The more specific route comes back and wins.
        ns.ip(&behind_router);
        let want = lines(&[via_router, node2_line]);
        assert_eq!(wait_routes(&ns, &want).await, want, "router's route back");
        // Through a blackhole route, as BIRD: a blackhole.
        ns.ip(&[
            "route",
            "add",
            "blackhole",
            "10.99.1.3/32",
            "proto",
            "static",
        ]);
        let want = lines(&[
            "blackhole 10.99.64.128/26 proto bird metric 1024",
            node2_line,
        ]);
        assert_eq!(wait_routes(&ns, &want).await, want, "through a blackhole");
        ns.ip(&["route", "del", "blackhole", "10.99.1.3/32"]);
        let want = lines(&[via_router, node2_line]);
        assert_eq!(wait_routes(&ns, &want).await, want, "blackhole gone");
        // Through a device route: via the gateway itself on that device.
        ns.ip(&[
            "route",
            "add",
            "10.99.1.3/32",
            "dev",
            "eth0",
            "proto",
            "static",
        ]);
        let want = lines(&[
            "10.99.64.128/26 via 10.99.1.3 dev eth0 proto bird metric 1024",
            node2_line,
        ]);
        assert_eq!(
            wait_routes(&ns, &want).await,
            want,
            "through a device route"
        );
        ns.ip(&["route", "del", "10.99.1.3/32", "dev", "eth0"]);
        let want = lines(&[via_router, node2_line]);
        assert_eq!(wait_routes(&ns, &want).await, want);
        assert_eq!(fib.stop().await.unwrap(), 2);
    });
}

/// peeropts: the static protocol's `route 10.99.9.4/32 via 10.99.0.4` and a BGP route with
/// next hop 10.99.9.4 in one batch: the BGP route goes via 10.99.0.4 at once. A recursive
/// route of ours cannot carry another's resolution (BIRD refuses recursion through a recursive
/// route). A plain (non-recursive) gateway off the connected subnets still waits, as before.
#[test]
fn recursive_next_hop_resolves_through_our_static_route_in_the_same_batch() {
    let Some(ns) = Netns::new("recursive_next_hop_resolves_through_our_static_route") else {
        return;
    };
    ns.with_uplink();
    ns.ip(&[
        "route",
        "add",
        "10.99.1.0/24",
        "via",
        "10.99.0.254",
        "proto",
        "static",
    ]);
    ns.run(|ns| async move {
        let fib = FibSync::start(FibConfig {
            persist: false,
            ..FibConfig::default()
        })
        .await
        .unwrap();
        let reachable_by = Route::via(net("10.99.9.4/32"), vec![NextHop::direct(ip("10.99.0.4"))]);
        let node4 = Route::via(
            net("10.99.64.192/26"),
            vec![NextHop::recursive(ip("10.99.9.4"))],
        );
        // Its gateway is inside node 4's block, a route of ours that is itself recursive.
        let through_recursive = Route::via(
            net("10.99.65.0/26"),
            vec![NextHop::recursive(ip("10.99.64.200"))],
        );
        // Not recursive: the kernel refuses a gateway off the connected subnets; it waits.
        let plain = Route::via(net("10.99.66.0/26"), vec![NextHop::direct(ip("10.99.1.3"))]);
        let report = fib
            .apply(vec![
                RouteDelta::Install(node4.clone()),
                RouteDelta::Install(through_recursive),
                RouteDelta::Install(plain),
                RouteDelta::Install(reachable_by.clone()),
            ])
            .await
            .unwrap();
        assert_eq!(report.installed, 3, "{report:?}");
        assert!(
            matches!(
                report.deferred.as_slice(),
                [(p, FibError::GatewayUnreachable { .. })] if *p == net("10.99.66.0/26")
            ),
            "{report:?}"
        );
        let static_line = "10.99.9.4 via 10.99.0.4 dev eth0 proto bird";
        let node4_line = "10.99.64.192/26 via 10.99.0.4 dev eth0 proto bird";
        let refused = "unreachable 10.99.65.0/26 proto bird";
        assert_eq!(
            ns.bird_routes(false),
            lines(&[static_line, node4_line, refused])
        );
        // Without the static route the BGP route is unreachable; with it, back.
        fib.apply(vec![RouteDelta::Remove(reachable_by.prefix)])
            .await
            .unwrap();
        let want = lines(&["unreachable 10.99.64.192/26 proto bird", refused]);
        assert_eq!(wait_routes(&ns, &want).await, want, "static route removed");
        fib.apply(vec![RouteDelta::Install(reachable_by)])
            .await
            .unwrap();
        let want = lines(&[static_line, node4_line, refused]);
        assert_eq!(wait_routes(&ns, &want).await, want, "static route back");
        let stats = fib.stats().await.unwrap();
        assert_eq!(
            stats.pending, 1,
            "only the plain off-subnet route waits: {stats:?}"
        );
        assert_eq!(fib.stop().await.unwrap(), 3);
    });
}

/// A restart with `persist` finds the recursive routes as the kernel holds them (`via` the
/// resolved gateway and device, or `unreachable`) and rewrites none of them.
#[test]
fn restart_keeps_recursive_routes_untouched() {
    let Some(ns) = Netns::new("restart_keeps_recursive_routes_untouched") else {
        return;
    };
    ns.with_uplink();
    ns.ip(&[
        "route",
        "add",
        "10.99.1.0/24",
        "via",
        "10.99.0.254",
        "proto",
        "static",
    ]);
    let name = ns.name.clone();
    ns.run(move |ns| async move {
        let routes = vec![
            Route::via(
                net("10.99.64.128/26"),
                vec![NextHop::recursive(ip("10.99.1.3"))],
            )
            .with_metric(Some(1024)),
            Route::via(net("10.99.9.4/32"), vec![NextHop::direct(ip("10.99.0.4"))]),
            Route::via(
                net("10.99.64.192/26"),
                vec![NextHop::recursive(ip("10.99.9.4"))],
            ),
            Route::via(
                net("10.99.65.0/26"),
                vec![NextHop::recursive(ip("10.99.7.7"))],
            ),
            Route::via(
                net("10.99.66.0/26"),
                vec![NextHop::recursive(ip("10.99.0.2"))],
            ),
        ];
        let first = FibSync::start(FibConfig::default()).await.unwrap();
        let report = first.reconcile(routes.clone()).await.unwrap();
        assert_eq!(report.installed, 5, "{report:?}");
        assert_eq!(first.stop().await.unwrap(), 0, "persist keeps routes");
        let want = lines(&[
            "10.99.9.4 via 10.99.0.4 dev eth0 proto bird",
            "10.99.64.128/26 via 10.99.0.254 dev eth0 proto bird metric 1024",
            "10.99.64.192/26 via 10.99.0.4 dev eth0 proto bird",
            "10.99.66.0/26 via 10.99.0.2 dev eth0 proto bird",
            "unreachable 10.99.65.0/26 proto bird",
        ]);
        assert_eq!(ns.bird_routes(false), want);

        let monitor = watch_routes(&name);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let second = FibSync::start(FibConfig::default()).await.unwrap();
        let report = second.reconcile(routes).await.unwrap();
        assert_eq!(
            (report.unchanged, report.installed, report.removed),
            (5, 0, 0),
            "{report:?}"
        );
        assert_eq!(
            monitor.lines().await,
            Vec::<String>::new(),
            "nothing rewritten"
        );
        assert_eq!(ns.bird_routes(false), want);
        drop(second);
        let third = FibSync::start(FibConfig {
            persist: false,
            ..FibConfig::default()
        })
        .await
        .unwrap();
        assert_eq!(
            third.stop().await.unwrap(),
            5,
            "unreachable routes are ours too"
        );
    });
}

/// RFC 8950: an IPv4 route learned with an IPv6 next hop is installed `via inet6` (`RTA_VIA`),
/// alone, as an ECMP set and through a recursive IPv6 gateway (looked up in the IPv6 table); a
/// restart reads them back (`RTA_VIA` parsed) and rewrites none of them.
#[test]
fn ipv4_routes_via_ipv6_next_hops_install_and_survive_a_restart() {
    let Some(ns) = Netns::new("ipv4_routes_via_ipv6_next_hops_install_and_survive_a_restart")
    else {
        return;
    };
    ns.with_uplink();
    ns.ip(&[
        "-6",
        "route",
        "add",
        "fd99:1::/64",
        "via",
        "fd99::254",
        "proto",
        "static",
    ]);
    let name = ns.name.clone();
    ns.run(move |ns| async move {
        let single = Route::via(net("10.64.3.0/26"), vec![NextHop::direct(ip("fd99::2"))]);
        let ecmp = Route::via(
            net("10.64.6.0/26"),
            vec![
                NextHop::direct(ip("fd99::2")),
                NextHop::direct(ip("fd99::3")),
            ],
        );
        let recursive = Route::via(
            net("10.64.7.0/26"),
            vec![NextHop::recursive(ip("fd99:1::3"))],
        );
        let wanted = vec![single.clone(), ecmp.clone(), recursive.clone()];
        let first = FibSync::start(FibConfig::default()).await.unwrap();
        let report = first
            .apply(wanted.iter().cloned().map(RouteDelta::Install).collect())
            .await
            .unwrap();
        assert_eq!(
            (report.installed, report.failed.len(), report.deferred.len()),
            (3, 0, 0),
            "{report:?}"
        );
        let want = lines(&[
            "10.64.3.0/26 via inet6 fd99::2 dev eth0 proto bird",
            "10.64.6.0/26 proto bird | nexthop via inet6 fd99::2 dev eth0 weight 1 \
             | nexthop via inet6 fd99::3 dev eth0 weight 1",
            "10.64.7.0/26 via inet6 fd99::254 dev eth0 proto bird",
        ]);
        assert_eq!(ns.bird_routes(false), want);
        assert_eq!(first.stop().await.unwrap(), 0, "persist keeps routes");

        let monitor = Monitor(
            Command::new("ip")
                .args(["-n", &name, "monitor", "route"])
                .stdout(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        let second = FibSync::start(FibConfig {
            persist: false,
            ..FibConfig::default()
        })
        .await
        .unwrap();
        let report = second.reconcile(wanted).await.unwrap();
        assert_eq!(
            (report.unchanged, report.installed, report.removed),
            (3, 0, 0),
            "{report:?}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut monitor = monitor;
        let _ = monitor.0.kill();
        let out = monitor.0.wait_with_output_ref();
        assert!(
            !out.lines().any(|l| l.contains("10.64.")),
            "routes via inet6 were rewritten at restart: {out}"
        );
        assert_eq!(ns.bird_routes(false), want);
        assert_eq!(second.stop().await.unwrap(), 3);
        assert_eq!(ns.bird_routes(false), Vec::<String>::new());
    });
}
