//! The console's chart history (`application::room_history`, served by
//! `GET /api/v1/admin/concerts/{id}/queue/history`): each admin read of a
//! room is a sample, at most one per 1.5 s, bounded (the bound itself is
//! the unit test `samples_are_spaced_and_bounded_per_concert`). On every
//! backend.

use frontrow_application::room_history::{MAX_SAMPLES, SAMPLE_EVERY_MS};
use frontrow_tests::{TestApp, contract};
use reqwest::StatusCode;
use std::time::Duration;

contract!(
    admin_reads_leave_a_spaced_bounded_history,
    |app: TestApp| async move {
        let (concert, _) = app.concert(10, 100).await;
        let empty = app.queue_history(concert).await;
        assert_eq!(empty.status, StatusCode::OK, "{}", empty.body);
        assert_eq!(empty.body["samples"].as_array().map(Vec::len), Some(0));

        assert_eq!(app.queue_state(concert).await.status, StatusCode::OK);
        let (_buyer, _token) = app.admitted("ada", 0, concert).await;
        // A second read within the spacing adds nothing.
        assert_eq!(app.queue_state(concert).await.status, StatusCode::OK);
        let one = app.queue_history(concert).await;
        assert_eq!(
            one.body["samples"].as_array().map(Vec::len),
            Some(1),
            "{}",
            one.body
        );
        assert_eq!(one.body["samples"][0]["active"], 0);

        tokio::time::sleep(Duration::from_millis(SAMPLE_EVERY_MS as u64 + 100)).await;
        assert_eq!(app.queue_state(concert).await.status, StatusCode::OK);
        let two = app.queue_history(concert).await;
        let samples = two.body["samples"].as_array().cloned().unwrap_or_default();
        assert_eq!(samples.len(), 2, "{}", two.body);
        assert!(samples.len() <= MAX_SAMPLES);
        assert_eq!(samples[1]["active"], 1, "the admitted buyer: {}", two.body);
        assert!(
            samples[0]["at"].as_str() < samples[1]["at"].as_str(),
            "oldest first"
        );

        let missing = app.queue_history(999_999).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);
        assert_eq!(missing.str("code"), "CONCERT_NOT_FOUND");
    }
);
