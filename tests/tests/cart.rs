//! The place and its cart (the room machine's `keep`, `ReservationService`
//! and `PaymentService`): a live hold can always be paid, the turn never
//! ends under a live hold, paying ends the place only when nothing else is
//! held, and a cart cannot keep a place for ever. On every backend.

use frontrow_tests::{TestApp, contract};
use reqwest::StatusCode;
use std::sync::Arc;
use std::time::Duration;

/// A turn of one second, holds of 30 s: the turn ends while seats are held.
fn short_turn(config: &mut frontrow::Config) {
    config.active_seconds = 1;
    config.hold_seconds = 30;
}

contract!(
    a_live_hold_is_paid_after_the_turn_ends,
    short_turn,
    |app: TestApp| async move {
        let (concert, schedule) = app.concert(10, 100).await;
        let (buyer, token) = app.admitted("ada", 500, concert).await;
        let held = app.hold(&buyer, &token, schedule, 7).await;
        assert_eq!(held.status, StatusCode::CREATED, "{}", held.body);
        tokio::time::sleep(Duration::from_millis(1_500)).await;

        let status = app.status(&buyer, &token).await;
        assert_eq!(
            status.str("status"),
            "ACTIVE",
            "the cart keeps the place past its turn: {}",
            status.body
        );
        let more = app.hold(&buyer, &token, schedule, 8).await;
        assert_eq!(more.status, StatusCode::FORBIDDEN, "{}", more.body);
        assert_eq!(more.str("code"), "QUEUE_TURN_OVER");

        let paid = app.pay(&buyer, &token, held.i64("reservationId")).await;
        assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);
        assert_eq!(app.balance(&buyer).await, 400);
        assert_eq!(
            app.status(&buyer, &token).await.str("status"),
            "EXPIRED",
            "the cart is empty: the place ends"
        );
    }
);

contract!(
    paying_one_seat_keeps_the_place_for_the_rest_of_the_cart,
    |app: TestApp| async move {
        let (concert, schedule) = app.concert(10, 100).await;
        let (buyer, token) = app.admitted("ada", 500, concert).await;
        let first = app
            .hold(&buyer, &token, schedule, 1)
            .await
            .i64("reservationId");
        let second = app
            .hold(&buyer, &token, schedule, 2)
            .await
            .i64("reservationId");

        let paid = app.pay(&buyer, &token, first).await;
        assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);
        assert_eq!(app.status(&buyer, &token).await.str("status"), "ACTIVE");
        let third = app.hold(&buyer, &token, schedule, 3).await;
        assert_eq!(
            third.status,
            StatusCode::CREATED,
            "the turn goes on: {}",
            third.body
        );

        for reservation in [second, third.i64("reservationId")] {
            let paid = app.pay(&buyer, &token, reservation).await;
            assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);
        }
        assert_eq!(app.balance(&buyer).await, 200);
        let ended = app.status(&buyer, &token).await;
        assert_eq!(
            (ended.str("status"), ended.str("expiredReason")),
            ("EXPIRED", "PAID")
        );
    }
);

contract!(
    twenty_parallel_payments_of_a_cart_pay_each_hold_once,
    |app: TestApp| async move {
        let (concert, schedule) = app.concert(10, 100).await;
        let (buyer, token) = app.admitted("ada", 1_000, concert).await;
        let mut cart = Vec::new();
        for seat in 1..=4 {
            let held = app.hold(&buyer, &token, schedule, seat).await;
            assert_eq!(held.status, StatusCode::CREATED, "{}", held.body);
            cart.push(held.i64("reservationId"));
        }
        let app = Arc::new(app);
        let mut tasks = Vec::new();
        for n in 0..20 {
            let (app, buyer, token, reservation) =
                (app.clone(), buyer.clone(), token.clone(), cart[n % 4]);
            tasks.push(tokio::spawn(async move {
                app.pay(&buyer, &token, reservation).await
            }));
        }
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await.expect("task"));
        }
        let made = answers
            .iter()
            .filter(|a| a.status == StatusCode::CREATED)
            .count();
        let repeated = answers
            .iter()
            .filter(|a| a.status == StatusCode::OK)
            .count();
        assert_eq!(
            (made, repeated),
            (4, 16),
            "each hold is paid once, the rest get its receipt"
        );
        for reservation in &cart {
            let ids: Vec<i64> = answers
                .iter()
                .filter(|a| a.body["reservationId"] == *reservation)
                .map(|a| a.i64("paymentId"))
                .collect();
            assert!(
                ids.windows(2).all(|w| w[0] == w[1]),
                "one receipt per hold: {ids:?}"
            );
        }
        assert_eq!(
            app.balance(&buyer).await,
            600,
            "four seats charged once each"
        );
        assert_eq!(app.status(&buyer, &token).await.str("status"), "EXPIRED");
    }
);

contract!(
    an_emptied_cart_after_the_turn_ends_the_place,
    short_turn,
    |app: TestApp| async move {
        let (concert, schedule) = app.concert(10, 100).await;
        let (buyer, token) = app.admitted("ada", 500, concert).await;
        let held = app
            .hold(&buyer, &token, schedule, 4)
            .await
            .i64("reservationId");
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        assert_eq!(app.status(&buyer, &token).await.str("status"), "ACTIVE");

        let released = app.cancel_in_line(&buyer, &token, held).await;
        assert_eq!(released.status, StatusCode::OK, "{}", released.body);
        assert_eq!(
            app.status(&buyer, &token).await.str("status"),
            "EXPIRED",
            "the turn had ended; nothing keeps the place"
        );
    }
);

contract!(
    releasing_a_seat_during_the_turn_keeps_the_place,
    |app: TestApp| async move {
        let (concert, schedule) = app.concert(10, 100).await;
        let (buyer, token) = app.admitted("ada", 500, concert).await;
        let held = app
            .hold(&buyer, &token, schedule, 4)
            .await
            .i64("reservationId");
        let released = app.cancel_in_line(&buyer, &token, held).await;
        assert_eq!(released.status, StatusCode::OK, "{}", released.body);
        assert_eq!(app.status(&buyer, &token).await.str("status"), "ACTIVE");
        let other = app.hold(&buyer, &token, schedule, 5).await;
        assert_eq!(other.status, StatusCode::CREATED, "{}", other.body);
    }
);
