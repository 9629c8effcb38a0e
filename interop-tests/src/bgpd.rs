//! Launcher for OUR daemon: `bgpd -c FILE --log-format json` in a namespace. Until the control
//! socket exists, its state is read from the JSON log lines on stderr (`fields.event` names the
//! event: `established`, `down`, `notification_sent`, `notification_received`, `collision`,
//! `state`, ...; `span.peer` is the neighbor address).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::error::{HarnessError, Result};
use crate::netns::Netns;
use crate::process::Proc;
use crate::tempdir::TempDir;
use crate::wait::wait_until;

/// One neighbor in a generated configuration.
#[derive(Debug, Clone)]
pub struct BgpdNeighbor {
    pub name: String,
    pub address: String,
    pub remote_as: u32,
    pub passive: bool,
    /// TCP-MD5 key; written to a 0600 key file next to the configuration.
    pub password: Option<String>,
    pub hold_time: u16,
    pub keepalive_time: u16,
    /// Extra TOML lines for the `[[neighbors]]` table (e.g. `multihop = 2`).
    pub extra: String,
}

impl BgpdNeighbor {
    /// A neighbor with test timers: hold 9 s, keepalive 3 s (connect/backoff timers are short
    /// too, see [`BgpdConfig::to_toml`]).
    pub fn new(name: &str, address: &str, remote_as: u32) -> Self {
        Self {
            name: name.to_owned(),
            address: address.to_owned(),
            remote_as,
            passive: false,
            password: None,
            hold_time: 9,
            keepalive_time: 3,
            extra: String::new(),
        }
    }
}

/// A whole generated configuration.
#[derive(Debug, Clone)]
pub struct BgpdConfig {
    pub router_id: String,
    pub local_as: u32,
    pub listen: Vec<String>,
    pub neighbors: Vec<BgpdNeighbor>,
}

impl BgpdConfig {
    /// The TOML text; key files are written into `dir`.
    pub fn to_toml(&self, dir: &TempDir) -> Result<String> {
        let listen: Vec<String> = self.listen.iter().map(|a| format!("\"{a}\"")).collect();
        let ctl = dir.path().join("bgpd.ctl");
        let mut s = format!(
            "router_id = \"{}\"\nlocal_as = {}\n\n[listen]\naddresses = [{}]\n\n\
             [kernel]\nenable_writes = false\n\n[control]\nsocket = \"{}\"\n",
            self.router_id,
            self.local_as,
            listen.join(", "),
            ctl.display()
        );
        for n in &self.neighbors {
            s += &format!(
                "\n[[neighbors]]\nname = \"{}\"\naddress = \"{}\"\nremote_as = {}\n\
                 passive = {}\nhold_time = {}\nkeepalive_time = {}\nconnect_delay_time = 1\n\
                 connect_retry_time = 2\nerror_wait_min = 1\nerror_wait_max = 4\n",
                n.name, n.address, n.remote_as, n.passive, n.hold_time, n.keepalive_time
            );
            if let Some(pw) = &n.password {
                let key = dir.write(&format!("{}.key", n.name), &format!("{pw}\n"))?;
                set_mode_0600(&key)?;
                s += &format!("password_file = \"{}\"\n", key.display());
            }
            s += &n.extra;
            if !n.extra.is_empty() && !n.extra.ends_with('\n') {
                s.push('\n');
            }
        }
        Ok(s)
    }
}

fn set_mode_0600(p: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).map_err(|source| {
        HarnessError::Io {
            path: p.to_owned(),
            source,
        }
    })
}

/// The `bgpd` binary of this build: `target/<profile>/bgpd`, next to the test executable's
/// directory (`target/<profile>/deps/..`). Built with `cargo build -p bgpd` when missing.
pub fn binary() -> Result<PathBuf> {
    let exe = std::env::current_exe().map_err(|source| HarnessError::Io {
        path: PathBuf::from("/proc/self/exe"),
        source,
    })?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .map(Path::to_owned)
        .unwrap_or_default();
    let bin = profile_dir.join("bgpd");
    if bin.exists() {
        return Ok(bin);
    }
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "-p", "bgpd"])
        .status()
        .map_err(|source| HarnessError::Spawn {
            cmd: "cargo build -p bgpd".into(),
            source,
        })?;
    if !status.success() || !bin.exists() {
        return Err(HarnessError::Command {
            cmd: "cargo build -p bgpd".into(),
            status: status.to_string(),
            stderr: format!("{} not built", bin.display()),
        });
    }
    Ok(bin)
}

/// Our running daemon.
#[derive(Debug)]
pub struct Bgpd {
    proc: Proc,
    dir: TempDir,
}

impl Bgpd {
    /// Writes the configuration, checks it with `bgpd --check`, and starts the daemon in `ns`;
    /// returns once it logged `started`.
    pub fn start(ns: &Netns, config: &BgpdConfig) -> Result<Self> {
        Self::start_with(ns, config, "")
    }

    /// [`Bgpd::start`] with `top` (top-level TOML lines: `local_blocks`, `ip_pools`, ...)
    /// before the generated configuration, and an IPv6 control socket ([`Bgpd::show`]).
    pub fn start_with(ns: &Netns, config: &BgpdConfig, top: &str) -> Result<Self> {
        Self::start_opts(ns, config, top, false)
    }

    /// As [`Bgpd::start_with`], with kernel writes on (`persist_on_stop = false`: the routes go
    /// when the daemon stops).
    pub fn start_with_kernel(ns: &Netns, config: &BgpdConfig, top: &str) -> Result<Self> {
        Self::start_opts(ns, config, top, true)
    }

    fn start_opts(ns: &Netns, config: &BgpdConfig, top: &str, kernel: bool) -> Result<Self> {
        let dir = TempDir::new("bgpd")?;
        let mut toml = config.to_toml(&dir)?;
        if kernel {
            toml = toml.replacen(
                "[kernel]\nenable_writes = false\n",
                "[kernel]\nenable_writes = true\npersist_on_stop = false\n",
                1,
            );
        }
        if !top.is_empty() {
            let v6 = dir.path().join("bgpd6.ctl");
            toml = toml.replacen(
                "[control]\n",
                &format!("[control]\nsocket_v6 = \"{}\"\n", v6.display()),
                1,
            );
            // Only `key = value` lines (inline tables for pools, filters, `bgp`): they must
            // come before the first table header.
            toml = format!("{top}\n{toml}");
        }
        let conf = dir.write("bgpd.toml", &toml)?;
        let bin = binary()?;
        let (bin_s, conf_s) = (bin.to_string_lossy(), conf.to_string_lossy());
        crate::command::run(&bin_s, &["--check", "-c", &conf_s])?;
        let proc = Proc::spawn_in(
            ns,
            "bgpd",
            &[&bin_s, "-c", &conf_s, "--log-format", "json"],
            dir.path(),
        )?;
        let mut d = Self { proc, dir };
        wait_until("our bgpd to start", Duration::from_secs(10), || {
            d.proc.check_alive()?;
            Ok(!d.events("started", None).is_empty())
        })?;
        Ok(d)
    }

    /// Every JSON log line so far.
    pub fn log(&self) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(self.proc.stderr_path()).unwrap_or_default();
        text.lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// Log lines whose `fields.event` is `event`, for neighbor address `peer` when given.
    pub fn events(&self, event: &str, peer: Option<&str>) -> Vec<serde_json::Value> {
        self.log()
            .into_iter()
            .filter(|v| v["fields"]["event"].as_str() == Some(event))
            .filter(|v| peer.is_none_or(|p| v["span"]["peer"].as_str() == Some(p)))
            .collect()
    }

    /// Waits until at least `count` `event` lines exist for `peer`; returns the last one.
    pub fn wait_event(
        &self,
        event: &str,
        peer: &str,
        count: usize,
        timeout: Duration,
    ) -> Result<serde_json::Value> {
        let mut last = serde_json::Value::Null;
        wait_until(
            &format!("our bgpd: {count} x {event} for {peer}"),
            timeout,
            || {
                let v = self.events(event, Some(peer));
                if v.len() >= count {
                    last = v[v.len() - 1].clone();
                    return Ok(true);
                }
                Ok(false)
            },
        )?;
        Ok(last)
    }

    /// Our current state for `peer` (the last `state` event's `to`), `Idle` before any.
    pub fn state(&self, peer: &str) -> String {
        self.events("state", Some(peer))
            .last()
            .and_then(|v| v["fields"]["to"].as_str().map(str::to_owned))
            .unwrap_or_else(|| "Idle".into())
    }

    /// Waits until our session to `peer` is Established.
    pub fn wait_established(&self, peer: &str, timeout: Duration) -> Result<()> {
        wait_until(
            &format!("our bgpd session to {peer} Established"),
            timeout,
            || Ok(self.state(peer) == "Established"),
        )
    }

    /// `birdc -s <our control socket> <cmd>`: the IPv4 view, or the IPv6 one (only with
    /// [`Bgpd::start_with`]).
    pub fn show(&self, v6: bool, cmd: &str) -> Result<String> {
        let sock = self
            .dir
            .path()
            .join(if v6 { "bgpd6.ctl" } else { "bgpd.ctl" });
        let sock = sock.to_string_lossy();
        let mut args = vec!["-s", sock.as_ref()];
        args.extend(cmd.split_whitespace());
        crate::command::run("/usr/sbin/birdc", &args)
    }

    /// The daemon's process guard (PID, logs, stop).
    pub fn proc(&mut self) -> &mut Proc {
        &mut self.proc
    }

    /// The temp dir with the configuration and logs.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}
