//! Calico's rendered BIRD configurations (conf/tests/fixtures/calico, both template
//! generations) through the BIRD front end: every scenario loads, real-render variants load,
//! broken variants fail at the exact file, line and column.

use std::path::{Path, PathBuf};

use conf::{BirdFamily, Config};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/calico")
}

/// Every directory under `root` holding a bird.cfg, sorted.
fn scenarios(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == "bird.cfg") {
                out.push(dir.clone());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_calico_scenario_loads_in_both_families() {
    let mut failures = Vec::new();
    let mut counts = Vec::new();
    for gen in ["gen1", "gen2"] {
        let dirs = scenarios(&fixtures().join(gen));
        counts.push((gen, dirs.len()));
        for dir in dirs {
            for (file, fam) in [("bird.cfg", BirdFamily::V4), ("bird6.cfg", BirdFamily::V6)] {
                if let Err(e) = Config::load_bird(dir.join(file), fam) {
                    failures.push(format!("{e}"));
                }
            }
        }
    }
    assert_eq!(counts, vec![("gen1", 72), ("gen2", 88)]);
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A copy of a fixture scenario in a temp dir, removed on drop.
struct Copy(PathBuf);

impl Copy {
    fn of(scenario: &str, tag: &str) -> Copy {
        let dir = std::env::temp_dir().join(format!("bgpd-fixture-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for e in std::fs::read_dir(fixtures().join(scenario))
            .unwrap()
            .flatten()
        {
            if e.path().is_file() {
                std::fs::copy(e.path(), dir.join(e.file_name())).unwrap();
            }
        }
        Copy(dir)
    }

    fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.0.join(file)).unwrap()
    }

    fn write(&self, file: &str, text: &str) {
        std::fs::write(self.0.join(file), text).unwrap();
    }
}

impl Drop for Copy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn load(path: PathBuf, fam: BirdFamily) -> Config {
    match Config::load_bird(path, fam) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    }
}

const MESH: &str = "gen2/mesh/ipip-always";

#[test]
fn blank_and_whitespace_only_lines_of_real_renders_change_nothing() {
    let reference = load(fixtures().join(MESH).join("bird.cfg"), BirdFamily::V4);
    let c = Copy::of(MESH, "blank");
    for file in ["bird.cfg", "bird_ipam.cfg", "bird_aggr.cfg"] {
        let padded: String = c
            .read(file)
            .lines()
            .map(|l| format!("\n    \n{l}\n\t\n"))
            .collect();
        c.write(file, &padded);
    }
    let padded = load(c.0.join("bird.cfg"), BirdFamily::V4);
    assert_eq!(padded.neighbors, reference.neighbors);
    assert_eq!(padded.local_blocks, reference.local_blocks);
    let (a, b) = (padded.bird.unwrap(), reference.bird.unwrap());
    assert_eq!(a.kernel_export, b.kernel_export);
    assert_eq!(a.static_routes, b.static_routes);
    assert_eq!(a.direct_interfaces, b.direct_interfaces);
}

#[test]
fn a_staged_main_file_resolves_includes_beside_it() {
    // confd renders into `.bird.cfg<random>` in the destination directory and runs
    // `bird -p -c` on it before moving it in place.
    let c = Copy::of(MESH, "staged");
    std::fs::rename(c.0.join("bird.cfg"), c.0.join(".bird.cfg1234")).unwrap();
    let cfg = load(c.0.join(".bird.cfg1234"), BirdFamily::V4);
    let files = cfg.bird.unwrap().files;
    assert_eq!(
        files,
        vec![
            c.0.join(".bird.cfg1234"),
            c.0.join("bird_aggr.cfg"),
            c.0.join("bird_ipam.cfg")
        ]
    );
    assert!(conf::bird::parse_only(&c.0.join(".bird.cfg1234"), BirdFamily::V4).is_ok());
}

/// Line and column (1-based, characters) of the first occurrence of `marker` in `text`.
fn position_of(text: &str, marker: &str) -> (usize, usize) {
    let at = text
        .find(marker)
        .unwrap_or_else(|| panic!("marker {marker:?} not in text"));
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = before[before.rfind('\n').map_or(0, |i| i + 1)..]
        .chars()
        .count()
        + 1;
    (line, col)
}

/// (what, file to edit, old text, new text, file named in the error, marker in the edited
/// file's new text where the error is, expected line, column, message part)
type BrokenCase = (
    &'static str,
    &'static str,
    &'static str,
    String,
    &'static str,
    &'static str,
    usize,
    usize,
    &'static str,
);

#[test]
fn broken_variants_fail_at_the_exact_file_line_and_column() {
    let long = format!("Mesh_10_192_0_3_{}", "x".repeat(60));
    let cases: Vec<BrokenCase> = vec![
        (
            "unknown protocol type",
            "bird.cfg",
            "router id 10.192.0.2;",
            "router id 10.192.0.2;\nprotocol ospf o1 { }".into(),
            "bird.cfg",
            "ospf o1",
            26,
            10,
            "`protocol ospf` is not supported",
        ),
        (
            "unknown option",
            "bird.cfg",
            "  scan time 2;    # Scan interfaces",
            "  scan time 2; primary \"eth0\";".into(),
            "bird.cfg",
            "primary",
            40,
            16,
            "option `primary`",
        ),
        (
            "unterminated string",
            "bird_ipam.cfg",
            "\"bpf*.cali\"",
            "\"bpf*.cali".into(),
            "bird_ipam.cfg",
            "\"bpf*.cali",
            5,
            19,
            "unterminated string",
        ),
        (
            "unterminated comment",
            "bird_aggr.cfg",
            "function calico_aggr ()",
            "/* calico_aggr ()".into(),
            "bird_aggr.cfg",
            "/* calico_aggr",
            12,
            1,
            "unterminated comment",
        ),
        (
            "missing include",
            "bird.cfg",
            "include \"bird_aggr.cfg\";",
            "include \"bird_nope.cfg\";".into(),
            "bird.cfg",
            "include \"bird_nope",
            23,
            1,
            "unable to open included file",
        ),
        (
            "undefined function",
            "bird_ipam.cfg",
            "  reject_local_routes();",
            "  reject_local_routez();".into(),
            "bird_ipam.cfg",
            "reject_local_routez",
            19,
            3,
            "function `reject_local_routez` is not defined",
        ),
        (
            "include not at line start",
            "bird.cfg",
            "include \"bird_ipam.cfg\";",
            "router id 10.0.0.9; include \"bird_ipam.cfg\";".into(),
            "bird.cfg",
            "include \"bird_ipam",
            24,
            21,
            "must start a line",
        ),
        (
            "symbol over 64 characters",
            "bird.cfg",
            "protocol bgp Mesh_10_192_0_3 from",
            format!("protocol bgp {long} from"),
            "bird.cfg",
            "Mesh_10_192_0_3_x",
            59,
            14,
            "longer than 64",
        ),
        (
            "wrong type assignment",
            "bird_ipam.cfg",
            "      krt_metric = 1024;",
            "      krt_metric = \"1024\";".into(),
            "bird_ipam.cfg",
            "\"1024\"",
            26,
            20,
            "attribute `krt_metric` is of type int, the value is of type string",
        ),
        (
            "missing semicolon",
            "bird.cfg",
            "  local as 64512;\n",
            "  local as 64512\n".into(),
            "bird.cfg",
            "gateway recursive",
            49,
            3,
            "expected `;`",
        ),
        (
            "IPv6 neighbor in bird.cfg",
            "bird.cfg",
            "neighbor 10.192.0.3 as",
            "neighbor fd00::3 as".into(),
            "bird.cfg",
            "fd00::3",
            60,
            12,
            "neighbor fd00::3 is not IPv4",
        ),
    ];
    for (what, file, old, new, err_file, marker, line, col, msg) in cases {
        let c = Copy::of(MESH, "broken");
        let text = c.read(file);
        assert!(text.contains(old), "{what}: {old:?} not in {file}");
        let edited = text.replacen(old, &new, 1);
        c.write(file, &edited);
        let errs = match Config::load_bird(c.0.join("bird.cfg"), BirdFamily::V4) {
            Ok(_) => panic!("{what}: loaded"),
            Err(e) => e,
        };
        let e = &errs.errors[0];
        assert_eq!(
            e.file,
            c.0.join(err_file).display().to_string(),
            "{what}: {e}"
        );
        assert_eq!((e.line(), e.column()), (line, col), "{what}: {e}");
        assert_eq!(
            position_of(&edited, marker),
            (line, col),
            "{what}: the table's position"
        );
        assert!(e.to_string().contains(msg), "{what}: {e}");
    }
}

#[test]
fn gen2_mesh_scenario_lowers_to_the_expected_config() {
    use conf::{AddPathMode, StaticRoute, TtlMode};
    use std::time::Duration;
    let c = load(fixtures().join(MESH).join("bird.cfg"), BirdFamily::V4);
    assert_eq!(c.router_id.0.to_string(), "10.192.0.2");
    assert_eq!(c.local_as.0, 64512);
    assert_eq!(c.cluster_id, None);
    assert_eq!(
        c.listen.addresses,
        vec!["0.0.0.0".parse::<std::net::IpAddr>().unwrap()]
    );
    assert_eq!(c.listen.port, 179);
    let names: Vec<&str> = c.neighbors.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["Mesh_10_192_0_3", "Mesh_10_192_0_4"]);
    for (n, addr) in c.neighbors.iter().zip(["10.192.0.3", "10.192.0.4"]) {
        assert_eq!(n.address.to_string(), addr);
        assert_eq!(n.template.as_ref().unwrap().as_str(), "bgp_template");
        assert_eq!(n.remote_as.0, 64512);
        assert_eq!(n.local_as, None);
        assert_eq!(n.port, 179);
        assert_eq!(n.description.as_deref(), Some("Connection to BGP peer"));
        assert!(n.passive);
        // `multihop;` without a number: 64.
        assert_eq!(n.ttl, TtlMode::Multihop(64));
        assert_eq!(n.source_address.unwrap().to_string(), "10.192.0.2");
        assert!(n.password.is_none());
        assert_eq!(n.timers.hold, Duration::from_secs(240));
        assert_eq!(n.timers.keepalive, Duration::from_secs(80));
        assert_eq!(n.timers.connect_delay, Duration::from_secs(2));
        assert_eq!(n.timers.connect_retry, Duration::from_secs(5));
        assert_eq!(
            (n.timers.error_wait_min, n.timers.error_wait_max),
            (Duration::from_secs(5), Duration::from_secs(30))
        );
        assert!(n.graceful_restart.enabled);
        assert_eq!(n.graceful_restart.restart_time, Duration::from_secs(120));
        assert_eq!(n.families, vec![bgp_proto::types::Family::Ipv4Unicast]);
        assert_eq!(
            n.add_path.get(&bgp_proto::types::Family::Ipv4Unicast),
            Some(&AddPathMode::Both)
        );
        assert!(!n.route_reflector_client);
        assert_eq!(n.next_hop, conf::NextHopMode::Auto);
        assert_eq!(n.allow_own_as, 0);
        assert!(n.filters.is_empty());
        let f = n.bird_filters.as_ref().unwrap();
        assert_eq!(f.import.body.len(), 2, "the preference rule, then accept");
        assert_eq!(
            f.export.body.len(),
            3,
            "metric rule, calico_export_to_bgp_peers(true), reject"
        );
        assert_eq!(f.export.body[2], policy::bird::Stmt::Reject);
    }
    let blocks: Vec<String> = c.local_blocks.iter().map(ToString::to_string).collect();
    assert_eq!(
        blocks,
        [
            "10.0.0.0/30",
            "10.1.0.0/24",
            "192.168.221.192/26",
            "192.168.221.64/26"
        ]
    );
    assert!(c.kernel.enable_writes && c.kernel.persist_on_stop && c.kernel.learn);
    assert_eq!(
        (c.kernel.table, c.kernel.protocol, c.kernel.metric),
        (254, 12, 1024)
    );
    assert_eq!(c.kernel.tunnel_interface, "tunl0");
    assert_eq!(c.decision.max_paths, 16);
    assert_eq!(c.control.socket, PathBuf::from("/var/run/bird.ctl"));
    assert!(c.metrics.listen.is_none());
    let b = c.bird.as_ref().unwrap();
    assert_eq!(b.family, BirdFamily::V4);
    assert!(b.merge_paths);
    assert_eq!(
        b.kernel_export.name.as_deref(),
        Some("calico_kernel_programming")
    );
    assert_eq!(b.static_routes.len(), 4);
    assert!(b
        .static_routes
        .iter()
        .all(|r| matches!(r, StaticRoute::Blackhole(_))));
    let globs: Vec<(bool, &str)> = b
        .direct_interfaces
        .iter()
        .map(|i| (i.negated, i.glob.as_str()))
        .collect();
    assert_eq!(globs, [(true, "cali*"), (true, "kube-ipvs*"), (false, "*")]);
    // One function table for every program of the configuration.
    let names: Vec<&str> = b
        .kernel_export
        .functions
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "apply_communities",
            "calico_aggr",
            "reject_local_routes",
            "calico_export_to_bgp_peers"
        ]
    );
    let f = c.neighbors[0].bird_filters.as_ref().unwrap();
    assert!(std::sync::Arc::ptr_eq(
        &f.export.functions,
        &b.kernel_export.functions
    ));
    assert!(std::sync::Arc::ptr_eq(
        &f.import.functions,
        &c.neighbors[1]
            .bird_filters
            .as_ref()
            .unwrap()
            .export
            .functions
    ));
}

#[test]
fn gen1_mesh_imports_all_and_per_protocol_local_as_is_kept() {
    let c = load(
        fixtures().join("gen1/mesh/ipip-always/bird.cfg"),
        BirdFamily::V4,
    );
    let f = c.neighbors[0].bird_filters.as_ref().unwrap();
    assert!(f.import.is_accept_all());
    assert_eq!(f.export.body.len(), 2);
    let c = load(
        fixtures().join("gen2/explicit_peering/local-as/bird.cfg"),
        BirdFamily::V4,
    );
    assert_eq!(c.local_as.0, 64512);
    let n = c.neighbor("Node_10_192_0_4").unwrap();
    assert_eq!(
        (n.local_as.map(|a| a.0), n.remote_as.0),
        (Some(65001), 64566)
    );
    assert_eq!(n.ttl, conf::TtlMode::Multihop(64));
    assert_eq!(c.neighbor("Node_10_192_0_3").unwrap().allow_own_as, 1);
    let c = load(
        fixtures().join("gen2/mesh/password/step2/bird.cfg"),
        BirdFamily::V4,
    );
    let pw = c
        .neighbor("Mesh_10_192_0_3")
        .unwrap()
        .password
        .as_ref()
        .unwrap();
    assert_eq!(pw.expose(), b"password-a");
    assert_eq!(format!("{pw:?}"), "<redacted>");
}

#[test]
fn bird6_cfg_lowers_to_ipv6() {
    let c = load(
        fixtures().join("gen2/mesh/ipip-always/bird6.cfg"),
        BirdFamily::V6,
    );
    assert_eq!(c.control.socket, PathBuf::from("/var/run/bird6.ctl"));
    assert_eq!(
        c.listen.addresses,
        vec!["::".parse::<std::net::IpAddr>().unwrap()]
    );
    assert!(c
        .neighbors
        .iter()
        .all(|n| n.address.is_ipv6() && n.families == [bgp_proto::types::Family::Ipv6Unicast]));
    assert!(c
        .local_blocks
        .iter()
        .all(|b| matches!(b, ipnet::IpNet::V6(_))));
}

/// Speed of a large file (report only: `cargo test --release -p conf --test bird_fixtures --
/// --ignored --nocapture`).
#[test]
#[ignore]
fn time_load_of_1000_bgp_protocols() {
    let c = Copy::of(MESH, "speed");
    let text = c.read("bird.cfg");
    let start = text.find("protocol bgp Mesh_10_192_0_3").unwrap();
    let end = text[start..].find("\n}\n").unwrap() + start + 3;
    let block = &text[start..end];
    let mut big = text[..start].to_string();
    for i in 0..1000u32 {
        let ip = format!("10.193.{}.{}", i / 250, i % 250 + 1);
        big.push_str(
            &block
                .replace("Mesh_10_192_0_3", &format!("Mesh_{}", ip.replace('.', "_")))
                .replace("10.192.0.3", &ip),
        );
    }
    c.write("bird.cfg", &big);
    let mut best = std::time::Duration::MAX;
    for _ in 0..5 {
        let t = std::time::Instant::now();
        let cfg = load(c.0.join("bird.cfg"), BirdFamily::V4);
        best = best.min(t.elapsed());
        assert_eq!(cfg.neighbors.len(), 1000);
    }
    println!(
        "load of {} bytes with 1000 protocol bgp blocks: best of 5 {best:?}",
        big.len()
    );
}
