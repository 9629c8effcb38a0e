//! FSM tests on a fake clock: no sockets, time is a value.

use std::net::Ipv4Addr;

use bgp_proto::capability::Capability;
use bgp_proto::notification::open_subcode;
use bgp_proto::types::{Afi, Family, Safi};
use bytes::{Bytes, BytesMut};

use super::*;

pub(super) fn config(asn: u32, id: [u8; 4], remote_as: u32) -> SessionConfig {
    SessionConfig {
        local_as: Asn(asn),
        router_id: RouterId(Ipv4Addr::from(id)),
        remote_as: Asn(remote_as),
        hold_time: 9,
        keepalive: 3,
        connect_retry: Duration::from_secs(5),
        connect_delay: Duration::from_secs(1),
        error_wait_min: Duration::from_secs(2),
        error_wait_max: Duration::from_secs(8),
        passive: false,
        capabilities: vec![
            Capability::Multiprotocol {
                afi: Afi::Ipv4,
                safi: Safi::Unicast,
            },
            Capability::Multiprotocol {
                afi: Afi::Ipv6,
                safi: Safi::Unicast,
            },
            Capability::RouteRefresh,
        ],
    }
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// Every message in the `Send` outputs for `conn`, decoded with a permissive context.
fn sent(out: &[Output], conn: ConnId) -> Vec<Message> {
    let ctx = SessionContext {
        four_octet_as: true,
        ..SessionContext::default()
    };
    let mut v = Vec::new();
    for o in out {
        if let Output::Send { conn: c, data } = o {
            if *c == conn {
                let mut buf = BytesMut::from(&data[..]);
                while buf.len() >= 19 {
                    let len = usize::from(u16::from_be_bytes([buf[16], buf[17]]));
                    let frame = buf.split_to(len);
                    v.push(Message::decode(&frame, &ctx).expect("we send valid messages"));
                }
            }
        }
    }
    v
}

pub(super) fn notification_sent(out: &[Output], conn: ConnId) -> Option<Notification> {
    sent(out, conn).into_iter().find_map(|m| match m {
        Message::Notification(n) => Some(n),
        _ => None,
    })
}

pub(super) fn closes(out: &[Output], conn: ConnId) -> bool {
    out.iter()
        .any(|o| matches!(o, Output::Close { conn: c } if *c == conn))
}

fn frame(msg: &Message) -> Bytes {
    let ctx = SessionContext {
        four_octet_as: true,
        ..SessionContext::default()
    };
    msg.to_bytes(&ctx).expect("encodes").freeze()
}

fn peer_open(asn: u32, id: [u8; 4], hold: u16) -> Message {
    Message::Open(Open::new(
        Asn(asn),
        hold,
        RouterId(Ipv4Addr::from(id)),
        vec![Capability::Multiprotocol {
            afi: Afi::Ipv4,
            safi: Safi::Unicast,
        }],
    ))
}

pub(super) const C1: ConnId = ConnId(1);
const C2: ConnId = ConnId(2);

/// A started active session whose outgoing connection C1 is up: OpenSent at t0 + 1 s.
fn open_sent(t0: Instant) -> (Session, Instant) {
    let mut s = Session::new(config(65001, [10, 0, 0, 1], 65002), Jitter::none());
    assert!(s.handle(Input::Start, t0).contains(&Output::StateChanged {
        from: State::Idle,
        to: State::Active
    }));
    assert_eq!(s.poll_timeout(), Some(t0 + secs(1)), "connect delay");
    let t = t0 + secs(1);
    let out = s.handle(Input::Timer, t);
    assert!(out.contains(&Output::Connect));
    assert_eq!(s.state(), State::Connect);
    let out = s.handle(
        Input::Connected {
            conn: C1,
            direction: Direction::Outbound,
        },
        t,
    );
    let msgs = sent(&out, C1);
    assert!(matches!(&msgs[..], [Message::Open(o)] if o.hold_time == 9));
    assert_eq!(s.state(), State::OpenSent);
    (s, t)
}

pub(super) fn established(t0: Instant) -> (Session, Instant) {
    let (mut s, t) = open_sent(t0);
    let out = s.handle(
        Input::Received {
            conn: C1,
            frame: frame(&peer_open(65002, [10, 0, 0, 2], 30)),
        },
        t,
    );
    assert_eq!(sent(&out, C1), vec![Message::Keepalive]);
    assert_eq!(s.state(), State::OpenConfirm);
    let out = s.handle(
        Input::Received {
            conn: C1,
            frame: frame(&Message::Keepalive),
        },
        t,
    );
    assert_eq!(s.state(), State::Established);
    assert!(out.iter().any(|o| matches!(o, Output::Established { .. })));
    (s, t)
}

#[test]
fn reaches_established_and_leaves_the_initial_table_to_the_rib() {
    let t0 = Instant::now();
    let (mut s, t) = open_sent(t0);
    s.handle(
        Input::Received {
            conn: C1,
            frame: frame(&peer_open(65002, [10, 0, 0, 2], 30)),
        },
        t,
    );
    let out = s.handle(
        Input::Received {
            conn: C1,
            frame: frame(&Message::Keepalive),
        },
        t,
    );
    let neg = s.negotiated().expect("negotiated");
    // Hold: min(9, 30); the peer only does IPv4.
    assert_eq!(neg.hold_time, 9);
    assert_eq!(neg.families, vec![Family::Ipv4Unicast]);
    // The table and its End-of-RIB (RFC 4724 §2) are the RIB's to send, after `Established`.
    let msgs = sent(&out, C1);
    assert!(
        msgs.is_empty(),
        "nothing but the RIB's UPDATEs follow: {msgs:?}"
    );
    assert!(out.iter().any(|o| matches!(o, Output::Established { .. })));
    assert_eq!(
        s.peer_open().map(|o| o.router_id),
        Some(RouterId(std::net::Ipv4Addr::new(10, 0, 0, 2)))
    );
}

#[test]
fn keepalives_every_third_of_the_negotiated_hold_time() {
    let t0 = Instant::now();
    let (mut s, t) = established(t0);
    // keepalive = min(3, 9 / 3) = 3 s after OpenConfirm.
    assert_eq!(s.poll_timeout(), Some(t + secs(3)));
    let out = s.handle(Input::Timer, t + secs(3));
    assert_eq!(sent(&out, C1), vec![Message::Keepalive]);
}

#[test]
fn hold_timer_expiry_sends_4_0_and_waits_before_reconnecting() {
    let t0 = Instant::now();
    let (mut s, t) = established(t0);
    let mut now;
    // Only keepalives go out; nothing comes in.
    let out = loop {
        let next = s.poll_timeout().expect("timers run");
        now = next;
        let out = s.handle(Input::Timer, now);
        if closes(&out, C1) {
            break out;
        }
        assert!(now < t + secs(10), "hold timer never fired");
    };
    assert_eq!(now, t + secs(9));
    let n = notification_sent(&out, C1).expect("a NOTIFICATION");
    assert_eq!((n.code, n.subcode), (code::HOLD_TIMER_EXPIRED, 0));
    assert!(out.contains(&Output::Down {
        reason: DownReason::HoldTimerExpired
    }));
    assert_eq!(s.state(), State::Idle);
    // Error wait: 2 s Idle, then a new connection at once.
    assert_eq!(s.poll_timeout(), Some(now + secs(2)));
    let out = s.handle(Input::Timer, now + secs(2));
    assert!(out.contains(&Output::Connect));
}

#[test]
fn bfd_down_sends_cease_bfd_down_and_waits_before_reconnecting() {
    let t0 = Instant::now();
    let (mut s, t) = established(t0);
    let out = s.handle(Input::BfdDown { graceful: false }, t);
    let n = notification_sent(&out, C1).expect("a NOTIFICATION");
    // RFC 9384: Cease / BFD Down.
    assert_eq!((n.code, n.subcode), (code::CEASE, cease_subcode::BFD_DOWN));
    assert!(closes(&out, C1));
    assert!(out.contains(&Output::Down {
        reason: DownReason::BfdDown { graceful: false }
    }));
    assert_eq!(s.state(), State::Idle);
    assert_eq!(s.poll_timeout(), Some(t + secs(2)));
}

#[test]
fn graceful_bfd_down_closes_without_a_notification() {
    let t0 = Instant::now();
    let (mut s, t) = established(t0);
    let out = s.handle(Input::BfdDown { graceful: true }, t);
    assert_eq!(notification_sent(&out, C1), None);
    assert!(closes(&out, C1));
    assert!(out.contains(&Output::Down {
        reason: DownReason::BfdDown { graceful: true }
    }));
    // Without a connection it changes nothing.
    let mut idle = Session::new(config(65001, [10, 0, 0, 1], 65002), Jitter::none());
    assert!(idle
        .handle(Input::BfdDown { graceful: false }, t)
        .is_empty());
}

#[test]
fn hold_time_zero_means_no_keepalives_and_no_hold_timer() {
    let t0 = Instant::now();
    let (mut s, t) = open_sent(t0);
    s.handle(
        Input::Received {
            conn: C1,
            frame: frame(&peer_open(65002, [10, 0, 0, 2], 0)),
        },
        t,
    );
    s.handle(
        Input::Received {
            conn: C1,
            frame: frame(&Message::Keepalive),
        },
        t,
    );
    assert_eq!(s.state(), State::Established);
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn error_wait_doubles_up_to_the_maximum() {
    let t0 = Instant::now();
    let (mut s, mut t) = established(t0);
    let mut waits = Vec::new();
    for _ in 0..4 {
        let out = s.handle(Input::Closed { conn: C1 }, t);
        assert!(out.contains(&Output::Down {
            reason: DownReason::ConnectionClosed
        }));
        waits.push(s.error_wait());
        t = s.poll_timeout().expect("idle hold");
        assert!(s.handle(Input::Timer, t).contains(&Output::Connect));
        s.handle(
            Input::Connected {
                conn: C1,
                direction: Direction::Outbound,
            },
            t,
        );
        s.handle(
            Input::Received {
                conn: C1,
                frame: frame(&peer_open(65002, [10, 0, 0, 2], 30)),
            },
            t,
        );
        s.handle(
            Input::Received {
                conn: C1,
                frame: frame(&Message::Keepalive),
            },
            t,
        );
        assert_eq!(s.state(), State::Established);
    }
    assert_eq!(waits, vec![secs(2), secs(4), secs(8), secs(8)]);
}

#[test]
fn wrong_peer_as_gives_bad_peer_as_with_the_as_as_data() {
    let t0 = Instant::now();
    let (mut s, t) = open_sent(t0);
    let out = s.handle(
        Input::Received {
            conn: C1,
            frame: frame(&peer_open(65099, [10, 0, 0, 2], 30)),
        },
        t,
    );
    let n = notification_sent(&out, C1).expect("NOTIFICATION");
    assert_eq!(
        (n.code, n.subcode, n.data),
        (
            code::OPEN_MESSAGE,
            open_subcode::BAD_PEER_AS,
            vec![0xfe, 0x4b]
        )
    );
    assert!(closes(&out, C1));
    assert_eq!(s.state(), State::Idle);
}

#[test]
fn four_octet_peer_as_is_checked_from_the_capability() {
    let t0 = Instant::now();
    let mut cfg = config(4_200_000_001, [10, 0, 0, 1], 4_200_000_002);
    cfg.passive = true;
    let mut s = Session::new(cfg, Jitter::none());
    s.handle(Input::Start, t0);
    assert_eq!(s.state(), State::Active);
    let out = s.handle(
        Input::Connected {
            conn: C2,
            direction: Direction::Inbound,
        },
        t0,
    );
    let Message::Open(ours) = &sent(&out, C2)[0] else {
        panic!("OPEN first");
    };
    assert_eq!(ours.my_as, 23456, "AS_TRANS in the 2-octet field");
    s.handle(
        Input::Received {
            conn: C2,
            frame: frame(&peer_open(4_200_000_002, [10, 0, 0, 2], 9)),
        },
        t0,
    );
    assert_eq!(s.state(), State::OpenConfirm);
    let out = s.handle(
        Input::Received {
            conn: C2,
            frame: frame(&Message::Keepalive),
        },
        t0,
    );
    assert_eq!(s.state(), State::Established);
    assert!(out.iter().any(|o| matches!(o,
        Output::Established { negotiated, .. } if negotiated.peer_asn == Asn(4_200_000_002)
            && negotiated.context.four_octet_as)));
}

#[test]
fn same_router_id_on_ibgp_is_bad_bgp_identifier() {
    let t0 = Instant::now();
    let mut s = Session::new(config(65001, [10, 0, 0, 1], 65001), Jitter::none());
    s.handle(Input::Start, t0);
    s.handle(
        Input::Connected {
            conn: C2,
            direction: Direction::Inbound,
        },
        t0,
    );
    let out = s.handle(
        Input::Received {
            conn: C2,
            frame: frame(&peer_open(65001, [10, 0, 0, 1], 9)),
        },
        t0,
    );
    let n = notification_sent(&out, C2).expect("NOTIFICATION");
    assert_eq!(
        (n.code, n.subcode),
        (code::OPEN_MESSAGE, open_subcode::BAD_BGP_IDENTIFIER)
    );
}

#[test]
fn bad_open_version_is_answered_with_the_decoder_notification() {
    let t0 = Instant::now();
    let (mut s, t) = open_sent(t0);
    let mut f = frame(&peer_open(65002, [10, 0, 0, 2], 9)).to_vec();
    f[19] = 3; // version 3
    let out = s.handle(
        Input::Received {
            conn: C1,
            frame: Bytes::from(f),
        },
        t,
    );
    let n = notification_sent(&out, C1).expect("NOTIFICATION");
    assert_eq!(
        (n.code, n.subcode, n.data),
        (
            code::OPEN_MESSAGE,
            open_subcode::UNSUPPORTED_VERSION_NUMBER,
            vec![0, 4]
        )
    );
}

#[test]
fn unexpected_messages_get_rfc_6608_subcodes() {
    let t0 = Instant::now();
    // KEEPALIVE in OpenSent → 5/1.
    let (mut s, t) = open_sent(t0);
    let out = s.handle(
        Input::Received {
            conn: C1,
            frame: frame(&Message::Keepalive),
        },
        t,
    );
    let n = notification_sent(&out, C1).expect("5/1");
    assert_eq!((n.code, n.subcode), (code::FSM, 1));
    // OPEN in OpenConfirm → 5/2.
    let (mut s, t) = open_sent(t0);
    let open = frame(&peer_open(65002, [10, 0, 0, 2], 30));
    s.handle(
        Input::Received {
            conn: C1,
            frame: open.clone(),
        },
        t,
    );
    let out = s.handle(
        Input::Received {
            conn: C1,
            frame: open.clone(),
        },
        t,
    );
    let n = notification_sent(&out, C1).expect("5/2");
    assert_eq!((n.code, n.subcode), (code::FSM, 2));
    // OPEN in Established → 5/3.
    let (mut s, t) = established(t0);
    let out = s.handle(
        Input::Received {
            conn: C1,
            frame: open,
        },
        t,
    );
    let n = notification_sent(&out, C1).expect("5/3");
    assert_eq!((n.code, n.subcode), (code::FSM, 3));
    assert!(out.iter().any(|o| matches!(o, Output::Down { .. })));
}

#[test]
fn malformed_update_resets_the_session_with_its_notification() {
    let t0 = Instant::now();
    let (mut s, t) = established(t0);
    // UPDATE whose withdrawn-routes length overruns the message.
    let bad = hex::decode("ffffffffffffffffffffffffffffffff0017020010").expect("hex");
    let mut bad = bad;
    bad.extend_from_slice(&[0, 0]);
    bad[17] = 23;
    let out = s.handle(
        Input::Received {
            conn: C1,
            frame: Bytes::from(bad),
        },
        t,
    );
    let n = notification_sent(&out, C1).expect("NOTIFICATION");
    assert_eq!(n.code, code::UPDATE_MESSAGE);
    assert_eq!(s.state(), State::Idle);
}

#[test]
fn update_in_established_is_handed_out_and_restarts_the_hold_timer() {
    let t0 = Instant::now();
    let (mut s, t) = established(t0);
    let eor = bgp_proto::builder::end_of_rib(Family::Ipv4Unicast);
    let out = s.handle(
        Input::Received {
            conn: C1,
            frame: eor,
        },
        t + secs(5),
    );
    assert!(out.iter().any(|o| matches!(o,
        Output::Update { update } if update.end_of_rib() == Some(Family::Ipv4Unicast))));
    // The hold timer now ends 9 s after the UPDATE, not after the KEEPALIVE.
    let mut now;
    loop {
        now = s.poll_timeout().expect("timer");
        let out = s.handle(Input::Timer, now);
        if closes(&out, C1) {
            break;
        }
    }
    assert_eq!(now, t + secs(14));
}

#[test]
fn notification_from_peer_goes_idle_with_error_wait() {
    let t0 = Instant::now();
    let (mut s, t) = established(t0);
    let n = Notification::cease_with_communication(cease_subcode::ADMINISTRATIVE_SHUTDOWN, "bye");
    let out = s.handle(
        Input::Received {
            conn: C1,
            frame: frame(&Message::Notification(n.clone())),
        },
        t,
    );
    assert!(out.contains(&Output::Down {
        reason: DownReason::NotificationReceived(n)
    }));
    assert_eq!(s.state(), State::Idle);
    // Incoming connections are refused while Idle (RFC 4271 §8.2.2).
    let out = s.handle(
        Input::Connected {
            conn: C2,
            direction: Direction::Inbound,
        },
        t,
    );
    let n = notification_sent(&out, C2).expect("Cease");
    assert_eq!(
        (n.code, n.subcode),
        (code::CEASE, cease_subcode::CONNECTION_REJECTED)
    );
    assert!(closes(&out, C2));
}

#[test]
fn stop_sends_administrative_shutdown_and_goes_idle() {
    let t0 = Instant::now();
    let (mut s, t) = established(t0);
    let stop = Notification::cease_with_communication(
        cease_subcode::ADMINISTRATIVE_SHUTDOWN,
        "bgpd shutting down",
    );
    let out = s.handle(Input::Stop(stop), t);
    let n = notification_sent(&out, C1).expect("Cease");
    assert_eq!(n.shutdown_communication(), Some("bgpd shutting down"));
    assert!(closes(&out, C1));
    assert_eq!(s.state(), State::Idle);
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn connect_retry_after_failed_connect() {
    let t0 = Instant::now();
    let mut s = Session::new(config(65001, [10, 0, 0, 1], 65002), Jitter::none());
    s.handle(Input::Start, t0);
    let t = t0 + secs(1);
    assert!(s.handle(Input::Timer, t).contains(&Output::Connect));
    s.handle(Input::ConnectFailed, t);
    assert_eq!(s.state(), State::Active);
    assert_eq!(s.poll_timeout(), Some(t + secs(5)));
    assert!(s
        .handle(Input::Timer, t + secs(5))
        .contains(&Output::Connect));
}

#[test]
fn passive_session_never_connects() {
    let t0 = Instant::now();
    let mut cfg = config(65001, [10, 0, 0, 1], 65002);
    cfg.passive = true;
    let mut s = Session::new(cfg, Jitter::none());
    let out = s.handle(Input::Start, t0);
    assert!(!out.contains(&Output::Connect));
    assert_eq!(s.poll_timeout(), None);
}

/// Both sides connected at once: `s` holds C1 (ours) and C2 (theirs), both OpenSent.
fn collision(local_id: [u8; 4]) -> (Session, Instant) {
    let t0 = Instant::now();
    let mut s = Session::new(config(65001, local_id, 65002), Jitter::none());
    s.handle(Input::Start, t0);
    let t = t0 + secs(1);
    s.handle(Input::Timer, t);
    s.handle(
        Input::Connected {
            conn: C1,
            direction: Direction::Outbound,
        },
        t,
    );
    s.handle(
        Input::Connected {
            conn: C2,
            direction: Direction::Inbound,
        },
        t,
    );
    assert_eq!(s.connection_count(), 2);
    (s, t)
}

#[test]
fn collision_keeps_our_connection_when_our_identifier_is_higher() {
    let (mut s, t) = collision([10, 0, 0, 9]);
    let out = s.handle(
        Input::Received {
            conn: C2,
            frame: frame(&peer_open(65002, [10, 0, 0, 2], 9)),
        },
        t,
    );
    let n = notification_sent(&out, C2).expect("Cease on theirs");
    assert_eq!(
        (n.code, n.subcode),
        (code::CEASE, cease_subcode::CONNECTION_COLLISION_RESOLUTION)
    );
    assert!(out.contains(&Output::CollisionResolved {
        closed: C2,
        kept: C1
    }));
    assert_eq!(s.connection_count(), 1);
    assert_eq!(s.state(), State::OpenSent);
}

#[test]
fn collision_keeps_their_connection_when_their_identifier_is_higher() {
    let (mut s, t) = collision([10, 0, 0, 1]);
    let out = s.handle(
        Input::Received {
            conn: C2,
            frame: frame(&peer_open(65002, [10, 0, 0, 2], 9)),
        },
        t,
    );
    assert!(notification_sent(&out, C1).is_some());
    assert!(out.contains(&Output::CollisionResolved {
        closed: C1,
        kept: C2
    }));
    assert_eq!(s.connection_count(), 1);
    assert_eq!(s.state(), State::OpenConfirm);
}

mod pair;
