//! `show memory` (BIRD 1.6 `cmd_show_memory`). We do not account memory per table or protocol
//! yet, so only the total is shown: the process's resident set size from `/proc/self/statm`.

use crate::control::reply::{code, Framer};

/// BIRD's `print_size`: at most four digits, then the unit (` B`, `kB`, `MB`, `GB`).
pub fn size_line(label: &str, bytes: u64) -> String {
    let units = [' ', 'k', 'M', 'G'];
    let mut val = bytes;
    let mut i = 0;
    while val >= 10_000 && i < 3 {
        val = (val + 512) / 1024;
        i += 1;
    }
    format!("{label:<17} {val:>4} {}B", units[i])
}

fn resident_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = text.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

pub fn run(f: &mut Framer) {
    f.line(code::MEMORY, "BIRD memory usage");
    match resident_bytes() {
        Some(b) => f.line(code::MEMORY, &size_line("Total:", b)),
        None => f.line(code::MEMORY, "Total:            unknown"),
    }
    f.ok();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_printed_like_bird() {
        assert_eq!(size_line("Total:", 512), "Total:             512  B");
        assert_eq!(size_line("Total:", 9_999), "Total:            9999  B");
        assert_eq!(size_line("Total:", 10_000), "Total:              10 kB");
        assert_eq!(
            size_line("Protocols:", 50 << 20),
            "Protocols:          50 MB"
        );
    }

    #[test]
    fn reply_ends_with_ok() {
        let mut f = Framer::new();
        run(&mut f);
        let t = f.take();
        assert!(t.starts_with("1018-BIRD memory usage\n Total:"));
        assert!(t.ends_with("\n0000 \n"));
    }
}
