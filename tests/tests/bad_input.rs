//! Bad input on every endpoint: a 4xx problem+json with a stable code,
//! nothing written, never a 5xx.

use frontrow_tests::{ADMIN_KEY, TestApp, contract};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

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
