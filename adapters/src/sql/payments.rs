//! Payment: one transaction that confirms the reservation, spends the points,
//! sells the seat and records payment, ledger entry and event.

use super::reservations::end_live_hold;
use super::{Fail, SqlStore, balance_in, inserted_id, record_event, retrying};
use async_trait::async_trait;
use frontrow_application::StoreError;
use frontrow_application::payments::{PaymentError, PaymentStore, Receipt};
use frontrow_domain::events::DomainEvent;
use frontrow_domain::points::{LedgerReason, Points};
use frontrow_domain::reservation::{ReservationStatus, TransitionError};
use frontrow_domain::{PaymentId, ReservationId, Timestamp, UserId};
use sqlx::Row;

impl SqlStore {
    async fn pay_once(
        &self,
        user: UserId,
        id: ReservationId,
        now: Timestamp,
    ) -> Result<Receipt, Fail<PaymentError>> {
        let mut tx = self.write.begin().await?;
        // Lock order: reservation, user, seat (see the module doc of `sql`).
        let reservation = end_live_hold(&mut tx, user, id, now, ReservationStatus::Confirmed)
            .await?
            .map_err(|refusal| {
                Fail::Rule(match refusal {
                    None => PaymentError::ReservationNotFound,
                    Some(transition) => transition.into(),
                })
            })?;
        let price = reservation.price.get();
        // Invariant: a balance never goes below zero, decided by this statement.
        let spent =
            sqlx::query("UPDATE users SET balance = balance - ? WHERE id = ? AND balance >= ?")
                .bind(price)
                .bind(user.get())
                .bind(price)
                .execute(&mut *tx)
                .await?;
        if spent.rows_affected() != 1 {
            return Err(Fail::Rule(PaymentError::InsufficientPoints));
        }
        // Invariant: only the live hold of this reservation becomes a sale. If
        // the hold lapsed and someone else took the seat, nothing is charged.
        let sold = sqlx::query(
            "UPDATE seats SET sold = 1, held_until_ms = NULL WHERE schedule_id = ? AND seat_number = ? \
             AND reservation_id = ? AND sold = 0 AND held_until_ms > ?",
        )
        .bind(reservation.schedule.get())
        .bind(reservation.seat.get())
        .bind(id.get())
        .bind(now.millis())
        .execute(&mut *tx)
        .await?;
        if sold.rows_affected() != 1 {
            return Err(Fail::Rule(TransitionError::HoldExpired.into()));
        }
        let balance = balance_in(&mut tx, user).await?;
        let inserted = sqlx::query(
            "INSERT INTO payments (reservation_id, user_id, amount, balance_after, created_at_ms) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(id.get())
        .bind(user.get())
        .bind(price)
        .bind(balance)
        .bind(now.millis())
        .execute(&mut *tx)
        .await?;
        let payment = PaymentId::from_store(inserted_id(&mut tx, &inserted).await?);
        sqlx::query(
            "INSERT INTO point_ledger (user_id, delta, balance_after, reason, payment_id, created_at_ms) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(user.get())
        .bind(-price)
        .bind(balance)
        .bind(LedgerReason::Payment.as_str())
        .bind(payment.get())
        .bind(now.millis())
        .execute(&mut *tx)
        .await?;
        let event = DomainEvent::PaymentCompleted {
            payment,
            reservation: id,
            user,
            schedule: reservation.schedule,
            seat: reservation.seat,
            amount: reservation.price,
        };
        record_event(&mut tx, &event, now).await?;
        tx.commit().await?;
        Ok(Receipt {
            payment,
            reservation: id,
            amount: reservation.price,
            balance: Points::new(balance).unwrap_or_default(),
        })
    }
}

#[async_trait]
impl PaymentStore for SqlStore {
    async fn pay(
        &self,
        user: UserId,
        reservation: ReservationId,
        now: Timestamp,
    ) -> Result<Receipt, PaymentError> {
        retrying(|| self.pay_once(user, reservation, now)).await
    }

    async fn receipt(
        &self,
        user: UserId,
        reservation: ReservationId,
    ) -> Result<Option<Receipt>, StoreError> {
        let row = sqlx::query(
            "SELECT id, amount, balance_after FROM payments WHERE reservation_id = ? AND user_id = ?",
        )
        .bind(reservation.get())
        .bind(user.get())
        .fetch_optional(&self.read)
        .await
        .map_err(StoreError::new)?;
        let Some(row) = row else { return Ok(None) };
        let read = || -> Result<Receipt, sqlx::Error> {
            Ok(Receipt {
                payment: PaymentId::from_store(row.try_get(0)?),
                reservation,
                amount: Points::new(row.try_get(1)?).unwrap_or_default(),
                balance: Points::new(row.try_get(2)?).unwrap_or_default(),
            })
        };
        read().map(Some).map_err(StoreError::new)
    }
}
