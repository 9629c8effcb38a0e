//! BIRD's command line, run the way calico-node runs it: the built `bgpd` through symlinks named
//! `bird` and `bird6`, `bgpctl` as the client.
//!
//! The daemon tests need root: a BIRD configuration turns kernel writes on (calico's kernel
//! protocol), so each daemon runs in a network namespace of its own, where its startup
//! reconciliation cannot touch the host's routes. Without root they are skipped with the reason
//! printed. BGP listens on loopback inside that namespace.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A scratch directory with `bird` and `bird6` symlinks to the built binary, removed on drop.
struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    fn new(label: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "bgpd-birdcli-{label}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        for name in ["bird", "bird6"] {
            std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_bgpd"), dir.join(name))
                .expect("symlink");
        }
        Scratch { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).expect("write");
        p
    }

    fn bird(&self, name: &str) -> Command {
        Command::new(self.path(name))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A network namespace of our own, removed on drop.
struct Netns {
    name: String,
}

impl Netns {
    /// `None` (reason printed) without root or `ip netns`.
    fn new(test: &str) -> Option<Netns> {
        let uid = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("Uid:"))
                    .and_then(|v| v.split_whitespace().nth(1).map(str::to_owned))
            });
        if uid.as_deref() != Some("0") {
            eprintln!(
                "skipping {test}: needs root (a BIRD configuration writes kernel routes; the \
                 daemon runs in its own network namespace)"
            );
            return None;
        }
        let name = format!(
            "bcli{}-{}",
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
        let up = Command::new("ip")
            .args(["-n", &ns.name, "link", "set", "lo", "up"])
            .status()
            .is_ok_and(|s| s.success());
        assert!(up, "lo up in {}", ns.name);
        Some(ns)
    }

    /// `program args...` inside the namespace (`ip netns exec` execs it: the child's PID is the
    /// daemon's).
    fn command(&self, program: &Path) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name]).arg(program);
        c
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// A daemon we started, stopped (by its PID) on drop.
struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill {sig}");
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, then its exit status.
    fn stop(mut self) -> std::process::ExitStatus {
        self.signal("-TERM");
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "no exit after SIGTERM: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn bgpctl(socket: &Path, command: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bgpctl"))
        .arg("-s")
        .arg(socket)
        .args(command)
        .output()
        .expect("bgpctl runs")
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Retries `bgpctl -s socket command` until `ok` holds for its stdout (10 s at most).
fn wait_for(daemon: &Daemon, socket: &Path, command: &[&str], ok: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    loop {
        let out = bgpctl(socket, command);
        let t = text(&out);
        if out.status.success() && ok(&t) {
            return t;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{command:?} on {}: {t}\nstderr: {}\nlog: {}",
            socket.display(),
            String::from_utf8_lossy(&out.stderr),
            daemon.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The minimal BIRD file of a calico node: router id, listen, a device protocol, a BGP template
/// and the given peers (import all, export none).
fn bird_cfg(listen: &str, peers: &[(&str, &str)]) -> String {
    let mut s = format!(
        "router id 10.99.0.1;\nlisten bgp address {listen} port 17901;\n\n\
         protocol device {{\n  scan time 2;\n}}\n\n\
         template bgp bgp_template {{\n  description \"Connection to BGP peer\";\n  \
         local as 64512;\n  graceful restart;\n}}\n"
    );
    for (name, addr) in peers {
        s.push_str(&format!(
            "\nprotocol bgp {name} from bgp_template {{\n  neighbor {addr} as 64512;\n  \
             import all;\n  export none;\n}}\n"
        ));
    }
    s
}

fn spawn(ns: &Netns, scratch: &Scratch, program: &str, args: &[&OsArg]) -> Daemon {
    let log = scratch.path(&format!("{program}.log"));
    let child = ns
        .command(&scratch.path(program))
        .args(args.iter().map(|a| a.0.as_os_str()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("daemon starts");
    Daemon { child, log }
}

/// An argument, from a `&str` or a path.
struct OsArg(std::ffi::OsString);

fn a(s: impl AsRef<std::ffi::OsStr>) -> OsArg {
    OsArg(s.as_ref().to_owned())
}

#[test]
fn unknown_flag_prints_birds_usage_and_exits_1() {
    let s = Scratch::new("usage");
    let out = s.bird("bird").arg("-x").output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid option -- 'x'"), "{err}");
    assert!(
        err.ends_with("Usage: bird [--version] [--help] [-c <config-file>] [OPTIONS]\n"),
        "{err}"
    );
    let out = s.bird("bird6").arg("stray").output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Usage: bird6 [--version] [--help] [-c <config-file>] [OPTIONS]\n"
    );
    let out = s.bird("bird").arg("--help").output().expect("runs");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("-p "));
}

#[test]
fn p_accepts_a_good_file() {
    let s = Scratch::new("pgood");
    let cfg = s.write(
        "bird.cfg",
        &bird_cfg("127.0.0.1", &[("Mesh_127_0_0_2", "127.0.0.2")]),
    );
    let out = s
        .bird("bird")
        .arg("-p")
        .arg("-c")
        .arg(&cfg)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // bgpd's own binary name with a BIRD-only flag takes the same path.
    let out = Command::new(env!("CARGO_BIN_EXE_bgpd"))
        .arg("-p")
        .arg("-c")
        .arg(&cfg)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn p_reports_a_broken_file_as_bird_does() {
    let s = Scratch::new("pbad");
    let cfg = s.write(
        "bird.cfg",
        "router id 10.99.0.1;\nprotocol device {\n  scan time 2;\n}\nprotocol bgp x {\n  \
         neighbor 127.0.0.2 as 64512\n  bogus;\n}\n",
    );
    let out = s
        .bird("bird")
        .arg("-p")
        .arg("-c")
        .arg(&cfg)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let want = format!("bird: {}:7:3 ", cfg.display());
    assert!(
        err.lines().next().is_some_and(|l| l.starts_with(&want)),
        "{want} in {err}"
    );
    // A missing file is an error too.
    let out = s
        .bird("bird")
        .args(["-p", "-c"])
        .arg(s.path("none.cfg"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("bird: "));
}

#[test]
fn bird_runs_as_calico_node_starts_it_and_reloads_on_sighup() {
    let Some(ns) = Netns::new("bird_runs_as_calico_node_starts_it_and_reloads_on_sighup") else {
        return;
    };
    let s = Scratch::new("run");
    let cfg = s.write(
        "bird.cfg",
        &bird_cfg("127.0.0.1", &[("Mesh_127_0_0_2", "127.0.0.2")]),
    );
    let ctl = s.path("bird.ctl");
    let pid = s.path("bird.pid");
    let d = spawn(
        &ns,
        &s,
        "bird",
        &[
            &a("-R"),
            &a("-s"),
            &a(&ctl),
            &a("-d"),
            &a("-P"),
            &a(&pid),
            &a("-c"),
            &a(&cfg),
        ],
    );
    let status = wait_for(&d, &ctl, &["show", "status"], |t| t.contains("Router ID"));
    assert!(status.contains("Router ID is 10.99.0.1"), "{status}");
    assert_eq!(
        std::fs::read_to_string(&pid).expect("pid file"),
        format!("{}\n", d.child.id())
    );
    let protocols = wait_for(&d, &ctl, &["show", "protocols"], |t| t.contains("Mesh_"));
    assert!(protocols.contains("Mesh_127_0_0_2"), "{protocols}");
    // confd renders a new file and runs `sv hup bird`.
    s.write(
        "bird.cfg",
        &bird_cfg(
            "127.0.0.1",
            &[
                ("Mesh_127_0_0_2", "127.0.0.2"),
                ("Mesh_127_0_0_3", "127.0.0.3"),
            ],
        ),
    );
    d.signal("-HUP");
    let protocols = wait_for(&d, &ctl, &["show", "protocols"], |t| {
        t.contains("Mesh_127_0_0_3")
    });
    assert!(protocols.contains("Mesh_127_0_0_2"), "{protocols}");
    // A broken file: `configure` answers 8002 (bgpctl exits 2), the running set stays, and
    // the socket given with -s is still the one served.
    s.write("bird.cfg", "router id 10.99.0.1;\nprotocol bgp {\n");
    let out = bgpctl(&ctl, &["configure"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("bird.cfg, line "), "{}", text(&out));
    d.signal("-HUP");
    std::thread::sleep(Duration::from_millis(300));
    let protocols = wait_for(&d, &ctl, &["show", "protocols"], |t| t.contains("Mesh_"));
    assert!(
        protocols.contains("Mesh_127_0_0_2") && protocols.contains("Mesh_127_0_0_3"),
        "{protocols}"
    );
    // Fixed again: `configure` re-reads the BIRD file (not as TOML).
    s.write(
        "bird.cfg",
        &bird_cfg("127.0.0.1", &[("Mesh_127_0_0_3", "127.0.0.3")]),
    );
    let out = bgpctl(&ctl, &["configure"]);
    assert!(out.status.success(), "{}", text(&out));
    let protocols = wait_for(&d, &ctl, &["show", "protocols"], |t| {
        !t.contains("Mesh_127_0_0_2")
    });
    assert!(protocols.contains("Mesh_127_0_0_3"), "{protocols}");
    let log = d.log.clone();
    let status = d.stop();
    assert!(
        status.success(),
        "{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    assert!(!pid.exists(), "the pid file is removed on exit");
    assert!(!ctl.exists(), "the socket is removed on exit");
}

#[test]
fn bird6_serves_the_ipv6_view_on_its_one_socket() {
    let Some(ns) = Netns::new("bird6_serves_the_ipv6_view_on_its_one_socket") else {
        return;
    };
    let s = Scratch::new("run6");
    let cfg = s.write(
        "bird6.cfg",
        &bird_cfg("::1", &[("Mesh_fd99__2", "fd99::2")]),
    );
    let ctl = s.path("bird6.ctl");
    let d = spawn(
        &ns,
        &s,
        "bird6",
        &[&a("-R"), &a("-s"), &a(&ctl), &a("-d"), &a("-c"), &a(&cfg)],
    );
    // The IPv4 view would hide this IPv6 peer.
    let protocols = wait_for(&d, &ctl, &["show", "protocols"], |t| t.contains("Mesh_"));
    assert!(protocols.contains("Mesh_fd99__2"), "{protocols}");
    // calico-node's liveness probe: `birdcl -s bird6.ctl show status` prints BIRD first.
    let birdcl = s.path("birdcl");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_bgpctl"), &birdcl).expect("symlink");
    let out = Command::new(&birdcl)
        .arg("-s")
        .arg(&ctl)
        .args(["show", "status"])
        .output()
        .expect("birdcl runs");
    assert!(out.status.success());
    assert!(text(&out).starts_with("BIRD"), "{}", text(&out));
    assert!(d.stop().success());
}

/// A detached daemon (by the PID its `-P` file names), stopped on drop.
struct Detached(u32);

impl Drop for Detached {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", &self.0.to_string()])
            .status();
    }
}

#[test]
fn without_d_it_detaches_writes_the_pid_file_and_logs_to_the_d_file() {
    let Some(ns) = Netns::new("without_d_it_detaches_writes_the_pid_file_and_logs_to_the_d_file")
    else {
        return;
    };
    let s = Scratch::new("detach");
    let cfg = s.write(
        "bird.cfg",
        &bird_cfg("127.0.0.1", &[("Mesh_127_0_0_2", "127.0.0.2")]),
    );
    let (ctl, pid, log) = (s.path("bird.ctl"), s.path("bird.pid"), s.path("debug.log"));
    // The parent returns at once with status 0, as BIRD's does.
    let out = ns
        .command(&s.path("bird"))
        .arg("-s")
        .arg(&ctl)
        .arg("-P")
        .arg(&pid)
        .arg("-c")
        .arg(&cfg)
        .output()
        .expect("runs");
    assert!(out.status.success(), "{out:?}");
    let start = Instant::now();
    let child: u32 = loop {
        if let Some(p) = std::fs::read_to_string(&pid)
            .ok()
            .and_then(|t| t.trim().parse().ok())
        {
            break p;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "no pid file");
        std::thread::sleep(Duration::from_millis(50));
    };
    let guard = Detached(child);
    let start = Instant::now();
    loop {
        let out = bgpctl(&ctl, &["show", "status"]);
        if out.status.success() && text(&out).contains("Router ID is 10.99.0.1") {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "{}", text(&out));
        std::thread::sleep(Duration::from_millis(100));
    }
    let ok = Command::new("kill")
        .args(["-TERM", &child.to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok);
    let start = Instant::now();
    while pid.exists() {
        assert!(start.elapsed() < Duration::from_secs(15), "still running");
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(guard);
    // -D does not get in the way of -p.
    let out = ns
        .command(&s.path("bird"))
        .arg("-s")
        .arg(&ctl)
        .arg("-D")
        .arg(&log)
        .arg("-p")
        .arg("-c")
        .arg(&cfg)
        .output()
        .expect("runs");
    assert!(out.status.success(), "{out:?}");
    // With -D the log also goes to the file, and the daemon stays in the foreground.
    let d = spawn(
        &ns,
        &s,
        "bird",
        &[&a("-s"), &a(&ctl), &a("-D"), &a(&log), &a("-c"), &a(&cfg)],
    );
    wait_for(&d, &ctl, &["show", "status"], |t| t.contains("Router ID"));
    assert!(d.stop().success());
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(logged.contains("bgpd started"), "{logged}");
}

/// confd's gate, on every file Calico's templates render: `bird -p -c bird.cfg` and
/// `bird6 -p -c bird6.cfg` exit 0, silently, for each scenario of both template generations
/// (conf/tests/fixtures/calico: v3.32+ and v3.31.7), the includes resolved beside the file.
#[test]
fn p_accepts_every_calico_fixture_in_both_families() {
    let s = Scratch::new("fixtures");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../conf/tests/fixtures/calico");
    let mut dirs = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).expect("fixture dir");
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == "bird.cfg") {
                dirs.push(d.clone());
            }
        }
    }
    dirs.sort();
    assert!(dirs.len() >= 150, "fixtures found: {}", dirs.len());
    let mut failed = Vec::new();
    for d in &dirs {
        for (program, file) in [("bird", "bird.cfg"), ("bird6", "bird6.cfg")] {
            let o = Command::new(s.path(program))
                .args(["-p", "-c"])
                .arg(d.join(file))
                .output()
                .expect("run");
            if !o.status.success() || !o.stdout.is_empty() || !o.stderr.is_empty() {
                failed.push(format!(
                    "{program} -p -c {}: {:?}\n{}",
                    d.join(file).display(),
                    o.status,
                    text(&o)
                ));
            }
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
