//! What issue 23's probe found, held here: the embedded data stays its
//! owner's, a signed token of a user that does not exist joins no queue,
//! and what the streams send is what the OpenAPI document says (the
//! connection limits are in `connections.rs`, the labels in `metrics.rs`).

use frontrow_client::{NewConcert, NewSchedule};
use frontrow_tests::{Stores, TestApp, contract, events_until};
use reqwest::StatusCode;

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_embedded_data_is_readable_by_its_owner_only_from_creation() {
    use std::os::unix::fs::PermissionsExt;
    let Some(app) = TestApp::spawn_with(Stores::Embedded, |config| {
        // The secrets are generated into the folder too.
        config.admin_key = None;
        config.jwt_secret = None;
    })
    .await
    else {
        return;
    };
    // A write, so SQLite has made its WAL files.
    app.buyer("ada").await;
    let dir = &app.config.data_dir;
    let mode = |path: &std::path::Path| {
        std::fs::metadata(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(dir), 0o700, "the data folder");
    let mut files = 0;
    for entry in std::fs::read_dir(dir).expect("the data folder") {
        let path = entry.expect("an entry").path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
        files += 1;
    }
    for name in ["frontrow.db", "frontrow.db-wal", "admin-key", "jwt-secret"] {
        assert!(dir.join(name).exists(), "{name} is there and was checked");
    }
    assert!(files >= 4);
}

contract!(
    a_signed_token_of_a_user_who_does_not_exist_joins_no_queue,
    |app: TestApp| async move {
        use frontrow_application::clock::SystemClock;
        use frontrow_application::users::AccessTokens;
        use frontrow_domain::UserId;
        // Signed with the service's own key, for an id it never issued.
        let tokens = frontrow_adapters::auth::Hs256Tokens::new(
            frontrow_tests::JWT_SECRET.as_bytes(),
            3600,
            std::sync::Arc::new(SystemClock),
        );
        let ghost = frontrow_tests::Buyer {
            user_id: i64::from(i32::MAX),
            access_token: tokens.issue(
                UserId::from_store(i64::from(i32::MAX)),
                frontrow_domain::user::SessionId::from_store(i64::from(i32::MAX)),
            ),
        };
        let (concert, _) = app.concert(5, 10).await;
        let refused = app.join(&ghost, concert).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
        assert_eq!(refused.code(), "UNAUTHORIZED");
        let room = app.queue_state(concert).await;
        assert_eq!(room.i64("waiting") + room.i64("active"), 0, "{}", room.body);
        // A registered buyer still joins.
        let buyer = app.buyer("ada").await;
        assert_eq!(app.join(&buyer, concert).await.status, StatusCode::CREATED);
    }
);

contract!(
    a_queue_streams_events_are_what_the_document_says_null_fields_included,
    |app: TestApp| async move {
        // Issue 23: `opensAt`, `preQueueFrom` and `secondsUntilOpen` came
        // back null where the document said string or integer, so each
        // stream event failed its schema. `TestApp` checks every answer and
        // `events_until` every event; here both kinds of place are streamed.
        let opens_at = chrono::Utc::now() + chrono::Duration::hours(1);
        let scheduled = NewConcert::new(
            "Scheduled",
            vec![NewSchedule::new("2030-01-01T19:00:00Z", 5, 10)],
        )
        .opening(opens_at.to_rfc3339(), 120);
        let scheduled = app.api.create_concert(&scheduled).await.expect("answered");
        assert_eq!(scheduled.status, StatusCode::CREATED, "{}", scheduled.body);
        let early = app.buyer("early").await;
        let joined = app.join(&early, scheduled.i64("concertId")).await;
        assert_eq!(joined.str("status"), "PRE_QUEUE", "{}", joined.body);
        let mut stream = app
            .api
            .queue_stream(&early, joined.str("token"))
            .await
            .expect("a stream");
        let events = events_until(&mut stream, |_| true).await;
        assert!(events[0]["secondsUntilOpen"].is_i64(), "{}", events[0]);
        assert!(events[0]["opensAt"].is_string(), "{}", events[0]);

        let (open, _) = app.concert(5, 10).await;
        let buyer = app.buyer("ada").await;
        let token = app.active_token(&buyer, open).await;
        let mut stream = app
            .api
            .queue_stream(&buyer, &token)
            .await
            .expect("a stream");
        let events = events_until(&mut stream, |_| true).await;
        assert_eq!(events[0]["status"], "ACTIVE", "{}", events[0]);
        assert!(events[0]["opensAt"].is_null(), "{}", events[0]);
        assert!(events[0]["secondsUntilOpen"].is_null(), "{}", events[0]);
        // The concert list and the room's state carry the same nulls.
        let listed = app.api.concerts().await.expect("answered");
        assert!(listed.body["concerts"].as_array().is_some_and(|all| {
            all.iter()
                .any(|c| c["opensAt"].is_null() && c["preQueueFrom"].is_null())
        }));
        let room = app.queue_state(open).await;
        assert!(room.body["opensAt"].is_null(), "{}", room.body);
    }
);
