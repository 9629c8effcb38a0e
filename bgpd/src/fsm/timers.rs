//! Timer jitter (RFC 4271 §10): ConnectRetry and Keepalive intervals are multiplied by a random
//! factor between 0.75 and 1.0 so that peers do not synchronise.

use std::time::Duration;

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
