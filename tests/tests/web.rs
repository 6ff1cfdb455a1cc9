//! What the web app needs from the server, on every backend: the pages
//! and modules themselves (with validators), the caller's reservations a
//! page at a time, a seat map followed live, and the operator's seat counts
//! and admission counter.

use frontrow_client::Client;
use frontrow_tests::{Buyer, Stores, TestApp, contract};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::time::Duration;

/// The events of a Server-Sent Events response, as JSON, read as they come.
struct Events {
    response: reqwest::Response,
    buffer: String,
}

impl Events {
    async fn open(app: &TestApp, buyer: &Buyer, token: &str, schedule: i64) -> reqwest::Response {
        app.api
            .seat_stream(buyer, token, schedule)
            .await
            .expect("stream opened")
    }

    /// The next event's data, or `None` if none came within `wait`.
    async fn next(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let data: String = block
                    .lines()
                    .filter_map(|line| line.strip_prefix("data:"))
                    .map(str::trim_start)
                    .collect();
                if data.is_empty() {
                    continue; // a heartbeat comment
                }
                return Some(serde_json::from_str(&data).expect("event data is JSON"));
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .ok()?
                .expect("stream read")?;
            self.buffer
                .push_str(std::str::from_utf8(&chunk).expect("UTF-8"));
        }
    }

    /// Events until one says `seat` has `status`, or `None` after `wait`.
    async fn until_seat(&mut self, seat: i64, status: &str, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let event = self.next(left).await?;
            let says = event["seats"].as_array().is_some_and(|seats| {
                seats
                    .iter()
                    .any(|s| s["seatNumber"] == seat && s["status"] == status)
            });
            if says {
                return Some(event);
            }
        }
    }
}

async fn seat_stream(app: &TestApp, buyer: &Buyer, token: &str, schedule: i64) -> Events {
    let response = Events::open(app, buyer, token, schedule).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    assert_eq!(response.headers()["x-accel-buffering"], "no");
    Events {
        response,
        buffer: String::new(),
    }
}

#[tokio::test]
async fn the_pages_are_served_with_a_quoted_etag_and_revalidate_to_an_empty_304() {
    let Some(app) = TestApp::spawn(Stores::Embedded).await else {
        return;
    };
    for (path, kind) in [
        ("/", "text/html; charset=utf-8"),
        ("/admin", "text/html; charset=utf-8"),
        ("/assets/buyer.js", "text/javascript; charset=utf-8"),
        ("/assets/app.css", "text/css; charset=utf-8"),
    ] {
        let url = format!("{}{path}", app.base);
        let first = app.http.get(&url).send().await.expect("sent");
        assert_eq!(first.status(), StatusCode::OK, "{path}");
        assert_eq!(first.headers()["content-type"], kind, "{path}");
        assert_eq!(first.headers()["cache-control"], "no-cache", "{path}");
        let etag = first.headers()["etag"].to_str().expect("ASCII").to_owned();
        assert!(
            etag.starts_with('"') && etag.ends_with('"'),
            "{path}: {etag}"
        );
        let again = app
            .http
            .get(&url)
            .header("If-None-Match", &etag)
            .send()
            .await
            .expect("sent");
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(again.headers()["etag"], etag.as_str());
        assert!(again.bytes().await.expect("body").is_empty());
    }
    let page = app.http.get(&app.base).send().await.expect("sent");
    let policy = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    // The API beside it is untouched, and unknown paths (sent raw) stay problems.
    let concerts = app.api.concerts().await.expect("answered");
    assert_eq!(concerts.status, StatusCode::OK);
    for path in ["/assets/nothing.js", "/assets/index.html", "/nothing"] {
        let missing = app.call(Method::GET, path, None, &[], None).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(missing.content_type, "application/problem+json", "{path}");
    }
}

contract!(
    a_buyer_lists_their_reservations_newest_first_a_page_at_a_time,
    |app: TestApp| async move {
        let buyer = app.buyer_with_points("ada", 1_000).await;
        let other = app.buyer("bo").await;
        let (concert, schedule) = app.concert(10, 50).await;
        let token = app.active_token(&buyer, concert).await;
        let mut held = Vec::new();
        for seat in 1..=3 {
            let r = app.hold(&buyer, &token, schedule, seat).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            held.push(r.i64("reservationId"));
        }
        app.cancel(&buyer, held[0]).await;
        let list = async |who: &Buyer, limit, after| {
            app.api
                .reservations(who, limit, after)
                .await
                .expect("answered")
        };
        let first = list(&buyer, Some(2), None).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.body);
        let ids: Vec<i64> = first.body["reservations"]
            .as_array()
            .expect("a list")
            .iter()
            .map(|r| r["reservationId"].as_i64().expect("id"))
            .collect();
        assert_eq!(ids, [held[2], held[1]]);
        let newest = &first.body["reservations"][0];
        assert_eq!(newest["status"], "HELD");
        assert_eq!(newest["concertId"], concert);
        assert_eq!(newest["scheduleId"], schedule);
        assert_eq!(newest["seatNumber"], 3);
        assert!(newest["startsAt"].is_string() && newest["holdExpiresAt"].is_string());
        let next = first.i64("next");
        let last = list(&buyer, Some(2), Some(next)).await;
        assert_eq!(last.body["reservations"][0]["reservationId"], held[0]);
        assert_eq!(last.body["reservations"][0]["status"], "CANCELLED");
        assert!(last.body.get("next").is_none(), "{}", last.body);
        // Another buyer sees none of them.
        let theirs = list(&other, None, None).await;
        assert_eq!(theirs.body["reservations"], serde_json::json!([]));
    }
);

contract!(
    bad_paging_is_a_400_problem_with_a_code,
    |app: TestApp| async move {
        let buyer = app.buyer("ada").await;
        for (query, code) in [
            ("?limit=0", "INVALID_PAGE"),
            ("?limit=101", "INVALID_PAGE"),
            ("?limit=-1", "INVALID_PAGE"),
            ("?after=0", "INVALID_PAGE"),
            ("?limit=ten", "INVALID_REQUEST"),
            ("?after=x", "INVALID_REQUEST"),
        ] {
            // Raw: queries the typed client cannot spell, on purpose.
            let r = app
                .call(
                    Method::GET,
                    &format!("/api/v1/reservations{query}"),
                    Some(&buyer.access_token),
                    &[],
                    None,
                )
                .await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}");
            assert_eq!(r.content_type, "application/problem+json", "{query}");
            assert_eq!(r.code(), code, "{query}");
        }
        // Raw: no access token, on purpose.
        let anonymous = app
            .call(Method::GET, "/api/v1/reservations", None, &[], None)
            .await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    }
);

contract!(
    the_seat_stream_sends_every_seat_then_each_change_made_by_others,
    |app: TestApp| async move {
        let (concert, schedule) = app.concert(6, 0).await;
        let watcher = app.buyer("watcher").await;
        let rival = app.buyer("rival").await;
        let watching = app.active_token(&watcher, concert).await;
        let rivals = app.active_token(&rival, concert).await;
        let mut events = seat_stream(&app, &watcher, &watching, schedule).await;
        let snapshot = events
            .next(Duration::from_secs(5))
            .await
            .expect("a snapshot");
        assert_eq!(snapshot["snapshot"], true);
        assert_eq!(snapshot["seats"].as_array().map(Vec::len), Some(6));
        assert_eq!(snapshot["seats"][3]["status"], "AVAILABLE");

        let held = app.hold(&rival, &rivals, schedule, 4).await;
        assert_eq!(held.status, StatusCode::CREATED);
        let change = events
            .until_seat(4, "HELD", Duration::from_secs(5))
            .await
            .expect("the hold reaches the stream");
        assert_eq!(change["snapshot"], false);
        assert_eq!(change["seats"].as_array().map(Vec::len), Some(1));
        assert!(change["version"].as_i64() > snapshot["version"].as_i64());

        app.pay(&rival, &rivals, held.i64("reservationId")).await;
        events
            .until_seat(4, "SOLD", Duration::from_secs(5))
            .await
            .expect("the sale reaches the stream");
    }
);

contract!(
    a_lapsed_hold_reaches_the_seat_stream_as_available,
    |config: &mut frontrow::Config| config.hold_seconds = 2,
    |app: TestApp| async move {
        let (concert, schedule) = app.concert(3, 0).await;
        let watcher = app.buyer("watcher").await;
        let holder = app.buyer("holder").await;
        let watching = app.active_token(&watcher, concert).await;
        let holding = app.active_token(&holder, concert).await;
        let held = app.hold(&holder, &holding, schedule, 2).await;
        assert_eq!(held.status, StatusCode::CREATED);
        let mut events = seat_stream(&app, &watcher, &watching, schedule).await;
        let snapshot = events
            .next(Duration::from_secs(5))
            .await
            .expect("a snapshot");
        assert_eq!(snapshot["seats"][1]["status"], "HELD");
        // No change is logged when a hold lapses; the stream still says so.
        events
            .until_seat(2, "AVAILABLE", Duration::from_secs(6))
            .await
            .expect("the lapse reaches the stream");
    }
);

contract!(
    only_an_active_buyer_may_follow_a_seat_map,
    |app: TestApp| async move {
        let (concert, schedule) = app.concert(3, 0).await;
        app.set_queue(concert, 1, 100, false).await;
        let first = app.buyer("first").await;
        let second = app.buyer("second").await;
        app.active_token(&first, concert).await;
        let waiting = app.join(&second, concert).await.str("token").to_owned();
        let refused = Events::open(&app, &second, &waiting, schedule).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        let body: Value = refused.json().await.expect("a problem");
        assert_eq!(body["code"], "QUEUE_NOT_ACTIVE");
        let unknown = Events::open(&app, &second, "not-a-token", schedule).await;
        assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_seat_change_on_another_instance_reaches_the_seat_stream() {
    let Some(first) = TestApp::spawn(Stores::MySqlRedis).await else {
        return;
    };
    let second = first.sibling().await;
    let (concert, schedule) = first.concert(4, 0).await;
    let watcher = first.buyer("watcher").await;
    let rival = first.buyer("rival").await;
    let watching = first.active_token(&watcher, concert).await;
    let rivals = first.active_token(&rival, concert).await;
    let mut events = seat_stream(&second, &watcher, &watching, schedule).await;
    events
        .next(Duration::from_secs(5))
        .await
        .expect("a snapshot");
    let held = first.hold(&rival, &rivals, schedule, 1).await;
    assert_eq!(held.status, StatusCode::CREATED);
    events
        .until_seat(1, "HELD", Duration::from_secs(5))
        .await
        .expect("a hold made on the first instance reaches a stream on the second");
    first.cancel(&rival, held.i64("reservationId")).await;
    events
        .until_seat(1, "AVAILABLE", Duration::from_secs(5))
        .await
        .expect("and so does its cancel");
}

contract!(
    an_operator_sees_seats_per_schedule_and_counts_admissions,
    |app: TestApp| async move {
        let (concert, schedule) = app.concert(5, 10).await;
        let before = app.queue_state(concert).await;
        assert_eq!(before.i64("admitted"), 0);
        let buyers = [
            app.buyer_with_points("a", 100).await,
            app.buyer_with_points("b", 100).await,
        ];
        let mut tokens = Vec::new();
        for buyer in &buyers {
            tokens.push(app.active_token(buyer, concert).await);
        }
        assert_eq!(app.queue_state(concert).await.i64("admitted"), 2);
        let held = app.hold(&buyers[0], &tokens[0], schedule, 1).await;
        app.hold(&buyers[1], &tokens[1], schedule, 2).await;
        let paid = app
            .pay(&buyers[0], &tokens[0], held.i64("reservationId"))
            .await;
        assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);
        let seats = app.api.seat_counts(concert).await.expect("answered");
        assert_eq!(seats.status, StatusCode::OK, "{}", seats.body);
        let counts = &seats.body["schedules"][0];
        assert_eq!(counts["scheduleId"], schedule);
        assert_eq!(counts["seatCount"], 5);
        assert_eq!(
            (&counts["available"], &counts["held"], &counts["sold"]),
            (&Value::from(3), &Value::from(1), &Value::from(1))
        );
        let without_key = Client::new(app.http.clone(), &app.base);
        let no_key = without_key.seat_counts(concert).await.expect("answered");
        assert_eq!(no_key.status, StatusCode::UNAUTHORIZED);
        let missing = app.api.seat_counts(999999).await.expect("answered");
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert_eq!(missing.code(), "CONCERT_NOT_FOUND");
    }
);

/// The raw text of a stream until it ends (at most `wait`).
async fn text_until_end(response: &mut reqwest::Response, wait: Duration) -> String {
    let mut text = String::new();
    let read = tokio::time::timeout(wait, async {
        while let Ok(Some(chunk)) = response.chunk().await {
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "the stream did not end within {wait:?}: {text}"
    );
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn both_streams_begin_with_a_retry_hint_and_a_draining_instance_ends_them_with_one() {
    let Some(app) = TestApp::spawn(Stores::Embedded).await else {
        return;
    };
    let buyer = app.buyer("follower").await;
    let (concert, schedule) = app.concert(5, 0).await;
    let token = app.active_token(&buyer, concert).await;
    let mut queue = app
        .api
        .queue_stream(&buyer, &token)
        .await
        .expect("stream opened");
    let mut seats = Events::open(&app, &buyer, &token, schedule).await;
    for stream in [&mut queue, &mut seats] {
        assert_eq!(stream.status(), StatusCode::OK);
        let first = stream.chunk().await.expect("readable").expect("a frame");
        let first = String::from_utf8_lossy(&first).into_owned();
        assert!(
            first.starts_with("retry: "),
            "a reconnection time first: {first}"
        );
    }

    app.running
        .state
        .draining
        .store(true, std::sync::atomic::Ordering::Relaxed);
    for stream in [&mut queue, &mut seats] {
        let rest = text_until_end(stream, Duration::from_secs(8)).await;
        let last = rest.trim_end().lines().last().unwrap_or("");
        assert!(
            last.starts_with("retry: "),
            "the last frame tells the client when to reconnect: {rest}"
        );
    }
}
