//! Route benchmarks of ours against BIRD 2.0.12, FRR 8.4.4 and GoBGP 3.10.0 in the same run.
//!
//! Usage (as root): `cargo build --release -p bgpd -p interop-tests --bin route_bench`, then
//! `route_bench [--daemons ours,bird,frr,gobgp] [--sizes 100000,1000000] [--peers 100]
//! [--blocks 10] [--scenarios single,rr] [--method poll|idle] [--poll-ms MS] [--dumpers K]
//! [--bgpd PATH]`
//! (`BGPD` env also names our binary; default: `bgpd` next to this binary).
//!
//! Each daemon runs alone (one at a time) in fresh namespaces of a two-node fabric: node 1 the
//! daemon under test (passive, kernel writes off: ours `enable_writes = false`, BIRD without a
//! kernel protocol, FRR `bgpd -n`, GoBGP without zebra), node 2 this binary re-run as a child
//! (`gen-single` / `gen-rr`) whose `loadgen` sessions connect to it.
//!
//! - `single`: one eBGP peer (AS 64513, 10.99.0.2) sends N /26s from 32.0.0.0 (one attribute
//!   set, ~4096-octet UPDATEs encoded beforehand) and End-of-RIB. Time runs from the first
//!   UPDATE written until the daemon's RIB count reaches N (ours and BIRD: `show route count`
//!   on the control socket; FRR: `pfxRcd` of `show bgp ipv4 unicast summary json`; GoBGP:
//!   `gobgp global rib summary`), polled every 100 ms (250 ms above 200k; `--poll-ms`); the time is taken
//!   when the successful poll returns.
//! - `rr`: P iBGP route reflector clients (10.99.1.1..P on node 2) of the daemon (10.99.1.254),
//!   each announcing B /26s of 10.64.0.0/16. After all sessions are up and 12 s of settling
//!   (FRR's coalesce timer), every client sends its UPDATE and End-of-RIB at once; the time is
//!   until every client holds the P×B−B routes of the others (the last change seen). Then
//!   client 1 announces one more block: time until the other P−1 clients have it.
//!
//! Printed: seconds and the daemon's peak RSS (VmHWM from /proc/PID/status; for FRR bgpd
//! only), and ours/other ratios. `single` also prints the CPU seconds (utime + stime) of the
//! daemon and of the load generator from the first UPDATE to the end of the measurement (the
//! idle method stops the daemon's count before its final RIB count query; the poll method's
//! includes answering the polls). Not part of `cargo test`.
//!
//! `--dumpers K` (`single`, ours and BIRD): K clients list the whole table (`show route`) in a
//! loop on the control socket during the load; printed: listings done and VmRSS before the
//! load and one second after the clients stopped. With ours, poll with `ours-proto` (a health
//! command, served on a reserved slot while the K clients hold the others).

use std::collections::HashSet;
use std::error::Error;
use std::io::Write;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use interop_tests::loadgen::{encode_announce, slash26, PeerSpec, Session};
use interop_tests::procstat::{cpu_nanos, cpu_ticks, hwm_mib, status_kib};
use interop_tests::{require_root, wait_until, Bird, Fabric, Frr, Gobgp, Netns, Proc, TempDir};

type Res<T> = Result<T, Box<dyn Error>>;

const DUT_AS: u32 = 64512;
const SENDER_AS: u32 = 64513;
const SINGLE_BASE: Ipv4Addr = Ipv4Addr::new(32, 0, 0, 0);
const RR_BASE: Ipv4Addr = Ipv4Addr::new(10, 64, 0, 0);
const RR_ADDR: &str = "10.99.1.254";
const SETTLE: Duration = Duration::from_secs(12);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let r = match args.get(1).map(String::as_str) {
        Some("gen-single") => gen_single(&args[2..]),
        Some("gen-rr") => gen_rr(&args[2..]),
        _ => orchestrate(&args[1..]),
    };
    if let Err(e) = r {
        eprintln!("route_bench: {e}");
        std::process::exit(1);
    }
}

fn now_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

fn arg<T: std::str::FromStr>(a: &[String], i: usize, what: &str) -> Res<T> {
    a.get(i)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("missing or bad argument {i} ({what})").into())
}

fn runtime() -> Res<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

fn say(line: &str) {
    println!("{line}");
    let _ = std::io::stdout().flush();
}

// ---- children (run inside the client namespace) ----

/// `gen-single N`: one eBGP session 10.99.0.2 -> 10.99.0.1, N /26s then End-of-RIB.
fn gen_single(a: &[String]) -> Res<()> {
    let n: u32 = arg(a, 0, "routes")?;
    let local = Ipv4Addr::new(10, 99, 0, 2);
    let mut updates = encode_announce(
        (0..n).map(|i| slash26(SINGLE_BASE, i)),
        local,
        &[SENDER_AS],
        false,
    )?;
    updates.extend_from_slice(&bgp_proto::builder::end_of_rib(
        bgp_proto::Family::Ipv4Unicast,
    ));
    eprintln!("gen-single: {n} prefixes, {} octets", updates.len());
    let spec = PeerSpec {
        local,
        remote: Ipv4Addr::new(10, 99, 0, 1),
        local_as: SENDER_AS,
        remote_as: DUT_AS,
        hold_time: 240,
    };
    let rt = runtime()?;
    rt.block_on(async move {
        let s = Session::connect(spec, HashSet::new(), Duration::from_secs(120)).await?;
        // Let the daemon finish its own session start (BIRD's End-of-RIB, FRR's timers).
        tokio::time::sleep(Duration::from_secs(2)).await;
        say(&format!("streaming {}", now_nanos()));
        s.send(&updates).await?;
        say(&format!("sent {}", now_nanos()));
        loop {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    })
}

/// `gen-rr PEERS BLOCKS TIMEOUT_S`: the route reflector clients (see the module docs).
fn gen_rr(a: &[String]) -> Res<()> {
    let peers: u32 = arg(a, 0, "peers")?;
    let blocks: u32 = arg(a, 1, "blocks")?;
    let timeout = Duration::from_secs(arg(a, 2, "timeout seconds")?);
    if peers == 0 || peers > 250 || (peers * blocks + 1) > 1024 {
        return Err("peers in 1..=250 and peers*blocks < 1024".into());
    }
    let rt = runtime()?;
    rt.block_on(async move {
        let extra = slash26(RR_BASE, peers * blocks);
        let mut set = tokio::task::JoinSet::new();
        for i in 0..peers {
            let local = Ipv4Addr::new(10, 99, 1, u8::try_from(i + 1)?);
            let own: Vec<_> = (0..blocks)
                .map(|j| slash26(RR_BASE, i * blocks + j))
                .collect();
            let mut ignore: HashSet<_> = own.iter().copied().collect();
            if i == 0 {
                // Client 1 announces the extra block later.
                ignore.insert(extra);
            }
            let mut upd = encode_announce(own, local, &[], true)?;
            upd.extend_from_slice(&bgp_proto::builder::end_of_rib(
                bgp_proto::Family::Ipv4Unicast,
            ));
            let spec = PeerSpec {
                local,
                remote: RR_ADDR.parse()?,
                local_as: DUT_AS,
                remote_as: DUT_AS,
                hold_time: 240,
            };
            set.spawn(async move {
                let s = Session::connect(spec, ignore, Duration::from_secs(120)).await;
                (i, s, upd)
            });
        }
        let mut sessions = Vec::new();
        while let Some(r) = set.join_next().await {
            let (i, s, upd) = r?;
            sessions.push((i, s?, upd));
        }
        sessions.sort_by_key(|s| s.0);
        say(&format!("established {}", sessions.len()));
        tokio::time::sleep(SETTLE).await;
        let target = usize::try_from((peers - 1) * blocks)?;
        let t0 = Instant::now();
        for (_, s, upd) in &sessions {
            s.send(upd).await?;
        }
        let all: Vec<usize> = (0..sessions.len()).collect();
        let t = converge(&sessions, &all, target, t0, timeout).await?;
        say(&format!("converged {:.6}", t.as_secs_f64()));
        tokio::time::sleep(Duration::from_secs(1)).await;
        let extra_upd = encode_announce([extra], sessions[0].1.spec.local, &[], true)?;
        let t0 = Instant::now();
        sessions[0].1.send(&extra_upd).await?;
        let others: Vec<usize> = (1..sessions.len()).collect();
        let t = converge(&sessions, &others, target + 1, t0, timeout).await?;
        say(&format!("newblock {:.6}", t.as_secs_f64()));
        say("done");
        loop {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    })
}

/// Waits until every session in `which` holds at least `target` prefixes; the time from `t0`
/// to the last change among them.
async fn converge(
    sessions: &[(u32, Session, bytes::BytesMut)],
    which: &[usize],
    target: usize,
    t0: Instant,
    timeout: Duration,
) -> Res<Duration> {
    loop {
        let mut ok = true;
        for &i in which {
            let st = sessions[i].1.stats();
            if let Some(e) = st.error() {
                return Err(format!("session {}: {e}", i + 1).into());
            }
            ok &= st.held() >= target;
        }
        if ok {
            let last = which
                .iter()
                .filter_map(|&i| sessions[i].1.stats().last_change())
                .max()
                .unwrap_or(t0);
            return Ok(last.saturating_duration_since(t0));
        }
        if t0.elapsed() > timeout {
            let held: Vec<usize> = which
                .iter()
                .map(|&i| sessions[i].1.stats().held())
                .collect();
            return Err(format!("not converged after {timeout:?}: held {held:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

// ---- the orchestrator ----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Ours,
    /// Ours polled with `show protocols all sender` (a count made by the RIB actor without
    /// building route entries) instead of `show route count`.
    OursProto,
    Bird,
    Frr,
    Gobgp,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Ours => "ours",
            Kind::OursProto => "ours-proto",
            Kind::Bird => "bird",
            Kind::Frr => "frr",
            Kind::Gobgp => "gobgp",
        }
    }
}

/// A running daemon under test (its guards stop it on drop).
enum Daemon<'a> {
    Ours {
        proc: Proc,
        ctl: PathBuf,
        proto_count: bool,
        _dir: TempDir,
    },
    Bird(Bird),
    Frr(Frr),
    Gobgp(Gobgp<'a>),
}

impl Daemon<'_> {
    /// The BIRD-style control socket (ours and BIRD).
    fn ctl(&self) -> Option<PathBuf> {
        match self {
            Daemon::Ours { ctl, .. } => Some(ctl.clone()),
            Daemon::Bird(b) => Some(b.dir().join("bird.ctl")),
            Daemon::Frr(_) | Daemon::Gobgp(_) => None,
        }
    }

    fn pid(&self) -> u32 {
        match self {
            Daemon::Ours { proc, .. } => proc.pid(),
            Daemon::Bird(b) => b.pid(),
            Daemon::Frr(f) => f.pid(),
            Daemon::Gobgp(g) => g.pid(),
        }
    }

    /// Routes in the daemon's RIB (see the module docs for the command per daemon).
    fn rib_count(&self) -> Res<usize> {
        match self {
            Daemon::Ours {
                ctl,
                proto_count: true,
                ..
            } => {
                let c = ctl.to_string_lossy();
                let out = interop_tests::command::run(
                    "/usr/sbin/birdc",
                    &["-s", c.as_ref(), "show", "protocols", "all", "sender"],
                )?;
                // `  Routes:         N imported, ...`
                Ok(out
                    .lines()
                    .find_map(|l| l.trim().strip_prefix("Routes:"))
                    .and_then(|r| r.split_whitespace().next()?.parse().ok())
                    .unwrap_or(0))
            }
            Daemon::Ours { ctl, .. } => {
                let c = ctl.to_string_lossy();
                let out = interop_tests::command::run(
                    "/usr/sbin/birdc",
                    &["-s", c.as_ref(), "show", "route", "count"],
                )?;
                parse_route_count(&out)
            }
            Daemon::Bird(b) => parse_route_count(&b.birdc("show route count")?),
            Daemon::Frr(f) => {
                let v = f.vtysh_json("show bgp ipv4 unicast summary json")?;
                let peers = v
                    .get("peers")
                    .or_else(|| v.get("ipv4Unicast").and_then(|u| u.get("peers")));
                Ok(peers
                    .and_then(|p| p.as_object())
                    .map(|m| {
                        m.values()
                            .filter_map(|p| p["pfxRcd"].as_u64())
                            .map(|n| usize::try_from(n).unwrap_or(0))
                            .sum()
                    })
                    .unwrap_or(0))
            }
            Daemon::Gobgp(g) => {
                let out = g.gobgp(&["global", "rib", "summary", "-a", "ipv4"])?;
                Ok(out
                    .split_whitespace()
                    .skip_while(|w| *w != "Destination:")
                    .nth(1)
                    .and_then(|n| n.trim_end_matches(',').parse().ok())
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

fn ours_conf(dir: &TempDir, rr: Option<u32>) -> Res<PathBuf> {
    let ctl = dir.path().join("bgpd.ctl");
    let (listen, top) = match rr {
        None => ("10.99.0.1", String::new()),
        Some(_) => (
            RR_ADDR,
            format!("cluster_id = \"{RR_ADDR}\"\nip_pools = [{{ cidr = \"10.64.0.0/16\" }}]\n"),
        ),
    };
    let mut s = format!(
        "router_id = \"10.99.0.1\"\nlocal_as = {DUT_AS}\n{top}\n[listen]\naddresses = \
         [\"{listen}\"]\n\n[kernel]\nenable_writes = false\n\n[control]\nsocket = \"{}\"\n",
        ctl.display()
    );
    match rr {
        None => {
            s += &format!(
                "\n[[neighbors]]\nname = \"sender\"\naddress = \"10.99.0.2\"\nremote_as = \
                 {SENDER_AS}\npassive = true\nhold_time = 240\n"
            );
        }
        Some(p) => {
            for i in 1..=p {
                s += &format!(
                    "\n[[neighbors]]\nname = \"c{i}\"\naddress = \"10.99.1.{i}\"\nremote_as = \
                     {DUT_AS}\npassive = true\nhold_time = 240\nroute_reflector_client = true\n"
                );
            }
        }
    }
    Ok(dir.write("bgpd.toml", &s)?)
}

fn bird_conf(rr: Option<u32>) -> String {
    let mut s = "router id 10.99.0.1;\nprotocol device {}\n".to_owned();
    match rr {
        None => {
            s += &format!(
                "protocol bgp sender {{ local 10.99.0.1 as {DUT_AS}; neighbor 10.99.0.2 as \
                 {SENDER_AS}; passive on; hold time 240; ipv4 {{ import all; export none; }}; }}\n"
            );
        }
        Some(p) => {
            s += &format!(
                "template bgp c {{ local {RR_ADDR} as {DUT_AS}; passive on; hold time 240; \
                 direct; rr client; rr cluster id {RR_ADDR}; ipv4 {{ import all; export all; gateway \
                 direct; }}; }}\n"
            );
            for i in 1..=p {
                s += &format!("protocol bgp c{i} from c {{ neighbor 10.99.1.{i} as {DUT_AS}; }}\n");
            }
        }
    }
    s
}

fn frr_conf(rr: Option<u32>) -> String {
    let mut s = format!(
        "hostname bgpd\nrouter bgp {DUT_AS}\n bgp router-id 10.99.0.1\n no bgp \
         ebgp-requires-policy\n no bgp network import-check\n"
    );
    match rr {
        None => {
            s += &format!(
                " neighbor 10.99.0.2 remote-as {SENDER_AS}\n neighbor 10.99.0.2 passive\n \
                 neighbor 10.99.0.2 timers 80 240\n"
            );
        }
        Some(p) => {
            s += &format!(
                " bgp cluster-id {RR_ADDR}\n neighbor C peer-group\n neighbor C remote-as \
                 {DUT_AS}\n neighbor C passive\n neighbor C timers 80 240\n"
            );
            for i in 1..=p {
                s += &format!(" neighbor 10.99.1.{i} peer-group C\n");
            }
            s += " address-family ipv4 unicast\n  neighbor C route-reflector-client\n \
                  exit-address-family\n";
        }
    }
    s
}

fn gobgp_conf(rr: Option<u32>) -> String {
    let mut s = format!("[global.config]\n  as = {DUT_AS}\n  router-id = \"10.99.0.1\"\n");
    let neighbor = |addr: &str, peer_as: u32, rr: bool| {
        let mut n = format!(
            "\n[[neighbors]]\n  [neighbors.config]\n    neighbor-address = \"{addr}\"\n    \
             peer-as = {peer_as}\n  [neighbors.transport.config]\n    passive-mode = true\n  \
             [neighbors.timers.config]\n    hold-time = 240\n    keepalive-interval = 80\n"
        );
        if rr {
            n += &format!(
                "  [neighbors.route-reflector.config]\n    route-reflector-client = true\n    \
                 route-reflector-cluster-id = \"{RR_ADDR}\"\n"
            );
        }
        n += "  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      \
              afi-safi-name = \"ipv4-unicast\"\n";
        n
    };
    match rr {
        None => s += &neighbor("10.99.0.2", SENDER_AS, false),
        Some(p) => {
            for i in 1..=p {
                s += &neighbor(&format!("10.99.1.{i}"), DUT_AS, true);
            }
        }
    }
    s
}

fn start<'a>(kind: Kind, ns: &'a Netns, bgpd: &Path, rr: Option<u32>) -> Res<Daemon<'a>> {
    Ok(match kind {
        Kind::Ours | Kind::OursProto => {
            let dir = TempDir::new("rbench")?;
            let conf = ours_conf(&dir, rr)?;
            let (b, c) = (bgpd.to_string_lossy(), conf.to_string_lossy());
            interop_tests::command::run(&b, &["--check", "-c", &c])?;
            let mut proc = Proc::spawn_in(ns, "bgpd", &[&b, "-c", &c], dir.path())?;
            let ctl = dir.path().join("bgpd.ctl");
            wait_until("our control socket", Duration::from_secs(10), || {
                proc.check_alive()?;
                Ok(ctl.exists())
            })?;
            Daemon::Ours {
                proc,
                ctl,
                proto_count: kind == Kind::OursProto,
                _dir: dir,
            }
        }
        Kind::Bird => Daemon::Bird(Bird::start(ns, &bird_conf(rr))?),
        Kind::Frr => Daemon::Frr(Frr::start(ns, &frr_conf(rr))?),
        Kind::Gobgp => Daemon::Gobgp(Gobgp::start(ns, &gobgp_conf(rr))?),
    })
}

struct Opts {
    daemons: Vec<Kind>,
    sizes: Vec<u32>,
    peers: u32,
    blocks: u32,
    single: bool,
    rr: bool,
    /// Measure `single` by CPU idleness instead of polling the RIB count.
    idle: bool,
    /// Poll interval of the poll method (default: 100 ms, 250 ms above 200k routes).
    poll_ms: Option<u64>,
    /// `single`: clients listing the whole table (`show route`) in a loop on the daemon's
    /// control socket during the load (ours and BIRD).
    /// (`--dumpers 0` still reports the memory before and after, for comparison.)
    dumpers: Option<usize>,
    bgpd: PathBuf,
    exe: PathBuf,
}

fn parse_opts(a: &[String]) -> Res<Opts> {
    let exe = std::env::current_exe()?;
    let dir = exe.parent().map(Path::to_owned).unwrap_or_default();
    let mut o = Opts {
        daemons: vec![Kind::Ours, Kind::Bird, Kind::Frr, Kind::Gobgp],
        sizes: vec![100_000],
        peers: 100,
        blocks: 10,
        single: true,
        rr: true,
        idle: false,
        poll_ms: None,
        dumpers: None,
        bgpd: std::env::var_os("BGPD").map_or_else(|| dir.join("bgpd"), PathBuf::from),
        exe,
    };
    let mut it = a.iter();
    while let Some(flag) = it.next() {
        let v = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--daemons" => {
                o.daemons = v
                    .split(',')
                    .map(|d| match d {
                        "ours" => Ok(Kind::Ours),
                        "ours-proto" => Ok(Kind::OursProto),
                        "bird" => Ok(Kind::Bird),
                        "frr" => Ok(Kind::Frr),
                        "gobgp" => Ok(Kind::Gobgp),
                        x => Err(format!("unknown daemon {x}")),
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--sizes" => o.sizes = v.split(',').map(str::parse).collect::<Result<_, _>>()?,
            "--peers" => o.peers = v.parse()?,
            "--blocks" => o.blocks = v.parse()?,
            "--scenarios" => {
                o.single = v.split(',').any(|s| s == "single");
                o.rr = v.split(',').any(|s| s == "rr");
            }
            "--bgpd" => o.bgpd = PathBuf::from(v),
            "--method" => o.idle = v == "idle",
            "--poll-ms" => o.poll_ms = Some(v.parse()?),
            "--dumpers" => o.dumpers = Some(v.parse()?),
            x => return Err(format!("unknown flag {x}").into()),
        }
    }
    Ok(o)
}

/// One measurement: seconds (NaN on failure) and peak RSS.
#[derive(Debug, Clone, Copy)]
struct Row {
    secs: f64,
    secs2: f64,
    hwm: f64,
}

/// CPU seconds used during a `single` load: by the daemon, and by the load generator.
#[derive(Clone, Copy)]
struct Cpu {
    daemon: f64,
    gen: f64,
}

fn orchestrate(a: &[String]) -> Res<()> {
    if !require_root("route_bench") {
        return Ok(());
    }
    let o = parse_opts(a)?;
    let ours = o
        .daemons
        .iter()
        .any(|k| matches!(k, Kind::Ours | Kind::OursProto));
    if ours && !o.bgpd.exists() {
        return Err(format!("our bgpd not found at {} (set BGPD)", o.bgpd.display()).into());
    }
    if o.single {
        for &n in &o.sizes {
            say(&format!(
                "\n## single: 1 eBGP peer sends {n} /26s, until all are in the RIB ({})\n",
                if o.idle {
                    "CPU-idle method"
                } else {
                    "RIB count polling"
                }
            ));
            say("| daemon | seconds | VmHWM MiB | last poll ms | daemon CPU s | load generator CPU s |");
            say("|---|---|---|---|---|---|");
            let (mut rows, mut cpus) = (Vec::new(), Vec::new());
            for &k in &o.daemons {
                let r = run_single(k, n, &o).unwrap_or_else(|e| {
                    eprintln!("single {n} {}: {e}", k.name());
                    (
                        Row {
                            secs: f64::NAN,
                            secs2: f64::NAN,
                            hwm: f64::NAN,
                        },
                        f64::NAN,
                        Cpu {
                            daemon: f64::NAN,
                            gen: f64::NAN,
                        },
                    )
                });
                say(&format!(
                    "| {} | {:.3} | {:.1} | {:.0} | {:.2} | {:.2} |",
                    k.name(),
                    r.0.secs,
                    r.0.hwm,
                    r.1,
                    r.2.daemon,
                    r.2.gen
                ));
                rows.push((k, r.0));
                cpus.push((k, r.2));
            }
            ratios(&rows, false);
            for (ok, ours) in cpus.iter().filter(|c| matches!(c.0, Kind::Ours)) {
                for (k, c) in cpus
                    .iter()
                    .filter(|c| !matches!(c.0, Kind::Ours | Kind::OursProto))
                {
                    say(&format!(
                        "- {}/{}: daemon CPU {:.2}",
                        ok.name(),
                        k.name(),
                        ours.daemon / c.daemon
                    ));
                }
            }
        }
    }
    if o.rr {
        say(&format!(
            "\n## rr: {} iBGP clients x {} blocks via a route reflector; then 1 new block\n",
            o.peers, o.blocks
        ));
        say("| daemon | all converged s | new block s | VmHWM MiB |");
        say("|---|---|---|---|");
        let mut rows = Vec::new();
        for &k in o.daemons.iter().filter(|k| **k != Kind::OursProto) {
            let r = run_rr(k, &o).unwrap_or_else(|e| {
                eprintln!("rr {}: {e}", k.name());
                Row {
                    secs: f64::NAN,
                    secs2: f64::NAN,
                    hwm: f64::NAN,
                }
            });
            say(&format!(
                "| {} | {:.3} | {:.3} | {:.1} |",
                k.name(),
                r.secs,
                r.secs2,
                r.hwm
            ));
            rows.push((k, r));
        }
        ratios(&rows, true);
    }
    Ok(())
}

fn ratios(rows: &[(Kind, Row)], rr: bool) {
    let is_ours = |k: Kind| matches!(k, Kind::Ours | Kind::OursProto);
    say("");
    for (ok, ours) in rows.iter().filter(|r| is_ours(r.0)) {
        for (k, r) in rows.iter().filter(|r| !is_ours(r.0)) {
            if rr {
                say(&format!(
                    "- {}/{}: converge time {:.2}, new block time {:.2}, VmHWM {:.2}",
                    ok.name(),
                    k.name(),
                    ours.secs / r.secs,
                    ours.secs2 / r.secs2,
                    ours.hwm / r.hwm
                ));
            } else {
                say(&format!(
                    "- {}/{}: time {:.2}, VmHWM {:.2}",
                    ok.name(),
                    k.name(),
                    ours.secs / r.secs,
                    ours.hwm / r.hwm
                ));
            }
        }
    }
}

/// The rest of the load generator's first output line starting with `prefix`. Checked every
/// 2 ms: the measurements start when this returns, so a coarser check (`wait_until`'s 200 ms)
/// would put a floor under every time (a daemon done before the check measured as ≈0.2 s).
fn wait_line(p: &Proc, prefix: &str, timeout: Duration) -> Res<String> {
    let start = Instant::now();
    loop {
        let text = std::fs::read_to_string(p.stdout_path()).unwrap_or_default();
        if let Some(s) = text.lines().find_map(|l| l.strip_prefix(prefix)) {
            return Ok(s.trim().to_owned());
        }
        let err = std::fs::read_to_string(p.stderr_path()).unwrap_or_default();
        if err.contains("route_bench:") {
            return Err(format!("load generator failed: {}", p.log_tail(10)).into());
        }
        if start.elapsed() >= timeout {
            return Err(format!(
                "`{prefix}` from the load generator not seen after {timeout:?}; {}",
                p.log_tail(10)
            )
            .into());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn run_single(kind: Kind, n: u32, o: &Opts) -> Res<(Row, f64, Cpu)> {
    let fabric = Fabric::new(&format!("rb{}", std::process::id()), 2)?;
    let daemon = start(kind, &fabric.node(1).ns, &o.bgpd, None)?;
    let gdir = TempDir::new("rbgen")?;
    let exe = o.exe.to_string_lossy();
    let gen = Proc::spawn_in(
        &fabric.node(2).ns,
        "gen",
        &[&exe, "gen-single", &n.to_string()],
        gdir.path(),
    )?;
    let rss_before = status_kib(daemon.pid(), "VmRSS:") / 1024.0;
    let dumps = match daemon.ctl() {
        Some(ctl) => o.dumpers.map(|n| Dumpers::start(&ctl, n)),
        _ => None,
    };
    let t0: u128 = wait_line(&gen, "streaming ", Duration::from_secs(150))?.parse()?;
    let (cpu0, gen0) = (cpu_nanos(daemon.pid()), cpu_nanos(gen.pid()));
    let timeout = Duration::from_secs(if n > 200_000 { 900 } else { 300 });
    let (secs, hwm, last_poll, end_cpu) = if o.idle {
        measure_idle(&daemon, kind, n, t0, timeout)?
    } else {
        let (s, h, l) = measure_poll(&daemon, kind, n, t0, timeout, o.poll_ms)?;
        (s, h, l, None)
    };
    // With polling the daemon's CPU includes answering the polls.
    let end_cpu = end_cpu.unwrap_or_else(|| cpu_nanos(daemon.pid()));
    let cpu = Cpu {
        daemon: end_cpu.saturating_sub(cpu0) as f64 / 1e9,
        gen: cpu_nanos(gen.pid()).saturating_sub(gen0) as f64 / 1e9,
    };
    if let Some(d) = dumps {
        let (done, lines) = d.stop();
        // Freed memory is back (or not) once the clients are gone.
        std::thread::sleep(Duration::from_secs(1));
        let pid = daemon.pid();
        say(&format!(
            "dumps {}: {} clients, {done} whole listings ({lines} lines), VmRSS before the load \
             {rss_before:.1} MiB, after load and dumps {:.1} MiB, VmHWM {:.1} MiB",
            kind.name(),
            o.dumpers.unwrap_or(0),
            status_kib(pid, "VmRSS:") / 1024.0,
            hwm_mib(pid)
        ));
    }
    drop(gen);
    drop(daemon);
    Ok((
        Row {
            secs,
            secs2: f64::NAN,
            hwm,
        },
        last_poll,
        cpu,
    ))
}

/// Polls the RIB count (see the module docs): (seconds, VmHWM MiB, last poll ms).
fn measure_poll(
    d: &Daemon<'_>,
    kind: Kind,
    n: u32,
    t0: u128,
    timeout: Duration,
    poll_ms: Option<u64>,
) -> Res<(f64, f64, f64)> {
    let interval = Duration::from_millis(poll_ms.unwrap_or(if n > 200_000 { 250 } else { 100 }));
    let start = Instant::now();
    loop {
        let q = Instant::now();
        let c = d.rib_count().unwrap_or(0);
        let at = now_nanos();
        let last_poll = q.elapsed().as_secs_f64() * 1000.0;
        if c >= usize::try_from(n)? {
            let secs = at.saturating_sub(t0) as f64 / 1e9;
            return Ok((secs, hwm_mib(d.pid()), last_poll));
        }
        if start.elapsed() > timeout {
            eprintln!("{}: {c} of {n} after {timeout:?}", kind.name());
            return Ok((f64::NAN, hwm_mib(d.pid()), last_poll));
        }
        std::thread::sleep(interval);
    }
}

/// Without asking the daemon while it works: the time is when its CPU time last grew before
/// 1.5 s of idleness (sampled every 10 ms); VmHWM is read then, before one RIB count that
/// must show all N (otherwise it keeps waiting). Also returned: the daemon's CPU nanoseconds
/// when its ticks last grew (before the count query, which costs BIRD a walk of its table).
fn measure_idle(
    d: &Daemon<'_>,
    kind: Kind,
    n: u32,
    t0: u128,
    timeout: Duration,
) -> Res<(f64, f64, f64, Option<u64>)> {
    let pid = d.pid();
    let start = Instant::now();
    let (mut ticks, mut changed) = (cpu_ticks(pid), now_nanos());
    loop {
        std::thread::sleep(Duration::from_millis(10));
        let t = cpu_ticks(pid);
        // Read before the count query below.
        let busy = cpu_nanos(pid);
        let now = now_nanos();
        if t != ticks {
            (ticks, changed) = (t, now);
        } else if now.saturating_sub(changed) > 1_500_000_000 {
            let hwm = hwm_mib(pid);
            let q = Instant::now();
            let c = d.rib_count().unwrap_or(0);
            let last_poll = q.elapsed().as_secs_f64() * 1000.0;
            if c >= usize::try_from(n)? {
                let secs = changed.saturating_sub(t0) as f64 / 1e9;
                return Ok((secs, hwm, last_poll, Some(busy)));
            }
            // The query itself used CPU: start a new idle window.
            (ticks, changed) = (cpu_ticks(pid), now_nanos());
        }
        if start.elapsed() > timeout {
            eprintln!("{}: not all {n} routes after {timeout:?}", kind.name());
            return Ok((f64::NAN, hwm_mib(pid), f64::NAN, None));
        }
    }
}

fn run_rr(kind: Kind, o: &Opts) -> Res<Row> {
    let fabric = Fabric::new(&format!("rr{}", std::process::id()), 2)?;
    let (dut, cl) = (&fabric.node(1).ns, &fabric.node(2).ns);
    dut.ip(&["addr", "add", &format!("{RR_ADDR}/24"), "dev", "eth0"])?;
    for i in 1..=o.peers {
        cl.ip(&["addr", "add", &format!("10.99.1.{i}/24"), "dev", "eth0"])?;
    }
    let daemon = start(kind, dut, &o.bgpd, Some(o.peers))?;
    let gdir = TempDir::new("rbgen")?;
    let exe = o.exe.to_string_lossy();
    let gen = Proc::spawn_in(
        cl,
        "gen",
        &[
            &exe,
            "gen-rr",
            &o.peers.to_string(),
            &o.blocks.to_string(),
            "120",
        ],
        gdir.path(),
    )?;
    let long = Duration::from_secs(500);
    let secs: f64 = wait_line(&gen, "converged ", long)?.parse()?;
    let secs2: f64 = wait_line(&gen, "newblock ", long)?.parse()?;
    let hwm = hwm_mib(daemon.pid());
    drop(gen);
    drop(daemon);
    Ok(Row { secs, secs2, hwm })
}

/// Clients listing the whole table in a loop (`show route`, each reply read to its last line).
struct Dumpers {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    threads: Vec<std::thread::JoinHandle<(u64, u64)>>,
}

impl Dumpers {
    fn start(ctl: &Path, n: usize) -> Dumpers {
        use std::sync::atomic::{AtomicBool, Ordering};
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let threads = (0..n)
            .map(|_| {
                let (ctl, stop) = (ctl.to_owned(), stop.clone());
                std::thread::spawn(move || {
                    let (mut done, mut lines) = (0u64, 0u64);
                    while !stop.load(Ordering::Relaxed) {
                        match dump_once(&ctl) {
                            Ok(l) => {
                                done += 1;
                                lines += l;
                            }
                            Err(_) => std::thread::sleep(Duration::from_millis(50)),
                        }
                    }
                    (done, lines)
                })
            })
            .collect();
        Dumpers { stop, threads }
    }

    /// (whole listings read, lines read).
    fn stop(self) -> (u64, u64) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.threads
            .into_iter()
            .filter_map(|t| t.join().ok())
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    }
}

/// One `show route` on a fresh connection, read to the reply's last line; its line count.
fn dump_once(ctl: &Path) -> std::io::Result<u64> {
    use std::io::{BufRead, BufReader};
    let mut s = std::os::unix::net::UnixStream::connect(ctl)?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    s.write_all(b"show route\n")?;
    let mut r = BufReader::new(s);
    let mut line = String::new();
    let mut n = 0u64;
    // The greeting is one final line; the reply's final line comes after it.
    let mut finals = 0;
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        n += 1;
        let b = line.as_bytes();
        if b.len() >= 5 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b' ' {
            if b[0] == b'8' || b[0] == b'9' {
                return Err(std::io::Error::other(line.trim().to_owned()));
            }
            finals += 1;
            if finals == 2 {
                return Ok(n);
            }
        }
    }
}
