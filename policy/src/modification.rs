//! What an accepted route gets changed: communities added, AS path prepended, a priority set.

use bgp_proto::attribute::PathAttributes;
use bgp_proto::Asn;

use crate::filter::{CommunityValue, Operation};

/// Changes to apply to an accepted route, in the order they were decided.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Modifications {
    pub add_communities: Vec<CommunityValue>,
    /// ASes to prepend (first element ends up leftmost).
    pub prepend: Vec<Asn>,
    /// Kernel priority (metric) in Felix's units.
    pub priority: Option<u32>,
}

impl Modifications {
    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.add_communities.is_empty() && self.prepend.is_empty() && self.priority.is_none()
    }

    /// Record a filter rule's operations.
    pub fn push_operations(&mut self, ops: &[Operation]) {
        for op in ops {
            match op {
                Operation::AddCommunity(c) => self.add_community(*c),
                Operation::PrependAsPath(p) => {
                    // Later prepends go in front of earlier ones.
                    let mut v = p.clone();
                    v.append(&mut self.prepend);
                    self.prepend = v;
                }
                Operation::SetPriority(p) => self.priority = Some(*p),
            }
        }
    }

    /// Add a community (once).
    pub fn add_community(&mut self, c: CommunityValue) {
        if !self.add_communities.contains(&c) {
            self.add_communities.push(c);
        }
    }

    /// Apply the attribute changes (communities are added once each, kept sorted as BIRD
    /// keeps them; the priority is not a BGP attribute and is left to the caller).
    pub fn apply(&self, attrs: &mut PathAttributes) {
        for c in &self.add_communities {
            match c {
                CommunityValue::Standard(s) => {
                    let v = attrs.communities.get_or_insert_with(Vec::new);
                    if !v.contains(s) {
                        v.push(*s);
                        v.sort();
                    }
                }
                CommunityValue::Large(l) => {
                    let v = attrs.large_communities.get_or_insert_with(Vec::new);
                    if !v.contains(l) {
                        v.push(*l);
                        v.sort();
                    }
                }
            }
        }
        if !self.prepend.is_empty() {
            let mut p = attrs.as_path.take().unwrap_or_default();
            for a in self.prepend.iter().rev() {
                p.prepend(*a);
            }
            attrs.as_path = Some(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use bgp_proto::attribute::{AsPath, Community, LargeCommunity};

    use super::*;

    #[test]
    fn applies_communities_once_and_prepends_in_order() {
        let mut m = Modifications::default();
        m.push_operations(&[
            Operation::AddCommunity(CommunityValue::Standard(Community::new(65000, 2))),
            Operation::AddCommunity(CommunityValue::Large(LargeCommunity {
                global: 65000,
                local1: 1,
                local2: 2,
            })),
            Operation::PrependAsPath(vec![Asn(65001), Asn(65002)]),
        ]);
        m.add_community(CommunityValue::Standard(Community::new(65000, 2)));
        let mut a = PathAttributes {
            communities: Some(vec![Community::new(65000, 3)]),
            as_path: Some(AsPath::from_sequence([Asn(65100)])),
            ..PathAttributes::default()
        };
        m.apply(&mut a);
        m.apply(&mut a.clone());
        assert_eq!(
            a.communities,
            Some(vec![Community::new(65000, 2), Community::new(65000, 3)])
        );
        assert_eq!(a.large_communities.as_ref().map(Vec::len), Some(1));
        assert_eq!(
            a.as_path,
            Some(AsPath::from_sequence([Asn(65001), Asn(65002), Asn(65100)]))
        );
    }
}
