//! Allocation proofs with a counting global allocator (a bench target so the allocator does not
//! disturb the test binaries; run `cargo bench -p bgp-proto --bench alloc`, it asserts):
//! 1. iterating 1M NLRI entries with [`NlriIter`] allocates nothing per prefix: the count of
//!    allocations does not grow with the number of prefixes (it is zero);
//! 2. decoding one full 4096-octet UPDATE peaks at a small constant number of heap bytes;
//! 3. decoding 1M prefixes into `Update`s costs a constant number of allocations per message,
//!    not per prefix.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use bgp_proto::nlri::NlriIter;
use bgp_proto::{Family, Message};

#[path = "support/workload.rs"]
mod workload;

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grow(size: usize) {
    let now = LIVE.fetch_add(size, Relaxed) + size;
    PEAK.fetch_max(now, Relaxed);
}

// SAFETY: every call forwards to the system allocator with the caller's arguments unchanged;
// the counters are plain atomics and never affect what is returned.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        grow(layout.size());
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Relaxed);
        // SAFETY: `ptr` was allocated by `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        LIVE.fetch_sub(layout.size(), Relaxed);
        grow(new_size);
        // SAFETY: `ptr` was allocated by `System` with `layout`; `new_size` is the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn nlri_field(m: &[u8]) -> &[u8] {
    let body = &m[19..];
    let wlen = usize::from(u16::from_be_bytes([body[0], body[1]]));
    let alen = usize::from(u16::from_be_bytes([body[2 + wlen], body[3 + wlen]]));
    &body[4 + wlen + alen..]
}

/// Allocations made while iterating the first `limit` prefixes.
fn iterate_allocs(w: &workload::Workload, limit: usize) -> (usize, usize) {
    let before = ALLOCS.load(Relaxed);
    let mut n = 0;
    'outer: for m in &w.messages {
        for e in NlriIter::new(nlri_field(m), Family::Ipv4Unicast, false) {
            black_box(e.ok());
            n += 1;
            if n == limit {
                break 'outer;
            }
        }
    }
    (n, ALLOCS.load(Relaxed) - before)
}

fn main() {
    let w = workload::ipv4(1_000_000);

    // 1. Zero allocations per prefix on the iterator.
    let (small_n, small) = iterate_allocs(&w, 1_000);
    let (big_n, big) = iterate_allocs(&w, 1_000_000);
    println!("NlriIter: {small} allocations for {small_n} prefixes, {big} for {big_n} prefixes");
    assert_eq!(big_n, 1_000_000);
    assert_eq!(big, small, "allocations grow with the number of prefixes");
    assert_eq!(big, 0, "the NLRI iterator allocates");

    // 2. Peak heap of decoding one full 4096-octet UPDATE.
    let full = w
        .messages
        .iter()
        .find(|m| m.len() > 4000)
        .expect("a full message");
    let live = LIVE.load(Relaxed);
    PEAK.store(live, Relaxed);
    let allocs = ALLOCS.load(Relaxed);
    let m = Message::decode(full, &w.ctx).expect("decode");
    let peak = PEAK.load(Relaxed) - live;
    let count = ALLOCS.load(Relaxed) - allocs;
    let prefixes = match &m {
        Message::Update(u) => u.nlri.len(),
        _ => 0,
    };
    drop(m);
    println!(
        "decode of one {}-octet UPDATE ({prefixes} prefixes): {count} allocations, peak {peak} \
         heap bytes ({:.1} per wire octet)",
        full.len(),
        peak as f64 / full.len() as f64
    );
    // The decoded form holds one NlriEntry per prefix: bounded by a constant times the message
    // size (RFC 4271 §4.1: at most 4096 octets, so at most 64 KiB here).
    assert!(peak <= 16 * 4096, "peak {peak} bytes");

    // 3. Allocations per message, not per prefix, for full decodes.
    let before = ALLOCS.load(Relaxed);
    for m in &w.messages {
        black_box(Message::decode(m, &w.ctx).ok());
    }
    let total = ALLOCS.load(Relaxed) - before;
    let per_msg = total as f64 / w.messages.len() as f64;
    println!(
        "Message::decode of {} messages / {} prefixes: {total} allocations ({per_msg:.1} per \
         message, {:.5} per prefix)",
        w.messages.len(),
        w.prefixes,
        total as f64 / w.prefixes as f64
    );
    assert!(per_msg <= 16.0, "allocations per message: {per_msg}");
}
