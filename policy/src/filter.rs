//! BGPFilter-like rules per peer and direction (Calico's `BGPFilter` resource): ordered rules,
//! first match wins, a rule that matches decides Accept or Reject (with operations on Accept);
//! no match falls through to the built-in Calico rules.
//!
//! Matching follows what Calico generates for BIRD: `In` is `net ~ [cidr{min,max}]` (inside
//! the CIDR, prefix length in range; by default from the CIDR's own length to the family
//! maximum), `NotIn` its negation, `Equal`/`NotEqual` compare the prefix exactly.
//!
//! These types are also the configuration's filter model: `conf` validates `[[filters]]`
//! straight into them (with file/line/field errors), so the daemon runs what the file says with
//! no translation in between.

use std::fmt;
use std::str::FromStr;

use bgp_proto::attribute::{AsPath, Community, LargeCommunity, PathAttributes, SegmentType};
use bgp_proto::Asn;
use ipnet::IpNet;

use crate::error::PolicyError;
use crate::route::{PeerType, RouteInfo};

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

/// A standard (RFC 1997) or large (RFC 8092) community, written `aa:nn` or `aa:nn:mm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommunityValue {
    Standard(Community),
    Large(LargeCommunity),
}

impl FromStr for CommunityValue {
    type Err = PolicyError;
    fn from_str(s: &str) -> Result<Self, PolicyError> {
        let bad = || PolicyError::BadCommunity(s.to_string());
        let parts: Vec<&str> = s.split(':').collect();
        match parts.as_slice() {
            [a, b] => Ok(CommunityValue::Standard(Community::new(
                a.parse().map_err(|_| bad())?,
                b.parse().map_err(|_| bad())?,
            ))),
            [a, b, c] => Ok(CommunityValue::Large(LargeCommunity {
                global: a.parse().map_err(|_| bad())?,
                local1: b.parse().map_err(|_| bad())?,
                local2: c.parse().map_err(|_| bad())?,
            })),
            _ => Err(bad()),
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

impl CommunityValue {
    /// Whether the route carries this community.
    pub fn carried_by(&self, attrs: &PathAttributes) -> bool {
        match self {
            CommunityValue::Standard(c) => {
                attrs.communities.as_ref().is_some_and(|v| v.contains(c))
            }
            CommunityValue::Large(c) => attrs
                .large_communities
                .as_ref()
                .is_some_and(|v| v.contains(c)),
        }
    }
}

/// A CIDR condition: the CIDR, the operator and the effective prefix-length range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CidrMatch {
    cidr: IpNet,
    op: MatchOperator,
    min: u8,
    max: u8,
}

impl CidrMatch {
    /// `prefix_length` is Calico's `prefixLength {min, max}`; missing bounds default to the
    /// CIDR's length and the family maximum, and are clamped to them like Calico does.
    pub fn new(
        cidr: IpNet,
        op: MatchOperator,
        prefix_length: Option<(Option<u8>, Option<u8>)>,
    ) -> Result<Self, PolicyError> {
        let cidr = cidr.trunc();
        let limit = cidr.max_prefix_len();
        let (lo, hi) = prefix_length.unwrap_or((None, None));
        let min = lo.unwrap_or(0).max(cidr.prefix_len());
        let max = hi.unwrap_or(limit).min(limit);
        if min > max {
            return Err(PolicyError::BadPrefixLength {
                cidr,
                min,
                max,
                limit,
            });
        }
        Ok(CidrMatch { cidr, op, min, max })
    }

    /// Whether `prefix` matches.
    pub fn matches(&self, prefix: &IpNet) -> bool {
        let inside =
            || self.cidr.contains(prefix) && (self.min..=self.max).contains(&prefix.prefix_len());
        match self.op {
            MatchOperator::Equal => *prefix == self.cidr,
            MatchOperator::NotEqual => *prefix != self.cidr,
            MatchOperator::In => inside(),
            MatchOperator::NotIn => !inside(),
        }
    }
}

/// One change a matching Accept rule makes (Calico `operations`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Operation {
    AddCommunity(CommunityValue),
    /// Prepend these ASes, in this order, to AS_PATH.
    PrependAsPath(Vec<Asn>),
    /// The route's priority (kernel metric), in Felix's units.
    SetPriority(u32),
}

/// One rule. Every condition set must hold for the rule to match.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FilterRule {
    pub cidr: Option<CidrMatch>,
    /// `source: RemotePeers`: only routes learned from BGP peers.
    pub remote_peers_only: bool,
    /// Interface glob (`*` matches any run of characters), e.g. `cali*`.
    pub interface: Option<String>,
    pub peer_type: Option<PeerType>,
    pub community: Option<CommunityValue>,
    /// The AS path must start with these ASes.
    pub as_path_prefix: Vec<Asn>,
    pub action: FilterAction,
    /// Only with `Accept`.
    pub operations: Vec<Operation>,
}

impl FilterRule {
    /// A rule with no conditions (matches everything) and `action`.
    pub fn new(action: FilterAction) -> Self {
        FilterRule {
            cidr: None,
            remote_peers_only: false,
            interface: None,
            peer_type: None,
            community: None,
            as_path_prefix: Vec::new(),
            action,
            operations: Vec::new(),
        }
    }

    /// Whether the rule applies to `route` on a session with a `peer_type` peer.
    pub fn matches(&self, peer_type: PeerType, route: &RouteInfo<'_>) -> bool {
        if self.cidr.is_some_and(|c| !c.matches(&route.prefix)) {
            return false;
        }
        if self.remote_peers_only && !route.source.is_remote_peer() {
            return false;
        }
        if let Some(pat) = &self.interface {
            match route.interface {
                Some(i) if glob(pat, i) => {}
                _ => return false,
            }
        }
        if self.peer_type.is_some_and(|t| t != peer_type) {
            return false;
        }
        if let Some(c) = &self.community {
            if !route.attrs.is_some_and(|a| c.carried_by(a)) {
                return false;
            }
        }
        if !self.as_path_prefix.is_empty() {
            let starts = route
                .attrs
                .and_then(|a| a.as_path.as_ref())
                .is_some_and(|p| path_starts_with(p, &self.as_path_prefix));
            if !starts {
                return false;
            }
        }
        true
    }
}

fn path_starts_with(p: &AsPath, prefix: &[Asn]) -> bool {
    let seq = p
        .segments
        .iter()
        .take_while(|s| s.kind == SegmentType::Sequence)
        .flat_map(|s| s.asns.iter().copied());
    let mut n = 0;
    for (a, b) in seq.zip(prefix) {
        if a != *b {
            return false;
        }
        n += 1;
    }
    n == prefix.len()
}

/// Shell-style glob with `*` only (what Calico's `interface` field allows, BIRD's `~ "x*"`).
pub fn glob(pattern: &str, s: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == s;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !s.starts_with(first) || s.len() < first.len() + last.len() || !s.ends_with(last) {
        return false;
    }
    let mut rest = &s[first.len()..s.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
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

/// Import or export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Import,
    Export,
}

/// The first matching rule's action and operations, and where it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterMatch<'a> {
    pub filter: &'a str,
    pub rule: usize,
    pub action: FilterAction,
    pub operations: &'a [Operation],
}

impl Filter {
    /// A filter with no rules.
    pub fn new(name: FilterName) -> Self {
        Filter {
            name,
            export_v4: Vec::new(),
            import_v4: Vec::new(),
            export_v6: Vec::new(),
            import_v6: Vec::new(),
        }
    }

    /// The rules for a direction and the route's family.
    pub fn rules(&self, dir: Direction, prefix: &IpNet) -> &[FilterRule] {
        match (dir, prefix) {
            (Direction::Export, IpNet::V4(_)) => &self.export_v4,
            (Direction::Import, IpNet::V4(_)) => &self.import_v4,
            (Direction::Export, IpNet::V6(_)) => &self.export_v6,
            (Direction::Import, IpNet::V6(_)) => &self.import_v6,
        }
    }
}

/// Run a peer's filters in order; the first matching rule of any of them decides.
pub fn evaluate<'a>(
    filters: &'a [Filter],
    dir: Direction,
    peer_type: PeerType,
    route: &RouteInfo<'_>,
) -> Option<FilterMatch<'a>> {
    filters.iter().find_map(|f| {
        f.rules(dir, &route.prefix)
            .iter()
            .enumerate()
            .find(|(_, r)| r.matches(peer_type, route))
            .map(|(i, r)| FilterMatch {
                filter: f.name.as_str(),
                rule: i,
                action: r.action,
                operations: &r.operations,
            })
    })
}

#[cfg(test)]
mod tests;
