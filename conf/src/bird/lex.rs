//! BIRD's lexical rules (Calico's BIRD 1.6 fork, `conf/cf-lex.l`), with `include` expanded in
//! place: the result is one token stream over the main file and every file it includes, each
//! token tagged with the file and byte offset it came from.
//!
//! - `include "PATTERN";` must start a line (leading blanks allowed); the pattern is relative to
//!   the including file's directory and may use `*`, `?` and `[…]` in its last component (no
//!   match: nothing is included; a pattern without wildcards must name an existing file).
//!   Includes nest at most [`MAX_INCLUDE_DEPTH`] deep.
//! - `#` comments to the end of the line, `/* … */` comments (not nested).
//! - Strings `"…"` on one line; symbols `[A-Za-z_][A-Za-z0-9_]*` or `'…'` with
//!   `[A-Za-z0-9_.:-]`, at most [`SYM_MAX_LEN`] characters.
//! - Numbers (decimal, `0x` hex), IPv4 and IPv6 addresses, and prefixes (`ADDR/LEN`, lexed as one
//!   token here; BIRD's grammar joins them the same way).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use ipnet::IpNet;

use super::diag::{Diag, Pos};
use crate::error::ErrorKind;

/// BIRD's `SYM_MAX_LEN`.
pub(crate) const SYM_MAX_LEN: usize = 64;
/// BIRD's `MAX_INCLUDE_DEPTH`.
pub(crate) const MAX_INCLUDE_DEPTH: usize = 8;

/// One file read: its path as shown in messages and its text.
#[derive(Debug)]
pub(crate) struct Source {
    pub path: PathBuf,
    pub text: String,
}

/// Punctuation and operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum P {
    LBrace,
    RBrace,
    LParen,
    RParen,
    LBracket,
    RBracket,
    /// `[=`
    MaskOpen,
    /// `=]`
    MaskClose,
    Semi,
    Comma,
    Dot,
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    Tilde,
    NotTilde,
    Bang,
    And,
    Or,
    Plus,
    Minus,
    Star,
    Slash,
    Question,
    /// `%`: an address's interface scope (`fe80::1%eth1`, BIRD's `ipa_scope`).
    Percent,
}

impl P {
    pub(crate) fn text(self) -> &'static str {
        match self {
            P::LBrace => "{",
            P::RBrace => "}",
            P::LParen => "(",
            P::RParen => ")",
            P::LBracket => "[",
            P::RBracket => "]",
            P::MaskOpen => "[=",
            P::MaskClose => "=]",
            P::Semi => ";",
            P::Comma => ",",
            P::Dot => ".",
            P::Eq => "=",
            P::Ne => "!=",
            P::Lt => "<",
            P::Gt => ">",
            P::Le => "<=",
            P::Ge => ">=",
            P::Tilde => "~",
            P::NotTilde => "!~",
            P::Bang => "!",
            P::And => "&&",
            P::Or => "||",
            P::Plus => "+",
            P::Minus => "-",
            P::Star => "*",
            P::Slash => "/",
            P::Question => "?",
            P::Percent => "%",
        }
    }
}

/// A token. `S` holds the text of words, quoted symbols and strings: the parser reads them
/// as `&str` borrowed from the file table ([`Tok`]), so no token owns a copy of its text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum TokOf<S> {
    /// A bare word: keyword or symbol.
    Word(S),
    /// A single-quoted symbol (never a keyword).
    Quoted(S),
    Str(S),
    Num(u64),
    Ip(IpAddr),
    Prefix(IpNet),
    Punct(P),
    Eof,
}

/// A token whose text is borrowed from the file table.
pub(crate) type Tok<'s> = TokOf<&'s str>;

impl<S> TokOf<S> {
    #[cfg(test)]
    pub(crate) fn map_text<T>(self, f: impl FnOnce(S) -> T) -> TokOf<T> {
        match self {
            TokOf::Word(s) => TokOf::Word(f(s)),
            TokOf::Quoted(s) => TokOf::Quoted(f(s)),
            TokOf::Str(s) => TokOf::Str(f(s)),
            TokOf::Num(n) => TokOf::Num(n),
            TokOf::Ip(a) => TokOf::Ip(a),
            TokOf::Prefix(p) => TokOf::Prefix(p),
            TokOf::Punct(p) => TokOf::Punct(p),
            TokOf::Eof => TokOf::Eof,
        }
    }
}

impl Tok<'_> {
    /// For messages: what was found.
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Word(w) => format!("`{w}`"),
            Tok::Quoted(w) => format!("`'{w}'`"),
            Tok::Str(s) => format!("string \"{s}\""),
            Tok::Num(n) => format!("number {n}"),
            Tok::Ip(a) => format!("address {a}"),
            Tok::Prefix(p) => format!("prefix {p}"),
            Tok::Punct(p) => format!("`{}`", p.text()),
            Tok::Eof => "the end of the configuration".to_string(),
        }
    }
}

/// A token as the parser reads it, and where it starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Token<'s> {
    pub tok: Tok<'s>,
    pub pos: Pos,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Word,
    Quoted,
    Str,
    Num,
    Ip,
    Prefix,
    Punct(P),
    Eof,
}

/// A token as stored: 16 bytes (a 5,000-peer file has half a million tokens). Its text is found
/// in the file table from its position (`val` is its length), an address or prefix in
/// [`Lexemes::addrs`] (`val` indexes it), a number is `val` itself (BIRD's are 32-bit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Lexed {
    pub pos: Pos,
    val: u32,
    kind: Kind,
}

const _: () = assert!(std::mem::size_of::<Lexed>() == 16);

/// The token stream of the main file and its includes, ending with [`Tok::Eof`].
#[derive(Debug, Default)]
pub(crate) struct Lexemes {
    pub toks: Vec<Lexed>,
    addrs: Vec<IpNet>,
}

impl Lexemes {
    /// The token `t` with its text borrowed from `sources` (the table [`lex_files`] filled).
    #[inline(always)]
    pub(crate) fn tok<'s>(&self, t: &Lexed, sources: &'s [Source]) -> Tok<'s> {
        let text = |skip: u32| {
            let start = (t.pos.offset + skip) as usize;
            sources
                .get(t.pos.file as usize)
                .and_then(|s| s.text.get(start..start + t.val as usize))
                .unwrap_or_default()
        };
        let addr = || self.addrs.get(t.val as usize).copied();
        match t.kind {
            Kind::Word => Tok::Word(text(0)),
            Kind::Quoted => Tok::Quoted(text(1)),
            Kind::Str => Tok::Str(text(1)),
            Kind::Num => Tok::Num(t.val.into()),
            Kind::Ip => addr().map_or(Tok::Eof, |a| Tok::Ip(a.addr())),
            Kind::Prefix => addr().map_or(Tok::Eof, Tok::Prefix),
            Kind::Punct(p) => Tok::Punct(p),
            Kind::Eof => Tok::Eof,
        }
    }

    /// Every token with its text (tests).
    #[cfg(test)]
    pub(crate) fn tokens<'s>(&self, sources: &'s [Source]) -> Vec<Token<'s>> {
        self.toks
            .iter()
            .map(|t| Token {
                tok: self.tok(t, sources),
                pos: t.pos,
            })
            .collect()
    }

    fn push(&mut self, kind: Kind, pos: Pos, val: u32) {
        self.toks.push(Lexed { pos, val, kind });
    }

    /// A word, quoted symbol or string of `len` bytes.
    fn push_text(&mut self, kind: Kind, pos: Pos, len: usize) {
        self.push(kind, pos, len as u32);
    }

    fn push_addr(&mut self, kind: Kind, pos: Pos, net: IpNet) {
        let i = self.addrs.len() as u32;
        self.addrs.push(net);
        self.push(kind, pos, i);
    }
}

/// Reads `main` and its includes into one token stream (ending with [`Tok::Eof`]); the texts
/// are in `sources` ([`Lexemes::tok`]).
pub(crate) fn lex_files(main: &Path, sources: &mut Vec<Source>) -> Result<Lexemes, Diag> {
    let text = crate::file::read_text(main).map_err(|e| Diag {
        pos: None,
        file: Some(main.to_path_buf()),
        kind: ErrorKind::Io,
        path: String::new(),
        message: format!("cannot read the configuration: {e}"),
        hint: None,
    })?;
    // Calico's rendered files have about one token per 6 bytes.
    let mut out = Lexemes {
        toks: Vec::with_capacity(text.len() / 6 + 16),
        addrs: Vec::new(),
    };
    lex_source(main.to_path_buf(), text, 0, sources, &mut out)?;
    let end = sources.first().map_or(0, |s| s.text.len());
    out.push(
        Kind::Eof,
        Pos {
            file: 0,
            offset: end as u32,
        },
        0,
    );
    Ok(out)
}

/// Lexes `text` as if read from `path` (tests: no file needed unless it includes).
#[cfg(test)]
pub(crate) fn lex_text(
    path: &Path,
    text: &str,
    sources: &mut Vec<Source>,
) -> Result<Lexemes, Diag> {
    let mut out = Lexemes::default();
    lex_source(path.to_path_buf(), text.to_string(), 0, sources, &mut out)?;
    out.push(
        Kind::Eof,
        Pos {
            file: 0,
            offset: text.len() as u32,
        },
        0,
    );
    Ok(out)
}

/// Adds `path` to the file table and lexes its `text` into `out` (includes recursively). The
/// text is moved into the table when done, also after an error (messages need it).
fn lex_source(
    path: PathBuf,
    text: String,
    depth: usize,
    sources: &mut Vec<Source>,
    out: &mut Lexemes,
) -> Result<(), Diag> {
    let file = sources.len();
    sources.push(Source {
        path,
        text: String::new(),
    });
    let r = lex_text_of(&text, file as u32, depth, sources, out);
    sources[file].text = text;
    r
}

/// Byte classes, one table lookup per byte in the hot loops.
const BLANK: u8 = 1;
const WORD: u8 = 2;
const HEX: u8 = 4;

const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        if matches!(b, b' ' | b'\t' | b'\r' | b'\n') {
            t[c] |= BLANK;
        }
        if b.is_ascii_alphanumeric() || b == b'_' {
            t[c] |= WORD;
        }
        if b.is_ascii_hexdigit() {
            t[c] |= HEX;
        }
        c += 1;
    }
    t
};

/// Bytes that may continue a word.
fn is_word_byte(c: u8) -> bool {
    CLASS[c as usize] & WORD != 0
}

/// Whether only blanks precede `at` on its line (`include` must start a line).
fn starts_line(b: &[u8], at: usize) -> bool {
    b[..at]
        .iter()
        .rev()
        .find(|&&c| !matches!(c, b' ' | b'\t' | b'\r'))
        .is_none_or(|&c| c == b'\n')
}

fn lex_text_of(
    text: &str,
    file: u32,
    depth: usize,
    sources: &mut Vec<Source>,
    out: &mut Lexemes,
) -> Result<(), Diag> {
    let b = text.as_bytes();
    let mut i = 0usize;
    let at = |off: usize| Pos {
        file,
        offset: off as u32,
    };
    while i < b.len() {
        let c = b[i];
        if CLASS[c as usize] & BLANK != 0 {
            i += 1;
            while i < b.len() && CLASS[b[i] as usize] & BLANK != 0 {
                i += 1;
            }
            continue;
        }
        let start = i;
        match c {
            b'#' => {
                i = memchr_or_end(b, i, b'\n');
            }
            b'/' if b.get(i + 1) == Some(&b'*') => match text[i + 2..].find("*/") {
                Some(end) => i = i + 2 + end + 2,
                None => {
                    return Err(Diag::at(
                        at(start),
                        ErrorKind::Syntax,
                        "unterminated comment: `/*` without `*/`",
                    ))
                }
            },
            b'"' => {
                let mut j = i + 1;
                while j < b.len() && b[j] != b'"' && b[j] != b'\n' {
                    j += 1;
                }
                if j >= b.len() || b[j] != b'"' {
                    return Err(Diag::at(
                        at(start),
                        ErrorKind::Syntax,
                        "unterminated string: a string ends with `\"` on the same line",
                    ));
                }
                out.push_text(Kind::Str, at(start), j - (i + 1));
                i = j + 1;
            }
            b'\'' => {
                let mut j = i + 1;
                while j < b.len()
                    && (b[j].is_ascii_alphanumeric() || matches!(b[j], b'_' | b'.' | b':' | b'-'))
                {
                    j += 1;
                }
                if j >= b.len() || b[j] != b'\'' || j == i + 1 {
                    return Err(Diag::at(
                        at(start),
                        ErrorKind::Syntax,
                        "malformed quoted symbol: '…' holds letters, digits and `_ . : -`",
                    ));
                }
                check_sym_len(&text[i + 1..j], at(start))?;
                out.push_text(Kind::Quoted, at(start), j - (i + 1));
                i = j + 1;
            }
            c if is_word_byte(c) || (c == b':' && b.get(i + 1) == Some(&b':')) => {
                let mut word_end = i;
                while word_end < b.len() && is_word_byte(b[word_end]) {
                    word_end += 1;
                }
                // An address is a run of hex digits, `.` and `:` going past the word (which then
                // holds only hex digits): `10.0.0.1`, `fe80::1`, `::/0`.
                let mut j = word_end;
                let (mut dots, mut colons) = (0usize, 0usize);
                if matches!(b.get(word_end), Some(b'.' | b':'))
                    && b[i..word_end].iter().all(|&x| CLASS[x as usize] & HEX != 0)
                {
                    while j < b.len() {
                        match b[j] {
                            b'.' => dots += 1,
                            b':' => colons += 1,
                            x if CLASS[x as usize] & HEX != 0 => {}
                            _ => break,
                        }
                        j += 1;
                    }
                }
                let is_v6 = colons > 0;
                let is_v4 = c.is_ascii_digit() && dots == 3;
                if is_v6 || is_v4 {
                    let run = &text[i..j];
                    let ip: Option<IpAddr> = if is_v6 {
                        run.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
                    } else {
                        run.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
                    };
                    let Some(ip) = ip else {
                        return Err(Diag::at(
                            at(start),
                            ErrorKind::Invalid,
                            format!("`{run}` is not a valid IP address"),
                        ));
                    };
                    i = j;
                    if b.get(i) == Some(&b'/') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
                        let mut k = i + 1;
                        while k < b.len() && b[k].is_ascii_digit() {
                            k += 1;
                        }
                        let len: u8 = text[i + 1..k].parse().unwrap_or(u8::MAX);
                        let net = IpNet::new(ip, len).map_err(|_| {
                            Diag::at(
                                at(start),
                                ErrorKind::Invalid,
                                format!("`{}` is not a valid prefix", &text[start..k]),
                            )
                        })?;
                        if net.trunc() != net {
                            return Err(Diag::at(
                                at(start),
                                ErrorKind::Invalid,
                                format!(
                                    "invalid network prefix {}: host bits are set (BIRD: {})",
                                    &text[start..k],
                                    net.trunc()
                                ),
                            ));
                        }
                        out.push_addr(Kind::Prefix, at(start), net);
                        i = k;
                    } else {
                        out.push_addr(Kind::Ip, at(start), IpNet::from(ip));
                    }
                } else if c.is_ascii_digit() {
                    let (value, end) = if c == b'0' && matches!(b.get(i + 1), Some(b'x' | b'X')) {
                        let mut k = i + 2;
                        while k < b.len() && b[k].is_ascii_hexdigit() {
                            k += 1;
                        }
                        (u64::from_str_radix(&text[i + 2..k], 16).ok(), k)
                    } else {
                        let mut k = i;
                        let mut v: Option<u64> = Some(0);
                        while k < b.len() && b[k].is_ascii_digit() {
                            v = v
                                .and_then(|v| v.checked_mul(10))
                                .and_then(|v| v.checked_add(u64::from(b[k] - b'0')));
                            k += 1;
                        }
                        (v, k)
                    };
                    let Some(value) = value.filter(|v| *v <= u64::from(u32::MAX)) else {
                        return Err(Diag::at(
                            at(start),
                            ErrorKind::OutOfRange,
                            format!("number `{}` is out of range", &text[i..end]),
                        ));
                    };
                    out.push(Kind::Num, at(start), value as u32);
                    i = end;
                } else {
                    let word = &text[i..word_end];
                    check_sym_len(word, at(start))?;
                    if word == "include" {
                        if !starts_line(b, start) {
                            return Err(Diag::at(
                                at(start),
                                ErrorKind::Syntax,
                                "`include` must start a line (only blanks may precede it)",
                            ));
                        }
                        i = include(text, word_end, at(start), depth, sources, out)?;
                        continue;
                    }
                    out.push_text(Kind::Word, at(start), word_end - i);
                    i = word_end;
                }
            }
            _ => {
                let two = b.get(i + 1).copied();
                let (p, n) = match (c, two) {
                    (b'[', Some(b'=')) => (P::MaskOpen, 2),
                    (b'=', Some(b']')) => (P::MaskClose, 2),
                    (b'!', Some(b'=')) => (P::Ne, 2),
                    (b'!', Some(b'~')) => (P::NotTilde, 2),
                    (b'<', Some(b'=')) => (P::Le, 2),
                    (b'>', Some(b'=')) => (P::Ge, 2),
                    (b'&', Some(b'&')) => (P::And, 2),
                    (b'|', Some(b'|')) => (P::Or, 2),
                    (b'{', _) => (P::LBrace, 1),
                    (b'}', _) => (P::RBrace, 1),
                    (b'(', _) => (P::LParen, 1),
                    (b')', _) => (P::RParen, 1),
                    (b'[', _) => (P::LBracket, 1),
                    (b']', _) => (P::RBracket, 1),
                    (b';', _) => (P::Semi, 1),
                    (b',', _) => (P::Comma, 1),
                    (b'.', _) => (P::Dot, 1),
                    (b'=', _) => (P::Eq, 1),
                    (b'<', _) => (P::Lt, 1),
                    (b'>', _) => (P::Gt, 1),
                    (b'~', _) => (P::Tilde, 1),
                    (b'!', _) => (P::Bang, 1),
                    (b'+', _) => (P::Plus, 1),
                    (b'-', _) => (P::Minus, 1),
                    (b'*', _) => (P::Star, 1),
                    (b'/', _) => (P::Slash, 1),
                    (b'?', _) => (P::Question, 1),
                    (b'%', _) => (P::Percent, 1),
                    _ => {
                        let ch = text[i..].chars().next().unwrap_or('?');
                        return Err(Diag::at(
                            at(start),
                            ErrorKind::Syntax,
                            format!("unexpected character `{ch}`"),
                        ));
                    }
                };
                out.push(Kind::Punct(p), at(start), 0);
                i += n;
            }
        }
    }
    Ok(())
}

/// The index of the first `c` at or after `from`, or the end.
fn memchr_or_end(b: &[u8], from: usize, c: u8) -> usize {
    b[from..]
        .iter()
        .position(|&x| x == c)
        .map_or(b.len(), |k| from + k)
}

#[inline]
fn check_sym_len(name: &str, pos: Pos) -> Result<(), Diag> {
    if name.len() > SYM_MAX_LEN {
        return Err(Diag::at(
            pos,
            ErrorKind::Syntax,
            format!(
                "symbol `{}…` is longer than {SYM_MAX_LEN} characters",
                &name[..SYM_MAX_LEN.min(name.len())]
            ),
        ));
    }
    Ok(())
}

/// `include "PATTERN";` after the word at `pos`; `after` is the offset after `include`. Lexes
/// the included files into `out` and returns the offset after the `;`.
fn include(
    text: &str,
    after: usize,
    pos: Pos,
    depth: usize,
    sources: &mut Vec<Source>,
    out: &mut Lexemes,
) -> Result<usize, Diag> {
    let b = text.as_bytes();
    let skip_blank = |mut k: usize| {
        while k < b.len() && (b[k] == b' ' || b[k] == b'\t') {
            k += 1;
        }
        k
    };
    let malformed = || {
        Diag::at(
            pos,
            ErrorKind::Syntax,
            "malformed include: expected `include \"FILE\";` on one line",
        )
    };
    let q = skip_blank(after);
    if b.get(q) != Some(&b'"') {
        return Err(malformed());
    }
    let close = text[q + 1..]
        .find(['"', '\n'])
        .map(|k| q + 1 + k)
        .filter(|&k| b[k] == b'"')
        .ok_or_else(malformed)?;
    let semi = skip_blank(close + 1);
    if b.get(semi) != Some(&b';') {
        return Err(malformed());
    }
    let pattern = &text[q + 1..close];
    if depth + 1 >= MAX_INCLUDE_DEPTH {
        return Err(Diag::at(
            pos,
            ErrorKind::Syntax,
            format!("maximum include depth ({MAX_INCLUDE_DEPTH}) reached"),
        ));
    }
    let including = &sources[pos.file as usize].path;
    let dir = including.parent().unwrap_or(Path::new("")).to_path_buf();
    let full = if Path::new(pattern).is_absolute() {
        PathBuf::from(pattern)
    } else {
        dir.join(pattern)
    };
    let files = if pattern.contains(['*', '?', '[']) {
        expand_glob(&full).map_err(|e| {
            Diag::at(
                pos,
                ErrorKind::Io,
                format!("cannot list the files of include \"{pattern}\": {e}"),
            )
        })?
    } else {
        vec![full]
    };
    for f in files {
        let body = crate::file::read_text(&f).map_err(|e| {
            Diag::at(
                pos,
                ErrorKind::Io,
                format!("unable to open included file {}: {e}", f.display()),
            )
        })?;
        lex_source(f, body, depth + 1, sources, out)?;
    }
    Ok(semi + 1)
}

/// Files matching `pattern`, whose wildcards may only be in the last component, sorted (as
/// glob(3) returns them). Hidden files match only a pattern starting with `.`.
fn expand_glob(pattern: &Path) -> std::io::Result<Vec<PathBuf>> {
    let dir = pattern.parent().unwrap_or(Path::new(""));
    let name = pattern
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let read_dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let mut found = Vec::new();
    for entry in std::fs::read_dir(read_dir)? {
        let entry = entry?;
        let file = entry.file_name().to_string_lossy().into_owned();
        if file.starts_with('.') && !name.starts_with('.') {
            continue;
        }
        if glob_match(name.as_bytes(), file.as_bytes()) {
            found.push(dir.join(file));
        }
    }
    found.sort();
    Ok(found)
}

/// Shell glob: `*`, `?`, `[abc]`, `[a-z]`, `[!x]`.
pub(crate) fn glob_match(p: &[u8], s: &[u8]) -> bool {
    match p.first() {
        None => s.is_empty(),
        Some(b'*') => (0..=s.len()).any(|k| glob_match(&p[1..], &s[k..])),
        Some(b'?') => !s.is_empty() && glob_match(&p[1..], &s[1..]),
        Some(b'[') => {
            let Some(end) = p.iter().skip(2).position(|&c| c == b']').map(|k| k + 2) else {
                return s.first() == Some(&b'[') && glob_match(&p[1..], &s[1..]);
            };
            let Some(&c) = s.first() else { return false };
            let set = &p[1..end];
            let (neg, set) = match set.first() {
                Some(b'!' | b'^') => (true, &set[1..]),
                _ => (false, set),
            };
            let mut hit = false;
            let mut k = 0;
            while k < set.len() {
                if k + 2 < set.len() && set[k + 1] == b'-' {
                    hit |= set[k] <= c && c <= set[k + 2];
                    k += 3;
                } else {
                    hit |= set[k] == c;
                    k += 1;
                }
            }
            hit != neg && glob_match(&p[end + 1..], &s[1..])
        }
        Some(&c) => s.first() == Some(&c) && glob_match(&p[1..], &s[1..]),
    }
}

#[cfg(test)]
#[path = "lex_tests.rs"]
mod tests;
