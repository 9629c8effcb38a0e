//! `bgp-decode`: prints BGP messages as JSON, one object per line, for operators and tests.
//!
//! Input: hex (one whole message per line, from a file argument or stdin; blank lines and `#`
//! comments skipped; whitespace and colons tolerated) or an MRT file (`--mrt FILE`, RFC 6396).
//! The session context that changes how UPDATEs are read comes from flags (`--two-octet-as`,
//! `--add-path ipv4,ipv6`, `--ext-msg`, `--ext-nh`) for hex input, and from the record subtype
//! for MRT. `--ebgp` (or `--ibgp`, the default) gives the daemon's verdict for that kind of peer
//! (the eBGP-only RFC 7606 rules); for MRT messages the record's AS numbers decide.
//!
//! Malformed messages are data: they are printed with their RFC 7606 action, the NOTIFICATION
//! they imply and the offset, and the exit status stays 0. Only unreadable input (bad hex, an
//! unreadable file, a truncated MRT record) exits non-zero, with the reason on stderr.
//!
//! Modules: `hex_input` (hex lines), `mrt` (the MRT container), `json` (presentation),
//! `error` (what stops the tool).

mod error;
mod hex_input;
mod json;
mod mrt;

use std::io::{BufWriter, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use bgp_proto::SessionContext;
use clap::Parser;
use serde_json::{json, Value};

use error::CliError;

#[derive(Debug, Parser)]
#[command(
    name = "bgp-decode",
    about = "Decode BGP messages (hex lines or MRT) into one JSON object per line"
)]
struct Args {
    /// Hex file (one message per line); stdin when absent.
    file: Option<PathBuf>,
    /// Read an MRT file (RFC 6396: BGP4MP, BGP4MP_ET, TABLE_DUMP_V2) instead of hex.
    #[arg(long, value_name = "FILE", conflicts_with = "file")]
    mrt: Option<PathBuf>,
    /// The session did not negotiate 4-octet AS numbers (RFC 6793): AS_PATH has 2-octet ASNs.
    #[arg(long)]
    two_octet_as: bool,
    /// Families whose received NLRI carry ADD-PATH path identifiers (RFC 7911): ipv4, ipv6.
    #[arg(long, value_name = "FAMILIES", value_delimiter = ',')]
    add_path: Vec<String>,
    /// The session negotiated extended messages (RFC 8654): up to 65535 octets.
    #[arg(long)]
    ext_msg: bool,
    /// The session negotiated IPv4 unicast with IPv6 next hops (RFC 8950); without it such
    /// routes are treat-as-withdraw.
    #[arg(long)]
    ext_nh: bool,
    /// Give the verdict for an external peer: the daemon's eBGP rules apply (RFC 7606 §7.2,
    /// §7.5, §7.9, §7.10: confederation segments, LOCAL_PREF, ORIGINATOR_ID, CLUSTER_LIST).
    /// For MRT BGP4MP records the record's two AS numbers decide instead.
    #[arg(long, conflicts_with = "ibgp")]
    ebgp: bool,
    /// Give the verdict for an internal peer (the default).
    #[arg(long)]
    ibgp: bool,
}

fn context(args: &Args) -> Result<SessionContext, CliError> {
    let mut ctx = SessionContext {
        four_octet_as: !args.two_octet_as,
        extended_message: args.ext_msg,
        extended_next_hop_v4: args.ext_nh,
        ..SessionContext::default()
    };
    for f in &args.add_path {
        match f.trim() {
            "ipv4" => ctx.add_path_rx_v4 = true,
            "ipv6" => ctx.add_path_rx_v6 = true,
            other => return Err(CliError::AddPathFamily(other.to_string())),
        }
    }
    Ok(ctx)
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bgp-decode: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &Args) -> Result<(), CliError> {
    let ctx = context(args)?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    if let Some(path) = &args.mrt {
        let data = std::fs::read(path).map_err(|source| CliError::Read {
            path: path.clone(),
            source,
        })?;
        decode_mrt(&data, path, &mut out)?;
    } else {
        let (text, name) = match &args.file {
            Some(path) => (
                std::fs::read_to_string(path).map_err(|source| CliError::Read {
                    path: path.clone(),
                    source,
                })?,
                path.display().to_string(),
            ),
            None => {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .map_err(|source| CliError::Read {
                        path: PathBuf::from("<stdin>"),
                        source,
                    })?;
                (s, "<stdin>".to_string())
            }
        };
        // Parse everything first, so bad hex anywhere prints nothing but the error.
        for (line, frame) in hex_input::messages(&text, &name)? {
            let mut v = json::message(&frame, &ctx, args.ebgp);
            v["line"] = json!(line);
            emit(&mut out, &v)?;
        }
    }
    out.flush().map_err(CliError::Write)
}

fn emit(out: &mut impl Write, v: &Value) -> Result<(), CliError> {
    serde_json::to_writer(&mut *out, v).map_err(|e| CliError::Write(e.into()))?;
    out.write_all(b"\n").map_err(CliError::Write)
}

fn decode_mrt(data: &[u8], path: &std::path::Path, out: &mut impl Write) -> Result<(), CliError> {
    let mrt_err = |offset, problem| CliError::Mrt {
        path: path.to_path_buf(),
        offset,
        problem,
    };
    let records = mrt::records(data).map_err(|(offset, e)| mrt_err(offset, e))?;
    let mut peers: Vec<mrt::Peer> = Vec::new();
    for rec in &records {
        let entry = mrt::parse(rec).map_err(|e| mrt_err(rec.offset, e))?;
        let type_name = match rec.mrt_type {
            mrt::TABLE_DUMP_V2 => "TABLE_DUMP_V2",
            mrt::BGP4MP => "BGP4MP",
            mrt::BGP4MP_ET => "BGP4MP_ET",
            _ => "UNSUPPORTED",
        };
        let v = match entry {
            mrt::Entry::Message {
                subtype,
                ends,
                four_octet_as,
                add_path,
                message,
            } => {
                // The record subtype says how the message was negotiated; the length limit is
                // not known, so extended messages are accepted.
                let ctx = SessionContext {
                    four_octet_as,
                    add_path_rx_v4: add_path,
                    add_path_rx_v6: add_path,
                    extended_message: true,
                    ..SessionContext::default()
                };
                let mut v = json::message(message, &ctx, ends.peer_as != ends.local_as);
                v["mrt"] = json::mrt_record(rec, type_name, subtype);
                v["mrt"]["session"] = json::endpoints(&ends);
                v
            }
            mrt::Entry::StateChange {
                subtype,
                ends,
                old_state,
                new_state,
            } => json!({
                "type": "STATE_CHANGE",
                "mrt": json::mrt_record(rec, type_name, subtype),
                "session": json::endpoints(&ends),
                "old_state": json::fsm_state(old_state),
                "new_state": json::fsm_state(new_state),
            }),
            mrt::Entry::PeerIndexTable {
                collector_id,
                view_name,
                peers: list,
            } => {
                let v = json!({
                    "type": "PEER_INDEX_TABLE",
                    "mrt": json::mrt_record(rec, type_name, "PEER_INDEX_TABLE"),
                    "collector_id": collector_id.to_string(),
                    "view_name": view_name,
                    "peers": json::peers(&list),
                });
                peers = list;
                v
            }
            mrt::Entry::Rib {
                subtype,
                sequence,
                family,
                prefix,
                entries,
            } => json!({
                "type": "RIB",
                "mrt": json::mrt_record(rec, type_name, subtype),
                "sequence": sequence,
                "family": family.to_string(),
                "prefix": prefix.to_string(),
                "entries": entries.iter().map(|e| {
                    json::rib_entry(e, family, peers.get(usize::from(e.peer_index)))
                }).collect::<Vec<_>>(),
            }),
            mrt::Entry::Unsupported => json!({
                "type": "UNSUPPORTED",
                "mrt": json::mrt_record(rec, type_name, &rec.subtype.to_string()),
                "mrt_type": rec.mrt_type,
                "length": rec.body.len(),
            }),
        };
        emit(out, &v)?;
    }
    Ok(())
}
