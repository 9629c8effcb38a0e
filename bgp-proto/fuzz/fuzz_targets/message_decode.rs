//! Message::decode on a whole frame, context from the first octet. A decoded message must
//! re-encode, and (when not malformed) the re-encoding must decode to the same message.
#![no_main]
use bgp_proto::Message;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((&b, frame)) = data.split_first() else {
        return;
    };
    let ctx = common::context(b);
    match Message::decode(frame, &ctx) {
        Ok(m) => {
            // A malformed UPDATE lost what was malformed (RFC 7606): only clean messages must
            // come back identical.
            let clean = !matches!(&m, Message::Update(u) if !u.malformations.is_empty());
            if let (true, Ok(bytes)) = (clean, m.to_bytes(&ctx)) {
                let again = Message::decode(&bytes, &ctx).expect("re-encoded message decodes");
                assert_eq!(again, m, "decode(encode(m)) == m");
            }
        }
        Err(e) => {
            let _ = e.notification();
            assert!(
                e.offset() <= frame.len().max(19),
                "offset within the message"
            );
        }
    }
});
