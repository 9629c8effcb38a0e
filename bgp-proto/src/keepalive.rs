//! KEEPALIVE message (RFC 4271 §4.4): a bare header.

use crate::error::DecodeError;
use crate::header::HEADER_LEN;

/// Checks a KEEPALIVE body, which must be empty (RFC 4271 §6.1: otherwise Bad Message Length,
/// with the length as data).
pub fn decode(body: &[u8]) -> Result<(), DecodeError> {
    if body.is_empty() {
        Ok(())
    } else {
        Err(DecodeError::BadMessageLength {
            length: u16::try_from(HEADER_LEN + body.len()).unwrap_or(u16::MAX),
            offset: 16,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notification::{code, header_subcode};

    #[test]
    fn empty_body_is_a_keepalive() {
        assert_eq!(decode(&[]), Ok(()));
    }

    #[test]
    fn non_empty_body_is_bad_message_length() {
        let e = decode(&[0]).unwrap_err();
        let n = e.notification();
        assert_eq!(
            (n.code, n.subcode, n.data),
            (
                code::MESSAGE_HEADER,
                header_subcode::BAD_MESSAGE_LENGTH,
                vec![0, 20]
            )
        );
    }
}
