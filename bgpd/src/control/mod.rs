//! The control socket: a unix stream socket speaking BIRD 1.6's CLI protocol, so Calico's
//! health checks, `calicoctl node status`, `birdc`/`birdcl` and our `bgpctl` can read the daemon.
//!
//! One accept loop per socket (`[control].socket` shows IPv4 protocols and routes only,
//! `[control].socket_v6` IPv6 only, as `bird.ctl` / `bird6.ctl`; a daemon started as `bird6`
//! serves its one socket, `-s`, with the IPv6 view), one task per client. A client
//! gets the greeting, then one reply per command line; commands written before the greeting was
//! read are served (the socket buffers them). Limits, so that no client can hurt the daemon or
//! the others:
//! - at most [`MAX_CLIENTS`] connections per socket; when they are all taken, a newcomer takes
//!   the slot of the client idle the longest, or one of the slots reserved for health commands
//!   ([`admission`]); otherwise it gets [`TOO_MANY_CLIENTS`], and is
//!   closed once its first command line was read (so that the close cannot reset the
//!   connection before the client read the line; Calico's clients write their command without
//!   waiting for the greeting), within [`REFUSE_DRAIN`]; beyond [`MAX_REFUSING`] such
//!   connections being placed or turned away, the extra ones are closed at once;
//! - a `show route` listing is written page by page as the RIB actor builds them (`stream.rs`),
//!   so its memory is one page, not the table;
//! - a command line longer than [`MAX_LINE`] bytes gets `9000 Command too long` and is skipped
//!   up to its newline, without being buffered;
//! - every write must finish within [`WRITE_TIMEOUT`] (a client that never reads is dropped);
//! - a client silent for [`IDLE_TIMEOUT`] is dropped.
//!
//! Modules: [`admission`] (who gets a slot), [`reply`] (framing), [`parse`] (grammar),
//! [`state`] (what is visible; routes are read through [`crate::route_view`], interfaces
//! through the daemon's interface table), [`direct`] (`direct1`'s device routes),
//! [`time`] (BIRD's time formats),
//! [`cmd`] (one file per command), [`client`] (reply parsing for `bgpctl`).

pub mod admission;
pub mod client;
pub mod cmd;
pub mod direct;
pub mod parse;
pub mod reply;
pub mod state;
mod stream;
pub mod time;

#[cfg(test)]
pub(crate) mod testing;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tracing::{debug, info, warn, Instrument};

pub use state::{
    ControlState, Family, KernelView, PeerView, RouteQueryError, RouteSource, StateWatch, View,
    ROUTE_QUERY_TIMEOUT,
};

/// Longest command line accepted (BIRD's CLI receive buffer is 4 KiB too).
pub const MAX_LINE: usize = 4096;
/// Simultaneous clients per socket.
pub const MAX_CLIENTS: usize = 64;
/// How long one reply may take to be written.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client may stay silent.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(600);

/// The only line a client over [`MAX_CLIENTS`] gets (8007: BIRD's "access denied" code).
pub const TOO_MANY_CLIENTS: &str = "8007 Too many control connections\n";
/// Connections over [`MAX_CLIENTS`] being turned away at once, per socket.
pub const MAX_REFUSING: usize = 64;
/// How long a turned-away client has to finish writing its command line.
pub const REFUSE_DRAIN: Duration = Duration::from_secs(1);

/// Why a control socket could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("control socket {path}: {source}")]
pub struct SocketError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// Creates the socket at `path` (replacing a stale one, as BIRD does) with file mode `mode`.
pub fn bind(path: &Path, mode: u32) -> Result<UnixListener, SocketError> {
    let err = |source| SocketError {
        path: path.to_owned(),
        source,
    };
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(err(e)),
    }
    let l = UnixListener::bind(path).map_err(err)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(err)?;
    Ok(l)
}

/// Serves `listener` for the `family` view of `states` until the task is dropped.
pub async fn serve(listener: UnixListener, states: StateWatch, family: Family) {
    let slots = Arc::new(Semaphore::new(MAX_CLIENTS));
    let health = Arc::new(Semaphore::new(admission::HEALTH_SLOTS));
    let refusing = Arc::new(Semaphore::new(MAX_REFUSING));
    let idle = Arc::new(admission::IdleClients::default());
    let mut next_id: u64 = 0;
    loop {
        let stream = match listener.accept().await {
            Ok((s, _)) => s,
            Err(e) => {
                warn!(event = "control_accept_failed", error = %e, "control accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        next_id += 1;
        let client = Client {
            id: next_id,
            family,
            states: states.clone(),
            idle: idle.clone(),
        };
        if let Ok(permit) = slots.clone().try_acquire_owned() {
            client.spawn(stream, admission::Mode::Full, permit);
            continue;
        }
        // Full: make room (admission.rs), within a bounded number of such attempts.
        let Ok(attempt) = refusing.clone().try_acquire_owned() else {
            warn!(
                event = "control_full",
                "too many control clients, connection refused"
            );
            let _ = stream.try_write(TOO_MANY_CLIENTS.as_bytes());
            continue;
        };
        let (slots, health) = (slots.clone(), health.clone());
        tokio::spawn(async move {
            if client.idle.evict_oldest() {
                let wait = tokio::time::timeout(admission::EVICT_WAIT, slots.acquire_owned());
                if let Ok(Ok(permit)) = wait.await {
                    drop(attempt);
                    debug!(
                        event = "control_idle_evicted",
                        "idle control client dropped for a new one"
                    );
                    client.spawn(stream, admission::Mode::Full, permit);
                    return;
                }
            }
            if let Ok(permit) = health.try_acquire_owned() {
                drop(attempt);
                client.spawn(stream, admission::Mode::Health, permit);
                return;
            }
            // On full: one error line, then close; the others keep their service. Closing
            // silently would read as "no peers" (ready) to Calico's parsers, which accept EOF
            // as the end of a reply; an error line makes them fail instead.
            warn!(
                event = "control_full",
                "too many control clients, connection refused"
            );
            refuse(stream).await;
            drop(attempt);
        });
    }
}

/// A connection about to be served.
struct Client {
    id: u64,
    family: Family,
    states: StateWatch,
    idle: Arc<admission::IdleClients>,
}

impl Client {
    fn spawn(self, stream: UnixStream, mode: admission::Mode, permit: OwnedSemaphorePermit) {
        let span = tracing::debug_span!("control", client = self.id, family = ?self.family, ?mode);
        tokio::spawn(
            async move {
                let (id, idle) = (self.id, self.idle.clone());
                let r = client_task(stream, self, mode).await;
                idle.leave(id);
                debug!(event = "control_client_done", end = %r.describe(), "control client gone");
                drop(permit);
            }
            .instrument(span),
        );
    }
}

/// Answers [`TOO_MANY_CLIENTS`], reads the client's first command line (at most [`MAX_LINE`]
/// octets, for at most [`REFUSE_DRAIN`]), then closes. A socket closed with unread data resets
/// the connection, and the client's read fails before it gets to our line.
async fn refuse(mut stream: UnixStream) {
    let deadline = tokio::time::Instant::now() + REFUSE_DRAIN;
    let write = stream.write_all(TOO_MANY_CLIENTS.as_bytes());
    if !matches!(tokio::time::timeout_at(deadline, write).await, Ok(Ok(()))) {
        return;
    }
    let mut buf = [0u8; 512];
    let mut read = 0;
    while read < MAX_LINE {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => {
                read += n;
                if buf[..n].contains(&b'\n') {
                    break;
                }
            }
            _ => break,
        }
    }
    let _ = stream.shutdown().await;
}

/// How a client connection ended.
#[derive(Debug)]
enum End {
    Eof,
    Idle,
    WriteTimeout,
    Io(std::io::Error),
    Shutdown,
    /// Idle while the slots were full: its slot went to a new client.
    Evicted,
    /// A reserved (health) slot got another command.
    Refused,
}

impl End {
    fn describe(&self) -> String {
        match self {
            End::Eof => "closed by client".into(),
            End::Idle => "idle timeout".into(),
            End::WriteTimeout => "write timeout (client not reading)".into(),
            End::Io(e) => format!("I/O error: {e}"),
            End::Shutdown => "daemon shutting down".into(),
            End::Evicted => "idle while every slot was taken, dropped for a new client".into(),
            End::Refused => "reserved slot, not a health command".into(),
        }
    }
}

async fn write(stream: &mut UnixStream, data: &[u8]) -> Result<(), End> {
    match tokio::time::timeout(WRITE_TIMEOUT, stream.write_all(data)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(End::Io(e)),
        Err(_) => Err(End::WriteTimeout),
    }
}

/// Splits incoming bytes into command lines, never holding more than [`MAX_LINE`] bytes.
#[derive(Debug, Default)]
pub struct LineReader {
    buf: Vec<u8>,
    /// The current line overflowed: drop bytes up to the next newline.
    skipping: bool,
}

/// One framing result.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    Command(String),
    TooLong,
}

impl LineReader {
    /// Feeds `data`; returns the complete lines it finished.
    pub fn feed(&mut self, data: &[u8]) -> Vec<Line> {
        let mut out = Vec::new();
        for &b in data {
            if b == b'\n' {
                if self.skipping {
                    self.skipping = false;
                } else {
                    let mut l = std::mem::take(&mut self.buf);
                    if l.last() == Some(&b'\r') {
                        l.pop();
                    }
                    out.push(Line::Command(String::from_utf8_lossy(&l).into_owned()));
                }
                self.buf.clear();
            } else if !self.skipping {
                if self.buf.len() >= MAX_LINE {
                    self.buf.clear();
                    self.skipping = true;
                    out.push(Line::TooLong);
                } else {
                    self.buf.push(b);
                }
            }
        }
        out
    }
}

async fn client_task(mut stream: UnixStream, client: Client, mode: admission::Mode) -> End {
    let Client {
        id,
        family,
        states,
        idle,
    } = client;
    let mut framer = reply::Framer::new();
    reply::greeting(&mut framer);
    if let Err(e) = write(&mut stream, framer.take().as_bytes()).await {
        return e;
    }
    let mut lines = LineReader::default();
    let mut buf = vec![0u8; 8192];
    let leave = Arc::new(Notify::new());
    loop {
        // Waiting for a command: a new client may take this slot when all are taken.
        idle.enter(id, leave.clone());
        let read = tokio::select! {
            r = tokio::time::timeout(mode.idle_timeout(), stream.read(&mut buf)) => r,
            _ = leave.notified() => return End::Evicted,
        };
        idle.leave(id);
        let n = match read {
            Err(_) => return End::Idle,
            Ok(Ok(0)) => return End::Eof,
            Ok(Ok(n)) => n,
            Ok(Err(e)) => return End::Io(e),
        };
        for line in lines.feed(&buf[..n]) {
            let text = match line {
                Line::TooLong => {
                    framer.end(reply::code::COMMAND_TOO_LONG, "Command too long");
                    if let Err(e) = write(&mut stream, framer.take().as_bytes()).await {
                        return e;
                    }
                    continue;
                }
                Line::Command(text) => text,
            };
            debug!(event = "control_command", command = %text.escape_debug(), "command");
            // The state as of this command (a reload may have replaced it).
            let v = View {
                state: states.borrow().clone(),
                family,
            };
            let parsed = parse::parse(&text);
            if let Ok(cmd) = &parsed {
                if !mode.allows(cmd) {
                    let _ = write(&mut stream, TOO_MANY_CLIENTS.as_bytes()).await;
                    return End::Refused;
                }
            }
            let after = match parsed {
                // A listing of the table goes out page by page (stream.rs).
                Ok(parse::Command::ShowRoute(q)) if cmd::show_route::is_listing(&q) => {
                    if let Err(e) = stream::show_route(&mut stream, &mut framer, v, q).await {
                        return e;
                    }
                    continue;
                }
                _ => {
                    let mut f = std::mem::take(&mut framer);
                    // Commands may read files (`configure check`): off the async workers.
                    let r = tokio::task::spawn_blocking(move || {
                        let a = cmd::execute(&text, &v, SystemTime::now(), &mut f);
                        (a, f)
                    })
                    .await;
                    match r {
                        Ok((a, f)) => {
                            framer = f;
                            a
                        }
                        Err(e) => {
                            warn!(event = "control_command_failed", error = %e, "command failed");
                            return End::Shutdown;
                        }
                    }
                }
            };
            let written = write(&mut stream, framer.take().as_bytes()).await;
            if after == cmd::After::ShuttingDown {
                // After the reply, so that the client reads `0007` before the daemon goes.
                info!(
                    event = "control_down",
                    "shutdown requested on the control socket"
                );
                states.borrow().shutdown.send_replace(true);
                return End::Shutdown;
            }
            if let Err(e) = written {
                return e;
            }
        }
    }
}

/// The control sockets, bound but not yet served (binding happens before any session starts,
/// so a socket we cannot create is a startup error).
#[derive(Debug)]
pub struct Bound {
    sockets: Vec<(UnixListener, PathBuf, Family)>,
}

impl Bound {
    /// Binds `[control].socket` (the `main` view: IPv4, or IPv6 for a `bird6` daemon) and
    /// `[control].socket_v6` (IPv6 view) if set.
    pub fn bind(config: &conf::Control, main: Family) -> Result<Bound, SocketError> {
        let mut wanted = vec![(config.socket.clone(), main)];
        if let Some(p) = &config.socket_v6 {
            wanted.push((p.clone(), Family::V6));
        }
        let mut sockets = Vec::new();
        for (path, family) in wanted {
            let l = bind(&path, config.mode)?;
            info!(event = "control_listening", path = %path.display(), ?family, "control socket ready");
            sockets.push((l, path, family));
        }
        Ok(Bound { sockets })
    }

    /// Starts serving every socket over the current value of `states`.
    pub fn serve(self, states: StateWatch) -> Control {
        let mut c = Control {
            tasks: Vec::new(),
            paths: Vec::new(),
        };
        for (l, path, family) in self.sockets {
            c.tasks.push(tokio::spawn(serve(l, states.clone(), family)));
            c.paths.push(path);
        }
        c
    }
}

/// The running control sockets.
#[derive(Debug)]
pub struct Control {
    tasks: Vec<tokio::task::JoinHandle<()>>,
    paths: Vec<PathBuf>,
}

impl Control {
    /// Stops accepting and removes the socket files.
    pub fn stop(self) {
        for t in &self.tasks {
            t.abort();
        }
        for p in &self.paths {
            let _ = std::fs::remove_file(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_reader_frames_and_bounds_lines() {
        let mut r = LineReader::default();
        assert_eq!(r.feed(b"show st"), vec![]);
        assert_eq!(
            r.feed(b"atus\r\nshow route\n"),
            vec![
                Line::Command("show status".into()),
                Line::Command("show route".into())
            ]
        );
        let big = vec![b'x'; MAX_LINE * 3];
        assert_eq!(r.feed(&big), vec![Line::TooLong]);
        assert!(r.buf.len() <= MAX_LINE);
        assert_eq!(r.feed(b"yy\ndown\n"), vec![Line::Command("down".into())]);
        assert_eq!(
            r.feed(&[0xff, 0, b'\n']),
            vec![Line::Command("\u{fffd}\u{0}".into())]
        );
    }
}
