//! `show status` (BIRD 1.6 `cmd_show_status`): version, router id, times, then `0013`.
//! `0024` (graceful-restart recovery, BIRD's `graceful_restart_show_status`) while our
//! graceful-restart recovery (`-R`, [`crate::recovery`]) defers exports: the peers that still
//! hold it and its wait timer. Without `-R`, also while the FIB task keeps a previous run's
//! kernel routes and defers their reconciliation until the RIB has converged (RFC 4724 §4.1):
//! the peers without all their End-of-RIBs and the FIB task's wait.

use std::time::SystemTime;

use crate::control::reply::{code, Framer, BIRD_VERSION};
use crate::control::state::View;
use crate::control::time;

pub fn run(view: &View, now: SystemTime, f: &mut Framer) {
    let s = &view.state;
    f.line(code::VERSION, &format!("BIRD {BIRD_VERSION}"));
    f.line(code::UPTIME, &format!("Router ID is {}", s.router_id));
    f.line(
        code::UPTIME,
        &format!("Current server time is {}", time::base(now)),
    );
    f.line(
        code::UPTIME,
        &format!("Last reboot on {}", time::base(s.boot)),
    );
    f.line(
        code::UPTIME,
        &format!("Last reconfiguration on {}", time::base(s.reconfigured)),
    );
    let recovery = match s.recovering() {
        Some(r) => Some((r.locks(), r.wait_timer())),
        // The protocols holding the recovery: enabled peers without all their End-of-RIBs,
        // as the RIB actor counts them.
        None => s
            .kernel
            .as_ref()
            .filter(|k| k.recovering())
            .map(|k| (k.holding(), k.wait_timer())),
    };
    if let Some((waiting, (left, total))) = recovery {
        f.line(code::GR_STATUS, "Graceful restart recovery in progress");
        f.line(
            code::GR_STATUS,
            &format!("  Waiting for {waiting} protocols to recover"),
        );
        f.line(code::GR_STATUS, &format!("  Wait timer is {left}/{total}"));
    }
    if *s.shutdown.borrow() {
        f.end(code::STATUS, "Shutdown in progress");
    } else {
        f.end(code::STATUS, "Daemon is up and running");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::testing::view_with;

    #[test]
    fn matches_bird_shape_line_by_line() {
        let (view, _keep) = view_with(&[]);
        let mut f = Framer::new();
        run(&view, SystemTime::now(), &mut f);
        let text = f.take();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            format!("1000-BIRD v{}+bgpd", env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(lines[1], "1011-Router ID is 10.99.0.1");
        assert!(lines[2].starts_with(" Current server time is 20"));
        assert!(lines[3].starts_with(" Last reboot on 20"));
        assert!(lines[4].starts_with(" Last reconfiguration on 20"));
        assert_eq!(lines[5], "0013 Daemon is up and running");
        assert_eq!(lines.len(), 6);
        // "Current server time is YYYY-MM-DD HH:MM:SS"
        assert_eq!(lines[2].len(), " Current server time is ".len() + 19);
    }

    #[test]
    fn graceful_restart_recovery_of_a_restarting_speaker() {
        use crate::control::testing::{established, with_recovery};
        use std::time::{Duration, Instant};
        let (mut view, keep) = view_with(&[
            ("Mesh_10_99_0_2", "10.99.0.2"),
            ("Mesh_10_99_0_3", "10.99.0.3"),
        ]);
        let mut t = with_recovery(&mut view, Duration::from_secs(25));
        established(&keep[0]);
        let v4 = [bgp_proto::Family::Ipv4Unicast];
        assert!(t.session_up(rib::PeerId(1), true, false, &v4));
        t.end_of_rib(rib::PeerId(1));
        let mut f = Framer::new();
        run(&view, SystemTime::now(), &mut f);
        let text = f.take();
        let lines: Vec<&str> = text.lines().collect();
        // BIRD 1.6: `0024-` then two continuation lines, `0013` last.
        assert_eq!(lines[5], "0024-Graceful restart recovery in progress");
        assert_eq!(lines[6], "   Waiting for 1 protocols to recover");
        assert!(
            lines[7] == "   Wait timer is 25/25" || lines[7] == "   Wait timer is 24/25",
            "{}",
            lines[7]
        );
        assert_eq!(lines[8], "0013 Daemon is up and running");
        assert_eq!(lines.len(), 9);
        // The wait timer ends it.
        assert!(t.poll(Instant::now() + Duration::from_secs(30)).is_some());
        let mut f = Framer::new();
        run(&view, SystemTime::now(), &mut f);
        assert!(!f.take().contains("0024"));
    }

    #[test]
    fn graceful_restart_recovery_while_the_fib_defers_reconciliation() {
        use crate::control::testing::{established, with_kernel};
        use std::sync::atomic::Ordering;
        let (mut view, keep) = view_with(&[("Mesh_10_99_0_2", "10.99.0.2")]);
        let counters = with_kernel(&mut view);
        established(&keep[0]);
        // The RIB actor's count: Established, no End-of-RIB yet.
        counters.holding.store(1, Ordering::Relaxed);
        let mut f = Framer::new();
        run(&view, SystemTime::now(), &mut f);
        let text = f.take();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[5], "0024-Graceful restart recovery in progress");
        // Established but no End-of-RIB yet: it still holds the recovery.
        assert_eq!(lines[6], "   Waiting for 1 protocols to recover");
        assert!(
            lines[7] == "   Wait timer is 15/15" || lines[7] == "   Wait timer is 14/15",
            "{}",
            lines[7]
        );
        assert_eq!(lines[8], "0013 Daemon is up and running");
        assert_eq!(lines.len(), 9);
        // Reconciled: no recovery any more.
        counters.converged.store(true, Ordering::Relaxed);
        let mut f = Framer::new();
        run(&view, SystemTime::now(), &mut f);
        let text = f.take();
        assert!(!text.contains("0024"), "{text}");
        assert!(text.ends_with("0013 Daemon is up and running\n"), "{text}");
    }
}
