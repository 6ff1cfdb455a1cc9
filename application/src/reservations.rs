//! Seat holds: the only way a seat leaves AVAILABLE.
//!
//! The store decides who gets a seat, in one transaction (a conditional update
//! of the seat row). Before asking it, the use case consults the cached seat
//! map: a seat that is already HELD or SOLD at the current version is refused
//! without a database write. That is only an optimisation, because a stale
//! "free" still goes to the database, and the cache never says "taken" for a
//! seat that is free at its version.

use crate::StoreError;
use crate::catalogue::{CatalogueError, CatalogueService};
use crate::queue::{QueueError, QueueService};
use crate::seat_changes::SeatChange;
use async_trait::async_trait;
use frontrow_domain::catalogue::Schedule;
use frontrow_domain::reservation::{Reservation, SeatLimit, TransitionError};
use frontrow_domain::seat::{SeatError, SeatNumber, SeatState, SeatStatus};
use frontrow_domain::{ReservationId, Timestamp, UserId};
use std::sync::Arc;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ReservationError {
    #[error("schedule not found")]
    ScheduleNotFound,
    #[error("seat number is outside this schedule's seats")]
    SeatOutOfRange,
    #[error("this seat is not available")]
    SeatUnavailable,
    #[error("you already hold or own the most seats allowed for this schedule")]
    SeatLimitReached,
    #[error("reservation not found")]
    NotFound,
    #[error("limit must be 1 to {max} and after a reservation id from a previous page", max = MAX_PAGE)]
    InvalidPage,
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<CatalogueError> for ReservationError {
    fn from(error: CatalogueError) -> Self {
        match error {
            CatalogueError::Store(e) => ReservationError::Store(e),
            _ => ReservationError::ScheduleNotFound,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HoldRequest {
    pub user: UserId,
    pub schedule: Schedule,
    pub seat: SeatNumber,
    pub now: Timestamp,
    pub until: Timestamp,
    pub limit: SeatLimit,
}

#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait SeatHolds: Send + Sync {
    /// In one transaction: the seat goes from free (at `now`) to held, the
    /// user stays within `limit`, the reservation and its event are written.
    /// Returns the reservation and the seat row's new version.
    async fn hold(&self, request: HoldRequest) -> Result<(Reservation, u64), ReservationError>;
    /// In one transaction: a live hold of the user's becomes CANCELLED and its
    /// seat is free again. Returns the reservation and the seat row's new
    /// version (`None` if the seat row did not change).
    async fn cancel(
        &self,
        user: UserId,
        reservation: ReservationId,
        now: Timestamp,
    ) -> Result<(Reservation, Option<u64>), ReservationError>;
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

/// The most reservations one page lists; also the default.
pub const MAX_PAGE: i64 = 100;
pub const DEFAULT_PAGE: i64 = 20;

/// One page of a user's reservations, newest first.
pub struct ReservationPage {
    pub reservations: Vec<(Reservation, Schedule)>,
    /// Pass as `after` for the next page; `None` on the last page.
    pub next: Option<ReservationId>,
}

pub struct HoldSettings {
    pub hold_seconds: u64,
    pub seats_per_user: SeatLimit,
}

pub struct ReservationService {
    holds: Arc<dyn SeatHolds>,
    catalogue: Arc<CatalogueService>,
    queue: Arc<QueueService>,
    settings: HoldSettings,
}

impl ReservationService {
    pub fn new(
        holds: Arc<dyn SeatHolds>,
        catalogue: Arc<CatalogueService>,
        queue: Arc<QueueService>,
        settings: HoldSettings,
    ) -> Self {
        Self {
            holds,
            catalogue,
            queue,
            settings,
        }
    }

    #[tracing::instrument(skip(self, token), fields(user = %user))]
    pub async fn hold(
        &self,
        user: UserId,
        token: Option<&str>,
        schedule: i64,
        seat: i64,
    ) -> Result<Reservation, ReservationError> {
        let schedule = self.catalogue.schedule(schedule).await?;
        let seat = SeatNumber::parse(seat, schedule.seat_count)
            .map_err(|_| ReservationError::SeatOutOfRange)?;
        let (_, version) = self
            .queue
            .require_active_for_seats(user, token, &schedule)
            .await?;
        let now = self.catalogue.now();
        let known = self.catalogue.cached_seat(schedule.id, seat, version);
        if known.is_some_and(|state| state.status_at(now) != SeatStatus::Available) {
            return Err(ReservationError::SeatUnavailable);
        }
        let request = HoldRequest {
            user,
            schedule,
            seat,
            now,
            until: now.plus_seconds(self.settings.hold_seconds),
            limit: self.settings.seats_per_user,
        };
        match self.holds.hold(request).await {
            Ok((reservation, seat_version)) => {
                let state = SeatState::Held {
                    reservation: reservation.id,
                    until: reservation.hold_expires_at,
                };
                self.catalogue
                    .seat_changed(&SeatChange {
                        concert: schedule.concert,
                        schedule: schedule.id,
                        seat,
                        state,
                        seat_version,
                    })
                    .await;
                Ok(reservation)
            }
            Err(ReservationError::SeatUnavailable) => {
                self.catalogue.seat_lost(schedule.id, seat, version).await;
                Err(ReservationError::SeatUnavailable)
            }
            Err(other) => Err(other),
        }
    }

    pub async fn find(&self, user: UserId, id: i64) -> Result<Reservation, ReservationError> {
        let id = ReservationId::parse(id).ok_or(ReservationError::NotFound)?;
        self.holds
            .find(user, id)
            .await?
            .ok_or(ReservationError::NotFound)
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
            let schedule = self.catalogue.schedule(reservation.schedule.get()).await?;
            reservations.push((reservation, schedule));
        }
        Ok(ReservationPage { reservations, next })
    }

    #[tracing::instrument(skip(self), fields(user = %user))]
    pub async fn cancel(&self, user: UserId, id: i64) -> Result<Reservation, ReservationError> {
        let id = ReservationId::parse(id).ok_or(ReservationError::NotFound)?;
        let (cancelled, seat_version) = self.holds.cancel(user, id, self.catalogue.now()).await?;
        if let Some(seat_version) = seat_version {
            let schedule = self.catalogue.schedule(cancelled.schedule.get()).await?;
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

    pub async fn expire_due(&self, limit: u32) -> Result<u64, StoreError> {
        self.holds.expire_due(self.catalogue.now(), limit).await
    }

    pub fn now(&self) -> Timestamp {
        self.catalogue.now()
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
    use frontrow_domain::{ConcertId, ScheduleId};

    fn schedule() -> Schedule {
        Schedule {
            id: ScheduleId::from_store(5),
            concert: ConcertId::from_store(1),
            starts_at: Timestamp(0),
            seat_count: 2,
            price: Points::new(100).unwrap(),
        }
    }

    fn service(
        seats: Vec<SeatState>,
        holds: MockSeatHolds,
        status: QueueStatus,
    ) -> ReservationService {
        let mut catalogue = MockCatalogue::new();
        catalogue
            .expect_schedule()
            .returning(|_| Ok(Some(schedule())));
        let first = seats.first().copied();
        catalogue
            .expect_seats()
            .returning(move |_| Ok(seats.iter().map(|s| stored(*s, 0)).collect()));
        catalogue.expect_seat().returning(move |_, _| Ok(first));
        let log: Arc<dyn SeatChangeLog> = Arc::new(FakeLog::default());
        let catalogue = Arc::new(CatalogueService::new(
            Arc::new(catalogue),
            log.clone(),
            Arc::new(clock_at(1_000)),
        ));
        let mut room = MockWaitingRoom::new();
        room.expect_touch().returning(|_| Ok(()));
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
            catalogue.clone(),
        ));
        let settings = HoldSettings {
            hold_seconds: 300,
            seats_per_user: SeatLimit(4),
        };
        ReservationService::new(Arc::new(holds), catalogue, queue, settings)
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
            .expect_hold()
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
            .expect_hold()
            .times(1)
            .withf(|r| {
                r.seat.get() == 2 && r.until == Timestamp(301_000) && r.limit == SeatLimit(4)
            })
            .returning(|r| {
                let reservation = Reservation {
                    id: ReservationId::from_store(1),
                    user: r.user,
                    schedule: r.schedule.id,
                    seat: r.seat,
                    price: r.schedule.price,
                    stored_status: frontrow_domain::reservation::ReservationStatus::Held,
                    hold_expires_at: r.until,
                };
                Ok((reservation, 1))
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
