//! The compiled form of a BIRD filter: a tree of statements and expressions whose symbols are
//! already resolved (attributes to [`Attr`], function calls to [`FunctionId`], parameters to
//! their position). Built by `conf`'s BIRD front end after it checked names and types; the
//! evaluator ([`super::eval`]) trusts that a well-typed program was built but still reports a
//! type mismatch at run time as a [`super::RuntimeError`] (BIRD: "filter runtime error", the
//! route is rejected).

use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;

/// One compiled filter: the body of a named `filter NAME { … }`, of an inline
/// `import filter { … }` / `export filter { … }`, or the trivial programs of `import all`
/// (`[Accept]`) and `import none` (`[Reject]`). Self-contained: it holds the function table of
/// the configuration it came from, so two programs compare equal exactly when they behave
/// alike on every route (reload diffs compare programs with `==`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Program {
    /// `filter NAME`'s name; `None` for inline filters and `all`/`none`. For display
    /// (`Input filter:` / `Output filter:` in `show protocols all`: a name, `ACCEPT`, `REJECT`
    /// or `(unnamed)`).
    pub name: Option<String>,
    pub body: Vec<Stmt>,
    /// Every function the configuration defines, in definition order; [`FunctionId`] indexes it.
    pub functions: Arc<[Function]>,
}

impl Program {
    /// `import all` / `export all`.
    pub fn accept_all() -> Program {
        Program {
            name: None,
            body: vec![Stmt::Accept],
            functions: Arc::from(Vec::new()),
        }
    }

    /// `import none` / `export none` (and BIRD's default export of a protocol).
    pub fn reject_all() -> Program {
        Program {
            name: None,
            body: vec![Stmt::Reject],
            functions: Arc::from(Vec::new()),
        }
    }

    /// `true` for the program of `all` (a single `accept`).
    pub fn is_accept_all(&self) -> bool {
        self.name.is_none() && self.body == [Stmt::Accept]
    }

    /// `true` for the program of `none` (a single `reject`).
    pub fn is_reject_all(&self) -> bool {
        self.name.is_none() && self.body == [Stmt::Reject]
    }
}

/// Index into [`Program::functions`].
pub type FunctionId = usize;

/// `function NAME(bool a, bool b) { … }`: Calico's functions take only `bool` parameters, have
/// no local variables and return nothing (they end the filter with `accept`/`reject` or fall
/// through).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Function {
    /// As written, without quotes (`calico_aggr`, `bgp_x_importFilterV4`).
    pub name: String,
    /// Parameter names, all of type `bool`; [`Expr::Param`] indexes this list.
    pub params: Vec<String>,
    pub body: Vec<Stmt>,
}

/// A statement.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Stmt {
    /// Ends the whole filter (also inside a function): the route passes.
    Accept,
    /// Ends the whole filter (also inside a function): the route is dropped.
    Reject,
    /// `if COND then …; [else …;]`; `otherwise` is empty without `else`.
    If {
        cond: Expr,
        then: Vec<Stmt>,
        otherwise: Vec<Stmt>,
    },
    /// `ATTR = VALUE;` (writable: preference, krt_metric, krt_tunnel, bgp_local_pref,
    /// bgp_med).
    Set { attr: Attr, value: Expr },
    /// `ATTR.METHOD(ARG);`: `bgp_community.add((a, b))`, `bgp_large_community.add((a, b, c))`,
    /// `bgp_community.delete(…)`, `bgp_path.prepend(asn)`.
    Method {
        attr: Attr,
        method: Method,
        arg: Expr,
    },
    /// `NAME(ARGS);` a call of a defined function; `args.len()` equals its parameter count.
    Call {
        function: FunctionId,
        args: Vec<Expr>,
    },
}

/// Methods on list-valued attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// Add a community / large community (once).
    Add,
    /// Remove a community / large community.
    Delete,
    /// Prepend an AS to `bgp_path`.
    Prepend,
}

/// An expression.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Expr {
    Const(Const),
    /// Read a route attribute (its value after the writes made so far by this filter).
    Attr(Attr),
    /// The function's `n`-th (bool) parameter.
    Param(usize),
    /// `defined(ATTR)`.
    Defined(Attr),
    /// `!E`.
    Not(Box<Expr>),
    /// `A && B` (short-circuit).
    And(Box<Expr>, Box<Expr>),
    /// `A || B` (short-circuit).
    Or(Box<Expr>, Box<Expr>),
    /// `A = B`, `A != B`, `A < B`, `A > B`, `A <= B`, `A >= B`.
    Cmp {
        op: CmpOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// `A ~ B` (`negated`: `A !~ B`): prefix in prefix or in prefix set, IP in prefix, string
    /// matches a shell glob, pair/quad in a community list, AS path against a mask, enum in an
    /// enum set.
    Match {
        negated: bool,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// `A + B`, `A - B` on integers.
    Arith {
        op: ArithOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArithOp {
    Add,
    Sub,
}

/// A literal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Const {
    Bool(bool),
    /// BIRD's `int` (32-bit signed in BIRD 1.6; kept wider here, range-checked by the compiler).
    Int(i64),
    Ip(IpAddr),
    Prefix(IpNet),
    /// `"…"` (a shell glob on the right of `~`).
    Str(String),
    /// `(a, b)`: a standard community value when matched against `bgp_community`.
    Pair(u32, u32),
    /// `(a, b, c)`: a large community value.
    Quad(u32, u32, u32),
    /// `RTS_BGP`, `RTS_STATIC`, …
    Source(RouteSourceKind),
    /// `[ 10.0.0.0/8{16,24}, 192.168.0.0/16+, … ]`.
    PrefixSet(Vec<PrefixPattern>),
    /// `[ RTS_BGP, RTS_STATIC ]`.
    SourceSet(Vec<RouteSourceKind>),
    /// `[= 65000 * 65001 =]`.
    PathMask(Vec<MaskItem>),
}

/// One element of a prefix set: `net` with a prefix length in `min_len..=max_len`
/// (`10.0.0.0/8` alone: 8..=8; `{a,b}`: a..=b; `+`: len..=max; `-`: 0..=len).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PrefixPattern {
    pub net: IpNet,
    pub min_len: u8,
    pub max_len: u8,
}

/// One element of an AS-path mask (BIRD `bgpmask`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MaskItem {
    /// This AS.
    Asn(u32),
    /// `?`: exactly one AS, any.
    AnyOne,
    /// `*`: any number of ASes (also none).
    AnyMany,
}

/// BIRD's route source (`source`, `RTS_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteSourceKind {
    /// `RTS_DUMMY`
    Dummy,
    /// `RTS_STATIC`: the static protocol (Calico's block blackholes, reachableBy routes).
    Static,
    /// `RTS_INHERIT`: learned from the kernel.
    Inherit,
    /// `RTS_DEVICE`: the direct protocol (interface addresses).
    Device,
    /// `RTS_STATIC_DEVICE`
    StaticDevice,
    /// `RTS_REDIRECT`
    Redirect,
    /// `RTS_RIP`
    Rip,
    /// `RTS_OSPF`
    Ospf,
    /// `RTS_OSPF_IA`
    OspfIa,
    /// `RTS_OSPF_EXT1`
    OspfExt1,
    /// `RTS_OSPF_EXT2`
    OspfExt2,
    /// `RTS_BGP`
    Bgp,
    /// `RTS_PIPE`
    Pipe,
    /// `RTS_BABEL`
    Babel,
}

impl RouteSourceKind {
    /// BIRD's default `preference` of a route from this source (its protocols' defaults:
    /// device 240, static 200, OSPF 150, RIP 120, BGP 100, kernel 10).
    pub fn default_preference(self) -> u32 {
        match self {
            RouteSourceKind::Device => 240,
            RouteSourceKind::Static | RouteSourceKind::StaticDevice => 200,
            RouteSourceKind::Ospf
            | RouteSourceKind::OspfIa
            | RouteSourceKind::OspfExt1
            | RouteSourceKind::OspfExt2 => 150,
            RouteSourceKind::Babel => 130,
            RouteSourceKind::Rip => 120,
            RouteSourceKind::Bgp => 100,
            RouteSourceKind::Inherit => 10,
            RouteSourceKind::Dummy | RouteSourceKind::Redirect | RouteSourceKind::Pipe => 0,
        }
    }
}

/// A route attribute a filter reads or writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Attr {
    /// `net` (prefix; read-only).
    Net,
    /// `source` (read-only).
    Source,
    /// `ifname` (outgoing interface; read-only here).
    IfName,
    /// `preference` (BIRD's route preference: 100 BGP, 200 static, 240 direct by default).
    Preference,
    /// `krt_metric` (kernel route metric; undefined unless set or learned from the kernel).
    KrtMetric,
    /// `krt_tunnel` (Calico's BIRD fork: the device of an `onlink` route; `""`: none).
    KrtTunnel,
    /// `bgp_local_pref`.
    BgpLocalPref,
    /// `bgp_next_hop`.
    BgpNextHop,
    /// `bgp_med`.
    BgpMed,
    /// `bgp_community` (list of pairs).
    BgpCommunity,
    /// `bgp_large_community` (list of triples).
    BgpLargeCommunity,
    /// `bgp_path` (AS path).
    BgpPath,
}
