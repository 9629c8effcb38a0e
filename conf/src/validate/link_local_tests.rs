//! IPv6 link-local neighbors: `address = "fe80::1%eth1"`, `interface`, and the checks on them.

use std::net::IpAddr;

use crate::{Config, ConfigError, ErrorKind, TtlMode};

const HEAD: &str = "router_id = \"10.0.0.1\"\nlocal_as = 64512\n";

fn load(body: &str) -> Result<Config, Vec<ConfigError>> {
    Config::from_str(&format!("{HEAD}{body}"), "bgpd.toml").map_err(|e| e.errors)
}

fn one_error(body: &str) -> ConfigError {
    let mut e = load(body).expect_err("expected an error");
    assert_eq!(e.len(), 1, "{e:#?}");
    e.remove(0)
}

fn neighbor(name: &str, address: &str, extra: &str) -> String {
    format!("[[neighbors]]\nname = \"{name}\"\naddress = \"{address}\"\nremote_as = 65000\n{extra}")
}

#[test]
fn scoped_address_names_the_interface() {
    let c = load(&neighbor("ll", "fe80::1%eth1", "")).expect("valid");
    let n = &c.neighbors[0];
    assert_eq!(n.address, "fe80::1".parse::<IpAddr>().unwrap());
    assert_eq!(n.interface.as_deref(), Some("eth1"));
    assert!(n.is_link_local());
    assert_eq!(n.scoped_address().to_string(), "fe80::1%eth1");
}

#[test]
fn interface_field_gives_the_link_and_ibgp_stays_single_hop() {
    let c = load(
        "[[neighbors]]\nname = \"ll\"\naddress = \"fe80::1\"\ninterface = \"eth1\"\n\
         remote_as = 64512\n",
    )
    .expect("valid");
    let n = &c.neighbors[0];
    assert_eq!(n.interface.as_deref(), Some("eth1"));
    // iBGP is multihop (TTL 64) by default, but a session bound to a link is direct.
    assert_eq!(n.ttl, TtlMode::Direct);
}

#[test]
fn link_local_without_interface_is_an_error_at_the_address() {
    let e = one_error(&neighbor("ll", "fe80::1", ""));
    assert_eq!(e.kind, ErrorKind::Missing);
    assert_eq!((e.line(), e.path.as_str()), (5, "neighbor \"ll\".address"));
    let text = e.to_string();
    assert!(text.starts_with("bgpd.toml:5:"), "{text}");
    assert!(
        text.contains("link-local") && text.contains("fe80::1%eth1"),
        "{text}"
    );
}

#[test]
fn interface_from_a_template_satisfies_a_link_local_neighbor() {
    let c = load(
        "[[templates]]\nname = \"unnumbered\"\ninterface = \"eth2\"\nremote_as = 65000\n\
         [[neighbors]]\nname = \"ll\"\ntemplate = \"unnumbered\"\naddress = \"fe80::2\"\n",
    )
    .expect("valid");
    assert_eq!(c.neighbors[0].interface.as_deref(), Some("eth2"));
}

#[test]
fn global_address_with_interface_binds_to_the_device() {
    let c = load(&neighbor("g", "10.0.0.2", "interface = \"eth0\"\n")).expect("valid");
    assert_eq!(c.neighbors[0].interface.as_deref(), Some("eth0"));
    assert!(!c.neighbors[0].is_link_local());
    assert_eq!(c.neighbors[0].scoped_address().to_string(), "10.0.0.2%eth0");
}

#[test]
fn scope_and_interface_must_agree() {
    let e = one_error(&neighbor("ll", "fe80::1%eth1", "interface = \"eth2\"\n"));
    assert_eq!(e.kind, ErrorKind::Conflict);
    assert_eq!(e.path, "neighbor \"ll\".interface");
    // The same name twice is fine.
    load(&neighbor("ll", "fe80::1%eth1", "interface = \"eth1\"\n")).expect("valid");
}

#[test]
fn bad_interface_names_are_rejected() {
    for (addr, extra) in [
        ("fe80::1%", ""),
        ("fe80::1%a/b", ""),
        ("fe80::1", "interface = \"a-very-long-interface\"\n"),
    ] {
        let e = one_error(&neighbor("ll", addr, extra));
        assert_eq!(e.kind, ErrorKind::Invalid, "{addr} {extra}: {e}");
        assert!(e.message.contains("not an interface name"), "{e}");
    }
    let e = one_error(&neighbor("ll", "fe80::zz%eth1", ""));
    assert!(e.message.contains("not an IP address"), "{e}");
}

#[test]
fn one_link_local_address_on_two_interfaces_is_two_neighbors() {
    let c = load(&format!(
        "{}{}",
        neighbor("a", "fe80::1%eth1", ""),
        neighbor("b", "fe80::1%eth2", "")
    ))
    .expect("valid");
    assert_eq!(c.neighbors.len(), 2);
    let e = one_error(&format!(
        "{}{}",
        neighbor("a", "fe80::1%eth1", ""),
        neighbor("b", "fe80::1", "interface = \"eth1\"\n")
    ));
    assert_eq!(e.kind, ErrorKind::Duplicate);
    assert!(e.message.contains("fe80::1%eth1 port 179"), "{e}");
}

#[test]
fn multihop_cannot_be_bound_to_an_interface() {
    let e = one_error(&neighbor("ll", "fe80::1%eth1", "multihop = 2\n"));
    assert_eq!(e.kind, ErrorKind::Conflict);
    assert_eq!(e.path, "neighbor \"ll\".multihop");
}

#[test]
fn neighbors_at_one_address_on_two_links_need_the_same_filters() {
    let filters = "[[filters]]\nname = \"f\"\n";
    let e = one_error(&format!(
        "{filters}{}{}",
        neighbor("a", "fe80::1%eth1", ""),
        neighbor("b", "fe80::1%eth2", "filters = [\"f\"]\n")
    ));
    assert_eq!(e.kind, ErrorKind::Conflict);
    assert_eq!(e.path, "neighbor \"b\".address");
}
