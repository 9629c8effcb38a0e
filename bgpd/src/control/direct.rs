//! `direct1`: BIRD's direct protocol as Calico configures it (`protocol direct { interface
//! -"cali*", -"kube-ipvs*", "*"; }`): a device route (`dev IF`, preference 240) for the network
//! of each address of an up interface, read from the kernel (`getifaddrs(3)`) when asked. The
//! routes only show on the control socket (`show route`, the `direct1` row): Calico's export
//! filters reject them and the FIB leaves connected networks to the kernel, so they are not in
//! our RIB.
//!
//! As BIRD 1.6 (`dev_ifa_notify`): no host- or link-scope addresses (loopback, IPv6 link-local),
//! and only the first address of each network on an interface (later ones are secondary).

use std::time::SystemTime;

use ipnet::IpNet;

use crate::control::cmd::show_interfaces::Iface;
use crate::control::parse::{pattern_match, Net};
use crate::control::state::Family;
use crate::route_view::{Destination, RouteEntry, RouteSource};

/// The protocol's name in `show protocols` and `show route`.
pub const NAME: &str = "direct1";
/// BIRD's default preference of device routes.
pub const PREFERENCE: u32 = 240;
/// Interfaces Calico's configuration excludes (workload veths, kube-proxy's IPVS dummy).
pub const EXCLUDED: &[&str] = &["cali*", "kube-ipvs*"];

fn link_or_host_scope(a: &std::net::IpAddr) -> bool {
    match a {
        std::net::IpAddr::V4(v) => v.is_loopback(),
        std::net::IpAddr::V6(v) => v.is_loopback() || (v.segments()[0] & 0xffc0) == 0xfe80,
    }
}

/// Whether the direct protocol takes interface `name`: with a BIRD configuration's patterns,
/// the first that matches decides (`-"x"` excludes) and an interface no pattern matches is not
/// taken (BIRD's `iface_patt_find`); without them, Calico's exclusions.
pub fn takes(name: &str, patterns: Option<&[conf::InterfacePattern]>) -> bool {
    match patterns {
        Some(ps) => ps
            .iter()
            .find(|p| pattern_match(&p.glob, name))
            .is_some_and(|p| !p.negated),
        None => !EXCLUDED.iter().any(|p| pattern_match(p, name)),
    }
}

/// The device routes of `ifaces` in `family`, ordered by network; `since` is their age column.
/// `patterns`: see [`takes`].
pub fn routes(
    ifaces: &[Iface],
    family: Family,
    since: SystemTime,
    patterns: Option<&[conf::InterfacePattern]>,
) -> Vec<RouteEntry> {
    let mut v: Vec<RouteEntry> = Vec::new();
    for i in ifaces {
        if i.flags & (libc::IFF_UP as u32) == 0 || !takes(&i.name, patterns) {
            continue;
        }
        let mut seen: Vec<IpNet> = Vec::new();
        for (a, len) in &i.addrs {
            if !family.has(*a) || link_or_host_scope(a) {
                continue;
            }
            let Ok(net) = IpNet::new(*a, *len).map(|n| n.trunc()) else {
                continue;
            };
            if seen.contains(&net) {
                continue;
            }
            seen.push(net);
            v.push(RouteEntry {
                net: Net {
                    addr: net.addr(),
                    len: net.prefix_len(),
                },
                destination: Destination::Device {
                    interface: i.name.clone(),
                },
                protocol: NAME.into(),
                since,
                from: None,
                primary: true,
                preference: PREFERENCE,
                bgp: None,
                source: RouteSource::Device,
                path: None,
                not_best: None,
            });
        }
    }
    v.sort_by_key(|r| (r.net.addr, r.net.len));
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    fn iface(name: &str, up: bool, addrs: &[(&str, u8)]) -> Iface {
        Iface {
            name: name.into(),
            index: 2,
            flags: if up { libc::IFF_UP as u32 } else { 0 },
            mtu: 1500,
            addrs: addrs
                .iter()
                .map(|(a, l)| (a.parse::<IpAddr>().expect("addr"), *l))
                .collect(),
        }
    }

    #[test]
    fn device_routes_as_birds_direct_protocol_in_calicos_configuration() {
        let ifaces = vec![
            iface("lo", true, &[("127.0.0.1", 8), ("::1", 128)]),
            iface(
                "eth0",
                true,
                &[
                    ("10.99.0.1", 24),
                    ("10.99.0.7", 24),
                    ("fd99::1", 64),
                    ("fe80::1", 64),
                ],
            ),
            iface("tunl0", true, &[("10.64.1.1", 32)]),
            iface("cali1234", true, &[("169.254.1.1", 32)]),
            iface("kube-ipvs0", true, &[("10.96.0.1", 32)]),
            iface("eth1", false, &[("10.98.0.1", 24)]),
        ];
        let t = SystemTime::now();
        let v4 = routes(&ifaces, Family::V4, t, None);
        let text: Vec<String> = v4
            .iter()
            .map(|r| {
                let Destination::Device { interface } = &r.destination else {
                    panic!("{r:?}")
                };
                format!("{}/{} dev {interface}", r.net.addr, r.net.len)
            })
            .collect();
        assert_eq!(
            text,
            ["10.64.1.1/32 dev tunl0", "10.99.0.0/24 dev eth0"],
            "no loopback, no secondary, no excluded or down interface"
        );
        assert!(v4
            .iter()
            .all(|r| r.primary && r.preference == 240 && r.protocol == "direct1"));
        let v6 = routes(&ifaces, Family::V6, t, None);
        assert_eq!(v6.len(), 1, "no ::1, no link-local: {v6:?}");
        assert_eq!(v6[0].net.addr, "fd99::".parse::<IpAddr>().expect("addr"));
    }
}

#[cfg(test)]
mod pattern_tests {
    use super::takes;
    use conf::InterfacePattern;

    fn p(negated: bool, glob: &str) -> InterfacePattern {
        InterfacePattern {
            negated,
            glob: glob.to_owned(),
        }
    }

    #[test]
    fn the_first_matching_pattern_decides_and_unmatched_interfaces_are_not_taken() {
        // Calico with ignoredInterfaces: interface -"eth9", -"cali*", -"kube-ipvs*", "*";
        let calico = [
            p(true, "eth9"),
            p(true, "cali*"),
            p(true, "kube-ipvs*"),
            p(false, "*"),
        ];
        assert!(takes("eth0", Some(&calico)));
        assert!(!takes("eth9", Some(&calico)));
        assert!(!takes("cali12ab", Some(&calico)));
        // Without a catch-all, an interface no pattern names is not taken (BIRD).
        let only = [p(false, "eth*")];
        assert!(takes("eth1", Some(&only)));
        assert!(!takes("ens3", Some(&only)));
        // No BIRD configuration: Calico's defaults.
        assert!(takes("eth9", None));
        assert!(!takes("kube-ipvs0", None));
    }
}
