//! A cap on open connections and an idle timeout. Every accepted connection
//! holds a permit until it closes; at the cap the server stops accepting,
//! and new connections wait in the kernel's listen queue instead of each
//! costing the process memory (about 33 KB per open connection, measured in
//! docs/benchmarks.md). A connection that reads and writes nothing for the
//! idle time fails its next read, which closes it: a socket that sends
//! nothing, or stops in the middle of a request, cannot hold a place (poem's
//! own idle timeout waits for a half-read request to finish). An open stream
//! writes a heartbeat every 15 s, so it stays.
//!
//! The idle timer does not stop a client that sends a header line every
//! few seconds: each line is activity. So a request head has a deadline of
//! its own: from its first byte until the request reaches the application
//! (the middleware reports each request through `Listening::exchange`). On
//! HTTP/2 it covers the connection's start, until its first request; after
//! that the stream limits bound a connection (see `bin/src/server.rs`).
//!
//! `Listening` is the shutdown's handle on the same acceptor. A load
//! balancer without health checks (nginx) learns that an instance stops only
//! when connecting to it fails, and it resends a request elsewhere only if
//! nothing was sent: a refused connection is safe for a POST, a connection
//! closed under a request that was just sent is a 502. So a stopping
//! instance stops *accepting* first (taking what the kernel already
//! accepted, then closing the listening socket), keeps serving the
//! connections it has, each answer saying `Connection: close` while it
//! drains (see `http::app`), and ends only when they have closed themselves
//! or the grace runs out.

use parking_lot::Mutex;
use poem::http::uri::Scheme;
use poem::listener::Acceptor;
use poem::web::{LocalAddr, RemoteAddr};
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

/// An acceptor that holds at most `max` connections open at once.
pub struct Capped<A> {
    /// `None` once stopped: the listening socket is closed.
    inner: Option<A>,
    permits: Arc<Semaphore>,
    idle: Duration,
    /// The longest a request head may take to arrive.
    head: Duration,
    listening: Listening,
    stop: tokio::sync::watch::Receiver<bool>,
    /// Once stopped: until when queued connections are still taken.
    settle_by: Option<Instant>,
}

impl<A> Capped<A> {
    /// At most `max` connections, each closed after `idle` without a byte
    /// either way, or when a request head takes longer than `head`.
    pub fn new(inner: A, max: usize, idle: Duration, head: Duration) -> Self {
        let listening = Listening::default();
        Self {
            inner: Some(inner),
            permits: Arc::new(Semaphore::new(max.max(1))),
            idle,
            head,
            stop: listening.0.stop.subscribe(),
            listening,
            settle_by: None,
        }
    }

    /// The handle that stops this acceptor and counts its open connections;
    /// give the same handle to `http::app_on`.
    pub fn listening(&self) -> Listening {
        self.listening.clone()
    }
}

/// Stops a `Capped` acceptor and tells how many of its connections are still
/// open (see the module doc). Cheap to clone; a handle of no acceptor is
/// never stopped.
#[derive(Clone, Default)]
pub struct Listening(Arc<ListeningState>);

#[derive(Default)]
struct ListeningState {
    stop: tokio::sync::watch::Sender<bool>,
    /// Connections open now (each `CappedIo` counts itself while it lives).
    open: Arc<AtomicUsize>,
    /// Each open connection's requests, by its peer's address (unique among
    /// open connections), for the head deadline.
    exchanges: Arc<Mutex<HashMap<SocketAddr, Arc<Exchanges>>>>,
}

/// What the application tells a connection of its requests.
#[derive(Default)]
struct Exchanges {
    /// Requests whose head was complete (they reached the application).
    started: AtomicU64,
    /// Requests the application is answering now.
    answering: AtomicUsize,
}

/// A request being answered on its connection, until dropped.
pub struct Answering(Arc<Exchanges>);

impl Drop for Answering {
    fn drop(&mut self) {
        self.0.answering.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Listening {
    /// Stops accepting: the connections the kernel has already accepted
    /// are still taken and served, then the listening socket closes, and a
    /// new connection is refused.
    pub fn stop(&self) {
        self.0.stop.send_replace(true);
    }

    /// The acceptor was stopped: from now on every answer says
    /// `Connection: close`, so each connection ends after its next answer.
    pub fn is_stopped(&self) -> bool {
        *self.0.stop.borrow()
    }

    /// A request from `remote` reached the application: its head is
    /// complete. It is being answered until the guard is dropped. `None`
    /// for a connection of no `Capped` acceptor.
    pub fn exchange(&self, remote: &RemoteAddr) -> Option<Answering> {
        let remote = remote.as_socket_addr()?;
        let exchanges = self.0.exchanges.lock().get(remote).cloned()?;
        exchanges.answering.fetch_add(1, Ordering::Relaxed);
        exchanges.started.fetch_add(1, Ordering::Relaxed);
        Some(Answering(exchanges))
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.0.open.load(Ordering::Relaxed)
    }

    /// Waits until every connection has closed, at most `within`: whether
    /// they all did.
    pub async fn closed(&self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while self.open() > 0 {
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }
}

/// After a stop, how long the acceptor keeps taking connections that were
/// already on their way, and how quiet the listen queue must stay before
/// the socket closes. A connection that arrives after that is refused.
const SETTLE: Duration = Duration::from_millis(5);
const MOST_SETTLING: Duration = Duration::from_millis(200);

/// A connection, its permit (returned when the connection is dropped) and
/// when it is idle for too long.
pub struct CappedIo<T> {
    io: T,
    _permit: OwnedSemaphorePermit,
    _counted: Counted,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
    head: HeadDeadline,
}

/// When the request head now arriving must be complete.
struct HeadDeadline {
    limit: Duration,
    /// The connection's requests; `None` when its peer has no socket
    /// address (no deadline then).
    exchanges: Option<Registered>,
    /// Whether the connection speaks HTTP/2, known from its first bytes.
    http2: Option<bool>,
    /// While a head is arriving: how many requests had started when its
    /// first byte came. One more means it is complete.
    arriving_after: Option<u64>,
    timer: Pin<Box<Sleep>>,
}

/// A connection's entry in `ListeningState::exchanges`, removed on drop.
struct Registered {
    exchanges: Arc<Exchanges>,
    registry: Arc<Mutex<HashMap<SocketAddr, Arc<Exchanges>>>>,
    remote: SocketAddr,
}

impl Drop for Registered {
    fn drop(&mut self) {
        // Only this connection's entry: a new connection from the same
        // address and port may have registered already.
        let mut registry = self.registry.lock();
        if registry
            .get(&self.remote)
            .is_some_and(|entry| Arc::ptr_eq(entry, &self.exchanges))
        {
            registry.remove(&self.remote);
        }
    }
}

impl HeadDeadline {
    fn new(limit: Duration, remote: &RemoteAddr, listening: &ListeningState) -> Self {
        let exchanges = remote.as_socket_addr().map(|&remote| {
            let exchanges = Arc::new(Exchanges::default());
            let registry = listening.exchanges.clone();
            registry.lock().insert(remote, exchanges.clone());
            Registered {
                exchanges,
                registry,
                remote,
            }
        });
        Self {
            limit,
            exchanges,
            http2: None,
            arriving_after: None,
            timer: Box::pin(tokio::time::sleep(limit)),
        }
    }

    /// Bytes came in: the first of a head starts its clock. On HTTP/1 that
    /// is any byte while no request is being answered; on HTTP/2 (which
    /// multiplexes, and whose frames flow between requests) only the bytes
    /// before its first request.
    fn read(&mut self, bytes: &[u8]) {
        const PREFACE: &[u8] = b"PRI * HTTP/2.0";
        let (Some(registered), false) = (&self.exchanges, bytes.is_empty()) else {
            return;
        };
        let http2 = *self.http2.get_or_insert_with(|| {
            let n = bytes.len().min(PREFACE.len());
            bytes[..n] == PREFACE[..n]
        });
        if self.arriving_after.is_some() {
            return;
        }
        let exchanges = &registered.exchanges;
        let started = exchanges.started.load(Ordering::Relaxed);
        let head_starts = if http2 {
            started == 0
        } else {
            exchanges.answering.load(Ordering::Relaxed) == 0
        };
        if head_starts {
            self.arriving_after = Some(started);
            self.timer.as_mut().reset(Instant::now() + self.limit);
        }
    }

    /// Whether the head now arriving is overdue (a waker is registered
    /// for the deadline while it is not).
    fn overdue(&mut self, cx: &mut Context<'_>) -> bool {
        let (Some(after), Some(registered)) = (self.arriving_after, &self.exchanges) else {
            return false;
        };
        if registered.exchanges.started.load(Ordering::Relaxed) > after {
            self.arriving_after = None;
            return false;
        }
        self.timer.as_mut().poll(cx).is_ready()
    }
}

impl<T> CappedIo<T> {
    fn active(&mut self) {
        self.deadline.as_mut().reset(Instant::now() + self.idle);
    }
}

impl<A: Acceptor> Acceptor for Capped<A> {
    type Io = CappedIo<A::Io>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.inner.as_ref().map(A::local_addr).unwrap_or_default()
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        let (idle, head, listening) = (self.idle, self.head, self.listening.0.clone());
        let wrap = |io, permit, remote: &RemoteAddr| {
            let head = HeadDeadline::new(head, remote, &listening);
            CappedIo::new(io, permit, idle, &listening.open, head)
        };
        if !*self.stop.borrow() {
            let permits = self.permits.clone();
            let (Some(inner), stop) = (self.inner.as_mut(), &mut self.stop) else {
                return std::future::pending().await;
            };
            let accepted = async {
                let permit = permits.acquire_owned().await.map_err(io::Error::other)?;
                Ok::<_, io::Error>((inner.accept().await?, permit))
            };
            tokio::select! {
                accepted = accepted => {
                    let ((io, local, remote, scheme), permit) = accepted?;
                    return Ok((wrap(io, permit, &remote), local, remote, scheme));
                }
                _ = stop.wait_for(|stopped| *stopped) => {}
            }
        }
        // Stopped: take what is already queued (until the queue has been
        // quiet for `SETTLE`, within `MOST_SETTLING`), then close.
        let settle_by = *self
            .settle_by
            .get_or_insert_with(|| Instant::now() + MOST_SETTLING);
        if let Some(inner) = self.inner.as_mut()
            && Instant::now() < settle_by
            && let Ok(permit) = self.permits.clone().try_acquire_owned()
            && let Ok(accepted) = tokio::time::timeout(SETTLE, inner.accept()).await
        {
            let (io, local, remote, scheme) = accepted?;
            return Ok((wrap(io, permit, &remote), local, remote, scheme));
        }
        self.inner = None;
        std::future::pending().await
    }
}

/// One open connection in `Capped::open`, until dropped.
struct Counted(Arc<AtomicUsize>);

impl Counted {
    fn new(open: &Arc<AtomicUsize>) -> Self {
        open.fetch_add(1, Ordering::Relaxed);
        Self(open.clone())
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl<T> CappedIo<T> {
    fn new(
        io: T,
        permit: OwnedSemaphorePermit,
        idle: Duration,
        open: &Arc<AtomicUsize>,
        head: HeadDeadline,
    ) -> Self {
        CappedIo {
            io,
            _permit: permit,
            _counted: Counted::new(open),
            idle,
            deadline: Box::pin(tokio::time::sleep(idle)),
            head,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for CappedIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(result) => {
                this.active();
                this.head.read(&buf.filled()[before..]);
                Poll::Ready(result)
            }
            Poll::Pending if this.head.overdue(cx) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "request head not complete in time",
            ))),
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "idle connection",
                ))),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for CappedIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.io).poll_write(cx, buf);
        if written.is_ready() {
            this.active();
        }
        written
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        if written.is_ready() {
            this.active();
        }
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use poem::listener::{Listener, TcpListener};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn ask(socket: &mut tokio::net::TcpStream) -> String {
        socket
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("request sent");
        let mut answer = vec![0u8; 1024];
        let read = socket.read(&mut answer).await.expect("answer read");
        String::from_utf8_lossy(&answer[..read]).into_owned()
    }

    #[tokio::test]
    async fn a_stopped_acceptor_refuses_new_connections_and_keeps_serving_its_own() {
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .expect("a listener");
        let address = acceptor.local_addr()[0]
            .as_socket_addr()
            .copied()
            .expect("an address");
        let capped = Capped::new(
            acceptor,
            10,
            Duration::from_secs(60),
            Duration::from_secs(10),
        );
        let listening = capped.listening();
        let app = poem::Route::new().at("/", poem::get(poem::endpoint::make_sync(|_| "ok")));
        tokio::spawn(poem::Server::new_with_acceptor(capped).run(app));

        let mut kept = tokio::net::TcpStream::connect(address)
            .await
            .expect("connect");
        assert!(ask(&mut kept).await.starts_with("HTTP/1.1 200"));
        assert_eq!(listening.open(), 1);

        listening.stop();
        tokio::time::sleep(MOST_SETTLING + Duration::from_millis(100)).await;
        let refused = tokio::net::TcpStream::connect(address).await;
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.kind() == io::ErrorKind::ConnectionRefused),
            "a new connection is refused: {refused:?}"
        );
        // The connection it had still gets answers.
        assert!(ask(&mut kept).await.starts_with("HTTP/1.1 200"));
        assert!(!listening.closed(Duration::from_millis(50)).await);
        drop(kept);
        assert!(listening.closed(Duration::from_secs(2)).await);
    }
}
