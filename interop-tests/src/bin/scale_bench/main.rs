//! Many-peer benchmark of ours against BIRD 2.0.12, BIRD 1.6.8 and FRR 8.4.4 in the same run
//! (issue 14, part 4).
//!
//! Usage (as root): `cargo build --release -p bgpd -p interop-tests --bin scale_bench`, then
//! `scale_bench [--daemons ours,bird2,bird16,frr] [--scenarios rr:100:10,rr:200:10,rr:1000:10,
//! mesh:100:1,mesh:1000:1,rr:100:10000] [--runs 5] [--timeout 300] [--idle 10] [--bgpd PATH]`
//! (`BGPD` env also names our binary; default: `bgpd` next to this binary; `SCALE_WRAP` a
//! command line to run ours under, e.g. `valgrind --tool=massif --pages-as-heap=yes
//! --massif-out-file=/tmp/massif.out`, or `valgrind --tool=callgrind`). Not part of
//! `cargo test`; the results and the exact commands are in
//! `interop-tests/bench/results-scale-2026-12-07.md`.
//!
//! Topology per measurement (fresh namespaces, one daemon at a time): node 1 is the daemon
//! (10.99.0.1), node 2 runs this binary as `sim` (see `interop_tests::sim`) with one address per
//! simulated peer on `lo` (10.99.16.2, .3, ...; the daemon routes 10.99.16.0/20 via 10.99.0.2,
//! so it sees one neighbour on the link and the peers are multihop iBGP as in Calico's
//! `bird.cfg`). Scenarios, `KIND:N:B` = N peers announcing B /26 blocks each:
//! - `rr`: the daemon is a route reflector (cluster id 10.99.0.1), every peer a client; each
//!   client must receive the (N-1)*B blocks of the others;
//! - `mesh`: the daemon is one node of a full iBGP mesh (not a reflector) announcing one block
//!   of its own; each peer must receive that block and the daemon all N*B.
//!
//! Phases, timed by the simulator: `up` = from the simulator's start (the daemon already
//! answering on its control interface) until all N sessions are Established; `eor` = until
//! every session has the daemon's End-of-RIB; then, one second later, every peer sends its
//! UPDATEs and End-of-RIB at once: `converged` = until every client holds all blocks of the
//! others (rr; the last change seen) or until the daemon's table counts every block (mesh,
//! polled on its CLI every 50 ms); `newblock` (rr) = client 1 announces one more block: until
//! every other client has it. Then the daemon's CPU over `--idle` seconds with all sessions up.
//! Read from /proc: the daemon's VmHWM (FRR: its bgpd), utime+stime of the daemon and of the
//! simulator; from the simulator: routes reflected back to their originator (own blocks, or
//! ORIGINATOR_ID = the client).

mod daemons;

use std::error::Error;
use std::io::Write;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use daemons::Kind;
use interop_tests::loadgen::encode_announce;
use interop_tests::procstat::{cpu_secs, status_kib};
use interop_tests::sim::{Clock, PeerPlan, SimParams, SimPeer, Universe};
use interop_tests::{require_root, Fabric, Proc, TempDir};

pub type Res<T> = Result<T, Box<dyn Error>>;

pub const AS: u32 = 64512;
pub const DUT: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 1);
const SIM_NH: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 2);
const FIRST_PEER: u32 = u32::from_be_bytes([10, 99, 16, 2]);
const SMALL_BASE: Ipv4Addr = Ipv4Addr::new(10, 64, 0, 0);
const LARGE_BASE: Ipv4Addr = Ipv4Addr::new(32, 0, 0, 0);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let r = match args.get(1).map(String::as_str) {
        Some("sim") => sim_main(&args[2..]),
        _ => orchestrate(&args[1..]),
    };
    if let Err(e) = r {
        eprintln!("scale_bench: {e}");
        std::process::exit(1);
    }
}

fn say(line: &str) {
    println!("{line}");
    let _ = std::io::stdout().flush();
}

fn unix_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

/// One workload (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scenario {
    pub reflector: bool,
    pub peers: u32,
    pub blocks: u32,
}

impl Scenario {
    fn parse(s: &str) -> Res<Scenario> {
        let f: Vec<&str> = s.split(':').collect();
        let num =
            |i: usize, d: u32| -> Res<u32> { f.get(i).map_or(Ok(d), |v| Ok(v.parse::<u32>()?)) };
        let sc = Scenario {
            reflector: match f.first() {
                Some(&"rr") => true,
                Some(&"mesh") => false,
                _ => return Err(format!("scenario {s}: rr:N:B or mesh:N:B").into()),
            },
            peers: num(1, 100)?,
            blocks: num(2, if f.first() == Some(&"rr") { 10 } else { 1 })?,
        };
        if sc.peers == 0 || sc.peers > 4000 || sc.blocks == 0 || sc.universe().count > 1 << 20 {
            return Err(format!("scenario {s}: 1..=4000 peers, at most 2^20 blocks").into());
        }
        Ok(sc)
    }

    pub fn label(&self) -> String {
        format!(
            "{}:{}:{}",
            if self.reflector { "rr" } else { "mesh" },
            self.peers,
            self.blocks
        )
    }

    /// The peers' blocks, then one more: the new block (rr) or the daemon's own (mesh).
    fn universe(&self) -> Universe {
        let count = self.peers * self.blocks + 1;
        Universe {
            base: if count <= 1 << 16 {
                SMALL_BASE
            } else {
                LARGE_BASE
            },
            count,
        }
    }

    /// The IP pool the daemons export from (Calico's export filter).
    pub fn pool(&self) -> String {
        let u = self.universe();
        if u.base == SMALL_BASE {
            format!("{SMALL_BASE}/10")
        } else {
            format!("{LARGE_BASE}/6")
        }
    }

    /// The block the daemon announces itself (mesh only).
    pub fn daemon_block(&self) -> Option<ipnet::Ipv4Net> {
        (!self.reflector).then(|| self.universe().block(self.peers * self.blocks))
    }

    pub fn peer_addrs(&self) -> impl Iterator<Item = Ipv4Addr> {
        (0..self.peers).map(|i| Ipv4Addr::from(FIRST_PEER + i))
    }

    fn plans(&self) -> Vec<PeerPlan> {
        let extra = self.reflector.then_some(self.peers * self.blocks);
        self.peer_addrs()
            .zip(0..)
            .map(|(local, i)| PeerPlan {
                local,
                own: i * self.blocks..(i + 1) * self.blocks,
                extra: if i == 0 { extra } else { None },
            })
            .collect()
    }
}

// ---- the simulator (run inside the peers' namespace) ----

/// `sim SCENARIO TIMEOUT_S`: prints `up`, `eor`, `sent`, `converged`, `newblock`, `done` lines
/// (seconds) and a `status` line every second (see the module docs).
fn sim_main(a: &[String]) -> Res<()> {
    let sc = Scenario::parse(a.first().ok_or("sim needs a scenario")?)?;
    let timeout = Duration::from_secs(a.get(1).ok_or("sim needs a timeout")?.parse()?);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(simulate(sc, timeout))
}

async fn simulate(sc: Scenario, timeout: Duration) -> Res<()> {
    let clock = Clock {
        epoch: Instant::now(),
    };
    let secs = |ns: u64| ns as f64 / 1e9;
    let params = SimParams {
        remote: DUT,
        asn: AS,
        hold_time: 240,
        retry: Duration::from_millis(200),
        open_timeout: Duration::from_secs(240),
        universe: sc.universe(),
        clock,
    };
    let mut updates = Vec::new();
    let peers: Vec<SimPeer> = sc
        .plans()
        .into_iter()
        .map(|p| {
            let mut u = encode_announce(
                p.own.clone().map(|i| params.universe.block(i)),
                p.local,
                &[],
                true,
            )?;
            u.extend_from_slice(&bgp_proto::builder::end_of_rib(
                bgp_proto::Family::Ipv4Unicast,
            ));
            updates.push(u.freeze());
            Ok(SimPeer::spawn(p, params))
        })
        .collect::<Res<_>>()?;
    let peers = Arc::new(peers);
    let status = tokio::spawn(status_loop(Arc::clone(&peers)));
    let all = |f: &dyn Fn(&SimPeer) -> bool| peers.iter().filter(|p| f(p)).count();
    let n = peers.len();
    let wait = |f: &'static (dyn Fn(&SimPeer) -> bool + Sync), limit: Duration| {
        let peers = Arc::clone(&peers);
        async move {
            let start = Instant::now();
            loop {
                let k = peers.iter().filter(|p| f(p)).count();
                if k == peers.len() || start.elapsed() > limit {
                    return k;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
    };
    let up = wait(&|p| p.state.established().is_some(), timeout).await;
    let last_up = peers
        .iter()
        .filter_map(|p| p.state.established())
        .max()
        .unwrap_or(0);
    say(&format!("up {:.3} {up}", secs(last_up)));
    if up < n {
        say("done failed: not every session came up");
        return hold(status).await;
    }
    let eor = wait(&|p| p.state.eor().is_some(), Duration::from_secs(60)).await;
    let last_eor = peers
        .iter()
        .filter_map(|p| p.state.eor())
        .max()
        .unwrap_or(0);
    say(&format!("eor {:.3} {eor}", secs(last_eor)));
    if !sc.reflector {
        // Every mesh peer has the daemon's own block by its End-of-RIB.
        say(&format!("daemon-block {}", all(&|p| p.state.held() >= 1)));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let t1 = clock.now_ns();
    say(&format!("sent {}", unix_ns()));
    for (p, u) in peers.iter().zip(updates) {
        p.send(u).await?;
    }
    if sc.reflector {
        let target = (sc.peers - 1) * sc.blocks;
        let t = converge(&peers, 0.., target, t1, timeout).await?;
        say(&format!("converged {t:.3}"));
        tokio::time::sleep(Duration::from_secs(1)).await;
        let extra = sc.peers * sc.blocks;
        let extra_upd = encode_announce(
            [params.universe.block(extra)],
            peers[0].plan.local,
            &[],
            true,
        )?;
        let t2 = clock.now_ns();
        peers[0].send(extra_upd.freeze()).await?;
        let t = converge(&peers, 1.., target + 1, t2, timeout).await?;
        say(&format!("newblock {t:.3}"));
    }
    say("done ok");
    hold(status).await
}

/// Waits until every peer in `which` holds `target` blocks; seconds from `t0` to the last
/// change among them.
async fn converge(
    peers: &[SimPeer],
    which: std::ops::RangeFrom<usize>,
    target: u32,
    t0: u64,
    timeout: Duration,
) -> Res<f64> {
    let start = Instant::now();
    loop {
        let set = &peers[which.clone()];
        if let Some(e) = set.iter().find_map(|p| p.state.error()) {
            return Err(e.into());
        }
        if set.iter().all(|p| p.state.held() >= target) {
            let mut done: Vec<u64> = set
                .iter()
                .map(|p| p.state.last_change().unwrap_or(t0).saturating_sub(t0))
                .collect();
            done.sort_unstable();
            let at = |q: usize| done[(done.len() - 1) * q / 100] as f64 / 1e9;
            eprintln!(
                "peers complete after (s): first {:.3}, median {:.3}, p90 {:.3}, last {:.3}",
                at(0),
                at(50),
                at(90),
                at(100)
            );
            return Ok(at(100));
        }
        if start.elapsed() > timeout {
            let short = set.iter().filter(|p| p.state.held() < target).count();
            return Err(
                format!("{short} peers without all {target} blocks after {timeout:?}").into(),
            );
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Every second: `status UP EOR HELD REFLECTED UPDATES ERRORS RETRIES [first error]`.
async fn status_loop(peers: Arc<Vec<SimPeer>>) {
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let c = |f: &dyn Fn(&SimPeer) -> bool| peers.iter().filter(|p| f(p)).count();
        let sum = |f: &dyn Fn(&SimPeer) -> u64| peers.iter().map(f).sum::<u64>();
        let first_err = peers
            .iter()
            .find_map(|p| p.state.error())
            .unwrap_or_default();
        say(&format!(
            "status {} {} {} {} {} {} {} {first_err}",
            c(&|p| p.state.established().is_some()),
            c(&|p| p.state.eor().is_some()),
            sum(&|p| u64::from(p.state.held())),
            sum(&|p| p.state.reflected()),
            sum(&|p| p.state.updates()),
            c(&|p| p.state.error().is_some()),
            sum(&|p| p.state.failed_attempts()),
        ));
    }
}

async fn hold(status: tokio::task::JoinHandle<()>) -> Res<()> {
    status.await?;
    Ok(())
}

// ---- the orchestrator ----

struct Opts {
    daemons: Vec<Kind>,
    scenarios: Vec<Scenario>,
    runs: usize,
    timeout: u64,
    idle: u64,
    bgpd: PathBuf,
    exe: PathBuf,
}

fn parse_opts(a: &[String]) -> Res<Opts> {
    let exe = std::env::current_exe()?;
    let dir = exe.parent().map(Path::to_owned).unwrap_or_default();
    let mut o = Opts {
        daemons: vec![Kind::Ours, Kind::Bird2, Kind::Bird16, Kind::Frr],
        scenarios: [
            "rr:100:10",
            "rr:200:10",
            "rr:1000:10",
            "mesh:100:1",
            "mesh:1000:1",
            "rr:100:10000",
        ]
        .iter()
        .map(|s| Scenario::parse(s))
        .collect::<Res<_>>()?,
        runs: 1,
        timeout: 300,
        idle: 10,
        bgpd: std::env::var_os("BGPD").map_or_else(|| dir.join("bgpd"), PathBuf::from),
        exe,
    };
    let mut it = a.iter();
    while let Some(flag) = it.next() {
        let v = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--daemons" => o.daemons = v.split(',').map(Kind::parse).collect::<Res<_>>()?,
            "--scenarios" => o.scenarios = v.split(',').map(Scenario::parse).collect::<Res<_>>()?,
            "--runs" => o.runs = v.parse()?,
            "--timeout" => o.timeout = v.parse()?,
            "--idle" => o.idle = v.parse()?,
            "--bgpd" => o.bgpd = PathBuf::from(v),
            x => return Err(format!("unknown flag {x}").into()),
        }
    }
    Ok(o)
}

/// One measurement (NaN where a phase did not finish).
#[derive(Debug, Clone, Default)]
struct Row {
    up: f64,
    eor: f64,
    converged: f64,
    newblock: f64,
    hwm_mib: f64,
    cpu_daemon: f64,
    cpu_sim: f64,
    idle_ms: f64,
    reflected: u64,
    /// UPDATE messages the simulated peers received in all.
    updates: u64,
    note: String,
}

fn orchestrate(a: &[String]) -> Res<()> {
    if !require_root("scale_bench") {
        return Ok(());
    }
    let o = parse_opts(a)?;
    if o.daemons.contains(&Kind::Ours) && !o.bgpd.exists() {
        return Err(format!("our bgpd not found at {} (set BGPD)", o.bgpd.display()).into());
    }
    raise_fd_limit()?;
    let mut all: Vec<(usize, Scenario, Kind, Row)> = Vec::new();
    for run in 1..=o.runs {
        for &sc in &o.scenarios {
            say(&format!("\n## run {run}: {}\n", sc.label()));
            say("| daemon | up s | EoR s | converged s | new block s | VmHWM MiB | CPU daemon s | CPU sim s | idle CPU ms/10s | reflected back | UPDATEs to peers | note |");
            say("|---|---|---|---|---|---|---|---|---|---|---|---|");
            for &k in &o.daemons {
                let r = measure(k, sc, &o).unwrap_or_else(|e| Row {
                    up: f64::NAN,
                    eor: f64::NAN,
                    converged: f64::NAN,
                    newblock: f64::NAN,
                    hwm_mib: f64::NAN,
                    cpu_daemon: f64::NAN,
                    cpu_sim: f64::NAN,
                    idle_ms: f64::NAN,
                    reflected: 0,
                    updates: 0,
                    note: format!("error: {e}"),
                });
                say(&format!(
                    "| {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.2} | {:.2} | {:.2} | {:.0} | {} | {} | {} |",
                    k.name(),
                    r.up,
                    r.eor,
                    r.converged,
                    r.newblock,
                    r.hwm_mib,
                    r.cpu_daemon,
                    r.cpu_sim,
                    r.idle_ms,
                    r.reflected,
                    r.updates,
                    r.note
                ));
                all.push((run, sc, k, r));
            }
        }
    }
    summary(&o, &all);
    Ok(())
}

/// 1,000 sessions need more than the usual 1,024 descriptors: the soft limit of this process,
/// which every daemon and the simulator inherit (the same for all), goes up to its hard limit.
fn raise_fd_limit() -> Res<()> {
    let limits = std::fs::read_to_string("/proc/self/limits")?;
    let (soft, hard) = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            Some((f.get(3)?.to_string(), f.get(4)?.to_string()))
        })
        .ok_or("no open-files limit in /proc/self/limits")?;
    if soft != hard {
        let me = std::process::id().to_string();
        let arg = format!("--nofile={hard}:{hard}");
        interop_tests::command::run("prlimit", &["--pid", &me, &arg])?;
    }
    say(&format!("open files limit (daemons and simulator): {hard}"));
    Ok(())
}

fn spread(v: &mut Vec<f64>) -> String {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return "-".into();
    }
    v.sort_by(f64::total_cmp);
    let med = v[v.len() / 2];
    if v.len() == 1 {
        format!("{med:.3}")
    } else {
        format!("{med:.3} [{:.3}..{:.3}]", v[0], v[v.len() - 1])
    }
}

fn summary(o: &Opts, all: &[(usize, Scenario, Kind, Row)]) {
    say(&format!(
        "\n## summary over {} run(s): median [min..max]\n",
        o.runs
    ));
    say("| scenario | daemon | up s | converged s | new block s | VmHWM MiB | CPU daemon s | CPU sim s | idle ms/10s | reflected |");
    say("|---|---|---|---|---|---|---|---|---|---|");
    let rows = |sc: Scenario, k: Kind| {
        all.iter()
            .filter(move |r| r.1 == sc && r.2 == k)
            .map(|r| &r.3)
    };
    for &sc in &o.scenarios {
        for &k in &o.daemons {
            let col = |f: fn(&Row) -> f64| spread(&mut rows(sc, k).map(f).collect::<Vec<_>>());
            let refl: Vec<String> = rows(sc, k).map(|r| r.reflected.to_string()).collect();
            say(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                sc.label(),
                k.name(),
                col(|r| r.up),
                col(|r| r.converged),
                col(|r| r.newblock),
                col(|r| r.hwm_mib),
                col(|r| r.cpu_daemon),
                col(|r| r.cpu_sim),
                col(|r| r.idle_ms),
                refl.join(",")
            ));
        }
    }
    say("\nRatios ours/peer per run (median [min..max] over runs): converged, up, VmHWM\n");
    for &sc in &o.scenarios {
        for &k in o.daemons.iter().filter(|k| **k != Kind::Ours) {
            let ratio = |f: fn(&Row) -> f64| {
                let mut v: Vec<f64> = (1..=o.runs)
                    .filter_map(|run| {
                        let get = |kk: Kind| {
                            all.iter()
                                .find(|r| r.0 == run && r.1 == sc && r.2 == kk)
                                .map(|r| f(&r.3))
                        };
                        Some(get(Kind::Ours)? / get(k)?)
                    })
                    .collect();
                spread(&mut v)
            };
            say(&format!(
                "- {} ours/{}: converged {}, up {}, VmHWM {}",
                sc.label(),
                k.name(),
                ratio(|r| r.converged),
                ratio(|r| r.up),
                ratio(|r| r.hwm_mib)
            ));
        }
    }
    say("\nMemory per session, KiB: (VmHWM at larger N - at smaller N) / delta N, same run, same kind and blocks\n");
    for &k in &o.daemons {
        for (i, &a) in o.scenarios.iter().enumerate() {
            for &b in &o.scenarios[i + 1..] {
                if a.reflector != b.reflector || a.blocks != b.blocks || a.peers >= b.peers {
                    continue;
                }
                let mut v: Vec<f64> = (1..=o.runs)
                    .filter_map(|run| {
                        let h = |s: Scenario| {
                            all.iter()
                                .find(|r| r.0 == run && r.1 == s && r.2 == k)
                                .map(|r| r.3.hwm_mib)
                        };
                        Some((h(b)? - h(a)?) * 1024.0 / f64::from(b.peers - a.peers))
                    })
                    .collect();
                say(&format!(
                    "- {} {} -> {}: {}",
                    k.name(),
                    a.label(),
                    b.label(),
                    spread(&mut v)
                ));
            }
        }
    }
}

/// The rest of the simulator's first output line starting with `prefix`.
fn wait_line(p: &Proc, prefix: &str, timeout: Duration) -> Res<String> {
    let start = Instant::now();
    loop {
        let text = std::fs::read_to_string(p.stdout_path()).unwrap_or_default();
        if let Some(s) = text.lines().find_map(|l| l.strip_prefix(prefix)) {
            return Ok(s.trim().to_owned());
        }
        if let Some(s) = text.lines().find_map(|l| l.strip_prefix("done failed")) {
            return Err(format!("simulator: {s}; last {}", last_status(p)).into());
        }
        let err = std::fs::read_to_string(p.stderr_path()).unwrap_or_default();
        if err.contains("scale_bench:") {
            return Err(format!("simulator failed: {}", p.log_tail(5)).into());
        }
        if start.elapsed() >= timeout {
            return Err(format!(
                "`{prefix}` not seen after {timeout:?}; last {}",
                last_status(p)
            )
            .into());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn last_status(p: &Proc) -> String {
    std::fs::read_to_string(p.stdout_path())
        .unwrap_or_default()
        .lines()
        .rev()
        .find(|l| l.starts_with("status "))
        .unwrap_or("status -")
        .to_owned()
}

fn measure(kind: Kind, sc: Scenario, o: &Opts) -> Res<Row> {
    let fabric = Fabric::new(&format!("sc{}", std::process::id()), 2)?;
    let (dut, simns) = (&fabric.node(1).ns, &fabric.node(2).ns);
    dut.ip(&["route", "add", "10.99.16.0/20", "via", &SIM_NH.to_string()])?;
    let gdir = TempDir::new("scale-sim")?;
    let batch: String = sc
        .peer_addrs()
        .map(|a| format!("addr add {a}/32 dev lo\n"))
        .collect();
    let bf = gdir.write("addrs.batch", &batch)?;
    simns.ip(&["-batch", &bf.to_string_lossy()])?;
    let daemon = daemons::start(kind, dut, &o.bgpd, &sc)?;
    let exe = o.exe.to_string_lossy();
    let timeout = Duration::from_secs(o.timeout);
    let sim = Proc::spawn_in(
        simns,
        "sim",
        &[&exe, "sim", &sc.label(), &o.timeout.to_string()],
        gdir.path(),
    )?;
    let mut row = Row {
        converged: f64::NAN,
        newblock: f64::NAN,
        ..Row::default()
    };
    let first = |s: String| {
        s.split_whitespace()
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN)
    };
    row.up = first(wait_line(&sim, "up ", timeout + Duration::from_secs(10))?);
    row.eor = first(wait_line(&sim, "eor ", Duration::from_secs(70))?);
    if !sc.reflector {
        let got = wait_line(&sim, "daemon-block ", Duration::from_secs(5))?;
        if got != sc.peers.to_string() {
            row.note += &format!("daemon block at {got}/{} peers; ", sc.peers);
        }
    }
    let sent: u128 = wait_line(&sim, "sent ", Duration::from_secs(10))?.parse()?;
    if sc.reflector {
        row.converged = wait_line(&sim, "converged ", timeout)?.parse()?;
        row.newblock = wait_line(&sim, "newblock ", Duration::from_secs(60))?.parse()?;
    } else {
        let target = usize::try_from(sc.peers * sc.blocks + 1)?;
        let start = Instant::now();
        loop {
            let c = daemon.networks().unwrap_or(0);
            let at = unix_ns();
            if c >= target {
                row.converged = at.saturating_sub(sent) as f64 / 1e9;
                break;
            }
            if start.elapsed() > timeout {
                row.note += &format!("{c}/{target} networks after {timeout:?}; ");
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    wait_line(&sim, "done ok", Duration::from_secs(10))?;
    let pid = daemon.pid();
    let idle0 = cpu_secs(pid);
    std::thread::sleep(Duration::from_secs(o.idle));
    row.idle_ms = (cpu_secs(pid) - idle0) * 1000.0;
    row.hwm_mib = status_kib(pid, "VmHWM:") / 1024.0;
    row.cpu_daemon = cpu_secs(pid);
    row.cpu_sim = cpu_secs(sim.pid());
    // `status UP EOR HELD REFLECTED UPDATES ERRORS RETRIES`
    let st = last_status(&sim);
    let f: Vec<&str> = st.split_whitespace().collect();
    row.reflected = f.get(4).and_then(|v| v.parse().ok()).unwrap_or(0);
    row.updates = f.get(5).and_then(|v| v.parse().ok()).unwrap_or(0);
    if f.get(6).is_some_and(|e| *e != "0") {
        row.note += &format!("sessions failed: {st}; ");
    }
    if let Some(r) = f.get(7).filter(|r| **r != "0") {
        row.note += &format!("{r} connection attempts failed before Established; ");
    }
    let err = std::fs::read_to_string(sim.stderr_path()).unwrap_or_default();
    for l in err.lines().filter(|l| l.starts_with("peers complete")) {
        eprintln!("{} {}: {l}", kind.name(), sc.label());
    }
    drop(sim);
    drop(daemon);
    Ok(row)
}
