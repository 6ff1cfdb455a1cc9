//! The household limit (`frontrow_domain::household`): accounts made
//! together from one network share `--household-seats` seats per schedule.
//!
//! Straight against the store on both backends: many accounts of one
//! household holding at the same moment get exactly the limit, another
//! household is unaffected, a lapsed hold frees its room, and the limit
//! off changes nothing. Then over HTTP on every backend: the refusal is a
//! 409 problem+json `HOUSEHOLD_LIMIT` that writes nothing, accounts from
//! another address are served, and a released hold frees the room.

use frontrow::Config;
use frontrow_adapters::sql::SqlStore;
use frontrow_application::Clock;
use frontrow_application::catalogue::Catalogue;
use frontrow_application::reservations::{GroupHoldRequest, ReservationError, SeatHolds};
use frontrow_application::users::UserStore;
use frontrow_client::Buyer;
use frontrow_domain::catalogue::{NewConcert, NewSchedule, Schedule};
use frontrow_domain::household::{Household, HouseholdLimit};
use frontrow_domain::reservation::{SeatGroup, SeatLimit};
use frontrow_domain::seat::SeatNumber;
use frontrow_domain::user::UserName;
use frontrow_domain::{Timestamp, UserId};
use frontrow_tests::{TestApp, contract, unique};
use reqwest::StatusCode;
use sqlx::Row;
use std::sync::Arc;
use std::time::Duration;

const NOW: Timestamp = Timestamp(1_700_000_000_000);
const HOLD_MS: i64 = 300_000;
/// The shipped limit: two buyers' worth.
const LIMIT: HouseholdLimit = HouseholdLimit(8);
/// Accounts per household in the rush: more than the limit lets hold.
const ACCOUNTS: i64 = 12;

struct FixedClock;

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        NOW
    }
}

async fn store_at(url: &str) -> Arc<SqlStore> {
    let store = SqlStore::connect(url, 16, Duration::from_secs(10), Arc::new(FixedClock))
        .await
        .expect("the database answers");
    store.migrate().await.expect("migrations apply");
    Arc::new(store)
}

async fn schedule(store: &SqlStore, seats: i64) -> Schedule {
    let schedule = NewSchedule::parse(NOW, seats, 0).expect("a schedule");
    let concert = NewConcert::parse("Households", vec![schedule]).expect("a concert");
    store
        .create_concert(&concert)
        .await
        .expect("created")
        .schedules[0]
}

/// `n` accounts of one new household (or of none).
async fn accounts(store: &SqlStore, n: i64, household: Option<&Household>) -> Vec<UserId> {
    let name = UserName::parse("a household member").expect("a name");
    let mut users = Vec::new();
    for _ in 0..n {
        users.push(store.create_user(&name, household).await.expect("a user"));
    }
    users
}

fn household() -> Household {
    Household {
        network: format!("test-{}", unique()),
        window_start: NOW,
    }
}

fn request(user: UserId, schedule: Schedule, seat: i64, at: Timestamp) -> GroupHoldRequest {
    GroupHoldRequest {
        user,
        schedule,
        seats: SeatGroup::one(SeatNumber::from_store(seat)),
        now: at,
        until: Timestamp(at.millis() + HOLD_MS),
        uncovered_until: Timestamp(at.millis() + HOLD_MS),
        limit: SeatLimit(4),
        household: LIMIT,
    }
}

/// Every account holds a seat of its own at the same moment: how many
/// were held, and every refusal (which must be the household's).
async fn rush(
    store: &Arc<SqlStore>,
    users: &[UserId],
    schedule: Schedule,
    first_seat: i64,
    limit: HouseholdLimit,
) -> usize {
    let mut tasks = tokio::task::JoinSet::new();
    for (i, &user) in users.iter().enumerate() {
        let store = store.clone();
        let mut request = request(user, schedule, first_seat + i as i64, NOW);
        request.household = limit;
        tasks.spawn(async move { store.hold_together(request).await });
    }
    let mut held = 0;
    for answer in tasks.join_all().await {
        match answer {
            Ok(_) => held += 1,
            Err(ReservationError::HouseholdLimitReached { limit: said }) => {
                assert_eq!(said, limit.0, "the refusal names the limit")
            }
            Err(other) => panic!("unexpected answer {other:?}"),
        }
    }
    held
}

async fn live_seats(store: &SqlStore, users: &[UserId], schedule: Schedule, at: Timestamp) -> i64 {
    let mut total = 0;
    for user in users {
        total += sqlx::query(
            "SELECT COUNT(*) AS n FROM reservations WHERE user_id = ? AND schedule_id = ? \
             AND status = 'HELD' AND hold_expires_at_ms > ?",
        )
        .bind(user.get())
        .bind(schedule.id.get())
        .bind(at.millis())
        .fetch_one(store.reader())
        .await
        .expect("a count")
        .get::<i64, _>("n");
    }
    total
}

async fn a_household_holds_exactly_its_limit_however_many_of_its_accounts_rush(url: &str) {
    let store = store_at(url).await;
    let schedule = schedule(&store, 100).await;
    let (ours, theirs) = (household(), household());
    let ours = accounts(&store, ACCOUNTS, Some(&ours)).await;
    let theirs = accounts(&store, ACCOUNTS, Some(&theirs)).await;
    let loners = accounts(&store, ACCOUNTS, None).await;

    // Two households and a dozen accounts of none, all at once.
    let (a, b, c) = tokio::join!(
        rush(&store, &ours, schedule, 1, LIMIT),
        rush(&store, &theirs, schedule, 21, LIMIT),
        rush(&store, &loners, schedule, 41, LIMIT),
    );
    assert_eq!(a, LIMIT.0 as usize, "exactly the limit for one household");
    assert_eq!(b, LIMIT.0 as usize, "another household is unaffected");
    assert_eq!(
        c, ACCOUNTS as usize,
        "accounts of no household: their own limit only"
    );
    assert_eq!(
        live_seats(&store, &ours, schedule, NOW).await,
        i64::from(LIMIT.0)
    );
    assert_eq!(
        live_seats(&store, &theirs, schedule, NOW).await,
        i64::from(LIMIT.0)
    );

    // A group counts every seat: one seat short of room for two.
    let mut full = request(ours[0], schedule, 61, NOW);
    full.seats = SeatGroup::new(
        vec![SeatNumber::from_store(61), SeatNumber::from_store(62)],
        SeatLimit(4),
    )
    .expect("a group");
    assert!(matches!(
        store.hold_together(full).await,
        Err(ReservationError::HouseholdLimitReached { .. })
    ));

    // Once the holds lapse, the household has its room again.
    let later = Timestamp(NOW.millis() + HOLD_MS);
    let again = store
        .hold_together(request(ours[ACCOUNTS as usize - 1], schedule, 63, later))
        .await;
    assert!(
        again.is_ok(),
        "a lapsed hold frees the household's room: {again:?}"
    );

    // An account of no household is never held to a household's limit,
    // however small, even for a group larger than it.
    let loner = accounts(&store, 1, None).await[0];
    let mut group = request(loner, schedule, 71, NOW);
    group.household = HouseholdLimit(2);
    group.seats = SeatGroup::new(
        (71..=74).map(SeatNumber::from_store).collect(),
        SeatLimit(4),
    )
    .expect("a group");
    let held = store.hold_together(group).await;
    assert!(held.is_ok(), "{held:?}");
}

async fn the_household_limit_off_changes_nothing(url: &str) {
    let store = store_at(url).await;
    let schedule = schedule(&store, 20).await;
    let ours = accounts(&store, ACCOUNTS, Some(&household())).await;
    let held = rush(&store, &ours, schedule, 1, HouseholdLimit::OFF).await;
    assert_eq!(held, ACCOUNTS as usize);
}

fn sqlite_url() -> String {
    frontrow_tests::fresh_sqlite_url("households")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_holds_exactly_the_household_limit_under_a_rush() {
    a_household_holds_exactly_its_limit_however_many_of_its_accounts_rush(&sqlite_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mariadb_holds_exactly_the_household_limit_under_a_rush() {
    let Some(url) = frontrow_tests::fresh_mysql_database().await else {
        return;
    };
    a_household_holds_exactly_its_limit_however_many_of_its_accounts_rush(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_with_the_household_limit_off_holds_every_seat() {
    the_household_limit_off_changes_nothing(&sqlite_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mariadb_with_the_household_limit_off_holds_every_seat() {
    let Some(url) = frontrow_tests::fresh_mysql_database().await else {
        return;
    };
    the_household_limit_off_changes_nothing(&url).await;
}

/// The shipped limit, on; windows so long that a run never straddles two.
fn households_on(config: &mut Config) {
    config.household_seats = LIMIT.0;
    config.household_window_minutes = 1_000_000;
}

/// A buyer signed up from `address`.
async fn buyer_from(app: &TestApp, address: &str) -> Buyer {
    let reply = app
        .client_from(address)
        .register(&format!("h{}", unique()))
        .await
        .expect("an answer");
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.buyer().expect("a user id and an access token")
}

contract!(
    accounts_signed_up_together_from_one_address_share_the_household_limit,
    households_on,
    |app: TestApp| async move {
        let (concert, schedule) = app.concert(100, 0).await;
        let mut ours = Vec::new();
        for _ in 0..ACCOUNTS {
            let buyer = buyer_from(&app, "127.0.7.1").await;
            let token = app.active_token(&buyer, concert).await;
            ours.push((buyer, token));
        }
        let mut tasks = tokio::task::JoinSet::new();
        for (seat, (buyer, token)) in (1..).zip(ours.iter().cloned()) {
            let api = app.api.clone();
            tasks.spawn(async move {
                let reply = api.hold(&buyer, &token, schedule, seat).await;
                (seat, reply.expect("an answer"))
            });
        }
        let replies = tasks.join_all().await;
        let held = replies
            .iter()
            .filter(|(_, r)| r.status == StatusCode::CREATED)
            .count();
        assert_eq!(held, LIMIT.0 as usize);
        let refused: Vec<i64> = replies
            .iter()
            .filter(|(_, r)| r.status != StatusCode::CREATED)
            .map(|(seat, r)| {
                assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
                assert_eq!(r.content_type, "application/problem+json");
                assert_eq!(r.body["code"], "HOUSEHOLD_LIMIT");
                assert!(r.body["detail"].as_str().unwrap_or("").contains("8 seats"));
                *seat
            })
            .collect();
        assert_eq!(refused.len(), (ACCOUNTS - i64::from(LIMIT.0)) as usize);
        // Nothing was written for a refusal: its seat is free.
        let (other, token) = {
            let buyer = buyer_from(&app, "127.0.8.1").await;
            let token = app.active_token(&buyer, concert).await;
            (buyer, token)
        };
        let reply = app.hold(&other, &token, schedule, refused[0]).await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "another address: {}",
            reply.body
        );

        // A released hold frees the household's room, for one seat. (Seat
        // `n` was asked for by account `n - 1`.)
        let account = |seat: i64| &ours[seat as usize - 1];
        let (seat, first) = replies
            .iter()
            .find(|(_, r)| r.status == StatusCode::CREATED)
            .expect("a holder");
        let cancelled = app
            .cancel(&account(*seat).0, first.i64("reservationId"))
            .await;
        assert!(cancelled.status.is_success(), "{}", cancelled.body);
        // A refusal ended the refused account's turn (it held nothing), so
        // it holds on the old token no more and joins again.
        let (buyer, old) = account(refused[1]);
        let reply = app.hold(buyer, old, schedule, 90).await;
        assert!(reply.status.is_client_error(), "{}", reply.body);
        assert_ne!(reply.body["code"], "HOUSEHOLD_LIMIT", "{}", reply.body);
        let token = &app.active_token(buyer, concert).await;
        let reply = app.hold(buyer, token, schedule, 90).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        let reply = app.hold(buyer, token, schedule, 91).await;
        assert_eq!(reply.body["code"], "HOUSEHOLD_LIMIT", "{}", reply.body);
    }
);
