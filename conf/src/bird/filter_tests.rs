use super::*;
use crate::bird::parse::tests::parse_text;
use crate::bird::parse::{Ast, FilterRef};

fn compile(text: &str) -> Ast {
    match parse_text(text) {
        Ok((ast, diags)) if diags.is_empty() => ast,
        Ok((_, diags)) => panic!("{diags:?}"),
        Err(e) => panic!("{e:?}"),
    }
}

/// The body of the (only) bgp protocol's export filter.
fn export_body(text: &str) -> Vec<Stmt> {
    let ast = compile(text);
    match &ast.protocols[0].opts.export.as_ref().unwrap().v {
        FilterRef::Program(d) => d.body.clone(),
        other => panic!("{other:?}"),
    }
}

fn export_of(filter_body: &str) -> Vec<Stmt> {
    export_body(&format!(
        "protocol bgp b {{ export filter {{ {filter_body} }}; }}"
    ))
}

/// Semantic errors: (message, offset) of each.
fn semantic_errors(text: &str) -> Vec<String> {
    match parse_text(text) {
        Ok((_, diags)) => diags.into_iter().map(|d| d.message).collect(),
        Err(e) => panic!("syntax error {e:?}"),
    }
}

fn attr(a: Attr) -> Box<Expr> {
    Box::new(Expr::Attr(a))
}

fn int(n: i64) -> Box<Expr> {
    Box::new(Expr::Const(Const::Int(n)))
}

#[test]
fn and_or_share_one_left_associative_level_as_in_bird() {
    let body = export_of("if defined(ifname) || defined(source) && net ~ 10.0.0.0/8 then accept;");
    let Stmt::If { cond, .. } = &body[0] else {
        panic!()
    };
    assert_eq!(
        *cond,
        Expr::And(
            Box::new(Expr::Or(
                Box::new(Expr::Defined(Attr::IfName)),
                Box::new(Expr::Defined(Attr::Source))
            )),
            Box::new(Expr::Match {
                negated: false,
                left: attr(Attr::Net),
                right: Box::new(Expr::Const(Const::Prefix("10.0.0.0/8".parse().unwrap()))),
            })
        )
    );
}

#[test]
fn arithmetic_assignment_and_nested_unbraced_if_else() {
    let body = export_of(
        "krt_metric = 2147483647 - bgp_local_pref;
         if (net ~ 172.16.0.0/16) then { if (defined(bgp_next_hop)&&(bgp_next_hop ~ 10.192.0.0/16)) then krt_tunnel=\"\"; else krt_tunnel=\"tunl0\"; accept; }",
    );
    assert_eq!(
        body[0],
        Stmt::Set {
            attr: Attr::KrtMetric,
            value: Expr::Arith {
                op: ArithOp::Sub,
                left: int(2147483647),
                right: attr(Attr::BgpLocalPref)
            }
        }
    );
    let Stmt::If {
        then, otherwise, ..
    } = &body[1]
    else {
        panic!()
    };
    assert!(otherwise.is_empty());
    assert_eq!(then.len(), 2, "the inner if/else, then accept");
    let Stmt::If {
        then: inner_then,
        otherwise: inner_else,
        ..
    } = &then[0]
    else {
        panic!()
    };
    assert_eq!(
        inner_then[..],
        [Stmt::Set {
            attr: Attr::KrtTunnel,
            value: Expr::Const(Const::Str(String::new()))
        }]
    );
    assert_eq!(
        inner_else[..],
        [Stmt::Set {
            attr: Attr::KrtTunnel,
            value: Expr::Const(Const::Str("tunl0".into()))
        }]
    );
    assert_eq!(then[1], Stmt::Accept);
}

#[test]
fn sets_masks_pairs_and_methods() {
    let body = export_of(
        "if net ~ [ 10.244.0.0/16{24,28}, 10.0.0.0/8+, 192.168.0.0/16- ] then reject;
         if source ~ [ RTS_BGP, RTS_STATIC ] then reject;
         if bgp_path ~ [= 65000 * ? =] then reject;
         if (65000, 100) ~ bgp_community then bgp_community.add((65000, 200));
         if (1, 2, 3) ~ bgp_large_community then bgp_large_community.delete((1, 2, 3));
         bgp_path.prepend(65000);",
    );
    let cond = |i: usize| match &body[i] {
        Stmt::If { cond, .. } => cond.clone(),
        s => panic!("{s:?}"),
    };
    let Expr::Match { right, .. } = cond(0) else {
        panic!()
    };
    assert_eq!(
        *right,
        Expr::Const(Const::PrefixSet(vec![
            PrefixPattern {
                net: "10.244.0.0/16".parse().unwrap(),
                min_len: 24,
                max_len: 28
            },
            PrefixPattern {
                net: "10.0.0.0/8".parse().unwrap(),
                min_len: 8,
                max_len: 32
            },
            PrefixPattern {
                net: "192.168.0.0/16".parse().unwrap(),
                min_len: 0,
                max_len: 16
            },
        ]))
    );
    let Expr::Match { right, .. } = cond(1) else {
        panic!()
    };
    assert_eq!(
        *right,
        Expr::Const(Const::SourceSet(vec![
            RouteSourceKind::Bgp,
            RouteSourceKind::Static
        ]))
    );
    let Expr::Match { right, .. } = cond(2) else {
        panic!()
    };
    assert_eq!(
        *right,
        Expr::Const(Const::PathMask(vec![
            MaskItem::Asn(65000),
            MaskItem::AnyMany,
            MaskItem::AnyOne
        ]))
    );
    let Stmt::If { then, .. } = &body[3] else {
        panic!()
    };
    assert_eq!(
        then[0],
        Stmt::Method {
            attr: Attr::BgpCommunity,
            method: Method::Add,
            arg: Expr::Const(Const::Pair(65000, 200))
        }
    );
    assert_eq!(
        body[5],
        Stmt::Method {
            attr: Attr::BgpPath,
            method: Method::Prepend,
            arg: Expr::Const(Const::Int(65000))
        }
    );
}

#[test]
fn functions_take_bool_params_and_resolve_in_file_order() {
    let ast = compile(
        "function a () { }
         function 'bgp_x-y_exportFilterV4'(bool is_same_as) { if (!is_same_as) then { accept; } }
         function b(bool internal_peer) { a(); 'bgp_x-y_exportFilterV4'(internal_peer); if internal_peer then reject; }
         filter k { b(true); accept; }",
    );
    assert_eq!(ast.functions.len(), 3);
    assert_eq!(ast.functions[1].name, "bgp_x-y_exportFilterV4");
    assert_eq!(ast.functions[1].params, ["is_same_as"]);
    assert_eq!(
        ast.functions[2].body[..2],
        [
            Stmt::Call {
                function: 0,
                args: vec![]
            },
            Stmt::Call {
                function: 1,
                args: vec![Expr::Param(0)]
            }
        ]
    );
}

#[test]
fn where_compiles_to_accept_or_reject() {
    let ast = compile("protocol bgp b { import where net ~ 10.0.0.0/8; }");
    let FilterRef::Program(d) = &ast.protocols[0].opts.import.as_ref().unwrap().v else {
        panic!()
    };
    assert!(
        matches!(&d.body[..], [Stmt::If { then, otherwise, .. }] if then[..] == [Stmt::Accept] && otherwise[..] == [Stmt::Reject])
    );
}

#[test]
fn type_and_name_errors_are_collected() {
    let errs = semantic_errors(
        "function f(bool p) { accept; }
         filter x {
           krt_metric = \"tunl0\";
           krt_tunnel = 5;
           nosuch = 1;
           bgp_next_hop = 10.0.0.1;
           f();
           g();
           if krt_metric then accept;
           if net ~ \"x\" then accept;
           if (net ~ 10.0.0.0/8) && 5 then accept;
           bgp_path.prepend((1, 2));
           if (70000, 1) ~ bgp_community then accept;
           if defined(gw) then accept;
         }",
    );
    let expect = [
        "attribute `krt_metric` is of type int, the value is of type string",
        "attribute `krt_tunnel` is of type string, the value is of type int",
        "unknown symbol `nosuch`",
        "attribute `bgp_next_hop` cannot be written by bgpd's filters",
        "function `f` takes 1 argument(s), 0 given",
        "function `g` is not defined (above this line)",
        "an `if` condition must be of type bool, not int",
        "`~` cannot compare prefix with string",
        "the right side of `&&` must be of type bool, not int",
        "the argument of bgp_path.prepend must be of type int, not pair",
        "pair (70000, 1): both parts must be at most 65535",
        "attribute `gw` is not supported by bgpd's BIRD front end",
    ];
    assert_eq!(errs, expect);
}

#[test]
fn use_before_definition_is_an_error() {
    let errs = semantic_errors("function a () { b(); }\nfunction b () { }");
    assert_eq!(errs, ["function `b` is not defined (above this line)"]);
}

#[test]
fn unsupported_filter_statements_are_syntax_errors() {
    for (text, want) in [
        ("filter x { print \"a\"; }", "`print` is not supported"),
        ("function f () int x; { }", "expected `{`, found `int`"),
        ("function f (int x) { }", "only bool"),
        ("filter x { if net.len > 8 then accept; }", "`net.…`"),
        (
            "filter x { if [1, 2] ~ 5 then accept; }",
            "sets of prefixes",
        ),
    ] {
        let e = match parse_text(text) {
            Err(e) => e,
            Ok(r) => panic!("{text}: parsed {:?}", r.1),
        };
        assert!(
            e.2.contains(want) || format!("{e:?}").contains(want),
            "{text}: {e:?}"
        );
    }
}
