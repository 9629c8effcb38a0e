//! The session's timers (RFC 4271 §10): hold, keepalive, ConnectRetry and the error wait (BIRD's
//! Idle hold), fired by [`Input::Timer`](super::Input::Timer); and their jitter: ConnectRetry and
//! Keepalive intervals are multiplied by a random factor between 0.75 and 1.0 so that peers do
//! not synchronise.

use std::time::{Duration, Instant};

use bgp_proto::notification::code;
use bgp_proto::{Message, Notification};

use super::{send_message, ConnId, Direction, DownReason, Output, Session, Waits, ERROR_FORGET};

/// A small deterministic generator (xorshift64*): seeded from the OS by the driver, fixed in
/// tests, so the FSM stays a pure function of its inputs.
#[derive(Debug, Clone)]
pub struct Jitter {
    state: u64,
}

impl Jitter {
    /// A generator with this seed (0 is replaced by a fixed non-zero constant).
    pub fn new(seed: u64) -> Jitter {
        Jitter {
            state: if seed == 0 {
                0x9E37_79B9_7F4A_7C15
            } else {
                seed
            },
        }
    }

    /// No jitter at all: every interval is used as configured (tests that count seconds).
    pub fn none() -> Jitter {
        Jitter { state: 0 }
    }

    fn next(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// `d` scaled by a uniform factor in [`lo`, `hi`] (fractions of 1); without jitter
    /// ([`Jitter::none`]), by `hi`.
    pub fn between(&mut self, d: Duration, lo: f64, hi: f64) -> Duration {
        if self.state == 0 {
            return d.mul_f64(hi);
        }
        let frac = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        d.mul_f64(lo + (hi - lo) * frac)
    }

    /// `d` scaled by a factor in [0.75, 1.0].
    pub fn apply(&mut self, d: Duration) -> Duration {
        if self.state == 0 {
            return d;
        }
        // 1/4 of the interval, scaled by a uniform fraction in [0, 1).
        let quarter = d / 4;
        let frac = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        d - quarter.mul_f64(frac)
    }
}

impl Session {
    pub(super) fn timers(&mut self, now: Instant, out: &mut Vec<Output>) {
        if self.idle_until.is_some_and(|t| t <= now) {
            self.idle_until = None;
            if self.started && !self.config.passive {
                self.connect_at = Some(now);
            }
        }
        // Hold timers first: RFC 4271 §6.5, NOTIFICATION Hold Timer Expired (4/0).
        let expired: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|c| c.hold_at.is_some_and(|t| t <= now))
            .map(|c| c.id)
            .collect();
        for conn in expired {
            let n = Notification::new(code::HOLD_TIMER_EXPIRED, 0, Vec::new());
            self.fail_conn_with(conn, Some(n), DownReason::HoldTimerExpired, now, out);
        }
        for i in 0..self.conns.len() {
            let due = self.conns[i].keepalive_at.is_some_and(|t| t <= now);
            if due {
                let c = &mut self.conns[i];
                let ok = send_message(c, &Message::Keepalive, out);
                c.keepalive_at = c.keepalive.map(|k| now + self.jitter.apply(k));
                if !ok {
                    let id = c.id;
                    self.fail_conn(id, None, now, out);
                    break;
                }
            }
        }
        if self.connect_at.is_some_and(|t| t <= now) {
            let have_outbound = self
                .conns
                .iter()
                .any(|c| c.direction == Direction::Outbound);
            let needless = have_outbound || self.established().is_some();
            if !self.started || self.idle_until.is_some() || needless {
                self.connect_at = None;
            } else {
                if self.connecting {
                    out.push(Output::CancelConnect);
                }
                out.push(Output::Connect);
                self.connecting = true;
                // RFC 4271 §10: ConnectRetryTimer with jitter.
                self.arm_connect_retry(now);
            }
        }
    }

    /// BIRD-style error wait: Idle for a while, doubling per error up to the maximum.
    pub(super) fn enter_idle_hold(&mut self, now: Instant, out: &mut Vec<Output>) {
        let recent = self
            .last_error
            .is_some_and(|t| now.saturating_duration_since(t) < ERROR_FORGET);
        self.error_wait = if recent {
            (self.error_wait * 2).min(self.config.error_wait_max)
        } else {
            self.config.error_wait_min
        };
        self.last_error = Some(now);
        // Jittered like ConnectRetry (RFC 4271 §10): two speakers that failed together (e.g. a
        // collision between two instances of this daemon) must not leave Idle in lock-step,
        // each refusing the other's connection while it is Idle.
        self.idle_until = Some(now + self.jitter.apply(self.error_wait));
        self.connect_at = None;
        if self.connecting {
            out.push(Output::CancelConnect);
            self.connecting = false;
        }
    }

    /// The current error wait (the Idle hold after the last error).
    pub fn error_wait(&self) -> Duration {
        self.error_wait
    }

    /// RFC 4271 §10: ConnectRetryTimer, jittered.
    pub(super) fn arm_connect_retry(&mut self, now: Instant) {
        self.connect_at = Some(now + self.jitter.apply(self.config.connect_retry));
        self.connect_interval = self.config.connect_retry;
    }

    /// What the session is waiting for while it has no session (BIRD's `Error wait:` and
    /// `Connect delay:` detail lines): the error wait's end while Idle after an error, and the
    /// next connection attempt while Active (no attempt in progress, no connection open).
    pub fn waits(&self) -> Waits {
        let active =
            self.started && self.idle_until.is_none() && !self.connecting && self.conns.is_empty();
        Waits {
            error: self.idle_until.map(|t| (t, self.error_wait)),
            connect: self
                .connect_at
                .filter(|_| active)
                .map(|t| (t, self.connect_interval)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_between_three_quarters_and_the_full_interval() {
        let mut j = Jitter::new(42);
        let d = Duration::from_secs(120);
        for _ in 0..1000 {
            let x = j.apply(d);
            assert!(x <= d && x >= d * 3 / 4, "{x:?}");
        }
        assert_eq!(Jitter::none().apply(d), d);
    }
}
