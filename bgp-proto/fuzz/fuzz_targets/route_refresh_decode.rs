//! RouteRefresh::decode on a whole frame (it takes the header so its error can carry the
//! message, RFC 7313 §5).
#![no_main]
use bgp_proto::RouteRefresh;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|frame: &[u8]| {
    match RouteRefresh::decode(frame) {
        Ok(r) => {
            let _ = (r.family(), r.is_ignorable());
        }
        Err(e) => {
            let _ = e.notification();
        }
    }
});
