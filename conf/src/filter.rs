//! Typed routing-policy configuration: Calico BGPFilter rules and community values.
//!
//! The model is the `policy` crate's own: validation (`validate`) builds these types
//! straight from the file, with the same constructors the policy uses (`CidrMatch::new`,
//! `CommunityValue::from_str`, `FilterName::new`), so what validates is what runs. They are
//! re-exported here so the rest of the configuration names them as `conf::...`.

pub use policy::filter::{
    CidrMatch, CommunityValue, Filter, FilterAction, FilterName, FilterRule, MatchOperator,
    Operation,
};
pub use policy::route::PeerType;
