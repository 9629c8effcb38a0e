//! Time per route of Calico's BIRD filters on the evaluator (`policy::bird::run`), with the
//! IR of `src/bird/eval/calico.rs`: the generation-2 export filter on an own block and on a
//! route from a peer, the kernel filter on an IP-in-IP cross-subnet route, a BGPFilter import
//! with AS-path masks, and a BGPFilter export that adds a community and prepends.
//!
//! `cargo bench -p policy --bench bird_eval`. Besides criterion's report, a fixed loop prints
//! ns/route per case (there is no other evaluator of these programs in the process to compare
//! with; BIRD's own cost is part of the interop route benchmarks).

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use bgp_proto::attribute::{AsPath, Community, PathAttributes};
use bgp_proto::types::Asn;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use policy::bird::{ir, run, Program, RouteSourceKind as Rs, RouteView};

#[path = "../src/bird/eval/calico.rs"]
mod calico;
use calico::*;

struct Case<'a> {
    name: &'static str,
    program: Program,
    route: RouteView<'a>,
}

fn cases(attrs: &PathAttributes) -> Vec<Case<'_>> {
    let mut filters = bgpfilter_communities_ops();
    filters.extend(bgpfilter_as_path_prio());
    let f = gen2_functions(Gen2 {
        communities: vec![],
        export_pools: &["172.16.0.0/16", "172.17.0.0/16", "192.168.0.0/16"],
        reject_tunl0: true,
        bgp_filters: filters,
    });
    let local = RouteView {
        net: "192.168.221.64/26".parse().unwrap(),
        source: Rs::Static,
        ifname: None,
        preference: 200,
        krt_metric: None,
        next_hop: None,
        attrs: None,
    };
    let remote = RouteView {
        net: "172.16.7.0/26".parse().unwrap(),
        source: Rs::Bgp,
        ifname: Some("eth0"),
        preference: 100,
        krt_metric: None,
        next_hop: Some(IpAddr::V4(Ipv4Addr::new(10, 192, 0, 3))),
        attrs: Some(attrs),
    };
    vec![
        Case {
            name: "export_own_block",
            program: gen2_export(&f, None, true),
            route: local,
        },
        Case {
            name: "export_peer_route",
            program: gen2_export(&f, None, true),
            route: remote,
        },
        Case {
            name: "kernel_cross_subnet",
            program: gen2_kernel(&f),
            route: remote,
        },
        Case {
            name: "bgpfilter_import_as_path",
            program: gen2_import(&f, Some(FIRST_BGP_FILTER + 2)),
            route: remote,
        },
        Case {
            name: "bgpfilter_export_community_prepend",
            program: gen2_export(&f, Some((FIRST_BGP_FILTER + 1, vec![])), true),
            route: remote,
        },
    ]
}

fn attrs() -> PathAttributes {
    PathAttributes {
        local_pref: Some(2147483647 - 1024),
        as_path: Some(AsPath::from_sequence([Asn(65001), Asn(65000)])),
        communities: Some(vec![Community::new(65000, 42)]),
        ..Default::default()
    }
}

fn bench(c: &mut Criterion) {
    let a = attrs();
    let cases = cases(&a);
    // The fixed loop first, so its figures do not depend on criterion's settings.
    const N: u32 = 1_000_000;
    for case in &cases {
        let t = Instant::now();
        for _ in 0..N {
            let _ = black_box(run(black_box(&case.program), black_box(&case.route)));
        }
        let ns = t.elapsed().as_nanos() as f64 / f64::from(N);
        println!("bird_eval {}: {ns:.1} ns/route", case.name);
    }
    let mut g = c.benchmark_group("bird_eval");
    g.throughput(Throughput::Elements(1));
    for case in &cases {
        g.bench_function(case.name, |b| {
            b.iter(|| run(black_box(&case.program), black_box(&case.route)))
        });
    }
    g.finish();
    // Keep `ir` in use for the fixtures' `super::ir` path.
    let _ = ir::Program::accept_all();
}

criterion_group!(benches, bench);
criterion_main!(benches);
