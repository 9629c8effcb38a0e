//! Insert 1M IPv4 /26 routes from one peer with one attribute set, then export them to one
//! update group; print time and bytes per route (live heap bytes counted by a wrapping global
//! allocator). Run: `cargo bench -p rib --bench insert`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use bgp_proto::attribute::{AsPath, Origin, PathAttributes};
use bgp_proto::builder::{announce, Announce, EncodedAttributes};
use bgp_proto::nlri::NlriEntry;
use bgp_proto::update::Update;
use bgp_proto::{Asn, Family, RouterId, SessionContext, HEADER_LEN};
use ipnet::{IpNet, Ipv4Net};
use rib::{
    AcceptAll, AttrSet, ExportAll, LocalInfo, PeerId, PeerInfo, Rib, RouteUpdate, SessionInfo,
};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the wrapper only keeps a
// counter of live bytes, which cannot affect the returned memory.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size(), Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new, Ordering::Relaxed);
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const N: u32 = 1_000_000;
const BATCH: u32 = 1_000;

fn main() {
    let local = LocalInfo::new(RouterId(Ipv4Addr::new(10, 99, 0, 1)), Asn(64512));
    let mut rib = Rib::new(local);
    let mut peer = PeerInfo::new(
        PeerId(1),
        IpAddr::V4(Ipv4Addr::new(10, 99, 0, 2)),
        Asn(64512),
    );
    peer.local_v4 = Some(Ipv4Addr::new(10, 99, 0, 1));
    rib.add_peer(peer).expect("peer");
    let ctx = SessionContext {
        four_octet_as: true,
        ..SessionContext::default()
    };
    let session = SessionInfo {
        router_id: RouterId(Ipv4Addr::new(10, 99, 0, 2)),
        context: ctx,
        families: vec![Family::Ipv4Unicast],
    };
    rib.peer_up(PeerId(1), session, &mut ExportAll).expect("up");
    let attrs = rib.intern(AttrSet {
        attrs: PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::default()),
            next_hop: Some(Ipv4Addr::new(10, 99, 0, 2)),
            local_pref: Some(100),
            ..PathAttributes::default()
        },
        mp_next_hop: None,
    });
    let prefix = |i: u32| {
        IpNet::V4(Ipv4Net::new(Ipv4Addr::from((10u32 << 24) + i * 64), 26).expect("prefix"))
    };

    let before = LIVE.load(Ordering::Relaxed);
    let t = Instant::now();
    let mut changed = 0usize;
    let mut i = 0;
    while i < N {
        let batch = (i..(i + BATCH).min(N)).map(|k| RouteUpdate {
            prefix: prefix(k),
            path_id: 0,
            attrs: Some(attrs.clone()),
        });
        let c = rib
            .apply_routes(PeerId(1), batch, &mut AcceptAll)
            .expect("apply");
        changed += c.len();
        i += BATCH;
    }
    let dt = t.elapsed();
    let live = LIVE.load(Ordering::Relaxed) - before;
    println!(
        "insert {N} /26 from one peer, batches of {BATCH}: {:.3} s ({:.0} ns/route, {:.2} M routes/s), {changed} Loc-RIB changes",
        dt.as_secs_f64(),
        dt.as_nanos() as f64 / f64::from(N),
        f64::from(N) / dt.as_secs_f64() / 1e6
    );
    println!(
        "  live heap after insert: {:.1} MiB = {:.1} bytes/route (Adj-RIB-In + Loc-RIB), {} attribute set(s)",
        live as f64 / 1048576.0,
        live as f64 / f64::from(N),
        rib.stats().attr_sets
    );

    // Export all of it to a second (eBGP) peer's group: one encode for the group.
    let mut tor = PeerInfo::new(
        PeerId(2),
        IpAddr::V4(Ipv4Addr::new(10, 99, 0, 3)),
        Asn(65100),
    );
    tor.local_v4 = Some(Ipv4Addr::new(10, 99, 0, 1));
    rib.add_peer(tor).expect("peer");
    let before = LIVE.load(Ordering::Relaxed);
    let t = Instant::now();
    let up = rib
        .peer_up(
            PeerId(2),
            SessionInfo {
                router_id: RouterId(Ipv4Addr::new(10, 99, 0, 3)),
                context: ctx,
                families: vec![Family::Ipv4Unicast],
            },
            &mut ExportAll,
        )
        .expect("up");
    let dt = t.elapsed();
    let bytes = up.encoded.bytes.len();
    drop(up);
    let live = LIVE.load(Ordering::Relaxed) - before;
    println!(
        "export {N} routes to a new eBGP group + initial dump: {:.3} s ({:.0} ns/route), {:.1} MiB of UPDATEs",
        dt.as_secs_f64(),
        dt.as_nanos() as f64 / f64::from(N),
        bytes as f64 / 1048576.0
    );
    println!(
        "  live heap of the group's Adj-RIB-Out: {:.1} bytes/route",
        live as f64 / f64::from(N)
    );

    let t = Instant::now();
    let c = rib.peer_down(PeerId(1), false).expect("down");
    println!(
        "peer down removing {} routes: {:.3} s",
        c.len(),
        t.elapsed().as_secs_f64()
    );

    // The same million routes as real UPDATE messages: decode + apply_update.
    let wire = announce(
        &ctx,
        &EncodedAttributes::new(&attrs.attrs, &ctx).expect("encode"),
        Announce::Ipv4Classic,
        (0..N).map(|k| NlriEntry::new(prefix(k))),
    )
    .expect("build");
    let session = SessionInfo {
        router_id: RouterId(Ipv4Addr::new(10, 99, 0, 2)),
        context: ctx,
        families: vec![Family::Ipv4Unicast],
    };
    rib.peer_up(PeerId(1), session, &mut ExportAll).expect("up");
    let t = Instant::now();
    let mut changed = 0usize;
    for m in &wire {
        let u = Update::decode(&m[HEADER_LEN..], &ctx).expect("decode");
        changed += rib
            .apply_update(PeerId(1), &u, &mut AcceptAll)
            .expect("apply")
            .len();
    }
    let dt = t.elapsed();
    println!(
        "decode + apply_update of {} UPDATEs ({N} /26): {:.3} s ({:.0} ns/route), {changed} changes",
        wire.len(),
        dt.as_secs_f64(),
        dt.as_nanos() as f64 / f64::from(N)
    );
}
