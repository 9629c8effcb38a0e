//! What split horizon inside an update group costs: a reflector with one group of 100 clients
//! is sent 100,000 /26 routes (batches of 1,000), once by a client (its routes must not go back
//! to it: the group encodes them apart and that member is skipped) and once, in a fresh RIB, by
//! a non-client (every member gets everything). Prints export time per route and the bytes
//! written to the members in both runs, and their ratios. Run:
//! `cargo bench -p rib --bench split_horizon`.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use bgp_proto::attribute::{AsPath, Origin, PathAttributes};
use bgp_proto::{Asn, Family, RouterId, SessionContext};
use ipnet::{IpNet, Ipv4Net};
use rib::{AcceptAll, AttrSet, ExportAll, LocalInfo, PeerId, PeerInfo, Rib, RouteUpdate};
use rib::{GroupUpdate, SessionInfo};

const N: u32 = 100_000;
const BATCH: u32 = 1_000;
const CLIENTS: u32 = 100;
const AS: Asn = Asn(64512);

fn addr(i: u32) -> Ipv4Addr {
    Ipv4Addr::from((10u32 << 24) + (99 << 16) + i)
}

/// A reflector with `CLIENTS` clients (ids 1..=CLIENTS, one update group) and, if `source` is
/// not one of them, a non-client with that id; every session up. (A client's routes would go to
/// a non-client's group too: without one, both runs export to the clients' group only, but for
/// the non-client's own group of one, which its routes skip at a lookup per prefix.)
fn reflector(source: u32) -> Rib {
    let mut rib = Rib::new(LocalInfo::new(RouterId(addr(0)), AS));
    for id in (1..=CLIENTS).chain((source > CLIENTS).then_some(source)) {
        let mut p = PeerInfo::new(PeerId(id), IpAddr::V4(addr(id)), AS);
        p.local_v4 = Some(addr(0));
        p.rr_client = id <= CLIENTS;
        rib.add_peer(p).expect("peer");
        let session = SessionInfo {
            router_id: RouterId(addr(id)),
            context: SessionContext {
                four_octet_as: true,
                ..SessionContext::default()
            },
            families: vec![Family::Ipv4Unicast],
        };
        rib.peer_up(PeerId(id), session, &mut ExportAll)
            .expect("up");
    }
    rib
}

/// Time spent in `export` and bytes written to the clients for `N` routes from `source`.
fn run(source: u32) -> (Duration, usize, usize) {
    let mut rib = reflector(source);
    let attrs = rib.intern(AttrSet {
        attrs: PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::default()),
            next_hop: Some(addr(source)),
            local_pref: Some(100),
            ..PathAttributes::default()
        },
        mp_next_hop: None,
    });
    let prefix =
        |i: u32| IpNet::V4(Ipv4Net::new(Ipv4Addr::from((10u32 << 24) + i * 64), 26).expect("pfx"));
    let (mut spent, mut written, mut to_source) = (Duration::ZERO, 0usize, 0usize);
    let mut i = 0;
    while i < N {
        let batch = (i..(i + BATCH).min(N)).map(|k| RouteUpdate {
            prefix: prefix(k),
            path_id: 0,
            attrs: Some(attrs.clone()),
        });
        let c = rib
            .apply_routes(PeerId(source), batch, &mut AcceptAll)
            .expect("apply");
        let t = Instant::now();
        let out: Vec<GroupUpdate> = rib.export(&c, &mut ExportAll);
        spent += t.elapsed();
        for g in &out {
            for p in g.peers.iter().filter(|p| p.0 <= CLIENTS) {
                let n: usize = g.bytes_for(*p).map(|b| b.len()).sum();
                written += n;
                if p.0 == source {
                    to_source += n;
                }
            }
        }
        i += BATCH;
    }
    (spent, written, to_source)
}

fn main() {
    // Alternate the two runs and take medians: the machine is shared.
    const RUNS: usize = 5;
    let (mut split, mut all) = (Vec::new(), Vec::new());
    let (mut b_split, mut b_all, mut own) = (0, 0, 0);
    for _ in 0..RUNS {
        let (t, b, o) = run(1);
        split.push(t);
        (b_split, own) = (b, o);
        let (t, b, _) = run(CLIENTS + 1);
        all.push(t);
        b_all = b;
    }
    split.sort();
    all.sort();
    let (t_split, t_all) = (split[RUNS / 2], all[RUNS / 2]);
    let per = |t: Duration| t.as_nanos() as f64 / f64::from(N);
    println!(
        "{N} routes to a group of {CLIENTS} clients, batches of {BATCH}, median of {RUNS}:\n  \
         from a client (split horizon): export {:.0} ns/route, {b_split} bytes to clients \
         ({own} to the source)\n  \
         from a non-client (no split):  export {:.0} ns/route, {b_all} bytes to clients\n  \
         ratios split/no split: time {:.2}, bytes {:.3}",
        per(t_split),
        per(t_all),
        t_split.as_secs_f64() / t_all.as_secs_f64(),
        b_split as f64 / b_all as f64
    );
}
