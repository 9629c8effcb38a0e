//! Installs N IPv4 routes into an empty network namespace, once with fib-sync's executor and
//! once with a raw-netlink "floor" (hand-framed messages, same batching: 64 KiB per `send`,
//! `NLM_F_ACK` on each, acks drained between sends), and prints times, the ratio and VmHWM.
//! Floor variants: `floor-ev` also drains a socket subscribed to route notifications (as an
//! unfiltered event listener must); `floor-1ack` asks for an ack only on the last message of
//! each `send` (errors are reported anyway), as fib-sync does: the floor for that method.
//!
//! Run as root: `cargo run --release -p fib-sync --example fib_bench -- 100000 1000000`.
//! Each measurement runs in a child process (so VmHWM is its own) inside a fresh namespace;
//! the best of `RUNS` (default 3) is shown. `ORDER=shuffled` scrambles the batch order;
//! `RESTART=1` also times a restart's reconciliation of the same set (printed on stderr). "CPU s" is the child's user + system time (whole
//! process, including building the batch), steadier than wall time on a shared machine.

use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::process::Command;
use std::time::Instant;

use fib_sync::{FibConfig, FibSync, NextHop, Route, RouteDelta};
use ipnet::{IpNet, Ipv4Net};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket};
use nix::sched::{setns, CloneFlags};
use nix::sys::socket::{self, sockopt, MsgFlags};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("child") {
        let (mode, n, ns) = (&args[2], args[3].parse().unwrap_or(0), &args[4]);
        child(mode, n, ns);
        return;
    }
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipping: fib_bench needs root (network namespaces)");
        return;
    }
    let sizes: Vec<usize> = if args.len() > 1 {
        args[1..].iter().filter_map(|a| a.parse().ok()).collect()
    } else {
        vec![100_000, 1_000_000]
    };
    // Best of RUNS (the machine is shared: the minimum is the least disturbed run).
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let exe = std::env::current_exe().unwrap_or_default();
    println!(
        "{:>9} {:>8} {:>10} {:>12} {:>10} {:>10}",
        "routes", "mode", "seconds", "routes/s", "VmHWM MiB", "CPU s"
    );
    for n in sizes {
        let mut times = Vec::new();
        for mode in ["floor", "floor-ev", "floor-1ack", "fib-sync"] {
            let (mut secs, mut hwm, mut cpu) = (f64::INFINITY, 0f64, f64::INFINITY);
            for run in 0..runs {
                let ns = format!("fibbench{}-{mode}-{n}-{run}", std::process::id());
                let _guard = Netns::new(&ns);
                let out = Command::new(&exe)
                    .args(["child", mode, &n.to_string(), &ns])
                    .stderr(std::process::Stdio::inherit())
                    .output();
                let text = out
                    .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                    .unwrap_or_default();
                let mut it = text.split_whitespace();
                let s: f64 = it.next().and_then(|s| s.parse().ok()).unwrap_or(f64::NAN);
                let h: f64 = it.next().and_then(|s| s.parse().ok()).unwrap_or(f64::NAN);
                let c: f64 = it.next().and_then(|s| s.parse().ok()).unwrap_or(f64::NAN);
                secs = secs.min(s);
                cpu = cpu.min(c);
                hwm = hwm.max(h);
                let count = Command::new("ip")
                    .args(["-n", &ns, "-4", "route", "show", "proto", "bird"])
                    .output()
                    .map(|o| o.stdout.iter().filter(|b| **b == b'\n').count())
                    .unwrap_or(0);
                assert_eq!(count, n, "{mode}: routes in the kernel");
            }
            println!(
                "{n:>9} {mode:>8} {secs:>10.3} {:>12.0} {:>10.1} {cpu:>10.3}",
                n as f64 / secs,
                hwm / 1024.0
            );
            times.push((secs, cpu));
        }
        println!(
            "{n:>9} ratio fib-sync/floor = {:.2} (CPU {:.2}), fib-sync/floor-ev = {:.2} (CPU {:.2}), \
             fib-sync/floor-1ack = {:.2} (CPU {:.2})",
            times[3].0 / times[0].0,
            times[3].1 / times[0].1,
            times[3].0 / times[1].0,
            times[3].1 / times[1].1,
            times[3].0 / times[2].0,
            times[3].1 / times[2].1
        );
    }
}

struct Netns(String);

impl Netns {
    fn new(name: &str) -> Netns {
        let ip = |args: &[&str]| {
            let ok = Command::new("ip")
                .args(args)
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "ip {args:?}");
        };
        ip(&["netns", "add", name]);
        let ns = Netns(name.to_owned());
        ip(&["-n", name, "link", "set", "lo", "up"]);
        ip(&[
            "-n", name, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0p",
        ]);
        ip(&["-n", name, "link", "set", "eth0p", "up"]);
        ip(&["-n", name, "link", "set", "eth0", "up"]);
        ip(&["-n", name, "addr", "add", "10.99.0.1/24", "dev", "eth0"]);
        ns
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn prefix(i: usize) -> Ipv4Net {
    // /32s from 20.0.0.0 upwards.
    let base = u32::from(Ipv4Addr::new(20, 0, 0, 0));
    Ipv4Net::new(Ipv4Addr::from(base + i as u32), 32).unwrap_or_default()
}

/// (user, system) CPU seconds of this process so far.
fn rusage() -> (f64, f64) {
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF).ok();
    let secs = |t: Option<nix::sys::time::TimeVal>| {
        t.map_or(f64::NAN, |t| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6)
    };
    (
        secs(usage.map(|u| u.user_time())),
        secs(usage.map(|u| u.system_time())),
    )
}

fn vm_hwm_kib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(f64::NAN)
}

fn child(mode: &str, n: usize, ns: &str) {
    let file = std::fs::File::open(format!("/run/netns/{ns}")).expect("netns");
    setns(&file, CloneFlags::CLONE_NEWNET).expect("setns");
    let gw = "10.99.0.2".parse().expect("addr");
    // (wall seconds, VmHWM KiB, CPU seconds) of the installation alone.
    let (secs, hwm, cpu_secs) = match mode {
        "floor" | "floor-ev" | "floor-1ack" => {
            let secs = floor(n, mode == "floor-ev", mode != "floor-1ack");
            let (user, sys) = rusage();
            (secs, vm_hwm_kib(), user + sys)
        }
        _ => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let fib = FibSync::start(FibConfig::default()).await.expect("start");
                // ORDER=shuffled: the deltas arrive in a scrambled order (a fixed permutation).
                let shuffled = std::env::var("ORDER").is_ok_and(|o| o == "shuffled");
                let batch: Vec<RouteDelta> = (0..n)
                    .map(|i| if shuffled { (i * 1_000_003) % n } else { i })
                    .map(|i| {
                        RouteDelta::Install(Route::via(
                            IpNet::V4(prefix(i)),
                            vec![NextHop::direct(gw)],
                        ))
                    })
                    .collect();
                let before = rusage();
                let t = Instant::now();
                let report = fib.apply(batch).await.expect("apply");
                let secs = t.elapsed().as_secs_f64();
                let after = rusage();
                let hwm = vm_hwm_kib();
                let apply_cpu = (after.0 - before.0) + (after.1 - before.1);
                eprintln!(
                    "fib-sync n={n}: apply alone: user {:.3}s sys {:.3}s",
                    after.0 - before.0,
                    after.1 - before.1
                );
                assert_eq!(report.installed, n, "{:?}", report.failed.first());
                eprintln!("{:?}", fib.stats().await);
                if std::env::var("RESTART").is_ok_and(|r| r == "1") {
                    // A restart: a new instance dumps the table and reconciles the same set;
                    // nothing may be rewritten.
                    drop(fib.stop().await);
                    let routes: Vec<Route> = (0..n)
                        .map(|i| Route::via(IpNet::V4(prefix(i)), vec![NextHop::direct(gw)]))
                        .collect();
                    let t = Instant::now();
                    let fib = FibSync::start(FibConfig::default()).await.expect("start");
                    let report = fib.reconcile(routes).await.expect("reconcile");
                    eprintln!(
                        "fib-sync n={n}: restart (start + dump + reconcile) {:.3}s, unchanged {}, written {}",
                        t.elapsed().as_secs_f64(),
                        report.unchanged,
                        report.installed
                    );
                }
                (secs, hwm, apply_cpu)
            })
        }
    };
    let (user, sys) = rusage();
    eprintln!("{mode} n={n}: user {user:.3}s sys {sys:.3}s (whole process)");
    println!("{secs} {hwm} {cpu_secs}");
}

/// The floor: a minimal loop writing hand-framed RTM_NEWROUTE messages. With `listen`, a
/// second socket subscribed to the IPv4 route group is drained between sends, as fib-sync's
/// event listener is (the kernel then delivers one notification per route to it). Without
/// `ack_each`, only the last message of each `send` asks for an ack.
fn floor(n: usize, listen: bool, ack_each: bool) -> f64 {
    let events = listen.then(|| {
        let mut ev = Socket::new(NETLINK_ROUTE).expect("socket");
        ev.bind_auto().expect("bind");
        ev.add_membership(7).expect("RTNLGRP_IPV4_ROUTE");
        let size = 32usize << 20;
        socket::setsockopt(&ev, sockopt::RcvBufForce, &size).expect("rcvbuf");
        ev
    });
    let mut evbuf = vec![0u8; 64 * 1024];
    let mut sock = Socket::new(NETLINK_ROUTE).expect("socket");
    sock.bind_auto().expect("bind");
    sock.set_cap_ack(true).expect("cap_ack");
    let size = 32usize << 20;
    socket::setsockopt(&sock, sockopt::RcvBufForce, &size).expect("rcvbuf");
    socket::setsockopt(&sock, sockopt::SndBufForce, &size).expect("sndbuf");
    let fd = sock.as_raw_fd();
    let window = 8192;
    let mut buf = Vec::with_capacity(70 * 1024);
    let mut rx = vec![0u8; 64 * 1024];
    let (mut next, mut acked) = (0usize, 0usize);
    let t = Instant::now();
    while acked < n {
        buf.clear();
        let mut last = 0;
        while next < n && next - acked < window && buf.len() < 64 * 1024 {
            let dst = prefix(next).addr().octets();
            let seq = (next + 1) as u32;
            last = buf.len();
            buf.extend_from_slice(&52u32.to_ne_bytes()); // 16 + 12 + 3 * 8
            buf.extend_from_slice(&24u16.to_ne_bytes()); // RTM_NEWROUTE
            let flags: u16 = if ack_each { 0x0505 } else { 0x0501 }; // REQUEST|CREATE|REPLACE (|ACK)
            buf.extend_from_slice(&flags.to_ne_bytes());
            buf.extend_from_slice(&seq.to_ne_bytes());
            buf.extend_from_slice(&0u32.to_ne_bytes());
            buf.extend_from_slice(&[2, 32, 0, 0, 254, 12, 0, 1, 0, 0, 0, 0]);
            buf.extend_from_slice(&[8, 0, 1, 0]); // RTA_DST
            buf.extend_from_slice(&dst);
            buf.extend_from_slice(&[8, 0, 5, 0, 10, 99, 0, 2]); // RTA_GATEWAY
            buf.extend_from_slice(&[8, 0, 6, 0, 0, 0, 0, 0]); // RTA_PRIORITY
            next += 1;
        }
        if !buf.is_empty() {
            // NLM_F_ACK on the chunk's last message.
            let f = u16::from_ne_bytes([buf[last + 6], buf[last + 7]]) | 0x04;
            buf[last + 6..last + 8].copy_from_slice(&f.to_ne_bytes());
            socket::send(fd, &buf, MsgFlags::empty()).expect("send");
        }
        if let Some(ev) = &events {
            while socket::recv(ev.as_raw_fd(), &mut evbuf, MsgFlags::MSG_DONTWAIT).is_ok() {}
        }
        loop {
            let flags = if next == n || next - acked >= window {
                MsgFlags::empty()
            } else {
                MsgFlags::MSG_DONTWAIT
            };
            match socket::recv(fd, &mut rx, flags) {
                Ok(len) => {
                    let mut off = 0;
                    while off + 20 <= len {
                        let l = u32::from_ne_bytes([rx[off], rx[off + 1], rx[off + 2], rx[off + 3]])
                            as usize;
                        let code = i32::from_ne_bytes([
                            rx[off + 16],
                            rx[off + 17],
                            rx[off + 18],
                            rx[off + 19],
                        ]);
                        assert_eq!(code, 0, "floor: kernel error");
                        // Acks come in order: the chunk up to this sequence number is done.
                        let seq = u32::from_ne_bytes([
                            rx[off + 8],
                            rx[off + 9],
                            rx[off + 10],
                            rx[off + 11],
                        ]);
                        acked = acked.max(seq as usize);
                        off += (l + 3) & !3;
                    }
                    if acked == n {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
    }
    t.elapsed().as_secs_f64()
}
