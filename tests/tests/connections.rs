//! Sockets that send nothing, or half a request, cannot pile up: a silent
//! connection is closed after the idle timeout, and at the connection cap
//! the server accepts no more until one closes.

use frontrow_tests::{Stores, TestApp};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn silent_and_half_sent_connections_are_closed_and_capped() {
    let Some(app) = TestApp::spawn_with(Stores::Embedded, |c| {
        c.max_connections = 3;
        c.idle_timeout_seconds = 1;
    })
    .await
    else {
        return;
    };
    let address = app.base.trim_start_matches("http://").to_owned();
    // Three sockets hold the cap: two say nothing, one sends half a request.
    let mut silent = Vec::new();
    for _ in 0..2 {
        silent.push(TcpStream::connect(&address).await.expect("connect"));
    }
    let mut half = TcpStream::connect(&address).await.expect("connect");
    half.write_all(b"POST /api/v1/users HTTP/1.1\r\nHost: x\r\nContent-Le")
        .await
        .expect("write");
    tokio::time::sleep(Duration::from_millis(200)).await;

    // A fourth client waits at the cap, then is served once the idle ones
    // are closed.
    let asked = Instant::now();
    let fresh = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    let fresh = frontrow_client::Client::new(fresh, &app.base);
    let answer = tokio::time::timeout(Duration::from_secs(10), fresh.health_live())
        .await
        .expect("served within 10 s")
        .expect("an answer");
    assert!(answer.status.is_success());
    assert!(
        asked.elapsed() >= Duration::from_millis(500),
        "served at once ({:?}): the cap did not hold",
        asked.elapsed()
    );

    // The silent and half-sent sockets were closed by the server.
    for (index, mut socket) in silent.into_iter().chain([half]).enumerate() {
        let mut buffer = [0u8; 256];
        let read = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut buffer))
            .await
            .unwrap_or_else(|_| panic!("socket {index} still open after 5 s"));
        assert!(matches!(read, Ok(0) | Err(_)), "still open: {read:?}");
    }
}
