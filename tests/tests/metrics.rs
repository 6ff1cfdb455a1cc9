//! `/metrics` names the series an operator watches during a sale (issue
//! 15's list), parsed the way a scraper reads them: each family's `# TYPE`
//! and its samples with their labels.

use frontrow_tests::{Stores, TestApp, contract};
use reqwest::StatusCode;
use std::collections::BTreeMap;

/// One sample: its name, labels and value.
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// OpenMetrics text: each family's type (`# TYPE name type`) and every sample.
fn parse(text: &str) -> (BTreeMap<String, String>, Vec<Sample>) {
    let mut types = BTreeMap::new();
    let mut samples = Vec::new();
    for line in text.lines() {
        if let Some(declared) = line.strip_prefix("# TYPE ") {
            let (name, kind) = declared.split_once(' ').expect("# TYPE name type");
            types.insert(name.to_owned(), kind.to_owned());
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("a sample: series value");
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("a number: {line}"));
        let (name, labels) = match series.split_once('{') {
            Some((name, labels)) => {
                let labels = labels.strip_suffix('}').expect("closed labels");
                let labels = labels
                    .split(',')
                    .filter(|pair| !pair.is_empty())
                    .map(|pair| {
                        let (key, value) = pair.split_once('=').expect("label=value");
                        (key.to_owned(), value.trim_matches('"').to_owned())
                    })
                    .collect();
                (name, labels)
            }
            None => (series, BTreeMap::new()),
        };
        samples.push(Sample {
            name: name.to_owned(),
            labels,
            value,
        });
    }
    (types, samples)
}

/// The value of the sample `name` whose labels include `labels`.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).is_some_and(|l| l == v))
        })
        .map(|s| s.value)
}

contract!(
    metrics_expose_requests_problems_and_each_rooms_counts,
    |app: TestApp| async move {
        let (concert, _) = app.concert(5, 10).await;
        app.set_queue(concert, 1, 1000, false).await;
        let first = app.buyer_with_points("first", 100).await;
        let second = app.buyer("second").await;
        app.active_token(&first, concert).await;
        app.join(&second, concert).await;
        // Another sale, where `first` buys.
        let (shop, schedule) = app.concert(5, 10).await;
        let token = app.active_token(&first, shop).await;
        // A problem to count: the balance asked for without an access token.
        let refused = app
            .http
            .get(format!("{}/api/v1/points", app.base))
            .send()
            .await
            .expect("answer");
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        // A hold, a refused hold and a payment.
        let held = app.hold(&first, &token, schedule, 1).await;
        assert_eq!(held.status, StatusCode::CREATED, "{}", held.body);
        let again = app.hold(&first, &token, schedule, 1).await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        let paid = app.pay(&first, &token, held.i64("reservationId")).await;
        assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);

        let (status, text) = app.api.metrics().await.expect("metrics");
        assert_eq!(status, StatusCode::OK);
        assert!(text.trim_end().ends_with("# EOF"), "OpenMetrics text");
        let (types, samples) = parse(&text);

        // Every family issue 15 names, with its type.
        let mut named = vec![
            ("frontrow_http_requests", "counter"),
            ("frontrow_http_request_duration_seconds", "histogram"),
            ("frontrow_http_requests_in_flight", "gauge"),
            ("frontrow_http_problems", "counter"),
            ("frontrow_db_pool_connections", "gauge"),
            ("frontrow_db_pool_max_connections", "gauge"),
            ("frontrow_db_pool_acquire_seconds", "histogram"),
            ("frontrow_db_pool_acquire_timeouts", "counter"),
            ("frontrow_room_waiting", "gauge"),
            ("frontrow_room_active", "gauge"),
            ("frontrow_room_admitted", "counter"),
            ("frontrow_room_lapsed", "counter"),
            ("frontrow_room_seats_available", "gauge"),
            ("frontrow_outbox_unpublished", "gauge"),
            ("frontrow_outbox_oldest_unpublished_seconds", "gauge"),
            ("frontrow_outbox_publish_lag_milliseconds", "gauge"),
            ("frontrow_seat_map_loads", "counter"),
        ];
        if app.config.redis_url.is_some() {
            named.push(("frontrow_redis_errors", "counter"));
        }
        for (family, kind) in named {
            assert_eq!(
                types.get(family).map(String::as_str),
                Some(kind),
                "{family}: {text}"
            );
        }

        // Requests per route and status: sign-ups, holds and payments.
        let users = [
            ("method", "POST"),
            ("route", "/api/v1/users"),
            ("status", "201"),
        ];
        assert!(value(&samples, "frontrow_http_requests_total", &users).is_some_and(|n| n >= 2.0));
        let holds = [
            ("method", "POST"),
            ("route", "/api/v1/reservations"),
            ("status", "201"),
        ];
        assert_eq!(
            value(&samples, "frontrow_http_requests_total", &holds),
            Some(1.0)
        );
        let payments = [
            ("method", "POST"),
            ("route", "/api/v1/payments"),
            ("status", "201"),
        ];
        assert_eq!(
            value(&samples, "frontrow_http_requests_total", &payments),
            Some(1.0)
        );
        let latency = [("method", "POST"), ("route", "/api/v1/reservations")];
        assert!(
            value(
                &samples,
                "frontrow_http_request_duration_seconds_count",
                &latency
            ) >= Some(2.0)
        );
        // Refusals by their code.
        let problem = |code| value(&samples, "frontrow_http_problems_total", &[("code", code)]);
        assert_eq!(problem("SEAT_UNAVAILABLE"), Some(1.0), "{text}");
        assert!(problem("UNAUTHORIZED").is_some_and(|n| n >= 1.0));
        // The room, per concert.
        let concert = concert.to_string();
        let room = |name: &str| value(&samples, name, &[("concert", &concert)]);
        assert_eq!(room("frontrow_room_waiting"), Some(1.0), "{text}");
        assert_eq!(room("frontrow_room_active"), Some(1.0));
        assert_eq!(room("frontrow_room_admitted_total"), Some(1.0));
        assert_eq!(room("frontrow_room_lapsed_total"), Some(0.0));
        assert_eq!(room("frontrow_room_seats_available"), Some(5.0));
        // The database pools: some connection open, waits recorded, none
        // ran out.
        let open: f64 = samples
            .iter()
            .filter(|s| s.name == "frontrow_db_pool_connections")
            .map(|s| s.value)
            .sum();
        assert!(open >= 1.0, "{text}");
        assert!(value(&samples, "frontrow_db_pool_acquire_seconds_count", &[]) >= Some(2.0));
        assert_eq!(
            value(&samples, "frontrow_db_pool_acquire_timeouts_total", &[]),
            Some(0.0)
        );
        if app.config.redis_url.is_some() {
            assert_eq!(
                value(&samples, "frontrow_redis_errors_total", &[]),
                Some(0.0)
            );
        }
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_embedded_instance_has_no_redis_series() {
    let Some(app) = TestApp::spawn(Stores::Embedded).await else {
        return;
    };
    let text = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let (types, _) = parse(&text);
    assert!(!types.contains_key("frontrow_redis_errors"), "{text}");
    assert_eq!(
        types
            .get("frontrow_db_pool_connections")
            .map(String::as_str),
        Some("gauge")
    );
}

/// Issue 23: every made-up path and method used to get a label of its own,
/// so 20,000 requests grew `/metrics` to 37 MB. Now they share `unmatched`
/// and `other`, and the exposition stays the size it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn made_up_paths_and_methods_do_not_grow_the_metrics() {
    let Some(app) = TestApp::spawn(Stores::Embedded).await else {
        return;
    };
    let scrape = || async {
        let (status, text) = app.api.metrics().await.expect("metrics");
        assert_eq!(status, StatusCode::OK);
        text
    };
    // Every label a made-up request can reach exists once before measuring.
    let send = |method: &'static [u8], path: String| {
        let method = reqwest::Method::from_bytes(method).expect("a method token");
        let request = app.api.request(method, &path);
        async move { request.send().await.expect("an answer").status() }
    };
    assert_eq!(send(b"GET", "/api/zz/0x".into()).await, 404);
    send(b"BREW", "/api/zz/0x".into()).await;
    scrape().await;
    let before = scrape().await.len();
    for n in 1..=10_000 {
        let method: &[u8] = if n % 2 == 0 { b"GET" } else { b"BREW" };
        send(method, format!("/api/zz/{n}x")).await;
    }
    let after = scrape().await;
    // The counts' digits may grow; 10,000 new labels would add megabytes.
    assert!(
        after.len() < before + 2_000,
        "/metrics grew from {before} to {} bytes",
        after.len()
    );
    let (_, samples) = parse(&after);
    let unmatched = samples
        .iter()
        .filter(|s| s.name == "frontrow_http_requests_total")
        .filter(|s| s.labels.get("route").is_some_and(|r| r == "unmatched"))
        .map(|s| s.value)
        .sum::<f64>();
    assert!(unmatched >= 10_000.0, "{after}");
}
