//! The README's first command, exactly as written, on this checkout: `cargo run -p bgpd` starts
//! the daemon on its embedded default (no file, no root, loopback only, kernel writes off), and
//! the README's `bgpctl` commands read its socket. The nested cargo builds into a target dir of
//! its own (the outer `cargo test` may hold the usual one), under the workspace's target/.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// The shell commands of the README's fenced `sh` blocks, in order.
fn readme_commands(root: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let mut out = Vec::new();
    let mut in_sh = false;
    for line in text.lines() {
        match (in_sh, line.trim_start()) {
            (false, "```sh") => in_sh = true,
            (true, "```") => in_sh = false,
            (true, l) if !l.is_empty() && !l.starts_with('#') => out.push(l.to_owned()),
            _ => {}
        }
    }
    out
}

/// A process group started with `sh -c`, ended (TERM, then KILL) when dropped.
struct Group(Child);

impl Drop for Group {
    fn drop(&mut self) {
        let pgid = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-TERM", "--", &pgid]).status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &pgid]).status();
        let _ = self.0.wait();
    }
}

fn sh(root: &Path, target: &Path, cmd: &str) -> Command {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(cmd)
        .current_dir(root)
        .env("CARGO_TARGET_DIR", target);
    c
}

#[test]
fn readme_first_command_runs_the_daemon_and_the_client_reads_it() {
    let root = workspace();
    let cmds = readme_commands(&root);
    assert_eq!(
        cmds.first().map(String::as_str),
        Some("cargo run -p bgpd"),
        "the README's first command changed: update this test with it"
    );
    let socket = root.join("bgpd.ctl");
    if socket.exists() {
        println!(
            "skipped: {} exists (a daemon from the README may be running here)",
            socket.display()
        );
        return;
    }
    let target = root.join("target").join("readme-check");
    let log = std::env::temp_dir().join(format!("bgpd-readme-{}.log", std::process::id()));
    let mut first = sh(&root, &target, &cmds[0]);
    first
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log file"));
    // Its own process group, so cargo and the daemon it runs end together.
    std::os::unix::process::CommandExt::process_group(&mut first, 0);
    let daemon = Group(first.spawn().expect("sh starts"));
    let start = Instant::now();
    while !socket.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "no control socket after {:?}:\n{}",
            start.elapsed(),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // The README's client commands, as written (from the workspace root, where the socket is).
    let clients: Vec<&String> = cmds
        .iter()
        .filter(|c| c.starts_with("cargo run -p bgpd --bin bgpctl"))
        .collect();
    assert!(!clients.is_empty(), "README lists bgpctl commands");
    for c in clients {
        let out = sh(&root, &target, c).output().expect("bgpctl runs");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{c}: {out:?}");
        assert!(
            text.contains("Example_127_0_0_2") || text.contains("Daemon is up and running"),
            "{c}:\n{text}"
        );
    }
    drop(daemon);
    let _ = std::fs::remove_file(&socket);
    let _ = std::fs::remove_file(&log);
}
