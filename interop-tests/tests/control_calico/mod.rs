//! Calico's consumers of the BIRD control socket, re-implemented from their rules (see
//! `/work/shared/CALICO.md` §1–§5) so tests can run them against our socket:
//! - `scan_bird_peers` (health `bird.go`, calicoctl `status.go`, status `peers.go`): §3;
//! - the readiness verdict of `checkBIRDReady` with `GRInProgress`: §1.1;
//! - calicoctl's peer table: §2;
//! - the CalicoNodeStatus reporter's three exchanges (`show status`, `show protocols` then
//!   `show protocols all <name>` on the same connection, `show route`): §5.
//!
//! Also the helpers to find and run `bgpctl` and to start our daemon outside a namespace.

#![allow(dead_code)] // each test file uses a subset

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What follows `BIRD ` in our greeting and `show status` (the workspace shares one version,
/// so the tests' own is the daemon's).
pub const GREETING_VERSION: &str = concat!("v", env!("CARGO_PKG_VERSION"), "+bgpd");

/// What `bgpctl`/`birdcl` print for a one-line answer `text`: the greeting, then the text.
pub fn client_output(text: &str) -> String {
    format!("BIRD {GREETING_VERSION} ready.\n{text}\n")
}

/// Calico's `birdTimeOut`: a read deadline re-armed before every line.
pub const BIRD_TIMEOUT: Duration = Duration::from_secs(2);

/// One peer as Calico decodes a `show protocols` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BirdPeer {
    pub peer_ip: String,
    pub peer_type: String,
    pub state: String,
    pub since: String,
    pub bgp_state: String,
    pub info: String,
}

/// A connection as Calico's Go code uses it: `net.Dial("unix")`, no wait for the greeting.
pub struct Conn {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Conn {
    pub fn dial(socket: &Path) -> Result<Conn, String> {
        let s = UnixStream::connect(socket)
            .map_err(|e| format!("unable to connect to BIRDv4 socket: {e}"))?;
        s.set_read_timeout(Some(BIRD_TIMEOUT))
            .map_err(|e| e.to_string())?;
        let writer = s.try_clone().map_err(|e| e.to_string())?;
        Ok(Conn {
            reader: BufReader::new(s),
            writer,
        })
    }

    pub fn write(&mut self, cmd: &str) -> Result<(), String> {
        self.writer
            .write_all(cmd.as_bytes())
            .map_err(|e| e.to_string())
    }

    /// `bufio.Scanner.Scan()`: `Ok(None)` at EOF, `Err` on the read deadline.
    pub fn line(&mut self) -> Result<Option<String>, String> {
        let mut buf = Vec::new();
        match self.reader.read_until(b'\n', &mut buf) {
            Ok(0) => Ok(None),
            Ok(_) => {
                while matches!(buf.last(), Some(b'\n' | b'\r')) {
                    buf.pop();
                }
                Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
            }
            Err(e) => Err(format!("read timeout or error: {e}")),
        }
    }
}

/// `unmarshalBIRD` for one row: ≥6 columns, BGP, a Calico name; `None` otherwise.
pub fn unmarshal_row(row: &str, ipsep: char) -> Option<BirdPeer> {
    let cols: Vec<&str> = row.split_whitespace().collect();
    if cols.len() < 6 || cols[1] != "BGP" {
        return None;
    }
    let (kind, rest) = cols[0].split_once('_')?;
    let peer_type = match kind {
        "Global" => "global",
        "Mesh" => "node-to-node mesh",
        "Node" => "node specific",
        _ => return None,
    };
    if rest.is_empty() {
        return None;
    }
    Some(BirdPeer {
        peer_ip: rest.replace('_', &ipsep.to_string()),
        peer_type: peer_type.into(),
        state: cols[3].into(),
        since: cols[4].into(),
        bgp_state: cols[5].into(),
        info: cols[6..].join(" "),
    })
}

/// `scanBIRDPeers` on an open connection after `show protocols` was written.
pub fn scan_bird_peers(conn: &mut Conn, ipsep: char) -> Result<Vec<BirdPeer>, String> {
    let mut peers = Vec::new();
    while let Some(line) = conn.line()? {
        if line.starts_with("0000") {
            break;
        } else if line.starts_with("0001") {
            continue;
        } else if line.starts_with("2002") {
            let heading: Vec<&str> = line.get(5..).unwrap_or("").split_whitespace().collect();
            if heading != ["name", "proto", "table", "state", "since", "info"] {
                return Err("unknown BIRD table output format".into());
            }
        } else if line.starts_with("1002") {
            peers.extend(unmarshal_row(line.get(5..).unwrap_or(""), ipsep));
        } else if let Some(row) = line.strip_prefix(' ') {
            peers.extend(unmarshal_row(row, ipsep));
        } else {
            return Err(format!("unexpected output line from BIRD: '{line}'"));
        }
    }
    Ok(peers)
}

/// `GetPeers`: dial, write `show protocols` at once, scan.
pub fn get_peers(socket: &Path, ipsep: char) -> Result<Vec<BirdPeer>, String> {
    let mut c = Conn::dial(socket).map_err(|e| format!("error querying BIRD: {e}"))?;
    c.write("show protocols\n")?;
    scan_bird_peers(&mut c, ipsep).map_err(|e| format!("error executing command: {e}"))
}

/// `GRInProgress`: `show status`, true on `0024`.
pub fn gr_in_progress(socket: &Path) -> Result<bool, String> {
    let mut c = Conn::dial(socket)?;
    c.write("show status\n")?;
    while let Some(line) = c.line()? {
        if line.starts_with("0013") {
            return Ok(false);
        } else if line.starts_with("0001")
            || line.starts_with("1000")
            || line.starts_with("1011")
            || line.starts_with(' ')
        {
            continue;
        } else if line.starts_with("0024") {
            return Ok(true);
        } else {
            return Err(format!("unexpected output line from BIRD: '{line}'"));
        }
    }
    Ok(false)
}

/// `checkBIRDReady` after the nodename check: `young` is "nodename younger than threshold".
pub fn readiness(socket: &Path, ipsep: char, young: bool) -> Result<(), String> {
    let peers = get_peers(socket, ipsep)?;
    let not_up: Vec<&str> = peers
        .iter()
        .filter(|p| p.bgp_state != "Established")
        .map(|p| p.peer_ip.as_str())
        .collect();
    if peers.is_empty() {
        return Ok(());
    }
    if young {
        if !not_up.is_empty() {
            return Err(format!("BGP not established with {}", not_up.join(",")));
        }
        if gr_in_progress(socket)? {
            return Err("graceful restart in progress".into());
        }
        return Ok(());
    }
    if not_up.len() == peers.len() {
        return Err(format!("BGP not established with {}", not_up.join(",")));
    }
    Ok(())
}

/// calicoctl's table (`printPeers`): header and one row per peer, Info = BGP state + rest.
pub fn calicoctl_table(peers: &[BirdPeer]) -> Vec<[String; 5]> {
    let mut t = vec![[
        "PEER ADDRESS".to_string(),
        "PEER TYPE".into(),
        "STATE".into(),
        "SINCE".into(),
        "INFO".into(),
    ]];
    for p in peers {
        let info = if p.info.is_empty() {
            p.bgp_state.clone()
        } else {
            format!("{} {}", p.bgp_state, p.info)
        };
        t.push([
            p.peer_ip.clone(),
            p.peer_type.clone(),
            p.state.clone(),
            p.since.clone(),
            info,
        ]);
    }
    t
}

/// What the status reporter reads from `show status` (`readBIRDStatus`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BirdStatus {
    pub ready: bool,
    pub version: String,
    pub router_id: String,
    pub server_time: String,
    pub last_boot: String,
    pub last_reconfig: String,
}

pub fn read_bird_status(socket: &Path) -> Result<BirdStatus, String> {
    let mut c = Conn::dial(socket)?;
    c.write("show status\n")?;
    let mut s = BirdStatus::default();
    while let Some(line) = c.line()? {
        if line.starts_with("0013") {
            break;
        }
        let text = if ["0001", "1000", "1011"].iter().any(|p| line.starts_with(p)) {
            line.get(5..).unwrap_or("").to_string()
        } else if let Some(t) = line.strip_prefix(' ') {
            t.to_string()
        } else {
            // The reporter logs a warning and stops reading.
            return Err(format!("unexpected line {line:?}"));
        };
        if text.contains("BIRD") && text.contains("ready") {
            s.ready = true;
        } else if let Some(v) = text.strip_prefix("BIRD v") {
            s.version = format!("v{v}");
        } else if let Some(v) = text.strip_prefix("Router ID is ") {
            s.router_id = v.into();
        } else if let Some(v) = text.strip_prefix("Current server time is ") {
            s.server_time = v.into();
        } else if let Some(v) = text.strip_prefix("Last reboot on ") {
            s.last_boot = v.into();
        } else if let Some(v) = text.strip_prefix("Last reconfiguration on ") {
            s.last_reconfig = v.into();
        }
    }
    Ok(s)
}

/// What the reporter builds per peer (`readBIRDPeers`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportedPeer {
    pub session: String,
    pub state: String,
    pub bgp_state: String,
    pub neighbor_address: String,
}

/// `readBIRDPeers`: `show protocols`, then `show protocols all <name>` per peer on the same
/// connection, each read to `0000`; the number of peers in state `up`.
pub fn read_bird_peers(socket: &Path, ipsep: char) -> Result<(Vec<ReportedPeer>, usize), String> {
    let mut c = Conn::dial(socket)?;
    c.write("show protocols\n")?;
    // Names are needed: re-read the rows with their names.
    let mut names = Vec::new();
    let mut peers = Vec::new();
    while let Some(line) = c.line()? {
        if line.starts_with("0000") {
            break;
        } else if line.starts_with("0001") {
            continue;
        } else if line.starts_with("2002") {
            let heading: Vec<&str> = line.get(5..).unwrap_or("").split_whitespace().collect();
            if heading != ["name", "proto", "table", "state", "since", "info"] {
                return Err("unknown BIRD table output format".into());
            }
        } else if let Some(row) = line
            .strip_prefix("1002-")
            .or_else(|| line.strip_prefix(' '))
        {
            if let Some(p) = unmarshal_row(row, ipsep) {
                names.push(row.split_whitespace().next().unwrap_or("").to_string());
                peers.push(p);
            }
        } else {
            return Err(format!("unexpected output line from BIRD: '{line}'"));
        }
    }
    let established = peers.iter().filter(|p| p.state == "up").count();
    let mut out = Vec::new();
    for (name, p) in names.iter().zip(&peers) {
        c.write(&format!("show protocols all {name}\n"))?;
        let mut bgp_state = String::new();
        let mut addr = String::new();
        while let Some(line) = c.line()? {
            if line.starts_with("0000") {
                break;
            }
            if let Some(i) = line.find("BGP state:") {
                bgp_state = line[i + "BGP state:".len()..].trim().to_string();
            }
            if let Some(i) = line.find("Neighbor address:") {
                addr = line[i + "Neighbor address:".len()..].trim().to_string();
            }
        }
        let known = [
            "Idle",
            "Connect",
            "Active",
            "OpenSent",
            "OpenConfirm",
            "Established",
            "Close",
        ];
        if !known.contains(&bgp_state.as_str()) {
            bgp_state = String::new();
        }
        out.push(ReportedPeer {
            session: name.clone(),
            state: p.state.clone(),
            bgp_state,
            neighbor_address: addr,
        });
    }
    Ok((out, established))
}

/// One route as `readBIRDRoutes` classifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportedRoute {
    pub dest: String,
    pub kind: String,
    pub gateway: String,
    pub interface: String,
    pub learned_from: String,
    pub primary: bool,
}

fn is_calico_session(name: &str) -> bool {
    ["Global_", "Node_", "Mesh_"]
        .iter()
        .any(|p| name.starts_with(p))
}

/// `readBIRDRoutes`: `show route`; `1007` first row, space rows; every route's source must be
/// kernel/static/direct or a Calico session.
pub fn read_bird_routes(socket: &Path) -> Result<Vec<ReportedRoute>, String> {
    let mut c = Conn::dial(socket)?;
    c.write("show route\n")?;
    let mut out: Vec<ReportedRoute> = Vec::new();
    while let Some(line) = c.line()? {
        if line.starts_with("0000") {
            break;
        }
        if line.starts_with("0001") {
            continue;
        }
        let row = if let Some(r) = line.strip_prefix("1007-") {
            r
        } else if let Some(r) = line.strip_prefix(' ') {
            r
        } else {
            return Err(format!("unexpected output line from BIRD: '{line}'"));
        };
        let kind = [" via ", " dev ", " blackhole ", " unreachable "]
            .iter()
            .find(|k| row.contains(*k))
            .map(|k| k.trim().to_string())
            .ok_or_else(|| format!("unrecognised route line {row:?}"))?;
        let w: Vec<&str> = row.split_whitespace().collect();
        let starts_with_dest = !row.starts_with(' ');
        let dest = if starts_with_dest {
            w[0].to_string()
        } else {
            out.last().map(|r| r.dest.clone()).unwrap_or_default()
        };
        let rest = if starts_with_dest { &w[1..] } else { &w[..] };
        let (gateway, interface) = match rest {
            ["via", gw, "on", ifc, ..] => (gw.to_string(), ifc.to_string()),
            ["dev", ifc, ..] => (String::new(), ifc.to_string()),
            _ => (String::new(), String::new()),
        };
        let open = row.find(" [").ok_or("no [from ...]")?;
        let from = row[open + 2..].split_whitespace().next().unwrap_or("");
        if !(from.starts_with("kernel")
            || from.starts_with("static")
            || from.starts_with("direct")
            || is_calico_session(from))
        {
            return Err(format!("route learned from unknown protocol {from}"));
        }
        out.push(ReportedRoute {
            dest,
            kind,
            gateway,
            interface,
            learned_from: from.into(),
            primary: row.contains("] *"),
        });
    }
    Ok(out)
}

/// `target/<profile>/` of this build (the test executable lives in `deps/` under it).
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_owned)
        .expect("profile dir")
}

/// The `bgpctl` binary of this build, built with `cargo build -p bgpd` when missing.
pub fn bgpctl() -> PathBuf {
    let bin = profile_dir().join("bgpctl");
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let st = std::process::Command::new(cargo)
            .args(["build", "-p", "bgpd", "--bins"])
            .status()
            .expect("cargo runs");
        assert!(st.success() && bin.exists(), "bgpctl built");
    }
    bin
}

/// Runs a program, returning (exit code, stdout, stderr).
pub fn run(program: &Path, args: &[&str]) -> (i32, String, String) {
    let o = std::process::Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{} runs: {e}", program.display()));
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Sends raw bytes, then reads everything the daemon answers until it stops talking for
/// `quiet` (or closes).
pub fn raw_exchange(socket: &Path, data: &[u8], quiet: Duration) -> String {
    let mut s = UnixStream::connect(socket).expect("connect");
    s.set_read_timeout(Some(quiet)).expect("timeout");
    let w = s.try_clone().expect("clone");
    let data = data.to_vec();
    let writer = std::thread::spawn(move || {
        let mut w = w;
        let _ = w.write_all(&data);
    });
    let mut out = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        match std::io::Read::read(&mut s, &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    let _ = writer.join();
    String::from_utf8_lossy(&out).into_owned()
}
