//! BFD in BIRD's configuration (BIRD 1.6 and 2, `proto/bfd/config.Y`, `nest/config.Y`):
//!
//! - in `protocol bgp`: `bfd on|off;`, `bfd graceful;`, BIRD 2's `bfd { interval 300 ms;
//!   min rx interval …; min tx interval …; idle tx interval …; multiplier N; passive on;
//!   graceful; };`
//! - `protocol bfd [NAME] { interface PATTERNS [{ options }]; multihop [{ options }];
//!   neighbor IP [dev "IF"] [local IP] [multihop on|off]; accept …; strict bind …; }`
//!   with the same options as above (without `graceful`) plus `authentication` / `password`
//!   (refused: bgpd's BFD has no authentication).

use std::time::Duration;

use super::{Opts, PResult, Parser, ProtoKind};
use crate::bird::diag::Diag;
use crate::bird::lex::{Tok, P};
use crate::error::ErrorKind;
use crate::model::InterfacePattern;

/// Options of a BFD session as written (unset: the interface's, then BIRD's defaults).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct BfdOpts {
    pub min_rx: Option<Duration>,
    pub min_tx: Option<Duration>,
    pub idle_tx: Option<Duration>,
    pub multiplier: Option<u8>,
    pub passive: Option<bool>,
    /// `bfd graceful` (bgp only).
    pub graceful: bool,
}

impl BfdOpts {
    /// `self` over `under`.
    pub(crate) fn over(self, under: &BfdOpts) -> BfdOpts {
        BfdOpts {
            min_rx: self.min_rx.or(under.min_rx),
            min_tx: self.min_tx.or(under.min_tx),
            idle_tx: self.idle_tx.or(under.idle_tx),
            multiplier: self.multiplier.or(under.multiplier),
            passive: self.passive.or(under.passive),
            graceful: self.graceful || under.graceful,
        }
    }
}

/// A `protocol bfd`'s `interface` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BfdIface {
    pub patterns: Vec<InterfacePattern>,
    pub opts: BfdOpts,
}

impl<'s> Parser<'s> {
    /// BIRD's `expr_us`: a number and `s`, `ms` or `us`.
    fn expr_us(&mut self, what: &str) -> PResult<Duration> {
        let n = self.num()?;
        let d = if self.eat_word("s") {
            Duration::from_secs(n.v.into())
        } else if self.eat_word("ms") {
            Duration::from_millis(n.v.into())
        } else if self.eat_word("us") {
            Duration::from_micros(n.v.into())
        } else {
            return Err(self.unexpected(&format!("a unit (`s`, `ms` or `us`) for the {what}")));
        };
        if d.is_zero() {
            return Err(Diag::at(
                n.pos,
                ErrorKind::OutOfRange,
                format!("the {what} must be above zero"),
            )
            .in_construct(&self.ctx));
        }
        Ok(d)
    }

    /// One BFD option (`bfd_item` / `bfd_iface_item`), without its `;`.
    fn bfd_item(&mut self, o: &mut BfdOpts, in_bgp: bool) -> PResult<()> {
        let pos = self.pos();
        if self.eat_word("interval") {
            let d = self.expr_us("interval")?;
            o.min_rx = Some(d);
            o.min_tx = Some(d);
        } else if self.eat_word("min") {
            let rx = if self.eat_word("rx") {
                true
            } else if self.eat_word("tx") {
                false
            } else {
                return Err(self.unexpected("`rx` or `tx`"));
            };
            self.expect_word("interval")?;
            let d = self.expr_us("interval")?;
            if rx {
                o.min_rx = Some(d);
            } else {
                o.min_tx = Some(d);
            }
        } else if self.eat_word("idle") {
            self.expect_word("tx")?;
            self.expect_word("interval")?;
            o.idle_tx = Some(self.expr_us("idle tx interval")?);
        } else if self.eat_word("multiplier") {
            o.multiplier = Some(self.num_in(1, 255, "BFD multiplier")?.v as u8);
        } else if self.eat_word("passive") {
            o.passive = Some(self.switch());
        } else if in_bgp && self.eat_word("graceful") {
            o.graceful = true;
        } else if self.is_word("authentication") || self.is_word("password") {
            return Err(Diag::at(
                pos,
                ErrorKind::UnknownField,
                "BFD authentication is not supported by bgpd",
            )
            .in_construct(&self.ctx));
        } else {
            return Err(self.unexpected(
                "a BFD option (interval, min rx/tx interval, idle tx interval, multiplier, passive)",
            ));
        }
        Ok(())
    }

    /// `{ item; … }` (optional when `optional`).
    fn bfd_block(&mut self, in_bgp: bool, optional: bool) -> PResult<BfdOpts> {
        let mut o = BfdOpts::default();
        if optional && !self.is_punct(P::LBrace) {
            return Ok(o);
        }
        self.expect(P::LBrace)?;
        while !self.eat(P::RBrace) {
            self.bfd_item(&mut o, in_bgp)?;
            self.semi()?;
        }
        Ok(o)
    }

    /// After `bfd` in a bgp protocol: `on|off|yes|no|N`, `graceful`, or a block.
    pub(super) fn bgp_bfd(&mut self, o: &mut Opts) -> PResult<()> {
        let pos = self.pos();
        let v = if self.eat_word("graceful") {
            Some(BfdOpts {
                graceful: true,
                ..BfdOpts::default()
            })
        } else if self.is_punct(P::LBrace) {
            Some(self.bfd_block(true, false)?)
        } else if self.switch() {
            Some(BfdOpts::default())
        } else {
            None
        };
        o.bfd = Some(super::At { v, pos });
        Ok(())
    }

    /// One option of `protocol bfd`, without its `;`.
    pub(super) fn bfd_proto_option(&mut self, w: &str, o: &mut Opts) -> PResult<()> {
        match w {
            "interface" => {
                let mut patterns = Vec::new();
                loop {
                    let negated = self.eat(P::Minus);
                    let glob = self.string()?.to_owned();
                    patterns.push(InterfacePattern { negated, glob });
                    if !self.eat(P::Comma) {
                        break;
                    }
                }
                let opts = self.bfd_block(false, true)?;
                o.bfd_ifaces.push(BfdIface { patterns, opts });
            }
            "multihop" => o.bfd_multihop = Some(self.bfd_block(false, true)?),
            "neighbor" => {
                // Static BFD sessions without a client: parsed, nothing acts on them.
                self.ip()?;
                if self.eat_word("dev") {
                    self.string()?;
                }
                if self.eat_word("local") {
                    self.ip()?;
                }
                if self.eat_word("multihop") {
                    self.switch();
                }
                o.bfd_static_neighbors += 1;
            }
            "accept" => {
                while let Tok::Word("ipv4" | "ipv6" | "direct" | "multihop") = self.peek() {
                    self.advance();
                }
            }
            "strict" => {
                self.expect_word("bind")?;
                self.switch();
            }
            other => {
                return Err(Diag::at(
                    self.pos(),
                    ErrorKind::UnknownField,
                    format!(
                        "option `{other}` of protocol {} is not supported by bgpd's BIRD front end",
                        ProtoKind::Bfd.word()
                    ),
                )
                .hint("bfd options: interface, multihop, neighbor, accept, strict bind, debug, description")
                .in_construct(&self.ctx))
            }
        }
        Ok(())
    }
}
