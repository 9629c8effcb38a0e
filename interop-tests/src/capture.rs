//! Packet capture of a fabric's BGP traffic, split into test vectors by
//! `scripts/split_bgp_pcap.py`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::command::run;
use crate::error::Result;
use crate::netns::Fabric;
use crate::process::Proc;
use crate::tempdir::TempDir;
use crate::wait::wait_until;

/// A running `tcpdump -i any tcp port 179` in a fabric's bridge namespace. Every segment is seen
/// twice (ingress and egress port); the splitter reassembles by sequence number, so that is fine.
#[derive(Debug)]
pub struct Capture {
    tcpdump: Proc,
    pcap: PathBuf,
    _dir: TempDir,
}

impl Capture {
    /// Starts tcpdump and waits until it reports that it is listening.
    pub fn start(fabric: &Fabric) -> Result<Self> {
        let dir = TempDir::new("pcap")?;
        let pcap = dir.path().join("bgp.pcap");
        let pcap_s = pcap.to_string_lossy().into_owned();
        let mut tcpdump = Proc::spawn_in(
            fabric.bridge(),
            "tcpdump",
            &[
                "tcpdump", "-i", "any", "-U", "-s", "0", "-w", &pcap_s, "tcp", "port", "179",
            ],
            dir.path(),
        )?;
        let err = tcpdump.stderr_path().to_owned();
        wait_until("tcpdump to listen", Duration::from_secs(10), || {
            tcpdump.check_alive()?;
            Ok(std::fs::read_to_string(&err)
                .map(|s| s.contains("listening on"))
                .unwrap_or(false))
        })?;
        Ok(Self {
            tcpdump,
            pcap,
            _dir: dir,
        })
    }

    /// Stops tcpdump (flushing the file) and splits the capture into `out_dir`; `labels` maps a
    /// node address to `daemon-version`. Returns the splitter's list of written files.
    pub fn finish(
        mut self,
        script: &Path,
        out_dir: &Path,
        scenario: &str,
        labels: &[(String, &str)],
        notes: &[&str],
    ) -> Result<String> {
        std::thread::sleep(Duration::from_millis(500));
        self.tcpdump.stop(Duration::from_secs(5));
        let pcap = self.pcap.to_string_lossy().into_owned();
        let script = script.to_string_lossy().into_owned();
        let out = out_dir.to_string_lossy().into_owned();
        let mut args: Vec<String> = vec![script, pcap, out, "--scenario".into(), scenario.into()];
        for (ip, label) in labels {
            args.push("--label".into());
            args.push(format!("{ip}={label}"));
        }
        for n in notes {
            args.push("--note".into());
            args.push((*n).to_owned());
        }
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        run("python3", &argv)
    }
}
