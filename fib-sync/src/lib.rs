//! The kernel side of the daemon: route installation over rtnetlink.
//!
//! What will live here (issue "Kernel FIB sync"): a pure translation from route deltas
//! ("install this prefix via these next hops on this device") to netlink messages, an executor
//! that pipelines them in batches and matches acknowledgements asynchronously, learning of
//! interfaces, addresses and kernel routes from netlink events, and startup reconciliation of the
//! routes carrying our protocol number. It knows nothing of BGP.
