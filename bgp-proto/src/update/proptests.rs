//! Property tests: attribute sets, NLRI and whole UPDATEs survive encode → decode for every
//! session context (2-/4-octet AS, ADD-PATH on/off), and arbitrary bytes never make the decoder
//! panic.

use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use proptest::prelude::*;

use super::*;
use crate::attribute::{
    canonical_flags, Aggregator, AsPath, AsSegment, Community, ExtCommunity, LargeCommunity,
    MpNextHop, Origin, SegmentType,
};
use crate::types::{Asn, Prefix};

fn arb_ctx() -> impl Strategy<Value = SessionContext> {
    (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
        |(four, ap4, ap6, ext)| SessionContext {
            four_octet_as: four,
            add_path_rx_v4: ap4,
            add_path_tx_v4: ap4,
            add_path_rx_v6: ap6,
            add_path_tx_v6: ap6,
            extended_message: ext,
            // Round trips carry IPv4 NLRI with IPv6 next hops (RFC 8950).
            extended_next_hop_v4: true,
        },
    )
}

fn arb_asn(four: bool) -> BoxedStrategy<Asn> {
    if four {
        (1..=u32::MAX).prop_map(Asn).boxed()
    } else {
        (1..=u16::MAX).prop_map(|a| Asn(u32::from(a))).boxed()
    }
}

fn arb_path(four: bool) -> impl Strategy<Value = AsPath> {
    let seg = (
        prop_oneof![
            Just(SegmentType::Set),
            Just(SegmentType::Sequence),
            Just(SegmentType::ConfedSequence),
            Just(SegmentType::ConfedSet)
        ],
        prop::collection::vec(arb_asn(four), 1..8),
    )
        .prop_map(|(kind, asns)| AsSegment { kind, asns });
    prop::collection::vec(seg, 0..4).prop_map(|segments| AsPath { segments })
}

/// Adjacent AS_SEQUENCEs mean the same as one; compare paths with them joined.
fn join_sequences(p: &AsPath) -> AsPath {
    let mut out: Vec<AsSegment> = Vec::new();
    for s in &p.segments {
        match out.last_mut() {
            Some(l) if l.kind == SegmentType::Sequence && s.kind == SegmentType::Sequence => {
                l.asns.extend(&s.asns)
            }
            _ => out.push(s.clone()),
        }
    }
    AsPath { segments: out }
}

fn arb_host_v4() -> impl Strategy<Value = Ipv4Addr> {
    (0x0100_0000u32..0xe000_0000)
        .prop_filter("loopback is no next hop", |a| a >> 24 != 127)
        .prop_map(Ipv4Addr::from)
}

fn arb_unknown() -> impl Strategy<Value = Vec<RawAttribute>> {
    prop::collection::btree_map(
        any::<u8>().prop_filter("unknown type", |t| canonical_flags(*t).is_none()),
        (
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            prop::collection::vec(any::<u8>(), 0..300),
        ),
        0..3,
    )
    .prop_map(|m| {
        m.into_iter()
            .map(|(type_code, (t, p, e, value))| {
                let mut flags = 0x80 | if t { 0x40 } else { 0 } | if p { 0x20 } else { 0 };
                if e || value.len() > 255 {
                    flags |= 0x10;
                }
                RawAttribute {
                    flags,
                    type_code,
                    value,
                }
            })
            .collect()
    })
}

fn arb_attrs(four: bool) -> impl Strategy<Value = PathAttributes> {
    let a = (
        prop::option::of(prop_oneof![
            Just(Origin::Igp),
            Just(Origin::Egp),
            Just(Origin::Incomplete)
        ]),
        prop::option::of(arb_path(four)),
        prop::option::of(arb_host_v4()),
        prop::option::of(any::<u32>()),
        prop::option::of(any::<u32>()),
        any::<bool>(),
        prop::option::of(
            (arb_asn(four), any::<u32>()).prop_map(|(asn, a)| Aggregator {
                asn,
                address: a.into(),
            }),
        ),
    );
    let b = (
        prop::option::of(prop::collection::vec(
            any::<u32>().prop_map(Community),
            0..6,
        )),
        prop::option::of(any::<u32>().prop_map(Ipv4Addr::from)),
        prop::option::of(prop::collection::vec(
            any::<u32>().prop_map(Ipv4Addr::from),
            0..4,
        )),
        prop::option::of(prop::collection::vec(
            any::<[u8; 8]>().prop_map(ExtCommunity::from_bytes),
            0..4,
        )),
        prop::option::of(prop::collection::vec(
            any::<(u32, u32, u32)>().prop_map(|(g, l1, l2)| LargeCommunity {
                global: g,
                local1: l1,
                local2: l2,
            }),
            1..4,
        )),
        prop::option::of(any::<u32>().prop_map(Asn)),
        arb_unknown(),
    );
    (a, b).prop_map(
        |(
            (origin, as_path, next_hop, med, local_pref, atomic_aggregate, aggregator),
            (
                communities,
                originator_id,
                cluster_list,
                ext_communities,
                large_communities,
                otc,
                unknown,
            ),
        )| PathAttributes {
            origin,
            as_path,
            next_hop,
            med,
            local_pref,
            atomic_aggregate,
            aggregator,
            communities,
            originator_id,
            cluster_list,
            ext_communities,
            as4_path: None,
            as4_aggregator: None,
            large_communities,
            otc,
            unknown,
            wire_flags: Vec::new(),
        },
    )
}

fn arb_prefix(family: Family) -> BoxedStrategy<Prefix> {
    match family {
        Family::Ipv4Unicast => (any::<u32>(), 0u8..=32)
            .prop_map(|(a, l)| IpNet::V4(Ipv4Net::new(Ipv4Addr::from(a), l).unwrap().trunc()))
            .boxed(),
        Family::Ipv6Unicast => (any::<u128>(), 0u8..=128)
            .prop_map(|(a, l)| IpNet::V6(Ipv6Net::new(Ipv6Addr::from(a), l).unwrap().trunc()))
            .boxed(),
    }
}

fn arb_entries(
    family: Family,
    add_path: bool,
    max: usize,
) -> impl Strategy<Value = Vec<NlriEntry>> {
    prop::collection::vec(
        (arb_prefix(family), any::<u32>()).prop_map(move |(prefix, id)| NlriEntry {
            path_id: add_path.then_some(id),
            prefix,
        }),
        0..max,
    )
}

fn arb_family() -> impl Strategy<Value = Family> {
    prop_oneof![Just(Family::Ipv4Unicast), Just(Family::Ipv6Unicast)]
}

fn arb_next_hop(family: Family) -> BoxedStrategy<MpNextHop> {
    // A unicast global address (martians are treat-as-withdraw, tested in `tests`).
    let global = any::<u128>().prop_map(|g| match Ipv6Addr::from(g) {
        a if a.is_unspecified() || a.is_loopback() || a.is_multicast() => Ipv6Addr::from(g >> 8),
        a => a,
    });
    let v6 = (global, prop::option::of(any::<u128>())).prop_map(|(g, l)| MpNextHop::Ipv6 {
        global: g,
        link_local: l.map(Ipv6Addr::from),
    });
    match family {
        Family::Ipv4Unicast => prop_oneof![arb_host_v4().prop_map(MpNextHop::Ipv4), v6].boxed(),
        Family::Ipv6Unicast => v6.boxed(),
    }
}

fn arb_update() -> impl Strategy<Value = (SessionContext, Update)> {
    arb_ctx().prop_flat_map(|ctx| {
        let ap4 = ctx.add_path_tx_v4;
        let mp_reach = arb_family().prop_flat_map(move |f| {
            (arb_next_hop(f), arb_entries(f, ctx.add_path_tx(f), 20)).prop_map(move |(nh, nlri)| {
                MpReach {
                    family: f,
                    next_hop: nh,
                    nlri,
                }
            })
        });
        let mp_unreach = arb_family().prop_flat_map(move |f| {
            arb_entries(f, ctx.add_path_tx(f), 20).prop_map(move |withdrawn| MpUnreach {
                family: f,
                withdrawn,
            })
        });
        (
            Just(ctx),
            arb_entries(Family::Ipv4Unicast, ap4, 20),
            arb_attrs(ctx.four_octet_as),
            prop::option::of(mp_reach),
            prop::option::of(mp_unreach),
            arb_entries(Family::Ipv4Unicast, ap4, 20),
        )
            .prop_map(
                |(ctx, withdrawn, mut attributes, mp_reach, mp_unreach, nlri)| {
                    // An UPDATE that announces needs the well-known mandatory attributes.
                    if !nlri.is_empty() || mp_reach.is_some() {
                        attributes.origin.get_or_insert(Origin::Igp);
                        attributes.as_path.get_or_insert_with(AsPath::default);
                    }
                    if !nlri.is_empty() {
                        attributes
                            .next_hop
                            .get_or_insert(Ipv4Addr::new(10, 0, 0, 1));
                    }
                    let u = Update {
                        withdrawn,
                        attributes,
                        mp_reach,
                        mp_unreach,
                        unsupported_mp: Vec::new(),
                        nlri,
                        wire: WireDetails::default(),
                        malformations: Vec::new(),
                    };
                    (ctx, u)
                },
            )
    })
}

/// Re-order the path attributes of an UPDATE body pseudo-randomly.
fn shuffle_attributes(body: &[u8], mut seed: u64) -> Vec<u8> {
    let wlen = usize::from(u16::from_be_bytes([body[0], body[1]]));
    let astart = 2 + wlen + 2;
    let alen = usize::from(u16::from_be_bytes([body[astart - 2], body[astart - 1]]));
    let field = &body[astart..astart + alen];
    let mut chunks = Vec::new();
    let mut pos = 0;
    while pos < field.len() {
        let (hdr, len) = if field[pos] & 0x10 != 0 {
            (
                4,
                usize::from(u16::from_be_bytes([field[pos + 2], field[pos + 3]])),
            )
        } else {
            (3, usize::from(field[pos + 2]))
        };
        chunks.push(&field[pos..pos + hdr + len]);
        pos += hdr + len;
    }
    for i in (1..chunks.len()).rev() {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        chunks.swap(i, (seed >> 33) as usize % (i + 1));
    }
    [&body[..astart], &chunks.concat(), &body[astart + alen..]].concat()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn update_round_trips((ctx, u) in arb_update()) {
        let ctx = SessionContext { extended_message: true, ..ctx };
        let mut buf = BytesMut::new();
        u.encode(&ctx, &mut buf).unwrap();
        let back = Update::decode(&buf, &ctx).unwrap();
        prop_assert_eq!(&back, &u);
        let mut again = BytesMut::new();
        back.encode(&ctx, &mut again).unwrap();
        prop_assert_eq!(&again[..], &buf[..]);
    }

    #[test]
    fn any_attribute_order_re_encodes_byte_for_byte((ctx, u) in arb_update(), seed in any::<u64>()) {
        let ctx = SessionContext { extended_message: true, ..ctx };
        let mut buf = BytesMut::new();
        u.encode(&ctx, &mut buf).unwrap();
        let shuffled = shuffle_attributes(&buf, seed);
        let back = Update::decode(&shuffled, &ctx).unwrap();
        prop_assert_eq!(&Update { wire: WireDetails::default(), ..back.clone() }, &u);
        let mut again = BytesMut::new();
        back.encode(&ctx, &mut again).unwrap();
        prop_assert_eq!(&again[..], &shuffled[..]);
    }

    #[test]
    fn nlri_round_trips(
        (f, add_path, entries) in (arb_family(), any::<bool>())
            .prop_flat_map(|(f, ap)| (Just(f), Just(ap), arb_entries(f, ap, 64))),
    ) {
        let mut buf = BytesMut::new();
        nlri::encode_all(&entries, add_path, &mut buf);
        let back: Vec<_> = nlri::NlriIter::new(&buf, f, add_path)
            .collect::<Result<_, _>>()
            .unwrap();
        prop_assert_eq!(back, entries);
    }

    #[test]
    fn two_octet_set_with_large_asns_survives_via_as4_path(
        path in arb_path(true),
    ) {
        // A NEW speaker sends 4-octet numbers to an OLD one through AS4_PATH (RFC 6793 §4.2.2);
        // the receiver's effective path has them back (confederation segments excepted).
        let ctx = SessionContext::default();
        let a = PathAttributes { as_path: Some(path.clone()), ..PathAttributes::default() };
        let mut buf = BytesMut::new();
        a.encode(&ctx, &mut buf).unwrap();
        let u = Update::decode(&[&[0, 0], &(buf.len() as u16).to_be_bytes()[..], &buf[..]].concat(), &ctx).unwrap();
        prop_assert!(u.malformations.is_empty());
        if !path.has_confed() {
            let got = u.attributes.effective_as_path().map(|p| join_sequences(&p));
            prop_assert_eq!(got, Some(join_sequences(&path)));
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        body in prop::collection::vec(any::<u8>(), 0..400),
        ctx in arb_ctx(),
    ) {
        if let Ok(u) = Update::decode(&body, &ctx) {
            let _ = u.action();
            let _ = u.announced().count() + u.withdrawals().count();
            let _ = u.attributes.effective_as_path();
            let mut buf = BytesMut::new();
            if u.malformations.is_empty() && u.encode(&ctx, &mut buf).is_ok() {
                let back = Update::decode(&buf, &ctx).unwrap();
                prop_assert_eq!(back, u);
            }
        }
    }

    #[test]
    fn structured_garbage_never_panics(
        attrs in prop::collection::vec((any::<u8>(), any::<u8>(), prop::collection::vec(any::<u8>(), 0..40)), 0..6),
        nlri in prop::collection::vec(any::<u8>(), 0..20),
        ctx in arb_ctx(),
    ) {
        // Well-framed attributes with random flags, codes and values reach every attribute
        // decoder, which random bytes rarely do.
        let mut a = Vec::new();
        for (flags, code, v) in &attrs {
            a.extend_from_slice(&[flags & !0x10, *code, v.len() as u8]);
            a.extend_from_slice(v);
        }
        let body = [&[0u8, 0][..], &(a.len() as u16).to_be_bytes()[..], &a, &nlri].concat();
        if let Ok(u) = Update::decode(&body, &ctx) {
            let mut buf = BytesMut::new();
            if u.malformations.is_empty() && u.encode(&ctx, &mut buf).is_ok() {
                prop_assert_eq!(Update::decode(&buf, &ctx).unwrap(), u);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn builder_packs_every_prefix_under_the_limit(
        (ctx, mut attrs, v4, v6, nh) in arb_ctx().prop_flat_map(|ctx| (
            Just(ctx),
            arb_attrs(ctx.four_octet_as),
            arb_entries(Family::Ipv4Unicast, ctx.add_path_tx_v4, 1500),
            arb_entries(Family::Ipv6Unicast, ctx.add_path_tx_v6, 600),
            arb_next_hop(Family::Ipv6Unicast),
        )),
    ) {
        use crate::builder::{self, Announce, EncodedAttributes, Withdraw};
        attrs.origin.get_or_insert(Origin::Igp);
        attrs.as_path.get_or_insert_with(AsPath::default);
        attrs.next_hop.get_or_insert(Ipv4Addr::new(10, 0, 0, 1));
        let enc = EncodedAttributes::new(&attrs, &ctx).unwrap();
        let mp6 = Announce::Mp { family: Family::Ipv6Unicast, next_hop: nh };
        let jobs = [
            builder::announce(&ctx, &enc, Announce::Ipv4Classic, v4.iter().copied()),
            builder::announce(&ctx, &enc, mp6, v6.iter().copied()),
        ];
        for (msgs, want) in jobs.into_iter().zip([&v4, &v6]) {
            let msgs = match msgs {
                Ok(m) => m,
                // Large random attribute sets may leave no room on a 4096-octet session.
                Err(builder::BuildError::NoRoom { .. }) => {
                    prop_assert!(enc.as_bytes().len() + 23 + 40 > ctx.max_message_len());
                    continue;
                }
                Err(e) => return Err(TestCaseError::fail(e.to_string())),
            };
            let mut got = Vec::new();
            for m in &msgs {
                prop_assert!(m.len() <= ctx.max_message_len());
                let u = Update::decode(&m[HEADER_LEN..], &ctx).unwrap();
                prop_assert!(u.malformations.is_empty());
                prop_assert_eq!(&u.attributes, &attrs);
                got.extend(u.announced().map(|(_, e)| *e));
            }
            prop_assert_eq!(&got, want);
        }
        for (how, want) in [
            (Withdraw::Ipv4Classic, &v4),
            (Withdraw::Mp(Family::Ipv6Unicast), &v6),
        ] {
            let msgs = builder::withdraw(&ctx, how, want.iter().copied()).unwrap();
            let mut got = Vec::new();
            for m in &msgs {
                prop_assert!(m.len() <= ctx.max_message_len());
                let u = Update::decode(&m[HEADER_LEN..], &ctx).unwrap();
                got.extend(u.withdrawals().map(|(_, e)| *e));
            }
            prop_assert_eq!(&got, want);
        }
    }
}
