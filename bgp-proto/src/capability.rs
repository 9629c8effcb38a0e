//! Capabilities advertised in OPEN (RFC 5492) and the ones this daemon understands.
//!
//! A capability with a known code but a length its RFC forbids is an error (OPEN Message Error /
//! Unspecific); one whose fields hold values no RFC defines (an ADD-PATH mode of 0, an FQDN that
//! is not UTF-8) is kept raw as [`Capability::Unknown`], like any code we do not know, so the
//! OPEN still round-trips octet for octet.

use bytes::{BufMut, BytesMut};
use nom::number::complete::{be_u16, be_u24, be_u8};
use nom::IResult;

use crate::error::{EncodeError, OpenProblem};
use crate::types::{Afi, Asn, Family, Safi};

/// Capability codes (IANA "Capability Codes").
pub mod cap_code {
    pub const MULTIPROTOCOL: u8 = 1;
    pub const ROUTE_REFRESH: u8 = 2;
    pub const EXTENDED_NEXT_HOP: u8 = 5;
    pub const EXTENDED_MESSAGE: u8 = 6;
    pub const ROLE: u8 = 9;
    pub const GRACEFUL_RESTART: u8 = 64;
    pub const FOUR_OCTET_AS: u8 = 65;
    pub const ADD_PATH: u8 = 69;
    pub const ENHANCED_ROUTE_REFRESH: u8 = 70;
    pub const LONG_LIVED_GRACEFUL_RESTART: u8 = 71;
    pub const FQDN: u8 = 73;
    /// The pre-standard Cisco route refresh code.
    pub const ROUTE_REFRESH_CISCO: u8 = 128;
}

/// One capability.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Capability {
    /// RFC 4760 §8: code 1, AFI (2) reserved (1) SAFI (1).
    Multiprotocol { afi: Afi, safi: Safi },
    /// RFC 2918: code 2, empty.
    RouteRefresh,
    /// Pre-standard route refresh: code 128, empty.
    RouteRefreshCisco,
    /// RFC 8950 §3: code 5, tuples of NLRI AFI (2), NLRI SAFI (2), next-hop AFI (2).
    ExtendedNextHop(Vec<ExtendedNextHop>),
    /// RFC 8654: code 6, empty.
    ExtendedMessage,
    /// RFC 9234 §4.1: code 9, one octet.
    Role(BgpRole),
    /// RFC 4724 §3: code 64.
    GracefulRestart(GracefulRestart),
    /// RFC 6793 §3: code 65, the 4-octet AS number.
    FourOctetAs(Asn),
    /// RFC 7911 §4: code 69, tuples of AFI (2), SAFI (1), send/receive (1).
    AddPath(Vec<AddPath>),
    /// RFC 7313 §3: code 70, empty.
    EnhancedRouteRefresh,
    /// draft-ietf-idr-long-lived-gr §2: code 71, tuples of AFI (2), SAFI (1), flags (1),
    /// stale time (3).
    LongLivedGracefulRestart(Vec<LlgrFamily>),
    /// draft-walton-bgp-hostname-capability: code 73, length-prefixed host name and domain.
    Fqdn { hostname: String, domain: String },
    /// Any other capability (or a known one with values no RFC defines), kept raw.
    Unknown { code: u8, data: Vec<u8> },
}

/// An RFC 8950 extended next hop tuple. The NLRI SAFI is 2 octets on this wire, so it is kept
/// as its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExtendedNextHop {
    pub nlri_afi: Afi,
    pub nlri_safi: u16,
    pub next_hop_afi: Afi,
}

/// RFC 9234 §4.1 BGP roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BgpRole {
    Provider,
    RouteServer,
    RouteServerClient,
    Customer,
    Peer,
    /// A value RFC 9234 does not define.
    Other(u8),
}

impl BgpRole {
    pub fn from_u8(v: u8) -> BgpRole {
        match v {
            0 => BgpRole::Provider,
            1 => BgpRole::RouteServer,
            2 => BgpRole::RouteServerClient,
            3 => BgpRole::Customer,
            4 => BgpRole::Peer,
            n => BgpRole::Other(n),
        }
    }

    pub fn to_u8(self) -> u8 {
        match self {
            BgpRole::Provider => 0,
            BgpRole::RouteServer => 1,
            BgpRole::RouteServerClient => 2,
            BgpRole::Customer => 3,
            BgpRole::Peer => 4,
            BgpRole::Other(n) => n,
        }
    }

    /// RFC 9234 §4.2 table 2: whether `theirs` is an allowed role for the peer when we are
    /// `self`. A mismatch is answered with OPEN Message Error / Role Mismatch.
    pub fn matches_peer(self, theirs: BgpRole) -> bool {
        matches!(
            (self, theirs),
            (BgpRole::Provider, BgpRole::Customer)
                | (BgpRole::Customer, BgpRole::Provider)
                | (BgpRole::RouteServer, BgpRole::RouteServerClient)
                | (BgpRole::RouteServerClient, BgpRole::RouteServer)
                | (BgpRole::Peer, BgpRole::Peer)
        )
    }
}

/// RFC 4724 §3 graceful restart capability.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GracefulRestart {
    /// The R bit: the sender has restarted.
    pub restart_state: bool,
    /// The N bit (RFC 8538): the sender supports graceful restart for NOTIFICATION.
    pub notification: bool,
    /// Restart time in seconds (12 bits; larger values are cut to 4095 when encoding).
    pub restart_time: u16,
    pub families: Vec<GrFamily>,
}

/// A family in the graceful restart capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GrFamily {
    pub afi: Afi,
    pub safi: Safi,
    /// The F bit: forwarding state was preserved across the restart.
    pub forwarding_preserved: bool,
}

/// A family in the long-lived graceful restart capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LlgrFamily {
    pub afi: Afi,
    pub safi: Safi,
    /// The F bit: forwarding state was preserved.
    pub forwarding_preserved: bool,
    /// Long-lived stale time in seconds (24 bits; cut to 0xffffff when encoding).
    pub stale_time: u32,
}

/// RFC 7911 §4 send/receive field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddPathMode {
    Receive,
    Send,
    Both,
}

impl AddPathMode {
    fn from_u8(v: u8) -> Option<AddPathMode> {
        match v {
            1 => Some(AddPathMode::Receive),
            2 => Some(AddPathMode::Send),
            3 => Some(AddPathMode::Both),
            _ => None,
        }
    }
    fn to_u8(self) -> u8 {
        match self {
            AddPathMode::Receive => 1,
            AddPathMode::Send => 2,
            AddPathMode::Both => 3,
        }
    }
    /// Whether the sender of this mode is able to receive path identifiers.
    pub fn receives(self) -> bool {
        matches!(self, AddPathMode::Receive | AddPathMode::Both)
    }
    /// Whether the sender of this mode wants to send path identifiers.
    pub fn sends(self) -> bool {
        matches!(self, AddPathMode::Send | AddPathMode::Both)
    }
}

/// One family of the ADD-PATH capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddPath {
    pub afi: Afi,
    pub safi: Safi,
    pub mode: AddPathMode,
}

impl AddPath {
    /// The family, if it is one this daemon routes.
    pub fn family(&self) -> Option<Family> {
        Family::from_afi_safi(self.afi, self.safi)
    }
}

type NomResult<'a, T> = IResult<&'a [u8], T>;

fn afi(i: &[u8]) -> NomResult<'_, Afi> {
    let (i, v) = be_u16(i)?;
    Ok((i, Afi::from_u16(v)))
}

fn safi(i: &[u8]) -> NomResult<'_, Safi> {
    let (i, v) = be_u8(i)?;
    Ok((i, Safi::from_u8(v)))
}

/// Reads `data` as a sequence of fixed-size `size` items with `item`.
fn tuples<'a, T>(
    data: &'a [u8],
    size: usize,
    code: u8,
    mut item: impl FnMut(&'a [u8]) -> NomResult<'a, Option<T>>,
) -> Result<Option<Vec<T>>, OpenProblem> {
    if data.len() % size != 0 {
        return Err(OpenProblem::CapabilityLength {
            code,
            len: data.len(),
        });
    }
    let mut out = Vec::with_capacity(data.len() / size);
    let mut rest = data;
    while !rest.is_empty() {
        let (r, v) = item(rest).map_err(|_| OpenProblem::CapabilityLength {
            code,
            len: data.len(),
        })?;
        rest = r;
        match v {
            Some(v) => out.push(v),
            None => return Ok(None),
        }
    }
    Ok(Some(out))
}

impl Capability {
    /// The capability code.
    pub fn code(&self) -> u8 {
        use Capability::*;
        match self {
            Multiprotocol { .. } => cap_code::MULTIPROTOCOL,
            RouteRefresh => cap_code::ROUTE_REFRESH,
            RouteRefreshCisco => cap_code::ROUTE_REFRESH_CISCO,
            ExtendedNextHop(_) => cap_code::EXTENDED_NEXT_HOP,
            ExtendedMessage => cap_code::EXTENDED_MESSAGE,
            Role(_) => cap_code::ROLE,
            GracefulRestart(_) => cap_code::GRACEFUL_RESTART,
            FourOctetAs(_) => cap_code::FOUR_OCTET_AS,
            AddPath(_) => cap_code::ADD_PATH,
            EnhancedRouteRefresh => cap_code::ENHANCED_ROUTE_REFRESH,
            LongLivedGracefulRestart(_) => cap_code::LONG_LIVED_GRACEFUL_RESTART,
            Fqdn { .. } => cap_code::FQDN,
            Unknown { code, .. } => *code,
        }
    }

    /// Decodes one capability from its code and value.
    pub(crate) fn decode(code: u8, data: &[u8]) -> Result<Capability, OpenProblem> {
        let bad_len = OpenProblem::CapabilityLength {
            code,
            len: data.len(),
        };
        let raw = || Capability::Unknown {
            code,
            data: data.to_vec(),
        };
        let empty = |cap: Capability| {
            if data.is_empty() {
                Ok(cap)
            } else {
                Err(bad_len)
            }
        };
        match code {
            cap_code::MULTIPROTOCOL => match data {
                // AFI (2), reserved (1), SAFI (1).
                [a0, a1, _reserved, s] => Ok(Capability::Multiprotocol {
                    afi: Afi::from_u16(u16::from_be_bytes([*a0, *a1])),
                    safi: Safi::from_u8(*s),
                }),
                _ => Err(bad_len),
            },
            cap_code::ROUTE_REFRESH => empty(Capability::RouteRefresh),
            cap_code::ROUTE_REFRESH_CISCO => empty(Capability::RouteRefreshCisco),
            cap_code::EXTENDED_MESSAGE => empty(Capability::ExtendedMessage),
            cap_code::ENHANCED_ROUTE_REFRESH => empty(Capability::EnhancedRouteRefresh),
            cap_code::ROLE => match data {
                [r] => Ok(Capability::Role(BgpRole::from_u8(*r))),
                _ => Err(bad_len),
            },
            cap_code::FOUR_OCTET_AS => match data {
                [a, b, c, d] => Ok(Capability::FourOctetAs(Asn(u32::from_be_bytes([
                    *a, *b, *c, *d,
                ])))),
                _ => Err(bad_len),
            },
            cap_code::EXTENDED_NEXT_HOP => {
                let v = tuples(data, 6, code, |i| {
                    let (i, nlri_afi) = afi(i)?;
                    let (i, nlri_safi) = be_u16(i)?;
                    let (i, next_hop_afi) = afi(i)?;
                    Ok((
                        i,
                        Some(ExtendedNextHop {
                            nlri_afi,
                            nlri_safi,
                            next_hop_afi,
                        }),
                    ))
                })?;
                Ok(v.map_or_else(raw, Capability::ExtendedNextHop))
            }
            cap_code::ADD_PATH => {
                let v = tuples(data, 4, code, |i| {
                    let (i, afi) = afi(i)?;
                    let (i, safi) = safi(i)?;
                    let (i, mode) = be_u8(i)?;
                    Ok((
                        i,
                        AddPathMode::from_u8(mode).map(|mode| AddPath { afi, safi, mode }),
                    ))
                })?;
                Ok(v.map_or_else(raw, Capability::AddPath))
            }
            cap_code::LONG_LIVED_GRACEFUL_RESTART => {
                let v = tuples(data, 7, code, |i| {
                    let (i, afi) = afi(i)?;
                    let (i, safi) = safi(i)?;
                    let (i, flags) = be_u8(i)?;
                    let (i, stale_time) = be_u24(i)?;
                    // Only the F bit is defined; the others are ignored on receipt.
                    Ok((
                        i,
                        Some(LlgrFamily {
                            afi,
                            safi,
                            forwarding_preserved: flags & 0x80 != 0,
                            stale_time,
                        }),
                    ))
                })?;
                Ok(v.map_or_else(raw, Capability::LongLivedGracefulRestart))
            }
            cap_code::GRACEFUL_RESTART => {
                // RFC 4724 §3: flags (4 bits) and restart time (12 bits), then 4-octet tuples.
                let (head, tail) = match data {
                    [a, b, tail @ ..] => (u16::from_be_bytes([*a, *b]), tail),
                    _ => return Err(bad_len),
                };
                let v = tuples(tail, 4, code, |i| {
                    let (i, afi) = afi(i)?;
                    let (i, safi) = safi(i)?;
                    let (i, flags) = be_u8(i)?;
                    // RFC 4724 §3: reserved flag bits are ignored on receipt.
                    Ok((
                        i,
                        Some(GrFamily {
                            afi,
                            safi,
                            forwarding_preserved: flags & 0x80 != 0,
                        }),
                    ))
                })
                .map_err(|_| bad_len)?;
                // RFC 4724 §3: the two reserved restart flags are ignored on receipt.
                match v {
                    Some(families) => Ok(Capability::GracefulRestart(GracefulRestart {
                        restart_state: head & 0x8000 != 0,
                        notification: head & 0x4000 != 0,
                        restart_time: head & 0x0fff,
                        families,
                    })),
                    None => Ok(raw()),
                }
            }
            cap_code::FQDN => {
                let parsed = (|| {
                    let (i, hl) = be_u8::<_, nom::error::Error<&[u8]>>(data).ok()?;
                    let (host, i) = i.split_at_checked(usize::from(hl))?;
                    let (i, dl) = be_u8::<_, nom::error::Error<&[u8]>>(i).ok()?;
                    let (dom, i) = i.split_at_checked(usize::from(dl))?;
                    Some((host, dom, i.is_empty()))
                })();
                match parsed {
                    Some((host, dom, true)) => {
                        match (std::str::from_utf8(host), std::str::from_utf8(dom)) {
                            (Ok(h), Ok(d)) => Ok(Capability::Fqdn {
                                hostname: h.to_owned(),
                                domain: d.to_owned(),
                            }),
                            _ => Ok(raw()),
                        }
                    }
                    _ => Err(bad_len),
                }
            }
            _ => Ok(raw()),
        }
    }

    /// Appends code, length and value to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let mut value = BytesMut::new();
        self.encode_value(&mut value)?;
        if value.len() > 255 {
            return Err(EncodeError::FieldTooLong {
                field: "capability",
                len: value.len(),
            });
        }
        buf.put_u8(self.code());
        buf.put_u8(value.len() as u8);
        buf.put_slice(&value);
        Ok(())
    }

    /// Length of code + length + value on the wire.
    pub fn encoded_len(&self) -> usize {
        let mut value = BytesMut::new();
        // Errors only for over-long values, whose length we still want to report.
        let _ = self.encode_value(&mut value);
        2 + value.len()
    }

    fn encode_value(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        use Capability::*;
        match self {
            Multiprotocol { afi, safi } => {
                buf.put_u16(afi.to_u16());
                buf.put_u8(0);
                buf.put_u8(safi.to_u8());
            }
            RouteRefresh | RouteRefreshCisco | ExtendedMessage | EnhancedRouteRefresh => {}
            ExtendedNextHop(v) => {
                for e in v {
                    buf.put_u16(e.nlri_afi.to_u16());
                    buf.put_u16(e.nlri_safi);
                    buf.put_u16(e.next_hop_afi.to_u16());
                }
            }
            Role(r) => buf.put_u8(r.to_u8()),
            GracefulRestart(gr) => {
                let mut head = gr.restart_time.min(0x0fff);
                if gr.restart_state {
                    head |= 0x8000;
                }
                if gr.notification {
                    head |= 0x4000;
                }
                buf.put_u16(head);
                for f in &gr.families {
                    buf.put_u16(f.afi.to_u16());
                    buf.put_u8(f.safi.to_u8());
                    buf.put_u8(if f.forwarding_preserved { 0x80 } else { 0 });
                }
            }
            FourOctetAs(asn) => buf.put_u32(asn.0),
            AddPath(v) => {
                for e in v {
                    buf.put_u16(e.afi.to_u16());
                    buf.put_u8(e.safi.to_u8());
                    buf.put_u8(e.mode.to_u8());
                }
            }
            LongLivedGracefulRestart(v) => {
                for e in v {
                    buf.put_u16(e.afi.to_u16());
                    buf.put_u8(e.safi.to_u8());
                    buf.put_u8(if e.forwarding_preserved { 0x80 } else { 0 });
                    let t = e.stale_time.min(0x00ff_ffff);
                    buf.put_slice(&t.to_be_bytes()[1..]);
                }
            }
            Fqdn { hostname, domain } => {
                for (field, s) in [("FQDN host name", hostname), ("FQDN domain name", domain)] {
                    let len = u8::try_from(s.len()).map_err(|_| EncodeError::FieldTooLong {
                        field,
                        len: s.len(),
                    })?;
                    buf.put_u8(len);
                    buf.put_slice(s.as_bytes());
                }
            }
            Unknown { data, .. } => buf.put_slice(data),
        }
        Ok(())
    }
}

/// Decodes the capabilities of one Capabilities optional parameter (RFC 5492 §4): any number of
/// code (1), length (1), value triples. Errors carry the offset within `value`.
pub(crate) fn decode_list(value: &[u8]) -> Result<Vec<Capability>, (OpenProblem, usize)> {
    let mut caps = Vec::new();
    let mut rest = value;
    while let [code, len, tail @ ..] = rest {
        let at = value.len() - rest.len();
        let Some((data, next)) = tail.split_at_checked(usize::from(*len)) else {
            return Err((OpenProblem::CapabilityOverrun { code: *code }, at));
        };
        caps.push(Capability::decode(*code, data).map_err(|p| (p, at))?);
        rest = next;
    }
    if let [code] = rest {
        return Err((
            OpenProblem::CapabilityOverrun { code: *code },
            value.len() - 1,
        ));
    }
    Ok(caps)
}

/// Proptest strategies shared by the OPEN and message tests.
#[cfg(test)]
pub(crate) mod arb {
    use super::*;
    use proptest::prelude::*;

    pub fn afi() -> impl Strategy<Value = Afi> {
        any::<u16>().prop_map(Afi::from_u16)
    }
    pub fn safi() -> impl Strategy<Value = Safi> {
        any::<u8>().prop_map(Safi::from_u8)
    }
    fn mode() -> impl Strategy<Value = AddPathMode> {
        prop_oneof![
            Just(AddPathMode::Receive),
            Just(AddPathMode::Send),
            Just(AddPathMode::Both)
        ]
    }
    const KNOWN: [u8; 12] = [1, 2, 5, 6, 9, 64, 65, 69, 70, 71, 73, 128];

    pub fn capability() -> impl Strategy<Value = Capability> {
        prop_oneof![
            (afi(), safi()).prop_map(|(afi, safi)| Capability::Multiprotocol { afi, safi }),
            Just(Capability::RouteRefresh),
            Just(Capability::RouteRefreshCisco),
            Just(Capability::ExtendedMessage),
            Just(Capability::EnhancedRouteRefresh),
            any::<u8>().prop_map(|r| Capability::Role(BgpRole::from_u8(r))),
            any::<u32>().prop_map(|a| Capability::FourOctetAs(Asn(a))),
            prop::collection::vec(
                (afi(), any::<u16>(), afi()).prop_map(|(nlri_afi, nlri_safi, next_hop_afi)| {
                    ExtendedNextHop {
                        nlri_afi,
                        nlri_safi,
                        next_hop_afi,
                    }
                }),
                0..5
            )
            .prop_map(Capability::ExtendedNextHop),
            prop::collection::vec(
                (afi(), safi(), mode()).prop_map(|(afi, safi, mode)| AddPath { afi, safi, mode }),
                0..5
            )
            .prop_map(Capability::AddPath),
            (
                any::<bool>(),
                any::<bool>(),
                0u16..=0x0fff,
                prop::collection::vec(
                    (afi(), safi(), any::<bool>()).prop_map(|(afi, safi, f)| GrFamily {
                        afi,
                        safi,
                        forwarding_preserved: f
                    }),
                    0..5
                )
            )
                .prop_map(|(r, n, t, families)| Capability::GracefulRestart(
                    GracefulRestart {
                        restart_state: r,
                        notification: n,
                        restart_time: t,
                        families
                    }
                )),
            prop::collection::vec(
                (afi(), safi(), any::<bool>(), 0u32..=0x00ff_ffff).prop_map(
                    |(afi, safi, f, stale_time)| LlgrFamily {
                        afi,
                        safi,
                        forwarding_preserved: f,
                        stale_time
                    }
                ),
                0..5
            )
            .prop_map(Capability::LongLivedGracefulRestart),
            ("[a-z0-9.-]{0,40}", "[a-zé0-9.-]{0,40}")
                .prop_map(|(hostname, domain)| Capability::Fqdn { hostname, domain }),
            (
                any::<u8>().prop_filter("unknown code", |c| !KNOWN.contains(c)),
                prop::collection::vec(any::<u8>(), 0..20)
            )
                .prop_map(|(code, data)| Capability::Unknown { code, data }),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn roundtrip(hex_in: &str) -> Capability {
        let bytes = hex::decode(hex_in).unwrap();
        let caps = decode_list(&bytes).unwrap();
        assert_eq!(caps.len(), 1);
        let mut out = BytesMut::new();
        caps[0].encode(&mut out).unwrap();
        assert_eq!(hex::encode(&out), hex_in);
        caps[0].clone()
    }

    #[test]
    fn decodes_each_known_capability() {
        // 01 len 4: AFI 2 (IPv6), reserved, SAFI 1.
        assert_eq!(
            roundtrip("010400020001"),
            Capability::Multiprotocol {
                afi: Afi::Ipv6,
                safi: Safi::Unicast
            }
        );
        assert_eq!(roundtrip("0200"), Capability::RouteRefresh);
        assert_eq!(roundtrip("8000"), Capability::RouteRefreshCisco);
        assert_eq!(roundtrip("4600"), Capability::EnhancedRouteRefresh);
        assert_eq!(roundtrip("0600"), Capability::ExtendedMessage);
        // 09 len 1: role 3 = customer.
        assert_eq!(roundtrip("090103"), Capability::Role(BgpRole::Customer));
        // 41 len 4: AS 4200000000.
        assert_eq!(
            roundtrip("4104fa56ea00"),
            Capability::FourOctetAs(Asn(4_200_000_000))
        );
        // 05 len 6: NLRI AFI 1, NLRI SAFI 1 (2 octets), next-hop AFI 2.
        assert_eq!(
            roundtrip("0506000100010002"),
            Capability::ExtendedNextHop(vec![ExtendedNextHop {
                nlri_afi: Afi::Ipv4,
                nlri_safi: 1,
                next_hop_afi: Afi::Ipv6
            }])
        );
        // 45 len 8: (AFI 1, SAFI 1, receive) (AFI 2, SAFI 1, send).
        assert_eq!(
            roundtrip("45080001010100020102"),
            Capability::AddPath(vec![
                AddPath {
                    afi: Afi::Ipv4,
                    safi: Safi::Unicast,
                    mode: AddPathMode::Receive
                },
                AddPath {
                    afi: Afi::Ipv6,
                    safi: Safi::Unicast,
                    mode: AddPathMode::Send
                },
            ])
        );
        // 40 len 6: flags R+N (0xc), restart time 0x078 = 120; AFI 1 SAFI 1 F-bit.
        assert_eq!(
            roundtrip("4006c07800010180"),
            Capability::GracefulRestart(GracefulRestart {
                restart_state: true,
                notification: true,
                restart_time: 120,
                families: vec![GrFamily {
                    afi: Afi::Ipv4,
                    safi: Safi::Unicast,
                    forwarding_preserved: true
                }]
            })
        );
        // 47 len 7: AFI 2, SAFI 1, F-bit, stale time 0x000e10 = 3600.
        assert_eq!(
            roundtrip("470700020180000e10"),
            Capability::LongLivedGracefulRestart(vec![LlgrFamily {
                afi: Afi::Ipv6,
                safi: Safi::Unicast,
                forwarding_preserved: true,
                stale_time: 3600
            }])
        );
        // 49 len 12: host "node1" (5), domain "lab.x" (5).
        assert_eq!(
            roundtrip("490c056e6f646531056c61622e78"),
            Capability::Fqdn {
                hostname: "node1".into(),
                domain: "lab.x".into()
            }
        );
        // Unknown code 0x83, two octets kept raw.
        assert_eq!(
            roundtrip("8302abcd"),
            Capability::Unknown {
                code: 0x83,
                data: vec![0xab, 0xcd]
            }
        );
    }

    #[test]
    fn undefined_values_are_kept_raw() {
        // ADD-PATH mode 0 is not defined: the capability stays raw.
        assert!(matches!(
            roundtrip("450400010100"),
            Capability::Unknown { code: 69, .. }
        ));
        // FQDN host name that is not UTF-8.
        assert!(matches!(
            roundtrip("490401ff0100"),
            Capability::Unknown { code: 73, .. }
        ));
    }

    #[test]
    fn reserved_graceful_restart_bits_are_ignored() {
        // Restart flags 0x3 (reserved) with time 120; AFI 1 SAFI 1 flags 0x7f (reserved).
        let caps = decode_list(&hex::decode("400630780001017f").unwrap()).unwrap();
        assert_eq!(
            caps,
            vec![Capability::GracefulRestart(GracefulRestart {
                restart_state: false,
                notification: false,
                restart_time: 120,
                families: vec![GrFamily {
                    afi: Afi::Ipv4,
                    safi: Safi::Unicast,
                    forwarding_preserved: false
                }]
            })]
        );
        // LLGR flags 0x7f: reserved, ignored.
        let caps = decode_list(&hex::decode("47070001017f000e10").unwrap()).unwrap();
        assert!(
            matches!(&caps[0], Capability::LongLivedGracefulRestart(v) if v[0].stale_time == 3600)
        );
    }

    #[test]
    fn wrong_lengths_of_known_capabilities_are_errors() {
        for (hex_in, at) in [
            ("010300010001", 0),   // MP with length 3
            ("0201ff", 0),         // route refresh with a value
            ("410300fde9", 0),     // 4-octet AS with length 3
            ("4505000101030a", 0), // ADD-PATH not a multiple of 4
            ("400100", 0),         // GR shorter than the flags/time field
            ("0200", usize::MAX),  // (valid: guard for the loop below)
        ] {
            let bytes = hex::decode(hex_in).unwrap();
            let r = decode_list(&bytes);
            if at == usize::MAX {
                assert!(r.is_ok());
            } else {
                assert!(
                    matches!(r, Err((OpenProblem::CapabilityLength { .. }, 0))),
                    "{hex_in}"
                );
            }
        }
        // Overrun: length 4 but 2 octets left.
        assert_eq!(
            decode_list(&hex::decode("02000104aabb").unwrap()),
            Err((OpenProblem::CapabilityOverrun { code: 1 }, 2))
        );
    }

    #[test]
    fn roles_match_per_rfc_9234_table() {
        assert!(BgpRole::Provider.matches_peer(BgpRole::Customer));
        assert!(BgpRole::Peer.matches_peer(BgpRole::Peer));
        assert!(BgpRole::RouteServer.matches_peer(BgpRole::RouteServerClient));
        assert!(!BgpRole::Provider.matches_peer(BgpRole::Provider));
        assert!(!BgpRole::Customer.matches_peer(BgpRole::Peer));
    }

    proptest! {
        #[test]
        fn capability_roundtrips(cap in arb::capability()) {
            let mut out = BytesMut::new();
            cap.encode(&mut out).unwrap();
            prop_assert_eq!(out.len(), cap.encoded_len());
            let back = decode_list(&out).unwrap();
            prop_assert_eq!(back, vec![cap]);
        }

        #[test]
        fn capability_list_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode_list(&bytes);
        }
    }
}
