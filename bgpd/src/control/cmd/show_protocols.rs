//! `show protocols [all] [NAME | "PATTERN"]` (BIRD 1.6 `proto_cmd_show`, `bgp_get_status`,
//! `bgp_show_proto_info`): the heading, one row per protocol, and with `all` the detail lines.
//!
//! Besides the BGP peers, the rows of the protocols that really exist here ([`Builtin`]):
//! `kernel1` and `device1` (the FIB task, with kernel writes on) and `static1` (our own
//! blocks), before the BGP rows as in Calico's BIRD configuration.

use std::time::{Instant, SystemTime};

use bgp_proto::Notification;
use conf::TtlMode;

use crate::control::cmd::show_interfaces;
use crate::control::direct;
use crate::control::parse::{pattern_match, Target};
use crate::control::reply::{code, Framer};
use crate::control::route::{RouteFilter, RouteReply};
use crate::control::state::{PeerView, Selection, View};
use crate::control::time;
use crate::fsm::State;
use crate::stats::PeerStats;
use crate::status::{LastError, PeerStatus, ProtoState};

/// The heading literal (`name     proto    table    state  since       info`).
pub const HEADING: &str = "name     proto    table    state  since       info";

/// One row: `%-8s %-8s %-8s %-5s  %-10s  %s`.
pub fn row(name: &str, proto: &str, table: &str, state: &str, since: &str, info: &str) -> String {
    format!("{name:<8} {proto:<8} {table:<8} {state:<5}  {since:<10}  {info}")
}

/// BIRD's `bgp_state_dsc`: the BGP state word, `Down` when disabled, `Passive` for a passive
/// session waiting for the peer.
pub fn state_word(s: &PeerStatus, passive: bool) -> &'static str {
    if s.proto_state() == ProtoState::Down {
        return "Down";
    }
    match s.state {
        State::Idle => "Idle",
        State::Connect => "Connect",
        State::Active if passive => "Passive",
        State::Active => "Active",
        State::OpenSent => "OpenSent",
        State::OpenConfirm => "OpenConfirm",
        State::Established => "Established",
    }
}

fn notification_text(n: &Notification) -> String {
    n.subcode_name()
        .or_else(|| n.code_name())
        .map(str::to_owned)
        .unwrap_or_else(|| format!("code {}/{}", n.code, n.subcode))
}

/// BIRD's error class prefix and message (`bgp_err_classes`, `bgp_last_errmsg`).
pub fn error_text(e: &LastError) -> String {
    match e {
        LastError::Socket(s) => format!("Socket: {s}"),
        LastError::Received(n) => format!("Received: {}", notification_text(n)),
        LastError::Sent(n) => format!("BGP Error: {}", notification_text(n)),
        LastError::HoldTimerExpired => "BGP Error: Hold timer expired".into(),
    }
}

/// The info column (`bgp_get_status`): `%-14s` state then the last error; only the error when
/// the protocol is down.
pub fn info(s: &PeerStatus, passive: bool) -> String {
    let err = s.last_error.as_ref().map(error_text).unwrap_or_default();
    if s.proto_state() == ProtoState::Down {
        err
    } else {
        format!("{:<14}{err}", state_word(s, passive))
    }
}

/// BIRD's `GR recovery:` detail line (`proto_show_basic_info`), shown for every protocol
/// while the recovery lasts: ` pending` when the recovery waits for it, ` waiting` when its
/// export waits for the recovery.
pub fn gr_recovery_line(pending: bool, waiting: bool) -> String {
    format!(
        "  GR recovery:   {}{}",
        if pending { " pending" } else { "" },
        if waiting { " waiting" } else { "" }
    )
}

/// The state column: `proto_state_name`, with `wait` for a session whose export waits for the
/// end of our graceful-restart recovery.
fn peer_state(view: &View, p: &PeerView, s: &PeerStatus) -> &'static str {
    let up = s.proto_state();
    let waiting = view
        .state
        .recovering()
        .is_some_and(|r| r.peer(p.neighbor.name.as_str()).waiting);
    if up == ProtoState::Up && waiting {
        "wait"
    } else {
        up.name()
    }
}

fn peer_row(view: &View, p: &PeerView, s: &PeerStatus, now: SystemTime) -> String {
    row(
        p.neighbor.name.as_str(),
        "BGP",
        "master",
        peer_state(view, p, s),
        &time::short(s.since, now),
        &info(s, p.neighbor.passive),
    )
}

fn secs_since(t: Option<Instant>, now: Instant) -> u64 {
    t.map_or(0, |t| now.saturating_duration_since(t).as_secs())
}

/// Whole seconds until `t`, rounded up (BIRD's timers count in seconds).
fn secs_until(t: Instant, now: Instant) -> u64 {
    let left = t.saturating_duration_since(now);
    left.as_secs() + u64::from(left.subsec_nanos() > 0)
}

/// The detail lines of `show protocols all` for one BGP peer, each without its code.
pub fn details(view: &View, p: &PeerView, s: &PeerStatus) -> Vec<String> {
    let n = &p.neighbor;
    let mut d = Vec::new();
    if let Some(desc) = &n.description {
        d.push(format!("  Description:    {desc}"));
    }
    d.push("  Preference:     100".into());
    // BIRD names a filter by its name, `all`/`none` as ACCEPT/REJECT and an inline one
    // `(unnamed)`; with the TOML configuration Calico's export rules are an inline filter.
    let (input, output) = match &n.bird_filters {
        Some(f) => (filter_name(&f.import), filter_name(&f.export)),
        None => ("ACCEPT", "(unnamed)"),
    };
    d.push(format!("  Input filter:   {input}"));
    d.push(format!("  Output filter:  {output}"));
    if let Some(r) = view.state.recovering() {
        let part = r.peer(n.name.as_str());
        d.push(gr_recovery_line(part.pending, part.waiting));
    }
    let up = s.proto_state();
    if up != ProtoState::Down {
        // Counted by the RIB actor (no routes built); none when it cannot answer.
        let count = view.routes(RouteFilter {
            protocol: Some(n.name.to_string()),
            count: true,
            ..Default::default()
        });
        let (imported, preferred) = match count {
            Ok(RouteReply::Count {
                routes, primary, ..
            }) => (routes, primary),
            _ => (0, 0),
        };
        // What the RIB actor sends the peer now (its update group's Adj-RIB-Out); nothing yet
        // while our graceful-restart recovery holds the export back.
        let held = view
            .state
            .recovering()
            .is_some_and(|r| r.peer(n.name.as_str()).waiting);
        let exported = if held {
            0
        } else {
            PeerStats::get(&p.stats.prefixes_advertised)
        };
        d.push(format!(
            "  Routes:         {imported} imported, {exported} exported, {preferred} preferred"
        ));
        // Received prefixes: the import policy accepted or filtered each announcement (the
        // rest, e.g. malformed ones treated as withdraws, is ignored); withdraws are applied.
        let rx = PeerStats::get(&p.stats.prefixes_received);
        let wd = PeerStats::get(&p.stats.prefixes_withdrawn);
        let accepted = PeerStats::get(&p.stats.prefixes_accepted);
        let filtered = PeerStats::get(&p.stats.prefixes_rejected);
        let ignored = rx.saturating_sub(accepted.saturating_add(filtered));
        d.push(
            "  Route change stats:     received   rejected   filtered    ignored   accepted".into(),
        );
        d.push(format!(
            "    Import updates:     {rx:>10} {:>10} {filtered:>10} {ignored:>10} {accepted:>10}",
            0
        ));
        d.push(format!(
            "    Import withdraws:   {wd:>10} {:>10}        --- {:>10} {wd:>10}",
            0, 0
        ));
        // Exports are counted as what the peer's Adj-RIB-Out holds (sent, none filtered).
        d.push(format!(
            "    Export updates:     {exported:>10} {:>10} {:>10}        --- {exported:>10}",
            0, 0
        ));
        d.push(format!(
            "    Export withdraws:   {:>10}        ---        ---        --- {:>10}",
            0, 0
        ));
    }
    d.push(format!(
        "  BGP state:          {}",
        state_word(s, n.passive)
    ));
    d.push(format!("    Neighbor address: {}", n.address));
    d.push(format!("    Neighbor AS:      {}", n.remote_as));
    if up == ProtoState::Start {
        // BIRD: seconds left / the interval, while the protocol is starting.
        let now = Instant::now();
        for (label, wait) in [
            ("Error wait:   ", s.waits.error),
            ("Connect delay:", s.waits.connect),
        ] {
            if let Some((t, every)) = wait {
                let left = secs_until(t, now);
                d.push(format!("    {label}    {left}/{}", every.as_secs()));
            }
        }
    }
    if let (ProtoState::Up, Some(e)) = (up, &s.established) {
        let neg = &e.negotiated;
        let ctx = &neg.context;
        let caps = match &e.peer_open {
            Some(open) => peer_caps(open, n.address.is_ipv4()),
            None => {
                // Without the peer's OPEN: what was negotiated.
                let mut caps = String::new();
                if neg.route_refresh {
                    caps += " refresh";
                }
                if neg.enhanced_route_refresh {
                    caps += " enhanced-refresh";
                }
                if ctx.four_octet_as {
                    caps += " AS4";
                }
                // The peer receives what we send, and sends what we receive (RFC 7911 §4).
                if ctx.add_path_tx_v4 || ctx.add_path_tx_v6 {
                    caps += " add-path-rx";
                }
                if ctx.add_path_rx_v4 || ctx.add_path_rx_v6 {
                    caps += " add-path-tx";
                }
                caps
            }
        };
        let mut session = String::from(if n.is_internal(view.state.local_as) {
            "internal"
        } else {
            "external"
        });
        // BIRD shows `multihop` for any `multihop` setting, also under `ttl security on`.
        if matches!(
            n.ttl,
            TtlMode::Multihop(_) | TtlMode::Gtsm { max_hops: Some(_) }
        ) {
            session += " multihop";
        }
        if n.route_reflector_client {
            session += " route-reflector";
        }
        if ctx.four_octet_as {
            session += " AS4";
        }
        if ctx.add_path_rx_v4 || ctx.add_path_rx_v6 {
            session += " add-path-rx";
        }
        if ctx.add_path_tx_v4 || ctx.add_path_tx_v6 {
            session += " add-path-tx";
        }
        if ctx.extended_message {
            session += " ext-messages";
        }
        d.push(format!("    Neighbor ID:      {}", e.peer_router_id));
        d.push(format!("    Neighbor caps:   {caps}"));
        d.push(format!("    Session:          {session}"));
        let source = e.local.map(|a| a.ip().to_canonical()).or(n.source_address);
        if let Some(src) = source {
            d.push(format!("    Source address:   {src}"));
        }
        let now = Instant::now();
        let hold = u64::from(neg.hold_time);
        // RFC 4271 §10: keepalive at most a third of the hold time (as the FSM does).
        let keepalive = if hold == 0 {
            0
        } else {
            n.timers.keepalive.as_secs().min(hold / 3)
        };
        let hold_left = hold.saturating_sub(secs_since(s.last_rx, now));
        let ka_left = keepalive.saturating_sub(secs_since(s.last_tx, now));
        d.push(format!("    Hold timer:       {hold_left}/{hold}"));
        d.push(format!("    Keepalive timer:  {ka_left}/{keepalive}"));
    }
    if let Some(e) = &s.last_error {
        d.push(format!("    Last error:       {}", error_text(e)));
    }
    d
}

/// The protocols other than BGP that exist in this daemon, in BIRD's order (Calico's
/// `bird.cfg`: kernel, device, direct, static). `kernel1` and `device1` are the FIB task (routes
/// to the kernel; fib-sync tracks links and addresses), present only when kernel writes are
/// on; `direct1` shows the device routes of the node's addresses ([`crate::control::direct`]);
/// `static1` originates our own blocks (the RIB actor, always there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    Kernel,
    Device,
    Direct,
    Static,
}

impl Builtin {
    pub fn name(self) -> &'static str {
        match self {
            Builtin::Kernel => "kernel1",
            Builtin::Device => "device1",
            Builtin::Direct => direct::NAME,
            Builtin::Static => "static1",
        }
    }

    fn proto(self) -> &'static str {
        match self {
            Builtin::Kernel => "Kernel",
            Builtin::Device => "Device",
            Builtin::Direct => "Direct",
            Builtin::Static => "Static",
        }
    }

    /// The ones this view has.
    pub fn present(view: &View) -> Vec<Builtin> {
        let mut v = Vec::new();
        if view.state.kernel.is_some() {
            v.push(Builtin::Kernel);
            v.push(Builtin::Device);
        }
        v.push(Builtin::Direct);
        v.push(Builtin::Static);
        v
    }

    /// `proto_state_name`: `wait` for the kernel protocol while graceful-restart recovery
    /// defers the kernel reconciliation, else `up`.
    fn state(self, view: &View) -> &'static str {
        match (self, &view.state.kernel) {
            (Builtin::Kernel, Some(k)) if k.recovering() || view.state.recovering().is_some() => {
                "wait"
            }
            _ => "up",
        }
    }

    fn since(self, view: &View) -> SystemTime {
        match (self, &view.state.kernel) {
            (Builtin::Kernel | Builtin::Device, Some(k)) => k.since,
            _ => view.state.boot,
        }
    }

    fn row(self, view: &View, now: SystemTime) -> String {
        row(
            self.name(),
            self.proto(),
            "master",
            self.state(view),
            &time::short(self.since(view), now),
            "",
        )
    }

    /// `proto_show_basic_info`: preference (BIRD's defaults: kernel 10, device 240, static
    /// 200), the filters, and the route counts where we keep them per family.
    fn details(self, view: &View) -> Vec<String> {
        let mut d = Vec::new();
        let (pref, output) = match self {
            Builtin::Kernel => (10, "(unnamed)"),
            Builtin::Device => (240, "REJECT"),
            Builtin::Direct => (direct::PREFERENCE, "REJECT"),
            Builtin::Static => (200, "REJECT"),
        };
        d.push(format!("  Preference:     {pref}"));
        d.push("  Input filter:   ACCEPT".into());
        d.push(format!("  Output filter:  {output}"));
        if view.state.recovering().is_some() {
            // Only the kernel protocol waits for the end of the recovery (BIRD: `kernel` with
            // `graceful restart`, as Calico configures it).
            d.push(gr_recovery_line(false, self == Builtin::Kernel));
        }
        match self {
            // The FIB task counts kernel routes for both families together: no per-family
            // line rather than a wrong one.
            Builtin::Kernel => {}
            Builtin::Device => {
                d.push("  Routes:         0 imported, 0 exported, 0 preferred".into());
            }
            Builtin::Direct => {
                let n = direct::routes(
                    &show_interfaces::read().unwrap_or_default(),
                    view.family,
                    view.state.boot,
                    view.state.direct_interfaces.as_deref(),
                )
                .len();
                d.push(format!(
                    "  Routes:         {n} imported, 0 exported, {n} preferred"
                ));
            }
            Builtin::Static => {
                let count = view.routes(RouteFilter {
                    protocol: Some(self.name().to_string()),
                    count: true,
                    ..Default::default()
                });
                if let Ok(RouteReply::Count {
                    routes, primary, ..
                }) = count
                {
                    d.push(format!(
                        "  Routes:         {routes} imported, 0 exported, {primary} preferred"
                    ));
                }
            }
        }
        d
    }
}

/// The non-BGP protocols a target selects.
fn select_builtins(view: &View, target: Option<&Target>) -> Vec<Builtin> {
    Builtin::present(view)
        .into_iter()
        .filter(|b| match target {
            None | Some(Target::All) => true,
            Some(Target::Name(n)) => n == b.name(),
            Some(Target::Pattern(pat)) => pattern_match(pat, b.name()),
        })
        .collect()
}

pub fn run(view: &View, all: bool, target: Option<&Target>, now: SystemTime, f: &mut Framer) {
    let builtins = select_builtins(view, target);
    let peers = match view.select(target) {
        Selection::Peers(p) => p,
        _ if !builtins.is_empty() => Vec::new(),
        Selection::NotAProtocol(name) => {
            return f.end(code::INVALID_SYMBOL, &format!("{name} is not a protocol"));
        }
        Selection::NoMatch if target.is_none() => Vec::new(),
        Selection::NoMatch => return f.end(code::NO_PROTOCOLS_MATCH, "No protocols match"),
    };
    f.line(code::PROTOCOL_HEADING, HEADING);
    for b in builtins {
        f.line(code::PROTOCOL_LIST, &b.row(view, now));
        if all {
            for line in b.details(view) {
                f.line(code::PROTOCOL_DETAILS, &line);
            }
            f.line(code::PROTOCOL_DETAILS, "");
        }
    }
    for p in peers {
        let s = p.status.borrow().clone();
        f.line(code::PROTOCOL_LIST, &peer_row(view, p, &s, now));
        if all {
            for line in details(view, p, &s) {
                f.line(code::PROTOCOL_DETAILS, &line);
            }
            f.line(code::PROTOCOL_DETAILS, "");
        }
    }
    f.ok();
}

/// BIRD 1.6's `Neighbor caps`: what the peer's OPEN offers for this protocol's family (IPv4
/// or IPv6 unicast), in BIRD's order. Graceful restart (RFC 4724) and LLGR: `-able` when the
/// family is listed, `-aware` when the capability is there without it; ADD-PATH (RFC 7911):
/// the peer's mode for the family. Extended messages are not on this line in BIRD 1.6.8.
fn peer_caps(open: &bgp_proto::Open, v4: bool) -> String {
    use bgp_proto::capability::{AddPathMode, Capability};
    use bgp_proto::types::{Afi, Safi};
    let afi = if v4 { Afi::Ipv4 } else { Afi::Ipv6 };
    let ours = |a: Afi, s: Safi| a == afi && s == Safi::Unicast;
    let mut caps = String::new();
    if open.supports_route_refresh() {
        caps += " refresh";
    }
    if open.supports_enhanced_route_refresh() {
        caps += " enhanced-refresh";
    }
    if let Some(gr) = open.graceful_restart() {
        if gr.families.iter().any(|f| ours(f.afi, f.safi)) {
            caps += " restart-able";
        } else {
            caps += " restart-aware";
        }
    }
    let llgr = open.capabilities.iter().find_map(|c| match c {
        Capability::LongLivedGracefulRestart(f) => Some(f),
        _ => None,
    });
    if let Some(f) = llgr {
        if f.iter().any(|f| ours(f.afi, f.safi)) {
            caps += " llgr-able";
        } else {
            caps += " llgr-aware";
        }
    }
    if open.supports_four_octet_as() {
        caps += " AS4";
    }
    let mode = open
        .add_path()
        .find(|a| ours(a.afi, a.safi))
        .map(|a| a.mode);
    if matches!(mode, Some(AddPathMode::Receive | AddPathMode::Both)) {
        caps += " add-path-rx";
    }
    if matches!(mode, Some(AddPathMode::Send | AddPathMode::Both)) {
        caps += " add-path-tx";
    }
    // BIRD 1.6.8's format has seven fields here (`Neighbor caps:   %s%s%s%s%s%s%s` in the
    // binary): extended messages show on the `Session:` line only.
    caps
}

/// A filter as BIRD's `show protocols all` names it.
fn filter_name(p: &policy::bird::Program) -> &str {
    if p.is_accept_all() {
        "ACCEPT"
    } else if p.is_reject_all() {
        "REJECT"
    } else {
        p.name.as_deref().unwrap_or("(unnamed)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::testing::{established, view_with};

    #[test]
    fn rows_have_birds_column_widths() {
        assert_eq!(
            row("kernel1", "Kernel", "master", "wait", "05:29:13", ""),
            "kernel1  Kernel   master   wait   05:29:13    "
        );
        assert_eq!(
            row(
                "Mesh_10_99_0_2",
                "BGP",
                "master",
                "wait",
                "05:29:15",
                "Established   "
            ),
            "Mesh_10_99_0_2 BGP      master   wait   05:29:15    Established   "
        );
        assert_eq!(
            row("Global_10_99_0_3", "BGP", "master", "start", "05:29:13", "Active        Socket: No route to host"),
            "Global_10_99_0_3 BGP      master   start  05:29:13    Active        Socket: No route to host"
        );
    }

    #[test]
    fn info_column_pads_state_to_14_and_appends_the_error() {
        let (tx, rx) = crate::status::channel();
        tx.state(State::Active);
        tx.socket_error(&crate::Error::Io(std::io::Error::from_raw_os_error(
            libc::EHOSTUNREACH,
        )));
        assert_eq!(
            info(&rx.borrow(), false),
            "Active        Socket: No route to host"
        );
        assert_eq!(
            info(&rx.borrow(), true),
            "Passive       Socket: No route to host"
        );
        tx.enabled(false);
        assert_eq!(info(&rx.borrow(), false), "");
        tx.enabled(true);
        tx.state(State::Established);
        assert_eq!(info(&rx.borrow(), false), "Established   ");
    }

    #[test]
    fn show_protocols_reply_bytes() {
        let (view, keep) =
            view_with(&[("Mesh_10_99_0_2", "10.99.0.2"), ("Node_fd99__2", "fd99::2")]);
        established(&keep[0]);
        let mut f = Framer::new();
        let now = SystemTime::now();
        run(&view, false, None, now, &mut f);
        let since = time::short(keep[0].1.borrow().since, now);
        assert_eq!(
            f.take(),
            format!(
                "2002-name     proto    table    state  since       info\n\
                 1002-direct1  Direct   master   up     {since}    \n\
                 \x20static1  Static   master   up     {since}    \n\
                 \x20Mesh_10_99_0_2 BGP      master   up     {since}    Established   \n\
                 0000 \n"
            ),
            "the IPv6 peer is not shown on the IPv4 socket"
        );
    }

    #[test]
    fn unknown_name_and_unmatched_pattern_are_birds_errors() {
        let (view, _keep) = view_with(&[("Mesh_10_99_0_2", "10.99.0.2")]);
        let mut f = Framer::new();
        run(
            &view,
            true,
            Some(&Target::Name("nosuch".into())),
            SystemTime::now(),
            &mut f,
        );
        assert_eq!(f.take(), "9002 nosuch is not a protocol\n");
        run(
            &view,
            false,
            Some(&Target::Pattern("Node*".into())),
            SystemTime::now(),
            &mut f,
        );
        assert_eq!(f.take(), "8003 No protocols match\n");
    }

    #[test]
    fn no_peers_gives_heading_static_and_ok() {
        let (view, _keep) = view_with(&[]);
        let mut f = Framer::new();
        let now = SystemTime::now();
        run(&view, false, None, now, &mut f);
        let t = time::short(view.state.boot, now);
        assert_eq!(
            f.take(),
            format!(
                "2002-{HEADING}\n1002-direct1  Direct   master   up     {t}    \n\
                 \x20static1  Static   master   up     {t}    \n0000 \n"
            )
        );
    }

    #[test]
    fn kernel_and_device_rows_with_the_fib_task_kernel_waits_during_recovery() {
        use crate::control::testing::with_kernel;
        use std::sync::atomic::Ordering;
        let (mut view, keep) = view_with(&[("Mesh_10_99_0_2", "10.99.0.2")]);
        let counters = with_kernel(&mut view);
        established(&keep[0]);
        let now = SystemTime::now();
        let t = time::short(view.state.boot, now);
        let mut f = Framer::new();
        run(&view, false, None, now, &mut f);
        assert_eq!(
            f.take(),
            format!(
                "2002-{HEADING}\n\
                 1002-kernel1  Kernel   master   wait   {t}    \n\
                 \x20device1  Device   master   up     {t}    \n\
                 \x20direct1  Direct   master   up     {t}    \n\
                 \x20static1  Static   master   up     {t}    \n\
                 \x20Mesh_10_99_0_2 BGP      master   up     {t}    Established   \n\
                 0000 \n"
            )
        );
        counters.converged.store(true, Ordering::Relaxed);
        let mut f = Framer::new();
        run(&view, false, None, now, &mut f);
        assert!(f
            .take()
            .contains(&format!("1002-kernel1  Kernel   master   up     {t}    \n")));
        // `all` with a name: BIRD 1.6's basic block (kernel routes are not counted per family).
        let mut f = Framer::new();
        let target = Target::Name("kernel1".into());
        run(&view, true, Some(&target), now, &mut f);
        assert_eq!(
            f.take(),
            format!(
                "2002-{HEADING}\n\
                 1002-kernel1  Kernel   master   up     {t}    \n\
                 1006-  Preference:     10\n\
                 \x20  Input filter:   ACCEPT\n\
                 \x20  Output filter:  (unnamed)\n\
                 \x20\n\
                 0000 \n"
            )
        );
        // A pattern selects builtins and peers alike.
        let mut f = Framer::new();
        let target = Target::Pattern("*1".into());
        run(&view, false, Some(&target), now, &mut f);
        let text = f.take();
        assert_eq!(text.lines().count(), 6, "{text}");
    }

    #[test]
    fn bgp_rows_wait_and_details_say_why_during_our_recovery() {
        use crate::control::testing::{with_kernel, with_recovery};
        use std::time::Duration;
        let (mut view, keep) = view_with(&[
            ("Mesh_10_99_0_2", "10.99.0.2"),
            ("Mesh_10_99_0_3", "10.99.0.3"),
        ]);
        let counters = with_kernel(&mut view);
        // The FIB task is done; the recovery alone keeps kernel1 waiting.
        counters
            .converged
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let mut t = with_recovery(&mut view, Duration::from_secs(240));
        established(&keep[0]);
        established(&keep[1]);
        let v4 = [bgp_proto::Family::Ipv4Unicast];
        assert!(t.session_up(rib::PeerId(1), true, false, &v4));
        // The second peer restarts too: exported at once, no longer holding the recovery.
        assert!(!t.session_up(rib::PeerId(2), true, true, &v4));
        let now = SystemTime::now();
        let since = time::short(keep[0].1.borrow().since, now);
        let b = time::short(view.state.boot, now);
        let mut f = Framer::new();
        run(&view, false, None, now, &mut f);
        assert_eq!(
            f.take(),
            format!(
                "2002-{HEADING}\n\
                 1002-kernel1  Kernel   master   wait   {b}    \n\
                 \x20device1  Device   master   up     {b}    \n\
                 \x20direct1  Direct   master   up     {b}    \n\
                 \x20static1  Static   master   up     {b}    \n\
                 \x20Mesh_10_99_0_2 BGP      master   wait   {since}    Established   \n\
                 \x20Mesh_10_99_0_3 BGP      master   up     {since}    Established   \n\
                 0000 \n"
            )
        );
        let detail = |name: &str| {
            let mut f = Framer::new();
            run(&view, true, Some(&Target::Name(name.into())), now, &mut f);
            f.take()
        };
        let d = detail("Mesh_10_99_0_2");
        let lines: Vec<&str> = d.lines().collect();
        assert_eq!(lines[4], "   Output filter:  (unnamed)");
        assert_eq!(lines[5], "   GR recovery:    pending waiting", "{d}");
        t.end_of_rib(rib::PeerId(1));
        let d = detail("Mesh_10_99_0_2");
        assert!(d.contains("\n   GR recovery:    waiting\n"), "{d}");
        let d = detail("Mesh_10_99_0_3");
        // BIRD prints the line for every protocol while the recovery lasts (trailing spaces).
        assert!(d.contains("\n   GR recovery:   \n"), "{d}");
        assert!(detail("kernel1").contains("\n   GR recovery:    waiting\n"));
        assert!(detail("static1").contains("\n   GR recovery:   \n"));
        // Over: rows up, no GR line.
        assert!(t.poll(std::time::Instant::now()).is_some());
        let mut f = Framer::new();
        run(&view, false, None, now, &mut f);
        let text = f.take();
        assert!(!text.contains("wait"), "{text}");
        assert!(!detail("Mesh_10_99_0_2").contains("GR recovery"));
    }

    #[test]
    fn static1_details_count_our_blocks_in_the_rib() {
        // The test RIB does not answer: no Routes line rather than a made-up one.
        let (view, _keep) = view_with(&[]);
        let mut f = Framer::new();
        let target = Target::Name("static1".into());
        run(&view, true, Some(&target), SystemTime::now(), &mut f);
        let text = f.take();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[2], "1006-  Preference:     200");
        assert_eq!(lines[3], "   Input filter:   ACCEPT");
        assert_eq!(lines[4], "   Output filter:  REJECT");
        assert_eq!(lines[5], " ");
        assert_eq!(lines[6], "0000 ");
    }

    #[test]
    fn details_of_a_starting_peer_show_connect_delay_and_error_wait_as_bird() {
        use crate::fsm::Waits;
        use std::time::Duration;
        let (view, keep) = view_with(&[("Mesh_10_99_0_2", "10.99.0.2")]);
        let (tx, _) = &keep[0];
        tx.state(State::Active);
        tx.socket_error(&crate::Error::Io(std::io::Error::from_raw_os_error(
            libc::ECONNREFUSED,
        )));
        let now = Instant::now();
        tx.waits(Waits {
            error: None,
            connect: Some((now + Duration::from_millis(1500), Duration::from_secs(2))),
        });
        let tail = |view: &View| {
            let mut f = Framer::new();
            run(
                view,
                true,
                Some(&Target::Name("Mesh_10_99_0_2".into())),
                SystemTime::now(),
                &mut f,
            );
            let text = f.take();
            let lines: Vec<String> = text.lines().map(str::to_owned).collect();
            let at = lines
                .iter()
                .position(|l| l.starts_with("   BGP state:"))
                .unwrap_or_else(|| panic!("{text}"));
            lines[at + 1..].to_vec()
        };
        assert_eq!(
            tail(&view),
            [
                "     Neighbor address: 10.99.0.2",
                "     Neighbor AS:      64512",
                "     Connect delay:    2/2",
                "     Last error:       Socket: Connection refused",
                " ",
                "0000 ",
            ]
        );
        tx.state(State::Idle);
        tx.waits(Waits {
            error: Some((now + Duration::from_secs(7), Duration::from_secs(8))),
            connect: None,
        });
        let t = tail(&view);
        assert_eq!(t[2], "     Error wait:       7/8", "{t:?}");
    }

    #[test]
    fn details_of_an_established_peer() {
        let (view, keep) = view_with(&[("Mesh_10_99_0_2", "10.99.0.2")]);
        established(&keep[0]);
        let mut f = Framer::new();
        run(
            &view,
            true,
            Some(&Target::Name("Mesh_10_99_0_2".into())),
            SystemTime::now(),
            &mut f,
        );
        let text = f.take();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], format!("2002-{HEADING}"));
        assert!(lines[1].starts_with("1002-Mesh_10_99_0_2 BGP      master   up     "));
        assert_eq!(lines[2], "1006-  Preference:     100");
        assert_eq!(lines[3], "   Input filter:   ACCEPT");
        assert_eq!(
            lines[5],
            "   Routes:         0 imported, 0 exported, 0 preferred"
        );
        assert_eq!(
            lines[6],
            "   Route change stats:     received   rejected   filtered    ignored   accepted"
        );
        assert_eq!(
            lines[7],
            "     Import updates:              0          0          0          0          0"
        );
        assert_eq!(
            lines[8],
            "     Import withdraws:            0          0        ---          0          0"
        );
        assert_eq!(
            lines[9],
            "     Export updates:              0          0          0        ---          0"
        );
        assert_eq!(
            lines[10],
            "     Export withdraws:            0        ---        ---        ---          0"
        );
        assert_eq!(lines[11], "   BGP state:          Established");
        assert_eq!(lines[12], "     Neighbor address: 10.99.0.2");
        assert_eq!(lines[13], "     Neighbor AS:      64512");
        assert_eq!(lines[14], "     Neighbor ID:      10.99.0.2");
        assert_eq!(
            lines[15],
            "     Neighbor caps:    refresh enhanced-refresh AS4"
        );
        assert_eq!(lines[16], "     Session:          internal multihop AS4");
        assert_eq!(lines[17], "     Source address:   10.99.0.1");
        assert_eq!(lines[18], "     Hold timer:       240/240");
        assert_eq!(lines[19], "     Keepalive timer:  80/80");
        assert_eq!(lines[20], " ");
        assert_eq!(lines[21], "0000 ");
        assert_eq!(lines.len(), 22);
    }
}

#[cfg(test)]
mod peer_caps_tests {
    use super::peer_caps;
    use bgp_proto::capability::{
        AddPath, AddPathMode, Capability, GrFamily, GracefulRestart, LlgrFamily,
    };
    use bgp_proto::types::{Afi, Safi};

    fn open(caps: Vec<Capability>) -> bgp_proto::Open {
        bgp_proto::Open::new(
            bgp_proto::Asn(64512),
            9,
            bgp_proto::RouterId("10.99.0.2".parse().expect("id")),
            caps,
        )
    }

    #[test]
    fn frr_default_open_reads_as_bird_16_shows_it() {
        // FRR 8.4's OPEN: GR helper (no families), LLGR for IPv4, ADD-PATH receive.
        let o = open(vec![
            Capability::RouteRefresh,
            Capability::EnhancedRouteRefresh,
            Capability::GracefulRestart(GracefulRestart {
                restart_state: false,
                notification: false,
                restart_time: 120,
                families: Vec::new(),
            }),
            Capability::LongLivedGracefulRestart(vec![LlgrFamily {
                afi: Afi::Ipv4,
                safi: Safi::Unicast,
                forwarding_preserved: false,
                stale_time: 0,
            }]),
            Capability::AddPath(vec![AddPath {
                afi: Afi::Ipv4,
                safi: Safi::Unicast,
                mode: AddPathMode::Receive,
            }]),
        ]);
        // As captured from BIRD 1.6.8 with FRR 8.4 (interop-tests/compat/bird16-vs-bgpd.md).
        assert_eq!(
            peer_caps(&o, true),
            " refresh enhanced-refresh restart-aware llgr-able AS4 add-path-rx"
        );
        // The IPv6 protocol: the IPv4-only entries do not count.
        assert_eq!(
            peer_caps(&o, false),
            " refresh enhanced-refresh restart-aware llgr-aware AS4"
        );
        let gr = open(vec![Capability::GracefulRestart(GracefulRestart {
            restart_state: false,
            notification: false,
            restart_time: 120,
            families: vec![GrFamily {
                afi: Afi::Ipv4,
                safi: Safi::Unicast,
                forwarding_preserved: false,
            }],
        })]);
        assert_eq!(peer_caps(&gr, true), " restart-able AS4");
    }
}
