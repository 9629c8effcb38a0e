//! Update::decode on an UPDATE body, context from the first octet. Accessors run on every
//! decoded UPDATE; a clean UPDATE must survive encode → decode.
#![no_main]
use bgp_proto::update::Update;
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((&b, body)) = data.split_first() else {
        return;
    };
    let ctx = common::context(b);
    let Ok(u) = Update::decode(body, &ctx) else {
        return;
    };
    let _ = u.announced().count() + u.withdrawals().count();
    let _ = u.end_of_rib();
    if u.malformations.is_empty() {
        let mut buf = BytesMut::new();
        if u.encode(&ctx, &mut buf).is_ok() {
            let again = Update::decode(&buf, &ctx).expect("re-encoded UPDATE decodes");
            assert_eq!(again.nlri, u.nlri);
            assert_eq!(again.withdrawn, u.withdrawn);
            assert_eq!(again.mp_reach, u.mp_reach);
            assert_eq!(again.mp_unreach, u.mp_unreach);
        }
    }
});
