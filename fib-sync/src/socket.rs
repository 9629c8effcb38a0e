//! The rtnetlink socket and the batch executor: many requests in flight, never one round trip
//! per route.
//!
//! Requests are sent without `NLM_F_ACK`, except the last one of each `send`: the kernel answers
//! a failed request with an error whether or not it asked for an ack, and it handles the
//! requests of one `send` in order, so the ack of a chunk's last request says that every error
//! of the chunk has been queued before it. A successful route costs the kernel no ack message
//! and us no `recv` (measured: one `recv`-ed ack per route cost 15 % of the kernel's time).

use std::io;
use std::os::fd::AsRawFd;

use netlink_packet_core::NetlinkMessage;
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{protocols::NETLINK_ROUTE, Socket};
use nix::errno::Errno;
use nix::sys::socket::{self, sockopt, MsgFlags};
use tokio::io::unix::AsyncFd;
use tracing::{debug, warn};

use crate::error::FibError;

const NLMSG_HDR_LEN: usize = 16;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
/// The dump was interrupted by a change; its content may be inconsistent.
const NLM_F_DUMP_INTR: u16 = 0x10;
const NLM_F_ACK: u16 = 0x04;
/// Offset of `nlmsg_flags` in a netlink header.
const NLMSG_FLAGS_OFFSET: usize = 6;
/// Bytes of requests handed to the kernel per `send` (about 1000 routes); the kernel processes
/// them all inside the call and queues an error for each refused one and the chunk's ack.
const SEND_CHUNK: usize = 64 * 1024;
/// Dump replies come in skbs of at most 32 KiB; leave room.
const RECV_BUF: usize = 256 * 1024;
/// Rough kernel memory (skb truesize) charged to our receive buffer per queued ack or error.
const ACK_TRUESIZE: usize = 1024;

/// rtnetlink multicast groups (`RTNLGRP_*`, linux/rtnetlink.h).
pub(crate) const RTNLGRP_LINK: u32 = 1;
pub(crate) const RTNLGRP_IPV4_IFADDR: u32 = 5;
pub(crate) const RTNLGRP_IPV4_ROUTE: u32 = 7;
pub(crate) const RTNLGRP_IPV6_IFADDR: u32 = 9;
pub(crate) const RTNLGRP_IPV6_ROUTE: u32 = 11;

/// One netlink message inside a received datagram.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frame<'a> {
    pub(crate) kind: u16,
    pub(crate) flags: u16,
    /// `nlmsg_pid`: in a notification, the port of the socket whose request caused it.
    pub(crate) pid: u32,
    pub(crate) seq: u32,
    /// The whole message, header included.
    pub(crate) bytes: &'a [u8],
}

impl Frame<'_> {
    /// The error code of an `NLMSG_ERROR` (0 for an ack, negative errno for a NACK).
    pub(crate) fn error_code(&self) -> Option<i32> {
        let code = self.bytes.get(NLMSG_HDR_LEN..NLMSG_HDR_LEN + 4)?;
        Some(i32::from_ne_bytes([code[0], code[1], code[2], code[3]]))
    }

    /// The flags of the request an `NLMSG_ERROR` answers (its header follows the error code).
    pub(crate) fn flags_of_request(&self) -> u16 {
        let at = NLMSG_HDR_LEN + 4 + NLMSG_FLAGS_OFFSET;
        self.bytes
            .get(at..at + 2)
            .map_or(0, |f| u16::from_ne_bytes([f[0], f[1]]))
    }

    /// Parses the message with netlink-packet-route.
    pub(crate) fn parse(&self) -> Result<NetlinkMessage<RouteNetlinkMessage>, FibError> {
        NetlinkMessage::deserialize(self.bytes).map_err(|e| FibError::Malformed(e.to_string()))
    }
}

/// Splits a datagram into its netlink messages (`NLMSG_ALIGN`ed, bounds-checked).
pub(crate) fn frames(mut buf: &[u8]) -> impl Iterator<Item = Result<Frame<'_>, FibError>> {
    std::iter::from_fn(move || {
        if buf.len() < NLMSG_HDR_LEN {
            return None;
        }
        let len = u32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
        if len < NLMSG_HDR_LEN || len > buf.len() {
            buf = &[];
            return Some(Err(FibError::Malformed(format!("nlmsg_len {len}"))));
        }
        let frame = Frame {
            kind: u16::from_ne_bytes([buf[4], buf[5]]),
            flags: u16::from_ne_bytes([buf[6], buf[7]]),
            pid: u32::from_ne_bytes([buf[12], buf[13], buf[14], buf[15]]),
            seq: u32::from_ne_bytes([buf[8], buf[9], buf[10], buf[11]]),
            bytes: &buf[..len],
        };
        let advance = (len + 3) & !3;
        buf = buf.get(advance..).unwrap_or(&[]);
        Some(Ok(frame))
    })
}

/// A non-blocking rtnetlink socket registered with tokio.
pub(crate) struct RtSocket {
    fd: AsyncFd<Socket>,
    /// Our netlink port id (what the kernel puts in `nlmsg_pid` of what we cause).
    port: u32,
    seq: u32,
    pub(crate) rx: Vec<u8>,
    tx: Vec<u8>,
    /// How many requests may be unconfirmed (each may queue an error) before we must read.
    window: usize,
}

/// Outcome of one executed batch: the indexes of the requests the kernel refused, with errno.
pub(crate) type Nacks = Vec<(usize, i32)>;

/// The kernel's answer to one query: its reply, or the errno it refused the request with.
pub(crate) type Answer = Result<RouteNetlinkMessage, i32>;

impl RtSocket {
    /// A socket for requests (and dumps). Created in the calling thread's network namespace.
    pub(crate) fn request(buffer: usize, window: usize) -> Result<Self, FibError> {
        let (sock, port) = Self::open(buffer)?;
        // Kernel-side filtering of dumps by table and protocol.
        if let Err(e) = sock.set_netlink_get_strict_chk(true) {
            debug!(error = %e, "NETLINK_GET_STRICT_CHK unavailable, dumps are filtered here");
        }
        let rcvbuf = sock
            .get_rx_buf_sz()
            .map_err(|e| FibError::socket("getsockopt SO_RCVBUF", &e))?;
        let window = window.clamp(1, (rcvbuf / ACK_TRUESIZE).max(64));
        debug!(rcvbuf, window, "netlink request socket ready");
        Self::register(sock, port, window)
    }

    /// A socket subscribed to link, address and route notifications.
    pub(crate) fn events(buffer: usize) -> Result<Self, FibError> {
        let (sock, port) = Self::open(buffer)?;
        for group in [
            RTNLGRP_LINK,
            RTNLGRP_IPV4_IFADDR,
            RTNLGRP_IPV6_IFADDR,
            RTNLGRP_IPV4_ROUTE,
            RTNLGRP_IPV6_ROUTE,
        ] {
            sock.add_membership(group)
                .map_err(|e| FibError::socket("NETLINK_ADD_MEMBERSHIP", &e))?;
        }
        Self::register(sock, port, 1)
    }

    /// A socket subscribed to link and address notifications (the interface table:
    /// [`crate::watch`]), and with `routes_except: Some(ours)` to the main table's route
    /// notifications of every protocol but `ours` (filtered in the kernel: a million routes of
    /// ours written never wake this socket). Needs no privilege.
    pub(crate) fn interface_events(
        buffer: usize,
        routes_except: Option<u8>,
    ) -> Result<Self, FibError> {
        let (sock, port) = Self::open(buffer)?;
        let mut groups = vec![RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR];
        if routes_except.is_some() {
            groups.extend([RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE]);
        }
        for group in groups {
            sock.add_membership(group)
                .map_err(|e| FibError::socket("NETLINK_ADD_MEMBERSHIP", &e))?;
        }
        let s = Self::register(sock, port, 1)?;
        if let Some(ours) = routes_except {
            s.keep_main_table_routes_except(ours)?;
        }
        Ok(s)
    }

    /// Makes the kernel drop, before queueing them, the route notifications of another table
    /// than main or of protocol `ours` (notifications come one per datagram, so the filter
    /// sees each one's header).
    fn keep_main_table_routes_except(&self, ours: u8) -> Result<(), FibError> {
        use bpf::*;
        const RT_TABLE_MAIN: u32 = 254;
        let program = [
            ROUTES_ONLY[0], // 0..3: routes -> 4, links and addresses accepted
            ROUTES_ONLY[1],
            ROUTES_ONLY[2],
            ROUTES_ONLY[3],
            op(BPF_LD_B_ABS, 0, 0, 20),           // 4: A = rtm_table
            op(BPF_JEQ_K, 0, 2, RT_TABLE_MAIN),   // 5: main -> 6, else 8
            op(BPF_LD_B_ABS, 0, 0, 21),           // 6: A = rtm_protocol
            op(BPF_JEQ_K, 0, 1, u32::from(ours)), // 7: ours -> 8, else 9
            op(BPF_RET_K, 0, 0, DROP),            // 8
            op(BPF_RET_K, 0, 0, ACCEPT),          // 9
        ];
        self.attach(&program)
    }

    /// Attaches a classic BPF socket filter.
    fn attach(&self, program: &[libc::sock_filter]) -> Result<(), FibError> {
        let prog = libc::sock_fprog {
            len: program.len() as u16,
            filter: program.as_ptr().cast_mut(),
        };
        let fd = self.fd.get_ref().as_raw_fd();
        // SAFETY: `prog` points to `program`, both live across the call; the kernel copies the
        // program and keeps no pointer to it; `fd` is our open socket.
        #[allow(unsafe_code)]
        let r = unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_ATTACH_FILTER,
                std::ptr::from_ref(&prog).cast(),
                std::mem::size_of::<libc::sock_fprog>() as libc::socklen_t,
            )
        };
        if r != 0 {
            return Err(FibError::socket(
                "SO_ATTACH_FILTER",
                &io::Error::last_os_error(),
            ));
        }
        Ok(())
    }

    /// Our netlink port id.
    pub(crate) fn port(&self) -> u32 {
        self.port
    }

    /// Makes the kernel drop, before queueing them to this socket, the route notifications
    /// caused by the socket with port `port` (the echoes of our own writes, one per route):
    /// a classic BPF filter on `nlmsg_type` and `nlmsg_pid`. Without it the kernel copies a
    /// million notifications to us while we install a million routes (measured: +22 % kernel
    /// time), only for us to throw them away.
    pub(crate) fn drop_route_echoes_of(&self, port: u32) -> Result<(), FibError> {
        use bpf::*;
        let w = |v: u32| u32::from_be_bytes(v.to_ne_bytes());
        let program = [
            ROUTES_ONLY[0], // 0..3: routes -> 4, other messages accepted
            ROUTES_ONLY[1],
            ROUTES_ONLY[2],
            ROUTES_ONLY[3],
            op(BPF_LD_W_ABS, 0, 0, 12),   // 4: A = nlmsg_pid
            op(BPF_JEQ_K, 0, 1, w(port)), // 5: ours -> 6, else 7
            op(BPF_RET_K, 0, 0, DROP),    // 6
            op(BPF_RET_K, 0, 0, ACCEPT),  // 7
        ];
        self.attach(&program)
    }

    fn open(buffer: usize) -> Result<(Socket, u32), FibError> {
        let mut sock = Socket::new(NETLINK_ROUTE).map_err(|e| FibError::socket("socket", &e))?;
        let port = sock
            .bind_auto()
            .map_err(|e| FibError::socket("bind", &e))?
            .port_number();
        sock.set_non_blocking(true)
            .map_err(|e| FibError::socket("O_NONBLOCK", &e))?;
        // Acks carry only the request's header, not the whole request.
        if let Err(e) = sock.set_cap_ack(true) {
            debug!(error = %e, "NETLINK_CAP_ACK unavailable");
        }
        let size = buffer.min(i32::MAX as usize);
        // The *FORCE variants ignore net.core.rmem_max (needs CAP_NET_ADMIN).
        if socket::setsockopt(&sock, sockopt::RcvBufForce, &size).is_err() {
            let _ = socket::setsockopt(&sock, sockopt::RcvBuf, &size);
        }
        if socket::setsockopt(&sock, sockopt::SndBufForce, &size).is_err() {
            let _ = socket::setsockopt(&sock, sockopt::SndBuf, &size);
        }
        Ok((sock, port))
    }

    // `AsyncFd::new` is deprecated in favour of an `unsafe` constructor whose contract is that
    // the descriptor stays open and owned while registered: `Socket` owns it and closes it only
    // on drop, after the `AsyncFd` deregisters it, so the safe (deprecated) call is sound here.
    #[allow(deprecated)]
    fn register(sock: Socket, port: u32, window: usize) -> Result<Self, FibError> {
        let fd = AsyncFd::new(sock).map_err(|e| FibError::socket("register", &e))?;
        Ok(RtSocket {
            fd,
            port,
            seq: 1,
            rx: vec![0; RECV_BUF],
            tx: Vec::with_capacity(SEND_CHUNK + 4096),
            window,
        })
    }

    /// Reserves `n` consecutive sequence numbers and returns the first.
    fn reserve(&mut self, n: usize) -> u32 {
        let base = self.seq;
        self.seq = self.seq.wrapping_add(n as u32 + 1);
        base
    }

    async fn send(&self, buf: &[u8]) -> Result<(), FibError> {
        let mut off = 0;
        while off < buf.len() {
            let mut guard = self
                .fd
                .writable()
                .await
                .map_err(|e| FibError::socket("poll", &e))?;
            match guard.try_io(|fd| {
                socket::send(fd.as_raw_fd(), &buf[off..], MsgFlags::empty())
                    .map_err(io::Error::from)
            }) {
                Ok(Ok(n)) => off += n,
                Ok(Err(e)) => return Err(FibError::socket("send", &e)),
                Err(_would_block) => continue,
            }
        }
        Ok(())
    }

    /// Receives one datagram if one is queued. `Ok(None)` when none is.
    pub(crate) fn try_recv(&mut self) -> Result<Option<usize>, FibError> {
        match socket::recv(
            self.fd.get_ref().as_raw_fd(),
            &mut self.rx,
            MsgFlags::MSG_DONTWAIT,
        ) {
            Ok(n) => Ok(Some(n)),
            Err(Errno::EAGAIN) => Ok(None),
            Err(Errno::ENOBUFS) => Err(FibError::Overrun),
            Err(e) => Err(FibError::socket("recv", &io::Error::from(e))),
        }
    }

    /// Waits for and receives one datagram.
    pub(crate) async fn recv(&mut self) -> Result<usize, FibError> {
        loop {
            if let Some(n) = self.try_recv()? {
                return Ok(n);
            }
            self.readable().await?;
        }
    }

    /// Waits until the socket is readable (for the event loop's `select!`).
    pub(crate) async fn readable(&self) -> Result<(), FibError> {
        let mut guard = self
            .fd
            .readable()
            .await
            .map_err(|e| FibError::socket("poll", &e))?;
        guard.clear_ready();
        Ok(())
    }

    /// Sends `n` requests, each framed by `encode(index, seq, buf)` without `NLM_F_ACK`
    /// (the executor asks for an ack on the last request of each chunk), keeping at most
    /// `window` requests unconfirmed; returns the refused ones. `between` runs after each chunk.
    /// Requests are encoded lazily so a million routes never sit in memory as messages.
    pub(crate) async fn execute(
        &mut self,
        n: usize,
        mut encode: impl FnMut(usize, u32, &mut Vec<u8>),
        mut between: impl FnMut(),
    ) -> Result<Nacks, FibError> {
        let base = self.reserve(n);
        let mut nacks = Vec::new();
        let mut next = 0usize;
        // Requests before `confirmed` are known done (their chunk's ack arrived).
        let mut confirmed = 0usize;
        let window = self.window;
        while confirmed < n {
            if next < n && next - confirmed < window {
                let mut tx = std::mem::take(&mut self.tx);
                tx.clear();
                let mut last = 0;
                while next < n && next - confirmed < window && tx.len() < SEND_CHUNK {
                    last = tx.len();
                    encode(next, base.wrapping_add(next as u32), &mut tx);
                    next += 1;
                }
                if let Some(flags) =
                    tx.get_mut(last + NLMSG_FLAGS_OFFSET..last + NLMSG_FLAGS_OFFSET + 2)
                {
                    let f = u16::from_ne_bytes([flags[0], flags[1]]) | NLM_F_ACK;
                    flags.copy_from_slice(&f.to_ne_bytes());
                }
                let sent = self.send(&tx).await;
                self.tx = tx;
                sent?;
            }
            // The kernel handled the chunk inside `send`: its errors and ack are queued.
            while let Some(len) = self.try_recv()? {
                self.take_acks(len, base, n, &mut confirmed, &mut nacks)?;
            }
            // Let the caller keep other sockets (the event listener) from overflowing.
            between();
            if confirmed < n && (next == n || next - confirmed >= window) {
                let len = self.recv().await?;
                self.take_acks(len, base, n, &mut confirmed, &mut nacks)?;
            }
        }
        Ok(nacks)
    }

    fn take_acks(
        &self,
        len: usize,
        base: u32,
        n: usize,
        confirmed: &mut usize,
        nacks: &mut Nacks,
    ) -> Result<(), FibError> {
        for frame in frames(&self.rx[..len]) {
            let frame = frame?;
            let index = frame.seq.wrapping_sub(base) as usize;
            if frame.kind != NLMSG_ERROR || index >= n {
                warn!(
                    kind = frame.kind,
                    seq = frame.seq,
                    "unexpected netlink message"
                );
                continue;
            }
            match frame.error_code() {
                // An ack only comes for a chunk's last request: the chunk is done.
                Some(0) => *confirmed = (*confirmed).max(index + 1),
                Some(code) => {
                    nacks.push((index, -code));
                    // A refused last request still closes its chunk.
                    if frame.flags_of_request() & NLM_F_ACK != 0 {
                        *confirmed = (*confirmed).max(index + 1);
                    }
                }
                None => return Err(FibError::Malformed("short NLMSG_ERROR".into())),
            }
        }
        Ok(())
    }

    /// Sends `n` requests that each get one reply message (`RTM_GETROUTE` of one destination),
    /// framed by `encode(index, seq, buf)`, pipelined in chunks, and returns each answer in
    /// request order: the reply, or the errno the kernel refused it with. `between` runs after
    /// each chunk (to keep the event socket drained).
    pub(crate) async fn query(
        &mut self,
        n: usize,
        mut encode: impl FnMut(usize, u32, &mut Vec<u8>),
        mut between: impl FnMut(),
    ) -> Result<Vec<Answer>, FibError> {
        let base = self.reserve(n);
        let mut answers: Vec<Answer> = vec![Err(0); n];
        let mut next = 0usize;
        let chunk = self.window.min(256);
        while next < n {
            let first = next;
            let mut tx = std::mem::take(&mut self.tx);
            tx.clear();
            while next < n && next - first < chunk && tx.len() < SEND_CHUNK {
                encode(next, base.wrapping_add(next as u32), &mut tx);
                next += 1;
            }
            let sent = self.send(&tx).await;
            self.tx = tx;
            sent?;
            // The kernel answered each request inside `send`; read the answers.
            let mut missing = next - first;
            while missing > 0 {
                let len = self.recv().await?;
                for frame in frames(&self.rx[..len]) {
                    let frame = frame?;
                    let index = frame.seq.wrapping_sub(base) as usize;
                    if !(first..next).contains(&index) {
                        warn!(
                            kind = frame.kind,
                            seq = frame.seq,
                            "unexpected netlink message"
                        );
                        continue;
                    }
                    let answer = if frame.kind == NLMSG_ERROR {
                        match frame.error_code() {
                            Some(0) => continue,
                            Some(code) => Err(-code),
                            None => return Err(FibError::Malformed("short NLMSG_ERROR".into())),
                        }
                    } else {
                        match frame.parse()?.payload {
                            netlink_packet_core::NetlinkPayload::InnerMessage(msg) => Ok(msg),
                            _ => continue,
                        }
                    };
                    answers[index] = answer;
                    missing = missing.saturating_sub(1);
                }
            }
            between();
        }
        Ok(answers)
    }

    /// Sends one dump request and collects every reply message. A dump the kernel marks as
    /// interrupted (`NLM_F_DUMP_INTR`: the table changed meanwhile) is taken again.
    pub(crate) async fn dump(
        &mut self,
        body: RouteNetlinkMessage,
    ) -> Result<Vec<RouteNetlinkMessage>, FibError> {
        const ATTEMPTS: usize = 5;
        for attempt in 1..=ATTEMPTS {
            let (out, interrupted) = self.dump_once(body.clone()).await?;
            if !interrupted || attempt == ATTEMPTS {
                if interrupted {
                    warn!("netlink dump still interrupted after {ATTEMPTS} attempts; using it");
                }
                return Ok(out);
            }
            debug!(attempt, "netlink dump interrupted, retrying");
        }
        Ok(Vec::new())
    }

    async fn dump_once(
        &mut self,
        body: RouteNetlinkMessage,
    ) -> Result<(Vec<RouteNetlinkMessage>, bool), FibError> {
        let seq = self.reserve(1);
        let mut tx = Vec::new();
        crate::message::encode(body, crate::message::DUMP_FLAGS, seq, &mut tx);
        self.send(&tx).await?;
        let mut out = Vec::new();
        let mut interrupted = false;
        loop {
            let len = self.recv().await?;
            for frame in frames(&self.rx[..len]) {
                let frame = frame?;
                if frame.seq != seq {
                    continue;
                }
                interrupted |= frame.flags & NLM_F_DUMP_INTR != 0;
                match frame.kind {
                    NLMSG_DONE => return Ok((out, interrupted)),
                    NLMSG_ERROR => {
                        let code = frame.error_code().unwrap_or(0);
                        return Err(FibError::socket(
                            "dump",
                            &io::Error::from_raw_os_error(-code),
                        ));
                    }
                    _ => {
                        let msg = frame.parse()?;
                        if let netlink_packet_core::NetlinkPayload::InnerMessage(inner) =
                            msg.payload
                        {
                            out.push(inner);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_aligned_frames_and_reads_ack_codes() {
        #[rustfmt::skip]
        let buf: Vec<u8> = [
            // ack for seq 7: len 36, NLMSG_ERROR, error 0, then the request's header
            &[36u8, 0, 0, 0, 2, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0][..],
            &0i32.to_ne_bytes(),
            &[0u8; 16],
            // nack for seq 8 with -ENODEV (19)
            &[36u8, 0, 0, 0, 2, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0][..],
            &(-19i32).to_ne_bytes(),
            &[0u8; 16],
        ]
        .concat();
        let got: Vec<_> = frames(&buf)
            .map(|f| f.map(|f| (f.kind, f.seq, f.error_code())))
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(got, vec![(2, 7, Some(0)), (2, 8, Some(-19))]);
    }

    #[test]
    fn rejects_a_length_past_the_buffer() {
        let buf = [200u8, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0];
        let got: Vec<_> = frames(&buf).collect();
        assert!(matches!(got.as_slice(), [Err(FibError::Malformed(_))]));
    }
}

/// Classic BPF for the netlink socket filters above.
mod bpf {
    pub const BPF_LD_H_ABS: u16 = 0x28; // BPF_LD | BPF_H | BPF_ABS
    pub const BPF_LD_B_ABS: u16 = 0x30; // BPF_LD | BPF_B | BPF_ABS
    pub const BPF_LD_W_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
    pub const BPF_JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
    pub const BPF_RET_K: u16 = 0x06; // BPF_RET | BPF_K
    pub const ACCEPT: u32 = u32::MAX;
    pub const DROP: u32 = 0;

    pub const fn op(code: u16, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
        libc::sock_filter { code, jt, jf, k }
    }

    /// Absolute loads read in network byte order; netlink headers are in host order.
    pub const fn h(v: u16) -> u32 {
        u16::from_be_bytes(v.to_ne_bytes()) as u32
    }

    /// The common head of both filters: A = nlmsg_type; a route message (new or deleted)
    /// jumps to instruction 4, anything else is accepted at 3.
    pub const ROUTES_ONLY: [libc::sock_filter; 4] = [
        op(BPF_LD_H_ABS, 0, 0, 4),
        op(BPF_JEQ_K, 2, 0, h(crate::sync::RTM_NEWROUTE)),
        op(BPF_JEQ_K, 1, 0, h(crate::sync::RTM_DELROUTE)),
        op(BPF_RET_K, 0, 0, ACCEPT),
    ];
}
