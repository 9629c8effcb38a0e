//! Prometheus metrics (`[metrics] listen`, off by default): OpenMetrics text from the
//! `prometheus-client` crate, served by a minimal HTTP/1.1 responder (`GET /metrics`, one
//! request per connection).
//!
//! Values are read at scrape time from what the daemon already keeps (the control socket's
//! state: peer status snapshots and counters, the route snapshot; the reload counters), so a
//! reload that adds or removes neighbors shows at the next scrape. Exported:
//! - per peer (labels `peer` = protocol name, `address`): `bgpd_peer_state` (RFC 4273
//!   `bgpPeerState` numbering, 1 Idle .. 6 Established), `bgpd_peer_up`,
//!   `bgpd_peer_uptime_seconds`, `bgpd_peer_established` (sessions since start), and the
//!   counters `bgpd_peer_updates_received`/`_sent`, `bgpd_peer_notifications_received`/`_sent`,
//!   `bgpd_peer_prefixes_received`, `bgpd_peer_prefixes_accepted`; the gauge
//!   `bgpd_peer_prefixes_advertised`;
//! - `bgpd_rib_routes` (label `family`): routes in the table the RIB publishes;
//! - `bgpd_reloads`, `bgpd_reload_failures` (counters);
//! - with kernel programming on (`[kernel] enable_writes`): `bgpd_fib_routes` (routes we want
//!   in the kernel), `bgpd_fib_installed`, `bgpd_fib_removed`, `bgpd_fib_errors` (routes the
//!   kernel refused), `bgpd_fib_deferred` (counters), `bgpd_fib_converged` (startup
//!   reconciliation done).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use crate::control::StateWatch;
use crate::fib::FibCounters;
use crate::fsm::State;
use crate::reload::ReloadStats;

/// Largest request head read.
const MAX_REQUEST: usize = 8192;
/// How long a client may take to send its request and read the answer.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);
/// The OpenMetrics text content type.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Reads the daemon's state at scrape time.
#[derive(Debug, Clone)]
pub struct DaemonCollector {
    pub states: StateWatch,
    pub reloads: Arc<ReloadStats>,
    /// The FIB task's counters, when it runs.
    pub fib: Option<Arc<FibCounters>>,
}

fn state_number(s: State) -> i64 {
    match s {
        State::Idle => 1,
        State::Connect => 2,
        State::Active => 3,
        State::OpenSent => 4,
        State::OpenConfirm => 5,
        State::Established => 6,
    }
}

fn get(c: &AtomicU64) -> u64 {
    c.load(Ordering::Relaxed)
}

type Labels = Vec<(&'static str, String)>;
/// A counter family being filled: name, help, values.
type CounterFamily = (&'static str, &'static str, Vec<(Labels, ConstCounter)>);

/// One metric family: name, help, type, and one value per label set.
fn family<M: EncodeMetric>(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    kind: MetricType,
    values: &[(Labels, M)],
) -> Result<(), std::fmt::Error> {
    let mut m = encoder.encode_descriptor(name, help, None, kind)?;
    for (labels, v) in values {
        let f = m.encode_family(labels)?;
        v.encode(f)?;
    }
    Ok(())
}

/// A metric without labels.
fn single<M: EncodeMetric>(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    kind: MetricType,
    value: M,
) -> Result<(), std::fmt::Error> {
    let m = encoder.encode_descriptor(name, help, None, kind)?;
    value.encode(m)
}

impl Collector for DaemonCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let state = self.states.borrow().clone();
        let now = SystemTime::now();
        let mut st = Vec::new();
        let mut up = Vec::new();
        let mut uptime = Vec::new();
        let mut established = Vec::new();
        let mut counters: [CounterFamily; 6] = [
            (
                "bgpd_peer_updates_received",
                "UPDATE messages received",
                Vec::new(),
            ),
            ("bgpd_peer_updates_sent", "UPDATE messages sent", Vec::new()),
            (
                "bgpd_peer_notifications_received",
                "NOTIFICATION messages received",
                Vec::new(),
            ),
            (
                "bgpd_peer_notifications_sent",
                "NOTIFICATION messages sent",
                Vec::new(),
            ),
            (
                "bgpd_peer_prefixes_received",
                "prefixes announced by the peer",
                Vec::new(),
            ),
            (
                "bgpd_peer_prefixes_accepted",
                "received routes the import policy accepted",
                Vec::new(),
            ),
        ];
        let mut advertised = Vec::new();
        for p in &state.peers {
            let labels: Labels = vec![
                ("peer", p.neighbor.name.to_string()),
                ("address", p.neighbor.address.to_string()),
            ];
            let s = p.status.borrow().clone();
            let is_up = s.state == State::Established;
            st.push((labels.clone(), ConstGauge::new(state_number(s.state))));
            up.push((labels.clone(), ConstGauge::new(i64::from(is_up))));
            let secs = if is_up {
                now.duration_since(s.since)
                    .unwrap_or_default()
                    .as_secs_f64()
            } else {
                0.0
            };
            uptime.push((labels.clone(), ConstGauge::new(secs)));
            let x = &p.stats;
            established.push((labels.clone(), ConstCounter::new(get(&x.established_count))));
            let vals = [
                get(&x.updates_received),
                get(&x.updates_sent),
                get(&x.notifications_received),
                get(&x.notifications_sent),
                get(&x.prefixes_received),
                get(&x.prefixes_accepted),
            ];
            for (c, v) in counters.iter_mut().zip(vals) {
                c.2.push((labels.clone(), ConstCounter::new(v)));
            }
            advertised.push((
                labels,
                ConstGauge::new(i64::try_from(get(&x.prefixes_advertised)).unwrap_or(i64::MAX)),
            ));
        }
        let e = &mut encoder;
        family(
            e,
            "bgpd_peer_state",
            "BGP state (RFC 4273 bgpPeerState: 1 idle .. 6 established)",
            MetricType::Gauge,
            &st,
        )?;
        family(
            e,
            "bgpd_peer_up",
            "1 while the session is Established",
            MetricType::Gauge,
            &up,
        )?;
        family(
            e,
            "bgpd_peer_uptime_seconds",
            "time since the session was established (0 while down)",
            MetricType::Gauge,
            &uptime,
        )?;
        family(
            e,
            "bgpd_peer_established",
            "sessions established since start",
            MetricType::Counter,
            &established,
        )?;
        for (name, help, values) in &counters {
            family(e, name, help, MetricType::Counter, values)?;
        }
        family(
            e,
            "bgpd_peer_prefixes_advertised",
            "routes in the peer's Adj-RIB-Out",
            MetricType::Gauge,
            &advertised,
        )?;
        let (v4, v6) = state.routes.counts();
        let count = |n: usize| ConstGauge::new(i64::try_from(n).unwrap_or(i64::MAX));
        family(
            e,
            "bgpd_rib_routes",
            "routes in the routing table",
            MetricType::Gauge,
            &[
                (vec![("family", "ipv4".to_string())], count(v4)),
                (vec![("family", "ipv6".to_string())], count(v6)),
            ],
        )?;
        let r = &self.reloads;
        single(
            e,
            "bgpd_reloads",
            "configuration reloads applied",
            MetricType::Counter,
            ConstCounter::new(get(&r.reloads)),
        )?;
        single(
            e,
            "bgpd_reload_failures",
            "configuration reloads rejected (invalid file)",
            MetricType::Counter,
            ConstCounter::new(get(&r.failures)),
        )?;
        if let Some(f) = &self.fib {
            let c = |v: &AtomicU64| ConstCounter::new(get(v));
            let desired = i64::try_from(get(&f.desired)).unwrap_or(i64::MAX);
            single(
                e,
                "bgpd_fib_routes",
                "routes we want in the kernel (blackholes included)",
                MetricType::Gauge,
                ConstGauge::new(desired),
            )?;
            single(
                e,
                "bgpd_fib_installed",
                "routes written to the kernel",
                MetricType::Counter,
                c(&f.installed),
            )?;
            single(
                e,
                "bgpd_fib_removed",
                "routes removed from the kernel",
                MetricType::Counter,
                c(&f.removed),
            )?;
            single(
                e,
                "bgpd_fib_errors",
                "routes the kernel refused",
                MetricType::Counter,
                c(&f.failed),
            )?;
            single(
                e,
                "bgpd_fib_deferred",
                "routes that waited for an interface or address",
                MetricType::Counter,
                c(&f.deferred),
            )?;
            let converged = i64::from(f.converged.load(Ordering::Relaxed));
            single(
                e,
                "bgpd_fib_converged",
                "1 once the startup reconciliation ran",
                MetricType::Gauge,
                ConstGauge::new(converged),
            )?;
        }
        Ok(())
    }
}

/// The OpenMetrics text for the current state.
pub fn render(sources: DaemonCollector) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(sources));
    let mut out = String::new();
    if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &registry) {
        warn!(event = "metrics_encode_failed", error = %e, "metrics not encoded");
    }
    out
}

/// The metrics endpoint, if configured.
#[derive(Debug, Default)]
pub struct Server {
    task: Option<JoinHandle<()>>,
    pub addr: Option<SocketAddr>,
    sources: Option<DaemonCollector>,
}

impl Server {
    /// Serves on `config.listen` now (a reload changed `[metrics]`), with the same sources.
    pub fn restart(&mut self, config: &conf::Metrics) {
        self.stop();
        if let Some(s) = self.sources.take() {
            *self = start(config, s);
        }
    }

    pub fn stop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
        self.addr = None;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts serving on `config.listen` (nothing when unset). A port we cannot bind is logged
/// and leaves metrics off (the daemon's routing matters more than its metrics).
pub fn start(config: &conf::Metrics, sources: DaemonCollector) -> Server {
    let off = Server {
        task: None,
        addr: None,
        sources: Some(sources.clone()),
    };
    let Some(addr) = config.listen else {
        return off;
    };
    let std_listener = match std::net::TcpListener::bind(addr) {
        Ok(l) => l,
        Err(e) => {
            warn!(event = "metrics_bind_failed", %addr, error = %e, "metrics endpoint not started");
            return off;
        }
    };
    let listener = match std_listener
        .set_nonblocking(true)
        .and_then(|()| TcpListener::from_std(std_listener))
    {
        Ok(l) => l,
        Err(e) => {
            warn!(event = "metrics_bind_failed", %addr, error = %e, "metrics endpoint not started");
            return off;
        }
    };
    let bound = listener.local_addr().ok();
    info!(event = "metrics_listening", addr = ?bound, "metrics endpoint ready");
    let served = sources.clone();
    let task = tokio::spawn(async move {
        loop {
            let stream = match listener.accept().await {
                Ok((s, _)) => s,
                Err(e) => {
                    warn!(event = "metrics_accept_failed", error = %e, "metrics accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let s = served.clone();
            tokio::spawn(async move {
                if tokio::time::timeout(CLIENT_TIMEOUT, respond(stream, s))
                    .await
                    .is_err()
                {
                    debug!(event = "metrics_client_timeout", "metrics client too slow");
                }
            });
        }
    });
    Server {
        task: Some(task),
        addr: bound,
        sources: Some(sources),
    }
}

/// What a request head asks for.
#[derive(Debug, PartialEq, Eq)]
enum Request {
    Metrics,
    NotFound,
    BadMethod,
    Invalid,
}

fn parse_request(head: &[u8]) -> Request {
    let text = String::from_utf8_lossy(head);
    let mut words = text.lines().next().unwrap_or("").split_whitespace();
    match (words.next(), words.next(), words.next()) {
        (Some(m), Some(path), Some(v)) if v.starts_with("HTTP/1.") => {
            if m != "GET" && m != "HEAD" {
                Request::BadMethod
            } else if path == "/metrics" || path.starts_with("/metrics?") {
                Request::Metrics
            } else {
                Request::NotFound
            }
        }
        _ => Request::Invalid,
    }
}

async fn respond(mut stream: TcpStream, sources: DaemonCollector) {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && !head.windows(2).any(|w| w == b"\n\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
        if head.len() > MAX_REQUEST {
            break;
        }
    }
    let (status, ctype, body) = match parse_request(&head) {
        Request::Metrics => ("200 OK", CONTENT_TYPE, render(sources)),
        Request::NotFound => ("404 Not Found", "text/plain", "not found\n".to_string()),
        Request::BadMethod => (
            "405 Method Not Allowed",
            "text/plain",
            "GET only\n".to_string(),
        ),
        Request::Invalid => ("400 Bad Request", "text/plain", "bad request\n".to_string()),
    };
    let head_only = head.starts_with(b"HEAD ");
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if !head_only {
        out.push_str(&body);
    }
    let _ = stream.write_all(out.as_bytes()).await;
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::testing::view_with;

    #[test]
    fn request_lines() {
        assert_eq!(
            parse_request(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
            Request::Metrics
        );
        assert_eq!(parse_request(b"GET / HTTP/1.0\r\n\r\n"), Request::NotFound);
        assert_eq!(
            parse_request(b"POST /metrics HTTP/1.1\r\n\r\n"),
            Request::BadMethod
        );
        assert_eq!(parse_request(b"\x00\x01"), Request::Invalid);
    }

    #[tokio::test]
    async fn scrape_over_http_reflects_counters() {
        let (view, keep) = view_with(&[("Mesh_10_0_0_2", "10.0.0.2")]);
        let (tx, rx) = tokio::sync::watch::channel(view.state.clone());
        let reloads = Arc::new(ReloadStats::default());
        let cfg = conf::Metrics {
            listen: Some("127.0.0.1:0".parse().expect("addr")),
        };
        let fib = Arc::new(FibCounters::default());
        let sources = DaemonCollector {
            states: rx,
            reloads: reloads.clone(),
            fib: Some(fib.clone()),
        };
        let server = start(&cfg, sources);
        let addr = server.addr.expect("bound");
        let scrape = || async move {
            let mut s = TcpStream::connect(addr).await.expect("connect");
            s.write_all(b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n")
                .await
                .expect("write");
            let mut out = String::new();
            s.read_to_string(&mut out).await.expect("read");
            out
        };
        let before = scrape().await;
        assert!(before.starts_with("HTTP/1.1 200 OK\r\n"), "{before}");
        assert!(
            before.contains("bgpd_peer_up{peer=\"Mesh_10_0_0_2\",address=\"10.0.0.2\"} 0\n"),
            "{before}"
        );
        assert!(before.contains("bgpd_reloads_total 0\n"), "{before}");
        assert!(before.trim_end().ends_with("# EOF"), "{before}");
        // The session comes up and counters move.
        crate::control::testing::established(&keep[0]);
        view.state.peers[0]
            .stats
            .updates_received
            .fetch_add(3, Ordering::Relaxed);
        reloads.reloads.fetch_add(1, Ordering::Relaxed);
        let after = scrape().await;
        assert!(
            after.contains("bgpd_peer_up{peer=\"Mesh_10_0_0_2\",address=\"10.0.0.2\"} 1\n"),
            "{after}"
        );
        assert!(
            after.contains("bgpd_peer_state{peer=\"Mesh_10_0_0_2\",address=\"10.0.0.2\"} 6\n"),
            "{after}"
        );
        assert!(
            after.contains(
                "bgpd_peer_updates_received_total{peer=\"Mesh_10_0_0_2\",address=\"10.0.0.2\"} 3\n"
            ),
            "{after}"
        );
        assert!(after.contains("bgpd_reloads_total 1\n"), "{after}");
        assert!(after.contains("bgpd_fib_errors_total 0\n"), "{after}");
        fib.failed.fetch_add(2, Ordering::Relaxed);
        fib.desired.store(7, Ordering::Relaxed);
        let fibbed = scrape().await;
        assert!(fibbed.contains("bgpd_fib_errors_total 2\n"), "{fibbed}");
        assert!(fibbed.contains("bgpd_fib_routes 7\n"), "{fibbed}");
        drop(tx);
    }
}
