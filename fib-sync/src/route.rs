//! The plain deltas fib-sync accepts: "install this prefix via these next hops on this device".

use std::net::IpAddr;

use ipnet::IpNet;

/// `ip route` shows protocol 12 as `proto bird`; Felix and operators' scripts look for it.
pub const PROTO_BIRD: u8 = 12;
/// The main routing table.
pub const TABLE_MAIN: u32 = 254;

/// How fib-sync programs the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FibConfig {
    /// Routing table the routes go to (254 = main).
    pub table: u32,
    /// Route protocol number stamped on every route we own (12 = `bird`).
    pub protocol: u8,
    /// Route metric (priority). 0 for IPv4; the kernel turns 0 into 1024 for IPv6.
    pub metric: u32,
    /// Keep our routes in the kernel when stopping (BIRD's `persist`).
    pub persist: bool,
    /// The IP-in-IP device used by `onlink` routes.
    pub tunnel_ifname: String,
    /// Maximum number of requests sent whose outcome is not known yet (their chunk's ack not
    /// read): bounds the error messages that can pile up in the receive buffer.
    pub window: usize,
    /// Socket buffer size asked for (`SO_RCVBUFFORCE` / `SO_SNDBUFFORCE` when allowed).
    pub socket_buffer: usize,
    /// The address families this instance owns. calico-node runs one daemon per family
    /// (`bird`, `bird6`) with the same protocol number in the same table: each dumps,
    /// reconciles and writes only its own family and never touches the other's routes.
    pub families: Families,
}

/// Which address families a [`FibConfig`] owns in the kernel table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Families {
    pub v4: bool,
    pub v6: bool,
}

impl Families {
    /// Both families (one daemon for the whole node).
    pub const BOTH: Families = Families { v4: true, v6: true };
    /// IPv4 only (`bird`).
    pub const V4: Families = Families {
        v4: true,
        v6: false,
    };
    /// IPv6 only (`bird6`).
    pub const V6: Families = Families {
        v4: false,
        v6: true,
    };

    /// Whether routes of `prefix`'s family are ours to manage.
    pub fn has(&self, prefix: &IpNet) -> bool {
        match prefix {
            IpNet::V4(_) => self.v4,
            IpNet::V6(_) => self.v6,
        }
    }

    /// Whether routes of the family with this `rtm_family` / `AF_*` value are ours.
    pub fn has_af(&self, af: u8) -> bool {
        match i32::from(af) {
            libc::AF_INET => self.v4,
            libc::AF_INET6 => self.v6,
            _ => false,
        }
    }
}

impl Default for Families {
    fn default() -> Self {
        Families::BOTH
    }
}

impl Default for FibConfig {
    fn default() -> Self {
        FibConfig {
            table: TABLE_MAIN,
            protocol: PROTO_BIRD,
            metric: 0,
            persist: true,
            tunnel_ifname: "tunl0".to_owned(),
            window: 8192,
            socket_buffer: 32 << 20,
            families: Families::BOTH,
        }
    }
}

impl FibConfig {
    /// The next hop of an IP-in-IP route: `addr` reached `onlink` through the tunnel device.
    pub fn tunnel_nexthop(&self, addr: IpAddr) -> NextHop {
        NextHop::onlink(addr, &self.tunnel_ifname)
    }
}

/// One next hop of a route.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NextHop {
    /// The gateway.
    pub addr: IpAddr,
    /// The device, by name; `None` lets the kernel resolve it from the gateway.
    pub ifname: Option<String>,
    /// Treat the gateway as directly attached to `ifname` (IP-in-IP via `tunl0`).
    pub onlink: bool,
    /// BIRD's `gateway recursive`: when the gateway is not on a connected subnet, resolve it
    /// through the kernel's routing table and install the route via what it resolves to.
    /// Only meaningful without `ifname` (a hop with a device is installed as given).
    pub recursive: bool,
}

impl NextHop {
    /// A gateway the kernel resolves on a connected subnet.
    pub fn direct(addr: IpAddr) -> Self {
        NextHop {
            addr,
            ifname: None,
            onlink: false,
            recursive: false,
        }
    }

    /// A gateway installed directly when it is on a connected subnet of an up interface, and
    /// otherwise via whatever the kernel's routing table resolves it to (BIRD's `gateway
    /// recursive`): `via <resolved gateway> dev <device>`, or `via addr dev <device>` through a
    /// device route. A gateway that does not resolve (no route, a local address, a route of ours
    /// that is itself recursive) makes the route `unreachable`; one that resolves through a
    /// blackhole or prohibit route makes it that, as BIRD 1.6 does.
    pub fn recursive(addr: IpAddr) -> Self {
        NextHop {
            addr,
            ifname: None,
            onlink: false,
            recursive: true,
        }
    }

    /// `true` when the hop is resolved through the routing table (see [`NextHop::recursive`]).
    pub fn is_recursive(&self) -> bool {
        self.recursive && self.ifname.is_none() && !self.onlink
    }

    /// A gateway on the link of device `ifname`: an IPv6 link-local gateway needs its device
    /// (`via fe80::1 dev eth1`, RFC 2545 §3).
    pub fn on_device(addr: IpAddr, ifname: &str) -> Self {
        NextHop {
            addr,
            ifname: Some(ifname.to_owned()),
            onlink: false,
            recursive: false,
        }
    }

    /// A gateway reached `onlink` through the device `ifname` (e.g. `tunl0`).
    pub fn onlink(addr: IpAddr, ifname: &str) -> Self {
        NextHop {
            addr,
            ifname: Some(ifname.to_owned()),
            onlink: true,
            recursive: false,
        }
    }
}

/// What a route does with packets.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RouteKind {
    /// Drop silently (the node's own blocks).
    Blackhole,
    /// Forward via one next hop, or several (ECMP, sent as `RTA_MULTIPATH`).
    Via {
        /// The next hops; order does not matter.
        nexthops: Vec<NextHop>,
    },
}

impl RouteKind {
    /// The gateways of the route's recursive next hops ([`NextHop::recursive`]).
    pub fn recursive_gateways(&self) -> impl Iterator<Item = IpAddr> + '_ {
        let hops: &[NextHop] = match self {
            RouteKind::Via { nexthops } => nexthops,
            RouteKind::Blackhole => &[],
        };
        hops.iter().filter(|h| h.is_recursive()).map(|h| h.addr)
    }
}

/// A route to install.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Route {
    /// The destination (host bits are cleared on input).
    pub prefix: IpNet,
    /// What to do with it.
    pub kind: RouteKind,
    /// Its own metric (BIRD's `krt_metric`); `None`: [`FibConfig::metric`].
    pub metric: Option<u32>,
}

impl Route {
    /// A blackhole route.
    pub fn blackhole(prefix: IpNet) -> Self {
        Route {
            prefix: prefix.trunc(),
            kind: RouteKind::Blackhole,
            metric: None,
        }
    }

    /// A route via the given next hops.
    pub fn via(prefix: IpNet, nexthops: Vec<NextHop>) -> Self {
        Route {
            prefix: prefix.trunc(),
            kind: RouteKind::Via { nexthops },
            metric: None,
        }
    }

    /// The same route with its own metric (`None`: the configured one).
    pub fn with_metric(mut self, metric: Option<u32>) -> Self {
        self.metric = metric;
        self
    }
}

/// One change to the desired routing state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteDelta {
    /// Install or replace the route for its prefix.
    Install(Route),
    /// Remove our route for the prefix.
    Remove(IpNet),
}

impl RouteDelta {
    /// The prefix the delta is about.
    pub fn prefix(&self) -> IpNet {
        match self {
            RouteDelta::Install(route) => route.prefix.trunc(),
            RouteDelta::Remove(prefix) => prefix.trunc(),
        }
    }
}
