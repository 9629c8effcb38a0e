//! `show protocols` against BIRD 1.6's text.

use std::time::{Instant, SystemTime};

use super::*;
use crate::control::state::View;
use crate::control::testing::{established, view_with};
use crate::control::time;
use crate::fsm::State;

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
fn an_established_session_shows_no_error_from_before_it_came_up() {
    // As BIRD 1.6 (`bgp_conn_enter_established_state` clears `last_error_class`): the error of
    // the attempts before stays until the session is up, then the row says only Established.
    let (view, keep) = view_with(&[("Mesh_10_99_0_2", "10.99.0.2")]);
    let tx = &keep[0].0;
    tx.error(crate::status::LastError::Sent(
        bgp_proto::Notification::new(
            bgp_proto::notification::code::CEASE,
            bgp_proto::notification::cease_subcode::CONNECTION_REJECTED,
            Vec::new(),
        ),
    ));
    assert_eq!(
        info(&keep[0].1.borrow(), false),
        "Idle          BGP Error: Connection Rejected"
    );
    established(&keep[0]);
    let detail = |view: &View| {
        let mut f = Framer::new();
        let target = crate::control::parse::Target::Name("Mesh_10_99_0_2".into());
        run(view, true, Some(&target), SystemTime::now(), &mut f);
        f.take()
    };
    assert_eq!(info(&keep[0].1.borrow(), false), "Established   ");
    assert!(!detail(&view).contains("Last error"), "{}", detail(&view));
    // A second connection refused while Established is not the session's error.
    tx.error(crate::status::LastError::Sent(
        bgp_proto::Notification::new(
            bgp_proto::notification::code::CEASE,
            bgp_proto::notification::cease_subcode::CONNECTION_REJECTED,
            Vec::new(),
        ),
    ));
    assert_eq!(info(&keep[0].1.borrow(), false), "Established   ");
    // The session's own end is.
    tx.state(State::Idle);
    tx.down(&crate::fsm::DownReason::HoldTimerExpired);
    assert_eq!(
        info(&keep[0].1.borrow(), false),
        "Idle          BGP Error: Hold timer expired"
    );
    assert!(detail(&view).contains("    Last error:       BGP Error: Hold timer expired"));
}

#[test]
fn show_protocols_reply_bytes() {
    let (view, keep) = view_with(&[("Mesh_10_99_0_2", "10.99.0.2"), ("Node_fd99__2", "fd99::2")]);
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

#[test]
fn limit_lines_with_hit_and_a_peer_disabled_by_its_limit_read_as_bird_16() {
    use crate::status::LastError;
    use conf::{LimitAction, RouteLimit, RouteLimits};
    use rib::{LimitKind, LimitState};
    let (mut view, keep) = view_with(&[("Global_10_99_0_3", "10.99.0.3")]);
    let v4 = bgp_proto::Family::Ipv4Unicast;
    let state = std::sync::Arc::get_mut(&mut view.state).expect("only owner");
    state.peers[0].neighbor.route_limits.insert(
        v4,
        RouteLimits {
            receive: Some(RouteLimit {
                max: 200,
                action: LimitAction::Block,
            }),
            import: Some(RouteLimit {
                max: 5,
                action: LimitAction::Disable,
            }),
        },
    );
    view.state.peers[0]
        .stats
        .set_limit_state(v4, LimitKind::Import, LimitState::Blocked);
    let (tx, _) = &keep[0];
    // What the peer task does for the disable action.
    tx.state(State::Idle);
    tx.enabled(false);
    tx.error(LastError::RouteLimit);
    let now = SystemTime::now();
    let mut f = Framer::new();
    run(
        &view,
        true,
        Some(&Target::Name("Global_10_99_0_3".into())),
        now,
        &mut f,
    );
    let text = f.take();
    let lines: Vec<&str> = text.lines().collect();
    let since = time::short(keep[0].1.borrow().since, now);
    assert_eq!(
        lines[1],
        format!(
            "1002-Global_10_99_0_3 BGP      master   down   {since}    \
             Automatic shutdown: Route limit exceeded"
        )
    );
    assert_eq!(
        &lines[5..10],
        [
            "   Receive limit:  200",
            "     Action:       block",
            "   Import limit:   5 [HIT]",
            "     Action:       disable",
            "   BGP state:          Down",
        ],
        "{text}"
    );
    assert!(
        text.contains("\n     Last error:       Automatic shutdown: Route limit exceeded\n"),
        "{text}"
    );
}

#[test]
fn after_a_restart_limit_action_the_row_shows_the_error_wait_and_birds_reason() {
    use crate::fsm::Waits;
    use crate::status::LastError;
    use std::time::Duration;
    let (view, keep) = view_with(&[("Global_10_99_0_3", "10.99.0.3")]);
    let (tx, _) = &keep[0];
    // What the peer task does for the restart action: Cease sent, Idle for the error wait.
    established(&keep[0]);
    tx.state(State::Idle);
    tx.error(LastError::RouteLimit);
    tx.waits(Waits {
        error: Some((
            Instant::now() + Duration::from_secs(60),
            Duration::from_secs(60),
        )),
        connect: None,
    });
    let now = SystemTime::now();
    let mut f = Framer::new();
    let target = Target::Name("Global_10_99_0_3".into());
    run(&view, true, Some(&target), now, &mut f);
    let text = f.take();
    let lines: Vec<&str> = text.lines().collect();
    let since = time::short(keep[0].1.borrow().since, now);
    assert_eq!(
        lines[1],
        format!(
            "1002-Global_10_99_0_3 BGP      master   start  {since}    \
             Idle          Automatic shutdown: Route limit exceeded"
        )
    );
    assert!(text.contains("\n     Error wait:       60/60\n"), "{text}");
}

#[test]
fn a_link_local_neighbor_shows_its_interface_as_bird_does() {
    let (mut view, _keep) = view_with(&[("Node_fe80__2", "fe80::2%eth1")]);
    view.family = crate::control::state::Family::V6;
    let mut f = Framer::new();
    run(
        &view,
        true,
        Some(&Target::Name("Node_fe80__2".into())),
        SystemTime::now(),
        &mut f,
    );
    let text = f.take();
    assert!(
        text.lines()
            .any(|l| l == "     Neighbor address: fe80::2%eth1"),
        "{text}"
    );
}
