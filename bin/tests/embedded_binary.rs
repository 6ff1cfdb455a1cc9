//! The real binary, started with no environment at all in an empty directory,
//! serves the whole flow on its embedded default, and keeps its data across a
//! restart.

use serde_json::{Value, json};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

async fn start(dir: &Path) -> Server {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_frontrow"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env_clear()
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    for _ in 0..200 {
        if let Ok(r) = reqwest::get(format!("{}/health/ready", server.base)).await
            && r.status().is_success()
        {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the binary never became ready");
}

async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_binary_runs_the_whole_flow_with_zero_setup_and_keeps_its_data() {
    let dir = std::env::temp_dir().join(format!("frontrow-binary-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let http = reqwest::Client::new();

    let server = start(&dir).await;
    let b = &server.base;
    let admin_key =
        std::fs::read_to_string(dir.join("frontrow-data/admin-key")).expect("generated admin key");
    let (status, concert) = send(http.post(format!("{b}/api/v1/admin/concerts")).header("X-Admin-Key", admin_key.trim()).json(
        &json!({ "title": "Zero setup", "schedules": [{ "startsAt": "2030-05-01T20:00:00Z", "seatCount": 10, "price": 70 }] }),
    ))
    .await;
    assert_eq!(status, 201, "{concert}");
    let concert_id = concert["concertId"].as_i64().expect("concert id");
    let schedule_id = concert["schedules"][0]["scheduleId"]
        .as_i64()
        .expect("schedule id");

    let (_, user) = send(
        http.post(format!("{b}/api/v1/users"))
            .json(&json!({ "name": "first fan" })),
    )
    .await;
    let access = user["accessToken"].as_str().expect("token").to_owned();
    let (status, _) = send(
        http.post(format!("{b}/api/v1/points/charge"))
            .bearer_auth(&access)
            .json(&json!({ "amount": 100 })),
    )
    .await;
    assert_eq!(status, 200);
    let (status, ticket) = send(
        http.post(format!("{b}/api/v1/queue/tokens"))
            .bearer_auth(&access)
            .json(&json!({ "concertId": concert_id })),
    )
    .await;
    assert_eq!(status, 201);
    let token = ticket["token"].as_str().expect("queue token").to_owned();
    let (_, place) = send(
        http.get(format!("{b}/api/v1/queue/status"))
            .bearer_auth(&access)
            .header("X-Queue-Token", &token),
    )
    .await;
    assert_eq!(place["status"], "ACTIVE");
    let (status, seats) = send(
        http.get(format!("{b}/api/v1/schedules/{schedule_id}/seats"))
            .bearer_auth(&access)
            .header("X-Queue-Token", &token),
    )
    .await;
    assert_eq!(
        (status, seats["seats"].as_array().map(Vec::len)),
        (200, Some(10))
    );
    let (status, held) = send(
        http.post(format!("{b}/api/v1/reservations"))
            .bearer_auth(&access)
            .header("X-Queue-Token", &token)
            .json(&json!({ "scheduleId": schedule_id, "seatNumber": 7 })),
    )
    .await;
    assert_eq!(status, 201, "{held}");
    let reservation = held["reservationId"].as_i64().expect("reservation id");
    let (status, paid) = send(
        http.post(format!("{b}/api/v1/payments"))
            .bearer_auth(&access)
            .header("X-Queue-Token", &token)
            .json(&json!({ "reservationId": reservation })),
    )
    .await;
    assert_eq!(
        (status, paid["balance"].as_i64()),
        (201, Some(30)),
        "{paid}"
    );
    drop(server);

    let server = start(&dir).await;
    let b = &server.base;
    let (status, balance) = send(http.get(format!("{b}/api/v1/points")).bearer_auth(&access)).await;
    assert_eq!(
        (status, balance["balance"].as_i64()),
        (200, Some(30)),
        "the access token and balance survive a restart"
    );
    let (_, kept) = send(
        http.get(format!("{b}/api/v1/reservations/{reservation}"))
            .bearer_auth(&access),
    )
    .await;
    assert_eq!(kept["status"], "CONFIRMED");
    let (_, concerts) = send(http.get(format!("{b}/api/v1/concerts"))).await;
    assert_eq!(concerts["concerts"][0]["title"], "Zero setup");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn sigterm_turns_readiness_off_before_the_listener_closes_then_exits() {
    let dir = std::env::temp_dir().join(format!("frontrow-drain-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut server = start(&dir).await;
    let ready = format!("{}/health/ready", server.base);
    let (status, _) = send(reqwest::Client::new().get(&ready)).await;
    assert_eq!(status, 200);
    // A buyer follows their place on a stream.
    let admin = std::fs::read_to_string(dir.join("frontrow-data").join("admin-key"))
        .expect("the generated admin key");
    let http = reqwest::Client::new();
    let (_, concert) = send(
        http.post(format!("{}/api/v1/admin/concerts", server.base))
            .header("X-Admin-Key", admin.trim())
            .json(&json!({ "title": "Drain", "schedules": [{ "startsAt": "2031-01-01T19:00:00Z", "seatCount": 5, "price": 0 }] })),
    )
    .await;
    let (_, user) = send(
        http.post(format!("{}/api/v1/users", server.base))
            .json(&json!({ "name": "watcher" })),
    )
    .await;
    let access = user["accessToken"].as_str().expect("token").to_owned();
    let (_, joined) = send(
        http.post(format!("{}/api/v1/queue/tokens", server.base))
            .bearer_auth(&access)
            .json(&json!({ "concertId": concert["concertId"] })),
    )
    .await;
    let mut stream = http
        .get(format!("{}/api/v1/queue/stream", server.base))
        .bearer_auth(&access)
        .header(
            "X-Queue-Token",
            joined["token"].as_str().expect("queue token"),
        )
        .send()
        .await
        .expect("the stream opens");
    assert!(
        stream.chunk().await.expect("readable").is_some(),
        "a first event"
    );

    let pid = server.child.id().to_string();
    let signalled = Command::new("kill").args(["-TERM", &pid]).status();
    assert!(signalled.is_ok_and(|s| s.success()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Still listening (the default drain is 2 s), and telling the load
    // balancer to stop sending.
    let (status, body) = send(reqwest::Client::new().get(&ready)).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["checks"]["shutdown"], "draining");
    // The stream ends by itself, so the client reconnects elsewhere.
    let ended = tokio::time::timeout(Duration::from_secs(8), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(
        ended.is_ok(),
        "the stream did not end within 8 s of SIGTERM"
    );
    for _ in 0..100 {
        if server.child.try_wait().ok().flatten().is_some() {
            let _ = std::fs::remove_dir_all(&dir);
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the binary did not exit within 10 s of SIGTERM");
}

#[tokio::test]
async fn json_logs_are_one_object_per_line_on_stderr_with_the_request_id() {
    let dir = std::env::temp_dir().join(format!("frontrow-json-logs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_frontrow"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--log-format", "json"])
        .env_clear()
        .env("RUST_LOG", "info")
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let mut ready = false;
    for _ in 0..200 {
        if let Ok(r) = reqwest::get(format!("{}/health/ready", server.base)).await
            && r.status().is_success()
        {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ready, "the binary never became ready");
    let (status, _) = send(
        reqwest::Client::new()
            .post(format!("{}/api/v1/users", server.base))
            .header("X-Request-Id", "trace-me-42")
            .json(&json!({ "name": "ada" })),
    )
    .await;
    assert_eq!(status, 201);
    let _ = server.child.kill();
    let output = std::mem::replace(
        &mut server.child,
        Command::new("true").spawn().expect("a placeholder"),
    )
    .wait_with_output()
    .expect("the output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<Value> = stderr
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    assert!(!lines.is_empty(), "no log lines");
    assert!(
        stderr.contains("trace-me-42"),
        "the request's lines carry its id: {stderr}"
    );
    assert!(output.stdout.is_empty(), "logs stay off stdout");
    let _ = std::fs::remove_dir_all(&dir);
}
