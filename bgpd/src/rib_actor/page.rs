//! `show route` listings in pages ([`RibQuery::ShowPage`](super::RibQuery::ShowPage)): each
//! page visits at most [`PAGE_NETWORKS`] networks from a cursor, so building one takes a bounded
//! time and memory, and pages wait behind route processing: a page is served when no request
//! is at hand, or after [`BATCHES_PER_PAGE`] peer batches while pages wait (so that listings
//! progress during a long load without slowing it much). Many clients listing the table during
//! a load used to make the actor build the whole table per client (1.97 s -> 65 s for a
//! 100k-route load with 64 clients, 0.4-0.6 GB held afterwards).

use std::collections::VecDeque;
use std::ops::ControlFlow;

use bgp_proto::Prefix;
use tokio::sync::oneshot;

use super::show::{keeps_route, listed};
use super::RibActor;
use crate::route_view::{Family, Net, RouteFilter, RoutePage, PAGE_NETWORKS};

/// Peer batches served, while pages wait, before the next page.
pub const BATCHES_PER_PAGE: u32 = 4;

/// A request for one page.
#[derive(Debug)]
pub struct PageQuery {
    /// Its `family` must be set (a listing is of one family).
    pub filter: RouteFilter,
    /// The last network of the previous page; `None`: the first page.
    pub after: Option<Net>,
    pub reply: oneshot::Sender<RoutePage>,
}

/// Pages waiting for their turn.
#[derive(Debug, Default)]
pub struct Pending {
    queue: VecDeque<PageQuery>,
    /// Peer batches served since the last page.
    batches: u32,
}

impl Pending {
    pub fn defer(&mut self, q: PageQuery) {
        self.queue.push_back(q);
    }

    pub fn waiting(&self) -> bool {
        !self.queue.is_empty()
    }

    /// One peer batch was processed.
    pub fn worked(&mut self) {
        self.batches = self.batches.saturating_add(1);
    }

    /// A page is due even though requests are waiting.
    pub fn turn(&self) -> bool {
        self.waiting() && self.batches >= BATCHES_PER_PAGE
    }
}

impl RibActor {
    /// Builds and sends the oldest waiting page.
    pub(super) fn serve_page(&mut self) {
        self.pages.batches = 0;
        let Some(q) = self.pages.queue.pop_front() else {
            return;
        };
        if q.reply.is_closed() {
            // The client went away (or timed out) meanwhile.
            return;
        }
        let page = self.page(&q.filter, q.after, PAGE_NETWORKS);
        let _ = q.reply.send(page);
    }

    /// The kept routes of the next `limit` networks of `f.family` after `after`.
    pub(super) fn page(&mut self, f: &RouteFilter, after: Option<Net>, limit: usize) -> RoutePage {
        let v6 = f.family == Some(Family::V6);
        let after = after.and_then(|n| Prefix::new(n.addr, n.len).ok());
        let mut nets = Vec::new();
        let mut visited = 0;
        let mut next = None;
        let peers = &self.peers;
        self.rib
            .for_each_explained_after(v6, after.as_ref(), |prefix, paths| {
                visited += 1;
                let paths: Vec<_> = paths.into_iter().filter(|p| listed(p, peers)).collect();
                if paths
                    .iter()
                    .enumerate()
                    .any(|(i, p)| keeps_route(peers, f, i, p.lost.is_none(), p.peer))
                {
                    nets.push((prefix, paths));
                }
                if visited >= limit {
                    next = Some(Net {
                        addr: prefix.addr(),
                        len: prefix.prefix_len(),
                    });
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            });
        RoutePage {
            routes: self.entries(&nets, f),
            next,
        }
    }
}
