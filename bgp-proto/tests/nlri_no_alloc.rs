//! The per-prefix NLRI loop must not allocate: count heap allocations made by this thread while
//! iterating a full 4096-octet NLRI field.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use bgp_proto::nlri::NlriIter;
use bgp_proto::Family;

struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; the only addition is a
// thread-local counter that does not allocate.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn nlri_iteration_does_not_allocate() {
    // 1000 /24s with path identifiers, and 450 /64s.
    let mut v4 = Vec::new();
    for i in 0u32..1000 {
        v4.extend_from_slice(&i.to_be_bytes());
        v4.push(24);
        v4.extend_from_slice(&[10, (i >> 8) as u8, i as u8]);
    }
    let mut v6 = Vec::new();
    for i in 0u16..450 {
        v6.push(64);
        v6.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        v6.extend_from_slice(&i.to_be_bytes());
        v6.extend_from_slice(&[0, 0]);
    }
    let before = ALLOCS.with(Cell::get);
    let mut n = 0usize;
    let mut sum = 0u64;
    for e in NlriIter::new(&v4, Family::Ipv4Unicast, true) {
        let e = e.unwrap();
        n += 1;
        sum += u64::from(e.path_id.unwrap_or(0)) + u64::from(e.prefix.prefix_len());
    }
    for e in NlriIter::new(&v6, Family::Ipv6Unicast, false) {
        let e = e.unwrap();
        n += 1;
        sum += u64::from(e.prefix.prefix_len());
    }
    let after = ALLOCS.with(Cell::get);
    assert_eq!(n, 1450);
    assert!(sum > 0);
    assert_eq!(after - before, 0, "NLRI iteration allocated");
}
