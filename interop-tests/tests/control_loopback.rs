//! Our control socket read by Calico's consumers (re-implemented in `control_calico`), by the
//! real `birdc`/`birdcl` of BIRD 2.0.12 and by `bgpctl`, against a daemon whose peers are not
//! up: no root needed (loopback only, peers that refuse or cannot be reached). Also: garbage,
//! overlong lines, clients that never read, many clients at once, `disable`/`enable`, `down`.

mod control_calico;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use control_calico as calico;

/// Our daemon started directly (no namespace), killed on drop.
struct Daemon {
    child: Child,
    dir: PathBuf,
}

impl Daemon {
    fn start(test: &str, neighbors: &str, with_v6: bool) -> Daemon {
        let dir = std::env::temp_dir().join(format!("ctl-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        // A port of our own per test process; nothing connects to it.
        let salt: u32 = test.bytes().map(u32::from).sum();
        let port = 20_000 + ((std::process::id() * 7 + salt) % 40_000) as u16;
        let mut conf = format!(
            "router_id = \"10.99.0.1\"\nlocal_as = 64512\n[listen]\naddresses = [\"127.0.0.1\"]\n\
             port = {port}\n[kernel]\nenable_writes = false\n[control]\nsocket = \"{}\"\n",
            dir.join("bird.ctl").display()
        );
        if with_v6 {
            conf += &format!("socket_v6 = \"{}\"\n", dir.join("bird6.ctl").display());
        }
        conf += neighbors;
        let path = dir.join("bgpd.toml");
        std::fs::write(&path, conf).expect("config written");
        let bin = interop_tests::bgpd::binary().expect("bgpd binary");
        let log = std::fs::File::create(dir.join("bgpd.err")).expect("log");
        let child = Command::new(bin)
            .args(["-c", path.to_str().expect("utf-8 path")])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("bgpd starts");
        let d = Daemon { child, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !d.socket().exists() {
            assert!(Instant::now() < deadline, "control socket appears");
            std::thread::sleep(Duration::from_millis(50));
        }
        d
    }

    fn socket(&self) -> PathBuf {
        self.dir.join("bird.ctl")
    }

    fn socket6(&self) -> PathBuf {
        self.dir.join("bird6.ctl")
    }

    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const PEERS: &str = "\
[[neighbors]]\nname = \"Mesh_127_0_0_2\"\naddress = \"127.0.0.2\"\nremote_as = 64512\nport = 9\n\
connect_delay_time = 1\nconnect_retry_time = 1\n\
[[neighbors]]\nname = \"Node_127_0_0_3\"\naddress = \"127.0.0.3\"\nremote_as = 64512\npassive = true\n\
[[neighbors]]\nname = \"Global_fd99__5\"\naddress = \"fd99::5\"\nremote_as = 64512\npassive = true\n";

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn calico_consumers_accept_a_daemon_without_peers() {
    let d = Daemon::start("nopeers", "", false);
    let s = d.socket();
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(&s).expect("socket").permissions().mode();
    assert_eq!(mode & 0o777, 0o660, "the default control socket mode");
    assert_eq!(calico::get_peers(&s, '.'), Ok(vec![]));
    assert_eq!(
        calico::readiness(&s, '.', true),
        Ok(()),
        "young node, no peers: ready"
    );
    assert_eq!(calico::readiness(&s, '.', false), Ok(()));
    assert_eq!(calico::gr_in_progress(&s), Ok(false));
    let st = calico::read_bird_status(&s).expect("status");
    assert!(st.ready);
    assert_eq!(st.router_id, "10.99.0.1");
    assert_eq!(
        st.version,
        calico::GREETING_VERSION,
        "the fork-style `BIRD v…` line fills the reporter's version"
    );
    assert_eq!(st.server_time.len(), 19);
    assert_eq!(st.last_boot.len(), 19);
    assert_eq!(calico::read_bird_peers(&s, '.'), Ok((vec![], 0)));
    assert_eq!(non_direct(&s), Ok(vec![]));
}

/// The routes Calico's reporter reads, without `direct1`'s device routes (this test runs in
/// the host's namespace: its interfaces show).
fn non_direct(sock: &Path) -> Result<Vec<calico::ReportedRoute>, String> {
    let routes = calico::read_bird_routes(sock)?;
    assert!(
        routes
            .iter()
            .all(|r| r.learned_from != "direct1" || r.kind == "dev"),
        "{routes:?}"
    );
    Ok(routes
        .into_iter()
        .filter(|r| r.learned_from != "direct1")
        .collect())
}

#[test]
fn calico_consumers_read_peers_that_are_not_up() {
    let mut d = Daemon::start("down", PEERS, true);
    let (s, s6) = (d.socket(), d.socket6());
    wait_for("a connection refusal on Mesh_127_0_0_2", || {
        calico::get_peers(&s, '.')
            .map(|p| p.iter().any(|p| p.info.contains("Connection refused")))
            .unwrap_or(false)
    });
    let peers = calico::get_peers(&s, '.').expect("scan");
    assert_eq!(peers.len(), 2, "IPv4 socket: IPv4 peers only: {peers:?}");
    assert_eq!(peers[0].peer_ip, "127.0.0.2");
    assert_eq!(peers[0].peer_type, "node-to-node mesh");
    assert_eq!(peers[0].state, "start");
    assert_eq!(peers[0].bgp_state, "Active");
    assert_eq!(peers[0].info, "Socket: Connection refused");
    assert_eq!(peers[1].peer_ip, "127.0.0.3");
    assert_eq!(peers[1].peer_type, "node specific");
    assert_eq!(peers[1].bgp_state, "Passive");
    assert_eq!(peers[0].since.len(), 8, "since is one HH:MM:SS token");

    let verdict = "BGP not established with 127.0.0.2,127.0.0.3".to_string();
    assert_eq!(calico::readiness(&s, '.', true), Err(verdict.clone()));
    assert_eq!(calico::readiness(&s, '.', false), Err(verdict));
    let v6 = calico::get_peers(&s6, ':').expect("scan v6");
    assert_eq!(v6.len(), 1);
    assert_eq!(v6[0].peer_ip, "fd99::5");
    assert_eq!(v6[0].peer_type, "global");
    assert_eq!(
        calico::readiness(&s6, ':', false),
        Err("BGP not established with fd99::5".into())
    );

    let table = calico::calicoctl_table(&peers);
    assert_eq!(table[0][0], "PEER ADDRESS");
    assert_eq!(table[1][0], "127.0.0.2");
    assert_eq!(table[1][2], "start");
    assert_eq!(table[1][4], "Active Socket: Connection refused");

    let (reported, up) = calico::read_bird_peers(&s, '.').expect("reporter peers");
    assert_eq!(up, 0);
    assert_eq!(reported.len(), 2);
    assert_eq!(reported[0].session, "Mesh_127_0_0_2");
    assert_eq!(reported[0].bgp_state, "Active");
    assert_eq!(reported[0].neighbor_address, "127.0.0.2");
    assert_eq!(reported[1].neighbor_address, "127.0.0.3");
    let (reported6, _) = calico::read_bird_peers(&s6, ':').expect("reporter peers v6");
    assert_eq!(reported6[0].neighbor_address, "fd99::5");
    assert_eq!(non_direct(&s), Ok(vec![]));

    // disable: BIRD's `down` row has 5 columns, so Calico stops listing the peer.
    let ctl = calico::bgpctl();
    let sock = s.to_str().expect("utf-8");
    let (rc, out, _) = calico::run(&ctl, &["-s", sock, "disable", "Mesh_127_0_0_2"]);
    assert_eq!(
        (rc, out.as_str()),
        (
            0,
            calico::client_output("Mesh_127_0_0_2: disabled").as_str()
        )
    );
    wait_for("the disabled peer to leave Calico's list", || {
        calico::get_peers(&s, '.')
            .map(|p| p.len() == 1)
            .unwrap_or(false)
    });
    let (rc, out, _) = calico::run(&ctl, &["-s", sock, "show", "protocols", "Mesh_127_0_0_2"]);
    assert_eq!(rc, 0);
    assert!(
        out.contains("\nMesh_127_0_0_2 BGP      master   down   "),
        "{out}"
    );
    let (rc, out, _) = calico::run(&ctl, &["-s", sock, "enable", "Mesh_127_0_0_2"]);
    assert_eq!(
        (rc, out.as_str()),
        (0, calico::client_output("Mesh_127_0_0_2: enabled").as_str())
    );
    wait_for("the enabled peer to come back", || {
        calico::get_peers(&s, '.')
            .map(|p| p.len() == 2)
            .unwrap_or(false)
    });
    assert!(d.alive());
}

#[test]
fn real_birdc_birdcl_and_bgpctl_work_against_our_socket() {
    let d = Daemon::start("clients", PEERS, false);
    let sock = d.socket();
    let s = sock.to_str().expect("utf-8");
    let birdc = Path::new("/usr/sbin/birdc");
    if birdc.exists() {
        let (rc, out, err) = calico::run(birdc, &["-s", s, "show", "protocols"]);
        assert_eq!(rc, 0, "{err}");
        assert!(
            out.contains("name     proto    table    state  since       info"),
            "{out}"
        );
        assert!(
            out.contains("Mesh_127_0_0_2 BGP      master   start"),
            "{out}"
        );
        let (rc, out, _) = calico::run(Path::new("/usr/sbin/birdcl"), &["-s", s, "show", "status"]);
        assert_eq!(rc, 0);
        assert!(
            out.starts_with(&format!(
                "BIRD {v} ready.\nBIRD {v}\nRouter ID is 10.99.0.1\n",
                v = calico::GREETING_VERSION
            )),
            "{out}"
        );
        assert!(out.ends_with("Daemon is up and running\n"), "{out}");
    } else {
        eprintln!("skipping the real birdc part: /usr/sbin/birdc not installed");
    }
    let ctl = calico::bgpctl();
    // Liveness probe: `birdcl -s SOCKET show status` prints the greeting first, exits 0.
    let link = d.dir.join("birdcl");
    std::os::unix::fs::symlink(&ctl, &link).expect("symlink");
    let (rc, out, _) = calico::run(&link, &["-s", s, "show", "status"]);
    assert_eq!(rc, 0);
    assert!(out.starts_with("BIRD"), "{out}");
    let (rc, out, _) = calico::run(&link, &["-s", s, "show", "nonsense"]);
    assert_eq!(
        (rc, out.as_str()),
        (0, calico::client_output("syntax error").as_str()),
        "birdcl exits 0 on 9xxx"
    );
    let (rc, out, _) = calico::run(&ctl, &["-s", s, "sh", "pro"]);
    assert_eq!(rc, 0, "abbreviations expand as in birdc");
    assert!(out.contains("name     proto    table"), "{out}");
    let (rc, _, _) = calico::run(&ctl, &["-s", s, "show", "nonsense"]);
    assert_eq!(rc, 2, "bgpctl reports error replies");
    let (rc, _, err) = calico::run(&ctl, &["-s", "/nonexistent/sock", "show", "status"]);
    assert_eq!(rc, 1);
    assert!(err.contains("Unable to connect"), "{err}");
    let (rc, out, _) = calico::run(&ctl, &["-s", s, "--json", "show", "protocols", "all"]);
    assert_eq!(rc, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    // `direct1` and `static1` (our own blocks) come first, as in BIRD; kernel writes are off.
    assert_eq!(v[0]["name"], "direct1");
    assert_eq!(v[0]["proto"], "Direct");
    assert_eq!(v[0]["details"]["Preference"], "240");
    assert_eq!(v[1]["name"], "static1");
    assert_eq!(v[1]["proto"], "Static");
    assert_eq!(v[1]["details"]["Preference"], "200");
    assert_eq!(v[2]["name"], "Mesh_127_0_0_2");
    assert_eq!(v[2]["proto"], "BGP");
    assert_eq!(v[2]["details"]["Neighbor address"], "127.0.0.2");
    let (rc, out, _) = calico::run(&ctl, &["-s", s, "--json", "show", "route"]);
    assert_eq!(rc, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert!(
        v.as_array()
            .is_some_and(|a| a.iter().all(|r| r["protocol"] == "direct1")),
        "only device routes: {out}"
    );
    // Interactive form, reading commands from a pipe.
    let mut child = Command::new(&ctl)
        .args(["-s", s])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("bgpctl");
    use std::io::Write as _;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"show status\nshow memory\nquit\n")
        .expect("commands written");
    let o = child.wait_with_output().expect("bgpctl ends");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success());
    assert!(
        text.contains("Daemon is up and running\nBIRD memory usage\nTotal:"),
        "{text}"
    );
}

#[test]
fn garbage_overlong_lines_and_stuck_clients_do_not_hurt_the_daemon() {
    let mut d = Daemon::start("garbage", PEERS, false);
    let s = d.socket();
    // 1 MiB without a newline, then a newline: one `9000`, nothing buffered.
    let mut big = vec![b'x'; 1 << 20];
    big.push(b'\n');
    big.extend_from_slice(b"show status\n");
    let out = calico::raw_exchange(&s, &big, Duration::from_millis(1500));
    assert!(
        out.starts_with(&format!(
            "0001 BIRD {v} ready.\n9000 Command too long\n1000-BIRD {v}\n",
            v = calico::GREETING_VERSION
        )),
        "{}",
        &out[..out.len().min(300)]
    );
    // 1 MiB of binary junk with newlines: parse errors, the connection keeps working.
    let junk: Vec<u8> = (0..(1u32 << 20))
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let out = calico::raw_exchange(&s, &junk, Duration::from_millis(1500));
    assert!(out.starts_with(&format!("0001 BIRD {} ready.\n", calico::GREETING_VERSION)));
    assert!(
        out.lines()
            .skip(1)
            .all(|l| l.starts_with("9001 ") || l.starts_with("9000 ")),
        "only errors"
    );
    // A client that writes lots of commands and never reads.
    let stuck = std::os::unix::net::UnixStream::connect(&s).expect("connect");
    stuck
        .set_write_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    let cmds = "show protocols all\n".repeat(20_000);
    let _ = (&stuck).write_all_ignoring(cmds.as_bytes());
    // Meanwhile many clients at once are served.
    let handles: Vec<_> = (0..40)
        .map(|_| {
            let s = s.clone();
            std::thread::spawn(move || calico::gr_in_progress(&s))
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().expect("thread"), Ok(false));
    }
    assert_eq!(calico::get_peers(&s, '.').map(|p| p.len()), Ok(2));
    assert!(d.alive());
    drop(stuck);

    // Over the client limit (64 per socket) with idle clients: Calico's health commands still
    // get through, on a reserved slot (16 per socket).
    let wait_closed = || std::thread::sleep(Duration::from_millis(100));
    wait_closed();
    // Connected and served: each has read its greeting.
    let greeted = |n: usize| -> Vec<std::os::unix::net::UnixStream> {
        (0..n)
            .map(|_| {
                use std::io::Read as _;
                let c = std::os::unix::net::UnixStream::connect(&s).expect("connect");
                c.set_read_timeout(Some(Duration::from_secs(2)))
                    .expect("timeout");
                let mut b = [0u8; 64];
                let n = (&c).read(&mut b).expect("greeting");
                assert!(b[..n].starts_with(b"0001 "), "{:?}", &b[..n]);
                c
            })
            .collect()
    };
    let idle = greeted(64);
    assert_eq!(calico::get_peers(&s, '.').map(|p| p.len()), Ok(2));
    // Every reserved slot taken too (by clients idle for less than the second after which a
    // newcomer may displace one): the extra connection gets 8007 and is closed. Calico must not
    // read an overloaded daemon as "no peers, ready": it reads our 8007 line (the daemon reads
    // its command before closing, so neither its write nor its read fails).
    wait_closed();
    let reserved = greeted(16);
    for _ in 0..3 {
        assert_eq!(
            calico::get_peers(&s, '.'),
            Err(
                "error executing command: unexpected output line from BIRD: \
                 '8007 Too many control connections'"
                    .into()
            )
        );
    }
    drop(idle);
    drop(reserved);
    wait_for("service after the idle clients left", || {
        calico::get_peers(&s, '.')
            .map(|p| p.len() == 2)
            .unwrap_or(false)
    });
}

/// Writes what the socket takes until it blocks (the daemon stops reading when we stop reading).
trait WriteIgnoring {
    fn write_all_ignoring(self, data: &[u8]) -> usize;
}

impl WriteIgnoring for &std::os::unix::net::UnixStream {
    fn write_all_ignoring(self, data: &[u8]) -> usize {
        use std::io::Write as _;
        let mut w = self;
        let mut done = 0;
        while done < data.len() {
            match w.write(&data[done..]) {
                Ok(0) | Err(_) => break,
                Ok(n) => done += n,
            }
        }
        done
    }
}

#[test]
fn down_on_the_socket_stops_the_daemon() {
    let mut d = Daemon::start("down-cmd", "", false);
    let s = d.socket();
    let (rc, out, _) = calico::run(
        &calico::bgpctl(),
        &["-s", s.to_str().expect("utf-8"), "down"],
    );
    assert_eq!(
        (rc, out.as_str()),
        (0, calico::client_output("Shutdown requested").as_str())
    );
    wait_for("the daemon to exit", || !d.alive());
    assert!(!s.exists(), "socket removed on exit");
}

/// Serves canned replies (`command → reply`) after the greeting, like a BIRD with that state.
fn fake_bird(dir: &Path, replies: Vec<(&'static str, String)>) -> PathBuf {
    use std::io::{BufRead as _, Write as _};
    let path = dir.join("fake.ctl");
    let _ = std::fs::remove_file(&path);
    let l = std::os::unix::net::UnixListener::bind(&path).expect("bind fake");
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut w) = conn else { return };
            let replies = replies.clone();
            std::thread::spawn(move || {
                let r = std::io::BufReader::new(w.try_clone().expect("clone"));
                let _ = w.write_all(b"0001 BIRD 1.6.8 ready.\n");
                for line in r.lines() {
                    let Ok(line) = line else { return };
                    let reply = replies
                        .iter()
                        .find(|(c, _)| *c == line)
                        .map(|(_, r)| r.clone())
                        .unwrap_or_else(|| "9001 syntax error\n".into());
                    if w.write_all(reply.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    path
}

/// BIRD 1.6.8 transcripts (CALICO.md §4, captured during GR recovery).
const PROTOCOLS_1_6: &str = "2002-name     proto    table    state  since       info\n\
1002-kernel1  Kernel   master   wait   05:29:13    \n\
\x20device1  Device   master   up     05:29:13    \n\
\x20direct1  Direct   master   up     05:29:13    \n\
\x20static1  Static   master   up     05:29:13    \n\
\x20Mesh_10_99_0_2 BGP      master   wait   05:29:15    Established   \n\
\x20Global_10_99_0_3 BGP      master   start  05:29:13    Active        Socket: No route to host\n\
0000 \n";

fn status_1_6(gr: bool) -> String {
    let mut s = "1000-BIRD 1.6.8\n1011-Router ID is 10.99.0.1\n Current server time is 2026-11-24 05:29:18\n \
                 Last reboot on 2026-11-24 05:29:13\n Last reconfiguration on 2026-11-24 05:29:13\n"
        .to_string();
    if gr {
        s += "0024-Graceful restart recovery in progress\n   Waiting for 1 protocols to recover\n   Wait timer is 20/25\n";
    }
    s + "0013 Daemon is up and running\n"
}

#[test]
fn calico_parsers_reproduce_their_verdicts_on_bird_1_6_transcripts() {
    let dir = std::env::temp_dir().join(format!("ctl-fake-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let routes = "1007-10.99.0.0/24       dev ck1 [direct1 05:29:13] * (240)\n\
                  \x2010.99.64.0/26      blackhole [static1 05:29:13] * (200)\n\
                  \x2010.99.65.0/26      via 10.99.0.2 on ck1 [Mesh_10_99_0_2 05:29:15] * (100/0) [i]\n\
                  0000 \n";
    let detail = "2002-name     proto    table    state  since       info\n\
                  1002-Mesh_10_99_0_2 BGP      master   wait   05:29:15    Established   \n\
                  1006-  Description:    Connection to BGP peer\n   BGP state:          Established\n     \
                  Neighbor address: 10.99.0.2\n \n0000 \n";
    let s = fake_bird(
        &dir,
        vec![
            ("show protocols", PROTOCOLS_1_6.to_string()),
            ("show status", status_1_6(false)),
            ("show route", routes.to_string()),
            ("show protocols all Mesh_10_99_0_2", detail.to_string()),
            (
                "show protocols all Global_10_99_0_3",
                "9002 Global_10_99_0_3 is not a protocol\n".into(),
            ),
        ],
    );
    let peers = calico::get_peers(&s, '.').expect("scan");
    assert_eq!(
        peers.len(),
        2,
        "kernel/device/direct/static rows are not peers"
    );
    assert_eq!(
        (peers[0].state.as_str(), peers[0].bgp_state.as_str()),
        ("wait", "Established")
    );
    assert_eq!(peers[1].info, "Socket: No route to host");
    // Young node: every peer must be up; old node: one is enough.
    assert_eq!(
        calico::readiness(&s, '.', true),
        Err("BGP not established with 10.99.0.3".into())
    );
    assert_eq!(calico::readiness(&s, '.', false), Ok(()));
    assert_eq!(calico::gr_in_progress(&s), Ok(false));
    let routes = calico::read_bird_routes(&s).expect("routes");
    let kinds: Vec<&str> = routes.iter().map(|r| r.kind.as_str()).collect();
    assert_eq!(kinds, ["dev", "blackhole", "via"]);
    assert_eq!(routes[2].gateway, "10.99.0.2");
    assert_eq!(routes[2].learned_from, "Mesh_10_99_0_2");
    // The reporter: `wait` is not `up`; a 9xxx reply to the second command is not recognised
    // (Calico waits out its 2 s deadline and fails).
    let r = calico::read_bird_peers(&s, '.');
    assert!(r.is_err(), "{r:?}");

    // All peers established but GR recovery running: a young node is not ready.
    let all_up = PROTOCOLS_1_6.replace(
        "start  05:29:13    Active        Socket: No route to host",
        "up     05:29:13    Established   ",
    );
    let s2 = {
        let d2 = dir.join("gr");
        std::fs::create_dir_all(&d2).expect("dir");
        fake_bird(
            &d2,
            vec![
                ("show protocols", all_up),
                ("show status", status_1_6(true)),
            ],
        )
    };
    assert_eq!(calico::gr_in_progress(&s2), Ok(true));
    assert_eq!(
        calico::readiness(&s2, '.', true),
        Err("graceful restart in progress".into())
    );
    assert_eq!(calico::readiness(&s2, '.', false), Ok(()));
    // BIRD 2's heading is refused.
    let s3 = {
        let d3 = dir.join("b2");
        std::fs::create_dir_all(&d3).expect("dir");
        fake_bird(
            &d3,
            vec![(
                "show protocols",
                "2002-Name       Proto      Table      State  Since         Info\n0000 \n".into(),
            )],
        )
    };
    assert_eq!(
        calico::get_peers(&s3, '.'),
        Err("error executing command: unknown BIRD table output format".into())
    );
    let _ = std::fs::remove_dir_all(&dir);
}
