//! The metrics endpoint of a real daemon: two of ours on loopback (127.0.0.1 and 127.0.0.2, no
//! root), scraped over HTTP before and after the session comes up, after a reload (SIGHUP), a
//! rejected reload, and the peer's shutdown.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Daemon {
    child: Child,
    conf: PathBuf,
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
        Daemon { child, conf }
    }

    fn signal(&self, sig: &str) {
        let pid = self.child.id().to_string();
        let ok = Command::new("kill").args([sig, &pid]).status();
        assert!(ok.is_ok_and(|s| s.success()), "kill {sig} {pid}");
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

fn config(me: &str, peer: &str, port: u16, dir: &Path, extra: &str) -> String {
    format!(
        "router_id = \"{me}\"\nlocal_as = 64512\n[listen]\naddresses = [\"{me}\"]\nport = {port}\n\
         [[neighbors]]\nname = \"Mesh_{}\"\naddress = \"{peer}\"\nport = {port}\nremote_as = 64512\n\
         source_address = \"{me}\"\nhold_time = 9\nkeepalive_time = 3\nconnect_delay_time = 0\n\
         connect_retry_time = 1\nerror_wait_min = 1\nerror_wait_max = 2\n{extra}\
         [kernel]\nenable_writes = false\n[control]\nsocket = \"{}/{me}.ctl\"\n",
        peer.replace('.', "_"),
        dir.display()
    )
}

/// `GET /metrics`; the body.
fn scrape(port: u16) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n")
        .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let (head, body) = out.split_once("\r\n\r\n")?;
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    Some(body.to_owned())
}

/// The value of the sample whose line starts with `series` (name and labels).
fn value(body: &str, series: &str) -> Option<f64> {
    body.lines()
        .find_map(|l| l.strip_prefix(series))
        .and_then(|v| v.trim().parse().ok())
}

fn wait_for(port: u16, what: &str, pred: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    loop {
        if let Some(b) = scrape(port) {
            if pred(&b) {
                return b;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "{what}; last scrape:\n{b}"
            );
        } else {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "{what}: no answer"
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn metrics_follow_the_session_reloads_and_the_peer() {
    let dir = std::env::temp_dir().join(format!("bgpd-metrics-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let port = free_port();
    let mport = free_port();
    let metrics = format!("[metrics]\nlisten = \"127.0.0.1:{mport}\"\n");
    let a_text = config("127.0.0.1", "127.0.0.2", port, &dir, &metrics);
    let a = Daemon::start(&dir, "a", &a_text);
    let peer = "{peer=\"Mesh_127_0_0_2\",address=\"127.0.0.2\"}";
    let up = format!("bgpd_peer_up{peer}");
    let before = wait_for(mport, "metrics served", |b| b.contains("# EOF"));
    assert_eq!(value(&before, &up), Some(0.0), "{before}");
    assert_eq!(value(&before, "bgpd_reloads_total"), Some(0.0));

    let mut b = Daemon::start(&dir, "b", &config("127.0.0.2", "127.0.0.1", port, &dir, ""));
    let body = wait_for(mport, "session up", |b| value(b, &up) == Some(1.0));
    assert_eq!(value(&body, &format!("bgpd_peer_state{peer}")), Some(6.0));
    assert_eq!(
        value(&body, &format!("bgpd_peer_established_total{peer}")),
        Some(1.0)
    );
    // End-of-RIB both ways counts as one UPDATE each.
    let body = wait_for(mport, "End-of-RIB counted", |b| {
        value(b, &format!("bgpd_peer_updates_received_total{peer}")) >= Some(1.0)
            && value(b, &format!("bgpd_peer_updates_sent_total{peer}")) >= Some(1.0)
    });
    assert!(value(&body, &format!("bgpd_peer_uptime_seconds{peer}")).is_some());

    // A reload (description only), then a rejected one.
    std::fs::write(
        &a.conf,
        a_text.replacen(
            "remote_as = 64512\n",
            "remote_as = 64512\ndescription = \"x\"\n",
            1,
        ),
    )
    .expect("write");
    a.signal("-HUP");
    wait_for(mport, "reload counted", |b| {
        value(b, "bgpd_reloads_total") == Some(1.0)
    });
    std::fs::write(&a.conf, format!("{a_text}bogus = 1\n")).expect("write");
    a.signal("-HUP");
    let body = wait_for(mport, "failure counted", |b| {
        value(b, "bgpd_reload_failures_total") == Some(1.0)
    });
    assert_eq!(value(&body, &up), Some(1.0), "the session stayed up");
    assert_eq!(
        value(&body, &format!("bgpd_peer_established_total{peer}")),
        Some(1.0)
    );

    // The peer goes: its Cease is counted, the session is down.
    b.signal("-TERM");
    let _ = b.child.wait();
    let body = wait_for(mport, "peer gone", |b| value(b, &up) == Some(0.0));
    assert_eq!(
        value(
            &body,
            &format!("bgpd_peer_notifications_received_total{peer}")
        ),
        Some(1.0),
        "{body}"
    );
    drop(a);
    let _ = std::fs::remove_dir_all(&dir);
}
