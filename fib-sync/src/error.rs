//! The crate's error type; kernel errno values are mapped to it at the edge.

use std::io;

use ipnet::IpNet;

/// Errors of the FIB synchroniser.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FibError {
    /// A netlink socket operation failed.
    #[error("netlink socket: {op}: {kind:?} (errno {errno:?})")]
    Socket {
        /// What we were doing.
        op: &'static str,
        /// The I/O error kind.
        kind: io::ErrorKind,
        /// The raw OS error, when there is one.
        errno: Option<i32>,
    },
    /// The kernel sent something we could not parse.
    #[error("malformed netlink message: {0}")]
    Malformed(String),
    /// A route's next-hop device does not exist (yet); the route waits for it.
    #[error("interface {0} not found")]
    NoSuchInterface(String),
    /// The kernel rejected a route: `ENODEV`, the device went away.
    #[error("{prefix}: no such device")]
    NoDevice {
        /// The route.
        prefix: IpNet,
    },
    /// The kernel rejected a route: `ENETDOWN`, the next-hop device is down.
    #[error("{prefix}: network is down")]
    NetworkDown {
        /// The route.
        prefix: IpNet,
    },
    /// The kernel rejected a route: `ENETUNREACH`, the gateway is not reachable.
    #[error("{prefix}: gateway unreachable")]
    GatewayUnreachable {
        /// The route.
        prefix: IpNet,
    },
    /// The kernel rejected a delete: `ESRCH`, no such route.
    #[error("{prefix}: no such route")]
    NoSuchRoute {
        /// The route.
        prefix: IpNet,
    },
    /// The kernel rejected a route: `EEXIST`.
    #[error("{prefix}: route exists")]
    Exists {
        /// The route.
        prefix: IpNet,
    },
    /// The kernel rejected a route: `EINVAL` (often an inconsistent next hop).
    #[error("{prefix}: invalid argument")]
    Invalid {
        /// The route.
        prefix: IpNet,
    },
    /// The kernel rejected a route: `EPERM` / `EACCES`.
    #[error("{prefix}: permission denied")]
    PermissionDenied {
        /// The route.
        prefix: IpNet,
    },
    /// Any other errno the kernel returned for a route.
    #[error("{prefix}: kernel error {errno}")]
    Kernel {
        /// The route.
        prefix: IpNet,
        /// The positive errno.
        errno: i32,
    },
    /// A route of an address family this instance does not own ([`crate::Families`]): it was
    /// not written (the other family's daemon owns those routes).
    #[error("{prefix}: address family not managed by this instance")]
    OtherFamily {
        /// The route.
        prefix: IpNet,
    },
    /// The kernel dropped messages for us (`ENOBUFS`): a resynchronisation is needed.
    #[error("netlink receive buffer overrun")]
    Overrun,
    /// The FIB actor is gone.
    #[error("fib-sync actor stopped")]
    Stopped,
}

impl FibError {
    /// Maps an I/O error of a socket operation.
    pub(crate) fn socket(op: &'static str, err: &io::Error) -> Self {
        FibError::Socket {
            op,
            kind: err.kind(),
            errno: err.raw_os_error(),
        }
    }

    /// Maps a kernel NACK (positive errno) for the route `prefix`.
    pub fn from_errno(prefix: IpNet, errno: i32) -> Self {
        match errno {
            libc_errno::ENODEV => FibError::NoDevice { prefix },
            libc_errno::ENETDOWN => FibError::NetworkDown { prefix },
            libc_errno::ENETUNREACH => FibError::GatewayUnreachable { prefix },
            libc_errno::ESRCH => FibError::NoSuchRoute { prefix },
            libc_errno::EEXIST => FibError::Exists { prefix },
            libc_errno::EINVAL => FibError::Invalid { prefix },
            libc_errno::EPERM | libc_errno::EACCES => FibError::PermissionDenied { prefix },
            libc_errno::ENOBUFS => FibError::Overrun,
            errno => FibError::Kernel { prefix, errno },
        }
    }

    /// `true` when the route failed because something it depends on (a device, a connected
    /// subnet) is missing: such routes are kept and retried when interfaces change.
    pub fn is_dependency(&self) -> bool {
        matches!(
            self,
            FibError::NoSuchInterface(_)
                | FibError::NoDevice { .. }
                | FibError::NetworkDown { .. }
                | FibError::GatewayUnreachable { .. }
        )
    }
}

/// The errno values we distinguish (Linux numbering, from `nix`).
mod libc_errno {
    use nix::errno::Errno;

    pub(super) const EPERM: i32 = Errno::EPERM as i32;
    pub(super) const ESRCH: i32 = Errno::ESRCH as i32;
    pub(super) const EACCES: i32 = Errno::EACCES as i32;
    pub(super) const EEXIST: i32 = Errno::EEXIST as i32;
    pub(super) const ENODEV: i32 = Errno::ENODEV as i32;
    pub(super) const EINVAL: i32 = Errno::EINVAL as i32;
    pub(super) const ENOBUFS: i32 = Errno::ENOBUFS as i32;
    pub(super) const ENETDOWN: i32 = Errno::ENETDOWN as i32;
    pub(super) const ENETUNREACH: i32 = Errno::ENETUNREACH as i32;
}
