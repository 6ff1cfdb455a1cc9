//! The SQL store against the domain's machines. One sale per case (a
//! schedule of 2 to 4 seats, a price, a seat limit, a household limit
//! (0: off) shared by the first two buyers, three buyers with
//! their starting balances), then random charges (with and without retry
//! keys, and by a user that does not exist), holds (covered by the
//! buyer's points, or their one short uncovered hold, or refused for
//! points: `frontrow_domain::hold_cost`), cancels and payments of
//! carts of one to three reservations (the buyer's own, someone else's, one
//! that does not exist, mixed: the first that refuses is named and nothing
//! of the cart is kept), expiry sweeps, and clock moves that often land exactly on a hold's
//! deadline. The store is asked at the model's `now` (`GroupHoldRequest::now`,
//! the `now` of cancel, pay and sweep; its own `Clock` for what it stamps).
//!
//! After every step: the answer (with the reservation, receipt, balance and
//! seat version it carries) equals the model's, and so does every seat row
//! (state and version), every buyer's reservations (newest first), balance,
//! reserved points (never more than the balance) and receipts. At the end of a case each buyer's ledger sums to their
//! balance. Ids are the store's: the model adopts each new one, after
//! checking that it was never issued before.

use super::{MAX_STEPS, check, runtime, same};
use frontrow_adapters::sql::SqlStore;
use frontrow_application::Clock;
use frontrow_application::catalogue::Catalogue;
use frontrow_application::payments::{PaymentError, PaymentStore, Receipt};
use frontrow_application::points::{Ledger, PointsError};
use frontrow_application::reservations::{GroupHoldRequest, ReservationError, SeatHolds};
use frontrow_application::seat_changes::StoredSeat;
use frontrow_application::users::UserStore;
use frontrow_domain::cart::PaymentLine;
use frontrow_domain::catalogue::{NewConcert, NewSchedule, Schedule};
use frontrow_domain::hold_cost::{self, Cover, Purse};
use frontrow_domain::household::{Household, HouseholdLimit};
use frontrow_domain::points::{
    ChargeAmount, IdempotencyKey, MAX_BALANCE, MAX_CHARGE, PointBalance, Points,
    PointsError as Rule,
};
use frontrow_domain::reservation::{
    Reservation, ReservationStatus, SeatGroup, SeatLimit, TransitionError,
};
use frontrow_domain::seat::{SeatNumber, SeatState, SeatStatus};
use frontrow_domain::user::UserName;
use frontrow_domain::{PaymentId, ReservationId, Timestamp, UserId};
use proptest::prelude::*;
use sqlx::Row;
use std::collections::HashMap;
use std::fmt::Display;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// Cases on SQLite: an in-process database, about 15 ms a case.
const SQLITE_CASES: u32 = 128;
/// Cases on MariaDB: every statement is a round trip, about 150 ms a case.
const MARIADB_CASES: u32 = 24;
/// Buyers per sale; `Step::Charge` may also name a user that does not exist.
const BUYERS: usize = 3;
/// How long a hold lasts.
const HOLD_MS: i64 = 5_000;
/// How long a hold the buyer's points do not cover lasts.
const UNCOVERED_MS: i64 = 2_000;
/// When every case starts.
const START: Timestamp = Timestamp(1_700_000_000_000);
/// How many ways `Step::Cancel`, `Step::Pay` and `Step::ToDeadline` pick
/// a reservation; the last picks one that does not exist.
const PICKS: usize = 8;
/// A user id no store issues.
const NOBODY: UserId = UserId::from_store(0);
/// A reservation id no store issues.
const NO_RESERVATION: ReservationId = ReservationId::from_store(0);

#[test]
fn the_sqlite_store_answers_and_holds_what_the_domain_machines_do_at_every_step() {
    let runtime = runtime();
    let dir = std::env::temp_dir().join(format!("frontrow-spec-{}", frontrow_tests::unique()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let url = format!("sqlite://{}?mode=rwc", dir.join("spec.db").display());
    let clock = Arc::new(TestClock(AtomicI64::new(START.millis())));
    let store = runtime.block_on(store_at(&url, clock.clone()));
    check(SQLITE_CASES, (sale(), steps()), |(sale, steps)| {
        runtime.block_on(run(&store, &clock, &sale, &steps))
    });
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_mariadb_store_answers_and_holds_what_the_domain_machines_do_at_every_step() {
    let runtime = runtime();
    let Some(url) = runtime.block_on(frontrow_tests::fresh_mysql_database()) else {
        return;
    };
    let clock = Arc::new(TestClock(AtomicI64::new(START.millis())));
    let store = runtime.block_on(store_at(&url, clock.clone()));
    check(MARIADB_CASES, (sale(), steps()), |(sale, steps)| {
        runtime.block_on(run(&store, &clock, &sale, &steps))
    });
}

async fn store_at(url: &str, clock: Arc<TestClock>) -> SqlStore {
    let store = SqlStore::connect(url, 4, Duration::from_secs(5), clock)
        .await
        .expect("the database answers");
    store.migrate().await.expect("migrations apply");
    store
}

/// The time the store stamps rows with; the spec moves it with the model.
struct TestClock(AtomicI64);

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

/// One case's sale.
#[derive(Debug, Clone)]
struct Sale {
    seats: i64,
    price: i64,
    limit: u32,
    household: u32,
    balances: [i64; BUYERS],
}

/// How many of the buyers (the first ones) share a household; the others
/// belong to none.
const HOUSEHOLD_BUYERS: usize = 2;

#[derive(Debug, Clone)]
enum Step {
    /// `buyer == BUYERS` is a user that does not exist.
    Charge {
        buyer: usize,
        amount: i64,
        key: Option<u8>,
    },
    Hold {
        buyer: usize,
        seat: i64,
    },
    /// `pick` names a reservation (see `Books::picked`), acted on by its
    /// holder (`mine`) or by `buyer`.
    Cancel {
        buyer: usize,
        pick: usize,
        mine: bool,
    },
    /// A cart: each pick as for `Cancel`, all acted on by the first
    /// pick's actor; the store gets them ascending and distinct, as the
    /// service hands them over.
    Pay {
        buyer: usize,
        picks: Vec<usize>,
        mine: bool,
    },
    /// The sweeper writes EXPIRED down.
    Sweep,
    Wait {
        ms: i64,
    },
    /// The clock moves to a hold's deadline exactly, or 1 ms short of it.
    ToDeadline {
        pick: usize,
        short: bool,
    },
}

fn sale() -> impl Strategy<Value = Sale> {
    // Enough for a few seats, not enough, and at the edge of the maximum.
    let balance = prop_oneof![Just(0), Just(100), Just(250), Just(MAX_BALANCE - 150)];
    (
        2..=4i64,
        prop_oneof![Just(0), Just(40), Just(100)],
        1..=3u32,
        prop_oneof![Just(0), 1..=3u32],
        proptest::array::uniform3(balance),
    )
        .prop_map(|(seats, price, limit, household, balances)| Sale {
            seats,
            price,
            limit,
            household,
            balances,
        })
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let buyer = 0..BUYERS;
    let step = prop_oneof![
        3 => (
            prop_oneof![6 => buyer.clone(), 1 => Just(BUYERS)],
            prop_oneof![1..=300i64, Just(MAX_CHARGE)],
            proptest::option::of(0..2u8),
        )
            .prop_map(|(buyer, amount, key)| Step::Charge { buyer, amount, key }),
        5 => (buyer.clone(), 1..=4i64).prop_map(|(buyer, seat)| Step::Hold { buyer, seat }),
        2 => (buyer.clone(), 0..PICKS, proptest::bool::weighted(0.8))
            .prop_map(|(buyer, pick, mine)| Step::Cancel { buyer, pick, mine }),
        3 => (
            buyer,
            proptest::collection::vec(0..PICKS, 1..=3),
            proptest::bool::weighted(0.8)
        )
            .prop_map(|(buyer, picks, mine)| Step::Pay { buyer, picks, mine }),
        1 => Just(Step::Sweep),
        2 => prop_oneof![Just(1), Just(HOLD_MS - 1), Just(HOLD_MS), 0..=HOLD_MS * 2]
            .prop_map(|ms| Step::Wait { ms }),
        2 => (0..PICKS, any::<bool>()).prop_map(|(pick, short)| Step::ToDeadline { pick, short }),
    ];
    proptest::collection::vec(step, 1..=MAX_STEPS)
}

/// A step's outcome, from the store or the model.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Answer {
    Charged(Points),
    Held(Reservation, u64),
    Cancelled(Reservation, Option<u64>),
    /// The receipt, the seat versions, and when the buyer's cart lapses now
    /// (`frontrow_domain::cart::ends`).
    Paid(Receipt, Vec<u64>, Option<Timestamp>),
    Swept(u64),
    Refused(Refusal),
    /// The step asks the store nothing (the clock moved).
    Nothing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    UnknownUser,
    BalanceLimit,
    KeyReused,
    SeatUnavailable,
    SeatLimitReached,
    HouseholdLimit,
    /// The hold is not covered and cannot be the buyer's one uncovered hold.
    PointsNeeded,
    NotFound,
    Transition(TransitionError),
    InsufficientPoints,
    /// A payment's refusal, with the reservation of the cart it names.
    NotPaid(ReservationId, Option<TransitionError>),
}

fn failed(what: &str, error: impl Display) -> String {
    format!("{what} failed: {error}")
}

fn charged(answer: Result<Points, PointsError>) -> Result<Answer, String> {
    Ok(match answer {
        Ok(balance) => Answer::Charged(balance),
        Err(PointsError::Rule(Rule::BalanceLimit)) => Answer::Refused(Refusal::BalanceLimit),
        Err(PointsError::UnknownUser) => Answer::Refused(Refusal::UnknownUser),
        Err(PointsError::IdempotencyKeyReused) => Answer::Refused(Refusal::KeyReused),
        Err(other) => return Err(failed("charge", other)),
    })
}

fn refused_hold(error: ReservationError) -> Result<Answer, String> {
    Ok(Answer::Refused(match error {
        ReservationError::SeatUnavailable => Refusal::SeatUnavailable,
        ReservationError::SeatLimitReached => Refusal::SeatLimitReached,
        ReservationError::HouseholdLimitReached { .. } => Refusal::HouseholdLimit,
        ReservationError::Cover(_) => Refusal::PointsNeeded,
        ReservationError::NotFound => Refusal::NotFound,
        ReservationError::Transition(error) => Refusal::Transition(error),
        other => return Err(failed("hold or cancel", other)),
    }))
}

fn refused_payment(error: PaymentError) -> Result<Answer, String> {
    Ok(Answer::Refused(match error {
        PaymentError::ReservationNotFound(id) => {
            Refusal::NotPaid(ReservationId::parse(id).unwrap_or(NO_RESERVATION), None)
        }
        PaymentError::InsufficientPoints => Refusal::InsufficientPoints,
        PaymentError::Transition { reservation, error } => {
            Refusal::NotPaid(reservation, Some(error))
        }
        other => return Err(failed("pay", other)),
    }))
}

/// The model: the sale's books, every move decided by a domain machine.
struct Books {
    now: Timestamp,
    schedule: Schedule,
    limit: SeatLimit,
    household: HouseholdLimit,
    buyers: Vec<UserId>,
    /// Seat `n` is `seats[n - 1]`, with its row's version.
    seats: Vec<StoredSeat>,
    /// In the order made, which is id order.
    reservations: Vec<Reservation>,
    balances: Vec<PointBalance>,
    /// Each retry key's amount and the balance it answered.
    keys: HashMap<(usize, u8), (ChargeAmount, Points)>,
    receipts: HashMap<ReservationId, Receipt>,
}

impl Books {
    /// The sale in the store (a concert, its seats, the buyers with their
    /// balances and a ledger entry each) and in the model.
    async fn open(store: &SqlStore, sale: &Sale) -> Result<Books, String> {
        let schedule =
            NewSchedule::parse(START, sale.seats, sale.price).map_err(|e| e.to_string())?;
        let concert = NewConcert::parse("The spec", vec![schedule]).map_err(|e| e.to_string())?;
        let schedules = store
            .create_concert(&concert)
            .await
            .map_err(|e| failed("create_concert", e))?
            .schedules;
        let mut buyers = Vec::new();
        let mut balances = Vec::new();
        let name = UserName::parse("a buyer").map_err(|e| e.to_string())?;
        // A household of this case's own: the database outlives the case.
        let household = Household {
            network: format!("spec-{}", frontrow_tests::unique()),
            window_start: START,
        };
        for (i, &balance) in sale.balances.iter().enumerate() {
            let user = store
                .create_user(&name, (i < HOUSEHOLD_BUYERS).then_some(&household))
                .await
                .map_err(|e| failed("create_user", e))?;
            let points = Points::new(balance).ok_or("a negative balance")?;
            starting_balance(store, user, points)
                .await
                .map_err(|e| failed("a starting balance", e))?;
            buyers.push(user);
            balances.push(PointBalance::new(points));
        }
        let available = StoredSeat {
            state: SeatState::Available,
            version: 0,
        };
        Ok(Books {
            now: START,
            schedule: schedules[0],
            limit: SeatLimit(sale.limit),
            household: HouseholdLimit(sale.household),
            buyers,
            seats: vec![available; sale.seats as usize],
            reservations: Vec::new(),
            balances,
            keys: HashMap::new(),
            receipts: HashMap::new(),
        })
    }

    fn buyer(&self, buyer: usize) -> UserId {
        self.buyers.get(buyer).copied().unwrap_or(NOBODY)
    }

    fn seat(&mut self, seat: SeatNumber) -> &mut StoredSeat {
        &mut self.seats[seat.get() as usize - 1]
    }

    /// Who acts on which reservation: `pick` names one of those made so far
    /// (with `mine`, acted on by its holder; else by `buyer`, whoever holds
    /// it) or, for the last pick or with none made, one that does not exist.
    fn picked(&self, buyer: usize, pick: usize, mine: bool) -> (usize, Reservation) {
        let made = self.reservations.len();
        if pick == PICKS - 1 || made == 0 {
            let ghost = Reservation {
                id: NO_RESERVATION,
                user: self.buyer(buyer),
                schedule: self.schedule.id,
                seat: SeatNumber::from_store(1),
                price: self.schedule.price,
                stored_status: ReservationStatus::Held,
                hold_expires_at: Timestamp(self.now.0 + HOLD_MS),
                cover: Cover::Covered,
            };
            return (buyer, ghost);
        }
        let reservation = self.reservations[pick % made].clone();
        let holder = self.buyers.iter().position(|&u| u == reservation.user);
        match holder {
            Some(holder) if mine => (holder, reservation),
            _ => (buyer, reservation),
        }
    }

    /// Where `buyer`'s reservation `id` is kept; `None` for one that does not
    /// exist or is someone else's.
    fn theirs(&self, buyer: usize, id: ReservationId) -> Option<usize> {
        let user = self.buyer(buyer);
        self.reservations
            .iter()
            .position(|r| r.id == id && r.user == user)
    }

    fn charge(&mut self, buyer: usize, amount: ChargeAmount, key: Option<u8>) -> Answer {
        if let Some(&(first, answered)) = key.and_then(|key| self.keys.get(&(buyer, key))) {
            return if first == amount {
                Answer::Charged(answered)
            } else {
                Answer::Refused(Refusal::KeyReused)
            };
        }
        let Some(balance) = self.balances.get(buyer) else {
            return Answer::Refused(Refusal::UnknownUser);
        };
        match balance.charge(amount) {
            Ok(balance) => {
                self.balances[buyer] = balance;
                if let Some(key) = key {
                    self.keys.insert((buyer, key), (amount, balance.points()));
                }
                Answer::Charged(balance.points())
            }
            Err(Rule::BalanceLimit) => Answer::Refused(Refusal::BalanceLimit),
            Err(other) => unreachable!("a charge refused for {other}"),
        }
    }

    /// What `buyer`'s points are at `now` (`None`: no such buyer), with
    /// what their live covered holds reserve, leaving out `except`.
    fn purse(&self, buyer: usize, except: &[ReservationId]) -> Option<Purse> {
        let user = self.buyer(buyer);
        let balance = self.balances.get(buyer)?.points();
        let theirs = self
            .reservations
            .iter()
            .filter(|r| r.user == user && !except.contains(&r.id));
        Some(Purse::new(balance, hold_cost::reserved(theirs, self.now)))
    }

    /// The seat first, then the limit, then the cost: a taken seat is
    /// unavailable to a buyer at the limit or without points too. `fresh`
    /// is the id the store issued.
    fn hold(&mut self, buyer: usize, seat: SeatNumber, fresh: ReservationId) -> Answer {
        let (user, now) = (self.buyer(buyer), self.now);
        if self.seat(seat).state.status_at(now) != SeatStatus::Available {
            return Answer::Refused(Refusal::SeatUnavailable);
        }
        let taken = self.reservations.iter().filter(|r| {
            r.user == user
                && r.schedule == self.schedule.id
                && matches!(
                    r.status_at(now),
                    ReservationStatus::Held | ReservationStatus::Confirmed
                )
        });
        if !self.limit.allows_another(taken.count() as u32) {
            return Answer::Refused(Refusal::SeatLimitReached);
        }
        if buyer < HOUSEHOLD_BUYERS {
            let home = &self.buyers[..HOUSEHOLD_BUYERS];
            let taken = self.reservations.iter().filter(|r| {
                home.contains(&r.user)
                    && r.schedule == self.schedule.id
                    && matches!(
                        r.status_at(now),
                        ReservationStatus::Held | ReservationStatus::Confirmed
                    )
            });
            if !self.household.allows_more(taken.count() as u32, 1) {
                return Answer::Refused(Refusal::HouseholdLimit);
            }
        }
        let Some(purse) = self.purse(buyer, &[]) else {
            return Answer::Refused(Refusal::NotFound);
        };
        // One concert per case: any uncovered hold of the buyer's counts.
        let uncovered_before = self
            .reservations
            .iter()
            .any(|r| r.user == user && r.cover == Cover::Uncovered);
        let cover = match purse.cover(self.schedule.price, 1, uncovered_before) {
            Ok(cover) => cover,
            Err(_) => return Answer::Refused(Refusal::PointsNeeded),
        };
        let until = Timestamp(
            now.0
                + match cover {
                    Cover::Covered => HOLD_MS,
                    Cover::Uncovered => UNCOVERED_MS,
                },
        );
        let Ok(held) = self.seat(seat).state.hold(fresh, now, until) else {
            return Answer::Refused(Refusal::SeatUnavailable);
        };
        let row = self.seat(seat);
        *row = StoredSeat {
            state: held,
            version: row.version + 1,
        };
        let version = row.version;
        let reservation = Reservation {
            id: fresh,
            user,
            schedule: self.schedule.id,
            seat,
            price: self.schedule.price,
            stored_status: ReservationStatus::Held,
            hold_expires_at: until,
            cover,
        };
        self.reservations.push(reservation.clone());
        Answer::Held(reservation, version)
    }

    fn cancel(&mut self, buyer: usize, id: ReservationId) -> Answer {
        let now = self.now;
        let Some(index) = self.theirs(buyer, id) else {
            return Answer::Refused(Refusal::NotFound);
        };
        let reservation = self.reservations[index].clone();
        let cancelled = match reservation.clone().cancel(now) {
            Ok(cancelled) => cancelled,
            Err(error) => return Answer::Refused(Refusal::Transition(error)),
        };
        let row = self.seat(reservation.seat);
        let released = row.state.release(id, now).ok().map(|free| {
            *row = StoredSeat {
                state: free,
                version: row.version + 1,
            };
            row.version
        });
        self.reservations[index] = cancelled.clone();
        Answer::Cancelled(cancelled, released)
    }

    /// Every reservation of the cart (ascending), then the balance for the
    /// total, then every seat must agree, in that order; the first that
    /// refuses is named and nothing is kept until all did. `payment` is the
    /// id the store issued.
    fn pay(&mut self, buyer: usize, cart: &[Reservation], payment: PaymentId) -> Answer {
        let now = self.now;
        let mut confirmed = Vec::new();
        for reservation in cart {
            let Some(index) = self.theirs(buyer, reservation.id) else {
                return Answer::Refused(Refusal::NotPaid(reservation.id, None));
            };
            let stored = self.reservations[index].clone();
            match stored.clone().confirm(now) {
                Ok(done) => confirmed.push((index, stored, done)),
                Err(error) => {
                    return Answer::Refused(Refusal::NotPaid(reservation.id, Some(error)));
                }
            }
        }
        let total: i64 = confirmed.iter().map(|(_, r, _)| r.price.get()).sum();
        let Some(total) = Points::new(total) else {
            return Answer::Refused(Refusal::InsufficientPoints);
        };
        // Never the points another live covered hold reserves.
        let cart: Vec<ReservationId> = confirmed.iter().map(|(_, r, _)| r.id).collect();
        if total > Points::ZERO
            && !self
                .purse(buyer, &cart)
                .is_some_and(|purse| purse.pays(total))
        {
            return Answer::Refused(Refusal::InsufficientPoints);
        }
        let Ok(balance) = self.balances[buyer].spend(total) else {
            return Answer::Refused(Refusal::InsufficientPoints);
        };
        let mut sold = Vec::new();
        for (_, reservation, _) in &confirmed {
            let row = *self.seat(reservation.seat);
            let Ok(state) = row.state.sell(reservation.id, now) else {
                return Answer::Refused(Refusal::NotPaid(
                    reservation.id,
                    Some(TransitionError::HoldExpired),
                ));
            };
            sold.push((reservation.seat, state, row.version + 1));
        }
        let mut versions = Vec::new();
        for (seat, state, version) in sold {
            *self.seat(seat) = StoredSeat { state, version };
            versions.push(version);
        }
        let lines = confirmed
            .iter()
            .map(|(_, r, _)| PaymentLine {
                reservation: r.id,
                schedule: r.schedule,
                seat: r.seat,
                amount: r.price,
            })
            .collect();
        let receipt = Receipt {
            payment,
            lines,
            amount: total,
            balance: balance.points(),
        };
        for (index, reservation, done) in confirmed {
            self.reservations[index] = done;
            self.receipts.insert(reservation.id, receipt.clone());
        }
        self.balances[buyer] = balance;
        // The sale has one concert: every live hold of the buyer's is in it.
        let user = self.buyer(buyer);
        let ends =
            frontrow_domain::cart::ends(self.reservations.iter().filter(|r| r.user == user), now);
        Answer::Paid(receipt, versions, ends)
    }

    fn sweep(&mut self) -> Answer {
        let mut expired = 0;
        for reservation in &mut self.reservations {
            if let Some(written) = reservation.clone().expire(self.now) {
                *reservation = written;
                expired += 1;
            }
        }
        Answer::Swept(expired)
    }

    /// Every row the model keeps equals the store's.
    async fn compare(&self, store: &SqlStore) -> Result<(), String> {
        let seats = store
            .seats(self.schedule.id)
            .await
            .map_err(|e| failed("seats", e))?;
        same("the seats", seats, self.seats.clone())?;
        for (buyer, &user) in self.buyers.iter().enumerate() {
            let listed = store
                .list(user, None, 100)
                .await
                .map_err(|e| failed("list", e))?;
            let theirs: Vec<Reservation> = self
                .reservations
                .iter()
                .rev()
                .filter(|r| r.user == user)
                .cloned()
                .collect();
            same(&format!("buyer {buyer}'s reservations"), listed, theirs)?;
            let balance = store
                .balance(user)
                .await
                .map_err(|e| failed("balance", e))?;
            same(
                &format!("buyer {buyer}'s balance"),
                balance,
                Some(self.balances[buyer].points()),
            )?;
            let purse = store
                .purse(user, self.now)
                .await
                .map_err(|e| failed("purse", e))?;
            same(
                &format!("buyer {buyer}'s reserved points"),
                purse,
                self.purse(buyer, &[]),
            )?;
            if let Some(purse) = purse
                && purse.reserved() > purse.balance()
            {
                return Err(format!(
                    "buyer {buyer} has more reserved than their balance"
                ));
            }
        }
        for reservation in &self.reservations {
            let receipt = store
                .receipt(reservation.user, reservation.id)
                .await
                .map_err(|e| failed("receipt", e))?;
            same(
                &format!("the receipt of reservation {}", reservation.id),
                receipt.map(|(receipt, _seat_version)| receipt),
                self.receipts.get(&reservation.id).cloned(),
            )?;
        }
        Ok(())
    }

    /// Every buyer's ledger entries sum to their balance.
    async fn ledgers_explain_balances(&self, store: &SqlStore) -> Result<(), String> {
        for (buyer, &user) in self.buyers.iter().enumerate() {
            let sum: i64 = sqlx::query(
                "SELECT CAST(COALESCE(SUM(delta), 0) AS SIGNED) AS total FROM point_ledger WHERE user_id = ?",
            )
            .bind(user.get())
            .fetch_one(store.reader())
            .await
            .and_then(|row| row.try_get("total"))
            .map_err(|e| failed("the ledger's sum", e))?;
            same(
                &format!("buyer {buyer}'s ledger sum"),
                sum,
                self.balances[buyer].points().get(),
            )?;
        }
        Ok(())
    }
}

/// A buyer's points before the case starts, with the ledger entry that
/// explains them (a charge of up to `MAX_CHARGE` at a time would take a
/// thousand transactions to get near `MAX_BALANCE`).
async fn starting_balance(
    store: &SqlStore,
    user: UserId,
    points: Points,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET balance = ? WHERE id = ?")
        .bind(points.get())
        .bind(user.get())
        .execute(store.reader())
        .await?;
    sqlx::query(
        "INSERT INTO point_ledger (user_id, delta, balance_after, reason, created_at_ms) \
         VALUES (?, ?, ?, 'CHARGE', ?)",
    )
    .bind(user.get())
    .bind(points.get())
    .bind(points.get())
    .bind(START.millis())
    .execute(store.reader())
    .await?;
    Ok(())
}

/// One case: the sale, then every step on the store and on the model.
async fn run(
    store: &SqlStore,
    clock: &TestClock,
    sale: &Sale,
    steps: &[Step],
) -> Result<(), String> {
    // Holds left by earlier cases are written down as expired first, so a
    // sweep in this case finds only this case's holds.
    while store
        .expire_due(Timestamp(i64::MAX / 2), 1_000)
        .await
        .map_err(|e| failed("the first sweep", e))?
        == 1_000
    {}
    clock.0.store(START.millis(), Ordering::SeqCst);
    let mut books = Books::open(store, sale).await?;
    books.compare(store).await?;
    for (number, step) in steps.iter().enumerate() {
        let at = books.now;
        let context = |error: String| format!("step {number} ({step:?}) at {at:?}: {error}");
        let (answer, model) = one_step(store, &mut books, sale, step)
            .await
            .map_err(context)?;
        clock.0.store(books.now.millis(), Ordering::SeqCst);
        same("the answer", answer, model).map_err(context)?;
        books.compare(store).await.map_err(context)?;
    }
    books.ledgers_explain_balances(store).await
}

/// The step on the store, then on the model: both answers.
async fn one_step(
    store: &SqlStore,
    books: &mut Books,
    sale: &Sale,
    step: &Step,
) -> Result<(Answer, Answer), String> {
    let now = books.now;
    Ok(match *step {
        Step::Charge { buyer, amount, key } => {
            let amount = ChargeAmount::parse(amount).map_err(|e| e.to_string())?;
            let retry_key = key
                .map(|key| IdempotencyKey::parse(&format!("spec-{key}")).ok_or("a key"))
                .transpose()?;
            let answer = charged(store.charge(books.buyer(buyer), amount, retry_key).await)?;
            (answer, books.charge(buyer, amount, key))
        }
        Step::Hold { buyer, seat } => {
            let seat = SeatNumber::from_store((seat - 1) % sale.seats + 1);
            let request = GroupHoldRequest {
                user: books.buyer(buyer),
                schedule: books.schedule,
                seats: SeatGroup::one(seat),
                now,
                until: Timestamp(now.0 + HOLD_MS),
                uncovered_until: Timestamp(now.0 + UNCOVERED_MS),
                limit: books.limit,
                household: books.household,
            };
            let (answer, fresh) = match store
                .hold_together(request)
                .await
                .map(|mut held| held.pop())
            {
                Ok(None) => return Err("a granted hold answered no reservation".into()),
                Ok(Some((reservation, version))) => {
                    let fresh = reservation.id;
                    if books.reservations.iter().any(|r| r.id >= fresh) {
                        return Err(format!("reservation id {fresh} is not new"));
                    }
                    (Answer::Held(reservation, version), fresh)
                }
                Err(error) => (refused_hold(error)?, NO_RESERVATION),
            };
            (answer, books.hold(buyer, seat, fresh))
        }
        Step::Cancel { buyer, pick, mine } => {
            let (buyer, picked) = books.picked(buyer, pick, mine);
            let answer = match store.cancel(books.buyer(buyer), picked.id, now).await {
                Ok((reservation, version)) => Answer::Cancelled(reservation, version),
                Err(error) => refused_hold(error)?,
            };
            (answer, books.cancel(buyer, picked.id))
        }
        Step::Pay {
            buyer,
            ref picks,
            mine,
        } => {
            let (buyer, first) = books.picked(buyer, picks[0], mine);
            let mut cart = vec![first];
            for &pick in &picks[1..] {
                cart.push(books.picked(buyer, pick, false).1);
            }
            cart.sort_by_key(|r| r.id);
            cart.dedup_by_key(|r| r.id);
            let (answer, payment) = match store.pay(books.buyer(buyer), &cart, now).await {
                Ok(paid) => {
                    let payment = paid.receipt.payment;
                    if books.receipts.values().any(|r| r.payment == payment) {
                        return Err(format!("payment id {payment} is not new"));
                    }
                    (
                        Answer::Paid(paid.receipt, paid.versions, paid.cart_ends),
                        payment,
                    )
                }
                Err(error) => (refused_payment(error)?, PaymentId::from_store(0)),
            };
            (answer, books.pay(buyer, &cart, payment))
        }
        Step::Sweep => {
            let expired = store
                .expire_due(now, 1_000)
                .await
                .map_err(|e| failed("expire_due", e))?;
            (Answer::Swept(expired), books.sweep())
        }
        Step::Wait { ms } => {
            books.now = Timestamp(now.0 + ms);
            (Answer::Nothing, Answer::Nothing)
        }
        Step::ToDeadline { pick, short } => {
            let (_, picked) = books.picked(0, pick, false);
            let deadline = picked.hold_expires_at.0 - i64::from(short);
            books.now = Timestamp(deadline.max(now.0));
            (Answer::Nothing, Answer::Nothing)
        }
    })
}
