//! `down` (BIRD 1.6 `cmd_shutdown`): `0007 Shutdown requested`, then the daemon stops as on
//! SIGTERM. The connection asks for the shutdown once the reply is written (see
//! [`crate::control`]), so the client always gets it.

use crate::control::reply::{code, Framer};
use crate::control::state::View;

use super::After;

pub fn run(_view: &View, f: &mut Framer) -> After {
    f.end(code::SHUTDOWN, "Shutdown requested");
    After::ShuttingDown
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::testing::view_with;

    #[test]
    fn down_replies_then_asks_for_shutdown() {
        let (view, _keep) = view_with(&[]);
        let mut f = Framer::new();
        assert_eq!(run(&view, &mut f), After::ShuttingDown);
        assert_eq!(f.take(), "0007 Shutdown requested\n");
    }
}
