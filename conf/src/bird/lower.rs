//! The parsed BIRD configuration lowered onto [`Config`] for one family (`bird` = IPv4,
//! `bird6` = IPv6), with BIRD 1.6's defaults where the text says nothing.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bgp_proto::types::{Asn, Family, RouterId};
use policy::bird::{Function, Program};

use super::diag::{Diag, Pos};
use super::parse::{
    Ast, At, BfdIface, BfdOpts, Draft, FilterRef, Opts, Proto, ProtoKind, RouteDest,
};
use crate::error::ErrorKind;
use crate::model::{
    Bfd, BirdFamily, BirdFilters, BirdSetup, ClusterId, Config, Control, Decision, GracefulRestart,
    Kernel, Listen, Metrics, Neighbor, NeighborName, NextHopMode, RecoveryMode, RouteLimits,
    Services, StaticRoute, Timers, TtlMode,
};
use crate::secret::Password;

/// BIRD's defaults (Calico's fork of BIRD 1.6, `proto/bgp/config.Y`, `sysdep/unix/krt.Y`).
pub(crate) const BGP_PORT: u16 = 179;
const HOLD: u64 = 240;
const CONNECT_RETRY: u64 = 120;
const CONNECT_DELAY: u64 = 5;
const ERROR_WAIT: (u64, u64) = (60, 300);
const RESTART_TIME: u64 = 120;
/// BIRD's iBGP default: multihop with TTL 64.
const IBGP_MULTIHOP_TTL: u8 = 64;
/// Used when no `protocol bgp` says `local as` (a file without BGP sessions).
pub(crate) const FALLBACK_LOCAL_AS: u32 = 64512;
/// `merge paths on` without `limit` (BIRD: 16).
const MERGE_PATHS_LIMIT: u16 = 16;
/// What BIRD's kernel protocol marks its routes with (`RTPROT_BIRD`).
const KERNEL_PROTOCOL: u8 = 12;
const KERNEL_METRIC: u32 = 1024;
const MAIN_TABLE: u32 = 254;

pub(crate) struct Lowered {
    pub config: Config,
    pub notes: Vec<Diag>,
}

fn fam_name(f: BirdFamily) -> &'static str {
    match f {
        BirdFamily::V4 => "IPv4",
        BirdFamily::V6 => "IPv6",
    }
}

fn of_family(a: IpAddr, f: BirdFamily) -> bool {
    a.is_ipv4() == (f == BirdFamily::V4)
}

struct Cx<'a> {
    family: BirdFamily,
    functions: Arc<[Function]>,
    /// `all` and `none`, shared by every protocol that says so (or takes the default).
    accept_all: Arc<Program>,
    reject_all: Arc<Program>,
    /// The program of each shared draft, by the draft's address.
    programs: HashMap<*const Draft, (Arc<Draft>, Arc<Program>)>,
    errors: &'a mut Vec<Diag>,
    notes: Vec<Diag>,
    /// The first `protocol bfd`'s interface blocks and multihop block.
    bfd_proto: Option<(Vec<BfdIface>, Option<BfdOpts>)>,
}

impl Cx<'_> {
    fn err(&mut self, pos: Pos, kind: ErrorKind, path: &str, message: impl Into<String>) {
        self.errors
            .push(Diag::at(pos, kind, message).in_construct(path));
    }

    fn family_err(&mut self, pos: Pos, path: &str, what: &str, a: impl std::fmt::Display) {
        let (daemon, file) = match self.family {
            BirdFamily::V4 => ("bird", "bird.cfg"),
            BirdFamily::V6 => ("bird6", "bird6.cfg"),
        };
        let d = Diag::at(
            pos,
            ErrorKind::Invalid,
            format!(
                "{what} {a} is not {}: {file} is read by `{daemon}`, which serves {} only",
                fam_name(self.family),
                fam_name(self.family)
            ),
        )
        .in_construct(path);
        self.errors.push(d);
    }

    /// The program of `f`: one per distinct parsed filter, shared as the parse shared it (a
    /// filter used once is moved, not copied).
    fn program(&mut self, f: Option<At<FilterRef>>, default_accept: bool) -> Arc<Program> {
        let d = match f.map(|f| f.v) {
            None if default_accept => return self.accept_all.clone(),
            None => return self.reject_all.clone(),
            Some(FilterRef::All) => return self.accept_all.clone(),
            Some(FilterRef::None) => return self.reject_all.clone(),
            Some(FilterRef::Program(d)) => d,
        };
        let key = Arc::as_ptr(&d);
        if let Some((_, p)) = self.programs.get(&key) {
            return p.clone();
        }
        match Arc::try_unwrap(d) {
            Ok(d) => Arc::new(Program {
                name: d.name,
                body: d.body,
                functions: self.functions.clone(),
            }),
            Err(d) => {
                let p = Arc::new(Program {
                    name: d.name.clone(),
                    body: d.body.clone(),
                    functions: self.functions.clone(),
                });
                // The draft stays alive in the map, so its address keys only it.
                self.programs.insert(key, (d, p.clone()));
                p
            }
        }
    }
}

type ImportExport = (Option<At<FilterRef>>, Option<At<FilterRef>>);

/// Whether a protocol is of this family: it has no channels (BIRD 1.6), or one of this family.
fn is_ours(p: &Proto, family: BirdFamily) -> bool {
    p.opts.channels.is_empty() || p.opts.channels.iter().any(|(f, _)| *f == family)
}

/// Takes the import and export of a protocol for this family out of it: its channel's (BIRD
/// 2/3), else its own (BIRD 1.6). `None`: the protocol has channels, none of this family (not
/// ours).
fn take_filters(p: &mut Proto, family: BirdFamily) -> Option<ImportExport> {
    if p.opts.channels.is_empty() {
        return Some((p.opts.import.take(), p.opts.export.take()));
    }
    let (_, ch) = p.opts.channels.iter_mut().find(|(f, _)| *f == family)?;
    Some((
        ch.v.import.take().or_else(|| p.opts.import.take()),
        ch.v.export.take().or_else(|| p.opts.export.take()),
    ))
}

pub(crate) fn lower(
    mut ast: Ast,
    family: BirdFamily,
    files: Vec<PathBuf>,
    errors: &mut Vec<Diag>,
) -> Option<Lowered> {
    let mut cx = Cx {
        family,
        functions: Arc::from(std::mem::take(&mut ast.functions)),
        accept_all: Arc::new(Program::accept_all()),
        reject_all: Arc::new(Program::reject_all()),
        programs: HashMap::new(),
        errors,
        notes: Vec::new(),
        bfd_proto: ast
            .protocols
            .iter()
            .find(|p| p.kind == ProtoKind::Bfd)
            .map(|p| (p.opts.bfd_ifaces.clone(), p.opts.bfd_multihop)),
    };

    // Config.local_as: the AS most bgp protocols use (the first one on a tie).
    let mut counts: Vec<(u32, usize)> = Vec::new();
    for p in ast
        .protocols
        .iter()
        .filter(|p| p.kind == ProtoKind::Bgp && is_ours(p, family))
    {
        if let Some(a) = &p.opts.local_as {
            match counts.iter_mut().find(|(x, _)| *x == a.v) {
                Some(c) => c.1 += 1,
                None => counts.push((a.v, 1)),
            }
        }
    }
    let mut best: Option<(u32, usize)> = None;
    for &(asn, n) in &counts {
        if best.is_none_or(|(_, b)| n > b) {
            best = Some((asn, n));
        }
    }
    let local_as = match best {
        Some((a, _)) => a,
        None => {
            cx.notes.push(Diag {
                pos: None,
                file: None,
                kind: ErrorKind::Note,
                path: String::new(),
                message: format!(
                    "no `protocol bgp` sets `local as`: the local AS is taken as {FALLBACK_LOCAL_AS} (unused without BGP sessions)"
                ),
                hint: None,
            });
            FALLBACK_LOCAL_AS
        }
    };

    let router_id = match &ast.router_id {
        Some(r) => RouterId(r.v),
        None => {
            cx.errors.push(Diag {
                pos: None,
                file: None,
                kind: ErrorKind::Missing,
                path: "router id".into(),
                message:
                    "`router id IPv4;` is required (bgpd does not pick one from the interfaces)"
                        .into(),
                hint: None,
            });
            RouterId(Ipv4Addr::UNSPECIFIED)
        }
    };

    let listen = lower_listen(&mut cx, &ast);
    let mut neighbors = Vec::with_capacity(ast.protocols.len());
    let mut cluster: Option<At<Ipv4Addr>> = None;
    let mut kernel: Option<(&Proto, Arc<Program>)> = None;
    let mut static_routes = Vec::new();
    let mut direct_interfaces = Vec::new();
    let mut seen: HashMap<(IpAddr, Option<String>, u16), &str> =
        HashMap::with_capacity(ast.protocols.len());
    // The construct for messages (`protocol bgp NAME`), one buffer for all.
    let mut path = String::new();

    for p in ast.protocols.iter_mut() {
        let Some((import, export)) = take_filters(p, family) else {
            continue;
        };
        let p: &Proto = p;
        path.clear();
        let _ = write!(path, "protocol {} {}", p.kind.word(), p.name);
        let path = path.as_str();
        match p.kind {
            ProtoKind::Device => {}
            ProtoKind::Bfd => {
                if p.opts.bfd_static_neighbors > 0 {
                    cx.notes.push(
                        Diag::at(
                            p.pos,
                            ErrorKind::Note,
                            "BFD `neighbor` entries are accepted and ignored: bgpd runs BFD for BGP neighbors with `bfd on` only",
                        )
                        .in_construct(path),
                    );
                }
            }
            ProtoKind::Direct => direct_interfaces.extend(p.opts.interfaces.iter().cloned()),
            ProtoKind::Static => {
                for r in &p.opts.routes {
                    let (net, dest) = r.v;
                    if !of_family(net.addr(), family) {
                        cx.family_err(r.pos, path, "route", net);
                        continue;
                    }
                    static_routes.push(match dest {
                        RouteDest::Blackhole => StaticRoute::Blackhole(net),
                        RouteDest::Via(gw) => {
                            if !of_family(gw, family) {
                                cx.family_err(r.pos, path, "gateway", gw);
                                continue;
                            }
                            StaticRoute::Via(net, gw)
                        }
                    });
                }
            }
            ProtoKind::Kernel => {
                if let Some((first, _)) = &kernel {
                    let msg = format!(
                        "a second kernel protocol (the first is `{}`): bgpd programs one kernel table",
                        first.name
                    );
                    cx.err(p.pos, ErrorKind::Duplicate, path, msg);
                    continue;
                }
                if let Some(i) = &import {
                    if !matches!(i.v, FilterRef::All | FilterRef::None) {
                        cx.err(
                            i.pos,
                            ErrorKind::UnknownField,
                            path,
                            "a kernel import filter is not supported by bgpd's BIRD front end (use `import all` or `import none`)",
                        );
                    }
                }
                if let Some(g) = p.opts.graceful_restart.as_ref().filter(|g| g.v) {
                    cx.notes.push(
                        Diag::at(
                            g.pos,
                            ErrorKind::Note,
                            "kernel `graceful restart` is accepted and ignored: bgpd reconciles the kernel table with its routes at start",
                        )
                        .in_construct(path),
                    );
                }
                kernel = Some((p, cx.program(export, false)));
            }
            ProtoKind::Bgp => {
                if let Some(n) = lower_bgp(&mut cx, p, path, local_as, import, export) {
                    if let Some(c) = &p.opts.rr_cluster_id {
                        match &cluster {
                            Some(first) if first.v != c.v => {
                                let msg = format!(
                                    "rr cluster id {} differs from {} set on another protocol: bgpd has one cluster id",
                                    c.v, first.v
                                );
                                cx.err(c.pos, ErrorKind::Conflict, path, msg);
                            }
                            Some(_) => {}
                            None => cluster = Some(c.clone()),
                        }
                    }
                    // Filters are looked up by address: one address on several links
                    // needs the same ones.
                    if let Some(other) = neighbors.iter().find(|o: &&Neighbor| {
                        o.address == n.address && o.bird_filters != n.bird_filters
                    }) {
                        let msg = format!(
                            "neighbor {} has other import/export filters than protocol `{}` \
                             at the same address (bgpd needs the same ones)",
                            n.scoped_address(),
                            other.name
                        );
                        cx.err(p.pos, ErrorKind::Conflict, path, msg);
                    }
                    let key = (n.address, n.interface.clone(), n.port);
                    if let Some(other) = seen.insert(key, &p.name) {
                        let msg = format!(
                            "neighbor {} port {} is already the neighbor of protocol `{other}`",
                            n.scoped_address(),
                            n.port
                        );
                        cx.err(p.pos, ErrorKind::Duplicate, path, msg);
                    }
                    neighbors.push(n);
                }
            }
        }
    }

    let (kernel_cfg, kernel_export, merge_paths) = match kernel {
        Some((p, export)) => {
            let merge = p.opts.merge_paths.as_ref().map(|m| m.v);
            (
                Kernel {
                    enable_writes: true,
                    table: p.opts.kernel_table.as_ref().map_or(MAIN_TABLE, |t| t.v),
                    protocol: KERNEL_PROTOCOL,
                    metric: KERNEL_METRIC,
                    persist_on_stop: p.opts.persist,
                    tunnel_interface: "tunl0".into(),
                    learn: p.opts.learn,
                },
                export,
                merge,
            )
        }
        None => (
            Kernel {
                enable_writes: false,
                table: MAIN_TABLE,
                protocol: KERNEL_PROTOCOL,
                metric: KERNEL_METRIC,
                persist_on_stop: false,
                tunnel_interface: "tunl0".into(),
                learn: false,
            },
            Arc::new(Program::reject_all()),
            None,
        ),
    };
    let max_paths = match merge_paths {
        Some((true, limit)) => limit.map_or(MERGE_PATHS_LIMIT, |l| l as u16),
        _ => 1,
    };
    let local_blocks = static_routes
        .iter()
        .filter_map(|r| match r {
            StaticRoute::Blackhole(n) => Some(*n),
            StaticRoute::Via(..) => None,
        })
        .collect();
    if !cx.errors.is_empty() {
        return None;
    }
    let socket = match family {
        BirdFamily::V4 => "/var/run/bird.ctl",
        BirdFamily::V6 => "/var/run/bird6.ctl",
    };
    let config = Config {
        router_id,
        local_as: Asn(local_as),
        cluster_id: cluster.map(|c| ClusterId(c.v)),
        listen,
        neighbors,
        kernel: kernel_cfg,
        control: Control {
            socket: PathBuf::from(socket),
            socket_v6: None,
            mode: 0o660,
        },
        metrics: Metrics { listen: None },
        local_blocks,
        ip_pools: Vec::new(),
        filters: Vec::new(),
        prefix_advertisements: Vec::new(),
        services: Services::default(),
        static_routes: Vec::new(),
        rr_allowlist: Vec::new(),
        decision: Decision {
            max_paths,
            ..Decision::default()
        },
        // BIRD has no such option; `BGPD_GRACEFUL_RESTART_RECOVERY` sets it (bgpd's main).
        recovery: RecoveryMode::default(),
        bird: Some(BirdSetup {
            family,
            files,
            kernel_export,
            static_routes,
            direct_interfaces,
            merge_paths: merge_paths.is_some_and(|m| m.0),
        }),
        notes: Vec::new(),
    };
    Some(Lowered {
        config,
        notes: cx.notes,
    })
}

fn lower_listen(cx: &mut Cx<'_>, ast: &Ast) -> Listen {
    let any = match cx.family {
        BirdFamily::V4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        BirdFamily::V6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    };
    let Some(l) = &ast.listen else {
        return Listen {
            addresses: vec![any],
            port: BGP_PORT,
        };
    };
    let address = match &l.address {
        Some(a) if !of_family(a.v, cx.family) => {
            cx.family_err(a.pos, "listen bgp", "listen address", a.v);
            any
        }
        Some(a) => a.v,
        None => any,
    };
    Listen {
        addresses: vec![address],
        port: l.port.unwrap_or(BGP_PORT),
    }
}

fn secs(v: Option<u32>, default: u64) -> Duration {
    Duration::from_secs(v.map_or(default, u64::from))
}

fn lower_bgp(
    cx: &mut Cx<'_>,
    p: &Proto,
    path: &str,
    global_as: u32,
    import: Option<At<FilterRef>>,
    export: Option<At<FilterRef>>,
) -> Option<Neighbor> {
    let o: &Opts = &p.opts;
    let before = cx.errors.len();
    if let Some(pos) = o.gateway_direct {
        cx.notes.push(
            Diag::at(
                pos,
                ErrorKind::Note,
                "`gateway direct`: bgpd resolves BGP next hops recursively (as `gateway recursive`, Calico's setting); the two differ only for a next hop off the connected subnets",
            )
            .in_construct(path),
        );
    }
    let name = match NeighborName::new(&p.name) {
        Ok(n) => Some(n),
        Err(why) => {
            cx.err(
                p.pos,
                ErrorKind::Invalid,
                path,
                format!(
                    "protocol name `{}` {why} (bgpd shows it in `show protocols`)",
                    p.name
                ),
            );
            None
        }
    };
    let Some(address) = &o.neighbor else {
        cx.err(
            p.pos,
            ErrorKind::Missing,
            path,
            "neighbor address must be configured (`neighbor IP as N;`)",
        );
        return None;
    };
    if !of_family(address.v, cx.family) {
        cx.family_err(address.pos, path, "neighbor", address.v);
    }
    let Some(remote_as) = &o.remote_as else {
        cx.err(
            p.pos,
            ErrorKind::Missing,
            path,
            "remote AS number must be set (`neighbor IP as N;`)",
        );
        return None;
    };
    let Some(local_as) = &o.local_as else {
        cx.err(
            p.pos,
            ErrorKind::Missing,
            path,
            "local AS number must be set (`local as N;`)",
        );
        return None;
    };
    let internal = remote_as.v == local_as.v;
    let source_address = o
        .source_address
        .as_ref()
        .or(o.local_address.as_ref())
        .map(|s| {
            if !of_family(s.v, cx.family) {
                cx.family_err(s.pos, path, "source address", s.v);
            }
            s.v
        });
    let ttl = match (&o.ttl_security, &o.multihop) {
        // BIRD: with `multihop N` the accepted TTL goes down to 256 - N (`multihop 0`: direct).
        (Some(t), m) if t.v => TtlMode::Gtsm {
            max_hops: m.as_ref().map(|m| m.v).filter(|n| *n > 0),
        },
        (_, Some(m)) if m.v == 0 => TtlMode::Direct,
        (_, Some(m)) => TtlMode::Multihop(m.v),
        // A session bound to a link is single hop (BIRD: multihop cannot be bound to one).
        _ if internal && o.interface.is_none() => TtlMode::Multihop(IBGP_MULTIHOP_TTL),
        _ => TtlMode::Direct,
    };
    let link_local = crate::model::is_link_local(address.v)
        || source_address.is_some_and(crate::model::is_link_local);
    if link_local && o.interface.is_none() {
        cx.err(
            address.pos,
            ErrorKind::Missing,
            path,
            format!(
                "link-local addresses require defined interface (`neighbor {} % eth1` or \
                 `interface \"eth1\";`)",
                address.v
            ),
        );
    }
    if let Some(m) = o.multihop.as_ref().filter(|m| m.v > 0) {
        if o.interface.is_some() {
            cx.err(
                m.pos,
                ErrorKind::Conflict,
                path,
                "multihop BGP cannot be bound to an interface or use link-local addresses",
            );
        }
    }
    if let Some(i) = &o.interface {
        if i.v.is_empty() || i.v.len() > 15 || i.v.chars().any(|c| c == '/' || c.is_whitespace()) {
            cx.err(
                i.pos,
                ErrorKind::Invalid,
                path,
                format!("{:?} is not an interface name", i.v),
            );
        }
    }
    let hold = secs(o.hold.as_ref().map(|h| h.v), HOLD);
    if let Some(h) = &o.hold {
        if h.v != 0 && h.v < 3 {
            cx.err(
                h.pos,
                ErrorKind::OutOfRange,
                path,
                "hold time must be 0 or 3..=65535 seconds (RFC 4271 §4.2)",
            );
        }
    }
    let keepalive = match &o.keepalive {
        Some(k) => {
            if !hold.is_zero() && u64::from(k.v) > hold.as_secs() {
                cx.err(
                    k.pos,
                    ErrorKind::Conflict,
                    path,
                    format!(
                        "keepalive time {}s is above the hold time {}s",
                        k.v,
                        hold.as_secs()
                    ),
                );
            }
            Duration::from_secs(k.v.into())
        }
        None => hold / 3,
    };
    let (ew_min, ew_max) = o
        .error_wait
        .as_ref()
        .map_or(ERROR_WAIT, |e| (e.v.0.into(), e.v.1.into()));
    let rr = o.rr_client.as_ref().is_some_and(|r| r.v);
    if let Some(r) = o.rr_client.as_ref().filter(|r| r.v && !internal) {
        cx.err(
            r.pos,
            ErrorKind::Conflict,
            path,
            "only an internal (iBGP) neighbor can be a route reflector client",
        );
    }
    let password = o.password.as_ref().map(|p| Password::new(p.clone()));
    if let Some(pw) = &password {
        if pw.expose().len() > Password::MAX_LEN {
            cx.err(
                p.pos,
                ErrorKind::OutOfRange,
                path,
                format!(
                    "the password is longer than {} bytes (TCP-MD5 key limit)",
                    Password::MAX_LEN
                ),
            );
        }
    }
    let fam = match cx.family {
        BirdFamily::V4 => Family::Ipv4Unicast,
        BirdFamily::V6 => Family::Ipv6Unicast,
    };
    let mut add_path = BTreeMap::new();
    if let Some(Some(mode)) = o.add_paths {
        add_path.insert(fam, mode);
    }
    let mut route_limits = BTreeMap::new();
    let limits = RouteLimits {
        receive: o.receive_limit.flatten(),
        import: o.import_limit.flatten(),
    };
    if limits != RouteLimits::default() {
        route_limits.insert(fam, limits);
    }
    if cx.errors.len() > before {
        return None;
    }
    Some(Neighbor {
        name: name?,
        template: p
            .template
            .as_deref()
            .and_then(|t| NeighborName::new(t).ok()),
        address: address.v,
        interface: o.interface.as_ref().map(|i| i.v.clone()),
        local_as: (local_as.v != global_as).then_some(Asn(local_as.v)),
        port: o.neighbor_port.as_ref().map_or(BGP_PORT, |p| p.v),
        remote_as: Asn(remote_as.v),
        description: o.description.clone(),
        passive: o.passive,
        ttl,
        password,
        source_address,
        timers: Timers {
            hold,
            keepalive,
            connect_retry: secs(o.connect_retry, CONNECT_RETRY),
            connect_delay: secs(o.connect_delay, CONNECT_DELAY),
            error_wait_min: Duration::from_secs(ew_min),
            error_wait_max: Duration::from_secs(ew_max),
        },
        families: vec![fam],
        graceful_restart: GracefulRestart {
            enabled: o.graceful_restart.as_ref().is_some_and(|g| g.v),
            restart_time: secs(o.gr_time.as_ref().map(|g| g.v), RESTART_TIME),
            long_lived_stale_time: Duration::ZERO,
            // BIRD 1.6: `long lived graceful restart` defaults to `aware` with GR on.
            long_lived_aware: o.graceful_restart.as_ref().is_some_and(|g| g.v),
        },
        extended_messages: false,
        extended_next_hop: o.extended_next_hop.unwrap_or(false),
        add_path,
        route_reflector_client: rr,
        next_hop: o.next_hop.unwrap_or(NextHopMode::Auto),
        allow_own_as: o.allow_local_as.unwrap_or(0),
        filters: Vec::new(),
        bird_filters: Some(BirdFilters {
            // BIRD: a protocol without `import` imports all, without `export` exports none.
            import: cx.program(import, true),
            export: cx.program(export, false),
        }),
        bfd: lower_bfd(cx, o, ttl, path),
        route_limits,
    })
}

/// BIRD's BFD defaults (`proto/bfd/bfd.h`).
const BFD_MIN_RX: Duration = Duration::from_millis(10);
const BFD_MIN_TX: Duration = Duration::from_millis(100);
const BFD_MULTIPLIER: u8 = 5;

/// A bgp protocol's `bfd …` with the `protocol bfd` settings under it (BIRD's
/// `bfd_merge_options`): the protocol's multihop block for a multihop session (BIRD runs
/// BFD multihop whenever the BGP session is: iBGP by default), else its first `interface`
/// block with a positive pattern (BIRD picks the block by the interface at run time; Calico-
/// style files have one `interface "*"`). Without a `protocol bfd`, BIRD keeps the request
/// waiting and runs no session; so does bgpd (with a note).
fn lower_bfd(cx: &mut Cx<'_>, o: &Opts, ttl: TtlMode, path: &str) -> Option<Bfd> {
    let b = o.bfd.as_ref()?;
    let asked = b.v?;
    let Some((ifaces, multihop_opts)) = &cx.bfd_proto else {
        cx.notes.push(
            Diag::at(
                b.pos,
                ErrorKind::Note,
                "`bfd` without a `protocol bfd`: as in BIRD, no BFD session runs until one is configured",
            )
            .in_construct(path),
        );
        return None;
    };
    let multihop = match ttl {
        TtlMode::Multihop(_) => true,
        TtlMode::Gtsm { max_hops } => max_hops.is_some_and(|n| n > 1),
        TtlMode::Direct => false,
    };
    let base = if multihop {
        multihop_opts.unwrap_or_default()
    } else {
        ifaces
            .iter()
            .find(|i| i.patterns.iter().any(|p| !p.negated))
            .map(|i| i.opts)
            .unwrap_or_default()
    };
    let m = asked.over(&base);
    Some(Bfd {
        min_tx: m.min_tx.unwrap_or(BFD_MIN_TX),
        min_rx: m.min_rx.unwrap_or(BFD_MIN_RX),
        multiplier: m.multiplier.unwrap_or(BFD_MULTIPLIER),
        passive: m.passive.unwrap_or(false),
        graceful: m.graceful,
        multihop,
    })
}

#[cfg(test)]
#[path = "link_local_tests.rs"]
mod link_local_tests;
#[cfg(test)]
#[path = "lower_tests.rs"]
mod tests;
