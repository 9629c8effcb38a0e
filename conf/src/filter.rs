//! Typed routing-policy configuration: Calico BGPFilter rules and community values.
//!
//! These mirror the `policy` crate's `filter` types one to one (conf does not depend on policy;
//! the daemon compiles one into the other). Validation applies the same rules `policy` does, so
//! the compilation cannot fail: a [`CidrMatch`] always passes `policy::filter::CidrMatch::new`
//! and a [`CommunityValue`] prints in the form `policy::filter::CommunityValue` parses.

use std::fmt;

use bgp_proto::attribute::{Community, LargeCommunity};
use bgp_proto::types::Asn;
use ipnet::IpNet;

/// A standard (RFC 1997, `aa:nn`, 16-bit parts) or large (RFC 8092, `aa:nn:mm`, 32-bit parts)
/// community. Names from `[communities]` are already resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommunityValue {
    Standard(Community),
    Large(LargeCommunity),
}

impl CommunityValue {
    /// Parses `aa:nn` or `aa:nn:mm` (decimal); `None` when it is neither.
    pub fn parse(s: &str) -> Option<CommunityValue> {
        let parts: Vec<&str> = s.split(':').collect();
        match parts.as_slice() {
            [a, b] => Some(CommunityValue::Standard(Community::new(
                a.parse().ok()?,
                b.parse().ok()?,
            ))),
            [a, b, c] => Some(CommunityValue::Large(LargeCommunity {
                global: a.parse().ok()?,
                local1: b.parse().ok()?,
                local2: c.parse().ok()?,
            })),
            _ => None,
        }
    }
}

impl fmt::Display for CommunityValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommunityValue::Standard(c) => c.fmt(f),
            CommunityValue::Large(c) => c.fmt(f),
        }
    }
}

/// Calico `matchOperator`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchOperator {
    Equal,
    NotEqual,
    In,
    NotIn,
}

/// Calico `action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FilterAction {
    Accept,
    Reject,
}

/// Calico `peerType`: the rule applies only on sessions with this kind of peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeerType {
    Ibgp,
    Ebgp,
}

/// A CIDR condition as written: the CIDR (host bits zero, family of the rule list), the
/// operator and Calico's optional `prefixLength { min, max }` (only with `In` / `NotIn`; bounds
/// within the family, and the effective range `max(min, cidr length)..=max` not empty).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CidrMatch {
    pub cidr: IpNet,
    pub op: MatchOperator,
    pub prefix_length: Option<PrefixLength>,
}

impl CidrMatch {
    /// The third argument of `policy::filter::CidrMatch::new`.
    pub fn prefix_length_bounds(&self) -> Option<(Option<u8>, Option<u8>)> {
        self.prefix_length.map(|p| (p.min, p.max))
    }
}

/// `prefix_length = { min, max }`; a missing bound defaults to the CIDR's length (min) or the
/// family maximum (max).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PrefixLength {
    pub min: Option<u8>,
    pub max: Option<u8>,
}

/// One change an Accept rule makes (Calico `operations`), in the order written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Operation {
    AddCommunity(CommunityValue),
    /// Prepend these ASes, in this order, to AS_PATH.
    PrependAsPath(Vec<Asn>),
    /// The route's kernel priority (metric), in Felix's units.
    SetPriority(u32),
}

/// One BGPFilter rule: every condition set must hold; the first matching rule decides.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FilterRule {
    pub cidr: Option<CidrMatch>,
    /// `source = "RemotePeers"`: only routes learned from BGP peers.
    pub remote_peers_only: bool,
    /// Interface glob (`*` only), e.g. `cali*`.
    pub interface: Option<String>,
    pub peer_type: Option<PeerType>,
    /// The route must carry this community.
    pub community: Option<CommunityValue>,
    /// The AS path must start with these ASes.
    pub as_path_prefix: Vec<Asn>,
    pub action: FilterAction,
    /// Empty unless `action` is Accept.
    pub operations: Vec<Operation>,
}

/// A filter's name, as neighbors refer to it: a Kubernetes-style name (letters, digits, `-`,
/// `_`, `.`; starting and ending with a letter or digit; at most 253 characters).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FilterName(String);

impl FilterName {
    pub const MAX_LEN: usize = 253;

    /// Checks the naming rule; the error says what is wrong.
    pub fn new(s: &str) -> Result<FilterName, &'static str> {
        let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
        if s.is_empty() {
            return Err("is empty");
        }
        if !edge(s.chars().next()) || !edge(s.chars().last()) {
            return Err("must start and end with a letter or digit");
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err("may contain only letters, digits, '-', '_' and '.'");
        }
        if s.len() > Self::MAX_LEN {
            return Err("is longer than 253 characters");
        }
        Ok(FilterName(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FilterName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A named filter (Calico BGPFilter): ordered rules per direction and family.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Filter {
    pub name: FilterName,
    pub export_v4: Vec<FilterRule>,
    pub import_v4: Vec<FilterRule>,
    pub export_v6: Vec<FilterRule>,
    pub import_v6: Vec<FilterRule>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn community_values_parse_and_print() {
        let s = CommunityValue::parse("65000:100").unwrap();
        assert_eq!(s, CommunityValue::Standard(Community::new(65000, 100)));
        assert_eq!(s.to_string(), "65000:100");
        let l = CommunityValue::parse("4200000000:1:2").unwrap();
        assert_eq!(l.to_string(), "4200000000:1:2");
        for bad in [
            "65536:1",
            "1",
            "1:2:3:4",
            "a:b",
            "-1:2",
            "1:4294967296:0",
            "",
        ] {
            assert_eq!(CommunityValue::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn filter_names() {
        assert!(FilterName::new("tor-export.v1").is_ok());
        assert!(FilterName::new("my_filter").is_ok());
        assert_eq!(FilterName::new(""), Err("is empty"));
        assert!(FilterName::new("-x").is_err());
        assert!(FilterName::new("x y").is_err());
        assert!(FilterName::new(&"a".repeat(254)).is_err());
    }
}
