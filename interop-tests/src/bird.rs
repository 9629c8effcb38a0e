//! BIRD 2 launcher: `bird -f` in a namespace, queried with `birdc`.

use std::path::PathBuf;
use std::time::Duration;

use crate::command::run;
use crate::error::Result;
use crate::netns::Netns;
use crate::process::Proc;
use crate::tempdir::TempDir;
use crate::wait::wait_until;

/// Path of the BIRD 2 daemon.
pub const BIRD: &str = "/usr/sbin/bird";
/// Path of its control client.
pub const BIRDC: &str = "/usr/sbin/birdc";

/// A running BIRD with its config, control socket and logs in a temp dir.
#[derive(Debug)]
pub struct Bird {
    proc: Proc,
    ctl: PathBuf,
    dir: TempDir,
}

impl Bird {
    /// Writes `conf` to `bird.conf` and starts `bird -f` in `ns`; returns once `birdc` answers.
    pub fn start(ns: &Netns, conf: &str) -> Result<Self> {
        let dir = TempDir::new("bird")?;
        let conf_path = dir.write("bird.conf", conf)?;
        let ctl = dir.path().join("bird.ctl");
        let pid = dir.path().join("bird.pid");
        let conf_s = conf_path.to_string_lossy().into_owned();
        let ctl_s = ctl.to_string_lossy().into_owned();
        let pid_s = pid.to_string_lossy().into_owned();
        let proc = Proc::spawn_in(
            ns,
            "bird",
            &[BIRD, "-f", "-c", &conf_s, "-s", &ctl_s, "-P", &pid_s],
            dir.path(),
        )?;
        let mut bird = Self { proc, ctl, dir };
        wait_until("birdc to answer", Duration::from_secs(10), || {
            bird.proc.check_alive()?;
            Ok(bird.birdc("show status").is_ok())
        })?;
        Ok(bird)
    }

    /// Runs one `birdc` command and returns its output.
    pub fn birdc(&self, cmd: &str) -> Result<String> {
        let ctl = self.ctl.to_string_lossy();
        let mut argv = vec!["-s", ctl.as_ref()];
        argv.extend(cmd.split_whitespace());
        run(BIRDC, &argv)
    }

    /// Runs a `birdc` command whose arguments contain spaces (e.g. a quoted shutdown message).
    pub fn birdc_args(&self, args: &[&str]) -> Result<String> {
        let ctl = self.ctl.to_string_lossy();
        let mut argv = vec!["-s", ctl.as_ref()];
        argv.extend_from_slice(args);
        run(BIRDC, &argv)
    }

    /// BGP state of the protocol whose `Neighbor address` is `peer`, from `show protocols all`.
    pub fn bgp_state(&self, peer: &str) -> Result<Option<String>> {
        let text = self.birdc("show protocols all")?;
        Ok(parse_bgp_state(&text, peer))
    }

    /// Waits until BIRD itself reports the session to `peer` as Established.
    pub fn wait_established(&self, peer: &str, timeout: Duration) -> Result<()> {
        wait_until(
            &format!("BIRD session to {peer} Established"),
            timeout,
            || Ok(self.bgp_state(peer)?.as_deref() == Some("Established")),
        )
    }

    /// The daemon's process guard (PID, logs).
    pub fn proc(&mut self) -> &mut Proc {
        &mut self.proc
    }

    /// PID of BIRD (e.g. to freeze it with SIGSTOP in a hold-timer scenario).
    pub fn pid(&self) -> u32 {
        self.proc.pid()
    }

    /// The temp dir holding config, socket and logs.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }
}

/// Finds the protocol block of `show protocols all` whose `Neighbor address:` is `peer` and
/// returns its `BGP state:` value.
pub fn parse_bgp_state(text: &str, peer: &str) -> Option<String> {
    let mut state: Option<String> = None;
    for line in text.lines() {
        // A new protocol block starts at column 0 with the protocol name.
        if !line.starts_with(' ') && !line.is_empty() {
            state = None;
        }
        let t = line.trim();
        if let Some(s) = t.strip_prefix("BGP state:") {
            state = Some(s.trim().to_owned());
        } else if let Some(a) = t.strip_prefix("Neighbor address:") {
            if a.trim() == peer {
                return state;
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_state_by_neighbor() {
        let text =
            "BIRD 2.0.12 ready.\nName       Proto      Table      State  Since         Info\n\
device1    Device     ---        up     06:00:00.000  \n\n\
p1         BGP        ---        up     06:00:01.000  Established   \n\
  BGP state:          Established\n    Neighbor address: 10.99.0.2\n\n\
p2         BGP        ---        start  06:00:01.000  Active\n\
  BGP state:          Active\n    Neighbor address: 10.99.0.3\n";
        assert_eq!(
            parse_bgp_state(text, "10.99.0.2").as_deref(),
            Some("Established")
        );
        assert_eq!(
            parse_bgp_state(text, "10.99.0.3").as_deref(),
            Some("Active")
        );
        assert_eq!(parse_bgp_state(text, "10.99.0.4"), None);
    }
}
