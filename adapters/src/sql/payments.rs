//! Payment: one transaction that confirms the reservation, spends the points,
//! sells the seat and records payment, ledger entry and event. MySQL runs it
//! as one procedure call (`sql/mysql.rs`), SQLite as statements one by one
//! (`sql/sqlite.rs`); what both share is here: the refusal's reason, the
//! event, the receipt, and reading a receipt back.

use super::{Backend, Fail, SqlStore, retrying};
use async_trait::async_trait;
use frontrow_application::StoreError;
use frontrow_application::payments::{PaymentError, PaymentStore, Receipt};
use frontrow_application::store::OrStoreError;
use frontrow_domain::events::DomainEvent;
use frontrow_domain::points::Points;
use frontrow_domain::reservation::{Reservation, TransitionError};
use frontrow_domain::{PaymentId, ReservationId, Timestamp, UserId};
use sqlx::Row;

impl SqlStore {
    async fn pay_once(
        &self,
        user: UserId,
        found: &Reservation,
        now: Timestamp,
    ) -> Result<(Receipt, u64), Fail<PaymentError>> {
        match self.backend {
            Backend::MySql => self.pay_in_server(user, found, now).await,
            Backend::Sqlite => self.pay_statements(user, found, now).await,
        }
    }
}

/// Why a reservation that did not go `HELD → CONFIRMED` was refused.
pub(super) fn refusal(stored: Option<Reservation>, now: Timestamp) -> PaymentError {
    match stored {
        None => PaymentError::ReservationNotFound,
        Some(stored) => stored
            .confirm(now)
            .err()
            .unwrap_or(TransitionError::HoldExpired)
            .into(),
    }
}

pub(super) fn payment_completed(
    payment: PaymentId,
    user: UserId,
    paid: &Reservation,
) -> DomainEvent {
    DomainEvent::PaymentCompleted {
        payment,
        reservation: paid.id,
        user,
        schedule: paid.schedule,
        seat: paid.seat,
        amount: paid.price,
    }
}

pub(super) fn receipt(
    payment: PaymentId,
    user: UserId,
    paid: &Reservation,
    balance: i64,
) -> Result<Receipt, sqlx::Error> {
    Ok(Receipt {
        payment,
        reservation: paid.id,
        amount: paid.price,
        balance: Points::new(balance).ok_or_else(|| {
            sqlx::Error::Decode(format!("balance {balance} of user {user} is out of range").into())
        })?,
    })
}

#[async_trait]
impl PaymentStore for SqlStore {
    async fn pay(
        &self,
        user: UserId,
        reservation: &Reservation,
        now: Timestamp,
    ) -> Result<(Receipt, u64), PaymentError> {
        let reservation = reservation.clone();
        self.on_writer(move |store| async move {
            retrying(|| store.pay_once(user, &reservation, now)).await
        })
        .await
    }

    async fn receipt(
        &self,
        user: UserId,
        reservation: ReservationId,
    ) -> Result<Option<(Receipt, u64)>, StoreError> {
        // The sold seat's version: a sold seat's row never changes again, so
        // it is the version the payment gave it.
        let row = sqlx::query(
            "SELECT p.id, p.amount, p.balance_after, s.version FROM payments p \
             JOIN reservations r ON r.id = p.reservation_id \
             JOIN seats s ON s.schedule_id = r.schedule_id AND s.seat_number = r.seat_number \
             WHERE p.reservation_id = ? AND p.user_id = ?",
        )
        .bind(reservation.get())
        .bind(user.get())
        .fetch_optional(&self.read)
        .await
        .or_store()?;
        let Some(row) = row else { return Ok(None) };
        let read = || -> Result<(Receipt, u64), sqlx::Error> {
            let receipt = Receipt {
                payment: PaymentId::from_store(row.try_get("id")?),
                reservation,
                amount: super::stored_points(row.try_get("amount")?)?,
                balance: super::stored_points(row.try_get("balance_after")?)?,
            };
            let version = u64::try_from(row.try_get::<i64, _>("version")?)
                .map_err(|_| sqlx::Error::Protocol("negative seat version".into()))?;
            Ok((receipt, version))
        };
        read().map(Some).or_store()
    }
}
