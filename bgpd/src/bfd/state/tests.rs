//! BFD session tests on a fake clock: two sessions wired to each other, time is a value.

use super::*;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn params(tx: u64, rx: u64, mult: u8) -> Params {
    Params {
        desired_min_tx: ms(tx),
        required_min_rx: ms(rx),
        detect_mult: mult,
        passive: false,
    }
}

fn sent(out: &[Output]) -> Vec<ControlPacket> {
    out.iter()
        .filter_map(|o| match o {
            Output::Send(p) => Some(*p),
            Output::StateChanged { .. } => None,
        })
        .collect()
}

fn changes(out: &[Output]) -> Vec<(SessionState, SessionState, Diag)> {
    out.iter()
        .filter_map(|o| match o {
            Output::StateChanged { from, to, diag } => Some((*from, *to, *diag)),
            Output::Send(_) => None,
        })
        .collect()
}

/// Two sessions and the wire between them (no loss, no delay unless a side is cut).
struct Pair {
    now: Instant,
    a: Session,
    b: Session,
    /// Packets each side sent, with the time.
    from_a: Vec<(Instant, ControlPacket)>,
    from_b: Vec<(Instant, ControlPacket)>,
    /// State changes per side.
    a_changes: Vec<(Instant, SessionState, SessionState, Diag)>,
    b_changes: Vec<(Instant, SessionState, SessionState, Diag)>,
    /// B's packets are lost (B frozen / link cut towards A); B also hears nothing.
    b_frozen: bool,
}

impl Pair {
    fn new(pa: Params, pb: Params) -> Pair {
        let now = Instant::now();
        Pair {
            now,
            a: Session::new(Discriminator(0x1111), pa, Jitter::new(1), now),
            b: Session::new(Discriminator(0x2222), pb, Jitter::new(2), now),
            from_a: Vec::new(),
            from_b: Vec::new(),
            a_changes: Vec::new(),
            b_changes: Vec::new(),
            b_frozen: false,
        }
    }

    /// Delivers `out` of side `from_a` to the other side, recursively.
    fn deliver(&mut self, out: Vec<Output>, from_a: bool) {
        let now = self.now;
        let mut queue = vec![(out, from_a)];
        while let Some((out, from_a)) = queue.pop() {
            for o in out {
                match o {
                    Output::StateChanged { from, to, diag } => {
                        let log = if from_a {
                            &mut self.a_changes
                        } else {
                            &mut self.b_changes
                        };
                        log.push((now, from, to, diag));
                    }
                    Output::Send(p) => {
                        if from_a {
                            self.from_a.push((now, p));
                            if !self.b_frozen {
                                queue.push((self.b.handle_packet(&p, now), false));
                            }
                        } else if !self.b_frozen {
                            self.from_b.push((now, p));
                            queue.push((self.a.handle_packet(&p, now), true));
                        }
                    }
                }
            }
        }
    }

    /// Runs both sides' timers until `until`.
    fn run_until(&mut self, until: Instant) {
        loop {
            let ta = self.a.poll_timeout();
            let tb = if self.b_frozen {
                None
            } else {
                self.b.poll_timeout()
            };
            let Some(next) = [ta, tb].into_iter().flatten().min() else {
                self.now = until;
                return;
            };
            if next > until {
                self.now = until;
                return;
            }
            self.now = next.max(self.now);
            if ta.is_some_and(|t| t <= self.now) {
                let out = self.a.handle_timeout(self.now);
                self.deliver(out, true);
            }
            if tb.is_some_and(|t| t <= self.now) && !self.b_frozen {
                let out = self.b.handle_timeout(self.now);
                self.deliver(out, false);
            }
        }
    }

    fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        self.run_until(until);
    }
}

#[test]
fn two_sessions_come_up_through_init_and_a_poll_moves_them_to_the_fast_rate() {
    let mut p = Pair::new(params(300, 300, 3), params(300, 300, 3));
    p.run_for(ms(3000));
    assert_eq!(p.a.state(), SessionState::Up);
    assert_eq!(p.b.state(), SessionState::Up);
    let a_states: Vec<_> = p.a_changes.iter().map(|c| (c.1, c.2)).collect();
    // A spoke first: B answered Init, A went straight to Up; B went Down -> Init -> Up.
    assert_eq!(a_states, vec![(SessionState::Down, SessionState::Up)]);
    let b_states: Vec<_> = p.b_changes.iter().map(|c| (c.1, c.2)).collect();
    assert_eq!(
        b_states,
        vec![
            (SessionState::Down, SessionState::Init),
            (SessionState::Init, SessionState::Up)
        ]
    );
    // Before Up, the slow rate was advertised; the first Up packet polls for 300 ms.
    let first = p.from_a[0].1;
    assert_eq!(first.desired_min_tx, Micros(1_000_000));
    assert_eq!(first.required_min_rx, Micros(300_000));
    assert_eq!(first.your_discriminator, Discriminator(0));
    let poll = p
        .from_a
        .iter()
        .find(|(_, x)| x.state == SessionState::Up)
        .map(|(_, x)| *x);
    let poll = poll.expect("A sent Up");
    assert!(poll.poll && !poll.final_);
    assert_eq!(poll.desired_min_tx, Micros(300_000));
    assert!(p.from_b.iter().any(|(_, x)| x.final_ && !x.poll));
    // The Poll Sequence ended: later packets carry neither bit, at 225-300 ms spacing.
    let s = p.a.snapshot();
    assert_eq!(s.tx_interval, ms(300));
    assert_eq!(s.detection_time, ms(900));
    assert_eq!(s.remote, Discriminator(0x2222));
    let late: Vec<Instant> = p
        .from_a
        .iter()
        .filter(|(t, x)| *t > p.now - ms(1500) && !x.poll && !x.final_)
        .map(|(t, _)| *t)
        .collect();
    assert!(late.len() >= 4, "{late:?}");
    for w in late.windows(2) {
        let gap = w[1] - w[0];
        assert!(gap >= ms(225) && gap <= ms(300), "{gap:?}");
    }
}

#[test]
fn sends_at_most_once_a_second_while_not_up() {
    // B never answers: A stays Down and keeps to the slow rate (RFC 5880 §6.8.3).
    let mut p = Pair::new(params(100, 100, 3), params(100, 100, 3));
    p.b_frozen = true;
    p.run_for(ms(10_000));
    assert_eq!(p.a.state(), SessionState::Down);
    let times: Vec<Instant> = p.from_a.iter().map(|(t, _)| *t).collect();
    assert!(times.len() >= 10 && times.len() <= 14, "{}", times.len());
    for w in times.windows(2) {
        let gap = w[1] - w[0];
        assert!(gap >= ms(750) && gap <= ms(1000), "{gap:?}");
    }
    assert!(p
        .from_a
        .iter()
        .all(|(_, x)| x.desired_min_tx == Micros(1_000_000)));
}

#[test]
fn jitter_stays_at_or_below_ninety_percent_with_a_multiplier_of_one() {
    let mut s = Session::new(Discriminator(7), params(1000, 1000, 1), Jitter::new(9), {
        Instant::now()
    });
    let mut now = Instant::now();
    let _ = s.handle_timeout(now);
    for _ in 0..200 {
        let next = s.poll_timeout().expect("sending");
        let gap = next - now;
        assert!(gap >= ms(750) && gap <= ms(900), "{gap:?}");
        now = next;
        let _ = s.handle_timeout(now);
    }
}

#[test]
fn goes_down_within_detection_time_when_the_peer_falls_silent() {
    let mut p = Pair::new(params(300, 300, 3), params(300, 300, 3));
    p.run_for(ms(3000));
    assert_eq!(p.a.state(), SessionState::Up);
    let frozen_at = p.now;
    let last_heard = p.from_b.last().map(|(t, _)| *t).expect("B spoke");
    p.b_frozen = true;
    p.run_for(ms(2000));
    assert_eq!(p.a.state(), SessionState::Down);
    let (at, from, to, diag) = *p.a_changes.last().expect("A changed");
    assert_eq!((from, to), (SessionState::Up, SessionState::Down));
    assert_eq!(diag, Diag::CONTROL_DETECTION_TIME_EXPIRED);
    // Detection time = B's multiplier (3) x max(A's RX 300, B's TX 300) after B's last packet.
    assert_eq!(at - last_heard, ms(900));
    assert!(at - frozen_at <= ms(900));
    // A's next packets say Down with diag 1, forget B's discriminator, and slow down again.
    let after: Vec<_> = p.from_a.iter().filter(|(t, _)| *t >= at).collect();
    assert!(after.iter().all(|(_, x)| x.state == SessionState::Down));
    assert_eq!(after[0].1.diag, Diag::CONTROL_DETECTION_TIME_EXPIRED);
    assert_eq!(
        after.last().map(|x| x.1.your_discriminator),
        Some(Discriminator(0))
    );
    assert_eq!(
        after.last().map(|x| x.1.desired_min_tx),
        Some(Micros(1_000_000))
    );
}

#[test]
fn comes_back_up_when_the_peer_returns() {
    let mut p = Pair::new(params(300, 300, 3), params(300, 300, 3));
    p.run_for(ms(3000));
    p.b_frozen = true;
    p.run_for(ms(2000));
    assert_eq!(p.a.state(), SessionState::Down);
    // B thawed: it times out A in turn (its timer ran while frozen), then both re-form.
    p.b_frozen = false;
    p.run_for(ms(5000));
    assert_eq!(p.a.state(), SessionState::Up);
    assert_eq!(p.b.state(), SessionState::Up);
}

#[test]
fn detection_time_uses_the_peers_multiplier_and_the_slower_of_the_two_intervals() {
    // A wants 100 ms RX, B can only send every 500 ms, B's multiplier 4: 2 s.
    let mut p = Pair::new(params(100, 100, 3), params(500, 500, 4));
    p.run_for(ms(5000));
    assert_eq!(p.a.state(), SessionState::Up);
    let a = p.a.snapshot();
    assert_eq!(a.detection_time, ms(2000));
    // A sends no faster than B accepts.
    assert_eq!(a.tx_interval, ms(500));
    let b = p.b.snapshot();
    assert_eq!(b.detection_time, ms(1500));
}

#[test]
fn a_longer_tx_interval_waits_for_the_final_of_its_poll() {
    let mut p = Pair::new(params(100, 100, 3), params(100, 100, 3));
    p.run_for(ms(3000));
    assert_eq!(p.a.snapshot().tx_interval, ms(100));
    // Raise A's TX to 1 s while B is cut off: no Final, so A keeps 100 ms and keeps polling.
    p.b_frozen = true;
    let mut out = Vec::new();
    p.a.set_params(params(1000, 100, 3), p.now, &mut out);
    assert!(sent(&out).iter().all(|x| x.poll));
    assert_eq!(p.a.snapshot().tx_interval, ms(100));
    p.b_frozen = false;
    p.deliver(out, true);
    p.run_for(ms(500));
    assert_eq!(p.a.snapshot().tx_interval, ms(1000));
    // B's detection time followed A's new TX at once (it saw the Poll).
    assert_eq!(p.b.snapshot().detection_time, ms(3000));
    assert!(p.from_a.iter().rev().take(1).all(|(_, x)| !x.poll));
}

#[test]
fn a_poll_from_the_peer_is_answered_with_a_final_at_once() {
    let now = Instant::now();
    let mut s = Session::new(Discriminator(5), params(300, 300, 3), Jitter::none(), now);
    let peer = ControlPacket {
        diag: Diag::NONE,
        state: SessionState::Init,
        poll: true,
        final_: false,
        control_plane_independent: false,
        demand: false,
        detect_mult: 3,
        my_discriminator: Discriminator(99),
        your_discriminator: Discriminator(5),
        desired_min_tx: Micros(300_000),
        required_min_rx: Micros(300_000),
        required_min_echo_rx: Micros(0),
    };
    let out = s.handle_packet(&peer, now);
    assert_eq!(
        changes(&out),
        vec![(SessionState::Down, SessionState::Up, Diag::NONE)]
    );
    let finals: Vec<_> = sent(&out).into_iter().filter(|x| x.final_).collect();
    assert_eq!(finals.len(), 1);
    assert!(!finals[0].poll);
    assert_eq!(finals[0].your_discriminator, Discriminator(99));
}

#[test]
fn the_peers_admin_down_takes_the_session_down_with_diag_3() {
    let mut p = Pair::new(params(300, 300, 3), params(300, 300, 3));
    p.run_for(ms(3000));
    let out = p.b.admin_down(p.now);
    let pk = sent(&out);
    assert_eq!(pk.len(), 1);
    assert_eq!(pk[0].state, SessionState::AdminDown);
    assert_eq!(pk[0].diag, Diag::ADMINISTRATIVELY_DOWN);
    p.deliver(out, false);
    assert_eq!(
        p.a_changes.last().map(|c| (c.2, c.3)),
        Some((SessionState::Down, Diag::NEIGHBOR_SIGNALED_DOWN))
    );
    // An AdminDown session neither sends nor times out.
    assert_eq!(p.b.poll_timeout(), None);
}

#[test]
fn a_passive_session_waits_for_the_peer_to_speak() {
    let mut pa = params(300, 300, 3);
    pa.passive = true;
    let mut p = Pair::new(pa, params(300, 300, 3));
    p.b_frozen = true;
    p.run_for(ms(3000));
    assert!(p.from_a.is_empty());
    p.b_frozen = false;
    p.run_for(ms(3000));
    assert_eq!(p.a.state(), SessionState::Up);
    assert_eq!(p.b.state(), SessionState::Up);
}

#[test]
fn an_up_packet_without_your_discriminator_is_discarded() {
    let now = Instant::now();
    let mut s = Session::new(Discriminator(5), params(300, 300, 3), Jitter::none(), now);
    let stray = ControlPacket {
        diag: Diag::NONE,
        state: SessionState::Up,
        poll: false,
        final_: false,
        control_plane_independent: false,
        demand: false,
        detect_mult: 3,
        my_discriminator: Discriminator(99),
        your_discriminator: Discriminator(0),
        desired_min_tx: Micros(300_000),
        required_min_rx: Micros(300_000),
        required_min_echo_rx: Micros(0),
    };
    assert!(s.handle_packet(&stray, now).is_empty());
    assert_eq!(s.snapshot().remote, Discriminator(0));
    // Nor one for another session.
    let other = ControlPacket {
        your_discriminator: Discriminator(6),
        ..stray
    };
    assert!(s.handle_packet(&other, now).is_empty());
}
