//! GoBGP launcher: `gobgpd` in a namespace with its gRPC API on a private loopback port.

use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use crate::error::{HarnessError, Result};
use crate::netns::Netns;
use crate::process::Proc;
use crate::tempdir::TempDir;
use crate::wait::wait_until;

/// Path of the GoBGP daemon.
pub const GOBGPD: &str = "/usr/bin/gobgpd";
/// Path of its CLI.
pub const GOBGP: &str = "/usr/bin/gobgp";

// Each namespace has its own loopback, so ports only need to differ for readability in logs.
static NEXT_PORT: AtomicU16 = AtomicU16::new(50051);

/// GoBGP's `session_state` value for Established (gobgp API `PeerState.SessionState`).
const ESTABLISHED: i64 = 6;

/// A running gobgpd; `gobgp` is run inside the same namespace against `127.0.0.1:port`.
#[derive(Debug)]
pub struct Gobgp<'ns> {
    proc: Proc,
    ns: &'ns Netns,
    port: u16,
    dir: TempDir,
}

impl<'ns> Gobgp<'ns> {
    /// Writes `toml` to `gobgpd.toml` and starts gobgpd in `ns`; returns once the API answers.
    pub fn start(ns: &'ns Netns, toml: &str) -> Result<Self> {
        let dir = TempDir::new("gobgp")?;
        let conf = dir.write("gobgpd.toml", toml)?;
        let port = NEXT_PORT.fetch_add(1, Ordering::Relaxed);
        let api = format!("127.0.0.1:{port}");
        let conf_s = conf.to_string_lossy().into_owned();
        let proc = Proc::spawn_in(
            ns,
            "gobgpd",
            &[
                GOBGPD,
                "-f",
                &conf_s,
                "-t",
                "toml",
                "--api-hosts",
                &api,
                "-p",
            ],
            dir.path(),
        )?;
        let mut g = Self {
            proc,
            ns,
            port,
            dir,
        };
        wait_until("gobgp API to answer", Duration::from_secs(15), || {
            g.proc.check_alive()?;
            Ok(g.gobgp(&["global"]).is_ok())
        })?;
        Ok(g)
    }

    /// Runs `gobgp -u 127.0.0.1 -p PORT args...` inside the namespace.
    pub fn gobgp(&self, args: &[&str]) -> Result<String> {
        let port = self.port.to_string();
        let mut argv = vec![GOBGP, "-u", "127.0.0.1", "-p", port.as_str()];
        argv.extend_from_slice(args);
        self.ns.exec(&argv)
    }

    /// Runs `gobgp ... args... -j` and parses the JSON.
    pub fn gobgp_json(&self, args: &[&str]) -> Result<serde_json::Value> {
        let mut v = args.to_vec();
        v.push("-j");
        let text = self.gobgp(&v)?;
        serde_json::from_str(&text).map_err(|source| HarnessError::Json {
            cmd: format!("gobgp {}", v.join(" ")),
            source,
        })
    }

    /// GoBGP's own view of the session to `peer`: `state.session_state` of `gobgp neighbor -j`.
    pub fn session_state(&self, peer: &str) -> Result<Option<i64>> {
        let v = self.gobgp_json(&["neighbor", peer])?;
        Ok(v.get("state")
            .and_then(|s| s.get("session_state"))
            .and_then(serde_json::Value::as_i64))
    }

    /// Waits until GoBGP reports the session to `peer` as Established.
    pub fn wait_established(&self, peer: &str, timeout: Duration) -> Result<()> {
        wait_until(
            &format!("GoBGP session to {peer} Established"),
            timeout,
            || Ok(self.session_state(peer)? == Some(ESTABLISHED)),
        )
    }

    /// The daemon's process guard.
    pub fn proc(&mut self) -> &mut Proc {
        &mut self.proc
    }

    /// PID of gobgpd (e.g. to freeze it with SIGSTOP in a hold-timer scenario).
    pub fn pid(&self) -> u32 {
        self.proc.pid()
    }

    /// The temp dir holding config and logs.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }
}
