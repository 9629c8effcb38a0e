//! The BIRD front end's kernel protocol: its `export filter` (Calico's
//! `calico_kernel_programming`) decides, per Loc-RIB route, whether the kernel gets it, with
//! which metric (`krt_metric`) and through which device (`krt_tunnel`, Calico's BIRD fork:
//! `"tunl0"` makes an `onlink` route on that device, `""` or unset a plain gateway route).
//!
//! As BIRD's kernel protocol with `merge paths on`: the best route must pass the filter; the
//! other routes of the ECMP set that pass add their next hops; the metric is the best route's.
//! Without `merge paths`, only the best route's next hop. The static protocol's routes (the
//! node's block blackholes, `reachableBy` gateways) go through the same filter as source
//! `RTS_STATIC`.

use std::net::IpAddr;
use std::sync::Arc;

use conf::{Config, StaticRoute};
use fib_sync::{NextHop, Route};
use ipnet::IpNet;
use policy::bird::{self, Program, RouteSourceKind, RouteView, Verdict};
use rib::SelectedRoute;

/// How one next hop is installed, as the filter decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decided {
    /// `None`: a gateway route; `Some(i)`: `onlink` on device [`KernelFilter::device`]`(i)`.
    pub onlink: Option<u16>,
    /// `krt_metric`; `None`: none set (the kernel's default).
    pub metric: Option<u32>,
}

/// The compiled kernel filter and the device names it used.
#[derive(Debug, Clone)]
pub struct KernelFilter {
    program: Arc<Program>,
    merge_paths: bool,
    /// Devices named by `krt_tunnel` so far (a handful: Calico only writes `tunl0`).
    devices: Vec<String>,
}

impl KernelFilter {
    /// The kernel filter of a configuration read from BIRD text; `None` for TOML.
    pub fn new(config: &Config) -> Option<Self> {
        let b = config.bird.as_ref()?;
        Some(KernelFilter {
            program: b.kernel_export.clone(),
            merge_paths: b.merge_paths,
            devices: Vec::new(),
        })
    }

    /// `true` when `other` decides exactly as this one.
    pub fn same_program(&self, other: &KernelFilter) -> bool {
        self.program == other.program && self.merge_paths == other.merge_paths
    }

    /// Takes `other`'s program, keeping the device names already handed out (installed hops
    /// refer to them by index).
    pub fn replace_program(&mut self, other: KernelFilter) {
        self.program = other.program;
        self.merge_paths = other.merge_paths;
    }

    /// The device of an `onlink` decision.
    pub fn device(&self, i: u16) -> &str {
        self.devices.get(usize::from(i)).map_or("", String::as_str)
    }

    fn add_device(&mut self, name: String) -> Option<u16> {
        self.devices.push(name);
        u16::try_from(self.devices.len() - 1).ok()
    }

    /// Runs the filter on one route; `None` when it rejects (or fails, logged).
    fn run(&mut self, view: &RouteView<'_>) -> Option<Decided> {
        let outcome = match bird::run(&self.program, view) {
            Ok(o) => o,
            Err(e) => {
                tracing::warn!(event = "filter_runtime_error", filter = "kernel export",
                    prefix = %view.net, error = %e, "filter runtime error: route not installed");
                return None;
            }
        };
        if outcome.verdict != Verdict::Accept {
            return None;
        }
        let metric = outcome.changes.krt_metric.or(view.krt_metric);
        let onlink = match outcome.changes.krt_tunnel.filter(|t| !t.is_empty()) {
            None => None,
            Some(t) => match self.devices.iter().position(|d| d == t) {
                Some(i) => Some(u16::try_from(i).ok()?),
                None => {
                    let name = t.to_owned();
                    Some(self.add_device(name)?)
                }
            },
        };
        Some(Decided { onlink, metric })
    }

    /// The next hops (with their decision) for a prefix's Loc-RIB selection, into `out`
    /// (cleared first): empty when nothing is to be installed.
    pub fn hops(
        &mut self,
        prefix: IpNet,
        routes: &[SelectedRoute],
        out: &mut Vec<(IpAddr, Decided)>,
    ) {
        out.clear();
        // Routes learned from peers only: what we originate is installed from the static
        // protocol's list ([`KernelFilter::static_routes`]).
        let mut peers = routes.iter().filter(|r| r.peer.is_some());
        let Some(best) = peers.next() else { return };
        let Some(first) = self.route(prefix, best) else {
            return;
        };
        out.push(first);
        if !self.merge_paths {
            return;
        }
        for r in peers {
            if let Some((addr, d)) = self.route(prefix, r) {
                if !out.iter().any(|(a, _)| *a == addr) {
                    // The merged route carries the best route's metric.
                    out.push((
                        addr,
                        Decided {
                            metric: first.1.metric,
                            ..d
                        },
                    ));
                }
            }
        }
    }

    fn route(&mut self, prefix: IpNet, r: &SelectedRoute) -> Option<(IpAddr, Decided)> {
        let nh = r.next_hop?;
        let view = RouteView::new(prefix, RouteSourceKind::Bgp, Some(nh), Some(&r.attrs.attrs));
        self.run(&view).map(|d| (nh, d))
    }

    /// The static protocol's routes the filter lets into the kernel.
    pub fn static_routes(&mut self, statics: &[StaticRoute]) -> Vec<Route> {
        let mut out = Vec::new();
        for s in statics {
            let (net, gw) = match *s {
                StaticRoute::Blackhole(n) => (n, None),
                StaticRoute::Via(n, gw) => (n, Some(gw)),
            };
            let view = RouteView::new(net, RouteSourceKind::Static, gw, None);
            let Some(d) = self.run(&view) else { continue };
            let route = match gw {
                None => Route::blackhole(net),
                // BIRD 1.6's static `via` wants a neighbour: a direct hop, never recursive.
                Some(gw) => Route::via(
                    net,
                    vec![match d.onlink {
                        Some(i) => NextHop::onlink(gw, self.device(i)),
                        None => NextHop::direct(gw),
                    }],
                ),
            };
            out.push(route.with_metric(d.metric));
        }
        out
    }

    /// The kernel next hop of a decided BGP hop: `onlink` on the tunnel device, or a recursive
    /// gateway (Calico's `gateway recursive`: off the connected subnets, installed via what the
    /// kernel's table resolves it to).
    pub fn next_hop(&self, addr: IpAddr, d: Decided) -> NextHop {
        match d.onlink {
            Some(i) => NextHop::onlink(addr, self.device(i)),
            None => NextHop::recursive(addr),
        }
    }
}
