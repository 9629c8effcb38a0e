use std::path::Path;

use super::*;
use crate::bird::lex::{lex_text, Source};
use crate::error::Location;

/// Parses `text`; `Err` holds the first error's (line, column, message).
pub(crate) fn parse_text(text: &str) -> Result<(Ast, Vec<Diag>), (usize, usize, String)> {
    let mut sources: Vec<Source> = Vec::new();
    let at = |d: &Diag, sources: &[Source]| {
        let p = d.pos.expect("a position");
        let l = Location::of_offset(&sources[p.file as usize].text, p.offset as usize);
        (l.line, l.column, d.message.clone())
    };
    let toks = match lex_text(Path::new("test.cfg"), text, &mut sources) {
        Ok(t) => t,
        Err(d) => return Err(at(&d, &sources)),
    };
    Parser::new(toks, &sources)
        .parse()
        .map_err(|ds| at(&ds[0], &sources))
}

fn ok(text: &str) -> Ast {
    match parse_text(text) {
        Ok((ast, diags)) if diags.is_empty() => ast,
        Ok((_, diags)) => panic!("{diags:?}"),
        Err(e) => panic!("{e:?}"),
    }
}

fn fails(text: &str) -> (usize, usize, String) {
    match parse_text(text) {
        Ok((_, diags)) if diags.is_empty() => panic!("parsed"),
        Ok((_, diags)) => panic!("semantic only: {diags:?}"),
        Err(e) => e,
    }
}

#[test]
fn router_id_and_listen() {
    let ast = ok("router id 10.0.0.1;\nlisten bgp address 10.0.0.1 port 178;\n");
    assert_eq!(ast.router_id.unwrap().v, Ipv4Addr::new(10, 0, 0, 1));
    let l = ast.listen.unwrap();
    assert_eq!(l.address.unwrap().v, "10.0.0.1".parse::<IpAddr>().unwrap());
    assert_eq!(l.port, Some(178));
    assert_eq!(ok("listen bgp port 150;").listen.unwrap().port, Some(150));
}

#[test]
fn templates_are_inherited_and_overridden() {
    let ast = ok(r#"
template bgp bgp_template {
  debug { states, routes, filters, events };
  description "Connection to BGP peer";
  local as 64512;
  gateway recursive;
  add paths on;
  graceful restart;
  connect delay time 2;
  connect retry time 5;
  error wait time 5,30;
}
protocol bgp Node_10_0_0_2 from bgp_template {
  local as 65001;
  neighbor 10.0.0.2 port 1790 as 65002;
  multihop 3;
  ttl security off;
  passive on;
  graceful restart time 300;
  keepalive time 10;
  hold time 30;
  rr client;
  rr cluster id 10.0.0.9;
  next hop keep;
  allow local as;
  password "pw";
  source address 10.0.0.1;
}
"#);
    let p = &ast.protocols[0];
    assert_eq!((p.kind, p.name.as_str()), (ProtoKind::Bgp, "Node_10_0_0_2"));
    assert_eq!(p.template.as_deref(), Some("bgp_template"));
    let o = &p.opts;
    assert_eq!(o.description.as_deref(), Some("Connection to BGP peer"));
    assert_eq!(o.local_as.as_ref().unwrap().v, 65001);
    assert_eq!(o.remote_as.as_ref().unwrap().v, 65002);
    assert_eq!(o.neighbor_port.as_ref().unwrap().v, 1790);
    assert_eq!(o.multihop.as_ref().unwrap().v, 3);
    assert!(!o.ttl_security.as_ref().unwrap().v);
    assert!(o.passive);
    assert_eq!(o.gr_time.as_ref().unwrap().v, 300);
    assert!(o.graceful_restart.as_ref().unwrap().v);
    assert_eq!(o.add_paths, Some(Some(AddPathMode::Both)));
    assert_eq!((o.connect_delay, o.connect_retry), (Some(2), Some(5)));
    assert_eq!(o.error_wait.as_ref().unwrap().v, (5, 30));
    assert_eq!(
        (o.keepalive.as_ref().unwrap().v, o.hold.as_ref().unwrap().v),
        (10, 30)
    );
    assert!(o.rr_client.as_ref().unwrap().v);
    assert_eq!(
        o.rr_cluster_id.as_ref().unwrap().v,
        Ipv4Addr::new(10, 0, 0, 9)
    );
    assert_eq!(o.next_hop, Some(NextHopMode::Keep));
    assert_eq!(o.allow_local_as, Some(u8::MAX));
    assert_eq!(o.password.as_deref(), Some("pw"));
    // The template itself is not a protocol.
    assert_eq!(ast.protocols.len(), 1);
}

#[test]
fn kernel_device_direct_static_in_both_generations() {
    let ast = ok(r#"
template kernel kernel_template { learn; persist; scan time 2; import all; }
protocol kernel from kernel_template { export filter f; graceful restart; merge paths on limit 8; }
protocol device { debug all; scan time 2; }
template direct direct_template { debug { states }; interface -"cali*", -"kube-ipvs*", "*"; }
protocol direct from direct_template { }
template static static_template { route 10.0.0.0/26 blackhole; }
protocol static from static_template { route 10.0.1.5/32 via 10.0.0.9; }
protocol static { route 10.0.2.0/24 blackhole; }
"#
    .replace("protocol kernel", "filter f { accept; }\nprotocol kernel")
    .as_str());
    let names: Vec<&str> = ast.protocols.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        ["kernel1", "device1", "direct1", "static1", "static2"]
    );
    let k = &ast.protocols[0].opts;
    assert!(k.learn && k.persist);
    assert_eq!(k.merge_paths.as_ref().unwrap().v, (true, Some(8)));
    assert!(
        matches!(&k.export.as_ref().unwrap().v, FilterRef::Program(d) if d.name.as_deref() == Some("f"))
    );
    assert_eq!(k.import.as_ref().unwrap().v, FilterRef::All);
    let d = &ast.protocols[2].opts.interfaces;
    assert_eq!(d.len(), 3);
    assert!(d[0].negated && d[0].glob == "cali*" && !d[2].negated && d[2].glob == "*");
    let s = &ast.protocols[3].opts.routes;
    assert_eq!(s.len(), 2, "template routes then the protocol's own");
    assert_eq!(s[1].v.1, RouteDest::Via("10.0.0.9".parse().unwrap()));
}

#[test]
fn bird2_channels_and_local_neighbor_forms() {
    let ast = ok(r#"
protocol kernel { ipv4 { export filter { accept; }; }; merge paths on; }
protocol static { ipv4; route 10.0.0.0/24 blackhole; }
protocol bgp peer1 {
  local 10.0.0.1 as 64512;
  neighbor 10.0.0.2 as 64513;
  ipv4 { import all; export none; add paths tx; next hop self; };
  ipv6 { import none; };
}
"#);
    let k = &ast.protocols[0].opts;
    assert_eq!(k.channels.len(), 1);
    assert_eq!(k.channels[0].0, BirdFamily::V4);
    let b = &ast.protocols[2].opts;
    assert_eq!(
        b.local_address.as_ref().unwrap().v,
        "10.0.0.1".parse::<IpAddr>().unwrap()
    );
    assert_eq!(b.local_as.as_ref().unwrap().v, 64512);
    assert_eq!(b.channels.len(), 2);
    assert_eq!(b.channels[0].1.v.import.as_ref().unwrap().v, FilterRef::All);
    assert_eq!(b.add_paths, Some(Some(AddPathMode::Send)));
    assert_eq!(b.next_hop, Some(NextHopMode::SelfAddress));
}

#[test]
fn unsupported_constructs_are_errors_with_positions() {
    let (l, c, m) = fails("router id 10.0.0.1;\nprotocol ospf o1 { }\n");
    assert_eq!((l, c), (2, 10));
    assert!(m.contains("`protocol ospf` is not supported"), "{m}");
    let (l, c, m) = fails("protocol bgp b {\n  neighbor 10.0.0.2 as 1;\n  med metric on;\n}\n");
    assert_eq!((l, c), (3, 3));
    assert!(m.contains("option `med`"), "{m}");
    let (l, c, m) = fails("define x = 1;");
    assert_eq!((l, c), (1, 1));
    assert!(m.contains("`define` is not supported"), "{m}");
    let (l, c, _) = fails("protocol device {\n  scan time 2\n}\n");
    assert_eq!((l, c), (3, 1), "missing `;` is reported at the next token");
    let (l, c, m) = fails("protocol bgp b from nope { }");
    assert_eq!((l, c), (1, 21));
    assert!(m.contains("not defined"), "{m}");
    let (_, _, m) = fails("protocol static { route 10.0.0.0/8 unreachable; }");
    assert!(m.contains("route … unreachable"), "{m}");
}

#[test]
fn duplicate_names_and_misuse_of_templates() {
    let (l, c, m) = fails("protocol device d { }\nprotocol direct d { }");
    assert_eq!((l, c), (2, 17));
    assert!(m.contains("already defined"), "{m}");
    let (_, _, m) = fails("template bgp t { }\nprotocol kernel from t { }");
    assert!(m.contains("bgp template"), "{m}");
    let (_, _, m) = fails("protocol bgp b { import filter nope; }");
    assert!(m.contains("filter `nope` is not defined"), "{m}");
}
