//! `reload [in|out] NAME | "PATTERN" | all` (BIRD 1.6 `proto_cmd_reload`). Re-import needs the
//! RIB and route refresh sending, re-export needs the Adj-RIB-Out: neither exists yet, so an
//! Established peer gets BIRD's own failure line `NAME: reload failed` (8006) and a peer that
//! is not up is skipped, as BIRD does.

use crate::control::parse::{ReloadDirection, Target};
use crate::control::reply::{code, Framer};
use crate::control::state::View;
use crate::status::ProtoState;

pub fn run(view: &View, _direction: ReloadDirection, target: &Target, f: &mut Framer) {
    let Some(peers) = view.select(Some(target)).or_reply(f) else {
        return;
    };
    for p in peers {
        let name = p.neighbor.name.as_str();
        match p.status.borrow().proto_state() {
            ProtoState::Down => {
                f.line(code::ALREADY_DISABLED, &format!("{name}: already disabled"))
            }
            ProtoState::Start => {}
            ProtoState::Up => f.line(code::RELOAD_FAILED, &format!("{name}: reload failed")),
        }
    }
    f.ok();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::testing::{established, view_with};

    #[test]
    fn reload_is_refused_honestly() {
        let (view, keep) = view_with(&[
            ("Mesh_10_99_0_2", "10.99.0.2"),
            ("Mesh_10_99_0_3", "10.99.0.3"),
        ]);
        established(&keep[0]);
        let mut f = Framer::new();
        run(&view, ReloadDirection::In, &Target::All, &mut f);
        assert_eq!(f.take(), "8006-Mesh_10_99_0_2: reload failed\n0000 \n");
    }
}
