//! `bgpd`, the BGP daemon for Calico nodes.
//!
//! The daemon itself arrives with the issue "Sessions": listener, per-peer FSM, RIB actor,
//! kernel sync, control socket. Until then this binary only says so.

fn main() {
    eprintln!("bgpd: the daemon arrives with the \"Sessions\" issue; nothing runs yet");
    std::process::exit(2);
}
