//! OPEN message (RFC 4271 §4.2, §6.2), its optional parameters (RFC 5492) including the
//! extended optional parameters length of RFC 9072.

use std::net::Ipv4Addr;

use bytes::{BufMut, BytesMut};
use nom::bytes::complete::take;
use nom::number::complete::{be_u16, be_u32, be_u8};
use nom::IResult;

use crate::capability::{self, AddPath, BgpRole, Capability, GracefulRestart};
use crate::error::{body_offset, DecodeError, EncodeError, OpenProblem};
use crate::header::HEADER_LEN;
use crate::types::{Asn, Family, RouterId};

/// The only BGP version there is (RFC 4271 §4.2).
pub const BGP_VERSION: u8 = 4;
/// RFC 5492 §4: optional parameter type "Capabilities".
pub const PARAM_CAPABILITIES: u8 = 2;
/// RFC 9072 §2: the parameter type (and length) that announces extended optional parameters.
pub const PARAM_EXTENDED_LENGTH: u8 = 255;

/// An OPEN message. The version is always 4 (anything else is rejected on decode).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Open {
    /// The 2-octet My Autonomous System field: the AS, or AS_TRANS (23456) when the AS needs 4
    /// octets (RFC 6793 §4.1). Use [`Open::four_octet_asn`] for the real AS.
    pub my_as: u16,
    /// Proposed hold time in seconds: 0 or at least 3 (RFC 4271 §4.2).
    pub hold_time: u16,
    pub router_id: RouterId,
    /// All capabilities, in order, from every Capabilities optional parameter. Encoding puts them
    /// in one parameter (more if they exceed 255 octets).
    pub capabilities: Vec<Capability>,
}

type NomResult<'a, T> = IResult<&'a [u8], T>;

fn fixed_part(i: &[u8]) -> NomResult<'_, (u8, u16, u16, u32, u8)> {
    let (i, version) = be_u8(i)?;
    let (i, my_as) = be_u16(i)?;
    let (i, hold) = be_u16(i)?;
    let (i, id) = be_u32(i)?;
    let (i, opt_len) = be_u8(i)?;
    Ok((i, (version, my_as, hold, id, opt_len)))
}

/// One optional parameter: type, then a 1-octet length (or 2-octet with RFC 9072).
fn param(extended: bool) -> impl Fn(&[u8]) -> NomResult<'_, (u8, &[u8])> {
    move |i| {
        let (i, ptype) = be_u8(i)?;
        let (i, len) = if extended {
            be_u16(i)?
        } else {
            let (i, l) = be_u8(i)?;
            (i, u16::from(l))
        };
        let (i, value) = take(len)(i)?;
        Ok((i, (ptype, value)))
    }
}

impl Open {
    /// An OPEN for `asn` (RFC 6793 §4.1: AS_TRANS in the 2-octet field when it does not fit).
    /// If `capabilities` has no 4-octet AS capability one is appended, since we always speak
    /// RFC 6793.
    pub fn new(
        asn: Asn,
        hold_time: u16,
        router_id: RouterId,
        mut capabilities: Vec<Capability>,
    ) -> Open {
        let my_as = u16::try_from(asn.0).unwrap_or(Asn::TRANS.0 as u16);
        if !capabilities
            .iter()
            .any(|c| matches!(c, Capability::FourOctetAs(_)))
        {
            capabilities.push(Capability::FourOctetAs(asn));
        }
        Open {
            my_as,
            hold_time,
            router_id,
            capabilities,
        }
    }

    /// The sender's AS: from the 4-octet AS capability when present (RFC 6793 §4.1), else the
    /// 2-octet field.
    pub fn four_octet_asn(&self) -> Asn {
        self.capabilities
            .iter()
            .find_map(|c| match c {
                Capability::FourOctetAs(a) => Some(*a),
                _ => None,
            })
            .unwrap_or(Asn(u32::from(self.my_as)))
    }

    /// Whether the sender announced 4-octet AS support (RFC 6793).
    pub fn supports_four_octet_as(&self) -> bool {
        self.has(|c| matches!(c, Capability::FourOctetAs(_)))
    }

    /// Whether the sender supports route refresh (RFC 2918, or the old Cisco code).
    pub fn supports_route_refresh(&self) -> bool {
        self.has(|c| matches!(c, Capability::RouteRefresh | Capability::RouteRefreshCisco))
    }

    /// Whether the sender supports enhanced route refresh (RFC 7313).
    pub fn supports_enhanced_route_refresh(&self) -> bool {
        self.has(|c| matches!(c, Capability::EnhancedRouteRefresh))
    }

    /// Whether the sender supports extended messages (RFC 8654).
    pub fn supports_extended_message(&self) -> bool {
        self.has(|c| matches!(c, Capability::ExtendedMessage))
    }

    /// The families announced with the multiprotocol capability that this daemon routes. RFC 4760
    /// §8 / RFC 4271: an OPEN with no multiprotocol capability at all implies IPv4 unicast.
    pub fn families(&self) -> Vec<Family> {
        let mut any_mp = false;
        let mut out = Vec::new();
        for c in &self.capabilities {
            if let Capability::Multiprotocol { afi, safi } = c {
                any_mp = true;
                if let Some(f) = Family::from_afi_safi(*afi, *safi) {
                    if !out.contains(&f) {
                        out.push(f);
                    }
                }
            }
        }
        if !any_mp {
            out.push(Family::Ipv4Unicast);
        }
        out
    }

    /// The ADD-PATH entries announced (RFC 7911), all capabilities merged.
    pub fn add_path(&self) -> impl Iterator<Item = &AddPath> {
        self.capabilities.iter().flat_map(|c| match c {
            Capability::AddPath(v) => v.as_slice(),
            _ => &[],
        })
    }

    /// The BGP role (RFC 9234), if announced.
    pub fn role(&self) -> Option<BgpRole> {
        self.capabilities.iter().find_map(|c| match c {
            Capability::Role(r) => Some(*r),
            _ => None,
        })
    }

    /// The graceful restart capability (RFC 4724), if announced.
    pub fn graceful_restart(&self) -> Option<&GracefulRestart> {
        self.capabilities.iter().find_map(|c| match c {
            Capability::GracefulRestart(g) => Some(g),
            _ => None,
        })
    }

    fn has(&self, f: impl Fn(&Capability) -> bool) -> bool {
        self.capabilities.iter().any(f)
    }

    /// Decodes an OPEN body (the octets after the 19-octet header). Checks follow RFC 4271 §6.2
    /// in its order: version, AS (RFC 7607: not 0), hold time, identifier (RFC 6286: not 0),
    /// optional parameters. Error offsets count from the start of the message.
    pub fn decode(body: &[u8]) -> Result<Open, DecodeError> {
        let too_short = || DecodeError::BadMessageLength {
            length: u16::try_from(HEADER_LEN + body.len()).unwrap_or(u16::MAX),
            offset: 16,
        };
        let (rest, (version, my_as, hold_time, id, opt_len)) =
            fixed_part(body).map_err(|_| too_short())?;
        if version != BGP_VERSION {
            return Err(DecodeError::UnsupportedVersion {
                version,
                offset: HEADER_LEN,
            });
        }
        if my_as == 0 {
            return Err(DecodeError::BadPeerAs {
                offset: HEADER_LEN + 1,
            });
        }
        if hold_time == 1 || hold_time == 2 {
            return Err(DecodeError::UnacceptableHoldTime {
                hold_time,
                offset: HEADER_LEN + 3,
            });
        }
        if id == 0 {
            return Err(DecodeError::BadBgpIdentifier {
                offset: HEADER_LEN + 5,
            });
        }
        let malformed = |problem, at: &[u8]| DecodeError::MalformedOpen {
            problem,
            offset: body_offset(body, at),
        };
        // RFC 9072 §2: a non-extended length of 255 followed by a parameter type of 255 means a
        // 2-octet length follows and every parameter has a 2-octet length.
        let (mut params, extended, declared) = match rest {
            [PARAM_EXTENDED_LENGTH, hi, lo, tail @ ..] if opt_len == 255 => {
                (tail, true, usize::from(u16::from_be_bytes([*hi, *lo])))
            }
            _ => (rest, false, usize::from(opt_len)),
        };
        if params.len() < declared {
            return Err(malformed(OpenProblem::ParametersOverrun, rest));
        }
        if params.len() > declared {
            return Err(malformed(OpenProblem::ParametersLengthMismatch, rest));
        }
        let mut capabilities = Vec::new();
        while !params.is_empty() {
            let start = params;
            let (next, (ptype, value)) = param(extended)(params)
                .map_err(|_| malformed(OpenProblem::ParametersOverrun, start))?;
            if ptype != PARAM_CAPABILITIES {
                return Err(DecodeError::UnsupportedOptionalParameter {
                    param_type: ptype,
                    offset: body_offset(body, start),
                });
            }
            let value_at = body_offset(body, value);
            let caps = capability::decode_list(value).map_err(|(problem, at)| {
                DecodeError::MalformedOpen {
                    problem,
                    offset: value_at + at,
                }
            })?;
            capabilities.extend(caps);
            params = next;
        }
        let open = Open {
            my_as,
            hold_time,
            router_id: RouterId(Ipv4Addr::from(id)),
            capabilities,
        };
        // RFC 7607 §2: AS 0 in the 4-octet AS capability is Bad Peer AS as well.
        if open.four_octet_asn().0 == 0 {
            return Err(DecodeError::BadPeerAs {
                offset: HEADER_LEN + 1,
            });
        }
        Ok(open)
    }

    /// Appends the OPEN body to `buf`. The capabilities go in one Capabilities parameter, split
    /// into several when longer than 255 octets; when the parameters exceed 255 octets in all,
    /// the RFC 9072 extended format is used.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        buf.put_u8(BGP_VERSION);
        buf.put_u16(self.my_as);
        buf.put_u16(self.hold_time);
        buf.put_u32(u32::from(self.router_id.0));

        let mut encoded = Vec::with_capacity(self.capabilities.len());
        for c in &self.capabilities {
            let mut one = BytesMut::new();
            c.encode(&mut one)?;
            encoded.push(one);
        }
        // Group capabilities into parameters of at most 255 octets of value.
        let mut groups: Vec<BytesMut> = Vec::new();
        for one in encoded {
            match groups.last_mut() {
                Some(g) if g.len() + one.len() <= 255 => g.extend_from_slice(&one),
                _ => groups.push(one),
            }
        }
        let short_total: usize = groups.iter().map(|g| 2 + g.len()).sum();
        if short_total <= 255 {
            buf.put_u8(short_total as u8);
            for g in &groups {
                buf.put_u8(PARAM_CAPABILITIES);
                buf.put_u8(g.len() as u8);
                buf.put_slice(g);
            }
        } else {
            // RFC 9072 §2: one parameter holds everything (its length is 2 octets).
            let value: Vec<u8> = groups.concat();
            let total = 3 + value.len();
            let total16 = u16::try_from(total).map_err(|_| EncodeError::FieldTooLong {
                field: "optional parameters",
                len: total,
            })?;
            buf.put_u8(255);
            buf.put_u8(PARAM_EXTENDED_LENGTH);
            buf.put_u16(total16);
            buf.put_u8(PARAM_CAPABILITIES);
            buf.put_u16(value.len() as u16);
            buf.put_slice(&value);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capability::{arb, AddPathMode, ExtendedNextHop, GrFamily, LlgrFamily};
    use crate::notification::{code, open_subcode};
    use crate::types::{Afi, Safi};
    use proptest::prelude::*;

    /// The OPEN BIRD 2.0.12 sent (captured 2026-11-24 from `bird` in a namespace, config: AS
    /// 65001, hold 90, graceful restart, long-lived GR, extended messages, IPv4 with ADD-PATH
    /// and extended next hop, IPv6).
    const BIRD_OPEN: &str = concat!(
        "ffffffffffffffffffffffffffffffff", // marker
        "0061",                             // length 97
        "01",                               // type OPEN
        "04",                               // version 4
        "fde9",                             // my AS 65001
        "005a",                             // hold time 90
        "0a630701",                         // BGP identifier 10.99.7.1
        "44",                               // optional parameters length 68
        "0242",                             // parameter 2 (capabilities), length 66
        "010400010001",                     // MP: AFI 1, reserved, SAFI 1
        "010400020001",                     // MP: AFI 2, reserved, SAFI 1
        "0200",                             // route refresh
        "0506000100010002",                 // extended next hop: IPv4 unicast via IPv6
        "0600",                             // extended message
        "400a00780001010000020100",         // GR: flags 0, time 120; v4, v6 without F
        "41040000fde9",                     // 4-octet AS 65001
        "450400010103",                     // ADD-PATH: IPv4 unicast, both
        "4600",                             // enhanced route refresh
        "470e00010100000e1000020100000e10", // LLGR: v4 and v6, stale time 3600
    );

    #[test]
    fn annotated_bird_open_is_the_capture() {
        // The capture as tshark/our recorder printed it, unannotated.
        let raw =
            "ffffffffffffffffffffffffffffffff00610104fde9005a0a63070144024201040001000101040002\
                   0001020005060001000100020600400a0078000101000002010041040000fde94504000101034600\
                   470e00010100000e1000020100000e10";
        assert_eq!(BIRD_OPEN, raw);
    }

    fn body(hex_in: &str) -> Vec<u8> {
        hex::decode(hex_in).unwrap()[HEADER_LEN..].to_vec()
    }

    fn bird_open() -> Open {
        Open {
            my_as: 65001,
            hold_time: 90,
            router_id: RouterId(Ipv4Addr::new(10, 99, 7, 1)),
            capabilities: vec![
                Capability::Multiprotocol {
                    afi: Afi::Ipv4,
                    safi: Safi::Unicast,
                },
                Capability::Multiprotocol {
                    afi: Afi::Ipv6,
                    safi: Safi::Unicast,
                },
                Capability::RouteRefresh,
                Capability::ExtendedNextHop(vec![ExtendedNextHop {
                    nlri_afi: Afi::Ipv4,
                    nlri_safi: 1,
                    next_hop_afi: Afi::Ipv6,
                }]),
                Capability::ExtendedMessage,
                Capability::GracefulRestart(GracefulRestart {
                    restart_state: false,
                    notification: false,
                    restart_time: 120,
                    families: vec![
                        GrFamily {
                            afi: Afi::Ipv4,
                            safi: Safi::Unicast,
                            forwarding_preserved: false,
                        },
                        GrFamily {
                            afi: Afi::Ipv6,
                            safi: Safi::Unicast,
                            forwarding_preserved: false,
                        },
                    ],
                }),
                Capability::FourOctetAs(Asn(65001)),
                Capability::AddPath(vec![AddPath {
                    afi: Afi::Ipv4,
                    safi: Safi::Unicast,
                    mode: AddPathMode::Both,
                }]),
                Capability::EnhancedRouteRefresh,
                Capability::LongLivedGracefulRestart(vec![
                    LlgrFamily {
                        afi: Afi::Ipv4,
                        safi: Safi::Unicast,
                        forwarding_preserved: false,
                        stale_time: 3600,
                    },
                    LlgrFamily {
                        afi: Afi::Ipv6,
                        safi: Safi::Unicast,
                        forwarding_preserved: false,
                        stale_time: 3600,
                    },
                ]),
            ],
        }
    }

    #[test]
    fn decodes_and_reencodes_bird_open() {
        let open = Open::decode(&body(BIRD_OPEN)).unwrap();
        assert_eq!(open, bird_open());
        assert_eq!(open.four_octet_asn(), Asn(65001));
        assert_eq!(
            open.families(),
            vec![Family::Ipv4Unicast, Family::Ipv6Unicast]
        );
        let mut out = BytesMut::new();
        open.encode(&mut out).unwrap();
        assert_eq!(hex::encode(&out), hex::encode(body(BIRD_OPEN)));
    }

    #[test]
    fn capabilities_spread_over_several_parameters_decode() {
        // Hand-made: two parameters, one capability each (as older speakers send).
        let b = hex::decode(concat!(
            "04",
            "fde9",
            "00b4",
            "0a000001", // version, AS 65001, hold 180, id 10.0.0.1
            "10",       // optional parameters length 16
            "0206",
            "010400010001", // param 2: MP IPv4 unicast
            "0206",
            "41040001fbf1", // param 2: 4-octet AS 130033
        ))
        .unwrap();
        let open = Open::decode(&b).unwrap();
        assert_eq!(open.capabilities.len(), 2);
        assert_eq!(open.four_octet_asn(), Asn(130033));
    }

    #[test]
    fn extended_optional_parameters_length_roundtrips() {
        // Enough unknown capabilities to exceed 255 octets of parameters (RFC 9072).
        let caps: Vec<Capability> = (0..30)
            .map(|i| Capability::Unknown {
                code: 200,
                data: vec![i; 10],
            })
            .collect();
        let open = Open::new(
            Asn(4_200_000_001),
            90,
            RouterId(Ipv4Addr::new(1, 2, 3, 4)),
            caps,
        );
        assert_eq!(open.my_as, 23456, "AS_TRANS in the 2-octet field");
        let mut out = BytesMut::new();
        open.encode(&mut out).unwrap();
        // version(1) AS(2) hold(2) id(4), then 255, type 255, 2-octet length.
        assert_eq!(&out[9..11], &[255, 255]);
        let ext_len = usize::from(u16::from_be_bytes([out[11], out[12]]));
        assert_eq!(ext_len, out.len() - 13);
        // One capabilities parameter with a 2-octet length.
        assert_eq!(out[13], PARAM_CAPABILITIES);
        assert_eq!(Open::decode(&out).unwrap(), open);
        assert_eq!(open.four_octet_asn(), Asn(4_200_000_001));
    }

    #[test]
    fn new_keeps_two_octet_as_and_adds_the_capability_once() {
        let o = Open::new(Asn(64512), 0, RouterId(Ipv4Addr::new(1, 1, 1, 1)), vec![]);
        assert_eq!(o.my_as, 64512);
        assert_eq!(o.capabilities, vec![Capability::FourOctetAs(Asn(64512))]);
        let o2 = Open::new(Asn(64512), 0, o.router_id, o.capabilities.clone());
        assert_eq!(o2.capabilities.len(), 1);
    }

    fn expect(b: &[u8], code: u8, subcode: u8, data: &[u8], offset: usize) {
        let e = Open::decode(b).unwrap_err();
        let n = e.notification();
        assert_eq!(
            (n.code, n.subcode, n.data.as_slice()),
            (code, subcode, data),
            "{e}"
        );
        assert_eq!(e.offset(), offset, "{e}");
    }

    fn minimal() -> Vec<u8> {
        // version 4, AS 65001, hold 90, id 10.0.0.1, no optional parameters.
        hex::decode("04fde9005a0a00000100").unwrap()
    }

    #[test]
    fn version_other_than_4_is_unsupported_version_with_4_as_data() {
        let mut b = minimal();
        b[0] = 3;
        expect(
            &b,
            code::OPEN_MESSAGE,
            open_subcode::UNSUPPORTED_VERSION_NUMBER,
            &[0, 4],
            19,
        );
        b[0] = 5;
        expect(
            &b,
            code::OPEN_MESSAGE,
            open_subcode::UNSUPPORTED_VERSION_NUMBER,
            &[0, 4],
            19,
        );
    }

    #[test]
    fn hold_time_1_or_2_is_unacceptable() {
        for h in [1u8, 2] {
            let mut b = minimal();
            b[3] = 0;
            b[4] = h;
            expect(
                &b,
                code::OPEN_MESSAGE,
                open_subcode::UNACCEPTABLE_HOLD_TIME,
                &[],
                22,
            );
        }
        let mut b = minimal();
        b[3] = 0;
        b[4] = 0;
        assert_eq!(Open::decode(&b).unwrap().hold_time, 0);
        b[4] = 3;
        assert_eq!(Open::decode(&b).unwrap().hold_time, 3);
    }

    #[test]
    fn zero_identifier_is_bad_bgp_identifier() {
        let mut b = minimal();
        b[5..9].copy_from_slice(&[0; 4]);
        expect(
            &b,
            code::OPEN_MESSAGE,
            open_subcode::BAD_BGP_IDENTIFIER,
            &[],
            24,
        );
    }

    #[test]
    fn as_zero_is_bad_peer_as() {
        let mut b = minimal();
        b[1] = 0;
        b[2] = 0;
        expect(&b, code::OPEN_MESSAGE, open_subcode::BAD_PEER_AS, &[], 20);
        // RFC 7607: zero in the 4-octet AS capability as well.
        let mut b = minimal();
        b[9] = 8;
        b.extend_from_slice(&hex::decode("0206410400000000").unwrap());
        expect(&b, code::OPEN_MESSAGE, open_subcode::BAD_PEER_AS, &[], 20);
    }

    #[test]
    fn unknown_optional_parameter_is_unsupported() {
        let mut b = minimal();
        b[9] = 3;
        // parameter type 1 (authentication, deprecated), length 1.
        b.extend_from_slice(&[1, 1, 0]);
        expect(
            &b,
            code::OPEN_MESSAGE,
            open_subcode::UNSUPPORTED_OPTIONAL_PARAMETER,
            &[],
            29,
        );
    }

    #[test]
    fn malformed_parameters_are_open_unspecific() {
        // Parameters length 4 but only 2 octets follow.
        let mut b = minimal();
        b[9] = 4;
        b.extend_from_slice(&[2, 0]);
        expect(&b, code::OPEN_MESSAGE, open_subcode::UNSPECIFIC, &[], 29);
        // Parameter length overruns the parameters.
        let mut b = minimal();
        b[9] = 2;
        b.extend_from_slice(&[2, 5]);
        expect(&b, code::OPEN_MESSAGE, open_subcode::UNSPECIFIC, &[], 29);
        // Capability overruns its parameter: offset of the capability (29 + 2).
        let mut b = minimal();
        b[9] = 4;
        b.extend_from_slice(&[2, 2, 65, 4]);
        expect(&b, code::OPEN_MESSAGE, open_subcode::UNSPECIFIC, &[], 31);
        // Trailing octets after the parameters.
        let mut b = minimal();
        b.push(0);
        expect(&b, code::OPEN_MESSAGE, open_subcode::UNSPECIFIC, &[], 29);
    }

    /// The OPEN FRR 8.4.4 bgpd sent (captured 2026-11-24; `local-role customer`, extended next
    /// hop, IPv6 activated, hostname "capnode"). FRR puts each capability in its own parameter.
    const FRR_OPEN: &str = concat!(
        "ffffffffffffffffffffffffffffffff007b01", // marker, length 123, OPEN
        "04fdec00b40a630704",                     // v4, AS 65004, hold 180, id 10.99.7.4
        "5e",                                     // optional parameters length 94
        "0206010400010001",                       // MP IPv4 unicast
        "0206010400020001",                       // MP IPv6 unicast
        "02028000",                               // route refresh (Cisco code 128)
        "02020200",                               // route refresh
        "02024600",                               // enhanced route refresh
        "020641040000fdec",                       // 4-octet AS 65004
        "02020600",                               // extended message
        "0203090103",                             // role: customer
        "020a45080001010100020101",               // ADD-PATH v4 receive, v6 receive
        "020b490907636170",
        "6e6f646500",   // FQDN "capnode", domain ""
        "02044002c078", // GR: R and N set, restart time 120
        "0210470e000101800000000002018000",
        "0000", // LLGR v4, v6: F bit, stale 0
    );

    /// The OPEN GoBGP 3.10.0 sent (captured 2026-11-24; graceful restart without families,
    /// ADD-PATH receive + send-max on IPv4, IPv6). Its FQDN carries the host's name "vm".
    const GOBGP_OPEN: &str = concat!(
        "ffffffffffffffffffffffffffffffff004b01", // marker, length 75, OPEN
        "04fdeb005a0a630703",                     // v4, AS 65003, hold 90, id 10.99.7.3
        "2e022c",                                 // opt. len 46; parameter 2, length 44
        "0200",                                   // route refresh
        "490402766d00",                           // FQDN "vm", domain ""
        "010400010001",                           // MP IPv4 unicast
        "010400020001",                           // MP IPv6 unicast
        "41040000fdeb",                           // 4-octet AS 65003
        "40020078",                               // GR: flags 0, time 120, no families
        "0506000100010002",                       // extended next hop IPv4 via IPv6
        "450400010103",                           // ADD-PATH IPv4 both
    );

    #[test]
    fn decodes_frr_open_with_one_capability_per_parameter() {
        let open = Open::decode(&body(FRR_OPEN)).unwrap();
        assert_eq!(open.capabilities.len(), 12);
        assert_eq!(open.four_octet_asn(), Asn(65004));
        assert_eq!(open.hold_time, 180);
        assert!(open.supports_route_refresh() && open.supports_enhanced_route_refresh());
        assert!(open.supports_extended_message());
        assert_eq!(open.role(), Some(BgpRole::Customer));
        assert!(open.capabilities.contains(&Capability::Fqdn {
            hostname: "capnode".into(),
            domain: String::new()
        }));
        let gr = open.graceful_restart().unwrap();
        assert!(gr.restart_state && gr.notification);
        assert_eq!(gr.restart_time, 120);
        assert!(gr.families.is_empty());
        assert_eq!(
            open.add_path().map(|a| a.mode).collect::<Vec<_>>(),
            vec![AddPathMode::Receive, AddPathMode::Receive]
        );
        // We group capabilities into one parameter, so the bytes differ from FRR's; the
        // meaning does not.
        let mut out = BytesMut::new();
        open.encode(&mut out).unwrap();
        assert_eq!(Open::decode(&out).unwrap(), open);
    }

    #[test]
    fn decodes_and_reencodes_gobgp_open() {
        let open = Open::decode(&body(GOBGP_OPEN)).unwrap();
        assert_eq!(open.four_octet_asn(), Asn(65003));
        assert_eq!(open.capabilities.len(), 8);
        assert_eq!(
            open.families(),
            vec![Family::Ipv4Unicast, Family::Ipv6Unicast]
        );
        let mut out = BytesMut::new();
        open.encode(&mut out).unwrap();
        assert_eq!(hex::encode(&out), hex::encode(body(GOBGP_OPEN)));
    }

    #[test]
    fn negotiates_bird_against_frr() {
        let bird = Open::decode(&body(BIRD_OPEN)).unwrap();
        let frr = Open::decode(&body(FRR_OPEN)).unwrap();
        let n = crate::context::SessionContext::negotiate(&bird, &frr);
        // BIRD sends both ways on IPv4, FRR only receives: BIRD transmits path ids.
        assert!(n.context.add_path_tx_v4 && !n.context.add_path_rx_v4);
        assert!(!n.context.add_path_tx_v6 && !n.context.add_path_rx_v6);
        assert!(n.context.four_octet_as && n.context.extended_message);
        assert_eq!(n.hold_time, 90);
        assert!(n.enhanced_route_refresh);
        // FRR's OPEN has no extended next hop capability (despite `capability
        // extended-nexthop` on this IPv4 session), so only BIRD announced it.
        assert!(!n.extended_next_hop_v4);
        let gobgp = Open::decode(&body(GOBGP_OPEN)).unwrap();
        assert!(crate::context::SessionContext::negotiate(&bird, &gobgp).extended_next_hop_v4);
    }

    fn arb_open() -> impl Strategy<Value = Open> {
        (
            1u16..,
            prop_oneof![Just(0u16), 3u16..],
            1u32..,
            prop::collection::vec(arb::capability(), 0..40),
        )
            .prop_map(|(my_as, hold_time, id, mut capabilities)| {
                // AS 0 in the 4-octet capability is rejected by design (RFC 7607).
                for c in &mut capabilities {
                    if let Capability::FourOctetAs(a) = c {
                        a.0 = a.0.max(1);
                    }
                }
                Open {
                    my_as,
                    hold_time,
                    router_id: RouterId(Ipv4Addr::from(id)),
                    capabilities,
                }
            })
    }

    proptest! {
        #[test]
        fn open_roundtrips(open in arb_open()) {
            let mut out = BytesMut::new();
            open.encode(&mut out).unwrap();
            prop_assert_eq!(Open::decode(&out).unwrap(), open);
        }

        #[test]
        fn open_decode_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
            let _ = Open::decode(&bytes);
        }

        #[test]
        fn open_decode_never_panics_on_mutated_bird_open(
            pos in 0usize..78, val in any::<u8>(), cut in 0usize..78
        ) {
            let mut b = body(BIRD_OPEN);
            b[pos] = val;
            b.truncate(b.len() - cut);
            let _ = Open::decode(&b);
        }
    }
}
