//! The peer task's side of the next-hop view: rebuilt from the daemon's interface table when
//! the session comes up and whenever the table changes while it is up (an address added or
//! removed changes what is ours and what is connected: RFC 4271 §5.1.3, §6.3).

use tracing::debug;

use super::PeerTask;
use crate::fsm::State;

impl PeerTask {
    /// Gives the session the next-hop view of the interface table as it is now.
    pub(super) fn refresh_next_hop_view(&mut self) {
        let table = self
            .interfaces
            .as_mut()
            .map(|rx| rx.borrow_and_update().clone());
        let view = crate::next_hop_view::read(
            &self.neighbor,
            self.session.config(),
            self.local_of_session,
            table.as_deref(),
        );
        self.session.set_next_hop_view(view);
    }

    /// The interface table changed: an Established session checks next hops against it.
    pub(super) fn interfaces_changed(&mut self) {
        if self.session.state() == State::Established {
            debug!(event = "next_hop_view_refreshed", "interface table changed");
            self.refresh_next_hop_view();
        }
    }
}
