use super::*;
use crate::error::Location;

/// A scratch directory with the given files; removed on drop.
pub(crate) struct Scratch(pub PathBuf);

impl Scratch {
    pub(crate) fn new(tag: &str, files: &[(&str, &str)]) -> Scratch {
        let dir = std::env::temp_dir().join(format!("bgpd-bird-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in files {
            let path = dir.join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).unwrap();
            }
            std::fs::write(path, text).unwrap();
        }
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Tokens owning their text, to outlive the file table.
type Tok = TokOf<String>;

type LexResult = Result<(Vec<Tok>, Vec<Source>), Box<(Diag, Vec<Source>)>>;

fn lex_text(tag: &str, text: &str) -> LexResult {
    let s = Scratch::new(tag, &[("main.cfg", text)]);
    let mut sources = Vec::new();
    match lex_files(&s.0.join("main.cfg"), &mut sources) {
        Ok(t) => {
            let toks = t
                .tokens(&sources)
                .into_iter()
                .map(|t| t.tok.map_text(str::to_owned))
                .collect();
            Ok((toks, sources))
        }
        Err(d) => Err(Box::new((d, sources))),
    }
}

fn toks(tag: &str, text: &str) -> Vec<Tok> {
    match lex_text(tag, text) {
        Ok((t, _)) => t,
        Err(e) => panic!("{:?}", e.0),
    }
}

/// The error's line and column.
fn err_at(tag: &str, text: &str) -> (usize, usize, String) {
    match lex_text(tag, text) {
        Ok(t) => panic!("lexed: {:?}", t.0),
        Err(e) => {
            let (d, sources) = *e;
            let pos = d.pos.expect("a position");
            let loc = Location::of_offset(&sources[pos.file as usize].text, pos.offset as usize);
            (loc.line, loc.column, d.message)
        }
    }
}

fn w(s: &str) -> Tok {
    Tok::Word(s.into())
}

#[test]
fn lexes_addresses_prefixes_numbers_and_words() {
    assert_eq!(
        toks(
            "addr",
            "router id 10.0.0.1; 5000:1::0/64 fe80::1 ::/0 ffee::1 10.0.0.0/8 0x10 65535 Mesh_fd80__2"
        ),
        vec![
            w("router"),
            w("id"),
            Tok::Ip("10.0.0.1".parse().unwrap()),
            Tok::Punct(P::Semi),
            Tok::Prefix("5000:1::/64".parse().unwrap()),
            Tok::Ip("fe80::1".parse().unwrap()),
            Tok::Prefix("::/0".parse().unwrap()),
            Tok::Ip("ffee::1".parse().unwrap()),
            Tok::Prefix("10.0.0.0/8".parse().unwrap()),
            Tok::Num(16),
            Tok::Num(65535),
            w("Mesh_fd80__2"),
            Tok::Eof,
        ]
    );
}

#[test]
fn lexes_operators_masks_and_quoted_symbols() {
    assert_eq!(
        toks(
            "ops",
            "a!~b != <= >= && || [= 1 * ? =] bgp_community.add 'bgp_x-y.z_importFilterV4'() -\"cali*\""
        ),
        vec![
            w("a"),
            Tok::Punct(P::NotTilde),
            w("b"),
            Tok::Punct(P::Ne),
            Tok::Punct(P::Le),
            Tok::Punct(P::Ge),
            Tok::Punct(P::And),
            Tok::Punct(P::Or),
            Tok::Punct(P::MaskOpen),
            Tok::Num(1),
            Tok::Punct(P::Star),
            Tok::Punct(P::Question),
            Tok::Punct(P::MaskClose),
            w("bgp_community"),
            Tok::Punct(P::Dot),
            w("add"),
            Tok::Quoted("bgp_x-y.z_importFilterV4".into()),
            Tok::Punct(P::LParen),
            Tok::Punct(P::RParen),
            Tok::Punct(P::Minus),
            Tok::Str("cali*".into()),
            Tok::Eof,
        ]
    );
}

#[test]
fn skips_comments_blank_and_whitespace_only_lines() {
    assert_eq!(
        toks("cmt", "\n    \n# x\na /* b\n c */ d # e\n\t\n"),
        vec![w("a"), w("d"), Tok::Eof]
    );
}

#[test]
fn reports_unterminated_strings_and_comments_at_their_start() {
    assert_eq!(err_at("str", "a\n  b \"abc\nd\";").0, 2);
    assert_eq!(err_at("str", "a\n  b \"abc\nd\";").1, 5);
    let (l, c, m) = err_at("com", "a;\n\n x /* never closed\n");
    assert_eq!((l, c), (3, 4));
    assert!(m.contains("unterminated comment"), "{m}");
}

#[test]
fn limits_symbols_to_64_characters() {
    let ok = "a".repeat(64);
    assert_eq!(toks("sym64", &ok), vec![w(&ok), Tok::Eof]);
    let (l, c, m) = err_at("sym65", &format!("x;\n  {}", "b".repeat(65)));
    assert_eq!((l, c), (2, 3));
    assert!(m.contains("longer than 64"), "{m}");
    let (_, c, _) = err_at("qsym65", &format!("'{}'", "b".repeat(65)));
    assert_eq!(c, 1);
}

#[test]
fn rejects_host_bits_and_bad_addresses() {
    let (_, c, m) = err_at("host", "route 10.0.0.1/24 blackhole;");
    assert_eq!(c, 7);
    assert!(m.contains("host bits"), "{m}");
    let (_, c, _) = err_at("badip", "x 1:2:3:4:5:6:7:8:9;");
    assert_eq!(c, 3);
}

#[test]
fn include_splices_files_relative_to_the_including_file() {
    let s = Scratch::new(
        "inc",
        &[
            ("main.cfg", "a;\n  include \"sub/one.cfg\";\nz;\n"),
            ("sub/.keep", ""),
        ],
    );
    std::fs::write(s.0.join("sub/one.cfg"), "b;\ninclude \"two*.cfg\";\n").unwrap();
    std::fs::write(s.0.join("sub/two_b.cfg"), "d;\n").unwrap();
    std::fs::write(s.0.join("sub/two_a.cfg"), "c;\n").unwrap();
    let mut sources = Vec::new();
    let t = lex_files(&s.0.join("main.cfg"), &mut sources).unwrap();
    let words: Vec<String> = t
        .tokens(&sources)
        .iter()
        .filter_map(|t| match &t.tok {
            TokOf::Word(w) => Some(format!("{w}@{}", t.pos.file)),
            _ => None,
        })
        .collect();
    // Glob matches in sorted order (glob(3)).
    assert_eq!(words, ["a@0", "b@1", "c@2", "d@3", "z@0"]);
    assert_eq!(sources[2].path, s.0.join("sub/two_a.cfg"));
}

#[test]
fn include_not_at_line_start_and_missing_files_are_errors() {
    let (l, c, m) = err_at("incpos", "a; include \"x.cfg\";");
    assert_eq!((l, c), (1, 4));
    assert!(m.contains("must start a line"), "{m}");
    // A comment before it on its line counts as text; a comment on the lines above does not.
    let (l, c, _) = err_at("inccmt", "a;\n/* x\n */ include \"x.cfg\";");
    assert_eq!((l, c), (3, 5));
    assert_eq!(
        toks("inccmt2", "# c\n/* x\n */\n\t include \"nope*.cfg\";\nq"),
        vec![w("q"), Tok::Eof]
    );
    let (l, c, m) = err_at("incmiss", "a;\n include \"nope.cfg\";");
    assert_eq!((l, c), (2, 2));
    assert!(m.contains("unable to open included file"), "{m}");
    // A pattern that matches nothing includes nothing.
    assert_eq!(
        toks("incglob", "include \"nope*.cfg\";\nq"),
        vec![w("q"), Tok::Eof]
    );
    // A device (or FIFO) is refused at once, never read.
    let (l, _, m) = err_at("incdev", "a;\ninclude \"/dev/zero\";");
    assert_eq!(l, 2);
    assert!(m.contains("not a regular file (a character device)"), "{m}");
}

#[test]
fn include_depth_is_bounded() {
    let s = Scratch::new("incdepth", &[("main.cfg", "include \"main.cfg\";\n")]);
    let mut sources = Vec::new();
    let d = lex_files(&s.0.join("main.cfg"), &mut sources).unwrap_err();
    assert!(d.message.contains("include depth"), "{}", d.message);
    // The main file and seven levels of includes.
    assert_eq!(sources.len(), MAX_INCLUDE_DEPTH);
}

#[test]
fn glob_matching() {
    assert!(glob_match(b"cali*", b"cali1234"));
    assert!(glob_match(b"*.cali", b"bpf0.cali"));
    assert!(!glob_match(b"*.cali", b"eth0"));
    assert!(glob_match(b"eth?", b"eth0"));
    assert!(glob_match(b"eth[0-3]", b"eth2"));
    assert!(!glob_match(b"eth[!0-3]", b"eth2"));
    assert!(glob_match(b"*", b""));
}
