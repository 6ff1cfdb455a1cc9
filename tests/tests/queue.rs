//! The waiting room: order, capacity, rate, timeouts and the gate.

use frontrow_tests::{TestApp, contract, events_until};
use reqwest::{Method, StatusCode};
use std::sync::Arc;
use std::time::Duration;

contract!(
    admission_order_equals_arrival_order,
    |app: TestApp| async move {
        let app = Arc::new(app);
        let (concert, _) = app.concert(1, 0).await;
        assert_eq!(
            app.set_queue(concert, 1, 1000, false).await.status,
            StatusCode::OK
        );
        let mut buyers = Vec::new();
        for i in 0..30 {
            buyers.push(Arc::new(app.buyer(&format!("fan{i}")).await));
        }
        let mut tasks = Vec::new();
        for buyer in &buyers {
            let (app, buyer) = (app.clone(), buyer.clone());
            tasks.push(tokio::spawn(async move {
                let joined = app.join(&buyer, concert).await;
                (
                    buyer,
                    joined.str("token").to_owned(),
                    joined.i64("position"),
                    joined.str("status").to_owned(),
                )
            }));
        }
        let mut line = Vec::new();
        for task in tasks {
            line.push(task.await.expect("task"));
        }
        // Exactly one is admitted at once (capacity 1); the rest hold distinct places 1..=29.
        assert_eq!(line.iter().filter(|l| l.3 == "ACTIVE").count(), 1);
        let mut positions: Vec<i64> = line
            .iter()
            .filter(|l| l.3 == "WAITING")
            .map(|l| l.2)
            .collect();
        positions.sort();
        assert_eq!(positions, (1..=29).collect::<Vec<_>>());
        line.sort_by_key(|l| if l.3 == "ACTIVE" { 0 } else { l.2 });
        // Each ACTIVE user leaves; the next admitted must be the next arrival.
        for (i, (buyer, token, _, _)) in line.iter().enumerate() {
            assert_eq!(
                app.status(buyer, token).await.str("status"),
                "ACTIVE",
                "arrival {i} admitted in order"
            );
            if let Some((next, next_token, _, _)) = line.get(i + 1) {
                assert_eq!(app.status(next, next_token).await.i64("position"), 1);
            }
            assert_eq!(app.leave(buyer, token).await.status, StatusCode::NO_CONTENT);
        }
    }
);

contract!(one_place_per_user_per_concert, |app: TestApp| async move {
    let (concert, _) = app.concert(1, 0).await;
    app.set_queue(concert, 1, 10, false).await;
    let first = app.buyer("first").await;
    let second = app.buyer("second").await;
    app.join(&first, concert).await;
    let joined = app.join(&second, concert).await;
    assert_eq!(
        (joined.status, joined.i64("position")),
        (StatusCode::CREATED, 1)
    );
    let again = app.join(&second, concert).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(
        (again.str("token"), again.i64("position")),
        (joined.str("token"), 1)
    );
    assert_eq!(app.queue_state(concert).await.i64("waiting"), 1);
});

contract!(
    capacity_is_never_exceeded_and_a_paid_slot_frees_at_once,
    |app: TestApp| async move {
        let (concert, schedule) = app.concert(10, 10).await;
        app.set_queue(concert, 2, 1000, false).await;
        let mut line = Vec::new();
        for i in 0..5 {
            let buyer = app.buyer_with_points(&format!("fan{i}"), 100).await;
            let token = app.join(&buyer, concert).await.str("token").to_owned();
            line.push((buyer, token));
        }
        let state = app.queue_state(concert).await;
        assert_eq!((state.i64("active"), state.i64("waiting")), (2, 3));
        let (buyer, token) = &line[0];
        let (_, paid) = app.buy(buyer, token, schedule, 1).await;
        assert_eq!(paid.status, StatusCode::CREATED);
        let (next, next_token) = &line[2];
        assert_eq!(
            app.status(next, next_token).await.str("status"),
            "ACTIVE",
            "the next user is admitted at once"
        );
        assert_eq!(app.queue_state(concert).await.i64("active"), 2);
    }
);

contract!(admission_follows_the_rate, |app: TestApp| async move {
    let (concert, _) = app.concert(1, 0).await;
    app.set_queue(concert, 100, 2, false).await;
    let mut line = Vec::new();
    for i in 0..6 {
        let buyer = app.buyer(&format!("fan{i}")).await;
        line.push(app.join(&buyer, concert).await.str("status").to_owned());
    }
    assert_eq!(
        line.iter().filter(|s| *s == "ACTIVE").count(),
        2,
        "one second's worth at once"
    );
    tokio::time::sleep(Duration::from_millis(1050)).await;
    let state = app.queue_state(concert).await;
    assert_eq!((state.i64("active"), state.i64("waiting")), (4, 2));
});

contract!(
    a_paused_room_admits_nobody_but_keeps_places,
    |app: TestApp| async move {
        let (concert, _) = app.concert(1, 0).await;
        app.set_queue(concert, 10, 100, true).await;
        let buyer = app.buyer("patient").await;
        let joined = app.join(&buyer, concert).await;
        assert_eq!(
            (joined.str("status"), joined.i64("position")),
            ("WAITING", 1)
        );
        // Nobody can say when an operator resumes: no estimate, just "paused".
        assert!(
            joined.body["estimatedWaitSeconds"].is_null(),
            "{}",
            joined.body
        );
        assert_eq!(joined.body["paused"], true);
        app.set_queue(concert, 10, 100, false).await;
        assert_eq!(
            app.status(&buyer, joined.str("token")).await.str("status"),
            "ACTIVE"
        );
    }
);

contract!(
    an_active_user_times_out_and_frees_the_slot,
    |c: &mut frontrow::Config| c.active_seconds = 1,
    |app: TestApp| async move {
        let (concert, _) = app.concert(1, 0).await;
        app.set_queue(concert, 1, 1000, false).await;
        let first = app.buyer("first").await;
        let second = app.buyer("second").await;
        let t1 = app.join(&first, concert).await.str("token").to_owned();
        let t2 = app.join(&second, concert).await.str("token").to_owned();
        assert_eq!(app.status(&second, &t2).await.str("status"), "WAITING");
        tokio::time::sleep(Duration::from_millis(1100)).await;
        assert_eq!(app.status(&second, &t2).await.str("status"), "ACTIVE");
        assert_eq!(app.status(&first, &t1).await.str("status"), "EXPIRED");
        let rejoined = app.join(&first, concert).await;
        assert_eq!(
            (rejoined.status, rejoined.str("status")),
            (StatusCode::CREATED, "WAITING")
        );
        assert_ne!(rejoined.str("token"), t1);
    }
);

contract!(
    a_lapsed_active_token_stops_passing_every_gate,
    |c: &mut frontrow::Config| c.active_seconds = 1,
    |app: TestApp| async move {
        let (concert, schedule) = app.concert(3, 0).await;
        let buyer = app.buyer("late").await;
        let token = app.active_token(&buyer, concert).await;
        // Seen ACTIVE by every read path first, so each takes its fast path.
        assert_eq!(app.status(&buyer, &token).await.str("status"), "ACTIVE");
        assert_eq!(
            app.seat_status(&buyer, &token, schedule, 1).await,
            "AVAILABLE"
        );
        tokio::time::sleep(Duration::from_millis(1100)).await;
        assert_eq!(app.status(&buyer, &token).await.str("status"), "EXPIRED");
        let hold = app.hold(&buyer, &token, schedule, 1).await;
        assert_eq!(
            (hold.status, hold.code()),
            (StatusCode::FORBIDDEN, "QUEUE_TOKEN_EXPIRED")
        );
    }
);

contract!(
    the_gate_admits_only_the_callers_active_token_for_that_concert,
    |app: TestApp| async move {
        let (concert, schedule) = app.concert(3, 0).await;
        let (other_concert, _) = app.concert(3, 0).await;
        app.set_queue(concert, 1, 1000, false).await;
        let active = app.buyer("active").await;
        let waiting = app.buyer("waiting").await;
        let active_token = app.active_token(&active, concert).await;
        let waiting_token = app.join(&waiting, concert).await.str("token").to_owned();
        let cases = [
            (
                &waiting,
                Some(waiting_token.as_str()),
                StatusCode::FORBIDDEN,
                "QUEUE_NOT_ACTIVE",
            ),
            (
                &waiting,
                Some(active_token.as_str()),
                StatusCode::FORBIDDEN,
                "QUEUE_TOKEN_NOT_YOURS",
            ),
            (
                &active,
                Some("0123456789abcdef0123456789abcdef"),
                StatusCode::UNAUTHORIZED,
                "QUEUE_TOKEN_INVALID",
            ),
            (
                &active,
                Some("forged"),
                StatusCode::UNAUTHORIZED,
                "QUEUE_TOKEN_INVALID",
            ),
            (
                &active,
                None,
                StatusCode::UNAUTHORIZED,
                "QUEUE_TOKEN_MISSING",
            ),
        ];
        for (buyer, token, status, code) in cases {
            let seats = match token {
                Some(token) => app.seats(buyer, token, schedule).await,
                // A probe: the gate's header left out on purpose.
                None => {
                    let path = format!("/api/v1/schedules/{schedule}/seats");
                    let auth = Some(buyer.access_token.as_str());
                    app.call(Method::GET, &path, auth, &[], None).await
                }
            };
            assert_eq!((seats.status, seats.code()), (status, code), "{:?}", token);
            let hold = app.hold(buyer, token.unwrap_or(""), schedule, 1).await;
            assert!(hold.status.is_client_error());
        }
        let wrong = app.schedules(&active, &active_token, other_concert).await;
        assert_eq!(
            (wrong.status, wrong.code()),
            (StatusCode::FORBIDDEN, "QUEUE_TOKEN_WRONG_CONCERT")
        );
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM reservations WHERE schedule_id = ?",
                schedule
            )
            .await,
            0
        );
    }
);

contract!(
    sold_out_pauses_admission_and_a_lapsed_hold_resumes_it,
    |c: &mut frontrow::Config| c.hold_seconds = 2,
    |app: TestApp| async move {
        let (concert, schedule) = app.concert(2, 0).await;
        app.set_queue(concert, 2, 1000, false).await;
        let (first, second) = (app.buyer("first").await, app.buyer("second").await);
        for (buyer, seat) in [(&first, 1), (&second, 2)] {
            let token = app.active_token(buyer, concert).await;
            assert_eq!(
                app.hold(buyer, &token, schedule, seat).await.status,
                StatusCode::CREATED
            );
            // Holders leave the room, so a slot is free: only the stock stops admission.
            assert_eq!(
                app.leave(buyer, &token).await.status,
                StatusCode::NO_CONTENT
            );
        }
        let waiter = app.buyer("waiter").await;
        let joined = app.join(&waiter, concert).await;
        let token = joined.str("token").to_owned();
        assert_eq!(joined.str("status"), "WAITING", "{}", joined.body);
        assert_eq!(joined.body["soldOut"], true);
        assert_eq!(joined.i64("heldSeats"), 2);
        assert!(joined.body["estimatedWaitSeconds"].is_null());
        let state = app.queue_state(concert).await;
        assert_eq!(state.body["stock"]["available"], 0, "{}", state.body);
        assert_eq!(state.body["stock"]["soldOut"], true);
        assert_eq!(state.body["stock"]["closed"], false);
        tokio::time::sleep(Duration::from_millis(2_200)).await;
        // The holds lapsed: the seats are back and the room admits again.
        let status = app.status(&waiter, &token).await;
        assert_eq!(status.str("status"), "ACTIVE", "{}", status.body);
        assert_eq!(status.body["soldOut"], false);
    }
);

contract!(
    a_room_with_every_seat_sold_closes,
    |app: TestApp| async move {
        let (concert, schedule) = app.concert(1, 0).await;
        app.set_queue(concert, 1, 1000, false).await;
        let buyer = app.buyer("buyer").await;
        let token = app.active_token(&buyer, concert).await;
        let held = app.hold(&buyer, &token, schedule, 1).await;
        assert_eq!(held.status, StatusCode::CREATED);
        let waiter = app.buyer("waiter").await;
        let waiting = app.join(&waiter, concert).await;
        let waiting_token = waiting.str("token").to_owned();
        assert_eq!(waiting.str("status"), "WAITING");
        assert_eq!(waiting.body["soldOut"], true);
        let paid = app.pay(&buyer, &token, held.i64("reservationId")).await;
        assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);
        let closed = app.status(&waiter, &waiting_token).await;
        assert_eq!(closed.str("status"), "SOLD_OUT", "{}", closed.body);
        assert_eq!(closed.i64("refreshIntervalSeconds"), 0);
        let late = app.join(&app.buyer("late").await, concert).await;
        assert_eq!(late.status, StatusCode::CONFLICT);
        assert_eq!(late.code(), "SOLD_OUT");
        let state = app.queue_state(concert).await;
        assert_eq!(state.body["stock"]["closed"], true, "{}", state.body);
        assert_eq!(
            state.i64("active"),
            0,
            "nobody was admitted after the close"
        );
    }
);

contract!(
    joining_again_once_every_seat_is_sold_is_sold_out_even_with_a_live_place,
    |app: TestApp| async move {
        let (concert, schedule) = app.concert(1, 0).await;
        app.set_queue(concert, 2, 1000, false).await;
        let buyer = app.buyer("buyer").await;
        let token = app.active_token(&buyer, concert).await;
        let other = app.buyer("other").await;
        app.active_token(&other, concert).await;
        let held = app.hold(&buyer, &token, schedule, 1).await;
        assert_eq!(held.status, StatusCode::CREATED);
        let paid = app.pay(&buyer, &token, held.i64("reservationId")).await;
        assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);
        // The other buyer's place is still ACTIVE, but nothing is left to buy.
        let again = app.join(&other, concert).await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
        assert_eq!(again.code(), "SOLD_OUT");
    }
);

contract!(
    every_waiting_answer_carries_the_pace_to_poll_at,
    |app: TestApp| async move {
        let (concert, _) = app.concert(5, 0).await;
        app.set_queue(concert, 1, 1, false).await;
        let mut paces = Vec::new();
        for i in 0..11 {
            let joined = app
                .join(&app.buyer(&format!("fan{i}")).await, concert)
                .await;
            if joined.str("status") == "WAITING" {
                paces.push((joined.i64("position"), joined.i64("refreshIntervalSeconds")));
            }
        }
        // At one admission a second, place p waits about p s and is asked
        // to look again after half of that, at least every 2 s.
        assert_eq!(paces.first(), Some(&(1, 2)), "{paces:?}");
        assert_eq!(paces.last(), Some(&(10, 5)), "{paces:?}");
    }
);

contract!(
    the_stream_follows_a_place_to_active_and_ends_when_it_expires,
    |app: TestApp| async move {
        let (concert, _) = app.concert(5, 0).await;
        app.set_queue(concert, 1, 1000, false).await;
        let first = app.buyer("first").await;
        let first_token = app.active_token(&first, concert).await;
        let second = app.buyer("second").await;
        let token = app.join(&second, concert).await.str("token").to_owned();
        let mut stream = app
            .api
            .queue_stream(&second, &token)
            .await
            .expect("stream opens");
        assert_eq!(stream.status(), StatusCode::OK);
        assert_eq!(stream.headers()["content-type"], "text/event-stream");
        assert_eq!(stream.headers()["x-accel-buffering"], "no");
        let waiting = events_until(&mut stream, |_| true).await;
        assert_eq!(waiting[0]["status"], "WAITING");
        assert_eq!(waiting[0]["position"], 1);
        assert_eq!(
            app.leave(&first, &first_token).await.status,
            StatusCode::NO_CONTENT
        );
        let active = events_until(&mut stream, |e| e["status"] == "ACTIVE").await;
        assert_eq!(active.last().expect("an event")["status"], "ACTIVE");
        assert_eq!(
            app.leave(&second, &token).await.status,
            StatusCode::NO_CONTENT
        );
        let ended = events_until(&mut stream, |e| e["status"] == "EXPIRED").await;
        assert_eq!(ended.last().expect("an event")["status"], "EXPIRED");
        let rest = tokio::time::timeout(Duration::from_secs(10), stream.chunk())
            .await
            .expect("the stream ends");
        assert!(matches!(rest, Ok(None)), "nothing after EXPIRED");
    }
);

/// The in-process room starts empty; on start it learns every concert's
/// stock again from the database, so a sold-out concert stays closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_restarted_embedded_server_still_knows_a_concert_is_sold_out() {
    let Some(app) = TestApp::spawn(frontrow_tests::Stores::Embedded).await else {
        return;
    };
    let (concert, schedule) = app.concert(1, 0).await;
    let (buyer, token) = app.admitted("buyer", 0, concert).await;
    let (_, paid) = app.buy(&buyer, &token, schedule, 1).await;
    assert_eq!(paid.status, StatusCode::CREATED);
    let restarted = app.sibling().await;
    let late = restarted
        .join(&restarted.buyer("late").await, concert)
        .await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.body);
    assert_eq!(late.code(), "SOLD_OUT");
}

contract!(
    a_full_room_that_does_not_move_reads_a_growing_wait,
    |app: TestApp| async move {
        let (concert, _) = app.concert(5, 0).await;
        app.set_queue(concert, 1, 1000, false).await;
        let stayer = app.buyer("stayer").await;
        let active = app.join(&stayer, concert).await;
        assert_eq!(active.str("status"), "ACTIVE");
        let waiter = app.buyer("waiter").await;
        let token = app.join(&waiter, concert).await.str("token").to_owned();
        let first = app.status(&waiter, &token).await;
        assert_eq!(first.str("status"), "WAITING");
        tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
        let later = app.status(&waiter, &token).await;
        let (before, after) = (
            first.i64("estimatedWaitSeconds"),
            later.i64("estimatedWaitSeconds"),
        );
        // The rate alone (1,000/s) would say 1 s for ever; nobody has left
        // the full room for 2.5 s, so the estimate says at least that.
        assert!(after >= 3 && after > before, "{before} s, then {after} s");
    }
);

contract!(
    a_room_lets_in_no_more_buyers_than_its_seats_warrant,
    |config| {
        config.stock_percent = 125;
        config.stock_spare = frontrow_domain::queue::DEFAULT_STOCK_SPARE;
    },
    |app: TestApp| async move {
        // 2 seats: ceil(2 × 125 %) + 2 = 5 ACTIVE at most, whatever the
        // capacity (1,000) and the rate (1,000/s) allow.
        let (concert, schedule) = app.concert(2, 0).await;
        assert_eq!(
            app.set_queue(concert, 1_000, 1_000, false).await.status,
            StatusCode::OK
        );
        let mut joined = Vec::new();
        for i in 0..8 {
            let buyer = app.buyer(&format!("fan{i}")).await;
            let place = app.join(&buyer, concert).await;
            joined.push((
                place.str("status").to_owned(),
                buyer,
                place.str("token").to_owned(),
            ));
        }
        let statuses: Vec<&str> = joined.iter().map(|(s, ..)| s.as_str()).collect();
        assert_eq!(
            statuses,
            ["ACTIVE"; 5]
                .iter()
                .chain(["WAITING"; 3].iter())
                .copied()
                .collect::<Vec<_>>()
        );
        let state = app.queue_state(concert).await;
        assert_eq!((state.i64("active"), state.i64("waiting")), (5, 3));
        // The operator's rate is in force while the write path is within
        // budget (the test servers run no controller).
        assert_eq!(state.i64("admissionRate"), 1_000);
        assert_eq!(state.i64("admitPerSecond"), 1_000);
        // One seat is sold: ceil(1 × 125 %) + 2 = 4, and the buyer's place
        // ends; nobody new is let in while 4 are ACTIVE.
        let (_, buyer, token) = &joined[0];
        let (_, paid) = app.buy(buyer, token, schedule, 1).await;
        assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);
        let state = app.queue_state(concert).await;
        assert_eq!((state.i64("active"), state.i64("waiting")), (4, 3));
        // An ACTIVE buyer leaves: a slot under the rule frees, and the
        // first in line is let in.
        let (_, leaver, token) = &joined[1];
        assert_eq!(
            app.leave(leaver, token).await.status,
            StatusCode::NO_CONTENT
        );
        let state = app.queue_state(concert).await;
        assert_eq!((state.i64("active"), state.i64("waiting")), (4, 2));
    }
);
