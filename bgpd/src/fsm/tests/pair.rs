//! Sessions wired back to back on a fake clock (collisions, late deliveries, passive sides),
//! and the connection rules that need a second session or a longer sequence.

use super::*;

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
