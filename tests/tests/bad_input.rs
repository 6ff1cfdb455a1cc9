//! Bad input on every endpoint: a 4xx problem+json with a stable code,
//! nothing written, never a 5xx.

use frontrow_tests::{ADMIN_KEY, Stores, TestApp, contract};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

/// Method, path, access token, headers (and body).
type Case<'a> = (Method, String, Option<&'a str>, Vec<(&'a str, &'a str)>);
type JsonCase<'a> = (
    Method,
    String,
    Option<&'a str>,
    Vec<(&'a str, &'a str)>,
    Value,
);

async fn totals(app: &TestApp) -> Vec<i64> {
    let mut totals = Vec::new();
    for table in [
        "SELECT COUNT(*) FROM users WHERE id > ?",
        "SELECT COUNT(*) FROM point_ledger WHERE id > ?",
        "SELECT COUNT(*) FROM reservations WHERE id > ?",
        "SELECT COUNT(*) FROM payments WHERE id > ?",
        "SELECT COUNT(*) FROM concerts WHERE id > ?",
        "SELECT COUNT(*) FROM outbox WHERE id > ?",
        "SELECT COUNT(*) FROM idempotency_keys WHERE user_id > ?",
    ] {
        totals.push(app.count(table, 0).await);
    }
    totals
}

contract!(
    isolated bad_input_is_a_client_problem_and_writes_nothing,
    |app: TestApp| async move {
        let buyer = app.buyer_with_points("ada", 100).await;
        let (concert, schedule) = app.concert(5, 10).await;
        let token = app.active_token(&buyer, concert).await;
        let auth = Some(buyer.access_token.as_str());
        let q = [("X-Queue-Token", token.as_str())];
        let admin = [("X-Admin-Key", ADMIN_KEY)];
        let before = totals(&app).await;

        let huge = json!(
            99999999999999999999999u128
                .to_string()
                .parse::<f64>()
                .unwrap_or(1e25)
        );
        let json_cases: Vec<JsonCase> = vec![
            (
                Method::POST,
                "/api/v1/users".into(),
                None,
                vec![],
                json!({}),
            ),
            (
                Method::POST,
                "/api/v1/users".into(),
                None,
                vec![],
                json!({ "name": "" }),
            ),
            (
                Method::POST,
                "/api/v1/users".into(),
                None,
                vec![],
                json!({ "name": "x".repeat(101) }),
            ),
            (
                Method::POST,
                "/api/v1/users".into(),
                None,
                vec![],
                json!({ "name": false }),
            ),
            (
                Method::POST,
                "/api/v1/users".into(),
                None,
                vec![],
                json!({ "name": 42 }),
            ),
            (
                Method::POST,
                "/api/v1/users".into(),
                None,
                vec![],
                json!({ "name": "\u{200B}\u{200D}\u{FEFF}" }),
            ),
            (
                Method::POST,
                "/api/v1/points/charge".into(),
                auth,
                vec![],
                json!({ "amount": 0 }),
            ),
            (
                Method::POST,
                "/api/v1/points/charge".into(),
                auth,
                vec![],
                json!({ "amount": -5 }),
            ),
            (
                Method::POST,
                "/api/v1/points/charge".into(),
                auth,
                vec![],
                json!({ "amount": 1.5 }),
            ),
            (
                Method::POST,
                "/api/v1/points/charge".into(),
                auth,
                vec![],
                json!({ "amount": "10" }),
            ),
            (
                Method::POST,
                "/api/v1/points/charge".into(),
                auth,
                vec![],
                json!({ "amount": huge }),
            ),
            (
                Method::POST,
                "/api/v1/points/charge".into(),
                auth,
                vec![],
                json!({ "amount": 1_000_001 }),
            ),
            (
                Method::POST,
                "/api/v1/points/charge".into(),
                auth,
                vec![("Idempotency-Key", "has space")],
                json!({ "amount": 1 }),
            ),
            (
                Method::POST,
                "/api/v1/points/charge".into(),
                None,
                vec![],
                json!({ "amount": 1 }),
            ),
            (
                Method::POST,
                "/api/v1/points/charge".into(),
                Some("forged.token.here"),
                vec![],
                json!({ "amount": 1 }),
            ),
            (
                Method::POST,
                "/api/v1/queue/tokens".into(),
                auth,
                vec![],
                json!({ "concertId": 999_999 }),
            ),
            (
                Method::POST,
                "/api/v1/queue/tokens".into(),
                auth,
                vec![],
                json!({ "concertId": -1 }),
            ),
            (
                Method::POST,
                "/api/v1/queue/tokens".into(),
                auth,
                vec![],
                json!({ "concertId": "one" }),
            ),
            (
                Method::POST,
                "/api/v1/reservations".into(),
                auth,
                q.to_vec(),
                json!({ "scheduleId": schedule, "seatNumber": 0 }),
            ),
            (
                Method::POST,
                "/api/v1/reservations".into(),
                auth,
                q.to_vec(),
                json!({ "scheduleId": schedule, "seatNumber": 6 }),
            ),
            (
                Method::POST,
                "/api/v1/reservations".into(),
                auth,
                q.to_vec(),
                json!({ "scheduleId": schedule, "seatNumber": -1 }),
            ),
            (
                Method::POST,
                "/api/v1/reservations".into(),
                auth,
                q.to_vec(),
                json!({ "scheduleId": 999_999, "seatNumber": 1 }),
            ),
            (
                Method::POST,
                "/api/v1/reservations".into(),
                auth,
                q.to_vec(),
                json!({ "scheduleId": schedule }),
            ),
            (
                Method::POST,
                "/api/v1/reservations".into(),
                auth,
                q.to_vec(),
                json!({ "scheduleId": schedule, "seatNumber": huge }),
            ),
            (
                Method::POST,
                "/api/v1/payments".into(),
                auth,
                q.to_vec(),
                json!({ "reservationId": 999_999 }),
            ),
            (
                Method::POST,
                "/api/v1/payments".into(),
                auth,
                q.to_vec(),
                json!({ "reservationId": 0 }),
            ),
            (
                Method::POST,
                "/api/v1/payments".into(),
                auth,
                q.to_vec(),
                json!({}),
            ),
            (
                Method::POST,
                "/api/v1/admin/concerts".into(),
                None,
                admin.to_vec(),
                json!({ "title": "", "schedules": [] }),
            ),
            (
                Method::POST,
                "/api/v1/admin/concerts".into(),
                None,
                admin.to_vec(),
                json!({ "title": "T", "schedules": [{ "startsAt": "2030-01-01T00:00:00Z", "seatCount": 0, "price": 1 }] }),
            ),
            (
                Method::POST,
                "/api/v1/admin/concerts".into(),
                None,
                admin.to_vec(),
                json!({ "title": "T", "schedules": [{ "startsAt": "2030-01-01T00:00:00Z", "seatCount": 100_001, "price": 1 }] }),
            ),
            (
                Method::POST,
                "/api/v1/admin/concerts".into(),
                None,
                admin.to_vec(),
                json!({ "title": "T", "schedules": [{ "startsAt": "not a date", "seatCount": 1, "price": 1 }] }),
            ),
            (
                Method::POST,
                "/api/v1/admin/concerts".into(),
                None,
                admin.to_vec(),
                json!({ "title": "T", "schedules": [{ "startsAt": "2030-01-01T00:00:00Z", "seatCount": 1, "price": -1 }] }),
            ),
            (
                Method::POST,
                "/api/v1/admin/concerts".into(),
                None,
                vec![("X-Admin-Key", "wrong")],
                json!({ "title": "T", "schedules": [{ "startsAt": "2030-01-01T00:00:00Z", "seatCount": 1, "price": 1 }] }),
            ),
            (
                Method::POST,
                "/api/v1/admin/concerts".into(),
                None,
                vec![],
                json!({ "title": "T", "schedules": [{ "startsAt": "2030-01-01T00:00:00Z", "seatCount": 1, "price": 1 }] }),
            ),
            (
                Method::PUT,
                format!("/api/v1/admin/concerts/{concert}/queue"),
                None,
                admin.to_vec(),
                json!({ "capacity": 0, "admitPerSecond": 1, "paused": false }),
            ),
            (
                Method::PUT,
                format!("/api/v1/admin/concerts/{concert}/queue"),
                None,
                admin.to_vec(),
                json!({ "capacity": 1, "admitPerSecond": -3, "paused": false }),
            ),
            (
                Method::PUT,
                format!("/api/v1/admin/concerts/{concert}/queue"),
                None,
                admin.to_vec(),
                json!({ "capacity": 1, "admitPerSecond": 1 }),
            ),
            (
                Method::PUT,
                "/api/v1/admin/concerts/999999/queue".into(),
                None,
                admin.to_vec(),
                json!({ "capacity": 1, "admitPerSecond": 1, "paused": false }),
            ),
        ];
        for (method, path, auth, headers, body) in json_cases {
            let r = app
                .call(method.clone(), &path, auth, &headers, Some(body.clone()))
                .await;
            assert!(
                r.status.is_client_error(),
                "{method} {path} {body} -> {} {}",
                r.status,
                r.body
            );
            assert!(
                r.content_type.starts_with("application/problem+json"),
                "{method} {path}: {}",
                r.content_type
            );
            assert!(
                !r.code().is_empty(),
                "{method} {path}: no code in {}",
                r.body
            );
        }

        let get_cases: Vec<Case> = vec![
            (Method::GET, "/api/v1/points".into(), None, vec![]),
            (Method::GET, "/api/v1/points".into(), Some("x"), vec![]),
            (
                Method::GET,
                "/api/v1/concerts/abc/schedules".into(),
                auth,
                q.to_vec(),
            ),
            (
                Method::GET,
                "/api/v1/concerts/999999/schedules".into(),
                auth,
                q.to_vec(),
            ),
            (
                Method::GET,
                "/api/v1/schedules/999999/seats".into(),
                auth,
                q.to_vec(),
            ),
            (
                Method::GET,
                "/api/v1/schedules/-1/seats".into(),
                auth,
                q.to_vec(),
            ),
            (
                Method::GET,
                "/api/v1/schedules/99999999999999999999999/seats".into(),
                auth,
                q.to_vec(),
            ),
            (Method::GET, "/api/v1/reservations/abc".into(), auth, vec![]),
            (Method::GET, "/api/v1/reservations/0".into(), auth, vec![]),
            (
                Method::DELETE,
                "/api/v1/reservations/999999".into(),
                auth,
                vec![],
            ),
            (Method::GET, "/api/v1/queue/status".into(), auth, vec![]),
            (
                Method::GET,
                "/api/v1/queue/status".into(),
                auth,
                vec![("X-Queue-Token", "nope")],
            ),
            (
                Method::GET,
                "/api/v1/admin/concerts/1/queue".into(),
                None,
                vec![],
            ),
            (Method::GET, "/api/v1/nothing-here".into(), None, vec![]),
            (Method::PATCH, "/api/v1/users".into(), None, vec![]),
        ];
        for (method, path, auth, headers) in get_cases {
            let r = app.call(method.clone(), &path, auth, &headers, None).await;
            assert!(
                r.status.is_client_error(),
                "{method} {path} -> {} {}",
                r.status,
                r.body
            );
            assert!(
                r.content_type.starts_with("application/problem+json"),
                "{method} {path}: {}",
                r.content_type
            );
        }

        let url = |path: &str| format!("{}{path}", app.base);
        // No connection reuse: the server closes a connection whose oversized
        // body it refused to read, and a pooled client could race that close.
        let fresh = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .expect("client");
        let raw_cases = [
            fresh
                .post(url("/api/v1/users"))
                .header("content-type", "application/json")
                .body("{not json"),
            fresh
                .post(url("/api/v1/users"))
                .header("content-type", "application/json")
                .body(""),
            fresh
                .post(url("/api/v1/users"))
                .header("content-type", "text/plain")
                .body("name=ada"),
            fresh.post(url("/api/v1/users")).body(r#"{"name":"ada"}"#),
            fresh
                .post(url("/api/v1/users"))
                .header("content-type", "application/json")
                .body(vec![b'a'; 70_000]),
            fresh
                .post(url("/api/v1/points/charge"))
                .bearer_auth(&buyer.access_token)
                .header("content-type", "application/json")
                .body("[1,2,3]"),
        ];
        for request in raw_cases {
            let r = app.raw(request).await;
            assert!(r.status.is_client_error(), "{} {}", r.status, r.body);
            assert!(
                r.content_type.starts_with("application/problem+json"),
                "{}",
                r.content_type
            );
        }
        assert_eq!(
            app.raw(
                fresh
                    .post(url("/api/v1/users"))
                    .header("content-type", "application/json")
                    .body(vec![b' '; 70_000])
            )
            .await
            .status,
            StatusCode::PAYLOAD_TOO_LARGE
        );

        assert_eq!(totals(&app).await, before, "bad input wrote nothing");
        assert_eq!(app.balance(&buyer).await, 100);
    }
);

contract!(
    a_missing_or_bad_access_token_is_a_bearer_challenge,
    |app: TestApp| async move {
        for auth in [None, Some("not-a-jwt")] {
            let mut request = app.http.get(format!("{}/api/v1/points", app.base));
            if let Some(token) = auth {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.expect("request");
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
            assert_eq!(response.headers()["www-authenticate"], "Bearer");
            assert!(response.headers().get("retry-after").is_none());
        }
    }
);

contract!(
    every_answer_carries_its_request_id_and_a_problem_quotes_it,
    |app: TestApp| async move {
        let given = app
            .http
            .get(format!("{}/api/v1/points", app.base))
            .header("X-Request-Id", "lb-1234")
            .send()
            .await
            .expect("request");
        assert_eq!(given.headers()["x-request-id"], "lb-1234");
        let problem: Value = given.json().await.expect("problem body");
        assert_eq!(problem["requestId"], "lb-1234");
        let made = app.api.health_live().await.expect("request");
        let id = made.headers["x-request-id"].to_str().expect("ascii");
        assert_eq!(id.len(), 32, "a new id when the client sent none: {id}");
    }
);

contract!(
    a_wrong_method_is_a_405_that_names_the_allowed_ones,
    |app: TestApp| async move {
        let r = app
            .http
            .delete(format!("{}/api/v1/users", app.base))
            .send()
            .await
            .expect("answer");
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(r.headers()["allow"], "POST");
        let r = app
            .http
            .patch(format!("{}/api/v1/reservations/7", app.base))
            .send()
            .await
            .expect("answer");
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
        let allow = r.headers()["allow"].to_str().expect("text").to_owned();
        assert!(allow.contains("GET") && allow.contains("DELETE"), "{allow}");
    }
);

contract!(
    oversized_headers_are_a_431_problem,
    |app: TestApp| async move {
        let r = app
            .http
            .get(format!("{}/api/v1/concerts", app.base))
            .header("X-Padding", "x".repeat(20_000))
            .send()
            .await
            .expect("answer");
        assert_eq!(r.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
        let body: serde_json::Value = r.json().await.expect("a problem body");
        assert_eq!(body["code"], "HEADERS_TOO_LARGE");
        let ok = app
            .http
            .get(format!("{}/api/v1/concerts", app.base))
            .header("X-Padding", "x".repeat(8_000))
            .send()
            .await
            .expect("answer");
        assert_eq!(ok.status(), StatusCode::OK);
    }
);

/// Sends `head` and then `body` on a fresh connection, and reads the answer
/// until the server closes or it has the status line and headers.
async fn raw_exchange(address: &str, head: &str, body: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    socket.write_all(head.as_bytes()).await.expect("head sent");
    // The whole body goes out before the answer is read, as clients do: a
    // server that answers and closes with the body unread resets the
    // connection, and this write (or the read below) fails.
    socket.write_all(body).await.expect("the whole body sent");
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let read = tokio::time::timeout(Duration::from_secs(10), socket.read(&mut buffer))
            .await
            .expect("an answer within 10 s")
            .expect("the answer, not a reset connection");
        answer.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&answer);
        if read == 0 || text.contains("\r\n\r\n") {
            return text.into_owned();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_two_megabyte_body_reliably_gets_its_413_not_a_reset_connection() {
    let Some(app) = TestApp::spawn(Stores::Embedded).await else {
        return;
    };
    let address = app.base.trim_start_matches("http://").to_owned();
    let body = vec![b' '; 2 * 1024 * 1024];
    for round in 0..10 {
        let head = format!(
            "POST /api/v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let answer = raw_exchange(&address, &head, &body).await;
        assert!(
            answer.starts_with("HTTP/1.1 413"),
            "round {round}: {answer}"
        );
        assert!(answer.contains("application/problem+json"), "{answer}");
    }
    // The same body chunked, without a declared length.
    let mut chunked = format!("{:x}\r\n", body.len()).into_bytes();
    chunked.extend_from_slice(&body);
    chunked.extend_from_slice(b"\r\n0\r\n\r\n");
    let head = "POST /api/v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    let answer = raw_exchange(&address, head, &chunked).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "chunked: {answer}");
    // A client that waits for `100 Continue` gets the 413 instead, and
    // sends no body.
    let head = format!(
        "POST /api/v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let answer = raw_exchange(&address, &head, b"").await;
    assert!(answer.starts_with("HTTP/1.1 413"), "expect: {answer}");
}

/// The schema of a request body's property in the OpenAPI document.
fn property<'a>(spec: &'a Value, object: &str, name: &str) -> &'a Value {
    let schema = &spec["components"]["schemas"][object]["properties"][name];
    assert!(!schema.is_null(), "{object}.{name} is documented");
    schema
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_openapi_document_states_the_limits_and_requires_the_queue_token() {
    let Some(app) = TestApp::spawn(Stores::Embedded).await else {
        return;
    };
    let spec: Value = app
        .http
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .expect("the document")
        .json()
        .await
        .expect("JSON");

    // Every call that passes the waiting room's gate declares the token
    // required.
    let gated = [
        ("/api/v1/queue/status", "get"),
        ("/api/v1/queue/stream", "get"),
        ("/api/v1/queue/tokens", "delete"),
        ("/api/v1/concerts/{concert_id}/schedules", "get"),
        ("/api/v1/schedules/{schedule_id}/seats", "get"),
        ("/api/v1/schedules/{schedule_id}/seats/stream", "get"),
        ("/api/v1/reservations", "post"),
        ("/api/v1/payments", "post"),
    ];
    for (path, method) in gated {
        let parameters = spec["paths"][path][method]["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("{method} {path} has parameters"));
        let token = parameters
            .iter()
            .find(|p| p["name"] == "X-Queue-Token")
            .unwrap_or_else(|| panic!("{method} {path} names X-Queue-Token"));
        assert_eq!(token["in"], "header");
        assert_eq!(token["required"], true, "{method} {path}");
        assert_eq!(token["schema"]["maxLength"], 96, "{method} {path}");
    }

    // The limits the domain enforces, as the document states them.
    let limits = [
        ("NewUser", "name", "minLength", 1),
        ("NewUser", "name", "maxLength", 100),
        ("Charge", "amount", "minimum", 1),
        ("Charge", "amount", "maximum", 1_000_000),
        ("Hold", "seatNumber", "minimum", 1),
        ("Hold", "seatNumber", "maximum", 10_000),
        ("NewConcert", "title", "maxLength", 200),
        ("NewConcert", "schedules", "minItems", 1),
        ("NewConcert", "schedules", "maxItems", 50),
        ("NewConcert", "preQueueMinutes", "maximum", 1_440),
        ("NewSchedule", "seatCount", "minimum", 1),
        ("NewSchedule", "seatCount", "maximum", 10_000),
        ("NewSchedule", "price", "minimum", 0),
        ("NewSchedule", "price", "maximum", 1_000_000),
        ("QueuePolicy", "capacity", "minimum", 1),
        ("QueuePolicy", "capacity", "maximum", 1_000_000),
        ("QueuePolicy", "admitPerSecond", "maximum", 100_000),
    ];
    for (object, name, limit, value) in limits {
        let stated = property(&spec, object, name)[limit].as_f64();
        assert_eq!(stated, Some(value as f64), "{object}.{name} {limit}");
    }
    let list = spec["paths"]["/api/v1/reservations"]["get"]["parameters"]
        .as_array()
        .expect("paging parameters");
    let limit = list.iter().find(|p| p["name"] == "limit").expect("limit");
    assert_eq!(
        (
            limit["schema"]["minimum"].as_f64(),
            limit["schema"]["maximum"].as_f64()
        ),
        (Some(1.0), Some(100.0))
    );
    let charge = spec["paths"]["/api/v1/points/charge"]["post"]["parameters"]
        .as_array()
        .expect("charge parameters");
    let key = charge
        .iter()
        .find(|p| p["name"] == "Idempotency-Key")
        .expect("Idempotency-Key");
    assert_eq!(key["required"], false);
    assert_eq!(key["schema"]["maxLength"], 100);

    // Documented as required, a missing token still gets the problem it
    // always got, and an out-of-range amount its own code.
    let buyer = app.buyer_with_points("ada", 100).await;
    let (concert, schedule) = app.concert(3, 0).await;
    let token = app.active_token(&buyer, concert).await;
    let missing = app.status(&buyer, "").await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    let missing = app
        .call(
            Method::POST,
            "/api/v1/reservations",
            Some(&buyer.access_token),
            &[],
            Some(json!({ "scheduleId": schedule, "seatNumber": 1 })),
        )
        .await;
    assert_eq!(
        (missing.status, missing.code()),
        (StatusCode::UNAUTHORIZED, "QUEUE_TOKEN_MISSING")
    );
    let too_much = app.charge(&buyer, 1_000_001, None).await;
    assert_eq!(
        (too_much.status, too_much.code()),
        (StatusCode::BAD_REQUEST, "INVALID_AMOUNT")
    );
    let out_of_range = app.hold(&buyer, &token, schedule, 10_001).await;
    assert_eq!(
        (out_of_range.status, out_of_range.code()),
        (StatusCode::BAD_REQUEST, "SEAT_OUT_OF_RANGE")
    );
}

contract!(
    an_idempotency_key_that_is_not_visible_ascii_is_refused_and_charges_nothing,
    |app: TestApp| async move {
        // Issue 23's probe: these two keys were read as no key at all, so
        // two identical charges credited twice (balance 7, then 14).
        let buyer = app.buyer("ada").await;
        let keys: [&[u8]; 2] = ["ключ".as_bytes(), b"\xff\xfe"];
        for key in keys {
            for _retry in 0..2 {
                let key = reqwest::header::HeaderValue::from_bytes(key).expect("obs-text");
                let reply = app
                    .raw(
                        app.http
                            .post(format!("{}/api/v1/points/charge", app.base))
                            .bearer_auth(&buyer.access_token)
                            .header("Idempotency-Key", key)
                            .json(&json!({ "amount": 7 })),
                    )
                    .await;
                assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
                assert_eq!(reply.code(), "INVALID_IDEMPOTENCY_KEY");
                assert!(reply.content_type.starts_with("application/problem+json"));
            }
        }
        assert_eq!(app.balance(&buyer).await, 0, "nothing was charged");
        // A visible ASCII key still works, once.
        for _retry in 0..2 {
            let reply = app.charge(&buyer, 7, Some("order-7")).await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        }
        assert_eq!(app.balance(&buyer).await, 7);
    }
);
