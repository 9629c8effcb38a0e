//! One BFD session (RFC 5880 §6.8), sans-IO: fed received Control packets and the time, it
//! answers with packets to send and state changes; [`Session::poll_timeout`] says when to
//! call [`Session::handle_timeout`] (the same split as [`crate::fsm::Session`]).
//!
//! Asynchronous mode only (no Demand mode, no Echo function, no authentication).

use std::time::{Duration, Instant};

use super::packet::{ControlPacket, Diag, Discriminator, Micros, SessionState};
use crate::fsm::Jitter;

/// RFC 5880 §6.8.3: while the session is not Up, packets go at most once a second.
pub const SLOW_TX: Duration = Duration::from_secs(1);

/// What a session is asked to do (per neighbor, from the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Params {
    /// bfd.DesiredMinTxInterval once Up.
    pub desired_min_tx: Duration,
    /// bfd.RequiredMinRxInterval.
    pub required_min_rx: Duration,
    /// bfd.DetectMult (at least 1).
    pub detect_mult: u8,
    /// Passive role (RFC 5880 §6.1): send nothing until the peer has spoken.
    pub passive: bool,
}

/// What the driver must do, or may report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Send this packet to the peer.
    Send(ControlPacket),
    /// bfd.SessionState changed; `diag` says why when it left Up.
    StateChanged {
        from: SessionState,
        to: SessionState,
        diag: Diag,
    },
}

/// A read-only view for `show bfd sessions` and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    pub state: SessionState,
    pub diag: Diag,
    pub local: Discriminator,
    pub remote: Discriminator,
    pub remote_state: SessionState,
    /// The periodic transmit interval in use (before jitter); zero when not sending.
    pub tx_interval: Duration,
    /// The detection time in use (zero before the peer was heard).
    pub detection_time: Duration,
    pub remote_detect_mult: u8,
}

/// One BFD session with one peer.
#[derive(Debug)]
pub struct Session {
    params: Params,
    jitter: Jitter,
    local: Discriminator,
    remote: Discriminator,
    state: SessionState,
    diag: Diag,
    remote_state: SessionState,
    /// bfd.RemoteMinRxInterval (initially 1 µs: RFC 5880 §6.8.1).
    remote_min_rx: Micros,
    remote_desired_tx: Micros,
    remote_detect_mult: u8,
    /// The intervals in use for our transmissions and for the detection time; they lag
    /// behind the advertised ones during a Poll Sequence (RFC 5880 §6.8.3).
    eff_tx: Duration,
    eff_rx: Duration,
    /// A Poll Sequence is in progress: our packets carry P until a Final arrives.
    polling: bool,
    next_tx: Option<Instant>,
    detect_at: Option<Instant>,
}

impl Session {
    /// A session in Down with discriminator `local` (non-zero, unique among the sessions).
    pub fn new(local: Discriminator, params: Params, jitter: Jitter, now: Instant) -> Session {
        let mut s = Session {
            params,
            jitter,
            local,
            remote: Discriminator(0),
            state: SessionState::Down,
            diag: Diag::NONE,
            remote_state: SessionState::Down,
            remote_min_rx: Micros(1),
            remote_desired_tx: Micros(0),
            remote_detect_mult: 0,
            eff_tx: Duration::ZERO,
            eff_rx: params.required_min_rx,
            polling: false,
            next_tx: None,
            detect_at: None,
        };
        s.eff_tx = s.advertised_tx();
        if !params.passive {
            s.next_tx = Some(now);
        }
        s
    }

    pub fn state(&self) -> SessionState {
        self.state
    }

    pub fn local_discriminator(&self) -> Discriminator {
        self.local
    }

    pub fn params(&self) -> Params {
        self.params
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            state: self.state,
            diag: self.diag,
            local: self.local,
            remote: self.remote,
            remote_state: self.remote_state,
            tx_interval: if self.sends_periodically() {
                self.tx_interval()
            } else {
                Duration::ZERO
            },
            detection_time: self.detection_time(),
            remote_detect_mult: self.remote_detect_mult,
        }
    }

    /// The earliest time at which [`Session::handle_timeout`] must be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [self.next_tx, self.detect_at].into_iter().flatten().min()
    }

    /// bfd.DesiredMinTxInterval as advertised now: at least [`SLOW_TX`] unless Up.
    fn advertised_tx(&self) -> Duration {
        if self.state == SessionState::Up {
            self.params.desired_min_tx
        } else {
            self.params.desired_min_tx.max(SLOW_TX)
        }
    }

    /// RFC 5880 §6.8.7: the larger of our desired TX and the peer's required RX.
    fn tx_interval(&self) -> Duration {
        self.eff_tx.max(self.remote_min_rx.duration())
    }

    /// RFC 5880 §6.8.4: the peer's multiplier times the agreed interval.
    fn detection_time(&self) -> Duration {
        self.eff_rx.max(self.remote_desired_tx.duration()) * u32::from(self.remote_detect_mult)
    }

    fn sends_periodically(&self) -> bool {
        // A peer asking for zero RX wants no periodic packets (§6.8.7); a passive session
        // speaks only once the peer has (§6.1).
        self.state != SessionState::AdminDown
            && self.remote_min_rx.0 != 0
            && !(self.params.passive && self.remote.0 == 0)
    }

    /// RFC 5880 §6.5 / §6.8.7: 75-100 % of the interval, 75-90 % with a multiplier of 1.
    fn schedule_tx(&mut self, now: Instant) {
        self.next_tx = if self.sends_periodically() {
            let hi = if self.params.detect_mult == 1 {
                0.9
            } else {
                1.0
            };
            Some(now + self.jitter.between(self.tx_interval(), 0.75, hi))
        } else {
            None
        };
    }

    fn packet(&self, poll: bool, final_: bool) -> ControlPacket {
        ControlPacket {
            diag: self.diag,
            state: self.state,
            poll,
            final_,
            control_plane_independent: false,
            demand: false,
            detect_mult: self.params.detect_mult,
            my_discriminator: self.local,
            your_discriminator: self.remote,
            desired_min_tx: Micros::from_duration(self.advertised_tx()),
            required_min_rx: Micros::from_duration(self.params.required_min_rx),
            required_min_echo_rx: Micros(0),
        }
    }

    fn set_state(&mut self, to: SessionState, diag: Diag, now: Instant, out: &mut Vec<Output>) {
        let from = self.state;
        if from == to {
            return;
        }
        if to == SessionState::Down || to == SessionState::AdminDown || from == SessionState::Up {
            self.diag = diag;
        }
        self.state = to;
        out.push(Output::StateChanged { from, to, diag });
        // The advertised TX changes between the slow rate and the configured one.
        self.intervals_changed(now);
        // Tell the peer at once rather than at the next periodic packet.
        if to != SessionState::AdminDown && !(self.params.passive && self.remote.0 == 0) {
            out.push(Output::Send(self.packet(self.polling, false)));
        }
    }

    /// The advertised intervals may have changed: RFC 5880 §6.8.3.
    fn intervals_changed(&mut self, now: Instant) {
        let tx = self.advertised_tx();
        let rx = self.params.required_min_rx;
        if tx == self.eff_tx && rx == self.eff_rx && !self.polling {
            return;
        }
        if self.state == SessionState::Up || self.state == SessionState::Init {
            // A Poll Sequence confirms the change; meanwhile a larger TX interval and a
            // smaller RX interval (a shorter detection time) wait for its Final.
            self.polling = true;
            if tx < self.eff_tx {
                self.eff_tx = tx;
            }
            if rx > self.eff_rx {
                self.eff_rx = rx;
            }
        } else {
            self.polling = false;
            self.eff_tx = tx;
            self.eff_rx = rx;
        }
        if self.next_tx.is_some_and(|t| t > now + self.tx_interval()) {
            self.schedule_tx(now);
        }
    }

    /// New parameters (reload) without a reset: a Poll Sequence announces them.
    pub fn set_params(&mut self, params: Params, now: Instant, out: &mut Vec<Output>) {
        if params == self.params {
            return;
        }
        self.params = params;
        self.intervals_changed(now);
        if self.next_tx.is_none() {
            self.schedule_tx(now);
        }
        if self.polling && self.sends_periodically() {
            out.push(Output::Send(self.packet(true, false)));
        }
    }

    /// One received Control packet addressed to this session (the driver demultiplexed it:
    /// by Your Discriminator, or by address when that is zero), RFC 5880 §6.8.6.
    pub fn handle_packet(&mut self, p: &ControlPacket, now: Instant) -> Vec<Output> {
        let mut out = Vec::new();
        if p.your_discriminator.0 == 0
            && !matches!(p.state, SessionState::Down | SessionState::AdminDown)
        {
            return out;
        }
        if p.your_discriminator.0 != 0 && p.your_discriminator != self.local {
            return out;
        }
        let was_silent = !self.sends_periodically();
        self.remote = p.my_discriminator;
        self.remote_state = p.state;
        self.remote_min_rx = p.required_min_rx;
        self.remote_desired_tx = p.desired_min_tx;
        self.remote_detect_mult = p.detect_mult;
        if p.final_ && self.polling {
            self.polling = false;
            self.eff_tx = self.advertised_tx();
            self.eff_rx = self.params.required_min_rx;
        }
        if self.state == SessionState::AdminDown {
            return out;
        }
        self.detect_at = Some(now + self.detection_time());
        match (self.state, p.state) {
            (SessionState::Down, SessionState::AdminDown) => {}
            (_, SessionState::AdminDown) | (SessionState::Up, SessionState::Down) => self
                .set_state(
                    SessionState::Down,
                    Diag::NEIGHBOR_SIGNALED_DOWN,
                    now,
                    &mut out,
                ),
            (SessionState::Down, SessionState::Down) => {
                self.set_state(SessionState::Init, Diag::NONE, now, &mut out)
            }
            (SessionState::Down, SessionState::Init)
            | (SessionState::Init, SessionState::Init | SessionState::Up) => {
                self.set_state(SessionState::Up, Diag::NONE, now, &mut out)
            }
            _ => {}
        }
        if p.poll {
            // §6.8.6: answer a Poll with a Final at once, never both bits together.
            out.push(Output::Send(self.packet(false, true)));
        }
        if was_silent || self.next_tx.is_none_or(|t| t > now + self.tx_interval()) {
            self.schedule_tx(now);
        }
        out
    }

    /// Timers that are due at `now`: periodic transmission and the detection time.
    pub fn handle_timeout(&mut self, now: Instant) -> Vec<Output> {
        let mut out = Vec::new();
        if self.detect_at.is_some_and(|t| t <= now) {
            self.detect_at = None;
            // §6.8.1: without a packet for a detection time the peer's discriminator is lost.
            self.remote = Discriminator(0);
            self.remote_state = SessionState::Down;
            if matches!(self.state, SessionState::Init | SessionState::Up) {
                self.set_state(
                    SessionState::Down,
                    Diag::CONTROL_DETECTION_TIME_EXPIRED,
                    now,
                    &mut out,
                );
            }
            if !self.sends_periodically() {
                self.next_tx = None;
            }
        }
        if self.next_tx.is_some_and(|t| t <= now) {
            out.push(Output::Send(self.packet(self.polling, false)));
            self.schedule_tx(now);
        }
        out
    }

    /// Administrative shutdown (session removed): AdminDown, one last packet to send so the
    /// peer knows this is not a failure (RFC 5882 §3.2).
    pub fn admin_down(&mut self, now: Instant) -> Vec<Output> {
        let mut out = Vec::new();
        let tell = self.remote.0 != 0;
        self.set_state(
            SessionState::AdminDown,
            Diag::ADMINISTRATIVELY_DOWN,
            now,
            &mut out,
        );
        if tell {
            out.push(Output::Send(self.packet(false, false)));
        }
        self.next_tx = None;
        self.detect_at = None;
        out
    }
}

#[cfg(test)]
mod tests;
