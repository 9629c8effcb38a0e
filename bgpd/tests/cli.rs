//! The command line: `--check` like `bird -p`, and the embedded default.

use std::process::Command;

fn bgpd() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bgpd"))
}

/// A file in the temp dir, removed when dropped.
struct TempFile(std::path::PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn temp_file(name: &str, text: &str) -> TempFile {
    let p = std::env::temp_dir().join(format!("bgpd-cli-{}-{name}", std::process::id()));
    std::fs::write(&p, text).expect("write");
    TempFile(p)
}

#[test]
fn check_accepts_the_embedded_default() {
    let out = bgpd().arg("--check").output().expect("runs");
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("configuration OK"));
}

#[test]
fn check_accepts_the_reference_example_except_its_key_file() {
    // The reference names /etc/calico/bgp-tor1.key, absent here: exactly that one error.
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../conf/examples/bgpd.toml");
    let out = bgpd()
        .args(["--check", "-c", example])
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    let errors: Vec<&str> = err.lines().filter(|l| l.contains("bgpd.toml:")).collect();
    assert!(!out.status.success());
    assert_eq!(errors.len(), 1, "{err}");
    assert!(errors[0].contains("password_file"), "{err}");
}

#[test]
fn check_prints_every_error_with_file_line_and_column() {
    let text = "router_id = \"10.0.0.1\"\nlocal_as = 0\n\n[[neighbors]]\nname = \"a\"\n\
                address = \"10.0.0.300\"\nremote_as = 65001\nhold_time = 2\n";
    let f = temp_file("bad.toml", text);
    let p = &f.0;
    let out = bgpd()
        .args(["--check", "-c"])
        .arg(p)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let name = p.display().to_string();
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with(&name)).collect();
    assert_eq!(lines.len(), 3, "local_as, address and hold_time:\n{err}");
    assert!(lines[0].starts_with(&format!("{name}:2:12:")), "{err}");
    assert!(lines[1].starts_with(&format!("{name}:6:11:")), "{err}");
    assert!(lines[2].starts_with(&format!("{name}:8:13:")), "{err}");
}

#[test]
fn a_missing_file_is_an_error() {
    let out = bgpd()
        .args(["--check", "-c", "/nonexistent/bgpd.toml"])
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/bgpd.toml"));
}

#[test]
fn the_daemon_refuses_to_start_on_an_invalid_file() {
    let f = temp_file("bad2.toml", "router_id = \"x\"\nlocal_as = 1\n");
    let out = bgpd().arg("-c").arg(&f.0).output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(":1:13:"));
}
