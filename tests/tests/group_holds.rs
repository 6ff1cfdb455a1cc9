//! Holds of several seats at once, straight against the store on both
//! backends: all or nothing, never a seat twice, each at its seat row's
//! price, under many concurrent overlapping groups.

use frontrow_adapters::sql::SqlStore;
use frontrow_application::Clock;
use frontrow_application::catalogue::Catalogue;
use frontrow_application::reservations::{GroupHoldRequest, ReservationError, SeatHolds};
use frontrow_application::users::UserStore;
use frontrow_domain::catalogue::{NewConcert, NewSchedule, Schedule};
use frontrow_domain::household::HouseholdLimit;
use frontrow_domain::reservation::{SeatGroup, SeatLimit};
use frontrow_domain::seat::SeatNumber;
use frontrow_domain::user::UserName;
use frontrow_domain::{Timestamp, UserId};
use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

const NOW: Timestamp = Timestamp(1_700_000_000_000);
const SEATS: i64 = 40;
const GROUPS: i64 = 120;

struct FixedClock;

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        NOW
    }
}

async fn store_at(url: &str) -> SqlStore {
    let store = SqlStore::connect(url, 8, Duration::from_secs(10), Arc::new(FixedClock))
        .await
        .expect("the database answers");
    store.migrate().await.expect("migrations apply");
    store
}

async fn schedule(store: &SqlStore, price: i64) -> Schedule {
    let schedule = NewSchedule::parse(NOW, SEATS, price).expect("a schedule");
    let concert = NewConcert::parse("Groups", vec![schedule]).expect("a concert");
    store
        .create_concert(&concert)
        .await
        .expect("created")
        .schedules[0]
}

fn group(seats: &[i64]) -> SeatGroup {
    SeatGroup::new(
        seats.iter().copied().map(SeatNumber::from_store).collect(),
        SeatLimit(4),
    )
    .expect("a group")
}

fn request(user: UserId, schedule: Schedule, seats: &[i64]) -> GroupHoldRequest {
    GroupHoldRequest {
        user,
        schedule,
        seats: group(seats),
        now: NOW,
        until: Timestamp(NOW.millis() + 300_000),
        uncovered_until: Timestamp(NOW.millis() + 60_000),
        limit: SeatLimit(4),
        household: HouseholdLimit::OFF,
    }
}

async fn the_store_holds_overlapping_groups_all_or_nothing_and_never_a_seat_twice(url: &str) {
    let store = Arc::new(store_at(url).await);
    let schedule = schedule(&store, 50).await;
    // Seat rows carry their own prices (as a venue's tiers would write them).
    sqlx::query("UPDATE seats SET price = 10 * seat_number WHERE schedule_id = ?")
        .bind(schedule.id.get())
        .execute(store.reader())
        .await
        .expect("prices");
    let name = UserName::parse("a group buyer").expect("a name");
    let mut tasks = Vec::new();
    for i in 0..GROUPS {
        let user = store.create_user(&name, None).await.expect("a user");
        // Points enough for any group: every hold is covered.
        sqlx::query("UPDATE users SET balance = 100000 WHERE id = ?")
            .bind(user.get())
            .execute(store.reader())
            .await
            .expect("a balance");
        // Groups of 2 to 4 seats that overlap their neighbours', given in
        // an order of their own.
        let first = i % (SEATS - 4) + 1;
        let seats: Vec<i64> = (0..(i % 3 + 2)).rev().map(|k| first + k).collect();
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let answer = store.hold_together(request(user, schedule, &seats)).await;
            (user, seats, answer)
        }));
    }
    let mut held_by = BTreeMap::new();
    let mut granted = 0;
    for task in tasks {
        let (user, seats, answer) = task.await.expect("task");
        match answer {
            Ok(held) => {
                granted += 1;
                let got: Vec<i64> = held.iter().map(|(r, _)| r.seat.get()).collect();
                let mut asked = seats.clone();
                asked.sort_unstable();
                assert_eq!(got, asked, "every seat of the group, ascending");
                for (reservation, _) in &held {
                    assert_eq!(reservation.user, user);
                    assert_eq!(reservation.price.get(), 10 * reservation.seat.get());
                    let before = held_by.insert(reservation.seat.get(), reservation.id.get());
                    assert_eq!(before, None, "seat {:?} held twice", reservation.seat);
                }
            }
            Err(ReservationError::SeatUnavailable) => {}
            Err(other) => panic!("unexpected refusal {other:?}"),
        }
    }
    assert!(granted > 0, "some group is held");
    let rows = sqlx::query(
        "SELECT user_id, seat_number, id, price FROM reservations WHERE schedule_id = ? AND status = 'HELD'",
    )
    .bind(schedule.id.get())
    .fetch_all(store.reader())
    .await
    .expect("reservations");
    let mut per_user: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    for row in &rows {
        let seat: i64 = row.get("seat_number");
        assert_eq!(held_by.get(&seat), Some(&row.get::<i64, _>("id")));
        assert_eq!(row.get::<i64, _>("price"), 10 * seat);
        per_user.entry(row.get("user_id")).or_default().insert(seat);
    }
    assert_eq!(
        rows.len(),
        held_by.len(),
        "no reservation of a refused group"
    );
    assert_eq!(per_user.len(), granted, "a group is all or nothing");
    let claimed = sqlx::query(
        "SELECT COUNT(*) AS n FROM seats WHERE schedule_id = ? AND reservation_id IS NOT NULL",
    )
    .bind(schedule.id.get())
    .fetch_one(store.reader())
    .await
    .expect("seats")
    .get::<i64, _>("n");
    assert_eq!(claimed as usize, held_by.len());
    let events =
        sqlx::query("SELECT COUNT(*) AS n FROM outbox WHERE event_type = 'reservation.held'")
            .fetch_one(store.reader())
            .await
            .expect("outbox")
            .get::<i64, _>("n");
    assert_eq!(events as usize, held_by.len(), "an event per held seat");
}

async fn a_group_past_the_limit_or_over_a_taken_seat_writes_nothing(url: &str) {
    let store = store_at(url).await;
    let schedule = schedule(&store, 0).await;
    let name = UserName::parse("a buyer").expect("a name");
    let (ada, bob) = (
        store.create_user(&name, None).await.expect("a user"),
        store.create_user(&name, None).await.expect("a user"),
    );
    store
        .hold_together(request(ada, schedule, &[1, 2, 3]))
        .await
        .expect("held");
    // Two more seats would make five: the limit, for free seats.
    let past = store.hold_together(request(ada, schedule, &[4, 5])).await;
    assert!(
        matches!(past, Err(ReservationError::SeatLimitReached)),
        "{past:?}"
    );
    // A taken seat first, whatever the limit.
    let over = store.hold_together(request(ada, schedule, &[3, 4])).await;
    assert!(
        matches!(over, Err(ReservationError::SeatUnavailable)),
        "{over:?}"
    );
    let over = store.hold_together(request(bob, schedule, &[4, 3])).await;
    assert!(
        matches!(over, Err(ReservationError::SeatUnavailable)),
        "{over:?}"
    );
    let bobs = sqlx::query("SELECT COUNT(*) AS n FROM reservations WHERE user_id = ?")
        .bind(bob.get())
        .fetch_one(store.reader())
        .await
        .expect("count")
        .get::<i64, _>("n");
    assert_eq!(bobs, 0, "seat 4 was not kept from a refused group");
    store
        .hold_together(request(bob, schedule, &[4]))
        .await
        .expect("seat 4 is free");
}

fn sqlite_url() -> String {
    frontrow_tests::fresh_sqlite_url("groups")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_holds_overlapping_groups_all_or_nothing_and_never_a_seat_twice() {
    the_store_holds_overlapping_groups_all_or_nothing_and_never_a_seat_twice(&sqlite_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mariadb_holds_overlapping_groups_all_or_nothing_and_never_a_seat_twice() {
    let Some(url) = frontrow_tests::fresh_mysql_database().await else {
        return;
    };
    the_store_holds_overlapping_groups_all_or_nothing_and_never_a_seat_twice(&url).await;
}

#[tokio::test]
async fn sqlite_refuses_a_group_past_the_limit_or_over_a_taken_seat_writing_nothing() {
    a_group_past_the_limit_or_over_a_taken_seat_writes_nothing(&sqlite_url()).await;
}

#[tokio::test]
async fn mariadb_refuses_a_group_past_the_limit_or_over_a_taken_seat_writing_nothing() {
    let Some(url) = frontrow_tests::fresh_mysql_database().await else {
        return;
    };
    a_group_past_the_limit_or_over_a_taken_seat_writes_nothing(&url).await;
}
