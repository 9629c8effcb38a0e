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

/// Two sessions wired back to back on a fake clock.
struct Pair {
    a: Session,
    b: Session,
    now: Instant,
    /// Connection ids: a's view and b's view of the same TCP connection.
    links: Vec<(ConnId, ConnId)>,
    next_id: u64,
    /// Hand inbound connections to their session only once everything else is delivered, as
    /// when the listener task runs after the peer task (the order that livelocked two of our
    /// daemons: the collision's loser is closed before the winner is seen).
    late_inbound: bool,
    /// Inbound connections not yet handed over, with what arrived on them meanwhile (the
    /// socket buffers it; the session reads it once it has the connection).
    deferred: Vec<(bool, ConnId, Vec<Input>)>,
}

impl Pair {
    fn new(a: SessionConfig, b: SessionConfig) -> Pair {
        Pair {
            a: Session::new(a, Jitter::new(1)),
            b: Session::new(b, Jitter::new(2)),
            now: Instant::now(),
            links: Vec::new(),
            next_id: 1,
            late_inbound: false,
            deferred: Vec::new(),
        }
    }

    /// Delivers outputs of one side to the other until both are quiet.
    fn run(&mut self, mut pending: Vec<(bool, Output)>) {
        loop {
            if pending.is_empty() {
                let Some((to_a, conn, queued)) =
                    (!self.deferred.is_empty()).then(|| self.deferred.remove(0))
                else {
                    break;
                };
                let now = self.now;
                let connected = Input::Connected {
                    conn,
                    direction: Direction::Inbound,
                };
                for input in std::iter::once(connected).chain(queued) {
                    let outs = self.side(to_a).handle(input, now);
                    pending.extend(outs.into_iter().map(|o| (to_a, o)));
                }
                continue;
            }
            let (from_a, o) = pending.remove(0);
            let map: fn(&(ConnId, ConnId)) -> (ConnId, ConnId) = if from_a {
                |l| (l.0, l.1)
            } else {
                |l| (l.1, l.0)
            };
            let now = self.now;
            let outs = match o {
                Output::Connect => {
                    let id = ConnId(self.next_id);
                    self.next_id += 1;
                    let (mine, theirs) = (id, ConnId(id.0 + 100));
                    self.links.push(if from_a {
                        (mine, theirs)
                    } else {
                        (theirs, mine)
                    });
                    let mut v: Vec<(bool, Output)> = self
                        .side(from_a)
                        .handle(
                            Input::Connected {
                                conn: mine,
                                direction: Direction::Outbound,
                            },
                            now,
                        )
                        .into_iter()
                        .map(|o| (from_a, o))
                        .collect();
                    if self.late_inbound {
                        self.deferred.push((!from_a, theirs, Vec::new()));
                    } else {
                        v.extend(
                            self.side(!from_a)
                                .handle(
                                    Input::Connected {
                                        conn: theirs,
                                        direction: Direction::Inbound,
                                    },
                                    now,
                                )
                                .into_iter()
                                .map(|o| (!from_a, o)),
                        );
                    }
                    v
                }
                Output::Send { conn, data } => {
                    let Some(l) = self.links.iter().map(map).find(|l| l.0 == conn) else {
                        continue;
                    };
                    let mut buf = BytesMut::from(&data[..]);
                    let mut v = Vec::new();
                    while buf.len() >= 19 {
                        let len = usize::from(u16::from_be_bytes([buf[16], buf[17]]));
                        let f = buf.split_to(len).freeze();
                        if let Some(d) = self.deferred_mut(!from_a, l.1) {
                            d.push(Input::Received {
                                conn: l.1,
                                frame: f,
                            });
                            continue;
                        }
                        v.extend(
                            self.side(!from_a)
                                .handle(
                                    Input::Received {
                                        conn: l.1,
                                        frame: f,
                                    },
                                    now,
                                )
                                .into_iter()
                                .map(|o| (!from_a, o)),
                        );
                    }
                    v
                }
                Output::Close { conn } => {
                    let Some(pos) = self.links.iter().position(|l| map(l).0 == conn) else {
                        continue;
                    };
                    let l = map(&self.links.remove(pos));
                    if let Some(d) = self.deferred_mut(!from_a, l.1) {
                        d.push(Input::Closed { conn: l.1 });
                        continue;
                    }
                    self.side(!from_a)
                        .handle(Input::Closed { conn: l.1 }, now)
                        .into_iter()
                        .map(|o| (!from_a, o))
                        .collect()
                }
                _ => Vec::new(),
            };
            pending.extend(outs);
        }
    }

    fn deferred_mut(&mut self, to_a: bool, conn: ConnId) -> Option<&mut Vec<Input>> {
        self.deferred
            .iter_mut()
            .find(|d| d.0 == to_a && d.1 == conn)
            .map(|d| &mut d.2)
    }

    fn side(&mut self, a: bool) -> &mut Session {
        if a {
            &mut self.a
        } else {
            &mut self.b
        }
    }

    fn advance_to(&mut self, t: Instant) {
        loop {
            let next = [self.a.poll_timeout(), self.b.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            let Some(next) = next.filter(|n| *n <= t) else {
                break;
            };
            self.now = next;
            let mut v: Vec<(bool, Output)> = Vec::new();
            if self.a.poll_timeout() == Some(next) {
                v.extend(
                    self.a
                        .handle(Input::Timer, next)
                        .into_iter()
                        .map(|o| (true, o)),
                );
            }
            if self.b.poll_timeout() == Some(next) {
                v.extend(
                    self.b
                        .handle(Input::Timer, next)
                        .into_iter()
                        .map(|o| (false, o)),
                );
            }
            self.run(v);
        }
        self.now = t;
    }
}

#[test]
fn two_sessions_on_a_fake_clock_reach_established_and_stay_up() {
    let mut p = Pair::new(
        config(65001, [10, 0, 0, 1], 65002),
        config(65002, [10, 0, 0, 2], 65001),
    );
    let t0 = p.now;
    let mut v: Vec<(bool, Output)> =
        p.a.handle(Input::Start, t0)
            .into_iter()
            .map(|o| (true, o))
            .collect();
    v.extend(p.b.handle(Input::Start, t0).into_iter().map(|o| (false, o)));
    p.run(v);
    // Both connect after the same delay: a collision, resolved to one connection.
    p.advance_to(t0 + secs(2));
    assert_eq!(p.a.state(), State::Established);
    assert_eq!(p.b.state(), State::Established);
    assert_eq!(p.a.connection_count(), 1);
    assert_eq!(p.b.connection_count(), 1);
    assert_eq!(p.links.len(), 1, "exactly one TCP connection survives");
    // Keepalives keep it up well past several hold times.
    p.advance_to(t0 + secs(60));
    assert_eq!(p.a.state(), State::Established);
    assert_eq!(p.b.state(), State::Established);
}

/// Both active, and each side sees the other's connection only after its own has been answered:
/// the side that loses the collision gets Cease 6/7 on its outgoing connection before the winning
/// one reaches it. That must not put it in its error wait (from which it would refuse the winner,
/// and the two would refuse each other in turn for ever).
#[test]
fn two_sessions_with_late_inbound_delivery_reach_established() {
    for (ida, idb) in [
        ([10, 0, 0, 1], [10, 0, 0, 2]),
        ([10, 0, 0, 2], [10, 0, 0, 1]),
    ] {
        let mut p = Pair::new(config(65001, ida, 65002), config(65002, idb, 65001));
        p.late_inbound = true;
        let t0 = p.now;
        let mut v: Vec<(bool, Output)> =
            p.a.handle(Input::Start, t0)
                .into_iter()
                .map(|o| (true, o))
                .collect();
        v.extend(p.b.handle(Input::Start, t0).into_iter().map(|o| (false, o)));
        p.run(v);
        p.advance_to(t0 + secs(10));
        assert_eq!(p.a.state(), State::Established, "ids {ida:?}/{idb:?}");
        assert_eq!(p.b.state(), State::Established, "ids {ida:?}/{idb:?}");
        assert_eq!(p.links.len(), 1, "exactly one TCP connection survives");
        p.advance_to(t0 + secs(120));
        assert_eq!(p.a.state(), State::Established);
        assert_eq!(p.b.state(), State::Established);
    }
}

#[test]
fn two_sessions_one_passive_reach_established() {
    let mut b = config(65002, [10, 0, 0, 2], 65001);
    b.passive = true;
    let mut p = Pair::new(config(65001, [10, 0, 0, 1], 65002), b);
    let t0 = p.now;
    let mut v: Vec<(bool, Output)> =
        p.a.handle(Input::Start, t0)
            .into_iter()
            .map(|o| (true, o))
            .collect();
    v.extend(p.b.handle(Input::Start, t0).into_iter().map(|o| (false, o)));
    p.run(v);
    p.advance_to(t0 + secs(2));
    assert_eq!(p.a.state(), State::Established);
    assert_eq!(p.b.state(), State::Established);
}

#[test]
fn established_session_rejects_a_new_connection_with_connection_rejected() {
    let t0 = Instant::now();
    let (mut s, t) = established(t0);
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
    assert_eq!(s.state(), State::Established);
    assert_eq!(s.connection_count(), 1);
}

#[test]
fn late_outbound_connection_after_cancel_is_closed_silently() {
    let t0 = Instant::now();
    let mut cfg = config(65001, [10, 0, 0, 1], 65002);
    cfg.connect_delay = Duration::ZERO;
    let mut s = Session::new(cfg, Jitter::none());
    s.handle(Input::Start, t0);
    assert!(s.handle(Input::Timer, t0).contains(&Output::Connect));
    // The peer connects to us and the session comes up on its connection.
    s.handle(
        Input::Connected {
            conn: C2,
            direction: Direction::Inbound,
        },
        t0,
    );
    s.handle(
        Input::Received {
            conn: C2,
            frame: frame(&peer_open(65002, [10, 0, 0, 2], 9)),
        },
        t0,
    );
    let out = s.handle(
        Input::Received {
            conn: C2,
            frame: frame(&Message::Keepalive),
        },
        t0,
    );
    assert!(out.contains(&Output::CancelConnect));
    // Our attempt completes anyway: closed, nothing written on it.
    let out = s.handle(
        Input::Connected {
            conn: C1,
            direction: Direction::Outbound,
        },
        t0,
    );
    assert!(closes(&out, C1));
    assert!(sent(&out, C1).is_empty());
    assert_eq!(s.state(), State::Established);
}

#[test]
fn connect_retry_timer_abandons_a_hanging_connect() {
    let t0 = Instant::now();
    let mut s = Session::new(config(65001, [10, 0, 0, 1], 65002), Jitter::none());
    s.handle(Input::Start, t0);
    let t = t0 + secs(1);
    assert!(s.handle(Input::Timer, t).contains(&Output::Connect));
    // No answer to the SYN: after connect_retry the attempt is replaced.
    let out = s.handle(Input::Timer, t + secs(5));
    assert_eq!(out[..2], [Output::CancelConnect, Output::Connect]);
}

#[test]
fn a_new_inbound_connection_replaces_a_stale_one() {
    let t0 = Instant::now();
    let mut cfg = config(65001, [10, 0, 0, 1], 65002);
    cfg.passive = true;
    let mut s = Session::new(cfg, Jitter::none());
    s.handle(Input::Start, t0);
    s.handle(
        Input::Connected {
            conn: C1,
            direction: Direction::Inbound,
        },
        t0,
    );
    let out = s.handle(
        Input::Connected {
            conn: C2,
            direction: Direction::Inbound,
        },
        t0 + secs(3),
    );
    assert!(closes(&out, C1));
    assert!(matches!(&sent(&out, C2)[..], [Message::Open(_)]));
    assert_eq!(s.connection_count(), 1);
}

#[test]
fn open_sent_waits_four_minutes_for_the_peer_open() {
    let t0 = Instant::now();
    let (mut s, t) = open_sent(t0);
    // RFC 4271 §8.2.2: the large hold timer while waiting for the OPEN.
    assert_eq!(s.poll_timeout(), Some(t + OPEN_HOLD_TIME));
    let out = s.handle(Input::Timer, t + OPEN_HOLD_TIME);
    let n = notification_sent(&out, C1).expect("4/0");
    assert_eq!((n.code, n.subcode), (code::HOLD_TIMER_EXPIRED, 0));
    assert_eq!(s.state(), State::Idle);
}

#[test]
fn equal_router_ids_on_ebgp_are_ordered_by_as_number() {
    // RFC 6286 §2.3: same identifier, our AS 65001 < 65002: their connection wins.
    let (mut s, t) = collision([10, 0, 0, 2]);
    let out = s.handle(
        Input::Received {
            conn: C1,
            frame: frame(&peer_open(65002, [10, 0, 0, 2], 9)),
        },
        t,
    );
    assert!(out.contains(&Output::CollisionResolved {
        closed: C1,
        kept: C2
    }));
}

#[test]
fn treat_as_withdraw_update_keeps_the_session() {
    let t0 = Instant::now();
    let (mut s, t) = established(t0);
    // ORIGIN and NEXT_HOP but no AS_PATH, one NLRI: RFC 7606 §3 (d) treat-as-withdraw.
    let body = hex::decode("0000000b400101004003040a000001180a0000").expect("hex");
    let mut msg = vec![0xff; 16];
    msg.extend_from_slice(&((19 + body.len() as u16).to_be_bytes()));
    msg.push(2);
    msg.extend_from_slice(&body);
    let out = s.handle(
        Input::Received {
            conn: C1,
            frame: Bytes::from(msg),
        },
        t,
    );
    assert!(out.iter().any(|o| matches!(o,
        Output::Update { update } if update.is_treat_as_withdraw()
            && update.withdrawals().count() == 1)));
    assert_eq!(s.state(), State::Established);
    assert!(notification_sent(&out, C1).is_none());
}

#[test]
fn connection_closed_in_open_sent_retries_without_error_wait() {
    let t0 = Instant::now();
    let (mut s, t) = open_sent(t0);
    s.handle(Input::Closed { conn: C1 }, t);
    assert_eq!(s.state(), State::Active);
    assert_eq!(
        s.poll_timeout(),
        Some(t + secs(5)),
        "connect retry, not error wait"
    );
    assert!(s
        .handle(Input::Timer, t + secs(5))
        .contains(&Output::Connect));
}

#[test]
fn collision_loss_told_by_the_peer_is_no_error_and_the_winner_is_accepted() {
    let t0 = Instant::now();
    let (mut s, t) = open_sent(t0);
    let n = Notification::new(
        code::CEASE,
        cease_subcode::CONNECTION_COLLISION_RESOLUTION,
        Vec::new(),
    );
    s.handle(
        Input::Received {
            conn: C1,
            frame: frame(&Message::Notification(n)),
        },
        t,
    );
    assert_eq!(s.state(), State::Active, "no error wait");
    assert_eq!(s.poll_timeout(), Some(t + secs(5)), "connect retry");
    // The peer's connection (the collision's winner) arrives afterwards: accepted, OPEN sent.
    let out = s.handle(
        Input::Connected {
            conn: C2,
            direction: Direction::Inbound,
        },
        t,
    );
    assert!(matches!(&sent(&out, C2)[..], [Message::Open(_)]));
    assert_eq!(s.state(), State::OpenSent);
}

#[test]
fn connection_rejected_while_opening_retries_without_error_wait() {
    let t0 = Instant::now();
    let (mut s, t) = open_sent(t0);
    let n = Notification::new(code::CEASE, cease_subcode::CONNECTION_REJECTED, Vec::new());
    s.handle(
        Input::Received {
            conn: C1,
            frame: frame(&Message::Notification(n)),
        },
        t,
    );
    assert_eq!(s.state(), State::Active);
    assert_eq!(s.poll_timeout(), Some(t + secs(5)));
}

/// RFC 4760 §8 / RFC 5492 §3: a peer announcing only families we don't (here: we are IPv6 only,
/// it announces IPv4 only) gets Unsupported Capability listing our multiprotocol capabilities.
#[test]
fn no_common_family_is_refused_with_unsupported_capability() {
    let t0 = Instant::now();
    let mut cfg = config(65001, [10, 0, 0, 1], 65002);
    cfg.capabilities
        .retain(|c| !matches!(c, Capability::Multiprotocol { afi: Afi::Ipv4, .. }));
    let mut s = Session::new(cfg, Jitter::none());
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
    let out = s.handle(
        Input::Received {
            conn: C1,
            frame: frame(&peer_open(65002, [10, 0, 0, 2], 9)),
        },
        t,
    );
    let n = notification_sent(&out, C1).expect("NOTIFICATION");
    assert_eq!(
        (n.code, n.subcode),
        (code::OPEN_MESSAGE, open_subcode::UNSUPPORTED_CAPABILITY)
    );
    // Capability 1 (multiprotocol), length 4, AFI 2, reserved, SAFI 1.
    assert_eq!(n.data, vec![1, 4, 0, 2, 0, 1]);
    assert!(closes(&out, C1));
    assert_eq!(s.state(), State::Idle);
}

/// What BIRD's `Connect delay:` and `Error wait:` detail lines show (`show protocols all`).
#[test]
fn waits_show_the_next_connection_attempt_and_the_error_wait() {
    let t0 = Instant::now();
    let mut s = Session::new(config(65001, [10, 0, 0, 1], 65002), Jitter::none());
    assert_eq!(s.waits(), Waits::default(), "not started");
    s.handle(Input::Start, t0);
    // The first attempt after the connect delay.
    assert_eq!(
        s.waits(),
        Waits {
            error: None,
            connect: Some((t0 + secs(1), secs(1)))
        }
    );
    assert!(s
        .handle(Input::Timer, t0 + secs(1))
        .contains(&Output::Connect));
    assert_eq!(s.waits(), Waits::default(), "an attempt is in progress");
    // Refused: the next attempt when the ConnectRetry timer armed with the attempt expires.
    s.handle(Input::ConnectFailed, t0 + secs(2));
    assert_eq!(s.waits().connect, Some((t0 + secs(6), secs(5))));
    // A session error: Idle for the error wait, nothing else pending.
    let (mut s, t) = established(t0);
    assert_eq!(s.waits(), Waits::default(), "Established");
    s.handle(Input::Closed { conn: C1 }, t);
    assert_eq!(
        s.waits(),
        Waits {
            error: Some((t + secs(2), secs(2))),
            connect: None
        }
    );
}
