//! Seat holds: the only way a seat leaves AVAILABLE.
//!
//! The store decides who gets a seat, in one transaction (a conditional update
//! of the seat row). Before asking it, the use case consults the cached seat
//! map: a seat that is already HELD or SOLD at the current version is refused
//! without a database write. That is only an optimisation, because a stale
//! "free" still goes to the database, and the cache never says "taken" for a
//! seat that is free at its version.

use crate::catalogue::CatalogueService;
use crate::queue::{QueueError, QueueService};
use crate::seat_changes::SeatChange;
use crate::{Clock, StoreError};
use async_trait::async_trait;
use frontrow_domain::ConcertId;
use frontrow_domain::catalogue::Schedule;
use frontrow_domain::hold_cost::CoverError;
use frontrow_domain::household::HouseholdLimit;
use frontrow_domain::queue::QueueToken;
use frontrow_domain::reservation::ReservationStatus;
use frontrow_domain::reservation::{
    Reservation, SeatGroup, SeatGroupError, SeatLimit, TransitionError,
};
use frontrow_domain::seat::{SeatError, SeatNumber, SeatState, SeatStatus};
use frontrow_domain::{ReservationId, ScheduleId, Timestamp, UserId};
use std::sync::Arc;
use thiserror::Error;

/// Why a hold, a cancel or a lookup failed.
#[derive(Debug, Error)]
pub enum ReservationError {
    /// No such schedule.
    #[error("schedule not found")]
    ScheduleNotFound,
    /// Not a seat number of this schedule.
    #[error("seat number is outside this schedule's seats")]
    SeatOutOfRange,
    /// The hold costs more than the user's available points, and cannot be
    /// their one short uncovered hold of the concert.
    #[error(transparent)]
    Cover(#[from] CoverError),
    /// A group hold that names no seat, too many or one twice.
    #[error(transparent)]
    InvalidSeats(#[from] SeatGroupError),
    /// Someone holds or owns the seat now.
    #[error("this seat is not available")]
    SeatUnavailable,
    /// The user's live holds and bought seats on the schedule are at the
    /// [`SeatLimit`] already.
    #[error("you already hold or own the most seats allowed for this schedule")]
    SeatLimitReached,
    /// The accounts of the user's household (made together from one
    /// network, [`frontrow_domain::household`]) hold or own the
    /// [`HouseholdLimit`] of the schedule's seats already.
    #[error(
        "accounts made together from one network share a limit of {limit} seats per show, \
         and they hold or own that many of this one already"
    )]
    HouseholdLimitReached {
        /// The limit, to say in the answer.
        limit: u32,
    },
    /// No such reservation of this user's (someone else's reads the same).
    #[error("reservation not found")]
    NotFound,
    /// `limit` outside 1 to [`MAX_PAGE`], or an `after` that is not a
    /// reservation id.
    #[error("limit must be 1 to {max} and after a reservation id from a previous page", max = MAX_PAGE)]
    InvalidPage,
    /// The reservation is not a live hold any more.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// The queue gate refused: no token, not the caller's, not ACTIVE, ...
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// A store failed (a 503).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Everything a store needs to decide a hold of one or more seats in one
/// transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupHoldRequest {
    /// Who holds.
    pub user: UserId,
    /// The performance.
    pub schedule: Schedule,
    /// The seats, already checked against the schedule's seat count.
    pub seats: SeatGroup,
    /// The instant the seats must be free at (a lapsed hold counts as free).
    pub now: Timestamp,
    /// The new holds' deadline when the user's points cover them.
    pub until: Timestamp,
    /// The deadline of an uncovered hold (sooner): see
    /// [`frontrow_domain::hold_cost`].
    pub uncovered_until: Timestamp,
    /// How many seats of the schedule the user may hold or own at once.
    pub limit: SeatLimit,
    /// How many seats of the schedule all accounts of the user's household
    /// may hold or own at once (off for a user of no household).
    pub household: HouseholdLimit,
}

/// Holds on seats: the only way a seat leaves AVAILABLE.
///
/// Contract:
/// - `hold_together` is one transaction, all or nothing: for each seat of
///   the group (ascending) one conditional write decides that the seat is
///   free at `now` (unsold, and not held past `now`); the user's live holds
///   and bought seats on the schedule plus the group must fit `limit`; each
///   seat gets a HELD reservation at the price its seat row carries (read in
///   the same transaction) and a `reservation.held` event, and its version
///   is bumped. Refusals, the seats first:
///   [`ReservationError::SeatUnavailable`] (a live hold or a sale has one of
///   the seats, whatever the limit, as a cached seat map answers it), then
///   [`ReservationError::SeatLimitReached`] (for free seats), then
///   [`ReservationError::HouseholdLimitReached`]: when the rule is on and
///   the user belongs to a household, the live holds and bought seats on
///   the schedule of every account of the household plus the group must
///   fit `household` (decided after a lock on the household, so two of its
///   accounts holding at once see each other), then
///   [`ReservationError::Cover`]: the group's price (from its seat rows)
///   must be covered by the user's balance less what their live covered
///   holds reserve, or else be one seat that is the account's first
///   uncovered hold in the concert, which gets `uncovered_until` as its
///   deadline ([`frontrow_domain::hold_cost`], decided after the user's row
///   lock so one user's holds and payments see each other). Nothing is
///   written on a refusal. The schedule and seat numbers were checked
///   before the call.
/// - `cancel` is one transaction: the user's live hold becomes CANCELLED,
///   its seat is free again (with a new version), and its event is
///   written. [`ReservationError::NotFound`] when it is not the user's;
///   [`ReservationError::Transition`] when it is no longer HELD at `now`.
/// - `find` is `None` for a reservation that does not exist or is someone
///   else's; `list` pages through the user's own, newest (highest id)
///   first. `expire_due` only writes down what already holds: seats are
///   free from their deadline whether or not it ran.
/// - Store failures are [`ReservationError::Store`] or [`StoreError`].
///
/// The shipped store is `SqlStore`; the spec suite (`tests/tests/spec/sql.rs`)
/// holds it to the domain's machines step by step.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait SeatHolds: Send + Sync {
    /// In one transaction: every seat of the group goes from free (at `now`)
    /// to held, or none does; the user stays within `limit`; the
    /// reservations and their events are written. Returns each reservation
    /// (in the group's seat order) with its seat row's new version.
    async fn hold_together(
        &self,
        request: GroupHoldRequest,
    ) -> Result<Vec<(Reservation, u64)>, ReservationError>;
    /// In one transaction: a live hold of the user's becomes CANCELLED and its
    /// seat is free again. Returns the reservation and the seat row's new
    /// version (`None` if the seat row did not change).
    async fn cancel(
        &self,
        user: UserId,
        reservation: ReservationId,
        now: Timestamp,
    ) -> Result<(Reservation, Option<u64>), ReservationError>;
    /// The user's reservation, or `None` if it does not exist or is not
    /// theirs.
    async fn find(
        &self,
        user: UserId,
        reservation: ReservationId,
    ) -> Result<Option<Reservation>, StoreError>;
    /// The user's reservations, newest first: at most `limit` of them, only
    /// those older than `after` (by id) when given. Never another user's.
    async fn list(
        &self,
        user: UserId,
        after: Option<ReservationId>,
        limit: u32,
    ) -> Result<Vec<Reservation>, StoreError>;
    /// Writes EXPIRED (and its event) for up to `limit` holds whose deadline
    /// passed; returns how many. Seats are free from the deadline regardless.
    async fn expire_due(&self, now: Timestamp, limit: u32) -> Result<u64, StoreError>;
}

/// The most reservations one page lists.
pub const MAX_PAGE: i64 = 100;
/// How many of a buyer's newest reservations `cart_ends` reads: far more
/// than the per-buyer limit of live holds.
const CART_WINDOW: u32 = 50;
/// How many a page lists when the caller does not say.
pub const DEFAULT_PAGE: i64 = 20;

/// One page of a user's reservations, newest first.
pub struct ReservationPage {
    /// Each reservation with its schedule.
    pub reservations: Vec<(Reservation, Schedule)>,
    /// Pass as `after` for the next page; `None` on the last page.
    pub next: Option<ReservationId>,
}

/// The instance's hold rules.
pub struct HoldSettings {
    /// How long a hold lasts unpaid (the service's default: 300).
    pub hold_seconds: u64,
    /// Seats one user may hold or own per schedule (the default: 4).
    pub seats_per_user: SeatLimit,
    /// Seats all accounts of one household may hold or own per schedule
    /// (the default: 8; 0 is off).
    pub seats_per_household: HouseholdLimit,
    /// How long a hold the user's points do not cover lasts (the
    /// default: 60; never longer than `hold_seconds`).
    pub uncovered_hold_seconds: u64,
}

/// Holds, cancels and the expiry sweep, behind the queue gate.
pub struct ReservationService {
    holds: Arc<dyn SeatHolds>,
    catalogue: Arc<CatalogueService>,
    queue: Arc<QueueService>,
    settings: HoldSettings,
    clock: Arc<dyn Clock>,
}

impl ReservationService {
    /// The service over the holds store, with the catalogue (schedules and
    /// seat maps), the queue gate it consults first, and the clock holds
    /// are decided by.
    pub fn new(
        holds: Arc<dyn SeatHolds>,
        catalogue: Arc<CatalogueService>,
        queue: Arc<QueueService>,
        settings: HoldSettings,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            holds,
            catalogue,
            queue,
            settings,
            clock,
        }
    }

    /// Holds a seat for the caller: the group of one ([`Self::hold_together`]).
    #[tracing::instrument(skip(self, token), fields(user = %user))]
    pub async fn hold(
        &self,
        user: UserId,
        token: Option<&str>,
        schedule: i64,
        seat: i64,
    ) -> Result<Reservation, ReservationError> {
        let mut held = self.hold_together(user, token, schedule, &[seat]).await?;
        held.pop().ok_or_else(|| {
            StoreError::new("a granted hold of one seat answered no reservation").into()
        })
    }

    /// Holds several seats of one schedule for the caller, all or nothing.
    /// In order: the schedule exists ([`ReservationError::ScheduleNotFound`]),
    /// every seat is one of its ([`ReservationError::SeatOutOfRange`]), the
    /// seats are 1 to the per-buyer limit and distinct
    /// ([`ReservationError::InvalidSeats`]), the caller's token is their own
    /// and ACTIVE for the concert ([`ReservationError::Queue`]); a seat the
    /// current seat map shows taken refuses the group without a write
    /// ([`ReservationError::SeatUnavailable`]); then one
    /// [`SeatHolds::hold_together`] decides, and the changes are logged for
    /// every instance before this returns. The reservations come in
    /// ascending seat order.
    #[tracing::instrument(skip(self, token), fields(user = %user))]
    pub async fn hold_together(
        &self,
        user: UserId,
        token: Option<&str>,
        schedule: i64,
        seats: &[i64],
    ) -> Result<Vec<Reservation>, ReservationError> {
        let schedule = ScheduleId::parse(schedule).ok_or(ReservationError::ScheduleNotFound)?;
        let schedule = self.schedule(schedule).await?;
        let seats = seats
            .iter()
            .map(|&seat| SeatNumber::parse(seat, schedule.seat_count))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| ReservationError::SeatOutOfRange)?;
        let seats = SeatGroup::new(seats, self.settings.seats_per_user)?;
        let (token, version) = self
            .queue
            .require_turn_for_seats(user, token, &schedule)
            .await?;
        let now = self.clock.now();
        let taken = seats.seats().iter().any(|&seat| {
            self.catalogue
                .cached_seat(schedule.id, seat, version)
                .is_some_and(|state| state.status_at(now) != SeatStatus::Available)
        });
        if taken {
            return Err(ReservationError::SeatUnavailable);
        }
        let request = GroupHoldRequest {
            user,
            schedule,
            seats: seats.clone(),
            now,
            until: now.plus_seconds(self.settings.hold_seconds),
            uncovered_until: now.plus_seconds(
                self.settings
                    .uncovered_hold_seconds
                    .min(self.settings.hold_seconds),
            ),
            limit: self.settings.seats_per_user,
            household: self.settings.seats_per_household,
        };
        match self.holds.hold_together(request).await {
            Ok(held) => {
                for (reservation, seat_version) in &held {
                    let state = SeatState::Held {
                        reservation: reservation.id,
                        until: reservation.hold_expires_at,
                    };
                    self.catalogue
                        .seat_changed(&SeatChange {
                            concert: schedule.concert,
                            schedule: schedule.id,
                            seat: reservation.seat,
                            state,
                            seat_version: *seat_version,
                        })
                        .await;
                }
                // Holds are made now + hold_seconds, so the newest is the
                // last of the cart to lapse.
                let ends = held.iter().map(|(r, _)| r.hold_expires_at).max();
                self.queue.keep_cart(&token, ends).await;
                Ok(held
                    .into_iter()
                    .map(|(reservation, _)| reservation)
                    .collect())
            }
            Err(ReservationError::SeatUnavailable) => {
                // Which seat was lost is not said; every seat of the group
                // is read again by the next map read at a new version.
                for &seat in seats.seats() {
                    self.catalogue.seat_lost(schedule.id, seat, version).await;
                }
                Err(ReservationError::SeatUnavailable)
            }
            Err(refused @ ReservationError::HouseholdLimitReached { .. }) => {
                // Accounts made together from one network own their share
                // of this show already: nothing this turn can cure that, so
                // a turn holding nothing goes to the next buyer instead of
                // sitting ACTIVE until it lapses (a farm's spare accounts
                // would otherwise hoard the room's slots, issue 25).
                self.end_turn_if_empty(user, schedule.concert, &token).await;
                Err(refused)
            }
            Err(other) => Err(other),
        }
    }

    /// Ends the place's turn when the buyer holds nothing of the concert;
    /// best effort, like [`Self::settle_cart`].
    async fn end_turn_if_empty(&self, user: UserId, concert: ConcertId, token: &QueueToken) {
        match self.cart_ends(user, concert).await {
            Ok(None) => {
                if let Err(error) = self.queue.end_turn(token).await {
                    tracing::warn!(%error, "could not end a turn that can buy nothing");
                }
            }
            Ok(Some(_)) => {}
            Err(error) => tracing::warn!(%error, "could not read the cart of a place"),
        }
    }

    /// How many seats of a schedule one buyer may hold or own at once.
    pub fn seats_per_user(&self) -> SeatLimit {
        self.settings.seats_per_user
    }

    /// The caller's reservation; [`ReservationError::NotFound`] for one that
    /// does not exist or is someone else's.
    pub async fn find(&self, user: UserId, id: i64) -> Result<Reservation, ReservationError> {
        let id = ReservationId::parse(id).ok_or(ReservationError::NotFound)?;
        self.lookup(user, id)
            .await?
            .ok_or(ReservationError::NotFound)
    }

    /// The caller's reservation, `None` for one that does not exist or is
    /// someone else's: for other features, whose only failure to place is
    /// the store's.
    pub async fn lookup(
        &self,
        user: UserId,
        id: ReservationId,
    ) -> Result<Option<Reservation>, StoreError> {
        self.holds.find(user, id).await
    }

    /// A schedule of the catalogue, [`ReservationError::ScheduleNotFound`]
    /// when there is none.
    async fn schedule(&self, id: ScheduleId) -> Result<Schedule, ReservationError> {
        self.catalogue
            .find_schedule(id)
            .await?
            .ok_or(ReservationError::ScheduleNotFound)
    }

    /// A page of the user's reservations, newest first, each with its
    /// schedule (from the catalogue's cache). `limit` is 1 to `MAX_PAGE`
    /// (default `DEFAULT_PAGE`); `after` is the `next` of the previous page.
    pub async fn mine(
        &self,
        user: UserId,
        limit: Option<i64>,
        after: Option<i64>,
    ) -> Result<ReservationPage, ReservationError> {
        let limit = limit.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(ReservationError::InvalidPage);
        }
        let after = after
            .map(|id| ReservationId::parse(id).ok_or(ReservationError::InvalidPage))
            .transpose()?;
        // One more than asked tells whether another page follows.
        let mut found = self.holds.list(user, after, limit as u32 + 1).await?;
        let more = found.len() > limit as usize;
        found.truncate(limit as usize);
        let next = more.then(|| found.last().map(|r| r.id)).flatten();
        let mut reservations = Vec::with_capacity(found.len());
        for reservation in found {
            let schedule = self.schedule(reservation.schedule).await?;
            reservations.push((reservation, schedule));
        }
        Ok(ReservationPage { reservations, next })
    }

    /// The caller lets go of a live hold; the seat is free at once, on
    /// every instance. Needs no queue token, so a buyer whose place lapsed
    /// can still release what they hold.
    ///
    /// With the caller's queue token for the concert, the place learns its
    /// cart: emptied, the place lapses with its own turn (at once, if that
    /// has ended).
    #[tracing::instrument(skip(self, token), fields(user = %user))]
    pub async fn cancel(
        &self,
        user: UserId,
        id: i64,
        token: Option<&str>,
    ) -> Result<Reservation, ReservationError> {
        let id = ReservationId::parse(id).ok_or(ReservationError::NotFound)?;
        let (cancelled, seat_version) = self.holds.cancel(user, id, self.clock.now()).await?;
        let schedule = self.schedule(cancelled.schedule).await?;
        if token.is_some()
            && let Ok(token) = self.queue.own_token_for(user, token, schedule.concert)
        {
            match self.cart_ends(user, schedule.concert).await {
                Ok(ends) => self.queue.keep_cart(&token, ends).await,
                Err(error) => tracing::warn!(%error, "could not read the cart of a place"),
            }
        }
        if let Some(seat_version) = seat_version {
            self.catalogue
                .seat_changed(&SeatChange {
                    concert: schedule.concert,
                    schedule: schedule.id,
                    seat: cancelled.seat,
                    state: SeatState::Available,
                    seat_version,
                })
                .await;
        }
        Ok(cancelled)
    }

    /// When the caller's cart in the concert lapses: the latest deadline of
    /// their live holds there (`None`: nothing held). Reads the newest
    /// reservations only: a live hold is among the last `CART_WINDOW`.
    pub async fn cart_ends(
        &self,
        user: UserId,
        concert: ConcertId,
    ) -> Result<Option<Timestamp>, ReservationError> {
        let now = self.clock.now();
        let mut theirs = Vec::new();
        for reservation in self.holds.list(user, None, CART_WINDOW).await? {
            if reservation.status_at(now) != ReservationStatus::Held {
                continue;
            }
            if self.schedule(reservation.schedule).await?.concert == concert {
                theirs.push(reservation);
            }
        }
        Ok(frontrow_domain::cart::ends(&theirs, now))
    }

    /// After a payment: the place ends when nothing is held any more (its
    /// slot goes to the next buyer), and is kept for what still is. Best
    /// effort, as the holds decide what may be paid.
    pub async fn settle_cart(&self, user: UserId, concert: ConcertId, token: &QueueToken) {
        match self.cart_ends(user, concert).await {
            Ok(ends) => self.settle_place(token, ends).await,
            Err(error) => tracing::warn!(%error, "could not read the cart of a place"),
        }
    }

    /// As `settle_cart`, when the cart's end is known already (a payment
    /// read it in its own transaction, `PaymentStore::pay`).
    pub async fn settle_place(&self, token: &QueueToken, ends: Option<Timestamp>) {
        match ends {
            None => {
                if let Err(error) = self.queue.finish(token).await {
                    tracing::warn!(%error, "could not end a place whose cart is empty");
                }
            }
            Some(ends) => self.queue.keep_cart(token, Some(ends)).await,
        }
    }

    /// Writes EXPIRED (and the event) for up to `limit` lapsed holds;
    /// returns how many. The service's sweeper calls it every second.
    /// Seats do not wait for it: a lapsed hold is free from its deadline.
    ///
    /// The sweeper's other chore: seat changes that committed while the
    /// seat-change log was unreachable are logged now if it takes them
    /// (`CatalogueService::relog_unlogged`), so the room's stock and every
    /// instance's maps learn them within about a second of its return.
    pub async fn expire_due(&self, limit: u32) -> Result<u64, StoreError> {
        self.catalogue.relog_unlogged().await;
        self.holds.expire_due(self.clock.now(), limit).await
    }

    /// How many seats one buyer may hold: also the most a cart may pay for.
    pub fn seat_limit(&self) -> SeatLimit {
        self.settings.seats_per_user
    }

    /// The clock holds are decided by.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }
}

impl From<SeatError> for ReservationError {
    fn from(error: SeatError) -> Self {
        match error {
            SeatError::OutOfRange => ReservationError::SeatOutOfRange,
            SeatError::Unavailable | SeatError::NotHeldBy => ReservationError::SeatUnavailable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::MockCatalogue;
    use crate::fixtures::{FakeLog, TOKEN, clock_at, stored};
    use crate::queue::{MockWaitingRoom, Place, SeparateSeatGate, WaitingRoom};
    use crate::seat_changes::SeatChangeLog;
    use frontrow_domain::points::Points;
    use frontrow_domain::queue::{AdmissionPolicy, QueueStatus, QueueToken};
    use frontrow_domain::room::Ending;
    use frontrow_domain::{ConcertId, ScheduleId};

    fn schedule() -> Schedule {
        crate::fixtures::schedule(2, 100)
    }

    fn service(
        seats: Vec<SeatState>,
        holds: MockSeatHolds,
        status: QueueStatus,
    ) -> ReservationService {
        service_over(catalogue_of(seats), holds, status)
    }

    /// The schedule of `seats`, each read as given (a single seat as the
    /// first).
    fn catalogue_of(seats: Vec<SeatState>) -> MockCatalogue {
        let mut catalogue = MockCatalogue::new();
        catalogue
            .expect_schedule()
            .returning(|_| Ok(Some(schedule())));
        let first = seats.first().copied();
        catalogue
            .expect_seats()
            .returning(move |_| Ok(seats.iter().map(|s| stored(*s, 0)).collect()));
        catalogue.expect_seat().returning(move |_, _| Ok(first));
        catalogue
    }

    fn service_over(
        catalogue: MockCatalogue,
        holds: MockSeatHolds,
        status: QueueStatus,
    ) -> ReservationService {
        service_watching_endings(catalogue, holds, status, Arc::default())
    }

    /// [`service_over`], recording every place the service ends.
    fn service_watching_endings(
        catalogue: MockCatalogue,
        holds: MockSeatHolds,
        status: QueueStatus,
        endings: Arc<std::sync::Mutex<Vec<Ending>>>,
    ) -> ReservationService {
        let log: Arc<dyn SeatChangeLog> = Arc::new(FakeLog::default());
        let clock: Arc<dyn Clock> = Arc::new(clock_at(1_000));
        let catalogue = Arc::new(CatalogueService::new(
            Arc::new(catalogue),
            log.clone(),
            clock.clone(),
        ));
        let mut room = MockWaitingRoom::new();
        room.expect_touch().returning(|_| Ok(()));
        room.expect_leave().returning(move |_, why| {
            endings.lock().unwrap().push(why);
            Ok(())
        });
        // The place is kept for the cart a hold starts.
        room.expect_keep()
            .withf(|_, cart| cart.is_some())
            .returning(|_, _| Ok(()));
        room.expect_place().returning(move |_| {
            Ok(Some(Place::new(
                QueueToken::parse(TOKEN).unwrap(),
                ConcertId::from_store(1),
                UserId::from_store(1),
                (status, 0),
                AdmissionPolicy::new(10, 10, false).unwrap(),
                None,
            )))
        });
        let room: Arc<dyn WaitingRoom> = Arc::new(room);
        let gate = SeparateSeatGate {
            room: room.clone(),
            log,
        };
        let queue = Arc::new(QueueService::new(
            room,
            Arc::new(crate::fixtures::TrustingSeal),
            Arc::new(gate),
            catalogue.cached(),
            clock.clone(),
        ));
        let settings = HoldSettings {
            hold_seconds: 300,
            seats_per_user: SeatLimit(4),
            seats_per_household: frontrow_domain::household::HouseholdLimit(8),
            uncovered_hold_seconds: 60,
        };
        ReservationService::new(Arc::new(holds), catalogue, queue, settings, clock)
    }

    fn reservation(id: i64) -> Reservation {
        Reservation {
            id: ReservationId::from_store(id),
            user: UserId::from_store(1),
            schedule: ScheduleId::from_store(5),
            seat: SeatNumber::from_store(1),
            price: Points::new(100).unwrap(),
            stored_status: frontrow_domain::reservation::ReservationStatus::Held,
            hold_expires_at: Timestamp(2_000),
            cover: frontrow_domain::hold_cost::Cover::Covered,
        }
    }

    #[tokio::test]
    async fn a_page_of_reservations_says_where_the_next_one_starts_and_the_last_page_says_none() {
        let mut holds = MockSeatHolds::new();
        holds
            .expect_list()
            .withf(|_, after, limit| after.is_none() && *limit == 3)
            .returning(|_, _, _| Ok(vec![reservation(9), reservation(7), reservation(4)]));
        holds
            .expect_list()
            .withf(|_, after, limit| *after == Some(ReservationId::from_store(7)) && *limit == 3)
            .returning(|_, _, _| Ok(vec![reservation(4)]));
        let service = service(vec![SeatState::Available; 2], holds, QueueStatus::Active);
        let user = UserId::from_store(1);
        let first = service.mine(user, Some(2), None).await.unwrap();
        let ids: Vec<i64> = first.reservations.iter().map(|(r, _)| r.id.get()).collect();
        assert_eq!(ids, [9, 7]);
        assert_eq!(first.next, Some(ReservationId::from_store(7)));
        assert_eq!(first.reservations[0].1.concert, ConcertId::from_store(1));
        let last = service.mine(user, Some(2), Some(7)).await.unwrap();
        assert_eq!(last.reservations.len(), 1);
        assert_eq!(last.next, None);
    }

    #[tokio::test]
    async fn a_bad_page_is_refused_before_the_store_is_asked() {
        let service = service(
            vec![SeatState::Available; 2],
            MockSeatHolds::new(),
            QueueStatus::Active,
        );
        let user = UserId::from_store(1);
        for (limit, after) in [
            (Some(0), None),
            (Some(MAX_PAGE + 1), None),
            (Some(-3), None),
            (None, Some(0)),
            (None, Some(-1)),
        ] {
            let err = service.mine(user, limit, after).await.err();
            assert!(
                matches!(err, Some(ReservationError::InvalidPage)),
                "{limit:?} {after:?}"
            );
        }
    }

    /// The household refusal, from a buyer who holds `held` of the concert.
    async fn refused_for_the_household(held: Vec<Reservation>) -> Vec<Ending> {
        let mut holds = MockSeatHolds::new();
        holds
            .expect_hold_together()
            .returning(|_| Err(ReservationError::HouseholdLimitReached { limit: 8 }));
        holds
            .expect_list()
            .returning(move |_, _, _| Ok(held.clone()));
        let catalogue = catalogue_of(vec![SeatState::Available; 2]);
        let endings = Arc::default();
        let service =
            service_watching_endings(catalogue, holds, QueueStatus::Active, Arc::clone(&endings));
        let err = service
            .hold(UserId::from_store(1), Some(TOKEN), 5, 1)
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            ReservationError::HouseholdLimitReached { limit: 8 }
        ));
        endings.lock().unwrap().clone()
    }

    #[tokio::test]
    async fn a_household_refusal_ends_a_turn_that_holds_nothing_and_keeps_one_that_holds() {
        assert_eq!(refused_for_the_household(vec![]).await, [Ending::TurnEnded]);
        assert_eq!(refused_for_the_household(vec![reservation(7)]).await, []);
    }

    #[tokio::test]
    async fn a_seat_outside_the_schedule_is_refused_before_any_write() {
        let service = service(
            vec![SeatState::Available; 2],
            MockSeatHolds::new(),
            QueueStatus::Active,
        );
        for seat in [0, 3, -1] {
            let err = service
                .hold(UserId::from_store(1), Some(TOKEN), 5, seat)
                .await
                .unwrap_err();
            assert!(matches!(err, ReservationError::SeatOutOfRange));
        }
    }

    #[tokio::test]
    async fn a_catalogue_outage_during_a_hold_is_a_store_failure_not_a_missing_schedule() {
        let mut catalogue = MockCatalogue::new();
        catalogue
            .expect_schedule()
            .returning(|_| Err(StoreError::new("database: refused")));
        let mut holds = MockSeatHolds::new();
        holds.expect_hold_together().never();
        let service = service_over(catalogue, holds, QueueStatus::Active);
        let err = service
            .hold(UserId::from_store(1), Some(TOKEN), 5, 1)
            .await
            .unwrap_err();
        assert!(matches!(err, ReservationError::Store(_)), "{err:?}");
    }

    #[tokio::test]
    async fn a_waiting_user_cannot_hold() {
        let service = service(
            vec![SeatState::Available; 2],
            MockSeatHolds::new(),
            QueueStatus::Waiting,
        );
        let err = service
            .hold(UserId::from_store(1), Some(TOKEN), 5, 1)
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            ReservationError::Queue(QueueError::NotActive)
        ));
    }

    #[tokio::test]
    async fn a_seat_the_cache_shows_taken_is_refused_without_a_write() {
        let sold = SeatState::Sold {
            reservation: ReservationId::from_store(9),
        };
        let service = service(
            vec![sold, SeatState::Available],
            MockSeatHolds::new(),
            QueueStatus::Active,
        );
        // A buyer's seat-map read has cached the schedule at its current version.
        service
            .catalogue
            .seat_map(ScheduleId::from_store(5))
            .await
            .unwrap();
        let err = service
            .hold(UserId::from_store(1), Some(TOKEN), 5, 1)
            .await
            .unwrap_err();
        assert!(matches!(err, ReservationError::SeatUnavailable));
    }

    #[tokio::test]
    async fn a_seat_lost_once_is_refused_without_a_write_while_nothing_changes() {
        let held = SeatState::Held {
            reservation: ReservationId::from_store(9),
            until: Timestamp(999_999),
        };
        let mut holds = MockSeatHolds::new();
        holds
            .expect_hold_together()
            .times(1)
            .returning(|_| Err(ReservationError::SeatUnavailable));
        let service = service(vec![held, SeatState::Available], holds, QueueStatus::Active);
        for _ in 0..3 {
            let err = service
                .hold(UserId::from_store(1), Some(TOKEN), 5, 1)
                .await
                .unwrap_err();
            assert!(matches!(err, ReservationError::SeatUnavailable));
        }
    }

    #[tokio::test]
    async fn a_free_seat_is_one_store_call_with_the_hold_deadline() {
        let mut holds = MockSeatHolds::new();
        holds
            .expect_hold_together()
            .times(1)
            .withf(|r| {
                r.seats.seats() == [SeatNumber::from_store(2)]
                    && r.until == Timestamp(301_000)
                    && r.limit == SeatLimit(4)
                    && r.household == frontrow_domain::household::HouseholdLimit(8)
            })
            .returning(|r| {
                let reservation = Reservation {
                    id: ReservationId::from_store(1),
                    user: r.user,
                    schedule: r.schedule.id,
                    seat: r.seats.seats()[0],
                    price: r.schedule.price,
                    stored_status: frontrow_domain::reservation::ReservationStatus::Held,
                    hold_expires_at: r.until,
                    cover: frontrow_domain::hold_cost::Cover::Covered,
                };
                Ok(vec![(reservation, 1)])
            });
        let service = service(vec![SeatState::Available; 2], holds, QueueStatus::Active);
        // The holder looked at the map first (the database mock never changes).
        service
            .catalogue
            .seat_map(ScheduleId::from_store(5))
            .await
            .unwrap();
        let held = service
            .hold(UserId::from_store(1), Some(TOKEN), 5, 2)
            .await
            .unwrap();
        assert_eq!(held.hold_expires_at, Timestamp(301_000));
        let map = service
            .catalogue
            .seat_map(ScheduleId::from_store(5))
            .await
            .unwrap();
        assert!(
            matches!(map.seats[1], SeatState::Held { .. }),
            "the holder's next read sees the hold"
        );
    }
}
