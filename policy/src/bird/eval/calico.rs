//! Calico's real BIRD filters, built by hand as IR (what `conf`'s front end compiles them to),
//! for the evaluator's tests and its no-allocation test (`policy/tests/bird_eval_no_alloc.rs`
//! includes this file with `#[path]`). Sources (projectcalico/calico, Apache-2.0):
//! generation 2 = HEAD `confd/tests/compiled_templates/{bgpfilter/*,cluster_routes/enabled,
//! mesh/communities}/bird*.cfg`; generation 1 = v3.31.7
//! `confd/tests/compiled_templates/mesh/ipip-cross-subnet/bird*.cfg`.
//! Each builder quotes the text it mirrors.
#![allow(dead_code)]

use std::sync::Arc;

use super::ir::{
    ArithOp, Attr, CmpOp, Const, Expr, Function, FunctionId, MaskItem, Method, PrefixPattern,
    Program, RouteSourceKind, Stmt,
};

// ---- small IR builders -------------------------------------------------------------------

pub fn int(i: i64) -> Expr {
    Expr::Const(Const::Int(i))
}
pub fn string(s: &str) -> Expr {
    Expr::Const(Const::Str(s.to_string()))
}
pub fn prefix(p: &str) -> Expr {
    Expr::Const(Const::Prefix(p.parse().unwrap()))
}
pub fn ip(a: &str) -> Expr {
    Expr::Const(Const::Ip(a.parse().unwrap()))
}
pub fn pair(a: u32, b: u32) -> Expr {
    Expr::Const(Const::Pair(a, b))
}
pub fn quad(a: u32, b: u32, c: u32) -> Expr {
    Expr::Const(Const::Quad(a, b, c))
}
pub fn source(s: RouteSourceKind) -> Expr {
    Expr::Const(Const::Source(s))
}
pub fn source_set(s: &[RouteSourceKind]) -> Expr {
    Expr::Const(Const::SourceSet(s.to_vec()))
}
/// `[ net{min,max}, … ]`.
pub fn prefix_set(items: &[(&str, u8, u8)]) -> Expr {
    Expr::Const(Const::PrefixSet(
        items
            .iter()
            .map(|(n, min_len, max_len)| PrefixPattern {
                net: n.parse().unwrap(),
                min_len: *min_len,
                max_len: *max_len,
            })
            .collect(),
    ))
}
/// `[= … =]`: `0` stands for `*`, `1` for `?`, anything else is an AS.
pub fn mask(items: &[u32]) -> Expr {
    Expr::Const(Const::PathMask(
        items
            .iter()
            .map(|a| match a {
                0 => MaskItem::AnyMany,
                1 => MaskItem::AnyOne,
                a => MaskItem::Asn(*a),
            })
            .collect(),
    ))
}
pub fn attr(a: Attr) -> Expr {
    Expr::Attr(a)
}
pub fn defined(a: Attr) -> Expr {
    Expr::Defined(a)
}
pub fn param(i: usize) -> Expr {
    Expr::Param(i)
}
pub fn not(e: Expr) -> Expr {
    Expr::Not(Box::new(e))
}
pub fn and(a: Expr, b: Expr) -> Expr {
    Expr::And(Box::new(a), Box::new(b))
}
pub fn or(a: Expr, b: Expr) -> Expr {
    Expr::Or(Box::new(a), Box::new(b))
}
pub fn cmp(op: CmpOp, l: Expr, r: Expr) -> Expr {
    Expr::Cmp {
        op,
        left: Box::new(l),
        right: Box::new(r),
    }
}
pub fn eq(l: Expr, r: Expr) -> Expr {
    cmp(CmpOp::Eq, l, r)
}
pub fn is_in(l: Expr, r: Expr) -> Expr {
    Expr::Match {
        negated: false,
        left: Box::new(l),
        right: Box::new(r),
    }
}
pub fn not_in(l: Expr, r: Expr) -> Expr {
    Expr::Match {
        negated: true,
        left: Box::new(l),
        right: Box::new(r),
    }
}
pub fn sub(l: Expr, r: Expr) -> Expr {
    Expr::Arith {
        op: ArithOp::Sub,
        left: Box::new(l),
        right: Box::new(r),
    }
}
pub fn add(l: Expr, r: Expr) -> Expr {
    Expr::Arith {
        op: ArithOp::Add,
        left: Box::new(l),
        right: Box::new(r),
    }
}
pub fn net_is(p: &str) -> Expr {
    eq(attr(Attr::Net), prefix(p))
}
pub fn net_in(p: &str) -> Expr {
    is_in(attr(Attr::Net), prefix(p))
}
pub fn if_(cond: Expr, then: Vec<Stmt>) -> Stmt {
    Stmt::If {
        cond,
        then,
        otherwise: Vec::new(),
    }
}
pub fn if_else(cond: Expr, then: Vec<Stmt>, otherwise: Vec<Stmt>) -> Stmt {
    Stmt::If {
        cond,
        then,
        otherwise,
    }
}
pub fn set(attr: Attr, value: Expr) -> Stmt {
    Stmt::Set { attr, value }
}
pub fn method(attr: Attr, method: Method, arg: Expr) -> Stmt {
    Stmt::Method { attr, method, arg }
}
pub fn call(function: FunctionId, args: Vec<Expr>) -> Stmt {
    Stmt::Call { function, args }
}
pub fn function(name: &str, params: &[&str], body: Vec<Stmt>) -> Function {
    Function {
        name: name.to_string(),
        params: params.iter().map(|p| p.to_string()).collect(),
        body,
    }
}
pub fn program(name: Option<&str>, body: Vec<Stmt>, functions: &Arc<[Function]>) -> Program {
    Program {
        name: name.map(str::to_string),
        body,
        functions: functions.clone(),
    }
}

// ---- generation 2 (Calico ≥ 3.32) ------------------------------------------------------

/// The blocks of the golden fixtures' bird_aggr.cfg.
pub const BLOCKS: [&str; 5] = [
    "10.0.0.0/30",
    "10.1.0.0/24",
    "10.2.0.1/32",
    "192.168.221.192/26",
    "192.168.221.64/26",
];

/// Function ids of [`gen2_functions`].
pub const APPLY_COMMUNITIES: FunctionId = 0;
pub const CALICO_AGGR: FunctionId = 1;
pub const REJECT_LOCAL_ROUTES: FunctionId = 2;
pub const EXPORT_TO_PEERS: FunctionId = 3;
/// BGPFilter functions follow, in the order given to [`gen2_functions`].
pub const FIRST_BGP_FILTER: FunctionId = 4;

/// What a generation-2 configuration is made of.
pub struct Gen2<'a> {
    /// `apply_communities` body (empty in most fixtures).
    pub communities: Vec<Stmt>,
    /// Pools whose routes `calico_export_to_bgp_peers` accepts.
    pub export_pools: &'a [&'a str],
    /// Whether the iBGP interface check also rejects `tunl0` (mesh fixtures do, the
    /// cluster_routes ones do not).
    pub reject_tunl0: bool,
    /// BGPFilter functions (`'bgp_<name>_importFilterV4'` / `…exportFilterV4`).
    pub bgp_filters: Vec<Function>,
}

/// ```text
/// function calico_aggr ()
/// {
///       if ( net = 10.0.0.0/30 ) then { accept; }
///       if ( net ~ 10.0.0.0/30 && krt_metric < 1024 ) then { accept; }
///       if ( net ~ 10.0.0.0/30 ) then { reject; }
///       …one triple per block
/// }
/// function reject_local_routes () {
///   if (defined(ifname)) then {
///      if (ifname ~ "bpf*.cali") then {
///         reject;
///      }
///   }
/// }
/// function calico_export_to_bgp_peers(bool internal_peer) {
///   if (internal_peer) then {
///     if (defined(ifname)) then {
///       if ((ifname ~ "*.cali") || (ifname ~ "*.calico") || (ifname ~ "tunl0")) then {
///         reject;
///       }
///     }
///   }
///   reject_local_routes();
///   apply_communities();
///   calico_aggr();
///   if (net ~ 192.168.0.0/16) then { accept; }
/// }
/// ```
pub fn gen2_functions(c: Gen2<'_>) -> Arc<[Function]> {
    let mut aggr = Vec::new();
    for b in BLOCKS {
        aggr.push(if_(net_is(b), vec![Stmt::Accept]));
        aggr.push(if_(
            and(net_in(b), cmp(CmpOp::Lt, attr(Attr::KrtMetric), int(1024))),
            vec![Stmt::Accept],
        ));
        aggr.push(if_(net_in(b), vec![Stmt::Reject]));
    }
    let reject_local = vec![if_(
        defined(Attr::IfName),
        vec![if_(
            is_in(attr(Attr::IfName), string("bpf*.cali")),
            vec![Stmt::Reject],
        )],
    )];
    let mut iface = or(
        is_in(attr(Attr::IfName), string("*.cali")),
        is_in(attr(Attr::IfName), string("*.calico")),
    );
    if c.reject_tunl0 {
        iface = or(iface, is_in(attr(Attr::IfName), string("tunl0")));
    }
    let mut export = vec![
        if_(
            param(0),
            vec![if_(
                defined(Attr::IfName),
                vec![if_(iface, vec![Stmt::Reject])],
            )],
        ),
        call(REJECT_LOCAL_ROUTES, vec![]),
        call(APPLY_COMMUNITIES, vec![]),
        call(CALICO_AGGR, vec![]),
    ];
    for p in c.export_pools {
        export.push(if_(net_in(p), vec![Stmt::Accept]));
    }
    let mut f = vec![
        function("apply_communities", &[], c.communities),
        function("calico_aggr", &[], aggr),
        function("reject_local_routes", &[], reject_local),
        function("calico_export_to_bgp_peers", &["internal_peer"], export),
    ];
    f.extend(c.bgp_filters);
    Arc::from(f)
}

/// A peer's export filter:
/// ```text
/// export filter {
///   if (defined(source) && source = RTS_BGP && defined(bgp_local_pref)) then {
///     krt_metric = 2147483647 - bgp_local_pref;
///   } else {
///     if (!defined(krt_metric)) then { krt_metric = 1024; }
///     bgp_local_pref = 2147483647 - krt_metric;
///   }
///   'bgp_…_exportFilterV4'(…);          # only with a BGPFilter
///   calico_export_to_bgp_peers(true);   # false for an eBGP peer
///   reject;
/// };
/// ```
pub fn gen2_export(
    functions: &Arc<[Function]>,
    bgp_filter: Option<(FunctionId, Vec<Expr>)>,
    internal: bool,
) -> Program {
    let mut body = vec![if_else(
        and(
            and(
                defined(Attr::Source),
                eq(attr(Attr::Source), source(RouteSourceKind::Bgp)),
            ),
            defined(Attr::BgpLocalPref),
        ),
        vec![set(
            Attr::KrtMetric,
            sub(int(2147483647), attr(Attr::BgpLocalPref)),
        )],
        vec![
            if_(
                not(defined(Attr::KrtMetric)),
                vec![set(Attr::KrtMetric, int(1024))],
            ),
            set(
                Attr::BgpLocalPref,
                sub(int(2147483647), attr(Attr::KrtMetric)),
            ),
        ],
    )];
    if let Some((f, args)) = bgp_filter {
        body.push(call(f, args));
    }
    body.push(call(
        EXPORT_TO_PEERS,
        vec![Expr::Const(Const::Bool(internal))],
    ));
    body.push(Stmt::Reject);
    program(None, body, functions)
}

/// A peer's import filter:
/// ```text
/// import filter {
///   'bgp_…_importFilterV4'();          # only with a BGPFilter
///   if (defined(bgp_local_pref)&&(bgp_local_pref > 2147482623)) then
///     preference = 200;
///   accept;
/// };
/// ```
pub fn gen2_import(functions: &Arc<[Function]>, bgp_filter: Option<FunctionId>) -> Program {
    let mut body = Vec::new();
    if let Some(f) = bgp_filter {
        body.push(call(f, vec![]));
    }
    body.push(if_(
        and(
            defined(Attr::BgpLocalPref),
            cmp(CmpOp::Gt, attr(Attr::BgpLocalPref), int(2147482623)),
        ),
        vec![set(Attr::Preference, int(200))],
    ));
    body.push(Stmt::Accept);
    program(None, body, functions)
}

/// `cluster_routes/enabled/bird_ipam.cfg`:
/// ```text
/// filter calico_kernel_programming {
///   if (defined(source) && (source = RTS_BGP) && !defined(krt_metric)) then {
///       krt_metric = 1024;
///       if (defined(bgp_local_pref)) then {
///           krt_metric = 2147483647 - bgp_local_pref;
///       }
///       if (krt_metric < 1024) then {
///           preference = 200;
///       }
///   }
///   if (net ~ 172.16.0.0/16) then { if (defined(bgp_next_hop)&&(bgp_next_hop ~ 10.192.0.0/16)) then krt_tunnel=""; else krt_tunnel="tunl0"; accept; }
///   if (net ~ 172.17.0.0/16) then { accept; }
///   if (net ~ 192.168.0.0/16) then { krt_tunnel="tunl0"; accept; }
///   accept;
/// }
/// ```
pub fn gen2_kernel(functions: &Arc<[Function]>) -> Program {
    let body = vec![
        if_(
            and(
                and(
                    defined(Attr::Source),
                    eq(attr(Attr::Source), source(RouteSourceKind::Bgp)),
                ),
                not(defined(Attr::KrtMetric)),
            ),
            vec![
                set(Attr::KrtMetric, int(1024)),
                if_(
                    defined(Attr::BgpLocalPref),
                    vec![set(
                        Attr::KrtMetric,
                        sub(int(2147483647), attr(Attr::BgpLocalPref)),
                    )],
                ),
                if_(
                    cmp(CmpOp::Lt, attr(Attr::KrtMetric), int(1024)),
                    vec![set(Attr::Preference, int(200))],
                ),
            ],
        ),
        if_(
            net_in("172.16.0.0/16"),
            vec![
                if_else(
                    and(
                        defined(Attr::BgpNextHop),
                        is_in(attr(Attr::BgpNextHop), prefix("10.192.0.0/16")),
                    ),
                    vec![set(Attr::KrtTunnel, string(""))],
                    vec![set(Attr::KrtTunnel, string("tunl0"))],
                ),
                Stmt::Accept,
            ],
        ),
        if_(net_in("172.17.0.0/16"), vec![Stmt::Accept]),
        if_(
            net_in("192.168.0.0/16"),
            vec![set(Attr::KrtTunnel, string("tunl0")), Stmt::Accept],
        ),
        Stmt::Accept,
    ];
    program(Some("calico_kernel_programming"), body, functions)
}

/// `bgpfilter/communities_and_operations/bird.cfg`:
/// ```text
/// function 'bgp_test-filter-communities-ops_importFilterV4'() {
///   if (((65000, 100) ~ bgp_community)) then { bgp_local_pref = 2147483391; accept; }
///   reject;
/// }
/// function 'bgp_test-filter-communities-ops_exportFilterV4'() {
///   if (((65000, 42) ~ bgp_community)) then { bgp_community.add((65001, 200)); bgp_path.prepend(65000); accept; }
///   reject;
/// }
/// ```
pub fn bgpfilter_communities_ops() -> Vec<Function> {
    vec![
        function(
            "bgp_test-filter-communities-ops_importFilterV4",
            &[],
            vec![
                if_(
                    is_in(pair(65000, 100), attr(Attr::BgpCommunity)),
                    vec![set(Attr::BgpLocalPref, int(2147483391)), Stmt::Accept],
                ),
                Stmt::Reject,
            ],
        ),
        function(
            "bgp_test-filter-communities-ops_exportFilterV4",
            &[],
            vec![
                if_(
                    is_in(pair(65000, 42), attr(Attr::BgpCommunity)),
                    vec![
                        method(Attr::BgpCommunity, Method::Add, pair(65001, 200)),
                        method(Attr::BgpPath, Method::Prepend, int(65000)),
                        Stmt::Accept,
                    ],
                ),
                Stmt::Reject,
            ],
        ),
    ]
}

/// `bgpfilter/as_path_and_priority/bird.cfg`:
/// ```text
/// function 'bgp_test-filter-aspath-prio_importFilterV4'() {
///   if ((bgp_path ~ [= 65000 * =])) then { bgp_local_pref = 2147483547; accept; }
///   if ((bgp_path ~ [= 65000 65001 * =])) then { bgp_local_pref = 2147483447; accept; }
///   accept;
/// }
/// function 'bgp_test-filter-aspath-prio_exportFilterV4'() {
///   if ((defined(bgp_local_pref)&&(bgp_local_pref = 2147483547))) then { bgp_community.add((65000, 100)); accept; }
///   if ((defined(bgp_local_pref)&&(bgp_local_pref = 2147483447))) then { bgp_path.prepend(65001); bgp_path.prepend(65000); accept; }
///   reject;
/// }
/// ```
pub fn bgpfilter_as_path_prio() -> Vec<Function> {
    vec![
        function(
            "bgp_test-filter-aspath-prio_importFilterV4",
            &[],
            vec![
                if_(
                    is_in(attr(Attr::BgpPath), mask(&[65000, 0])),
                    vec![set(Attr::BgpLocalPref, int(2147483547)), Stmt::Accept],
                ),
                if_(
                    is_in(attr(Attr::BgpPath), mask(&[65000, 65001, 0])),
                    vec![set(Attr::BgpLocalPref, int(2147483447)), Stmt::Accept],
                ),
                Stmt::Accept,
            ],
        ),
        function(
            "bgp_test-filter-aspath-prio_exportFilterV4",
            &[],
            vec![
                if_(
                    and(
                        defined(Attr::BgpLocalPref),
                        eq(attr(Attr::BgpLocalPref), int(2147483547)),
                    ),
                    vec![
                        method(Attr::BgpCommunity, Method::Add, pair(65000, 100)),
                        Stmt::Accept,
                    ],
                ),
                if_(
                    and(
                        defined(Attr::BgpLocalPref),
                        eq(attr(Attr::BgpLocalPref), int(2147483447)),
                    ),
                    vec![
                        method(Attr::BgpPath, Method::Prepend, int(65001)),
                        method(Attr::BgpPath, Method::Prepend, int(65000)),
                        Stmt::Accept,
                    ],
                ),
                Stmt::Reject,
            ],
        ),
    ]
}

/// `bgpfilter/large_community/bird.cfg`:
/// ```text
/// function 'bgp_test-filter-large-comm_importFilterV4'() {
///   if (((65000, 100, 200) ~ bgp_large_community)) then { bgp_large_community.add((65001, 300, 400)); accept; }
///   reject;
/// }
/// function 'bgp_test-filter-large-comm_exportFilterV4'() {
///   if (((65000, 100, 200) ~ bgp_large_community)) then { accept; }
///   reject;
/// }
/// ```
pub fn bgpfilter_large_community() -> Vec<Function> {
    vec![
        function(
            "bgp_test-filter-large-comm_importFilterV4",
            &[],
            vec![
                if_(
                    is_in(quad(65000, 100, 200), attr(Attr::BgpLargeCommunity)),
                    vec![
                        method(Attr::BgpLargeCommunity, Method::Add, quad(65001, 300, 400)),
                        Stmt::Accept,
                    ],
                ),
                Stmt::Reject,
            ],
        ),
        function(
            "bgp_test-filter-large-comm_exportFilterV4",
            &[],
            vec![
                if_(
                    is_in(quad(65000, 100, 200), attr(Attr::BgpLargeCommunity)),
                    vec![Stmt::Accept],
                ),
                Stmt::Reject,
            ],
        ),
    ]
}

/// `bgpfilter/kubevirt_live_migration/bird.cfg` (export half):
/// ```text
/// function 'bgp_kubevirt-lm_exportFilterV4'(bool is_same_as) {
///   if (!is_same_as) then { if ((defined(bgp_local_pref)&&(bgp_local_pref = 2147483547))) then { bgp_community.add((65000, 100)); accept; } }
///   if (!is_same_as) then { if ((defined(bgp_local_pref)&&(bgp_local_pref = 2147483447))) then { bgp_community.add((65000, 200)); bgp_path.prepend(65000); accept; } }
///   reject;
/// }
/// ```
pub fn bgpfilter_kubevirt_export() -> Function {
    function(
        "bgp_kubevirt-lm_exportFilterV4",
        &["is_same_as"],
        vec![
            if_(
                not(param(0)),
                vec![if_(
                    and(
                        defined(Attr::BgpLocalPref),
                        eq(attr(Attr::BgpLocalPref), int(2147483547)),
                    ),
                    vec![
                        method(Attr::BgpCommunity, Method::Add, pair(65000, 100)),
                        Stmt::Accept,
                    ],
                )],
            ),
            if_(
                not(param(0)),
                vec![if_(
                    and(
                        defined(Attr::BgpLocalPref),
                        eq(attr(Attr::BgpLocalPref), int(2147483447)),
                    ),
                    vec![
                        method(Attr::BgpCommunity, Method::Add, pair(65000, 200)),
                        method(Attr::BgpPath, Method::Prepend, int(65000)),
                        Stmt::Accept,
                    ],
                )],
            ),
            Stmt::Reject,
        ],
    )
}

/// `mesh/communities/bird.cfg`:
/// ```text
/// function apply_communities ()
/// {
///       if ( net ~ 192.168.0.0/16 ) then {
///           bgp_large_community.add((100, 555, 107));
///           bgp_community.add((100, 6532));
///           bgp_community.add((5663, 12));
///       }
/// }
/// ```
pub fn mesh_communities() -> Vec<Stmt> {
    vec![if_(
        net_in("192.168.0.0/16"),
        vec![
            method(Attr::BgpLargeCommunity, Method::Add, quad(100, 555, 107)),
            method(Attr::BgpCommunity, Method::Add, pair(100, 6532)),
            method(Attr::BgpCommunity, Method::Add, pair(5663, 12)),
        ],
    )]
}

// ---- generation 1 (Calico ≤ 3.31) --------------------------------------------------------

/// Function ids of [`gen1_functions`].
pub const G1_REJECT_DISABLED_POOLS: FunctionId = 0;
pub const G1_REJECT_TUNNEL_ROUTES: FunctionId = 1;
pub const G1_REJECT_LOCAL_ROUTES: FunctionId = 2;
pub const G1_APPLY_COMMUNITIES: FunctionId = 3;
pub const G1_CALICO_AGGR: FunctionId = 4;
pub const G1_EXPORT_TO_PEERS: FunctionId = 5;

/// v3.31.7 `mesh/ipip-cross-subnet/bird_ipam.cfg` + `bird_aggr.cfg`:
/// ```text
/// function reject_disabled_pools () { }
/// function reject_tunnel_routes () {
///   if (defined(ifname)) then {
///      if ((ifname ~ "*.cali") || (ifname ~ "*.calico")) then { reject; }
///   }
/// }
/// function reject_local_routes () { …same as generation 2… }
/// function calico_aggr ()
/// {
///       if ( net = 10.0.0.0/30 ) then { accept; }
///       if ( net ~ 10.0.0.0/30 ) then { reject; }
///       …
/// }
/// function calico_export_to_bgp_peers(bool internal_peer) {
///   reject_disabled_pools();
///   if (internal_peer) then {
///     reject_tunnel_routes();
///   }
///   reject_local_routes();
///   apply_communities();
///   calico_aggr();
///   if ( net ~ 192.168.0.0/16 ) then {
///     accept;
///   }
/// }
/// ```
pub fn gen1_functions() -> Arc<[Function]> {
    let mut aggr = Vec::new();
    for b in BLOCKS {
        aggr.push(if_(net_is(b), vec![Stmt::Accept]));
        aggr.push(if_(net_in(b), vec![Stmt::Reject]));
    }
    Arc::from(vec![
        function("reject_disabled_pools", &[], vec![]),
        function(
            "reject_tunnel_routes",
            &[],
            vec![if_(
                defined(Attr::IfName),
                vec![if_(
                    or(
                        is_in(attr(Attr::IfName), string("*.cali")),
                        is_in(attr(Attr::IfName), string("*.calico")),
                    ),
                    vec![Stmt::Reject],
                )],
            )],
        ),
        function(
            "reject_local_routes",
            &[],
            vec![if_(
                defined(Attr::IfName),
                vec![if_(
                    is_in(attr(Attr::IfName), string("bpf*.cali")),
                    vec![Stmt::Reject],
                )],
            )],
        ),
        function("apply_communities", &[], vec![]),
        function("calico_aggr", &[], aggr),
        function(
            "calico_export_to_bgp_peers",
            &["internal_peer"],
            vec![
                call(G1_REJECT_DISABLED_POOLS, vec![]),
                if_(param(0), vec![call(G1_REJECT_TUNNEL_ROUTES, vec![])]),
                call(G1_REJECT_LOCAL_ROUTES, vec![]),
                call(G1_APPLY_COMMUNITIES, vec![]),
                call(G1_CALICO_AGGR, vec![]),
                if_(net_in("192.168.0.0/16"), vec![Stmt::Accept]),
            ],
        ),
    ])
}

/// ```text
/// export filter {
///   calico_export_to_bgp_peers(true);
///   reject;
/// };
/// ```
pub fn gen1_export(functions: &Arc<[Function]>) -> Program {
    program(
        None,
        vec![
            call(G1_EXPORT_TO_PEERS, vec![Expr::Const(Const::Bool(true))]),
            Stmt::Reject,
        ],
        functions,
    )
}

/// ```text
/// filter calico_kernel_programming {
///   if ( net ~ 192.168.0.0/16 ) then {
///     if defined(bgp_next_hop) && ( bgp_next_hop ~ 10.192.0.0/16 ) then
///       krt_tunnel = "";
///     else
///       krt_tunnel = "tunl0";
///     accept;
///   }
///   accept;
/// }
/// ```
pub fn gen1_kernel(functions: &Arc<[Function]>) -> Program {
    program(
        Some("calico_kernel_programming"),
        vec![
            if_(
                net_in("192.168.0.0/16"),
                vec![
                    if_else(
                        and(
                            defined(Attr::BgpNextHop),
                            is_in(attr(Attr::BgpNextHop), prefix("10.192.0.0/16")),
                        ),
                        vec![set(Attr::KrtTunnel, string(""))],
                        vec![set(Attr::KrtTunnel, string("tunl0"))],
                    ),
                    Stmt::Accept,
                ],
            ),
            Stmt::Accept,
        ],
        functions,
    )
}
