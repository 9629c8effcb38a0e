//! Who may receive which route, and what a route looks like when it leaves: RFC 4271 §9.2
//! (iBGP routes are not sent to iBGP peers), RFC 4456 route reflection, RFC 1997 well-known
//! communities, loop detection on receipt, and the mandatory attribute changes on the way out
//! (next hop, AS_PATH prepend, LOCAL_PREF, MED, ORIGINATOR_ID, CLUSTER_LIST).

use std::net::IpAddr;

use bgp_proto::attribute::{AsPath, Community, MpNextHop, PathAttributes};
use bgp_proto::{Family, RouterId};

use crate::best_path::Ineligible;
use crate::error::RibError;
use crate::intern::AttrSet;
use crate::peer::{GroupKey, LocalInfo, NextHopMode, PeerInfo, SessionKind};

/// Where a Loc-RIB route came from, as export needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteOrigin {
    /// Originated by this node.
    Local,
    /// Learned from a peer.
    Peer {
        kind: SessionKind,
        rr_client: bool,
        router_id: RouterId,
        addr: IpAddr,
    },
}

/// Checks on receipt that make a route infeasible (kept in Adj-RIB-In, never selected).
pub fn check_received(
    local: &LocalInfo,
    peer: &PeerInfo,
    attrs: &PathAttributes,
) -> Option<Ineligible> {
    if let Some(p) = &attrs.as_path {
        // RFC 4271 §9.1.2: our AS in the path is a loop, unless allowed some times (BIRD's
        // `allow local as`, Calico's allowOwnAS for per-rack ASes).
        let own = p
            .segments
            .iter()
            .flat_map(|s| s.asns.iter())
            .filter(|a| **a == local.asn)
            .count();
        if own > usize::from(peer.allow_own_as) {
            return Some(Ineligible::AsPathLoop);
        }
    }
    // RFC 4456 §8.
    if attrs.originator_id == Some(local.router_id.0) {
        return Some(Ineligible::OriginatorIsUs);
    }
    if attrs
        .cluster_list
        .as_ref()
        .is_some_and(|cl| cl.contains(&local.cluster_id()))
    {
        return Some(Ineligible::ClusterLoop);
    }
    None
}

fn has_community(attrs: &PathAttributes, c: Community) -> bool {
    attrs.communities.as_ref().is_some_and(|cs| cs.contains(&c))
}

/// Whether a route from `origin` may be advertised to the peers of `group`.
pub fn may_advertise(origin: &RouteOrigin, attrs: &PathAttributes, group: &GroupKey) -> bool {
    // RFC 1997.
    if has_community(attrs, Community::NO_ADVERTISE) {
        return false;
    }
    if group.kind == SessionKind::Ebgp
        && (has_community(attrs, Community::NO_EXPORT)
            || has_community(attrs, Community::NO_EXPORT_SUBCONFED))
    {
        return false;
    }
    match (origin, group.kind) {
        (RouteOrigin::Local, _) | (_, SessionKind::Ebgp) => true,
        (
            RouteOrigin::Peer {
                kind: SessionKind::Ebgp,
                ..
            },
            SessionKind::Ibgp,
        ) => true,
        // RFC 4456 §6: from a client to clients and non-clients; from a non-client to clients
        // only. Without clients this is RFC 4271 §9.2's "never iBGP to iBGP".
        (RouteOrigin::Peer { rr_client, .. }, SessionKind::Ibgp) => *rr_client || group.rr_client,
    }
}

/// The attributes sent to `group` for a route, or `None` if it may not be sent.
pub fn outgoing(
    local: &LocalInfo,
    origin: &RouteOrigin,
    family: Family,
    set: &AttrSet,
    group: &GroupKey,
) -> Result<Option<AttrSet>, RibError> {
    if !may_advertise(origin, &set.attrs, group) {
        return Ok(None);
    }
    let mut out = set.clone();
    let a = &mut out.attrs;
    let learned = matches!(origin, RouteOrigin::Peer { .. });
    if learned {
        // RFC 4271 §9.1.3 / §5: unknown non-transitive attributes are not passed on.
        a.prepare_for_readvertisement();
    }
    if a.origin.is_none() {
        a.origin = Some(bgp_proto::attribute::Origin::Igp);
    }
    let self_nh = match group.kind {
        SessionKind::Ebgp => {
            // RFC 4271 §5.1.2: prepend our AS; §5.1.5: no LOCAL_PREF; RFC 4456 §8: the
            // reflection attributes are non-transitive, not sent outside the AS.
            let mut path = a.as_path.take().unwrap_or_default();
            if !group.policy_prepends_own_as {
                path.prepend(group.local_as.unwrap_or(local.asn));
            }
            a.as_path = Some(path);
            a.local_pref = None;
            a.originator_id = None;
            a.cluster_list = None;
            // RFC 4271 §5.1.4: a MED received from a neighbour AS is not propagated.
            if learned {
                a.med = None;
            }
            group.next_hop != NextHopMode::Keep || !learned
        }
        SessionKind::Ibgp => {
            if a.as_path.is_none() {
                a.as_path = Some(AsPath::default());
            }
            // RFC 4271 §5.1.5: LOCAL_PREF is always sent to internal peers.
            if a.local_pref.is_none() {
                a.local_pref = Some(local.decision.default_local_pref);
            }
            if let RouteOrigin::Peer {
                kind: SessionKind::Ibgp,
                router_id,
                ..
            } = origin
            {
                // RFC 4456 §8: reflecting.
                if a.originator_id.is_none() {
                    a.originator_id = Some(router_id.0);
                }
                let mut cl = a.cluster_list.take().unwrap_or_default();
                cl.insert(0, local.cluster_id());
                a.cluster_list = Some(cl);
            }
            group.next_hop == NextHopMode::SelfAddress || !learned || set.next_hop().is_none()
        }
    };
    // An IPv6 next hop of an IPv4 route (RFC 8950) kept towards a peer that did not negotiate
    // the extended next hop would be refused there: ours is given instead (as BIRD).
    let foreign_v6 = family == Family::Ipv4Unicast
        && !group.context.extended_next_hop_v4
        && matches!(out.mp_next_hop, Some(MpNextHop::Ipv6 { .. }));
    // A link-local next hop means something only on the link it came from (RFC 2545 §3): a
    // route whose only next hop is one is given ours.
    let kept_link_local = !self_nh
        && matches!(out.mp_next_hop, Some(MpNextHop::Ipv6 { global, .. })
            if (global.segments()[0] & 0xffc0) == 0xfe80);
    if self_nh || foreign_v6 || kept_link_local {
        match family {
            Family::Ipv4Unicast => match (group.local_v4, own_v6_next_hop(group)) {
                (Some(nh), _) => {
                    out.attrs.next_hop = Some(nh);
                    out.mp_next_hop = None;
                }
                // An IPv6 session with the extended next hop negotiated and no IPv4 address
                // of ours on it: our IPv6 address is the IPv4 routes' next hop (RFC 8950).
                (None, Some(v6)) if group.context.extended_next_hop_v4 => {
                    out.attrs.next_hop = None;
                    out.mp_next_hop = Some(v6);
                }
                (None, _) => return Err(RibError::NoLocalAddress { family }),
            },
            Family::Ipv6Unicast => {
                let nh = own_v6_next_hop(group).ok_or(RibError::NoLocalAddress { family })?;
                out.attrs.next_hop = None;
                out.mp_next_hop = Some(nh);
            }
        }
    } else if family == Family::Ipv6Unicast {
        out.attrs.next_hop = None;
        // A link-local next hop only makes sense on the link it came from.
        if let Some(MpNextHop::Ipv6 { global, .. }) = out.mp_next_hop {
            out.mp_next_hop = Some(MpNextHop::Ipv6 {
                global,
                link_local: None,
            });
        }
    }
    Ok(Some(out))
}

/// Our IPv6 next hop towards `group` (RFC 2545 §3): the global address, with our link-local
/// one beside it (32 octets) on a link-local session; on a link-local session without a global
/// address the link-local one alone (16 octets, as FRR sends for unnumbered peering).
fn own_v6_next_hop(group: &GroupKey) -> Option<MpNextHop> {
    match (group.local_v6, group.local_link_local) {
        (Some(global), link_local) => Some(MpNextHop::Ipv6 { global, link_local }),
        (None, Some(ll)) => Some(MpNextHop::Ipv6 {
            global: ll,
            link_local: None,
        }),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use bgp_proto::attribute::Origin;
    use bgp_proto::{Asn, SessionContext};

    use super::*;
    use crate::peer::PeerId;

    fn local() -> LocalInfo {
        LocalInfo::new(RouterId(Ipv4Addr::new(1, 1, 1, 1)), Asn(64512))
    }

    fn group(kind: SessionKind, rr_client: bool, next_hop: NextHopMode) -> GroupKey {
        GroupKey {
            kind,
            local_as: None,
            policy_prepends_own_as: false,
            rr_client,
            next_hop,
            local_v4: Some(Ipv4Addr::new(10, 99, 0, 1)),
            local_v6: Some("fd99::1".parse().unwrap()),
            local_link_local: None,
            export_policy: 0,
            context: SessionContext::default(),
            families: vec![Family::Ipv4Unicast],
        }
    }

    fn from(kind: SessionKind, rr_client: bool) -> RouteOrigin {
        RouteOrigin::Peer {
            kind,
            rr_client,
            router_id: RouterId(Ipv4Addr::new(2, 2, 2, 2)),
            addr: IpAddr::V4(Ipv4Addr::new(10, 99, 0, 2)),
        }
    }

    fn set() -> AttrSet {
        AttrSet {
            attrs: PathAttributes {
                origin: Some(Origin::Igp),
                as_path: Some(AsPath::default()),
                next_hop: Some(Ipv4Addr::new(10, 99, 0, 2)),
                local_pref: Some(100),
                med: Some(5),
                ..PathAttributes::default()
            },
            mp_next_hop: None,
        }
    }

    #[test]
    fn rfc4456_6_reflection_table() {
        use SessionKind::{Ebgp, Ibgp};
        let nh = NextHopMode::Default;
        // (route from, to group, advertised?)
        let rows = [
            (from(Ibgp, true), group(Ibgp, true, nh), true), // client → clients
            (from(Ibgp, true), group(Ibgp, false, nh), true), // client → non-clients
            (from(Ibgp, false), group(Ibgp, true, nh), true), // non-client → clients
            (from(Ibgp, false), group(Ibgp, false, nh), false), // non-client → non-clients
            (from(Ebgp, false), group(Ibgp, false, nh), true), // eBGP → all
            (from(Ebgp, false), group(Ibgp, true, nh), true),
            (from(Ibgp, false), group(Ebgp, false, nh), true), // iBGP → eBGP
            (RouteOrigin::Local, group(Ibgp, false, nh), true),
        ];
        for (i, (o, g, want)) in rows.iter().enumerate() {
            assert_eq!(may_advertise(o, &set().attrs, g), *want, "row {i}");
        }
    }

    #[test]
    fn rfc1997_no_export_and_no_advertise() {
        let mut s = set();
        s.attrs.communities = Some(vec![Community::NO_EXPORT]);
        let o = from(SessionKind::Ebgp, false);
        assert!(!may_advertise(
            &o,
            &s.attrs,
            &group(SessionKind::Ebgp, false, NextHopMode::Default)
        ));
        assert!(may_advertise(
            &o,
            &s.attrs,
            &group(SessionKind::Ibgp, false, NextHopMode::Default)
        ));
        s.attrs.communities = Some(vec![Community::NO_ADVERTISE]);
        assert!(!may_advertise(
            &o,
            &s.attrs,
            &group(SessionKind::Ibgp, false, NextHopMode::Default)
        ));
    }

    #[test]
    fn rfc4456_8_reflection_sets_originator_and_prepends_cluster_id() {
        let mut s = set();
        s.attrs.cluster_list = Some(vec![Ipv4Addr::new(9, 9, 9, 9)]);
        let g = group(SessionKind::Ibgp, true, NextHopMode::Default);
        let out = outgoing(
            &local(),
            &from(SessionKind::Ibgp, false),
            Family::Ipv4Unicast,
            &s,
            &g,
        )
        .unwrap()
        .unwrap();
        assert_eq!(out.attrs.originator_id, Some(Ipv4Addr::new(2, 2, 2, 2)));
        assert_eq!(
            out.attrs.cluster_list,
            Some(vec![Ipv4Addr::new(1, 1, 1, 1), Ipv4Addr::new(9, 9, 9, 9)])
        );
        // iBGP: next hop unchanged.
        assert_eq!(out.attrs.next_hop, Some(Ipv4Addr::new(10, 99, 0, 2)));
        // An existing ORIGINATOR_ID is kept.
        s.attrs.originator_id = Some(Ipv4Addr::new(3, 3, 3, 3));
        let out = outgoing(
            &local(),
            &from(SessionKind::Ibgp, true),
            Family::Ipv4Unicast,
            &s,
            &g,
        )
        .unwrap()
        .unwrap();
        assert_eq!(out.attrs.originator_id, Some(Ipv4Addr::new(3, 3, 3, 3)));
    }

    #[test]
    fn ebgp_export_prepends_as_sets_next_hop_self_and_strips_ibgp_attributes() {
        let mut s = set();
        s.attrs.originator_id = Some(Ipv4Addr::new(3, 3, 3, 3));
        s.attrs.cluster_list = Some(vec![Ipv4Addr::new(9, 9, 9, 9)]);
        let g = group(SessionKind::Ebgp, false, NextHopMode::Default);
        let out = outgoing(
            &local(),
            &from(SessionKind::Ibgp, false),
            Family::Ipv4Unicast,
            &s,
            &g,
        )
        .unwrap()
        .unwrap();
        assert_eq!(out.attrs.as_path, Some(AsPath::from_sequence([Asn(64512)])));
        assert_eq!(out.attrs.next_hop, Some(Ipv4Addr::new(10, 99, 0, 1)));
        assert_eq!(out.attrs.local_pref, None);
        assert_eq!(out.attrs.med, None);
        assert_eq!(out.attrs.originator_id, None);
        assert_eq!(out.attrs.cluster_list, None);
        // Keep-original next hop.
        let g = group(SessionKind::Ebgp, false, NextHopMode::Keep);
        let out = outgoing(
            &local(),
            &from(SessionKind::Ibgp, false),
            Family::Ipv4Unicast,
            &s,
            &g,
        )
        .unwrap()
        .unwrap();
        assert_eq!(out.attrs.next_hop, Some(Ipv4Addr::new(10, 99, 0, 2)));
    }

    #[test]
    fn ibgp_next_hop_self_and_ipv6_mp_next_hop() {
        let g = group(SessionKind::Ibgp, true, NextHopMode::SelfAddress);
        let s = AttrSet {
            attrs: PathAttributes {
                next_hop: None,
                ..set().attrs
            },
            mp_next_hop: Some(MpNextHop::Ipv6 {
                global: "fd99::2".parse().unwrap(),
                link_local: Some("fe80::2".parse().unwrap()),
            }),
        };
        let out = outgoing(
            &local(),
            &from(SessionKind::Ibgp, true),
            Family::Ipv6Unicast,
            &s,
            &g,
        )
        .unwrap()
        .unwrap();
        let want: Ipv6Addr = "fd99::1".parse().unwrap();
        assert_eq!(
            out.mp_next_hop,
            Some(MpNextHop::Ipv6 {
                global: want,
                link_local: None
            })
        );
        assert_eq!(out.attrs.next_hop, None);
    }

    #[test]
    fn ipv4_next_hop_self_over_ipv6_with_extended_next_hop_is_our_ipv6_address() {
        let mut g = group(SessionKind::Ebgp, false, NextHopMode::Default);
        g.local_v4 = None;
        g.context.extended_next_hop_v4 = true;
        let out = outgoing(
            &local(),
            &from(SessionKind::Ibgp, false),
            Family::Ipv4Unicast,
            &set(),
            &g,
        )
        .unwrap()
        .unwrap();
        assert_eq!(out.attrs.next_hop, None);
        assert_eq!(
            out.mp_next_hop,
            Some(MpNextHop::Ipv6 {
                global: "fd99::1".parse().unwrap(),
                link_local: None
            })
        );
        // Without the capability there is no usable next hop.
        g.context.extended_next_hop_v4 = false;
        assert!(outgoing(
            &local(),
            &from(SessionKind::Ibgp, false),
            Family::Ipv4Unicast,
            &set(),
            &g,
        )
        .is_err());
    }

    #[test]
    fn ipv6_next_hop_of_an_ipv4_route_is_replaced_towards_a_peer_without_extended_next_hop() {
        let g = group(SessionKind::Ibgp, false, NextHopMode::Default);
        let learned = AttrSet {
            attrs: PathAttributes {
                next_hop: None,
                ..set().attrs
            },
            mp_next_hop: Some(MpNextHop::Ipv6 {
                global: "fd99::7".parse().unwrap(),
                link_local: None,
            }),
        };
        let out = outgoing(
            &local(),
            &from(SessionKind::Ebgp, false),
            Family::Ipv4Unicast,
            &learned,
            &g,
        )
        .unwrap()
        .unwrap();
        assert_eq!(out.attrs.next_hop, Some(Ipv4Addr::new(10, 99, 0, 1)));
        assert_eq!(out.mp_next_hop, None);
        let mut ext = g.clone();
        ext.context.extended_next_hop_v4 = true;
        let out = outgoing(
            &local(),
            &from(SessionKind::Ebgp, false),
            Family::Ipv4Unicast,
            &learned,
            &ext,
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            out.mp_next_hop, learned.mp_next_hop,
            "kept with the capability"
        );
    }

    #[test]
    fn loops_detected_on_receipt() {
        let l = local();
        let mut p = PeerInfo::new(
            PeerId(1),
            IpAddr::V4(Ipv4Addr::new(10, 99, 0, 2)),
            Asn(65001),
        );
        let mut a = set().attrs;
        a.as_path = Some(AsPath::from_sequence([Asn(65001), Asn(64512)]));
        assert_eq!(check_received(&l, &p, &a), Some(Ineligible::AsPathLoop));
        p.allow_own_as = 1;
        assert_eq!(check_received(&l, &p, &a), None);
        a.as_path = None;
        a.originator_id = Some(Ipv4Addr::new(1, 1, 1, 1));
        assert_eq!(check_received(&l, &p, &a), Some(Ineligible::OriginatorIsUs));
        a.originator_id = None;
        a.cluster_list = Some(vec![Ipv4Addr::new(1, 1, 1, 1)]);
        assert_eq!(check_received(&l, &p, &a), Some(Ineligible::ClusterLoop));
    }

    #[test]
    fn rfc2545_next_hop_over_a_link_local_session() {
        let v6 = |s: &str| s.parse::<Ipv6Addr>().unwrap();
        let mut g = group(SessionKind::Ebgp, false, NextHopMode::Default);
        g.local_v4 = None;
        g.local_link_local = Some(v6("fe80::1"));
        g.context.extended_next_hop_v4 = true;
        let send = |g: &GroupKey, family| {
            outgoing(&local(), &RouteOrigin::Local, family, &set(), g)
                .unwrap()
                .unwrap()
                .mp_next_hop
        };
        // A global address on the link: global and link-local (32 octets).
        let both_hop = MpNextHop::Ipv6 {
            global: v6("fd99::1"),
            link_local: Some(v6("fe80::1")),
        };
        assert_eq!(both_hop.wire_len(), 32);
        let both = Some(both_hop);
        assert_eq!(send(&g, Family::Ipv6Unicast), both);
        // IPv4 routes over it (RFC 8950) carry the same.
        assert_eq!(send(&g, Family::Ipv4Unicast), both);
        // Only a link-local address: that alone (16 octets), as FRR for unnumbered peering.
        g.local_v6 = None;
        let lone = Some(MpNextHop::Ipv6 {
            global: v6("fe80::1"),
            link_local: None,
        });
        assert_eq!(send(&g, Family::Ipv6Unicast), lone);
        assert_eq!(send(&g, Family::Ipv4Unicast), lone);
    }

    #[test]
    fn a_kept_lone_link_local_next_hop_is_replaced_by_ours() {
        // iBGP keeps the next hop, but a lone link-local one is only valid on its own link.
        let g = group(SessionKind::Ibgp, false, NextHopMode::Default);
        let learned = AttrSet {
            attrs: PathAttributes {
                next_hop: None,
                ..set().attrs
            },
            mp_next_hop: Some(MpNextHop::Ipv6 {
                global: "fe80::7".parse().unwrap(),
                link_local: None,
            }),
        };
        let out = outgoing(
            &local(),
            &from(SessionKind::Ebgp, false),
            Family::Ipv6Unicast,
            &learned,
            &g,
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            out.mp_next_hop,
            Some(MpNextHop::Ipv6 {
                global: "fd99::1".parse().unwrap(),
                link_local: None
            })
        );
    }
}
