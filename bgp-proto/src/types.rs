//! Basic protocol types shared by every message.

use std::fmt;
use std::net::Ipv4Addr;

/// An autonomous system number (RFC 6793: always held as 4 octets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Asn(pub u32);

impl Asn {
    /// RFC 6793 §9: the 2-octet placeholder used when the real AS does not fit.
    pub const TRANS: Asn = Asn(23456);

    /// Whether the number fits the 2-octet AS_PATH / OPEN fields.
    pub fn is_two_octet(self) -> bool {
        self.0 <= u16::MAX as u32
    }
}

impl fmt::Display for Asn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A BGP identifier (RFC 4271 §4.2), written like an IPv4 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RouterId(pub Ipv4Addr);

impl fmt::Display for RouterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Address family identifier (IANA).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Afi {
    Ipv4,
    Ipv6,
    /// Any other AFI, kept as its number.
    Other(u16),
}

impl Afi {
    pub fn from_u16(v: u16) -> Afi {
        match v {
            1 => Afi::Ipv4,
            2 => Afi::Ipv6,
            n => Afi::Other(n),
        }
    }
    pub fn to_u16(self) -> u16 {
        match self {
            Afi::Ipv4 => 1,
            Afi::Ipv6 => 2,
            Afi::Other(n) => n,
        }
    }
}

/// Subsequent address family identifier (IANA).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Safi {
    Unicast,
    Multicast,
    /// Any other SAFI, kept as its number.
    Other(u8),
}

impl Safi {
    pub fn from_u8(v: u8) -> Safi {
        match v {
            1 => Safi::Unicast,
            2 => Safi::Multicast,
            n => Safi::Other(n),
        }
    }
    pub fn to_u8(self) -> u8 {
        match self {
            Safi::Unicast => 1,
            Safi::Multicast => 2,
            Safi::Other(n) => n,
        }
    }
}

/// The two families this daemon routes: IPv4 unicast and IPv6 unicast.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    Ipv4Unicast,
    Ipv6Unicast,
}

impl Family {
    pub fn afi(self) -> Afi {
        match self {
            Family::Ipv4Unicast => Afi::Ipv4,
            Family::Ipv6Unicast => Afi::Ipv6,
        }
    }
    pub fn safi(self) -> Safi {
        Safi::Unicast
    }
    pub fn from_afi_safi(afi: Afi, safi: Safi) -> Option<Family> {
        match (afi, safi) {
            (Afi::Ipv4, Safi::Unicast) => Some(Family::Ipv4Unicast),
            (Afi::Ipv6, Safi::Unicast) => Some(Family::Ipv6Unicast),
            _ => None,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::Ipv4Unicast => "ipv4-unicast",
            Family::Ipv6Unicast => "ipv6-unicast",
        })
    }
}

/// An IP prefix (a network address with its length); host bits are always zero.
pub type Prefix = ipnet::IpNet;
