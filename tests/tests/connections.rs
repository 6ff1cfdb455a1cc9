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

/// One HTTP/2 frame: its type, flags, stream and payload.
fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let length = u32::try_from(payload.len()).expect("a small frame");
    let mut frame = length.to_be_bytes()[1..].to_vec();
    frame.extend([kind, flags]);
    frame.extend(stream.to_be_bytes());
    frame.extend(payload);
    frame
}

/// The head of `POST /api/v1/users` with a 14-byte JSON body to come, in
/// HPACK without Huffman coding or indexing (RFC 7541).
fn sign_up_head() -> Vec<u8> {
    let mut head = vec![0x83, 0x86]; // :method POST, :scheme http
    let mut literal = |name_index: &[u8], value: &str| {
        head.extend(name_index);
        head.push(u8::try_from(value.len()).expect("a short value"));
        head.extend(value.as_bytes());
    };
    literal(&[0x04], "/api/v1/users"); // :path
    literal(&[0x01], "x"); // :authority
    literal(&[0x0f, 0x10], "application/json"); // content-type (31)
    literal(&[0x0f, 0x0d], "14"); // content-length (28)
    head
}

/// Reads frames for `within`: each one's type, stream and payload.
async fn frames_for(socket: &mut TcpStream, within: Duration) -> Vec<(u8, u32, Vec<u8>)> {
    let mut bytes = Vec::new();
    let _ = tokio::time::timeout(within, async {
        let mut buffer = [0u8; 16_384];
        while let Ok(n @ 1..) = socket.read(&mut buffer).await {
            bytes.extend_from_slice(&buffer[..n]);
        }
    })
    .await;
    let mut frames = Vec::new();
    let mut rest = &bytes[..];
    while rest.len() >= 9 {
        let length = usize::from(rest[0]) << 16 | usize::from(rest[1]) << 8 | usize::from(rest[2]);
        let stream = u32::from_be_bytes([rest[5], rest[6], rest[7], rest[8]]) & 0x7fff_ffff;
        let Some(payload) = rest.get(9..9 + length) else {
            break;
        };
        frames.push((rest[3], stream, payload.to_vec()));
        rest = &rest[9 + length..];
    }
    frames
}

/// Issue 23: one connection opened 2,000 HTTP/2 streams at once. The server
/// now advertises `SETTINGS_MAX_CONCURRENT_STREAMS` and refuses each stream
/// beyond it. The client here writes its frames by hand and sends every
/// stream at once, before it reads the server's settings, as an attacker
/// would: the server itself must refuse the extra ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_http2_connection_gets_at_most_its_stream_limit() {
    const LIMIT: u32 = 4;
    const SETTINGS: u8 = 0x4;
    const HEADERS: u8 = 0x1;
    const DATA: u8 = 0x0;
    const RST_STREAM: u8 = 0x3;
    const END_HEADERS: u8 = 0x4;
    const END_STREAM: u8 = 0x1;
    const REFUSED_STREAM: [u8; 4] = [0, 0, 0, 7];
    let Some(app) = TestApp::spawn_with(Stores::Embedded, |c| {
        c.http2_max_streams = LIMIT;
    })
    .await
    else {
        return;
    };
    let address = app.base.trim_start_matches("http://").to_owned();
    let mut socket = TcpStream::connect(&address).await.expect("connect");
    // The preface, empty settings, and six sign-ups whose bodies are not
    // sent yet, so each stream stays open.
    let mut opening = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    opening.extend(frame(SETTINGS, 0, 0, &[]));
    let streams: Vec<u32> = (0..LIMIT + 2).map(|n| 2 * n + 1).collect();
    for &stream in &streams {
        opening.extend(frame(HEADERS, END_HEADERS, stream, &sign_up_head()));
    }
    socket.write_all(&opening).await.expect("frames sent");
    let frames = frames_for(&mut socket, Duration::from_secs(2)).await;

    let advertised = frames
        .iter()
        .find(|(kind, stream, payload)| *kind == SETTINGS && *stream == 0 && !payload.is_empty())
        .map(|(_, _, payload)| payload.chunks(6).any(|s| s == [0, 3, 0, 0, 0, LIMIT as u8]));
    assert_eq!(
        advertised,
        Some(true),
        "SETTINGS_MAX_CONCURRENT_STREAMS = {LIMIT}"
    );
    let refused: Vec<u32> = frames
        .iter()
        .filter(|(kind, _, payload)| *kind == RST_STREAM && payload[..] == REFUSED_STREAM)
        .map(|(_, stream, _)| *stream)
        .collect();
    assert_eq!(
        refused,
        streams[LIMIT as usize..],
        "the streams beyond the limit"
    );

    // The streams within the limit are served once their bodies come.
    let mut bodies = Vec::new();
    for &stream in &streams[..LIMIT as usize] {
        bodies.extend(frame(DATA, END_STREAM, stream, br#"{"name":"ada"}"#));
    }
    socket.write_all(&bodies).await.expect("bodies sent");
    let frames = frames_for(&mut socket, Duration::from_secs(2)).await;
    for &stream in &streams[..LIMIT as usize] {
        assert!(
            frames
                .iter()
                .any(|(kind, s, _)| *kind == HEADERS && *s == stream),
            "stream {stream} answered: {frames:?}"
        );
    }
}
