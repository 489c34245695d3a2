//! The accept loop: HTTP/1.1 and HTTP/2 (chosen per connection) on one port, with the
//! connection limits of `[server]`.
//!
//! hyper serves each connection. A watchdog per connection closes it when a request head takes
//! longer than the header-read timeout, or when it sits idle between requests longer than the
//! idle timeout. hyper's own HTTP/1 header-read timer is not used: it starts as soon as a
//! response is finished, so it would also end every kept-alive connection after the (short)
//! header-read timeout, and hyper-util's protocol detection reads the first bytes before any
//! hyper timer runs, so a connection that sends nothing at all would never be closed.
//!
//! Shutdown drains: readiness turns false and the listener closes at once; the requests in
//! flight get the grace period to finish (connections open meanwhile are still answered, with
//! `Connection: close`), then whatever is left is cut.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::header::CONNECTION;
use axum::http::{HeaderValue, Request, Response, Version};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::{Instant, Sleep, sleep, sleep_until};
use tower::ServiceExt as _;

use crate::config::ServerConfig;

/// What the accept loop enforces per connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: u32,
    /// hyper's read buffer per connection (HTTP/1) and header list limit (HTTP/2): above the
    /// router's own URI and header limits, so that ordinary oversize requests reach the router
    /// and get a problem document; only beyond this does hyper answer a bare 431 or close.
    pub read_buffer_bytes: usize,
}

/// hyper's smallest allowed HTTP/1 read buffer.
const MIN_READ_BUFFER: usize = 8 * 1024;
/// Room for the request line and header separators beyond the URI and header limits.
const HEAD_SLACK: usize = 8 * 1024;

impl From<&ServerConfig> for ConnectionLimits {
    fn from(config: &ServerConfig) -> Self {
        ConnectionLimits {
            header_read_timeout: Duration::from_secs(config.header_read_timeout_secs),
            idle_timeout: Duration::from_secs(config.idle_timeout_secs),
            max_connections: config.max_connections,
            read_buffer_bytes: (config.max_uri_bytes + config.max_header_bytes + HEAD_SLACK)
                .max(MIN_READ_BUFFER),
        }
    }
}

/// Whether the server is shutting down: set the moment the shutdown signal arrives, read by
/// `/readyz`, which then answers 503 so that no new traffic is routed here.
#[derive(Debug, Clone, Default)]
pub struct Draining(Arc<AtomicBool>);

impl Draining {
    pub fn is_draining(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    fn start(&self) {
        self.0.store(true, Ordering::Release);
    }
}

/// How the server shuts down (`[server] shutdown_grace_secs`).
#[derive(Debug, Clone)]
pub struct Drain {
    /// How long the requests in flight may take to finish once the signal arrived.
    pub grace: Duration,
    /// Turned on when the signal arrives.
    pub draining: Draining,
}

impl Drain {
    pub fn new(grace: Duration) -> Drain {
        Drain {
            grace,
            draining: Draining::default(),
        }
    }
}

/// What the connections are told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Serving,
    /// No new connections: a connection with a request in flight closes after it, one with
    /// nothing begun closes at once, a kept-alive idle one stays open while others drain and
    /// closes after its next answer.
    Draining,
    /// The grace is over or nothing is in flight: every connection closes now.
    Closing,
}

/// Serves `router` on `listener` until `shutdown` completes; then `drain.draining` turns on,
/// the listener closes, the requests in flight get `drain.grace` to finish, those left are cut
/// (and counted in the log), and it returns once every connection is closed.
///
/// At `max_connections` the loop stops accepting until a connection ends; clients wait in the
/// kernel's listen backlog meanwhile. That keeps file descriptors and memory bounded, and the
/// header-read and idle timeouts keep the wait short.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
    drain: Drain,
) -> io::Result<()> {
    let builder = Arc::new(http_builder(&limits));
    let slots = Arc::new(Semaphore::new(limits.max_connections as usize));
    let (stage, stopping) = watch::channel(Stage::Serving);
    let in_flight = Arc::new(watch::Sender::new(0_usize));
    let mut shutdown = pin!(shutdown);
    loop {
        let slot = tokio::select! {
            biased;
            () = &mut shutdown => break,
            slot = slots.clone().acquire_owned() => slot.expect("the connection semaphore is never closed"),
        };
        let stream = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    if !is_about_one_connection(&error) {
                        // Out of file descriptors or memory: give closing connections a moment.
                        tracing::error!(%error, "cannot accept a connection");
                        sleep(Duration::from_millis(100)).await;
                    }
                    continue;
                }
            },
        };
        // Responses are written whole or in large chunks; waiting to coalesce only adds latency.
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve_connection(
            stream,
            Tracked {
                router: router.clone(),
                activity: Arc::new(Activity::new()),
                in_flight: in_flight.clone(),
                draining: drain.draining.clone(),
            },
            builder.clone(),
            limits,
            stopping.clone(),
            slot,
        ));
    }
    drain.draining.start();
    drop(listener);
    let _ = stage.send(Stage::Draining);
    tracing::info!(
        in_flight = *in_flight.borrow(),
        grace_secs = drain.grace.as_secs_f64(),
        "shutting down: not ready, accepting no connections, letting the requests in flight finish"
    );
    let mut requests = in_flight.subscribe();
    let finished = tokio::time::timeout(drain.grace, requests.wait_for(|n| *n == 0))
        .await
        .is_ok();
    if finished {
        tracing::info!("every request in flight finished");
    } else {
        tracing::warn!(
            cut = *in_flight.borrow(),
            "the shutdown grace is over: cutting the requests still in flight"
        );
    }
    let _ = stage.send(Stage::Closing);
    // Every connection holds a slot until it ends: once all slots are back, all are done.
    let _ = slots.acquire_many(limits.max_connections).await;
    Ok(())
}

fn is_about_one_connection(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

fn http_builder(limits: &ConnectionLimits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .header_read_timeout(None)
        .max_buf_size(limits.read_buffer_bytes)
        .http2()
        .max_header_list_size(u32::try_from(limits.read_buffer_bytes).unwrap_or(u32::MAX));
    builder
}

async fn serve_connection(
    stream: TcpStream,
    service: Tracked,
    builder: Arc<auto::Builder<TokioExecutor>>,
    limits: ConnectionLimits,
    mut stopping: watch::Receiver<Stage>,
    _slot: OwnedSemaphorePermit,
) {
    let activity = service.activity.clone();
    let io = TokioIo::new(Watched {
        stream,
        activity: activity.clone(),
    });
    let mut connection = pin!(builder.serve_connection(io, service));
    let mut draining = false;
    // Set once an idle connection was asked to close: how long it may take to do so.
    let mut closing: Option<Pin<Box<Sleep>>> = None;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%error, "connection ended with an error");
                }
                return;
            }
            expired = activity.expiry(&limits), if closing.is_none() => match expired {
                Expiry::HeadTooSlow => {
                    tracing::debug!("closing a connection whose request head did not arrive in time");
                    return;
                }
                Expiry::Idle => {
                    // HTTP/1 closes at once; HTTP/2 sends GOAWAY first.
                    connection.as_mut().graceful_shutdown();
                    closing = Some(Box::pin(sleep(limits.header_read_timeout)));
                }
            },
            () = until(&mut closing) => return,
            changed = stopping.changed() => {
                let stage = *stopping.borrow_and_update();
                if changed.is_err() || stage == Stage::Closing {
                    return;
                }
                if stage == Stage::Draining && !draining {
                    match activity.phase() {
                        // Nothing begun (or a head still arriving): it just closes.
                        Phase::Head(_) => return,
                        // A kept-alive one stays: a request on it is still answered while
                        // others drain (`/readyz` says 503 there), with `Connection: close`.
                        Phase::Idle(_) => {}
                        Phase::Busy(_) => {
                            draining = true;
                            connection.as_mut().graceful_shutdown();
                        }
                    }
                }
            }
        }
    }
}

/// Completes when `sleep` is set and has elapsed; never when it is not set.
async fn until(sleep: &mut Option<Pin<Box<Sleep>>>) {
    match sleep {
        Some(sleep) => sleep.await,
        None => std::future::pending().await,
    }
}

/// Where a connection is between requests, and since when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for a request head to arrive whole: since the connection opened, or since the
    /// first byte after an idle spell.
    Head(Instant),
    /// This many requests are being answered (more than one only on HTTP/2).
    Busy(usize),
    /// Kept alive with no request in flight and no byte received since.
    Idle(Instant),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expiry {
    HeadTooSlow,
    Idle,
}

/// One connection's phase, updated by its socket (bytes arrived) and its service (a request
/// began or its response ended), and watched by its watchdog.
#[derive(Debug)]
struct Activity {
    phase: Mutex<Phase>,
    changed: Notify,
}

impl Activity {
    fn new() -> Self {
        Activity {
            phase: Mutex::new(Phase::Head(Instant::now())),
            changed: Notify::new(),
        }
    }

    fn update(&self, next: impl FnOnce(Phase) -> Phase) {
        let mut phase = self.phase.lock().expect("connection phase");
        let updated = next(*phase);
        if updated != *phase {
            *phase = updated;
            drop(phase);
            // A stored permit when the watchdog is not waiting yet, so no change is missed.
            self.changed.notify_one();
        }
    }

    fn bytes_arrived(&self) {
        self.update(|phase| match phase {
            Phase::Idle(_) => Phase::Head(Instant::now()),
            other => other,
        });
    }

    fn request_started(self: &Arc<Self>) -> InFlight {
        self.update(|phase| match phase {
            Phase::Busy(n) => Phase::Busy(n + 1),
            Phase::Head(_) | Phase::Idle(_) => Phase::Busy(1),
        });
        InFlight {
            activity: self.clone(),
            server: None,
        }
    }

    fn request_finished(&self) {
        self.update(|phase| match phase {
            Phase::Busy(n) if n > 1 => Phase::Busy(n - 1),
            Phase::Busy(_) => Phase::Idle(Instant::now()),
            other => other,
        });
    }

    fn phase(&self) -> Phase {
        *self.phase.lock().expect("connection phase")
    }

    /// When the connection is due to close, and why; `None` while a request is in flight.
    fn deadline(&self, limits: &ConnectionLimits) -> Option<(Instant, Expiry)> {
        match *self.phase.lock().expect("connection phase") {
            Phase::Head(since) => Some((since + limits.header_read_timeout, Expiry::HeadTooSlow)),
            Phase::Idle(since) => Some((since + limits.idle_timeout, Expiry::Idle)),
            Phase::Busy(_) => None,
        }
    }

    /// Completes when the connection's deadline passes without a change that moves it.
    async fn expiry(&self, limits: &ConnectionLimits) -> Expiry {
        loop {
            match self.deadline(limits) {
                Some((at, why)) if at <= Instant::now() => return why,
                Some((at, _)) => {
                    tokio::select! {
                        () = sleep_until(at) => {}
                        () = self.changed.notified() => {}
                    }
                }
                None => self.changed.notified().await,
            }
        }
    }
}

/// A request being answered; dropping it (the response body ended or was abandoned, or the
/// handler was cancelled) tells the connection's activity and the server's count.
#[derive(Debug)]
struct InFlight {
    activity: Arc<Activity>,
    /// The server's count of requests in flight, which a shutdown waits on.
    server: Option<Arc<watch::Sender<usize>>>,
}

impl InFlight {
    fn counted_in(mut self, server: &Arc<watch::Sender<usize>>) -> InFlight {
        server.send_modify(|n| *n += 1);
        self.server = Some(server.clone());
        self
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.activity.request_finished();
        if let Some(server) = &self.server {
            server.send_modify(|n| *n = n.saturating_sub(1));
        }
    }
}

/// The socket, reporting to the activity when bytes arrive.
struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.stream).poll_read(cx, buf);
        if matches!(poll, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.bytes_arrived();
        }
        poll
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// The router as hyper's per-connection service, marking each request in flight until its
/// response body has ended.
#[derive(Clone)]
struct Tracked {
    router: Router,
    activity: Arc<Activity>,
    in_flight: Arc<watch::Sender<usize>>,
    draining: Draining,
}

type ResponseFuture =
    Pin<Box<dyn Future<Output = Result<Response<TrackedBody>, Infallible>> + Send>>;

impl hyper::service::Service<Request<Incoming>> for Tracked {
    type Response = Response<TrackedBody>;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let in_flight = self.activity.request_started().counted_in(&self.in_flight);
        let router = self.router.clone();
        let draining = self.draining.clone();
        let http1 = request.version() <= Version::HTTP_11;
        Box::pin(async move {
            let Ok(mut response) = router.oneshot(request.map(Body::new)).await;
            if http1 && draining.is_draining() {
                // hyper closes an HTTP/1 connection after a response that says so.
                response
                    .headers_mut()
                    .insert(CONNECTION, HeaderValue::from_static("close"));
            }
            Ok(response.map(|body| TrackedBody {
                body,
                _in_flight: in_flight,
            }))
        })
    }
}

/// A response body that keeps its request in flight until hyper drops it.
struct TrackedBody {
    body: Body,
    _in_flight: InFlight,
}

impl http_body::Body for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> ConnectionLimits {
        ConnectionLimits {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 1,
            read_buffer_bytes: MIN_READ_BUFFER,
        }
    }

    #[test]
    fn a_new_connection_must_send_its_head_within_the_header_read_timeout() {
        let activity = Activity::new();
        let (at, why) = activity.deadline(&limits()).expect("a deadline");
        assert_eq!(why, Expiry::HeadTooSlow);
        assert!(at <= Instant::now() + Duration::from_secs(10));
        // Bytes of the head itself do not extend it (a slowloris trickles them).
        activity.bytes_arrived();
        assert_eq!(activity.deadline(&limits()), Some((at, why)));
    }

    #[test]
    fn requests_in_flight_have_no_deadline_and_the_idle_clock_starts_after_the_last() {
        let activity = Arc::new(Activity::new());
        let first = activity.request_started();
        let second = activity.request_started();
        assert_eq!(activity.deadline(&limits()), None);
        drop(first);
        assert_eq!(activity.deadline(&limits()), None, "one is still in flight");
        drop(second);
        let (at, why) = activity.deadline(&limits()).expect("idle");
        assert_eq!(why, Expiry::Idle);
        assert!(at > Instant::now() + Duration::from_secs(50));
        // The next request's first byte switches to the header-read clock.
        activity.bytes_arrived();
        assert_eq!(
            activity.deadline(&limits()).map(|(_, why)| why),
            Some(Expiry::HeadTooSlow)
        );
    }

    #[test]
    fn hyper_buffers_more_than_the_routers_head_limits() {
        let limits = ConnectionLimits::from(&ServerConfig::default());
        assert_eq!(limits.read_buffer_bytes, 32 * 1024);
        let tiny = ServerConfig {
            max_uri_bytes: 10,
            max_header_bytes: 10,
            ..ServerConfig::default()
        };
        assert!(ConnectionLimits::from(&tiny).read_buffer_bytes >= MIN_READ_BUFFER);
    }
}
