//! What only MySQL/MariaDB runs: the hold, one `CALL` of a stored
//! procedure, so it costs one round trip instead of eight (`frontrow_hold`,
//! `migrations/mysql/0007_hold_seat_first.sql`). It decides by the same
//! conditional statements SQLite runs one by one (`sql/sqlite.rs`); the
//! spec suite drives both against the domain's machines at every step. A
//! payment is a cart, a list, and runs as the same client-side transaction
//! on both (`sql/payments.rs`; `migrations/mysql/0010_cart_payments.sql`
//! says why).

use super::reservations::{held, held_event};
use super::{Fail, SqlStore};
use crate::events::to_outbox;
use frontrow_application::reservations::{HoldRequest, ReservationError};
use frontrow_domain::ReservationId;
use frontrow_domain::reservation::Reservation;
use sqlx::Row;
use sqlx::any::AnyRow;

/// The one row a procedure answers: its outcome word, then the numbers
/// that outcome reports. This is the one place columns are read by
/// position: sqlx knows a statement's column names from its prepare, and a
/// `CALL`'s prepare reports none (naming them in the procedures was tried:
/// "no column found for name: outcome").
struct Answer {
    outcome: String,
    row: AnyRow,
}

impl Answer {
    fn of(procedure: &str, rows: Vec<AnyRow>) -> Result<Self, sqlx::Error> {
        let row = rows
            .into_iter()
            .next()
            .ok_or_else(|| sqlx::Error::Protocol(format!("{procedure} answered no row")))?;
        Ok(Self {
            outcome: row.try_get(0)?,
            row,
        })
    }

    /// The `n`th number after the outcome (from 1).
    fn number(&self, n: usize) -> Result<i64, sqlx::Error> {
        self.row.try_get(n)
    }

    /// A seat version reported as the `n`th number.
    fn seat_version(&self, n: usize) -> Result<u64, sqlx::Error> {
        u64::try_from(self.number(n)?)
            .map_err(|_| sqlx::Error::Protocol("negative seat version".into()))
    }
}

/// An outcome word this code does not know: the procedure and the code
/// disagree, a store failure.
fn unknown_outcome(procedure: &str, outcome: &str) -> sqlx::Error {
    sqlx::Error::Protocol(format!("{procedure} answered {outcome}"))
}

impl SqlStore {
    /// A hold: one `CALL frontrow_hold`, which takes the user's row lock,
    /// reads the seat, counts the limit, inserts the reservation, claims the
    /// seat and writes the outbox row, or names its refusal.
    pub(super) async fn hold_in_server(
        &self,
        request: HoldRequest,
    ) -> Result<(Reservation, u64), Fail<ReservationError>> {
        let HoldRequest {
            user,
            schedule,
            seat,
            now,
            until,
            limit,
        } = request;
        // The event with reservation id 0; the procedure sets the real one
        // into the payload and after the key's prefix.
        let event = held_event(&request, ReservationId::from_store(0));
        let key = event.key();
        let key_prefix = key.strip_suffix('0').unwrap_or(&key).to_owned();
        let event = to_outbox(&event, now).map_err(sqlx::Error::Io)?;
        let rows = sqlx::query("CALL frontrow_hold(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .bind(user.get())
            .bind(schedule.id.get())
            .bind(seat.get())
            .bind(schedule.price.get())
            .bind(now.millis())
            .bind(until.millis())
            .bind(i64::from(limit.0))
            .bind(event.event_id)
            .bind(event.event_type)
            .bind(key_prefix)
            .bind(event.payload)
            .fetch_all(&self.write)
            .await?;
        let answer = Answer::of("frontrow_hold", rows)?;
        let refusal = match answer.outcome.as_str() {
            "HELD" => None,
            "NO_USER" => Some(ReservationError::NotFound),
            "LIMIT" => Some(ReservationError::SeatLimitReached),
            "TAKEN" => Some(ReservationError::SeatUnavailable),
            other => return Err(Fail::Db(unknown_outcome("frontrow_hold", other))),
        };
        if let Some(refusal) = refusal {
            return Err(Fail::Rule(refusal));
        }
        let id = ReservationId::from_store(answer.number(1)?);
        Ok((held(&request, id), answer.seat_version(2)?))
    }
}
