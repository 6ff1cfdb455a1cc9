//! The place and its cart (the room machine's `keep`, `ReservationService`
//! and `PaymentService`): a live hold can always be paid, the turn never
//! ends under a live hold, paying ends the place only when nothing else is
//! held, and a cart cannot keep a place for ever; a cart of several holds
//! is paid in one payment, all or nothing, with one receipt and one event.
//! On every backend.

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

/// The `payment.completed` events whose first line is `reservation`: their
/// payloads' `data`.
async fn payment_events(app: &TestApp, reservation: i64) -> Vec<serde_json::Value> {
    use sqlx::Row;
    sqlx::query(
        "SELECT payload FROM outbox WHERE event_type = 'payment.completed' AND event_key = ?",
    )
    .bind(format!("reservation-{reservation}"))
    .fetch_all(app.running.store.reader())
    .await
    .expect("outbox")
    .iter()
    .map(|row| {
        let payload: String = row.try_get("payload").expect("payload");
        serde_json::from_str::<serde_json::Value>(&payload).expect("json")["data"].clone()
    })
    .collect()
}

/// Holds `seats` of `schedule`: their reservation ids.
async fn hold_all(
    app: &TestApp,
    buyer: &frontrow_client::Buyer,
    token: &str,
    schedule: i64,
    seats: &[i64],
) -> Vec<i64> {
    let mut cart = Vec::new();
    for &seat in seats {
        let held = app.hold(buyer, token, schedule, seat).await;
        assert_eq!(held.status, StatusCode::CREATED, "{}", held.body);
        cart.push(held.i64("reservationId"));
    }
    cart
}

contract!(
    three_seats_are_paid_in_one_payment_with_one_receipt_and_one_event,
    |app: TestApp| async move {
        let (concert, schedule) = app.concert(10, 100).await;
        let (buyer, token) = app.admitted("ada", 500, concert).await;
        let cart = hold_all(&app, &buyer, &token, schedule, &[3, 1, 2]).await;

        let paid = app
            .pay_cart(&buyer, &token, &[cart[2], cart[0], cart[1]])
            .await;
        assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);
        let lines = paid.body["lines"].as_array().expect("lines").clone();
        let paid_for: Vec<i64> = lines
            .iter()
            .map(|l| l["reservationId"].as_i64().unwrap_or(0))
            .collect();
        assert_eq!(paid_for, cart, "a line per seat, ascending by reservation");
        let seats: Vec<i64> = lines
            .iter()
            .map(|l| l["seatNumber"].as_i64().unwrap_or(0))
            .collect();
        assert_eq!(seats, [3, 1, 2]);
        assert_eq!((paid.i64("amount"), paid.i64("balance")), (300, 200));
        assert_eq!(
            paid.i64("reservationId"),
            cart[0],
            "the first line, as before"
        );
        assert_eq!(app.balance(&buyer).await, 200, "charged once, exactly");
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM seats WHERE schedule_id = ? AND sold = 1",
                schedule
            )
            .await,
            3
        );
        let events = payment_events(&app, cart[0]).await;
        assert_eq!(events.len(), 1, "one event per payment: {events:?}");
        assert_eq!(events[0]["amount"], 300);
        assert_eq!(events[0]["paymentId"], paid.body["paymentId"]);
        assert_eq!(events[0]["lines"].as_array().map(Vec::len), Some(3));
        for later in &cart[1..] {
            assert!(
                payment_events(&app, *later).await.is_empty(),
                "no event per seat"
            );
        }
        assert_eq!(
            app.status(&buyer, &token).await.str("status"),
            "EXPIRED",
            "the cart is paid: the place ends"
        );

        for reservation in &cart {
            let receipt = app.receipt(&buyer, *reservation).await;
            assert_eq!(receipt.status, StatusCode::OK, "{}", receipt.body);
            assert_eq!(receipt.body, paid.body, "each seat's receipt is the cart's");
        }
        let (bob, _) = app.admitted("bob", 0, concert).await;
        let theirs = app.receipt(&bob, cart[0]).await;
        assert_eq!(theirs.code(), "RESERVATION_NOT_FOUND", "{}", theirs.body);

        let again = app.pay_cart(&buyer, &token, &cart).await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.body);
        assert_eq!(again.body, paid.body, "a retry answers the first receipt");
        let part = app.pay_cart(&buyer, &token, &cart[..2]).await;
        assert_ne!(part.status.as_u16() / 100, 2, "{}", part.body);
        assert_eq!(app.balance(&buyer).await, 200, "retries charge nothing");
    }
);

contract!(
    a_cart_the_points_do_not_cover_sells_nothing_and_charges_nothing,
    |app: TestApp| async move {
        let (concert, schedule) = app.concert(10, 100).await;
        let (buyer, token) = app.admitted("ada", 250, concert).await;
        let cart = hold_all(&app, &buyer, &token, schedule, &[1, 2, 3]).await;

        let refused = app.pay_cart(&buyer, &token, &cart).await;
        assert_eq!(
            (refused.status, refused.code()),
            (StatusCode::CONFLICT, "INSUFFICIENT_POINTS"),
            "{}",
            refused.body
        );
        assert_eq!(app.balance(&buyer).await, 250);
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM seats WHERE schedule_id = ? AND sold = 1",
                schedule
            )
            .await,
            0
        );
        assert!(payment_events(&app, cart[0]).await.is_empty());
        assert_eq!(app.status(&buyer, &token).await.str("status"), "ACTIVE");
        let unpaid = app.receipt(&buyer, cart[0]).await;
        assert_eq!(
            (unpaid.status, unpaid.code()),
            (StatusCode::NOT_FOUND, "NOT_PAID"),
            "{}",
            unpaid.body
        );

        // Two of the three are covered: the cart of those two pays.
        let two = app.pay_cart(&buyer, &token, &cart[..2]).await;
        assert_eq!(two.status, StatusCode::CREATED, "{}", two.body);
        assert_eq!(app.balance(&buyer).await, 50);
    }
);

contract!(
    a_cart_with_one_bad_hold_is_refused_whole_naming_it,
    |app: TestApp| async move {
        let (concert, schedule) = app.concert(10, 100).await;
        let (buyer, token) = app.admitted("ada", 500, concert).await;
        let cart = hold_all(&app, &buyer, &token, schedule, &[1, 2]).await;
        let (bob, bobs_token) = app.admitted("bob", 500, concert).await;
        let theirs = hold_all(&app, &bob, &bobs_token, schedule, &[5]).await[0];

        let refused = app.pay_cart(&buyer, &token, &[cart[0], theirs]).await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.body);
        assert_eq!(
            refused.i64("reservationId"),
            theirs,
            "the failing reservation is named"
        );

        let released = app.cancel_in_line(&buyer, &token, cart[1]).await;
        assert_eq!(released.status, StatusCode::OK, "{}", released.body);
        let refused = app.pay_cart(&buyer, &token, &cart).await;
        assert_eq!(
            (refused.status, refused.code()),
            (StatusCode::CONFLICT, "RESERVATION_CANCELLED"),
            "{}",
            refused.body
        );
        assert_eq!(refused.i64("reservationId"), cart[1]);
        assert_eq!(app.balance(&buyer).await, 500, "nothing charged");

        for bad in [vec![], vec![cart[0], cart[0]], vec![1, 2, 3, 4, 5]] {
            let refused = app.pay_cart(&buyer, &token, &bad).await;
            assert_eq!(
                (refused.status, refused.code()),
                (StatusCode::BAD_REQUEST, "INVALID_CART"),
                "{bad:?}: {}",
                refused.body
            );
        }
        let auth = Some(buyer.access_token.as_str());
        let gate = [("X-Queue-Token", token.as_str())];
        for body in [
            serde_json::json!({ "reservationId": cart[0], "reservationIds": [cart[0]] }),
            serde_json::json!({}),
        ] {
            let refused = app
                .call(
                    reqwest::Method::POST,
                    "/api/v1/payments",
                    auth,
                    &gate,
                    Some(body.clone()),
                )
                .await;
            assert_eq!(
                (refused.status, refused.code()),
                (StatusCode::BAD_REQUEST, "INVALID_CART"),
                "{body}: {}",
                refused.body
            );
        }
        let paid = app.pay_cart(&buyer, &token, &cart[..1]).await;
        assert_eq!(
            paid.status,
            StatusCode::CREATED,
            "the live hold still pays: {}",
            paid.body
        );
        assert_eq!(app.balance(&buyer).await, 400);
    }
);

contract!(
    twenty_parallel_payments_of_one_cart_make_one_receipt,
    |app: TestApp| async move {
        let (concert, schedule) = app.concert(10, 100).await;
        let (buyer, token) = app.admitted("ada", 1_000, concert).await;
        let cart = hold_all(&app, &buyer, &token, schedule, &[1, 2, 3, 4]).await;
        let app = Arc::new(app);
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (app, buyer, token, cart) =
                (app.clone(), buyer.clone(), token.clone(), cart.clone());
            tasks.push(tokio::spawn(async move {
                app.pay_cart(&buyer, &token, &cart).await
            }));
        }
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await.expect("task"));
        }
        let made: Vec<_> = answers
            .iter()
            .filter(|a| a.status == StatusCode::CREATED)
            .collect();
        assert_eq!(made.len(), 1, "one payment");
        for answer in &answers {
            assert!(
                answer.body == made[0].body || answer.status.is_client_error(),
                "the same receipt or a clear refusal: {} {}",
                answer.status,
                answer.body
            );
        }
        assert_eq!(app.balance(&buyer).await, 600, "four seats charged once");
        assert_eq!(payment_events(&app, cart[0]).await.len(), 1);
        assert_eq!(app.status(&buyer, &token).await.str("status"), "EXPIRED");
    }
);

contract!(
    a_lapsed_cart_ends_the_place_whose_turn_is_over,
    |config: &mut frontrow::Config| {
        config.active_seconds = 1;
        config.hold_seconds = 2;
    },
    |app: TestApp| async move {
        let (concert, schedule) = app.concert(10, 100).await;
        let (buyer, token) = app.admitted("ada", 500, concert).await;
        let held = app.hold(&buyer, &token, schedule, 6).await;
        assert_eq!(held.status, StatusCode::CREATED, "{}", held.body);
        tokio::time::sleep(Duration::from_millis(1_400)).await;
        assert_eq!(
            app.status(&buyer, &token).await.str("status"),
            "ACTIVE",
            "the turn is over but the cart is live"
        );
        tokio::time::sleep(Duration::from_millis(1_000)).await;
        let ended = app.status(&buyer, &token).await;
        assert_eq!(
            (ended.str("status"), ended.str("expiredReason")),
            ("EXPIRED", "TURN_ENDED"),
            "the cart lapsed, and nothing keeps the place: {}",
            ended.body
        );
    }
);
