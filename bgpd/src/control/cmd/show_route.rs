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
use crate::control::state::View;
use crate::control::time;
use crate::route_view::{Destination, NotBest, RouteEntry, RouteFilter, RouteReply, RouteSource};

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
            &show_interfaces::current(view),
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
mod tests;
