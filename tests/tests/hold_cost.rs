//! Holds that cost something (`frontrow_domain::hold_cost`), on every
//! backend through the API: empty accounts lock at most one short hold per
//! concert, covered holds reserve their points until paid, released or
//! lapsed, and concurrent holds never reserve more than the balance.

use frontrow_tests::{TestApp, contract};
use reqwest::StatusCode;
use std::sync::Arc;
use std::time::Duration;

async fn points(app: &TestApp, buyer: &frontrow_tests::Buyer) -> (i64, i64, i64) {
    let reply = app.points(buyer).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    (
        reply.i64("balance"),
        reply.i64("reserved"),
        reply.i64("available"),
    )
}

contract!(
    an_empty_account_holds_one_short_seat_per_concert_and_not_again_after_it_lapses,
    |c: &mut frontrow::Config| c.uncovered_hold_seconds = 1,
    |app: TestApp| async move {
        let (concert, schedule) = app.concert(10, 100).await;
        let (empty, token) = app.admitted("empty", 0, concert).await;
        let held = app.hold(&empty, &token, schedule, 1).await;
        assert_eq!(held.status, StatusCode::CREATED, "{}", held.body);
        assert_eq!(held.body["covered"], false);
        // Nothing is reserved for an uncovered hold.
        assert_eq!(points(&app, &empty).await, (0, 0, 0));
        // One at a time, one seat: a second is refused for points.
        let second = app.hold(&empty, &token, schedule, 2).await;
        assert_eq!(
            (second.status, second.code()),
            (StatusCode::CONFLICT, "POINTS_NEEDED"),
            "{}",
            second.body
        );
        tokio::time::sleep(Duration::from_millis(1_300)).await;
        let seat = app.seat_status(&empty, &token, schedule, 1).await;
        assert_eq!(seat, "AVAILABLE", "the short hold lapsed");
        // Not renewable in this concert once it lapsed.
        let again = app.hold(&empty, &token, schedule, 1).await;
        assert_eq!(again.code(), "POINTS_NEEDED", "{}", again.body);
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM reservations WHERE user_id = ?",
                empty.user_id
            )
            .await,
            1
        );
    }
);

contract!(
    a_person_holds_then_adds_points_then_pays_within_the_short_hold,
    |app: TestApp| async move {
        let (concert, schedule) = app.concert(10, 100).await;
        let (buyer, token) = app.admitted("late payer", 0, concert).await;
        let held = app.hold(&buyer, &token, schedule, 3).await;
        assert_eq!(held.body["covered"], false, "{}", held.body);
        assert_eq!(app.charge(&buyer, 150, None).await.status, StatusCode::OK);
        let paid = app.pay(&buyer, &token, held.i64("reservationId")).await;
        assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);
        assert_eq!(points(&app, &buyer).await, (50, 0, 50));
    }
);

contract!(
    a_covered_hold_reserves_its_points_and_release_lapse_and_payment_settle_them_exactly,
    |c: &mut frontrow::Config| c.hold_seconds = 2,
    |app: TestApp| async move {
        let (concert, schedule) = app.concert(10, 100).await;
        let (buyer, token) = app.admitted("saver", 250, concert).await;
        let first = app.hold(&buyer, &token, schedule, 1).await;
        assert_eq!(first.body["covered"], true, "{}", first.body);
        let second = app.hold(&buyer, &token, schedule, 2).await;
        assert_eq!(second.body["covered"], true, "{}", second.body);
        assert_eq!(points(&app, &buyer).await, (250, 200, 50));
        // 50 available do not cover a third seat, and the uncovered hold
        // is still theirs to take, once.
        let third = app.hold(&buyer, &token, schedule, 3).await;
        assert_eq!(third.body["covered"], false, "{}", third.body);
        assert_eq!(points(&app, &buyer).await, (250, 200, 50));
        // Paying the uncovered one would spend reserved points: refused.
        let greedy = app.pay(&buyer, &token, third.i64("reservationId")).await;
        assert_eq!(greedy.code(), "INSUFFICIENT_POINTS", "{}", greedy.body);
        // A release gives its points back at once.
        let released = app.cancel(&buyer, first.i64("reservationId")).await;
        assert_eq!(released.status, StatusCode::OK, "{}", released.body);
        assert_eq!(points(&app, &buyer).await, (250, 100, 150));
        // A payment of a covered hold always succeeds and spends exactly it.
        let paid = app.pay(&buyer, &token, second.i64("reservationId")).await;
        assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);
        assert_eq!(points(&app, &buyer).await, (150, 0, 150));
        let fourth = app.hold(&buyer, &token, schedule, 4).await;
        assert_eq!(fourth.body["covered"], true, "{}", fourth.body);
        assert_eq!(points(&app, &buyer).await, (150, 100, 50));
        // A lapse releases its points with no write.
        tokio::time::sleep(Duration::from_millis(2_300)).await;
        assert_eq!(points(&app, &buyer).await, (150, 0, 150));
    }
);

contract!(
    concurrent_holds_never_reserve_more_than_the_balance,
    |c: &mut frontrow::Config| c.max_seats_per_user = 20,
    |app: TestApp| async move {
        let app = Arc::new(app);
        let (concert, schedule) = app.concert(40, 100).await;
        let (buyer, token) = app.admitted("racer", 1_000, concert).await;
        let (buyer, token) = (Arc::new(buyer), Arc::new(token));
        let mut tasks = Vec::new();
        for seat in 1..=20 {
            let (app, buyer, token) = (app.clone(), buyer.clone(), token.clone());
            tasks.push(tokio::spawn(async move {
                app.hold(&buyer, &token, schedule, seat).await
            }));
        }
        let (mut covered, mut uncovered, mut refused) = (0, 0, 0);
        for task in tasks {
            let reply = task.await.expect("task");
            match (reply.status, reply.body["covered"].as_bool()) {
                (StatusCode::CREATED, Some(true)) => covered += 1,
                (StatusCode::CREATED, Some(false)) => uncovered += 1,
                (StatusCode::CONFLICT, _) if reply.code() == "POINTS_NEEDED" => refused += 1,
                (status, _) => panic!("unexpected {status}: {}", reply.body),
            }
        }
        assert_eq!((covered, uncovered, refused), (10, 1, 9));
        assert_eq!(points(&app, &buyer).await, (1_000, 1_000, 0));
    }
);
