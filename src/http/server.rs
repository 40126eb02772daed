//! Serving HTTP with connection discipline, so that slow or idle clients cannot take the
//! server down (many towns run Meldeweg without a reverse proxy in front).
//!
//! hyper's HTTP/1 server with a timer, and around each connection:
//! - a header-read timeout: a request head that has not fully arrived this long after the
//!   server started waiting for it (on a new connection, or after the previous answer) ends the
//!   connection — one header byte a second does not keep it open;
//! - an idle timeout: a connection with no request in flight that sends nothing for this long
//!   is closed, keep-alive or not;
//! - a cap on connections in all and on connections per client address (IPv6 by its /64);
//!   behind a trusted reverse proxy, whose one address carries everyone, the cap counts the
//!   requests in flight per forwarded client address instead. A connection over a cap is closed
//!   at once, before anything is read from it.
//!
//! The request-body and whole-request timeouts are tower layers on the router (`web::router`).
//! On shutdown every connection is told to finish its request in flight and close.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use super::client;

/// The limits one listener holds its clients to (from `[http]`).
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
    pub max_connections_per_client: usize,
    /// Reverse proxies: their connections are not capped, their forwarded clients are.
    pub trusted_proxies: Vec<IpAddr>,
}

impl ConnectionLimits {
    /// The limits `[http]` sets, with the connection cap kept below the open-files limit
    /// (`open_files`; some files stay for the database, the photos and the logs).
    pub fn from_settings(http: &crate::config::HttpSettings, open_files: u64) -> Self {
        let room = usize::try_from(open_files.saturating_sub(RESERVED_FILES)).unwrap_or(usize::MAX).max(16);
        if http.max_connections > room {
            tracing::warn!(
                configured = http.max_connections,
                allowed = room,
                "http.max_connections is above what the open-files limit allows; using the lower number"
            );
        }
        Self {
            header_read_timeout: Duration::from_secs(http.header_read_timeout_seconds),
            idle_timeout: Duration::from_secs(http.idle_timeout_seconds),
            max_connections: http.max_connections.min(room),
            max_connections_per_client: http.max_connections_per_client,
            trusted_proxies: http.trusted_proxies.clone(),
        }
    }
}

/// Open files kept free for everything but connections.
const RESERVED_FILES: u64 = 256;

/// How long connections still running at shutdown may take to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Serves `router` on `listener` until `shutdown` is cancelled, then lets the requests in
/// flight finish (up to `SHUTDOWN_GRACE`).
pub async fn serve(listener: TcpListener, router: Router, limits: ConnectionLimits, shutdown: CancellationToken) {
    let limits = Arc::new(limits);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let clients = ClientCounts::new(limits.max_connections_per_client);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors or a connection reset before it was taken: wait a
                    // moment rather than spin; the server itself is fine.
                    tracing::warn!(%error, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            refused("server_full");
            continue;
        };
        let proxied = limits.trusted_proxies.contains(&peer.ip());
        let own = if proxied {
            None
        } else {
            match clients.enter(&client::connection_of(&peer.ip().to_string())) {
                Some(entry) => Some(entry),
                None => {
                    refused("client_full");
                    continue;
                }
            }
        };
        let connection = Connection { peer, proxied, limits: limits.clone(), clients: clients.clone() };
        let (router, shutdown) = (router.clone(), shutdown.clone());
        tokio::spawn(async move {
            connection.run(stream, router, shutdown).await;
            drop((slot, own));
        });
    }
    drop(listener);
    // Every connection holds a slot until it ends: all slots back means all ended.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, slots.acquire_many(all)).await;
}

fn refused(reason: &'static str) {
    tracing::debug!(reason, "connection refused");
    metrics::counter!("meldeweg_http_connections_refused_total", "reason" => reason).increment(1);
}

/// One accepted connection.
struct Connection {
    peer: SocketAddr,
    proxied: bool,
    limits: Arc<ConnectionLimits>,
    clients: ClientCounts,
}

impl Connection {
    async fn run(self, stream: TcpStream, router: Router, shutdown: CancellationToken) {
        let activity = Arc::new(Activity::new());
        let io = TokioIo::new(Watched { stream, activity: activity.clone() });
        let idle_timeout = self.limits.idle_timeout;
        let service = self.service(router, activity.clone());
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder.timer(TokioTimer::new()).header_read_timeout(self.limits.header_read_timeout);
        let connection = builder.serve_connection(io, hyper_util::service::TowerToHyperService::new(service));
        let mut connection = std::pin::pin!(connection);
        let mut closing = false;
        let mut watch = tokio::time::interval((idle_timeout / 4).max(Duration::from_millis(50)));
        loop {
            tokio::select! {
                ended = connection.as_mut() => {
                    if let Err(error) = ended {
                        tracing::debug!(%error, "connection ended");
                    }
                    break;
                }
                _ = watch.tick(), if !closing => {
                    if activity.idle_for() >= idle_timeout {
                        connection.as_mut().graceful_shutdown();
                        closing = true;
                    }
                }
                () = shutdown.cancelled(), if !closing => {
                    connection.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
        }
    }

    /// The router, with the peer's address for the handlers, counting requests in flight
    /// (and, behind a proxy, capping them per forwarded client).
    fn service(
        &self,
        router: Router,
        activity: Arc<Activity>,
    ) -> impl tower::Service<Request<Incoming>, Response = Response, Error = Infallible, Future: Send> + Clone {
        let (peer, proxied, limits, clients) = (self.peer, self.proxied, self.limits.clone(), self.clients.clone());
        tower::service_fn(move |mut request: Request<Incoming>| {
            let busy = activity.clone().busy();
            request.extensions_mut().insert(ConnectInfo(peer));
            let entry = if proxied {
                let address = client::address(Some(peer), request.headers(), &limits.trusted_proxies);
                match clients.enter(&client::connection_of(&address)) {
                    Some(entry) => Some(entry),
                    None => {
                        refused("client_full");
                        let answer = (StatusCode::TOO_MANY_REQUESTS, "too many requests at once from one address");
                        return futures_util::future::Either::Left(std::future::ready(Ok(answer.into_response())));
                    }
                }
            } else {
                None
            };
            let router = router.clone();
            futures_util::future::Either::Right(async move {
                let answer = router.oneshot(request.map(axum::body::Body::new)).await;
                drop((busy, entry));
                answer
            })
        })
    }
}

/// When a connection last read anything, and how many of its requests are being answered.
struct Activity {
    started: Instant,
    last_read_ms: AtomicU64,
    in_flight: AtomicUsize,
}

impl Activity {
    fn new() -> Self {
        Self { started: Instant::now(), last_read_ms: AtomicU64::new(0), in_flight: AtomicUsize::new(0) }
    }

    fn touch(&self) {
        let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_read_ms.store(now, Ordering::Relaxed);
    }

    /// How long the connection has had nothing to do: zero while a request is being answered.
    fn idle_for(&self) -> Duration {
        if self.in_flight.load(Ordering::Relaxed) > 0 {
            return Duration::ZERO;
        }
        let last = Duration::from_millis(self.last_read_ms.load(Ordering::Relaxed));
        self.started.elapsed().saturating_sub(last)
    }

    /// Marks a request in flight until the returned guard is dropped.
    fn busy(self: Arc<Self>) -> Busy {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        Busy(self)
    }
}

struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The socket, noting each read that brought bytes.
struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// Connections (or, behind a proxy, requests) open per client, up to a cap.
#[derive(Clone)]
struct ClientCounts {
    max: usize,
    open: Arc<Mutex<HashMap<String, usize>>>,
}

impl ClientCounts {
    fn new(max: usize) -> Self {
        Self { max, open: Arc::default() }
    }

    /// One more for `client`, unless it has the most it may have; counted until dropped.
    fn enter(&self, client: &str) -> Option<ClientEntry> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(client.to_string()).or_default();
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(ClientEntry { counts: self.clone(), client: client.to_string() })
    }
}

struct ClientEntry {
    counts: ClientCounts,
    client: String,
}

impl Drop for ClientEntry {
    fn drop(&mut self) {
        let mut open = self.counts.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.client) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.client);
            }
        }
    }
}

/// Raises this process's open-files limit to what the hard limit allows (each connection is
/// one open file) and returns the limit now in force.
pub fn raise_open_files_limit() -> u64 {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed to them.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 1024;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    limit.rlim_cur
}

#[cfg(test)]
mod tests {
    use super::ClientCounts;

    #[test]
    fn a_client_gets_its_cap_and_a_place_back_when_one_ends() {
        let counts = ClientCounts::new(2);
        let first = counts.enter("192.0.2.1");
        let second = counts.enter("192.0.2.1");
        assert!(first.is_some() && second.is_some());
        assert!(counts.enter("192.0.2.1").is_none());
        assert!(counts.enter("192.0.2.2").is_some(), "another client has its own count");
        drop(first);
        assert!(counts.enter("192.0.2.1").is_some());
    }
}
