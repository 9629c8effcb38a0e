//! Every message captured from real daemons (tests/vectors/*.hex, see the provenance lines at the
//! top of each file) decodes with the session context its header states, and re-encodes byte for
//! byte where our encoding is canonical.
//!
//! Header lines read here: `# four-octet-as: yes|no|unknown`, `# add-path-rx: none|unknown|<families>`
//! (comma separated, e.g. `ipv4-unicast,ipv6-unicast`), `# extended-message: yes|no|unknown`;
//! RFC 8950 extended next hop for IPv4 is on when both `# sender-open:` and `# receiver-open:`
//! list `extended-nexthop(ipv4-unicast/nh-ipv6)`.
//! `unknown` (no OPEN from both sides on that connection) reads as the most common context: 4-octet
//! AS, no ADD-PATH, no extended message. A file whose header has a `# malformed:` line (or whose
//! name contains `malformed`) holds input meant to trigger errors: its decode errors are allowed.
//! Files of the `notifications` scenario (sessions that fail on purpose, see tests/vectors/README.md)
//! may hold messages our codec rejects, but only when the receiving daemon rejected them too: the
//! NOTIFICATION our decode error implies (code, subcode) must be one that the receiver sent back on
//! the same transport (a file of the reverse direction, any connection number).
//!
//! Where the encoding is not canonical (documented exceptions, checked semantically instead):
//! - OPEN with several Capabilities optional parameters (FRR and GoBGP put one capability per
//!   parameter, RFC 5492 allows both); we write one parameter. The re-encoding must decode to the
//!   same OPEN.
//!
//! UPDATEs must re-encode byte for byte: FRR 8.4 writes LARGE_COMMUNITIES before
//! EXTENDED_COMMUNITIES and AS4_PATH, GoBGP 3.10 writes MP_REACH_NLRI last (RFC 4271 §5 only says
//! SHOULD ascend), and the codec keeps the received order for re-encoding.

use std::path::{Path, PathBuf};
use std::process::Command;

use bgp_proto::{Message, SessionContext};

struct VectorFile {
    path: PathBuf,
    ctx: SessionContext,
    malformed: bool,
    scenario: String,
    /// (line number, message octets)
    messages: Vec<(usize, Vec<u8>)>,
}

fn vector_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn header_value<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let rest = line.strip_prefix('#')?.trim_start();
    let v = rest.strip_prefix(key)?.strip_prefix(':')?;
    // Values may be followed by an explanation in parentheses.
    Some(v.split("  ").next().unwrap_or("").trim())
}

fn yes(v: &str, file: &Path) -> bool {
    match v.split_whitespace().next() {
        Some("yes") => true,
        Some("no") | Some("unknown") | None => false,
        Some(other) => panic!("{}: unexpected header value {other:?}", file.display()),
    }
}

fn parse_file(path: &Path) -> VectorFile {
    let text = std::fs::read_to_string(path).expect("read vector file");
    let mut ctx = SessionContext {
        four_octet_as: true,
        ..SessionContext::default()
    };
    let mut malformed = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.contains("malformed"));
    let mut messages = Vec::new();
    let mut scenario = String::new();
    let mut v4_via_v6 = 0;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        if t.starts_with('#') {
            if let Some(v) = header_value(t, "four-octet-as") {
                // `unknown` keeps the 4-octet default.
                if !v.starts_with("unknown") {
                    ctx.four_octet_as = yes(v, path);
                }
            } else if let Some(v) = header_value(t, "add-path-rx") {
                let first = v.split_whitespace().next().unwrap_or("");
                for fam in first.split(',') {
                    match fam {
                        "ipv4-unicast" => ctx.add_path_rx_v4 = true,
                        "ipv6-unicast" => ctx.add_path_rx_v6 = true,
                        "none" | "unknown" | "" => {}
                        other => panic!("{}: unknown family {other:?}", path.display()),
                    }
                }
            } else if let Some(v) = header_value(t, "extended-message") {
                ctx.extended_message = yes(v, path);
            } else if let Some(v) = header_value(t, "scenario") {
                scenario = v.to_string();
            } else if let Some(v) =
                header_value(t, "sender-open").or_else(|| header_value(t, "receiver-open"))
            {
                if v.contains("extended-nexthop(ipv4-unicast/nh-ipv6)") {
                    v4_via_v6 += 1;
                }
            } else if header_value(t, "malformed").is_some() {
                malformed = true;
            }
            continue;
        }
        let bytes =
            hex::decode(t).unwrap_or_else(|e| panic!("{}:{}: bad hex: {e}", path.display(), i + 1));
        messages.push((i + 1, bytes));
    }
    ctx.extended_next_hop_v4 = v4_via_v6 == 2;
    VectorFile {
        path: path.to_path_buf(),
        ctx,
        malformed,
        scenario,
        messages,
    }
}

/// `sender_to_receiver_rest` → (sender, receiver, rest without the `-connN` suffix).
fn name_parts(path: &Path) -> Option<(String, String, String)> {
    let stem = path.file_stem()?.to_str()?;
    let (sender, right) = stem.split_once("_to_")?;
    let (receiver, rest) = right.split_once('_')?;
    let rest = match rest.rsplit_once("-conn") {
        Some((head, n)) if n.chars().all(|c| c.is_ascii_digit()) => head,
        _ => rest,
    };
    Some((sender.to_string(), receiver.to_string(), rest.to_string()))
}

/// NOTIFICATION (code, subcode) pairs the receiver of `f` sent back to its sender on the same
/// scenario and transport.
fn answers(f: &VectorFile, files: &[VectorFile]) -> Vec<(u8, u8)> {
    let Some((s, r, rest)) = name_parts(&f.path) else {
        return Vec::new();
    };
    files
        .iter()
        .filter(|g| name_parts(&g.path) == Some((r.clone(), s.clone(), rest.clone())))
        .flat_map(|g| g.messages.iter())
        .filter_map(
            |(_, m)| match Message::decode(m, &SessionContext::default()) {
                Ok(Message::Notification(n)) => Some((n.code, n.subcode)),
                _ => None,
            },
        )
        .collect()
}

fn vector_files() -> Vec<VectorFile> {
    let Ok(dir) = std::fs::read_dir(vector_dir()) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = dir
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "hex"))
        .collect();
    paths.sort();
    paths.iter().map(|p| parse_file(p)).collect()
}

/// The context the sender encoded with: what the receiver receives, the sender transmits.
fn sender_context(rx: &SessionContext) -> SessionContext {
    SessionContext {
        add_path_tx_v4: rx.add_path_rx_v4,
        add_path_tx_v6: rx.add_path_rx_v6,
        ..*rx
    }
}

/// Number of optional parameters of an OPEN (whole message given), non-extended format.
fn open_parameter_count(frame: &[u8]) -> usize {
    let Some(&len) = frame.get(28) else {
        return 0;
    };
    let mut params = frame.get(29..29 + usize::from(len)).unwrap_or(&[]);
    let mut n = 0;
    while let [_, plen, rest @ ..] = params {
        n += 1;
        params = rest.get(usize::from(*plen)..).unwrap_or(&[]);
    }
    n
}

#[test]
fn every_captured_message_decodes_and_re_encodes() {
    let files = vector_files();
    if files.is_empty() {
        eprintln!("skipping: tests/vectors has no .hex files yet");
        return;
    }
    let (mut total, mut exact, mut semantic, mut agreed) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for f in &files {
        let tx = sender_context(&f.ctx);
        for (line, frame) in &f.messages {
            total += 1;
            let at = format!("{}:{line}", f.path.display());
            let m = match Message::decode(frame, &f.ctx) {
                Ok(m) => m,
                Err(e) if f.malformed => {
                    let _ = e.notification();
                    continue;
                }
                Err(e) if f.scenario == "notifications" => {
                    let n = e.notification();
                    if answers(f, &files).contains(&(n.code, n.subcode)) {
                        agreed += 1;
                    } else {
                        failures.push(format!(
                            "{at}: decode error {e} (NOTIFICATION {}/{}) that the receiver \
                             did not send",
                            n.code, n.subcode
                        ));
                    }
                    continue;
                }
                Err(e) => {
                    failures.push(format!("{at}: decode error: {e}"));
                    continue;
                }
            };
            if let Message::Update(u) = &m {
                if !u.malformations.is_empty() && !f.malformed {
                    failures.push(format!(
                        "{at}: RFC 7606 malformations {:?}",
                        u.malformations
                    ));
                }
            }
            let bytes = match m.to_bytes(&tx) {
                Ok(b) => b,
                Err(e) => {
                    failures.push(format!("{at}: encode error: {e}"));
                    continue;
                }
            };
            if bytes[..] == frame[..] {
                exact += 1;
            } else if matches!(m, Message::Open(_)) && open_parameter_count(frame) > 1 {
                // Documented exception: one capability per optional parameter.
                match Message::decode(&bytes, &f.ctx) {
                    Ok(again) if again == m => semantic += 1,
                    other => failures.push(format!("{at}: OPEN re-encoding differs: {other:?}")),
                }
            } else {
                failures.push(format!(
                    "{at}: re-encoding differs\n  got  {}\n  want {}",
                    hex::encode(&bytes),
                    hex::encode(frame)
                ));
            }
        }
    }
    eprintln!(
        "{} files, {total} messages: {exact} re-encoded byte for byte, {semantic} OPENs \
         re-encoded in one parameter (equal after decode), {agreed} rejected as the receiving \
         daemon did",
        files.len()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn header_parser_reads_the_context_lines() {
    let dir = std::env::temp_dir().join(format!("bgp-vectors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let p = dir.join("x.hex");
    std::fs::write(
        &p,
        "# four-octet-as: no\n# add-path-rx: ipv4-unicast,ipv6-unicast  (families ...)\n\
         # extended-message: yes\n# malformed: attribute flags\n# KEEPALIVE\n\
         ffffffffffffffffffffffffffffffff001304\n",
    )
    .expect("write");
    let f = parse_file(&p);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!f.ctx.four_octet_as);
    assert!(f.ctx.add_path_rx_v4 && f.ctx.add_path_rx_v6);
    assert!(f.ctx.extended_message && f.malformed);
    assert_eq!(f.messages.len(), 1);
    assert_eq!(f.messages[0].0, 6);
    assert_eq!(
        name_parts(Path::new(
            "gobgp-3.10.0_to_frr-8.4.4_notifications-over-ipv6-conn2.hex"
        )),
        Some((
            "gobgp-3.10.0".to_string(),
            "frr-8.4.4".to_string(),
            "notifications-over-ipv6".to_string()
        ))
    );
}

/// A few files through the binary: the flags built from the header give the same result (one
/// JSON line per message, no errors).
#[test]
fn vector_files_through_bgp_decode() {
    let files = vector_files();
    if files.is_empty() {
        eprintln!("skipping: tests/vectors has no .hex files yet");
        return;
    }
    // The ones with ADD-PATH, a 2-octet AS session, and the largest, when present.
    let mut picked: Vec<&VectorFile> = Vec::new();
    let mut pick = |pred: &dyn Fn(&VectorFile) -> bool| {
        if let Some(f) = files
            .iter()
            .filter(|f| !f.malformed && f.scenario != "notifications" && pred(f))
            .max_by_key(|f| f.messages.len())
        {
            if !picked.iter().any(|p| p.path == f.path) {
                picked.push(f);
            }
        }
    };
    pick(&|f| f.ctx.add_path_rx_v4 || f.ctx.add_path_rx_v6);
    pick(&|f| !f.ctx.four_octet_as);
    pick(&|_| true);
    for f in picked {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_bgp-decode"));
        cmd.arg(&f.path);
        if !f.ctx.four_octet_as {
            cmd.arg("--two-octet-as");
        }
        let fams: Vec<&str> = [
            (f.ctx.add_path_rx_v4, "ipv4"),
            (f.ctx.add_path_rx_v6, "ipv6"),
        ]
        .into_iter()
        .filter_map(|(on, n)| on.then_some(n))
        .collect();
        if !fams.is_empty() {
            cmd.arg("--add-path").arg(fams.join(","));
        }
        if f.ctx.extended_message {
            cmd.arg("--ext-msg");
        }
        let out = cmd.output().expect("run bgp-decode");
        assert!(out.status.success(), "{}: {out:?}", f.path.display());
        let text = String::from_utf8_lossy(&out.stdout);
        let objs: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON line"))
            .collect();
        assert_eq!(objs.len(), f.messages.len(), "{}", f.path.display());
        for (o, (line, _)) in objs.iter().zip(&f.messages) {
            assert_eq!(o["line"], *line);
            assert!(o.get("error").is_none(), "{}:{line}: {o}", f.path.display());
            assert!(
                o.get("rfc7606").is_none(),
                "{}:{line}: {o}",
                f.path.display()
            );
        }
        eprintln!(
            "{}: {} messages through bgp-decode",
            f.path.display(),
            objs.len()
        );
    }
}

/// A message real daemons rejected comes out of bgp-decode as data, with the NOTIFICATION the
/// receiver really sent (GoBGP offering hold time 2 to FRR: OPEN Message Error / Unacceptable
/// Hold Time, RFC 4271 §6.2).
#[test]
fn rejected_open_through_bgp_decode() {
    let path = vector_dir().join("gobgp-3.10.0_to_frr-8.4.4_notifications.hex");
    if !path.exists() {
        eprintln!("skipping: {} not captured", path.display());
        return;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_bgp-decode"))
        .arg(&path)
        .output()
        .expect("run bgp-decode");
    assert!(out.status.success(), "malformed input is data: {out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let rejected: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON line"))
        .filter(|o| o.get("error").is_some())
        .collect();
    assert_eq!(rejected.len(), 1, "{text}");
    let e = &rejected[0]["error"];
    assert_eq!(rejected[0]["type"], "OPEN");
    assert_eq!(e["action"], "session-reset");
    assert_eq!(e["notification"]["code"], 2);
    assert_eq!(e["notification"]["subcode"], 6);
    assert_eq!(e["notification"]["subcode_name"], "Unacceptable Hold Time");
    assert_eq!(e["offset"], 22, "the Hold Time field");
}
