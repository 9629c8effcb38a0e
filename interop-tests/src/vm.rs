//! A QEMU guest for the tests that need kernel features the test machine's kernel lacks (the
//! `ipip` device for Calico's IP-in-IP mode).
//!
//! The guest runs Debian 12's stock kernel from the kit `scripts/vm-kit.sh` builds (default
//! `/tmp/bgpd-vm`, or `BGPD_VM_KIT`), sees the host's `/` read-only over 9p (so every binary,
//! library and test executable is where it is on the host), has tmpfs on `/tmp`, `/run` and
//! `/var/tmp`, and runs one shell script from a job directory shared read-write on `/mnt`. It
//! has no network device: only the namespaces the script makes inside it.
//!
//! Emulation is TCG (software): the virtual CPUs KVM offers on these machines hang the guest's
//! boot. A boot takes ~7 s here; `BGPD_VM_ACCEL=kvm` tries KVM instead.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{HarnessError, Result};
use crate::tempdir::TempDir;

/// Where the kit is: `BGPD_VM_KIT` or `/tmp/bgpd-vm`.
pub fn kit_dir() -> PathBuf {
    std::env::var_os("BGPD_VM_KIT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/bgpd-vm"))
}

/// `None` when a guest can be started, else why not (for the skip message).
pub fn unavailable() -> Option<String> {
    let kit = kit_dir();
    for f in ["vmlinuz", "initrd.gz"] {
        if !kit.join(f).is_file() {
            return Some(format!(
                "no VM kit at {} (scripts/vm-kit.sh builds it; scripts/test.sh does as root)",
                kit.display()
            ));
        }
    }
    if Command::new("qemu-system-x86_64")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| !s.success())
        .unwrap_or(true)
    {
        return Some("qemu-system-x86_64 is not installed (Debian's qemu-system-x86)".into());
    }
    None
}

/// What a guest run left.
#[derive(Debug)]
pub struct VmRun {
    /// Everything the guest wrote on its serial console (the script's output included).
    pub console: String,
    /// The script's exit status, `None` when the guest never got to write it.
    pub status: Option<i32>,
}

/// Boots a guest that runs `script` (a `/bin/sh` script, started in `/mnt` as root) and waits
/// until it powers off, at most `timeout`. The guest is killed on timeout.
pub fn run(script: &str, timeout: Duration) -> Result<VmRun> {
    let kit = kit_dir();
    let job = TempDir::new("vmjob")?;
    job.write("run.sh", script)?;
    let share = |path: &Path, tag: &str, ro: bool| {
        format!(
            "local,path={},mount_tag={tag},security_model=none,multidevs=remap{}",
            path.display(),
            if ro { ",readonly=on" } else { "" }
        )
    };
    let accel = std::env::var("BGPD_VM_ACCEL").unwrap_or_else(|_| "tcg".into());
    let console_path = job.path().join("console.log");
    let create = |path: &Path| {
        std::fs::File::create(path).map_err(|source| HarnessError::Io {
            path: path.to_owned(),
            source,
        })
    };
    let console_file = create(&console_path)?;
    // To a file, not a pipe: a pipe nobody reads while the guest runs could fill and stall it.
    let qemu_err_path = job.path().join("qemu.err");
    let qemu_err_file = create(&qemu_err_path)?;
    let cmd = "qemu-system-x86_64";
    let mut child = Command::new(cmd)
        .args(["-accel", &accel, "-m", "1024", "-smp", "2"])
        .args(["-nographic", "-no-reboot", "-nic", "none"])
        .arg("-kernel")
        .arg(kit.join("vmlinuz"))
        .arg("-initrd")
        .arg(kit.join("initrd.gz"))
        .args(["-append", "console=ttyS0 panic=-1 quiet"])
        .args(["-virtfs", &share(Path::new("/"), "host", true)])
        .args(["-virtfs", &share(job.path(), "job", false)])
        .stdin(Stdio::null())
        .stdout(console_file)
        .stderr(qemu_err_file)
        .spawn()
        .map_err(|source| HarnessError::Spawn {
            cmd: cmd.into(),
            source,
        })?;
    let start = Instant::now();
    let exited = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if start.elapsed() < timeout => std::thread::sleep(Duration::from_millis(200)),
            _ => {
                // Our own child, by its PID.
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let qemu_err = std::fs::read_to_string(&qemu_err_path).unwrap_or_default();
    let console = std::fs::read(&console_path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let Some(status) = exited else {
        return Err(HarnessError::Timeout {
            what: format!("the VM to power off; console:\n{console}\nqemu: {qemu_err}"),
            timeout,
        });
    };
    if !status.success() {
        return Err(HarnessError::Command {
            cmd: cmd.into(),
            status: status.to_string(),
            stderr: format!("{qemu_err}\nconsole:\n{console}"),
        });
    }
    let status = std::fs::read_to_string(job.path().join("rc"))
        .ok()
        .and_then(|s| s.trim().parse().ok());
    Ok(VmRun { console, status })
}
