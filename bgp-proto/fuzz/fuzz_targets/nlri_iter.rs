//! The NLRI iterator: first octet picks family and ADD-PATH. Entries must re-encode to the
//! octets they came from (modulo host bits, which decode masks).
#![no_main]
use bgp_proto::nlri::{self, NlriIter};
use bgp_proto::Family;
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&b, field)) = data.split_first() else {
        return;
    };
    let family = if b & 1 == 0 {
        Family::Ipv4Unicast
    } else {
        Family::Ipv6Unicast
    };
    let add_path = b & 2 != 0;
    let mut consumed = 0;
    for e in NlriIter::new(field, family, add_path) {
        match e {
            Ok(e) => {
                let mut buf = BytesMut::new();
                nlri::encode_entry(&e, add_path, &mut buf);
                assert_eq!(buf.len(), e.wire_len(add_path));
                consumed += buf.len();
                assert!(consumed <= field.len());
            }
            Err(err) => {
                assert!(err.offset <= field.len());
                break;
            }
        }
    }
});
