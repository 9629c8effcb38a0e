//! `show route` listings written page by page: the RIB actor answers one page
//! ([`crate::control::route::RoutePage`]) at a time, this task writes it to the client before
//! asking for the next, so a listing holds one page whatever the table's size and a client
//! that reads slowly only slows itself. (The whole reply used to be built first: 64 clients
//! listing 100k routes held 0.4-0.6 GB.)

use std::time::SystemTime;

use tokio::net::UnixStream;

use super::cmd::show_route::Listing;
use super::parse::RouteQuery;
use super::reply::{code, Framer};
use super::{write, End, View};

/// Serves `show route` for `q` (a listing, see [`super::cmd::show_route::is_listing`]).
pub(super) async fn show_route(
    stream: &mut UnixStream,
    f: &mut Framer,
    view: View,
    q: RouteQuery,
) -> Result<(), End> {
    // The device routes come from /sys: read off the async workers.
    let (listing, mut f2) = {
        let (view, q) = (view.clone(), q.clone());
        let mut g = std::mem::take(f);
        tokio::task::spawn_blocking(move || (Listing::start(&view, &q, &mut g), g))
            .await
            .map_err(|_| End::Shutdown)?
    };
    let Some(mut listing) = listing else {
        // An error reply (unknown protocol).
        let r = write(stream, f2.take().as_bytes()).await;
        *f = f2;
        return r;
    };
    let filter = Listing::filter(&view, &q);
    let mut after = None;
    while listing.rib {
        let page = match view.state.routes.page(filter.clone(), after).await {
            Ok(p) => p,
            Err(e) => {
                // A reply may end with an error after some lines, as BIRD's do.
                f2.end(code::ROUTES_UNAVAILABLE, e.message());
                let r = write(stream, f2.take().as_bytes()).await;
                *f = f2;
                return r;
            }
        };
        let now = SystemTime::now();
        listing.page(page.routes, page.next.as_ref(), now, &mut f2);
        if !f2.is_empty() {
            write(stream, f2.take().as_bytes()).await?;
        }
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    listing.finish(SystemTime::now(), &mut f2);
    let r = write(stream, f2.take().as_bytes()).await;
    *f = f2;
    r
}
