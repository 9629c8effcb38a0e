//! [`Input::Reset`]: a NOTIFICATION from outside the FSM (a prefix limit), then the error wait.

use std::time::Duration;

use bgp_proto::notification::{cease_subcode, code};

use super::tests::{closes, config, established, notification_sent, C1};
use super::*;

#[test]
fn reset_sends_the_notification_closes_and_waits_the_error_wait() {
    let t0 = Instant::now();
    let (mut s, t) = established(t0);
    // AFI 1, SAFI 1, limit 5 (RFC 4486 §4).
    let n = Notification::new(
        code::CEASE,
        cease_subcode::MAX_PREFIXES_REACHED,
        vec![0, 1, 1, 0, 0, 0, 5],
    );
    let out = s.handle(Input::Reset(n.clone()), t);
    assert_eq!(notification_sent(&out, C1), Some(n.clone()));
    assert!(closes(&out, C1));
    assert!(out.contains(&Output::Down {
        reason: DownReason::NotificationSent(n.clone())
    }));
    assert_eq!(s.state(), State::Idle);
    // The error wait (2 s in the test config) before the next connection.
    assert_eq!(s.poll_timeout(), Some(t + Duration::from_secs(2)));
    s.handle(Input::Timer, t + Duration::from_secs(2));
    assert_eq!(
        s.state(),
        State::Connect,
        "connecting again after the error wait"
    );
    // Stopped (disabled): nothing to do.
    let mut stopped = Session::new(config(65001, [10, 0, 0, 1], 65002), Jitter::none());
    assert!(stopped.handle(Input::Reset(n), t).is_empty());
}
