//! Decode and encode throughput (prefixes/s and bytes/s) of the codec on (a) 1M IPv4 /24 and
//! /26 prefixes with one attribute set, (b) the captured corpus of tests/vectors, (c) IPv6 with
//! ADD-PATH; and the same inputs decoded by bgpkit-parser, which also turns every NLRI entry
//! into a prefix value in a `Vec`, so the work compared is equivalent.
//!
//! Besides criterion's report, a fixed timing loop prints
//! `ours X Mprefix/s, bgpkit Y Mprefix/s, ratio Z` per input.
//!
//! Run: `cargo bench -p bgp-proto --bench codec -- --quick` (set `BGP_BENCH_PREFIXES` to change
//! the 1M default).

use std::hint::black_box;
use std::time::{Duration, Instant};

use bgp_proto::nlri::NlriIter;
use bgp_proto::{Family, Message};
use bgpkit_parser::models::{AsnLength, BgpMessage};
use bgpkit_parser::parser::bgp::messages::parse_bgp_message;
use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, Criterion, Throughput};

#[path = "support/workload.rs"]
mod workload;

use workload::Workload;

fn prefix_count() -> u32 {
    std::env::var("BGP_BENCH_PREFIXES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

/// Decodes every message with our codec; returns the number of NLRI entries.
fn decode_ours(w: &Workload) -> u64 {
    let mut n = 0;
    for m in &w.messages {
        if let Ok(Message::Update(u)) = Message::decode(m, &w.ctx) {
            n += (u.withdrawn.len()
                + u.nlri.len()
                + u.mp_reach.as_ref().map_or(0, |r| r.nlri.len())
                + u.mp_unreach.as_ref().map_or(0, |r| r.withdrawn.len())) as u64;
            black_box(&u);
        }
    }
    n
}

/// Decodes every message with bgpkit-parser; returns the number of NLRI entries.
fn decode_bgpkit(w: &Workload) -> u64 {
    let add_path = w.ctx.add_path_rx_v4 || w.ctx.add_path_rx_v6;
    let asn = if w.ctx.four_octet_as {
        AsnLength::Bits32
    } else {
        AsnLength::Bits16
    };
    let mut n = 0;
    for m in &w.messages {
        let mut b: Bytes = m.clone();
        if let Ok(BgpMessage::Update(u)) = parse_bgp_message(&mut b, add_path, &asn) {
            n += (u.withdrawn_prefixes.len()
                + u.announced_prefixes.len()
                + u.attributes
                    .get_reachable_nlri()
                    .map_or(0, |r| r.prefixes.len())
                + u.attributes
                    .get_unreachable_nlri()
                    .map_or(0, |r| r.prefixes.len())) as u64;
            black_box(&u);
        }
    }
    n
}

/// The classic NLRI field of an UPDATE (whole message given).
fn nlri_field(m: &[u8]) -> &[u8] {
    let body = &m[19..];
    let wlen = usize::from(u16::from_be_bytes([body[0], body[1]]));
    let alen = usize::from(u16::from_be_bytes([body[2 + wlen], body[3 + wlen]]));
    &body[4 + wlen + alen..]
}

/// Iterates the NLRI fields of (a) without collecting: the per-prefix hot path alone.
fn iterate_nlri(w: &Workload) -> u64 {
    let mut n = 0;
    for m in &w.messages {
        for e in NlriIter::new(nlri_field(m), Family::Ipv4Unicast, false) {
            black_box(&e);
            n += 1;
        }
    }
    n
}

fn decoded(w: &Workload) -> Vec<Message> {
    w.messages
        .iter()
        .filter_map(|m| Message::decode(m, &w.ctx).ok())
        .collect()
}

fn encode_ours(msgs: &[Message], w: &Workload, buf: &mut BytesMut) -> usize {
    let tx = bgp_proto::SessionContext {
        add_path_tx_v4: w.ctx.add_path_rx_v4,
        add_path_tx_v6: w.ctx.add_path_rx_v6,
        ..w.ctx
    };
    buf.clear();
    for m in msgs {
        let _ = m.encode(&tx, buf);
    }
    buf.len()
}

fn workloads() -> Vec<Workload> {
    let n = prefix_count();
    let mut v = vec![workload::ipv4(n), workload::ipv6_add_path(n / 4)];
    match workload::corpus_merged() {
        Some(c) if !c.is_empty() => v.extend(c),
        _ => eprintln!("no corpus in tests/vectors: (b) skipped"),
    }
    v
}

fn bench(c: &mut Criterion) {
    for w in workloads() {
        let msgs = decoded(&w);
        let mut g = c.benchmark_group(&w.name);
        g.sample_size(10);
        g.throughput(Throughput::Elements(w.prefixes));
        g.bench_function("decode/ours", |b| b.iter(|| decode_ours(&w)));
        g.bench_function("decode/bgpkit", |b| b.iter(|| decode_bgpkit(&w)));
        if w.name.starts_with("ipv4") {
            g.bench_function("nlri-iter/ours", |b| b.iter(|| iterate_nlri(&w)));
        }
        let mut buf = BytesMut::with_capacity(w.bytes as usize);
        g.bench_function("encode/ours", |b| {
            b.iter(|| encode_ours(&msgs, &w, &mut buf))
        });
        g.throughput(Throughput::Bytes(w.bytes));
        g.bench_function("decode-bytes/ours", |b| b.iter(|| decode_ours(&w)));
        g.bench_function("encode-bytes/ours", |b| {
            b.iter(|| encode_ours(&msgs, &w, &mut buf))
        });
        g.finish();
    }
}

/// Runs `f` repeatedly for about `budget`; returns prefixes per second.
fn rate(w: &Workload, budget: Duration, f: impl Fn(&Workload) -> u64) -> f64 {
    let start = Instant::now();
    let mut prefixes = 0u64;
    while start.elapsed() < budget {
        prefixes += f(w);
    }
    prefixes as f64 / start.elapsed().as_secs_f64()
}

/// The side-by-side figures: ours vs bgpkit-parser, same inputs, same count of prefixes.
fn compare() {
    let budget = Duration::from_millis(
        std::env::var("BGP_BENCH_COMPARE_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1500),
    );
    for w in workloads() {
        let (ours_n, theirs_n) = (decode_ours(&w), decode_bgpkit(&w));
        if ours_n != theirs_n {
            println!(
                "{}: prefix counts differ (ours {ours_n}, bgpkit {theirs_n}): not comparable",
                w.name
            );
            continue;
        }
        let ours = rate(&w, budget, decode_ours) / 1e6;
        let theirs = rate(&w, budget, decode_bgpkit) / 1e6;
        let mb = w.bytes as f64 / 1e6;
        println!(
            "{:<32} {} msgs, {} prefixes, {mb:.1} MB: ours {ours:.1} Mprefix/s, bgpkit {theirs:.1} \
             Mprefix/s, ratio {:.2}",
            w.name,
            w.messages.len(),
            w.prefixes,
            ours / theirs
        );
        if w.name.starts_with("ipv4") {
            let it = rate(&w, budget, iterate_nlri) / 1e6;
            println!("{:<32} NLRI iterator alone: {it:.1} Mprefix/s", w.name);
        }
    }
}

criterion_group!(benches, bench);

fn main() {
    compare();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
