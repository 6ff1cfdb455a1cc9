//! Payment: one transaction that confirms the reservation, spends the points,
//! sells the seat and records payment, ledger entry and event.
//!
//! On MySQL the transaction runs inside the server (`frontrow_pay`, a stored
//! procedure), one round trip; on SQLite, in process, it is the same
//! statements one by one (`pay_statements`). The contract suite runs every
//! payment rule on both, which keeps the two spellings in step.

use super::reservations::load_reservation;
use super::{
    Fail, SqlStore, insert_returning_id, inserted, procedure_answer, record_event,
    reported_by_update, reported_seat_version, retrying, seat_update, seat_version_after,
    unknown_outcome,
};
use crate::events::to_outbox;
use async_trait::async_trait;
use frontrow_application::StoreError;
use frontrow_application::payments::{PaymentError, PaymentStore, Receipt};
use frontrow_application::store::OrStoreError;
use frontrow_domain::events::DomainEvent;
use frontrow_domain::points::{LedgerReason, Points};
use frontrow_domain::reservation::{Reservation, TransitionError};
use frontrow_domain::{PaymentId, ReservationId, Timestamp, UserId};
use sqlx::Row;

/// The payer's balance after `UPDATE users SET balance = ...` spends the
/// price, reported by the same statement: `LAST_INSERT_ID(expr)` on MySQL,
/// `RETURNING` on SQLite. `None` when the balance did not suffice.
const SPEND: (&str, &str) = (
    "UPDATE users SET balance = LAST_INSERT_ID(balance - ?) WHERE id = ? AND balance >= ?",
    "UPDATE users SET balance = balance - ? WHERE id = ? AND balance >= ? RETURNING balance",
);

/// The payment as one call into the server (MySQL; see
/// `migrations/mysql/0004_pay_procedure.sql`): the same statements as
/// `pay_statements`, run inside the database, so a payment is one round trip.
const PAY_IN_SERVER: &str = "CALL frontrow_pay(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

impl SqlStore {
    async fn pay_once(
        &self,
        user: UserId,
        found: &Reservation,
        now: Timestamp,
    ) -> Result<(Receipt, u64), Fail<PaymentError>> {
        match self.backend {
            super::Backend::MySql => self.pay_in_server(user, found, now).await,
            super::Backend::Sqlite => self.pay_statements(user, found, now).await,
        }
    }

    /// MySQL: one `CALL`, whose answer names a refusal or reports the
    /// payment, the balance after it and the seat's new version.
    async fn pay_in_server(
        &self,
        user: UserId,
        found: &Reservation,
        now: Timestamp,
    ) -> Result<(Receipt, u64), Fail<PaymentError>> {
        let event = to_outbox(
            &payment_completed(PaymentId::from_store(0), user, found),
            now,
        )
        .map_err(sqlx::Error::Io)?;
        let rows = sqlx::query(PAY_IN_SERVER)
            .bind(found.id.get())
            .bind(user.get())
            .bind(found.price.get())
            .bind(found.schedule.get())
            .bind(found.seat.get())
            .bind(now.millis())
            .bind(event.event_id)
            .bind(event.event_type)
            .bind(event.key)
            .bind(event.payload)
            .fetch_all(&self.write)
            .await?;
        let (outcome, row) = procedure_answer("frontrow_pay", rows)?;
        match outcome.as_str() {
            "PAID" => {}
            "NOT_HELD" => return Err(Fail::Rule(self.why_not_held(user, found.id, now).await?)),
            "INSUFFICIENT_POINTS" => return Err(Fail::Rule(PaymentError::InsufficientPoints)),
            "HOLD_EXPIRED" => return Err(Fail::Rule(TransitionError::HoldExpired.into())),
            other => return Err(Fail::Db(unknown_outcome("frontrow_pay", other))),
        }
        let payment = PaymentId::from_store(row.try_get(1)?);
        let balance: i64 = row.try_get(2)?;
        let version = reported_seat_version(&row, 3)?;
        Ok((receipt(payment, user, found, balance)?, version))
    }

    /// Why a reservation could not be confirmed, read after the refusal.
    async fn why_not_held(
        &self,
        user: UserId,
        id: ReservationId,
        now: Timestamp,
    ) -> Result<PaymentError, sqlx::Error> {
        let mut conn = self.read_connection().await?;
        Ok(refusal(load_reservation(&mut conn, user, id).await?, now))
    }

    /// SQLite (in process, where a round trip is a hop to a thread): BEGIN, the reservation's HELD -> CONFIRMED,
    /// the spend (which reports the new balance), the seat's sale (which
    /// reports the seat's version), the payment, ledger and outbox rows, and
    /// COMMIT. The reservation's price, schedule and seat were read before
    /// (they never change), so nothing is read back on the way to a sale.
    async fn pay_statements(
        &self,
        user: UserId,
        found: &Reservation,
        now: Timestamp,
    ) -> Result<(Receipt, u64), Fail<PaymentError>> {
        let id = found.id;
        let mut tx = self.begin_write().await?;
        // Lock order: reservation, user, seat (see the module doc of `sql`).
        let confirmed = sqlx::query(
            "UPDATE reservations SET status = 'CONFIRMED', updated_at_ms = ? \
             WHERE id = ? AND user_id = ? AND status = 'HELD' AND hold_expires_at_ms > ?",
        )
        .bind(now.millis())
        .bind(id.get())
        .bind(user.get())
        .bind(now.millis())
        .execute(&mut *tx)
        .await?;
        if confirmed.rows_affected() != 1 {
            // Only a refusal reads the row back, to say why.
            let stored = load_reservation(&mut tx, user, id).await?;
            return Err(Fail::Rule(refusal(stored, now)));
        }
        let price = found.price.get();
        // Invariant: a balance never goes below zero, decided by this statement.
        let spent = sqlx::query(self.sql(SPEND))
            .bind(price)
            .bind(user.get())
            .bind(price);
        let Some(balance) = reported_by_update(&mut tx, self.backend, spent).await? else {
            return Err(Fail::Rule(PaymentError::InsufficientPoints));
        };
        // Invariant: only the live hold of this reservation becomes a sale. If
        // the hold lapsed and someone else took the seat, nothing is charged.
        let sell = self.sql(seat_update!(
            "sold = 1, held_until_ms = NULL",
            "schedule_id = ? AND seat_number = ? AND reservation_id = ? AND sold = 0 AND held_until_ms > ?"
        ));
        let sold = sqlx::query(sell)
            .bind(found.schedule.get())
            .bind(found.seat.get())
            .bind(id.get())
            .bind(now.millis());
        let Some(seat_version) = seat_version_after(&mut tx, self.backend, sold).await? else {
            return Err(Fail::Rule(TransitionError::HoldExpired.into()));
        };
        let insert = self.sql(insert_returning_id!(
            "INSERT INTO payments (reservation_id, user_id, amount, balance_after, created_at_ms) VALUES (?, ?, ?, ?, ?)"
        ));
        let insert = sqlx::query(insert)
            .bind(id.get())
            .bind(user.get())
            .bind(price)
            .bind(balance)
            .bind(now.millis());
        let payment = PaymentId::from_store(inserted(&mut tx, self.backend, insert).await?);
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
        record_event(&mut tx, &payment_completed(payment, user, found), now).await?;
        tx.commit().await?;
        Ok((receipt(payment, user, found, balance)?, seat_version))
    }
}

/// Why a reservation that did not go `HELD → CONFIRMED` was refused.
fn refusal(stored: Option<Reservation>, now: Timestamp) -> PaymentError {
    match stored {
        None => PaymentError::ReservationNotFound,
        Some(stored) => stored
            .confirm(now)
            .err()
            .unwrap_or(TransitionError::HoldExpired)
            .into(),
    }
}

fn payment_completed(payment: PaymentId, user: UserId, paid: &Reservation) -> DomainEvent {
    DomainEvent::PaymentCompleted {
        payment,
        reservation: paid.id,
        user,
        schedule: paid.schedule,
        seat: paid.seat,
        amount: paid.price,
    }
}

fn receipt(
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
                payment: PaymentId::from_store(row.try_get(0)?),
                reservation,
                amount: super::stored_points(row.try_get(1)?)?,
                balance: super::stored_points(row.try_get(2)?)?,
            };
            let version = u64::try_from(row.try_get::<i64, _>(3)?)
                .map_err(|_| sqlx::Error::Protocol("negative seat version".into()))?;
            Ok((receipt, version))
        };
        read().map(Some).or_store()
    }
}
