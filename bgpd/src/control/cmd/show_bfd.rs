//! `show bfd sessions [NAME]` (BIRD 2's `bfd_show_sessions`): one instance, named `bfd1`.
//!
//! ```text
//! 1020-bfd1:
//!  IP address                Interface  State      Since         Interval  Timeout
//!  10.99.0.2                 ---        Up         17:28:17        0.300    0.900
//! 0000
//! ```
//! `Interval` is the transmit interval in use (0 while not sending), `Timeout` the detection
//! time (the peer's multiplier times the agreed receive interval).

use std::time::SystemTime;

use crate::bfd::SessionView;
use crate::control::reply::{code, Framer};
use crate::control::state::View;
use crate::control::time;

/// The instance name BIRD gives an unnamed `protocol bfd`.
pub const NAME: &str = "bfd1";

pub fn run(view: &View, now: SystemTime, f: &mut Framer) {
    let sessions = view.state.bfd.as_ref().map(|v| v.borrow().clone());
    match sessions {
        Some(s) => write(&s, now, f),
        None => f.line(code::BFD_SESSIONS, &format!("{NAME}: is not up")),
    }
    f.ok();
}

/// The lines (without the final `0000`).
pub fn write(sessions: &[SessionView], now: SystemTime, f: &mut Framer) {
    f.line(code::BFD_SESSIONS, &format!("{NAME}:"));
    f.line(
        code::BFD_SESSIONS,
        &format!(
            "{:<25} {:<10} {:<10} {:<12}  {:>8} {:>8}",
            "IP address", "Interface", "State", "Since", "Interval", "Timeout"
        ),
    );
    for s in sessions {
        let iface = s.key.interface.as_deref().unwrap_or("---");
        f.line(
            code::BFD_SESSIONS,
            &format!(
                "{:<25} {:<10} {:<10} {:<12}  {:>7.3}  {:>7.3}",
                s.key.peer.to_string(),
                iface,
                s.snapshot.state.to_string(),
                time::short(s.since, now),
                s.snapshot.tx_interval.as_secs_f64(),
                s.snapshot.detection_time.as_secs_f64()
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::bfd::packet::{Diag, Discriminator, SessionState};
    use crate::bfd::state::{Params, Snapshot};
    use crate::bfd::SessionKey;

    #[test]
    fn parses_with_and_without_a_protocol_name() {
        use crate::control::parse::{parse, Command};
        for line in [
            "show bfd sessions",
            "show bfd sessions bfd1",
            "SHOW BFD SESSIONS",
        ] {
            assert!(
                matches!(parse(line), Ok(Command::ShowBfdSessions)),
                "{line}"
            );
        }
        assert!(parse("show bfd").is_err());
        assert!(parse("show bfd sessions a b").is_err());
    }

    #[test]
    fn rows_follow_bird_2_columns() {
        let now = SystemTime::now();
        let s = SessionView {
            key: SessionKey {
                peer: "10.99.0.2".parse().expect("address"),
                multihop: false,
                interface: None,
            },
            local: None,
            since: now,
            snapshot: Snapshot {
                state: SessionState::Up,
                diag: Diag::NONE,
                local: Discriminator(1),
                remote: Discriminator(2),
                remote_state: SessionState::Up,
                tx_interval: Duration::from_millis(300),
                detection_time: Duration::from_millis(900),
                remote_detect_mult: 3,
            },
            params: Params {
                desired_min_tx: Duration::from_millis(300),
                required_min_rx: Duration::from_millis(300),
                detect_mult: 3,
                passive: false,
            },
        };
        let mut f = Framer::new();
        write(&[s], now, &mut f);
        f.ok();
        let t = f.take();
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "1020-bfd1:");
        assert_eq!(
            lines[1],
            " IP address                Interface  State      Since         Interval  Timeout"
        );
        let row = lines[2];
        assert!(
            row.starts_with(" 10.99.0.2                 ---        Up         "),
            "{row}"
        );
        assert!(row.ends_with("   0.300    0.900"), "{row}");
        assert_eq!(lines[3], "0000 ");
    }
}
