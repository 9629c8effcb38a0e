//! Validation tests: one per error kind with exact positions, plus the shipped configurations.

use std::io::Write;
use std::net::IpAddr;
use std::time::Duration;

use bgp_proto::types::{Asn, Family};

use crate::{AddPathMode, Config, ConfigError, ErrorKind, NextHopMode, TtlMode};

const HEAD: &str = "router_id = \"10.0.0.1\"\nlocal_as = 64512\n";

fn errors(text: &str) -> Vec<ConfigError> {
    match Config::from_str(text, "bgpd.toml") {
        Ok(c) => panic!("expected errors, got a config: {c:#?}"),
        Err(e) => e.errors,
    }
}

/// Exactly one error; returns it.
fn one(text: &str) -> ConfigError {
    let mut e = errors(text);
    assert_eq!(e.len(), 1, "expected one error, got {e:#?}");
    e.remove(0)
}

fn ok(text: &str) -> Config {
    match Config::from_str(text, "bgpd.toml") {
        Ok(c) => c,
        Err(e) => panic!("expected a valid config, got:\n{e}"),
    }
}

fn assert_at(e: &ConfigError, kind: ErrorKind, line: usize, column: usize, path: &str) {
    assert_eq!(
        (e.kind, e.line(), e.column(), e.path.as_str()),
        (kind, line, column, path),
        "{e}"
    );
}

#[test]
fn embedded_default_validates_and_runs_unprivileged_on_loopback() {
    let c = Config::embedded_default().expect("embedded default must validate");
    assert_eq!(c.router_id.0.to_string(), "127.0.0.1");
    assert_eq!(
        c.listen.addresses,
        vec!["127.0.0.1".parse::<IpAddr>().unwrap()]
    );
    assert!(c.listen.port >= 1024, "unprivileged port");
    assert!(!c.kernel.enable_writes);
    assert!(c.metrics.listen.is_none());
    assert!(c.control.socket.is_relative());
    assert!(c
        .neighbors
        .iter()
        .all(|n| n.passive && n.address.is_loopback()));
    assert!(c.notes.is_empty(), "{:?}", c.notes);
}

/// The shipped reference; its password file is swapped for a temporary one.
#[test]
fn example_config_parses_with_every_field() {
    let dir = std::env::temp_dir().join(format!("conf-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("tor1.key");
    let mut f = std::fs::File::create(&key).unwrap();
    writeln!(f, "s3cret").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let text = include_str!("../../examples/bgpd.toml")
        .replace("/etc/calico/bgp-tor1.key", key.to_str().unwrap());
    let c = ok(&text);
    std::fs::remove_dir_all(&dir).unwrap();

    assert_eq!(c.local_as, Asn(64512));
    assert_eq!(c.neighbors.len(), 5);
    let ll = c.neighbor("Global_fe80__1_eth1").unwrap();
    assert_eq!(ll.interface.as_deref(), Some("eth1"));
    assert_eq!(ll.ttl, TtlMode::Direct);
    let m2 = c.neighbor("Mesh_10_0_0_2").unwrap();
    assert_eq!(m2.template.as_ref().unwrap().as_str(), "mesh");
    assert_eq!(m2.remote_as, Asn(64512));
    assert_eq!(m2.ttl, TtlMode::Multihop(64));
    assert!(m2.graceful_restart.enabled);
    assert_eq!(
        m2.add_path.get(&Family::Ipv4Unicast),
        Some(&AddPathMode::Both)
    );
    assert_eq!(m2.timers.connect_retry, Duration::from_secs(5));
    let m3 = c.neighbor("Mesh_10_0_0_3").unwrap();
    assert_eq!(m3.timers.hold, Duration::from_secs(90));
    assert_eq!(m3.timers.keepalive, Duration::from_secs(30));
    let tor = c.neighbor("Global_10_0_1_254").unwrap();
    assert_eq!(tor.ttl, TtlMode::Gtsm { max_hops: None });
    assert_eq!(tor.next_hop, NextHopMode::Keep);
    let lim = tor.route_limits[&Family::Ipv4Unicast];
    assert_eq!(
        lim.import.map(|l| (l.max, l.action)),
        Some((5000, crate::LimitAction::Restart))
    );
    assert_eq!(tor.password.as_ref().unwrap().expose(), b"s3cret");
    assert_eq!(format!("{tor:?}").matches("s3cret").count(), 0);
    let rr = c.neighbor("Node_10_0_0_9").unwrap();
    assert!(rr.route_reflector_client);
    assert_eq!(rr.add_path.len(), 1);
    assert_eq!(c.local_blocks.len(), 2);
    assert_eq!(c.ip_pools.len(), 2);
    assert_eq!(c.control.mode, 0o660);
    assert!(c.notes.is_empty(), "{:?}", c.notes);

    // Routing policy sections.
    fn fnames(n: &crate::Neighbor) -> Vec<&str> {
        n.filters.iter().map(|f| f.as_str()).collect()
    }
    assert_eq!(fnames(m2), ["no-default-route"]);
    assert!(fnames(m3).is_empty());
    assert_eq!(fnames(tor), ["tor", "no-default-route"]);
    assert!(fnames(rr).is_empty());
    assert_eq!(c.filters.len(), 2);
    let f = &c.filters[0];
    assert_eq!(
        (
            f.export_v4.len(),
            f.import_v4.len(),
            f.export_v6.len(),
            f.import_v6.len()
        ),
        (2, 1, 1, 1)
    );
    assert_eq!(f.export_v4[0].operations.len(), 3);
    assert_eq!(c.prefix_advertisements.len(), 2);
    assert_eq!(c.prefix_advertisements[0].communities.len(), 2);
    assert_eq!(c.services.cluster_ips.len(), 2);
    assert_eq!(c.services.external_ips.len(), 1);
    assert_eq!(c.services.load_balancer_ips.len(), 1);
    assert_eq!(c.static_routes.len(), 1);
    assert_eq!(c.rr_allowlist.len(), 1);
    assert_eq!(c.decision, crate::Decision::default());
}

#[test]
fn reports_error_in_the_documented_format() {
    let text = format!(
        "{HEAD}\n[[neighbors]]\nname = \"tor1\"\naddress = \"10.0.0.2\"\nremote_as = 4294967296\n"
    );
    let e = one(&text);
    assert_at(
        &e,
        ErrorKind::OutOfRange,
        7,
        13,
        "neighbor \"tor1\".remote_as",
    );
    assert_eq!(
        e.to_string(),
        "bgpd.toml:7:13: neighbor \"tor1\".remote_as: 4294967296 is not a valid AS number \
         (hint: AS numbers are 1..=4294967294 (4 octets, RFC 6793))"
    );
}

#[test]
fn collects_all_errors_at_once_in_file_order() {
    let text = "router_id = \"0.0.0.0\"\nlocal_as = 0\n[listen]\nport = 0\n\
                [[neighbors]]\nname = \"1bad\"\naddress = \"10.0.0.300\"\nremote_as = 23456\n";
    let e = errors(text);
    let got: Vec<(ErrorKind, usize, usize)> =
        e.iter().map(|e| (e.kind, e.line(), e.column())).collect();
    assert_eq!(
        got,
        vec![
            (ErrorKind::Invalid, 1, 13),
            (ErrorKind::OutOfRange, 2, 12),
            (ErrorKind::OutOfRange, 4, 8),
            (ErrorKind::Invalid, 6, 8),
            (ErrorKind::Invalid, 7, 11),
            (ErrorKind::OutOfRange, 8, 13),
        ]
    );
    let all = crate::ConfigErrors { errors: e }.to_string();
    assert_eq!(all.lines().count(), 6, "{all}");
}

#[test]
fn syntax_errors_have_positions() {
    let errs = errors("router_id = \"10.0.0.1\nlocal_as = = 1\n");
    assert!(errs.iter().all(|e| e.kind == ErrorKind::Syntax));
    assert_eq!((errs[0].line(), errs[0].column()), (1, 22), "{}", errs[0]);
    assert!(errs.iter().any(|e| e.line() == 2), "{errs:#?}");
}

#[test]
fn every_unknown_field_is_reported_with_a_suggestion() {
    let text = format!("{HEAD}bogus = 1\n[kernel]\ntabel = 5\n[[neighbors]]\nname = \"n1\"\nremote_asn = 1\nadd_path = {{ ipv5 = \"both\" }}\n");
    let e = errors(&text);
    assert_eq!(e.len(), 4, "{e:#?}");
    assert_at(&e[0], ErrorKind::UnknownField, 3, 1, "bogus");
    assert_at(&e[1], ErrorKind::UnknownField, 5, 1, "kernel.tabel");
    assert_eq!(e[1].hint.as_deref(), Some("did you mean `table`?"));
    assert_at(
        &e[2],
        ErrorKind::UnknownField,
        8,
        1,
        "neighbor \"n1\".remote_asn",
    );
    assert_eq!(e[2].hint.as_deref(), Some("did you mean `remote_as`?"));
    assert_at(
        &e[3],
        ErrorKind::UnknownField,
        9,
        14,
        "neighbor \"n1\".add_path.ipv5",
    );
}

#[test]
fn wrong_type_is_reported_at_the_value() {
    let e = one(&format!("{HEAD}[kernel]\nenable_writes = \"yes\"\n"));
    assert_at(&e, ErrorKind::WrongType, 4, 17, "kernel.enable_writes");
    let e = one(&format!(
        "{HEAD}[[neighbors]]\nname = \"n\"\nremote_as = \"64512\"\n"
    ));
    assert_at(&e, ErrorKind::WrongType, 5, 13, "neighbor \"n\".remote_as");
    assert_eq!(
        e.message,
        "invalid type: string \"64512\", expected an integer"
    );
    let e = one(&format!(
        "{HEAD}[[neighbors]]\nname = \"n\"\nadd_path = {{ ipv4 = 1 }}\n"
    ));
    assert_at(
        &e,
        ErrorKind::WrongType,
        5,
        21,
        "neighbor \"n\".add_path.ipv4",
    );
    let e = one(&format!("{HEAD}local_blocks = [\"10.0.0.0/26\", 5]\n"));
    assert_at(&e, ErrorKind::WrongType, 3, 32, "local_blocks[1]");
}

#[test]
fn missing_required_fields() {
    let e = errors("[listen]\nport = 1790\n");
    assert_eq!(e.len(), 2);
    assert_at(&e[0], ErrorKind::Missing, 1, 1, "router_id");
    assert_at(&e[1], ErrorKind::Missing, 1, 1, "local_as");
    let e = one(&format!(
        "{HEAD}[[neighbors]]\nname = \"n1\"\nremote_as = 1\n"
    ));
    assert_at(&e, ErrorKind::Missing, 3, 1, "neighbor \"n1\".address");
}

#[test]
fn reserved_as_numbers_are_refused() {
    for (asn, hint) in [
        ("0", "RFC 7607"),
        ("23456", "RFC 6793"),
        ("4294967295", "RFC 7300"),
        ("-1", "1..=4294967294"),
    ] {
        let e = one(&format!("router_id = \"10.0.0.1\"\nlocal_as = {asn}\n"));
        assert_at(&e, ErrorKind::OutOfRange, 2, 12, "local_as");
        assert!(e.hint.as_deref().unwrap().contains(hint), "{e}");
    }
}

#[test]
fn neighbor_names_follow_bird_identifier_rules() {
    for bad in ["1abc", "a-b", "", "x.y", &"a".repeat(65)] {
        let e = one(&format!(
            "{HEAD}[[neighbors]]\nname = \"{bad}\"\naddress = \"10.0.0.2\"\nremote_as = 1\n"
        ));
        assert_at(&e, ErrorKind::Invalid, 4, 8, "neighbors[0].name");
    }
    let e = one(&format!(
        "{HEAD}[[neighbors]]\nname = \"kernel1\"\naddress = \"10.0.0.2\"\nremote_as = 1\n"
    ));
    assert_at(&e, ErrorKind::Invalid, 4, 8, "neighbors[0].name");
    ok(&format!("{HEAD}[[neighbors]]\nname = \"Mesh_fd80_24e2__2\"\naddress = \"fd80:24e2::2\"\nremote_as = 1\n"));
}

#[test]
fn duplicate_neighbor_names_and_addresses() {
    let n = |name: &str, addr: &str| {
        format!("[[neighbors]]\nname = \"{name}\"\naddress = \"{addr}\"\nremote_as = 1\n")
    };
    let text = format!(
        "{HEAD}{}{}{}",
        n("a", "10.0.0.2"),
        n("a", "10.0.0.3"),
        n("b", "10.0.0.2")
    );
    let e = errors(&text);
    assert_eq!(e.len(), 2, "{e:#?}");
    assert_at(&e[0], ErrorKind::Duplicate, 8, 8, "neighbors[1].name");
    assert_eq!(e[0].hint.as_deref(), Some("first defined at line 4"));
    assert_at(
        &e[1],
        ErrorKind::Duplicate,
        13,
        11,
        "neighbor \"b\".address",
    );
    // Same address, another port: allowed (Calico's `_port_` peers).
    ok(&format!(
        "{HEAD}{}[[neighbors]]\nname = \"b\"\naddress = \"10.0.0.2\"\nport = 1790\nremote_as = 1\n",
        n("a", "10.0.0.2")
    ));
}

#[test]
fn neighbors_inherit_from_templates_and_override() {
    let text = format!(
        "{HEAD}[[templates]]\nname = \"mesh\"\nremote_as = 64512\nhold_time = 90\npassive = true\n\
         [[neighbors]]\nname = \"Mesh_10_0_0_2\"\ntemplate = \"mesh\"\naddress = \"10.0.0.2\"\n\
         [[neighbors]]\nname = \"Mesh_10_0_0_3\"\ntemplate = \"mesh\"\naddress = \"10.0.0.3\"\npassive = false\nhold_time = 30\n"
    );
    let c = ok(&text);
    let a = c.neighbor("Mesh_10_0_0_2").unwrap();
    assert_eq!(
        (a.remote_as, a.passive, a.timers.hold, a.timers.keepalive),
        (
            Asn(64512),
            true,
            Duration::from_secs(90),
            Duration::from_secs(30)
        )
    );
    let b = c.neighbor("Mesh_10_0_0_3").unwrap();
    assert_eq!(
        (b.passive, b.timers.hold, b.timers.keepalive),
        (false, Duration::from_secs(30), Duration::from_secs(10))
    );
}

#[test]
fn unknown_template_lists_the_known_ones() {
    let text = format!("{HEAD}[[templates]]\nname = \"mesh\"\n[[neighbors]]\nname = \"n\"\ntemplate = \"mseh\"\naddress = \"10.0.0.2\"\nremote_as = 1\n");
    let e = one(&text);
    assert_at(
        &e,
        ErrorKind::UnknownTemplate,
        7,
        12,
        "neighbor \"n\".template",
    );
    assert_eq!(e.hint.as_deref(), Some("defined templates: mesh"));
    // The neighbor's own fields are still checked.
    let text = format!("{HEAD}[[neighbors]]\nname = \"n\"\ntemplate = \"t\"\naddress = \"10.0.0.2\"\nremote_as = 1\nhold_time = 1\n");
    let e = errors(&text);
    assert_eq!(e.len(), 2, "{e:#?}");
    assert_at(
        &e[0],
        ErrorKind::UnknownTemplate,
        5,
        12,
        "neighbor \"n\".template",
    );
    assert_at(
        &e[1],
        ErrorKind::OutOfRange,
        8,
        13,
        "neighbor \"n\".hold_time",
    );
}

#[test]
fn a_large_mesh_validates() {
    let mut text =
        format!("{HEAD}[[templates]]\nname = \"mesh\"\nremote_as = 64512\npassive = true\n");
    for i in 0..500u32 {
        let ip = format!("10.1.{}.{}", i / 250, i % 250 + 2);
        text.push_str(&format!(
            "[[neighbors]]\nname = \"Mesh_{}\"\ntemplate = \"mesh\"\naddress = \"{ip}\"\n",
            ip.replace('.', "_")
        ));
    }
    let c = ok(&text);
    assert_eq!(c.neighbors.len(), 500);
    assert!(crate::diff(&c, &c).is_empty());
}

#[test]
fn notes_are_displayed_as_notes() {
    let c = ok(&format!("{HEAD}[[neighbors]]\nname = \"n\"\naddress = \"fd00::2\"\nremote_as = 1\nfamilies = [\"ipv4\"]\n"));
    assert_eq!(
        c.notes[0].to_string(),
        "bgpd.toml:7:12: note: neighbor \"n\".families: ipv4-unicast is carried over an IPv6 session (RFC 4760); the session's own family is not negotiated"
    );
}

#[test]
fn templates_cannot_set_an_address_and_are_unique() {
    let text = format!(
        "{HEAD}[[templates]]\nname = \"t\"\naddress = \"10.0.0.2\"\n[[templates]]\nname = \"t\"\n"
    );
    let e = errors(&text);
    assert_at(&e[0], ErrorKind::Invalid, 5, 11, "template \"t\".address");
    assert_at(&e[1], ErrorKind::Duplicate, 7, 8, "templates[1].name");
}

#[test]
fn hold_and_keepalive_rules() {
    let nb = |extra: &str| {
        format!("{HEAD}[[neighbors]]\nname = \"n\"\naddress = \"10.0.0.2\"\nremote_as = 1\n{extra}")
    };
    assert_at(
        &one(&nb("hold_time = 2\n")),
        ErrorKind::OutOfRange,
        7,
        13,
        "neighbor \"n\".hold_time",
    );
    assert_at(
        &one(&nb("hold_time = 70000\n")),
        ErrorKind::OutOfRange,
        7,
        13,
        "neighbor \"n\".hold_time",
    );
    assert_at(
        &one(&nb("hold_time = 9\nkeepalive_time = 9\n")),
        ErrorKind::Conflict,
        8,
        18,
        "neighbor \"n\".keepalive_time",
    );
    assert_at(
        &one(&nb("hold_time = 0\nkeepalive_time = 3\n")),
        ErrorKind::Conflict,
        8,
        18,
        "neighbor \"n\".keepalive_time",
    );
    let c = ok(&nb("hold_time = 0\n"));
    assert_eq!(c.neighbors[0].timers.keepalive, Duration::ZERO);
    let c = ok(&nb("hold_time = 3\n"));
    assert_eq!(c.neighbors[0].timers.keepalive, Duration::from_secs(1));
    // Template hold, neighbor keepalive: reported at the neighbor's value.
    let text = format!("{HEAD}[[templates]]\nname = \"t\"\nhold_time = 30\n[[neighbors]]\nname = \"n\"\ntemplate = \"t\"\naddress = \"10.0.0.2\"\nremote_as = 1\nkeepalive_time = 40\n");
    assert_at(
        &one(&text),
        ErrorKind::Conflict,
        11,
        18,
        "neighbor \"n\".keepalive_time",
    );
    assert_at(
        &one(&nb("error_wait_min = 30\nerror_wait_max = 5\n")),
        ErrorKind::Conflict,
        8,
        18,
        "neighbor \"n\".error_wait_max",
    );
}

#[test]
fn gtsm_and_multihop_are_exclusive_even_across_a_template() {
    let text = format!("{HEAD}[[templates]]\nname = \"t\"\nmultihop = 2\n[[neighbors]]\nname = \"n\"\ntemplate = \"t\"\naddress = \"10.0.0.2\"\nremote_as = 1\nttl_security = true\n");
    let e = one(&text);
    assert_at(
        &e,
        ErrorKind::Conflict,
        11,
        16,
        "neighbor \"n\".ttl_security",
    );
    assert!(
        e.hint
            .as_deref()
            .unwrap()
            .contains("template \"t\".multihop is set at line 5"),
        "{e}"
    );
}

#[test]
fn ttl_defaults_follow_bird() {
    let nb = |asn: u32| {
        format!("{HEAD}[[neighbors]]\nname = \"n\"\naddress = \"10.0.0.2\"\nremote_as = {asn}\n")
    };
    assert_eq!(ok(&nb(64512)).neighbors[0].ttl, TtlMode::Multihop(64));
    assert_eq!(ok(&nb(65000)).neighbors[0].ttl, TtlMode::Direct);
}

#[test]
fn password_sources() {
    let nb = |extra: &str| {
        format!("{HEAD}[[neighbors]]\nname = \"n\"\naddress = \"10.0.0.2\"\nremote_as = 1\n{extra}")
    };
    let e = one(&nb("password_file = \"/nonexistent/conf-test.key\"\n"));
    assert_at(&e, ErrorKind::Secret, 7, 17, "neighbor \"n\".password_file");
    let var = format!("CONF_TEST_UNSET_{}", std::process::id());
    let e = one(&nb(&format!("password_env = \"{var}\"\n")));
    assert_at(&e, ErrorKind::Secret, 7, 16, "neighbor \"n\".password_env");
    let e = one(&nb("password_file = \"/x\"\npassword_env = \"Y\"\n"));
    assert_at(
        &e,
        ErrorKind::Conflict,
        8,
        16,
        "neighbor \"n\".password_env",
    );
    let var = format!("CONF_TEST_KEY_{}", std::process::id());
    std::env::set_var(&var, "k3y");
    let c = ok(&nb(&format!("password_env = \"{var}\"\n")));
    std::env::remove_var(&var);
    let p = c.neighbors[0].password.as_ref().unwrap();
    assert_eq!(p.expose(), b"k3y");
    assert!(!format!("{:?}", c.neighbors[0]).contains("k3y"));
}

#[test]
fn family_rules() {
    let nb = |addr: &str, extra: &str| {
        format!("{HEAD}[[neighbors]]\nname = \"n\"\naddress = \"{addr}\"\nremote_as = 1\n{extra}")
    };
    // IPv6 session carrying IPv4 only: allowed, with a note.
    let c = ok(&nb("fd00::2", "families = [\"ipv4\"]\n"));
    assert_eq!(c.neighbors[0].families, vec![Family::Ipv4Unicast]);
    assert_eq!(c.notes.len(), 1);
    assert_at(
        &c.notes[0],
        ErrorKind::Note,
        7,
        12,
        "neighbor \"n\".families",
    );
    assert_eq!(
        ok(&nb("fd00::2", "")).neighbors[0].families,
        vec![Family::Ipv6Unicast]
    );
    assert_at(
        &one(&nb("10.0.0.2", "families = []\n")),
        ErrorKind::Invalid,
        7,
        12,
        "neighbor \"n\".families",
    );
    assert_at(
        &one(&nb("10.0.0.2", "families = [\"ipv4\", \"ipx\"]\n")),
        ErrorKind::Invalid,
        7,
        21,
        "neighbor \"n\".families[1]",
    );
    assert_at(
        &one(&nb("10.0.0.2", "add_path = { ipv6 = \"both\" }\n")),
        ErrorKind::Conflict,
        7,
        12,
        "neighbor \"n\".add_path",
    );
    assert_at(
        &one(&nb("10.0.0.2", "source_address = \"fd00::1\"\n")),
        ErrorKind::Conflict,
        7,
        18,
        "neighbor \"n\".source_address",
    );
}

#[test]
fn a_neighbor_cannot_be_ourselves() {
    let text = format!("{HEAD}[listen]\naddresses = [\"10.0.0.1\"]\n[[neighbors]]\nname = \"n\"\naddress = \"10.0.0.1\"\nremote_as = 1\n");
    assert_at(
        &one(&text),
        ErrorKind::Conflict,
        7,
        11,
        "neighbor \"n\".address",
    );
}

#[test]
fn world_readable_key_file_gets_a_note() {
    use std::os::unix::fs::PermissionsExt;
    let key = std::env::temp_dir().join(format!("conf-key-{}.txt", std::process::id()));
    std::fs::write(&key, "k\n").unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let text = format!("{HEAD}[[neighbors]]\nname = \"n\"\naddress = \"10.0.0.2\"\nremote_as = 1\npassword_file = \"{}\"\n", key.display());
    let c = ok(&text);
    std::fs::remove_file(&key).unwrap();
    assert_eq!(c.neighbors[0].password.as_ref().unwrap().expose(), b"k");
    assert_eq!(c.notes.len(), 1, "{:?}", c.notes);
    assert_at(
        &c.notes[0],
        ErrorKind::Note,
        7,
        17,
        "neighbor \"n\".password_file",
    );
}

#[test]
fn route_reflector_clients_are_ibgp_only() {
    let text = format!("{HEAD}[[neighbors]]\nname = \"n\"\naddress = \"10.0.0.2\"\nremote_as = 65000\nroute_reflector_client = true\n");
    assert_at(
        &one(&text),
        ErrorKind::Conflict,
        7,
        26,
        "neighbor \"n\".route_reflector_client",
    );
}

#[test]
fn blocks_must_lie_in_a_pool_and_not_overlap() {
    let text = "router_id = \"10.0.0.1\"\nlocal_as = 64512\n\
                local_blocks = [\"10.64.0.0/26\", \"10.65.0.0/26\", \"10.64.0.0/27\", \"10.64.0.1/26\"]\n\
                [[ip_pools]]\ncidr = \"10.64.0.0/16\"\n";
    let e = errors(text);
    assert_eq!(e.len(), 3, "{e:#?}");
    assert_at(&e[0], ErrorKind::Prefix, 3, 33, "local_blocks[1]");
    assert_at(&e[1], ErrorKind::Prefix, 3, 49, "local_blocks[2]");
    assert_at(&e[2], ErrorKind::Prefix, 3, 65, "local_blocks[3]");
    assert_eq!(e[2].hint.as_deref(), Some("did you mean 10.64.0.0/26?"));
    // Without pools a block is accepted with a note.
    let c = ok("router_id = \"10.0.0.1\"\nlocal_as = 64512\nlocal_blocks = [\"10.64.0.0/26\"]\n");
    assert_eq!(c.notes.len(), 1);
}

#[test]
fn pool_rules() {
    let pool = |body: &str| format!("{HEAD}[[ip_pools]]\n{body}");
    assert_at(
        &one(&pool(
            "cidr = \"10.0.0.0/8\"\nipip_mode = \"Always\"\nvxlan_mode = \"CrossSubnet\"\n",
        )),
        ErrorKind::Conflict,
        6,
        14,
        "ip_pools[0].vxlan_mode",
    );
    assert_at(
        &one(&pool("cidr = \"fd00::/48\"\nipip_mode = \"Always\"\n")),
        ErrorKind::Conflict,
        5,
        13,
        "ip_pools[0].ipip_mode",
    );
    assert_at(
        &one(&pool("cidr = \"10.0.0.0/8\"\nipip_mode = \"always\"\n")),
        ErrorKind::Invalid,
        5,
        13,
        "ip_pools[0].ipip_mode",
    );
    assert_at(
        &one(&pool("ipip_mode = \"Never\"\n")),
        ErrorKind::Missing,
        3,
        1,
        "ip_pools[0].cidr",
    );
    let text = format!(
        "{HEAD}[[ip_pools]]\ncidr = \"10.0.0.0/8\"\n[[ip_pools]]\ncidr = \"10.1.0.0/16\"\n"
    );
    assert_at(&one(&text), ErrorKind::Prefix, 6, 8, "ip_pools[1].cidr");
}

#[test]
fn kernel_control_and_metrics_rules() {
    let sec = |s: &str| format!("{HEAD}{s}");
    assert_at(
        &one(&sec("[kernel]\nprotocol = 3\n")),
        ErrorKind::OutOfRange,
        4,
        12,
        "kernel.protocol",
    );
    assert_at(
        &one(&sec("[kernel]\ntable = 255\n")),
        ErrorKind::Invalid,
        4,
        9,
        "kernel.table",
    );
    assert_at(
        &one(&sec("[kernel]\ntunnel_interface = \"a/b\"\n")),
        ErrorKind::Invalid,
        4,
        20,
        "kernel.tunnel_interface",
    );
    assert_at(
        &one(&sec("[control]\nmode = 0o1777\n")),
        ErrorKind::OutOfRange,
        4,
        8,
        "control.mode",
    );
    assert_at(
        &one(&sec(
            "[control]\nsocket = \"a.ctl\"\nsocket_v6 = \"a.ctl\"\n",
        )),
        ErrorKind::Duplicate,
        5,
        13,
        "control.socket_v6",
    );
    let long = "x".repeat(108);
    assert_at(
        &one(&sec(&format!("[control]\nsocket = \"{long}\"\n"))),
        ErrorKind::Invalid,
        4,
        10,
        "control.socket",
    );
    assert_at(
        &one(&sec("[metrics]\nlisten = \"0.0.0.0:9179\"\n")),
        ErrorKind::Invalid,
        4,
        10,
        "metrics.listen",
    );
    let c = ok(&sec(
        "[metrics]\nlisten = \"0.0.0.0:9179\"\nallow_non_loopback = true\n",
    ));
    assert!(c.metrics.listen.is_some());
    let c = ok(HEAD);
    assert_eq!(
        (
            c.kernel.protocol,
            c.kernel.tunnel_interface.as_str(),
            c.control.mode
        ),
        (12, "tunl0", 0o660)
    );
    assert_eq!(c.control.socket.to_str(), Some("/var/run/calico/bird.ctl"));
}

#[test]
fn load_reports_an_unreadable_file() {
    let e = Config::load("/nonexistent/conf-test/bgpd.toml").unwrap_err();
    assert_eq!(e.errors[0].kind, ErrorKind::Io);
    assert!(
        e.to_string()
            .starts_with("/nonexistent/conf-test/bgpd.toml: cannot read"),
        "{e}"
    );
}

#[test]
fn every_schema_key_is_accepted_by_serde() {
    // Each table's key list against serde: a key listed but not in the struct would be rejected
    // here by deny_unknown_fields (keys::check passes it).
    use crate::schema::{keys, RawConfig};
    for (header, list) in [
        ("[[neighbors]]", keys::PEER),
        ("[[filters]]", keys::FILTER),
        ("[[filters]]\n[[filters.export_v4]]", keys::RULE),
        (
            "[[filters]]\n[[filters.export_v4]]\n[filters.export_v4.prefix_length]",
            keys::PREFIX_LENGTH,
        ),
        (
            "[[filters]]\n[[filters.export_v4]]\n[[filters.export_v4.operations]]",
            keys::OPERATION,
        ),
        ("[[prefix_advertisements]]", keys::PREFIX_ADVERTISEMENT),
    ] {
        for k in list {
            let text = format!("{header}\n{k} = {{}}\n");
            if let Err(err) = toml::from_str::<RawConfig>(&text) {
                assert!(
                    !err.message().contains("unknown field"),
                    "{header} {k}: {err}"
                );
            }
        }
    }
    for k in keys::ROOT {
        let text = format!("{k} = {{}}\n");
        if let Err(err) = toml::from_str::<RawConfig>(&text) {
            assert!(!err.message().contains("unknown field"), "{k}: {err}");
        }
    }
    for (table, list) in [
        ("listen", keys::LISTEN),
        ("kernel", keys::KERNEL),
        ("control", keys::CONTROL),
        ("metrics", keys::METRICS),
        ("services", keys::SERVICES),
        ("bgp", keys::BGP),
        ("graceful_restart", keys::GRACEFUL_RESTART),
    ] {
        for k in list {
            let text = format!("[{table}]\n{k} = {{}}\n");
            if let Err(err) = toml::from_str::<RawConfig>(&text) {
                assert!(
                    !err.message().contains("unknown field"),
                    "{table}.{k}: {err}"
                );
            }
        }
    }
}

#[test]
fn bfd_defaults_to_300_ms_x_3_and_inherits_from_templates() {
    let c = ok(&format!(
        "{HEAD}[[templates]]\nname = \"t\"\nremote_as = 64512\nbfd = true\nbfd_multiplier = 5\n\n\
         [[neighbors]]\nname = \"a\"\ntemplate = \"t\"\naddress = \"10.0.0.2\"\n\n\
         [[neighbors]]\nname = \"b\"\ntemplate = \"t\"\naddress = \"10.0.0.3\"\n\
         bfd_interval_ms = 100\nbfd_graceful = true\nmultihop = 2\n\n\
         [[neighbors]]\nname = \"c\"\nremote_as = 64513\naddress = \"10.0.0.4\"\n"
    ));
    let a = c.neighbors[0].bfd.expect("a inherits bfd");
    assert_eq!(
        a,
        crate::Bfd {
            min_tx: Duration::from_millis(300),
            min_rx: Duration::from_millis(300),
            multiplier: 5,
            passive: false,
            graceful: false,
            multihop: false,
        }
    );
    let b = c.neighbors[1].bfd.expect("b inherits bfd");
    assert_eq!(b.min_tx, Duration::from_millis(100));
    assert!(b.graceful);
    // More than one hop away: multihop BFD (RFC 5883).
    assert!(b.multihop);
    assert_eq!(c.neighbors[2].bfd, None);
}

#[test]
fn bfd_interval_and_multiplier_out_of_range_are_reported_with_positions() {
    let e = errors(&format!(
        "{HEAD}[[neighbors]]\nname = \"a\"\nremote_as = 64512\naddress = \"10.0.0.2\"\n\
         bfd = true\nbfd_interval_ms = 5\nbfd_multiplier = 0\n"
    ));
    assert_eq!(e.len(), 2, "{e:#?}");
    assert_at(
        &e[0],
        ErrorKind::OutOfRange,
        8,
        19,
        "neighbor \"a\".bfd_interval_ms",
    );
    assert_at(
        &e[1],
        ErrorKind::OutOfRange,
        9,
        18,
        "neighbor \"a\".bfd_multiplier",
    );
}
