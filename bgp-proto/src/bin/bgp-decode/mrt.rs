//! MRT (RFC 6396) reading: the common header, BGP4MP / BGP4MP_ET (types 16/17: messages and
//! state changes, with the RFC 8050 ADD-PATH subtypes) and TABLE_DUMP_V2 (type 13: the peer
//! index table and the IPv4/IPv6 unicast RIBs, with the RFC 8050 ADD-PATH subtypes). BGP
//! messages inside are left as bytes for the codec; this module only cuts the container.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bgp_proto::nlri::NlriIter;
use bgp_proto::{Family, Prefix};

/// RFC 6396 §4: MRT types this reader understands.
pub const TABLE_DUMP_V2: u16 = 13;
pub const BGP4MP: u16 = 16;
pub const BGP4MP_ET: u16 = 17;

/// What makes an MRT file unreadable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MrtError {
    #[error("truncated: {what} needs {needed} octets, {have} left")]
    Truncated {
        what: &'static str,
        needed: usize,
        have: usize,
    },
    #[error("unknown address family {0}")]
    Afi(u16),
    #[error("bad prefix length {0}")]
    PrefixLength(u8),
    #[error("{0} octets left over after the record body")]
    Trailing(usize),
}

/// A bounds-checked big-endian reader over one record.
struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], MrtError> {
        if self.buf.len() < n {
            return Err(MrtError::Truncated {
                what,
                needed: n,
                have: self.buf.len(),
            });
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }
    fn u8(&mut self, what: &'static str) -> Result<u8, MrtError> {
        Ok(self.take(1, what)?[0])
    }
    fn u16(&mut self, what: &'static str) -> Result<u16, MrtError> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self, what: &'static str) -> Result<u32, MrtError> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn asn(&mut self, four: bool, what: &'static str) -> Result<u32, MrtError> {
        if four {
            self.u32(what)
        } else {
            self.u16(what).map(u32::from)
        }
    }
    fn ip(&mut self, v6: bool, what: &'static str) -> Result<IpAddr, MrtError> {
        Ok(if v6 {
            let b: [u8; 16] = self.take(16, what)?.try_into().unwrap_or([0; 16]);
            IpAddr::V6(Ipv6Addr::from(b))
        } else {
            let b = self.take(4, what)?;
            IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
        })
    }
    fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }
}

/// One MRT record as cut from the file (RFC 6396 §2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record<'a> {
    /// Offset of the record in the file.
    pub offset: usize,
    pub timestamp: u32,
    /// BGP4MP_ET only (RFC 6396 §3): the microsecond part of the timestamp.
    pub microseconds: Option<u32>,
    pub mrt_type: u16,
    pub subtype: u16,
    pub body: &'a [u8],
}

/// Cuts `data` into records. A record whose header or body runs past the end of the data is an
/// error (a truncated file), reported with its offset.
pub fn records(data: &[u8]) -> Result<Vec<Record<'_>>, (usize, MrtError)> {
    let mut out = Vec::new();
    let mut offset = 0;
    while offset < data.len() {
        let mut r = Reader {
            buf: &data[offset..],
        };
        let at = |e| (offset, e);
        let timestamp = r.u32("MRT header").map_err(at)?;
        let mrt_type = r.u16("MRT header").map_err(at)?;
        let subtype = r.u16("MRT header").map_err(at)?;
        let len = r.u32("MRT header").map_err(at)? as usize;
        let mut body = r.take(len, "MRT record body").map_err(at)?;
        let mut microseconds = None;
        if mrt_type == BGP4MP_ET {
            let mut b = Reader { buf: body };
            microseconds = Some(b.u32("BGP4MP_ET microseconds").map_err(at)?);
            body = b.rest();
        }
        out.push(Record {
            offset,
            timestamp,
            microseconds,
            mrt_type,
            subtype,
            body,
        });
        offset += 12 + len;
    }
    Ok(out)
}

/// The peer and local ends of a BGP4MP record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub peer_as: u32,
    pub local_as: u32,
    pub interface: u16,
    pub peer_ip: IpAddr,
    pub local_ip: IpAddr,
}

/// A peer of the TABLE_DUMP_V2 peer index table (RFC 6396 §4.3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub bgp_id: Ipv4Addr,
    pub ip: IpAddr,
    pub asn: u32,
}

/// One RIB entry (RFC 6396 §4.3.4, RFC 8050 §4 for the path identifier).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RibEntry<'a> {
    pub peer_index: u16,
    pub originated: u32,
    pub path_id: Option<u32>,
    /// The path attributes as stored: MP_REACH_NLRI abbreviated to next hop length and next hop.
    pub attributes: &'a [u8],
}

/// The content of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry<'a> {
    /// BGP4MP MESSAGE* subtypes: one whole BGP message (header included).
    Message {
        subtype: &'static str,
        ends: Endpoints,
        four_octet_as: bool,
        add_path: bool,
        message: &'a [u8],
    },
    /// BGP4MP STATE_CHANGE(_AS4): FSM states as numbered in RFC 6396 §4.4.1.
    StateChange {
        subtype: &'static str,
        ends: Endpoints,
        old_state: u16,
        new_state: u16,
    },
    PeerIndexTable {
        collector_id: Ipv4Addr,
        view_name: String,
        peers: Vec<Peer>,
    },
    Rib {
        subtype: &'static str,
        sequence: u32,
        family: Family,
        prefix: Prefix,
        entries: Vec<RibEntry<'a>>,
    },
    /// A type or subtype this reader does not decode (skipped, reported).
    Unsupported,
}

/// Decodes the body of `rec`.
pub fn parse<'a>(rec: &Record<'a>) -> Result<Entry<'a>, MrtError> {
    let mut r = Reader { buf: rec.body };
    match (rec.mrt_type, rec.subtype) {
        (BGP4MP | BGP4MP_ET, st) => bgp4mp(st, &mut r),
        (TABLE_DUMP_V2, 1) => peer_index_table(&mut r),
        (TABLE_DUMP_V2, st @ (2 | 4 | 8 | 10)) => rib(st, &mut r),
        _ => Ok(Entry::Unsupported),
    }
}

/// RFC 6396 §4.4 and RFC 8050 §3: subtype → (name, 4-octet AS, ADD-PATH, state change).
fn bgp4mp_subtype(st: u16) -> Option<(&'static str, bool, bool, bool)> {
    Some(match st {
        0 => ("STATE_CHANGE", false, false, true),
        1 => ("MESSAGE", false, false, false),
        4 => ("MESSAGE_AS4", true, false, false),
        5 => ("STATE_CHANGE_AS4", true, false, true),
        6 => ("MESSAGE_LOCAL", false, false, false),
        7 => ("MESSAGE_AS4_LOCAL", true, false, false),
        8 => ("MESSAGE_ADDPATH", false, true, false),
        9 => ("MESSAGE_AS4_ADDPATH", true, true, false),
        10 => ("MESSAGE_LOCAL_ADDPATH", false, true, false),
        11 => ("MESSAGE_AS4_LOCAL_ADDPATH", true, true, false),
        _ => return None,
    })
}

fn bgp4mp<'a>(st: u16, r: &mut Reader<'a>) -> Result<Entry<'a>, MrtError> {
    let Some((name, four, add_path, state)) = bgp4mp_subtype(st) else {
        return Ok(Entry::Unsupported);
    };
    let peer_as = r.asn(four, "BGP4MP peer AS")?;
    let local_as = r.asn(four, "BGP4MP local AS")?;
    let interface = r.u16("BGP4MP interface index")?;
    let afi = r.u16("BGP4MP address family")?;
    let v6 = match afi {
        1 => false,
        2 => true,
        n => return Err(MrtError::Afi(n)),
    };
    let peer_ip = r.ip(v6, "BGP4MP peer address")?;
    let local_ip = r.ip(v6, "BGP4MP local address")?;
    let ends = Endpoints {
        peer_as,
        local_as,
        interface,
        peer_ip,
        local_ip,
    };
    if state {
        let old_state = r.u16("BGP4MP old state")?;
        let new_state = r.u16("BGP4MP new state")?;
        return Ok(Entry::StateChange {
            subtype: name,
            ends,
            old_state,
            new_state,
        });
    }
    Ok(Entry::Message {
        subtype: name,
        ends,
        four_octet_as: four,
        add_path,
        message: r.rest(),
    })
}

fn peer_index_table<'a>(r: &mut Reader<'a>) -> Result<Entry<'a>, MrtError> {
    let id = r.take(4, "collector BGP ID")?;
    let collector_id = Ipv4Addr::new(id[0], id[1], id[2], id[3]);
    let name_len = usize::from(r.u16("view name length")?);
    let view_name = String::from_utf8_lossy(r.take(name_len, "view name")?).into_owned();
    let count = r.u16("peer count")?;
    let mut peers = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        // RFC 6396 §4.3.1: bit 0 = IPv6 peer address, bit 1 = 4-octet AS.
        let peer_type = r.u8("peer type")?;
        let id = r.take(4, "peer BGP ID")?;
        let ip = r.ip(peer_type & 1 != 0, "peer address")?;
        let asn = r.asn(peer_type & 2 != 0, "peer AS")?;
        peers.push(Peer {
            bgp_id: Ipv4Addr::new(id[0], id[1], id[2], id[3]),
            ip,
            asn,
        });
    }
    trailing(r)?;
    Ok(Entry::PeerIndexTable {
        collector_id,
        view_name,
        peers,
    })
}

fn trailing(r: &Reader<'_>) -> Result<(), MrtError> {
    match r.buf.len() {
        0 => Ok(()),
        n => Err(MrtError::Trailing(n)),
    }
}

fn rib<'a>(st: u16, r: &mut Reader<'a>) -> Result<Entry<'a>, MrtError> {
    let (name, family, add_path) = match st {
        2 => ("RIB_IPV4_UNICAST", Family::Ipv4Unicast, false),
        4 => ("RIB_IPV6_UNICAST", Family::Ipv6Unicast, false),
        8 => ("RIB_IPV4_UNICAST_ADDPATH", Family::Ipv4Unicast, true),
        _ => ("RIB_IPV6_UNICAST_ADDPATH", Family::Ipv6Unicast, true),
    };
    let sequence = r.u32("RIB sequence number")?;
    let len = r.u8("RIB prefix length")?;
    let n = usize::from(len).div_ceil(8);
    let mut field = vec![len];
    field.extend_from_slice(r.take(n, "RIB prefix")?);
    // The prefix is encoded like one NLRI entry: let the codec read it.
    let prefix = match NlriIter::new(&field, family, false).next() {
        Some(Ok(e)) => e.prefix,
        _ => return Err(MrtError::PrefixLength(len)),
    };
    let count = r.u16("RIB entry count")?;
    let mut entries = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        let peer_index = r.u16("RIB entry peer index")?;
        let originated = r.u32("RIB entry originated time")?;
        let path_id = if add_path {
            Some(r.u32("RIB entry path identifier")?)
        } else {
            None
        };
        let alen = usize::from(r.u16("RIB entry attribute length")?);
        let attributes = r.take(alen, "RIB entry attributes")?;
        entries.push(RibEntry {
            peer_index,
            originated,
            path_id,
            attributes,
        });
    }
    trailing(r)?;
    Ok(Entry::Rib {
        subtype: name,
        sequence,
        family,
        prefix,
        entries,
    })
}

/// Turns RIB entry attributes into an UPDATE body the codec can decode: RFC 6396 §4.3.4 stores
/// MP_REACH_NLRI with only the next hop length and next hop, so it is expanded to the RFC 4760
/// form (AFI, SAFI of the RIB, next hop, reserved octet, no NLRI). Attributes already in full
/// form (first octets an AFI, i.e. 0) are kept. Returns `None` when the result does not fit an
/// UPDATE's 2-octet length.
pub fn rib_update_body(attrs: &[u8], family: Family) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(attrs.len() + 8);
    let mut rest = attrs;
    while !rest.is_empty() {
        let Some(&[flags, code]) = rest.get(..2) else {
            break;
        };
        let ext = flags & 0x10 != 0;
        let hdr = if ext { 4 } else { 3 };
        let len = match (ext, rest.get(2..hdr)) {
            (true, Some(&[a, b])) => usize::from(u16::from_be_bytes([a, b])),
            (false, Some(&[a])) => usize::from(a),
            _ => break,
        };
        let Some(value) = rest.get(hdr..hdr + len) else {
            break;
        };
        let abbreviated = code == 14 && value.first().is_some_and(|&nh| usize::from(nh) + 1 == len);
        if abbreviated {
            let mut full = Vec::with_capacity(len + 4);
            full.extend_from_slice(&family.afi().to_u16().to_be_bytes());
            full.push(family.safi().to_u8());
            full.extend_from_slice(value);
            full.push(0); // reserved
            out.push(flags | 0x10);
            out.push(code);
            out.extend_from_slice(&u16::try_from(full.len()).ok()?.to_be_bytes());
            out.extend_from_slice(&full);
        } else {
            out.extend_from_slice(&rest[..hdr + len]);
        }
        rest = &rest[hdr + len..];
    }
    // Whatever could not be walked is passed on for the codec to report.
    out.extend_from_slice(rest);
    let mut body = vec![0, 0];
    body.extend_from_slice(&u16::try_from(out.len()).ok()?.to_be_bytes());
    body.extend_from_slice(&out);
    Some(body)
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use bgp_proto::update::Update;
    use bgp_proto::SessionContext;

    /// Builds one MRT record (RFC 6396 §2 header + body).
    pub fn record(ts: u32, t: u16, st: u16, body: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&ts.to_be_bytes());
        v.extend_from_slice(&t.to_be_bytes());
        v.extend_from_slice(&st.to_be_bytes());
        v.extend_from_slice(&(body.len() as u32).to_be_bytes());
        v.extend_from_slice(body);
        v
    }

    pub const KEEPALIVE: [u8; 19] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0, 19, 4,
    ];

    /// BGP4MP MESSAGE_AS4 body: peer AS, local AS, ifindex, AFI 1, two IPv4 addresses, message.
    pub fn bgp4mp_as4(message: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&4_200_000_001u32.to_be_bytes());
        b.extend_from_slice(&65001u32.to_be_bytes());
        b.extend_from_slice(&0u16.to_be_bytes());
        b.extend_from_slice(&1u16.to_be_bytes());
        b.extend_from_slice(&[10, 99, 0, 2]);
        b.extend_from_slice(&[10, 99, 0, 1]);
        b.extend_from_slice(message);
        b
    }

    /// ORIGIN IGP, AS_PATH [65002] (4-octet), abbreviated MP_REACH with an IPv6 next hop.
    pub fn v6_rib_attrs() -> Vec<u8> {
        let mut a = vec![0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xea];
        a.extend_from_slice(&[0x80, 14, 17, 16]);
        a.extend_from_slice(&"fd99::2".parse::<Ipv6Addr>().unwrap().octets());
        a
    }

    #[test]
    fn bgp4mp_message_as4_and_et_timestamp() {
        let mut file = record(1_700_000_000, BGP4MP, 4, &bgp4mp_as4(&KEEPALIVE));
        let mut et = 123_456u32.to_be_bytes().to_vec();
        et.extend_from_slice(&bgp4mp_as4(&KEEPALIVE));
        file.extend(record(1_700_000_001, BGP4MP_ET, 4, &et));
        let recs = records(&file).unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[1].microseconds, Some(123_456));
        assert_eq!(recs[1].offset, 12 + 20 + 19);
        for rec in &recs {
            match parse(rec).unwrap() {
                Entry::Message {
                    subtype,
                    ends,
                    four_octet_as,
                    add_path,
                    message,
                } => {
                    assert_eq!(subtype, "MESSAGE_AS4");
                    assert_eq!(ends.peer_as, 4_200_000_001);
                    assert_eq!(ends.peer_ip, IpAddr::V4(Ipv4Addr::new(10, 99, 0, 2)));
                    assert!(four_octet_as && !add_path);
                    assert_eq!(message, &KEEPALIVE[..]);
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn bgp4mp_two_octet_message_and_state_change() {
        let mut body = vec![0xfd, 0xe9, 0xfd, 0xea, 0, 3, 0, 2];
        body.extend_from_slice(&"fd99::2".parse::<Ipv6Addr>().unwrap().octets());
        body.extend_from_slice(&"fd99::1".parse::<Ipv6Addr>().unwrap().octets());
        let mut msg = body.clone();
        msg.extend_from_slice(&KEEPALIVE);
        let mut state = body;
        state.extend_from_slice(&[0, 5, 0, 6]); // OpenConfirm → Established
        let mut file = record(1, BGP4MP, 1, &msg);
        file.extend(record(2, BGP4MP, 0, &state));
        let recs = records(&file).unwrap();
        assert!(matches!(
            parse(&recs[0]).unwrap(),
            Entry::Message {
                four_octet_as: false,
                ends: Endpoints {
                    peer_as: 65001,
                    interface: 3,
                    ..
                },
                ..
            }
        ));
        assert!(matches!(
            parse(&recs[1]).unwrap(),
            Entry::StateChange {
                old_state: 5,
                new_state: 6,
                ..
            }
        ));
    }

    #[test]
    fn rfc8050_addpath_subtypes_say_so() {
        for (st, name, four) in [
            (8, "MESSAGE_ADDPATH", false),
            (9, "MESSAGE_AS4_ADDPATH", true),
            (10, "MESSAGE_LOCAL_ADDPATH", false),
            (11, "MESSAGE_AS4_LOCAL_ADDPATH", true),
        ] {
            let mut body = if four {
                bgp4mp_as4(&[])
            } else {
                vec![
                    0xfd, 0xea, 0xfd, 0xe9, 0, 0, 0, 1, 10, 99, 0, 2, 10, 99, 0, 1,
                ]
            };
            body.extend_from_slice(&KEEPALIVE);
            let rec = record(1, BGP4MP, st, &body);
            let recs = records(&rec).unwrap();
            match parse(&recs[0]).unwrap() {
                Entry::Message {
                    subtype,
                    four_octet_as,
                    add_path,
                    message,
                    ..
                } => {
                    assert_eq!((subtype, four_octet_as, add_path), (name, four, true));
                    assert_eq!(message, &KEEPALIVE[..]);
                }
                other => panic!("{other:?}"),
            }
        }
        let unknown = record(1, BGP4MP, 99, &[]);
        assert_eq!(
            parse(&records(&unknown).unwrap()[0]),
            Ok(Entry::Unsupported)
        );
    }

    #[test]
    fn truncated_record_is_an_error_with_its_offset() {
        let mut file = record(1, BGP4MP, 4, &bgp4mp_as4(&KEEPALIVE));
        let first = file.len();
        file.extend(record(1, BGP4MP, 4, &bgp4mp_as4(&KEEPALIVE)));
        file.truncate(file.len() - 3);
        let (at, e) = records(&file).unwrap_err();
        assert_eq!(at, first);
        assert!(matches!(
            e,
            MrtError::Truncated {
                what: "MRT record body",
                ..
            }
        ));
        let (at, _) = records(&file[..first + 5]).unwrap_err();
        assert_eq!(at, first);
    }

    #[test]
    fn peer_index_table_and_ipv6_rib_with_abbreviated_mp_reach() {
        let mut pit = vec![10, 99, 0, 1, 0, 4];
        pit.extend_from_slice(b"main");
        pit.extend_from_slice(&2u16.to_be_bytes());
        pit.extend_from_slice(&[2, 10, 99, 0, 2, 10, 99, 0, 2]); // IPv4 peer, AS4
        pit.extend_from_slice(&4_200_000_001u32.to_be_bytes());
        pit.extend_from_slice(&[1, 10, 99, 0, 3]); // IPv6 peer, AS2
        pit.extend_from_slice(&"fd99::3".parse::<Ipv6Addr>().unwrap().octets());
        pit.extend_from_slice(&65003u16.to_be_bytes());
        let attrs = v6_rib_attrs();
        let mut rib_body = vec![0, 0, 0, 7, 48, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 1];
        rib_body.extend_from_slice(&1u16.to_be_bytes()); // peer index
        rib_body.extend_from_slice(&1_700_000_000u32.to_be_bytes());
        rib_body.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
        rib_body.extend_from_slice(&attrs);
        let mut file = record(1, TABLE_DUMP_V2, 1, &pit);
        file.extend(record(1, TABLE_DUMP_V2, 4, &rib_body));
        let recs = records(&file).unwrap();
        let Entry::PeerIndexTable {
            view_name, peers, ..
        } = parse(&recs[0]).unwrap()
        else {
            panic!("not a peer index table");
        };
        assert_eq!(view_name, "main");
        assert_eq!(peers[0].asn, 4_200_000_001);
        assert_eq!(peers[1].asn, 65003);
        assert_eq!(peers[1].ip, "fd99::3".parse::<IpAddr>().unwrap());
        let Entry::Rib {
            sequence,
            prefix,
            entries,
            family,
            ..
        } = parse(&recs[1]).unwrap()
        else {
            panic!("not a RIB");
        };
        assert_eq!((sequence, family), (7, Family::Ipv6Unicast));
        assert_eq!(prefix.to_string(), "2001:db8:1::/48");
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].peer_index, 1);
        let body = rib_update_body(entries[0].attributes, family).unwrap();
        let ctx = SessionContext {
            four_octet_as: true,
            ..SessionContext::default()
        };
        let u = Update::decode(&body, &ctx).unwrap();
        assert!(u.malformations.is_empty(), "{:?}", u.malformations);
        let mp = u.mp_reach.unwrap();
        assert_eq!(mp.family, Family::Ipv6Unicast);
        assert!(mp.nlri.is_empty());
        assert_eq!(
            u.attributes.as_path.unwrap().origin_asn(),
            Some(bgp_proto::Asn(65002))
        );
    }

    #[test]
    fn ipv4_addpath_rib_entry_carries_the_path_id() {
        let attrs = [0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 3, 4, 10, 99, 0, 2];
        let mut body = vec![0, 0, 0, 1, 24, 192, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0];
        body.extend_from_slice(&9u32.to_be_bytes());
        body.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
        body.extend_from_slice(&attrs);
        let rec = record(1, TABLE_DUMP_V2, 8, &body);
        let recs = records(&rec).unwrap();
        let Entry::Rib {
            prefix, entries, ..
        } = parse(&recs[0]).unwrap()
        else {
            panic!("not a RIB");
        };
        assert_eq!(prefix.to_string(), "192.0.2.0/24");
        assert_eq!(entries[0].path_id, Some(9));
        // Full-form attributes are passed through unchanged.
        let b = rib_update_body(entries[0].attributes, Family::Ipv4Unicast).unwrap();
        assert_eq!(&b[4..], &attrs[..]);
    }

    #[test]
    fn rib_body_overrun_is_an_error() {
        let body = [0, 0, 0, 1, 24, 192, 0, 2, 0, 1, 0, 0];
        let rec = record(1, TABLE_DUMP_V2, 2, &body);
        let recs = records(&rec).unwrap();
        assert!(matches!(parse(&recs[0]), Err(MrtError::Truncated { .. })));
        let bad_len = record(1, TABLE_DUMP_V2, 2, &[0, 0, 0, 1, 33, 0, 0, 0, 0, 0, 0]);
        let recs = records(&bad_len).unwrap();
        assert_eq!(parse(&recs[0]), Err(MrtError::PrefixLength(33)));
    }
}
