use std::path::PathBuf;
use std::sync::Arc;

use crate::error::{ConfigErrors, ErrorKind};
use crate::model::{BirdFamily, Config, StaticRoute, TtlMode};

/// Loads `text` as bird.cfg (or bird6.cfg) from a scratch directory.
fn load(tag: &str, text: &str, family: BirdFamily) -> Result<Config, ConfigErrors> {
    let dir: PathBuf =
        std::env::temp_dir().join(format!("bgpd-lower-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bird.cfg");
    std::fs::write(&path, text).unwrap();
    let r = super::super::load(&path, family);
    let _ = std::fs::remove_dir_all(&dir);
    r
}

fn ok(tag: &str, text: &str) -> Config {
    load(tag, text, BirdFamily::V4).unwrap_or_else(|e| panic!("{e}"))
}

fn errors(tag: &str, text: &str, family: BirdFamily) -> Vec<(usize, usize, ErrorKind, String)> {
    match load(tag, text, family) {
        Ok(_) => panic!("loaded"),
        Err(e) => e
            .errors
            .into_iter()
            .map(|e| (e.line(), e.column(), e.kind, e.to_string()))
            .collect(),
    }
}

#[test]
fn ebgp_defaults_follow_bird() {
    let c = ok(
        "ebgp",
        "router id 10.0.0.1;
protocol bgp tor from_here { local as 64512; neighbor 10.0.0.254 as 65000; }
protocol bgp gtsm { local as 64512; neighbor 10.0.0.253 as 65000; ttl security on; multihop 1; }
protocol bgp hop0 { local as 64512; neighbor 10.0.0.252 as 64512; multihop 0; }"
            .replace(" from_here", "")
            .as_str(),
    );
    let tor = c.neighbor("tor").unwrap();
    assert_eq!(tor.ttl, TtlMode::Direct);
    assert!(tor.bird_filters.as_ref().unwrap().import.is_accept_all());
    assert!(tor.bird_filters.as_ref().unwrap().export.is_reject_all());
    assert_eq!(tor.timers.hold.as_secs(), 240);
    assert_eq!(tor.timers.keepalive.as_secs(), 80);
    assert_eq!(tor.timers.connect_retry.as_secs(), 120);
    assert_eq!(tor.timers.connect_delay.as_secs(), 5);
    assert_eq!(
        (
            tor.timers.error_wait_min.as_secs(),
            tor.timers.error_wait_max.as_secs()
        ),
        (60, 300)
    );
    assert!(!tor.graceful_restart.enabled);
    assert!(tor.add_path.is_empty());
    // `ttl security on; multihop 1;` as Calico renders it: GTSM, one hop, shown as multihop.
    assert_eq!(
        c.neighbor("gtsm").unwrap().ttl,
        TtlMode::Gtsm { max_hops: Some(1) }
    );
    assert_eq!(c.neighbor("hop0").unwrap().ttl, TtlMode::Direct);
    // No kernel protocol: nothing exported to the kernel, no writes.
    assert!(!c.kernel.enable_writes);
    assert!(c.bird.as_ref().unwrap().kernel_export.is_reject_all());
    assert_eq!(c.decision.max_paths, 1);
    assert!(c.notes.is_empty());
}

#[test]
fn a_config_without_bgp_gets_a_fallback_as_and_a_note() {
    let c = ok("nobgp", "router id 10.0.0.1;\nprotocol device { }\n");
    assert_eq!(c.local_as.0, super::FALLBACK_LOCAL_AS);
    assert_eq!(c.notes.len(), 1);
    assert_eq!(c.notes[0].kind, ErrorKind::Note);
    assert!(c.neighbors.is_empty());
}

#[test]
fn kernel_graceful_restart_is_a_note_and_merge_paths_limit_sets_max_paths() {
    let c = ok(
        "kgr",
        "router id 10.0.0.1;\nprotocol kernel { persist; kernel table 100; graceful restart; merge paths on limit 4; export all; }\n",
    );
    assert_eq!(c.decision.max_paths, 4);
    assert_eq!(c.kernel.table, 100);
    assert!(c.kernel.persist_on_stop && !c.kernel.learn && c.kernel.enable_writes);
    assert!(c.bird.as_ref().unwrap().kernel_export.is_accept_all());
    // The other note: no bgp protocol, so the fallback AS.
    assert_eq!(c.notes.len(), 2);
    let gr = c
        .notes
        .iter()
        .find(|n| n.message.contains("graceful restart"))
        .unwrap();
    assert_eq!((gr.line(), gr.column()), (2, 46));
}

#[test]
fn bird2_dual_family_file_keeps_only_this_familys_protocols() {
    let text = "router id 10.0.0.1;
protocol kernel { ipv4 { export all; }; }
protocol kernel { ipv6 { export none; }; }
protocol static { ipv4; route 10.64.0.0/26 blackhole; route 10.65.0.1/32 via 10.0.0.9; }
protocol static { ipv6; route fd00:64::/122 blackhole; }
protocol bgp v4peer { local as 64512; neighbor 10.0.0.2 as 64512; ipv4 { import none; export all; }; }
protocol bgp v6peer { local as 64512; neighbor fd00::2 as 64512; ipv6 { import all; export none; }; }
";
    let c = ok("dual4", text);
    assert_eq!(c.neighbors.len(), 1);
    let f = c.neighbors[0].bird_filters.as_ref().unwrap();
    assert!(f.import.is_reject_all() && f.export.is_accept_all());
    assert_eq!(c.local_blocks, vec!["10.64.0.0/26".parse().unwrap()]);
    let b = c.bird.as_ref().unwrap();
    assert!(b.kernel_export.is_accept_all());
    assert_eq!(
        b.static_routes[1],
        StaticRoute::Via("10.65.0.1/32".parse().unwrap(), "10.0.0.9".parse().unwrap())
    );
    let c6 = load("dual6", text, BirdFamily::V6).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c6.neighbors[0].name.as_str(), "v6peer");
    assert_eq!(c6.local_blocks, vec!["fd00:64::/122".parse().unwrap()]);
    assert!(c6.bird.as_ref().unwrap().kernel_export.is_reject_all());
}

#[test]
fn semantic_errors_are_collected_with_positions() {
    let errs = errors(
        "many",
        "router id 10.0.0.1;
listen bgp address fd00::1;
protocol static { route fd00::/64 blackhole; }
protocol bgp a { local as 64512; neighbor 10.0.0.2 as 65000; rr client; rr cluster id 1.1.1.1; }
protocol bgp b { local as 64512; neighbor 10.0.0.3 as 64512; rr cluster id 2.2.2.2; source address fd00::1; }
protocol bgp c { local as 64512; neighbor 10.0.0.5 as 64512; }
protocol bgp c2 { local as 64512; neighbor 10.0.0.5 as 64512; }
protocol bgp d { neighbor 10.0.0.4 as 64512; }
",
        BirdFamily::V4,
    );
    let got: Vec<(usize, usize, ErrorKind)> = errs.iter().map(|e| (e.0, e.1, e.2)).collect();
    assert_eq!(
        got,
        vec![
            (2, 20, ErrorKind::Invalid),  // listen address of the other family
            (3, 25, ErrorKind::Invalid),  // IPv6 route in bird.cfg
            (4, 62, ErrorKind::Conflict), // rr client on eBGP
            (5, 100, ErrorKind::Invalid), // IPv6 source address
            (7, 1, ErrorKind::Duplicate), // same neighbor as c
            (8, 1, ErrorKind::Missing),   // no local as
        ],
        "{errs:#?}"
    );
    assert!(
        errs[0].3.contains("listen address fd00::1 is not IPv4"),
        "{}",
        errs[0].3
    );
    assert!(errs[3].3.contains("protocol bgp b"), "{}", errs[3].3);
}

#[test]
fn cluster_ids_must_agree_and_an_ipv4_neighbor_is_an_error_in_bird6() {
    let errs = errors(
        "cluster",
        "router id 10.0.0.1;
protocol bgp a { local as 1; neighbor 10.0.0.2 as 1; rr cluster id 1.1.1.1; }
protocol bgp b { local as 1; neighbor 10.0.0.3 as 1; rr cluster id 2.2.2.2; }
",
        BirdFamily::V4,
    );
    assert_eq!(
        (errs[0].0, errs[0].1, errs[0].2),
        (3, 68, ErrorKind::Conflict)
    );
    let errs = errors(
        "v4in6",
        "router id 10.0.0.1;\nprotocol bgp a { local as 1; neighbor 10.0.0.2 as 1; }\n",
        BirdFamily::V6,
    );
    assert_eq!((errs[0].0, errs[0].1), (2, 39));
    assert!(
        errs[0].3.contains("bird6.cfg is read by `bird6`"),
        "{}",
        errs[0].3
    );
}

#[test]
fn missing_router_id_is_an_error_without_position() {
    let errs = errors("norid", "protocol device { }\n", BirdFamily::V4);
    assert_eq!((errs[0].0, errs[0].2), (0, ErrorKind::Missing));
}

#[test]
fn identical_filters_share_one_program_and_others_keep_their_own() {
    let c = ok(
        "share",
        "router id 10.0.0.1;
filter named { accept; }
template bgp t { local as 64512; import filter { if net ~ [ 10.0.0.0/8+ ] then accept; reject; }; }
protocol bgp a from t { neighbor 10.0.0.2 as 64512; export filter { bgp_med = 1; accept; }; }
protocol bgp b from t { neighbor 10.0.0.3 as 64512; export filter { bgp_med = 1; accept; }; }
protocol bgp c from t { neighbor 10.0.0.4 as 64512; export filter { bgp_med = 2; accept; }; }
protocol bgp d { local as 64512; neighbor 10.0.0.5 as 64512; import filter named; export filter named; }
protocol bgp e { local as 64512; neighbor 10.0.0.6 as 64512; import filter named; export where net ~ 10.0.0.0/8; }",
    );
    let f = |n: &str| c.neighbor(n).unwrap().bird_filters.clone().unwrap();
    let (a, b, cc, d, e) = (f("a"), f("b"), f("c"), f("d"), f("e"));
    // Same text in two protocols: one program.
    assert!(Arc::ptr_eq(&a.export, &b.export));
    // The template's inline filter, and a named filter, are one program wherever used.
    assert!(Arc::ptr_eq(&a.import, &cc.import));
    assert!(Arc::ptr_eq(&d.import, &d.export) && Arc::ptr_eq(&d.import, &e.import));
    assert_eq!(d.import.name.as_deref(), Some("named"));
    // A different body keeps its own, with its own statements.
    assert!(!Arc::ptr_eq(&a.export, &cc.export));
    assert_ne!(a.export.body, cc.export.body);
    assert!(!Arc::ptr_eq(&e.export, &a.export) && e.export.name.is_none());
}

#[test]
fn gateway_direct_is_noted_not_skipped_silently() {
    let c = ok(
        "gwdirect",
        "router id 10.0.0.1;\nprotocol bgp tor {\n  local as 64512;\n  neighbor 10.0.0.2 as 65001;\n  gateway direct;\n}\n",
    );
    let n = c
        .notes
        .iter()
        .find(|n| n.message.contains("gateway direct"))
        .unwrap_or_else(|| panic!("no note: {:?}", c.notes));
    assert_eq!((n.line(), n.column()), (5, 3), "{n}");
    // Calico's `gateway recursive` says nothing.
    let quiet = ok(
        "gwrec",
        "router id 10.0.0.1;\nprotocol bgp tor {\n  local as 64512;\n  neighbor 10.0.0.2 as 65001;\n  gateway recursive;\n}\n",
    );
    assert!(quiet.notes.iter().all(|n| !n.message.contains("gateway")));
}

#[test]
fn bfd_follows_bird_protocol_bfd_and_per_session_options() {
    use std::time::Duration;
    let ms = Duration::from_millis;
    let c = ok(
        "bfd",
        r#"router id 10.0.0.1;
protocol bfd {
  interface "eth*", "*" { interval 300 ms; multiplier 3; };
  multihop { min rx interval 200 ms; min tx interval 400 ms; };
  neighbor 10.0.0.9 dev "eth0";
}
protocol bgp tor { local as 64512; neighbor 10.0.0.254 as 65000; bfd on; }
protocol bgp soft { local as 64512; neighbor 10.0.0.253 as 65000; bfd graceful; }
protocol bgp tuned { local as 64512; neighbor 10.0.0.252 as 65000; bfd { min tx interval 1 s; multiplier 7; passive on; }; }
protocol bgp mesh { local as 64512; neighbor 10.0.0.2 as 64512; source address 10.0.0.1; bfd yes; }
protocol bgp off { local as 64512; neighbor 10.0.0.251 as 65000; bfd off; }
"#,
    );
    let b = |n: &str| c.neighbor(n).unwrap().bfd;
    let tor = b("tor").expect("bfd on");
    assert_eq!(
        (tor.min_tx, tor.min_rx, tor.multiplier, tor.multihop),
        (ms(300), ms(300), 3, false)
    );
    assert!(!tor.graceful && !tor.passive);
    assert!(b("soft").expect("bfd graceful").graceful);
    let tuned = b("tuned").expect("bfd block");
    assert_eq!(
        (tuned.min_tx, tuned.min_rx, tuned.multiplier, tuned.passive),
        (ms(1000), ms(300), 7, true)
    );
    // iBGP is multihop in BIRD (TTL 64), so is its BFD session, with the multihop block.
    let mesh = b("mesh").expect("bfd yes");
    assert_eq!(
        (mesh.min_tx, mesh.min_rx, mesh.multiplier, mesh.multihop),
        (ms(400), ms(200), 5, true)
    );
    assert_eq!(b("off"), None);
    assert!(
        c.notes
            .iter()
            .any(|n| n.to_string().contains("BFD `neighbor`")),
        "{:?}",
        c.notes
    );
}

#[test]
fn bfd_without_protocol_bfd_runs_no_session_and_says_so() {
    let c = ok(
        "bfd-none",
        "router id 10.0.0.1;
protocol bgp tor { local as 64512; neighbor 10.0.0.254 as 65000; bfd on; }",
    );
    assert_eq!(c.neighbor("tor").unwrap().bfd, None);
    assert!(
        c.notes
            .iter()
            .any(|n| n.to_string().contains("without a `protocol bfd`")),
        "{:?}",
        c.notes
    );
}

#[test]
fn bfd_authentication_and_unitless_intervals_are_errors() {
    let e = errors(
        "bfd-bad",
        "router id 10.0.0.1;
protocol bfd { interface \"*\" { authentication simple; }; }",
        BirdFamily::V4,
    );
    assert_eq!((e[0].0, e[0].2), (2, ErrorKind::UnknownField), "{e:?}");
    let e = errors(
        "bfd-unit",
        "router id 10.0.0.1;
protocol bfd { interface \"*\" { interval 300; }; }",
        BirdFamily::V4,
    );
    assert!(e[0].3.contains("unit"), "{e:?}");
}

#[test]
fn receive_and_import_limits_of_bird_1_6_and_of_a_bird_2_channel() {
    use crate::model::{LimitAction, RouteLimit, RouteLimits};
    use bgp_proto::types::Family;
    let c = ok(
        "limits",
        "router id 10.0.0.1;
template bgp t { local as 64512; import limit 100 action restart; }
protocol bgp a from t { neighbor 10.0.0.2 as 65000; receive limit 200; }
protocol bgp b from t { neighbor 10.0.0.3 as 65000; import limit off; }
protocol bgp c { local as 64512; neighbor 10.0.0.4 as 65000;
  ipv4 { import all; import limit 5 action warn; receive limit 9 action block; }; }",
    );
    let get = |n: &str| {
        c.neighbor(n)
            .unwrap()
            .route_limits
            .get(&Family::Ipv4Unicast)
            .copied()
    };
    let l = |max, action| Some(RouteLimit { max, action });
    assert_eq!(
        get("a"),
        Some(RouteLimits {
            receive: l(200, LimitAction::Disable),
            import: l(100, LimitAction::Restart),
        })
    );
    assert_eq!(get("b"), None, "`off` drops the template's limit");
    assert_eq!(
        get("c"),
        Some(RouteLimits {
            receive: l(9, LimitAction::Block),
            import: l(5, LimitAction::Warn),
        })
    );
    let e = errors(
        "limit-bad",
        "router id 10.0.0.1;
protocol bgp a { local as 64512; neighbor 10.0.0.2 as 65000; import limit 5 action drop; }",
        BirdFamily::V4,
    );
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!((e[0].0, e[0].2), (2, ErrorKind::Syntax), "{e:?}");
}

#[test]
fn extended_next_hop_as_protocol_or_channel_option() {
    let c = ok(
        "extnh",
        "router id 10.0.0.1;
protocol bgp a { local as 64512; neighbor 10.0.0.2 as 65000; extended next hop on; }
protocol bgp b { local as 64512; neighbor 10.0.0.3 as 65000; ipv4 { extended next hop; }; }
protocol bgp c { local as 64512; neighbor 10.0.0.4 as 65000; extended next hop off; }",
    );
    assert!(c.neighbor("a").unwrap().extended_next_hop);
    assert!(c.neighbor("b").unwrap().extended_next_hop);
    assert!(!c.neighbor("c").unwrap().extended_next_hop);
}
