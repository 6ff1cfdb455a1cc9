//! `/metrics` names the series an operator watches during a sale, parsed
//! the way a scraper reads them.

use frontrow_tests::{TestApp, contract};
use reqwest::StatusCode;

/// The value of the first sample whose line starts with `prefix`.
fn sample(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

contract!(
    metrics_expose_requests_problems_and_each_rooms_counts,
    |app: TestApp| async move {
        let (concert, _) = app.concert(5, 0).await;
        app.set_queue(concert, 1, 1000, false).await;
        let first = app.buyer("first").await;
        let second = app.buyer("second").await;
        app.join(&first, concert).await;
        app.join(&second, concert).await;
        // A problem to count: the balance asked for without an access token.
        let refused = app
            .http
            .get(format!("{}/api/v1/points", app.base))
            .send()
            .await
            .expect("answer");
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);

        let (status, text) = app.api.metrics().await.expect("metrics");
        assert_eq!(status, StatusCode::OK);
        assert!(text.trim_end().ends_with("# EOF"), "OpenMetrics text");
        let users = sample(
            &text,
            "frontrow_http_requests_total{method=\"POST\",route=\"/api/v1/users\",status=\"201\"}",
        );
        assert!(users.is_some_and(|n| n >= 2.0), "{text}");
        assert!(
            text.contains("frontrow_http_request_duration_seconds_bucket{"),
            "{text}"
        );
        assert!(sample(&text, "frontrow_http_requests_in_flight").is_some());
        assert!(
            text.lines()
                .any(|l| l.starts_with("frontrow_http_problems_total{code=")),
            "{text}"
        );
        let room = |name: &str| sample(&text, &format!("{name}{{concert=\"{concert}\"}}"));
        assert_eq!(room("frontrow_room_waiting"), Some(1.0), "{text}");
        assert_eq!(room("frontrow_room_active"), Some(1.0));
        assert_eq!(room("frontrow_room_admitted_total"), Some(1.0));
        assert_eq!(room("frontrow_room_lapsed_total"), Some(0.0));
        assert_eq!(room("frontrow_room_seats_available"), Some(5.0));
        assert!(sample(&text, "frontrow_seat_map_loads_total").is_some());
        assert!(sample(&text, "frontrow_outbox_unpublished").is_some());
    }
);
