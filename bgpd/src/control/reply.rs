//! BIRD's reply framing (`nest/cli.c`, `doc/reply_codes`): every line starts with a 4-digit code.
//! `NNNN-text` means more lines follow; when a line has the same code as the line before it, the
//! code is replaced by one space (` text`); the last line of a reply is `NNNN text` (for success
//! with nothing to say: `0000 ` with a trailing space).

use std::fmt::Write as _;

/// Reply codes used here (`doc/reply_codes` of BIRD 1.6).
pub mod code {
    pub const OK: u16 = 0;
    pub const WELCOME: u16 = 1;
    pub const READING_CONFIG: u16 = 2;
    pub const SHUTDOWN: u16 = 7;
    pub const ALREADY_DISABLED: u16 = 8;
    pub const DISABLED: u16 = 9;
    pub const ALREADY_ENABLED: u16 = 10;
    pub const ENABLED: u16 = 11;
    pub const RESTARTED: u16 = 12;
    pub const STATUS: u16 = 13;
    pub const ROUTE_COUNT: u16 = 14;
    pub const RELOADING: u16 = 15;
    pub const CONFIG_OK: u16 = 20;
    pub const GR_STATUS: u16 = 24;
    pub const VERSION: u16 = 1000;
    pub const INTERFACE_LIST: u16 = 1001;
    pub const PROTOCOL_LIST: u16 = 1002;
    pub const INTERFACE_ADDRESS: u16 = 1003;
    pub const INTERFACE_FLAGS: u16 = 1004;
    pub const INTERFACE_SUMMARY: u16 = 1005;
    pub const PROTOCOL_DETAILS: u16 = 1006;
    pub const ROUTE_LIST: u16 = 1007;
    /// `show route all`: the `Type:` line under a route.
    pub const ROUTE_DETAILS: u16 = 1008;
    pub const UPTIME: u16 = 1011;
    /// `show route all`: the attribute lines under a route.
    pub const ROUTE_ATTRIBUTES: u16 = 1012;
    pub const MEMORY: u16 = 1018;
    /// BIRD 2's `show bfd sessions` lines.
    pub const BFD_SESSIONS: u16 = 1020;
    pub const PROTOCOL_HEADING: u16 = 2002;
    pub const INTERFACE_HEADING: u16 = 2005;
    pub const NETWORK_NOT_IN_TABLE: u16 = 8001;
    pub const CONFIG_ERROR: u16 = 8002;
    pub const NO_PROTOCOLS_MATCH: u16 = 8003;
    pub const RELOAD_FAILED: u16 = 8006;
    /// Ours, not BIRD's: the RIB did not answer a `show route` (busy past the timeout, or
    /// stopped). A runtime error code, so birdc/birdcl print it as an error.
    pub const ROUTES_UNAVAILABLE: u16 = 8010;
    pub const COMMAND_TOO_LONG: u16 = 9000;
    pub const PARSE_ERROR: u16 = 9001;
    pub const INVALID_SYMBOL: u16 = 9002;
}

/// The version we announce, shaped like Calico's BIRD fork (`v0.3.3+birdv1.6.8`, whose BIRD 1.6.8
/// reply formats we reproduce): Calico's status reporter reads a version only from a line
/// starting `BIRD v`, so `CalicoNodeStatus` shows ours (upstream's `BIRD 1.6.8` leaves it empty).
pub const BIRD_VERSION: &str = concat!("v", env!("CARGO_PKG_VERSION"), "+bgpd");

/// Builds the bytes of one connection's replies. The "same code as the previous line" rule spans
/// replies on one connection, as in BIRD (`cli->last_reply`).
#[derive(Debug, Default)]
pub struct Framer {
    out: String,
    last: Option<u16>,
}

impl Framer {
    pub fn new() -> Self {
        Self::default()
    }

    /// A line that more lines follow (BIRD's negative code).
    pub fn line(&mut self, code: u16, text: &str) {
        if self.last == Some(code) {
            self.out.push(' ');
        } else {
            let _ = write!(self.out, "{code:04}-");
        }
        self.push_text(text);
        self.last = Some(code);
    }

    /// The last line of a reply.
    pub fn end(&mut self, code: u16, text: &str) {
        let _ = write!(self.out, "{code:04} ");
        self.push_text(text);
        self.last = Some(code);
    }

    /// `0000 `: success, nothing more to say.
    pub fn ok(&mut self) {
        self.end(code::OK, "");
    }

    /// Newlines inside a text would break the framing; BIRD never emits them, neither do we.
    fn push_text(&mut self, text: &str) {
        self.out.extend(
            text.chars()
                .map(|c| if c == '\n' || c == '\r' { ' ' } else { c }),
        );
        self.out.push('\n');
    }

    /// Takes what was built so far.
    pub fn take(&mut self) -> String {
        std::mem::take(&mut self.out)
    }

    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }
}

/// The greeting sent when a client connects (`cli_hello`).
pub fn greeting(f: &mut Framer) {
    f.end(code::WELCOME, &format!("BIRD {BIRD_VERSION} ready."));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_code_lines_continue_with_one_space_and_final_line_has_code() {
        let mut f = Framer::new();
        f.line(2002, "name     proto    table    state  since       info");
        f.line(1002, "a");
        f.line(1002, "b");
        f.ok();
        assert_eq!(
            f.take(),
            "2002-name     proto    table    state  since       info\n1002-a\n b\n0000 \n"
        );
    }

    #[test]
    fn continuation_spans_replies_like_birds_last_reply() {
        let mut f = Framer::new();
        greeting(&mut f);
        f.line(1006, "x");
        f.line(1006, "");
        f.ok();
        assert_eq!(
            f.take(),
            format!(
                "0001 BIRD v{}+bgpd ready.\n1006-x\n \n0000 \n",
                env!("CARGO_PKG_VERSION")
            )
        );
    }

    #[test]
    fn embedded_newlines_cannot_break_framing() {
        let mut f = Framer::new();
        f.end(9001, "a\nb");
        assert_eq!(f.take(), "9001 a b\n");
    }
}
