//! A raw BGP speaker on loopback (no root) sends our daemon malformed UPDATEs; the daemon's JSON
//! log must say, per UPDATE, which attribute was wrong (by name), what was wrong, the prefixes
//! concerned and what was done (RFC 7606 treat-as-withdraw / attribute discard / session reset),
//! as structured fields.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bgp_proto::capability::Capability;
use bgp_proto::{Asn, Message, Open, RouterId, SessionContext};

struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    fn start(dir: &Path, toml: &str) -> Daemon {
        let conf = dir.join("bgpd.toml");
        std::fs::write(&conf, toml).expect("write config");
        let log = dir.join("bgpd.log");
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

    /// Waits until `n` events of this kind were logged and returns them.
    fn wait_events(&self, event: &str, n: usize) -> Vec<serde_json::Value> {
        let start = Instant::now();
        loop {
            let v = self.events(event);
            if v.len() >= n {
                return v;
            }
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "fewer than {n} {event} in {}:\n{}",
                self.log.display(),
                std::fs::read_to_string(&self.log).unwrap_or_default()
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

fn read_message(s: &mut TcpStream) -> Vec<u8> {
    let mut head = [0u8; 19];
    s.read_exact(&mut head).expect("message header");
    let len = usize::from(u16::from_be_bytes([head[16], head[17]]));
    let mut body = vec![0u8; len - 19];
    s.read_exact(&mut body).expect("message body");
    [head.to_vec(), body].concat()
}

/// An UPDATE message (header added) from its body in hex (spaces and `#` comments allowed).
fn update(body_hex: &str) -> Vec<u8> {
    let hex: String = body_hex
        .lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join(" ")
        .split_whitespace()
        .collect();
    let body = hex::decode(hex).expect("test hex");
    let mut m = vec![0xff; 16];
    m.extend_from_slice(&u16::try_from(19 + body.len()).unwrap().to_be_bytes());
    m.push(2);
    m.extend_from_slice(&body);
    m
}

/// NLRI 10.99.1.0/24 and 10.99.2.0/24 with ORIGIN, AS_PATH 65002, NEXT_HOP `nh` and `extra`
/// attributes (hex, `extra_len` octets).
fn announce(nh: &str, extra: &str, extra_len: usize) -> Vec<u8> {
    update(&format!(
        "0000 {:04x}
         40 01 01 00                 # ORIGIN IGP
         40 02 06 02 01 0000fdea     # AS_PATH 65002
         40 03 04 {nh}               # NEXT_HOP
         {extra}
         18 0a6301 18 0a6302         # NLRI 10.99.1.0/24, 10.99.2.0/24",
        20 + extra_len
    ))
}

#[test]
fn malformed_updates_are_logged_with_attribute_reason_prefixes_and_action() {
    let dir = std::env::temp_dir().join(format!("bgpd-rfc7606-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    // The raw speaker listens on 127.0.0.2; the daemon (127.0.0.1) connects to it.
    let listener = TcpListener::bind("127.0.0.2:0").expect("bind 127.0.0.2");
    let port = listener.local_addr().expect("addr").port();
    let toml = format!(
        "router_id = \"10.99.0.1\"\nlocal_as = 65001\n[listen]\naddresses = [\"127.0.0.1\"]\n\
         port = {port}\n[[neighbors]]\nname = \"raw\"\naddress = \"127.0.0.2\"\nport = {port}\n\
         remote_as = 65002\nmultihop = 2\nsource_address = \"127.0.0.1\"\nhold_time = 30\n\
         connect_delay_time = 0\nconnect_retry_time = 1\n[kernel]\nenable_writes = false\n\
         [control]\nsocket = \"{}/bgpd.ctl\"\n",
        dir.display()
    );
    let daemon = Daemon::start(&dir, &toml);
    let (mut s, _) = listener.accept().expect("daemon connects");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let ctx = SessionContext::default();
    let theirs = read_message(&mut s);
    assert!(matches!(
        Message::decode(&theirs, &ctx),
        Ok(Message::Open(_))
    ));
    let caps = vec![Capability::Multiprotocol {
        afi: bgp_proto::Afi::Ipv4,
        safi: bgp_proto::Safi::Unicast,
    }];
    let open = Open::new(Asn(65002), 30, RouterId("10.99.0.2".parse().unwrap()), caps);
    let open = Message::Open(open).to_bytes(&ctx).expect("encode OPEN");
    s.write_all(&open).unwrap();
    s.write_all(&Message::Keepalive.to_bytes(&ctx).unwrap())
        .unwrap();
    daemon.wait_events("established", 1);

    // 1. ORIGINATOR_ID of 3 octets: treat-as-withdraw of both prefixes.
    s.write_all(&announce("0a630002", "80 09 03 0a6300", 6))
        .unwrap();
    // 2. A martian NEXT_HOP: treat-as-withdraw.
    s.write_all(&announce("7f000001", "", 0)).unwrap();
    // 3. A well-formed ORIGINATOR_ID and CLUSTER_LIST from an eBGP peer: discarded, routes kept.
    s.write_all(&announce(
        "0a630002",
        "80 09 04 0a630009 80 0a 04 0a630001",
        14,
    ))
    .unwrap();
    let taw = daemon.wait_events("treat_as_withdraw", 2);
    let f = &taw[0]["fields"];
    assert_eq!(f["attr"], "ORIGINATOR_ID", "{f}");
    assert_eq!(
        f["reason"], "ORIGINATOR_ID: length 3, expected 4 (treat-as-withdraw)",
        "{f}"
    );
    assert_eq!(f["action"], "treat-as-withdraw", "{f}");
    assert_eq!(f["prefixes"], "10.99.1.0/24,10.99.2.0/24", "{f}");
    assert_eq!(f["withdrawn_count"], 2, "{f}");
    // The peer is named by the per-peer span.
    assert_eq!(taw[0]["span"]["peer"], "127.0.0.2", "{}", taw[0]);
    let f = &taw[1]["fields"];
    assert_eq!(f["attr"], "NEXT_HOP", "{f}");
    assert!(
        f["reason"]
            .as_str()
            .is_some_and(|r| r.contains("next hop 127.0.0.1 is not a unicast host address")),
        "{f}"
    );
    let discard = daemon.wait_events("attribute_discard", 1);
    let f = &discard[0]["fields"];
    assert_eq!(f["attr"], "ORIGINATOR_ID,CLUSTER_LIST", "{f}");
    assert_eq!(f["action"], "attribute discarded", "{f}");
    assert_eq!(f["prefix_count"], 2, "{f}");

    // 4. MP_REACH_NLRI with a next hop of 5 octets: session reset, logged with the attribute.
    s.write_all(&update(
        "0000 0015
         80 0e 0e 0001 01 05 0a63000201 00 18 0a6303  # MP_REACH_NLRI, next hop length 5
         40 01 01 00",
    ))
    .unwrap();
    let err = daemon.wait_events("message_error", 1);
    let f = &err[0]["fields"];
    assert_eq!(f["attr"], "MP_REACH_NLRI", "{f}");
    assert!(
        f["reason"]
            .as_str()
            .is_some_and(|r| r.contains("next hop length 5")),
        "{f}"
    );
    assert_eq!(f["action"], "session reset with NOTIFICATION 3/9", "{f}");
    let _ = std::fs::remove_dir_all(&dir);
}
