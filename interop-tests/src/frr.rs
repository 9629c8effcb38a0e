//! FRR launcher: `zebra` and `bgpd` (and `bfdd` when asked) in a namespace with a private
//! vty/zserv directory.

use std::path::PathBuf;
use std::time::Duration;

use crate::command::run;
use crate::error::{HarnessError, Result};
use crate::netns::Netns;
use crate::process::Proc;
use crate::tempdir::TempDir;
use crate::wait::wait_until;

/// Path of FRR's zebra.
pub const ZEBRA: &str = "/usr/lib/frr/zebra";
/// Path of FRR's bgpd.
pub const BGPD: &str = "/usr/lib/frr/bgpd";
/// Path of FRR's BFD daemon.
pub const BFDD: &str = "/usr/lib/frr/bfdd";
/// Path of FRR's shell.
pub const VTYSH: &str = "/usr/bin/vtysh";

/// A running FRR (zebra + bgpd); bgpd runs with `-n` (routes stay out of the kernel) unless
/// started with [`Frr::start_with_fib`].
#[derive(Debug)]
pub struct Frr {
    bgpd: Proc,
    zebra: Proc,
    /// Boxed: most launches have none, and `Frr` sits in benchmark enums.
    bfdd: Option<Box<Proc>>,
    vty_dir: PathBuf,
    dir: TempDir,
}

impl Frr {
    /// Writes `bgpd_conf` and an empty zebra config into a temp dir owned by `frr`, starts zebra,
    /// waits for its zserv socket, then starts bgpd (`-n`: no routes to zebra); returns once
    /// vtysh answers.
    pub fn start(ns: &Netns, bgpd_conf: &str) -> Result<Self> {
        Self::start_opts(ns, bgpd_conf, false, None)
    }

    /// As [`Frr::start`], but bgpd hands its routes to zebra, which installs them in the
    /// namespace's kernel (ECMP sets included, as `maximum-paths` allows).
    pub fn start_with_fib(ns: &Netns, bgpd_conf: &str) -> Result<Self> {
        Self::start_opts(ns, bgpd_conf, true, None)
    }

    /// [`Frr::start`], with `bfdd` running `bfdd_conf` (its `bfd` / `profile` blocks) before
    /// bgpd when given; bgpd's `neighbor X bfd` sessions then go through it.
    pub fn start_with_bfd(ns: &Netns, bgpd_conf: &str, bfdd_conf: Option<&str>) -> Result<Self> {
        Self::start_opts(ns, bgpd_conf, false, bfdd_conf)
    }

    fn start_opts(ns: &Netns, bgpd_conf: &str, fib: bool, bfdd_conf: Option<&str>) -> Result<Self> {
        let dir = TempDir::new("frr")?;
        let bfd_conf = match bfdd_conf {
            Some(c) => Some(dir.write("bfdd.conf", c)?),
            None => None,
        };
        let zconf = dir.write("zebra.conf", "hostname zebra\n")?;
        let bconf = dir.write("bgpd.conf", bgpd_conf)?;
        // vtysh reads an optional vtysh.conf; the daemons only need read access to theirs.
        let d = dir.path().to_string_lossy().into_owned();
        run("chown", &["-R", "frr:frr", &d])?;
        let vty_dir = dir.path().to_owned();
        let zserv = format!("{d}/zserv.api");
        let s = |p: &PathBuf| p.to_string_lossy().into_owned();
        let (zconf, bconf) = (s(&zconf), s(&bconf));
        let (zpid, bpid) = (format!("{d}/zebra.pid"), format!("{d}/bgpd.pid"));
        let common = |conf: &str, pid: &str| -> Vec<String> {
            [
                "-f",
                conf,
                "-i",
                pid,
                "--vty_socket",
                &d,
                "-z",
                &zserv,
                "-u",
                "frr",
                "-g",
                "frr",
                "--log",
                "stdout",
            ]
            .iter()
            .map(|x| (*x).to_owned())
            .collect()
        };
        let mut zargv = vec![ZEBRA.to_owned()];
        zargv.extend(common(&zconf, &zpid));
        let zargv: Vec<&str> = zargv.iter().map(String::as_str).collect();
        let mut zebra = Proc::spawn_in(ns, "zebra", &zargv, dir.path())?;
        let zserv_path = PathBuf::from(&zserv);
        wait_until("zebra's zserv socket", Duration::from_secs(10), || {
            zebra.check_alive()?;
            Ok(zserv_path.exists())
        })?;
        let bfdd = match &bfd_conf {
            Some(c) => {
                let (c, pid) = (s(c), format!("{d}/bfdd.pid"));
                let mut argv = vec![BFDD.to_owned()];
                argv.extend(common(&c, &pid));
                argv.push("--bfdctl".to_owned());
                argv.push(format!("{d}/bfdd.sock"));
                let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
                Some(Box::new(Proc::spawn_in(ns, "bfdd", &argv, dir.path())?))
            }
            None => None,
        };
        let mut bargv = vec![BGPD.to_owned()];
        if !fib {
            bargv.push("-n".to_owned());
        }
        bargv.extend(common(&bconf, &bpid));
        let bargv: Vec<&str> = bargv.iter().map(String::as_str).collect();
        let bgpd = Proc::spawn_in(ns, "bgpd", &bargv, dir.path())?;
        let mut frr = Self {
            bgpd,
            zebra,
            bfdd,
            vty_dir,
            dir,
        };
        wait_until("vtysh to answer", Duration::from_secs(10), || {
            frr.bgpd.check_alive()?;
            Ok(frr.vtysh("show bgp summary").is_ok())
        })?;
        Ok(frr)
    }

    /// Runs one vtysh command (a `-c` argument; use `conf_lines` for configuration).
    pub fn vtysh(&self, cmd: &str) -> Result<String> {
        let d = self.vty_dir.to_string_lossy();
        run(VTYSH, &["--vty_socket", d.as_ref(), "-c", cmd])
    }

    /// Runs several vtysh commands in one invocation, e.g. `["conf t", "router bgp 1", ...]`.
    pub fn vtysh_lines(&self, cmds: &[&str]) -> Result<String> {
        let d = self.vty_dir.to_string_lossy();
        let mut argv = vec!["--vty_socket", d.as_ref()];
        for c in cmds {
            argv.push("-c");
            argv.push(c);
        }
        run(VTYSH, &argv)
    }

    /// Runs a vtysh command that ends in `json` and parses its output.
    pub fn vtysh_json(&self, cmd: &str) -> Result<serde_json::Value> {
        let text = self.vtysh(cmd)?;
        serde_json::from_str(&text).map_err(|source| HarnessError::Json {
            cmd: cmd.to_owned(),
            source,
        })
    }

    /// FRR's own view of the session to `peer` (`bgpState` in `show bgp neighbors PEER json`).
    pub fn bgp_state(&self, peer: &str) -> Result<Option<String>> {
        let v = self.vtysh_json(&format!("show bgp neighbors {peer} json"))?;
        Ok(v.get(peer)
            .and_then(|n| n.get("bgpState"))
            .and_then(|s| s.as_str())
            .map(str::to_owned))
    }

    /// Waits until FRR reports the session to `peer` as Established.
    pub fn wait_established(&self, peer: &str, timeout: Duration) -> Result<()> {
        wait_until(
            &format!("FRR session to {peer} Established"),
            timeout,
            || Ok(self.bgp_state(peer)?.as_deref() == Some("Established")),
        )
    }

    /// The bgpd process guard.
    pub fn bgpd(&mut self) -> &mut Proc {
        &mut self.bgpd
    }

    /// The bfdd process guard, when started with one.
    pub fn bfdd(&mut self) -> Option<&mut Proc> {
        self.bfdd.as_deref_mut()
    }

    /// PIDs of every FRR process we started (to freeze the whole router).
    pub fn pids(&self) -> Vec<u32> {
        let mut v = vec![self.zebra.pid(), self.bgpd.pid()];
        v.extend(self.bfdd.as_ref().map(|p| p.pid()));
        v
    }

    /// The zebra process guard.
    pub fn zebra(&mut self) -> &mut Proc {
        &mut self.zebra
    }

    /// PID of bgpd (e.g. to freeze it with SIGSTOP in a hold-timer scenario).
    pub fn pid(&self) -> u32 {
        self.bgpd.pid()
    }

    /// The temp dir holding configs, sockets and logs.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }
}
