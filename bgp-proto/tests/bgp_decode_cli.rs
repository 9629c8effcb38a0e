//! The `bgp-decode` binary end to end: hex in, one JSON object per line out, exit status.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_bgp-decode");

/// OPEN sent by BIRD 2.0.12 (captured 2026-11-24; also in src/message.rs tests).
const BIRD_OPEN: &str = "ffffffffffffffffffffffffffffffff00610104fde9005a0a6307014402420104\
    0001000101040002000102000506000100010002060040\
    0a0078000101000002010041040000fde94504000101034600470e00010100000e1000020100000e10";

fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn bgp-decode");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait bgp-decode")
}

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

#[test]
fn real_open_decodes_every_capability() {
    let out = run(&[], &format!("# BIRD OPEN\n\n{BIRD_OPEN}\n"));
    assert!(out.status.success(), "{out:?}");
    let v = lines(&out);
    assert_eq!(v.len(), 1);
    let o = &v[0];
    assert_eq!(o["type"], "OPEN");
    assert_eq!(o["length"], 97);
    assert_eq!(o["line"], 3);
    assert_eq!(o["asn"], 65001);
    assert_eq!(o["hold_time"], 90);
    assert_eq!(o["router_id"], "10.99.7.1");
    let caps = o["capabilities"].as_array().expect("capabilities");
    let names: Vec<&str> = caps.iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "multiprotocol",
            "multiprotocol",
            "route-refresh",
            "extended-next-hop",
            "extended-message",
            "graceful-restart",
            "four-octet-as",
            "add-path",
            "enhanced-route-refresh",
            "long-lived-graceful-restart"
        ]
    );
    assert_eq!(caps[7]["families"][0]["mode"], "send-receive");
    assert_eq!(caps[5]["restart_time"], 120);
}

#[test]
fn colons_and_spaces_are_tolerated() {
    let spaced: String = BIRD_OPEN
        .as_bytes()
        .chunks(2)
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect::<Vec<_>>()
        .join(":");
    let out = run(&[], &format!("  {spaced}  \n"));
    assert!(out.status.success());
    assert_eq!(lines(&out)[0]["type"], "OPEN");
}

#[test]
fn update_with_attributes_nlri_and_add_path() {
    // ORIGIN IGP, AS_PATH [65002 4200000001] (4-octet), NEXT_HOP 10.99.0.2, MED 7,
    // COMMUNITIES 65002:100, NLRI path id 5 + 10.0.1.0/24.
    let attrs = "40010100\
        40020a0202 0000fdea fa56ea01\
        4003040a630002\
        80040400000007\
        c00804fdea0064";
    let body = format!("0000 0026 {attrs} 00000005 180a0001");
    let body: String = body.split_whitespace().collect();
    let len = 19 + body.len() / 2;
    let msg = format!("{}{len:04x}02{body}", "ff".repeat(16));
    let out = run(&["--add-path", "ipv4"], &msg);
    assert!(out.status.success(), "{out:?}");
    let u = &lines(&out)[0];
    assert_eq!(u["type"], "UPDATE");
    assert!(u.get("error").is_none(), "{u}");
    let a = &u["attributes"];
    assert_eq!(a["origin"], "igp");
    assert_eq!(a["as_path"][0]["type"], "sequence");
    assert_eq!(a["as_path"][0]["asns"][1], 4_200_000_001u32);
    assert_eq!(a["next_hop"], "10.99.0.2");
    assert_eq!(a["med"], 7);
    assert_eq!(a["communities"][0], "65002:100");
    assert_eq!(u["nlri"][0]["prefix"], "10.0.1.0/24");
    assert_eq!(u["nlri"][0]["path_id"], 5);
    assert!(u.get("rfc7606").is_none());
}

#[test]
fn malformed_update_reports_treat_as_withdraw_and_exits_zero() {
    // ORIGIN with the invalid value 5 (RFC 7606 §7.1: treat-as-withdraw), AS_PATH empty,
    // NEXT_HOP 10.99.0.2, NLRI 10.0.1.0/24.
    let msg = format!(
        "{}002902 0000 000e 40010105 400200 4003040a630002 180a0001",
        "ff".repeat(16)
    );
    let out = run(&["--two-octet-as"], &msg);
    assert!(out.status.success(), "malformed input is data: {out:?}");
    let u = &lines(&out)[0];
    let r = &u["rfc7606"];
    assert_eq!(r["action"], "treat-as-withdraw", "{u}");
    assert_eq!(r["malformations"][0]["attr_type"], 1);
    assert_eq!(
        r["malformations"][0]["subcode"], 6,
        "Invalid ORIGIN Attribute"
    );
    assert_eq!(
        r["malformations"][0]["offset"], 23,
        "offset from the message start"
    );
    assert_eq!(r["affected_prefixes"][0]["prefix"], "10.0.1.0/24");
}

#[test]
fn ebgp_flag_gives_the_daemons_verdict_for_an_external_peer() {
    // ORIGIN IGP, AS_PATH empty, NEXT_HOP 10.99.0.2, LOCAL_PREF 100, ORIGINATOR_ID 10.99.0.9,
    // NLRI 10.0.1.0/24: fine from an internal peer; from an external one LOCAL_PREF and
    // ORIGINATOR_ID are discarded (RFC 7606 §7.5, §7.9), the route stays.
    let msg = format!(
        "{}003702 0000 001c 40010100 400200 4003040a630002 40050400000064 8009040a630009 180a0001",
        "ff".repeat(16)
    );
    for args in [&[][..], &["--ibgp"][..]] {
        let out = run(args, &msg);
        assert!(out.status.success(), "{out:?}");
        let u = &lines(&out)[0];
        assert!(u.get("rfc7606").is_none(), "{args:?}: {u}");
        assert_eq!(u["attributes"]["originator_id"], "10.99.0.9", "{u}");
    }
    let out = run(&["--ebgp"], &msg);
    assert!(out.status.success(), "{out:?}");
    let u = &lines(&out)[0];
    let r = &u["rfc7606"];
    assert_eq!(r["action"], "attribute-discard", "{u}");
    let attrs: Vec<&str> = r["malformations"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["attr"].as_str())
        .collect();
    assert_eq!(attrs, ["LOCAL_PREF", "ORIGINATOR_ID"], "{u}");
    assert_eq!(
        r["malformations"][1]["reason"],
        "ORIGINATOR_ID received from an external peer"
    );
    assert!(u["attributes"].get("originator_id").is_none(), "{u}");
    assert_eq!(r["affected_prefixes"][0]["prefix"], "10.0.1.0/24");
    // The two flags exclude each other.
    assert!(!run(&["--ebgp", "--ibgp"], "").status.success());
}

#[test]
fn ipv4_with_ipv6_next_hop_needs_ext_nh() {
    // MP_REACH_NLRI IPv4 unicast with next hop fd99::1 and 10.1.0.0/16; ORIGIN; AS_PATH empty.
    let msg = format!(
        "{}003902 0000 0022 800e18000101 10fd990000000000000000000000000001 00 100a01 40010100 400200",
        "ff".repeat(16)
    );
    let u = &lines(&run(&[], &msg))[0];
    assert_eq!(u["rfc7606"]["action"], "treat-as-withdraw", "{u}");
    assert_eq!(u["rfc7606"]["malformations"][0]["attr"], "MP_REACH_NLRI");
    let u = &lines(&run(&["--ext-nh"], &msg))[0];
    assert!(u.get("rfc7606").is_none(), "{u}");
}

#[test]
fn session_reset_carries_the_notification_and_offset() {
    // Total Path Attribute Length (0x00ff) overruns the message: session reset, UPDATE Message
    // Error / Malformed Attribute List.
    let msg = format!("{}001b02 0000 00ff 40010100", "ff".repeat(16));
    let out = run(&[], &msg);
    assert!(out.status.success());
    let e = &lines(&out)[0]["error"];
    assert_eq!(e["action"], "session-reset");
    assert_eq!(e["notification"]["code"], 3);
    assert_eq!(e["notification"]["subcode"], 1);
    assert_eq!(
        e["notification"]["subcode_name"],
        "Malformed Attribute List"
    );
    assert!(e["offset"].as_u64().is_some_and(|o| o >= 19), "{e}");
}

#[test]
fn bad_hex_exits_non_zero_with_the_line() {
    let out = run(&[], &format!("{BIRD_OPEN}\nffff0g\n"));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("<stdin>:2"), "{err}");
    assert!(out.stdout.is_empty(), "nothing printed before the error");
}

#[test]
fn unreadable_file_exits_non_zero() {
    let out = run(&["/nonexistent/bgp-decode-input.hex"], "");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}

fn mrt_record(t: u16, st: u16, body: &[u8]) -> Vec<u8> {
    let mut v = 1_700_000_000u32.to_be_bytes().to_vec();
    v.extend_from_slice(&t.to_be_bytes());
    v.extend_from_slice(&st.to_be_bytes());
    v.extend_from_slice(&(body.len() as u32).to_be_bytes());
    v.extend_from_slice(body);
    v
}

#[test]
fn mrt_bgp4mp_two_octet_message_uses_a_two_octet_context() {
    // AS_PATH [65002] as 2 octets: only readable with the 2-octet context of BGP4MP_MESSAGE.
    let update = "ffffffffffffffffffffffffffffffff002d0200000012400101004002040201fdea4003040a630002180a0001";
    let mut body = vec![
        0xfd, 0xea, 0xfd, 0xe9, 0, 0, 0, 1, 10, 99, 0, 2, 10, 99, 0, 1,
    ];
    body.extend(hex::decode(update).expect("hex"));
    let mut file = mrt_record(16, 1, &body);
    let dir = std::env::temp_dir().join(format!("bgp-decode-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let path = dir.join("two-octet.mrt");
    std::fs::write(&path, &file).expect("write mrt");
    let out = run(&["--mrt", path.to_str().expect("utf-8 path")], "");
    assert!(out.status.success(), "{out:?}");
    let v = &lines(&out)[0];
    assert_eq!(v["mrt"]["subtype"], "MESSAGE");
    assert_eq!(v["mrt"]["session"]["peer_as"], 65002);
    assert_eq!(v["attributes"]["as_path"][0]["asns"][0], 65002);
    assert_eq!(v["nlri"][0]["prefix"], "10.0.1.0/24");

    file.truncate(file.len() - 1);
    std::fs::write(&path, &file).expect("write mrt");
    let out = run(&["--mrt", path.to_str().expect("utf-8 path")], "");
    assert!(
        !out.status.success(),
        "a truncated MRT record is unreadable input"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("offset 0"));
    let _ = std::fs::remove_dir_all(&dir);
}

fn mrt_file(name: &str) -> String {
    format!("{}/tests/mrt/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn real_gobgp_updates_mrt() {
    let out = run(&["--mrt", &mrt_file("gobgp-3.10.0-updates.mrt")], "");
    assert!(out.status.success(), "{out:?}");
    let v = lines(&out);
    assert_eq!(v.len(), 5);
    for r in &v {
        assert_eq!(r["mrt"]["subtype"], "MESSAGE_AS4");
        assert_eq!(r["mrt"]["session"]["peer_as"], 65001);
        assert_eq!(r["mrt"]["session"]["local_as"], 4_200_000_002u32);
        assert!(r.get("error").is_none(), "{r}");
    }
    // GoBGP sends the families in no fixed order: find each UPDATE by its prefix.
    let by = |key: &str, prefix: &str| {
        v.iter()
            .find(|r| {
                let list = if key == "mp_reach" {
                    &r["mp_reach"]["nlri"]
                } else {
                    &r[key]
                };
                list.get(0).is_some_and(|e| e["prefix"] == prefix)
            })
            .unwrap_or_else(|| panic!("no {key} {prefix}"))
    };
    let v6 = by("mp_reach", "2001:db8:1::/48");
    assert_eq!(v6["mp_reach"]["next_hop"]["global"], "fd99::1");
    assert_eq!(v6["attributes"]["communities"][0], "65535:65281");
    assert_eq!(
        by("mp_reach", "2001:db8:2::/64")["attributes"]["origin"],
        "incomplete"
    );
    let v4 = by("nlri", "10.99.10.0/24");
    assert_eq!(v4["attributes"]["med"], 10);
    assert_eq!(v4["attributes"]["large_communities"][0], "65001:1:2");
    assert_eq!(
        by("nlri", "10.99.11.0/26")["attributes"]["as_path"][0]["asns"],
        serde_json::json!([65001, 65010, 65020])
    );
    assert_eq!(
        v[4]["withdrawn"][0]["prefix"], "10.99.11.0/26",
        "the withdrawal comes last"
    );
}

#[test]
fn real_gobgp_table_dump_mrt() {
    let out = run(&["--mrt", &mrt_file("gobgp-3.10.0-table.mrt")], "");
    assert!(out.status.success(), "{out:?}");
    let v = lines(&out);
    assert_eq!(v.len(), 4);
    assert_eq!(v[0]["type"], "PEER_INDEX_TABLE");
    assert_eq!(v[0]["peers"][1]["asn"], 65001);
    let ribs: Vec<(&str, &str)> = v[1..]
        .iter()
        .map(|r| {
            (
                r["mrt"]["subtype"].as_str().unwrap_or(""),
                r["prefix"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        ribs,
        [
            ("RIB_IPV6_UNICAST", "2001:db8:1::/48"),
            ("RIB_IPV6_UNICAST", "2001:db8:2::/64"),
            ("RIB_IPV4_UNICAST", "10.99.10.0/24")
        ]
    );
    let e = &v[1]["entries"][0];
    assert_eq!(e["peer_ip"], "10.99.0.1");
    assert_eq!(e["mp_next_hop"]["global"], "fd99::1");
    assert_eq!(e["attributes"]["as_path"][0]["asns"][0], 65001);
    let e4 = &v[3]["entries"][0];
    assert_eq!(e4["attributes"]["next_hop"], "10.99.0.1");
    assert!(
        e4.get("error").is_none() && e4.get("rfc7606").is_none(),
        "{e4}"
    );
}
