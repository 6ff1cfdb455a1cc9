//! The state machines' properties, checked on random sequences of moves at
//! random instants (proptest): what a seat, a reservation, a balance and the
//! admission bucket promise whatever happens to them. The stores' spec
//! (`tests/tests/spec.rs`) drives the SQL store and the Redis room with the
//! same kind of sequences and compares them, step by step, with these
//! machines; the properties here are what makes the machines worth being
//! that reference.
//!
//! Cases per property: 256 (each a sequence of up to 40 moves); all of them
//! together run in well under a second. Under CI (`CI` set) the seed is
//! fixed, so a run is repeatable; elsewhere it is random unless
//! `PROPTEST_RNG_SEED` says otherwise. No failure file is ever written.

use proptest::prelude::*;
use proptest::test_runner::RngSeed;

/// How many cases each property runs.
const CASES: u32 = 256;

/// `cases` per property, no failure files, a fixed seed under CI.
fn config() -> ProptestConfig {
    let default = ProptestConfig::default();
    ProptestConfig {
        cases: CASES,
        failure_persistence: None,
        rng_seed: if std::env::var_os("CI").is_some() {
            RngSeed::Fixed(13)
        } else {
            default.rng_seed
        },
        ..default
    }
}

mod seat {
    use super::config;
    use crate::seat::{SeatState, SeatStatus};
    use crate::{ReservationId, Timestamp};
    use proptest::prelude::*;

    /// Three reservations compete for one seat; time moves in milliseconds,
    /// so deadlines are often met exactly.
    #[derive(Debug, Clone)]
    enum Move {
        Hold { by: usize, for_ms: i64 },
        Sell { by: usize },
        Release { by: usize },
        Wait { ms: i64 },
    }

    fn a_move() -> impl Strategy<Value = Move> {
        prop_oneof![
            (0..3usize, 1..=20i64).prop_map(|(by, for_ms)| Move::Hold { by, for_ms }),
            (0..3usize).prop_map(|by| Move::Sell { by }),
            (0..3usize).prop_map(|by| Move::Release { by }),
            (0..=25i64).prop_map(|ms| Move::Wait { ms }),
        ]
    }

    /// What a reservation knows from the answers it got, without looking at
    /// the seat: its hold's deadline, or that it bought the seat.
    #[derive(Debug, Clone, Copy, Default)]
    struct Claim {
        held_until: Option<Timestamp>,
        bought: bool,
    }

    impl Claim {
        fn live_hold(self, now: Timestamp) -> bool {
            !self.bought && self.held_until.is_some_and(|until| until > now)
        }

        fn live(self, now: Timestamp) -> bool {
            self.bought || self.live_hold(now)
        }
    }

    fn id(by: usize) -> ReservationId {
        ReservationId::from_store(by as i64 + 1)
    }

    proptest! {
        #![proptest_config(config())]

        /// Judged only by the answers each reservation got: at no instant
        /// do two of them hold or own the seat, a hold is granted exactly
        /// when nobody holds or owns it, only the live holder sells or
        /// releases, and the seat's status says the same.
        #[test]
        fn a_seat_is_never_held_by_two_reservations_in_any_sequence(
            moves in proptest::collection::vec(a_move(), 1..40),
        ) {
            let mut seat = SeatState::Available;
            let mut claims = [Claim::default(); 3];
            let mut now = Timestamp(1_000);
            for step in moves {
                let anyone = claims.iter().any(|c| c.live(now));
                match step {
                    Move::Hold { by, for_ms } => {
                        let until = Timestamp(now.0 + for_ms);
                        let answer = seat.hold(id(by), now, until);
                        prop_assert_eq!(answer.is_ok(), !anyone, "hold by {} at {:?}", by, now);
                        if let Ok(next) = answer {
                            seat = next;
                            claims[by] = Claim { held_until: Some(until), bought: false };
                        }
                    }
                    Move::Sell { by } => {
                        let answer = seat.sell(id(by), now);
                        prop_assert_eq!(answer.is_ok(), claims[by].live_hold(now));
                        if let Ok(next) = answer {
                            seat = next;
                            claims[by] = Claim { held_until: None, bought: true };
                        }
                    }
                    Move::Release { by } => {
                        let answer = seat.release(id(by), now);
                        prop_assert_eq!(answer.is_ok(), claims[by].live_hold(now));
                        if let Ok(next) = answer {
                            seat = next;
                            claims[by].held_until = None;
                        }
                    }
                    Move::Wait { ms } => now = Timestamp(now.0 + ms),
                }
                let live = claims.iter().filter(|c| c.live(now)).count();
                prop_assert!(live <= 1, "{} reservations hold or own the seat", live);
                let status = if claims.iter().any(|c| c.bought) {
                    SeatStatus::Sold
                } else if live == 1 {
                    SeatStatus::Held
                } else {
                    SeatStatus::Available
                };
                prop_assert_eq!(seat.status_at(now), status);
            }
        }

        /// A sale is final: every later move is refused and the buyer stays.
        #[test]
        fn a_sold_seat_stays_sold_to_its_buyer_in_any_sequence(
            moves in proptest::collection::vec(a_move(), 1..40),
        ) {
            let buyer = ReservationId::from_store(1);
            let mut seat = SeatState::Sold { reservation: buyer };
            let mut now = Timestamp(1_000);
            for step in moves {
                let answer = match step {
                    Move::Hold { by, for_ms } => seat.hold(id(by), now, Timestamp(now.0 + for_ms)),
                    Move::Sell { by } => seat.sell(id(by), now),
                    Move::Release { by } => seat.release(id(by), now),
                    Move::Wait { ms } => {
                        now = Timestamp(now.0 + ms);
                        Ok(seat)
                    }
                };
                seat = answer.unwrap_or(seat);
                prop_assert_eq!(seat, SeatState::Sold { reservation: buyer });
            }
        }
    }
}

mod reservation {
    use super::config;
    use crate::points::Points;
    use crate::reservation::{Reservation, ReservationStatus, TransitionError};
    use crate::seat::SeatNumber;
    use crate::{ReservationId, ScheduleId, Timestamp, UserId};
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Move {
        Confirm,
        Cancel,
        /// The sweeper writes EXPIRED down if it may.
        Expire,
        Wait {
            ms: i64,
        },
    }

    fn a_move() -> impl Strategy<Value = Move> {
        prop_oneof![
            Just(Move::Confirm),
            Just(Move::Cancel),
            Just(Move::Expire),
            (0..=8i64).prop_map(|ms| Move::Wait { ms }),
        ]
    }

    fn held(deadline: Timestamp) -> Reservation {
        Reservation {
            id: ReservationId::from_store(1),
            user: UserId::from_store(1),
            schedule: ScheduleId::from_store(1),
            seat: SeatNumber::from_store(1),
            price: Points::ZERO,
            stored_status: ReservationStatus::Held,
            hold_expires_at: deadline,
            cover: crate::hold_cost::Cover::Covered,
        }
    }

    /// Why a reservation that reads `status` cannot move.
    fn refusal(status: ReservationStatus) -> Option<TransitionError> {
        match status {
            ReservationStatus::Held => None,
            ReservationStatus::Confirmed => Some(TransitionError::AlreadyConfirmed),
            ReservationStatus::Cancelled => Some(TransitionError::Cancelled),
            ReservationStatus::Expired => Some(TransitionError::HoldExpired),
        }
    }

    proptest! {
        #![proptest_config(config())]

        /// Payment and cancellation succeed only before the deadline and
        /// only once between them; afterwards the reservation reads the
        /// same at every later instant, and a refusal names what it reads.
        #[test]
        fn a_reservation_ends_at_most_once_and_then_never_moves_in_any_sequence(
            deadline in 1..=20i64,
            moves in proptest::collection::vec(a_move(), 1..40),
        ) {
            let deadline = Timestamp(deadline);
            let mut reservation = held(deadline);
            let mut ended: Option<ReservationStatus> = None;
            let mut now = Timestamp(0);
            for step in moves {
                let reads = ended.unwrap_or(if now < deadline {
                    ReservationStatus::Held
                } else {
                    ReservationStatus::Expired
                });
                prop_assert_eq!(reservation.status_at(now), reads);
                match step {
                    Move::Confirm | Move::Cancel => {
                        let (answer, to) = match step {
                            Move::Confirm => (reservation.clone().confirm(now), ReservationStatus::Confirmed),
                            _ => (reservation.clone().cancel(now), ReservationStatus::Cancelled),
                        };
                        prop_assert_eq!(answer.as_ref().err().copied(), refusal(reads));
                        if let Ok(next) = answer {
                            prop_assert_eq!(next.status_at(now), to);
                            reservation = next;
                            ended = Some(to);
                        }
                    }
                    Move::Expire => {
                        let written = reservation.clone().expire(now);
                        prop_assert_eq!(
                            written.is_some(),
                            reads == ReservationStatus::Expired
                                && reservation.stored_status == ReservationStatus::Held
                        );
                        if let Some(next) = written {
                            reservation = next;
                        }
                    }
                    Move::Wait { ms } => now = Timestamp(now.0 + ms),
                }
            }
        }

        /// The sweeper only writes down what every reader already sees: at
        /// no instant from the sweep on does a reservation read otherwise.
        #[test]
        fn writing_expired_down_changes_nothing_a_reader_sees(
            deadline in 0..1_000i64,
            swept_at in 0..2_000i64,
            later in 0..2_000i64,
        ) {
            let reservation = held(Timestamp(deadline));
            if let Some(expired) = reservation.clone().expire(Timestamp(swept_at)) {
                for at in [swept_at, swept_at + later] {
                    prop_assert_eq!(
                        expired.status_at(Timestamp(at)),
                        reservation.status_at(Timestamp(at))
                    );
                }
            } else {
                prop_assert!(swept_at < deadline, "a due hold was not expired");
            }
        }
    }
}

mod points {
    use super::config;
    use crate::points::{ChargeAmount, MAX_BALANCE, MAX_CHARGE, PointBalance, Points, PointsError};
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Move {
        Charge(i64),
        Spend(i64),
    }

    /// Amounts near the edges as often as anywhere else.
    fn amount() -> impl Strategy<Value = i64> {
        prop_oneof![
            1..=MAX_CHARGE,
            Just(1),
            Just(MAX_CHARGE),
            Just(MAX_CHARGE - 1)
        ]
    }

    fn a_move() -> impl Strategy<Value = Move> {
        prop_oneof![
            amount().prop_map(Move::Charge),
            prop_oneof![0..=2 * MAX_CHARGE, Just(0)].prop_map(Move::Spend),
        ]
    }

    proptest! {
        #![proptest_config(config())]

        /// The balance stays from 0 to MAX_BALANCE and always equals where it
        /// started plus the moves that were accepted; a move is refused
        /// exactly when it would cross a bound.
        #[test]
        fn a_balance_stays_in_bounds_and_equals_its_ledger_in_any_sequence(
            start in prop_oneof![Just(0), Just(MAX_BALANCE), Just(MAX_BALANCE - MAX_CHARGE), 0..=MAX_BALANCE],
            moves in proptest::collection::vec(a_move(), 1..40),
        ) {
            let mut balance = PointBalance::new(Points::new(start).ok_or(PointsError::InvalidAmount)?);
            let mut ledger = start;
            for step in moves {
                let before = balance.points().get();
                match step {
                    Move::Charge(amount) => {
                        let answer = balance.charge(ChargeAmount::parse(amount)?);
                        let fits = before + amount <= MAX_BALANCE;
                        prop_assert_eq!(answer.err(), (!fits).then_some(PointsError::BalanceLimit));
                        if let Ok(next) = answer {
                            balance = next;
                            ledger += amount;
                        }
                    }
                    Move::Spend(price) => {
                        let answer = balance.spend(Points::new(price).ok_or(PointsError::InvalidAmount)?);
                        let covered = price <= before;
                        prop_assert_eq!(answer.err(), (!covered).then_some(PointsError::Insufficient));
                        if let Ok(next) = answer {
                            balance = next;
                            ledger -= price;
                        }
                    }
                }
                prop_assert_eq!(balance.points().get(), ledger);
                prop_assert!((0..=MAX_BALANCE).contains(&ledger));
            }
        }
    }
}

mod admission {
    use super::config;
    use crate::Timestamp;
    use crate::queue::{AdmissionBucket, AdmissionPolicy};
    use proptest::prelude::*;

    /// The stock's bound on ACTIVE places with something, or nothing, to
    /// sell (`StockRule::most_active` of a room never told its seats, or
    /// with no seat AVAILABLE).
    fn stock_bound(sellable: bool) -> i64 {
        if sellable { i64::MAX } else { 0 }
    }

    #[derive(Debug, Clone)]
    enum Move {
        Join(i64),
        /// Some ACTIVE buyers pay or leave.
        Leave(i64),
        /// An admission round after `ms`.
        Round {
            ms: i64,
        },
        Pause(bool),
        Sellable(bool),
        Capacity(i64),
    }

    fn a_move() -> impl Strategy<Value = Move> {
        prop_oneof![
            2 => (1..=4i64).prop_map(Move::Join),
            1 => (1..=3i64).prop_map(Move::Leave),
            4 => (0..=1_500i64).prop_map(|ms| Move::Round { ms }),
            1 => any::<bool>().prop_map(Move::Pause),
            1 => any::<bool>().prop_map(Move::Sellable),
            1 => (1..=6i64).prop_map(Move::Capacity),
        ]
    }

    proptest! {
        #![proptest_config(config())]

        /// Each round admits as many as it may and no more: never past the
        /// free slots, the line or the bucket, nobody while paused or with
        /// nothing to sell; and over any stretch of time no more than one
        /// second's worth plus the rate times its length.
        #[test]
        fn admission_never_exceeds_capacity_line_or_rate_in_any_sequence(
            rate in 1..=5i64,
            capacity in 1..=6i64,
            moves in proptest::collection::vec(a_move(), 1..40),
        ) {
            let mut policy = AdmissionPolicy::new(capacity, rate, false)?;
            let mut now = Timestamp(1_000_000);
            let mut bucket = policy.fresh_bucket(now);
            let (mut active, mut waiting, mut sellable) = (0i64, 0i64, true);
            let mut rounds: Vec<(Timestamp, i64)> = Vec::new();
            for step in moves {
                match step {
                    Move::Join(n) => waiting += n,
                    Move::Leave(n) => active -= n.min(active),
                    Move::Pause(paused) => {
                        policy = AdmissionPolicy::new(policy.capacity(), rate, paused)?;
                    }
                    Move::Capacity(capacity) => {
                        policy = AdmissionPolicy::new(capacity, rate, policy.paused())?;
                    }
                    Move::Sellable(now_sellable) => sellable = now_sellable,
                    Move::Round { ms } => {
                        now = Timestamp(now.0 + ms);
                        let (admitted, next) = policy.admissions(active, waiting, stock_bound(sellable), bucket, now);
                        let free = (policy.capacity() - active).max(0);
                        prop_assert!(admitted >= 0 && admitted <= free.min(waiting));
                        if policy.paused() || !sellable {
                            prop_assert_eq!(admitted, 0);
                        } else if admitted < free.min(waiting) {
                            prop_assert!(next.milli_tokens < 1_000, "a whole admission was left unused");
                        }
                        prop_assert!((0..=rate * 1_000).contains(&next.milli_tokens));
                        prop_assert_eq!(next.updated_at, now);
                        active += admitted;
                        waiting -= admitted;
                        bucket = next;
                        rounds.push((now, admitted));
                    }
                }
            }
            for (i, &(from, _)) in rounds.iter().enumerate() {
                let mut admitted = 0;
                for &(to, n) in &rounds[i..] {
                    admitted += n;
                    prop_assert!(
                        admitted * 1_000 <= rate * 1_000 + (to.0 - from.0) * rate,
                        "{} admitted in {} ms at {}/s", admitted, to.0 - from.0, rate
                    );
                }
            }
        }

        /// A round that admits nobody leaves nothing a later round could see:
        /// a store may skip writing the bucket back (the Redis room does) and
        /// still admit exactly as if it had, as long as the rate is the same.
        #[test]
        fn a_round_that_admits_nobody_changes_no_later_round(
            rate in 1..=5i64,
            capacity in 1..=6i64,
            milli in 0..=5_000i64,
            gaps in (0..=3_000i64, 0..=3_000i64),
            first in (0..=6i64, 0..=6i64, any::<bool>(), any::<bool>()),
            later in (0..=6i64, 0..=6i64, any::<bool>(), any::<bool>()),
        ) {
            let written = AdmissionBucket { milli_tokens: milli.min(rate * 1_000), updated_at: Timestamp(0) };
            let (active, waiting, sellable, paused) = first;
            let policy = AdmissionPolicy::new(capacity, rate, paused)?;
            let at = Timestamp(gaps.0);
            let (admitted, kept) = policy.admissions(active, waiting, stock_bound(sellable), written, at);
            prop_assume!(admitted == 0);
            let (active, waiting, sellable, paused) = later;
            let policy = AdmissionPolicy::new(capacity, rate, paused)?;
            let at = Timestamp(gaps.0 + gaps.1);
            prop_assert_eq!(
                policy.admissions(active, waiting, stock_bound(sellable), kept, at),
                policy.admissions(active, waiting, stock_bound(sellable), written, at)
            );
        }
    }
}
