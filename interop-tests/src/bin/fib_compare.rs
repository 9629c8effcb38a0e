//! Kernel route installation, end to end, against the peers: how long until N IPv4 routes
//! announced by one BGP peer are in an empty namespace's FIB.
//!
//! Usage (as root, release build): `cargo build --release -p bgpd -p interop-tests --bin
//! fib_compare -p fib-sync --example fib_bench`, then
//! `target/x86_64-unknown-linux-gnu/release/fib_compare [N...]` (default 100000).
//!
//! Per N, in the same run:
//! - `floor`, `floor-1ack` and `fib-sync`: fib-sync's own `fib_bench` example (raw batched
//!   netlink with an ack per route, the same with one ack per 64 KiB `send` as fib-sync does,
//!   and fib-sync's API in-process), run as a child and its table parsed;
//! - `ours`, `bird`, `frr`: a two-node fabric; node 2 runs a raw BGP sender (a child of this
//!   binary) that pre-encodes UPDATEs with `bgp_proto::builder` (N /32s, ~800 per 4096-octet
//!   message), waits for the session, then streams them all and an End-of-RIB; node 1 runs
//!   the daemon under test (our bgpd with `[kernel] enable_writes`; BIRD 2 with
//!   `protocol kernel { ipv4 { export all; }; }` and the options calico-node's BIRD template
//!   sets (`learn; persist; scan time 2; graceful restart; merge paths on`) plus a 256 MiB
//!   `netlink rx buffer`; FRR bgpd + zebra without `-n`, zebra with `-s 256 MiB`). Time runs
//!   from the first UPDATE byte to the moment the kernel holds N routes of the daemon's
//!   protocol: `ip route get` on the last prefix is polled every 20 ms, then the routes are
//!   counted with `ip route show proto …` until the count is N.
//!
//! Printed: seconds, peak RSS (VmHWM of the daemon process; zebra + bgpd for FRR), CPU seconds
//! of the daemon used while idle for 10 s with the routes installed (utime + stime from
//! `/proc/PID/stat`), CPU seconds used during the load (first UPDATE to last route, kernel time
//! of its netlink calls included: steadier than wall time on a shared machine), and the ratios
//! ours/BIRD and ours/floor. Not part of `cargo test`.
//! `ONLY=ours` runs just our daemon; `BGPD=<path>` picks its binary (e.g. a profiler wrapper).
//! `DAEMONS=ours,bird,bird-noscan` picks the rows (default: `floor`, which is the three
//! `fib_bench` rows, `ours`, `bird`, `bird-noscan`, `frr`); `RUNS=5` repeats the whole set
//! five times, each daemon once per repetition, one after the other. `bird` is BIRD 2 as
//! calico-node configures its kernel protocol (`scan time 2`); `bird-noscan` is BIRD at its
//! best here (the same without `scan time`, so the default 60 s scan never runs during a load).

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bgp_proto::attribute::{AsPath, Origin};
use bgp_proto::builder::announce_into;
use bgp_proto::{
    Announce, Asn, EncodedAttributes, Family, NlriEntry, PathAttributes, SessionContext,
};
use bytes::{BufMut, BytesMut};
use interop_tests::procstat::{cpu_secs, status_kib};
use interop_tests::{require_root, wait_until, wire, Fabric, Netns, Proc, TempDir};

const DUT_AS: u32 = 64512;
const SENDER_AS: u32 = 64513;
/// The routes: /32s from 10.128.0.0 on (inside 10.128.0.0/12, outside the lab's 10.99/16).
const BASE: u32 = u32::from_be_bytes([10, 128, 0, 0]);
const INSTALL_TIMEOUT: Duration = Duration::from_secs(900);
const IDLE_WINDOW: Duration = Duration::from_secs(10);

fn prefix(i: usize) -> Ipv4Addr {
    Ipv4Addr::from(BASE + u32::try_from(i).unwrap_or(u32::MAX))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("sender") {
        let n = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(0);
        if let Err(e) = sender(n) {
            eprintln!("sender: {e}");
            std::process::exit(1);
        }
        return;
    }
    if !require_root("fib_compare") {
        return;
    }
    let sizes: Vec<usize> = if args.len() > 1 {
        args[1..].iter().filter_map(|a| a.parse().ok()).collect()
    } else {
        vec![100_000]
    };
    let exe = std::env::current_exe().unwrap_or_default();
    let dir = exe.parent().map(Path::to_owned).unwrap_or_default();
    let ours_bin = std::env::var_os("BGPD")
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.join("bgpd"));
    let fib_bench = std::env::var_os("FIB_BENCH")
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.join("examples/fib_bench"));
    println!(
        "{:>9} {:>10} {:>9} {:>10} {:>11} {:>10}",
        "routes", "who", "seconds", "VmHWM MiB", "idle CPU s", "load CPU s"
    );
    // ONLY=ours: just our daemon (profiling runs). DAEMONS picks which rows run (comma
    // separated: floor, ours, bird, bird-noscan, frr; default all), RUNS repeats the whole
    // set that many times (each repetition runs every daemon once, one after the other).
    let only_ours = std::env::var("ONLY").is_ok_and(|o| o == "ours");
    let daemons: Vec<String> = match std::env::var("DAEMONS") {
        Ok(d) => d.split(',').map(|s| s.trim().to_owned()).collect(),
        Err(_) if only_ours => vec!["ours".to_owned()],
        Err(_) => ["floor", "ours", "bird", "bird-noscan", "frr"]
            .map(str::to_owned)
            .to_vec(),
    };
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1);
    let wants = |d: &str| daemons.iter().any(|x| x == d);
    for run in 1..=runs {
        if runs > 1 {
            println!("run {run}/{runs}");
        }
        for &n in &sizes {
            let mut floor = f64::NAN;
            let mut floor_1ack = f64::NAN;
            if wants("floor") {
                let fibsync;
                (floor, floor_1ack, fibsync) = run_fib_bench(&fib_bench, n);
                let bench = |secs, hwm_mib| Outcome {
                    secs,
                    hwm_mib,
                    idle_cpu: None,
                    load_cpu: None,
                };
                print_row(n, "floor", &bench(floor, f64::NAN));
                print_row(n, "floor-1ack", &bench(floor_1ack, f64::NAN));
                print_row(n, "fib-sync", &bench(fibsync.0, fibsync.1));
            }
            let row = |who: &str, dut: Dut<'_>| -> Option<Outcome> {
                if !wants(who) {
                    return None;
                }
                let o = run_dut(dut, n, &exe);
                print_row(n, who, &o);
                Some(o)
            };
            let ours = row("ours", Dut::Ours(&ours_bin));
            let bird = row("bird", Dut::Bird { scan: true });
            let best = row("bird-noscan", Dut::Bird { scan: false });
            let frr = row("frr", Dut::Frr);
            let Some(ours) = ours else { continue };
            let ratio = |o: &Option<Outcome>, f: fn(&Outcome) -> f64| {
                o.as_ref().map_or(f64::NAN, |o| f(&ours) / f(o))
            };
            let secs = |o: &Outcome| o.secs;
            let hwm = |o: &Outcome| o.hwm_mib;
            println!(
                "{n:>9} ratios: ours/bird(scan 2) time {:.2} VmHWM {:.2}; ours/bird(no scan) \
                 time {:.2} VmHWM {:.2}; ours/frr time {:.2}; ours/floor time {:.2}, \
                 ours/floor-1ack time {:.2}",
                ratio(&bird, secs),
                ratio(&bird, hwm),
                ratio(&best, secs),
                ratio(&best, hwm),
                ratio(&frr, secs),
                ours.secs / floor,
                ours.secs / floor_1ack,
            );
        }
    }
}

fn print_row(n: usize, who: &str, o: &Outcome) {
    let f = |v: Option<f64>, p: usize| {
        v.filter(|v| !v.is_nan())
            .map_or("-".to_owned(), |v| format!("{v:.p$}"))
    };
    println!(
        "{n:>9} {who:>10} {:>9.3} {:>10} {:>11} {:>10}",
        o.secs,
        f(Some(o.hwm_mib), 1),
        f(o.idle_cpu, 3),
        f(o.load_cpu, 2)
    );
}

/// fib-sync's example: (floor seconds, floor-1ack seconds, (fib-sync seconds, fib-sync VmHWM
/// MiB)).
fn run_fib_bench(bin: &Path, n: usize) -> (f64, f64, (f64, f64)) {
    let out = Command::new(bin)
        .arg(n.to_string())
        .env("RUNS", "1")
        .stderr(Stdio::inherit())
        .output();
    let text = match out {
        Ok(o) => String::from_utf8_lossy(&o.stdout).into_owned(),
        Err(e) => {
            eprintln!("cannot run {}: {e}", bin.display());
            return (f64::NAN, f64::NAN, (f64::NAN, f64::NAN));
        }
    };
    // Rows: routes mode seconds routes/s VmHWM-MiB CPU-s.
    let row = |mode: &str| -> Option<(f64, f64)> {
        text.lines().find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() < 5 || f[1] != mode || f[0] != n.to_string() {
                return None;
            }
            Some((f[2].parse().ok()?, f[4].parse().ok()?))
        })
    };
    let floor = row("floor").map_or(f64::NAN, |r| r.0);
    let floor_1ack = row("floor-1ack").map_or(f64::NAN, |r| r.0);
    let fs = row("fib-sync").unwrap_or((f64::NAN, f64::NAN));
    (floor, floor_1ack, fs)
}

enum Dut<'a> {
    Ours(&'a Path),
    /// BIRD 2; `scan`: as calico-node configures its kernel protocol (`scan time 2`, a full
    /// kernel table scan every 2 s); without: BIRD at its best here (no periodic scan: the
    /// kernel protocol's default of 60 s never fires during a run).
    Bird {
        scan: bool,
    },
    Frr,
}

struct Outcome {
    secs: f64,
    hwm_mib: f64,
    idle_cpu: Option<f64>,
    /// CPU seconds (user + system, kernel work done in its netlink calls included) the
    /// daemon(s) used from the first UPDATE to the last route: steadier than wall time on a
    /// shared machine.
    load_cpu: Option<f64>,
}

/// The daemon(s) under test, kept alive by the guards.
struct Running {
    procs: Vec<Proc>,
    proto: &'static str,
    _dir: TempDir,
}

fn start_dut(dut: &Dut<'_>, ns: &Netns) -> Running {
    let dir = TempDir::new("fibcmp").expect("temp dir");
    match dut {
        Dut::Ours(bin) => {
            let ctl = dir.path().join("bgpd.ctl");
            let conf = format!(
                "router_id = \"10.99.0.1\"\nlocal_as = {DUT_AS}\n\
                 ip_pools = [{{ cidr = \"10.128.0.0/12\" }}]\n\n\
                 [listen]\naddresses = [\"10.99.0.1\"]\n\n\
                 [kernel]\nenable_writes = true\npersist_on_stop = false\nmetric = 0\n\n\
                 [control]\nsocket = \"{}\"\n\n\
                 [[neighbors]]\nname = \"sender\"\naddress = \"10.99.0.2\"\n\
                 remote_as = {SENDER_AS}\npassive = true\nhold_time = 240\n",
                ctl.display()
            );
            let path = dir.write("bgpd.toml", &conf).expect("config");
            let (b, c) = (bin.to_string_lossy(), path.to_string_lossy());
            let p = Proc::spawn_in(ns, "bgpd", &[&b, "-c", &c], dir.path()).expect("bgpd");
            Running {
                procs: vec![p],
                proto: "bird",
                _dir: dir,
            }
        }
        Dut::Bird { scan } => {
            let scan = if *scan { "scan time 2; " } else { "" };
            let conf = format!(
                "router id 10.99.0.1;\nprotocol device {{}}\n\
                 protocol kernel {{ ipv4 {{ export all; import all; }}; merge paths on; \
                 learn; persist; {scan}graceful restart; netlink rx buffer 268435456; }}\n\
                 protocol bgp sender {{ local 10.99.0.1 as {DUT_AS}; neighbor 10.99.0.2 as \
                 {SENDER_AS}; passive on; hold time 240; ipv4 {{ import all; export none; }}; }}\n"
            );
            let path = dir.write("bird.conf", &conf).expect("config");
            let ctl = dir.path().join("bird.ctl");
            let (c, s) = (path.to_string_lossy(), ctl.to_string_lossy());
            let p = Proc::spawn_in(
                ns,
                "bird",
                &["/usr/sbin/bird", "-f", "-c", &c, "-s", &s],
                dir.path(),
            )
            .expect("bird");
            Running {
                procs: vec![p],
                proto: "bird",
                _dir: dir,
            }
        }
        Dut::Frr => {
            let d = dir.path().to_string_lossy().into_owned();
            let z = dir
                .write("zebra.conf", "hostname zebra\n")
                .expect("zebra.conf");
            let b = dir
                .write(
                    "bgpd.conf",
                    &format!(
                        "hostname bgpd\nrouter bgp {DUT_AS}\n bgp router-id 10.99.0.1\n \
                         no bgp ebgp-requires-policy\n no bgp network import-check\n \
                         neighbor 10.99.0.2 remote-as {SENDER_AS}\n neighbor 10.99.0.2 passive\n \
                         neighbor 10.99.0.2 timers 80 240\n"
                    ),
                )
                .expect("bgpd.conf");
            interop_tests::command::run("chown", &["-R", "frr:frr", &d]).expect("chown");
            let zserv = format!("{d}/zserv.api");
            let common = |conf: &Path, pid: &str| -> Vec<String> {
                [
                    "-f",
                    &conf.to_string_lossy(),
                    "-i",
                    &format!("{d}/{pid}"),
                    "--vty_socket",
                    &d,
                    "-z",
                    &zserv,
                    "-u",
                    "frr",
                    "-g",
                    "frr",
                ]
                .iter()
                .map(|s| (*s).to_owned())
                .collect()
            };
            // zebra with a big netlink receive buffer (-s), as FRR advises for large tables.
            let mut zargv = vec![
                "/usr/lib/frr/zebra".to_owned(),
                "-s".into(),
                "268435456".into(),
            ];
            zargv.extend(common(&z, "zebra.pid"));
            let zargv: Vec<&str> = zargv.iter().map(String::as_str).collect();
            let zebra = Proc::spawn_in(ns, "zebra", &zargv, dir.path()).expect("zebra");
            let zpath = PathBuf::from(&zserv);
            wait_until("zebra's zserv socket", Duration::from_secs(10), || {
                Ok(zpath.exists())
            })
            .expect("zebra up");
            let mut bargv = vec!["/usr/lib/frr/bgpd".to_owned()];
            bargv.extend(common(&b, "bgpd.pid"));
            let bargv: Vec<&str> = bargv.iter().map(String::as_str).collect();
            let bgpd = Proc::spawn_in(ns, "frr-bgpd", &bargv, dir.path()).expect("frr bgpd");
            Running {
                procs: vec![zebra, bgpd],
                proto: "bgp",
                _dir: dir,
            }
        }
    }
}

fn run_dut(dut: Dut<'_>, n: usize, exe: &Path) -> Outcome {
    let fabric = Fabric::new(&format!("fcmp{}", std::process::id()), 2).expect("fabric");
    let (dut_node, snd_node) = (fabric.node(1), fabric.node(2));
    let running = start_dut(&dut, &dut_node.ns);
    let pids: Vec<u32> = running.procs.iter().map(Proc::pid).collect();
    // The daemon's start-up is not the load: let it settle, then count from here.
    sleep(Duration::from_millis(500));
    let cpu_before: f64 = pids.iter().map(|p| cpu_secs(*p)).sum();
    let sdir = TempDir::new("sender").expect("temp dir");
    let exe_s = exe.to_string_lossy();
    let sender = Proc::spawn_in(
        &snd_node.ns,
        "sender",
        &[&exe_s, "sender", &n.to_string()],
        sdir.path(),
    )
    .expect("sender");
    // The sender prints `streaming <unix nanos>` when it writes the first UPDATE.
    let mut t0: Option<u128> = None;
    wait_until("the sender's session", Duration::from_secs(120), || {
        let text = std::fs::read_to_string(sender.stdout_path()).unwrap_or_default();
        t0 = text
            .lines()
            .find_map(|l| l.strip_prefix("streaming "))
            .and_then(|s| s.trim().parse().ok());
        Ok(t0.is_some())
    })
    .unwrap_or_else(|e| panic!("{e}; sender log: {}", sender.log_tail(20)));
    let t0 = t0.unwrap_or_default();
    let last = prefix(n - 1).to_string();
    let ns = dut_node.ns.name().to_owned();
    let start = Instant::now();
    let mut done_at: Option<u128> = None;
    let mut load_cpu: Option<f64> = None;
    while start.elapsed() < INSTALL_TIMEOUT {
        let present = Command::new("ip")
            .args(["-n", &ns, "route", "get", &last])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if present {
            let at = now_nanos();
            let cpu_at: f64 = pids.iter().map(|p| cpu_secs(*p)).sum();
            if count(&ns, running.proto) >= n {
                load_cpu = Some(cpu_at - cpu_before);
                done_at = Some(at);
                break;
            }
            sleep(Duration::from_millis(200));
        } else {
            sleep(Duration::from_millis(20));
        }
    }
    let secs = done_at.map_or(f64::NAN, |t| (t.saturating_sub(t0)) as f64 / 1e9);
    let hwm_mib = pids.iter().map(|p| status_kib(*p, "VmHWM:")).sum::<f64>() / 1024.0;
    let idle_cpu = done_at.map(|_| {
        sleep(Duration::from_secs(2));
        let before: f64 = pids.iter().map(|p| cpu_secs(*p)).sum();
        sleep(IDLE_WINDOW);
        let after: f64 = pids.iter().map(|p| cpu_secs(*p)).sum();
        after - before
    });
    if done_at.is_none() {
        eprintln!(
            "timed out: {} routes of {} in the kernel; logs: {}",
            count(&ns, running.proto),
            n,
            running
                .procs
                .iter()
                .map(|p| p.log_tail(10))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    drop(sender);
    drop(running);
    Outcome {
        secs,
        hwm_mib,
        idle_cpu,
        load_cpu,
    }
}

fn now_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

fn count(ns: &str, proto: &str) -> usize {
    Command::new("ip")
        .args(["-n", ns, "-4", "route", "show", "proto", proto])
        .output()
        .map(|o| o.stdout.iter().filter(|b| **b == b'\n').count())
        .unwrap_or(0)
}

// ---- the raw BGP sender (runs in node 2) ----

fn read_message(s: &mut TcpStream) -> std::io::Result<(u8, Vec<u8>)> {
    let mut h = [0u8; 19];
    s.read_exact(&mut h)?;
    let len = usize::from(u16::from_be_bytes([h[16], h[17]]));
    let mut body = vec![0u8; len.saturating_sub(19)];
    s.read_exact(&mut body)?;
    Ok((h[18], body))
}

fn sender(n: usize) -> Result<(), String> {
    // Everything is encoded before the session starts: only the transfer is timed.
    let ctx = SessionContext {
        four_octet_as: true,
        ..SessionContext::default()
    };
    let attrs = PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::from_sequence([Asn(SENDER_AS)])),
        next_hop: Some(Ipv4Addr::new(10, 99, 0, 2)),
        ..PathAttributes::default()
    };
    let enc = EncodedAttributes::new(&attrs, &ctx).map_err(|e| e.to_string())?;
    let mut updates = BytesMut::with_capacity(n * 6 + 4096);
    let entries = (0..n).map(|i| {
        NlriEntry::new(ipnet::IpNet::V4(
            ipnet::Ipv4Net::new(prefix(i), 32).unwrap_or_default(),
        ))
    });
    let msgs = announce_into(&ctx, &enc, Announce::Ipv4Classic, entries, &mut updates)
        .map_err(|e| e.to_string())?;
    bgp_proto::builder::end_of_rib_into(Family::Ipv4Unicast, &mut updates);
    eprintln!(
        "sender: {n} prefixes in {msgs} UPDATEs, {} octets",
        updates.len()
    );
    let mut s = loop {
        match TcpStream::connect("10.99.0.1:179") {
            Ok(s) => break s,
            Err(_) => sleep(Duration::from_millis(200)),
        }
    };
    let open = wire::open(SENDER_AS, 240, Ipv4Addr::new(10, 99, 0, 2), false)
        .map_err(|e| e.to_string())?;
    s.write_all(&open).map_err(|e| e.to_string())?;
    let keepalive = wire::frame(wire::KEEPALIVE, &[]);
    // Their OPEN, then their KEEPALIVE: the session is Established (RFC 4271 §8.2.2).
    let mut got_open = false;
    loop {
        let (kind, body) = read_message(&mut s).map_err(|e| e.to_string())?;
        match kind {
            1 => {
                got_open = true;
                s.write_all(&keepalive).map_err(|e| e.to_string())?;
            }
            4 if got_open => break,
            3 => return Err(format!("NOTIFICATION {body:02x?}")),
            _ => {}
        }
    }
    // Drain whatever the daemon sends from now on.
    let mut reader = s.try_clone().map_err(|e| e.to_string())?;
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 65536];
        while reader.read(&mut buf).is_ok_and(|r| r > 0) {}
    });
    println!("streaming {}", now_nanos());
    let _ = std::io::stdout().flush();
    s.write_all(&updates).map_err(|e| e.to_string())?;
    println!("sent {}", now_nanos());
    let _ = std::io::stdout().flush();
    let mut ka = updates;
    ka.clear();
    ka.put_slice(&keepalive);
    loop {
        sleep(Duration::from_secs(30));
        s.write_all(&ka).map_err(|e| e.to_string())?;
    }
}
