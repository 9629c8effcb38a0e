//! `show protocols [all] [NAME | "PATTERN"]` (BIRD 1.6 `proto_cmd_show`, `bgp_get_status`,
//! `bgp_show_proto_info`): the heading, one row per protocol, and with `all` the detail lines.
//!
//! Besides the BGP peers, the rows of the protocols that really exist here ([`Builtin`]):
//! `kernel1` and `device1` (the FIB task, with kernel writes on) and `static1` (our own
//! blocks), before the BGP rows as in Calico's BIRD configuration.

//! Submodules: [`bgp`] (a BGP session's row and detail lines), [`builtin`] (the other
//! protocols).

mod bgp;
mod builtin;
#[cfg(test)]
mod tests;

use std::time::SystemTime;

use crate::control::parse::Target;
use crate::control::reply::{code, Framer};
use crate::control::state::{Selection, View};

use bgp::peer_row;
use builtin::select_builtins;

pub use bgp::{details, error_text, info, state_word};
pub use builtin::Builtin;

/// The heading literal (`name     proto    table    state  since       info`).
pub const HEADING: &str = "name     proto    table    state  since       info";

/// One row: `%-8s %-8s %-8s %-5s  %-10s  %s`.
pub fn row(name: &str, proto: &str, table: &str, state: &str, since: &str, info: &str) -> String {
    format!("{name:<8} {proto:<8} {table:<8} {state:<5}  {since:<10}  {info}")
}

/// BIRD's `GR recovery:` detail line (`proto_show_basic_info`), shown for every protocol
/// while the recovery lasts: ` pending` when the recovery waits for it, ` waiting` when its
/// export waits for the recovery.
pub fn gr_recovery_line(pending: bool, waiting: bool) -> String {
    format!(
        "  GR recovery:   {}{}",
        if pending { " pending" } else { "" },
        if waiting { " waiting" } else { "" }
    )
}

pub fn run(view: &View, all: bool, target: Option<&Target>, now: SystemTime, f: &mut Framer) {
    let builtins = select_builtins(view, target);
    let peers = match view.select(target) {
        Selection::Peers(p) => p,
        _ if !builtins.is_empty() => Vec::new(),
        Selection::NotAProtocol(name) => {
            return f.end(code::INVALID_SYMBOL, &format!("{name} is not a protocol"));
        }
        Selection::NoMatch if target.is_none() => Vec::new(),
        Selection::NoMatch => return f.end(code::NO_PROTOCOLS_MATCH, "No protocols match"),
    };
    f.line(code::PROTOCOL_HEADING, HEADING);
    for b in builtins {
        f.line(code::PROTOCOL_LIST, &b.row(view, now));
        if all {
            for line in b.details(view) {
                f.line(code::PROTOCOL_DETAILS, &line);
            }
            f.line(code::PROTOCOL_DETAILS, "");
        }
    }
    for p in peers {
        let s = p.status.borrow().clone();
        f.line(code::PROTOCOL_LIST, &peer_row(view, p, &s, now));
        if all {
            for line in details(view, p, &s) {
                f.line(code::PROTOCOL_DETAILS, &line);
            }
            f.line(code::PROTOCOL_DETAILS, "");
        }
    }
    f.ok();
}
