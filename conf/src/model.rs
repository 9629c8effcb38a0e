//! The typed configuration: what the daemon runs with once validation has passed. Every default
//! is resolved; an `Option` here means "absent is a real setting" (no source address, metrics off).

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use bgp_proto::types::{Asn, Family, RouterId};
use ipnet::IpNet;

use crate::error::ConfigError;
use crate::filter::{CommunityValue, Filter, FilterName};
use crate::secret::Password;

/// The whole configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub router_id: RouterId,
    pub local_as: Asn,
    /// Route reflector cluster id (RFC 4456 §7); `None`: the router id is used.
    pub cluster_id: Option<ClusterId>,
    pub listen: Listen,
    /// Neighbors in file order, templates already applied.
    pub neighbors: Vec<Neighbor>,
    pub kernel: Kernel,
    pub control: Control,
    pub metrics: Metrics,
    /// Calico IPAM blocks affine to this node: announced and blackholed locally.
    pub local_blocks: Vec<IpNet>,
    pub ip_pools: Vec<IpPool>,
    /// Calico BGPFilters, in file order; neighbors name them in [`Neighbor::filters`].
    pub filters: Vec<Filter>,
    /// Calico `prefixAdvertisements`: communities added to exported routes inside a CIDR
    /// (community names already resolved).
    pub prefix_advertisements: Vec<PrefixAdvertisement>,
    /// Service CIDRs announced (Calico `serviceClusterIPs` / `serviceExternalIPs` /
    /// `serviceLoadBalancerIPs`).
    pub services: Services,
    /// Other static routes this node originates and exports (Calico's `/staticroutes`):
    /// `policy::export::ExportPolicy::static_routes`.
    pub static_routes: Vec<IpNet>,
    /// Prefixes a route reflector passes on although outside every pool (Calico's
    /// `/allowlist`): `policy::export::ExportPolicy::rr_allowlist`.
    pub rr_allowlist: Vec<IpNet>,
    /// Best-path and multipath options for the RIB.
    pub decision: Decision,
    /// What our own graceful-restart recovery (`-R`) waits for (`[graceful_restart] recovery`).
    pub recovery: RecoveryMode,
    /// Set when the configuration was read from BIRD configuration text (`bird -c bird.cfg`):
    /// what only that front end has (its family, files, kernel filter, static routes).
    pub bird: Option<BirdSetup>,
    /// Things allowed but worth telling the operator (kind [`crate::ErrorKind::Note`]).
    /// Not part of the configuration's meaning: [`crate::diff`] ignores them.
    pub notes: Vec<ConfigError>,
}

impl Config {
    /// The neighbor with this protocol name.
    pub fn neighbor(&self, name: &str) -> Option<&Neighbor> {
        self.neighbors.iter().find(|n| n.name.as_str() == name)
    }

    /// The filter with this name.
    pub fn filter(&self, name: &FilterName) -> Option<&Filter> {
        self.filters.iter().find(|f| &f.name == name)
    }

    /// A neighbor's filters, in the order it lists them (validation guarantees they exist).
    pub fn neighbor_filters<'a>(&'a self, n: &'a Neighbor) -> impl Iterator<Item = &'a Filter> {
        n.filters.iter().filter_map(|name| self.filter(name))
    }

    /// The cluster id in effect: the configured one or the router id (RFC 4456 §7).
    pub fn effective_cluster_id(&self) -> ClusterId {
        self.cluster_id.unwrap_or(ClusterId(self.router_id.0))
    }
}

/// A route reflector CLUSTER_ID (RFC 4456 §8), written like an IPv4 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClusterId(pub Ipv4Addr);

impl fmt::Display for ClusterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Where the daemon accepts BGP connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listen {
    pub addresses: Vec<IpAddr>,
    pub port: u16,
}

/// A neighbor's protocol name, as shown by `show protocols` on the control socket: a BIRD-style
/// identifier (`[A-Za-z_][A-Za-z0-9_]*`, at most 64 characters), e.g. `Mesh_10_0_0_2`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NeighborName(String);

impl NeighborName {
    /// Longest accepted name (BIRD's `SYM_MAX_LEN`).
    pub const MAX_LEN: usize = 64;

    /// Checks the identifier rule; the error says what is wrong.
    pub fn new(s: &str) -> Result<NeighborName, &'static str> {
        let mut chars = s.chars();
        match chars.next() {
            None => return Err("is empty"),
            Some(c) if !(c.is_ascii_alphabetic() || c == '_') => {
                return Err("must start with a letter or '_'")
            }
            Some(_) => {}
        }
        if !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err("may contain only letters, digits and '_'");
        }
        if s.len() > Self::MAX_LEN {
            return Err("is longer than 64 characters");
        }
        Ok(NeighborName(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NeighborName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One BGP neighbor with every setting resolved (template, then neighbor, then defaults).
#[derive(Debug, Clone, PartialEq)]
pub struct Neighbor {
    pub name: NeighborName,
    /// The template it inherited from, for display.
    pub template: Option<NeighborName>,
    pub address: IpAddr,
    /// The interface the session runs over (`address = "fe80::1%eth1"` or `interface =
    /// "eth1"`): required for an IPv6 link-local address, whose connections use the
    /// interface's index as scope; with any address the socket is bound to the device (as
    /// BIRD's `interface`). Its name is resolved to an index at every connection attempt.
    pub interface: Option<String>,
    /// Our AS on this session when it differs from [`Config::local_as`] (BIRD's per-protocol
    /// `local as N`, Calico's BGPPeer `localASNumber`); `None`: the global one.
    pub local_as: Option<Asn>,
    /// The peer's TCP port (179 unless set).
    pub port: u16,
    pub remote_as: Asn,
    pub description: Option<String>,
    /// Never connect; only accept (Calico's mesh: the higher address waits).
    pub passive: bool,
    pub ttl: TtlMode,
    pub password: Option<Password>,
    /// Local address to bind and to use as our next hop; `None`: chosen by the kernel.
    pub source_address: Option<IpAddr>,
    pub timers: Timers,
    /// Families negotiated with the peer (RFC 4760), sorted.
    pub families: Vec<Family>,
    pub graceful_restart: GracefulRestart,
    /// Announce the extended message capability (RFC 8654): messages up to 65535 octets when
    /// the peer announces it too. Off by default, as in BIRD.
    pub extended_messages: bool,
    /// Announce IPv4 unicast with IPv6 next hops (RFC 8950 extended next hop capability); with
    /// a peer that announces it too, IPv4 routes with IPv6 next hops are accepted (otherwise
    /// they are treat-as-withdraw). Off by default, as in BIRD.
    pub extended_next_hop: bool,
    /// ADD-PATH per family (RFC 7911); a family absent here does not use ADD-PATH.
    pub add_path: BTreeMap<Family, AddPathMode>,
    /// The peer is a route reflector client (RFC 4456); iBGP only.
    pub route_reflector_client: bool,
    pub next_hop: NextHopMode,
    /// Accept routes whose AS_PATH contains our AS up to this many times (Calico per-rack AS).
    pub allow_own_as: u8,
    /// BGPFilters applied to this neighbor, in order: the first matching rule of any of them
    /// decides (import and export). A neighbor's list replaces its template's.
    pub filters: Vec<FilterName>,
    /// BIRD front end only: the protocol's compiled `import` / `export` filters, which then
    /// replace Calico's typed rules for this neighbor.
    pub bird_filters: Option<BirdFilters>,
    /// BFD for this session (RFC 5880/5881/5883); `None`: off.
    pub bfd: Option<Bfd>,
    /// Prefix limits per family (BIRD's `receive limit` / `import limit`, FRR's
    /// `maximum-prefix`); a family absent here has none.
    pub route_limits: BTreeMap<Family, RouteLimits>,
}

/// The prefix limits of one family of a neighbor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct RouteLimits {
    /// Counts every route held from the peer, filtered or not (BIRD's `receive limit`).
    pub receive: Option<RouteLimit>,
    /// Counts the routes the import policy accepted (BIRD's `import limit`).
    pub import: Option<RouteLimit>,
}

/// One prefix limit: what happens when the peer sends the route that would make `max + 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RouteLimit {
    pub max: u32,
    pub action: LimitAction,
}

/// BIRD's limit actions (`action warn|block|restart|disable`; `disable` when not given).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitAction {
    /// Log once and keep accepting.
    Warn,
    /// Drop new routes beyond the limit; routes already held and updates of them stay.
    Block,
    /// Cease / Maximum Number of Prefixes Reached (RFC 4486 §4), then reconnect after the
    /// error wait.
    Restart,
    /// Cease / Maximum Number of Prefixes Reached, and stay down until `enable NAME`.
    Disable,
}

impl LimitAction {
    /// BIRD's word for it.
    pub fn name(self) -> &'static str {
        match self {
            LimitAction::Warn => "warn",
            LimitAction::Block => "block",
            LimitAction::Restart => "restart",
            LimitAction::Disable => "disable",
        }
    }
}

/// BFD settings of one neighbor. A BFD Down while the session is Established tears it down
/// (Cease / BFD Down, RFC 9384), or with `graceful` closes it as a graceful restart would.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Bfd {
    /// Desired minimum TX interval once Up (RFC 5880 bfd.DesiredMinTxInterval).
    pub min_tx: Duration,
    /// Required minimum RX interval (bfd.RequiredMinRxInterval).
    pub min_rx: Duration,
    /// Detection multiplier (bfd.DetectMult).
    pub multiplier: u8,
    /// Passive role: wait for the peer's first packet (RFC 5880 §6.1).
    pub passive: bool,
    /// On BFD Down, close the session without a NOTIFICATION (routes kept stale when graceful
    /// restart was negotiated), as BIRD's `bfd graceful`.
    pub graceful: bool,
    /// Multihop BFD (RFC 5883, UDP 4784) instead of single hop (RFC 5881, 3784).
    pub multihop: bool,
}

impl Bfd {
    /// TOML defaults: 300 ms x 3 (FRR's defaults; 900 ms detection time).
    pub const DEFAULT_INTERVAL: Duration = Duration::from_millis(300);
    pub const DEFAULT_MULTIPLIER: u8 = 3;
}

/// A BIRD `protocol bgp`'s filters, compiled (`import all` / `none` / `filter NAME` /
/// `filter { … }`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BirdFilters {
    pub import: std::sync::Arc<policy::bird::Program>,
    pub export: std::sync::Arc<policy::bird::Program>,
}

/// Which daemon of calico-node's pair this configuration is for: `bird` serves IPv4, `bird6`
/// IPv6 (own file, own socket, own kernel routes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BirdFamily {
    V4,
    V6,
}

/// A static route of BIRD's `protocol static` (`route P blackhole;`, `route P via IP;`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StaticRoute {
    Blackhole(IpNet),
    Via(IpNet, IpAddr),
}

/// One element of the direct protocol's `interface` list: a shell glob, negated with `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InterfacePattern {
    pub negated: bool,
    pub glob: String,
}

/// What only the BIRD front end knows (the TOML model's typed Calico rules are not used for
/// import, export or kernel programming when this is set; the neighbors' [`BirdFilters`] and
/// [`BirdSetup::kernel_export`] are).
#[derive(Debug, Clone, PartialEq)]
pub struct BirdSetup {
    pub family: BirdFamily,
    /// The main file and every file it included, in reading order (for messages and reload).
    pub files: Vec<PathBuf>,
    /// The kernel protocol's `export filter` (`calico_kernel_programming`); `none` when absent.
    pub kernel_export: std::sync::Arc<policy::bird::Program>,
    /// The static protocol's routes, in file order.
    pub static_routes: Vec<StaticRoute>,
    /// The direct protocol's `interface` patterns, in order (first match decides).
    pub direct_interfaces: Vec<InterfacePattern>,
    /// The kernel protocol's `merge paths on` (ECMP routes in the kernel).
    pub merge_paths: bool,
}

impl Neighbor {
    /// iBGP when the peer's AS is ours.
    pub fn is_internal(&self, local_as: Asn) -> bool {
        self.remote_as == local_as
    }

    /// The address with its interface as BIRD prints it (`fe80::1%eth1`), or the bare address.
    pub fn scoped_address(&self) -> ScopedAddress<'_> {
        ScopedAddress {
            address: self.address,
            interface: self.interface.as_deref(),
        }
    }

    /// `true` when the session runs over an IPv6 link-local address (RFC 4291 §2.5.6).
    pub fn is_link_local(&self) -> bool {
        is_link_local(self.address)
    }
}

/// `true` for an IPv6 link-local unicast address (fe80::/10, RFC 4291 §2.5.6).
pub fn is_link_local(a: IpAddr) -> bool {
    matches!(a, IpAddr::V6(v) if (v.segments()[0] & 0xffc0) == 0xfe80)
}

/// A neighbor address with its interface, shown as `address%interface` (BIRD's form).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScopedAddress<'a> {
    pub address: IpAddr,
    pub interface: Option<&'a str>,
}

impl fmt::Display for ScopedAddress<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.interface {
            Some(i) => write!(f, "{}%{i}", self.address),
            None => self.address.fmt(f),
        }
    }
}

/// How the session's IP TTL is set and checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TtlMode {
    /// Directly connected: send TTL 1 (the eBGP default, as in BIRD).
    Direct,
    /// Send with this TTL; the peer may be that many hops away (iBGP default: 64, as in BIRD).
    Multihop(u8),
    /// GTSM (RFC 5082 §3): send TTL 255 and drop packets with a lower TTL than the peer's
    /// distance allows: `max_hops: None` for a directly connected peer (TTL 255 only); BIRD's
    /// `ttl security on; multihop N;` gives `Some(N)` (TTL 256 - N and above).
    Gtsm { max_hops: Option<u8> },
}

/// Session timers (RFC 4271 §10) and connection backoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    /// Proposed hold time; 0 disables hold and keepalive (RFC 4271 §4.2).
    pub hold: Duration,
    /// Keepalive interval; 0 only when hold is 0.
    pub keepalive: Duration,
    pub connect_retry: Duration,
    /// Delay before the first connection attempt after start.
    pub connect_delay: Duration,
    /// Backoff after a session error: starts at `error_wait_min`, doubles up to `error_wait_max`
    /// (BIRD's `error wait time`).
    pub error_wait_min: Duration,
    pub error_wait_max: Duration,
}

/// Graceful restart (RFC 4724) and long-lived graceful restart (RFC 9494).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GracefulRestart {
    /// Advertise the GR capability with the restart time and preserve routes when the peer
    /// restarts.
    pub enabled: bool,
    /// Restart time advertised (12 bits, RFC 4724 §3).
    pub restart_time: Duration,
    /// LLGR stale time (24 bits); zero: LLGR not advertised, unless `long_lived_aware`.
    pub long_lived_stale_time: Duration,
    /// With a zero stale time, still advertise the LLGR capability without families ("aware",
    /// RFC 9494 §3): BIRD 1.6's default whenever graceful restart is on (`llgr-aware` in its
    /// `Neighbor caps`). Set by the BIRD front end; the TOML configuration leaves it off.
    pub long_lived_aware: bool,
}

/// ADD-PATH direction for one family (RFC 7911 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AddPathMode {
    Receive,
    Send,
    Both,
}

impl AddPathMode {
    pub fn sends(self) -> bool {
        matches!(self, AddPathMode::Send | AddPathMode::Both)
    }
    pub fn receives(self) -> bool {
        matches!(self, AddPathMode::Receive | AddPathMode::Both)
    }
}

/// The next hop put on routes sent to a neighbor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextHopMode {
    /// RFC 4271 §5.1.3: our address towards eBGP peers, unchanged towards iBGP peers.
    Auto,
    /// Always our own address (BIRD `next hop self`).
    SelfAddress,
    /// Never change it, also towards eBGP peers (BIRD `next hop keep`, Calico ToR peering).
    Keep,
}

/// The kernel routing table (`fib-sync`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kernel {
    /// Write routes to the kernel at all. Off: the daemon only speaks BGP.
    pub enable_writes: bool,
    /// Routing table id (254 = main).
    pub table: u32,
    /// Route protocol number marking our routes (`rtm_protocol`; 12 = what BIRD uses).
    pub protocol: u8,
    /// Route metric (priority) of routes we install.
    pub metric: u32,
    /// Leave our routes in the kernel when the daemon stops (BIRD `persist`).
    pub persist_on_stop: bool,
    /// Interface for IP-in-IP routes (`onlink` via the peer).
    pub tunnel_interface: String,
    /// Learn routes other programs put in the kernel (BIRD `learn`).
    pub learn: bool,
}

/// The BIRD-compatible control socket(s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Control {
    /// Socket for the IPv4 view (`bird.ctl`). A relative path is relative to the working
    /// directory at startup.
    pub socket: PathBuf,
    /// Optional socket for the IPv6 view (`bird6.ctl`).
    pub socket_v6: Option<PathBuf>,
    /// File mode of the socket(s), e.g. 0o660.
    pub mode: u32,
}

/// The Prometheus endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metrics {
    /// `None`: metrics off.
    pub listen: Option<SocketAddr>,
}

/// Encapsulation mode of an IP pool (Calico `ipipMode` / `vxlanMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EncapMode {
    Always,
    CrossSubnet,
    Never,
}

/// A Calico IP pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpPool {
    pub cidr: IpNet,
    pub ipip_mode: EncapMode,
    pub vxlan_mode: EncapMode,
    /// Routes in this pool are not exported to BGP peers (Calico `disableBGPExport`).
    pub disable_bgp_export: bool,
}

/// Calico `prefixAdvertisements`: exported routes inside `cidr` get these communities.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PrefixAdvertisement {
    pub cidr: IpNet,
    /// At least one; standard and large communities may be mixed.
    pub communities: Vec<CommunityValue>,
}

/// Kubernetes service addresses this node announces; an empty list announces nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Services {
    pub cluster_ips: Vec<IpNet>,
    pub external_ips: Vec<IpNet>,
    pub load_balancer_ips: Vec<IpNet>,
}

/// What ends our graceful-restart recovery (`-R`, RFC 4724 §4.1) before its wait timer does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum RecoveryMode {
    /// The peers that are alive: it ends once every graceful-restart peer that established a
    /// session has sent its End-of-RIB. A peer that could not be reached (its connection
    /// attempt failed) or did not connect within its first connection round (connect delay +
    /// connect retry time, plus the minimum error wait when it is passive) stops holding it.
    /// The default, also under BIRD's command line: a dead mesh peer does not hold a
    /// restarted node for the whole wait timer (Calico issues #7144, #9597).
    #[default]
    EstablishedPeers,
    /// Every graceful-restart peer of the start configuration, up to the wait timer: BIRD's
    /// behaviour.
    AllPeers,
}

impl RecoveryMode {
    /// The words of the TOML key and of `BGPD_GRACEFUL_RESTART_RECOVERY`.
    pub const WORDS: [(&'static str, RecoveryMode); 2] = [
        ("established-peers", RecoveryMode::EstablishedPeers),
        ("all-peers", RecoveryMode::AllPeers),
    ];

    /// One of [`RecoveryMode::WORDS`].
    pub fn from_word(word: &str) -> Option<RecoveryMode> {
        Self::WORDS
            .iter()
            .find(|(w, _)| *w == word)
            .map(|(_, m)| *m)
    }
}

impl fmt::Display for RecoveryMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = Self::WORDS
            .iter()
            .find(|(_, m)| m == self)
            .map_or("?", |(w, _)| *w);
        f.write_str(word)
    }
}

/// Options of the BGP decision process (RFC 4271 §9.1.2.2) and multipath, for the RIB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decision {
    /// Compare MED between routes from different neighbor ASes (RFC 4271 §9.1.2.2 (c) compares
    /// it only within one AS). Default false.
    pub always_compare_med: bool,
    /// A route without MED counts as the worst MED instead of 0 (RFC 4271 §9.1.2.2 (c) says 0).
    /// Default false.
    pub missing_med_worst: bool,
    /// Most equal-cost paths installed per prefix (ECMP); 1 disables multipath. Default 16:
    /// Calico's BIRD kernel protocol runs `merge paths on`, whose default limit is 16, so a node
    /// with two ToRs or several mesh paths installs them all.
    pub max_paths: u16,
    /// LOCAL_PREF assumed for routes without one (RFC 4271 §5.1.5); default 100.
    pub default_local_pref: u32,
}

impl Default for Decision {
    fn default() -> Self {
        Decision {
            always_compare_med: false,
            missing_med_worst: false,
            max_paths: 16,
            default_local_pref: 100,
        }
    }
}
