//! The BGP attribute lines of `show route all`, as BIRD 1.6 prints them (`ea_show` in
//! `nest/rt-attr.c`, names and formats from `proto/bgp/attrs.c`, sets from `nest/a-set.c`, paths
//! from `nest/a-path.c`): one `\tBGP.name: value` line per attribute in type-code order; a
//! community list too long for one line continues on `\t\t` lines, a long AS path or cluster
//! list ends in ` ...`, all within BIRD's 500-octet message buffer. Attributes BIRD 1.6 does
//! not know (ours included, e.g. OTC) print as `BGP.xx [t]: hex octets`, as BIRD shows them.

use std::fmt::Write as _;

use bgp_proto::attribute::{ExtCommunity, Origin, SegmentType};

use crate::route_view::BgpPath;

/// BIRD's `CLI_MSG_SIZE`: the buffer one attribute line is formatted into.
const MSG_SIZE: usize = 500;

/// The attribute lines of one path, each starting with its tab(s), in type-code order.
pub fn lines(path: &BgpPath) -> Vec<String> {
    let set = &*path.attrs;
    let a = &set.attrs;
    let mut by_code: Vec<(u8, Vec<String>)> = Vec::new();
    let one = |code: u8, name: &str, value: String| (code, vec![format!("\tBGP.{name}: {value}")]);
    if let Some(o) = a.origin {
        let name = match o {
            Origin::Igp => "IGP",
            Origin::Egp => "EGP",
            Origin::Incomplete => "Incomplete",
        };
        by_code.push(one(1, "origin", name.into()));
    }
    if let Some(p) = a.effective_as_path() {
        by_code.push(one(
            2,
            "as_path",
            as_path(&p, MSG_SIZE - "BGP.as_path: ".len()),
        ));
    }
    if let Some(nh) = set.next_hop() {
        let v = match set.link_local_next_hop() {
            Some(ll) => format!("{nh} {ll}"),
            None => nh.to_string(),
        };
        by_code.push(one(3, "next_hop", v));
    }
    if let Some(m) = a.med {
        by_code.push(one(4, "med", m.to_string()));
    }
    // BIRD 1.6 stores the default LOCAL_PREF on import when a route has none; the decision
    // compared the same value.
    by_code.push(one(
        5,
        "local_pref",
        a.local_pref.unwrap_or(path.keys.local_pref).to_string(),
    ));
    if a.atomic_aggregate {
        by_code.push(one(6, "atomic_aggr", String::new()));
    }
    if let Some(ag) = a.effective_aggregator() {
        by_code.push(one(
            7,
            "aggregator",
            format!("{} AS{}", ag.address, ag.asn.0),
        ));
    }
    if let Some(cs) = &a.communities {
        let items: Vec<String> = cs
            .iter()
            .map(|c| format!("({},{})", c.asn(), c.value()))
            .collect();
        by_code.push((8, wrapped("community", &items, 24, false)));
    }
    if let Some(id) = a.originator_id {
        by_code.push(one(9, "originator_id", id.to_string()));
    }
    if let Some(cl) = &a.cluster_list {
        let items: Vec<String> = cl.iter().map(ToString::to_string).collect();
        // `bgp_format_cluster_list`: one line, cut with ` ...`.
        let size = MSG_SIZE - "BGP.".len() - "cluster_list".len() - 2;
        by_code.push(one(10, "cluster_list", truncated(&items, size - 24)));
    }
    if let Some(ecs) = &a.ext_communities {
        let items: Vec<String> = ecs.iter().map(ext_community).collect();
        by_code.push((16, wrapped("ext_community", &items, 64, false)));
    }
    if let Some(lcs) = &a.large_communities {
        let items: Vec<String> = lcs
            .iter()
            .map(|l| format!("({}, {}, {})", l.global, l.local1, l.local2))
            .collect();
        by_code.push((32, wrapped("large_community", &items, 64, true)));
    }
    if let Some(otc) = a.otc {
        // Optional transitive, unknown to BIRD 1.6.
        by_code.push((35, vec![unknown(35, true, &otc.0.to_be_bytes())]));
    }
    for u in &a.unknown {
        by_code.push((
            u.type_code,
            vec![unknown(u.type_code, u.is_transitive(), &u.value)],
        ));
    }
    by_code.sort_by_key(|(code, _)| *code);
    by_code.into_iter().flat_map(|(_, l)| l).collect()
}

/// `as_path_format`: sequences as `A B C`, sets as `{ A B }`; cut with ` ...` past `size - 16`
/// octets (checked before each segment and each AS, as BIRD does).
fn as_path(p: &bgp_proto::attribute::AsPath, size: usize) -> String {
    let limit = size.saturating_sub(16);
    let mut s = String::new();
    let mut sp = true;
    for seg in &p.segments {
        if s.len() > limit {
            s += " ...";
            return s;
        }
        let set = matches!(seg.kind, SegmentType::Set | SegmentType::ConfedSet);
        if set {
            if !sp {
                s.push(' ');
            }
            s.push('{');
            sp = false;
        }
        let mut cut = false;
        for (i, asn) in seg.asns.iter().enumerate() {
            if s.len() > limit {
                cut = i < seg.asns.len();
                break;
            }
            if !sp {
                s.push(' ');
            }
            let _ = write!(s, "{}", asn.0);
            sp = false;
        }
        if set {
            s += " }";
            sp = false;
        }
        if cut {
            s += " ...";
            return s;
        }
    }
    s
}

/// A set attribute over as many lines as BIRD needs (`ea_show_int_set`, `ea_show_ec_set`,
/// `ea_show_lc_set`): items separated by one space, a line closed once more than its buffer less
/// `reserve` octets is written; the first line holds `BGP.name: `, the others `\t\t`.
/// `trailing`: the item count includes the space after each item (`lc_set_format`).
fn wrapped(name: &str, items: &[String], reserve: usize, trailing: bool) -> Vec<String> {
    let head = format!("BGP.{name}: ");
    let mut out = Vec::new();
    let mut i = 0;
    let mut first = true;
    loop {
        // The first line's buffer starts after the name; the next ones get the whole buffer
        // less one octet.
        let size = if first {
            MSG_SIZE - head.len()
        } else {
            MSG_SIZE - 1
        };
        let limit = size.saturating_sub(reserve);
        let mut line = String::new();
        let mut written = 0;
        let start = i;
        while i < items.len() {
            if written > limit {
                break;
            }
            if i > start {
                line.push(' ');
                if !trailing {
                    written += 1;
                }
            }
            line += &items[i];
            written += items[i].len() + usize::from(trailing);
            i += 1;
        }
        out.push(if first {
            format!("\t{head}{line}")
        } else {
            format!("\t\t{line}")
        });
        first = false;
        if i >= items.len() {
            return out;
        }
    }
}

/// `int_set_format` with `from < 0`: one line, ` ...` once more than `limit` octets are written.
fn truncated(items: &[String], limit: usize) -> String {
    let mut s = String::new();
    for (i, it) in items.iter().enumerate() {
        if s.len() > limit {
            s += " ...";
            return s;
        }
        if i > 0 {
            s.push(' ');
        }
        s += it;
    }
    s
}

/// `ec_format`: `(rt, 64512, 7)`, `(ro, 10.0.0.1, 5)`, `(generic, 0xKEY, 0xVAL)`.
fn ext_community(ec: &ExtCommunity) -> String {
    let b = ec.to_bytes();
    let v = u64::from_be_bytes(b);
    let typ = (v >> 48) as u16;
    let kind = match typ & 0xf0ff {
        0x0002 => "rt".to_string(),
        0x0003 => "ro".to_string(),
        _ => format!("unknown 0x{typ:x}"),
    };
    match b[0] {
        0x00 | 0x40 => format!("({kind}, {}, {})", (v >> 32) & 0xffff, v as u32),
        0x01 | 0x41 => format!(
            "({kind}, {}, {})",
            std::net::Ipv4Addr::from((v >> 16) as u32),
            v & 0xffff
        ),
        0x02 | 0x42 => format!("({kind}, {}, {})", (v >> 16) as u32, v & 0xffff),
        _ => format!("(generic, 0x{:x}, 0x{:x})", (v >> 32) as u32, v as u32),
    }
}

/// An attribute BIRD 1.6 does not know: `BGP.xx [t]: 01 02 …` (`bgp_get_attr`,
/// `opaque_format`, cut with ` ...` 10 octets before the end of the buffer).
fn unknown(code: u8, transitive: bool, value: &[u8]) -> String {
    let name = format!("BGP.{code:02x}{}: ", if transitive { " [t]" } else { "" });
    let bound = (MSG_SIZE - name.len()).saturating_sub(10);
    let mut s = String::new();
    for (i, b) in value.iter().enumerate() {
        if s.len() > bound {
            s += " ...";
            break;
        }
        if i > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{b:02x}");
    }
    format!("\t{name}{s}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use bgp_proto::attribute::{
        Aggregator, AsPath, AsSegment, Community, ExtAdmin, LargeCommunity, PathAttributes,
        RawAttribute,
    };
    use bgp_proto::Asn;
    use rib::AttrSet;
    use std::net::{IpAddr, Ipv4Addr};

    fn keys() -> rib::DecisionKeys {
        rib::DecisionKeys {
            local: false,
            local_pref: 100,
            as_path_len: 0,
            origin: Origin::Igp,
            neighbour_as: Asn(64512),
            med: 0,
            external: false,
            igp_cost: Some(0),
            router_id: Ipv4Addr::new(10, 99, 0, 2),
            cluster_list_len: 0,
            peer_addr: IpAddr::V4(Ipv4Addr::new(10, 99, 0, 2)),
            path_id: 0,
        }
    }

    fn path(a: PathAttributes) -> BgpPath {
        let mut i = rib::Rib::new(rib::LocalInfo::new(
            bgp_proto::RouterId(Ipv4Addr::new(10, 99, 0, 1)),
            Asn(64512),
        ));
        BgpPath {
            attrs: i.intern(AttrSet {
                attrs: a,
                mp_next_hop: None,
            }),
            keys: keys(),
        }
    }

    /// BIRD 1.6.8's lines for the same attributes (captured from `show route all` with a
    /// BIRD 2 peer setting them in its export filter, see compat/bird16-vs-bgpd.md).
    #[test]
    fn attributes_print_as_bird_1_6_names_them_in_type_code_order() {
        let a = PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::from_sequence([Asn(65011), Asn(65010)])),
            next_hop: Some(Ipv4Addr::new(10, 99, 0, 2)),
            med: Some(10),
            local_pref: Some(200),
            communities: Some(vec![Community::new(65000, 1), Community::new(65000, 2)]),
            ext_communities: Some(vec![ExtCommunity::RouteTarget(ExtAdmin::As2 {
                asn: 64512,
                local: 7,
            })]),
            large_communities: Some(vec![LargeCommunity {
                global: 64512,
                local1: 1,
                local2: 2,
            }]),
            ..PathAttributes::default()
        };
        assert_eq!(
            lines(&path(a)),
            [
                "\tBGP.origin: IGP",
                "\tBGP.as_path: 65011 65010",
                "\tBGP.next_hop: 10.99.0.2",
                "\tBGP.med: 10",
                "\tBGP.local_pref: 200",
                "\tBGP.community: (65000,1) (65000,2)",
                "\tBGP.ext_community: (rt, 64512, 7)",
                "\tBGP.large_community: (64512, 1, 2)",
            ]
        );
        // An empty path keeps its trailing space; no LOCAL_PREF shows the default BIRD
        // stores; reflection attributes, aggregation, an attribute BIRD does not know.
        let b = PathAttributes {
            origin: Some(Origin::Incomplete),
            as_path: Some(AsPath::default()),
            next_hop: Some(Ipv4Addr::new(10, 99, 0, 2)),
            atomic_aggregate: true,
            aggregator: Some(Aggregator {
                asn: Asn(65001),
                address: Ipv4Addr::new(10, 0, 0, 1),
            }),
            originator_id: Some(Ipv4Addr::new(10, 99, 0, 9)),
            cluster_list: Some(vec![Ipv4Addr::new(1, 2, 3, 4), Ipv4Addr::new(5, 6, 7, 8)]),
            unknown: vec![RawAttribute {
                flags: 0xc0,
                type_code: 0x63,
                value: vec![1, 0xab],
            }],
            ..PathAttributes::default()
        };
        assert_eq!(
            lines(&path(b)),
            [
                "\tBGP.origin: Incomplete",
                "\tBGP.as_path: ",
                "\tBGP.next_hop: 10.99.0.2",
                "\tBGP.local_pref: 100",
                "\tBGP.atomic_aggr: ",
                "\tBGP.aggregator: 10.0.0.1 AS65001",
                "\tBGP.originator_id: 10.99.0.9",
                "\tBGP.cluster_list: 1.2.3.4 5.6.7.8",
                "\tBGP.63 [t]: 01 ab",
            ]
        );
    }

    #[test]
    fn as_sets_and_extended_community_kinds_as_bird_formats_them() {
        let p = AsPath {
            segments: vec![
                AsSegment {
                    kind: SegmentType::Sequence,
                    asns: vec![Asn(65001)],
                },
                AsSegment {
                    kind: SegmentType::Set,
                    asns: vec![Asn(1), Asn(2)],
                },
            ],
        };
        assert_eq!(as_path(&p, 487), "65001 { 1 2 }");
        assert_eq!(
            ext_community(&ExtCommunity::RouteOrigin(ExtAdmin::Ipv4 {
                address: Ipv4Addr::new(10, 0, 0, 1),
                local: 5
            })),
            "(ro, 10.0.0.1, 5)"
        );
        assert_eq!(
            ext_community(&ExtCommunity::RouteTarget(ExtAdmin::As4 {
                asn: 4_200_000_000,
                local: 9
            })),
            "(rt, 4200000000, 9)"
        );
        assert_eq!(
            ext_community(&ExtCommunity::Raw([0x03, 0x0c, 0, 0, 0, 0, 0, 8])),
            "(generic, 0x30c0000, 0x8)"
        );
    }

    #[test]
    fn long_sets_wrap_and_long_paths_are_cut_as_in_birds_buffer() {
        // 100 communities of 13 octets: BIRD checks before each item whether more than 461
        // octets follow `BGP.community: ` (33 items make 461: a 34th is written, then the
        // line ends), then `\t\t` lines checked against 475 (35 items).
        let items: Vec<String> = (0..100).map(|i| format!("(65000,{:05})", i)).collect();
        let l = wrapped("community", &items, 24, false);
        assert_eq!(l.len(), 3, "{l:?}");
        assert!(l[0].starts_with("\tBGP.community: (65000,00000) "));
        let n0 = l[0].matches('(').count();
        let n1 = l[1].matches('(').count();
        assert_eq!(n0, 34);
        assert_eq!(n1, 35);
        assert!(l[1].starts_with("\t\t(65000,00034)"));
        assert_eq!(n0 + n1 + l[2].matches('(').count(), 100);
        assert!(!l[0].ends_with(' '));
        // 120 ASNs of 5 digits: checked against 471 before each (78 make 467: a 79th is
        // written), then cut with ` ...`.
        let long = AsPath::from_sequence((0..120).map(|i| Asn(65000 + i)));
        let s = as_path(&long, 487);
        assert!(s.ends_with(" ..."), "{s}");
        assert_eq!(s.len(), 79 * 6 - 1 + 4, "{s}");
    }
}
