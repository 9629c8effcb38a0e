//! Prefix limits against a real FRR 8.4 ToR (AS 65100) that announces more prefixes than our
//! `import_limit` allows (10 networks, limit 5), one test per BIRD action:
//! - `block`: we hold exactly 5 of them, the session stays up, `show protocols all` says
//!   `Import limit:   5 [HIT]`;
//! - `warn`: we hold all 10, the session stays up, the crossing is logged;
//! - `restart`: FRR receives Cease / Maximum Number of Prefixes Reached with AFI 1, SAFI 1 and
//!   the limit 5 as data (RFC 4486), and we connect again after the error wait (1 s here);
//! - `disable`: the same NOTIFICATION, then the protocol stays down (`Automatic shutdown: Route
//!   limit exceeded`) until `enable`.

mod routes_common;

use std::time::Duration;

use interop_tests::bgpd::Bgpd;
use interop_tests::{require_root, wait_until, Fabric, Frr};
use routes_common as rc;

const OUR_AS: u32 = 64512;
const TOR_AS: u32 = 65100;
const TOR: &str = "10.99.0.2";
const PROTO: &str = "Mesh_10_99_0_2";
const LIMIT: usize = 5;

struct Lab {
    // Drop order: daemons before the namespaces.
    ours: Bgpd,
    tor: Frr,
    _fabric: Fabric,
}

/// FRR announcing 10.90.0.0/24 .. 10.90.9.0/24 to us; we limit imports to [`LIMIT`] with
/// `action`.
fn lab(tag: &str, action: &str) -> Lab {
    let fabric = Fabric::new(&format!("{tag}-{}", std::process::id()), 2).expect("fabric");
    let nets: Vec<String> = (0..10).map(|i| format!("10.90.{i}.0/24")).collect();
    let nets: Vec<&str> = nets.iter().map(String::as_str).collect();
    // With neighbor-change logging FRR logs the NOTIFICATIONs it receives, data included.
    let conf = rc::frr_conf(TOR_AS, TOR, &[("10.99.0.1", OUR_AS, "")], &nets).replacen(
        &format!("bgp router-id {TOR}\n"),
        &format!("bgp router-id {TOR}\n bgp log-neighbor-changes\n"),
        1,
    );
    let tor = Frr::start(&fabric.node(2).ns, &conf).expect("frr starts");
    let limit = format!("import_limit = {{ ipv4 = {{ max = {LIMIT}, action = \"{action}\" }} }}\n");
    let config = rc::ours(
        "10.99.0.1",
        OUR_AS,
        &["10.99.0.1"],
        &[(TOR, TOR_AS, &limit)],
    );
    let ours = rc::start_ours(&fabric.node(1).ns, &config, "");
    Lab {
        ours,
        tor,
        _fabric: fabric,
    }
}

/// Seconds since midnight of a JSON log line's `timestamp` (`2026-12-07T18:04:43.381423Z`).
fn secs_of(v: &serde_json::Value) -> f64 {
    let t = v["timestamp"].as_str().unwrap_or_default();
    let hms = t
        .split('T')
        .nth(1)
        .unwrap_or_default()
        .trim_end_matches('Z');
    hms.split(':')
        .map(|x| x.parse::<f64>().unwrap_or(0.0))
        .fold(0.0, |acc, x| acc * 60.0 + x)
}

fn tor_routes(b: &Bgpd) -> usize {
    rc::our_routes(b, false)
        .iter()
        .filter(|(p, _)| p.starts_with("10.90."))
        .count()
}

fn state(l: &Lab) -> String {
    format!(
        "ours:\n{}\n{}\nfrr:\n{}\n--- frr log:\n{}",
        l.ours
            .show(false, &format!("show protocols all {PROTO}"))
            .unwrap_or_default(),
        l.ours.show(false, "show route").unwrap_or_default(),
        l.tor
            .vtysh("show bgp neighbors 10.99.0.1 json")
            .unwrap_or_default(),
        std::fs::read_to_string(l.tor.dir().join("bgpd.out")).unwrap_or_default()
    )
}

/// FRR's log line for the NOTIFICATION it received from us, once there is one.
fn frr_received_notification(tor: &Frr) -> Option<String> {
    let log = std::fs::read_to_string(tor.dir().join("bgpd.out")).unwrap_or_default();
    log.lines()
        .find(|l| l.contains("NOTIFICATION") && l.contains("received") && l.contains(" 6/1 "))
        .map(str::to_owned)
}

fn assert_frr_got_max_prefixes(l: &Lab) {
    let mut line = None;
    rc::converge_within(
        "FRR received Cease / Maximum Number of Prefixes Reached",
        Duration::from_secs(30),
        || {
            line = frr_received_notification(&l.tor);
            line.is_some()
        },
        || state(l),
    );
    let line = line.unwrap_or_default();
    assert!(
        line.contains("Maximum Number of Prefixes Reached"),
        "{line}"
    );
    // AFI 1 (IPv4), SAFI 1 (unicast), the limit 5 (RFC 4486 §4), as FRR prints the data.
    assert!(line.contains("00 01 01 00 00 00 05"), "{line}");
    let v = l
        .tor
        .vtysh_json("show bgp neighbors 10.99.0.1 json")
        .expect("frr json");
    let reset = v["10.99.0.1"]["lastResetDueTo"]
        .as_str()
        .unwrap_or_default();
    assert!(reset.contains("Notification received"), "{v:#}");
}

#[test]
fn block_holds_exactly_the_limit_and_the_session_stays_up() {
    if !require_root("block_holds_exactly_the_limit_and_the_session_stays_up") {
        return;
    }
    let l = lab("lb", "block");
    rc::converge(
        "we hold the limit's worth of FRR's routes",
        || tor_routes(&l.ours) >= LIMIT,
        || state(&l),
    );
    // FRR sent all ten by now (one UPDATE); give the rest time to arrive and be dropped.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(tor_routes(&l.ours), LIMIT, "{}", state(&l));
    assert_eq!(l.ours.state(TOR), "Established", "{}", state(&l));
    assert_eq!(
        l.tor.bgp_state("10.99.0.1").ok().flatten().as_deref(),
        Some("Established")
    );
    let show = l
        .ours
        .show(false, &format!("show protocols all {PROTO}"))
        .expect("show protocols");
    assert!(show.contains("  Import limit:   5 [HIT]\n"), "{show}");
    assert!(show.contains("    Action:       block\n"), "{show}");
    // BIRD counts the dropped ones as ignored: 10 received, 5 accepted, 5 ignored.
    assert!(
        show.contains(
            "    Import updates:             10          0          0          5          5\n"
        ),
        "{show}"
    );
    assert!(l.ours.events("down", Some(TOR)).is_empty(), "{}", state(&l));
}

#[test]
fn warn_holds_every_route_and_logs_the_crossing() {
    if !require_root("warn_holds_every_route_and_logs_the_crossing") {
        return;
    }
    let l = lab("lw", "warn");
    rc::converge(
        "we hold all ten of FRR's routes",
        || tor_routes(&l.ours) == 10,
        || state(&l),
    );
    let hits = l.ours.events("route_limit_hit", None);
    assert_eq!(hits.len(), 1, "{hits:#?}");
    let f = &hits[0]["fields"];
    assert_eq!(f["protocol"], PROTO);
    assert_eq!(f["action"], "warn");
    assert_eq!(f["direction"], "import");
    assert_eq!(f["limit"], 5);
    assert_eq!(l.ours.state(TOR), "Established");
    let show = l
        .ours
        .show(false, &format!("show protocols all {PROTO}"))
        .expect("show protocols");
    assert!(show.contains("  Import limit:   5 [HIT]\n"), "{show}");
    assert!(show.contains("    Action:       warn\n"), "{show}");
}

#[test]
fn restart_sends_cease_max_prefixes_and_reconnects_after_the_error_wait() {
    if !require_root("restart_sends_cease_max_prefixes_and_reconnects_after_the_error_wait") {
        return;
    }
    let l = lab("lr", "restart");
    assert_frr_got_max_prefixes(&l);
    let down = l
        .ours
        .wait_event("route_limit_exceeded", TOR, 1, Duration::from_secs(5))
        .expect("our log says why");
    assert_eq!(down["fields"]["action"], "restart");
    // Connected again after the error wait (error_wait_min = 1 s in the test config, jittered
    // by at most a quarter): a second Established (it then crosses the limit again, and the
    // backoff doubles).
    let again = l
        .ours
        .wait_event("established", TOR, 2, Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("{e}\n{}", state(&l)));
    let waited = secs_of(&again) - secs_of(&down);
    assert!(waited >= 0.75, "reconnected {waited:.3} s after the Cease");
    let show = l
        .ours
        .show(false, &format!("show protocols all {PROTO}"))
        .expect("show protocols");
    assert!(show.contains("    Action:       restart\n"), "{show}");
}

#[test]
fn disable_sends_cease_max_prefixes_and_stays_down_until_enable() {
    if !require_root("disable_sends_cease_max_prefixes_and_stays_down_until_enable") {
        return;
    }
    let l = lab("ld", "disable");
    assert_frr_got_max_prefixes(&l);
    let row = || {
        l.ours
            .show(false, &format!("show protocols {PROTO}"))
            .unwrap_or_default()
    };
    wait_until("our protocol down", Duration::from_secs(5), || {
        Ok(row().contains(" down "))
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", state(&l)));
    assert!(
        row().contains("Automatic shutdown: Route limit exceeded"),
        "{}",
        row()
    );
    // Longer than the error wait: still down, no new session.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        l.ours.events("established", Some(TOR)).len(),
        1,
        "{}",
        state(&l)
    );
    assert_eq!(tor_routes(&l.ours), 0, "{}", state(&l));
    let out = l
        .ours
        .show(false, &format!("enable {PROTO}"))
        .expect("enable");
    assert!(out.contains(&format!("{PROTO}: enabled")), "{out}");
    l.ours
        .wait_event("established", TOR, 2, Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("{e}\n{}", state(&l)));
}
