//! `bgp_path` as a filter sees it (the filter's prepends before the route's AS path) and
//! BIRD 1.6's AS-path mask match (`as_path_match`, nest/a-path.c).

use bgp_proto::attribute::{AsPath, PathAttributes, SegmentType};
use bgp_proto::types::Asn;
use smallvec::SmallVec;

use crate::bird::ir::MaskItem;

/// Path positions kept on the stack; a longer path spills to the heap (rare: a path of more
/// than 64 ASes).
const INLINE_POSITIONS: usize = 64;

/// One position of a path as BIRD's matcher sees it: one AS of an AS_SEQUENCE, or a whole
/// AS_SET (which may stand for any run of its members).
#[derive(Clone, Copy)]
enum Pos<'a> {
    Asn(u32),
    Set(&'a [Asn]),
}

impl Pos<'_> {
    fn is_set(&self) -> bool {
        matches!(self, Pos::Set(_))
    }

    fn has(&self, asn: u32) -> bool {
        match self {
            Pos::Asn(a) => *a == asn,
            Pos::Set(s) => s.iter().any(|a| a.0 == asn),
        }
    }
}

type Positions<'a> = SmallVec<[Pos<'a>; INLINE_POSITIONS]>;

/// The current `bgp_path`: `prepended` (last call leftmost) before the route's path.
pub(super) struct PathView<'a> {
    prepended: &'a [u32],
    /// The route's attributes, `Some` only when they hold an AS_PATH.
    attrs: Option<&'a PathAttributes>,
}

impl<'a> PathView<'a> {
    pub(super) fn new(prepended: &'a [u32], attrs: Option<&'a PathAttributes>) -> Self {
        PathView { prepended, attrs }
    }

    fn positions(&self) -> Positions<'a> {
        let mut out = Positions::new();
        out.extend(self.prepended.iter().rev().map(|a| Pos::Asn(*a)));
        if let Some(attrs) = self.attrs {
            route_positions(attrs, &mut out);
        }
        out
    }

    /// `asn ~ bgp_path`: the AS appears anywhere in the path (`as_path_contains`).
    pub(super) fn contains(&self, asn: u32) -> bool {
        self.prepended.contains(&asn) || self.positions().iter().any(|p| p.has(asn))
    }

    /// `bgp_path ~ [= … =]`, BIRD 1.6's nondeterministic walk: positions of the path are
    /// states, mask items are input; `*` marks every later state, an AS or `?` advances the
    /// marked states that accept it. An AS_SET position accepts repeatedly and may be
    /// skipped when it follows a matched position. The path matches when the state after
    /// the last position is marked at the end.
    pub(super) fn matches(&self, mask: &[MaskItem]) -> bool {
        let pos = self.positions();
        let plen = pos.len();
        let mut mark: SmallVec<[bool; INLINE_POSITIONS + 1]> = SmallVec::from_elem(false, plen + 1);
        mark[0] = true;
        let (mut l, mut h) = (0usize, 0usize);
        for item in mask {
            // The final state must not be stepped from.
            mark[plen] = false;
            match item {
                MaskItem::AnyMany => {
                    for m in &mut mark[l..=plen] {
                        *m = true;
                    }
                    h = plen;
                }
                MaskItem::Asn(_) | MaskItem::AnyOne => {
                    let (mut nl, mut nh) = (None, None);
                    for i in (l..=h).rev() {
                        if !mark[i] {
                            continue;
                        }
                        mark[i] = false;
                        let hit = match item {
                            MaskItem::Asn(a) => pos[i].has(*a),
                            _ => true,
                        };
                        if hit {
                            // Going down, every hit lowers the low bound; the first sets the high.
                            let (low, high) = step(&pos, &mut mark, i);
                            nl = Some(low);
                            nh.get_or_insert(high);
                        }
                    }
                    match (nl, nh) {
                        (Some(low), Some(high)) => (l, h) = (low, high),
                        _ => return false,
                    }
                }
            }
        }
        mark[plen]
    }
}

/// Marks the states reachable after position `i` accepted an AS (BIRD `pm_mark`): `i` itself
/// if it is a set, the next position, and past any run of unmarked sets after `i`. Returns the
/// new (low, high) bounds this contributes.
fn step(pos: &[Pos<'_>], mark: &mut [bool], i: usize) -> (usize, usize) {
    let plen = pos.len();
    if pos[i].is_set() {
        mark[i] = true;
    }
    let mut j = i + 1;
    while j < plen && pos[j].is_set() && !mark[j] {
        mark[j] = true;
        j += 1;
    }
    mark[j] = true;
    (i + usize::from(!pos[i].is_set()), j)
}

/// The route's AS path as positions: AS_PATH merged with AS4_PATH as in RFC 6793 §4.2.3
/// (`PathAttributes::effective_as_path`, without building a new path); confederation
/// segments are left out (BIRD 1.6 does not keep them).
fn route_positions<'a>(attrs: &'a PathAttributes, out: &mut Positions<'a>) {
    let Some(path) = attrs.as_path.as_ref() else {
        return;
    };
    let as4_ignored = matches!(
        (attrs.aggregator, attrs.as4_aggregator),
        (Some(a), Some(_)) if a.asn != Asn::TRANS
    );
    let as4 = attrs.as4_path.as_ref().filter(|_| !as4_ignored);
    match as4 {
        Some(p4) if path.path_len() >= p4.path_len() => {
            let mut need = path.path_len() - p4.path_len();
            for s in &path.segments {
                if need == 0 {
                    break;
                }
                match s.kind {
                    SegmentType::Sequence => {
                        let take = need.min(s.asns.len());
                        out.extend(s.asns[..take].iter().map(|a| Pos::Asn(a.0)));
                        need -= take;
                    }
                    SegmentType::Set => {
                        out.push(Pos::Set(&s.asns));
                        need -= 1;
                    }
                    SegmentType::ConfedSequence | SegmentType::ConfedSet => {}
                }
            }
            all_positions(p4, out);
        }
        _ => all_positions(path, out),
    }
}

fn all_positions<'a>(path: &'a AsPath, out: &mut Positions<'a>) {
    for s in &path.segments {
        match s.kind {
            SegmentType::Sequence => out.extend(s.asns.iter().map(|a| Pos::Asn(a.0))),
            SegmentType::Set => out.push(Pos::Set(&s.asns)),
            SegmentType::ConfedSequence | SegmentType::ConfedSet => {}
        }
    }
}
