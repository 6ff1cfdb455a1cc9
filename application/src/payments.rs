//! Payment: the step that turns a hold into a ticket.
//!
//! `PaymentStore::pay` is one transaction: points deducted (never below zero),
//! payment row, reservation CONFIRMED, seat SOLD, ledger entry and outbox
//! event. A reservation has at most one payment (a unique key), so paying
//! twice charges once; a retry of a finished payment returns the same receipt
//! even though the queue token was spent by the first call.

use crate::StoreError;
use crate::catalogue::{CatalogueError, CatalogueService};
use crate::queue::{QueueError, QueueService};
use crate::reservations::ReservationError;
use crate::seat_changes::SeatChange;
use async_trait::async_trait;
use frontrow_domain::points::Points;
use frontrow_domain::reservation::{Reservation, TransitionError};
use frontrow_domain::seat::SeatState;
use frontrow_domain::{PaymentId, ReservationId, Timestamp, UserId};
use std::sync::Arc;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum PaymentError {
    #[error("reservation not found")]
    ReservationNotFound,
    #[error("not enough points")]
    InsufficientPoints,
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<ReservationError> for PaymentError {
    fn from(error: ReservationError) -> Self {
        match error {
            ReservationError::Store(e) => PaymentError::Store(e),
            ReservationError::Queue(e) => PaymentError::Queue(e),
            ReservationError::Transition(e) => PaymentError::Transition(e),
            _ => PaymentError::ReservationNotFound,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    pub payment: PaymentId,
    pub reservation: ReservationId,
    pub amount: Points,
    /// The payer's balance right after this payment.
    pub balance: Points,
}

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
    async fn receipt(
        &self,
        user: UserId,
        reservation: ReservationId,
    ) -> Result<Option<Receipt>, StoreError>;
}

pub struct PaymentService {
    payments: Arc<dyn PaymentStore>,
    reservations: Arc<crate::reservations::ReservationService>,
    catalogue: Arc<CatalogueService>,
    queue: Arc<QueueService>,
}

impl PaymentService {
    pub fn new(
        payments: Arc<dyn PaymentStore>,
        reservations: Arc<crate::reservations::ReservationService>,
        catalogue: Arc<CatalogueService>,
        queue: Arc<QueueService>,
    ) -> Self {
        Self {
            payments,
            reservations,
            catalogue,
            queue,
        }
    }

    /// Pays for a reservation; the bool is true when this call made the payment.
    #[tracing::instrument(skip(self, token), fields(user = %user))]
    pub async fn pay(
        &self,
        user: UserId,
        token: Option<&str>,
        reservation: i64,
    ) -> Result<(Receipt, bool), PaymentError> {
        let id = ReservationId::parse(reservation).ok_or(PaymentError::ReservationNotFound)?;
        let reservation = self.reservations.find(user, reservation).await?;
        let schedule = self
            .catalogue
            .schedule(reservation.schedule.get())
            .await
            .map_err(|error| match error {
                CatalogueError::Store(e) => PaymentError::Store(e),
                _ => PaymentError::ReservationNotFound,
            })?;
        let token = match self
            .queue
            .require_active(user, token, schedule.concert)
            .await
        {
            Ok(token) => token,
            // A retry after paying comes with a spent token (or none): it
            // gets the first receipt. Asked only here, so a first payment
            // does not pay for the lookup.
            Err(refused) => {
                return match self.payments.receipt(user, id).await? {
                    Some(receipt) => Ok((receipt, false)),
                    None => Err(refused.into()),
                };
            }
        };
        let now = self.catalogue.now();
        let (receipt, seat_version) = match self.payments.pay(user, &reservation, now).await {
            Ok(paid) => paid,
            // A concurrent call with the same reservation won; answer as it did.
            Err(PaymentError::Transition(TransitionError::AlreadyConfirmed)) => {
                let receipt = self.payments.receipt(user, id).await?;
                return receipt
                    .map(|r| (r, false))
                    .ok_or(PaymentError::Transition(TransitionError::AlreadyConfirmed));
            }
            Err(other) => return Err(other),
        };
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
        if let Err(error) = self.queue.finish(&token).await {
            // Paid and committed; the slot frees itself when the active time runs out.
            tracing::warn!(%error, "could not end the queue token after payment");
        }
        Ok((receipt, true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::MockCatalogue;
    use crate::clock::MockClock;
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
        let mut clock = MockClock::new();
        clock.expect_now().returning(|| Timestamp(0));
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
        let catalogue = Arc::new(CatalogueService::new(
            Arc::new(stored),
            Arc::new(FakeLog::default()),
            Arc::new(clock),
        ));
        let queue = Arc::new(QueueService::new(
            Arc::new(MockWaitingRoom::new()),
            Arc::new(crate::fixtures::TrustingSeal),
            Arc::new(MockSeatGate::new()),
            catalogue.clone(),
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
        ));
        PaymentService::new(Arc::new(payments), reservations, catalogue, queue)
    }

    #[tokio::test]
    async fn a_retried_payment_returns_the_first_receipt_without_the_queue() {
        let receipt = Receipt {
            payment: PaymentId::from_store(3),
            reservation: ReservationId::from_store(2),
            amount: Points::new(100).unwrap(),
            balance: Points::new(0).unwrap(),
        };
        let mut payments = MockPaymentStore::new();
        payments
            .expect_receipt()
            .returning(move |_, _| Ok(Some(receipt)));
        let (again, created) = service(payments)
            .pay(UserId::from_store(1), None, 2)
            .await
            .unwrap();
        assert_eq!((again, created), (receipt, false));
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
