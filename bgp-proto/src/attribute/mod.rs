//! Path attributes (RFC 4271 §4.3, §5) as one typed set, [`PathAttributes`].

/// An attribute kept as received: flags, type code and value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RawAttribute {
    pub flags: u8,
    pub type_code: u8,
    pub value: Vec<u8>,
}

/// The path attributes of an UPDATE (everything but MP_REACH/MP_UNREACH, which carry NLRI and
/// live in [`Update`](crate::update::Update)).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PathAttributes {
    pub unknown: Vec<RawAttribute>,
}
