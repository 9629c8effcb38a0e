//! `down` (BIRD 1.6 `cmd_shutdown`): `0007 Shutdown requested`, then the daemon stops as on
//! SIGTERM.

use crate::control::reply::{code, Framer};
use crate::control::state::View;

use super::After;

pub fn run(view: &View, f: &mut Framer) -> After {
    f.end(code::SHUTDOWN, "Shutdown requested");
    view.state.shutdown.send_replace(true);
    After::ShuttingDown
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::testing::view_with;

    #[test]
    fn down_requests_shutdown() {
        let (view, _keep) = view_with(&[]);
        let mut f = Framer::new();
        assert_eq!(run(&view, &mut f), After::ShuttingDown);
        assert_eq!(f.take(), "0007 Shutdown requested\n");
        assert!(*view.state.shutdown.borrow());
    }
}
