//! The raw TOML schema: what serde reads, before any meaning is checked.
//!
//! Every table denies unknown fields. Leaf values keep their byte span (`toml::Spanned`) so
//! validation can point at them. Scalars that need checking (numbers with ranges, addresses,
//! prefixes, enum words) are read as plain TOML integers and strings here and converted in
//! [`crate::validate`]: a bad value then becomes one error among all the others instead of
//! stopping serde at the first one. Nothing here reaches the rest of the daemon.
//!
//! No `flatten` and no `untagged` anywhere: spans do not survive them.
//!
//! Routing policy (what the `policy` crate compiles): `[[filters]]` (Calico BGPFilter) with rule
//! lists per direction and family, named from a neighbor or template by `filters = [...]`;
//! `[communities]` names, `[[prefix_advertisements]]`, `[services]`, `static_routes`,
//! `rr_allowlist` and the `[bgp]` decision options. There are no per-neighbor `import` / `export`
//! keys: a BGPFilter already carries both directions, as Calico attaches filters to a BGPPeer.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

pub(crate) type S<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    pub router_id: Option<S<String>>,
    pub local_as: Option<S<i64>>,
    pub cluster_id: Option<S<String>>,
    pub listen: Option<S<RawListen>>,
    #[serde(default)]
    pub templates: Vec<S<RawPeer>>,
    #[serde(default)]
    pub neighbors: Vec<S<RawPeer>>,
    pub kernel: Option<S<RawKernel>>,
    pub control: Option<S<RawControl>>,
    pub metrics: Option<S<RawMetrics>>,
    #[serde(default)]
    pub local_blocks: Vec<S<String>>,
    #[serde(default)]
    pub ip_pools: Vec<S<RawPool>>,
    #[serde(default)]
    pub filters: Vec<S<RawFilter>>,
    /// Community names: name → "aa:nn" or "aa:nn:mm".
    pub communities: Option<S<BTreeMap<S<String>, S<String>>>>,
    #[serde(default)]
    pub prefix_advertisements: Vec<S<RawPrefixAdvertisement>>,
    pub services: Option<S<RawServices>>,
    #[serde(default)]
    pub static_routes: Vec<S<String>>,
    #[serde(default)]
    pub rr_allowlist: Vec<S<String>>,
    pub bgp: Option<S<RawBgp>>,
    pub graceful_restart: Option<S<RawGracefulRestart>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawListen {
    pub addresses: Option<Vec<S<String>>>,
    pub port: Option<S<i64>>,
}

/// A `[[templates]]` or `[[neighbors]]` entry: one shape so a neighbor can override any template
/// field; validation rejects `address` and `template` inside a template.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPeer {
    pub name: Option<S<String>>,
    pub template: Option<S<String>>,
    pub address: Option<S<String>>,
    pub interface: Option<S<String>>,
    pub port: Option<S<i64>>,
    pub remote_as: Option<S<i64>>,
    pub description: Option<S<String>>,
    pub passive: Option<S<bool>>,
    pub multihop: Option<S<i64>>,
    pub ttl_security: Option<S<bool>>,
    pub password_file: Option<S<String>>,
    pub password_env: Option<S<String>>,
    pub source_address: Option<S<String>>,
    pub hold_time: Option<S<i64>>,
    pub keepalive_time: Option<S<i64>>,
    pub connect_retry_time: Option<S<i64>>,
    pub connect_delay_time: Option<S<i64>>,
    pub error_wait_min: Option<S<i64>>,
    pub error_wait_max: Option<S<i64>>,
    pub families: Option<S<Vec<S<String>>>>,
    pub graceful_restart: Option<S<bool>>,
    pub extended_messages: Option<S<bool>>,
    pub extended_next_hop: Option<S<bool>>,
    pub restart_time: Option<S<i64>>,
    pub long_lived_stale_time: Option<S<i64>>,
    pub add_path: Option<S<RawAddPath>>,
    pub route_reflector_client: Option<S<bool>>,
    pub next_hop: Option<S<String>>,
    pub allow_own_as: Option<S<i64>>,
    pub filters: Option<S<Vec<S<String>>>>,
    pub bfd: Option<S<bool>>,
    pub bfd_interval_ms: Option<S<i64>>,
    pub bfd_multiplier: Option<S<i64>>,
    pub bfd_passive: Option<S<bool>>,
    pub bfd_graceful: Option<S<bool>>,
    pub bfd_multihop: Option<S<bool>>,
    pub receive_limit: Option<S<RawLimits>>,
    pub import_limit: Option<S<RawLimits>>,
}

/// `receive_limit` / `import_limit`: one table per family.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLimits {
    pub ipv4: Option<S<RawLimit>>,
    pub ipv6: Option<S<RawLimit>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLimit {
    pub max: Option<S<i64>>,
    pub action: Option<S<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAddPath {
    pub ipv4: Option<S<String>>,
    pub ipv6: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawKernel {
    pub enable_writes: Option<S<bool>>,
    pub table: Option<S<i64>>,
    pub protocol: Option<S<i64>>,
    pub metric: Option<S<i64>>,
    pub persist_on_stop: Option<S<bool>>,
    pub tunnel_interface: Option<S<String>>,
    pub learn: Option<S<bool>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawControl {
    pub socket: Option<S<String>>,
    pub socket_v6: Option<S<String>>,
    pub mode: Option<S<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMetrics {
    pub listen: Option<S<String>>,
    pub allow_non_loopback: Option<S<bool>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPool {
    pub cidr: Option<S<String>>,
    pub ipip_mode: Option<S<String>>,
    pub vxlan_mode: Option<S<String>>,
    pub disable_bgp_export: Option<S<bool>>,
}

/// A `[[filters]]` entry (Calico BGPFilter).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFilter {
    pub name: Option<S<String>>,
    #[serde(default)]
    pub export_v4: Vec<S<RawRule>>,
    #[serde(default)]
    pub import_v4: Vec<S<RawRule>>,
    #[serde(default)]
    pub export_v6: Vec<S<RawRule>>,
    #[serde(default)]
    pub import_v6: Vec<S<RawRule>>,
}

/// One BGPFilter rule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRule {
    pub cidr: Option<S<String>>,
    pub match_operator: Option<S<String>>,
    pub prefix_length: Option<S<RawPrefixLength>>,
    pub source: Option<S<String>>,
    pub interface: Option<S<String>>,
    pub peer_type: Option<S<String>>,
    pub community: Option<S<String>>,
    pub as_path_prefix: Option<S<Vec<S<i64>>>>,
    pub action: Option<S<String>>,
    pub operations: Option<S<Vec<S<RawOperation>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPrefixLength {
    pub min: Option<S<i64>>,
    pub max: Option<S<i64>>,
}

/// One operation of an Accept rule: exactly one key set.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOperation {
    pub add_community: Option<S<String>>,
    pub prepend_as_path: Option<S<Vec<S<i64>>>>,
    pub priority: Option<S<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPrefixAdvertisement {
    pub cidr: Option<S<String>>,
    #[serde(default)]
    pub communities: Vec<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawServices {
    #[serde(default)]
    pub cluster_ips: Vec<S<String>>,
    #[serde(default)]
    pub external_ips: Vec<S<String>>,
    #[serde(default)]
    pub load_balancer_ips: Vec<S<String>>,
}

/// Best-path decision options (RFC 4271 §9.1.2.2) and multipath.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBgp {
    pub always_compare_med: Option<S<bool>>,
    pub missing_med_worst: Option<S<bool>>,
    pub max_paths: Option<S<i64>>,
    pub default_local_pref: Option<S<i64>>,
}

/// Our own graceful-restart recovery (`-R`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGracefulRestart {
    pub recovery: Option<S<String>>,
}

/// The keys each table accepts, for reporting every unknown key at once (serde stops at the
/// first). Kept beside the structs above; `every_schema_key_is_accepted_by_serde` checks they agree.
pub(crate) mod keys {
    pub const ROOT: &[&str] = &[
        "router_id",
        "local_as",
        "cluster_id",
        "listen",
        "templates",
        "neighbors",
        "kernel",
        "control",
        "metrics",
        "local_blocks",
        "ip_pools",
        "filters",
        "communities",
        "prefix_advertisements",
        "services",
        "static_routes",
        "rr_allowlist",
        "bgp",
        "graceful_restart",
    ];
    pub const LISTEN: &[&str] = &["addresses", "port"];
    pub const PEER: &[&str] = &[
        "name",
        "template",
        "address",
        "interface",
        "port",
        "remote_as",
        "description",
        "passive",
        "multihop",
        "ttl_security",
        "password_file",
        "password_env",
        "source_address",
        "hold_time",
        "keepalive_time",
        "connect_retry_time",
        "connect_delay_time",
        "error_wait_min",
        "error_wait_max",
        "families",
        "graceful_restart",
        "extended_messages",
        "extended_next_hop",
        "restart_time",
        "long_lived_stale_time",
        "add_path",
        "route_reflector_client",
        "next_hop",
        "allow_own_as",
        "filters",
        "bfd",
        "bfd_interval_ms",
        "bfd_multiplier",
        "bfd_passive",
        "bfd_graceful",
        "bfd_multihop",
        "receive_limit",
        "import_limit",
    ];
    pub const ADD_PATH: &[&str] = &["ipv4", "ipv6"];
    pub const LIMITS: &[&str] = &["ipv4", "ipv6"];
    pub const LIMIT: &[&str] = &["max", "action"];
    pub const KERNEL: &[&str] = &[
        "enable_writes",
        "table",
        "protocol",
        "metric",
        "persist_on_stop",
        "tunnel_interface",
        "learn",
    ];
    pub const CONTROL: &[&str] = &["socket", "socket_v6", "mode"];
    pub const METRICS: &[&str] = &["listen", "allow_non_loopback"];
    pub const POOL: &[&str] = &["cidr", "ipip_mode", "vxlan_mode", "disable_bgp_export"];
    pub const FILTER: &[&str] = &["name", "export_v4", "import_v4", "export_v6", "import_v6"];
    pub const RULE: &[&str] = &[
        "cidr",
        "match_operator",
        "prefix_length",
        "source",
        "interface",
        "peer_type",
        "community",
        "as_path_prefix",
        "action",
        "operations",
    ];
    pub const PREFIX_LENGTH: &[&str] = &["min", "max"];
    pub const OPERATION: &[&str] = &["add_community", "prepend_as_path", "priority"];
    pub const PREFIX_ADVERTISEMENT: &[&str] = &["cidr", "communities"];
    pub const SERVICES: &[&str] = &["cluster_ips", "external_ips", "load_balancer_ips"];
    pub const BGP: &[&str] = &[
        "always_compare_med",
        "missing_med_worst",
        "max_paths",
        "default_local_pref",
    ];
    pub const GRACEFUL_RESTART: &[&str] = &["recovery"];
}
