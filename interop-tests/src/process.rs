//! [`Proc`]: a process started inside a namespace, stopped by PID when dropped.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::command::run_quiet;
use crate::error::{HarnessError, Result};
use crate::netns::Netns;
use crate::tempdir::TempDir;

/// A process running in a namespace (`ip netns exec NAME program args...`; `ip` execs the
/// program, so the PID we hold is the program's). Its stdout and stderr go to `<label>.out` and
/// `<label>.err` in a log directory. On drop: SIGTERM, up to 3 s grace, then SIGKILL; if the
/// thread is panicking the tail of both logs is printed first.
#[derive(Debug)]
pub struct Proc {
    label: String,
    child: Child,
    out: PathBuf,
    err: PathBuf,
    // Dropped after the process is stopped (fields drop in declaration order).
    _own_dir: Option<TempDir>,
}

impl Proc {
    /// Starts `argv` in `ns`, logging into a fresh temp dir owned by the guard.
    pub fn spawn(ns: &Netns, label: &str, argv: &[&str]) -> Result<Self> {
        let dir = TempDir::new(label)?;
        let mut p = Self::spawn_in(ns, label, argv, dir.path())?;
        p._own_dir = Some(dir);
        Ok(p)
    }

    /// Starts `argv` in `ns`, logging into `log_dir` (which must outlive the guard).
    pub fn spawn_in(ns: &Netns, label: &str, argv: &[&str], log_dir: &Path) -> Result<Self> {
        let out = log_dir.join(format!("{label}.out"));
        let err = log_dir.join(format!("{label}.err"));
        let open = |p: &Path| {
            File::create(p).map_err(|source| HarnessError::Io {
                path: p.to_owned(),
                source,
            })
        };
        let (fo, fe) = (open(&out)?, open(&err)?);
        let cmd_text = format!("ip netns exec {} {}", ns.name(), argv.join(" "));
        tracing::debug!(cmd = %cmd_text, "spawn");
        let child = Command::new("ip")
            .args(["netns", "exec", ns.name()])
            .args(argv)
            .stdin(Stdio::null())
            .stdout(fo)
            .stderr(fe)
            .spawn()
            .map_err(|source| HarnessError::Spawn {
                cmd: cmd_text,
                source,
            })?;
        Ok(Self {
            label: label.to_owned(),
            child,
            out,
            err,
            _own_dir: None,
        })
    }

    /// The PID of the running program.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The label given at spawn time.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Path of the captured stdout.
    pub fn stdout_path(&self) -> &Path {
        &self.out
    }

    /// Path of the captured stderr.
    pub fn stderr_path(&self) -> &Path {
        &self.err
    }

    /// Errors with [`HarnessError::Exited`] (and the log tail) if the process has already ended.
    pub fn check_alive(&mut self) -> Result<()> {
        match self.child.try_wait() {
            Ok(Some(status)) => Err(HarnessError::Exited {
                name: self.label.clone(),
                status: status.to_string(),
                log: self.log_tail(20),
            }),
            Ok(None) => Ok(()),
            Err(source) => Err(HarnessError::Io {
                path: PathBuf::from(format!("/proc/{}", self.pid())),
                source,
            }),
        }
    }

    /// The last `lines` lines of stdout and of stderr.
    pub fn log_tail(&self, lines: usize) -> String {
        let tail = |p: &Path| {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            let v: Vec<&str> = text.lines().collect();
            v[v.len().saturating_sub(lines)..].join("\n")
        };
        format!(
            "--- {} stdout ({}):\n{}\n--- {} stderr ({}):\n{}",
            self.label,
            self.out.display(),
            tail(&self.out),
            self.label,
            self.err.display(),
            tail(&self.err)
        )
    }

    /// Sends SIGTERM, waits up to `grace`, then SIGKILL; reaps the child.
    pub fn stop(&mut self, grace: Duration) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        let pid = self.pid().to_string();
        run_quiet("kill", &["-TERM", &pid]);
        let start = Instant::now();
        while start.elapsed() < grace {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        run_quiet("kill", &["-KILL", &pid]);
        if let Err(e) = self.child.wait() {
            tracing::debug!(pid = %pid, error = %e, "wait after SIGKILL failed");
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}", self.log_tail(30));
        }
        self.stop(Duration::from_secs(3));
    }
}
