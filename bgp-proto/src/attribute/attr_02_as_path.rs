//! AS_PATH (type 2, RFC 4271 §5.1.2, RFC 5065 §3 confederation segments) and AS4_PATH
//! (type 17, RFC 6793 §3), with the RFC 6793 §4.2.3 merge that rebuilds the real path on a
//! session with a 2-octet-only peer.

use bytes::{BufMut, BytesMut};
use nom::number::complete::{be_u16, be_u32, be_u8};

use crate::types::Asn;
use crate::update::Reason;

/// Path segment type (RFC 4271 §4.3, RFC 5065 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SegmentType {
    Set,
    Sequence,
    ConfedSequence,
    ConfedSet,
}

impl SegmentType {
    pub fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            1 => SegmentType::Set,
            2 => SegmentType::Sequence,
            3 => SegmentType::ConfedSequence,
            4 => SegmentType::ConfedSet,
            _ => return None,
        })
    }
    pub fn to_u8(self) -> u8 {
        match self {
            SegmentType::Set => 1,
            SegmentType::Sequence => 2,
            SegmentType::ConfedSequence => 3,
            SegmentType::ConfedSet => 4,
        }
    }
    pub fn is_confed(self) -> bool {
        matches!(self, SegmentType::ConfedSequence | SegmentType::ConfedSet)
    }
}

/// One path segment.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AsSegment {
    pub kind: SegmentType,
    pub asns: Vec<Asn>,
}

/// An AS path: a list of segments, always held with 4-octet numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AsPath {
    pub segments: Vec<AsSegment>,
}

impl AsPath {
    /// A path made of one AS_SEQUENCE (empty path if `asns` is empty).
    pub fn from_sequence(asns: impl IntoIterator<Item = Asn>) -> Self {
        let asns: Vec<Asn> = asns.into_iter().collect();
        if asns.is_empty() {
            return AsPath::default();
        }
        AsPath {
            segments: vec![AsSegment {
                kind: SegmentType::Sequence,
                asns,
            }],
        }
    }

    /// Path length for best-path selection (RFC 4271 §9.1.2.2 a; RFC 5065 §5.3: confederation
    /// segments count 0, an AS_SET counts 1).
    pub fn path_len(&self) -> usize {
        self.segments
            .iter()
            .map(|s| match s.kind {
                SegmentType::Sequence => s.asns.len(),
                SegmentType::Set => 1,
                _ => 0,
            })
            .sum()
    }

    /// The leftmost AS of the leading AS_SEQUENCE (the neighbour AS on eBGP, RFC 4271 §6.3).
    pub fn first_asn(&self) -> Option<Asn> {
        match self.segments.first() {
            Some(s) if s.kind == SegmentType::Sequence => s.asns.first().copied(),
            _ => None,
        }
    }

    /// The AS that originated the route (last AS of a trailing AS_SEQUENCE).
    pub fn origin_asn(&self) -> Option<Asn> {
        match self.segments.last() {
            Some(s) if s.kind == SegmentType::Sequence => s.asns.last().copied(),
            _ => None,
        }
    }

    /// Whether `asn` appears anywhere (loop detection, RFC 4271 §9.1.2).
    pub fn contains(&self, asn: Asn) -> bool {
        self.segments.iter().any(|s| s.asns.contains(&asn))
    }

    /// Whether the path carries confederation segments.
    pub fn has_confed(&self) -> bool {
        self.segments.iter().any(|s| s.kind.is_confed())
    }

    /// Prepend `asn` to the leading AS_SEQUENCE (or a new one), as a speaker does on eBGP
    /// export (RFC 4271 §5.1.2).
    pub fn prepend(&mut self, asn: Asn) {
        match self.segments.first_mut() {
            Some(s) if s.kind == SegmentType::Sequence && s.asns.len() < 255 => {
                s.asns.insert(0, asn)
            }
            _ => self.segments.insert(
                0,
                AsSegment {
                    kind: SegmentType::Sequence,
                    asns: vec![asn],
                },
            ),
        }
    }

    /// Whether any AS number needs 4 octets.
    pub fn has_four_octet_asn(&self) -> bool {
        self.segments
            .iter()
            .any(|s| s.asns.iter().any(|a| !a.is_two_octet()))
    }
}

type R<'a, T> = nom::IResult<&'a [u8], T, ()>;

fn segment(input: &[u8], four: bool) -> R<'_, (u8, Vec<Asn>)> {
    let (mut i, kind) = be_u8(input)?;
    let (rest, n) = be_u8(i)?;
    i = rest;
    let mut asns = Vec::with_capacity(usize::from(n));
    for _ in 0..n {
        let (rest, a) = if four {
            be_u32(i)?
        } else {
            let (r, a) = be_u16(i)?;
            (r, u32::from(a))
        };
        asns.push(Asn(a));
        i = rest;
    }
    Ok((i, (kind, asns)))
}

/// Decode AS_PATH / AS4_PATH. RFC 7606 §7.2 / RFC 4271 §6.3: a segment overrunning the
/// attribute, an unknown segment type or a zero-length segment makes it malformed.
pub(crate) fn decode(mut v: &[u8], four: bool) -> Result<AsPath, Reason> {
    let mut path = AsPath::default();
    while !v.is_empty() {
        let (rest, (kind, asns)) = segment(v, four).map_err(|_| Reason::AsPathOverrun)?;
        let kind = SegmentType::from_u8(kind).ok_or(Reason::AsPathSegmentType(kind))?;
        if asns.is_empty() {
            return Err(Reason::AsPathEmptySegment);
        }
        // RFC 7607 §2: AS 0 in AS_PATH / AS4_PATH makes the attribute malformed.
        if asns.contains(&Asn(0)) {
            return Err(Reason::AsPathZeroAsn);
        }
        path.segments.push(AsSegment { kind, asns });
        v = rest;
    }
    Ok(path)
}

/// Encode with 4- or 2-octet numbers (AS_TRANS for those that do not fit, RFC 6793 §4.2.2).
/// Segments longer than 255 numbers are split into several segments of the same type.
pub(crate) fn encode(p: &AsPath, four: bool, buf: &mut BytesMut) {
    for s in &p.segments {
        for chunk in s.asns.chunks(255) {
            buf.put_u8(s.kind.to_u8());
            buf.put_u8(chunk.len() as u8);
            for a in chunk {
                if four {
                    buf.put_u32(a.0);
                } else if a.is_two_octet() {
                    buf.put_u16(a.0 as u16);
                } else {
                    buf.put_u16(Asn::TRANS.0 as u16);
                }
            }
        }
    }
}

/// RFC 6793 §4.2.3: rebuild the real path from AS_PATH (with AS_TRANS) and AS4_PATH received
/// from a 2-octet-only peer. If AS_PATH is shorter than AS4_PATH the latter is ignored;
/// otherwise the leading part of AS_PATH that AS4_PATH lacks is put in front of AS4_PATH.
/// Confederation segments of AS4_PATH are dropped (RFC 6793 §6).
pub fn merge_as4_path(as_path: &AsPath, as4_path: &AsPath) -> AsPath {
    let as4 = AsPath {
        segments: as4_path
            .segments
            .iter()
            .filter(|s| !s.kind.is_confed())
            .cloned()
            .collect(),
    };
    let n = as_path.path_len();
    let m = as4.path_len();
    if n < m {
        return as_path.clone();
    }
    let mut need = n - m;
    let mut out = AsPath::default();
    for s in &as_path.segments {
        if need == 0 {
            break;
        }
        match s.kind {
            SegmentType::Sequence => {
                let take = need.min(s.asns.len());
                out.segments.push(AsSegment {
                    kind: s.kind,
                    asns: s.asns[..take].to_vec(),
                });
                need -= take;
            }
            SegmentType::Set => {
                out.segments.push(s.clone());
                need -= 1;
            }
            // Leading confederation segments count 0 and are kept as they are.
            _ => out.segments.push(s.clone()),
        }
    }
    for s in as4.segments {
        match (out.segments.last_mut(), s.kind) {
            (Some(last), SegmentType::Sequence) if last.kind == SegmentType::Sequence => {
                last.asns.extend(s.asns)
            }
            _ => out.segments.push(s),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(v: &[u32]) -> AsSegment {
        AsSegment {
            kind: SegmentType::Sequence,
            asns: v.iter().map(|a| Asn(*a)).collect(),
        }
    }

    #[test]
    fn decodes_two_and_four_octet_paths() {
        // 2-octet: AS_SEQUENCE(2) 2 ASes: 65000 65001; AS_SET(1) 1 AS: 100
        let v2 = [2, 2, 0xfd, 0xe8, 0xfd, 0xe9, 1, 1, 0, 100];
        let p = decode(&v2, false).unwrap();
        assert_eq!(p.segments[0], seq(&[65000, 65001]));
        assert_eq!(p.segments[1].kind, SegmentType::Set);
        assert_eq!(p.path_len(), 3);
        let mut out = BytesMut::new();
        encode(&p, false, &mut out);
        assert_eq!(&out[..], &v2[..]);
        // 4-octet: AS_SEQUENCE 1 AS: 4200000000
        let v4 = [2, 1, 0xfa, 0x56, 0xea, 0x00];
        let p = decode(&v4, true).unwrap();
        assert_eq!(p.first_asn(), Some(Asn(4_200_000_000)));
        // Encoded for a 2-octet peer it becomes AS_TRANS (23456 = 0x5ba0).
        let mut out = BytesMut::new();
        encode(&p, false, &mut out);
        assert_eq!(&out[..], &[2, 1, 0x5b, 0xa0]);
    }

    #[test]
    fn rejects_malformed_segments() {
        assert_eq!(decode(&[2, 0], false), Err(Reason::AsPathEmptySegment));
        assert_eq!(
            decode(&[5, 1, 0, 1], false),
            Err(Reason::AsPathSegmentType(5))
        );
        assert_eq!(decode(&[2, 2, 0, 1], false), Err(Reason::AsPathOverrun));
        assert_eq!(decode(&[2], false), Err(Reason::AsPathOverrun));
    }

    #[test]
    fn rejects_as_zero() {
        assert_eq!(
            decode(&[2, 2, 0, 1, 0, 0], false),
            Err(Reason::AsPathZeroAsn)
        );
    }

    #[test]
    fn merges_as4_path_per_rfc6793() {
        // AS_PATH: 65001 23456 23456 65002 ; AS4_PATH: 4200000001 4200000002 65002
        let p = AsPath {
            segments: vec![seq(&[65001, 23456, 23456, 65002])],
        };
        let p4 = AsPath {
            segments: vec![seq(&[4_200_000_001, 4_200_000_002, 65002])],
        };
        assert_eq!(
            merge_as4_path(&p, &p4).segments,
            vec![seq(&[65001, 4_200_000_001, 4_200_000_002, 65002])]
        );
        // AS4_PATH longer than AS_PATH: ignored.
        let short = AsPath {
            segments: vec![seq(&[23456])],
        };
        assert_eq!(merge_as4_path(&short, &p4), short);
    }
}
