//! `show route [all] [for ADDR | PREFIX] [protocol NAME] [primary] [count]` (BIRD 1.6
//! `rt_show_rte`, `rt_show`): one line per route, every path of a network (best first, ` *`),
//! `%-18s %s [%s %s%s]%s%s`, the network printed only on its first route. With `all`, under each
//! route its `1008-\tType: ...` line and its `1012-` attribute lines (`attrs`), and under a
//! route that is not the best the decision step it lost at (`explain`). The RIB actor selects
//! and builds the routes on demand ([`RouteFilter`]); a RIB that does not answer in time gets
//! `8010`, not a hung socket.

mod attrs;
mod explain;

use std::time::SystemTime;

use crate::control::cmd::show_interfaces;
use crate::control::cmd::show_protocols::Builtin;
use crate::control::direct;
use crate::control::parse::{Net, RouteQuery};
use crate::control::reply::{code, Framer};
use crate::control::route::{
    Destination, NotBest, RouteEntry, RouteFilter, RouteReply, RouteSource,
};
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
            if b.stale {
                s.push('s');
            }
            if b.unresolved {
                s += "/-";
            } else if let Some(m) = b.igp_metric {
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

/// The lines `show route all` adds under a route (`rta_show`): its `Type:` line (code 1008),
/// its BGP attributes and, for a route that is not the best, why (code 1012).
pub fn details(r: &RouteEntry) -> Vec<(u16, String)> {
    let kind = match r.source {
        RouteSource::Bgp => "BGP",
        RouteSource::Static => "static",
        RouteSource::Device => "device",
        RouteSource::Kernel => "inherit",
    };
    let mut v = vec![(code::ROUTE_DETAILS, format!("\tType: {kind} unicast univ"))];
    if let Some(p) = &r.path {
        v.extend(
            attrs::lines(p)
                .into_iter()
                .map(|l| (code::ROUTE_ATTRIBUTES, l)),
        );
    }
    if let Some(n) = &r.not_best {
        v.push((code::ROUTE_ATTRIBUTES, explain::line(n)));
    }
    v
}

/// Whether `q` lists the table (streamed page by page, [`Listing`]) rather than looking up a
/// network or counting.
pub fn is_listing(q: &RouteQuery) -> bool {
    !q.count && q.exact.is_none() && q.for_net.is_none()
}

/// The query's protocol (`9002` answered on `f` when it names none) and the device routes of
/// `direct1` it selects, which come from the kernel's addresses, not from the RIB.
fn prepare(
    view: &View,
    q: &RouteQuery,
    f: &mut Framer,
) -> Option<(Option<Builtin>, Vec<RouteEntry>)> {
    let builtin = q
        .protocol
        .as_deref()
        .and_then(|p| Builtin::present(view).into_iter().find(|b| b.name() == p));
    if let Some(p) = &q.protocol {
        if view.peer(p).is_none() && builtin.is_none() {
            f.end(code::INVALID_SYMBOL, &format!("{p} is not a protocol"));
            return None;
        }
    }
    let direct = match (&q.protocol, builtin) {
        (None, _) | (Some(_), Some(Builtin::Direct)) => direct::routes(
            &show_interfaces::read().unwrap_or_default(),
            view.family,
            view.state.boot,
            view.state.direct_interfaces.as_deref(),
        ),
        _ => Vec::new(),
    };
    Some((builtin, direct))
}

/// A listing in progress: the RIB's pages come in order of network, the device routes (few)
/// are merged in as their networks come up, and the reply goes out page by page.
#[derive(Debug)]
pub struct Listing {
    /// Device routes not written yet, last network first.
    direct: Vec<RouteEntry>,
    /// Whether the RIB has routes to list (not for `protocol direct1`).
    pub rib: bool,
    primary_only: bool,
    /// `show route all`: each route's detail lines too.
    all: bool,
    /// The network of the last line written (a network is printed on its first route only).
    last: Option<Net>,
    /// The network of the last device route written.
    last_direct: Option<Net>,
}

fn key(n: &Net) -> (std::net::IpAddr, u8) {
    (n.addr, n.len)
}

impl Listing {
    /// Starts a listing for `q` (see [`is_listing`]); `None` after answering an error on `f`.
    pub fn start(view: &View, q: &RouteQuery, f: &mut Framer) -> Option<Listing> {
        let (builtin, direct) = prepare(view, q, f)?;
        let mut l = Listing::new(direct, builtin != Some(Builtin::Direct), q.primary);
        l.all = q.all;
        Some(l)
    }

    fn new(mut direct: Vec<RouteEntry>, rib: bool, primary_only: bool) -> Listing {
        direct.sort_by_key(|r| std::cmp::Reverse(key(&r.net)));
        Listing {
            direct,
            rib,
            primary_only,
            all: false,
            last: None,
            last_direct: None,
        }
    }

    /// What to ask the RIB for each page.
    pub fn filter(view: &View, q: &RouteQuery) -> RouteFilter {
        RouteFilter {
            family: Some(view.family),
            exact: None,
            for_addr: None,
            protocol: q.protocol.clone(),
            primary: q.primary,
            count: false,
        }
    }

    fn emit(&mut self, r: &RouteEntry, now: SystemTime, f: &mut Framer) {
        for l in lines(r, self.last != Some(r.net), now) {
            f.line(code::ROUTE_LIST, &l);
        }
        if self.all {
            for (c, l) in details(r) {
                f.line(c, &l);
            }
        }
        self.last = Some(r.net);
    }

    /// Writes the device routes of networks up to `upto` (all for `None`).
    fn emit_direct(&mut self, upto: Option<&Net>, now: SystemTime, f: &mut Framer) {
        while let Some(d) = self.direct.last() {
            if upto.is_some_and(|u| key(&d.net) > key(u)) {
                break;
            }
            if let Some(d) = self.direct.pop() {
                self.emit(&d, now, f);
                self.last_direct = Some(d.net);
            }
        }
    }

    /// Writes one page of the RIB's routes (`next`: the page's last network, `None` for the
    /// last page) with the device routes of the same networks. A device route is the best of
    /// its network (preference 240 beats BGP's 100 and static's 200), written first.
    pub fn page(
        &mut self,
        routes: Vec<RouteEntry>,
        next: Option<&Net>,
        now: SystemTime,
        f: &mut Framer,
    ) {
        for mut r in routes {
            self.emit_direct(Some(&r.net), now, f);
            if self.last_direct == Some(r.net) {
                // BIRD's preference decides between protocols before BGP's rules.
                if r.primary {
                    r.not_best = Some(NotBest::Preference {
                        this: r.preference,
                        best: direct::PREFERENCE,
                        winner: direct::NAME.into(),
                    });
                }
                r.primary = false;
                if self.primary_only {
                    continue;
                }
            }
            self.emit(&r, now, f);
        }
        self.emit_direct(next, now, f);
    }

    /// Ends the reply.
    pub fn finish(mut self, now: SystemTime, f: &mut Framer) {
        self.emit_direct(None, now, f);
        f.ok();
    }
}

pub fn run(view: &View, q: &RouteQuery, now: SystemTime, f: &mut Framer) {
    let Some((builtin, direct)) = prepare(view, q, f) else {
        return;
    };
    let reply = if builtin == Some(Builtin::Direct) {
        Ok(if q.count {
            RouteReply::Count {
                routes: 0,
                primary: 0,
                networks: 0,
                total: 0,
            }
        } else {
            RouteReply::Routes(Vec::new())
        })
    } else {
        view.routes(RouteFilter {
            family: Some(view.family),
            exact: q.exact,
            for_addr: q.for_net.map(|n| n.addr),
            protocol: q.protocol.clone(),
            primary: q.primary,
            count: q.count,
        })
    };
    match reply {
        Ok(reply) => render(&with_direct(reply, direct, q), q, now, f),
        Err(e) => f.end(code::ROUTES_UNAVAILABLE, e.message()),
    }
}

/// Adds the `direct1` routes that `q` selects to the RIB's answer. A device route is the best
/// of its network (preference 240 beats BGP's 100 and static's 200); `for ADDR` keeps the
/// longest network holding the address across both.
fn with_direct(reply: RouteReply, direct: Vec<RouteEntry>, q: &RouteQuery) -> RouteReply {
    let total = direct.len();
    let mut direct: Vec<RouteEntry> = direct
        .into_iter()
        .filter(|d| q.exact.is_none_or(|n| n == d.net))
        .filter(|d| q.for_net.is_none_or(|n| d.net.contains(&n)))
        .collect();
    match reply {
        RouteReply::Count {
            routes,
            primary,
            networks,
            total: all,
        } => {
            if q.for_net.is_some() {
                // The longest match only (a count with `for` is rare: keep the RIB's answer
                // unless a device route is the only match).
                direct.sort_by_key(|d| std::cmp::Reverse(d.net.len));
                direct.truncate(usize::from(routes == 0));
            }
            RouteReply::Count {
                routes: routes + direct.len(),
                primary: primary + direct.len(),
                networks: networks + direct.len(),
                total: all + total,
            }
        }
        RouteReply::Routes(mut rib) => {
            if q.for_net.is_some() {
                let longest = direct.iter().chain(rib.iter()).map(|r| r.net.len).max();
                direct.retain(|d| Some(d.net.len) == longest);
                rib.retain(|r| Some(r.net.len) == longest);
            }
            for r in &mut rib {
                if let Some(d) = direct.iter().find(|d| d.net == r.net) {
                    // BIRD's preference decides between protocols before BGP's rules.
                    if r.primary {
                        r.not_best = Some(NotBest::Preference {
                            this: r.preference,
                            best: d.preference,
                            winner: d.protocol.clone(),
                        });
                    }
                    r.primary = false;
                }
            }
            if q.primary {
                rib.retain(|r| r.primary);
            }
            // Device routes first within a network (they are its best route).
            direct.extend(rib);
            direct.sort_by_key(|r| (r.net.addr, r.net.len));
            RouteReply::Routes(direct)
        }
    }
}

/// Writes the RIB's answer as BIRD does.
pub fn render(reply: &RouteReply, q: &RouteQuery, now: SystemTime, f: &mut Framer) {
    let routes = match reply {
        RouteReply::Count {
            routes,
            networks,
            total,
            ..
        } => {
            return f.end(
                code::ROUTE_COUNT,
                &format!("{routes} of {total} routes for {networks} networks"),
            );
        }
        RouteReply::Routes(v) => v,
    };
    let mut last: Option<Net> = None;
    for r in routes {
        for l in lines(r, last != Some(r.net), now) {
            f.line(code::ROUTE_LIST, &l);
        }
        if q.all {
            for (c, l) in details(r) {
                f.line(c, &l);
            }
        }
        last = Some(r.net);
    }
    if (q.for_net.is_some() || q.exact.is_some()) && routes.is_empty() {
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
            source: RouteSource::Static,
            path: None,
            not_best: None,
        }
    }

    #[test]
    fn device_routes_join_the_ribs_answer_as_the_best_of_their_network() {
        let dev = |net: &str, len: u8| {
            entry(
                net,
                len,
                Destination::Device {
                    interface: "eth0".into(),
                },
                "direct1",
                240,
            )
        };
        let bgp = |net: &str, len: u8| {
            entry(
                net,
                len,
                Destination::Router {
                    gateway: "10.99.0.2".parse().unwrap(),
                    interface: "eth0".into(),
                },
                "Mesh_10_99_0_2",
                100,
            )
        };
        let direct = vec![dev("10.99.0.0", 24), dev("10.64.9.0", 26)];
        let rib = RouteReply::Routes(vec![bgp("10.64.2.0", 26), bgp("10.64.9.0", 26)]);
        let all = RouteQuery::default();
        let RouteReply::Routes(v) = with_direct(rib.clone(), direct.clone(), &all) else {
            panic!()
        };
        let got: Vec<(String, &str, bool)> = v
            .iter()
            .map(|r| {
                (
                    format!("{}/{}", r.net.addr, r.net.len),
                    r.protocol.as_str(),
                    r.primary,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("10.64.2.0/26".to_string(), "Mesh_10_99_0_2", true),
                ("10.64.9.0/26".to_string(), "direct1", true),
                ("10.64.9.0/26".to_string(), "Mesh_10_99_0_2", false),
                ("10.99.0.0/24".to_string(), "direct1", true),
            ]
        );
        assert_eq!(
            v[2].not_best,
            Some(NotBest::Preference {
                this: 100,
                best: 240,
                winner: "direct1".into()
            }),
            "the BGP route lost on BIRD's preference"
        );
        // `for ADDR`: the longest network holding it, wherever it comes from.
        let q = RouteQuery {
            for_net: Some(Net {
                addr: "10.99.0.9".parse().unwrap(),
                len: 32,
            }),
            ..RouteQuery::default()
        };
        let RouteReply::Routes(v) = with_direct(RouteReply::Routes(vec![]), direct.clone(), &q)
        else {
            panic!()
        };
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].protocol, "direct1");
        // Counts add the device routes.
        let count = RouteReply::Count {
            routes: 2,
            primary: 2,
            networks: 2,
            total: 2,
        };
        assert_eq!(
            with_direct(count, direct, &all),
            RouteReply::Count {
                routes: 4,
                primary: 4,
                networks: 4,
                total: 4
            }
        );
    }

    #[test]
    fn a_listing_in_pages_writes_what_the_whole_reply_did() {
        let dev = |net: &str, len: u8| {
            entry(
                net,
                len,
                Destination::Device {
                    interface: "eth0".into(),
                },
                "direct1",
                240,
            )
        };
        let bgp = |net: &str, len: u8| {
            entry(
                net,
                len,
                Destination::Router {
                    gateway: "10.99.0.2".parse().unwrap(),
                    interface: "eth0".into(),
                },
                "Mesh_10_99_0_2",
                100,
            )
        };
        let direct = vec![
            dev("10.99.0.0", 24),
            dev("10.64.9.0", 26),
            dev("10.0.0.0", 8),
        ];
        let rib = vec![
            bgp("10.64.2.0", 26),
            bgp("10.64.9.0", 26),
            bgp("10.64.9.0", 26),
            bgp("10.64.10.0", 26),
        ];
        let now = SystemTime::now();
        for (primary, all) in [(false, false), (true, false), (false, true), (true, true)] {
            let q = RouteQuery {
                primary,
                all,
                ..RouteQuery::default()
            };
            let mut whole = Framer::new();
            render(
                &with_direct(RouteReply::Routes(rib.clone()), direct.clone(), &q),
                &q,
                now,
                &mut whole,
            );
            // Pages cut anywhere between networks, the device routes merged as they come.
            for cut in [1, 3, 4] {
                let mut f = Framer::new();
                let mut l = Listing::new(direct.clone(), true, primary);
                l.all = all;
                let (a, b) = rib.split_at(cut);
                let n = a.last().map(|r| r.net);
                l.page(a.to_vec(), n.as_ref(), now, &mut f);
                let first = f.take();
                l.page(b.to_vec(), None, now, &mut f);
                l.finish(now, &mut f);
                assert_eq!(
                    first + &f.take(),
                    whole.take(),
                    "cut {cut}, primary {primary}, all {all}"
                );
                render(
                    &with_direct(RouteReply::Routes(rib.clone()), direct.clone(), &q),
                    &q,
                    now,
                    &mut whole,
                );
            }
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
            stale: false,
            unresolved: false,
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
            stale: false,
            unresolved: false,
        });
        bgp.from = Some("10.99.0.9".parse().unwrap());
        assert_eq!(
            lines(&bgp, false, now),
            vec![format!("                   via 10.99.0.2 on ck1 [Mesh_10_99_0_2 {t} from 10.99.0.9] (100) [AS65001?]")]
        );
    }

    /// A BGP route of `peer` with `attrs` (and the decision keys of a route with them).
    fn bgp_route(net: &str, peer: u8, a: bgp_proto::attribute::PathAttributes) -> RouteEntry {
        use std::net::Ipv4Addr;
        let gw: IpAddr = format!("10.99.0.{peer}").parse().unwrap();
        let mut rib = rib::Rib::new(rib::LocalInfo::new(
            bgp_proto::RouterId(Ipv4Addr::new(10, 99, 0, 1)),
            bgp_proto::Asn(64512),
        ));
        let keys = rib::DecisionKeys {
            local: false,
            local_pref: a.local_pref.unwrap_or(100),
            as_path_len: a.as_path.as_ref().map_or(0, |p| p.path_len()),
            origin: a.origin.unwrap_or(bgp_proto::attribute::Origin::Incomplete),
            neighbour_as: bgp_proto::Asn(64512),
            med: a.med.unwrap_or(0),
            external: false,
            igp_cost: Some(0),
            router_id: Ipv4Addr::new(10, 99, 0, peer),
            cluster_list_len: 0,
            peer_addr: gw,
            path_id: 0,
        };
        let mut e = entry(
            net,
            24,
            Destination::Router {
                gateway: gw,
                interface: "eth0".into(),
            },
            &format!("Mesh_10_99_0_{peer}"),
            100,
        );
        e.source = RouteSource::Bgp;
        e.bgp = Some(BgpRouteInfo {
            igp_metric: Some(0),
            origin_as: None,
            origin: Some(Origin::Igp),
            stale: false,
            unresolved: false,
        });
        e.path = Some(crate::control::route::BgpPath {
            attrs: rib.intern(rib::AttrSet {
                attrs: a,
                mp_next_hop: None,
            }),
            keys,
        });
        e
    }

    #[test]
    fn show_route_all_frames_type_attribute_and_explanation_lines_as_bird_1_6() {
        use bgp_proto::attribute::{AsPath, PathAttributes};
        let attrs = |nh: u8, lp: Option<u32>| PathAttributes {
            origin: Some(bgp_proto::attribute::Origin::Igp),
            as_path: Some(AsPath::default()),
            next_hop: Some(std::net::Ipv4Addr::new(10, 99, 0, nh)),
            local_pref: lp,
            ..PathAttributes::default()
        };
        let best = bgp_route("10.99.5.0", 2, attrs(2, Some(200)));
        let mut other = bgp_route("10.99.5.0", 3, attrs(3, None));
        other.primary = false;
        let (Some(b), Some(o)) = (&best.path, &other.path) else {
            panic!()
        };
        other.not_best = Some(NotBest::Decision {
            reason: rib::LossReason::LocalPref,
            this: o.keys,
            best: b.keys,
            winner: best.protocol.clone(),
            winner_addr: Some(b.keys.peer_addr),
            in_ecmp: false,
        });
        let blackhole = entry("10.99.1.0", 26, Destination::Blackhole, "static1", 200);
        let now = SystemTime::now();
        let t = time::short(now, now);
        let q = RouteQuery {
            all: true,
            ..RouteQuery::default()
        };
        let mut f = Framer::new();
        render(
            &RouteReply::Routes(vec![blackhole, best, other]),
            &q,
            now,
            &mut f,
        );
        let want = format!(
            "1007-10.99.1.0/26       blackhole [static1 {t}] * (200)\n\
             1008-\tType: static unicast univ\n\
             1007-10.99.5.0/24       via 10.99.0.2 on eth0 [Mesh_10_99_0_2 {t}] * (100/0) [i]\n\
             1008-\tType: BGP unicast univ\n\
             1012-\tBGP.origin: IGP\n\
             \x20\tBGP.as_path: \n\
             \x20\tBGP.next_hop: 10.99.0.2\n\
             \x20\tBGP.local_pref: 200\n\
             1007-                   via 10.99.0.3 on eth0 [Mesh_10_99_0_3 {t}] (100/0) [i]\n\
             1008-\tType: BGP unicast univ\n\
             1012-\tBGP.origin: IGP\n\
             \x20\tBGP.as_path: \n\
             \x20\tBGP.next_hop: 10.99.0.3\n\
             \x20\tBGP.local_pref: 100\n\
             \x20\tNot best: lost on LOCAL_PREF (100 < 200) to 10.99.0.2\n\
             0000 \n"
        );
        assert_eq!(f.take(), want);
        // Without `all`: the route lines only, every path.
        let mut f = Framer::new();
        let mut one = bgp_route("10.99.5.0", 2, attrs(2, None));
        one.bgp.as_mut().unwrap().stale = true;
        render(
            &RouteReply::Routes(vec![one]),
            &RouteQuery::default(),
            now,
            &mut f,
        );
        assert_eq!(
            f.take(),
            format!(
                "1007-10.99.5.0/24       via 10.99.0.2 on eth0 [Mesh_10_99_0_2 {t}] * (100s/0) [i]\n0000 \n"
            ),
            "a stale route's preference carries BIRD's `s`"
        );
    }

    #[test]
    fn replies_list_count_and_report_missing_networks() {
        let routes = vec![
            entry("10.99.0.0", 16, Destination::Unreachable, "static1", 200),
            entry("10.99.64.0", 26, Destination::Blackhole, "static1", 200),
        ];
        let now = SystemTime::now();
        let mut f = Framer::new();
        render(
            &RouteReply::Routes(routes.clone()),
            &RouteQuery::default(),
            now,
            &mut f,
        );
        let t = f.take();
        assert_eq!(t.lines().count(), 3, "two routes and 0000: {t}");
        assert!(t.starts_with("1007-10.99.0.0/16 "));
        let count = RouteReply::Count {
            routes: 2,
            primary: 2,
            networks: 2,
            total: 3,
        };
        render(&count, &RouteQuery::default(), now, &mut f);
        assert_eq!(f.take(), "0014 2 of 3 routes for 2 networks\n");
        let q = RouteQuery {
            exact: Some(Net {
                addr: "1.2.3.0".parse().unwrap(),
                len: 24,
            }),
            ..Default::default()
        };
        render(&RouteReply::Routes(Vec::new()), &q, now, &mut f);
        assert_eq!(f.take(), "8001 Network not in table\n");
        render(
            &RouteReply::Routes(Vec::new()),
            &RouteQuery::default(),
            now,
            &mut f,
        );
        assert_eq!(f.take(), "0000 \n", "an empty table is just OK");
    }

    #[test]
    fn unknown_protocol_is_refused_without_asking_the_rib() {
        let (view, _keep) = crate::control::testing::view_with(&[("Mesh_10_99_0_2", "10.99.0.2")]);
        let q = RouteQuery {
            protocol: Some("nosuch".into()),
            ..Default::default()
        };
        let mut f = Framer::new();
        run(&view, &q, SystemTime::now(), &mut f);
        assert_eq!(f.take(), "9002 nosuch is not a protocol\n");
    }

    /// Runs `show route` the way the socket does: on the blocking pool.
    async fn ask(view: &View, q: RouteQuery) -> String {
        let view = view.clone();
        tokio::task::spawn_blocking(move || {
            let mut f = Framer::new();
            run(&view, &q, SystemTime::now(), &mut f);
            f.take()
        })
        .await
        .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn query_goes_to_the_rib_with_the_socket_family_and_filters() {
        let (view, mut keep) =
            crate::control::testing::view_with(&[("Mesh_10_99_0_2", "10.99.0.2")]);
        let rib = tokio::spawn(async move {
            let Some(crate::rib_actor::RibRequest::Query(crate::rib_actor::RibQuery::Show {
                filter,
                reply,
            })) = keep.rib.recv().await
            else {
                panic!("a show query");
            };
            let _ = reply.send(RouteReply::Count {
                routes: 1,
                primary: 1,
                networks: 1,
                total: 5,
            });
            filter
        });
        let q = RouteQuery {
            protocol: Some("Mesh_10_99_0_2".into()),
            primary: true,
            count: true,
            ..Default::default()
        };
        assert_eq!(ask(&view, q).await, "0014 1 of 5 routes for 1 networks\n");
        let filter = rib.await.unwrap();
        assert_eq!(
            filter,
            RouteFilter {
                family: Some(crate::control::Family::V4),
                protocol: Some("Mesh_10_99_0_2".into()),
                primary: true,
                count: true,
                ..Default::default()
            }
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_rib_that_does_not_answer_gets_an_error_code_not_a_hang() {
        let (view, keep) = crate::control::testing::view_with(&[]);
        let started = std::time::Instant::now();
        assert_eq!(
            ask(&view, RouteQuery::default()).await,
            "8010 Routing table did not answer in time\n"
        );
        assert!(started.elapsed() >= crate::control::testing::QUERY_TIMEOUT);
        // The actor gone (every sender dropped): at once.
        drop(keep);
        assert_eq!(
            ask(&view, RouteQuery::default()).await,
            "8010 Routing table is not running\n"
        );
    }
}
