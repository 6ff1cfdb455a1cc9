//! Payment of a cart: one transaction that confirms every reservation,
//! spends the total, sells every seat and records one payment with a line
//! per seat, one ledger entry and one event.
//!
//! SQLite runs it here, as a client-side transaction of conditional
//! statements (in-process, so its statements cost no round trip). MySQL
//! runs the same statements in one `CALL frontrow_pay_cart` (`sql/mysql.rs`,
//! `migrations/mysql/0014_pay_cart_procedure.sql`): this transaction cost
//! about 7 + 2 round trips per seat there, each holding the cart's row
//! locks while it travelled. The spec suite drives both against the
//! domain's machines at every step. Lock order, as for a hold: reservations
//! (ascending, so two carts sharing one never wait in a circle), the user,
//! the seats.

use super::reservations::{load_reservation, reserved_points};
use super::{
    Backend, Fail, SqlStore, insert_returning_id, inserted, record_event, retrying, seat_update,
    seat_version_after,
};
use async_trait::async_trait;
use frontrow_application::StoreError;
use frontrow_application::payments::{Paid, PaymentError, PaymentStore, Receipt, lines, total};
use frontrow_application::store::OrStoreError;
use frontrow_domain::cart::PaymentLine;
use frontrow_domain::events::DomainEvent;
use frontrow_domain::hold_cost::Purse;
use frontrow_domain::points::LedgerReason;
use frontrow_domain::reservation::{Reservation, TransitionError};
use frontrow_domain::seat::SeatNumber;
use frontrow_domain::{PaymentId, ReservationId, ScheduleId, Timestamp, UserId};
use sqlx::{AnyConnection, Row};

/// The latest deadline of the user's live holds in the concert of the
/// schedule (`user_id`, `now`, `schedule_id`): `frontrow_domain::cart::ends`
/// in SQL, read inside a payment's transaction after its writes.
const CART_ENDS: &str = "SELECT MAX(r.hold_expires_at_ms) AS ends \
     FROM reservations r JOIN schedules s ON s.id = r.schedule_id \
     WHERE r.user_id = ? AND r.status = 'HELD' AND r.hold_expires_at_ms > ? \
       AND s.concert_id = (SELECT concert_id FROM schedules WHERE id = ?)";

/// Why a reservation that did not go `HELD → CONFIRMED` was refused, by
/// the domain's rule on the stored row.
pub(super) fn refusal(
    id: ReservationId,
    stored: Option<Reservation>,
    now: Timestamp,
) -> PaymentError {
    match stored {
        None => PaymentError::ReservationNotFound(id.get()),
        Some(stored) => PaymentError::Transition {
            reservation: id,
            error: stored
                .confirm(now)
                .err()
                .unwrap_or(TransitionError::HoldExpired),
        },
    }
}

/// The one event of a payment: the first line's fields at the top (what a
/// one-seat payment always carried), the total, and every line.
pub(super) fn payment_completed(
    payment: PaymentId,
    user: UserId,
    receipt: &Receipt,
) -> Option<DomainEvent> {
    let first = receipt.lines.first()?;
    Some(DomainEvent::PaymentCompleted {
        payment,
        reservation: first.reservation,
        user,
        schedule: first.schedule,
        seat: first.seat,
        amount: receipt.amount,
        lines: receipt.lines.clone(),
    })
}

pub(super) fn version_of(raw: i64) -> Result<u64, sqlx::Error> {
    u64::try_from(raw).map_err(|_| sqlx::Error::Protocol("negative seat version".into()))
}

impl SqlStore {
    /// One attempt at paying `cart`: its statements in one write
    /// transaction (on SQLite, the group writer's next one).
    async fn pay_once(
        &self,
        user: UserId,
        cart: &[Reservation],
        now: Timestamp,
    ) -> Result<Paid, Fail<PaymentError>> {
        let (store, cart) = (self.clone(), cart.to_vec());
        self.write_transaction(move |tx| {
            Box::pin(async move { store.pay_in(tx, user, &cart, now).await })
        })
        .await
    }

    /// The payment's statements inside the caller's transaction; a refusal
    /// rolls back everything the payment wrote.
    async fn pay_in(
        &self,
        tx: &mut AnyConnection,
        user: UserId,
        cart: &[Reservation],
        now: Timestamp,
    ) -> Result<Paid, Fail<PaymentError>> {
        let Some(first) = cart.first() else {
            return Err(Fail::Db(sqlx::Error::Protocol("an empty cart".into())));
        };
        // No balance covers a total past i64.
        let amount = total(cart).ok_or(Fail::Rule(PaymentError::InsufficientPoints))?;
        for reservation in cart {
            let confirmed = sqlx::query(
                "UPDATE reservations SET status = 'CONFIRMED', updated_at_ms = ? \
                 WHERE id = ? AND user_id = ? AND status = 'HELD' AND hold_expires_at_ms > ?",
            )
            .bind(now.millis())
            .bind(reservation.id.get())
            .bind(user.get())
            .bind(now.millis())
            .execute(&mut *tx)
            .await?;
            if confirmed.rows_affected() != 1 {
                // Only a refusal reads the row back, to say why; the
                // refusal undoes the lines confirmed before it.
                let stored = load_reservation(tx, user, reservation.id).await?;
                return Err(Fail::Rule(refusal(reservation.id, stored, now)));
            }
        }
        // Invariant: a balance never goes below zero, decided by this
        // statement for the whole cart at once. (A free cart changes no row,
        // which MySQL would count as none: it spends nothing.)
        if amount.get() > 0 {
            // The user's row lock, then what their other live covered holds
            // reserve (this cart's lines are CONFIRMED in this transaction,
            // so they no longer count): a payment never spends points a
            // covered hold counts on (`Purse::pays`). Holds take the same
            // lock first, so none slips in between the read and the spend.
            sqlx::query("UPDATE users SET lock_seq = lock_seq + 1 WHERE id = ?")
                .bind(user.get())
                .execute(&mut *tx)
                .await?;
            let balance: i64 = sqlx::query("SELECT balance FROM users WHERE id = ?")
                .bind(user.get())
                .fetch_one(&mut *tx)
                .await?
                .try_get("balance")?;
            let reserved = reserved_points(tx, user, now).await?;
            if !Purse::new(super::stored_points(balance)?, reserved).pays(amount) {
                return Err(Fail::Rule(PaymentError::InsufficientPoints));
            }
            let spent =
                sqlx::query("UPDATE users SET balance = balance - ? WHERE id = ? AND balance >= ?")
                    .bind(amount.get())
                    .bind(user.get())
                    .bind(amount.get())
                    .execute(&mut *tx)
                    .await?;
            if spent.rows_affected() != 1 {
                return Err(Fail::Rule(PaymentError::InsufficientPoints));
            }
        }
        let balance: i64 = sqlx::query("SELECT balance FROM users WHERE id = ?")
            .bind(user.get())
            .fetch_one(&mut *tx)
            .await?
            .try_get("balance")?;
        let mut versions = Vec::with_capacity(cart.len());
        for reservation in cart {
            versions.push(self.sell(tx, reservation, now).await?);
        }
        let receipt = Receipt {
            payment: PaymentId::from_store(0),
            lines: lines(cart),
            amount,
            balance: super::stored_points(balance)?,
        };
        let insert = sqlx::query(self.sql(insert_returning_id!(
            "INSERT INTO payments (reservation_id, user_id, amount, balance_after, created_at_ms) \
             VALUES (?, ?, ?, ?, ?)"
        )))
        .bind(first.id.get())
        .bind(user.get())
        .bind(amount.get())
        .bind(balance)
        .bind(now.millis());
        let payment = PaymentId::from_store(inserted(tx, self.backend, insert).await?);
        for line in &receipt.lines {
            // Invariant: a reservation is paid at most once (the primary key
            // of payment_lines).
            sqlx::query(
                "INSERT INTO payment_lines (reservation_id, payment_id, schedule_id, seat_number, amount) \
                 VALUES (?, ?, ?, ?, ?)",
            )
            .bind(line.reservation.get())
            .bind(payment.get())
            .bind(line.schedule.get())
            .bind(line.seat.get())
            .bind(line.amount.get())
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO point_ledger (user_id, delta, balance_after, reason, payment_id, created_at_ms) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(user.get())
        .bind(-amount.get())
        .bind(balance)
        .bind(LedgerReason::Payment.as_str())
        .bind(payment.get())
        .bind(now.millis())
        .execute(&mut *tx)
        .await?;
        let receipt = Receipt { payment, ..receipt };
        if let Some(event) = payment_completed(payment, user, &receipt) {
            record_event(tx, &event, now).await?;
        }
        let cart_ends: Option<i64> = sqlx::query(CART_ENDS)
            .bind(user.get())
            .bind(now.millis())
            .bind(first.schedule.get())
            .fetch_one(&mut *tx)
            .await?
            .try_get("ends")?;
        Ok(Paid {
            receipt,
            versions,
            cart_ends: cart_ends.map(Timestamp),
        })
    }

    /// The sale of one reservation's seat; its new version.
    async fn sell(
        &self,
        conn: &mut AnyConnection,
        reservation: &Reservation,
        now: Timestamp,
    ) -> Result<u64, Fail<PaymentError>> {
        // Invariant: only the live hold of this reservation becomes a sale.
        // If the hold lapsed and someone else took the seat, nothing is
        // charged.
        let sale = sqlx::query(self.sql(seat_update!(
            "sold = 1, held_until_ms = NULL",
            "schedule_id = ? AND seat_number = ? AND reservation_id = ? AND sold = 0 \
             AND held_until_ms > ?"
        )))
        .bind(reservation.schedule.get())
        .bind(reservation.seat.get())
        .bind(reservation.id.get())
        .bind(now.millis());
        seat_version_after(conn, self.backend, sale)
            .await?
            .ok_or(Fail::Rule(PaymentError::Transition {
                reservation: reservation.id,
                error: TransitionError::HoldExpired,
            }))
    }
}

#[async_trait]
impl PaymentStore for SqlStore {
    async fn pay(
        &self,
        user: UserId,
        cart: &[Reservation],
        now: Timestamp,
    ) -> Result<Paid, PaymentError> {
        // Retried here, off the SQLite writer thread: each attempt is one
        // body of a group there.
        match self.backend {
            Backend::MySql => retrying(|| self.pay_in_server(user, cart, now)).await,
            Backend::Sqlite => retrying(|| self.pay_once(user, cart, now)).await,
        }
    }

    async fn receipt(
        &self,
        user: UserId,
        reservation: ReservationId,
    ) -> Result<Option<(Receipt, Vec<u64>)>, StoreError> {
        let payment = sqlx::query(
            "SELECT p.id, p.amount, p.balance_after FROM payment_lines l \
             JOIN payments p ON p.id = l.payment_id \
             WHERE l.reservation_id = ? AND p.user_id = ?",
        )
        .bind(reservation.get())
        .bind(user.get())
        .fetch_optional(&self.read)
        .await
        .or_store()?;
        let Some(payment) = payment else {
            return Ok(None);
        };
        let id: i64 = payment.try_get("id").or_store()?;
        // Each sold seat's version: a sold seat's row never changes again,
        // so it is the version the payment gave it.
        let rows = sqlx::query(
            "SELECT l.reservation_id, l.schedule_id, l.seat_number, l.amount, s.version \
             FROM payment_lines l \
             JOIN seats s ON s.schedule_id = l.schedule_id AND s.seat_number = l.seat_number \
             WHERE l.payment_id = ? ORDER BY l.reservation_id",
        )
        .bind(id)
        .fetch_all(&self.read)
        .await
        .or_store()?;
        let read = || -> Result<(Receipt, Vec<u64>), sqlx::Error> {
            let mut lines = Vec::with_capacity(rows.len());
            let mut versions = Vec::with_capacity(rows.len());
            for row in &rows {
                lines.push(PaymentLine {
                    reservation: ReservationId::from_store(row.try_get("reservation_id")?),
                    schedule: ScheduleId::from_store(row.try_get("schedule_id")?),
                    seat: SeatNumber::from_store(row.try_get("seat_number")?),
                    amount: super::stored_points(row.try_get("amount")?)?,
                });
                versions.push(version_of(row.try_get("version")?)?);
            }
            let receipt = Receipt {
                payment: PaymentId::from_store(id),
                lines,
                amount: super::stored_points(payment.try_get("amount")?)?,
                balance: super::stored_points(payment.try_get("balance_after")?)?,
            };
            Ok((receipt, versions))
        };
        read().map(Some).or_store()
    }
}
