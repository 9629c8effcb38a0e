//! UPDATE round trips: hex → struct → bytes, with per-field byte comments. Messages marked
//! "captured" were recorded on a veth pair between BIRD 2.0.12 (AS 65002, 10.99.201.2) and
//! GoBGP 3.10.0 (AS 65001, 10.99.201.1), both 4-octet AS capable, no ADD-PATH.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::*;
use crate::attribute::{
    Aggregator, AsPath, Community, LargeCommunity, MpNextHop, Origin, SegmentType,
};
use crate::types::{Asn, Prefix};

fn ctx4() -> SessionContext {
    SessionContext {
        four_octet_as: true,
        ..SessionContext::default()
    }
}

fn p(s: &str) -> Prefix {
    s.parse().unwrap()
}

fn e(s: &str) -> NlriEntry {
    NlriEntry::new(p(s))
}

fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    hex::decode(s).unwrap()
}

/// Decode, check nothing was malformed, re-encode and compare bytes.
fn round_trip(hexstr: &str, ctx: &SessionContext) -> Update {
    let body = unhex(hexstr);
    let u = Update::decode(&body, ctx).unwrap();
    assert!(u.malformations.is_empty(), "{:?}", u.malformations);
    let mut out = BytesMut::new();
    u.encode(ctx, &mut out).unwrap();
    assert_eq!(hex::encode(&out), hex::encode(&body));
    u
}

#[test]
fn bird_ipv4_with_communities_round_trips() {
    // Captured: BIRD 2.0.12 → GoBGP.
    let u = round_trip(
        &strip(
            "0000                       # withdrawn routes length 0
         002a                       # total path attribute length 42
         40 01 01 00                # ORIGIN IGP
         40 02 06 02 01 0000fdea    # AS_PATH: AS_SEQUENCE of 1: 65002
         40 03 04 0a63c902          # NEXT_HOP 10.99.201.2
         c0 08 04 fdea0007          # COMMUNITIES 65002:7
         c0 20 0c 0000fdea 00000001 00000002  # LARGE_COMMUNITY 65002:1:2
         1a 0a4d0240                # NLRI 10.77.2.64/26
         18 0a4d01                  # NLRI 10.77.1.0/24",
        ),
        &ctx4(),
    );
    let a = &u.attributes;
    assert_eq!(a.origin, Some(Origin::Igp));
    assert_eq!(a.as_path, Some(AsPath::from_sequence([Asn(65002)])));
    assert_eq!(a.next_hop, Some(Ipv4Addr::new(10, 99, 201, 2)));
    assert_eq!(a.communities, Some(vec![Community::new(65002, 7)]));
    assert_eq!(
        a.large_communities,
        Some(vec![LargeCommunity {
            global: 65002,
            local1: 1,
            local2: 2
        }])
    );
    assert_eq!(u.nlri, vec![e("10.77.2.64/26"), e("10.77.1.0/24")]);
    assert_eq!(u.announced().count(), 2);
}

fn strip(s: &str) -> String {
    s.lines()
        .map(|l| l.split('#').next().unwrap())
        .collect::<String>()
}

#[test]
fn bird_ipv6_mp_reach_first_with_extended_length_flag_round_trips() {
    // Captured: BIRD 2.0.12 → GoBGP. BIRD puts MP_REACH_NLRI first and sets Extended Length on
    // it although the value is 46 octets: the flag is remembered so the re-encode matches.
    let u = round_trip(
        &strip(
            "0000 003f
         90 0e 002e                # MP_REACH_NLRI, flags O+E, length 46
           0002 01                 # AFI IPv6, SAFI unicast
           20                      # next hop length 32
           fd990201000000000000000000000002  # global fd99:201::2
           fe80000000000000ecb0c9fffe386d07  # link-local
           00                      # reserved
           40 fd99007700010000     # fd99:77:1::/64
         40 01 01 00               # ORIGIN IGP
         40 02 06 02 01 0000fdea   # AS_PATH 65002",
        ),
        &ctx4(),
    );
    let m = u.mp_reach.as_ref().unwrap();
    assert_eq!(m.family, Family::Ipv6Unicast);
    assert_eq!(
        m.next_hop,
        MpNextHop::Ipv6 {
            global: "fd99:201::2".parse().unwrap(),
            link_local: Some("fe80::ecb0:c9ff:fe38:6d07".parse::<Ipv6Addr>().unwrap()),
        }
    );
    assert_eq!(m.nlri, vec![e("fd99:77:1::/64")]);
    assert_eq!(u.wire.mp_flags, vec![(14, 0x90)]);
    assert!(u.attributes.wire_flags.is_empty());
    assert!(u.wire.attr_order.is_empty());
    let fams: Vec<_> = u.announced().map(|(f, _)| f).collect();
    assert_eq!(fams, vec![Family::Ipv6Unicast]);
}

#[test]
fn bird_end_of_rib_markers() {
    // Captured: BIRD 2.0.12 End-of-RIB for IPv4 (empty UPDATE) and IPv6 (empty MP_UNREACH).
    let u = round_trip("0000 0000", &ctx4());
    assert_eq!(u.end_of_rib(), Some(Family::Ipv4Unicast));
    let u = round_trip("0000 0006  80 0f 03 0002 01", &ctx4());
    assert_eq!(u.end_of_rib(), Some(Family::Ipv6Unicast));
}

#[test]
fn gobgp_ipv4_with_med_communities_large_round_trips() {
    // Captured: GoBGP 3.10.0 → BIRD.
    let u = round_trip(
        &strip(
            "0000 0035
         40 01 01 00               # ORIGIN IGP
         40 02 06 02 01 0000fde9   # AS_PATH 65001
         40 03 04 0a63c901         # NEXT_HOP 10.99.201.1
         80 04 04 00000032         # MULTI_EXIT_DISC 50
         c0 08 08 fde80001 fde80002  # COMMUNITIES 65000:1 65000:2
         c0 20 0c 0000fde9 00000001 00000001  # LARGE_COMMUNITY 65001:1:1
         18 0a0001                 # NLRI 10.0.1.0/24",
        ),
        &ctx4(),
    );
    assert_eq!(u.attributes.med, Some(50));
    assert_eq!(
        u.attributes.communities,
        Some(vec![Community::new(65000, 1), Community::new(65000, 2)])
    );
}

#[test]
fn gobgp_ipv6_mp_reach_in_type_order_with_mapped_next_hop_round_trips() {
    // Captured: GoBGP 3.10.0 → BIRD over IPv4 transport: MP_REACH_NLRI after AS_PATH (type
    // order) and an IPv4-mapped IPv6 next hop.
    let u = round_trip(
        &strip(
            "0000 002c
         40 01 01 02               # ORIGIN INCOMPLETE
         40 02 06 02 01 0000fde9   # AS_PATH 65001
         80 0e 1c                  # MP_REACH_NLRI, 28 octets
           0002 01 10              # IPv6 unicast, next hop length 16
           00000000000000000000ffff0a63c901  # ::ffff:10.99.201.1
           00                      # reserved
           30 20010db80001         # 2001:db8:1::/48",
        ),
        &ctx4(),
    );
    assert_eq!(u.wire.attr_order, vec![1, 2, 14]);
    assert_eq!(u.attributes.origin, Some(Origin::Incomplete));
    assert_eq!(u.mp_reach.unwrap().nlri, vec![e("2001:db8:1::/48")]);
}

#[test]
fn gobgp_aggregator_and_withdrawals_round_trip() {
    // Captured: GoBGP 3.10.0 → BIRD.
    let u = round_trip(
        &strip(
            "0000 001f
         40 01 01 02 40 02 06 02 01 0000fde9 40 03 04 0a63c901
         c0 07 08 0000fde9 0a63c901  # AGGREGATOR AS 65001 (4 octets), 10.99.201.1
         18 0a0002                 # 10.0.2.0/24",
        ),
        &ctx4(),
    );
    assert_eq!(
        u.attributes.aggregator,
        Some(Aggregator {
            asn: Asn(65001),
            address: Ipv4Addr::new(10, 99, 201, 1)
        })
    );
    // Classic withdrawal: withdrawn length 4, 10.0.0.0/24, no attributes.
    let u = round_trip("0004 180a0000 0000", &ctx4());
    assert_eq!(u.withdrawals().count(), 1);
    assert_eq!(u.end_of_rib(), None);
    // MP_UNREACH withdrawal of 2001:db8:1::/48.
    let u = round_trip("0000 000d 800f0a 000201 3020010db80001", &ctx4());
    let w: Vec<_> = u.withdrawals().collect();
    assert_eq!(w, vec![(Family::Ipv6Unicast, &e("2001:db8:1::/48"))]);
}

#[test]
fn two_octet_session_merges_as4_path() {
    let ctx = SessionContext::default();
    let u = round_trip(
        &strip(
            "0000 0021
         40 01 01 00
         40 02 06 02 02 fde9 5ba0  # AS_PATH 65001 AS_TRANS (2-octet)
         40 03 04 0a000001
         c0 11 0a 02 02 0000fde9 fa56ea00  # AS4_PATH 65001 4200000000
         20 0a0a0a0a               # 10.10.10.10/32",
        ),
        &ctx,
    );
    let eff = u.attributes.effective_as_path().unwrap();
    assert_eq!(eff, AsPath::from_sequence([Asn(65001), Asn(4_200_000_000)]));
    // Re-encoding the normalized set for a 2-octet peer regenerates the same AS4_PATH.
    let mut n = u.clone();
    n.attributes.normalize_as4();
    let mut out = BytesMut::new();
    n.encode(&ctx, &mut out).unwrap();
    assert_eq!(Update::decode(&out, &ctx).unwrap(), u);
}

#[test]
fn add_path_nlri_round_trip() {
    let ctx = SessionContext {
        four_octet_as: true,
        add_path_rx_v4: true,
        add_path_tx_v4: true,
        ..SessionContext::default()
    };
    let u = round_trip(
        &strip(
            "0008 00000001 18 0a0000  # withdrawn: path id 1, 10.0.0.0/24
         0014 40010100 40020602010000fde9 4003040a000001
         00000002 10 0a01          # path id 2, 10.1.0.0/16",
        ),
        &ctx,
    );
    assert_eq!(u.withdrawn[0].path_id, Some(1));
    assert_eq!(u.nlri[0].path_id, Some(2));
    assert_eq!(u.nlri[0].prefix, p("10.1.0.0/16"));
}

#[test]
fn unknown_attributes_are_kept_and_marked_partial_on_readvertisement() {
    let u = round_trip(
        &strip(
            "0000 0017
         40 01 01 00 40 02 00 40 03 04 0a000001
         c0 63 02 abcd             # unknown optional transitive type 99
         80 64 01 01               # unknown optional non-transitive type 100
         18 0a0000",
        ),
        &ctx4(),
    );
    assert_eq!(u.attributes.unknown.len(), 2);
    let mut a = u.attributes.clone();
    a.prepare_for_readvertisement();
    assert_eq!(a.unknown.len(), 1);
    assert_eq!(a.unknown[0].flags, 0xe0);
}

#[test]
fn confed_path_from_external_peer_is_treat_as_withdraw() {
    let body = unhex("0000 0016 40010100 4002080301fde8 0201fde9 4003040a000001 18 0a0000");
    let mut u = Update::decode(&body, &SessionContext::default()).unwrap();
    assert!(u.malformations.is_empty());
    assert_eq!(
        u.attributes.as_path.as_ref().unwrap().segments[0].kind,
        SegmentType::ConfedSequence
    );
    u.apply_ebgp_rules();
    assert!(u.is_treat_as_withdraw());
    assert_eq!(u.announced().count(), 0);
    assert_eq!(u.withdrawals().count(), 1);
}

#[test]
fn encode_rejects_ipv6_in_classic_field_and_oversize() {
    let mut u = Update {
        nlri: vec![e("2001:db8::/32")],
        ..Update::default()
    };
    let mut out = BytesMut::new();
    assert!(matches!(
        u.encode(&ctx4(), &mut out),
        Err(UpdateEncodeError::WrongFamily { .. })
    ));
    u.nlri = (0..2000u32)
        .map(|i| {
            NlriEntry::new(Prefix::V4(
                ipnet::Ipv4Net::new((i << 8).into(), 24).unwrap(),
            ))
        })
        .collect();
    assert!(matches!(
        u.encode(&ctx4(), &mut out),
        Err(UpdateEncodeError::TooLong { .. })
    ));
    assert!(out.is_empty());
}

#[test]
fn captured_add_path_ipv4_round_trips() {
    // Captured: BIRD 2.0.12 ("add paths on" for IPv4) ⇄ GoBGP 3.10.0 (add-paths send-max 4,
    // receive), 4-octet AS; ADD-PATH negotiated for IPv4 unicast only.
    let ctx = SessionContext {
        four_octet_as: true,
        add_path_rx_v4: true,
        add_path_tx_v4: true,
        ..SessionContext::default()
    };
    // BIRD → GoBGP.
    let u = round_trip(
        &strip(
            "0000 002a
         40010100 40020602010000fdea 4003040a63c902 c00804fdea0007
         c0200c0000fdea0000000100000002
         00000002 1a 0a4d0240      # path id 2, 10.77.2.64/26
         00000002 18 0a4d01        # path id 2, 10.77.1.0/24",
        ),
        &ctx,
    );
    assert!(u.nlri.iter().all(|e| e.path_id == Some(2)));
    // GoBGP → BIRD: announcement with path id 1, then its withdrawal.
    let u = round_trip(
        &strip(
            "0000 001b
         40010102 40020602010000fde9 4003040a63c901 c00804fde80001
         00000001 18 0a0000        # path id 1, 10.0.0.0/24",
        ),
        &ctx,
    );
    assert_eq!(
        u.nlri,
        vec![NlriEntry {
            path_id: Some(1),
            prefix: p("10.0.0.0/24")
        }]
    );
    let u = round_trip("0008 00000001 180a0000 0000", &ctx);
    assert_eq!(
        u.withdrawn,
        vec![NlriEntry {
            path_id: Some(1),
            prefix: p("10.0.0.0/24")
        }]
    );
    // IPv6 on the same session carries no path identifiers.
    let u = round_trip("0000 000d 800f0a 000201 3020010db80001", &ctx);
    assert_eq!(u.withdrawals().count(), 1);
}

#[test]
fn unknown_attribute_type_zero_is_kept() {
    // Found by proptest: type code 0 (reserved) must survive like any unknown optional one.
    let u = round_trip("0000 0003 800000", &ctx4());
    assert_eq!(u.attributes.unknown[0].type_code, 0);
}

#[test]
fn frr_style_order_re_encodes_byte_for_byte() {
    // LARGE_COMMUNITY (32) before EXTENDED_COMMUNITIES (16), as FRR 8.4 writes them.
    let u = round_trip(
        &strip(
            "0000 002e
         40 01 01 00 40 02 06 02 01 0000fde9 40 03 04 0a000001
         c0 20 0c 0000fde9 00000001 00000002  # LARGE_COMMUNITY
         c0 10 08 0002fde900000064            # EXTENDED_COMMUNITIES RT 65001:100
         18 0a0000",
        ),
        &ctx4(),
    );
    assert_eq!(u.wire.attr_order, vec![1, 2, 3, 32, 16]);
}
