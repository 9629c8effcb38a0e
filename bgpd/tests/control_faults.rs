//! Faults found by fault injection on the control socket and on reloads, each reproduced against
//! the real daemon binary (no root needed: loopback, kernel writes off):
//! - `configure "PATH"` of a FIFO, a device or a huge file: refused at once with a BIRD-style
//!   error, memory unchanged, SIGHUP and SIGTERM still served (a FIFO used to wedge the main
//!   loop, `/dev/zero` to grow memory ~0.7 GB/s);
//! - idle clients filling every slot (64 of them locked every later client out with `8007`
//!   for up to 600 s): the health commands calico-node runs still get through, within a
//!   second, and after a while a newcomer takes the slot of the client idle the longest.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bgpd::control::client::{Connection, ReplyLine};

struct Daemon {
    child: Child,
    socket: PathBuf,
}

impl Daemon {
    fn start(dir: &Path) -> Daemon {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let socket = dir.join("bgpd.ctl");
        let conf = dir.join("bgpd.toml");
        std::fs::write(
            &conf,
            format!(
                "router_id = \"127.0.0.1\"\nlocal_as = 64512\n[listen]\naddresses = [\"127.0.0.1\"]\n\
                 port = {port}\n[[neighbors]]\nname = \"Mesh_127_0_0_2\"\naddress = \"127.0.0.2\"\n\
                 remote_as = 64512\npassive = true\n[kernel]\nenable_writes = false\n\
                 [control]\nsocket = \"{}\"\n",
                socket.display()
            ),
        )
        .expect("write config");
        let child = Command::new(env!("CARGO_BIN_EXE_bgpd"))
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("bgpd.log")).expect("log file"))
            .spawn()
            .expect("bgpd starts");
        let d = Daemon { child, socket };
        let start = Instant::now();
        while d.connect().is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "no control socket"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        d
    }

    fn connect(&self) -> Result<Connection, bgpd::control::client::ClientError> {
        let mut c = Connection::connect(&self.socket, Duration::from_secs(5))?;
        c.read_reply()?;
        Ok(c)
    }

    fn command(&self, line: &str) -> Vec<ReplyLine> {
        self.connect()
            .and_then(|mut c| c.command(line))
            .unwrap_or_else(|e| panic!("{line}: {e}"))
    }

    /// (VmRSS, VmHWM) in KiB.
    fn memory(&self) -> (u64, u64) {
        let s =
            std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("status");
        let kb = |key: &str| {
            s.lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
                .unwrap_or(0)
        };
        (kb("VmRSS:"), kb("VmHWM:"))
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status();
        assert!(ok.is_ok_and(|s| s.success()), "kill {sig}");
    }

    fn wait_exit(&mut self, within: Duration) -> std::process::ExitStatus {
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            assert!(start.elapsed() < within, "bgpd did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn scratch(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bgpd-{label}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn text(reply: &[ReplyLine]) -> String {
    reply
        .iter()
        .map(|l| format!("{:04} {}", l.code, l.text))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The last line of `configure "path"`: within a second, a config error naming why.
fn configure_refused(d: &Daemon, path: &Path, why: &str) {
    let started = Instant::now();
    let r = d.command(&format!("configure \"{}\"", path.display()));
    let took = started.elapsed();
    let last = r.last().expect("a reply");
    assert_eq!(last.code, 8002, "{}", text(&r));
    assert!(
        last.text.contains(why) && last.text.contains(&path.display().to_string()),
        "{why}: {}",
        text(&r)
    );
    assert!(took < Duration::from_secs(1), "answered in {took:?}");
}

#[test]
fn configure_refuses_fifos_devices_and_huge_files_at_once() {
    let dir = scratch("configure-faults");
    let mut d = Daemon::start(&dir);
    let before = d.memory();
    let fifo = dir.join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo");
    configure_refused(&d, &fifo, "not a regular file (a FIFO)");
    configure_refused(&d, Path::new("/dev/zero"), "(a character device)");
    // A sparse file just over the limit: nothing of it is read.
    let big = dir.join("big.toml");
    let f = std::fs::File::create(&big).expect("create");
    f.set_len(conf::file::MAX_FILE_SIZE + 1).expect("truncate");
    configure_refused(&d, &big, "larger than the 16 MiB limit");
    // `configure check` goes through the same reader.
    let r = d.command(&format!("configure check \"{}\"", fifo.display()));
    assert_eq!(r.last().map(|l| l.code), Some(8002), "{}", text(&r));
    let after = d.memory();
    assert!(
        after.1 < before.1 + 8 * 1024,
        "peak memory grew from {before:?} to {after:?} KiB"
    );
    // The main loop is free: a reload of the running file, then SIGTERM, are served.
    let r = d.command("configure");
    assert_eq!(r.last().map(|l| l.code), Some(3), "{}", text(&r));
    d.signal("-HUP");
    let r = d.command("show status");
    assert_eq!(r.last().map(|l| l.code), Some(13), "{}", text(&r));
    d.signal("-TERM");
    assert!(d.wait_exit(Duration::from_secs(10)).success());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Calico's way: the command written before the greeting is read, then lines up to `0000`.
fn calico_show_protocols(socket: &Path) -> (Duration, String) {
    use std::io::{BufRead, BufReader, Write};
    let started = Instant::now();
    let mut s = std::os::unix::net::UnixStream::connect(socket).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    s.write_all(b"show protocols\n").expect("write");
    let mut text = String::new();
    for line in BufReader::new(s).lines() {
        let Ok(line) = line else { break };
        let end = line.starts_with("0000") || line.starts_with("8007");
        text += &line;
        text.push('\n');
        if end {
            break;
        }
    }
    (started.elapsed(), text)
}

#[test]
fn health_commands_get_through_when_idle_clients_take_every_slot() {
    let dir = scratch("control-slots");
    let d = Daemon::start(&dir);
    let mut idle: Vec<Connection> = (0..bgpd::control::MAX_CLIENTS)
        .map(|_| d.connect().expect("a slot"))
        .collect();
    // At once (nobody idle for long): a reserved slot serves the health commands...
    let (took, protocols) = calico_show_protocols(&d.socket);
    assert!(took < Duration::from_secs(1), "{took:?}");
    assert!(
        protocols.contains("2002-name     proto    table    state  since       info")
            && protocols.contains("Mesh_127_0_0_2")
            && protocols.ends_with("0000 \n"),
        "{protocols}"
    );
    let started = Instant::now();
    let r = d.command("show status");
    assert_eq!(r.last().map(|l| l.code), Some(13), "{}", text(&r));
    assert!(started.elapsed() < Duration::from_secs(1));
    // ... and nothing else.
    let r = d.command("show route");
    assert_eq!(r.last().map(|l| l.code), Some(8007), "{}", text(&r));
    // Once clients have been idle a while, a newcomer takes the slot of the oldest one and
    // may run anything.
    std::thread::sleep(bgpd::control::admission::MIN_IDLE + Duration::from_millis(200));
    let r = d.command("show route");
    assert_eq!(r.last().map(|l| l.code), Some(0), "{}", text(&r));
    let dropped = idle
        .iter_mut()
        .map(|c| c.command("show status"))
        .filter(Result::is_err)
        .count();
    assert_eq!(dropped, 1, "one idle client made room");
    let _ = std::fs::remove_dir_all(&dir);
}
