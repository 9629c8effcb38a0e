//! The command grammar: the subset of BIRD 1.6's CLI we serve. Keywords are whole words (the
//! BIRD server does not expand abbreviations; `birdc` does that on the client side) and are
//! matched without regard to case; protocol names are case-sensitive; patterns and file names
//! are double-quoted strings.

use std::net::IpAddr;

/// Which protocols a command applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A protocol name (a BIRD symbol).
    Name(String),
    /// A quoted shell-like pattern (`*`, `?`), BIRD's `patmatch`.
    Pattern(String),
    /// The keyword `all`.
    All,
}

/// `reload`, `reload in`, `reload out`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReloadDirection {
    Both,
    In,
    Out,
}

pub use crate::route_view::Net;

/// `show route` options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteQuery {
    pub all: bool,
    /// `for ADDR`: the longest match covering it.
    pub for_net: Option<Net>,
    /// A bare prefix: exactly that network.
    pub exact: Option<Net>,
    pub protocol: Option<String>,
    pub primary: bool,
    pub count: bool,
}

/// One parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    ShowStatus,
    ShowProtocols {
        all: bool,
        target: Option<Target>,
    },
    ShowRoute(RouteQuery),
    ShowInterfaces {
        summary: bool,
    },
    ShowMemory,
    /// BIRD 2's `show bfd sessions [NAME]`.
    ShowBfdSessions,
    Configure {
        check: bool,
        file: Option<String>,
    },
    Enable(Target),
    Disable(Target),
    Restart(Target),
    Reload {
        direction: ReloadDirection,
        target: Target,
    },
    Down,
}

/// Why a command was refused before it ran (9xxx).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// BIRD 1.6's bison message, verbatim.
    #[error("syntax error")]
    Syntax,
    #[error("Invalid IPv4 address {0}")]
    InvalidV4(String),
    #[error("Invalid IPv6 address {0}")]
    InvalidV6(String),
    #[error("Unterminated string")]
    Unterminated,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Quoted(String),
}

fn tokenize(line: &str) -> Result<Vec<Token>, ParseError> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut s = String::new();
            loop {
                match chars.next() {
                    Some('"') => break,
                    Some(c) => s.push(c),
                    None => return Err(ParseError::Unterminated),
                }
            }
            out.push(Token::Quoted(s));
        } else {
            let mut s = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == '"' {
                    break;
                }
                s.push(c);
                chars.next();
            }
            out.push(Token::Word(s));
        }
    }
    Ok(out)
}

struct Cursor {
    toks: Vec<Token>,
    pos: usize,
}

impl Cursor {
    fn peek_kw(&self, kw: &str) -> bool {
        matches!(self.toks.get(self.pos), Some(Token::Word(w)) if w.eq_ignore_ascii_case(kw))
    }
    fn eat_kw(&mut self, kw: &str) -> bool {
        let hit = self.peek_kw(kw);
        if hit {
            self.pos += 1;
        }
        hit
    }
    fn next(&mut self) -> Option<Token> {
        let t = self.toks.get(self.pos).cloned();
        if t.is_some() {
            self.pos += 1;
        }
        t
    }
    fn done(&self) -> bool {
        self.pos >= self.toks.len()
    }
    fn end(&self) -> Result<(), ParseError> {
        if self.done() {
            Ok(())
        } else {
            Err(ParseError::Syntax)
        }
    }
}

/// A BIRD symbol: a letter or `_`, then letters, digits, `_`.
fn is_symbol(w: &str) -> bool {
    let mut c = w.chars();
    matches!(c.next(), Some(f) if f.is_ascii_alphabetic() || f == '_')
        && c.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Keywords that cannot be protocol names in these positions.
const RESERVED: &[&str] = &["all", "for", "protocol", "count", "primary", "in", "out"];

fn target(c: &mut Cursor, allow_all: bool) -> Result<Target, ParseError> {
    match c.next() {
        Some(Token::Quoted(p)) => Ok(Target::Pattern(p)),
        Some(Token::Word(w)) if allow_all && w.eq_ignore_ascii_case("all") => Ok(Target::All),
        Some(Token::Word(w)) if is_symbol(&w) && !is_reserved(&w) => Ok(Target::Name(w)),
        _ => Err(ParseError::Syntax),
    }
}

fn is_reserved(w: &str) -> bool {
    RESERVED.iter().any(|k| w.eq_ignore_ascii_case(k))
}

fn net(w: &str) -> Result<Net, ParseError> {
    let (a, len) = match w.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (w, None),
    };
    let addr: IpAddr = a.parse().map_err(|_| {
        if a.contains(':') {
            ParseError::InvalidV6(a.to_string())
        } else if a.contains('.') {
            ParseError::InvalidV4(a.to_string())
        } else {
            ParseError::Syntax
        }
    })?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = match len {
        None => max,
        Some(l) => match l.parse::<u8>() {
            Ok(l) if l <= max => l,
            _ => return Err(ParseError::Syntax),
        },
    };
    Ok(Net { addr, len })
}

fn show_route(c: &mut Cursor) -> Result<RouteQuery, ParseError> {
    let mut q = RouteQuery::default();
    while let Some(t) = c.next() {
        match t {
            Token::Word(w) if w.eq_ignore_ascii_case("all") => q.all = true,
            Token::Word(w) if w.eq_ignore_ascii_case("count") => q.count = true,
            Token::Word(w) if w.eq_ignore_ascii_case("primary") => q.primary = true,
            Token::Word(w) if w.eq_ignore_ascii_case("for") => match c.next() {
                Some(Token::Word(a)) => q.for_net = Some(net(&a)?),
                _ => return Err(ParseError::Syntax),
            },
            Token::Word(w) if w.eq_ignore_ascii_case("protocol") => match c.next() {
                Some(Token::Word(p)) if is_symbol(&p) => q.protocol = Some(p),
                _ => return Err(ParseError::Syntax),
            },
            Token::Word(w) if w.starts_with(|c: char| c.is_ascii_hexdigit() || c == ':') => {
                q.exact = Some(net(&w)?)
            }
            _ => return Err(ParseError::Syntax),
        }
    }
    if q.for_net.is_some() && q.exact.is_some() {
        return Err(ParseError::Syntax);
    }
    Ok(q)
}

/// Parses one command line (without its newline).
pub fn parse(line: &str) -> Result<Command, ParseError> {
    let mut c = Cursor {
        toks: tokenize(line)?,
        pos: 0,
    };
    let cmd = if c.eat_kw("show") {
        if c.eat_kw("status") {
            Command::ShowStatus
        } else if c.eat_kw("protocols") {
            let all = c.eat_kw("all");
            let target = if c.done() {
                None
            } else {
                Some(target(&mut c, false)?)
            };
            Command::ShowProtocols { all, target }
        } else if c.eat_kw("route") {
            return Ok(Command::ShowRoute(show_route(&mut c)?));
        } else if c.eat_kw("interfaces") {
            Command::ShowInterfaces {
                summary: c.eat_kw("summary"),
            }
        } else if c.eat_kw("bfd") {
            if !c.eat_kw("sessions") {
                return Err(ParseError::Syntax);
            }
            // BIRD's optional protocol name: we run one BFD instance.
            if matches!(c.toks.get(c.pos), Some(Token::Word(w)) if is_symbol(w)) {
                c.pos += 1;
            }
            Command::ShowBfdSessions
        } else if c.eat_kw("memory") {
            Command::ShowMemory
        } else {
            return Err(ParseError::Syntax);
        }
    } else if c.eat_kw("configure") {
        let check = c.eat_kw("check");
        if !check {
            c.eat_kw("soft");
        }
        let file = match c.next() {
            None => None,
            Some(Token::Quoted(f)) => Some(f),
            Some(Token::Word(_)) => return Err(ParseError::Syntax),
        };
        Command::Configure { check, file }
    } else if c.eat_kw("enable") {
        Command::Enable(target(&mut c, true)?)
    } else if c.eat_kw("disable") {
        Command::Disable(target(&mut c, true)?)
    } else if c.eat_kw("restart") {
        Command::Restart(target(&mut c, true)?)
    } else if c.eat_kw("reload") {
        let direction = if c.eat_kw("in") {
            ReloadDirection::In
        } else if c.eat_kw("out") {
            ReloadDirection::Out
        } else {
            ReloadDirection::Both
        };
        let target = target(&mut c, true)?;
        Command::Reload { direction, target }
    } else if c.eat_kw("down") {
        Command::Down
    } else {
        return Err(ParseError::Syntax);
    };
    c.end()?;
    Ok(cmd)
}

/// BIRD's `patmatch`: `*` any run, `?` one character.
pub fn pattern_match(pattern: &str, name: &str) -> bool {
    fn go(p: &[char], n: &[char]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some(('*', rest)) => (0..=n.len()).any(|i| go(rest, &n[i..])),
            Some(('?', rest)) => !n.is_empty() && go(rest, &n[1..]),
            Some((c, rest)) => n.first() == Some(c) && go(rest, &n[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    go(&p, &n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_calico_sends() {
        assert_eq!(parse("show status"), Ok(Command::ShowStatus));
        assert_eq!(
            parse("show protocols"),
            Ok(Command::ShowProtocols {
                all: false,
                target: None
            })
        );
        assert_eq!(
            parse("show protocols all Mesh_10_99_0_2"),
            Ok(Command::ShowProtocols {
                all: true,
                target: Some(Target::Name("Mesh_10_99_0_2".into()))
            })
        );
        assert_eq!(
            parse("show route"),
            Ok(Command::ShowRoute(RouteQuery::default()))
        );
    }

    #[test]
    fn parses_route_options_targets_and_admin_commands() {
        let q = match parse("show route all for 10.0.0.1 protocol Mesh_1 count") {
            Ok(Command::ShowRoute(q)) => q,
            other => panic!("{other:?}"),
        };
        assert!(q.all && q.count);
        assert_eq!(q.protocol.as_deref(), Some("Mesh_1"));
        assert_eq!(q.for_net.map(|n| n.len), Some(32));
        assert_eq!(
            parse("disable \"Mesh*\""),
            Ok(Command::Disable(Target::Pattern("Mesh*".into())))
        );
        assert_eq!(parse("ENABLE all"), Ok(Command::Enable(Target::All)));
        assert_eq!(
            parse("reload in p1"),
            Ok(Command::Reload {
                direction: ReloadDirection::In,
                target: Target::Name("p1".into())
            })
        );
        assert_eq!(
            parse("configure check \"/tmp/x.toml\""),
            Ok(Command::Configure {
                check: true,
                file: Some("/tmp/x.toml".into())
            })
        );
        assert_eq!(parse("down"), Ok(Command::Down));
    }

    #[test]
    fn rejects_garbage_and_bad_addresses() {
        for bad in [
            "",
            "foo",
            "show",
            "show protocols all all",
            "show protocols a b",
            "show status now",
            "\u{0}\u{1}\u{ff}",
            "show route for",
            "enable",
            "configure check x",
        ] {
            assert_eq!(parse(bad), Err(ParseError::Syntax), "{bad:?}");
        }
        assert_eq!(
            parse("show route for 10.0.0.300"),
            Err(ParseError::InvalidV4("10.0.0.300".into()))
        );
        assert_eq!(parse("show protocols \"x"), Err(ParseError::Unterminated));
    }

    #[test]
    fn patterns_and_prefix_containment() {
        assert!(pattern_match("Mesh_*", "Mesh_10_0_0_2"));
        assert!(pattern_match("?esh*2", "Mesh_10_0_0_2"));
        assert!(!pattern_match("Node_*", "Mesh_10_0_0_2"));
        let n = net("10.0.0.0/8").unwrap();
        assert!(n.contains(&net("10.1.2.0/24").unwrap()));
        assert!(!n.contains(&net("11.0.0.0/24").unwrap()));
        assert!(net("::/0").unwrap().contains(&net("fd99::1").unwrap()));
    }
}
