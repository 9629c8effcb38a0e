//! Two of our daemons on loopback (127.0.0.1 and 127.0.0.2, same port), no root needed: they
//! reach Established, and SIGTERM on one makes the other see Cease / Administrative Shutdown.
//! State is read from the JSON logs (`--log-format json`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    fn start(dir: &Path, name: &str, toml: &str) -> Daemon {
        let conf = dir.join(format!("{name}.toml"));
        std::fs::write(&conf, toml).expect("write config");
        let log = dir.join(format!("{name}.log"));
        let child = Command::new(env!("CARGO_BIN_EXE_bgpd"))
            .arg("-c")
            .arg(&conf)
            .args(["--log-format", "json"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("bgpd starts");
        Daemon { child, log }
    }

    fn events(&self, event: &str) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["fields"]["event"].as_str() == Some(event))
            .collect()
    }

    fn wait_event(&self, event: &str, timeout: Duration) -> serde_json::Value {
        let start = Instant::now();
        loop {
            if let Some(v) = self.events(event).pop() {
                return v;
            }
            assert!(
                start.elapsed() < timeout,
                "no {event} in {}:\n{}",
                self.log.display(),
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let ok = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(ok.is_ok_and(|s| s.success()), "kill -TERM {pid}");
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "bgpd did not exit"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn config(me: &str, my_as: u32, peer: &str, peer_as: u32, port: u16, dir: &Path) -> String {
    format!(
        "router_id = \"{me}\"\nlocal_as = {my_as}\n[listen]\naddresses = [\"{me}\"]\nport = {port}\n\
         [[neighbors]]\nname = \"p\"\naddress = \"{peer}\"\nport = {port}\nremote_as = {peer_as}\n\
         source_address = \"{me}\"\nhold_time = 9\nkeepalive_time = 3\nconnect_delay_time = 0\n\
         connect_retry_time = 1\nerror_wait_min = 1\nerror_wait_max = 2\n\
         [kernel]\nenable_writes = false\n[control]\nsocket = \"{}/{me}.ctl\"\n",
        dir.display()
    )
}

/// A fresh directory for one test's files and a free port on 127.0.0.1 (127.0.0.2 may use the
/// same number).
fn scratch(label: &str) -> (PathBuf, u16) {
    let dir = std::env::temp_dir().join(format!("bgpd-{label}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    (dir, port)
}

#[test]
fn two_daemons_on_loopback_establish_and_see_administrative_shutdown() {
    let (dir, port) = scratch("loopback");
    let mut a = Daemon::start(
        &dir,
        "a",
        &config("127.0.0.1", 65001, "127.0.0.2", 4_200_000_002, port, &dir),
    );
    let b = Daemon::start(
        &dir,
        "b",
        &config("127.0.0.2", 4_200_000_002, "127.0.0.1", 65001, port, &dir),
    );
    let up = Duration::from_secs(20);
    let ea = a.wait_event("established", up);
    let eb = b.wait_event("established", up);
    assert_eq!(ea["fields"]["peer_as"], "4200000002", "{ea}");
    assert_eq!(eb["fields"]["peer_as"], "65001", "{eb}");
    assert_eq!(ea["fields"]["four_octet_as"], true);
    assert_eq!(ea["fields"]["hold_time"], 9);
    let status = a.terminate();
    assert!(status.success(), "clean exit: {status:?}");
    // The NOTIFICATION was written and the connection closed without waiting for the flush
    // timeout (the RIB actor's handle on the write queue does not keep it open).
    assert_eq!(
        a.events("shutdown_flush_timeout"),
        Vec::<serde_json::Value>::new()
    );
    let n = b.wait_event("notification_received", Duration::from_secs(5));
    assert_eq!(
        (
            n["fields"]["code"].as_u64(),
            n["fields"]["subcode"].as_u64()
        ),
        (Some(6), Some(2)),
        "{n}"
    );
    assert!(
        n["fields"]["text"]
            .as_str()
            .is_some_and(|t| t.contains("bgpd shutting down")),
        "{n}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Text logs written to a file (calico-node runs the daemon under runit, stderr to svlogd) carry
/// no terminal colour codes.
#[test]
fn text_logs_written_to_a_file_have_no_colour_codes() {
    let (dir, port) = scratch("textlog");
    let conf = dir.join("text.toml");
    std::fs::write(
        &conf,
        config("127.0.0.1", 65001, "127.0.0.2", 65002, port, &dir),
    )
    .expect("write config");
    let log = dir.join("text.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_bgpd"))
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("bgpd starts");
    let start = Instant::now();
    let text = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("INFO") || start.elapsed() > Duration::from_secs(10) {
            break text;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(text.contains("INFO"), "no log line:\n{text}");
    assert!(
        !text.contains('\u{1b}'),
        "colour codes in a log file:\n{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A reload that changes `[listen]` (BIRD's `listen bgp`) binds the new socket at once, closes
/// the old one, and leaves the established session alone (BIRD 1.6 asks for a restart instead).
#[test]
fn listen_change_rebinds_without_touching_the_established_session() {
    let (dir, port) = scratch("rebind");
    let a_conf = config("127.0.0.1", 65001, "127.0.0.2", 65002, port, &dir);
    let a = Daemon::start(&dir, "a", &a_conf);
    let _b = Daemon::start(
        &dir,
        "b",
        &config("127.0.0.2", 65002, "127.0.0.1", 65001, port, &dir),
    );
    let up = Duration::from_secs(20);
    a.wait_event("established", up);
    let new_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let moved = a_conf.replacen(
        &format!("port = {port}\n[[neighbors]]"),
        &format!("port = {new_port}\n[[neighbors]]"),
        1,
    );
    assert_ne!(moved, a_conf, "the listen port line is in the config");
    std::fs::write(dir.join("a.toml"), moved).expect("rewrite config");
    let pid = a.child.id().to_string();
    let ok = Command::new("kill").args(["-HUP", &pid]).status();
    assert!(ok.is_ok_and(|s| s.success()), "kill -HUP {pid}");
    let ev = a.wait_event("listen_rebound", Duration::from_secs(10));
    assert_eq!(ev["fields"]["port"], new_port, "{ev}");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", new_port)).is_ok(),
        "the new port accepts connections"
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the old port is closed"
    );
    // The session came up once and stays up: no second Established, no reconfiguration of it.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(a.events("established").len(), 1, "session flapped");
    let r = a.wait_event("reconfigured", Duration::from_secs(1));
    assert_eq!(r["fields"]["needs_restart"], "[]", "{r}");
    let _ = std::fs::remove_dir_all(&dir);
}
