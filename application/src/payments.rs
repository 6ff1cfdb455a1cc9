//! Payment: the step that turns a hold into a ticket.
//!
//! `PaymentStore::pay` is one transaction: points deducted (never below zero),
//! payment row, reservation CONFIRMED, seat SOLD, ledger entry and outbox
//! event. A reservation has at most one payment (a unique key), so paying
//! twice charges once; a retry of a finished payment returns the same receipt
//! even though the queue token was spent by the first call.

use crate::catalogue::CatalogueService;
use crate::queue::{QueueError, QueueService};
use crate::seat_changes::SeatChange;
use crate::{Clock, StoreError};
use async_trait::async_trait;
use frontrow_domain::catalogue::Schedule;
use frontrow_domain::points::Points;
use frontrow_domain::reservation::{Reservation, TransitionError};
use frontrow_domain::seat::SeatState;
use frontrow_domain::{PaymentId, ReservationId, Timestamp, UserId};
use std::sync::Arc;
use thiserror::Error;

/// Why a payment failed. Nothing was charged in any of these cases.
#[derive(Debug, Error)]
pub enum PaymentError {
    /// No such reservation of this user's.
    #[error("reservation not found")]
    ReservationNotFound,
    /// The balance is below the reservation's price.
    #[error("not enough points")]
    InsufficientPoints,
    /// The reservation is not a live hold: lapsed, cancelled, or (from a
    /// store) already paid.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// The queue gate refused (and no earlier payment was found).
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// A store failed (a 503).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A completed payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    /// The payment, one per reservation.
    pub payment: PaymentId,
    /// What was paid for, now CONFIRMED.
    pub reservation: ReservationId,
    /// The points taken: the reservation's price.
    pub amount: Points,
    /// The payer's balance right after this payment.
    pub balance: Points,
}

/// Payments: where a hold becomes a sold seat.
///
/// Contract:
/// - `pay` is one transaction that decides on the *stored* rows (the
///   `reservation` passed in was read earlier and may be stale): the
///   user's reservation is HELD and its deadline is after `now`, the seat
///   is held by it, and the balance covers the price. Then the balance
///   drops by the price, the payment row (at most one per reservation,
///   enforced by the store), the CONFIRMED reservation, the SOLD seat
///   (with a new version), a `PAYMENT` ledger entry and the
///   `payment.completed` event are written together.
/// - Refusals: [`PaymentError::ReservationNotFound`] (not the user's),
///   [`PaymentError::Transition`] (lapsed, cancelled, or
///   `AlreadyConfirmed` for a reservation paid already, also by a
///   concurrent call), [`PaymentError::InsufficientPoints`]. Store
///   failures are [`PaymentError::Store`] or [`StoreError`].
/// - `receipt` is the payment of the user's reservation, or `None`, with
///   the sold seat's version (the one its payment gave the seat row: a
///   sold seat never changes again), so a retry can log the sale again.
///
/// The shipped store is `SqlStore`. In memory, every check is a domain
/// move and nothing is written until all of them passed:
///
/// ```
/// use async_trait::async_trait;
/// use frontrow_application::payments::{PaymentError, PaymentStore, Receipt};
/// use frontrow_application::StoreError;
/// use frontrow_domain::points::{PointBalance, Points};
/// use frontrow_domain::reservation::{Reservation, ReservationStatus, TransitionError};
/// use frontrow_domain::seat::{SeatNumber, SeatState};
/// use frontrow_domain::{PaymentId, ReservationId, ScheduleId, Timestamp, UserId};
/// use std::collections::HashMap;
/// use std::sync::Mutex;
///
/// #[derive(Default)]
/// struct Rows {
///     reservations: HashMap<ReservationId, Reservation>,
///     seats: HashMap<(ScheduleId, SeatNumber), (SeatState, u64)>,
///     balances: HashMap<UserId, PointBalance>,
///     receipts: HashMap<ReservationId, (Receipt, u64)>,
/// }
///
/// #[derive(Default)]
/// struct MemoryPayments(Mutex<Rows>);
///
/// #[async_trait]
/// impl PaymentStore for MemoryPayments {
///     async fn pay(
///         &self,
///         user: UserId,
///         reservation: &Reservation,
///         now: Timestamp,
///     ) -> Result<(Receipt, u64), PaymentError> {
///         let mut rows = self.0.lock().map_err(|_| StoreError::new("poisoned"))?;
///         let stored = rows.reservations.get(&reservation.id).filter(|r| r.user == user);
///         let stored = stored.cloned().ok_or(PaymentError::ReservationNotFound)?;
///         let confirmed = stored.clone().confirm(now)?; // HoldExpired, AlreadyConfirmed, Cancelled
///         let key = (stored.schedule, stored.seat);
///         let (seat, version) = rows.seats.get(&key).copied().ok_or(PaymentError::ReservationNotFound)?;
///         let sold = seat.sell(stored.id, now).map_err(|_| TransitionError::HoldExpired)?;
///         let balance = rows.balances.get(&user).copied().unwrap_or(PointBalance::new(Points::ZERO));
///         let balance = balance.spend(stored.price).map_err(|_| PaymentError::InsufficientPoints)?;
///         let receipt = Receipt {
///             payment: PaymentId::from_store(rows.receipts.len() as i64 + 1),
///             reservation: stored.id,
///             amount: stored.price,
///             balance: balance.points(),
///         };
///         rows.reservations.insert(stored.id, confirmed);
///         rows.seats.insert(key, (sold, version + 1));
///         rows.balances.insert(user, balance);
///         rows.receipts.insert(stored.id, (receipt, version + 1));
///         Ok((receipt, version + 1))
///     }
///
///     async fn receipt(&self, user: UserId, id: ReservationId) -> Result<Option<(Receipt, u64)>, StoreError> {
///         let rows = self.0.lock().map_err(|_| StoreError::new("poisoned"))?;
///         let theirs = rows.reservations.get(&id).is_some_and(|r| r.user == user);
///         Ok(rows.receipts.get(&id).filter(|_| theirs).copied())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let (ada, now) = (UserId::from_store(1), Timestamp(1_000));
/// let held = Reservation {
///     id: ReservationId::from_store(1),
///     user: ada,
///     schedule: ScheduleId::from_store(1),
///     seat: SeatNumber::from_store(7),
///     price: Points::new(120).ok_or("negative")?,
///     stored_status: ReservationStatus::Held,
///     hold_expires_at: now.plus_seconds(300),
/// };
/// let payments = MemoryPayments::default();
/// {
///     let mut rows = payments.0.lock().map_err(|_| "poisoned")?;
///     rows.reservations.insert(held.id, held.clone());
///     let hold = SeatState::Held { reservation: held.id, until: held.hold_expires_at };
///     rows.seats.insert((held.schedule, held.seat), (hold, 1));
///     rows.balances.insert(ada, PointBalance::new(Points::new(100).ok_or("negative")?));
/// }
/// assert!(matches!(payments.pay(ada, &held, now).await, Err(PaymentError::InsufficientPoints)));
///
/// payments.0.lock().map_err(|_| "poisoned")?
///     .balances.insert(ada, PointBalance::new(Points::new(200).ok_or("negative")?));
/// let (receipt, seat_version) = payments.pay(ada, &held, now).await?;
/// assert_eq!((receipt.balance.get(), seat_version), (80, 2));
/// let again = payments.pay(ada, &held, now).await;
/// assert!(matches!(again, Err(PaymentError::Transition(TransitionError::AlreadyConfirmed))));
/// assert_eq!(payments.receipt(ada, held.id).await?, Some((receipt, 2)));
/// # Ok(()) }
/// ```
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait PaymentStore: Send + Sync {
    /// The whole payment of the user's `reservation` (as found before), in
    /// one transaction (see the module doc). Returns the receipt and the
    /// seat row's new version.
    async fn pay(
        &self,
        user: UserId,
        reservation: &Reservation,
        now: Timestamp,
    ) -> Result<(Receipt, u64), PaymentError>;
    /// The payment of the user's reservation, if it was paid, with the sold
    /// seat row's version.
    async fn receipt(
        &self,
        user: UserId,
        reservation: ReservationId,
    ) -> Result<Option<(Receipt, u64)>, StoreError>;
}

/// Payment, behind the queue gate.
pub struct PaymentService {
    payments: Arc<dyn PaymentStore>,
    reservations: Arc<crate::reservations::ReservationService>,
    catalogue: Arc<CatalogueService>,
    queue: Arc<QueueService>,
    clock: Arc<dyn Clock>,
}

impl PaymentService {
    /// The service over the payment store, with the reservations (to find
    /// the hold), the catalogue (its schedule and seat maps) and the queue
    /// gate.
    pub fn new(
        payments: Arc<dyn PaymentStore>,
        reservations: Arc<crate::reservations::ReservationService>,
        catalogue: Arc<CatalogueService>,
        queue: Arc<QueueService>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            payments,
            reservations,
            catalogue,
            queue,
            clock,
        }
    }

    /// Pays for a reservation; the bool is true when this call made the payment.
    ///
    /// The caller's queue token must be ACTIVE for the concert. A retry
    /// after a payment went through (its token now spent, or a concurrent
    /// call that won) gets the first receipt and `false`, never a second
    /// charge. On success the sale is logged for every instance and the
    /// caller's place in the queue ends, which admits the next buyer.
    #[tracing::instrument(skip(self, token), fields(user = %user))]
    pub async fn pay(
        &self,
        user: UserId,
        token: Option<&str>,
        reservation: i64,
    ) -> Result<(Receipt, bool), PaymentError> {
        let id = ReservationId::parse(reservation).ok_or(PaymentError::ReservationNotFound)?;
        let reservation = self
            .reservations
            .lookup(user, id)
            .await?
            .ok_or(PaymentError::ReservationNotFound)?;
        // A reservation names a schedule that exists (schedules are never
        // deleted); one that does not is a store that lost rows, not a
        // buyer's mistake.
        let schedule = self
            .catalogue
            .find_schedule(reservation.schedule)
            .await?
            .ok_or_else(|| StoreError::new("a reservation's schedule is missing"))?;
        // A live hold is the right to pay for it, whether or not the turn
        // has ended since: only the token's owner and concert are checked.
        let token = match self.queue.own_token_for(user, token, schedule.concert) {
            Ok(token) => token,
            // A retry after paying comes with a spent token (or none): it
            // gets the first receipt. Asked only here, so a first payment
            // does not pay for the lookup.
            Err(refused) => {
                return match self.payments.receipt(user, id).await? {
                    Some((receipt, seat_version)) => {
                        self.log_sale(&schedule, &reservation, seat_version).await;
                        Ok((receipt, false))
                    }
                    None => Err(refused.into()),
                };
            }
        };
        let now = self.clock.now();
        let (receipt, seat_version, created) =
            match self.payments.pay(user, &reservation, now).await {
                Ok((receipt, seat_version)) => (receipt, seat_version, true),
                // Paid already, by a concurrent call or by a first call whose
                // answer was lost (its token still ACTIVE): answer as it did.
                Err(PaymentError::Transition(TransitionError::AlreadyConfirmed)) => {
                    let (receipt, seat_version) = self
                        .payments
                        .receipt(user, id)
                        .await?
                        .ok_or(PaymentError::Transition(TransitionError::AlreadyConfirmed))?;
                    (receipt, seat_version, false)
                }
                Err(other) => return Err(other),
            };
        self.log_sale(&schedule, &reservation, seat_version).await;
        // The place ends with its cart: only when nothing else is held.
        self.reservations
            .settle_cart(user, schedule.concert, &token)
            .await;
        Ok((receipt, created))
    }

    /// Logs the sale of the reservation's seat for every instance and the
    /// room's stock. A retry logs it again: the first call may have
    /// committed and then died before logging (its instance killed, or the
    /// database gone before the commit's answer), and the room would count
    /// the seat as held until the hold's deadline, admitting nobody while
    /// nothing else is free and never closing. A change logged twice is
    /// applied once (by seat version).
    async fn log_sale(&self, schedule: &Schedule, reservation: &Reservation, seat_version: u64) {
        self.catalogue
            .seat_changed(&SeatChange {
                concert: schedule.concert,
                schedule: schedule.id,
                seat: reservation.seat,
                state: SeatState::Sold {
                    reservation: reservation.id,
                },
                seat_version,
            })
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::MockCatalogue;
    use crate::fixtures::FakeLog;
    use crate::queue::QueueError;
    use crate::queue::{MockSeatGate, MockWaitingRoom};
    use crate::reservations::{HoldSettings, MockSeatHolds, ReservationService};
    use frontrow_domain::catalogue::Schedule;
    use frontrow_domain::reservation::{Reservation, ReservationStatus, SeatLimit};
    use frontrow_domain::seat::SeatNumber;
    use frontrow_domain::{ConcertId, ScheduleId};

    /// Reservation 2 of user 1: seat 1 of schedule 5 (concert 1), paid.
    fn service(payments: MockPaymentStore) -> PaymentService {
        service_over(payments, false)
    }

    /// As `service`, with the catalogue's store down when `outage`.
    fn service_over(payments: MockPaymentStore, outage: bool) -> PaymentService {
        service_logging_to(payments, outage, Arc::new(FakeLog::default()))
    }

    /// As `service_over`, with the seat-change log given.
    fn service_logging_to(
        payments: MockPaymentStore,
        outage: bool,
        log: Arc<FakeLog>,
    ) -> PaymentService {
        let clock = crate::fixtures::clock_at(0);
        let mut stored = MockCatalogue::new();
        stored.expect_schedule().returning(move |_| {
            if outage {
                return Err(StoreError::new("the database is down"));
            }
            Ok(Some(Schedule {
                id: ScheduleId::from_store(5),
                concert: ConcertId::from_store(1),
                starts_at: Timestamp(0),
                seat_count: 10,
                price: Points::new(100).unwrap(),
            }))
        });
        let mut holds = MockSeatHolds::new();
        holds.expect_find().returning(|user, id| {
            Ok(Some(Reservation {
                id,
                user,
                schedule: ScheduleId::from_store(5),
                seat: SeatNumber::from_store(1),
                price: Points::new(100).unwrap(),
                stored_status: ReservationStatus::Confirmed,
                hold_expires_at: Timestamp(0),
            }))
        });
        let clock: Arc<dyn Clock> = Arc::new(clock);
        let catalogue = Arc::new(CatalogueService::new(Arc::new(stored), log, clock.clone()));
        let queue = Arc::new(QueueService::new(
            Arc::new(MockWaitingRoom::new()),
            Arc::new(crate::fixtures::TrustingSeal),
            Arc::new(MockSeatGate::new()),
            catalogue.cached(),
            clock.clone(),
        ));
        let settings = HoldSettings {
            hold_seconds: 300,
            seats_per_user: SeatLimit(4),
        };
        let reservations = Arc::new(ReservationService::new(
            Arc::new(holds),
            catalogue.clone(),
            queue.clone(),
            settings,
            clock.clone(),
        ));
        PaymentService::new(Arc::new(payments), reservations, catalogue, queue, clock)
    }

    #[tokio::test]
    async fn a_retried_payment_returns_the_first_receipt_without_the_queue_and_logs_the_sale_again()
    {
        let receipt = Receipt {
            payment: PaymentId::from_store(3),
            reservation: ReservationId::from_store(2),
            amount: Points::new(100).unwrap(),
            balance: Points::new(0).unwrap(),
        };
        let mut payments = MockPaymentStore::new();
        payments
            .expect_receipt()
            .returning(move |_, _| Ok(Some((receipt, 7))));
        let log = Arc::new(FakeLog::default());
        let (again, created) = service_logging_to(payments, false, log.clone())
            .pay(UserId::from_store(1), None, 2)
            .await
            .unwrap();
        assert_eq!((again, created), (receipt, false));
        // The first call may have died before logging the sale.
        use crate::seat_changes::SeatChangeLog;
        let logged = log
            .since(ScheduleId::from_store(5), 0)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(logged.len(), 1);
        assert_eq!(logged[0].1.seat_version, 7);
        assert!(matches!(logged[0].1.state, SeatState::Sold { .. }));
    }

    #[tokio::test]
    async fn a_first_payment_without_an_active_token_is_refused_and_charges_nothing() {
        let mut payments = MockPaymentStore::new();
        payments.expect_receipt().returning(|_, _| Ok(None));
        payments.expect_pay().times(0);
        let err = service(payments)
            .pay(UserId::from_store(1), None, 2)
            .await
            .unwrap_err();
        assert!(matches!(err, PaymentError::Queue(QueueError::MissingToken)));
    }

    #[tokio::test]
    async fn a_catalogue_outage_during_payment_is_a_store_failure_not_a_missing_reservation() {
        let mut payments = MockPaymentStore::new();
        payments.expect_pay().times(0);
        let err = service_over(payments, true)
            .pay(UserId::from_store(1), Some(crate::fixtures::TOKEN), 2)
            .await
            .unwrap_err();
        assert!(matches!(err, PaymentError::Store(_)), "{err:?}");
    }

    #[tokio::test]
    async fn a_bad_reservation_id_is_not_found() {
        let err = service(MockPaymentStore::new())
            .pay(UserId::from_store(1), None, 0)
            .await
            .unwrap_err();
        assert!(matches!(err, PaymentError::ReservationNotFound));
    }
}
