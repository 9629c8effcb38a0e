//! The daemon's error type.

use std::net::SocketAddr;

/// Everything that stops the daemon from starting or a socket from being set up.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot set {option} on a socket for {peer}: {source}")]
    SocketOption {
        option: &'static str,
        peer: std::net::IpAddr,
        source: std::io::Error,
    },
    #[error("interface {interface} not found: {source}")]
    NoInterface {
        interface: String,
        source: std::io::Error,
    },
    #[error("TCP-MD5 key for {peer} is longer than 80 octets")]
    Md5KeyTooLong { peer: std::net::IpAddr },
    #[error("signal handler: {0}")]
    Signal(std::io::Error),
    #[error(transparent)]
    Control(#[from] crate::control::SocketError),
    #[error("kernel routing table: {0}")]
    Fib(#[from] fib_sync::FibError),
    #[error(transparent)]
    Process(#[from] crate::process::ProcessError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}
