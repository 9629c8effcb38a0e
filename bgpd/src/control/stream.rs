//! `show route` listings written page by page: the RIB actor answers one page
//! ([`crate::route_view::RoutePage`]) at a time, this task writes it to the client before
//! asking for the next, so a listing holds one page whatever the table's size and a client
//! that reads slowly only slows itself. (The whole reply used to be built first: 64 clients
//! listing 100k routes held 0.4-0.6 GB.)

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use tokio::net::UnixStream;

use super::cmd::show_route::Listing;
use super::parse::RouteQuery;
use super::reply::{code, Framer};
use super::{write, End, View};

/// Listings being written, over all sockets.
static ACTIVE: AtomicUsize = AtomicUsize::new(0);
/// When freed memory was last given back.
static TRIMMED: Mutex<Option<Instant>> = Mutex::new(None);

/// Counts a listing while it runs; the last one to end gives the memory its pages used back to
/// the system (glibc keeps freed heap pages in its per-thread arenas: measured with 64 clients
/// listing 100k routes during a load, 15 MiB stayed held afterwards without this).
struct Running;

impl Running {
    fn start() -> Running {
        ACTIVE.fetch_add(1, Ordering::AcqRel);
        Running
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if ACTIVE.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        let mut last = TRIMMED.lock().unwrap_or_else(PoisonError::into_inner);
        if last.is_some_and(|t| t.elapsed() < Duration::from_secs(1)) {
            return;
        }
        *last = Some(Instant::now());
        drop(last);
        if let Ok(h) = tokio::runtime::Handle::try_current() {
            h.spawn_blocking(release_freed_memory);
        }
    }
}

/// glibc's `malloc_trim(0)`: returns the free pages of every arena to the system.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn release_freed_memory() {
    // SAFETY: malloc_trim takes no pointer and touches only glibc's own heaps, under the
    // arenas' locks; it may be called from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_freed_memory() {}

/// Serves `show route` for `q` (a listing, see [`super::cmd::show_route::is_listing`]).
pub(super) async fn show_route(
    stream: &mut UnixStream,
    f: &mut Framer,
    view: View,
    q: RouteQuery,
) -> Result<(), End> {
    let _running = Running::start();
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
