//! Running Calico's BIRD filters must not allocate per route: count heap allocations made by
//! this thread while the export, import and kernel filters of both template generations (the
//! IR of `policy/src/bird/eval/calico.rs`) run over many routes.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::{IpAddr, Ipv4Addr};

use bgp_proto::attribute::{AsPath, Community, LargeCommunity, PathAttributes};
use bgp_proto::types::Asn;
use ipnet::{IpNet, Ipv4Net};
use policy::bird::{ir, run, Program, RouteSourceKind as Rs, RouteView, Verdict};

#[path = "../src/bird/eval/calico.rs"]
mod calico;
use calico::*;

struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; the only addition is a
// thread-local counter that does not allocate.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn net(a: u8, b: u8, c: u8, d: u8, len: u8) -> IpNet {
    IpNet::V4(Ipv4Net::new(Ipv4Addr::new(a, b, c, d), len).unwrap())
}

#[test]
fn calico_filters_do_not_allocate_per_route() {
    // Programs: generation 2 with BGPFilters and communities, generation 1.
    let mut filters = bgpfilter_communities_ops();
    filters.extend(bgpfilter_as_path_prio());
    filters.extend(bgpfilter_large_community());
    filters.push(bgpfilter_kubevirt_export());
    let f2 = gen2_functions(Gen2 {
        communities: mesh_communities(),
        export_pools: &["172.16.0.0/16", "172.17.0.0/16", "192.168.0.0/16"],
        reject_tunl0: true,
        bgp_filters: filters,
    });
    let f1 = gen1_functions();
    let programs: Vec<Program> = vec![
        gen2_export(&f2, None, true),
        gen2_export(&f2, None, false),
        gen2_export(&f2, Some((FIRST_BGP_FILTER + 1, vec![])), true),
        gen2_export(&f2, Some((FIRST_BGP_FILTER + 3, vec![])), true),
        gen2_export(
            &f2,
            Some((
                FIRST_BGP_FILTER + 6,
                vec![ir::Expr::Const(ir::Const::Bool(false))],
            )),
            false,
        ),
        gen2_import(&f2, None),
        gen2_import(&f2, Some(FIRST_BGP_FILTER)),
        gen2_import(&f2, Some(FIRST_BGP_FILTER + 2)),
        gen2_import(&f2, Some(FIRST_BGP_FILTER + 4)),
        gen2_kernel(&f2),
        gen1_export(&f1),
        gen1_kernel(&f1),
    ];

    // Attribute sets, as a RIB holds them (few sets, many prefixes).
    let mut tagged = PathAttributes {
        local_pref: Some(2147483647 - 512),
        as_path: Some(AsPath::from_sequence([Asn(65000), Asn(65001)])),
        communities: Some(vec![Community::new(65000, 42), Community::new(65000, 100)]),
        large_communities: Some(vec![LargeCommunity {
            global: 65000,
            local1: 100,
            local2: 200,
        }]),
        ..Default::default()
    };
    let attr_sets = [
        PathAttributes {
            local_pref: Some(2147483647 - 1024),
            as_path: Some(AsPath::default()),
            ..Default::default()
        },
        tagged.clone(),
        {
            tagged.local_pref = Some(2147483447);
            tagged.as_path = Some(AsPath::from_sequence([Asn(65010)]));
            tagged
        },
        PathAttributes {
            local_pref: Some(2147483547),
            as_path: Some(AsPath::from_sequence([Asn(65000), Asn(7), Asn(8)])),
            ..Default::default()
        },
    ];
    let hops: [IpAddr; 2] = [
        IpAddr::V4(Ipv4Addr::new(10, 192, 0, 3)),
        IpAddr::V4(Ipv4Addr::new(10, 50, 0, 1)),
    ];
    let ifaces = [Some("cali12345678"), Some("eth0.cali"), Some("eth0"), None];

    let mut routes: Vec<RouteView<'_>> = Vec::new();
    for i in 0u32..2500 {
        let (b, c) = ((i >> 8) as u8, i as u8);
        // Remote blocks learned over BGP, in the three pools and outside.
        let first = [172u8, 172, 192, 10][(i % 4) as usize];
        let second = [16u8, 17, 168, 244][(i % 4) as usize];
        routes.push(RouteView {
            net: net(first, second, c, 0, 26),
            source: Rs::Bgp,
            ifname: Some("eth0"),
            preference: 100,
            krt_metric: None,
            next_hop: Some(hops[(i % 2) as usize]),
            attrs: Some(&attr_sets[(i % 4) as usize]),
        });
        // Pod routes under an own block, with and without a kernel metric.
        routes.push(RouteView {
            net: net(192, 168, 221, 64 + (c % 64), 32),
            source: Rs::Inherit,
            ifname: ifaces[(i % 4) as usize],
            preference: 10,
            krt_metric: (i % 2 == 0).then_some(512),
            next_hop: None,
            attrs: None,
        });
        // Own blocks and other static routes.
        routes.push(RouteView {
            net: if i % 5 == 0 {
                net(10, 1, 0, 0, 24)
            } else {
                net(10, 3, b, c, 32)
            },
            source: Rs::Static,
            ifname: None,
            preference: 200,
            krt_metric: None,
            next_hop: None,
            attrs: None,
        });
    }

    let before = ALLOCS.with(Cell::get);
    let (mut accepted, mut rejected, mut errors, mut written) = (0usize, 0usize, 0usize, 0usize);
    for p in &programs {
        for r in &routes {
            match run(p, r) {
                Ok(o) => {
                    match o.verdict {
                        Verdict::Accept => accepted += 1,
                        Verdict::Reject => rejected += 1,
                    }
                    written += usize::from(!o.changes.is_empty());
                }
                Err(_) => errors += 1,
            }
        }
    }
    let after = ALLOCS.with(Cell::get);
    // The counter is live: one allocation in the window would have shown.
    let probe = std::hint::black_box(Box::new(after));
    assert_eq!(ALLOCS.with(Cell::get), *probe + 1);

    assert_eq!(accepted + rejected + errors, programs.len() * routes.len());
    assert!(accepted > 10_000, "accepted {accepted}");
    assert!(rejected > 10_000, "rejected {rejected}");
    assert!(written > 10_000, "written {written}");
    // The AS-path BGPFilter import (`bgp_path ~ [= 65000 * =]`) run on the 5000 non-BGP
    // routes reads an undefined bgp_path: a runtime error, as in BIRD (which never runs an
    // import filter of a BGP protocol on them). Errors allocate nothing either.
    assert_eq!(errors, 5000);
    assert_eq!(
        after - before,
        0,
        "running the filters allocated ({} runs)",
        programs.len() * routes.len()
    );
}
