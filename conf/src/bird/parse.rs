//! Configuration statements: `router id`, `listen bgp`, `template`, `protocol` (kernel, device,
//! direct, static, bgp) with their options in BIRD 1.6 form and in BIRD 2/3 channel form
//! (`ipv4 { import …; export …; }`), and the entry points of the filter language (`function`,
//! `filter`, which [`super::filter`] compiles). One pass in file order, as BIRD resolves
//! symbols: a filter or function is known only after its definition, a template only after its
//! `template` block.
//!
//! A syntax error ends the parse (BIRD stops at the first); semantic errors in filters (types,
//! unknown names) are collected and the parse goes on.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use ipnet::IpNet;
use policy::bird::{Function, FunctionId, Stmt};

use super::diag::{Diag, Pos};
use super::lex::{Lexemes, Source, Tok, Token, P};
use crate::error::ErrorKind;
use crate::model::{
    AddPathMode, BirdFamily, InterfacePattern, LimitAction, NextHopMode, RouteLimit,
};

#[path = "parse/bfd.rs"]
mod bfd;
pub(crate) use bfd::{BfdIface, BfdOpts};

/// A value with the position where it was written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct At<T> {
    pub v: T,
    pub pos: Pos,
}

/// A filter body before the function table is final.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Draft {
    pub name: Option<String>,
    pub body: Vec<Stmt>,
}

/// `import …` / `export …`. A program is shared by every protocol that names the same filter
/// or carries an identical inline filter ([`Parser::shared_inline`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FilterRef {
    All,
    None,
    Program(Arc<Draft>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProtoKind {
    Kernel,
    Device,
    Direct,
    Static,
    Bgp,
    Bfd,
}

impl ProtoKind {
    pub(crate) fn word(self) -> &'static str {
        match self {
            ProtoKind::Kernel => "kernel",
            ProtoKind::Device => "device",
            ProtoKind::Direct => "direct",
            ProtoKind::Static => "static",
            ProtoKind::Bgp => "bgp",
            ProtoKind::Bfd => "bfd",
        }
    }
}

/// `route …` of a static protocol.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum RouteDest {
    Blackhole,
    Via(IpAddr),
}

/// A BIRD 2/3 channel block (`ipv4 { … }` / `ipv6 { … }` / `ipv4;`).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Channel {
    pub import: Option<At<FilterRef>>,
    pub export: Option<At<FilterRef>>,
}

/// Every option a protocol or template may carry; a protocol `from` a template starts from a
/// copy of the template's options (lists are then extended, single values overridden).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Opts {
    pub description: Option<String>,
    pub import: Option<At<FilterRef>>,
    pub export: Option<At<FilterRef>>,
    pub channels: Vec<(BirdFamily, At<Channel>)>,
    // kernel
    pub learn: bool,
    pub persist: bool,
    pub kernel_table: Option<At<u32>>,
    pub merge_paths: Option<At<(bool, Option<u32>)>>,
    // kernel and bgp
    pub graceful_restart: Option<At<bool>>,
    // direct
    pub interfaces: Vec<InterfacePattern>,
    // static
    pub routes: Vec<At<(IpNet, RouteDest)>>,
    // bgp
    pub local_as: Option<At<u32>>,
    pub local_address: Option<At<IpAddr>>,
    pub neighbor: Option<At<IpAddr>>,
    /// `neighbor IP % iface`, `local IP % iface` or `interface "iface"`: the session's link.
    pub interface: Option<At<String>>,
    pub neighbor_port: Option<At<u16>>,
    pub remote_as: Option<At<u32>>,
    pub source_address: Option<At<IpAddr>>,
    pub ttl_security: Option<At<bool>>,
    /// `multihop [N]`: 0 = direct.
    pub multihop: Option<At<u8>>,
    pub passive: bool,
    pub gr_time: Option<At<u32>>,
    pub hold: Option<At<u32>>,
    pub keepalive: Option<At<u32>>,
    pub connect_delay: Option<u32>,
    pub connect_retry: Option<u32>,
    pub error_wait: Option<At<(u32, u32)>>,
    pub password: Option<String>,
    pub rr_client: Option<At<bool>>,
    pub rr_cluster_id: Option<At<Ipv4Addr>>,
    pub next_hop: Option<NextHopMode>,
    pub allow_local_as: Option<u8>,
    pub add_paths: Option<Option<AddPathMode>>,
    /// `extended next hop on|off;` (RFC 8950, BIRD 2 channel or protocol option).
    pub extended_next_hop: Option<bool>,
    /// `receive limit N [action A];` / `import limit …` (`off`: none, over a template's).
    pub receive_limit: Option<Option<RouteLimit>>,
    pub import_limit: Option<Option<RouteLimit>>,
    /// `gateway direct` (bgpd always resolves BGP next hops recursively: lowering notes it).
    pub gateway_direct: Option<Pos>,
    /// bgp `bfd …`: `Some(None)` is `bfd off`.
    pub bfd: Option<At<Option<BfdOpts>>>,
    // bfd
    pub bfd_ifaces: Vec<BfdIface>,
    pub bfd_multihop: Option<BfdOpts>,
    pub bfd_static_neighbors: usize,
}

/// One `protocol` block, templates applied.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Proto {
    pub kind: ProtoKind,
    pub name: String,
    pub template: Option<String>,
    pub pos: Pos,
    pub opts: Opts,
}

/// `listen bgp [address IP] [port N];`
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ListenAst {
    pub pos: Pos,
    pub address: Option<At<IpAddr>>,
    pub port: Option<u16>,
}

/// What the parse produced.
#[derive(Debug, Default)]
pub(crate) struct Ast {
    pub router_id: Option<At<Ipv4Addr>>,
    pub listen: Option<ListenAst>,
    pub protocols: Vec<Proto>,
    /// Every function, in definition order ([`FunctionId`] indexes it).
    pub functions: Vec<Function>,
}

/// What a name is bound to (BIRD has one namespace for all of them).
#[derive(Debug, Clone)]
pub(crate) enum Sym {
    Function(FunctionId),
    Filter(Arc<Draft>),
    Template(ProtoKind, Box<Opts>),
    Protocol,
}

pub(crate) struct Parser<'s> {
    lexed: Lexemes,
    /// The file table the tokens' texts are in.
    sources: &'s [Source],
    /// The index of the current token in `lexed`, and that token with its text.
    i: usize,
    cur: Tok<'s>,
    /// Names borrow the configuration text, except those of unnamed protocols (`device1`).
    pub(crate) symbols: HashMap<Cow<'s, str>, (Sym, Pos)>,
    pub(crate) functions: Vec<Function>,
    /// Semantic errors (the parse continues after them).
    pub(crate) diags: Vec<Diag>,
    /// The construct being parsed, for error paths.
    pub(crate) ctx: String,
    /// Parameters of the function being compiled.
    pub(crate) params: Vec<String>,
    counters: HashMap<&'static str, u32>,
    /// The last distinct inline filters ([`Parser::shared_inline`]).
    recent_inline: Vec<Arc<Draft>>,
}

/// How many distinct inline filters [`Parser::shared_inline`] compares a new one with.
const RECENT_INLINE: usize = 8;

pub(crate) type PResult<T> = Result<T, Diag>;

impl<'s> Parser<'s> {
    pub(crate) fn new(lexed: Lexemes, sources: &'s [Source]) -> Parser<'s> {
        let cur = lexed
            .toks
            .first()
            .map_or(Tok::Eof, |t| lexed.tok(t, sources));
        Parser {
            lexed,
            sources,
            i: 0,
            cur,
            symbols: HashMap::new(),
            functions: Vec::new(),
            diags: Vec::new(),
            ctx: String::new(),
            params: Vec::new(),
            counters: HashMap::new(),
            recent_inline: Vec::with_capacity(RECENT_INLINE),
        }
    }

    // ---- cursor -------------------------------------------------------------------------

    pub(crate) fn peek(&self) -> Tok<'s> {
        self.cur
    }

    /// Moves to the next token (none after the last, [`Tok::Eof`]).
    pub(crate) fn advance(&mut self) {
        if self.i < self.lexed.toks.len() {
            self.i += 1;
        }
        self.cur = match self.lexed.toks.get(self.i) {
            Some(t) => self.lexed.tok(t, self.sources),
            None => Tok::Eof,
        };
    }

    pub(crate) fn pos(&self) -> Pos {
        let toks = &self.lexed.toks;
        toks.get(self.i)
            .or(toks.last())
            .map_or(Pos { file: 0, offset: 0 }, |t| t.pos)
    }

    pub(crate) fn bump(&mut self) -> Token<'s> {
        let t = Token {
            tok: self.cur,
            pos: self.pos(),
        };
        self.advance();
        t
    }

    pub(crate) fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Tok::Word(x) if x == w)
    }

    pub(crate) fn is_punct(&self, p: P) -> bool {
        matches!(self.peek(), Tok::Punct(x) if x == p)
    }

    /// `gateway recursive|direct` (the option word at `pos` already read).
    fn gateway(&mut self, o: &mut Opts, pos: Pos) -> PResult<()> {
        if self.eat_word("direct") {
            o.gateway_direct = Some(pos);
        } else if self.eat_word("recursive") {
            o.gateway_direct = None;
        } else {
            return Err(self.unexpected("`recursive` or `direct`"));
        }
        Ok(())
    }

    pub(crate) fn eat_word(&mut self, w: &str) -> bool {
        if self.is_word(w) {
            self.advance();
            true
        } else {
            false
        }
    }

    pub(crate) fn eat(&mut self, p: P) -> bool {
        if self.is_punct(p) {
            self.advance();
            true
        } else {
            false
        }
    }

    pub(crate) fn err_here(&self, message: impl Into<String>) -> Diag {
        Diag::at(self.pos(), ErrorKind::Syntax, message).in_construct(&self.ctx)
    }

    pub(crate) fn unexpected(&self, wanted: &str) -> Diag {
        self.err_here(format!(
            "syntax error: expected {wanted}, found {}",
            self.peek().describe()
        ))
    }

    pub(crate) fn expect(&mut self, p: P) -> PResult<()> {
        if self.eat(p) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("`{}`", p.text())))
        }
    }

    pub(crate) fn expect_word(&mut self, w: &str) -> PResult<()> {
        if self.eat_word(w) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("`{w}`")))
        }
    }

    fn num(&mut self) -> PResult<At<u32>> {
        let pos = self.pos();
        match self.peek() {
            Tok::Num(n) => {
                self.advance();
                Ok(At { v: n as u32, pos })
            }
            _ => Err(self.unexpected("a number")),
        }
    }

    fn num_in(&mut self, lo: u32, hi: u32, what: &str) -> PResult<At<u32>> {
        let n = self.num()?;
        if n.v < lo || n.v > hi {
            return Err(Diag::at(
                n.pos,
                ErrorKind::OutOfRange,
                format!("{what} {} is out of range {lo}..={hi}", n.v),
            )
            .in_construct(&self.ctx));
        }
        Ok(n)
    }

    fn ip(&mut self) -> PResult<At<IpAddr>> {
        let pos = self.pos();
        match self.peek() {
            Tok::Ip(a) => {
                self.advance();
                Ok(At { v: a, pos })
            }
            _ => Err(self.unexpected("an IP address")),
        }
    }

    fn ipv4(&mut self, what: &str) -> PResult<At<Ipv4Addr>> {
        let a = self.ip()?;
        match a.v {
            IpAddr::V4(v) => Ok(At { v, pos: a.pos }),
            IpAddr::V6(_) => Err(Diag::at(
                a.pos,
                ErrorKind::Invalid,
                format!("{what} must be an IPv4 address, not {}", a.v),
            )
            .in_construct(&self.ctx)),
        }
    }

    fn string(&mut self) -> PResult<&'s str> {
        match self.peek() {
            Tok::Str(s) => {
                self.advance();
                Ok(s)
            }
            _ => Err(self.unexpected("a string")),
        }
    }

    /// BIRD's `bool`: nothing (= on), `on`/`yes`/`off`/`no`, or a number.
    fn switch(&mut self) -> bool {
        if self.eat_word("on") || self.eat_word("yes") {
            true
        } else if self.eat_word("off") || self.eat_word("no") {
            false
        } else if let Tok::Num(n) = self.peek() {
            self.advance();
            n != 0
        } else {
            true
        }
    }

    fn semi(&mut self) -> PResult<()> {
        if self.eat(P::Semi) {
            Ok(())
        } else {
            Err(self.unexpected("`;`"))
        }
    }

    /// A symbol being defined: a word or a quoted symbol.
    pub(crate) fn symbol_name(&mut self, what: &str) -> PResult<At<&'s str>> {
        let pos = self.pos();
        match self.peek() {
            Tok::Word(w) | Tok::Quoted(w) => {
                self.advance();
                Ok(At { v: w, pos })
            }
            _ => Err(self.unexpected(what)),
        }
    }

    pub(crate) fn define(&mut self, name: At<Cow<'s, str>>, sym: Sym) -> PResult<()> {
        if self.symbols.contains_key(&name.v) {
            return Err(Diag::at(
                name.pos,
                ErrorKind::Duplicate,
                format!("`{}` is already defined", name.v),
            )
            .in_construct(&self.ctx)
            .hint("functions, filters, templates and protocols share one namespace"));
        }
        self.symbols.insert(name.v, (sym, name.pos));
        Ok(())
    }

    // ---- top level ----------------------------------------------------------------------

    pub(crate) fn parse(mut self) -> Result<(Ast, Vec<Diag>), Vec<Diag>> {
        let mut ast = Ast::default();
        loop {
            self.ctx.clear();
            let r = match self.peek() {
                Tok::Eof => break,
                Tok::Word(w) => self.top_statement(w, &mut ast),
                _ => Err(self.unexpected("a configuration statement")),
            };
            if let Err(d) = r {
                self.diags.push(d);
                return Err(self.diags);
            }
        }
        ast.functions = std::mem::take(&mut self.functions);
        Ok((ast, self.diags))
    }

    fn top_statement(&mut self, w: &str, ast: &mut Ast) -> PResult<()> {
        let pos = self.pos();
        match w {
            "router" => {
                self.advance();
                self.ctx.push_str("router id");
                self.expect_word("id")?;
                let id = self.ipv4("the router id")?;
                if ast.router_id.is_some() {
                    return Err(
                        Diag::at(pos, ErrorKind::Duplicate, "router id is set twice")
                            .in_construct("router id"),
                    );
                }
                ast.router_id = Some(id);
                self.semi()
            }
            "listen" => {
                self.advance();
                self.ctx.push_str("listen bgp");
                self.expect_word("bgp")?;
                let mut l = ListenAst {
                    pos,
                    address: None,
                    port: None,
                };
                loop {
                    if self.eat_word("address") {
                        l.address = Some(self.ip()?);
                    } else if self.eat_word("port") {
                        l.port = Some(self.num_in(1, 65535, "port")?.v as u16);
                    } else if self.eat_word("v6only") || self.eat_word("dual") {
                    } else {
                        break;
                    }
                }
                if ast.listen.is_some() {
                    return Err(
                        Diag::at(pos, ErrorKind::Duplicate, "listen bgp is set twice")
                            .in_construct("listen bgp"),
                    );
                }
                ast.listen = Some(l);
                self.semi()
            }
            "function" => {
                self.advance();
                self.function()
            }
            "filter" => {
                self.advance();
                let name = self.symbol_name("a filter name")?;
                let _ = write!(self.ctx, "filter {}", name.v);
                let body = self.filter_block()?;
                self.define(
                    At {
                        v: Cow::Borrowed(name.v),
                        pos: name.pos,
                    },
                    Sym::Filter(Arc::new(Draft {
                        name: Some(name.v.to_owned()),
                        body,
                    })),
                )
            }
            "template" | "protocol" => {
                self.advance();
                self.protocol(w == "template", pos, ast)
            }
            other => Err(Diag::at(
                pos,
                ErrorKind::Syntax,
                format!("`{other}` is not supported by bgpd's BIRD front end"),
            )
            .hint(
                "bgpd reads the statements Calico's confd renders: router id, listen bgp, \
                 include, function, filter, template and protocol (kernel, device, direct, \
                 static, bgp)",
            )),
        }
    }

    fn protocol(&mut self, is_template: bool, pos: Pos, ast: &mut Ast) -> PResult<()> {
        let kpos = self.pos();
        let kind = match self.peek() {
            Tok::Word(w) => match w {
                "kernel" => ProtoKind::Kernel,
                "device" => ProtoKind::Device,
                "direct" => ProtoKind::Direct,
                "static" => ProtoKind::Static,
                "bgp" => ProtoKind::Bgp,
                "bfd" => ProtoKind::Bfd,
                other => {
                    let what = if is_template { "template" } else { "protocol" };
                    return Err(Diag::at(
                        kpos,
                        ErrorKind::Syntax,
                        format!("`{what} {other}` is not supported by bgpd's BIRD front end"),
                    )
                    .hint("supported protocol types: kernel, device, direct, static, bgp, bfd"));
                }
            },
            _ => return Err(self.unexpected("a protocol type")),
        };
        self.advance();
        let word = if is_template { "template" } else { "protocol" };
        let name = match self.peek() {
            Tok::Word(w) if w != "from" => Some(self.symbol_name("a name")?),
            Tok::Quoted(_) => Some(self.symbol_name("a name")?),
            _ => None,
        };
        let name: At<Cow<'s, str>> = match name {
            Some(n) => At {
                v: Cow::Borrowed(n.v),
                pos: n.pos,
            },
            None if is_template => return Err(self.unexpected("a template name")),
            None => {
                let c = self.counters.entry(kind.word()).or_insert(0);
                *c += 1;
                At {
                    v: Cow::Owned(format!("{}{}", kind.word(), c)),
                    pos: kpos,
                }
            }
        };
        let _ = write!(self.ctx, "{word} {} {}", kind.word(), name.v);
        let mut template = None;
        let mut opts = Opts::default();
        if self.eat_word("from") {
            let t = self.symbol_name("a template name")?;
            match self.symbols.get(t.v) {
                Some((Sym::Template(k, o), _)) if *k == kind => opts = (**o).clone(),
                Some((Sym::Template(k, _), _)) => {
                    return Err(Diag::at(
                        t.pos,
                        ErrorKind::UnknownTemplate,
                        format!(
                            "template `{}` is a {} template, not a {} one",
                            t.v,
                            k.word(),
                            kind.word()
                        ),
                    )
                    .in_construct(&self.ctx))
                }
                _ => {
                    return Err(Diag::at(
                        t.pos,
                        ErrorKind::UnknownTemplate,
                        format!("template `{}` is not defined (above this line)", t.v),
                    )
                    .in_construct(&self.ctx))
                }
            }
            template = Some(t.v.to_owned());
        }
        self.expect(P::LBrace)?;
        while !self.eat(P::RBrace) {
            self.option(kind, &mut opts)?;
        }
        // BIRD accepts an optional `;` after a protocol block.
        self.eat(P::Semi);
        if is_template {
            self.define(name, Sym::Template(kind, Box::new(opts)))
        } else {
            let proto_name = name.v.clone().into_owned();
            self.define(name, Sym::Protocol)?;
            ast.protocols.push(Proto {
                kind,
                name: proto_name,
                template,
                pos,
                opts,
            });
            Ok(())
        }
    }

    fn unsupported_option(&self, kind: ProtoKind, pos: Pos, what: &str) -> Diag {
        Diag::at(
            pos,
            ErrorKind::UnknownField,
            format!(
                "option `{what}` of protocol {} is not supported by bgpd's BIRD front end",
                kind.word()
            ),
        )
        .in_construct(&self.ctx)
    }

    /// One option inside a protocol or template block.
    fn option(&mut self, kind: ProtoKind, o: &mut Opts) -> PResult<()> {
        use ProtoKind::*;
        let pos = self.pos();
        let w = match self.peek() {
            Tok::Word(w) => w,
            Tok::Eof => return Err(self.unexpected("`}`")),
            _ => return Err(self.unexpected("a protocol option")),
        };
        self.advance();
        match (kind, w) {
            (_, "debug") => self.debug()?,
            (_, "description") => o.description = Some(self.string()?.to_owned()),
            (Bgp, "import") if self.eat_word("limit") => o.import_limit = Some(self.limit_spec()?),
            (Bgp, "receive") => {
                self.expect_word("limit")?;
                o.receive_limit = Some(self.limit_spec()?);
            }
            (_, "import") => {
                let f = self.filter_ref(true)?;
                self.check_channel_default(kind, pos, &f, true)?;
                o.import = Some(At { v: f, pos });
            }
            (_, "export") => {
                let f = self.filter_ref(false)?;
                self.check_channel_default(kind, pos, &f, false)?;
                o.export = Some(At { v: f, pos });
            }
            (_, "ipv4" | "ipv6") if kind != Device => {
                let fam = if w == "ipv4" {
                    BirdFamily::V4
                } else {
                    BirdFamily::V6
                };
                let ch = self.channel(kind, o)?;
                o.channels.push((fam, At { v: ch, pos }));
                // `ipv4 { … }`, `ipv4 { … };` or `ipv4;`.
                self.eat(P::Semi);
                return Ok(());
            }
            (Kernel | Device, "scan") => {
                self.expect_word("time")?;
                self.num()?;
            }
            (Kernel, "learn") => o.learn = self.switch(),
            (Kernel, "persist") => o.persist = self.switch(),
            (Kernel, "kernel") => {
                self.expect_word("table")?;
                o.kernel_table = Some(self.num()?);
            }
            (Kernel, "merge") => {
                self.expect_word("paths")?;
                o.merge_paths = Some(self.merge_paths(pos)?);
            }
            (Kernel | Bgp, "graceful") => {
                self.expect_word("restart")?;
                if kind == Bgp && self.eat_word("time") {
                    o.gr_time = Some(self.num_in(0, 4095, "graceful restart time")?);
                } else if self.eat_word("aware") {
                    o.graceful_restart = Some(At { v: false, pos });
                } else {
                    o.graceful_restart = Some(At {
                        v: self.switch(),
                        pos,
                    });
                }
            }
            (Direct, "interface") => loop {
                let negated = self.eat(P::Minus);
                let glob = self.string()?.to_owned();
                o.interfaces.push(InterfacePattern { negated, glob });
                if !self.eat(P::Comma) {
                    break;
                }
            },
            (Static, "route") => {
                let rpos = self.pos();
                let net = match self.peek() {
                    Tok::Prefix(p) => {
                        self.advance();
                        p
                    }
                    _ => return Err(self.unexpected("a prefix")),
                };
                let dest = if self.eat_word("blackhole") {
                    RouteDest::Blackhole
                } else if self.eat_word("via") {
                    RouteDest::Via(self.ip()?.v)
                } else {
                    return Err(match self.peek() {
                        Tok::Word(w) => {
                            self.unsupported_option(kind, self.pos(), &format!("route … {w}"))
                                .hint("static routes: `route PREFIX blackhole;` or `route PREFIX via IP;`")
                        }
                        _ => self.unexpected("`blackhole` or `via`"),
                    });
                };
                o.routes.push(At {
                    v: (net, dest),
                    pos: rpos,
                });
            }
            (Bgp, "local") => {
                if let Tok::Ip(_) = self.peek() {
                    o.local_address = Some(self.ip()?);
                    self.ipa_scope(o)?;
                }
                if self.eat_word("port") {
                    return Err(self.unsupported_option(kind, pos, "local … port"));
                }
                if self.eat_word("as") {
                    o.local_as = Some(self.num_in(1, u32::MAX, "AS number")?);
                }
            }
            (Bgp, "neighbor") => {
                if let Tok::Ip(_) = self.peek() {
                    o.neighbor = Some(self.ip()?);
                    self.ipa_scope(o)?;
                } else if !self.is_word("port") && !self.is_word("as") {
                    return Err(self.unexpected("a neighbor address"));
                }
                if self.eat_word("port") {
                    let p = self.num_in(1, 65535, "port")?;
                    o.neighbor_port = Some(At {
                        v: p.v as u16,
                        pos: p.pos,
                    });
                }
                if self.eat_word("as") {
                    o.remote_as = Some(self.num_in(1, u32::MAX, "AS number")?);
                }
            }
            (Bgp, "interface") => {
                let ipos = self.pos();
                let name = self.string()?;
                o.interface = Some(At {
                    v: name.to_string(),
                    pos: ipos,
                });
            }
            (Bgp, "source") => {
                self.expect_word("address")?;
                o.source_address = Some(self.ip()?);
            }
            (Bgp, "ttl") => {
                self.expect_word("security")?;
                o.ttl_security = Some(At {
                    v: self.switch(),
                    pos,
                });
            }
            (Bgp, "multihop") => {
                let n = if let Tok::Num(_) = self.peek() {
                    self.num_in(0, 255, "multihop")?.v as u8
                } else {
                    64
                };
                o.multihop = Some(At { v: n, pos });
            }
            (Bgp, "passive") => o.passive = self.switch(),
            (Bgp, "hold") => {
                self.expect_word("time")?;
                o.hold = Some(self.num_in(0, 65535, "hold time")?);
            }
            (Bgp, "keepalive") => {
                self.expect_word("time")?;
                o.keepalive = Some(self.num_in(0, 65535, "keepalive time")?);
            }
            (Bgp, "connect") => {
                if self.eat_word("delay") {
                    self.expect_word("time")?;
                    o.connect_delay = Some(self.num()?.v);
                } else if self.eat_word("retry") {
                    self.expect_word("time")?;
                    o.connect_retry = Some(self.num()?.v);
                } else {
                    return Err(self.unexpected("`delay` or `retry`"));
                }
            }
            (Bgp, "error") => {
                let epos = pos;
                if !self.eat_word("wait") {
                    return Err(self.unsupported_option(kind, pos, "error …"));
                }
                self.expect_word("time")?;
                let a = self.num()?.v;
                self.expect(P::Comma)?;
                let b = self.num()?.v;
                if a > b {
                    return Err(Diag::at(
                        epos,
                        ErrorKind::Conflict,
                        format!("error wait time {a},{b}: the minimum is above the maximum"),
                    )
                    .in_construct(&self.ctx));
                }
                o.error_wait = Some(At { v: (a, b), pos });
            }
            (Bgp, "password") => o.password = Some(self.string()?.to_owned()),
            (Bgp, "rr") => {
                if self.eat_word("client") {
                    o.rr_client = Some(At {
                        v: self.switch(),
                        pos,
                    });
                } else if self.eat_word("cluster") {
                    self.expect_word("id")?;
                    let npos = self.pos();
                    o.rr_cluster_id = Some(match self.peek() {
                        Tok::Num(n) => {
                            self.advance();
                            At {
                                v: Ipv4Addr::from(n as u32),
                                pos: npos,
                            }
                        }
                        _ => self.ipv4("rr cluster id")?,
                    });
                } else {
                    return Err(self.unexpected("`client` or `cluster id`"));
                }
            }
            (Bgp, "next") => o.next_hop = Some(self.next_hop()?),
            (Bgp, "allow") => {
                self.expect_word("local")?;
                self.expect_word("as")?;
                // BIRD: without a number the local AS may appear any number of times.
                o.allow_local_as = Some(if let Tok::Num(_) = self.peek() {
                    self.num_in(0, 255, "allow local as")?.v as u8
                } else {
                    u8::MAX
                });
            }
            (Bgp, "add") => {
                self.expect_word("paths")?;
                o.add_paths = Some(self.add_paths());
            }
            (Bgp, "gateway") => self.gateway(o, pos)?,
            (Bgp, "extended") => {
                self.expect_word("next")?;
                self.expect_word("hop")?;
                o.extended_next_hop = Some(self.switch());
            }
            (Bgp, "bfd") => self.bgp_bfd(o)?,
            (Bfd, "interface" | "multihop" | "neighbor" | "accept" | "strict") => {
                self.bfd_proto_option(w, o)?
            }
            (_, other) => {
                return Err(self
                    .unsupported_option(kind, pos, other)
                    .hint(option_hint(kind)));
            }
        }
        self.semi()
    }

    /// BIRD's `ipa_scope` after an address: `% eth1` or `% 'eth1'` (a symbol, bare or quoted).
    fn ipa_scope(&mut self, o: &mut Opts) -> PResult<()> {
        if !self.eat(P::Percent) {
            return Ok(());
        }
        let pos = self.pos();
        let name = match self.peek() {
            Tok::Word(w) | Tok::Quoted(w) => w,
            _ => return Err(self.unexpected("an interface name after `%`")),
        };
        self.advance();
        o.interface = Some(At {
            v: name.to_string(),
            pos,
        });
        Ok(())
    }

    fn merge_paths(&mut self, pos: Pos) -> PResult<At<(bool, Option<u32>)>> {
        let on = self.switch();
        let limit = if self.eat_word("limit") {
            Some(self.num_in(1, 65535, "merge paths limit")?.v)
        } else {
            None
        };
        Ok(At {
            v: (on, limit),
            pos,
        })
    }

    fn next_hop(&mut self) -> PResult<NextHopMode> {
        self.expect_word("hop")?;
        if self.eat_word("self") {
            Ok(NextHopMode::SelfAddress)
        } else if self.eat_word("keep") {
            Ok(NextHopMode::Keep)
        } else {
            Err(self.unexpected("`self` or `keep`"))
        }
    }

    /// BIRD's `limit_spec`: `off`, or a count and an optional `action warn|block|restart|disable`
    /// (`disable` when absent).
    fn limit_spec(&mut self) -> PResult<Option<RouteLimit>> {
        if self.eat_word("off") {
            return Ok(None);
        }
        let max = self.num()?.v;
        let action = if self.eat_word("action") {
            let found = crate::validate::LIMIT_ACTIONS
                .iter()
                .find(|(w, _)| self.is_word(w))
                .map(|(_, a)| *a);
            match found {
                Some(a) => {
                    self.advance();
                    a
                }
                None => return Err(self.unexpected("`warn`, `block`, `restart` or `disable`")),
            }
        } else {
            LimitAction::Disable
        };
        Ok(Some(RouteLimit { max, action }))
    }

    fn add_paths(&mut self) -> Option<AddPathMode> {
        if self.eat_word("rx") {
            Some(AddPathMode::Receive)
        } else if self.eat_word("tx") {
            Some(AddPathMode::Send)
        } else if self.switch() {
            Some(AddPathMode::Both)
        } else {
            None
        }
    }

    /// Device, direct and static protocols take only the defaults `import all` / `export none`.
    fn check_channel_default(
        &self,
        kind: ProtoKind,
        pos: Pos,
        f: &FilterRef,
        import: bool,
    ) -> PResult<()> {
        let default = if import {
            FilterRef::All
        } else {
            FilterRef::None
        };
        if matches!(
            kind,
            ProtoKind::Device | ProtoKind::Direct | ProtoKind::Static
        ) && *f != default
        {
            let what = if import { "import" } else { "export" };
            return Err(self
                .unsupported_option(kind, pos, &format!("{what} filter"))
                .hint(format!(
                    "only the default `{what} {}` is accepted here",
                    if import { "all" } else { "none" }
                )));
        }
        Ok(())
    }

    /// `ipv4 [table T] { … }` or `ipv4;` (BIRD 2/3).
    fn channel(&mut self, kind: ProtoKind, o: &mut Opts) -> PResult<Channel> {
        let mut ch = Channel::default();
        if !self.eat(P::LBrace) {
            return Ok(ch);
        }
        while !self.eat(P::RBrace) {
            let pos = self.pos();
            let w = match self.peek() {
                Tok::Word(w) => w,
                _ => return Err(self.unexpected("a channel option")),
            };
            self.advance();
            match (kind, w) {
                (ProtoKind::Bgp, "import") if self.eat_word("limit") => {
                    o.import_limit = Some(self.limit_spec()?);
                }
                (ProtoKind::Bgp, "receive") => {
                    self.expect_word("limit")?;
                    o.receive_limit = Some(self.limit_spec()?);
                }
                (_, "import") => {
                    let f = self.filter_ref(true)?;
                    self.check_channel_default(kind, pos, &f, true)?;
                    ch.import = Some(At { v: f, pos });
                }
                (_, "export") => {
                    let f = self.filter_ref(false)?;
                    self.check_channel_default(kind, pos, &f, false)?;
                    ch.export = Some(At { v: f, pos });
                }
                (ProtoKind::Bgp, "add") => {
                    self.expect_word("paths")?;
                    o.add_paths = Some(self.add_paths());
                }
                (ProtoKind::Bgp, "next") => o.next_hop = Some(self.next_hop()?),
                (ProtoKind::Bgp, "gateway") => self.gateway(o, pos)?,
                (ProtoKind::Bgp, "extended") => {
                    self.expect_word("next")?;
                    self.expect_word("hop")?;
                    o.extended_next_hop = Some(self.switch());
                }
                (ProtoKind::Kernel, "merge") => {
                    self.expect_word("paths")?;
                    o.merge_paths = Some(self.merge_paths(pos)?);
                }
                (_, other) => {
                    return Err(Diag::at(
                        pos,
                        ErrorKind::UnknownField,
                        format!(
                            "channel option `{other}` is not supported by bgpd's BIRD front end"
                        ),
                    )
                    .in_construct(&self.ctx)
                    .hint(
                        "channel options: import, export, import limit, receive limit, add paths, \
                     next hop, gateway, extended next hop, merge paths",
                    ))
                }
            }
            self.semi()?;
        }
        Ok(ch)
    }

    fn debug(&mut self) -> PResult<()> {
        if self.eat_word("all") || self.eat_word("off") {
            return Ok(());
        }
        self.expect(P::LBrace)?;
        loop {
            match self.peek() {
                Tok::Word(
                    "states" | "routes" | "filters" | "interfaces" | "events" | "packets",
                ) => self.advance(),
                _ => return Err(self.unexpected("a debug category")),
            }
            if !self.eat(P::Comma) {
                break;
            }
        }
        self.expect(P::RBrace)
    }

    /// An inline filter's program: the one of a recent protocol when it compiled to the same
    /// (a Calico mesh renders one identical pair of inline filters per peer: thousands of
    /// copies otherwise, each some kilobytes of IR kept until the end of the parse and in every
    /// neighbor of the running configuration).
    fn shared_inline(&mut self, body: Vec<Stmt>) -> Arc<Draft> {
        if let Some(d) = self.recent_inline.iter().rev().find(|d| d.body == body) {
            return d.clone();
        }
        let d = Arc::new(Draft { name: None, body });
        if self.recent_inline.len() == RECENT_INLINE {
            self.recent_inline.remove(0);
        }
        self.recent_inline.push(d.clone());
        d
    }

    /// After `import`/`export`: `all`, `none`, `filter NAME`, `filter { … }`, `where EXPR`.
    fn filter_ref(&mut self, _import: bool) -> PResult<FilterRef> {
        if self.eat_word("all") {
            return Ok(FilterRef::All);
        }
        if self.eat_word("none") {
            return Ok(FilterRef::None);
        }
        if self.eat_word("where") {
            let body = self.where_body()?;
            return Ok(FilterRef::Program(self.shared_inline(body)));
        }
        if !self.eat_word("filter") {
            return Err(self.unexpected("`all`, `none`, `filter` or `where`"));
        }
        if self.is_punct(P::LBrace) {
            let body = self.filter_block()?;
            return Ok(FilterRef::Program(self.shared_inline(body)));
        }
        let name = self.symbol_name("a filter name or `{`")?;
        match self.symbols.get(name.v) {
            Some((Sym::Filter(d), _)) => Ok(FilterRef::Program(d.clone())),
            Some(_) => Err(Diag::at(
                name.pos,
                ErrorKind::UnknownName,
                format!("`{}` is not a filter", name.v),
            )
            .in_construct(&self.ctx)),
            None => Err(Diag::at(
                name.pos,
                ErrorKind::UnknownName,
                format!("filter `{}` is not defined (above this line)", name.v),
            )
            .in_construct(&self.ctx)),
        }
    }
}

fn option_hint(kind: ProtoKind) -> &'static str {
    match kind {
        ProtoKind::Kernel => {
            "kernel options: learn, persist, scan time, kernel table, merge paths, graceful \
             restart, import, export, debug, description, ipv4/ipv6 channels"
        }
        ProtoKind::Device => "device options: scan time, debug, description",
        ProtoKind::Direct => "direct options: interface, debug, description, ipv4/ipv6 channels",
        ProtoKind::Static => "static options: route, debug, description, ipv4/ipv6 channels",
        ProtoKind::Bfd => {
            "bfd options: interface, multihop, neighbor, accept, strict bind, debug, description"
        }
        ProtoKind::Bgp => {
            "bgp options: bfd, local, neighbor, source address, description, multihop, ttl security, \
             passive, password, hold time, keepalive time, connect delay/retry time, error wait \
             time, graceful restart [time], add paths, next hop self/keep, gateway, rr client, \
             rr cluster id, allow local as, import, export, debug, ipv4/ipv6 channels"
        }
    }
}

#[cfg(test)]
#[path = "parse_tests.rs"]
pub(crate) mod tests;
