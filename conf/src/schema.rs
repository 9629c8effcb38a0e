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
//! Where filters slot in (issue "Routes"): a top-level `[[filters]]` array of named filters and
//! `import` / `export` keys on [`RawPeer`] naming them; [`crate::diff`] already reports policy-only
//! changes separately so they re-evaluate routes without resetting sessions.

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
    pub restart_time: Option<S<i64>>,
    pub long_lived_stale_time: Option<S<i64>>,
    pub add_path: Option<S<RawAddPath>>,
    pub route_reflector_client: Option<S<bool>>,
    pub next_hop: Option<S<String>>,
    pub allow_own_as: Option<S<i64>>,
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
    ];
    pub const LISTEN: &[&str] = &["addresses", "port"];
    pub const PEER: &[&str] = &[
        "name",
        "template",
        "address",
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
        "restart_time",
        "long_lived_stale_time",
        "add_path",
        "route_reflector_client",
        "next_hop",
        "allow_own_as",
    ];
    pub const ADD_PATH: &[&str] = &["ipv4", "ipv6"];
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
}
