//! `show status` (BIRD 1.6 `cmd_show_status`): version, router id, times, then `0013`.
//! `0024` (graceful restart recovery) is never sent: the daemon does no GR recovery of its own.

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
        assert_eq!(lines[0], "1000-BIRD 1.6.8");
        assert_eq!(lines[1], "1011-Router ID is 10.99.0.1");
        assert!(lines[2].starts_with(" Current server time is 20"));
        assert!(lines[3].starts_with(" Last reboot on 20"));
        assert!(lines[4].starts_with(" Last reconfiguration on 20"));
        assert_eq!(lines[5], "0013 Daemon is up and running");
        assert_eq!(lines.len(), 6);
        // "Current server time is YYYY-MM-DD HH:MM:SS"
        assert_eq!(lines[2].len(), " Current server time is ".len() + 19);
    }
}
