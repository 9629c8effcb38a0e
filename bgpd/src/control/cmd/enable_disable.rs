//! `enable`, `disable`, `restart` NAME | "PATTERN" | all (BIRD 1.6 `proto_cmd_enable` and
//! friends): one line per protocol (`NAME: disabled`, `NAME: already disabled`, ...), then
//! `0000`. The order goes to the peer task's command channel.

use tokio::sync::mpsc::error::TrySendError;

use crate::control::parse::Target;
use crate::control::reply::{code, Framer};
use crate::control::state::{PeerView, View};
use crate::peer::PeerCommand;
use crate::status::AdminCommand;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Enable,
    Disable,
    Restart,
}

/// Sends `cmd`; on a full queue (the task is busy for longer than a command takes) the
/// operator is told to retry rather than being blocked.
fn send(p: &PeerView, cmd: AdminCommand) -> Result<(), &'static str> {
    match p.commands.try_send(PeerCommand::Admin(cmd)) {
        Ok(()) => Ok(()),
        Err(TrySendError::Full(_)) => Err("busy, try again"),
        Err(TrySendError::Closed(_)) => Err("stopped"),
    }
}

pub fn run(view: &View, action: Action, target: &Target, f: &mut Framer) {
    let Some(peers) = view.select(Some(target)).or_reply(f) else {
        return;
    };
    for p in peers {
        let name = p.neighbor.name.as_str();
        let enabled = p.status.borrow().enabled;
        let (cmd, ok_code, ok_text) = match action {
            Action::Enable if enabled => {
                f.line(code::ALREADY_ENABLED, &format!("{name}: already enabled"));
                continue;
            }
            Action::Disable | Action::Restart if !enabled => {
                f.line(code::ALREADY_DISABLED, &format!("{name}: already disabled"));
                continue;
            }
            Action::Enable => (AdminCommand::Enable, code::ENABLED, "enabled"),
            Action::Disable => (AdminCommand::Disable, code::DISABLED, "disabled"),
            Action::Restart => (AdminCommand::Restart, code::RESTARTED, "restarted"),
        };
        match send(p, cmd) {
            Ok(()) => {
                if cmd != AdminCommand::Enable {
                    // As in BIRD, a protocol the operator stops leaves our graceful-restart
                    // recovery: it no longer holds it, and its next session is not deferred.
                    if let Some(r) = view.state.recovering() {
                        r.operator_stopped(name);
                    }
                }
                f.line(ok_code, &format!("{name}: {ok_text}"))
            }
            Err(why) => f.line(code::RELOAD_FAILED, &format!("{name}: {why}")),
        }
    }
    f.ok();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::testing::view_with;

    #[test]
    fn disable_sends_the_command_and_reports_like_bird() {
        let (view, mut keep) = view_with(&[
            ("Mesh_10_99_0_2", "10.99.0.2"),
            ("Mesh_10_99_0_3", "10.99.0.3"),
        ]);
        let mut f = Framer::new();
        run(
            &view,
            Action::Disable,
            &Target::Pattern("Mesh_*".into()),
            &mut f,
        );
        assert_eq!(
            f.take(),
            "0009-Mesh_10_99_0_2: disabled\n Mesh_10_99_0_3: disabled\n0000 \n"
        );
        assert!(matches!(
            keep.commands[0].try_recv(),
            Ok(PeerCommand::Admin(AdminCommand::Disable))
        ));
        keep[0].0.enabled(false);
        run(
            &view,
            Action::Restart,
            &Target::Name("Mesh_10_99_0_2".into()),
            &mut f,
        );
        assert_eq!(f.take(), "0008-Mesh_10_99_0_2: already disabled\n0000 \n");
        run(&view, Action::Enable, &Target::All, &mut f);
        assert_eq!(
            f.take(),
            "0011-Mesh_10_99_0_2: enabled\n0010-Mesh_10_99_0_3: already enabled\n0000 \n"
        );
        run(&view, Action::Enable, &Target::Name("x".into()), &mut f);
        assert_eq!(f.take(), "9002 x is not a protocol\n");
    }
}
