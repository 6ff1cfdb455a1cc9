//! Open streams: how much server memory each open queue stream costs. It
//! fills one paused room with `count` waiting buyers, opens a queue stream
//! for each (spread over several loopback source addresses, so the client
//! side never runs out of ports), holds them, and reads the server's
//! resident memory from /proc before and after.

use anyhow::{Context, bail};
use frontrow_client::{Client, NewConcert, NewSchedule};
use reqwest::StatusCode;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub struct StreamsReport {
    pub opened: usize,
    pub failed: usize,
    pub rss_before_kib: u64,
    pub rss_after_kib: u64,
    pub open_seconds: f64,
}

impl std::fmt::Display for StreamsReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let grown = self.rss_after_kib.saturating_sub(self.rss_before_kib);
        writeln!(
            f,
            "streams open: {} ({} failed), opened in {:.1} s",
            self.opened, self.failed, self.open_seconds
        )?;
        writeln!(
            f,
            "server RSS before: {} KiB, with the streams open: {} KiB",
            self.rss_before_kib, self.rss_after_kib
        )?;
        write!(
            f,
            "per open stream: {:.1} KiB",
            grown as f64 / self.opened.max(1) as f64
        )
    }
}

fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("no process {pid}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .context("no VmRSS")
}

/// For comparison: `count` idle keep-alive connections, each after one
/// `GET /health/live`, over `sources` loopback source addresses. What an open
/// HTTP connection costs the server before any stream.
pub async fn idle_connections(
    base: &str,
    count: usize,
    sources: u8,
    server_pid: u32,
) -> anyhow::Result<StreamsReport> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address: std::net::SocketAddr = base
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .context("--base-url must be http://ip:port")?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_before_kib = rss_kib(server_pid)?;
    let started = Instant::now();
    let mut sockets = Vec::with_capacity(count);
    let mut failed = 0;
    for i in 0..count {
        let source = IpAddr::V4(Ipv4Addr::new(
            127,
            0,
            0,
            1 + (i % sources.max(1) as usize) as u8,
        ));
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind(std::net::SocketAddr::new(source, 0))?;
        let opened = async {
            let mut stream = socket.connect(address).await?;
            stream
                .write_all(b"GET /health/live HTTP/1.1\r\nHost: bench\r\n\r\n")
                .await?;
            let mut buffer = [0u8; 1024];
            let read = stream.read(&mut buffer).await?;
            anyhow::ensure!(buffer[..read].starts_with(b"HTTP/1.1 200"), "not a 200");
            Ok::<_, anyhow::Error>(stream)
        };
        match opened.await {
            Ok(stream) => sockets.push(stream),
            Err(_) => failed += 1,
        }
    }
    let open_seconds = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_after_kib = rss_kib(server_pid)?;
    Ok(StreamsReport {
        opened: sockets.len(),
        failed,
        rss_before_kib,
        rss_after_kib,
        open_seconds,
    })
}

pub async fn streams(
    base: &str,
    admin_key: &str,
    count: usize,
    sources: u8,
    hold: Duration,
    server_pid: u32,
) -> anyhow::Result<StreamsReport> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let api = Client::new(http, base).with_admin_key(admin_key);
    let schedule = NewSchedule::new("2031-06-01T19:00:00Z", 10, 1);
    let concert = api
        .create_concert(&NewConcert::new("Streams", vec![schedule]))
        .await?
        .body["concertId"]
        .as_i64()
        .context("cannot create the concert")?;
    // Paused: every buyer waits, nobody's status changes while we measure.
    let paused = api.set_queue(concert, 1, 1, true).await?;
    if !paused.status.is_success() {
        bail!("cannot pause the room: {} {}", paused.status, paused.body);
    }
    let semaphore = Arc::new(tokio::sync::Semaphore::new(64));
    let mut joins = Vec::with_capacity(count);
    for i in 0..count {
        let (api, semaphore) = (api.clone(), semaphore.clone());
        joins.push(tokio::spawn(async move {
            let _permit = semaphore.acquire().await?;
            let buyer = api
                .register(&format!("watcher {i}"))
                .await?
                .buyer()
                .context("no token")?;
            let token = api.join(&buyer, concert).await?.body["token"]
                .as_str()
                .context("no queue token")?
                .to_owned();
            Ok::<_, anyhow::Error>((buyer, token))
        }));
    }
    let mut buyers = Vec::with_capacity(count);
    for join in joins {
        buyers.push(join.await??);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_before_kib = rss_kib(server_pid)?;

    // One client per source address: 127.0.0.1, 127.0.0.2, ...
    let clients = (0..sources.max(1))
        .map(|i| {
            let http = reqwest::Client::builder()
                .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1 + i)))
                .build()?;
            Ok::<_, reqwest::Error>(Client::new(http, base))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let opened = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let until = started + hold;
    let open_semaphore = Arc::new(tokio::sync::Semaphore::new(256));
    let mut streams = Vec::with_capacity(count);
    for (i, (buyer, token)) in buyers.into_iter().enumerate() {
        let client = clients[i % clients.len()].clone();
        let (opened, failed, gate) = (opened.clone(), failed.clone(), open_semaphore.clone());
        streams.push(tokio::spawn(async move {
            let permit = gate.acquire_owned().await;
            let response = client.queue_stream(&buyer, &token).await;
            let mut response = match response {
                Ok(r) if r.status() == StatusCode::OK => r,
                _ => {
                    failed.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            };
            // The first event: the stream is open and answered.
            match tokio::time::timeout(Duration::from_secs(30), response.chunk()).await {
                Ok(Ok(Some(_))) => opened.fetch_add(1, Ordering::Relaxed),
                _ => {
                    failed.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            };
            drop(permit);
            // Keep reading (heartbeats) until the hold is over.
            while let Ok(Ok(Some(_))) =
                tokio::time::timeout_at(until.into(), response.chunk()).await
            {}
        }));
    }
    while opened.load(Ordering::Relaxed) + failed.load(Ordering::Relaxed) < count {
        if Instant::now() >= until {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let open_seconds = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_after_kib = rss_kib(server_pid)?;
    let report = StreamsReport {
        opened: opened.load(Ordering::Relaxed),
        failed: failed.load(Ordering::Relaxed),
        rss_before_kib,
        rss_after_kib,
        open_seconds,
    };
    for stream in streams {
        stream.abort();
    }
    if report.opened == 0 {
        bail!("no stream opened");
    }
    Ok(report)
}
