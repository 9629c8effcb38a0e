//! Open::decode on an OPEN body; a decoded OPEN must survive encode → decode.
#![no_main]
use bgp_proto::Open;
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    if let Ok(o) = Open::decode(body) {
        let mut buf = BytesMut::new();
        if o.encode(&mut buf).is_ok() {
            let again = Open::decode(&buf).expect("re-encoded OPEN decodes");
            assert_eq!(again, o);
        }
    }
});
