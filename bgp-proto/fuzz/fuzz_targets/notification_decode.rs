//! Notification::decode on a NOTIFICATION body, plus the name and RFC 9003 helpers.
#![no_main]
use bgp_proto::Notification;
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    if let Ok(n) = Notification::decode(body) {
        let _ = (n.code_name(), n.subcode_name(), n.shutdown_communication());
        let _ = n.to_string();
        let mut buf = BytesMut::new();
        n.encode(&mut buf);
        assert_eq!(&buf[..], body, "NOTIFICATION re-encodes byte for byte");
    }
});
