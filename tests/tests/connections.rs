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

/// Reads once: what the server sent, or `None` once it has closed.
async fn read_some(socket: &mut TcpStream) -> Option<String> {
    let mut buffer = [0u8; 4096];
    match socket.read(&mut buffer).await {
        Ok(0) | Err(_) => None,
        Ok(n) => Some(String::from_utf8_lossy(&buffer[..n]).into_owned()),
    }
}

/// Issue 23: a client sending a header line every 20 s kept its socket for
/// good, since each line is activity to the idle timer. The head has a
/// deadline of its own now, and it does not shorten an idle keep-alive
/// connection between requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_request_head_trickled_in_is_closed_at_its_deadline() {
    let Some(app) = TestApp::spawn_with(Stores::Embedded, |c| {
        c.request_head_timeout_seconds = 1;
        c.idle_timeout_seconds = 60;
    })
    .await
    else {
        return;
    };
    let address = app.base.trim_start_matches("http://").to_owned();
    let mut trickle = TcpStream::connect(&address).await.expect("connect");
    let started = Instant::now();
    trickle
        .write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("the request line");
    let closed = async {
        loop {
            tokio::select! {
                answer = read_some(&mut trickle) => break answer,
                () = tokio::time::sleep(Duration::from_millis(300)) => {}
            }
            if trickle.write_all(b"X-a: b\r\n").await.is_err() {
                break None;
            }
        }
    };
    let answer = tokio::time::timeout(Duration::from_secs(6), closed)
        .await
        .expect("closed within 6 s, not kept open by the trickle");
    assert!(
        answer
            .as_ref()
            .is_none_or(|a| !a.starts_with("HTTP/1.1 200")),
        "{answer:?}"
    );
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(900), "closed early: {took:?}");

    // A keep-alive connection may sit idle between requests for longer
    // than the head deadline: only a head that has begun is timed.
    let mut kept = TcpStream::connect(&address).await.expect("connect");
    for _ in 0..2 {
        kept.write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("a request");
        let answer = read_some(&mut kept).await.expect("an answer");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        tokio::time::sleep(Duration::from_millis(1_500)).await;
    }
}

/// Issue 23: one connection opened 2,000 HTTP/2 streams at once. The server
/// now advertises `SETTINGS_MAX_CONCURRENT_STREAMS` and refuses each stream
/// beyond it. The client here sends its streams before it has read the
/// server's settings, as an attacker would, so the server must refuse them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_http2_connection_gets_at_most_its_stream_limit() {
    const LIMIT: usize = 4;
    let Some(app) = TestApp::spawn_with(Stores::Embedded, |c| {
        c.http2_max_streams = LIMIT as u32;
    })
    .await
    else {
        return;
    };
    let address = app.base.trim_start_matches("http://").to_owned();
    let socket = TcpStream::connect(&address).await.expect("connect");
    let (mut client, connection) = h2::client::Builder::new()
        .initial_max_send_streams(usize::MAX)
        .handshake::<_, &'static [u8]>(socket)
        .await
        .expect("an HTTP/2 connection");
    // Each stream is a sign-up whose body is not sent yet, so it stays open.
    let body = br#"{"name":"ada"}"#;
    let mut streams = Vec::new();
    for _ in 0..LIMIT + 2 {
        let request = http::Request::post(format!("{}/api/v1/users", app.base))
            .header("content-type", "application/json")
            .header("content-length", body.len().to_string())
            .body(())
            .expect("a request");
        streams.push(client.send_request(request, false).expect("sent"));
    }
    let connection = tokio::spawn(connection);
    let mut answers = Vec::new();
    let mut senders = Vec::new();
    for (response, sender) in streams {
        answers.push(tokio::spawn(response));
        senders.push(sender);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut refused = 0;
    for answer in &mut answers {
        if answer.is_finished() {
            let error = answer.await.expect("joined").expect_err("refused");
            assert_eq!(error.reason(), Some(h2::Reason::REFUSED_STREAM), "{error}");
            refused += 1;
        }
    }
    assert_eq!(refused, 2, "every stream beyond the limit is refused");
    // The streams within the limit are served.
    let mut served = 0;
    for (answer, mut sender) in answers.into_iter().zip(senders) {
        if answer.is_finished() {
            continue;
        }
        sender.send_data(&body[..], true).expect("the body");
        let response = tokio::time::timeout(Duration::from_secs(10), answer)
            .await
            .expect("an answer")
            .expect("joined")
            .expect("a response");
        assert_eq!(response.status(), 201);
        served += 1;
    }
    assert_eq!(served, LIMIT);
    connection.abort();
}
