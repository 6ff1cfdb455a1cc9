//! What only MySQL/MariaDB runs: the hold and the payment of a cart, each
//! one `CALL` of a stored procedure, so each costs one round trip instead
//! of eight or more (`frontrow_hold`,
//! `migrations/mysql/0013_households.sql`;
//! `frontrow_pay_cart`, `migrations/mysql/0014_pay_cart_procedure.sql`).
//! They decide by the same conditional statements SQLite runs one by one
//! (`sql/sqlite.rs`, `sql/payments.rs`); the spec suite drives both against
//! the domain's machines at every step.

use super::payments::{payment_completed, refusal, version_of};
use super::reservations::{cover_of, held, held_event, load_reservation};
use super::{Fail, SqlStore};
use crate::events::to_outbox;
use frontrow_application::payments::{Paid, PaymentError, Receipt, lines, total};
use frontrow_application::reservations::{GroupHoldRequest, ReservationError};
use frontrow_domain::hold_cost::CoverError;
use frontrow_domain::points::LedgerReason;
use frontrow_domain::reservation::{Reservation, TransitionError};
use frontrow_domain::{PaymentId, ReservationId, Timestamp, UserId};
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

    /// The `n`th column after the outcome as text.
    fn text(&self, n: usize) -> Result<String, sqlx::Error> {
        self.row.try_get(n)
    }
}

/// An outcome word this code does not know: the procedure and the code
/// disagree, a store failure.
fn unknown_outcome(procedure: &str, outcome: &str) -> sqlx::Error {
    sqlx::Error::Protocol(format!("{procedure} answered {outcome}"))
}

/// A comma-separated list of numbers a procedure built (`''` for none).
fn numbers(list: &str) -> Result<Vec<i64>, sqlx::Error> {
    list.split(',')
        .filter(|n| !n.is_empty())
        .map(|n| {
            n.parse()
                .map_err(|_| sqlx::Error::Protocol(format!("not a number list: {list}")))
        })
        .collect()
}

impl SqlStore {
    /// A hold of a group of seats: one `CALL frontrow_hold`, which takes the
    /// user's row lock (and their household's), counts the limits, decides
    /// the cover, and for each
    /// seat inserts the
    /// reservation at the seat row's price, claims the seat and writes the
    /// outbox row; or names its refusal, with nothing written. The seats,
    /// their event ids and payloads go as JSON lists; the procedure answers
    /// the reservation ids, seat versions and prices as number lists in
    /// the group's order.
    pub(super) async fn hold_in_server(
        &self,
        request: &GroupHoldRequest,
    ) -> Result<Vec<(Reservation, u64)>, Fail<ReservationError>> {
        let seats = request.seats.seats();
        let (mut event_ids, mut payloads) = (Vec::new(), Vec::new());
        let mut key_prefix = String::new();
        let mut event_type = "";
        for &seat in seats {
            // The event with reservation id 0; the procedure sets the real
            // one into the payload and after the key's prefix.
            let event = held_event(request, seat, ReservationId::from_store(0), request.until);
            let key = event.key();
            key_prefix = key.strip_suffix('0').unwrap_or(&key).to_owned();
            let event = to_outbox(&event, request.now).map_err(sqlx::Error::Io)?;
            event_type = event.event_type;
            event_ids.push(event.event_id);
            payloads.push(event.payload);
        }
        let seat_list = serde_json::to_string(&seats.iter().map(|s| s.get()).collect::<Vec<_>>())
            .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
        let id_list =
            serde_json::to_string(&event_ids).map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
        // Each payload is a JSON document already: the list is their join.
        let payload_list = format!("[{}]", payloads.join(","));
        let rows = sqlx::query("CALL frontrow_hold(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .bind(request.user.get())
            .bind(request.schedule.id.get())
            .bind(request.schedule.concert.get())
            .bind(seat_list)
            .bind(request.now.millis())
            .bind(request.until.millis())
            .bind(request.uncovered_until.millis())
            .bind(i64::from(request.limit.0))
            .bind(i64::from(request.household.0))
            .bind(id_list)
            .bind(event_type)
            .bind(key_prefix)
            .bind(payload_list)
            .fetch_all(&self.write)
            .await?;
        let answer = Answer::of("frontrow_hold", rows)?;
        let refusal = match answer.outcome.as_str() {
            "HELD" => None,
            "NO_USER" => Some(ReservationError::NotFound),
            "NO_SEAT" => Some(ReservationError::SeatOutOfRange),
            "LIMIT" => Some(ReservationError::SeatLimitReached),
            "HOUSEHOLD" => Some(ReservationError::HouseholdLimitReached {
                limit: request.household.0,
            }),
            "COVER" => Some(ReservationError::Cover(CoverError::PointsNeeded)),
            "TAKEN" => Some(ReservationError::SeatUnavailable),
            other => return Err(Fail::Db(unknown_outcome("frontrow_hold", other))),
        };
        if let Some(refusal) = refusal {
            return Err(Fail::Rule(refusal));
        }
        let ids = numbers(&answer.text(1)?)?;
        let versions = numbers(&answer.text(2)?)?;
        let prices = numbers(&answer.text(3)?)?;
        let cover = cover_of(answer.row.try_get(4)?);
        if ids.len() != seats.len() || versions.len() != seats.len() || prices.len() != seats.len()
        {
            return Err(Fail::Db(sqlx::Error::Protocol(
                "frontrow_hold answered lists of the wrong length".into(),
            )));
        }
        let mut held_seats = Vec::with_capacity(seats.len());
        for (i, &seat) in seats.iter().enumerate() {
            let version = u64::try_from(versions[i])
                .map_err(|_| sqlx::Error::Protocol("negative seat version".into()))?;
            let price = super::stored_points(prices[i])?;
            let id = ReservationId::from_store(ids[i]);
            held_seats.push((held(request, seat, id, price, cover), version));
        }
        Ok(held_seats)
    }
}

impl SqlStore {
    /// The payment of a cart: one `CALL frontrow_pay_cart`, which confirms
    /// every reservation (ascending), spends the total, sells every seat,
    /// writes the payment, its lines, the ledger entry and the outbox row,
    /// and reads what the buyer still holds in the concert; or names its
    /// refusal, with nothing written. The `payment.completed` payload goes
    /// with payment id 0; the procedure sets the real one.
    pub(super) async fn pay_in_server(
        &self,
        user: UserId,
        cart: &[Reservation],
        now: Timestamp,
    ) -> Result<Paid, Fail<PaymentError>> {
        // No balance covers a total past i64.
        let amount = total(cart).ok_or(Fail::Rule(PaymentError::InsufficientPoints))?;
        let unpaid = Receipt {
            payment: PaymentId::from_store(0),
            lines: lines(cart),
            amount,
            balance: amount,
        };
        let event = payment_completed(unpaid.payment, user, &unpaid)
            .ok_or_else(|| Fail::Db(sqlx::Error::Protocol("an empty cart".into())))?;
        let event = to_outbox(&event, now).map_err(sqlx::Error::Io)?;
        let ids = serde_json::to_string(&cart.iter().map(|r| r.id.get()).collect::<Vec<_>>())
            .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
        let rows = sqlx::query("CALL frontrow_pay_cart(?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .bind(user.get())
            .bind(ids)
            .bind(amount.get())
            .bind(now.millis())
            .bind(event.event_id)
            .bind(event.event_type)
            .bind(event.key)
            .bind(event.payload)
            .bind(LedgerReason::Payment.as_str())
            .fetch_all(&self.write)
            .await?;
        let answer = Answer::of("frontrow_pay_cart", rows)?;
        // A refusal names one of the cart's reservations (as given, so also
        // an id no reservation has).
        let named = || -> Result<ReservationId, sqlx::Error> {
            let raw: i64 = answer.row.try_get(1)?;
            cart.iter()
                .map(|r| r.id)
                .find(|id| id.get() == raw)
                .ok_or_else(|| {
                    sqlx::Error::Protocol(format!("frontrow_pay_cart named {raw}, not in the cart"))
                })
        };
        match answer.outcome.as_str() {
            "PAID" => {}
            "POINTS" => return Err(Fail::Rule(PaymentError::InsufficientPoints)),
            "NOT_LIVE" => {
                // Only a refusal reads the row, to say why, by the domain's
                // rule (as the client-side transaction does).
                let id = named()?;
                let mut conn = self.read.acquire().await?;
                let stored = load_reservation(&mut conn, user, id).await?;
                return Err(Fail::Rule(refusal(id, stored, now)));
            }
            "SEAT" => {
                return Err(Fail::Rule(PaymentError::Transition {
                    reservation: named()?,
                    error: TransitionError::HoldExpired,
                }));
            }
            other => return Err(Fail::Db(unknown_outcome("frontrow_pay_cart", other))),
        }
        let payment = PaymentId::from_store(answer.row.try_get(1)?);
        let balance = super::stored_points(answer.row.try_get(2)?)?;
        let versions = numbers(&answer.text(3)?)?
            .into_iter()
            .map(version_of)
            .collect::<Result<Vec<_>, _>>()?;
        let ends: i64 = answer.row.try_get(4)?;
        if versions.len() != cart.len() {
            return Err(Fail::Db(sqlx::Error::Protocol(
                "frontrow_pay_cart answered versions of the wrong length".into(),
            )));
        }
        Ok(Paid {
            receipt: Receipt {
                payment,
                balance,
                ..unpaid
            },
            versions,
            // 0 is the procedure's "nothing held": no deadline is epoch 0.
            cart_ends: (ends > 0).then_some(Timestamp(ends)),
        })
    }
}
