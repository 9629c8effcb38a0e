//! Templates and neighbors: each `[[templates]]` and `[[neighbors]]` entry is checked field by
//! field into a [`Layer`]; a neighbor's layer is laid over its template's, then defaults fill the
//! rest and the cross-field rules run on the result.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::ops::Range;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use bgp_proto::types::{Asn, Family};

use super::{At, Ctx, BGP_PORT};
use crate::error::ErrorKind;
use crate::filter::FilterName;
use crate::model::{
    AddPathMode, Bfd, GracefulRestart, Neighbor, NeighborName, NextHopMode, RouteLimit, Timers,
    TtlMode,
};
use crate::schema::{RawPeer, S};
use crate::secret::Password;

/// Protocol names the control socket uses for built-in protocols (Calico's parsers rely on them).
const RESERVED_NAMES: [&str; 4] = ["kernel1", "device1", "direct1", "static1"];

/// Default timers (BIRD's defaults; Calico's template overrides connect and error-wait times).
const HOLD: u64 = 240;
const CONNECT_RETRY: u64 = 120;
const CONNECT_DELAY: u64 = 5;
const ERROR_WAIT_MIN: u64 = 60;
const ERROR_WAIT_MAX: u64 = 300;
const RESTART_TIME: u64 = 120;
/// BIRD's default TTL for multihop sessions, used for iBGP unless set.
const IBGP_MULTIHOP_TTL: u8 = 64;

/// The validated settings of one template or neighbor entry, each with its origin.
#[derive(Debug, Clone, Default)]
struct Layer {
    /// Fields that failed validation (already reported): cross-field checks are skipped and
    /// such a field is not reported again as missing.
    failed: Vec<&'static str>,
    port: Option<At<u16>>,
    remote_as: Option<At<Asn>>,
    description: Option<At<String>>,
    passive: Option<At<bool>>,
    multihop: Option<At<u8>>,
    ttl_security: Option<At<bool>>,
    password: Option<At<Password>>,
    source_address: Option<At<IpAddr>>,
    interface: Option<At<String>>,
    hold: Option<At<Duration>>,
    keepalive: Option<At<Duration>>,
    connect_retry: Option<At<Duration>>,
    connect_delay: Option<At<Duration>>,
    error_wait_min: Option<At<Duration>>,
    error_wait_max: Option<At<Duration>>,
    families: Option<At<Vec<Family>>>,
    graceful_restart: Option<At<bool>>,
    extended_messages: Option<At<bool>>,
    extended_next_hop: Option<At<bool>>,
    restart_time: Option<At<Duration>>,
    long_lived_stale_time: Option<At<Duration>>,
    add_path: Option<At<BTreeMap<Family, AddPathMode>>>,
    route_reflector_client: Option<At<bool>>,
    next_hop: Option<At<NextHopMode>>,
    allow_own_as: Option<At<u8>>,
    filters: Option<At<Vec<FilterName>>>,
    bfd: Option<At<bool>>,
    bfd_interval: Option<At<Duration>>,
    bfd_multiplier: Option<At<u8>>,
    bfd_passive: Option<At<bool>>,
    bfd_graceful: Option<At<bool>>,
    bfd_multihop: Option<At<bool>>,
    receive_limit: Option<At<BTreeMap<Family, RouteLimit>>>,
    import_limit: Option<At<BTreeMap<Family, RouteLimit>>>,
}

impl Layer {
    /// `self` (the neighbor) over `under` (its template).
    fn over(self, under: &Layer) -> Layer {
        macro_rules! pick {
            ($($f:ident),*) => {
                Layer {
                    failed: self.failed.iter().chain(&under.failed).copied().collect(),
                    $($f: self.$f.or_else(|| under.$f.clone())),*
                }
            };
        }
        pick!(
            port,
            remote_as,
            description,
            passive,
            multihop,
            ttl_security,
            password,
            source_address,
            interface,
            hold,
            keepalive,
            connect_retry,
            connect_delay,
            error_wait_min,
            error_wait_max,
            families,
            graceful_restart,
            extended_messages,
            extended_next_hop,
            restart_time,
            long_lived_stale_time,
            add_path,
            route_reflector_client,
            next_hop,
            allow_own_as,
            filters,
            bfd,
            bfd_interval,
            bfd_multiplier,
            bfd_passive,
            bfd_graceful,
            bfd_multihop,
            receive_limit,
            import_limit
        )
    }
}

fn flag(raw: &Option<S<bool>>, path: &str) -> Option<At<bool>> {
    raw.as_ref().map(|r| Ctx::at(*r.get_ref(), r, path))
}

/// Checks every field of one entry; `base` is `template "x"` or `neighbor "y"`.
fn layer(cx: &mut Ctx<'_>, r: &RawPeer, base: &str, known_filters: &[String]) -> Layer {
    let mut l = Layer::default();
    let p = |f: &str| format!("{base}.{f}");
    macro_rules! check {
        ($field:ident, $key:ident, $f:expr) => {
            if let Some(raw) = &r.$key {
                let path = p(stringify!($key));
                match $f(&mut *cx, raw, &path) {
                    Some(v) => l.$field = Some(Ctx::at(v, raw, &path)),
                    None => l.failed.push(stringify!($field)),
                }
            }
        };
    }
    let secs = |min: i64, max: i64, what: &'static str, hint: &'static str| {
        move |cx: &mut Ctx<'_>, raw: &S<i64>, path: &str| cx.secs(raw, path, min, max, what, hint)
    };
    check!(port, port, |cx: &mut Ctx<'_>, raw, path: &str| cx
        .int(raw, path, 1, 65535, "a TCP port", "")
        .map(|n| n as u16));
    check!(remote_as, remote_as, |cx: &mut Ctx<'_>, raw, path: &str| cx
        .asn(raw, path));
    l.description = r
        .description
        .as_ref()
        .map(|d| Ctx::at(d.get_ref().clone(), d, &p("description")));
    l.passive = flag(&r.passive, &p("passive"));
    check!(multihop, multihop, |cx: &mut Ctx<'_>, raw, path: &str| cx
        .int(
            raw,
            path,
            1,
            255,
            "a TTL",
            "the number of hops to the peer, 1..=255"
        )
        .map(|n| n as u8));
    l.ttl_security = flag(&r.ttl_security, &p("ttl_security"));
    check!(
        source_address,
        source_address,
        |cx: &mut Ctx<'_>, raw, path: &str| cx.parse::<IpAddr>(
            raw,
            path,
            "an IP address",
            "this node's address towards the peer"
        )
    );
    check!(
        interface,
        interface,
        |cx: &mut Ctx<'_>, raw: &S<String>, path: &str| {
            interface_name(cx, raw.get_ref(), raw.span(), path)
        }
    );
    // RFC 4271 §4.2: hold time is 0 or at least 3 seconds, in 16 bits.
    check!(
        hold,
        hold_time,
        secs(
            0,
            65535,
            "a hold time",
            "0 (no hold timer) or 3..=65535 seconds (RFC 4271 §4.2)"
        )
    );
    if let (Some(h), Some(raw)) = (&l.hold, &r.hold_time) {
        if (1..3).contains(&h.v.as_secs()) {
            cx.err(
                ErrorKind::OutOfRange,
                raw.span(),
                &h.path,
                format!("{} seconds is too short", h.v.as_secs()),
                "the hold time is 0 (disabled) or at least 3 seconds (RFC 4271 §4.2)",
            );
            l.hold = None;
            l.failed.push("hold");
        }
    }
    check!(
        keepalive,
        keepalive_time,
        secs(
            0,
            65535,
            "a keepalive time",
            "usually a third of the hold time"
        )
    );
    check!(
        connect_retry,
        connect_retry_time,
        secs(1, 65535, "a connect retry time", "")
    );
    check!(
        connect_delay,
        connect_delay_time,
        secs(0, 65535, "a connect delay time", "")
    );
    check!(
        error_wait_min,
        error_wait_min,
        secs(1, 65535, "an error wait time", "")
    );
    check!(
        error_wait_max,
        error_wait_max,
        secs(1, 65535, "an error wait time", "")
    );
    check!(families, families, families);
    l.graceful_restart = flag(&r.graceful_restart, &p("graceful_restart"));
    l.extended_messages = flag(&r.extended_messages, &p("extended_messages"));
    l.extended_next_hop = flag(&r.extended_next_hop, &p("extended_next_hop"));
    // RFC 4724 §3: 12-bit restart time; RFC 9494 §2: 24-bit LLGR stale time.
    check!(
        restart_time,
        restart_time,
        secs(1, 4095, "a restart time", "RFC 4724 carries it in 12 bits")
    );
    check!(
        long_lived_stale_time,
        long_lived_stale_time,
        secs(
            0,
            16_777_215,
            "a long-lived stale time",
            "RFC 9494 carries it in 24 bits; 0 disables LLGR"
        )
    );
    check!(add_path, add_path, add_path);
    l.route_reflector_client = flag(&r.route_reflector_client, &p("route_reflector_client"));
    check!(next_hop, next_hop, |cx: &mut Ctx<'_>, raw, path: &str| cx
        .word(
            raw,
            path,
            &[
                ("auto", NextHopMode::Auto),
                ("self", NextHopMode::SelfAddress),
                ("keep", NextHopMode::Keep)
            ]
        ));
    check!(
        allow_own_as,
        allow_own_as,
        |cx: &mut Ctx<'_>, raw, path: &str| cx
            .int(
                raw,
                path,
                0,
                255,
                "a count",
                "how many times our AS may appear in a received AS_PATH"
            )
            .map(|n| n as u8)
    );
    check!(filters, filters, |cx: &mut Ctx<'_>, raw, path: &str| {
        super::policy::filter_refs(cx, raw, path, known_filters)
    });
    l.bfd = flag(&r.bfd, &p("bfd"));
    check!(
        bfd_interval,
        bfd_interval_ms,
        |cx: &mut Ctx<'_>, raw, path: &str| cx
            .int(
                raw,
                path,
                10,
                60_000,
                "a BFD interval in milliseconds",
                "the TX and RX interval; 300 (with multiplier 3) detects a failure in 0.9 s"
            )
            .map(|n| Duration::from_millis(n as u64))
    );
    check!(
        bfd_multiplier,
        bfd_multiplier,
        |cx: &mut Ctx<'_>, raw, path: &str| cx
            .int(
                raw,
                path,
                1,
                255,
                "a BFD detection multiplier",
                "packets missed before the session is declared down"
            )
            .map(|n| n as u8)
    );
    l.bfd_passive = flag(&r.bfd_passive, &p("bfd_passive"));
    l.bfd_graceful = flag(&r.bfd_graceful, &p("bfd_graceful"));
    l.bfd_multihop = flag(&r.bfd_multihop, &p("bfd_multihop"));
    check!(receive_limit, receive_limit, super::limit::limits);
    check!(import_limit, import_limit, super::limit::limits);
    password(cx, r, base, &mut l);
    l
}

fn families(cx: &mut Ctx<'_>, raw: &S<Vec<S<String>>>, path: &str) -> Option<Vec<Family>> {
    let mut out = Vec::new();
    let mut ok = true;
    for (i, f) in raw.get_ref().iter().enumerate() {
        let fp = format!("{path}[{i}]");
        match cx.word(
            f,
            &fp,
            &[("ipv4", Family::Ipv4Unicast), ("ipv6", Family::Ipv6Unicast)],
        ) {
            Some(fam) if out.contains(&fam) => {
                cx.err(
                    ErrorKind::Duplicate,
                    f.span(),
                    &fp,
                    format!("{:?} is listed twice", f.get_ref()),
                    "",
                );
                ok = false;
            }
            Some(fam) => out.push(fam),
            None => ok = false,
        }
    }
    if ok && out.is_empty() {
        cx.err(
            ErrorKind::Invalid,
            raw.span(),
            path,
            "no address family",
            "list at least one of \"ipv4\", \"ipv6\"",
        );
        return None;
    }
    out.sort();
    ok.then_some(out)
}

fn add_path(
    cx: &mut Ctx<'_>,
    raw: &S<crate::schema::RawAddPath>,
    path: &str,
) -> Option<BTreeMap<Family, AddPathMode>> {
    const MODES: [(&str, Option<AddPathMode>); 4] = [
        ("off", None),
        ("receive", Some(AddPathMode::Receive)),
        ("send", Some(AddPathMode::Send)),
        ("both", Some(AddPathMode::Both)),
    ];
    let r = raw.get_ref();
    let mut out = BTreeMap::new();
    let mut ok = true;
    for (fam, name, v) in [
        (Family::Ipv4Unicast, "ipv4", &r.ipv4),
        (Family::Ipv6Unicast, "ipv6", &r.ipv6),
    ] {
        if let Some(v) = v {
            match cx.word(v, &format!("{path}.{name}"), &MODES) {
                Some(Some(m)) => {
                    out.insert(fam, m);
                }
                Some(None) => {}
                None => ok = false,
            }
        }
    }
    ok.then_some(out)
}

/// RFC 2385 key from `password_file` or `password_env` (never both).
fn password(cx: &mut Ctx<'_>, r: &RawPeer, base: &str, l: &mut Layer) {
    let (key, raw, path) = match (&r.password_file, &r.password_env) {
        (None, None) => return,
        (Some(_), Some(env)) => {
            cx.err(
                ErrorKind::Conflict,
                env.span(),
                &format!("{base}.password_env"),
                "password_file and password_env are both set",
                "keep one of them",
            );
            l.failed.push("password");
            return;
        }
        (Some(file), None) => {
            let path = format!("{base}.password_file");
            if let Ok(meta) = std::fs::metadata(file.get_ref()) {
                if meta.permissions().mode() & 0o004 != 0 {
                    cx.note(file.span(), &path, "the key file is readable by every user");
                }
            }
            match crate::file::read_text(std::path::Path::new(file.get_ref())) {
                Ok(s) => (
                    s.strip_suffix('\n')
                        .map(|s| s.strip_suffix('\r').unwrap_or(s))
                        .unwrap_or(&s)
                        .to_string(),
                    file,
                    path,
                ),
                Err(e) => {
                    cx.err(
                        ErrorKind::Secret,
                        file.span(),
                        &path,
                        format!("cannot read {:?}: {e}", file.get_ref()),
                        "the file holds the TCP-MD5 key on one line; check the path and its \
                         permissions",
                    );
                    l.failed.push("password");
                    return;
                }
            }
        }
        (None, Some(env)) => {
            let path = format!("{base}.password_env");
            match std::env::var(env.get_ref()) {
                Ok(s) => (s, env, path),
                Err(e) => {
                    cx.err(
                        ErrorKind::Secret,
                        env.span(),
                        &path,
                        format!("cannot read environment variable {:?}: {e}", env.get_ref()),
                        "export it in the daemon's environment",
                    );
                    l.failed.push("password");
                    return;
                }
            }
        }
    };
    if key.is_empty() || key.len() > Password::MAX_LEN {
        // The message never contains the key.
        cx.err(
            ErrorKind::Secret,
            raw.span(),
            &path,
            format!("the key is {} bytes long", key.len()),
            "a TCP-MD5 key is 1 to 80 bytes",
        );
        l.failed.push("password");
        return;
    }
    l.password = Some(Ctx::at(Password::new(key), raw, &path));
}

fn name(cx: &mut Ctx<'_>, raw: &S<String>, path: &str) -> Option<NeighborName> {
    match NeighborName::new(raw.get_ref()) {
        Ok(n) => Some(n),
        Err(why) => {
            cx.err(
                ErrorKind::Invalid,
                raw.span(),
                path,
                format!("{:?} {why}", raw.get_ref()),
                "names are identifiers like BIRD protocol names, e.g. Mesh_10_0_0_2",
            );
            None
        }
    }
}

/// All neighbors, templates applied; invalid ones are reported and left out.
pub(super) fn neighbors(
    cx: &mut Ctx<'_>,
    templates: &[S<RawPeer>],
    raw: &[S<RawPeer>],
    local_as: Option<Asn>,
    own_addresses: &[IpAddr],
    known_filters: &[String],
) -> Vec<Neighbor> {
    let mut tmpl: HashMap<String, (NeighborName, Layer, Range<usize>)> = HashMap::new();
    for (i, t) in templates.iter().enumerate() {
        let r = t.get_ref();
        let Some(n) = &r.name else {
            cx.missing(
                t.span(),
                &format!("templates[{i}].name"),
                "give the template a name, e.g. name = \"mesh\"",
            );
            continue;
        };
        let base = format!("template {:?}", n.get_ref());
        let Some(tname) = name(cx, n, &format!("templates[{i}].name")) else {
            continue;
        };
        for (raw, field) in [(&r.address, "address"), (&r.template, "template")] {
            if let Some(v) = raw {
                cx.err(
                    ErrorKind::Invalid,
                    v.span(),
                    &format!("{base}.{field}"),
                    "is not allowed in a template",
                    "set it on each neighbor",
                );
            }
        }
        let l = layer(cx, r, &base, known_filters);
        if let Some((_, _, first)) = tmpl.get(tname.as_str()) {
            let hint = format!("first defined at line {}", cx.line_of(first));
            cx.err(
                ErrorKind::Duplicate,
                n.span(),
                &format!("templates[{i}].name"),
                format!("template {:?} is defined twice", n.get_ref()),
                &hint,
            );
            continue;
        }
        tmpl.insert(tname.as_str().to_string(), (tname, l, n.span()));
    }

    let mut out = Vec::new();
    let mut names: HashMap<NeighborName, Range<usize>> = HashMap::new();
    let mut addrs: HashMap<(IpAddr, Option<String>, u16), Range<usize>> = HashMap::new();
    for (i, n) in raw.iter().enumerate() {
        let r = n.get_ref();
        let (base, nname) = match &r.name {
            Some(raw_name) => {
                let nm = name(cx, raw_name, &format!("neighbors[{i}].name"));
                if let Some(nm) = &nm {
                    if RESERVED_NAMES.contains(&nm.as_str()) {
                        cx.err(
                            ErrorKind::Invalid,
                            raw_name.span(),
                            &format!("neighbors[{i}].name"),
                            format!("{nm:?} is reserved"),
                            "kernel1, device1, direct1 and static1 name the built-in protocols \
                             on the control socket",
                        );
                    } else if let Some(first) = names.get(nm) {
                        let hint = format!("first defined at line {}", cx.line_of(first));
                        cx.err(
                            ErrorKind::Duplicate,
                            raw_name.span(),
                            &format!("neighbors[{i}].name"),
                            format!("neighbor {nm:?} is defined twice"),
                            &hint,
                        );
                    } else {
                        names.insert(nm.clone(), raw_name.span());
                    }
                }
                (format!("neighbor {:?}", raw_name.get_ref()), nm)
            }
            None => {
                cx.missing(
                    n.span(),
                    &format!("neighbors[{i}].name"),
                    "the name is the protocol name on the control socket, e.g. Mesh_10_0_0_2",
                );
                (format!("neighbors[{i}]"), None)
            }
        };
        // `fe80::1%eth1`: the part after '%' names the interface (as BIRD writes it).
        let mut scope: Option<At<String>> = None;
        let mut scope_failed = false;
        let address = match &r.address {
            Some(a) => {
                let path = format!("{base}.address");
                let (ip_text, if_text) = match a.get_ref().trim().split_once('%') {
                    Some((ip, ifname)) => (ip, Some(ifname)),
                    None => (a.get_ref().trim(), None),
                };
                if let Some(ifname) = if_text {
                    scope =
                        interface_name(cx, ifname, a.span(), &path).map(|v| Ctx::at(v, a, &path));
                    scope_failed = scope.is_none();
                }
                match ip_text.parse::<IpAddr>() {
                    Err(_) => {
                        cx.err(
                            ErrorKind::Invalid,
                            a.span(),
                            &path,
                            format!("{:?} is not an IP address", a.get_ref()),
                            "the peer's address, e.g. 10.0.0.2, or fe80::1%eth1 for an IPv6 \
                             link-local peer",
                        );
                        None
                    }
                    Ok(ip) if own_addresses.contains(&ip) => {
                        cx.err(
                            ErrorKind::Conflict,
                            a.span(),
                            &path,
                            format!("{ip} is one of our listen addresses"),
                            "a node does not peer with itself; Calico's mesh lists every other node",
                        );
                        None
                    }
                    Ok(ip) if ip.is_unspecified() || ip.is_multicast() => {
                        cx.err(
                            ErrorKind::Invalid,
                            a.span(),
                            &path,
                            format!("{ip} cannot be a peer address"),
                            "",
                        );
                        None
                    }
                    Ok(ip) => Some(Ctx::at(ip, a, &path)),
                }
            }
            None => {
                cx.missing(
                    n.span(),
                    &format!("{base}.address"),
                    "the peer's IP address",
                );
                None
            }
        };
        let mut own = layer(cx, r, &base, known_filters);
        if scope_failed {
            own.failed.push("interface");
        }
        if let Some(sc) = scope {
            match &own.interface {
                Some(i) if i.v != sc.v => {
                    cx.err(
                        ErrorKind::Conflict,
                        i.span.clone(),
                        &i.path,
                        format!(
                            "interface {:?} differs from the address's scope %{}",
                            i.v, sc.v
                        ),
                        "name the interface once: in the address (fe80::1%eth1) or in interface",
                    );
                    own.failed.push("interface");
                }
                _ => own.interface = Some(sc),
            }
        }
        let template = match &r.template {
            None => None,
            Some(t) => match tmpl.get(t.get_ref().as_str()) {
                Some(found) => Some(found),
                None => {
                    let mut known: Vec<&str> = tmpl.keys().map(String::as_str).collect();
                    known.sort_unstable();
                    let hint = if known.is_empty() {
                        "no [[templates]] are defined".to_string()
                    } else {
                        format!("defined templates: {}", known.join(", "))
                    };
                    cx.err(
                        ErrorKind::UnknownTemplate,
                        t.span(),
                        &format!("{base}.template"),
                        format!("no template named {:?}", t.get_ref()),
                        &hint,
                    );
                    continue;
                }
            },
        };
        let merged = match template {
            Some((_, t, _)) => own.over(t),
            None => own,
        };
        let (Some(nname), Some(address)) = (nname, address) else {
            continue;
        };
        let Some(nb) = resolve(
            cx,
            merged,
            nname,
            template.map(|t| t.0.clone()),
            address,
            n.span(),
            &base,
            local_as,
        ) else {
            continue;
        };
        let key = (nb.address, nb.interface.clone(), nb.port);
        if let Some(first) = addrs.get(&key) {
            let hint = format!(
                "first used at line {}; two sessions to one address need different ports",
                cx.line_of(first)
            );
            cx.err(
                ErrorKind::Duplicate,
                r.address.as_ref().map_or(n.span(), |a| a.span()),
                &format!("{base}.address"),
                format!(
                    "{} port {} is already a neighbor",
                    nb.scoped_address(),
                    nb.port
                ),
                &hint,
            );
            continue;
        }
        // The daemon looks a peer's filters up by its address: neighbors at one address (on
        // several links) share them.
        if let Some(other) = out
            .iter()
            .find(|o: &&Neighbor| o.address == nb.address && o.filters != nb.filters)
        {
            cx.err(
                ErrorKind::Conflict,
                r.address.as_ref().map_or(n.span(), |a| a.span()),
                &format!("{base}.address"),
                format!(
                    "{} has other filters than neighbor {:?} at the same address",
                    nb.scoped_address(),
                    other.name.as_str()
                ),
                "neighbors at one link-local address on several links need the same filters",
            );
            continue;
        }
        addrs.insert(key, r.address.as_ref().map_or(n.span(), |a| a.span()));
        out.push(nb);
    }
    out
}

/// A Linux interface name (`IFNAMSIZ - 1` characters, no '/', '%' or white space).
fn interface_name(cx: &mut Ctx<'_>, s: &str, span: Range<usize>, path: &str) -> Option<String> {
    let bad = s.is_empty()
        || s.len() > super::MAX_IFNAME
        || s.chars()
            .any(|c| c == '/' || c == '%' || c.is_whitespace() || c.is_control());
    if bad {
        cx.err(
            ErrorKind::Invalid,
            span,
            path,
            format!("{s:?} is not an interface name"),
            "an interface name of at most 15 characters without '/' or spaces, e.g. eth1",
        );
        return None;
    }
    Some(s.to_string())
}

fn secs_or(v: &Option<At<Duration>>, default: u64) -> Duration {
    v.as_ref().map_or(Duration::from_secs(default), |a| a.v)
}

/// Defaults and cross-field rules on a merged layer.
#[allow(clippy::too_many_arguments)]
fn resolve(
    cx: &mut Ctx<'_>,
    l: Layer,
    name: NeighborName,
    template: Option<NeighborName>,
    address: At<IpAddr>,
    span: Range<usize>,
    base: &str,
    local_as: Option<Asn>,
) -> Option<Neighbor> {
    if l.remote_as.is_none() && !l.failed.contains(&"remote_as") {
        cx.missing(
            span.clone(),
            &format!("{base}.remote_as"),
            "set remote_as on the neighbor or in its template",
        );
    }
    let Some(remote_as) = &l.remote_as else {
        return None;
    };
    if !l.failed.is_empty() {
        return None;
    }
    let mut ok = true;
    let internal = local_as == Some(remote_as.v);

    // TTL: GTSM (RFC 5082) fixes TTL 255 and checks it on receipt; multihop sets a lower TTL.
    let ttl = match (&l.ttl_security, &l.multihop) {
        (Some(g), Some(m)) if g.v => {
            let (gs, ms) = ((&g.span, &g.path), (&m.span, &m.path));
            let (later, earlier) = if g.span.start > m.span.start {
                (gs, ms)
            } else {
                (ms, gs)
            };
            let hint = format!(
                "{} is set at line {}; GTSM (RFC 5082) already sends TTL 255",
                earlier.1,
                cx.line_of(earlier.0)
            );
            cx.err(
                ErrorKind::Conflict,
                later.0.clone(),
                later.1,
                "ttl_security and multihop cannot be combined",
                &hint,
            );
            ok = false;
            TtlMode::Gtsm { max_hops: None }
        }
        (Some(g), _) if g.v => TtlMode::Gtsm { max_hops: None },
        (_, Some(m)) => TtlMode::Multihop(m.v),
        // A session bound to an interface is single hop, iBGP too (as BIRD).
        _ if internal && l.interface.is_none() => TtlMode::Multihop(IBGP_MULTIHOP_TTL),
        _ => TtlMode::Direct,
    };

    // RFC 4271 §4.2 / §10: hold 0 or >= 3; keepalive below hold (a third by default).
    let hold = secs_or(&l.hold, HOLD);
    let keepalive = match &l.keepalive {
        None => hold / 3,
        Some(k) => {
            if hold.is_zero() && !k.v.is_zero() {
                cx.err(
                    ErrorKind::Conflict,
                    k.span.clone(),
                    &k.path,
                    "keepalives are set but the hold time is 0",
                    "with hold_time = 0 no keepalives are sent (RFC 4271 §4.4); remove \
                     keepalive_time",
                );
                ok = false;
            } else if !hold.is_zero() && (k.v.is_zero() || k.v >= hold) {
                cx.err(
                    ErrorKind::Conflict,
                    k.span.clone(),
                    &k.path,
                    format!(
                        "keepalive {}s must be above 0 and below the hold time {}s",
                        k.v.as_secs(),
                        hold.as_secs()
                    ),
                    "use a third of the hold time",
                );
                ok = false;
            }
            k.v
        }
    };
    let error_wait_min = secs_or(&l.error_wait_min, ERROR_WAIT_MIN);
    let error_wait_max = secs_or(&l.error_wait_max, ERROR_WAIT_MAX);
    if error_wait_min > error_wait_max {
        let at = l.error_wait_max.as_ref().or(l.error_wait_min.as_ref());
        let (s, p) = at.map_or((span.clone(), format!("{base}.error_wait_max")), |a| {
            (a.span.clone(), a.path.clone())
        });
        cx.err(
            ErrorKind::Conflict,
            s,
            &p,
            format!(
                "error_wait_max {}s is below error_wait_min {}s",
                error_wait_max.as_secs(),
                error_wait_min.as_secs()
            ),
            "the backoff starts at the minimum and doubles up to the maximum",
        );
        ok = false;
    }

    let own_family = if address.v.is_ipv4() {
        Family::Ipv4Unicast
    } else {
        Family::Ipv6Unicast
    };
    let families = l
        .families
        .as_ref()
        .map_or_else(|| vec![own_family], |f| f.v.clone());
    if let Some(f) = &l.families {
        if !f.v.contains(&own_family) {
            let list: Vec<String> = f.v.iter().map(ToString::to_string).collect();
            let session = if address.v.is_ipv4() { "IPv4" } else { "IPv6" };
            cx.note(
                f.span.clone(),
                &f.path,
                format!(
                    "{} is carried over an {session} session (RFC 4760); the session's own \
                     family is not negotiated",
                    list.join(", ")
                ),
            );
        }
    }
    let add_path = l.add_path.as_ref().map(|a| a.v.clone()).unwrap_or_default();
    if let Some(a) = &l.add_path {
        for fam in a.v.keys() {
            if !families.contains(fam) {
                cx.err(
                    ErrorKind::Conflict,
                    a.span.clone(),
                    &a.path,
                    format!("ADD-PATH for {fam}, which is not in families"),
                    "add the family to families or remove it here",
                );
                ok = false;
            }
        }
    }
    for lim in [&l.receive_limit, &l.import_limit].into_iter().flatten() {
        if let Some(fam) = lim.v.keys().find(|f| !families.contains(f)) {
            cx.err(
                ErrorKind::Conflict,
                lim.span.clone(),
                &lim.path,
                format!("a limit for {fam}, which is not in families"),
                "add the family to families or remove it here",
            );
            ok = false;
        }
    }
    let route_limits = super::limit::merge(
        l.receive_limit.as_ref().map(|a| &a.v),
        l.import_limit.as_ref().map(|a| &a.v),
    );
    if let Some(s) = &l.source_address {
        if s.v.is_ipv4() != address.v.is_ipv4() {
            cx.err(
                ErrorKind::Conflict,
                s.span.clone(),
                &s.path,
                format!(
                    "{} and the neighbor address {} are of different families",
                    s.v, address.v
                ),
                "",
            );
            ok = false;
        }
    }
    if let (Some(m), Some(_)) = (l.multihop.as_ref().filter(|m| m.v > 1), &l.interface) {
        cx.err(
            ErrorKind::Conflict,
            m.span.clone(),
            &m.path,
            "multihop cannot be combined with interface",
            "a session bound to an interface (link-local peering) is single hop, as in BIRD",
        );
        ok = false;
    }
    // RFC 4291 §2.5.6: a link-local address means something only on one link.
    if crate::model::is_link_local(address.v)
        && l.interface.is_none()
        && !l.failed.contains(&"interface")
    {
        cx.err(
            ErrorKind::Missing,
            address.span.clone(),
            &address.path,
            format!(
                "{} is an IPv6 link-local address but no interface is given",
                address.v
            ),
            &format!(
                "name the link: address = \"{}%eth1\" or interface = \"eth1\"",
                address.v
            ),
        );
        ok = false;
    }
    let rr = l.route_reflector_client.as_ref().is_some_and(|r| r.v);
    if rr && !internal {
        if let Some(r) = &l.route_reflector_client {
            cx.err(
                ErrorKind::Conflict,
                r.span.clone(),
                &r.path,
                "route reflection applies to iBGP neighbors only",
                "RFC 4456: remote_as must equal local_as",
            );
        }
        ok = false;
    }
    if !ok {
        return None;
    }
    Some(Neighbor {
        name,
        template,
        address: address.v,
        interface: l.interface.map(|i| i.v),
        local_as: None,
        port: l.port.map_or(BGP_PORT, |p| p.v),
        remote_as: remote_as.v,
        description: l.description.map(|d| d.v),
        passive: l.passive.is_some_and(|p| p.v),
        ttl,
        password: l.password.map(|p| p.v),
        source_address: l.source_address.map(|s| s.v),
        timers: Timers {
            hold,
            keepalive,
            connect_retry: secs_or(&l.connect_retry, CONNECT_RETRY),
            connect_delay: secs_or(&l.connect_delay, CONNECT_DELAY),
            error_wait_min,
            error_wait_max,
        },
        families,
        extended_messages: l.extended_messages.is_some_and(|e| e.v),
        extended_next_hop: l.extended_next_hop.is_some_and(|e| e.v),
        graceful_restart: GracefulRestart {
            enabled: l.graceful_restart.is_some_and(|g| g.v),
            restart_time: secs_or(&l.restart_time, RESTART_TIME),
            long_lived_stale_time: secs_or(&l.long_lived_stale_time, 0),
            long_lived_aware: false,
        },
        add_path,
        route_reflector_client: rr,
        next_hop: l.next_hop.map_or(NextHopMode::Auto, |n| n.v),
        allow_own_as: l.allow_own_as.map_or(0, |a| a.v),
        filters: l.filters.map(|f| f.v).unwrap_or_default(),
        bird_filters: None,
        bfd: l.bfd.is_some_and(|b| b.v).then(|| {
            let interval = l.bfd_interval.map_or(Bfd::DEFAULT_INTERVAL, |i| i.v);
            Bfd {
                min_tx: interval,
                min_rx: interval,
                multiplier: l.bfd_multiplier.map_or(Bfd::DEFAULT_MULTIPLIER, |m| m.v),
                passive: l.bfd_passive.is_some_and(|b| b.v),
                graceful: l.bfd_graceful.is_some_and(|b| b.v),
                // Single hop unless asked, or the neighbor is set more than one hop away.
                multihop: l
                    .bfd_multihop
                    .map_or_else(|| l.multihop.as_ref().is_some_and(|m| m.v > 1), |b| b.v),
            }
        }),
        route_limits,
    })
}
