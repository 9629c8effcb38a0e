//! Running short helper commands (`ip`, `birdc`, `vtysh`, `gobgp`) and collecting their output.

use std::process::Command;

use crate::error::{HarnessError, Result};

/// Runs `program args...` to completion and returns its stdout; a non-zero exit is an error.
pub fn run(program: &str, args: &[&str]) -> Result<String> {
    let cmd_text = format!("{program} {}", args.join(" "));
    tracing::debug!(cmd = %cmd_text, "run");
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|source| HarnessError::Spawn {
            cmd: cmd_text.clone(),
            source,
        })?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        return Err(HarnessError::Command {
            cmd: cmd_text,
            status: out.status.to_string(),
            stderr: if stderr.is_empty() { stdout } else { stderr },
        });
    }
    Ok(stdout)
}

/// Like [`run`] but ignores the outcome; for best-effort cleanup where failure is expected
/// (the process is already gone, the namespace was already removed).
pub fn run_quiet(program: &str, args: &[&str]) {
    if let Err(e) = run(program, args) {
        tracing::debug!(error = %e, "cleanup command failed");
    }
}
