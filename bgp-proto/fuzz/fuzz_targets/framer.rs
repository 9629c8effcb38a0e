//! The tokio_util framer (feature `codec`): feeds the input in chunks whose sizes come from the
//! first octet; every frame must be a whole message of the length its header states.
#![no_main]
use bgp_proto::BgpFramer;
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use tokio_util::codec::Decoder;

fuzz_target!(|data: &[u8]| {
    let Some((&b, stream)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(b % 64) + 1;
    let mut framer = BgpFramer::new();
    if b & 0x80 != 0 {
        framer.set_max_len(65535);
    }
    let mut buf = BytesMut::new();
    for piece in stream.chunks(chunk) {
        buf.extend_from_slice(piece);
        loop {
            match framer.decode(&mut buf) {
                Ok(Some(frame)) => {
                    let len = usize::from(u16::from_be_bytes([frame[16], frame[17]]));
                    assert_eq!(frame.len(), len);
                    assert!(len >= 19 && len <= framer.max_len());
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
});
