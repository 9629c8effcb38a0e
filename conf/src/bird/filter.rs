//! BIRD's filter language (the subset of ../shared/BIRD-CONFIG.md §2.3) compiled to
//! `policy::bird::ir`: names resolved (attributes, parameters, functions defined above), types
//! checked where BIRD 1.6 checks them at parse time (assignment to an attribute of another
//! type, an unknown attribute, a call with the wrong number of arguments, a non-boolean
//! condition), operator precedence as in BIRD 1.6's grammar (`&&` and `||` share one level, left
//! associative; comparisons and `~` below them; `+ -`; then `!`).

use policy::bird::{
    ArithOp, Attr, CmpOp, Const, Expr, Function, MaskItem, Method, PrefixPattern, RouteSourceKind,
    Stmt,
};

use std::borrow::Cow;
use std::fmt::Write as _;

use super::diag::{Diag, Pos};
use super::lex::{Tok, P};
use super::parse::{At, PResult, Parser, Sym};
use crate::error::ErrorKind;

/// The static type of an expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ty {
    Bool,
    Int,
    Ip,
    Prefix,
    Str,
    Pair,
    Quad,
    Source,
    PrefixSet,
    SourceSet,
    PathMask,
    Clist,
    Lclist,
    Path,
    /// After a reported error: matches anything, so one mistake gives one message.
    Error,
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Ty::Bool => "bool",
            Ty::Int => "int",
            Ty::Ip => "ip",
            Ty::Prefix => "prefix",
            Ty::Str => "string",
            Ty::Pair => "pair",
            Ty::Quad => "lc (large community)",
            Ty::Source => "enum (route source)",
            Ty::PrefixSet => "prefix set",
            Ty::SourceSet => "enum set",
            Ty::PathMask => "bgpmask",
            Ty::Clist => "clist",
            Ty::Lclist => "lclist",
            Ty::Path => "bgppath",
            Ty::Error => "?",
        }
    }
}

/// Route attributes: name, attribute, type, writable.
const ATTRS: [(&str, Attr, Ty, bool); 12] = [
    ("net", Attr::Net, Ty::Prefix, false),
    ("source", Attr::Source, Ty::Source, false),
    ("ifname", Attr::IfName, Ty::Str, false),
    ("preference", Attr::Preference, Ty::Int, true),
    ("krt_metric", Attr::KrtMetric, Ty::Int, true),
    ("krt_tunnel", Attr::KrtTunnel, Ty::Str, true),
    ("bgp_local_pref", Attr::BgpLocalPref, Ty::Int, true),
    ("bgp_next_hop", Attr::BgpNextHop, Ty::Ip, false),
    ("bgp_med", Attr::BgpMed, Ty::Int, true),
    ("bgp_community", Attr::BgpCommunity, Ty::Clist, false),
    (
        "bgp_large_community",
        Attr::BgpLargeCommunity,
        Ty::Lclist,
        false,
    ),
    ("bgp_path", Attr::BgpPath, Ty::Path, false),
];

/// Attributes BIRD knows but bgpd's filters do not.
const OTHER_BIRD_ATTRS: [&str; 20] = [
    "from",
    "gw",
    "proto",
    "dest",
    "scope",
    "ifindex",
    "igp_metric",
    "bgp_origin",
    "bgp_atomic_aggr",
    "bgp_aggregator",
    "bgp_originator_id",
    "bgp_cluster_list",
    "bgp_ext_community",
    "krt_prefsrc",
    "krt_realm",
    "krt_source",
    "krt_scope",
    "cast",
    "ospf_metric1",
    "rip_metric",
];

const SOURCES: [(&str, RouteSourceKind); 14] = [
    ("RTS_DUMMY", RouteSourceKind::Dummy),
    ("RTS_STATIC", RouteSourceKind::Static),
    ("RTS_INHERIT", RouteSourceKind::Inherit),
    ("RTS_DEVICE", RouteSourceKind::Device),
    ("RTS_STATIC_DEVICE", RouteSourceKind::StaticDevice),
    ("RTS_REDIRECT", RouteSourceKind::Redirect),
    ("RTS_RIP", RouteSourceKind::Rip),
    ("RTS_OSPF", RouteSourceKind::Ospf),
    ("RTS_OSPF_IA", RouteSourceKind::OspfIa),
    ("RTS_OSPF_EXT1", RouteSourceKind::OspfExt1),
    ("RTS_OSPF_EXT2", RouteSourceKind::OspfExt2),
    ("RTS_BGP", RouteSourceKind::Bgp),
    ("RTS_PIPE", RouteSourceKind::Pipe),
    ("RTS_BABEL", RouteSourceKind::Babel),
];

fn attr_by_name(name: &str) -> Option<(Attr, Ty, bool)> {
    ATTRS
        .iter()
        .find(|(n, ..)| *n == name)
        .map(|&(_, a, t, w)| (a, t, w))
}

fn attr_name(attr: Attr) -> &'static str {
    ATTRS
        .iter()
        .find(|(_, a, ..)| *a == attr)
        .map_or("?", |(n, ..)| n)
}

/// Statement words of BIRD's filter language that Calico never renders.
const UNSUPPORTED_STATEMENTS: [&str; 7] = [
    "print", "printn", "return", "case", "for", "quitbird", "unset",
];

impl Parser<'_> {
    fn semantic(&mut self, pos: Pos, kind: ErrorKind, message: impl Into<String>) {
        let d = Diag::at(pos, kind, message).in_construct(&self.ctx);
        self.diags.push(d);
    }

    /// `function NAME ( [bool p, …] ) { … }` (after `function`).
    pub(crate) fn function(&mut self) -> PResult<()> {
        let name = self.symbol_name("a function name")?;
        let _ = write!(self.ctx, "function {}", name.v);
        self.expect(P::LParen)?;
        let mut params: Vec<String> = Vec::new();
        if !self.eat(P::RParen) {
            loop {
                let tpos = self.pos();
                let ty = self.symbol_name("a parameter type")?;
                if ty.v != "bool" {
                    return Err(Diag::at(
                        tpos,
                        ErrorKind::Syntax,
                        format!(
                            "parameter type `{}` is not supported by bgpd's BIRD front end (only bool)",
                            ty.v
                        ),
                    )
                    .in_construct(&self.ctx));
                }
                let p = self.symbol_name("a parameter name")?;
                if params.iter().any(|x| x == p.v) {
                    return Err(Diag::at(
                        p.pos,
                        ErrorKind::Duplicate,
                        format!("parameter `{}` is declared twice", p.v),
                    )
                    .in_construct(&self.ctx));
                }
                params.push(p.v.to_owned());
                if self.eat(P::RParen) {
                    break;
                }
                self.expect(P::Comma)?;
            }
        }
        if !self.is_punct(P::LBrace) {
            return Err(self
                .unexpected("`{`")
                .hint("local variables are not supported by bgpd's BIRD front end"));
        }
        self.params = params.clone();
        let body = self.filter_block();
        self.params.clear();
        let body = body?;
        // Defined after its body: BIRD 1.6 has no recursion either.
        let id = self.functions.len();
        self.functions.push(Function {
            name: name.v.to_owned(),
            params,
            body,
        });
        self.define(
            At {
                v: Cow::Borrowed(name.v),
                pos: name.pos,
            },
            Sym::Function(id),
        )
    }

    /// `{ statements }`.
    pub(crate) fn filter_block(&mut self) -> PResult<Vec<Stmt>> {
        self.expect(P::LBrace)?;
        let mut out = Vec::new();
        while !self.eat(P::RBrace) {
            if let Some(s) = self.stmt()? {
                out.push(s);
            }
        }
        Ok(out)
    }

    /// `where EXPR`: accept when true, reject otherwise.
    pub(crate) fn where_body(&mut self) -> PResult<Vec<Stmt>> {
        let pos = self.pos();
        let (cond, ty) = self.expr()?;
        self.want(pos, ty, Ty::Bool, "the `where` condition");
        Ok(vec![Stmt::If {
            cond,
            then: vec![Stmt::Accept],
            otherwise: vec![Stmt::Reject],
        }])
    }

    /// A `then`/`else` branch: a block or one statement.
    fn branch(&mut self) -> PResult<Vec<Stmt>> {
        if self.is_punct(P::LBrace) {
            return self.filter_block();
        }
        Ok(self.stmt()?.into_iter().collect())
    }

    /// `what` is formatted only when the types differ.
    fn want(&mut self, pos: Pos, got: Ty, want: Ty, what: impl std::fmt::Display) {
        if got != want && got != Ty::Error {
            self.semantic(
                pos,
                ErrorKind::WrongType,
                format!("{what} must be of type {}, not {}", want.name(), got.name()),
            );
        }
    }

    /// One statement; `None` for an empty `;` or a statement dropped after a semantic error.
    fn stmt(&mut self) -> PResult<Option<Stmt>> {
        let pos = self.pos();
        let word = match self.peek() {
            Tok::Punct(P::Semi) => {
                self.bump();
                return Ok(None);
            }
            Tok::Word(w) => w,
            Tok::Quoted(w) => {
                self.bump();
                return self.call_stmt(pos, w);
            }
            _ => return Err(self.unexpected("a statement")),
        };
        match word {
            "accept" | "reject" => {
                self.bump();
                self.expect(P::Semi)?;
                Ok(Some(if word == "accept" {
                    Stmt::Accept
                } else {
                    Stmt::Reject
                }))
            }
            "if" => {
                self.bump();
                let cpos = self.pos();
                let (cond, ty) = self.expr()?;
                self.want(cpos, ty, Ty::Bool, "an `if` condition");
                self.expect_word("then")?;
                let then = self.branch()?;
                let otherwise = if self.eat_word("else") {
                    self.branch()?
                } else {
                    Vec::new()
                };
                Ok(Some(Stmt::If {
                    cond,
                    then,
                    otherwise,
                }))
            }
            w if UNSUPPORTED_STATEMENTS.contains(&w) => Err(Diag::at(
                pos,
                ErrorKind::Syntax,
                format!("filter statement `{w}` is not supported by bgpd's BIRD front end"),
            )
            .in_construct(&self.ctx)),
            _ => {
                self.bump();
                if self.is_punct(P::LParen) {
                    return self.call_stmt(pos, word);
                }
                self.attr_stmt(pos, word)
            }
        }
    }

    /// `NAME(args);` after NAME.
    fn call_stmt(&mut self, pos: Pos, name: &str) -> PResult<Option<Stmt>> {
        self.expect(P::LParen)?;
        let mut args = Vec::new();
        if !self.eat(P::RParen) {
            loop {
                let apos = self.pos();
                let (e, t) = self.expr()?;
                args.push((e, t, apos));
                if self.eat(P::RParen) {
                    break;
                }
                self.expect(P::Comma)?;
            }
        }
        self.expect(P::Semi)?;
        let id = match self.symbols.get(name) {
            Some((Sym::Function(id), _)) => *id,
            Some(_) => {
                self.semantic(
                    pos,
                    ErrorKind::UnknownName,
                    format!("`{name}` is not a function"),
                );
                return Ok(None);
            }
            None => {
                self.semantic(
                    pos,
                    ErrorKind::UnknownName,
                    format!("function `{name}` is not defined (above this line)"),
                );
                if let Some(d) = self.diags.last_mut() {
                    d.hint = Some(
                        "BIRD resolves names in file order: define a function before its first use"
                            .into(),
                    );
                }
                return Ok(None);
            }
        };
        let want = self.functions[id].params.len();
        if args.len() != want {
            self.semantic(
                pos,
                ErrorKind::WrongType,
                format!(
                    "function `{name}` takes {want} argument(s), {} given",
                    args.len()
                ),
            );
            return Ok(None);
        }
        let mut out = Vec::with_capacity(args.len());
        for (e, t, apos) in args {
            self.want(apos, t, Ty::Bool, "an argument");
            out.push(e);
        }
        Ok(Some(Stmt::Call {
            function: id,
            args: out,
        }))
    }

    /// `ATTR = EXPR;` or `ATTR.METHOD(EXPR);` after ATTR.
    fn attr_stmt(&mut self, pos: Pos, name: &str) -> PResult<Option<Stmt>> {
        let attr = attr_by_name(name);
        if self.eat(P::Dot) {
            let mpos = self.pos();
            let m = self.symbol_name("a method name")?;
            self.expect(P::LParen)?;
            let apos = self.pos();
            let (arg, aty) = self.expr()?;
            self.expect(P::RParen)?;
            self.expect(P::Semi)?;
            let Some((attr, ty, _)) = attr else {
                self.unknown_symbol(pos, name);
                return Ok(None);
            };
            let (method, want) = match (ty, m.v) {
                (Ty::Clist, "add") => (Method::Add, Ty::Pair),
                (Ty::Clist, "delete") => (Method::Delete, Ty::Pair),
                (Ty::Lclist, "add") => (Method::Add, Ty::Quad),
                (Ty::Lclist, "delete") => (Method::Delete, Ty::Quad),
                (Ty::Path, "prepend") => (Method::Prepend, Ty::Int),
                _ => {
                    self.semantic(
                        mpos,
                        ErrorKind::UnknownName,
                        format!("`{name}.{}` is not supported", m.v),
                    );
                    return Ok(None);
                }
            };
            self.want(
                apos,
                aty,
                want,
                format_args!("the argument of {name}.{}", m.v),
            );
            return Ok(Some(Stmt::Method { attr, method, arg }));
        }
        if !self.eat(P::Eq) {
            return Err(self.unexpected("`=`, `.` or `(`"));
        }
        let vpos = self.pos();
        let (value, vty) = self.expr()?;
        self.expect(P::Semi)?;
        let Some((attr, ty, writable)) = attr else {
            if self.params.iter().any(|p| p == name) {
                self.semantic(
                    pos,
                    ErrorKind::WrongType,
                    format!("parameter `{name}` cannot be assigned"),
                );
            } else {
                self.unknown_symbol(pos, name);
            }
            return Ok(None);
        };
        if !writable {
            self.semantic(
                pos,
                ErrorKind::WrongType,
                format!("attribute `{name}` cannot be written by bgpd's filters"),
            );
            return Ok(None);
        }
        if vty != ty && vty != Ty::Error {
            self.semantic(
                vpos,
                ErrorKind::WrongType,
                format!(
                    "attribute `{name}` is of type {}, the value is of type {}",
                    ty.name(),
                    vty.name()
                ),
            );
            return Ok(None);
        }
        Ok(Some(Stmt::Set { attr, value }))
    }

    fn unknown_symbol(&mut self, pos: Pos, name: &str) {
        let message = if OTHER_BIRD_ATTRS.contains(&name) {
            format!("attribute `{name}` is not supported by bgpd's BIRD front end")
        } else {
            format!("unknown symbol `{name}`")
        };
        self.semantic(pos, ErrorKind::UnknownName, message);
    }

    // ---- expressions --------------------------------------------------------------------

    pub(crate) fn expr(&mut self) -> PResult<(Expr, Ty)> {
        let pos = self.pos();
        let (mut left, mut lt) = self.comparison()?;
        loop {
            let and = if self.eat(P::And) {
                true
            } else if self.eat(P::Or) {
                false
            } else {
                return Ok((left, lt));
            };
            let rpos = self.pos();
            let (right, rt) = self.comparison()?;
            let op = if and { "&&" } else { "||" };
            self.want(pos, lt, Ty::Bool, format_args!("the left side of `{op}`"));
            self.want(rpos, rt, Ty::Bool, format_args!("the right side of `{op}`"));
            left = if and {
                Expr::And(Box::new(left), Box::new(right))
            } else {
                Expr::Or(Box::new(left), Box::new(right))
            };
            lt = Ty::Bool;
        }
    }

    fn comparison(&mut self) -> PResult<(Expr, Ty)> {
        let pos = self.pos();
        let (mut left, mut lt) = self.additive()?;
        loop {
            let op = match self.peek() {
                Tok::Punct(
                    p @ (P::Eq | P::Ne | P::Lt | P::Gt | P::Le | P::Ge | P::Tilde | P::NotTilde),
                ) => p,
                _ => return Ok((left, lt)),
            };
            self.bump();
            let (right, rt) = self.additive()?;
            let ok = match op {
                P::Tilde | P::NotTilde => match_types_ok(lt, rt),
                P::Eq | P::Ne => lt == rt && lt != Ty::Clist && lt != Ty::Lclist,
                _ => lt == Ty::Int && rt == Ty::Int,
            } || lt == Ty::Error
                || rt == Ty::Error;
            if !ok {
                self.semantic(
                    pos,
                    ErrorKind::WrongType,
                    format!(
                        "`{}` cannot compare {} with {}",
                        op.text(),
                        lt.name(),
                        rt.name()
                    ),
                );
            }
            left = match op {
                P::Tilde | P::NotTilde => Expr::Match {
                    negated: op == P::NotTilde,
                    left: Box::new(left),
                    right: Box::new(right),
                },
                _ => Expr::Cmp {
                    op: match op {
                        P::Eq => CmpOp::Eq,
                        P::Ne => CmpOp::Ne,
                        P::Lt => CmpOp::Lt,
                        P::Gt => CmpOp::Gt,
                        P::Le => CmpOp::Le,
                        _ => CmpOp::Ge,
                    },
                    left: Box::new(left),
                    right: Box::new(right),
                },
            };
            lt = if ok { Ty::Bool } else { Ty::Error };
        }
    }

    fn additive(&mut self) -> PResult<(Expr, Ty)> {
        let pos = self.pos();
        let (mut left, mut lt) = self.unary()?;
        loop {
            let op = if self.eat(P::Plus) {
                ArithOp::Add
            } else if self.eat(P::Minus) {
                ArithOp::Sub
            } else {
                return Ok((left, lt));
            };
            let rpos = self.pos();
            let (right, rt) = self.unary()?;
            self.want(pos, lt, Ty::Int, "an operand of `+`/`-`");
            self.want(rpos, rt, Ty::Int, "an operand of `+`/`-`");
            left = Expr::Arith {
                op,
                left: Box::new(left),
                right: Box::new(right),
            };
            lt = Ty::Int;
        }
    }

    fn unary(&mut self) -> PResult<(Expr, Ty)> {
        if self.eat(P::Bang) {
            let pos = self.pos();
            let (e, t) = self.unary()?;
            self.want(pos, t, Ty::Bool, "the operand of `!`");
            return Ok((Expr::Not(Box::new(e)), Ty::Bool));
        }
        self.primary()
    }

    fn primary(&mut self) -> PResult<(Expr, Ty)> {
        let pos = self.pos();
        let c = |k: Const, t: Ty| Ok((Expr::Const(k), t));
        match self.peek() {
            Tok::Num(n) => {
                self.bump();
                c(Const::Int(n as i64), Ty::Int)
            }
            Tok::Str(s) => {
                self.bump();
                c(Const::Str(s.to_owned()), Ty::Str)
            }
            Tok::Ip(a) => {
                self.bump();
                c(Const::Ip(a), Ty::Ip)
            }
            Tok::Prefix(p) => {
                self.bump();
                c(Const::Prefix(p), Ty::Prefix)
            }
            Tok::Punct(P::LParen) => {
                self.bump();
                let (e, t) = self.expr()?;
                if self.eat(P::RParen) {
                    return Ok((e, t));
                }
                if !self.is_punct(P::Comma) {
                    return Err(self.unexpected("`)`"));
                }
                // A pair `(a, b)` or a large community `(a, b, c)`.
                let mut parts = vec![(e, pos)];
                while self.eat(P::Comma) {
                    let ppos = self.pos();
                    let (e, _) = self.expr()?;
                    parts.push((e, ppos));
                }
                self.expect(P::RParen)?;
                self.tuple(pos, parts)
            }
            Tok::Punct(P::MaskOpen) => {
                self.bump();
                let mut items = Vec::new();
                while !self.eat(P::MaskClose) {
                    let ipos = self.pos();
                    match self.bump().tok {
                        Tok::Num(n) => items.push(MaskItem::Asn(n as u32)),
                        Tok::Punct(P::Star) => items.push(MaskItem::AnyMany),
                        Tok::Punct(P::Question) => items.push(MaskItem::AnyOne),
                        t => {
                            return Err(Diag::at(
                                ipos,
                                ErrorKind::Syntax,
                                format!(
                                    "syntax error in an AS path mask: expected an AS number, `*`, `?` or `=]`, found {}",
                                    t.describe()
                                ),
                            )
                            .in_construct(&self.ctx))
                        }
                    }
                }
                c(Const::PathMask(items), Ty::PathMask)
            }
            Tok::Punct(P::LBracket) => {
                self.bump();
                self.set(pos)
            }
            Tok::Word(w) => {
                self.bump();
                self.word_term(pos, w)
            }
            Tok::Quoted(w) => {
                self.bump();
                Err(Diag::at(
                    pos,
                    ErrorKind::Syntax,
                    format!("function `{w}` used as a value: bgpd's BIRD front end supports functions only as statements"),
                )
                .in_construct(&self.ctx))
            }
            _ => Err(self.unexpected("an expression")),
        }
    }

    fn tuple(&mut self, pos: Pos, parts: Vec<(Expr, Pos)>) -> PResult<(Expr, Ty)> {
        let mut nums = Vec::new();
        for (e, ppos) in &parts {
            match e {
                Expr::Const(Const::Int(n)) => nums.push(*n as u32),
                _ => {
                    return Err(Diag::at(
                        *ppos,
                        ErrorKind::Syntax,
                        "pair and large community parts must be numbers in bgpd's BIRD front end",
                    )
                    .in_construct(&self.ctx))
                }
            }
        }
        match nums[..] {
            [a, b] => {
                if a > 0xffff || b > 0xffff {
                    self.semantic(
                        pos,
                        ErrorKind::OutOfRange,
                        format!("pair ({a}, {b}): both parts must be at most 65535"),
                    );
                    return Ok((Expr::Const(Const::Pair(a, b)), Ty::Error));
                }
                Ok((Expr::Const(Const::Pair(a, b)), Ty::Pair))
            }
            [a, b, c] => Ok((Expr::Const(Const::Quad(a, b, c)), Ty::Quad)),
            _ => Err(Diag::at(
                pos,
                ErrorKind::Syntax,
                "a tuple has 2 parts (pair) or 3 (large community)",
            )
            .in_construct(&self.ctx)),
        }
    }

    /// `[ … ]` after `[`: a prefix set or a route source set.
    fn set(&mut self, pos: Pos) -> PResult<(Expr, Ty)> {
        match self.peek() {
            Tok::Prefix(_) => {
                let mut items = Vec::new();
                loop {
                    let ppos = self.pos();
                    let net = match self.bump().tok {
                        Tok::Prefix(p) => p,
                        t => {
                            return Err(Diag::at(
                                ppos,
                                ErrorKind::Syntax,
                                format!(
                                    "syntax error in a prefix set: expected a prefix, found {}",
                                    t.describe()
                                ),
                            )
                            .in_construct(&self.ctx))
                        }
                    };
                    let len = net.prefix_len();
                    let max = net.max_prefix_len();
                    let (min_len, max_len) = if self.eat(P::Plus) {
                        (len, max)
                    } else if self.eat(P::Minus) {
                        (0, len)
                    } else if self.eat(P::LBrace) {
                        let a = self.small_num()?;
                        self.expect(P::Comma)?;
                        let b = self.small_num()?;
                        self.expect(P::RBrace)?;
                        if a > b || b > max {
                            self.semantic(
                                ppos,
                                ErrorKind::OutOfRange,
                                format!("invalid prefix length range {{{a},{b}}} for {net}"),
                            );
                        }
                        (a, b)
                    } else {
                        (len, len)
                    };
                    items.push(PrefixPattern {
                        net,
                        min_len,
                        max_len,
                    });
                    if !self.eat(P::Comma) {
                        break;
                    }
                }
                self.expect(P::RBracket)?;
                Ok((Expr::Const(Const::PrefixSet(items)), Ty::PrefixSet))
            }
            Tok::Word(_) => {
                let mut items = Vec::new();
                loop {
                    let s = self.symbol_name("a route source")?;
                    match SOURCES.iter().find(|(n, _)| *n == s.v) {
                        Some((_, k)) => items.push(*k),
                        None => {
                            return Err(Diag::at(
                                s.pos,
                                ErrorKind::Syntax,
                                format!("`{}` in a set: bgpd's BIRD front end supports sets of prefixes and of route sources (RTS_*)", s.v),
                            )
                            .in_construct(&self.ctx))
                        }
                    }
                    if !self.eat(P::Comma) {
                        break;
                    }
                }
                self.expect(P::RBracket)?;
                Ok((Expr::Const(Const::SourceSet(items)), Ty::SourceSet))
            }
            _ => Err(Diag::at(
                pos,
                ErrorKind::Syntax,
                "bgpd's BIRD front end supports sets of prefixes and of route sources (RTS_*) only",
            )
            .in_construct(&self.ctx)),
        }
    }

    fn small_num(&mut self) -> PResult<u8> {
        let pos = self.pos();
        match self.bump().tok {
            Tok::Num(n) if n <= 128 => Ok(n as u8),
            t => Err(Diag::at(
                pos,
                ErrorKind::Syntax,
                format!("expected a prefix length, found {}", t.describe()),
            )
            .in_construct(&self.ctx)),
        }
    }

    fn word_term(&mut self, pos: Pos, w: &str) -> PResult<(Expr, Ty)> {
        match w {
            "true" => return Ok((Expr::Const(Const::Bool(true)), Ty::Bool)),
            "false" => return Ok((Expr::Const(Const::Bool(false)), Ty::Bool)),
            "defined" => {
                self.expect(P::LParen)?;
                let apos = self.pos();
                let a = self.symbol_name("an attribute")?;
                self.expect(P::RParen)?;
                return Ok(match attr_by_name(a.v) {
                    Some((attr, ..)) => (Expr::Defined(attr), Ty::Bool),
                    None => {
                        self.unknown_symbol(apos, a.v);
                        (Expr::Const(Const::Bool(false)), Ty::Error)
                    }
                });
            }
            _ => {}
        }
        if let Some((_, k)) = SOURCES.iter().find(|(n, _)| *n == w) {
            return Ok((Expr::Const(Const::Source(*k)), Ty::Source));
        }
        if let Some(i) = self.params.iter().position(|p| p == w) {
            return Ok((Expr::Param(i), Ty::Bool));
        }
        if let Some((attr, ty, _)) = attr_by_name(w) {
            if self.is_punct(P::Dot) {
                return Err(self.err_here(format!(
                    "`{}.…` in an expression is not supported by bgpd's BIRD front end",
                    attr_name(attr)
                )));
            }
            return Ok((Expr::Attr(attr), ty));
        }
        if self.is_punct(P::LParen) {
            return Err(Diag::at(
                pos,
                ErrorKind::Syntax,
                format!("`{w}(…)` used as a value: bgpd's BIRD front end supports function calls only as statements"),
            )
            .in_construct(&self.ctx));
        }
        self.unknown_symbol(pos, w);
        Ok((Expr::Const(Const::Bool(false)), Ty::Error))
    }
}

/// The operand types `~` / `!~` accept.
fn match_types_ok(l: Ty, r: Ty) -> bool {
    matches!(
        (l, r),
        (Ty::Prefix, Ty::Prefix)
            | (Ty::Prefix, Ty::PrefixSet)
            | (Ty::Ip, Ty::Prefix)
            | (Ty::Str, Ty::Str)
            | (Ty::Pair, Ty::Clist)
            | (Ty::Quad, Ty::Lclist)
            | (Ty::Path, Ty::PathMask)
            | (Ty::Source, Ty::SourceSet)
    )
}

#[cfg(test)]
#[path = "filter_tests.rs"]
mod tests;
