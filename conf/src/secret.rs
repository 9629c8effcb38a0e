//! The TCP-MD5 password (RFC 2385): read from a file or an environment variable, never printed.

use std::fmt;

/// A TCP-MD5 session key. `Debug` and `Display` print `<redacted>`; use [`Password::expose`] only
/// where the key is handed to the kernel (`TCP_MD5SIG`).
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Linux `TCP_MD5SIG_MAXKEYLEN`.
    pub const MAX_LEN: usize = 80;

    pub(crate) fn new(key: String) -> Password {
        Password(key)
    }

    /// The key bytes, for the socket option. Never log them.
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_key() {
        let p = Password::new("s3cret".into());
        assert_eq!(format!("{p:?}"), "<redacted>");
        assert_eq!(format!("{p}"), "<redacted>");
        assert_eq!(format!("{:?}", Some(&p)), "Some(<redacted>)");
        assert_eq!(p.expose(), b"s3cret");
    }
}
