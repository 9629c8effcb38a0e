//! A BGP session in `show protocols`: the state word, the info column and the detail lines of
//! `all` (BIRD 1.6 `bgp_get_status`, `bgp_show_proto_info`, `proto_show_basic_info`).

use std::time::{Instant, SystemTime};

use bgp_proto::Notification;
use conf::TtlMode;

use super::{gr_recovery_line, row};
use crate::control::state::{PeerView, View};
use crate::control::time;
use crate::fsm::State;
use crate::route_view::{RouteFilter, RouteReply};
use crate::stats::PeerStats;
use crate::status::{LastError, PeerStatus, ProtoState};

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
        LastError::BfdDown => "Error: BFD session down".into(),
        LastError::RouteLimit => "Automatic shutdown: Route limit exceeded".into(),
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

pub(super) fn peer_row(view: &View, p: &PeerView, s: &PeerStatus, now: SystemTime) -> String {
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
    let family = match view.family {
        crate::control::state::Family::V4 => bgp_proto::Family::Ipv4Unicast,
        crate::control::state::Family::V6 => bgp_proto::Family::Ipv6Unicast,
    };
    limit_lines(p, family, &mut d);
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
    d.push(format!("    Neighbor address: {}", n.scoped_address()));
    d.push(format!("    Neighbor AS:      {}", n.remote_as));
    if let Some(b) = &s.bfd {
        d.push(format!(
            "    BFD session:      {} since {}",
            b.state,
            time::short(b.since, SystemTime::now())
        ));
    }
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

/// BIRD's `proto_show_limit` for the view's family: `Receive limit:` then `Import limit:`,
/// each with `[HIT]` once crossed (until the session restarts or the limit is changed), and
/// the action.
fn limit_lines(p: &PeerView, family: bgp_proto::Family, d: &mut Vec<String>) {
    let Some(l) = p.neighbor.route_limits.get(&family) else {
        return;
    };
    for (label, kind, limit) in [
        ("Receive limit:", rib::LimitKind::Receive, l.receive),
        ("Import limit:", rib::LimitKind::Import, l.import),
    ] {
        if let Some(limit) = limit {
            let hit = if p.stats.limit_hit(family, kind) {
                " [HIT]"
            } else {
                ""
            };
            d.push(format!("  {label:<16}{}{hit}", limit.max));
            d.push(format!("    Action:       {}", limit.action.name()));
        }
    }
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
