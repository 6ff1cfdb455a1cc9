//! The reservation flow and its rules, on every backend.

use frontrow_tests::{TestApp, contract};
use reqwest::StatusCode;
use std::time::Duration;

contract!(a_buyer_walks_the_whole_flow, |app: TestApp| async move {
    let (concert, schedule) = app.concert(10, 120).await;
    let (buyer, token) = app.admitted("ada", 500, concert).await;

    let schedules = app.schedules(&buyer, &token, concert).await;
    assert_eq!(schedules.status, StatusCode::OK);
    assert_eq!(schedules.body["schedules"][0]["availableSeats"], 10);

    let held = app.hold(&buyer, &token, schedule, 3).await;
    assert_eq!(held.status, StatusCode::CREATED, "{}", held.body);
    assert_eq!(held.str("status"), "HELD");
    assert_eq!(held.i64("price"), 120);
    assert_eq!(
        app.seat_status(&buyer, &token, schedule, 3).await,
        "HELD",
        "the seat map is right after a hold"
    );

    let paid = app.pay(&buyer, &token, held.i64("reservationId")).await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);
    assert_eq!((paid.i64("amount"), paid.i64("balance")), (120, 380));
    assert_eq!(app.balance(&buyer).await, 380);
    assert_eq!(
        app.reservation(&buyer, held.i64("reservationId"))
            .await
            .str("status"),
        "CONFIRMED"
    );

    let again = app.pay(&buyer, &token, held.i64("reservationId")).await;
    assert_eq!(
        again.status,
        StatusCode::OK,
        "paying again returns the first receipt"
    );
    assert_eq!(again.i64("paymentId"), paid.i64("paymentId"));
    assert_eq!(app.balance(&buyer).await, 380, "paying twice charges once");

    // The hold's event names its reservation, in its key and its data.
    let held_event: serde_json::Value = serde_json::from_str(
        &app.text(
            "SELECT payload FROM outbox WHERE event_type = 'reservation.held' AND event_key = ?",
            format!("reservation-{}", held.i64("reservationId")),
        )
        .await,
    )
    .expect("the event is JSON");
    assert_eq!(
        held_event["data"]["reservationId"],
        held.i64("reservationId")
    );
    assert_eq!(held_event["data"]["seatNumber"], 3);

    // The payment's event, its ledger entry and its payment row agree.
    let payment = paid.i64("paymentId");
    let event: serde_json::Value = serde_json::from_str(
        &app.text(
            "SELECT payload FROM outbox WHERE event_type = 'payment.completed' AND event_key = ?",
            format!("reservation-{}", held.i64("reservationId")),
        )
        .await,
    )
    .expect("the event is JSON");
    assert_eq!(event["type"], "payment.completed");
    assert_eq!(event["data"]["paymentId"], payment, "{event}");
    assert_eq!(event["data"]["reservationId"], held.i64("reservationId"));
    assert_eq!(event["data"]["amount"], 120);
    assert_eq!(
        app.count(
            "SELECT balance_after FROM point_ledger WHERE payment_id = ?",
            payment
        )
        .await,
        380
    );

    assert_eq!(
        app.status(&buyer, &token).await.str("status"),
        "EXPIRED",
        "payment spends the queue token"
    );
    // The seat reads above left a read lease on this instance; paying ends it.
    let spent = app.seats(&buyer, &token, schedule).await;
    assert_eq!(
        (spent.status, spent.code()),
        (StatusCode::FORBIDDEN, "QUEUE_TOKEN_EXPIRED"),
        "a spent token cannot read seats"
    );
    let other = app.buyer("bob").await;
    let other_token = app.active_token(&other, concert).await;
    assert_eq!(
        app.seat_status(&other, &other_token, schedule, 3).await,
        "SOLD"
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM outbox WHERE event_key = CONCAT('reservation-', ?)",
            held.i64("reservationId")
        )
        .await,
        2
    );
});

contract!(
    insufficient_points_change_nothing,
    |app: TestApp| async move {
        let (concert, schedule) = app.concert(5, 100).await;
        let (buyer, token) = app.admitted("poor", 50, concert).await;
        let (reservation, paid) = app.buy(&buyer, &token, schedule, 1).await;
        assert_eq!(
            (paid.status, paid.code()),
            (StatusCode::CONFLICT, "INSUFFICIENT_POINTS")
        );
        assert_eq!(app.balance(&buyer).await, 50);
        assert_eq!(
            app.reservation(&buyer, reservation).await.str("status"),
            "HELD"
        );
        assert_eq!(app.seat_status(&buyer, &token, schedule, 1).await, "HELD");
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM payments WHERE user_id = ?",
                buyer.user_id
            )
            .await,
            0
        );
    }
);

contract!(
    an_expired_hold_frees_the_seat_at_once_and_cannot_be_paid,
    |c: &mut frontrow::Config| c.hold_seconds = 1,
    |app: TestApp| async move {
        let first = app.buyer_with_points("slow", 1000).await;
        let second = app.buyer("quick").await;
        let (concert, schedule) = app.concert(3, 100).await;
        let t1 = app.active_token(&first, concert).await;
        let t2 = app.active_token(&second, concert).await;
        let held = app.hold(&first, &t1, schedule, 2).await;
        assert_eq!(held.status, StatusCode::CREATED);
        assert_eq!(
            app.hold(&second, &t2, schedule, 2).await.code(),
            "SEAT_UNAVAILABLE"
        );
        tokio::time::sleep(Duration::from_millis(1100)).await;
        assert_eq!(
            app.reservation(&first, held.i64("reservationId"))
                .await
                .str("status"),
            "EXPIRED"
        );
        let paid = app.pay(&first, &t1, held.i64("reservationId")).await;
        assert_eq!(
            (paid.status, paid.code()),
            (StatusCode::CONFLICT, "HOLD_EXPIRED")
        );
        assert_eq!(
            app.balance(&first).await,
            1000,
            "nothing is charged for an expired hold"
        );
        assert_eq!(
            app.seat_status(&second, &t2, schedule, 2).await,
            "AVAILABLE"
        );
        assert_eq!(
            app.hold(&second, &t2, schedule, 2).await.status,
            StatusCode::CREATED,
            "no sweeper needed"
        );
    }
);

contract!(cancel_frees_the_seat_at_once, |app: TestApp| async move {
    let (concert, schedule) = app.concert(3, 0).await;
    let (buyer, token) = app.admitted("ada", 0, concert).await;
    let held = app.hold(&buyer, &token, schedule, 1).await;
    let cancelled = app.cancel(&buyer, held.i64("reservationId")).await;
    assert_eq!(
        (cancelled.status, cancelled.str("status")),
        (StatusCode::OK, "CANCELLED")
    );
    assert_eq!(
        app.seat_status(&buyer, &token, schedule, 1).await,
        "AVAILABLE"
    );
    let again = app.cancel(&buyer, held.i64("reservationId")).await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "RESERVATION_CANCELLED")
    );
    let paid = app.pay(&buyer, &token, held.i64("reservationId")).await;
    assert_eq!(paid.code(), "RESERVATION_CANCELLED");
    assert_eq!(
        app.hold(&buyer, &token, schedule, 1).await.status,
        StatusCode::CREATED
    );
});

contract!(
    a_reservation_is_visible_to_its_owner_only,
    |app: TestApp| async move {
        let owner = app.buyer("owner").await;
        let stranger = app.buyer("stranger").await;
        let (concert, schedule) = app.concert(3, 0).await;
        let token = app.active_token(&owner, concert).await;
        let id = app
            .hold(&owner, &token, schedule, 1)
            .await
            .i64("reservationId");
        assert_eq!(
            app.reservation(&stranger, id).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.cancel(&stranger, id).await.status,
            StatusCode::NOT_FOUND
        );
        let stranger_token = app.active_token(&stranger, concert).await;
        assert_eq!(
            app.pay(&stranger, &stranger_token, id).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(app.reservation(&owner, id).await.str("status"), "HELD");
    }
);

contract!(the_seat_limit_per_user_holds, |app: TestApp| async move {
    let buyer = app.buyer("greedy").await;
    let (concert, schedule) = app.concert(10, 0).await;
    let token = app.active_token(&buyer, concert).await;
    for seat in 1..=4 {
        assert_eq!(
            app.hold(&buyer, &token, schedule, seat).await.status,
            StatusCode::CREATED
        );
    }
    let fifth = app.hold(&buyer, &token, schedule, 5).await;
    assert_eq!(
        (fifth.status, fifth.code()),
        (StatusCode::CONFLICT, "SEAT_LIMIT_REACHED")
    );
});

// The seat first, then the limit: a taken seat is SEAT_UNAVAILABLE even to
// a buyer at the limit, from the store as from a cached seat map. (The
// stores' spec found MariaDB's frontrow_hold answering SEAT_LIMIT_REACHED
// here, and SQLite SEAT_UNAVAILABLE.) Nobody reads the seat map first, so
// the store decides.
contract!(
    a_taken_seat_is_unavailable_even_to_a_buyer_at_the_limit,
    |app: TestApp| async move {
        let (greedy, other) = (app.buyer("greedy").await, app.buyer("other").await);
        let (concert, schedule) = app.concert(10, 0).await;
        let other_token = app.active_token(&other, concert).await;
        assert_eq!(
            app.hold(&other, &other_token, schedule, 5).await.status,
            StatusCode::CREATED
        );
        let token = app.active_token(&greedy, concert).await;
        for seat in 1..=4 {
            assert_eq!(
                app.hold(&greedy, &token, schedule, seat).await.status,
                StatusCode::CREATED
            );
        }
        let taken = app.hold(&greedy, &token, schedule, 5).await;
        assert_eq!(
            (taken.status, taken.code()),
            (StatusCode::CONFLICT, "SEAT_UNAVAILABLE")
        );
        let free = app.hold(&greedy, &token, schedule, 6).await;
        assert_eq!(
            (free.status, free.code()),
            (StatusCode::CONFLICT, "SEAT_LIMIT_REACHED")
        );
    }
);

contract!(charges_are_idempotent_by_key, |app: TestApp| async move {
    let buyer = app.buyer("ada").await;
    assert_eq!(
        app.charge(&buyer, 100, Some("k-1")).await.i64("balance"),
        100
    );
    assert_eq!(
        app.charge(&buyer, 100, Some("k-1")).await.i64("balance"),
        100
    );
    assert_eq!(
        app.charge(&buyer, 100, Some("k-2")).await.i64("balance"),
        200
    );
    let reused = app.charge(&buyer, 5, Some("k-1")).await;
    assert_eq!(
        (reused.status, reused.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "IDEMPOTENCY_KEY_REUSED")
    );
    assert_eq!(app.balance(&buyer).await, 200);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM point_ledger WHERE user_id = ?",
            buyer.user_id
        )
        .await,
        2
    );
});

contract!(
    the_ledger_explains_every_balance,
    |app: TestApp| async move {
        let (concert, schedule) = app.concert(3, 120).await;
        let (buyer, token) = app.admitted("ada", 300, concert).await;
        app.buy(&buyer, &token, schedule, 1).await;
        let ledger = app
        .count("SELECT CAST(COALESCE(SUM(delta), 0) AS SIGNED) FROM point_ledger WHERE user_id = ?", buyer.user_id)
        .await;
        assert_eq!(ledger, app.balance(&buyer).await);
        assert_eq!(ledger, 180);
    }
);
