//! Rules that depend on the session: eBGP-only attributes (RFC 7606 §7.5, §7.9, §7.10), next
//! hops that are martians, ours or off-link (RFC 4271 §5.1.3, §6.3), and IPv4 NLRI with an IPv6
//! next hop without RFC 8950 negotiated.

use std::net::{IpAddr, Ipv4Addr};

use super::*;
use crate::types::Prefix;

fn unhex(s: &str) -> Vec<u8> {
    let s: String = s
        .lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join(" ")
        .split_whitespace()
        .collect();
    hex::decode(s).unwrap()
}

fn ctx4() -> SessionContext {
    SessionContext {
        four_octet_as: true,
        ..SessionContext::default()
    }
}

/// 10.0.0.0/24 via NEXT_HOP `nh`, with LOCAL_PREF, ORIGINATOR_ID 10.0.0.9 and CLUSTER_LIST
/// [10.0.0.1].
fn reflected(nh: [u8; 4]) -> Vec<u8> {
    let nh = hex::encode(nh);
    unhex(&format!(
        "0000                      # withdrawn routes length 0
         0029                      # total path attribute length 41
         40 01 01 00               # ORIGIN IGP
         40 02 06 02 01 0000fde9   # AS_PATH 65001
         40 03 04 {nh}             # NEXT_HOP
         40 05 04 00000064         # LOCAL_PREF 100
         80 09 04 0a000009         # ORIGINATOR_ID 10.0.0.9
         80 0a 04 0a000001         # CLUSTER_LIST 10.0.0.1
         18 0a0000                 # NLRI 10.0.0.0/24"
    ))
}

#[test]
fn ebgp_rules_discard_originator_id_cluster_list_and_local_pref_once() {
    let mut u = Update::decode(&reflected([10, 0, 0, 2]), &ctx4()).unwrap();
    assert!(u.malformations.is_empty(), "{:?}", u.malformations);
    u.apply_ebgp_rules();
    u.apply_ebgp_rules();
    let a = &u.attributes;
    assert_eq!(
        (a.local_pref, a.originator_id, &a.cluster_list),
        (None, None, &None)
    );
    let got: Vec<(Option<u8>, Action, Reason)> = u
        .malformations
        .iter()
        .map(|m| (m.attr_type, m.action, m.reason))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                Some(5),
                Action::AttributeDiscard,
                Reason::LocalPrefFromExternalPeer
            ),
            (
                Some(9),
                Action::AttributeDiscard,
                Reason::OriginatorIdFromExternalPeer
            ),
            (
                Some(10),
                Action::AttributeDiscard,
                Reason::ClusterListFromExternalPeer
            ),
        ]
    );
    // The route stays.
    assert_eq!(u.announced().count(), 1);
    assert_eq!(
        u.malformations[1].to_string(),
        "ORIGINATOR_ID: ORIGINATOR_ID received from an external peer (attribute discarded)"
    );
}

#[test]
fn martian_next_hop_is_treat_as_withdraw_with_the_address() {
    let u = Update::decode(&reflected([127, 0, 0, 1]), &ctx4()).unwrap();
    assert!(u.is_treat_as_withdraw());
    assert_eq!(
        u.malformations[0].to_string(),
        "NEXT_HOP: next hop 127.0.0.1 is not a unicast host address (treat-as-withdraw)"
    );
    assert_eq!(u.withdrawals().count(), 1);
}

#[test]
fn own_and_off_link_next_hops_are_treat_as_withdraw() {
    let own: Vec<IpAddr> = vec!["10.0.0.2".parse().unwrap()];
    let connected: Vec<IpNet> = vec!["10.0.0.0/24".parse().unwrap()];
    let cx = NextHopContext {
        own: &own,
        connected: Some(&connected),
    };
    let mut u = Update::decode(&reflected([10, 0, 0, 2]), &ctx4()).unwrap();
    u.apply_next_hop_rules(&cx);
    assert_eq!(
        u.malformations[0].reason,
        Reason::OwnNextHop(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)))
    );
    assert!(u.is_treat_as_withdraw());

    let mut u = Update::decode(&reflected([10, 1, 0, 7]), &ctx4()).unwrap();
    u.apply_next_hop_rules(&cx);
    assert_eq!(
        u.malformations[0].to_string(),
        "NEXT_HOP: next hop 10.1.0.7 is not on a directly connected subnet (single-hop eBGP) \
         (treat-as-withdraw)"
    );
    // Multihop / iBGP: off-link is fine (resolved recursively).
    let mut u = Update::decode(&reflected([10, 1, 0, 7]), &ctx4()).unwrap();
    u.apply_next_hop_rules(&NextHopContext {
        own: &own,
        connected: None,
    });
    assert!(u.malformations.is_empty());
    // On-link next hop of a directly connected peer.
    let mut u = Update::decode(&reflected([10, 0, 0, 7]), &ctx4()).unwrap();
    u.apply_next_hop_rules(&cx);
    assert!(u.malformations.is_empty());
}

/// IPv4 10.1.0.0/16 in MP_REACH_NLRI with next hop `nh` (16 octets).
fn v4_via_v6(nh: &str) -> Vec<u8> {
    let nh: std::net::Ipv6Addr = nh.parse().unwrap();
    let nh = hex::encode(nh.octets());
    unhex(&format!(
        "0000                      # withdrawn routes length 0
         0022                      # total path attribute length 34
         80 0e 18 0001 01 10 {nh} 00 10 0a01  # MP_REACH_NLRI IPv4 unicast, next hop, 10.1.0.0/16
         40 01 01 00               # ORIGIN IGP
         40 02 00                  # AS_PATH empty"
    ))
}

#[test]
fn ipv4_with_ipv6_next_hop_needs_extended_next_hop() {
    let body = v4_via_v6("fd99::1");
    let u = Update::decode(&body, &ctx4()).unwrap();
    assert!(u.is_treat_as_withdraw());
    assert_eq!(
        u.malformations[0].to_string(),
        "MP_REACH_NLRI: IPv6 next hop fd99::1 for IPv4 NLRI without the extended next hop \
         capability (RFC 8950) (treat-as-withdraw)"
    );
    let ext = SessionContext {
        extended_next_hop_v4: true,
        ..ctx4()
    };
    let u = Update::decode(&body, &ext).unwrap();
    assert!(u.malformations.is_empty(), "{:?}", u.malformations);
    assert_eq!(
        u.announced()
            .map(|(_, e)| e.prefix)
            .collect::<Vec<Prefix>>(),
        vec!["10.1.0.0/16".parse().unwrap()]
    );
    // A martian IPv6 next hop stays treat-as-withdraw with the capability.
    let u = Update::decode(&v4_via_v6("ff02::1"), &ext).unwrap();
    assert_eq!(
        u.malformations[0].reason,
        Reason::MartianNextHop("ff02::1".parse().unwrap())
    );
}

#[test]
fn bad_length_says_what_was_expected() {
    let body = unhex(
        "0000 0014
         40 01 01 00               # ORIGIN IGP
         40 02 00                  # AS_PATH empty
         40 03 04 0a000002         # NEXT_HOP
         80 09 03 0a0000           # ORIGINATOR_ID of 3 octets
         18 0a0000",
    );
    let u = Update::decode(&body, &ctx4()).unwrap();
    assert_eq!(
        u.malformations[0].to_string(),
        "ORIGINATOR_ID: length 3, expected 4 (treat-as-withdraw)"
    );
}

/// IPv6 2001:db8:1::/48 in MP_REACH_NLRI with a 16-octet next hop `nh`.
fn v6_route(nh: &str) -> Vec<u8> {
    let nh: std::net::Ipv6Addr = nh.parse().unwrap();
    let nh = hex::encode(nh.octets());
    unhex(&format!(
        "0000 0026
         80 0e 1c 0002 01 10 {nh} 00 30 20010db80001  # MP_REACH_NLRI IPv6 unicast, /48
         40 01 01 00               # ORIGIN IGP
         40 02 00                  # AS_PATH empty"
    ))
}

#[test]
fn ipv6_off_link_next_hop_of_a_direct_ebgp_peer_is_treat_as_withdraw() {
    let own: Vec<IpAddr> = vec!["fd99::1".parse().unwrap()];
    let connected: Vec<IpNet> = vec!["fd99::/64".parse().unwrap(), "fe80::/64".parse().unwrap()];
    let cx = NextHopContext {
        own: &own,
        connected: Some(&connected),
    };
    let mut u = Update::decode(&v6_route("fd98::7"), &ctx4()).unwrap();
    assert!(u.malformations.is_empty(), "{:?}", u.malformations);
    u.apply_next_hop_rules(&cx);
    assert_eq!(
        u.malformations[0].reason,
        Reason::NextHopNotConnected("fd98::7".parse().unwrap())
    );
    let mut u = Update::decode(&v6_route("fd99::2"), &ctx4()).unwrap();
    u.apply_next_hop_rules(&cx);
    assert!(u.malformations.is_empty(), "{:?}", u.malformations);
    let mut u = Update::decode(&v6_route("fd99::1"), &ctx4()).unwrap();
    u.apply_next_hop_rules(&cx);
    assert_eq!(
        u.malformations[0].reason,
        Reason::OwnNextHop("fd99::1".parse().unwrap())
    );
    // Martian IPv6 next hops need no context.
    let u = Update::decode(&v6_route("::1"), &ctx4()).unwrap();
    assert_eq!(
        u.malformations[0].reason,
        Reason::MartianNextHop("::1".parse().unwrap())
    );
}
