//! The interface table ([`fib_sync::InterfaceWatch`]) against the real kernel, in a network
//! namespace of its own (needs root): links and addresses added, removed, up and down with
//! `ip` show in the published table without any reader asking.

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use fib_sync::{Attached, InterfaceReceiver, InterfaceWatch, Interfaces};
use ipnet::IpNet;
use nix::sched::{setns, CloneFlags};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A namespace removed on drop (also when the test panics).
struct Netns {
    name: String,
}

impl Netns {
    /// `None` (with the reason printed) when we cannot create namespaces.
    fn new(test: &str) -> Option<Netns> {
        if !nix::unistd::geteuid().is_root() {
            eprintln!("skipping {test}: needs root to create network namespaces");
            return None;
        }
        let name = format!(
            "ifw{}-{}",
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
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        Some(ns)
    }

    fn ip(&self, args: &[&str]) {
        let out = Command::new("ip")
            .arg("-n")
            .arg(&self.name)
            .args(args)
            .output()
            .expect("ip runs");
        assert!(
            out.status.success(),
            "ip {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Runs `body` on a thread inside the namespace (entered before any socket is opened),
    /// with its own tokio runtime.
    fn run<F, Fut>(&self, body: F)
    where
        F: FnOnce(String) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()>,
    {
        let name = self.name.clone();
        std::thread::spawn(move || {
            let file = std::fs::File::open(format!("/run/netns/{name}")).expect("netns file");
            setns(&file, CloneFlags::CLONE_NEWNET).expect("setns");
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(body(name))
        })
        .join()
        .expect("test thread");
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// `ip -n NS args` from inside the test body.
fn ip(ns: &str, args: &[&str]) {
    let out = Command::new("ip")
        .arg("-n")
        .arg(ns)
        .args(args)
        .output()
        .expect("ip runs");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Waits (at most 5 s) until the published table satisfies `ok`, without polling the kernel:
/// only the watch's own notifications wake us.
async fn wait_for(rx: &mut InterfaceReceiver, what: &str, ok: impl Fn(&Interfaces) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        if ok(&rx.borrow_and_update()) {
            return;
        }
        match tokio::time::timeout_at(deadline, rx.changed()).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => panic!("publisher gone while waiting for {what}"),
            Err(_) => panic!("no table with {what} within 5 s: {:?}", rx.borrow()),
        }
    }
}

fn net(s: &str) -> IpNet {
    s.parse().expect("net")
}

#[test]
fn table_follows_ip_link_and_addr_changes() {
    let Some(ns) = Netns::new("table_follows_ip_link_and_addr_changes") else {
        return;
    };
    ns.ip(&[
        "link", "add", "eth5", "type", "veth", "peer", "name", "eth5p",
    ]);
    ns.ip(&["link", "set", "eth5p", "up"]);
    ns.run(|ns| async move {
        let watch = InterfaceWatch::start().await.expect("interface watch");
        let mut rx = watch.subscribe();
        {
            let t = watch.now();
            let lo = t.link(1).expect("lo");
            assert_eq!(lo.name, "lo");
            assert!(lo.up && lo.has(libc::IFF_LOOPBACK as u32));
            let d = t.index_of("eth5").and_then(|i| t.link(i)).expect("eth5");
            assert!(!d.up, "eth5 starts down");
        }
        let gw = "10.99.5.7".parse().expect("ip");
        ip(&ns, &["addr", "add", "10.99.5.1/24", "dev", "eth5"]);
        ip(
            &ns,
            &["addr", "add", "fd99:5::1/64", "dev", "eth5", "nodad"],
        );
        wait_for(&mut rx, "eth5's addresses", |t| {
            t.index_of("eth5")
                .is_some_and(|i| t.addresses(i).len() == 2)
        })
        .await;
        let t = watch.now();
        assert!(t.is_local("10.99.5.1".parse().expect("ip")));
        assert!(t.connected().contains(&net("10.99.5.0/24")));
        assert!(t.connected().contains(&net("fd99:5::/64")));
        assert_eq!(t.attached(gw), Attached::No, "eth5 is down");
        assert!(t.up_subnets().iter().all(|(_, l)| l.name != "eth5"));

        ip(&ns, &["link", "set", "eth5", "up"]);
        wait_for(&mut rx, "eth5 up", |t| t.attached(gw) == Attached::Subnet).await;
        let t = watch.now();
        assert_eq!(t.interface_for(gw).map(|l| l.name.as_str()), Some("eth5"));
        assert!(t
            .up_subnets()
            .iter()
            .any(|(n, l)| *n == net("10.99.5.0/24") && l.name == "eth5"));
        let mtu = t.index_of("eth5").and_then(|i| t.link(i)).map(|l| l.mtu);
        assert_eq!(mtu, Some(1500));

        ip(&ns, &["addr", "del", "10.99.5.1/24", "dev", "eth5"]);
        wait_for(&mut rx, "10.99.5.1 removed", |t| {
            !t.is_local("10.99.5.1".parse().expect("ip"))
        })
        .await;
        let t = watch.now();
        assert_eq!(t.attached(gw), Attached::No);
        assert!(!t.connected().contains(&net("10.99.5.0/24")));
        assert!(t.connected().contains(&net("fd99:5::/64")));

        ip(&ns, &["link", "set", "eth5", "mtu", "1400"]);
        wait_for(&mut rx, "MTU 1400", |t| {
            t.index_of("eth5")
                .and_then(|i| t.link(i))
                .is_some_and(|l| l.mtu == 1400)
        })
        .await;
        ip(&ns, &["link", "set", "eth5", "down"]);
        wait_for(&mut rx, "eth5 down", |t| {
            t.index_of("eth5")
                .and_then(|i| t.link(i))
                .is_some_and(|l| !l.up)
        })
        .await;
        ip(&ns, &["link", "del", "eth5"]);
        wait_for(&mut rx, "eth5 gone", |t| t.index_of("eth5").is_none()).await;
        assert!(!watch.now().connected().contains(&net("fd99:5::/64")));
    });
}

#[test]
fn table_follows_the_main_tables_routes_of_other_protocols_only() {
    let Some(ns) = Netns::new("table_follows_the_main_tables_routes_of_other_protocols_only")
    else {
        return;
    };
    ns.ip(&[
        "link", "add", "eth5", "type", "veth", "peer", "name", "eth5p",
    ]);
    ns.ip(&["link", "set", "eth5p", "up"]);
    ns.ip(&["link", "set", "eth5", "up"]);
    ns.ip(&["addr", "add", "10.99.5.1/24", "dev", "eth5"]);
    ns.ip(&["route", "add", "10.97.0.0/16", "via", "10.99.5.7"]);
    const OURS: u8 = 99;
    ns.run(|ns| async move {
        let watch = InterfaceWatch::start_with_routes(OURS)
            .await
            .expect("interface watch");
        let mut rx = watch.subscribe_with_routes();
        let plain = watch.subscribe();
        let has = |t: &Interfaces, p: &str| t.kernel_routes().any(|(n, _)| *n == net(p));
        {
            let t = watch.now();
            assert!(has(&t, "10.97.0.0/16"), "dumped at start");
            assert!(has(&t, "10.99.5.0/24"), "the kernel's subnet route");
        }
        // Ours (by protocol) and another table's are never in it: the last route added is
        // the one waited for, so the others had their chance to show.
        ip(
            &ns,
            &[
                "route",
                "add",
                "10.96.0.0/16",
                "via",
                "10.99.5.7",
                "proto",
                "99",
            ],
        );
        ip(
            &ns,
            &[
                "route",
                "add",
                "10.95.0.0/16",
                "via",
                "10.99.5.7",
                "table",
                "100",
            ],
        );
        ip(&ns, &["route", "add", "blackhole", "10.94.0.0/16"]);
        ip(
            &ns,
            &[
                "route",
                "add",
                "default",
                "via",
                "10.99.5.7",
                "metric",
                "50",
            ],
        );
        wait_for(&mut rx, "the default route", |t| has(t, "0.0.0.0/0")).await;
        let t = watch.now();
        assert!(t.kernel_routes().any(|r| *r == (net("0.0.0.0/0"), 50)));
        assert!(!has(&t, "10.96.0.0/16"), "our protocol's route");
        assert!(!has(&t, "10.95.0.0/16"), "another table's route");
        assert!(!has(&t, "10.94.0.0/16"), "not unicast");
        assert!(
            !plain.has_changed().expect("publisher alive"),
            "route changes do not wake interface-only readers"
        );
        ip(&ns, &["route", "del", "10.97.0.0/16"]);
        wait_for(&mut rx, "10.97.0.0/16 removed", |t| !has(t, "10.97.0.0/16")).await;
        // The address goes, and the kernel's subnet route with it.
        ip(&ns, &["addr", "del", "10.99.5.1/24", "dev", "eth5"]);
        wait_for(&mut rx, "the subnet route removed", |t| {
            !has(t, "10.99.5.0/24") && !t.is_local("10.99.5.1".parse().expect("ip"))
        })
        .await;
    });
}
