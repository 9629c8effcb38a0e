//! The evaluator on Calico's real filters (IR built by hand in `calico.rs`) and on the BIRD
//! 1.6 corner cases it reproduces. Cases marked "BIRD 1.6.8:" were checked against the real
//! daemon (a static protocol whose import filter prints the expression; see the report of the
//! commit that added this file).

use std::sync::Arc;

use bgp_proto::attribute::{
    AsPath, AsSegment, Community, LargeCommunity, PathAttributes, SegmentType,
};
use bgp_proto::types::Asn;
use smallvec::smallvec;

use super::{patmatch, run, Changes, Outcome, RouteView, RuntimeError, Verdict};
use crate::bird::ir;
use crate::bird::ir::{
    Attr, CmpOp, Const, Expr, Function, Method, Program, RouteSourceKind as Rs, Stmt,
};

#[path = "calico.rs"]
mod calico;
use calico::*;

const LP_1024: u32 = 2147483647 - 1024;
const LP_512: u32 = 2147483647 - 512;

fn view(net: &str, source: Rs) -> RouteView<'static> {
    RouteView {
        net: net.parse().unwrap(),
        source,
        ifname: None,
        preference: match source {
            Rs::Bgp => 100,
            Rs::Static => 200,
            Rs::Device => 240,
            _ => 10,
        },
        krt_metric: None,
        next_hop: None,
        attrs: None,
    }
}

fn bgp_attrs(local_pref: Option<u32>, path: &[u32]) -> PathAttributes {
    PathAttributes {
        local_pref,
        as_path: Some(AsPath::from_sequence(path.iter().map(|a| Asn(*a)))),
        ..Default::default()
    }
}

fn with_communities(mut a: PathAttributes, c: &[(u16, u16)]) -> PathAttributes {
    a.communities = Some(c.iter().map(|(x, y)| Community::new(*x, *y)).collect());
    a
}

fn accept(changes: Changes<'_>) -> Result<Outcome<'_>, RuntimeError> {
    Ok(Outcome {
        verdict: Verdict::Accept,
        changes,
    })
}

fn reject(changes: Changes<'_>) -> Result<Outcome<'_>, RuntimeError> {
    Ok(Outcome {
        verdict: Verdict::Reject,
        changes,
    })
}

/// The changes of the export header for a non-BGP route without krt_metric.
fn header_local(metric: u32) -> Changes<'static> {
    Changes {
        krt_metric: Some(metric),
        local_pref: Some(2147483647 - metric),
        ..Default::default()
    }
}

fn gen2_plain(pools: &'static [&'static str]) -> Arc<[Function]> {
    gen2_functions(Gen2 {
        communities: vec![],
        export_pools: pools,
        reject_tunl0: true,
        bgp_filters: vec![],
    })
}

fn body(stmts: Vec<Stmt>) -> Program {
    program(None, stmts, &Arc::from(Vec::new()))
}

// ---- Calico's export filter ----------------------------------------------------------------

#[test]
fn own_block_exported_to_ibgp_peer_gets_local_pref_from_default_metric() {
    let f = gen2_plain(&["192.168.0.0/16"]);
    let export = gen2_export(&f, None, true);
    // A static blackhole: no attributes, no interface.
    for block in BLOCKS {
        assert_eq!(
            run(&export, &view(block, Rs::Static)),
            accept(header_local(1024)),
            "{block}"
        );
    }
    // The same with the attributes BIRD's BGP export gives a local route before the filter
    // (bgp_create_attrs: empty AS path on iBGP, local pref 100): the source decides.
    let a = bgp_attrs(Some(100), &[]);
    let mut v = view("10.1.0.0/24", Rs::Static);
    v.attrs = Some(&a);
    assert_eq!(run(&export, &v), accept(header_local(1024)));
    assert_eq!(header_local(1024).local_pref, Some(LP_1024));
}

#[test]
fn pod_route_inside_own_block_needs_a_metric_below_1024() {
    let f = gen2_plain(&["192.168.0.0/16"]);
    let export = gen2_export(&f, None, true);
    let mut v = view("192.168.221.70/32", Rs::Inherit);
    v.ifname = Some("cali1234abcd");
    // No krt_metric: the header sets 1024, `krt_metric < 1024` is false, the block rejects.
    assert_eq!(run(&export, &v), reject(header_local(1024)));
    // A kernel route with metric 512 passes `krt_metric < 1024`.
    v.krt_metric = Some(512);
    assert_eq!(
        run(&export, &v),
        accept(Changes {
            local_pref: Some(LP_512),
            ..Default::default()
        })
    );
}

#[test]
fn route_from_a_peer_is_exported_inside_a_pool_only() {
    let f = gen2_plain(&["172.16.0.0/16", "172.17.0.0/16", "192.168.0.0/16"]);
    let export = gen2_export(&f, None, true);
    let a = bgp_attrs(Some(100), &[]);
    let from_peer = |net: &'static str| RouteView {
        attrs: Some(&a),
        next_hop: Some("10.192.0.3".parse().unwrap()),
        ..view(net, Rs::Bgp)
    };
    let expected = Changes {
        krt_metric: Some(2147483647 - 100),
        ..Default::default()
    };
    assert_eq!(
        run(&export, &from_peer("192.168.5.0/26")),
        accept(expected.clone())
    );
    assert_eq!(
        run(&export, &from_peer("172.17.9.0/26")),
        accept(expected.clone())
    );
    assert_eq!(run(&export, &from_peer("10.50.0.0/24")), reject(expected));
}

#[test]
fn tunnel_interface_routes_are_rejected_towards_ibgp_only() {
    let f = gen2_plain(&["192.168.0.0/16"]);
    let mut v = view("192.168.7.0/24", Rs::Device);
    for iface in ["eth0.cali", "vxlan.calico", "tunl0"] {
        v.ifname = Some(iface);
        assert_eq!(
            run(&gen2_export(&f, None, true), &v),
            reject(header_local(1024)),
            "{iface} towards iBGP"
        );
        assert_eq!(
            run(&gen2_export(&f, None, false), &v),
            accept(header_local(1024)),
            "{iface} towards eBGP"
        );
    }
    // The BPF check applies to both.
    v.ifname = Some("bpfin.cali");
    assert_eq!(
        run(&gen2_export(&f, None, false), &v),
        reject(header_local(1024))
    );
    // cluster_routes fixtures leave tunl0 out of the iBGP check.
    let f = gen2_functions(Gen2 {
        communities: vec![],
        export_pools: &["192.168.0.0/16"],
        reject_tunl0: false,
        bgp_filters: vec![],
    });
    v.ifname = Some("tunl0");
    assert_eq!(
        run(&gen2_export(&f, None, true), &v),
        accept(header_local(1024))
    );
}

#[test]
fn apply_communities_tags_pool_routes_before_aggregation() {
    let f = gen2_functions(Gen2 {
        communities: mesh_communities(),
        export_pools: &["192.168.0.0/16"],
        reject_tunl0: true,
        bgp_filters: vec![],
    });
    let export = gen2_export(&f, None, true);
    let mut expected = header_local(1024);
    expected.communities_added = smallvec![(100, 6532), (5663, 12)];
    expected.large_added = smallvec![(100, 555, 107)];
    assert_eq!(
        run(&export, &view("192.168.221.64/26", Rs::Static)),
        accept(expected)
    );
    // Outside 192.168.0.0/16: untouched.
    assert_eq!(
        run(&export, &view("10.1.0.0/24", Rs::Static)),
        accept(header_local(1024))
    );
}

// ---- Calico's kernel filter ---------------------------------------------------------------

#[test]
fn kernel_filter_derives_metric_and_preference_from_local_pref() {
    let f = gen2_plain(&["192.168.0.0/16"]);
    let kernel = gen2_kernel(&f);
    let a = bgp_attrs(Some(LP_1024), &[]);
    let v = RouteView {
        attrs: Some(&a),
        next_hop: Some("10.192.0.3".parse().unwrap()),
        ..view("10.244.0.0/26", Rs::Bgp)
    };
    assert_eq!(
        run(&kernel, &v),
        accept(Changes {
            krt_metric: Some(1024),
            ..Default::default()
        })
    );
    let a = bgp_attrs(Some(LP_512), &[]);
    let v = RouteView {
        attrs: Some(&a),
        ..v
    };
    assert_eq!(
        run(&kernel, &v),
        accept(Changes {
            krt_metric: Some(512),
            preference: Some(200),
            ..Default::default()
        })
    );
    // Without a local preference the metric stays 1024; a non-BGP route is left alone.
    let a = bgp_attrs(None, &[]);
    let v = RouteView {
        attrs: Some(&a),
        ..v
    };
    assert_eq!(
        run(&kernel, &v),
        accept(Changes {
            krt_metric: Some(1024),
            ..Default::default()
        })
    );
    assert_eq!(
        run(&kernel, &view("10.99.0.0/24", Rs::Inherit)),
        accept(Changes::default())
    );
}

#[test]
fn kernel_filter_picks_the_ipip_tunnel_per_pool_and_next_hop() {
    let f = gen2_plain(&["192.168.0.0/16"]);
    let kernel = gen2_kernel(&f);
    let a = bgp_attrs(Some(100), &[]);
    let bgp = |net: &'static str, nh: &str| RouteView {
        attrs: Some(&a),
        next_hop: Some(nh.parse().unwrap()),
        ..view(net, Rs::Bgp)
    };
    let metric = 2147483647 - 100;
    let tunnel = |t: &'static str| Changes {
        krt_metric: Some(metric),
        krt_tunnel: Some(t),
        ..Default::default()
    };
    // CrossSubnet pool 172.16.0.0/16: same subnet → no tunnel, other subnet → tunl0.
    assert_eq!(
        run(&kernel, &bgp("172.16.3.0/26", "10.192.0.7")),
        accept(tunnel(""))
    );
    assert_eq!(
        run(&kernel, &bgp("172.16.3.0/26", "10.193.0.7")),
        accept(tunnel("tunl0"))
    );
    // Always pool 192.168.0.0/16 → tunl0; VXLAN pool 172.17.0.0/16 → no krt_tunnel.
    assert_eq!(
        run(&kernel, &bgp("192.168.9.0/26", "10.192.0.7")),
        accept(tunnel("tunl0"))
    );
    assert_eq!(
        run(&kernel, &bgp("172.17.9.0/26", "10.192.0.7")),
        accept(Changes {
            krt_metric: Some(metric),
            ..Default::default()
        })
    );
}

#[test]
fn generation_1_kernel_filter_cross_subnet() {
    let f = gen1_functions();
    let kernel = gen1_kernel(&f);
    let a = bgp_attrs(Some(100), &[]);
    let mut v = RouteView {
        attrs: Some(&a),
        next_hop: Some("10.192.4.4".parse().unwrap()),
        ..view("192.168.50.0/26", Rs::Bgp)
    };
    let tunnel = |t: &'static str| Changes {
        krt_tunnel: Some(t),
        ..Default::default()
    };
    assert_eq!(run(&kernel, &v), accept(tunnel("")));
    v.next_hop = Some("10.50.0.1".parse().unwrap());
    assert_eq!(run(&kernel, &v), accept(tunnel("tunl0")));
    // Not a BGP route: bgp_next_hop is undefined, the `defined` guard keeps `~` from failing.
    assert_eq!(
        run(&kernel, &view("192.168.221.64/26", Rs::Static)),
        accept(tunnel("tunl0"))
    );
    assert_eq!(
        run(&kernel, &view("10.0.0.0/8", Rs::Static)),
        accept(Changes::default())
    );
}

#[test]
fn generation_1_export_filter() {
    let f = gen1_functions();
    let export = gen1_export(&f);
    assert_eq!(
        run(&export, &view("10.1.0.0/24", Rs::Static)),
        accept(Changes::default())
    );
    // Under a block: rejected whatever the metric (generation 1 has no `krt_metric < 1024`).
    let mut pod = view("10.1.0.7/32", Rs::Inherit);
    pod.krt_metric = Some(0);
    assert_eq!(run(&export, &pod), reject(Changes::default()));
    let mut tunnel = view("192.168.3.0/24", Rs::Device);
    tunnel.ifname = Some("eth0.cali");
    assert_eq!(run(&export, &tunnel), reject(Changes::default()));
    tunnel.ifname = Some("eth0");
    assert_eq!(run(&export, &tunnel), accept(Changes::default()));
    assert_eq!(
        run(&export, &view("10.9.0.0/16", Rs::Static)),
        reject(Changes::default())
    );
}

// ---- BGPFilter functions --------------------------------------------------------------------

#[test]
fn bgpfilter_communities_and_operations() {
    let f = gen2_functions(Gen2 {
        communities: vec![],
        export_pools: &["192.168.0.0/16"],
        reject_tunl0: true,
        bgp_filters: bgpfilter_communities_ops(),
    });
    let import = gen2_import(&f, Some(FIRST_BGP_FILTER));
    let export = gen2_export(&f, Some((FIRST_BGP_FILTER + 1, vec![])), true);

    let tagged = with_communities(bgp_attrs(Some(100), &[65010]), &[(65000, 100)]);
    let v = RouteView {
        attrs: Some(&tagged),
        ..view("192.168.1.0/26", Rs::Bgp)
    };
    // Import: the BGPFilter sets the local pref and accepts, which ends the filter: the
    // `preference = 200` line after the call never runs.
    assert_eq!(
        run(&import, &v),
        accept(Changes {
            local_pref: Some(2147483391),
            ..Default::default()
        })
    );
    let plain = bgp_attrs(Some(100), &[65010]);
    let v2 = RouteView {
        attrs: Some(&plain),
        ..v
    };
    assert_eq!(run(&import, &v2), reject(Changes::default()));

    // Export: the BGPFilter's accept ends the filter before calico_export_to_bgp_peers.
    let tagged = with_communities(bgp_attrs(Some(100), &[65010]), &[(65000, 42)]);
    let v3 = RouteView {
        attrs: Some(&tagged),
        ..view("10.77.0.0/16", Rs::Bgp)
    };
    assert_eq!(
        run(&export, &v3),
        accept(Changes {
            krt_metric: Some(2147483647 - 100),
            communities_added: smallvec![(65001, 200)],
            prepended: smallvec![65000],
            ..Default::default()
        })
    );
    // Untagged: the BGPFilter rejects, even an own block.
    assert_eq!(
        run(&export, &view("10.1.0.0/24", Rs::Static)),
        reject(header_local(1024))
    );
}

#[test]
fn bgpfilter_as_path_masks_and_prepends() {
    let f = gen2_functions(Gen2 {
        communities: vec![],
        export_pools: &["192.168.0.0/16"],
        reject_tunl0: true,
        bgp_filters: bgpfilter_as_path_prio(),
    });
    let import = gen2_import(&f, Some(FIRST_BGP_FILTER));
    let export = gen2_export(&f, Some((FIRST_BGP_FILTER + 1, vec![])), true);
    let lp = |path: &[u32]| {
        let a = bgp_attrs(Some(100), path);
        let v = RouteView {
            attrs: Some(&a),
            ..view("192.168.1.0/26", Rs::Bgp)
        };
        run(&import, &v).map(|o| (o.verdict, o.changes.local_pref, o.changes.preference))
    };
    // The BGPFilter's own `accept` ends the filter before the preference line.
    assert_eq!(lp(&[65000]), Ok((Verdict::Accept, Some(2147483547), None)));
    assert_eq!(
        lp(&[65000, 65001, 7]),
        Ok((Verdict::Accept, Some(2147483547), None))
    );
    assert_eq!(lp(&[65001, 65000]), Ok((Verdict::Accept, None, None)));
    assert_eq!(lp(&[]), Ok((Verdict::Accept, None, None)));

    // Export at local pref 2147483447: prepend 65001 then 65000 (65000 ends up leftmost).
    let a = bgp_attrs(Some(2147483447), &[65010]);
    let v = RouteView {
        attrs: Some(&a),
        ..view("10.77.0.0/16", Rs::Bgp)
    };
    assert_eq!(
        run(&export, &v),
        accept(Changes {
            krt_metric: Some(200),
            prepended: smallvec![65001, 65000],
            ..Default::default()
        })
    );
    // At 2147483547: a community; at 100: rejected.
    let a = bgp_attrs(Some(2147483547), &[65010]);
    let v = RouteView {
        attrs: Some(&a),
        ..v
    };
    assert_eq!(
        run(&export, &v),
        accept(Changes {
            krt_metric: Some(100),
            communities_added: smallvec![(65000, 100)],
            ..Default::default()
        })
    );
}

#[test]
fn bgpfilter_large_communities() {
    let f = gen2_functions(Gen2 {
        communities: vec![],
        export_pools: &["192.168.0.0/16"],
        reject_tunl0: true,
        bgp_filters: bgpfilter_large_community(),
    });
    let import = gen2_import(&f, Some(FIRST_BGP_FILTER));
    let mut a = bgp_attrs(Some(100), &[65010]);
    a.large_communities = Some(vec![LargeCommunity {
        global: 65000,
        local1: 100,
        local2: 200,
    }]);
    let v = RouteView {
        attrs: Some(&a),
        ..view("192.168.1.0/26", Rs::Bgp)
    };
    assert_eq!(
        run(&import, &v),
        accept(Changes {
            large_added: smallvec![(65001, 300, 400)],
            ..Default::default()
        })
    );
    let b = bgp_attrs(Some(100), &[65010]);
    let v = RouteView {
        attrs: Some(&b),
        ..v
    };
    assert_eq!(run(&import, &v), reject(Changes::default()));
}

#[test]
fn bgpfilter_with_peer_type_parameter() {
    let f = gen2_functions(Gen2 {
        communities: vec![],
        export_pools: &["192.168.0.0/16"],
        reject_tunl0: true,
        bgp_filters: vec![bgpfilter_kubevirt_export()],
    });
    let a = bgp_attrs(Some(2147483547), &[65010]);
    let v = RouteView {
        attrs: Some(&a),
        ..view("10.77.0.0/16", Rs::Bgp)
    };
    let ebgp = gen2_export(
        &f,
        Some((FIRST_BGP_FILTER, vec![Expr::Const(Const::Bool(false))])),
        false,
    );
    assert_eq!(
        run(&ebgp, &v),
        accept(Changes {
            krt_metric: Some(100),
            communities_added: smallvec![(65000, 100)],
            ..Default::default()
        })
    );
    let same_as = gen2_export(
        &f,
        Some((FIRST_BGP_FILTER, vec![Expr::Const(Const::Bool(true))])),
        true,
    );
    assert_eq!(
        run(&same_as, &v),
        reject(Changes {
            krt_metric: Some(100),
            ..Default::default()
        })
    );
}

// ---- control flow -------------------------------------------------------------------------

#[test]
fn accept_in_a_nested_function_ends_the_whole_program() {
    // BIRD 1.6.8: f_outer() { f_inner(); preference = 77; } with f_inner accepting: the route
    // is accepted with its preference unchanged.
    let functions: Arc<[Function]> = Arc::from(vec![
        function(
            "inner",
            &[],
            vec![if_(net_in("10.0.0.0/8"), vec![Stmt::Accept])],
        ),
        function(
            "outer",
            &[],
            vec![call(0, vec![]), set(Attr::Preference, int(77))],
        ),
    ]);
    let p = program(None, vec![call(1, vec![]), Stmt::Reject], &functions);
    assert_eq!(
        run(&p, &view("10.1.0.0/16", Rs::Static)),
        accept(Changes::default())
    );
    // A function that falls off its end returns to its caller.
    assert_eq!(
        run(&p, &view("11.1.0.0/16", Rs::Static)),
        reject(Changes {
            preference: Some(77),
            ..Default::default()
        })
    );
}

#[test]
fn falling_off_the_end_is_an_error_like_bird() {
    // BIRD 1.6.8: "Filter <NULL> did not return accept nor reject. Make up your mind"; the
    // route is filtered out.
    let p = body(vec![set(Attr::KrtMetric, int(5))]);
    assert_eq!(
        run(&p, &view("10.0.0.0/8", Rs::Static)),
        Err(RuntimeError::NoVerdict)
    );
    assert_eq!(
        run(&body(vec![]), &view("10.0.0.0/8", Rs::Static)),
        Err(RuntimeError::NoVerdict)
    );
    assert_eq!(
        run(&Program::accept_all(), &view("10.0.0.0/8", Rs::Static)),
        accept(Changes::default())
    );
    assert_eq!(
        run(&Program::reject_all(), &view("10.0.0.0/8", Rs::Static)),
        reject(Changes::default())
    );
}

#[test]
fn malformed_programs_fail_without_looping() {
    let cyclic: Arc<[Function]> = Arc::from(vec![function("f", &[], vec![call(0, vec![])])]);
    let p = program(None, vec![call(0, vec![]), Stmt::Accept], &cyclic);
    assert_eq!(
        run(&p, &view("10.0.0.0/8", Rs::Static)),
        Err(RuntimeError::CallDepth(super::MAX_CALL_DEPTH))
    );
    let p = program(None, vec![call(3, vec![]), Stmt::Accept], &cyclic);
    assert_eq!(
        run(&p, &view("10.0.0.0/8", Rs::Static)),
        Err(RuntimeError::NoSuchFunction(3))
    );
    let one: Arc<[Function]> = Arc::from(vec![function("f", &["p"], vec![])]);
    let p = program(None, vec![call(0, vec![]), Stmt::Accept], &one);
    assert!(matches!(
        run(&p, &view("10.0.0.0/8", Rs::Static)),
        Err(RuntimeError::Malformed(_))
    ));
    let p = program(None, vec![if_(param(0), vec![]), Stmt::Accept], &one);
    assert!(matches!(
        run(&p, &view("10.0.0.0/8", Rs::Static)),
        Err(RuntimeError::Malformed(_))
    ));
    // A non-bool argument for a bool parameter.
    let p = program(None, vec![call(0, vec![int(1)]), Stmt::Accept], &one);
    assert_eq!(
        run(&p, &view("10.0.0.0/8", Rs::Static)),
        Err(RuntimeError::BadAssignment {
            attr: "bool parameter",
            found: "int"
        })
    );
}

// ---- values, comparisons, matches ----------------------------------------------------------

/// Runs `if COND then accept; reject;` and answers whether it accepted.
fn test(cond: Expr, v: &RouteView<'_>) -> Result<bool, RuntimeError> {
    let p = body(vec![if_(cond, vec![Stmt::Accept]), Stmt::Reject]);
    run(&p, v).map(|o| o.verdict == Verdict::Accept)
}

#[test]
fn undefined_attributes_compare_as_smallest_value() {
    // BIRD 1.6.8 on a static route: krt_metric < 1024 TRUE, bgp_local_pref > 5 FALSE,
    // bgp_local_pref = 5 FALSE, bgp_local_pref != 5 TRUE, 5 < krt_metric FALSE,
    // 5 >= krt_metric TRUE.
    let v = view("10.0.0.0/8", Rs::Static);
    let km = || attr(Attr::KrtMetric);
    let lp = || attr(Attr::BgpLocalPref);
    assert_eq!(test(cmp(CmpOp::Lt, km(), int(1024)), &v), Ok(true));
    assert_eq!(test(cmp(CmpOp::Gt, lp(), int(5)), &v), Ok(false));
    assert_eq!(test(cmp(CmpOp::Eq, lp(), int(5)), &v), Ok(false));
    assert_eq!(test(cmp(CmpOp::Ne, lp(), int(5)), &v), Ok(true));
    assert_eq!(test(cmp(CmpOp::Lt, int(5), km()), &v), Ok(false));
    assert_eq!(test(cmp(CmpOp::Ge, int(5), km()), &v), Ok(true));
    assert_eq!(test(cmp(CmpOp::Le, km(), int(0)), &v), Ok(true));
    assert_eq!(test(cmp(CmpOp::Eq, km(), lp()), &v), Ok(true));
}

#[test]
fn what_is_always_defined() {
    // BIRD 1.6.8 on a static blackhole: ifname=[] defined(ifname) TRUE,
    // defined(bgp_community) TRUE, defined(bgp_large_community) TRUE, defined(bgp_path) FALSE.
    let v = view("10.0.0.0/8", Rs::Static);
    for (a, d) in [
        (Attr::Net, true),
        (Attr::Source, true),
        (Attr::IfName, true),
        (Attr::Preference, true),
        (Attr::KrtMetric, false),
        (Attr::KrtTunnel, false),
        (Attr::BgpLocalPref, false),
        (Attr::BgpMed, false),
        (Attr::BgpNextHop, false),
        (Attr::BgpCommunity, true),
        (Attr::BgpLargeCommunity, true),
        (Attr::BgpPath, false),
    ] {
        assert_eq!(test(defined(a), &v), Ok(d), "{a:?}");
    }
    assert_eq!(test(eq(attr(Attr::IfName), string("")), &v), Ok(true));
    // On a BGP route: next hop from the view, path and local pref from the attributes.
    let mut a = bgp_attrs(Some(100), &[1]);
    a.med = Some(7);
    let bgp = RouteView {
        attrs: Some(&a),
        next_hop: Some("10.0.0.1".parse().unwrap()),
        krt_metric: Some(3),
        ..view("10.0.0.0/8", Rs::Bgp)
    };
    for a in [
        Attr::KrtMetric,
        Attr::BgpLocalPref,
        Attr::BgpMed,
        Attr::BgpNextHop,
        Attr::BgpPath,
    ] {
        assert_eq!(test(defined(a), &bgp), Ok(true), "{a:?}");
    }
    // A next hop without BGP attributes is not bgp_next_hop.
    let gw = RouteView {
        next_hop: Some("10.0.0.1".parse().unwrap()),
        ..view("10.0.0.0/8", Rs::Static)
    };
    assert_eq!(test(defined(Attr::BgpNextHop), &gw), Ok(false));
    // Writes define.
    let p = body(vec![
        set(Attr::KrtTunnel, string("tunl0")),
        if_(
            and(
                defined(Attr::KrtTunnel),
                eq(attr(Attr::KrtTunnel), string("tunl0")),
            ),
            vec![Stmt::Accept],
        ),
        Stmt::Reject,
    ]);
    assert_eq!(run(&p, &v).map(|o| o.verdict), Ok(Verdict::Accept));
}

#[test]
fn integers_are_unsigned_32_bit() {
    // BIRD 1.6.8: (0 - 1) > 5 TRUE, 0 - 1 prints 4294967295.
    let v = view("10.0.0.0/8", Rs::Static);
    assert_eq!(
        test(cmp(CmpOp::Gt, sub(int(0), int(1)), int(5)), &v),
        Ok(true)
    );
    assert_eq!(test(eq(sub(int(0), int(1)), int(4294967295)), &v), Ok(true));
    assert_eq!(test(eq(add(int(4294967295), int(2)), int(1)), &v), Ok(true));
    assert_eq!(test(eq(int(-1), int(4294967295)), &v), Ok(true));
    assert_eq!(
        test(eq(int(1 << 40), int(0)), &v),
        Err(RuntimeError::Overflow("integer literal"))
    );
}

#[test]
fn reads_see_earlier_writes() {
    let a = with_communities(bgp_attrs(Some(100), &[65010]), &[(1, 1)]);
    let v = RouteView {
        attrs: Some(&a),
        ..view("10.0.0.0/8", Rs::Bgp)
    };
    let p = body(vec![
        set(Attr::KrtMetric, int(1024)),
        if_(
            cmp(CmpOp::Lt, attr(Attr::KrtMetric), int(1024)),
            vec![Stmt::Reject],
        ),
        set(Attr::BgpLocalPref, int(7)),
        if_(
            not(eq(attr(Attr::BgpLocalPref), int(7))),
            vec![Stmt::Reject],
        ),
        set(Attr::BgpMed, add(attr(Attr::BgpLocalPref), int(1))),
        set(Attr::Preference, add(attr(Attr::Preference), int(5))),
        method(Attr::BgpCommunity, Method::Add, pair(2, 2)),
        if_(
            not(is_in(pair(2, 2), attr(Attr::BgpCommunity))),
            vec![Stmt::Reject],
        ),
        method(Attr::BgpCommunity, Method::Delete, pair(1, 1)),
        if_(
            is_in(pair(1, 1), attr(Attr::BgpCommunity)),
            vec![Stmt::Reject],
        ),
        method(Attr::BgpPath, Method::Prepend, int(65000)),
        if_(
            not(is_in(attr(Attr::BgpPath), mask(&[65000, 65010]))),
            vec![Stmt::Reject],
        ),
        if_(
            not(is_in(int(65000), attr(Attr::BgpPath))),
            vec![Stmt::Reject],
        ),
        Stmt::Accept,
    ]);
    assert_eq!(
        run(&p, &v),
        accept(Changes {
            krt_metric: Some(1024),
            local_pref: Some(7),
            med: Some(8),
            preference: Some(105),
            communities_added: smallvec![(2, 2)],
            communities_deleted: smallvec![(1, 1)],
            prepended: smallvec![65000],
            ..Default::default()
        })
    );
}

#[test]
fn community_add_and_delete_keep_a_set() {
    let a = with_communities(bgp_attrs(None, &[]), &[(1, 1), (1, 1)]);
    let v = RouteView {
        attrs: Some(&a),
        ..view("10.0.0.0/8", Rs::Bgp)
    };
    let run_ops = |ops: &[(Method, (u32, u32))]| {
        let mut stmts: Vec<Stmt> = ops
            .iter()
            .map(|(m, (x, y))| method(Attr::BgpCommunity, *m, pair(*x, *y)))
            .collect();
        stmts.push(Stmt::Accept);
        let p = body(stmts);
        let o = run(&p, &v).unwrap();
        (
            o.changes.communities_added.to_vec(),
            o.changes.communities_deleted.to_vec(),
        )
    };
    use Method::{Add, Delete};
    // Adding what is there, or twice: once. (BIRD 1.6.8: add twice, list shows it once.)
    assert_eq!(run_ops(&[(Add, (1, 1))]), (vec![], vec![]));
    assert_eq!(
        run_ops(&[(Add, (2, 2)), (Add, (2, 2))]),
        (vec![(2, 2)], vec![])
    );
    // Delete removes every copy; delete then add restores; add then delete cancels.
    assert_eq!(run_ops(&[(Delete, (1, 1))]), (vec![], vec![(1, 1)]));
    assert_eq!(
        run_ops(&[(Delete, (1, 1)), (Add, (1, 1))]),
        (vec![], vec![])
    );
    assert_eq!(
        run_ops(&[(Add, (2, 2)), (Delete, (2, 2))]),
        (vec![], vec![])
    );
    assert_eq!(run_ops(&[(Delete, (3, 3))]), (vec![], vec![]));
    // No BGP attributes: an empty list that can grow (BIRD 1.6.8 on a static route).
    let p = body(vec![
        method(Attr::BgpCommunity, Method::Add, pair(65000, 1)),
        if_(
            is_in(pair(65000, 1), attr(Attr::BgpCommunity)),
            vec![Stmt::Accept],
        ),
        Stmt::Reject,
    ]);
    assert_eq!(
        run(&p, &view("10.0.0.0/8", Rs::Static)),
        accept(Changes {
            communities_added: smallvec![(65000, 1)],
            ..Default::default()
        })
    );
    // Halves must fit 16 bits.
    let p = body(vec![
        method(Attr::BgpCommunity, Method::Add, pair(70000, 1)),
        Stmt::Accept,
    ]);
    assert_eq!(run(&p, &v), Err(RuntimeError::Overflow("pair")));
}

#[test]
fn large_community_add_and_delete() {
    let mut a = bgp_attrs(None, &[]);
    a.large_communities = Some(vec![LargeCommunity {
        global: 1,
        local1: 2,
        local2: 3,
    }]);
    let v = RouteView {
        attrs: Some(&a),
        ..view("10.0.0.0/8", Rs::Bgp)
    };
    let p = body(vec![
        method(Attr::BgpLargeCommunity, Method::Delete, quad(1, 2, 3)),
        method(Attr::BgpLargeCommunity, Method::Add, quad(4, 5, 6)),
        if_(
            is_in(quad(1, 2, 3), attr(Attr::BgpLargeCommunity)),
            vec![Stmt::Reject],
        ),
        if_(
            is_in(quad(4, 5, 6), attr(Attr::BgpLargeCommunity)),
            vec![Stmt::Accept],
        ),
        Stmt::Reject,
    ]);
    assert_eq!(
        run(&p, &v),
        accept(Changes {
            large_added: smallvec![(4, 5, 6)],
            large_deleted: smallvec![(1, 2, 3)],
            ..Default::default()
        })
    );
}

#[test]
fn shell_patterns_follow_bird_patmatch() {
    // BIRD 1.6.8: "ab" ~ "*?" FALSE, "a?" ~ "*?" TRUE, "eth0.cali" ~ "*.cali" TRUE,
    // "" ~ "*" TRUE, "abc" ~ "a*c*" TRUE, "xbpf0.cali" ~ "bpf*.cali" FALSE.
    for (pattern, s, m) in [
        ("*?", "ab", false),
        ("*?", "a?", true),
        ("*.cali", "eth0.cali", true),
        ("*", "", true),
        ("a*c*", "abc", true),
        ("bpf*.cali", "xbpf0.cali", false),
        ("bpf*.cali", "bpfin.cali", true),
        ("*.cali", "cali12345", false),
        ("*.calico", "eth0.cali", false),
        ("tunl0", "tunl0", true),
        ("tunl0", "tunl00", false),
        ("a?c", "abc", true),
        ("a?c", "ac", false),
        ("a\\*", "a*", true),
        ("a\\*", "ab", false),
        ("*\\*", "x*", true),
        ("", "", true),
        ("", "a", false),
    ] {
        assert_eq!(
            patmatch(pattern.as_bytes(), s.as_bytes()),
            m,
            "{s:?} ~ {pattern:?}"
        );
    }
}

#[test]
fn prefix_and_address_matches() {
    // BIRD 1.6.8: 10.0.0.0/8 ~ [ 10.0.0.0/16{8,24} ] TRUE, 10.1.0.0/16 ~ [ 10.0.0.0/8{16,24} ]
    // TRUE, 10.0.0.0/8 ~ [ 10.0.0.0/8{16,24} ] FALSE, 10.1.0.0/16 ~ 10.0.0.0/8 TRUE,
    // 10.0.0.0/8 ~ 10.0.0.0/16 FALSE, 10.1.2.3 ~ 10.0.0.0/8 TRUE, net = <ip> FALSE.
    let v = view("10.0.0.0/8", Rs::Static);
    let p = |s| prefix(s);
    assert_eq!(
        test(
            is_in(p("10.0.0.0/8"), prefix_set(&[("10.0.0.0/16", 8, 24)])),
            &v
        ),
        Ok(true)
    );
    assert_eq!(
        test(
            is_in(p("10.1.0.0/16"), prefix_set(&[("10.0.0.0/8", 16, 24)])),
            &v
        ),
        Ok(true)
    );
    assert_eq!(
        test(
            is_in(p("10.0.0.0/8"), prefix_set(&[("10.0.0.0/8", 16, 24)])),
            &v
        ),
        Ok(false)
    );
    assert_eq!(
        test(
            is_in(p("10.1.2.0/25"), prefix_set(&[("10.0.0.0/8", 16, 24)])),
            &v
        ),
        Ok(false)
    );
    assert_eq!(
        test(
            is_in(p("11.1.0.0/16"), prefix_set(&[("10.0.0.0/8", 16, 24)])),
            &v
        ),
        Ok(false)
    );
    assert_eq!(
        test(
            is_in(
                p("11.1.0.0/16"),
                prefix_set(&[("10.0.0.0/8", 16, 24), ("11.0.0.0/8", 8, 32)])
            ),
            &v
        ),
        Ok(true)
    );
    assert_eq!(test(is_in(p("10.1.0.0/16"), p("10.0.0.0/8")), &v), Ok(true));
    assert_eq!(
        test(is_in(p("10.0.0.0/8"), p("10.0.0.0/16")), &v),
        Ok(false)
    );
    assert_eq!(
        test(not_in(p("10.0.0.0/8"), p("10.0.0.0/16")), &v),
        Ok(true)
    );
    assert_eq!(test(is_in(ip("10.1.2.3"), p("10.0.0.0/8")), &v), Ok(true));
    assert_eq!(test(is_in(ip("11.1.2.3"), p("10.0.0.0/8")), &v), Ok(false));
    assert_eq!(test(is_in(ip("10.1.2.3"), p("0.0.0.0/0")), &v), Ok(true));
    assert_eq!(test(eq(attr(Attr::Net), ip("10.0.0.0")), &v), Ok(false));
    assert_eq!(
        test(cmp(CmpOp::Lt, p("10.0.0.0/8"), p("10.0.0.0/16")), &v),
        Ok(true)
    );
    // Families never mix.
    assert_eq!(test(is_in(ip("::1"), p("0.0.0.0/0")), &v), Ok(false));
    let v6 = view("5000:1::/64", Rs::Static);
    assert_eq!(test(is_in(attr(Attr::Net), p("5000::/16")), &v6), Ok(true));
    assert_eq!(test(is_in(attr(Attr::Net), p("5001::/16")), &v6), Ok(false));
    assert_eq!(
        test(
            is_in(attr(Attr::Net), prefix_set(&[("5000::/16", 48, 64)])),
            &v6
        ),
        Ok(true)
    );
}

#[test]
fn route_source_enum_and_sets() {
    // BIRD 1.6.8: source ~ [ RTS_STATIC, RTS_BGP ] TRUE, source = RTS_STATIC TRUE.
    let v = view("10.0.0.0/8", Rs::Static);
    let src = || attr(Attr::Source);
    assert_eq!(
        test(is_in(src(), source_set(&[Rs::Static, Rs::Bgp])), &v),
        Ok(true)
    );
    assert_eq!(test(is_in(src(), source_set(&[Rs::Bgp])), &v), Ok(false));
    assert_eq!(test(eq(src(), source(Rs::Static)), &v), Ok(true));
    assert_eq!(test(eq(src(), source(Rs::Bgp)), &v), Ok(false));
    // An enum is not an int for `=` (different types are never the same)…
    assert_eq!(test(eq(src(), int(1)), &v), Ok(false));
    // …but an int attribute accepts one.
    let p = body(vec![set(Attr::KrtMetric, src()), Stmt::Accept]);
    assert_eq!(
        run(&p, &v),
        accept(Changes {
            krt_metric: Some(1),
            ..Default::default()
        })
    );
}

fn path_of(segments: Vec<AsSegment>) -> PathAttributes {
    PathAttributes {
        as_path: Some(AsPath { segments }),
        ..Default::default()
    }
}

fn seq(asns: &[u32]) -> AsSegment {
    AsSegment {
        kind: SegmentType::Sequence,
        asns: asns.iter().map(|a| Asn(*a)).collect(),
    }
}

fn set_seg(asns: &[u32]) -> AsSegment {
    AsSegment {
        kind: SegmentType::Set,
        asns: asns.iter().map(|a| Asn(*a)).collect(),
    }
}

#[test]
fn as_path_masks() {
    let m = |a: &PathAttributes, items: &[u32]| {
        let v = RouteView {
            attrs: Some(a),
            ..view("10.0.0.0/8", Rs::Bgp)
        };
        test(is_in(attr(Attr::BgpPath), mask(items)), &v).unwrap()
    };
    // `0` is `*`, `1` is `?` in `mask()`.
    let p = path_of(vec![seq(&[65000, 65001, 65002])]);
    assert!(m(&p, &[65000, 0]));
    assert!(m(&p, &[0, 65002]));
    assert!(m(&p, &[0, 65001, 0]));
    assert!(m(&p, &[65000, 65001, 65002]));
    assert!(m(&p, &[1, 1, 1]));
    assert!(m(&p, &[1, 0]));
    assert!(m(&p, &[0]));
    assert!(!m(&p, &[65000, 65001]));
    assert!(!m(&p, &[65001, 0]));
    assert!(!m(&p, &[1, 1]));
    assert!(!m(&p, &[1, 1, 1, 1]));
    assert!(!m(&p, &[]));
    let empty = path_of(vec![]);
    assert!(m(&empty, &[]));
    assert!(m(&empty, &[0]));
    assert!(!m(&empty, &[1]));
    assert!(!m(&empty, &[65000, 0]));
    // An AS_SET stands for any run of its members, the empty run included once a position
    // before it matched (nest/a-path.c `pm_mark` also marks the unmarked sets that follow).
    let s = path_of(vec![seq(&[65000]), set_seg(&[7, 8]), seq(&[9])]);
    assert!(m(&s, &[65000, 7, 9]));
    assert!(m(&s, &[65000, 7, 8, 9]));
    assert!(m(&s, &[65000, 8, 8, 7, 9]));
    assert!(m(&s, &[65000, 1, 9]));
    assert!(m(&s, &[65000, 0, 9]));
    assert!(m(&s, &[65000, 9]));
    assert!(!m(&s, &[65000, 6, 9]));
    assert!(!m(&s, &[65000, 7]));
    // Confederation segments are not part of the path.
    let c = path_of(vec![
        AsSegment {
            kind: SegmentType::ConfedSequence,
            asns: vec![Asn(64512)],
        },
        seq(&[65000]),
    ]);
    assert!(m(&c, &[65000]));
}

#[test]
fn as_path_uses_as4_path_from_a_two_octet_peer() {
    let mut a = path_of(vec![seq(&[65000, 23456])]);
    a.as4_path = Some(AsPath::from_sequence([Asn(4200000000)]));
    let v = RouteView {
        attrs: Some(&a),
        ..view("10.0.0.0/8", Rs::Bgp)
    };
    assert_eq!(
        test(is_in(attr(Attr::BgpPath), mask(&[65000, 4200000000])), &v),
        Ok(true)
    );
    assert_eq!(test(is_in(int(23456), attr(Attr::BgpPath)), &v), Ok(false));
    assert_eq!(
        test(is_in(int(4200000000), attr(Attr::BgpPath)), &v),
        Ok(true)
    );
}

// ---- runtime errors -----------------------------------------------------------------------

#[test]
fn runtime_errors_reject_with_a_reason() {
    let v = view("10.0.0.0/8", Rs::Static);
    let err = |stmts: Vec<Stmt>| run(&body(stmts), &v).map(|o| o.verdict);
    let undefined = |a| Err(RuntimeError::Undefined(a));
    // Arithmetic and `~` on undefined attributes.
    assert_eq!(
        err(vec![set(
            Attr::KrtMetric,
            sub(int(2147483647), attr(Attr::BgpLocalPref))
        )]),
        undefined("bgp_local_pref")
    );
    assert_eq!(
        err(vec![if_(
            is_in(attr(Attr::BgpNextHop), prefix("10.0.0.0/8")),
            vec![]
        )]),
        undefined("bgp_next_hop")
    );
    assert_eq!(
        err(vec![if_(is_in(attr(Attr::BgpPath), mask(&[0])), vec![])]),
        undefined("bgp_path")
    );
    assert_eq!(
        err(vec![if_(attr(Attr::KrtMetric), vec![])]),
        undefined("krt_metric")
    );
    // BIRD 1.6.8: "Can't prepend to non-path" on a static route.
    assert_eq!(
        err(vec![method(Attr::BgpPath, Method::Prepend, int(65000))]),
        Err(RuntimeError::TypeMismatch {
            op: "prepend",
            left: "void",
            right: "bgppath"
        })
    );
    // BIRD 1.6.8: "Setting preference value out of bounds" for 65536 and for 0 - 1.
    assert_eq!(
        err(vec![set(Attr::Preference, int(65536))]),
        Err(RuntimeError::Overflow("preference"))
    );
    assert_eq!(
        err(vec![set(Attr::Preference, sub(int(0), int(1)))]),
        Err(RuntimeError::Overflow("preference"))
    );
    // Assignments of the wrong type.
    assert_eq!(
        err(vec![set(Attr::KrtMetric, string("x"))]),
        Err(RuntimeError::BadAssignment {
            attr: "krt_metric",
            found: "string"
        })
    );
    assert_eq!(
        err(vec![set(Attr::KrtTunnel, int(5))]),
        Err(RuntimeError::BadAssignment {
            attr: "krt_tunnel",
            found: "int"
        })
    );
    assert_eq!(
        err(vec![set(Attr::BgpLocalPref, attr(Attr::KrtMetric))]),
        Err(RuntimeError::BadAssignment {
            attr: "bgp_local_pref",
            found: "void"
        })
    );
    assert_eq!(
        err(vec![set(Attr::KrtTunnel, attr(Attr::IfName))]),
        Err(RuntimeError::BadAssignment {
            attr: "krt_tunnel",
            found: "string read from the route"
        })
    );
    assert_eq!(
        err(vec![set(Attr::Net, prefix("10.0.0.0/8"))]),
        Err(RuntimeError::NotWritable("net"))
    );
    // Ordering different types, `~` on types that do not match, booleans that are not.
    assert_eq!(
        err(vec![if_(cmp(CmpOp::Lt, attr(Attr::Net), int(5)), vec![])]),
        Err(RuntimeError::TypeMismatch {
            op: "<",
            left: "prefix",
            right: "int"
        })
    );
    assert_eq!(
        err(vec![if_(is_in(attr(Attr::Net), ip("10.0.0.1")), vec![])]),
        Err(RuntimeError::TypeMismatch {
            op: "~",
            left: "prefix",
            right: "ip"
        })
    );
    assert_eq!(
        err(vec![if_(
            and(int(1), Expr::Const(Const::Bool(true))),
            vec![]
        )]),
        Err(RuntimeError::TypeMismatch {
            op: "&&",
            left: "int",
            right: "bool"
        })
    );
    assert_eq!(
        err(vec![method(Attr::BgpCommunity, Method::Add, quad(1, 2, 3))]),
        Err(RuntimeError::TypeMismatch {
            op: "add",
            left: "lc",
            right: "pair"
        })
    );
    // Short-circuit: the right side is not evaluated when the left decides.
    assert_eq!(
        err(vec![
            if_(
                and(
                    defined(Attr::BgpNextHop),
                    is_in(attr(Attr::BgpNextHop), prefix("10.0.0.0/8"))
                ),
                vec![]
            ),
            Stmt::Accept
        ]),
        Ok(Verdict::Accept)
    );
}

#[test]
fn ir_module_is_the_one_the_fixtures_use() {
    // The fixtures file is shared with the no-allocation test through `super::ir`.
    let f = gen2_plain(&[]);
    let p: ir::Program = gen2_export(&f, None, true);
    assert_eq!(p.functions.len(), 4);
    assert_eq!(p.functions[EXPORT_TO_PEERS].params, ["internal_peer"]);
}
