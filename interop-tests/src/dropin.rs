//! Drop-in harness: a Calico node's rendered BIRD configuration run by BIRD 1.6.8 or by our
//! daemon, each started exactly as calico-node's runit starts `bird`/`bird6`
//! (`exec bird -R -s SOCKET -d -c CONFIG`, the program found on `PATH`, so `argv[0]` is the bare
//! name). The only difference between the two is where the `bird` (or `bird6`) symlink in the
//! node's private `bin/` directory points: at BIRD 1.6.8 (`/tmp/bird16/usr/sbin`, Debian's build
//! extracted, see [`bird16_available`]) or at our `bgpd` binary ([`crate::bgpd::binary`]).
//!
//! Also here: what the drop-in tests observe on a node, in a form two runs can compare: the
//! kernel routes of protocol `bird` ([`kernel_routes`]), the `show protocols` rows without the
//! `since` column ([`ProtocolRow`]), and the established BGP TCP connections ([`bgp_connections`],
//! a session flapped when its port pair changed).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{HarnessError, Result};
use crate::netns::{Fabric, Netns};
use crate::process::Proc;
use crate::tempdir::TempDir;
use crate::wait::wait_until;

/// Where Debian's BIRD 1.6.8 is extracted (`apt-get download bird && dpkg-deb -x bird_*.deb
/// /tmp/bird16`; `scripts/test.sh` does it in CI).
pub const BIRD16_DIR: &str = "/tmp/bird16/usr/sbin";

/// True when BIRD 1.6.8's `bird` and `bird6` are present; otherwise prints why the test skips.
pub fn bird16_available(test: &str) -> bool {
    let ok = ["bird", "bird6"]
        .iter()
        .all(|p| Path::new(BIRD16_DIR).join(p).exists());
    if !ok {
        eprintln!(
            "skipping {test}: BIRD 1.6.8 missing in {BIRD16_DIR} \
             (apt-get download bird && dpkg-deb -x bird_*.deb /tmp/bird16)"
        );
    }
    ok
}

/// Which program the node's `bird`/`bird6` symlink points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Daemon {
    /// Debian's BIRD 1.6.8.
    Bird16,
    /// Our `bgpd`.
    Bgpd,
}

impl Daemon {
    /// A short name for messages.
    pub fn label(self) -> &'static str {
        match self {
            Daemon::Bird16 => "BIRD 1.6.8",
            Daemon::Bgpd => "bgpd",
        }
    }
}

/// The address family of one daemon process (calico-node runs `bird` and `bird6`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `bird`, `bird.cfg`, `bird.ctl`.
    V4,
    /// `bird6`, `bird6.cfg`, `bird6.ctl`.
    V6,
}

impl Family {
    /// The program name (`bird` / `bird6`).
    pub fn program(self) -> &'static str {
        match self {
            Family::V4 => "bird",
            Family::V6 => "bird6",
        }
    }

    /// The main configuration file's name.
    pub fn config(self) -> &'static str {
        match self {
            Family::V4 => "bird.cfg",
            Family::V6 => "bird6.cfg",
        }
    }

    /// The control socket's name.
    pub fn socket(self) -> &'static str {
        match self {
            Family::V4 => "bird.ctl",
            Family::V6 => "bird6.ctl",
        }
    }
}

/// The folder of a drop-in scenario's data: `interop-tests/tests/dropin/<name>`.
pub fn scenario_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/dropin")
        .join(name)
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> HarnessError + '_ {
    move |source| HarnessError::Io {
        path: path.to_owned(),
        source,
    }
}

/// One `bird`/`bird6` process of a Calico node. The temp dir holds `config/` (the rendered files,
/// as in `/etc/calico/confd/config`), `bin/` (the symlink), the control socket and the logs.
#[derive(Debug)]
pub struct CalicoBird {
    // Dropped before the directory (fields drop in declaration order).
    proc: Proc,
    daemon: Daemon,
    family: Family,
    config_dir: PathBuf,
    bin_dir: PathBuf,
    socket: PathBuf,
    dir: TempDir,
}

impl CalicoBird {
    /// Copies the regular files of `config_from` into a fresh config dir, points `bin/<program>`
    /// at `daemon`, and runs `bird -R -s SOCKET -d -c CONFIG` (resp. `bird6`) in `ns` with that
    /// `bin/` first on `PATH`. Returns once the control socket answers (10 s).
    pub fn start(ns: &Netns, daemon: Daemon, family: Family, config_from: &Path) -> Result<Self> {
        Self::start_as(ns, daemon, family, config_from, true)
    }

    /// [`CalicoBird::start`] without `-R`: a node that has been up for long, its own
    /// graceful-restart recovery over (a test of another node's recovery must not wait for
    /// this one's).
    pub fn start_settled(
        ns: &Netns,
        daemon: Daemon,
        family: Family,
        config_from: &Path,
    ) -> Result<Self> {
        Self::start_as(ns, daemon, family, config_from, false)
    }

    fn start_as(
        ns: &Netns,
        daemon: Daemon,
        family: Family,
        config_from: &Path,
        recovery: bool,
    ) -> Result<Self> {
        let dir = TempDir::new(&format!("dropin-{}", family.program()))?;
        let config_dir = dir.path().join("config");
        let bin_dir = dir.path().join("bin");
        for d in [&config_dir, &bin_dir] {
            std::fs::create_dir_all(d).map_err(io_err(d))?;
        }
        for entry in std::fs::read_dir(config_from).map_err(io_err(config_from))? {
            let entry = entry.map_err(io_err(config_from))?;
            let path = entry.path();
            if path.is_file() {
                let to = config_dir.join(entry.file_name());
                std::fs::copy(&path, &to).map_err(io_err(&to))?;
            }
        }
        let target = match daemon {
            Daemon::Bird16 => Path::new(BIRD16_DIR).join(family.program()),
            Daemon::Bgpd => crate::bgpd::binary()?,
        };
        let link = bin_dir.join(family.program());
        std::os::unix::fs::symlink(&target, &link).map_err(io_err(&link))?;
        let socket = dir.path().join(family.socket());
        let config = config_dir.join(family.config());
        let path_env = format!(
            "PATH={}:{}",
            bin_dir.display(),
            std::env::var("PATH").unwrap_or_else(|_| "/usr/sbin:/usr/bin:/sbin:/bin".into())
        );
        let (sock_s, conf_s) = (
            socket.to_string_lossy().into_owned(),
            config.to_string_lossy().into_owned(),
        );
        // `env` execs the program found on PATH: the PID we hold is the daemon's, and its
        // argv[0] is the bare `bird`, as when runit's `run` script says `exec bird ...`.
        let mut argv = vec!["env", &path_env, family.program()];
        if recovery {
            argv.push("-R");
        }
        argv.extend(["-s", &sock_s, "-d", "-c", &conf_s]);
        let proc = Proc::spawn_in(ns, family.program(), &argv, dir.path())?;
        let mut node = Self {
            proc,
            daemon,
            family,
            config_dir,
            bin_dir,
            socket,
            dir,
        };
        let what = format!("{} {} control socket", daemon.label(), family.program());
        wait_until(&what, Duration::from_secs(10), || {
            node.proc.check_alive()?;
            Ok(node.query("show status").is_ok())
        })?;
        Ok(node)
    }

    /// Which program runs.
    pub fn daemon(&self) -> Daemon {
        self.daemon
    }

    /// Which family (program) this process is.
    pub fn family(&self) -> Family {
        self.family
    }

    /// The daemon's PID (the target of SIGHUP).
    pub fn pid(&self) -> u32 {
        self.proc.pid()
    }

    /// The process guard (liveness, logs).
    pub fn proc(&mut self) -> &mut Proc {
        &mut self.proc
    }

    /// The directory with the rendered configuration.
    pub fn config_dir(&self) -> &Path {
        &self.config_dir
    }

    /// The temp dir (socket, logs, `bin/`, `config/`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The last `lines` lines of the daemon's output.
    pub fn log_tail(&self, lines: usize) -> String {
        self.proc.log_tail(lines)
    }

    /// One command on the control socket; the raw reply after the greeting, every line as sent
    /// (codes, continuation spaces), up to and including the final `NNNN ` line.
    pub fn query(&self, cmd: &str) -> Result<String> {
        query_socket(&self.socket, cmd)
    }

    /// `show protocols`, parsed.
    pub fn protocols(&self) -> Result<Vec<ProtocolRow>> {
        Ok(ProtocolRow::parse(&self.query("show protocols")?))
    }

    /// The `BGP.*` attribute lines of `show route all PREFIX` (e.g. `BGP.originator_id: 10.99.0.3`),
    /// trimmed, in BIRD's order: what a route carries, without the times of the route line.
    pub fn bgp_attributes(&self, prefix: &str) -> Result<Vec<String>> {
        let reply = self.query(&format!("show route all {prefix}"))?;
        Ok(reply
            .lines()
            .map(|l| {
                let b = l.as_bytes();
                let coded = b.len() >= 5 && b[..4].iter().all(u8::is_ascii_digit);
                if coded { &l[5..] } else { l }.trim().to_owned()
            })
            .filter(|l| l.starts_with("BGP."))
            .collect())
    }

    /// Lines of `show protocols all NAME` whose label (text before the first colon) is in
    /// `labels`, as `Label: value` with the value's words joined by one space; a timer's
    /// remaining time is dropped (`Keepalive timer: 7/10` becomes `Keepalive timer: /10`).
    pub fn protocol_details(&self, name: &str, labels: &[&str]) -> Result<Vec<String>> {
        let reply = self.query(&format!("show protocols all {name}"))?;
        let mut out = Vec::new();
        for line in reply.lines() {
            let b = line.as_bytes();
            let coded = b.len() >= 5 && b[..4].iter().all(u8::is_ascii_digit);
            let body = if coded { &line[5..] } else { line };
            let Some((label, value)) = body.split_once(':') else {
                continue;
            };
            let label = label.trim();
            if !labels.contains(&label) {
                continue;
            }
            let mut value = value.split_whitespace().collect::<Vec<_>>().join(" ");
            if label.ends_with("timer") {
                if let Some((_, max)) = value.split_once('/') {
                    value = format!("/{max}");
                }
            }
            out.push(format!("{label}: {value}"));
        }
        Ok(out)
    }

    /// Runs `bird -p -c FILE` (resp. `bird6`) with the same `PATH` as the daemon, in `ns`, as
    /// confd's `check_cmd` does; returns its output, or the error when it exits non-zero.
    pub fn check_config(&self, ns: &Netns, file: &Path) -> Result<String> {
        let path_env = format!(
            "PATH={}:{}",
            self.bin_dir.display(),
            std::env::var("PATH").unwrap_or_else(|_| "/usr/sbin:/usr/bin:/sbin:/bin".into())
        );
        let f = file.to_string_lossy();
        ns.exec(&["env", &path_env, self.family.program(), "-p", "-c", &f])
    }

    /// What confd does when the main configuration changes: writes `text` to a staged
    /// `.bird.cfgNNNN` beside the real file, checks it with `bird -p -c` (an error if that exits
    /// non-zero; the staged file is removed then), renames it over the real file and sends
    /// SIGHUP to the daemon (runit's `sv hup bird`).
    pub fn reconfigure(&self, ns: &Netns, text: &str) -> Result<()> {
        let staged =
            self.config_dir
                .join(format!(".{}{}", self.family.config(), std::process::id()));
        std::fs::write(&staged, text).map_err(io_err(&staged))?;
        if let Err(e) = self.check_config(ns, &staged) {
            let _ = std::fs::remove_file(&staged);
            return Err(e);
        }
        let real = self.config_dir.join(self.family.config());
        std::fs::rename(&staged, &real).map_err(io_err(&real))?;
        crate::command::run("kill", &["-HUP", &self.pid().to_string()])?;
        Ok(())
    }

    /// What confd does when an included file changes (`bird_ipam.cfg` when a pool's
    /// encapsulation changes, `bird_aggr.cfg`): writes `text` to a staged `.NAMENNNN` beside the
    /// file `name` in the config dir and renames it in place (those templates have no
    /// `check_cmd`), then `bird -p -c` on the main file, which now includes the new text, must
    /// exit 0 (the harness's own check: the daemon would read exactly that on SIGHUP), then
    /// SIGHUP.
    pub fn reconfigure_included(&self, ns: &Netns, name: &str, text: &str) -> Result<()> {
        let staged = self
            .config_dir
            .join(format!(".{name}{}", std::process::id()));
        std::fs::write(&staged, text).map_err(io_err(&staged))?;
        let real = self.config_dir.join(name);
        std::fs::rename(&staged, &real).map_err(io_err(&real))?;
        self.check_config(ns, &self.config_dir.join(self.family.config()))?;
        crate::command::run("kill", &["-HUP", &self.pid().to_string()])?;
        Ok(())
    }
}

/// [`CalicoBird::query`] on a socket path.
pub fn query_socket(socket: &Path, cmd: &str) -> Result<String> {
    let s = UnixStream::connect(socket).map_err(io_err(socket))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(io_err(socket))?;
    let mut w = s.try_clone().map_err(io_err(socket))?;
    let mut r = BufReader::new(s);
    let is_final = |l: &str| {
        let b = l.as_bytes();
        b.len() >= 5 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b' '
    };
    let mut greeting = String::new();
    r.read_line(&mut greeting).map_err(io_err(socket))?;
    if !greeting.starts_with("0001 ") {
        return Err(HarnessError::Command {
            cmd: format!("{cmd} on {}", socket.display()),
            status: "no greeting".into(),
            stderr: greeting,
        });
    }
    w.write_all(format!("{cmd}\n").as_bytes())
        .map_err(io_err(socket))?;
    let mut out = String::new();
    loop {
        let mut l = String::new();
        if r.read_line(&mut l).map_err(io_err(socket))? == 0 {
            return Err(HarnessError::Command {
                cmd: format!("{cmd} on {}", socket.display()),
                status: "connection closed before the final line".into(),
                stderr: out,
            });
        }
        let done = is_final(&l);
        out += &l;
        if done {
            return Ok(out);
        }
    }
}

/// One row of `show protocols` without the `since` column (it differs between any two runs).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ProtocolRow {
    /// `kernel1`, `Mesh_10_99_0_1`, ...
    pub name: String,
    /// `Kernel`, `BGP`, ...
    pub proto: String,
    /// `master`.
    pub table: String,
    /// `up`, `start`, `wait`, `down`, ...
    pub state: String,
    /// The info column, words joined by one space (`Established`, `Passive`, `Active Socket:
    /// Connection refused`, empty for most non-BGP rows).
    pub info: String,
}

impl ProtocolRow {
    /// The rows of a raw `show protocols` reply (`1002-` first row, ` ` continuation rows).
    pub fn parse(reply: &str) -> Vec<ProtocolRow> {
        let mut rows = Vec::new();
        let mut in_rows = false;
        for line in reply.lines() {
            let body = if let Some(b) = line.strip_prefix("1002-") {
                in_rows = true;
                b
            } else if let (true, Some(b)) = (in_rows, line.strip_prefix(' ')) {
                b
            } else {
                in_rows = false;
                continue;
            };
            let cols: Vec<&str> = body.split_whitespace().collect();
            if cols.len() < 4 {
                continue;
            }
            rows.push(ProtocolRow {
                name: cols[0].to_owned(),
                proto: cols[1].to_owned(),
                table: cols[2].to_owned(),
                state: cols[3].to_owned(),
                info: cols.get(5..).unwrap_or(&[]).join(" "),
            });
        }
        rows
    }

    /// `name proto table state info`, one space between columns (the expected files' form).
    pub fn line(&self) -> String {
        format!(
            "{} {} {} {} {}",
            self.name, self.proto, self.table, self.state, self.info
        )
        .trim_end()
        .to_owned()
    }
}

/// `ip [-6] route show proto bird` in `ns`: the lines, trimmed, sorted.
pub fn kernel_routes(ns: &Netns, family: Family) -> Result<Vec<String>> {
    let fam = match family {
        Family::V4 => "-4",
        Family::V6 => "-6",
    };
    let text = ns.ip(&[fam, "route", "show", "proto", "bird"])?;
    let mut v: Vec<String> = text
        .lines()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    v.sort();
    Ok(v)
}

/// The established TCP connections of BGP (port 179 at either end) in `ns`, keyed by the remote
/// address: `(local addr:port, remote addr:port)`. Same pair before and after = no flap.
pub fn bgp_connections(ns: &Netns) -> Result<BTreeMap<String, (String, String)>> {
    Ok(parse_ss(&ns.exec(&[
        "ss",
        "-tnH",
        "state",
        "established",
    ])?))
}

/// [`bgp_connections`] on the text of `ss -tnH state established` (columns: Recv-Q, Send-Q,
/// local, remote; IPv6 addresses in brackets).
pub fn parse_ss(text: &str) -> BTreeMap<String, (String, String)> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let cols: Vec<&str> = line.split_whitespace().collect();
        if cols.len() < 4 {
            continue;
        }
        let (local, remote) = (cols[2], cols[3]);
        let port = |s: &str| s.rsplit_once(':').map(|(_, p)| p.to_owned());
        if port(local).as_deref() != Some("179") && port(remote).as_deref() != Some("179") {
            continue;
        }
        let addr = remote
            .rsplit_once(':')
            .map(|(a, _)| a.trim_matches(|c| c == '[' || c == ']').to_owned())
            .unwrap_or_default();
        out.insert(addr, (local.to_owned(), remote.to_owned()));
    }
    out
}

/// The non-empty, trimmed lines of an expected-result file of a scenario (lines starting with
/// `#` are comments).
pub fn expected_lines(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(io_err(path))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect())
}

/// A line-by-line difference of two lists for failure messages: `-` only in `a`, `+` only in
/// `b`; empty when equal.
pub fn line_diff(a: &[String], b: &[String]) -> String {
    let mut s = String::new();
    for l in a.iter().filter(|l| !b.contains(l)) {
        s += &format!("  - {l}\n");
    }
    for l in b.iter().filter(|l| !a.contains(l)) {
        s += &format!("  + {l}\n");
    }
    if s.is_empty() && a != b {
        s = format!("  same lines, other order:\n  - {a:?}\n  + {b:?}\n");
    }
    s
}

/// Three nodes on one segment, two subnets: nodes 1 and 2 in 10.99.0.0/24, node 3 readdressed
/// to 10.99.1.3/24; the fabric's bridge namespace routes between 10.99.0.254 and 10.99.1.254
/// (redirects off), and nodes 1 and 2 reach node 3's subnet through it with a static route (a
/// kernel route BIRD's `learn` picks up).
pub fn two_subnet_fabric(prefix: &str) -> Fabric {
    let fab = Fabric::new(prefix, 3).expect("fabric");
    let br = fab.bridge();
    for a in ["10.99.0.254/24", "10.99.1.254/24"] {
        br.ip(&["addr", "add", a, "dev", "br0"])
            .expect("router address");
    }
    for s in [
        "net.ipv4.ip_forward=1",
        "net.ipv4.conf.all.send_redirects=0",
        "net.ipv4.conf.br0.send_redirects=0",
    ] {
        br.exec(&["sysctl", "-qw", s]).expect("router sysctl");
    }
    let n3 = &fab.node(3).ns;
    n3.ip(&["addr", "del", "10.99.0.3/24", "dev", "eth0"])
        .expect("n3 readdress");
    n3.ip(&["addr", "add", "10.99.1.3/24", "dev", "eth0"])
        .expect("n3 address");
    n3.ip(&["route", "add", "10.99.0.0/24", "via", "10.99.1.254"])
        .expect("n3 route");
    for i in [1, 2] {
        fab.node(i)
            .ns
            .ip(&["route", "add", "10.99.1.0/24", "via", "10.99.0.254"])
            .expect("route to node 3's subnet");
    }
    fab
}

/// One line per peer of `peers`: whether its BGP TCP connection (from [`bgp_connections`]) is
/// the same one after a reload (a flap is judged by the connection, not by `since`). The port
/// pairs themselves differ between runs, so only these verdicts are compared.
pub fn same_connections(
    before: &BTreeMap<String, (String, String)>,
    after: &BTreeMap<String, (String, String)>,
    peers: &[&str],
) -> Vec<String> {
    peers
        .iter()
        .map(|p| match (before.get(*p), after.get(*p)) {
            (Some(b), Some(a)) if a == b => format!("{p} same connection"),
            (Some(b), Some(a)) => format!("{p} FLAPPED: {b:?} then {a:?}"),
            (None, _) => format!("{p} had no connection before the reload"),
            (Some(b), None) => format!("{p} FLAPPED: {b:?} then no connection"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_show_protocols_rows_without_since() {
        let reply = "2002-name     proto    table    state  since       info\n\
1002-kernel1  Kernel   master   up     05:29:13    \n \
device1  Device   master   up     05:29:13    \n \
Mesh_10_99_0_1 BGP      master   up     05:29:15    Established   \n \
Mesh_10_99_0_4 BGP      master   start  05:29:13    Active        Socket: No route to host\n\
0000 \n";
        let rows = ProtocolRow::parse(reply);
        let lines: Vec<String> = rows.iter().map(ProtocolRow::line).collect();
        assert_eq!(
            lines,
            [
                "kernel1 Kernel master up",
                "device1 Device master up",
                "Mesh_10_99_0_1 BGP master up Established",
                "Mesh_10_99_0_4 BGP master start Active Socket: No route to host",
            ]
        );
    }

    #[test]
    fn keys_bgp_connections_by_remote_address() {
        let text = "0      0           10.99.0.2:179       10.99.1.3:59301\n\
0      0           10.99.0.2:41000     10.99.0.9:22\n\
0      0       [fd99::2]:53189     [fd99::1]:179\n";
        let m = parse_ss(text);
        assert_eq!(m.len(), 2, "{m:?}");
        assert_eq!(
            m["10.99.1.3"],
            ("10.99.0.2:179".to_owned(), "10.99.1.3:59301".to_owned())
        );
        assert_eq!(
            m["fd99::1"],
            ("[fd99::2]:53189".to_owned(), "[fd99::1]:179".to_owned())
        );
    }

    #[test]
    fn line_diff_names_both_sides() {
        let a = vec!["x".to_owned(), "y".to_owned()];
        let b = vec!["y".to_owned(), "z".to_owned()];
        assert_eq!(line_diff(&a, &b), "  - x\n  + z\n");
        assert_eq!(line_diff(&a, &a), "");
    }
}
