//! Every guarantee under contention: many concurrent requests, then exact counts.

use frontrow_tests::{Buyer, TestApp, contract};
use reqwest::StatusCode;
use std::sync::Arc;
use std::time::Duration;

async fn admitted_buyers(
    app: &TestApp,
    concert: i64,
    n: usize,
    points: i64,
) -> Vec<(Buyer, String)> {
    let mut buyers = Vec::with_capacity(n);
    for i in 0..n {
        buyers.push(app.admitted(&format!("b{i}"), points, concert).await);
    }
    buyers
}

contract!(
    two_hundred_buyers_racing_for_one_seat_get_exactly_one_hold,
    |app: TestApp| async move {
        let app = Arc::new(app);
        let (concert, schedule) = app.concert(5, 10).await;
        let buyers = admitted_buyers(&app, concert, 200, 0).await;
        let mut tasks = Vec::new();
        for (buyer, token) in buyers {
            let app = app.clone();
            tasks.push(tokio::spawn(async move {
                app.hold(&buyer, &token, schedule, 1).await
            }));
        }
        let (mut won, mut lost) = (0, 0);
        for task in tasks {
            let reply = task.await.expect("task");
            match reply.status {
                StatusCode::CREATED => won += 1,
                StatusCode::CONFLICT if reply.code() == "SEAT_UNAVAILABLE" => lost += 1,
                other => panic!("unexpected {other}: {}", reply.body),
            }
        }
        assert_eq!((won, lost), (1, 199));
        let holds = app
        .count("SELECT COUNT(*) FROM reservations WHERE schedule_id = ? AND seat_number = 1 AND status = 'HELD'", schedule)
        .await;
        assert_eq!(holds, 1);
    }
);

contract!(
    a_hundred_concurrent_charges_add_up_exactly,
    |app: TestApp| async move {
        let app = Arc::new(app);
        let buyer = Arc::new(app.buyer("saver").await);
        let mut tasks = Vec::new();
        for _ in 0..100 {
            let (app, buyer) = (app.clone(), buyer.clone());
            tasks.push(tokio::spawn(async move {
                app.charge(&buyer, 7, None).await.status
            }));
        }
        for task in tasks {
            assert_eq!(task.await.expect("task"), StatusCode::OK);
        }
        assert_eq!(app.balance(&buyer).await, 700);
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM point_ledger WHERE user_id = ?",
                buyer.user_id
            )
            .await,
            100
        );
    }
);

contract!(
    concurrent_retries_of_one_charge_apply_once,
    |app: TestApp| async move {
        let app = Arc::new(app);
        let buyer = Arc::new(app.buyer("retrier").await);
        let mut tasks = Vec::new();
        for _ in 0..30 {
            let (app, buyer) = (app.clone(), buyer.clone());
            tasks.push(tokio::spawn(async move {
                app.charge(&buyer, 50, Some("same-key")).await
            }));
        }
        for task in tasks {
            let reply = task.await.expect("task");
            assert_eq!(
                (reply.status, reply.i64("balance")),
                (StatusCode::OK, 50),
                "{}",
                reply.body
            );
        }
        assert_eq!(app.balance(&buyer).await, 50);
    }
);

contract!(
    one_buyer_holding_many_seats_at_once_stays_within_the_limit,
    |app: TestApp| async move {
        let app = Arc::new(app);
        let (concert, schedule) = app.concert(20, 0).await;
        let buyer = Arc::new(app.buyer("greedy").await);
        let token = Arc::new(app.active_token(&buyer, concert).await);
        let mut tasks = Vec::new();
        for seat in 1..=12 {
            let (app, buyer, token) = (app.clone(), buyer.clone(), token.clone());
            tasks.push(tokio::spawn(async move {
                app.hold(&buyer, &token, schedule, seat).await.status
            }));
        }
        let mut created = 0;
        for task in tasks {
            if task.await.expect("task") == StatusCode::CREATED {
                created += 1;
            }
        }
        assert_eq!(created, 4);
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM reservations WHERE user_id = ?",
                buyer.user_id
            )
            .await,
            4
        );
    }
);

contract!(
    payment_cancel_and_expiry_racing_on_one_hold_have_one_outcome,
    |c: &mut frontrow::Config| c.hold_seconds = 1,
    |app: TestApp| async move {
        let app = Arc::new(app);
        let price = 100;
        let (concert, schedule) = app.concert(30, price).await;
        let buyers = admitted_buyers(&app, concert, 24, 1000).await;
        let mut tasks = Vec::new();
        for (i, (buyer, token)) in buyers.into_iter().enumerate() {
            let app = app.clone();
            tasks.push(tokio::spawn(async move {
                let seat = i as i64 + 1;
                let id = app
                    .hold(&buyer, &token, schedule, seat)
                    .await
                    .i64("reservationId");
                // Spread payment and cancel around the 1 s deadline.
                let pay_at = Duration::from_millis(40 * (i as u64 % 12) + 600);
                let cancel_at = Duration::from_millis(40 * ((i as u64 * 7) % 12) + 600);
                let (pay, cancel) = tokio::join!(
                    async {
                        tokio::time::sleep(pay_at).await;
                        app.pay(&buyer, &token, id).await
                    },
                    async {
                        tokio::time::sleep(cancel_at).await;
                        app.cancel(&buyer, id).await
                    }
                );
                tokio::time::sleep(Duration::from_millis(1200)).await;
                let state = app.reservation(&buyer, id).await.str("status").to_owned();
                let balance = app.balance(&buyer).await;
                (buyer, seat, state, pay.status, cancel.status, balance)
            }));
        }
        let observer = app.buyer("observer").await;
        let observer_token = app.active_token(&observer, concert).await;
        let mut outcomes = std::collections::BTreeMap::new();
        for task in tasks {
            let (buyer, seat, state, pay, cancel, balance) = task.await.expect("task");
            let paid = pay == StatusCode::CREATED;
            let cancelled = cancel == StatusCode::OK;
            assert!(
                !(paid && cancelled),
                "both payment and cancel succeeded for seat {seat}"
            );
            let seat_status = app
                .seat_status(&observer, &observer_token, schedule, seat)
                .await;
            match state.as_str() {
                "CONFIRMED" => {
                    assert!(
                        paid && balance == 1000 - price && seat_status == "SOLD",
                        "seat {seat}"
                    );
                }
                "CANCELLED" | "EXPIRED" => {
                    assert!(
                        !paid && balance == 1000 && seat_status == "AVAILABLE",
                        "seat {seat}: {state}"
                    );
                }
                other => panic!("seat {seat} ended {other}"),
            }
            let payments = app
                .count(
                    "SELECT COUNT(*) FROM payments WHERE user_id = ?",
                    buyer.user_id,
                )
                .await;
            assert_eq!(payments, i64::from(state == "CONFIRMED"));
            *outcomes.entry(state).or_insert(0) += 1;
        }
        eprintln!("outcomes: {outcomes:?}");
    }
);
