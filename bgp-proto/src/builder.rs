//! Packing routes into complete UPDATE messages (19-octet header included) under the session's
//! size limit (RFC 4271 §4.1: 4096 octets; RFC 8654: 65535).
//!
//! The attribute set is encoded once ([`EncodedAttributes`]) and copied into every message, so
//! an update group pays one encode per attribute set, not one per message or per peer.
//! MP_REACH_NLRI / MP_UNREACH_NLRI are written first (RFC 7606 §5.1), with a one-octet length
//! unless the value exceeds 255 octets.

use bytes::{BufMut, Bytes, BytesMut};

use crate::attribute::{flags, type_code, MpNextHop, PathAttributes};
use crate::context::SessionContext;
use crate::nlri::{self, NlriEntry};
use crate::types::Family;
use crate::update::{UpdateEncodeError, HEADER_LEN};

/// BGP message type of UPDATE (RFC 4271 §4.1).
const UPDATE_TYPE: u8 = 2;
/// Header, Withdrawn Routes Length and Total Path Attribute Length.
const EMPTY_UPDATE_LEN: usize = HEADER_LEN + 4;

/// Why messages could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Encode(#[from] UpdateEncodeError),
    #[error("attributes leave no room for a {needed}-octet prefix in a {max}-octet message")]
    NoRoom { needed: usize, max: usize },
    #[error("prefix of {got} given where {expected} was expected")]
    WrongFamily { expected: Family, got: Family },
    #[error("attributes encoded for a session with a different AS number width")]
    AsWidthMismatch,
}

/// A path attribute set encoded for one session context (AS_PATH width depends on it).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EncodedAttributes {
    bytes: Bytes,
    four_octet_as: bool,
}

impl EncodedAttributes {
    /// Encode `attrs` for sessions with `ctx`'s AS number width.
    pub fn new(attrs: &PathAttributes, ctx: &SessionContext) -> Result<Self, UpdateEncodeError> {
        let mut b = BytesMut::new();
        attrs.encode(ctx, &mut b)?;
        Ok(EncodedAttributes {
            bytes: b.freeze(),
            four_octet_as: ctx.four_octet_as,
        })
    }

    /// The encoded attributes (flags, type, length, value for each).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Whether AS numbers were written with 4 octets.
    pub fn four_octet_as(&self) -> bool {
        self.four_octet_as
    }
}

/// Where announced prefixes go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Announce {
    /// IPv4 unicast in the NLRI field; the attribute set must carry NEXT_HOP.
    Ipv4Classic,
    /// Prefixes of `family` in MP_REACH_NLRI with `next_hop` (IPv6, or IPv4 with an IPv6 next
    /// hop per RFC 8950).
    Mp { family: Family, next_hop: MpNextHop },
}

/// Where withdrawn prefixes go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Withdraw {
    /// IPv4 unicast in the Withdrawn Routes field.
    Ipv4Classic,
    /// Prefixes of the family in MP_UNREACH_NLRI.
    Mp(Family),
}

fn begin(out: &mut BytesMut) -> usize {
    let start = out.len();
    out.put_slice(&[0xff; 16]);
    out.put_u16(0); // length, set by `finish_header`
    out.put_u8(UPDATE_TYPE);
    start
}

fn finish_header(out: &mut BytesMut, start: usize) {
    let len = (out.len() - start) as u16;
    out[start + 16..start + 18].copy_from_slice(&len.to_be_bytes());
}

/// Close an MP attribute opened with a 2-octet length at `len_pos`, shrinking it to a 1-octet
/// length when the value fits.
fn close_mp_attr(out: &mut BytesMut, len_pos: usize) {
    let vlen = out.len() - len_pos - 2;
    if vlen > 255 {
        out[len_pos..len_pos + 2].copy_from_slice(&(vlen as u16).to_be_bytes());
    } else {
        out[len_pos - 2] &= !flags::EXTENDED_LENGTH;
        out[len_pos] = vlen as u8;
        out.copy_within(len_pos + 2.., len_pos + 1);
        out.truncate(out.len() - 1);
    }
}

fn check_family(expected: Family, e: &NlriEntry) -> Result<(), BuildError> {
    let got = e.family();
    if got == expected {
        Ok(())
    } else {
        Err(BuildError::WrongFamily { expected, got })
    }
}

/// Append to `out` as many UPDATE messages as needed to announce `entries` with `attrs`;
/// returns the number of messages. Path identifiers are written when the session sends
/// ADD-PATH for the family (0 for entries without one).
pub fn announce_into(
    ctx: &SessionContext,
    attrs: &EncodedAttributes,
    how: Announce,
    entries: impl IntoIterator<Item = NlriEntry>,
    out: &mut BytesMut,
) -> Result<usize, BuildError> {
    if attrs.four_octet_as != ctx.four_octet_as {
        return Err(BuildError::AsWidthMismatch);
    }
    let max = ctx.max_message_len();
    let family = match how {
        Announce::Ipv4Classic => Family::Ipv4Unicast,
        Announce::Mp { family, .. } => family,
    };
    let add_path = ctx.add_path_tx(family);
    let a = attrs.as_bytes();
    let fixed = EMPTY_UPDATE_LEN
        + a.len()
        + match how {
            Announce::Ipv4Classic => 0,
            // flags, type, 2-octet length, AFI, SAFI, next hop length, next hop, reserved
            Announce::Mp { next_hop, .. } => 4 + 4 + next_hop.wire_len() + 1,
        };
    let base = out.len();
    // (message start, MP_REACH length position)
    let mut open: Option<(usize, usize)> = None;
    let mut count = 0;
    let finish = |out: &mut BytesMut, (start, mp_len_pos): (usize, usize)| {
        if let Announce::Mp { .. } = how {
            close_mp_attr(out, mp_len_pos);
            out.put_slice(a);
        }
        let alen = match how {
            Announce::Ipv4Classic => a.len(),
            Announce::Mp { .. } => out.len() - start - EMPTY_UPDATE_LEN,
        };
        out[start + 21..start + 23].copy_from_slice(&(alen as u16).to_be_bytes());
        finish_header(out, start);
    };
    for e in entries {
        if let Err(err) = check_family(family, &e) {
            out.truncate(base);
            return Err(err);
        }
        let n = e.wire_len(add_path);
        if fixed + n > max {
            out.truncate(base);
            return Err(BuildError::NoRoom { needed: n, max });
        }
        if let Some(m) = open {
            // The message so far plus, for MP, the attributes still to come.
            let pending = match how {
                Announce::Ipv4Classic => 0,
                Announce::Mp { .. } => a.len(),
            };
            if out.len() - m.0 + pending + n > max {
                finish(out, m);
                count += 1;
                open = None;
            }
        }
        if open.is_none() {
            let start = begin(out);
            out.put_u16(0); // Withdrawn Routes Length
            out.put_u16(0); // Total Path Attribute Length, set by `finish`
            let mut mp_len_pos = 0;
            match how {
                Announce::Ipv4Classic => out.put_slice(a),
                Announce::Mp { family, next_hop } => {
                    out.put_u8(flags::OPTIONAL | flags::EXTENDED_LENGTH);
                    out.put_u8(type_code::MP_REACH_NLRI);
                    mp_len_pos = out.len();
                    out.put_u16(0);
                    out.put_u16(family.afi().to_u16());
                    out.put_u8(family.safi().to_u8());
                    next_hop.encode(out);
                    out.put_u8(0); // Reserved
                }
            }
            open = Some((start, mp_len_pos));
        }
        nlri::encode_entry(&e, add_path, out);
    }
    if let Some(m) = open {
        finish(out, m);
        count += 1;
    }
    Ok(count)
}

/// Append to `out` as many UPDATE messages as needed to withdraw `entries`; returns the number
/// of messages.
pub fn withdraw_into(
    ctx: &SessionContext,
    how: Withdraw,
    entries: impl IntoIterator<Item = NlriEntry>,
    out: &mut BytesMut,
) -> Result<usize, BuildError> {
    let max = ctx.max_message_len();
    let family = match how {
        Withdraw::Ipv4Classic => Family::Ipv4Unicast,
        Withdraw::Mp(f) => f,
    };
    let add_path = ctx.add_path_tx(family);
    let fixed = EMPTY_UPDATE_LEN
        + match how {
            Withdraw::Ipv4Classic => 0,
            Withdraw::Mp(_) => 4 + 3,
        };
    let base = out.len();
    let mut open: Option<usize> = None;
    let mut count = 0;
    let finish = |out: &mut BytesMut, start: usize| {
        match how {
            Withdraw::Ipv4Classic => {
                let wlen = out.len() - start - HEADER_LEN - 2;
                out[start + 19..start + 21].copy_from_slice(&(wlen as u16).to_be_bytes());
                out.put_u16(0); // Total Path Attribute Length
            }
            Withdraw::Mp(_) => {
                close_mp_attr(out, start + EMPTY_UPDATE_LEN + 2);
                let alen = out.len() - start - EMPTY_UPDATE_LEN;
                out[start + 21..start + 23].copy_from_slice(&(alen as u16).to_be_bytes());
            }
        }
        finish_header(out, start);
    };
    for e in entries {
        if let Err(err) = check_family(family, &e) {
            out.truncate(base);
            return Err(err);
        }
        let n = e.wire_len(add_path);
        if let Some(start) = open {
            if out.len() - start + n + 2 > max {
                finish(out, start);
                count += 1;
                open = None;
            }
        }
        if open.is_none() {
            if fixed + n > max {
                out.truncate(base);
                return Err(BuildError::NoRoom { needed: n, max });
            }
            let start = begin(out);
            out.put_u16(0); // Withdrawn Routes Length
            if let Withdraw::Mp(f) = how {
                out.put_u16(0); // Total Path Attribute Length
                out.put_u8(flags::OPTIONAL | flags::EXTENDED_LENGTH);
                out.put_u8(type_code::MP_UNREACH_NLRI);
                out.put_u16(0);
                out.put_u16(f.afi().to_u16());
                out.put_u8(f.safi().to_u8());
            }
            open = Some(start);
        }
        nlri::encode_entry(&e, add_path, out);
    }
    if let Some(start) = open {
        finish(out, start);
        count += 1;
    }
    Ok(count)
}

/// Append the End-of-RIB marker of `family` (RFC 4724 §2): an empty UPDATE (23 octets) for
/// IPv4 unicast, an UPDATE with an empty MP_UNREACH_NLRI (29 octets) otherwise.
pub fn end_of_rib_into(family: Family, out: &mut BytesMut) {
    let start = begin(out);
    out.put_u16(0);
    match family {
        Family::Ipv4Unicast => out.put_u16(0),
        f => {
            out.put_u16(6);
            out.put_u8(flags::OPTIONAL);
            out.put_u8(type_code::MP_UNREACH_NLRI);
            out.put_u8(3);
            out.put_u16(f.afi().to_u16());
            out.put_u8(f.safi().to_u8());
        }
    }
    finish_header(out, start);
}

/// Split a buffer of complete messages into one `Bytes` per message (no copy).
fn split_messages(mut buf: BytesMut) -> Vec<Bytes> {
    let mut v = Vec::new();
    while buf.len() >= HEADER_LEN {
        let len = usize::from(u16::from_be_bytes([buf[16], buf[17]]));
        v.push(buf.split_to(len).freeze());
    }
    v
}

/// [`announce_into`], one `Bytes` per message.
pub fn announce(
    ctx: &SessionContext,
    attrs: &EncodedAttributes,
    how: Announce,
    entries: impl IntoIterator<Item = NlriEntry>,
) -> Result<Vec<Bytes>, BuildError> {
    let mut buf = BytesMut::new();
    announce_into(ctx, attrs, how, entries, &mut buf)?;
    Ok(split_messages(buf))
}

/// [`withdraw_into`], one `Bytes` per message.
pub fn withdraw(
    ctx: &SessionContext,
    how: Withdraw,
    entries: impl IntoIterator<Item = NlriEntry>,
) -> Result<Vec<Bytes>, BuildError> {
    let mut buf = BytesMut::new();
    withdraw_into(ctx, how, entries, &mut buf)?;
    Ok(split_messages(buf))
}

/// [`end_of_rib_into`] as one message.
pub fn end_of_rib(family: Family) -> Bytes {
    let mut buf = BytesMut::with_capacity(29);
    end_of_rib_into(family, &mut buf);
    buf.freeze()
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use ipnet::{IpNet, Ipv4Net, Ipv6Net};

    use super::*;
    use crate::attribute::{AsPath, Community, Origin};
    use crate::types::Asn;
    use crate::update::Update;

    fn attrs(next_hop: bool) -> PathAttributes {
        PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::from_sequence([Asn(65001)])),
            next_hop: next_hop.then(|| Ipv4Addr::new(10, 99, 0, 1)),
            communities: Some(vec![Community::new(65000, 1)]),
            ..PathAttributes::default()
        }
    }

    fn v4(n: u32, path_id: Option<u32>) -> Vec<NlriEntry> {
        (0..n)
            .map(|i| NlriEntry {
                path_id: path_id.map(|p| p + i),
                prefix: IpNet::V4(Ipv4Net::new(Ipv4Addr::from((10 << 24) | (i << 8)), 24).unwrap()),
            })
            .collect()
    }

    fn v6(n: u32) -> Vec<NlriEntry> {
        (0..n)
            .map(|i| {
                let a = (0x2001_0db8u128 << 96) | (u128::from(i) << 64);
                NlriEntry::new(IpNet::V6(Ipv6Net::new(Ipv6Addr::from(a), 64).unwrap()))
            })
            .collect()
    }

    /// Decode every message, check its size, and collect (family, entry) of the given kind.
    fn decode_all(
        msgs: &[Bytes],
        ctx: &SessionContext,
        announced: bool,
    ) -> Vec<(Family, NlriEntry)> {
        let mut got = Vec::new();
        for m in msgs {
            assert!(
                m.len() <= ctx.max_message_len(),
                "message of {} octets",
                m.len()
            );
            assert_eq!(&m[..16], &[0xff; 16]);
            assert_eq!(usize::from(u16::from_be_bytes([m[16], m[17]])), m.len());
            assert_eq!(m[18], 2);
            let u = Update::decode(&m[HEADER_LEN..], ctx).unwrap();
            assert!(u.malformations.is_empty(), "{:?}", u.malformations);
            // Our own messages re-encode identically.
            let mut re = BytesMut::new();
            u.encode(ctx, &mut re).unwrap();
            assert_eq!(&re[..], &m[HEADER_LEN..]);
            if announced {
                got.extend(u.announced().map(|(f, e)| (f, *e)));
            } else {
                got.extend(u.withdrawals().map(|(f, e)| (f, *e)));
            }
        }
        got
    }

    #[test]
    fn packs_ipv4_classic_under_4096_and_returns_every_prefix() {
        let ctx = SessionContext {
            four_octet_as: true,
            ..SessionContext::default()
        };
        let enc = EncodedAttributes::new(&attrs(true), &ctx).unwrap();
        let want = v4(3000, None);
        let msgs = announce(&ctx, &enc, Announce::Ipv4Classic, want.iter().copied()).unwrap();
        // 4 octets per /24: (4096 - 23 - attrs) / 4 ≈ 1010 per message → 3 messages.
        assert_eq!(msgs.len(), 3);
        assert!(msgs[0].len() > 4090);
        let got = decode_all(&msgs, &ctx, true);
        assert_eq!(got.len(), 3000);
        assert!(got.iter().map(|(_, e)| *e).eq(want.iter().copied()));
    }

    #[test]
    fn packs_ipv6_in_mp_reach_with_add_path_and_extended_message() {
        for ext in [false, true] {
            let ctx = SessionContext {
                four_octet_as: true,
                add_path_tx_v6: true,
                add_path_rx_v6: true,
                extended_message: ext,
                ..SessionContext::default()
            };
            let enc = EncodedAttributes::new(&attrs(false), &ctx).unwrap();
            let want: Vec<_> = v6(20_000)
                .into_iter()
                .enumerate()
                .map(|(i, mut e)| {
                    e.path_id = Some(i as u32);
                    e
                })
                .collect();
            let nh = MpNextHop::Ipv6 {
                global: "fd99::1".parse().unwrap(),
                link_local: Some("fe80::1".parse().unwrap()),
            };
            let how = Announce::Mp {
                family: Family::Ipv6Unicast,
                next_hop: nh,
            };
            let msgs = announce(&ctx, &enc, how, want.iter().copied()).unwrap();
            let got = decode_all(&msgs, &ctx, true);
            assert!(got.iter().all(|(f, _)| *f == Family::Ipv6Unicast));
            assert!(got.iter().map(|(_, e)| *e).eq(want.iter().copied()));
            // 13 octets per entry: a full message holds ~ (max - 100) / 13 of them.
            let per = (ctx.max_message_len() - 100) / 13;
            assert!(msgs.len() <= 20_000 / per + 1, "{} messages", msgs.len());
        }
    }

    #[test]
    fn packs_ipv4_with_ipv6_next_hop_rfc8950() {
        let ctx = SessionContext {
            extended_next_hop_v4: true,
            ..SessionContext::default()
        };
        let enc = EncodedAttributes::new(&attrs(false), &ctx).unwrap();
        let how = Announce::Mp {
            family: Family::Ipv4Unicast,
            next_hop: MpNextHop::Ipv6 {
                global: "fd99::1".parse().unwrap(),
                link_local: None,
            },
        };
        let want = v4(10, None);
        let msgs = announce(&ctx, &enc, how, want.iter().copied()).unwrap();
        assert_eq!(msgs.len(), 1);
        let got = decode_all(&msgs, &ctx, true);
        assert!(got.iter().all(|(f, _)| *f == Family::Ipv4Unicast));
        assert_eq!(got.len(), 10);
    }

    #[test]
    fn withdrawals_pack_and_decode_back() {
        let ctx = SessionContext {
            add_path_tx_v4: true,
            add_path_rx_v4: true,
            ..SessionContext::default()
        };
        let want = v4(2500, Some(1));
        let msgs = withdraw(&ctx, Withdraw::Ipv4Classic, want.iter().copied()).unwrap();
        let got = decode_all(&msgs, &ctx, false);
        assert!(got.iter().map(|(_, e)| *e).eq(want.iter().copied()));
        assert_eq!(msgs.len(), 2500 * 8 / (4096 - 23) + 1);

        let want6 = v6(1000);
        let msgs = withdraw(
            &ctx,
            Withdraw::Mp(Family::Ipv6Unicast),
            want6.iter().copied(),
        )
        .unwrap();
        let got = decode_all(&msgs, &ctx, false);
        assert!(got.iter().map(|(_, e)| *e).eq(want6.iter().copied()));
        // A small MP_UNREACH uses a one-octet attribute length.
        let msgs = withdraw(&ctx, Withdraw::Mp(Family::Ipv6Unicast), v6(2)).unwrap();
        assert_eq!(msgs[0][HEADER_LEN + 4], flags::OPTIONAL);
    }

    #[test]
    fn end_of_rib_markers_have_rfc4724_shape() {
        let ctx = SessionContext::default();
        let v4 = end_of_rib(Family::Ipv4Unicast);
        assert_eq!(v4.len(), 23);
        let v6 = end_of_rib(Family::Ipv6Unicast);
        assert_eq!(
            hex::encode(&v6),
            "ffffffffffffffffffffffffffffffff001d02 0000 0006 800f03 0002 01".replace(' ', "")
        );
        for (m, f) in [(v4, Family::Ipv4Unicast), (v6, Family::Ipv6Unicast)] {
            let u = Update::decode(&m[HEADER_LEN..], &ctx).unwrap();
            assert_eq!(u.end_of_rib(), Some(f));
        }
    }

    #[test]
    fn rejects_mixed_families_and_oversized_attributes() {
        let ctx = SessionContext::default();
        let enc = EncodedAttributes::new(&attrs(true), &ctx).unwrap();
        let mut out = BytesMut::new();
        let err = announce_into(&ctx, &enc, Announce::Ipv4Classic, v6(1), &mut out);
        assert!(matches!(err, Err(BuildError::WrongFamily { .. })));
        assert!(out.is_empty());
        let ctx4 = SessionContext {
            four_octet_as: true,
            ..ctx
        };
        let err = announce(&ctx4, &enc, Announce::Ipv4Classic, v4(1, None));
        assert_eq!(err, Err(BuildError::AsWidthMismatch));
        let mut big = attrs(true);
        big.communities = Some((0..1100).map(Community).collect());
        let enc = EncodedAttributes::new(&big, &ctx).unwrap();
        let err = announce(&ctx, &enc, Announce::Ipv4Classic, v4(1, None));
        assert!(matches!(err, Err(BuildError::NoRoom { .. })));
    }
}
