//! Validation: raw schema → typed [`Config`], collecting every error before giving up.
//!
//! Order: TOML syntax (all syntax errors the parser can recover from), then the schema (serde stops
//! at the first unknown field or wrong type), then every semantic check. Each check reports with
//! the span of the value it is about, so the message points at the right line and column.

mod keys;
mod limit;
mod peer;
mod policy;

pub(crate) use limit::ACTIONS as LIMIT_ACTIONS;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::ops::Range;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use bgp_proto::types::{Asn, RouterId};
use ipnet::IpNet;
use serde::Deserialize;

use crate::error::{ConfigError, ConfigErrors, ErrorKind};
use crate::model::{
    ClusterId, Config, Control, EncapMode, IpPool, Kernel, Listen, Metrics, RecoveryMode,
};
use crate::schema::{RawConfig, RawControl, RawKernel, RawListen, RawMetrics, RawPool, S};

/// Default BGP port (RFC 4271 §8.2.1).
pub(crate) const BGP_PORT: u16 = 179;
/// Default control socket: where calico-node looks for BIRD's IPv4 socket.
pub(crate) const DEFAULT_CONTROL_SOCKET: &str = "/var/run/calico/bird.ctl";
/// `sun_path` holds 108 bytes including the terminating NUL.
const MAX_SOCKET_PATH: usize = 107;
/// Linux `IFNAMSIZ` - 1.
pub(crate) const MAX_IFNAME: usize = 15;

/// Parses and validates `text`; `file` is only used in messages.
pub(crate) fn parse(text: &str, file: &str) -> Result<Config, ConfigErrors> {
    let mut cx = Ctx::new(file, text);
    let (table, syntax) = toml::de::DeTable::parse_recoverable(text);
    if !syntax.is_empty() {
        for e in syntax {
            cx.push(
                ErrorKind::Syntax,
                e.span(),
                "",
                e.message().to_string(),
                None,
            );
        }
        return Err(cx.finish_err());
    }
    if keys::check(&mut cx, table.get_ref()) {
        return Err(cx.finish_err());
    }
    let raw = match RawConfig::deserialize(toml::de::Deserializer::from(table)) {
        Ok(raw) => raw,
        Err(e) => {
            // toml gives no error kind; its messages for these cases start with fixed words.
            let (kind, hint) = if e.message().starts_with("unknown field") {
                (
                    ErrorKind::UnknownField,
                    Some("see conf/examples/bgpd.toml for every field".to_string()),
                )
            } else {
                (ErrorKind::WrongType, None)
            };
            let path = match (kind, e.span(), toml::de::DeTable::parse(text)) {
                (ErrorKind::WrongType, Some(span), Ok(root)) => {
                    keys::path_at(root.get_ref(), span.start)
                }
                _ => String::new(),
            };
            let message = e
                .message()
                .trim()
                .replace("expected i64", "expected an integer")
                .replace("expected a boolean", "expected true or false");
            cx.push(kind, e.span(), &path, message, hint);
            return Err(cx.finish_err());
        }
    };
    let config = cx.config(raw);
    match config {
        Some(config) if cx.errors.is_empty() => Ok(Config {
            notes: cx.notes,
            ..config
        }),
        _ => Err(cx.finish_err()),
    }
}

/// A validated value with where it came from (for later cross-field checks).
#[derive(Debug, Clone)]
pub(crate) struct At<T> {
    pub v: T,
    pub span: Range<usize>,
    pub path: String,
}

/// Collects errors and notes while validating one file.
pub(crate) struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
    errors: Vec<ConfigError>,
    notes: Vec<ConfigError>,
}

impl<'a> Ctx<'a> {
    fn new(file: &'a str, text: &'a str) -> Ctx<'a> {
        Ctx {
            file,
            text,
            errors: Vec::new(),
            notes: Vec::new(),
        }
    }

    fn finish_err(mut self) -> ConfigErrors {
        self.errors.sort_by_key(|e| (e.line(), e.column()));
        ConfigErrors {
            errors: self.errors,
        }
    }

    pub(crate) fn push(
        &mut self,
        kind: ErrorKind,
        span: Option<Range<usize>>,
        path: &str,
        message: String,
        hint: Option<String>,
    ) {
        let e = ConfigError::new(self.file, self.text, span, kind, path, message, hint);
        if kind == ErrorKind::Note {
            self.notes.push(e);
        } else {
            self.errors.push(e);
        }
    }

    pub(crate) fn err(
        &mut self,
        kind: ErrorKind,
        span: Range<usize>,
        path: &str,
        message: impl Into<String>,
        hint: &str,
    ) {
        let hint = (!hint.is_empty()).then(|| hint.to_string());
        self.push(kind, Some(span), path, message.into(), hint);
    }

    pub(crate) fn note(&mut self, span: Range<usize>, path: &str, message: impl Into<String>) {
        self.push(ErrorKind::Note, Some(span), path, message.into(), None);
    }

    /// Line of a span, for "first defined at line N" hints.
    pub(crate) fn line_of(&self, span: &Range<usize>) -> usize {
        crate::error::Location::of_offset(self.text, span.start).line
    }

    pub(crate) fn at<T>(v: T, raw: &S<impl Sized>, path: &str) -> At<T> {
        At {
            v,
            span: raw.span(),
            path: path.to_string(),
        }
    }

    /// An integer within `min..=max`.
    pub(crate) fn int(
        &mut self,
        raw: &S<i64>,
        path: &str,
        min: i64,
        max: i64,
        what: &str,
        hint: &str,
    ) -> Option<i64> {
        let n = *raw.get_ref();
        if n < min || n > max {
            self.err(
                ErrorKind::OutOfRange,
                raw.span(),
                path,
                format!("{n} is out of range for {what} ({min}..={max})"),
                hint,
            );
            return None;
        }
        Some(n)
    }

    /// A duration in whole seconds within `min..=max`.
    pub(crate) fn secs(
        &mut self,
        raw: &S<i64>,
        path: &str,
        min: i64,
        max: i64,
        what: &str,
        hint: &str,
    ) -> Option<Duration> {
        self.int(raw, path, min, max, what, hint)
            .map(|n| Duration::from_secs(n.unsigned_abs()))
    }

    /// An AS number usable in a session: RFC 6793 4-octet, minus the reserved values.
    pub(crate) fn asn(&mut self, raw: &S<i64>, path: &str) -> Option<Asn> {
        let n = *raw.get_ref();
        let reason = match u32::try_from(n) {
            Err(_) => None,
            Ok(0) => Some("AS 0 is reserved (RFC 7607)"),
            Ok(23456) => Some("AS 23456 is AS_TRANS, reserved for 2-octet speakers (RFC 6793 §9)"),
            Ok(u32::MAX) => Some("AS 4294967295 is reserved (RFC 7300)"),
            Ok(v) => return Some(Asn(v)),
        };
        let hint = reason.unwrap_or("AS numbers are 1..=4294967294 (4 octets, RFC 6793)");
        self.err(
            ErrorKind::OutOfRange,
            raw.span(),
            path,
            format!("{n} is not a valid AS number"),
            hint,
        );
        None
    }

    /// A string parsed with `FromStr`, reporting `what` it should have been.
    pub(crate) fn parse<T: FromStr>(
        &mut self,
        raw: &S<String>,
        path: &str,
        what: &str,
        hint: &str,
    ) -> Option<T> {
        match raw.get_ref().trim().parse::<T>() {
            Ok(v) => Some(v),
            Err(_) => {
                self.err(
                    ErrorKind::Invalid,
                    raw.span(),
                    path,
                    format!("{:?} is not {what}", raw.get_ref()),
                    hint,
                );
                None
            }
        }
    }

    /// A prefix whose host bits are zero.
    pub(crate) fn prefix(&mut self, raw: &S<String>, path: &str) -> Option<IpNet> {
        let net: IpNet = self.parse(
            raw,
            path,
            "a prefix",
            "write it as ADDRESS/LENGTH, e.g. 10.64.0.0/26",
        )?;
        if net.trunc() != net {
            self.err(
                ErrorKind::Prefix,
                raw.span(),
                path,
                format!("{net} has host bits set"),
                &format!("did you mean {}?", net.trunc()),
            );
            return None;
        }
        Some(net)
    }

    /// One of a fixed set of words.
    pub(crate) fn word<T: Copy>(
        &mut self,
        raw: &S<String>,
        path: &str,
        choices: &[(&str, T)],
    ) -> Option<T> {
        if let Some((_, v)) = choices.iter().find(|(w, _)| *w == raw.get_ref().as_str()) {
            return Some(*v);
        }
        let list: Vec<&str> = choices.iter().map(|(w, _)| *w).collect();
        self.err(
            ErrorKind::Invalid,
            raw.span(),
            path,
            format!("{:?} is not one of {}", raw.get_ref(), list.join(", ")),
            "",
        );
        None
    }

    fn ipv4_id(&mut self, raw: &S<String>, path: &str, what: &str) -> Option<Ipv4Addr> {
        let a: Ipv4Addr = self.parse(
            raw,
            path,
            what,
            "write it like an IPv4 address, e.g. 10.0.0.1",
        )?;
        if a.is_unspecified() {
            self.err(
                ErrorKind::Invalid,
                raw.span(),
                path,
                format!("{what} must not be 0.0.0.0"),
                "RFC 6286 §2.1: the BGP identifier is a non-zero 4-octet number",
            );
            return None;
        }
        Some(a)
    }

    /// The whole configuration; `None` when a required part is missing or invalid.
    fn config(&mut self, raw: RawConfig) -> Option<Config> {
        let router_id = match &raw.router_id {
            Some(r) => self.ipv4_id(r, "router_id", "a router id").map(RouterId),
            None => {
                self.missing(
                    0..0,
                    "router_id",
                    "set router_id = \"<this node's IPv4 address>\"",
                );
                None
            }
        };
        let local_as = match &raw.local_as {
            Some(r) => self.asn(r, "local_as"),
            None => {
                self.missing(0..0, "local_as", "set local_as = <AS number>, e.g. 64512");
                None
            }
        };
        let cluster_id = raw
            .cluster_id
            .as_ref()
            .and_then(|r| self.ipv4_id(r, "cluster_id", "a cluster id").map(ClusterId));
        let listen = self.listen(raw.listen.as_ref());
        let kernel = self.kernel(raw.kernel.as_ref());
        let control = self.control(raw.control.as_ref());
        let metrics = self.metrics(raw.metrics.as_ref());
        let ip_pools = self.pools(&raw.ip_pools);
        let local_blocks = self.blocks(&raw.local_blocks, &ip_pools);
        let community_names = policy::communities(self, raw.communities.as_ref());
        let filters = policy::filters(self, &raw.filters, &community_names);
        let prefix_advertisements =
            policy::prefix_advertisements(self, &raw.prefix_advertisements, &community_names);
        let services = policy::services(self, raw.services.as_ref());
        let static_routes = policy::prefixes(self, &raw.static_routes, "static_routes");
        let rr_allowlist = policy::prefixes(self, &raw.rr_allowlist, "rr_allowlist");
        let decision = policy::decision(self, raw.bgp.as_ref());
        let recovery = raw
            .graceful_restart
            .as_ref()
            .map_or(Some(RecoveryMode::default()), |g| {
                g.get_ref()
                    .recovery
                    .as_ref()
                    .map_or(Some(RecoveryMode::default()), |w| {
                        self.word(w, "graceful_restart.recovery", &RecoveryMode::WORDS)
                    })
            });
        let neighbors = peer::neighbors(
            self,
            &raw.templates,
            &raw.neighbors,
            local_as,
            &listen.addresses,
            &policy::declared_filters(&raw.filters),
        );

        if let (Some(c), Some(asn)) = (&raw.cluster_id, local_as) {
            if !neighbors
                .iter()
                .any(|n| n.route_reflector_client && n.remote_as == asn)
            {
                self.note(
                    c.span(),
                    "cluster_id",
                    "set, but no neighbor is a route reflector client",
                );
            }
        }
        if listen.addresses.is_empty() {
            if let Some(l) = &raw.listen {
                self.note(
                    l.span(),
                    "listen.addresses",
                    "empty: no incoming BGP connections are accepted, \
                     passive neighbors never come up",
                );
            }
        }
        Some(Config {
            router_id: router_id?,
            local_as: local_as?,
            cluster_id,
            listen,
            neighbors,
            kernel: kernel?,
            control: control?,
            metrics: metrics?,
            local_blocks,
            ip_pools,
            filters,
            prefix_advertisements,
            services,
            static_routes,
            rr_allowlist,
            decision: decision?,
            recovery: recovery?,
            bird: None,
            notes: Vec::new(),
        })
    }

    pub(crate) fn missing(&mut self, span: Range<usize>, path: &str, hint: &str) {
        self.err(ErrorKind::Missing, span, path, "is required", hint);
    }

    fn listen(&mut self, raw: Option<&S<RawListen>>) -> Listen {
        let mut listen = Listen {
            addresses: vec![
                IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            ],
            port: BGP_PORT,
        };
        let Some(raw) = raw else { return listen };
        if let Some(p) = &raw.get_ref().port {
            if let Some(n) = self.int(p, "listen.port", 1, 65535, "a TCP port", "") {
                listen.port = n as u16;
            }
        }
        if let Some(addrs) = &raw.get_ref().addresses {
            listen.addresses.clear();
            let mut seen: HashMap<IpAddr, Range<usize>> = HashMap::new();
            for (i, a) in addrs.iter().enumerate() {
                let path = format!("listen.addresses[{i}]");
                let Some(ip) = self.parse::<IpAddr>(
                    a,
                    &path,
                    "an IP address",
                    "e.g. \"0.0.0.0\", \"::\" or \"10.0.0.1\"",
                ) else {
                    continue;
                };
                if let Some(first) = seen.get(&ip) {
                    let hint = format!("first listed at line {}", self.line_of(first));
                    self.err(
                        ErrorKind::Duplicate,
                        a.span(),
                        &path,
                        format!("{ip} is listed twice"),
                        &hint,
                    );
                    continue;
                }
                seen.insert(ip, a.span());
                listen.addresses.push(ip);
            }
        }
        listen
    }

    fn kernel(&mut self, raw: Option<&S<RawKernel>>) -> Option<Kernel> {
        let mut k = Kernel {
            enable_writes: false,
            table: 254,
            protocol: 12,
            metric: 1024,
            persist_on_stop: true,
            tunnel_interface: "tunl0".to_string(),
            learn: true,
        };
        let Some(raw) = raw else { return Some(k) };
        let r = raw.get_ref();
        let mut ok = true;
        if let Some(v) = &r.enable_writes {
            k.enable_writes = *v.get_ref();
        }
        if let Some(v) = &r.persist_on_stop {
            k.persist_on_stop = *v.get_ref();
        }
        if let Some(v) = &r.learn {
            k.learn = *v.get_ref();
        }
        if let Some(v) = &r.table {
            match self.int(
                v,
                "kernel.table",
                1,
                i64::from(u32::MAX),
                "a routing table id",
                "254 is the main table",
            ) {
                Some(255) => {
                    self.err(
                        ErrorKind::Invalid,
                        v.span(),
                        "kernel.table",
                        "table 255 is the kernel's local table",
                        "use 254 (main) or a table of your own",
                    );
                    ok = false;
                }
                Some(n) => k.table = n as u32,
                None => ok = false,
            }
        }
        if let Some(v) = &r.protocol {
            match self.int(
                v,
                "kernel.protocol",
                5,
                255,
                "a route protocol number",
                "0-4 are reserved for the kernel, boot and static routes; BIRD uses 12",
            ) {
                Some(n) => k.protocol = n as u8,
                None => ok = false,
            }
        }
        if let Some(v) = &r.metric {
            match self.int(
                v,
                "kernel.metric",
                0,
                i64::from(u32::MAX),
                "a route metric",
                "",
            ) {
                Some(n) => k.metric = n as u32,
                None => ok = false,
            }
        }
        if let Some(v) = &r.tunnel_interface {
            let name = v.get_ref();
            let bad = name.is_empty()
                || name.len() > MAX_IFNAME
                || name
                    .chars()
                    .any(|c| c == '/' || c == ':' || c.is_whitespace() || c.is_control());
            if bad {
                self.err(
                    ErrorKind::Invalid,
                    v.span(),
                    "kernel.tunnel_interface",
                    format!("{name:?} is not a valid interface name"),
                    "1 to 15 characters, no '/', ':' or spaces; Calico uses \"tunl0\"",
                );
                ok = false;
            } else {
                k.tunnel_interface = name.clone();
            }
        }
        ok.then_some(k)
    }

    fn socket_path(&mut self, raw: &S<String>, path: &str) -> Option<PathBuf> {
        let p = raw.get_ref();
        if p.is_empty() || p.len() > MAX_SOCKET_PATH || p.contains('\0') {
            self.err(
                ErrorKind::Invalid,
                raw.span(),
                path,
                format!("{p:?} is not a usable socket path"),
                "a Unix socket path is 1 to 107 bytes",
            );
            return None;
        }
        Some(PathBuf::from(p))
    }

    fn control(&mut self, raw: Option<&S<RawControl>>) -> Option<Control> {
        let mut c = Control {
            socket: PathBuf::from(DEFAULT_CONTROL_SOCKET),
            socket_v6: None,
            mode: 0o660,
        };
        let Some(raw) = raw else { return Some(c) };
        let r = raw.get_ref();
        let mut ok = true;
        if let Some(v) = &r.socket {
            match self.socket_path(v, "control.socket") {
                Some(p) => c.socket = p,
                None => ok = false,
            }
        }
        if let Some(v) = &r.socket_v6 {
            match self.socket_path(v, "control.socket_v6") {
                Some(p) if p == c.socket => {
                    self.err(
                        ErrorKind::Duplicate,
                        v.span(),
                        "control.socket_v6",
                        "is the same path as control.socket",
                        "the IPv6 view needs its own socket, e.g. bird6.ctl",
                    );
                    ok = false;
                }
                Some(p) => c.socket_v6 = Some(p),
                None => ok = false,
            }
        }
        if let Some(v) = &r.mode {
            match self.int(
                v,
                "control.mode",
                0,
                0o777,
                "a file mode",
                "write it in octal, e.g. mode = 0o660",
            ) {
                Some(n) => c.mode = n as u32,
                None => ok = false,
            }
        }
        ok.then_some(c)
    }

    fn metrics(&mut self, raw: Option<&S<RawMetrics>>) -> Option<Metrics> {
        let Some(raw) = raw else {
            return Some(Metrics { listen: None });
        };
        let r = raw.get_ref();
        let Some(l) = &r.listen else {
            return Some(Metrics { listen: None });
        };
        let addr: SocketAddr = self.parse(
            l,
            "metrics.listen",
            "a socket address",
            "ADDRESS:PORT, e.g. \"127.0.0.1:9179\" or \"[::1]:9179\"",
        )?;
        let allowed = r.allow_non_loopback.as_ref().is_some_and(|a| *a.get_ref());
        if !addr.ip().is_loopback() && !allowed {
            self.err(
                ErrorKind::Invalid,
                l.span(),
                "metrics.listen",
                format!("{addr} is not a loopback address"),
                "metrics have no authentication; set allow_non_loopback = true to expose them",
            );
            return None;
        }
        Some(Metrics { listen: Some(addr) })
    }

    fn pools(&mut self, raw: &[S<RawPool>]) -> Vec<IpPool> {
        const MODES: [(&str, EncapMode); 3] = [
            ("Always", EncapMode::Always),
            ("CrossSubnet", EncapMode::CrossSubnet),
            ("Never", EncapMode::Never),
        ];
        let mut pools: Vec<(IpPool, Range<usize>)> = Vec::new();
        for (i, p) in raw.iter().enumerate() {
            let base = format!("ip_pools[{i}]");
            let r = p.get_ref();
            let Some(cidr_raw) = &r.cidr else {
                self.missing(
                    p.span(),
                    &format!("{base}.cidr"),
                    "each pool needs cidr = \"A.B.C.D/N\"",
                );
                continue;
            };
            let cidr = self.prefix(cidr_raw, &format!("{base}.cidr"));
            let ipip = r.ipip_mode.as_ref().map_or(Some(EncapMode::Never), |m| {
                self.word(m, &format!("{base}.ipip_mode"), &MODES)
            });
            let vxlan = r.vxlan_mode.as_ref().map_or(Some(EncapMode::Never), |m| {
                self.word(m, &format!("{base}.vxlan_mode"), &MODES)
            });
            let (Some(cidr), Some(ipip_mode), Some(vxlan_mode)) = (cidr, ipip, vxlan) else {
                continue;
            };
            if ipip_mode != EncapMode::Never && vxlan_mode != EncapMode::Never {
                let span = r.vxlan_mode.as_ref().map_or(p.span(), |m| m.span());
                self.err(
                    ErrorKind::Conflict,
                    span,
                    &format!("{base}.vxlan_mode"),
                    "a pool cannot use both IP-in-IP and VXLAN",
                    "set one of ipip_mode / vxlan_mode to \"Never\"",
                );
                continue;
            }
            if cidr.addr().is_ipv6() && ipip_mode != EncapMode::Never {
                let span = r.ipip_mode.as_ref().map_or(p.span(), |m| m.span());
                self.err(
                    ErrorKind::Conflict,
                    span,
                    &format!("{base}.ipip_mode"),
                    "IP-in-IP carries IPv4 only",
                    "IPv6 pools use ipip_mode = \"Never\"",
                );
                continue;
            }
            if let Some((other, first)) = pools
                .iter()
                .find(|(o, _)| o.cidr.contains(&cidr) || cidr.contains(&o.cidr))
            {
                let hint = format!("it overlaps {} (line {})", other.cidr, self.line_of(first));
                self.err(
                    ErrorKind::Prefix,
                    cidr_raw.span(),
                    &format!("{base}.cidr"),
                    format!("{cidr} overlaps another pool"),
                    &hint,
                );
                continue;
            }
            let disable_bgp_export = r.disable_bgp_export.as_ref().is_some_and(|d| *d.get_ref());
            pools.push((
                IpPool {
                    cidr,
                    ipip_mode,
                    vxlan_mode,
                    disable_bgp_export,
                },
                cidr_raw.span(),
            ));
        }
        pools.into_iter().map(|(p, _)| p).collect()
    }

    fn blocks(&mut self, raw: &[S<String>], pools: &[IpPool]) -> Vec<IpNet> {
        let mut blocks: Vec<(IpNet, Range<usize>)> = Vec::new();
        for (i, b) in raw.iter().enumerate() {
            let path = format!("local_blocks[{i}]");
            let Some(net) = self.prefix(b, &path) else {
                continue;
            };
            if let Some((other, first)) = blocks
                .iter()
                .find(|(o, _)| o.contains(&net) || net.contains(o))
            {
                let (kind, msg) = if *other == net {
                    (ErrorKind::Duplicate, format!("{net} is listed twice"))
                } else {
                    (ErrorKind::Prefix, format!("{net} overlaps block {other}"))
                };
                let hint = format!("first listed at line {}", self.line_of(first));
                self.err(kind, b.span(), &path, msg, &hint);
                continue;
            }
            if pools.is_empty() {
                self.note(
                    b.span(),
                    &path,
                    format!(
                        "{net}: no ip_pools are configured, so it is not checked against a pool"
                    ),
                );
            } else if !pools.iter().any(|p| p.cidr.contains(&net)) {
                self.err(
                    ErrorKind::Prefix,
                    b.span(),
                    &path,
                    format!("{net} is not inside any IP pool"),
                    "Calico allocates blocks from pools; add the pool to [[ip_pools]] or fix \
                     the block",
                );
                continue;
            }
            blocks.push((net, b.span()));
        }
        blocks.into_iter().map(|(b, _)| b).collect()
    }
}

#[cfg(test)]
mod link_local_tests;
#[cfg(test)]
mod tests;
