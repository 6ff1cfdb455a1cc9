//! Payment: the step that turns a cart of holds into tickets.
//!
//! `PaymentStore::pay` is one transaction for the whole cart: every
//! reservation CONFIRMED, the total deducted (never below zero), every seat
//! SOLD, one payment row with a line per seat, one ledger entry and one
//! `payment.completed` event, or nothing at all.
//!
//! Idempotency: a reservation is paid at most once (the store's unique key
//! on payment lines), so no seat is ever charged twice. A retry of exactly
//! the same cart (the same set of reservations, in any order) answers the
//! first receipt; a cart that shares a reservation with another payment but
//! is not that payment is refused, naming the reservation paid already.

use crate::catalogue::CatalogueService;
use crate::queue::{QueueError, QueueService};
use crate::seat_changes::SeatChange;
use crate::{Clock, StoreError};
use async_trait::async_trait;
use frontrow_domain::cart::{Cart, CartError, PaymentLine};
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
    /// The reservations are no cart: none, too many, one twice, or of two
    /// concerts. Nothing was read.
    #[error(transparent)]
    InvalidCart(#[from] CartError),
    /// No such reservation of this user's.
    #[error("reservation {0} not found")]
    ReservationNotFound(i64),
    /// The user's reservation exists but is in no payment (asked for its
    /// receipt).
    #[error("reservation {0} is not paid")]
    NotPaid(i64),
    /// The balance is below the cart's total.
    #[error("not enough points")]
    InsufficientPoints,
    /// A reservation of the cart is not a live hold: lapsed, cancelled, or
    /// already paid (in another payment, or by a concurrent call).
    #[error("reservation {reservation}: {error}")]
    Transition {
        /// The reservation that refused.
        reservation: ReservationId,
        /// Why.
        #[source]
        error: TransitionError,
    },
    /// The queue gate refused (and no earlier payment was found).
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// A store failed (a 503).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl PaymentError {
    /// The reservation a refusal is about, when it is about one.
    pub fn reservation(&self) -> Option<i64> {
        match self {
            PaymentError::ReservationNotFound(id) | PaymentError::NotPaid(id) => Some(*id),
            PaymentError::Transition { reservation, .. } => Some(reservation.get()),
            _ => None,
        }
    }
}

/// A completed payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The payment: one per cart.
    pub payment: PaymentId,
    /// A line per seat, ascending by reservation (never empty).
    pub lines: Vec<PaymentLine>,
    /// The points taken: the sum of the lines.
    pub amount: Points,
    /// The payer's balance right after this payment.
    pub balance: Points,
}

impl Receipt {
    /// The reservations paid, ascending.
    pub fn reservations(&self) -> Vec<ReservationId> {
        self.lines.iter().map(|line| line.reservation).collect()
    }
}

/// What a payment that committed answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paid {
    /// The payment's receipt.
    pub receipt: Receipt,
    /// Each line's new seat version, in the receipt's order.
    pub versions: Vec<u64>,
    /// When the buyer's cart in the concert lapses now, read in the
    /// payment's own transaction (`frontrow_domain::cart::ends` over the
    /// buyer's live holds there; `None`: nothing is held any more), so the
    /// service settles the buyer's place without reading again.
    pub cart_ends: Option<Timestamp>,
}

/// The sum of a cart's prices, `None` past `i64` (no balance covers it).
pub fn total(cart: &[Reservation]) -> Option<Points> {
    cart.iter()
        .try_fold(0i64, |sum, r| sum.checked_add(r.price.get()))
        .and_then(Points::new)
}

/// The lines a cart's payment writes, in the cart's order.
pub fn lines(cart: &[Reservation]) -> Vec<PaymentLine> {
    cart.iter()
        .map(|r| PaymentLine {
            reservation: r.id,
            schedule: r.schedule,
            seat: r.seat,
            amount: r.price,
        })
        .collect()
}

/// Payments: where a cart of holds becomes sold seats.
///
/// Contract:
/// - `pay` is one transaction that decides on the *stored* rows (the
///   reservations passed in, ascending by id, were read earlier and may be
///   stale): each is the user's, HELD with its deadline after `now`, its
///   seat held by it, and the balance covers the total. Then every
///   reservation is CONFIRMED and its seat SOLD (a new version each), the
///   balance drops by the total, and one payment row, a line per seat (a
///   reservation in at most one line, enforced by the store), one `PAYMENT`
///   ledger entry and one `payment.completed` event are written together.
///   Any refusal writes nothing. It answers [`Paid`], whose `cart_ends` it
///   MUST read in the same transaction, after the payment's writes.
/// - Refusals: [`PaymentError::ReservationNotFound`] (not the user's),
///   [`PaymentError::Transition`] naming the first reservation that is not
///   a live hold (`AlreadyConfirmed` for one paid already, also by a
///   concurrent call), [`PaymentError::InsufficientPoints`]. Store failures
///   are [`PaymentError::Store`].
/// - `receipt` is the payment that holds the user's reservation, or `None`,
///   with each line's sold seat version (the one the payment gave the seat
///   row: a sold seat never changes again), so a retry can log the sales
///   again.
///
/// The shipped store is `SqlStore`; the spec suite
/// (`tests/tests/spec/sql.rs`) runs it against the domain machines.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait PaymentStore: Send + Sync {
    /// The whole payment of the user's `cart` (as found before, ascending
    /// by id), in one transaction (see the trait doc).
    async fn pay(
        &self,
        user: UserId,
        cart: &[Reservation],
        now: Timestamp,
    ) -> Result<Paid, PaymentError>;
    /// The payment holding the user's reservation, if it was paid, with
    /// each line's sold seat version.
    async fn receipt(
        &self,
        user: UserId,
        reservation: ReservationId,
    ) -> Result<Option<(Receipt, Vec<u64>)>, StoreError>;
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
    /// the holds), the catalogue (their schedules and seat maps) and the
    /// queue gate.
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

    /// Pays for one reservation: a cart of one.
    pub async fn pay(
        &self,
        user: UserId,
        token: Option<&str>,
        reservation: i64,
    ) -> Result<(Receipt, bool), PaymentError> {
        self.pay_cart(user, token, &[reservation]).await
    }

    /// Pays for a cart of the caller's holds; the bool is true when this
    /// call made the payment.
    ///
    /// The queue token must be the caller's own for the cart's concert (a
    /// live hold is the right to pay for it, whatever the turn). A retry of
    /// the same cart after it was paid (its token now spent, or a
    /// concurrent call that won) gets the first receipt and `false`, never
    /// a second charge. On success every sale is logged for every instance,
    /// and the caller's place ends when nothing else is held.
    #[tracing::instrument(skip(self, token), fields(user = %user))]
    pub async fn pay_cart(
        &self,
        user: UserId,
        token: Option<&str>,
        reservations: &[i64],
    ) -> Result<(Receipt, bool), PaymentError> {
        let cart = match Cart::new(reservations, self.reservations.seat_limit()) {
            Ok(cart) => cart,
            // Today's one-reservation clients were told 404 for an id that
            // cannot exist; they still are.
            Err(CartError::BadId(raw)) => return Err(PaymentError::ReservationNotFound(raw)),
            Err(other) => return Err(other.into()),
        };
        let mut found = Vec::with_capacity(cart.ids().len());
        let mut schedules: Vec<Schedule> = Vec::new();
        for &id in cart.ids() {
            let reservation = self
                .reservations
                .lookup(user, id)
                .await?
                .ok_or(PaymentError::ReservationNotFound(id.get()))?;
            if !schedules.iter().any(|s| s.id == reservation.schedule) {
                // A reservation names a schedule that exists (schedules are
                // never deleted); one that does not is a store that lost
                // rows, not a buyer's mistake.
                let schedule = self
                    .catalogue
                    .find_schedule(reservation.schedule)
                    .await?
                    .ok_or_else(|| StoreError::new("a reservation's schedule is missing"))?;
                schedules.push(schedule);
            }
            found.push(reservation);
        }
        let concert = schedules[0].concert;
        if schedules.iter().any(|s| s.concert != concert) {
            return Err(CartError::ManyConcerts.into());
        }
        let token = match self.queue.own_token_for(user, token, concert) {
            Ok(token) => token,
            // A retry after paying comes with a spent token (or none): it
            // gets the first receipt. Asked only here, so a first payment
            // does not pay for the lookup.
            Err(refused) => {
                return match self.earlier(user, &cart).await? {
                    Some((receipt, versions)) => {
                        self.log_sales(&schedules, &receipt, &versions).await;
                        Ok((receipt, false))
                    }
                    None => Err(refused.into()),
                };
            }
        };
        let now = self.clock.now();
        match self.payments.pay(user, &found, now).await {
            Ok(paid) => {
                self.log_sales(&schedules, &paid.receipt, &paid.versions)
                    .await;
                // The place ends with its cart: only when nothing else is
                // held (read by the payment's own transaction).
                self.reservations.settle_place(&token, paid.cart_ends).await;
                Ok((paid.receipt, true))
            }
            // Paid already, by a concurrent call or by a first call whose
            // answer was lost: the same cart answers as it did; a different
            // cart sharing a paid reservation is refused.
            Err(
                refused @ PaymentError::Transition {
                    error: TransitionError::AlreadyConfirmed,
                    ..
                },
            ) => {
                let Some((receipt, versions)) = self.earlier(user, &cart).await? else {
                    return Err(refused);
                };
                self.log_sales(&schedules, &receipt, &versions).await;
                self.reservations.settle_cart(user, concert, &token).await;
                Ok((receipt, false))
            }
            Err(other) => Err(other),
        }
    }

    /// The receipt of the payment that paid the caller's reservation:
    /// every line of it, so one seat's ticket shows what it was bought
    /// with. Asks no queue: a receipt is the buyer's for good.
    pub async fn receipt(&self, user: UserId, reservation: i64) -> Result<Receipt, PaymentError> {
        let id = ReservationId::parse(reservation)
            .ok_or(PaymentError::ReservationNotFound(reservation))?;
        if let Some((receipt, _)) = self.payments.receipt(user, id).await? {
            return Ok(receipt);
        }
        match self.reservations.lookup(user, id).await? {
            Some(_) => Err(PaymentError::NotPaid(reservation)),
            None => Err(PaymentError::ReservationNotFound(reservation)),
        }
    }

    /// The payment of exactly this cart, if one was made: the payment of
    /// its first reservation, when its lines are the cart's reservations.
    async fn earlier(
        &self,
        user: UserId,
        cart: &Cart,
    ) -> Result<Option<(Receipt, Vec<u64>)>, StoreError> {
        let found = self.payments.receipt(user, cart.ids()[0]).await?;
        Ok(found.filter(|(receipt, _)| receipt.reservations() == cart.ids()))
    }

    /// Logs the sale of each line's seat for every instance and the room's
    /// stock. A retry logs them again: the first call may have committed
    /// and then died before logging (its instance killed, or the database
    /// gone before the commit's answer), and the room would count the seats
    /// as held until the holds' deadline, admitting nobody while nothing
    /// else is free and never closing. A change logged twice is applied
    /// once (by seat version).
    async fn log_sales(&self, schedules: &[Schedule], receipt: &Receipt, versions: &[u64]) {
        for (line, &seat_version) in receipt.lines.iter().zip(versions) {
            let Some(schedule) = schedules.iter().find(|s| s.id == line.schedule) else {
                continue;
            };
            self.catalogue
                .seat_changed(&SeatChange {
                    concert: schedule.concert,
                    schedule: schedule.id,
                    seat: line.seat,
                    state: SeatState::Sold {
                        reservation: line.reservation,
                    },
                    seat_version,
                })
                .await;
        }
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
    use frontrow_domain::cart::{CartError, PaymentLine};
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
                cover: frontrow_domain::hold_cost::Cover::Covered,
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
            uncovered_hold_seconds: 60,
            seats_per_user: SeatLimit(4),
            seats_per_household: frontrow_domain::household::HouseholdLimit(8),
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

    /// Reservation 2 (schedule 5, seat 1) paid in payment 3 for 100.
    fn paid_receipt() -> Receipt {
        Receipt {
            payment: PaymentId::from_store(3),
            lines: vec![PaymentLine {
                reservation: ReservationId::from_store(2),
                schedule: ScheduleId::from_store(5),
                seat: SeatNumber::from_store(1),
                amount: Points::new(100).unwrap(),
            }],
            amount: Points::new(100).unwrap(),
            balance: Points::new(0).unwrap(),
        }
    }

    #[tokio::test]
    async fn a_retried_payment_returns_the_first_receipt_without_the_queue_and_logs_the_sale_again()
    {
        let receipt = paid_receipt();
        let mut payments = MockPaymentStore::new();
        let stored = receipt.clone();
        payments
            .expect_receipt()
            .returning(move |_, _| Ok(Some((stored.clone(), vec![7]))));
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
        assert!(matches!(err, PaymentError::ReservationNotFound(0)));
    }

    #[tokio::test]
    async fn a_cart_that_is_no_cart_is_refused_before_anything_is_read() {
        let mut payments = MockPaymentStore::new();
        payments.expect_pay().times(0);
        payments.expect_receipt().times(0);
        let service = service(payments);
        for (cart, expected) in [
            (vec![], CartError::Empty),
            (
                vec![2, 2],
                CartError::Repeated(ReservationId::from_store(2)),
            ),
            (vec![1, 2, 3, 4, 5], CartError::TooMany { limit: 4 }),
        ] {
            let err = service
                .pay_cart(UserId::from_store(1), Some(crate::fixtures::TOKEN), &cart)
                .await
                .unwrap_err();
            assert!(
                matches!(&err, PaymentError::InvalidCart(e) if *e == expected),
                "{cart:?}: {err:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_retry_of_a_different_cart_sharing_a_paid_seat_is_refused_naming_it() {
        let receipt = paid_receipt();
        let mut payments = MockPaymentStore::new();
        payments
            .expect_receipt()
            .returning(move |_, _| Ok(Some((receipt.clone(), vec![7]))));
        payments.expect_pay().times(0);
        // Reservations 2 and 3 without a token: 2 was paid alone, so this
        // is not a retry of that payment.
        let err = service(payments)
            .pay_cart(UserId::from_store(1), None, &[3, 2])
            .await
            .unwrap_err();
        assert!(
            matches!(err, PaymentError::Queue(QueueError::MissingToken)),
            "{err:?}"
        );
    }
}
