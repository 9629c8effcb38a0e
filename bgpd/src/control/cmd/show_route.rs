//! `show route [all] [for ADDR | PREFIX] [protocol NAME] [primary] [count]` (BIRD 1.6
//! `rt_show_rte`, `rt_show`): one line per route, `%-18s %s [%s %s%s]%s%s`, the network printed
//! only on its first route. The routes come from the published [`RouteEntry`] snapshot.

use std::time::SystemTime;

use crate::control::parse::{Net, RouteQuery};
use crate::control::reply::{code, Framer};
use crate::control::route::{Destination, RouteEntry};
use crate::control::state::View;
use crate::control::time;

fn net_text(n: &Net) -> String {
    format!("{}/{}", n.addr, n.len)
}

/// `rt_format_via`.
pub fn via(d: &Destination) -> String {
    match d {
        Destination::Router { gateway, interface } => format!("via {gateway} on {interface}"),
        Destination::Device { interface } => format!("dev {interface}"),
        Destination::Blackhole => "blackhole".into(),
        Destination::Unreachable => "unreachable".into(),
        Destination::Prohibited => "prohibited".into(),
        Destination::Multipath(_) => "multipath".into(),
    }
}

/// The info column: ` (PREF)` or, for BGP, ` (PREF/IGP) [ASnO]` (`bgp_get_route_info`).
pub fn info(r: &RouteEntry) -> String {
    match &r.bgp {
        None => format!(" ({})", r.preference),
        Some(b) => {
            let mut s = format!(" ({}", r.preference);
            if let Some(m) = b.igp_metric {
                s += &format!("/{m}");
            }
            s += ") [";
            if let Some(asn) = b.origin_as {
                s += &format!("AS{asn}");
            }
            if let Some(o) = b.origin {
                s.push(o.letter());
            }
            s.push(']');
            s
        }
    }
}

/// The lines of one route (without codes); `show_net` is false for the second and later routes
/// of a network.
pub fn lines(r: &RouteEntry, show_net: bool, now: SystemTime) -> Vec<String> {
    let net = if show_net {
        net_text(&r.net)
    } else {
        String::new()
    };
    let from = match r.from {
        Some(f) if !matches!(&r.destination, Destination::Router { gateway, .. } if *gateway == f) =>
        {
            format!(" from {f}")
        }
        _ => String::new(),
    };
    let mut v = vec![format!(
        "{net:<18} {} [{} {}{from}]{}{}",
        via(&r.destination),
        r.protocol,
        time::short(r.since, now),
        if r.primary { " *" } else { "" },
        info(r)
    )];
    if let Destination::Multipath(hops) = &r.destination {
        for h in hops {
            v.push(format!(
                "\tvia {} on {} weight {}",
                h.gateway, h.interface, h.weight
            ));
        }
    }
    v
}

fn selected<'a>(routes: &'a [RouteEntry], q: &RouteQuery) -> Vec<&'a RouteEntry> {
    let mut v: Vec<&RouteEntry> = routes
        .iter()
        .filter(|r| q.protocol.as_deref().is_none_or(|p| r.protocol == p))
        .filter(|r| !q.primary || r.primary)
        .filter(|r| q.exact.is_none_or(|n| r.net == n))
        .collect();
    if let Some(addr) = q.for_net {
        // The longest prefix covering the address (BIRD's `net_route`).
        let best = v
            .iter()
            .filter(|r| r.net.contains(&addr))
            .map(|r| r.net.len)
            .max();
        v.retain(|r| Some(r.net.len) == best && r.net.contains(&addr));
    }
    v
}

pub fn run(view: &View, q: &RouteQuery, now: SystemTime, f: &mut Framer) {
    if let Some(p) = &q.protocol {
        if view.peer(p).is_none() {
            return f.end(code::INVALID_SYMBOL, &format!("{p} is not a protocol"));
        }
    }
    let mut routes = view.routes();
    routes.sort_by(|a, b| {
        (a.net.addr, a.net.len, !a.primary).cmp(&(b.net.addr, b.net.len, !b.primary))
    });
    let sel = selected(&routes, q);
    if q.count {
        let mut nets: Vec<&Net> = sel.iter().map(|r| &r.net).collect();
        nets.dedup();
        let total = routes.len();
        return f.end(
            code::ROUTE_COUNT,
            &format!(
                "{} of {total} routes for {} networks",
                sel.len(),
                nets.len()
            ),
        );
    }
    let mut last: Option<Net> = None;
    for r in &sel {
        for l in lines(r, last != Some(r.net), now) {
            f.line(code::ROUTE_LIST, &l);
        }
        last = Some(r.net);
    }
    if (q.for_net.is_some() || q.exact.is_some()) && sel.is_empty() {
        return f.end(code::NETWORK_NOT_IN_TABLE, "Network not in table");
    }
    f.ok();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::route::{BgpRouteInfo, Origin};
    use std::net::IpAddr;

    fn entry(net: &str, len: u8, d: Destination, proto: &str, pref: u32) -> RouteEntry {
        RouteEntry {
            net: Net {
                addr: net.parse::<IpAddr>().unwrap(),
                len,
            },
            destination: d,
            protocol: proto.into(),
            since: SystemTime::now(),
            from: None,
            primary: true,
            preference: pref,
            bgp: None,
        }
    }

    #[test]
    fn route_lines_match_bird_1_6_shapes() {
        let now = SystemTime::now();
        let t = time::short(now, now);
        let dev = entry(
            "10.99.0.0",
            24,
            Destination::Device {
                interface: "ck1".into(),
            },
            "direct1",
            240,
        );
        assert_eq!(
            lines(&dev, true, now),
            vec![format!("10.99.0.0/24       dev ck1 [direct1 {t}] * (240)")]
        );
        let bh = entry("10.99.64.0", 26, Destination::Blackhole, "static1", 200);
        assert_eq!(
            lines(&bh, true, now),
            vec![format!(
                "10.99.64.0/26      blackhole [static1 {t}] * (200)"
            )]
        );
        let mut bgp = entry(
            "10.99.65.0",
            26,
            Destination::Router {
                gateway: "10.99.0.2".parse().unwrap(),
                interface: "ck1".into(),
            },
            "Mesh_10_99_0_2",
            100,
        );
        bgp.bgp = Some(BgpRouteInfo {
            igp_metric: Some(0),
            origin_as: None,
            origin: Some(Origin::Igp),
        });
        assert_eq!(
            lines(&bgp, true, now),
            vec![format!(
                "10.99.65.0/26      via 10.99.0.2 on ck1 [Mesh_10_99_0_2 {t}] * (100/0) [i]"
            )]
        );
        bgp.primary = false;
        bgp.bgp = Some(BgpRouteInfo {
            igp_metric: None,
            origin_as: Some(65001),
            origin: Some(Origin::Incomplete),
        });
        bgp.from = Some("10.99.0.9".parse().unwrap());
        assert_eq!(
            lines(&bgp, false, now),
            vec![format!("                   via 10.99.0.2 on ck1 [Mesh_10_99_0_2 {t} from 10.99.0.9] (100) [AS65001?]")]
        );
    }

    #[test]
    fn queries_filter_count_and_report_missing_networks() {
        let (view, keep) = crate::control::testing::view_with(&[("Mesh_10_99_0_2", "10.99.0.2")]);
        let routes = vec![
            entry("10.99.64.0", 26, Destination::Blackhole, "static1", 200),
            entry("10.99.0.0", 16, Destination::Unreachable, "static1", 200),
            entry("fd99::", 64, Destination::Blackhole, "static1", 200),
        ];
        keep.routes.send_replace(std::sync::Arc::new(routes));
        let now = SystemTime::now();
        let mut f = Framer::new();
        run(&view, &RouteQuery::default(), now, &mut f);
        let t = f.take();
        assert_eq!(t.lines().count(), 3, "two IPv4 routes and 0000: {t}");
        assert!(t.starts_with("1007-10.99.0.0/16 "));
        let q = RouteQuery {
            for_net: Some(Net {
                addr: "10.99.64.1".parse().unwrap(),
                len: 32,
            }),
            ..Default::default()
        };
        run(&view, &q, now, &mut f);
        assert!(f.take().starts_with("1007-10.99.64.0/26 "));
        let q = RouteQuery {
            count: true,
            ..Default::default()
        };
        run(&view, &q, now, &mut f);
        assert_eq!(f.take(), "0014 2 of 2 routes for 2 networks\n");
        let q = RouteQuery {
            exact: Some(Net {
                addr: "1.2.3.0".parse().unwrap(),
                len: 24,
            }),
            ..Default::default()
        };
        run(&view, &q, now, &mut f);
        assert_eq!(f.take(), "8001 Network not in table\n");
        let q = RouteQuery {
            protocol: Some("nosuch".into()),
            ..Default::default()
        };
        run(&view, &q, now, &mut f);
        assert_eq!(f.take(), "9002 nosuch is not a protocol\n");
    }

    #[test]
    fn empty_table_is_just_ok() {
        let (view, _keep) = crate::control::testing::view_with(&[]);
        let mut f = Framer::new();
        run(&view, &RouteQuery::default(), SystemTime::now(), &mut f);
        assert_eq!(f.take(), "0000 \n");
    }
}
