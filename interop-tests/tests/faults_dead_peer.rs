//! A peer that stops reading (as one SIGSTOPped): found by fault injection, our side went Idle
//! when the hold timer fired but kept the TCP connection ESTABLISHED with ~1 MB queued for ever
//! (zero-window probes keep it alive; the NOTIFICATION never left). Reproduced here with a raw
//! speaker (a tiny receive buffer, never reads after the handshake, sends nothing) in its own
//! namespace, to which our daemon exports 2,000 blocks: after the hold time and the bounded
//! flush, `ss` in our namespace shows no socket to it any more.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use interop_tests::bgpd::{Bgpd, BgpdConfig, BgpdNeighbor};
use interop_tests::{require_root, wait_until, Fabric, Proc, TempDir};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Environment of [`stalled_speaker`] when the main test runs it in node 2's namespace.
const STALLED_DIR: &str = "FAULTS_STALLED_SPEAKER_DIR";
/// The hold time the speaker offers (the negotiated one: ours is longer).
const SPEAKER_HOLD: u16 = 6;
/// Ours: longer, so that TCP_USER_TIMEOUT (set to it) does not act first and the test sees
/// the daemon's own flush-then-abort.
const OUR_HOLD: u16 = 30;
const BLOCKS: u32 = 2_000;

fn message(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![0xff; 16];
    m.extend_from_slice(&u16::try_from(19 + body.len()).unwrap_or(0).to_be_bytes());
    m.push(kind);
    m.extend_from_slice(body);
    m
}

/// Not a test of its own: run by the main test inside node 2's namespace. Connects to our
/// daemon with a 1 KiB receive buffer, completes the OPEN exchange, writes its local port to
/// `port`, then neither reads nor writes again.
#[test]
fn stalled_speaker() {
    let Ok(dir) = std::env::var(STALLED_DIR) else {
        return;
    };
    let dir = PathBuf::from(dir);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let sock = tokio::net::TcpSocket::new_v4().expect("socket");
        sock.set_recv_buffer_size(1024).expect("SO_RCVBUF");
        sock.bind(SocketAddr::new(Ipv4Addr::new(10, 99, 0, 2).into(), 0))
            .expect("bind");
        let mut s = sock
            .connect(SocketAddr::new(Ipv4Addr::new(10, 99, 0, 1).into(), 179))
            .await
            .expect("connect to our daemon");
        // OPEN: version 4, AS 65002, hold time, BGP identifier, no optional parameters
        // (IPv4 unicast only, RFC 4760 §1).
        let mut open = vec![4, 0xfd, 0xea];
        open.extend_from_slice(&SPEAKER_HOLD.to_be_bytes());
        open.extend_from_slice(&[10, 99, 0, 2, 0]);
        s.write_all(&message(1, &open)).await.expect("OPEN");
        let (mut got_open, mut got_keepalive) = (false, false);
        while !(got_open && got_keepalive) {
            let mut h = [0u8; 19];
            s.read_exact(&mut h).await.expect("header");
            let len = usize::from(u16::from_be_bytes([h[16], h[17]]));
            let mut body = vec![0u8; len.saturating_sub(19)];
            s.read_exact(&mut body).await.expect("body");
            match h[18] {
                1 => {
                    got_open = true;
                    s.write_all(&message(4, &[])).await.expect("KEEPALIVE");
                }
                4 => got_keepalive = got_open,
                3 => panic!("NOTIFICATION {body:02x?}"),
                _ => {}
            }
        }
        let port = s.local_addr().expect("local address").port();
        std::fs::write(dir.join("port"), port.to_string()).expect("report");
        // Stopped: the connection stays open, nothing is read or sent any more.
        tokio::time::sleep(Duration::from_secs(3600)).await;
        drop(s);
    });
}

#[test]
fn socket_to_a_peer_that_stopped_reading_is_closed_after_hold_time_and_bounded_flush() {
    if !require_root(
        "socket_to_a_peer_that_stopped_reading_is_closed_after_hold_time_and_bounded_flush",
    ) {
        return;
    }
    let fabric = Fabric::new(&format!("fdp-{}", std::process::id()), 2).expect("fabric");
    let mut n = BgpdNeighbor::new("Global_10_99_0_2", "10.99.0.2", 65002);
    n.passive = true;
    n.hold_time = OUR_HOLD;
    n.keepalive_time = OUR_HOLD / 3;
    let config = BgpdConfig {
        router_id: "10.99.0.1".into(),
        local_as: 65001,
        listen: vec!["10.99.0.1".into()],
        neighbors: vec![n],
    };
    let blocks: Vec<String> = (0..BLOCKS)
        .map(|i| {
            format!(
                "\"10.{}.{}.{}/26\"",
                64 + i / 1024,
                (i / 4) % 256,
                (i % 4) * 64
            )
        })
        .collect();
    let top = format!(
        "local_blocks = [{}]\nip_pools = [{{ cidr = \"10.64.0.0/10\" }}]\n",
        blocks.join(", ")
    );
    let ours = Bgpd::start_with(&fabric.node(1).ns, &config, &top).expect("our bgpd starts");
    let speaker_dir = TempDir::new("stalled-speaker").expect("temp dir");
    let exe = std::env::current_exe().expect("test binary");
    let env = format!("{STALLED_DIR}={}", speaker_dir.path().display());
    let _speaker = Proc::spawn_in(
        &fabric.node(2).ns,
        "stalled-speaker",
        &[
            "env",
            &env,
            exe.to_str().expect("utf-8"),
            "--exact",
            "stalled_speaker",
            "--nocapture",
        ],
        speaker_dir.path(),
    )
    .expect("speaker starts");
    let mut port = 0u16;
    wait_until("the speaker's session up", Duration::from_secs(20), || {
        port = std::fs::read_to_string(speaker_dir.path().join("port"))
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(0);
        Ok(port != 0)
    })
    .expect("session up");
    let up = Instant::now();
    ours.wait_established("10.99.0.2", Duration::from_secs(5))
        .expect("Established on our side");
    // The reproduction's condition: our octets are stuck in the send queue.
    let mut stuck = String::new();
    wait_until("our send queue to fill", Duration::from_secs(5), || {
        let s = ns_ss(&fabric, port);
        stuck = s.join("\n");
        Ok(s.iter().any(|l| send_q(l) > 0))
    })
    .unwrap_or_else(|e| panic!("{e}: {stuck}"));
    // Hold timer (the speaker's 6 s), then the flush (2 s) and the abort.
    ours.wait_event(
        "down",
        "10.99.0.2",
        1,
        Duration::from_secs(u64::from(SPEAKER_HOLD) + 5),
    )
    .expect("hold timer expired");
    let mut left = Vec::new();
    let r = wait_until(
        "no socket to the stalled speaker",
        Duration::from_secs(4),
        || {
            left = ns_ss(&fabric, port);
            Ok(left.is_empty())
        },
    );
    assert!(
        r.is_ok(),
        "{:?} after session up, still there:\n{}",
        up.elapsed(),
        left.join("\n")
    );
    let aborted = ours.events("tcp_abort", Some("10.99.0.2"));
    assert_eq!(
        aborted.len(),
        1,
        "the daemon aborted it itself: {aborted:?}"
    );
}

/// `ss -tn` lines in our namespace (node 1) for the speaker's port.
fn ns_ss(fabric: &Fabric, port: u16) -> Vec<String> {
    fabric
        .node(1)
        .exec(&[
            "ss",
            "-tn",
            "state",
            "all",
            "dport",
            "=",
            &format!(":{port}"),
        ])
        .unwrap_or_default()
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

/// The Send-Q column of an `ss -tn` line (state, Recv-Q, Send-Q, ...).
fn send_q(line: &str) -> u64 {
    line.split_whitespace()
        .nth(2)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}
