//! Sanity of the committed codec vectors (`bgp-proto/tests/vectors/*.hex`): every data line is
//! one whole BGP message (RFC 4271 §4.1 header: all-ones marker, length equal to the line's byte
//! count, a known type) and every file carries the session-context header a decoder needs.
//! This checks framing only; decoding the messages is bgp-proto's job.

use std::path::PathBuf;

fn vector_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../bgp-proto/tests/vectors")
}

fn hex_to_bytes(line: &str) -> Option<Vec<u8>> {
    if line.len() % 2 != 0
        || line
            .bytes()
            .any(|b| !matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return None;
    }
    (0..line.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&line[i..i + 2], 16).ok())
        .collect()
}

#[test]
fn every_vector_line_is_one_whole_bgp_message() {
    let mut files = 0;
    let mut messages = 0;
    let mut seen_types = [false; 6];
    let entries = std::fs::read_dir(vector_dir()).expect("vector dir exists");
    for entry in entries {
        let path = entry.expect("dir entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("hex") {
            continue;
        }
        files += 1;
        let text = std::fs::read_to_string(&path).expect("readable");
        for key in [
            "# sender: ",
            "# receiver: ",
            "# four-octet-as: ",
            "# add-path-rx: ",
            "# extended-message: ",
        ] {
            assert!(
                text.lines().any(|l| l.starts_with(key)),
                "{}: no {key:?} header",
                path.display()
            );
        }
        let extended = text.lines().any(|l| l == "# extended-message: yes");
        for (n, line) in text.lines().enumerate() {
            if line.starts_with('#') {
                continue;
            }
            let where_ = format!("{}:{}", path.display(), n + 1);
            let msg = hex_to_bytes(line).unwrap_or_else(|| panic!("{where_}: not lowercase hex"));
            assert!(msg.len() >= 19, "{where_}: shorter than a header");
            assert!(msg[..16].iter().all(|&b| b == 0xff), "{where_}: marker");
            let len = usize::from(u16::from_be_bytes([msg[16], msg[17]]));
            assert_eq!(len, msg.len(), "{where_}: length field");
            // RFC 8654: above 4096 bytes only when both sides announced extended messages.
            assert!(
                len <= 4096 || extended,
                "{where_}: {len} bytes without extended message"
            );
            let t = usize::from(msg[18]);
            assert!((1..=5).contains(&t), "{where_}: type {t}");
            seen_types[t] = true;
            messages += 1;
        }
    }
    assert!(files >= 20, "only {files} vector files");
    assert!(messages >= 300, "only {messages} messages");
    assert!(
        seen_types[1..].iter().all(|&s| s),
        "some message type missing: {seen_types:?}"
    );
}
