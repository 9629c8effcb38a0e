//! NLRI encoding (RFC 4271 §4.3, RFC 4760 §5, RFC 7911 §3): `[path id] length prefix-octets`.
//!
//! [`NlriIter`] walks an NLRI field without allocating, for the per-prefix hot path; the
//! [`Update`](crate::update::Update) decoder collects it into a `Vec`.
//!
//! Host bits past the prefix length are masked on decode (RFC 4271 §4.3 says they are
//! irrelevant), so a decoded [`Prefix`] always has them zero.

use std::net::{Ipv4Addr, Ipv6Addr};

use bytes::{BufMut, BytesMut};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use crate::types::{Family, Prefix};

/// One NLRI entry: an optional ADD-PATH path identifier (RFC 7911) and a prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NlriEntry {
    pub path_id: Option<u32>,
    pub prefix: Prefix,
}

impl NlriEntry {
    /// An entry without path identifier.
    pub fn new(prefix: Prefix) -> Self {
        NlriEntry {
            path_id: None,
            prefix,
        }
    }

    /// The address family of the prefix (IPv4 or IPv6 unicast).
    pub fn family(&self) -> Family {
        family_of(&self.prefix)
    }

    /// Octets this entry takes on the wire with or without a path identifier.
    pub fn wire_len(&self, add_path: bool) -> usize {
        let id = if add_path { 4 } else { 0 };
        id + 1 + usize::from(self.prefix.prefix_len()).div_ceil(8)
    }
}

/// The family a prefix belongs to.
pub fn family_of(prefix: &Prefix) -> Family {
    match prefix {
        IpNet::V4(_) => Family::Ipv4Unicast,
        IpNet::V6(_) => Family::Ipv6Unicast,
    }
}

/// Why an NLRI field could not be parsed (RFC 7606 §5.3: such a field cannot be trusted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NlriErrorKind {
    /// The prefix length exceeds 32 (IPv4) or 128 (IPv6).
    PrefixTooLong(u8),
    /// The prefix (or path identifier) runs past the end of the field.
    Overrun,
}

impl std::fmt::Display for NlriErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NlriErrorKind::PrefixTooLong(n) => write!(f, "prefix length {n} too long"),
            NlriErrorKind::Overrun => f.write_str("prefix runs past the end of the field"),
        }
    }
}

/// An NLRI parse error with its offset relative to the start of the NLRI field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NlriError {
    pub kind: NlriErrorKind,
    pub offset: usize,
}

/// A zero-allocation iterator over the entries of one NLRI field. It yields `Err` once at the
/// first malformed entry and then stops.
#[derive(Debug, Clone)]
pub struct NlriIter<'a> {
    buf: &'a [u8],
    pos: usize,
    family: Family,
    add_path: bool,
    failed: bool,
}

impl<'a> NlriIter<'a> {
    /// Iterate `buf`, an NLRI field of `family`, with path identifiers if `add_path`.
    pub fn new(buf: &'a [u8], family: Family, add_path: bool) -> Self {
        NlriIter {
            buf,
            pos: 0,
            family,
            add_path,
            failed: false,
        }
    }

    fn fail(&mut self, kind: NlriErrorKind, offset: usize) -> Option<Result<NlriEntry, NlriError>> {
        self.failed = true;
        Some(Err(NlriError { kind, offset }))
    }
}

impl Iterator for NlriIter<'_> {
    type Item = Result<NlriEntry, NlriError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.buf.len() {
            return None;
        }
        let start = self.pos;
        let rest = &self.buf[start..];
        let (path_id, rest) = if self.add_path {
            match rest {
                [a, b, c, d, tail @ ..] => (Some(u32::from_be_bytes([*a, *b, *c, *d])), tail),
                _ => return self.fail(NlriErrorKind::Overrun, start),
            }
        } else {
            (None, rest)
        };
        let Some((&len, rest)) = rest.split_first() else {
            return self.fail(NlriErrorKind::Overrun, start);
        };
        let max = match self.family {
            Family::Ipv4Unicast => 32,
            Family::Ipv6Unicast => 128,
        };
        if len > max {
            return self.fail(NlriErrorKind::PrefixTooLong(len), start);
        }
        let n = usize::from(len).div_ceil(8);
        if rest.len() < n {
            return self.fail(NlriErrorKind::Overrun, start);
        }
        let octets = &rest[..n];
        let prefix = match self.family {
            Family::Ipv4Unicast => {
                let mut a = [0u8; 4];
                a[..n].copy_from_slice(octets);
                let addr = u32::from_be_bytes(a) & mask32(len);
                IpNet::V4(Ipv4Net::new_assert(Ipv4Addr::from(addr), len))
            }
            Family::Ipv6Unicast => {
                let mut a = [0u8; 16];
                a[..n].copy_from_slice(octets);
                let addr = u128::from_be_bytes(a) & mask128(len);
                IpNet::V6(Ipv6Net::new_assert(Ipv6Addr::from(addr), len))
            }
        };
        self.pos = start + (self.buf.len() - start - rest.len()) + n;
        Some(Ok(NlriEntry { path_id, prefix }))
    }
}

#[inline]
fn mask32(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len))
    }
}

#[inline]
fn mask128(len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len))
    }
}

/// Parse a whole NLRI field into `out`.
pub fn decode_into(
    buf: &[u8],
    family: Family,
    add_path: bool,
    out: &mut Vec<NlriEntry>,
) -> Result<(), NlriError> {
    // One growth step for typical fields (/24s: 4 octets; /64s: 9), none per prefix.
    let typical = match (family, add_path) {
        (Family::Ipv4Unicast, false) => 4,
        (Family::Ipv4Unicast, true) => 8,
        (Family::Ipv6Unicast, false) => 9,
        (Family::Ipv6Unicast, true) => 13,
    };
    out.reserve(buf.len() / typical);
    for e in NlriIter::new(buf, family, add_path) {
        out.push(e?);
    }
    Ok(())
}

/// Append one entry. `add_path` decides whether the path identifier is written (0 when the
/// entry has none).
pub fn encode_entry(entry: &NlriEntry, add_path: bool, buf: &mut BytesMut) {
    if add_path {
        buf.put_u32(entry.path_id.unwrap_or(0));
    }
    let len = entry.prefix.prefix_len();
    buf.put_u8(len);
    let n = usize::from(len).div_ceil(8);
    match entry.prefix.network() {
        std::net::IpAddr::V4(a) => buf.put_slice(&a.octets()[..n]),
        std::net::IpAddr::V6(a) => buf.put_slice(&a.octets()[..n]),
    }
}

/// Append every entry of `entries` (all must be of the same family).
pub fn encode_all(entries: &[NlriEntry], add_path: bool, buf: &mut BytesMut) {
    for e in entries {
        encode_entry(e, add_path, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Prefix {
        s.parse().unwrap()
    }

    #[test]
    fn decodes_ipv4_prefixes_and_masks_host_bits() {
        let bytes = [
            24, 10, 0, 1, // 10.0.1.0/24
            0, // 0.0.0.0/0
            26, 10, 64, 75, 0x7f, // 10.64.75.127/26 → host bits masked to .64
            32, 192, 0, 2, 1, // 192.0.2.1/32
        ];
        let v: Vec<_> = NlriIter::new(&bytes, Family::Ipv4Unicast, false)
            .collect::<Result<_, _>>()
            .unwrap();
        let want: Vec<_> = ["10.0.1.0/24", "0.0.0.0/0", "10.64.75.64/26", "192.0.2.1/32"]
            .iter()
            .map(|s| NlriEntry::new(p(s)))
            .collect();
        assert_eq!(v, want);
    }

    #[test]
    fn decodes_add_path_ipv6() {
        let bytes = [
            0, 0, 0, 7, // path id 7
            64, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, // 2001:db8:1::/64
        ];
        let v: Vec<_> = NlriIter::new(&bytes, Family::Ipv6Unicast, true)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            v,
            vec![NlriEntry {
                path_id: Some(7),
                prefix: p("2001:db8:1::/64")
            }]
        );
        let mut out = BytesMut::new();
        encode_all(&v, true, &mut out);
        assert_eq!(&out[..], &bytes[..]);
    }

    #[test]
    fn rejects_too_long_and_overrun() {
        let mut it = NlriIter::new(
            &[24, 10, 0, 0, 33, 1, 2, 3, 4, 5],
            Family::Ipv4Unicast,
            false,
        );
        assert!(it.next().unwrap().is_ok());
        assert_eq!(
            it.next().unwrap(),
            Err(NlriError {
                kind: NlriErrorKind::PrefixTooLong(33),
                offset: 4
            })
        );
        assert!(it.next().is_none());
        let mut it = NlriIter::new(&[24, 10, 0], Family::Ipv4Unicast, false);
        assert_eq!(it.next().unwrap().unwrap_err().kind, NlriErrorKind::Overrun);
        let mut it = NlriIter::new(&[0, 0, 1], Family::Ipv4Unicast, true);
        assert_eq!(it.next().unwrap().unwrap_err().kind, NlriErrorKind::Overrun);
        let mut it = NlriIter::new(&[129], Family::Ipv6Unicast, false);
        assert_eq!(
            it.next().unwrap().unwrap_err().kind,
            NlriErrorKind::PrefixTooLong(129)
        );
    }
}
