//! Hex input: one message per line, lowercase or uppercase hex; blank lines and `#` comment lines
//! are skipped; whitespace and colons inside a line are ignored (`ff:ff ff...`).

use crate::error::CliError;

/// The octets of one line, or `None` for a blank or comment line.
pub fn parse_line(line: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = line
        .bytes()
        .filter(|b| !b.is_ascii_whitespace() && *b != b':')
        .collect();
    if digits.len() % 2 != 0 {
        return Err(format!("odd number of hex digits ({})", digits.len()));
    }
    digits
        .chunks_exact(2)
        .map(|p| {
            let hi = nibble(p[0]).ok_or_else(|| bad_digit(p[0]))?;
            let lo = nibble(p[1]).ok_or_else(|| bad_digit(p[1]))?;
            Ok(hi << 4 | lo)
        })
        .collect()
}

fn bad_digit(b: u8) -> String {
    format!("invalid hex digit {:?}", char::from(b))
}

fn nibble(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Every message of a hex text, with its 1-based line number.
pub fn messages(text: &str, source: &str) -> Result<Vec<(usize, Vec<u8>)>, CliError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let bytes = parse_line(t).map_err(|problem| CliError::BadHex {
            input: source.to_string(),
            line: i + 1,
            problem,
        })?;
        out.push((i + 1, bytes));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerates_separators_and_skips_comments() {
        let text = "# sender: bird\n\nFF:ff ff\t00\n  # indented comment\n0a0B\n";
        let m = messages(text, "t").unwrap();
        assert_eq!(
            m,
            vec![(3, vec![0xff, 0xff, 0xff, 0]), (5, vec![0x0a, 0x0b])]
        );
    }

    #[test]
    fn rejects_bad_digits_and_odd_length_with_the_line() {
        let e = messages("00\nzz\n", "f.hex").unwrap_err();
        assert!(e.to_string().contains("f.hex:2"), "{e}");
        assert!(messages("abc", "f").is_err());
    }
}
