//! Reload benchmark: a BIRD configuration with P neighbors (default 5,000), one neighbor's export
//! filter changed, `configure` on the control socket; ours beside BIRD 2.0.12 in the same run.
//!
//! Usage (as root): `cargo build --release -p bgpd -p interop-tests --bin reload_bench`, then
//! `reload_bench [--peers 5000] [--rounds 5] [--bgpd PATH] [--baseline PATH]` (`BGPD` env also
//! names our binary; default: `bgpd` next to this binary; `--baseline`: another build of ours,
//! e.g. the previous commit's, run beside them for a before/after in the same run).
//!
//! Each daemon runs in its own namespace (both started at the beginning, measured one after the
//! other, round by round). Ours reads Calico's generation-1 `bird.cfg` (the `ipip-always` mesh
//! fixture of `conf/tests/fixtures/calico` with its two includes) with P mesh neighbors
//! `10.99.X.Y` added, all `passive on` (nobody connects: the reload itself is measured, not
//! session setup); BIRD 2 reads the same configuration in its own syntax (channel blocks, the
//! same filter functions without the fork-only `krt_tunnel`). A round flips the export filter of
//! neighbor number P/2 between `calico_export_to_bgp_peers(true)` and `(false)`, sends
//! `configure`, and records:
//! - the time from writing `configure` to the reply's final line;
//! - the daemon's CPU time (all its threads, `/proc/PID/task/*/schedstat`, ns) from before the
//!   command until it has been idle for a second after the reply (work the reply does not wait
//!   for, as the RIB actor's, is counted; a thread that ended meanwhile is not).
//!
//! Printed per round and as median / min / max, with ours/BIRD ratios. Not part of `cargo test`.

use std::error::Error;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use interop_tests::procstat::cpu_nanos;
use interop_tests::{require_root, Netns, Proc, TempDir};

type Res<T> = Result<T, Box<dyn Error>>;

const FIXTURE: &str = "conf/tests/fixtures/calico/gen1/mesh/ipip-always";

fn main() {
    if let Err(e) = run(&std::env::args().skip(1).collect::<Vec<_>>()) {
        eprintln!("reload_bench: {e}");
        std::process::exit(1);
    }
}

/// One daemon under test: its process, socket, configuration file and text.
struct Daemon {
    label: String,
    proc: Proc,
    sock: PathBuf,
    cfg: PathBuf,
    text: Box<dyn Fn(bool) -> String>,
    /// (reply seconds, CPU seconds) per round.
    results: Vec<(f64, f64)>,
    /// Whether it is ours (its log is checked).
    ours: bool,
    _ns: Netns,
}

fn run(args: &[String]) -> Res<()> {
    let mut peers = 5000usize;
    let mut rounds = 5usize;
    let mut bgpd: Option<PathBuf> = std::env::var_os("BGPD").map(PathBuf::from);
    let mut baseline: Option<PathBuf> = None;
    let mut i = 0;
    while i < args.len() {
        let v = args.get(i + 1).ok_or("missing value")?;
        match args[i].as_str() {
            "--peers" => peers = v.parse()?,
            "--rounds" => rounds = v.parse()?,
            "--bgpd" => bgpd = Some(PathBuf::from(v)),
            "--baseline" => baseline = Some(PathBuf::from(v)),
            other => return Err(format!("unknown argument {other}").into()),
        }
        i += 2;
    }
    if !require_root("reload_bench") {
        return Ok(());
    }
    let bgpd = match bgpd {
        Some(p) => p,
        None => std::env::current_exe()?
            .parent()
            .ok_or("no binary directory")?
            .join("bgpd"),
    };
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("no repository")?
        .to_path_buf();
    let changed = peers / 2;
    let dir = TempDir::new("reload-bench")?;
    let head = std::fs::read_to_string(repo.join(FIXTURE).join("bird.cfg"))?;
    let head = head
        .split("# ------------- Node-to-node mesh")
        .next()
        .ok_or("fixture without a mesh section")?
        .replace("router id 25.79.212.8;", "router id 10.99.0.1;");

    let mut daemons = Vec::new();
    let mut ours_bins = vec![("ours".to_string(), bgpd)];
    if let Some(b) = baseline {
        ours_bins.push(("baseline".to_string(), b));
    }
    for (label, bin) in ours_bins {
        // Calico's files with P neighbors.
        let d = dir.path().join(&label);
        std::fs::create_dir_all(&d)?;
        for f in ["bird_aggr.cfg", "bird_ipam.cfg"] {
            std::fs::copy(repo.join(FIXTURE).join(f), d.join(f))?;
        }
        let cfg = d.join("bird.cfg");
        let h = head.clone();
        let text: Box<dyn Fn(bool) -> String> =
            Box::new(move |internal| calico_config(&h, peers, changed, internal));
        std::fs::write(&cfg, text(true))?;
        let ns = Netns::new("rlb-ours")?;
        ns.ip(&["addr", "add", "10.99.0.1/32", "dev", "lo"])?;
        let sock = d.join("bird.ctl");
        let argv = [
            bin.to_str().ok_or("path")?,
            "-d",
            "-c",
            cfg.to_str().ok_or("path")?,
            "-s",
            sock.to_str().ok_or("path")?,
        ];
        let proc = Proc::spawn_in(&ns, &label, &argv, &d)?;
        daemons.push(Daemon {
            label,
            proc,
            sock,
            cfg,
            text,
            results: Vec::new(),
            ours: true,
            _ns: ns,
        });
    }
    {
        let d = dir.path().join("bird2");
        std::fs::create_dir_all(&d)?;
        let cfg = d.join("bird.conf");
        let text: Box<dyn Fn(bool) -> String> =
            Box::new(move |internal| bird2_config(peers, changed, internal));
        std::fs::write(&cfg, text(true))?;
        let ns = Netns::new("rlb-bird")?;
        ns.ip(&["addr", "add", "10.99.0.1/32", "dev", "lo"])?;
        let sock = d.join("bird.ctl");
        let argv = [
            "/usr/sbin/bird",
            "-f",
            "-c",
            cfg.to_str().ok_or("path")?,
            "-s",
            sock.to_str().ok_or("path")?,
        ];
        let proc = Proc::spawn_in(&ns, "bird2", &argv, &d)?;
        daemons.push(Daemon {
            label: "BIRD 2".into(),
            proc,
            sock,
            cfg,
            text,
            results: Vec::new(),
            ours: false,
            _ns: ns,
        });
    }
    for d in &mut daemons {
        let t = Instant::now();
        wait_socket(&d.sock, &mut d.proc)?;
        println!(
            "{} up ({peers} neighbors) in {:.2} s",
            d.label,
            t.elapsed().as_secs_f64()
        );
    }
    // Let all finish starting (protocols, first scans) before measuring.
    for d in &daemons {
        settle(d.proc.pid())?;
        println!("{}: RSS after start {} KiB", d.label, vm_rss(d.proc.pid())?);
    }

    for round in 0..rounds {
        // Odd rounds set the filter back.
        let internal = round % 2 == 1;
        let mut line = format!("round {}:", round + 1);
        for d in &mut daemons {
            std::fs::write(&d.cfg, (d.text)(internal))?;
            let r = measure(&d.sock, d.proc.pid())?;
            line += &format!(" {} reply {:.4} s cpu {:.4} s |", d.label, r.0, r.1);
            d.results.push(r);
            d.proc.check_alive()?;
        }
        println!("{line}");
    }
    let sorted = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v
    };
    let summary = |what: &str, v: Vec<f64>| {
        let v = sorted(v);
        if let (Some(min), Some(max)) = (v.first(), v.last()) {
            println!(
                "{what}: median {:.4}, min {min:.4}, max {max:.4}",
                v[v.len() / 2]
            );
        }
    };
    let bird = daemons.len() - 1;
    for d in &daemons {
        summary(
            &format!("{} reply", d.label),
            d.results.iter().map(|r| r.0).collect(),
        );
        summary(
            &format!("{} cpu", d.label),
            d.results.iter().map(|r| r.1).collect(),
        );
    }
    for d in &daemons[..bird] {
        let b = &daemons[bird].results;
        let ratio = |f: fn(&(f64, f64)) -> f64| -> Vec<f64> {
            d.results.iter().zip(b).map(|(o, b)| f(o) / f(b)).collect()
        };
        summary(&format!("{}/BIRD 2 reply", d.label), ratio(|r| r.0));
        summary(&format!("{}/BIRD 2 cpu", d.label), ratio(|r| r.1));
    }
    if daemons.len() == 3 {
        let (o, b) = (&daemons[0].results, &daemons[1].results);
        summary(
            "ours/baseline reply",
            o.iter().zip(b).map(|(o, b)| o.0 / b.0).collect(),
        );
        summary(
            "ours/baseline cpu",
            o.iter().zip(b).map(|(o, b)| o.1 / b.1).collect(),
        );
    }
    for d in &mut daemons {
        if d.ours {
            // Each reload changed exactly one neighbor in place (our log says so).
            let log = std::fs::read_to_string(d.proc.stderr_path())?;
            let updated = log
                .lines()
                .filter(|l| l.contains("neighbor_updated"))
                .count();
            if updated != rounds {
                return Err(format!(
                    "{}: {updated} neighbor updates logged for {rounds} reloads",
                    d.label
                )
                .into());
            }
        }
        println!("{}: RSS at the end {} KiB", d.label, vm_rss(d.proc.pid())?);
        d.proc.stop(Duration::from_secs(5));
    }
    Ok(())
}

/// The fixture's head (functions, kernel, device, direct, template) and P mesh neighbors; the
/// export filter of neighbor `changed` calls `calico_export_to_bgp_peers(internal)`.
fn calico_config(head: &str, peers: usize, changed: usize, internal: bool) -> String {
    let mut s = String::with_capacity(head.len() + peers * 420);
    s.push_str(head);
    s.push_str("# ------------- Node-to-node mesh -------------\n");
    for i in 0..peers {
        let (name, addr) = peer(i);
        let arg = if i == changed { internal } else { true };
        s.push_str(&format!(
            "\n# For peer /bgp/v1/host/node-{i}/ip_addr_v4\n\
             protocol bgp {name} from bgp_template {{\n  neighbor {addr} as 64512;\n  \
             source address 10.99.0.1;  # The local address we use for the TCP connection\n  \
             import all;        # Import all routes, since we don't know what the upstream\n  \
             export filter {{\n    calico_export_to_bgp_peers({arg});\n    reject;\n  }};  \
             # Only want to export routes for workloads.\n  \
             passive on; # Mesh is unidirectional, peer will connect to us.\n}}\n"
        ));
    }
    s
}

/// The same configuration for BIRD 2 (its syntax; no `krt_tunnel`).
fn bird2_config(peers: usize, changed: usize, internal: bool) -> String {
    let mut s = String::from(
        r#"router id 10.99.0.1;
function apply_communities () { }
function calico_aggr () {
  if ( net = 10.0.0.0/30 ) then { accept; }
  if ( net ~ 10.0.0.0/30 ) then { reject; }
  if ( net = 10.1.0.0/24 ) then { accept; }
  if ( net ~ 10.1.0.0/24 ) then { reject; }
  if ( net = 10.2.0.1/32 ) then { accept; }
  if ( net ~ 10.2.0.1/32 ) then { reject; }
  if ( net = 192.168.221.192/26 ) then { accept; }
  if ( net ~ 192.168.221.192/26 ) then { reject; }
  if ( net = 192.168.221.64/26 ) then { accept; }
  if ( net ~ 192.168.221.64/26 ) then { reject; }
}
function reject_disabled_pools () { }
function reject_tunnel_routes () {
  if (defined(ifname)) then {
     if ((ifname ~ "*.cali") || (ifname ~ "*.calico")) then { reject; }
  }
}
function reject_local_routes () {
  if (defined(ifname)) then {
     if (ifname ~ "bpf*.cali") then { reject; }
  }
}
function calico_export_to_bgp_peers(bool internal_peer) {
  reject_disabled_pools();
  if (internal_peer) then { reject_tunnel_routes(); }
  reject_local_routes();
  apply_communities();
  calico_aggr();
  if ( net ~ 192.168.0.0/16 ) then { accept; }
}
filter calico_kernel_programming {
  if ( net ~ 192.168.0.0/16 ) then { accept; }
  accept;
}
protocol static {
  ipv4;
  route 10.0.0.0/30 blackhole;
  route 10.1.0.0/24 blackhole;
  route 192.168.221.192/26 blackhole;
  route 192.168.221.64/26 blackhole;
}
protocol kernel {
  learn; persist; scan time 2; graceful restart; merge paths on;
  ipv4 { import all; export filter calico_kernel_programming; };
}
protocol device { debug { states }; scan time 2; }
protocol direct { debug { states }; ipv4; interface -"cali*", -"kube-ipvs*", "*"; }
template bgp bgp_template {
  debug { states };
  description "Connection to BGP peer";
  local as 64512;
  graceful restart;
  connect delay time 2;
  connect retry time 5;
  error wait time 5,30;
}
"#,
    );
    for i in 0..peers {
        let (name, addr) = peer(i);
        let arg = if i == changed { internal } else { true };
        s.push_str(&format!(
            "protocol bgp {name} from bgp_template {{\n  neighbor {addr} as 64512;\n  \
             source address 10.99.0.1;\n  passive on;\n  ipv4 {{\n    gateway recursive;\n    \
             add paths on;\n    import all;\n    export filter {{\n      \
             calico_export_to_bgp_peers({arg});\n      reject;\n    }};\n  }};\n}}\n"
        ));
    }
    s
}

/// Mesh neighbor `i`: `Mesh_10_99_X_Y`, `10.99.X.Y` (from 10.99.1.1).
fn peer(i: usize) -> (String, String) {
    let n = i + 256 + 1;
    let (x, y) = (n / 250, n % 250 + 1);
    (format!("Mesh_10_99_{x}_{y}"), format!("10.99.{x}.{y}"))
}

/// Waits until the control socket answers `show status`.
fn wait_socket(sock: &Path, p: &mut Proc) -> Res<()> {
    let deadline = Instant::now() + Duration::from_secs(300);
    while Instant::now() < deadline {
        p.check_alive()?;
        if query(sock, "show status", Duration::from_secs(5)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!("{} never answered", sock.display()).into())
}

/// Sends `configure`: (seconds to the reply, CPU seconds until idle again).
fn measure(sock: &Path, pid: u32) -> Res<(f64, f64)> {
    let cpu0 = cpu_secs(pid)?;
    let t = Instant::now();
    let reply = query(sock, "configure", Duration::from_secs(600))?;
    let elapsed = t.elapsed().as_secs_f64();
    if !reply.contains("Reconfigur") {
        return Err(format!("configure: {reply}").into());
    }
    settle(pid)?;
    Ok((elapsed, cpu_secs(pid)? - cpu0))
}

/// Waits until `pid` used less than 10 ms of CPU in a second.
fn settle(pid: u32) -> Res<()> {
    let mut last = cpu_secs(pid)?;
    for _ in 0..600 {
        std::thread::sleep(Duration::from_secs(1));
        let now = cpu_secs(pid)?;
        if now - last < 0.01 {
            return Ok(());
        }
        last = now;
    }
    Err(format!("process {pid} never went idle").into())
}

fn vm_rss(pid: u32) -> Res<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .ok_or("no VmRSS")?;
    Ok(line.split_whitespace().nth(1).ok_or("bad VmRSS")?.parse()?)
}

/// One command on a BIRD-style control socket; the reply up to its final line.
fn query(sock: &Path, cmd: &str, timeout: Duration) -> Res<String> {
    let s = UnixStream::connect(sock)?;
    s.set_read_timeout(Some(timeout))?;
    let mut w = s.try_clone()?;
    let mut r = BufReader::new(s);
    let is_final = |l: &str| {
        let b = l.as_bytes();
        b.len() >= 5 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b' '
    };
    let mut greeting = String::new();
    r.read_line(&mut greeting)?;
    w.write_all(format!("{cmd}\n").as_bytes())?;
    let mut out = String::new();
    loop {
        let mut l = String::new();
        if r.read_line(&mut l)? == 0 {
            return Err(format!("{cmd}: connection closed: {out}").into());
        }
        let done = is_final(&l);
        out += &l;
        if done {
            return Ok(out);
        }
    }
}

/// CPU time of every thread of `pid` so far, in seconds (schedstat, ns: the 10 ms ticks of
/// `/proc/PID/stat` are too coarse for a reload of our daemon); an error once it is gone.
fn cpu_secs(pid: u32) -> Res<f64> {
    if !Path::new(&format!("/proc/{pid}")).exists() {
        return Err(format!("process {pid} is gone").into());
    }
    Ok(cpu_nanos(pid) as f64 / 1e9)
}
