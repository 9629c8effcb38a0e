//! Running a [`Program`] on one route, with BIRD 1.6.8's semantics (Calico's fork,
//! `projectcalico/bird`, which adds the string attribute `krt_tunnel`).
//!
//! Guarantees:
//! - [`run`] does not allocate per route: values are borrowed from the program and the route,
//!   writes go into [`Changes`] (inline storage for the few communities/prepends a filter adds;
//!   an AS-path mask match keeps up to 64 path positions on the stack).
//! - Reads see the filter's own earlier writes (`krt_metric = 1024; if krt_metric < 1024 …`,
//!   `bgp_community.add(c); if c ~ bgp_community …`, `bgp_path.prepend(a); bgp_path ~ [= a * =]`).
//! - `accept`/`reject` end the whole program, also inside a (nested) function; a function that
//!   falls off its end returns to its caller.
//! - Falling off the end of the program is an error, as in BIRD: `f_run` (filter/filter.c)
//!   answers `F_ERROR` and logs "Filter … did not return accept nor reject. Make up your mind";
//!   its callers (nest/rt-table.c, `fr > F_ACCEPT`) then drop the route exactly as for a
//!   runtime error. We answer `Err(`[`RuntimeError::NoVerdict`]`)`: the caller rejects and logs.
//! - A runtime error (type mismatch, arithmetic on an undefined attribute, out-of-range
//!   preference) rejects the route and is reported as [`RuntimeError`] so the caller can log it.
//!
//! # BIRD 1.6 semantics reproduced (filter/filter.c unless said otherwise)
//! - **Integers** are unsigned 32 bits (`struct f_val` holds `uint i`, filter/filter.h):
//!   `+`/`-` wrap (`FI_ADD`/`FI_SUBTRACT`, `0 - 1` is 4294967295) and comparisons are
//!   unsigned (`val_compare` uses `uint_cmp`). `2147483647 - bgp_local_pref` is exact for any
//!   local preference up to 2³¹−1.
//! - **Undefined attributes.** Static attributes (`net`, `source`, `ifname`, `preference`) are
//!   always defined; `ifname` of a route without an interface reads `""` (`FI_RTA_GET`
//!   `SA_IFNAME`), so `defined(ifname)` is always true. Extended attributes (`krt_metric`,
//!   `krt_tunnel`, `bgp_local_pref`, `bgp_med`, `bgp_next_hop`, `bgp_path`) read as *void*
//!   when absent (`FI_EA_GET`), except the community lists: an absent `bgp_community` /
//!   `bgp_large_community` reads as an empty list, so `defined()` of them is always true.
//!   `defined(x)` is "x is not void" (`FI_DEFINED`).
//! - **Void in comparisons** (`val_compare`, "hack for else"): void is smaller than any
//!   value, void equals void. So `krt_metric < 1024` is *true* when `krt_metric` is undefined,
//!   `bgp_local_pref > N` is false, `x = void` is false and `x != void` is true. `a > b` is
//!   compiled as `b < a` and `a >= b` as `b <= a` (filter/config.Y). Comparing two defined
//!   values of different types with `<`/`<=`/`>`/`>=` is a runtime error; with `=`/`!=` it is
//!   "not equal" (`val_same`).
//! - **Void elsewhere** is a runtime error: arithmetic (`FI_ADD`/`FI_SUBTRACT`), `~` against
//!   anything (`val_in_range` → `CMP_ERROR`, e.g. `bgp_next_hop ~ 10.0.0.0/8` without a next
//!   hop), assigning it to an attribute (`FI_EA_SET`), `if`/`!`/`&&`/`||` on it.
//! - **`~`** (`val_in_range`): path ~ mask (`as_path_match`, nest/a-path.c), int ~ path (AS
//!   in path), pair ~ clist, IPv4 ~ clist (as a 32-bit value), large community ~ lclist,
//!   string ~ string (`patmatch`, lib/patmatch.c: `*`, `?`, `\` escapes, with BIRD's quirk
//!   that the character after `*` is searched literally), ip ~ prefix, prefix ~ prefix (within,
//!   length not shorter), prefix ~ prefix set (filter/trie.c: the first min(len, pattern len)
//!   bits agree and the length is in the pattern's range), enum ~ enum set. An IPv4 value
//!   never matches an IPv6 prefix and the reverse (BIRD 1.6 has one family per binary).
//! - **Writes.** `preference` takes an int ≤ 65535 (`FI_PREF_SET`; `preference = 0 - 1` is
//!   "out of bounds" since BIRD's int is unsigned underneath, `struct f_val`'s `uint i`); `krt_metric`, `bgp_local_pref`, `bgp_med` take an int or an enum
//!   (`FI_EA_SET`, `EAF_TYPE_INT`); `krt_tunnel` takes a string (the fork's
//!   `EAF_TYPE_STRING`). Any other type, void included, is [`RuntimeError::BadAssignment`].
//! - **Lists.** `bgp_community.add(p)` adds once and `.delete(p)` removes every copy
//!   (nest/a-set.c `int_set_add`/`int_set_del`); likewise for large communities.
//!   `bgp_path.prepend(asn)` needs a defined `bgp_path` ("Can't prepend to non-path").
//! - **Function arguments** must be bool or void (`FI_SET` on the parameter; Calico's
//!   parameters are all `bool`); using a void parameter as a condition is a runtime error.
//!
//! # Route facts
//! - `bgp_next_hop` is [`RouteView::next_hop`] when [`RouteView::attrs`] is `Some` (a BGP
//!   route), undefined otherwise. `bgp_local_pref`, `bgp_med`, `bgp_community`,
//!   `bgp_large_community`, `bgp_path` come from `attrs` (undefined / empty when `None`).
//!   BIRD's BGP export (`bgp_create_attrs`, proto/bgp/attrs.c) gives a non-BGP route a default
//!   ORIGIN, AS_PATH, NEXT_HOP and LOCAL_PREF (100 by default) *before* the export filter runs:
//!   a caller that wants that exactly passes such an `attrs`.
//! - `krt_tunnel` is never set on a route before the filter (it is written by Calico's kernel
//!   filter only); `krt_metric` is [`RouteView::krt_metric`] (a kernel-learned route's metric).
//! - `bgp_path` is the route's AS_PATH merged with AS4_PATH (RFC 6793 §4.2.3); confederation
//!   segments are skipped (BIRD 1.6 does not keep them).
//!
//! # Not supported (an error, never a silent difference)
//! - `krt_tunnel = ifname` (a string borrowed from the route cannot outlive it in
//!   [`Changes`]): [`RuntimeError::BadAssignment`].
//! - `bgp_path.delete(asn)` and writes to read-only or unmodelled attributes (`net`,
//!   `source`, `ifname`, `bgp_next_hop`, lists): [`RuntimeError::Unsupported`] /
//!   [`RuntimeError::NotWritable`].

mod aspath;
/// Adds (`add`) or deletes `v` in a community list as a filter sees it: the route's list
/// (`on_route`: whether `v` is on it) with `added` and `deleted` applied. Keeps the two disjoint,
/// `added` free of what the route has and `deleted` within it (see [`Changes`]).
fn set_member<T: PartialEq + Copy, A, D>(
    added: &mut smallvec::SmallVec<A>,
    deleted: &mut smallvec::SmallVec<D>,
    on_route: bool,
    add: bool,
    v: T,
) where
    A: smallvec::Array<Item = T>,
    D: smallvec::Array<Item = T>,
{
    if add {
        if let Some(i) = deleted.iter().position(|x| *x == v) {
            deleted.remove(i);
        } else if !on_route && !added.contains(&v) {
            added.push(v);
        }
    } else {
        added.retain(|x| *x != v);
        if on_route && !deleted.contains(&v) {
            deleted.push(v);
        }
    }
}

#[cfg(test)]
mod tests;

use std::cmp::Ordering;
use std::net::IpAddr;

use bgp_proto::attribute::PathAttributes;
use ipnet::IpNet;
use smallvec::SmallVec;

use super::ir::{
    ArithOp, Attr, CmpOp, Const, Expr, MaskItem, Method, PrefixPattern, Program, RouteSourceKind,
    Stmt,
};

/// Nested calls allowed before the program is declared malformed. BIRD resolves a call at
/// parse time to an already defined function, so real programs nest at most as deep as they
/// have functions (Calico: 3); the limit only stops a hand-made cycle.
pub const MAX_CALL_DEPTH: usize = 64;

/// What a filter can read of a route: its prefix, where it came from, and its attributes.
#[derive(Debug, Clone, Copy)]
pub struct RouteView<'a> {
    pub net: IpNet,
    pub source: RouteSourceKind,
    /// Outgoing interface (BIRD's `ifname`); `None` when unknown or for a blackhole (the
    /// filter then reads `""`, and `defined(ifname)` is still true, as in BIRD 1.6).
    pub ifname: Option<&'a str>,
    /// BIRD's route preference before the filter (BGP 100, static 200, device 240).
    pub preference: u32,
    /// `krt_metric` before the filter (a kernel-learned route's metric); usually `None`.
    pub krt_metric: Option<u32>,
    /// The next hop (BIRD's `bgp_next_hop` for BGP routes, i.e. when `attrs` is `Some`).
    pub next_hop: Option<IpAddr>,
    /// BGP path attributes; `None` for non-BGP routes.
    pub attrs: Option<&'a PathAttributes>,
}

impl<'a> RouteView<'a> {
    /// A route from `source` with that source's default preference, no interface and no
    /// kernel metric: what bgpd hands a program for a BGP route or one of its static routes.
    pub fn new(
        net: IpNet,
        source: RouteSourceKind,
        next_hop: Option<IpAddr>,
        attrs: Option<&'a PathAttributes>,
    ) -> Self {
        RouteView {
            net,
            source,
            ifname: None,
            preference: source.default_preference(),
            krt_metric: None,
            next_hop,
            attrs,
        }
    }
}

/// What the filter wrote. Empty when it wrote nothing.
///
/// Community lists: the route's list after the filter is its list before, without every
/// community in `communities_deleted`, plus `communities_added` (the two never share an
/// element, none of `communities_added` was on the route and every one of
/// `communities_deleted` was, so the order of applying them does not matter). Large
/// communities likewise.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes<'p> {
    pub preference: Option<u32>,
    pub krt_metric: Option<u32>,
    /// `krt_tunnel = "…"`; `Some("")` is an explicit "no tunnel".
    pub krt_tunnel: Option<&'p str>,
    pub local_pref: Option<u32>,
    pub med: Option<u32>,
    /// Standard communities added, in order (each once), as `(asn, value)`.
    pub communities_added: smallvec::SmallVec<[(u16, u16); 4]>,
    pub communities_deleted: smallvec::SmallVec<[(u16, u16); 2]>,
    /// Large communities added, in order (each once).
    pub large_added: smallvec::SmallVec<[(u32, u32, u32); 2]>,
    pub large_deleted: smallvec::SmallVec<[(u32, u32, u32); 2]>,
    /// ASes prepended, in the order of the `prepend` calls (the last one ends up leftmost).
    pub prepended: smallvec::SmallVec<[u32; 4]>,
}

impl Changes<'_> {
    /// Whether the filter wrote nothing.
    pub fn is_empty(&self) -> bool {
        *self == Changes::default()
    }

    /// Whether a BGP path attribute changes (local pref, MED, communities, AS path).
    pub fn touches_bgp(&self) -> bool {
        self.local_pref.is_some()
            || self.med.is_some()
            || !self.communities_added.is_empty()
            || !self.communities_deleted.is_empty()
            || !self.large_added.is_empty()
            || !self.large_deleted.is_empty()
            || !self.prepended.is_empty()
    }
}

/// Accept or reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Accept,
    Reject,
}

/// The result of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome<'p> {
    pub verdict: Verdict,
    pub changes: Changes<'p>,
}

/// A filter failed on a route (BIRD: "filter runtime error"); the route is rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuntimeError {
    #[error("{op}: operands of incompatible types ({left} and {right})")]
    TypeMismatch {
        op: &'static str,
        left: &'static str,
        right: &'static str,
    },
    #[error("{0} is not defined on this route")]
    Undefined(&'static str),
    #[error("integer out of range in {0}")]
    Overflow(&'static str),
    #[error("call of function #{0}, which does not exist")]
    NoSuchFunction(usize),
    #[error("value of type {found} cannot be assigned to {attr}")]
    BadAssignment {
        attr: &'static str,
        found: &'static str,
    },
    /// The program ended without `accept` or `reject` (BIRD: "did not return accept nor
    /// reject"; the route is dropped).
    #[error("filter did not return accept nor reject")]
    NoVerdict,
    /// An attribute this evaluator cannot write (read-only in BIRD, or not modelled).
    #[error("{0} cannot be written by a filter here")]
    NotWritable(&'static str),
    /// A BIRD operation outside the modelled subset.
    #[error("unsupported operation: {0}")]
    Unsupported(&'static str),
    /// Calls nested deeper than [`MAX_CALL_DEPTH`] (a call cycle in a hand-made program).
    #[error("function calls nested deeper than {0}")]
    CallDepth(usize),
    /// A program the front end should not have built (wrong argument count, parameter out of
    /// range).
    #[error("malformed program: {0}")]
    Malformed(&'static str),
}

/// Run `program` on `route`.
pub fn run<'p>(program: &'p Program, route: &RouteView<'_>) -> Result<Outcome<'p>, RuntimeError> {
    let mut m = Machine {
        program,
        route,
        changes: Changes::default(),
        depth: 0,
    };
    match m.block(&program.body, &[])? {
        Flow::Done(verdict) => Ok(Outcome {
            verdict,
            changes: m.changes,
        }),
        Flow::Next => Err(RuntimeError::NoVerdict),
    }
}

/// Whether execution goes on with the next statement or the program has decided.
enum Flow {
    Next,
    Done(Verdict),
}

/// A string: a literal of the program or a name from the route (`ifname`).
#[derive(Clone, Copy)]
enum Str<'p, 'r> {
    Program(&'p str),
    Route(&'r str),
}

impl Str<'_, '_> {
    fn as_str(&self) -> &str {
        match self {
            Str::Program(s) => s,
            Str::Route(s) => s,
        }
    }
}

/// A value (BIRD `struct f_val`). Lists are always the route's current attribute (the
/// subset has no list literals or variables), so they carry no data: the machine reads them.
#[derive(Clone, Copy)]
enum Value<'p, 'r> {
    /// Undefined; names the attribute it was read from.
    Void(&'static str),
    Int(u32),
    Bool(bool),
    Ip(IpAddr),
    Prefix(IpNet),
    Str(Str<'p, 'r>),
    /// A standard community, `(a << 16) | b`.
    Pair(u32),
    /// A large community.
    Lc(u32, u32, u32),
    Enum(RouteSourceKind),
    PrefixSet(&'p [PrefixPattern]),
    SourceSet(&'p [RouteSourceKind]),
    PathMask(&'p [MaskItem]),
    /// `bgp_community` as it stands.
    Clist,
    /// `bgp_large_community` as it stands.
    Lclist,
    /// `bgp_path` as it stands.
    Path,
}

impl Value<'_, '_> {
    fn type_name(&self) -> &'static str {
        match self {
            Value::Void(_) => "void",
            Value::Int(_) => "int",
            Value::Bool(_) => "bool",
            Value::Ip(_) => "ip",
            Value::Prefix(_) => "prefix",
            Value::Str(_) => "string",
            Value::Pair(_) => "pair",
            Value::Lc(..) => "lc",
            Value::Enum(_) => "enum",
            Value::PrefixSet(_) => "prefix set",
            Value::SourceSet(_) => "enum set",
            Value::PathMask(_) => "bgpmask",
            Value::Clist => "clist",
            Value::Lclist => "lclist",
            Value::Path => "bgppath",
        }
    }

    fn same_type(&self, other: &Self) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }
}

/// BIRD's `RTS_*` number (nest/route.h), for comparisons and int assignments.
fn rts_number(s: RouteSourceKind) -> u32 {
    match s {
        RouteSourceKind::Dummy => 0,
        RouteSourceKind::Static => 1,
        RouteSourceKind::Inherit => 2,
        RouteSourceKind::Device => 3,
        RouteSourceKind::StaticDevice => 4,
        RouteSourceKind::Redirect => 5,
        RouteSourceKind::Rip => 6,
        RouteSourceKind::Ospf => 7,
        RouteSourceKind::OspfIa => 8,
        RouteSourceKind::OspfExt1 => 9,
        RouteSourceKind::OspfExt2 => 10,
        RouteSourceKind::Bgp => 11,
        RouteSourceKind::Pipe => 12,
        RouteSourceKind::Babel => 13,
    }
}

fn attr_name(a: Attr) -> &'static str {
    match a {
        Attr::Net => "net",
        Attr::Source => "source",
        Attr::IfName => "ifname",
        Attr::Preference => "preference",
        Attr::KrtMetric => "krt_metric",
        Attr::KrtTunnel => "krt_tunnel",
        Attr::BgpLocalPref => "bgp_local_pref",
        Attr::BgpNextHop => "bgp_next_hop",
        Attr::BgpMed => "bgp_med",
        Attr::BgpCommunity => "bgp_community",
        Attr::BgpLargeCommunity => "bgp_large_community",
        Attr::BgpPath => "bgp_path",
    }
}

/// A literal integer as BIRD's 32-bit `int`: the lexer accepts 0..=2³²−1 (conf/cf-lex.l);
/// a negative value (not writable in BIRD 1.6, accepted here) is taken in two's complement.
fn int_const(i: i64) -> Result<u32, RuntimeError> {
    if let Ok(u) = u32::try_from(i) {
        Ok(u)
    } else if let Ok(s) = i32::try_from(i) {
        Ok(s as u32)
    } else {
        Err(RuntimeError::Overflow("integer literal"))
    }
}

fn int_of(v: Value<'_, '_>) -> Option<u32> {
    match v {
        Value::Int(i) => Some(i),
        Value::Enum(e) => Some(rts_number(e)),
        _ => None,
    }
}

/// The state of one run.
struct Machine<'p, 'v, 'r> {
    program: &'p Program,
    route: &'v RouteView<'r>,
    changes: Changes<'p>,
    depth: usize,
}

impl<'p, 'r> Machine<'p, '_, 'r> {
    fn block(&mut self, stmts: &'p [Stmt], args: &[Value<'p, 'r>]) -> Result<Flow, RuntimeError> {
        for s in stmts {
            if let Flow::Done(v) = self.stmt(s, args)? {
                return Ok(Flow::Done(v));
            }
        }
        Ok(Flow::Next)
    }

    fn stmt(&mut self, s: &'p Stmt, args: &[Value<'p, 'r>]) -> Result<Flow, RuntimeError> {
        match s {
            Stmt::Accept => Ok(Flow::Done(Verdict::Accept)),
            Stmt::Reject => Ok(Flow::Done(Verdict::Reject)),
            Stmt::If {
                cond,
                then,
                otherwise,
            } => {
                if self.boolean(cond, args, "if")? {
                    self.block(then, args)
                } else {
                    self.block(otherwise, args)
                }
            }
            Stmt::Set { attr, value } => {
                let v = self.eval(value, args)?;
                self.set(*attr, v)?;
                Ok(Flow::Next)
            }
            Stmt::Method { attr, method, arg } => {
                let v = self.eval(arg, args)?;
                self.method(*attr, *method, v)?;
                Ok(Flow::Next)
            }
            Stmt::Call {
                function,
                args: call_args,
            } => self.call(*function, call_args, args),
        }
    }

    fn call(
        &mut self,
        id: usize,
        call_args: &'p [Expr],
        args: &[Value<'p, 'r>],
    ) -> Result<Flow, RuntimeError> {
        let program = self.program;
        let f = program
            .functions
            .get(id)
            .ok_or(RuntimeError::NoSuchFunction(id))?;
        if call_args.len() != f.params.len() {
            return Err(RuntimeError::Malformed("wrong number of arguments"));
        }
        if self.depth >= MAX_CALL_DEPTH {
            return Err(RuntimeError::CallDepth(MAX_CALL_DEPTH));
        }
        // Arguments are evaluated in the caller's frame, then bound to the (bool) parameters.
        let mut frame: SmallVec<[Value<'p, 'r>; 4]> = SmallVec::new();
        for e in call_args {
            let v = self.eval(e, args)?;
            if !matches!(v, Value::Bool(_) | Value::Void(_)) {
                return Err(RuntimeError::BadAssignment {
                    attr: "bool parameter",
                    found: v.type_name(),
                });
            }
            frame.push(v);
        }
        self.depth += 1;
        let flow = self.block(&f.body, &frame);
        self.depth -= 1;
        flow
    }

    fn boolean(
        &self,
        e: &'p Expr,
        args: &[Value<'p, 'r>],
        op: &'static str,
    ) -> Result<bool, RuntimeError> {
        match self.eval(e, args)? {
            Value::Bool(b) => Ok(b),
            Value::Void(name) => Err(RuntimeError::Undefined(name)),
            v => Err(RuntimeError::TypeMismatch {
                op,
                left: v.type_name(),
                right: "bool",
            }),
        }
    }

    fn eval(&self, e: &'p Expr, args: &[Value<'p, 'r>]) -> Result<Value<'p, 'r>, RuntimeError> {
        Ok(match e {
            Expr::Const(c) => constant(c)?,
            Expr::Attr(a) => self.read(*a),
            Expr::Param(i) => *args
                .get(*i)
                .ok_or(RuntimeError::Malformed("parameter out of range"))?,
            Expr::Defined(a) => Value::Bool(!matches!(self.read(*a), Value::Void(_))),
            Expr::Not(x) => Value::Bool(!self.boolean(x, args, "!")?),
            Expr::And(a, b) => {
                Value::Bool(self.boolean(a, args, "&&")? && self.boolean(b, args, "&&")?)
            }
            Expr::Or(a, b) => {
                Value::Bool(self.boolean(a, args, "||")? || self.boolean(b, args, "||")?)
            }
            Expr::Cmp { op, left, right } => {
                let l = self.eval(left, args)?;
                let r = self.eval(right, args)?;
                Value::Bool(self.compare_op(*op, l, r)?)
            }
            Expr::Match {
                negated,
                left,
                right,
            } => {
                let l = self.eval(left, args)?;
                let r = self.eval(right, args)?;
                let op = if *negated { "!~" } else { "~" };
                Value::Bool(self.matches(l, r, op)? != *negated)
            }
            Expr::Arith { op, left, right } => {
                let l = self.eval(left, args)?;
                let r = self.eval(right, args)?;
                let (sym, f): (&'static str, fn(u32, u32) -> u32) = match op {
                    ArithOp::Add => ("+", u32::wrapping_add),
                    ArithOp::Sub => ("-", u32::wrapping_sub),
                };
                match (l, r) {
                    (Value::Int(a), Value::Int(b)) => Value::Int(f(a, b)),
                    (Value::Void(n), _) | (_, Value::Void(n)) => {
                        return Err(RuntimeError::Undefined(n))
                    }
                    (l, r) => {
                        return Err(RuntimeError::TypeMismatch {
                            op: sym,
                            left: l.type_name(),
                            right: r.type_name(),
                        })
                    }
                }
            }
        })
    }

    /// An attribute's current value: the filter's own write if any, else the route's.
    fn read(&self, a: Attr) -> Value<'p, 'r> {
        let r = self.route;
        let c = &self.changes;
        let int = |v: Option<u32>| v.map_or(Value::Void(attr_name(a)), Value::Int);
        match a {
            Attr::Net => Value::Prefix(r.net),
            Attr::Source => Value::Enum(r.source),
            Attr::IfName => Value::Str(Str::Route(r.ifname.unwrap_or(""))),
            Attr::Preference => Value::Int(c.preference.unwrap_or(r.preference)),
            Attr::KrtMetric => int(c.krt_metric.or(r.krt_metric)),
            Attr::KrtTunnel => c
                .krt_tunnel
                .map_or(Value::Void("krt_tunnel"), |s| Value::Str(Str::Program(s))),
            Attr::BgpLocalPref => int(c.local_pref.or(r.attrs.and_then(|x| x.local_pref))),
            Attr::BgpMed => int(c.med.or(r.attrs.and_then(|x| x.med))),
            Attr::BgpNextHop => match (r.attrs, r.next_hop) {
                (Some(_), Some(ip)) => Value::Ip(ip),
                _ => Value::Void("bgp_next_hop"),
            },
            Attr::BgpCommunity => Value::Clist,
            Attr::BgpLargeCommunity => Value::Lclist,
            Attr::BgpPath => match r.attrs.and_then(|x| x.as_path.as_ref()) {
                Some(_) => Value::Path,
                None => Value::Void("bgp_path"),
            },
        }
    }

    fn set(&mut self, a: Attr, v: Value<'p, 'r>) -> Result<(), RuntimeError> {
        let bad = |v: Value<'_, '_>| RuntimeError::BadAssignment {
            attr: attr_name(a),
            found: v.type_name(),
        };
        match a {
            Attr::Preference => {
                // FI_PREF_SET: an int, at most 0xFFFF (BIRD's route preference is 16 bits).
                let Value::Int(i) = v else { return Err(bad(v)) };
                if i > 0xFFFF {
                    return Err(RuntimeError::Overflow("preference"));
                }
                self.changes.preference = Some(i);
            }
            Attr::KrtMetric => self.changes.krt_metric = Some(int_of(v).ok_or_else(|| bad(v))?),
            Attr::BgpLocalPref => self.changes.local_pref = Some(int_of(v).ok_or_else(|| bad(v))?),
            Attr::BgpMed => self.changes.med = Some(int_of(v).ok_or_else(|| bad(v))?),
            Attr::KrtTunnel => match v {
                Value::Str(Str::Program(s)) => self.changes.krt_tunnel = Some(s),
                Value::Str(Str::Route(_)) => {
                    return Err(RuntimeError::BadAssignment {
                        attr: "krt_tunnel",
                        found: "string read from the route",
                    })
                }
                v => return Err(bad(v)),
            },
            Attr::Net
            | Attr::Source
            | Attr::IfName
            | Attr::BgpNextHop
            | Attr::BgpCommunity
            | Attr::BgpLargeCommunity
            | Attr::BgpPath => return Err(RuntimeError::NotWritable(attr_name(a))),
        }
        Ok(())
    }

    fn method(&mut self, a: Attr, m: Method, arg: Value<'p, 'r>) -> Result<(), RuntimeError> {
        let target = self.read(a);
        let op = match m {
            Method::Add => "add",
            Method::Delete => "delete",
            Method::Prepend => "prepend",
        };
        let mismatch = |left: &Value<'_, '_>, right: &'static str| RuntimeError::TypeMismatch {
            op,
            left: left.type_name(),
            right,
        };
        match (m, target) {
            (Method::Prepend, Value::Path) => match arg {
                Value::Int(asn) => self.changes.prepended.push(asn),
                v => return Err(mismatch(&v, "int")),
            },
            (Method::Prepend, t) => return Err(mismatch(&t, "bgppath")),
            (Method::Add | Method::Delete, Value::Clist) => {
                let c = match arg {
                    Value::Pair(p) => p,
                    Value::Ip(IpAddr::V4(ip)) => u32::from(ip),
                    v => return Err(mismatch(&v, "pair")),
                };
                self.community(m == Method::Add, c);
            }
            (Method::Add | Method::Delete, Value::Lclist) => {
                let Value::Lc(x, y, z) = arg else {
                    return Err(mismatch(&arg, "lc"));
                };
                self.large_community(m == Method::Add, (x, y, z));
            }
            (Method::Add, Value::Path) => return Err(RuntimeError::Unsupported("bgp_path.add")),
            (Method::Delete, Value::Path) => {
                return Err(RuntimeError::Unsupported("bgp_path.delete"))
            }
            (_, t) => return Err(mismatch(&t, "clist")),
        }
        Ok(())
    }

    /// `bgp_community.add(c)` / `.delete(c)`, keeping `Changes`' invariants (see [`Changes`]).
    fn community(&mut self, add: bool, c: u32) {
        let pair = ((c >> 16) as u16, c as u16);
        let on_route = self
            .route
            .attrs
            .and_then(|a| a.communities.as_deref())
            .is_some_and(|l| l.iter().any(|x| x.0 == c));
        let ch = &mut self.changes;
        set_member(
            &mut ch.communities_added,
            &mut ch.communities_deleted,
            on_route,
            add,
            pair,
        );
    }

    fn large_community(&mut self, add: bool, c: (u32, u32, u32)) {
        let on_route = self
            .route
            .attrs
            .and_then(|a| a.large_communities.as_deref())
            .is_some_and(|l| l.iter().any(|x| (x.global, x.local1, x.local2) == c));
        let ch = &mut self.changes;
        set_member(&mut ch.large_added, &mut ch.large_deleted, on_route, add, c);
    }

    fn clist_contains(&self, c: u32) -> bool {
        let pair = ((c >> 16) as u16, c as u16);
        let on_route = self
            .route
            .attrs
            .and_then(|a| a.communities.as_deref())
            .is_some_and(|l| l.iter().any(|x| x.0 == c));
        (on_route && !self.changes.communities_deleted.contains(&pair))
            || self.changes.communities_added.contains(&pair)
    }

    fn lclist_contains(&self, c: (u32, u32, u32)) -> bool {
        let on_route = self
            .route
            .attrs
            .and_then(|a| a.large_communities.as_deref())
            .is_some_and(|l| l.iter().any(|x| (x.global, x.local1, x.local2) == c));
        (on_route && !self.changes.large_deleted.contains(&c))
            || self.changes.large_added.contains(&c)
    }

    /// The current AS path: prepends (last one first) before the route's path.
    fn path(&self) -> aspath::PathView<'_> {
        aspath::PathView::new(
            &self.changes.prepended,
            self.route.attrs.filter(|a| a.as_path.is_some()),
        )
    }

    fn compare_op(
        &self,
        op: CmpOp,
        l: Value<'p, 'r>,
        r: Value<'p, 'r>,
    ) -> Result<bool, RuntimeError> {
        let ordered = |a: Value<'p, 'r>, b: Value<'p, 'r>, sym: &'static str| {
            compare(&a, &b).ok_or(RuntimeError::TypeMismatch {
                op: sym,
                left: a.type_name(),
                right: b.type_name(),
            })
        };
        Ok(match op {
            CmpOp::Eq => self.same(&l, &r),
            CmpOp::Ne => !self.same(&l, &r),
            CmpOp::Lt => ordered(l, r, "<")? == Ordering::Less,
            CmpOp::Le => ordered(l, r, "<=")? != Ordering::Greater,
            // config.Y: `a > b` is `b < a`, `a >= b` is `b <= a`.
            CmpOp::Gt => ordered(r, l, ">")? == Ordering::Less,
            CmpOp::Ge => ordered(r, l, ">=")? != Ordering::Greater,
        })
    }

    /// BIRD `val_same`: comparable values compare; different types are not the same.
    fn same(&self, l: &Value<'p, 'r>, r: &Value<'p, 'r>) -> bool {
        if let Some(o) = compare(l, r) {
            return o == Ordering::Equal;
        }
        match (l, r) {
            (Value::PrefixSet(a), Value::PrefixSet(b)) => a == b,
            (Value::SourceSet(a), Value::SourceSet(b)) => a == b,
            (Value::PathMask(a), Value::PathMask(b)) => a == b,
            // The same attribute read twice.
            (Value::Clist, Value::Clist)
            | (Value::Lclist, Value::Lclist)
            | (Value::Path, Value::Path) => true,
            _ => false,
        }
    }

    /// BIRD `val_in_range` (`~`); `None` from it is a runtime error.
    fn matches(
        &self,
        l: Value<'p, 'r>,
        r: Value<'p, 'r>,
        op: &'static str,
    ) -> Result<bool, RuntimeError> {
        Ok(match (l, r) {
            (Value::Path, Value::PathMask(mask)) => self.path().matches(mask),
            (Value::Int(asn), Value::Path) => self.path().contains(asn),
            (Value::Pair(c), Value::Clist) => self.clist_contains(c),
            (Value::Ip(IpAddr::V4(ip)), Value::Clist) => self.clist_contains(u32::from(ip)),
            (Value::Lc(x, y, z), Value::Lclist) => self.lclist_contains((x, y, z)),
            (Value::Str(s), Value::Str(pattern)) => {
                patmatch(pattern.as_str().as_bytes(), s.as_str().as_bytes())
            }
            (Value::Ip(ip), Value::Prefix(net)) => ip_in_net(ip, net),
            (Value::Prefix(inner), Value::Prefix(outer)) => {
                inner.prefix_len() >= outer.prefix_len() && ip_in_net(inner.addr(), outer)
            }
            (Value::Prefix(p), Value::PrefixSet(set)) => {
                set.iter().any(|pat| pattern_match(pat, p))
            }
            (Value::Enum(s), Value::SourceSet(set)) => set.contains(&s),
            (Value::Void(n), _) | (_, Value::Void(n)) => return Err(RuntimeError::Undefined(n)),
            (l, r) => {
                return Err(RuntimeError::TypeMismatch {
                    op,
                    left: l.type_name(),
                    right: r.type_name(),
                })
            }
        })
    }
}

fn constant<'p, 'r>(c: &'p Const) -> Result<Value<'p, 'r>, RuntimeError> {
    Ok(match c {
        Const::Bool(b) => Value::Bool(*b),
        Const::Int(i) => Value::Int(int_const(*i)?),
        Const::Ip(ip) => Value::Ip(*ip),
        Const::Prefix(p) => Value::Prefix(*p),
        Const::Str(s) => Value::Str(Str::Program(s)),
        Const::Pair(a, b) => {
            // config.Y `f_generate_dpair`: both halves must fit 16 bits.
            if *a > 0xFFFF || *b > 0xFFFF {
                return Err(RuntimeError::Overflow("pair"));
            }
            Value::Pair((a << 16) | b)
        }
        Const::Quad(a, b, c) => Value::Lc(*a, *b, *c),
        Const::Source(s) => Value::Enum(*s),
        Const::PrefixSet(v) => Value::PrefixSet(v),
        Const::SourceSet(v) => Value::SourceSet(v),
        Const::PathMask(v) => Value::PathMask(v),
    })
}

/// BIRD `val_compare` for the types that have an order; `None` is `CMP_ERROR`.
fn compare(a: &Value<'_, '_>, b: &Value<'_, '_>) -> Option<Ordering> {
    if !a.same_type(b) {
        // "Hack for else": void sorts before anything.
        return match (a, b) {
            (Value::Void(_), _) => Some(Ordering::Less),
            (_, Value::Void(_)) => Some(Ordering::Greater),
            _ => None,
        };
    }
    Some(match (a, b) {
        (Value::Void(_), Value::Void(_)) => Ordering::Equal,
        (Value::Int(x), Value::Int(y)) | (Value::Pair(x), Value::Pair(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Enum(x), Value::Enum(y)) => rts_number(*x).cmp(&rts_number(*y)),
        (Value::Lc(a1, a2, a3), Value::Lc(b1, b2, b3)) => (a1, a2, a3).cmp(&(b1, b2, b3)),
        (Value::Ip(x), Value::Ip(y)) => x.cmp(y),
        (Value::Prefix(x), Value::Prefix(y)) => {
            (x.addr(), x.prefix_len()).cmp(&(y.addr(), y.prefix_len()))
        }
        (Value::Str(x), Value::Str(y)) => x.as_str().as_bytes().cmp(y.as_str().as_bytes()),
        _ => return None,
    })
}

/// Whether the first `len` bits of two addresses of one family agree.
fn same_bits(a: IpAddr, b: IpAddr, len: u8) -> bool {
    match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = u32::MAX
                .checked_shl(32 - u32::from(len.min(32)))
                .unwrap_or(0);
            (u32::from(a) ^ u32::from(b)) & mask == 0
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mask = u128::MAX
                .checked_shl(128 - u32::from(len.min(128)))
                .unwrap_or(0);
            (u128::from(a) ^ u128::from(b)) & mask == 0
        }
        _ => false,
    }
}

fn ip_in_net(ip: IpAddr, net: IpNet) -> bool {
    same_bits(ip, net.addr(), net.prefix_len())
}

/// filter/trie.c: `p` matches `pat` when the first min(len(p), len(pat.net)) bits agree and
/// `pat.min_len <= len(p) <= pat.max_len`.
fn pattern_match(pat: &PrefixPattern, p: IpNet) -> bool {
    let len = p.prefix_len();
    (pat.min_len..=pat.max_len).contains(&len)
        && same_bits(p.addr(), pat.net.addr(), len.min(pat.net.prefix_len()))
}

/// BIRD's shell pattern match (lib/patmatch.c): `?` is one character, `*` any run, `\`
/// makes the next pattern character literal. As in BIRD, the pattern character right after a
/// `*` is looked for literally (so `*?` needs a `?` in the string).
fn patmatch(p: &[u8], s: &[u8]) -> bool {
    let (mut p, mut s) = (p, s);
    while let Some(&c) = p.first() {
        if c == b'?' && !s.is_empty() {
            p = &p[1..];
            s = &s[1..];
        } else if c == b'*' {
            let z = match (p.get(1), p.get(2)) {
                (None, _) => return true,
                (Some(b'\\'), Some(&esc)) => esc,
                (Some(&z), _) => z,
            };
            loop {
                match s.iter().position(|&x| x == z) {
                    None => return false,
                    Some(i) => s = &s[i..],
                }
                if patmatch(&p[1..], s) {
                    return true;
                }
                s = &s[1..];
            }
        } else {
            if c == b'\\' && p.len() > 1 {
                p = &p[1..];
            }
            match s.first() {
                Some(&x) if x == p[0] => {
                    p = &p[1..];
                    s = &s[1..];
                }
                _ => return false,
            }
        }
    }
    s.is_empty()
}
