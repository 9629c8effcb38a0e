//! Inputs shared by the benchmarks: UPDATE streams built with the crate's own builder, and the
//! captured corpus of tests/vectors.

#![allow(dead_code)]

use std::net::{Ipv4Addr, Ipv6Addr};

use bgp_proto::attribute::{AsPath, Community, MpNextHop, Origin, PathAttributes};
use bgp_proto::builder::{announce, Announce, EncodedAttributes};
use bgp_proto::nlri::NlriEntry;
use bgp_proto::{Asn, Family, Prefix, SessionContext};
use bytes::Bytes;
use ipnet::{Ipv4Net, Ipv6Net};

/// A set of whole UPDATE messages (header included) and the context to decode them with.
pub struct Workload {
    pub name: String,
    pub ctx: SessionContext,
    pub messages: Vec<Bytes>,
    /// NLRI entries (announced + withdrawn) in all messages.
    pub prefixes: u64,
    pub bytes: u64,
}

fn attrs(v6: bool) -> PathAttributes {
    PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::from_sequence([Asn(65001), Asn(4_200_000_001)])),
        next_hop: (!v6).then_some(Ipv4Addr::new(10, 99, 0, 1)),
        med: Some(10),
        local_pref: Some(100),
        communities: Some(vec![Community::new(65001, 100)]),
        ..PathAttributes::default()
    }
}

fn finish(name: &str, ctx: SessionContext, messages: Vec<Bytes>, prefixes: u64) -> Workload {
    let bytes = messages.iter().map(|m| m.len() as u64).sum();
    Workload {
        name: name.to_string(),
        ctx,
        messages,
        prefixes,
        bytes,
    }
}

/// (a) `n` IPv4 prefixes, alternately /24 and /26, in classic NLRI with one attribute set,
/// 4096-octet messages, 4-octet AS.
pub fn ipv4(n: u32) -> Workload {
    let ctx = SessionContext {
        four_octet_as: true,
        ..SessionContext::default()
    };
    let enc = EncodedAttributes::new(&attrs(false), &ctx).expect("encode attributes");
    let entries = (0..n).map(|i| {
        let (base, len) = if i % 2 == 0 {
            ((i / 2) << 8, 24)
        } else {
            (((i / 2) << 8) | 0x40, 26)
        };
        let addr = Ipv4Addr::from(0x0b00_0000u32.wrapping_add(base));
        NlriEntry::new(Prefix::V4(Ipv4Net::new(addr, len).expect("prefix")))
    });
    let msgs = announce(&ctx, &enc, Announce::Ipv4Classic, entries).expect("build");
    finish("ipv4 /24+/26", ctx, msgs, u64::from(n))
}

/// (c) `n` IPv6 prefixes (/48 and /64 alternately) with ADD-PATH path identifiers in
/// MP_REACH_NLRI.
pub fn ipv6_add_path(n: u32) -> Workload {
    let ctx = SessionContext {
        four_octet_as: true,
        add_path_rx_v6: true,
        add_path_tx_v6: true,
        ..SessionContext::default()
    };
    let enc = EncodedAttributes::new(&attrs(true), &ctx).expect("encode attributes");
    let entries = (0..n).map(|i| {
        let (addr, len) = if i % 2 == 0 {
            ((0x2000u128 << 112) | (u128::from(i) << 80), 48)
        } else {
            ((0x2400u128 << 112) | (u128::from(i) << 64), 64)
        };
        NlriEntry {
            path_id: Some(i % 4 + 1),
            prefix: Prefix::V6(Ipv6Net::new(Ipv6Addr::from(addr), len).expect("prefix")),
        }
    });
    let how = Announce::Mp {
        family: Family::Ipv6Unicast,
        next_hop: MpNextHop::Ipv6 {
            global: "fd99::1".parse().expect("addr"),
            link_local: Some("fe80::1".parse().expect("addr")),
        },
    };
    let msgs = announce(&ctx, &enc, how, entries).expect("build");
    finish("ipv6 add-path", ctx, msgs, u64::from(n))
}

/// (b) Every UPDATE of tests/vectors/*.hex with the context its header states (4-octet AS and
/// ADD-PATH lines; see tests/vectors.rs for the full parser). `None` when there is no corpus.
pub fn corpus() -> Option<Vec<Workload>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "hex"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for p in paths {
        let text = std::fs::read_to_string(&p).ok()?;
        let mut ctx = SessionContext {
            four_octet_as: true,
            extended_message: true,
            ..SessionContext::default()
        };
        let mut msgs = Vec::new();
        for line in text.lines() {
            if let Some(v) = line.strip_prefix("# four-octet-as:") {
                ctx.four_octet_as = !v.trim().starts_with("no");
            } else if let Some(v) = line.strip_prefix("# add-path-rx:") {
                ctx.add_path_rx_v4 = v.contains("ipv4-unicast");
                ctx.add_path_rx_v6 = v.contains("ipv6-unicast");
                ctx.add_path_tx_v4 = ctx.add_path_rx_v4;
                ctx.add_path_tx_v6 = ctx.add_path_rx_v6;
            } else if !line.starts_with('#') && !line.trim().is_empty() {
                let b = hex::decode(line.trim()).ok()?;
                if b.get(18) == Some(&2) {
                    msgs.push(Bytes::from(b));
                }
            }
        }
        if msgs.is_empty() {
            continue;
        }
        // Count prefixes with the codec itself (checked against bgpkit in the bench).
        let prefixes = msgs
            .iter()
            .map(|m| match bgp_proto::Message::decode(m, &ctx) {
                Ok(bgp_proto::Message::Update(u)) => {
                    (u.announced().count() + u.withdrawals().count()) as u64
                }
                _ => 0,
            })
            .sum();
        let name = p.file_stem()?.to_string_lossy().into_owned();
        out.push(finish(&name, ctx, msgs, prefixes));
    }
    Some(out)
}

/// All corpus files merged into one workload per context (the bench reports them together).
pub fn corpus_merged() -> Option<Vec<Workload>> {
    let files = corpus()?;
    let mut by_ctx: Vec<Workload> = Vec::new();
    for f in files {
        match by_ctx.iter_mut().find(|w| w.ctx == f.ctx) {
            Some(w) => {
                w.messages.extend(f.messages);
                w.prefixes += f.prefixes;
                w.bytes += f.bytes;
            }
            None => by_ctx.push(Workload {
                name: format!(
                    "corpus as4={} addpath={}",
                    f.ctx.four_octet_as,
                    f.ctx.add_path_rx_v4 || f.ctx.add_path_rx_v6
                ),
                ..f
            }),
        }
    }
    Some(by_ctx)
}
