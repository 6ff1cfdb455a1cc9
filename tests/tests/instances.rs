//! Two app instances on the same MariaDB and Redis (one server, and a
//! 3-master Redis Cluster): the stores, not the instances, decide seats and
//! admission.

use frontrow_tests::{Stores, TestApp};
use reqwest::StatusCode;
use std::sync::Arc;

mod two_instances_never_double_book_or_exceed_capacity {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn mysql_redis() {
        super::two_instances_never_double_book_or_exceed_capacity(Stores::MySqlRedis).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn mysql_redis_cluster() {
        super::two_instances_never_double_book_or_exceed_capacity(Stores::MySqlRedisCluster).await;
    }
}

async fn two_instances_never_double_book_or_exceed_capacity(stores: Stores) {
    let Some(first) = TestApp::spawn(stores).await else {
        return;
    };
    let second = first.sibling().await;
    let apps = [Arc::new(first), Arc::new(second)];
    let (concert, schedule) = apps[0].concert(3, 0).await;
    apps[1].set_queue(concert, 5, 10_000, false).await;

    let mut tasks = Vec::new();
    for i in 0..40 {
        let app = apps[i % 2].clone();
        tasks.push(tokio::spawn(async move {
            let buyer = app.buyer(&format!("fan{i}")).await;
            let joined = app.join(&buyer, concert).await;
            (
                buyer,
                joined.str("token").to_owned(),
                joined.str("status").to_owned(),
            )
        }));
    }
    let mut line = Vec::new();
    for task in tasks {
        line.push(task.await.expect("task"));
    }
    for app in &apps {
        let state = app.queue_state(concert).await;
        assert_eq!(
            (state.i64("active"), state.i64("waiting")),
            (5, 35),
            "{}",
            state.body
        );
    }
    let active: Vec<_> = line.into_iter().filter(|l| l.2 == "ACTIVE").collect();
    assert_eq!(active.len(), 5);

    let mut holds = Vec::new();
    for (i, (buyer, token, _)) in active.into_iter().enumerate() {
        let app = apps[i % 2].clone();
        holds.push(tokio::spawn(async move {
            app.hold(&buyer, &token, schedule, 2).await.status
        }));
    }
    let mut won = 0;
    for hold in holds {
        if hold.await.expect("task") == StatusCode::CREATED {
            won += 1;
        }
    }
    assert_eq!(won, 1);
    assert_eq!(
        apps[0]
            .count(
                "SELECT COUNT(*) FROM reservations WHERE schedule_id = ? AND status = 'HELD'",
                schedule
            )
            .await,
        1
    );
}

/// `frontrow_seat_map_loads_total` and `frontrow_seat_changes_applied_total`.
async fn seat_map_counters(app: &TestApp) -> (u64, u64) {
    let (_, text) = app.api.metrics().await.expect("metrics");
    let value = |name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok())
            .expect("metric present") as u64
    };
    (
        value("frontrow_seat_map_loads_total "),
        value("frontrow_seat_changes_applied_total "),
    )
}

mod a_seat_change_on_one_instance_reaches_the_other_through_the_log {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn mysql_redis() {
        super::a_seat_change_on_one_instance_reaches_the_other_through_the_log(Stores::MySqlRedis)
            .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn mysql_redis_cluster() {
        super::a_seat_change_on_one_instance_reaches_the_other_through_the_log(
            Stores::MySqlRedisCluster,
        )
        .await;
    }
}

/// The second instance's status of `seat`, read until it is `status`;
/// how long that took. Each instance follows the log in the background, so
/// another instance's change shows within the follower's bound.
async fn seen_within(
    app: &TestApp,
    buyer: &frontrow_tests::Buyer,
    token: &str,
    (schedule, seat): (i64, i64),
    status: &str,
) -> std::time::Duration {
    let started = std::time::Instant::now();
    while app.seat_status(buyer, token, schedule, seat).await != status {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "seat {seat} never read {status}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    started.elapsed()
}

async fn a_seat_change_on_one_instance_reaches_the_other_through_the_log(stores: Stores) {
    let Some(first) = TestApp::spawn(stores).await else {
        return;
    };
    let second = first.sibling().await;
    let (concert, schedule) = first.concert(5, 0).await;
    let buyer = first.buyer("fan").await;
    let token = first.active_token(&buyer, concert).await;
    assert_eq!(
        first.seat_status(&buyer, &token, schedule, 3).await,
        "AVAILABLE"
    );
    assert_eq!(
        second.seat_status(&buyer, &token, schedule, 3).await,
        "AVAILABLE"
    );
    let (loads, applied) = seat_map_counters(&second).await;
    let held = first.hold(&buyer, &token, schedule, 3).await;
    assert_eq!(held.status, StatusCode::CREATED);
    // Read-your-writes where the change was made: at once.
    assert_eq!(first.seat_status(&buyer, &token, schedule, 3).await, "HELD");
    // Elsewhere within the follower's bound (50 ms polls; 2 s is CI's slack).
    let took = seen_within(&second, &buyer, &token, (schedule, 3), "HELD").await;
    eprintln!("the other instance showed the hold after {took:?}");
    assert_eq!(
        seat_map_counters(&second).await,
        (loads, applied + 1),
        "one change applied, no reload"
    );
    first.cancel(&buyer, held.i64("reservationId")).await;
    assert_eq!(
        first.seat_status(&buyer, &token, schedule, 3).await,
        "AVAILABLE"
    );
    seen_within(&second, &buyer, &token, (schedule, 3), "AVAILABLE").await;
    assert_eq!(seat_map_counters(&second).await, (loads, applied + 2));
}
