//! Seat holds. `hold` and `cancel` are each one transaction whose deciding
//! statement is a conditional UPDATE of the seat row.

use super::{
    Backend, Fail, SqlStore, insert_returning_id, inserted, procedure_answer, record_event,
    reported_seat_version, retrying, seat_update, seat_version_after, unknown_outcome,
};
use crate::events::to_outbox;
use async_trait::async_trait;
use frontrow_application::StoreError;
use frontrow_application::reservations::{HoldRequest, ReservationError, SeatHolds};
use frontrow_application::store::OrStoreError;
use frontrow_domain::events::DomainEvent;
use frontrow_domain::reservation::{Reservation, ReservationStatus, TransitionError};
use frontrow_domain::seat::{SeatNumber, SeatStatus};
use frontrow_domain::{ReservationId, ScheduleId, Timestamp, UserId};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

const SELECT_RESERVATION: &str = "SELECT id, user_id, schedule_id, seat_number, price, status, hold_expires_at_ms \
     FROM reservations WHERE id = ? AND user_id = ?";

pub(crate) fn reservation_from(row: &AnyRow) -> Result<Reservation, sqlx::Error> {
    let status: String = row.try_get(5)?;
    Ok(Reservation {
        id: ReservationId::from_store(row.try_get(0)?),
        user: UserId::from_store(row.try_get(1)?),
        schedule: ScheduleId::from_store(row.try_get(2)?),
        seat: SeatNumber::from_store(row.try_get(3)?),
        price: super::stored_points(row.try_get(4)?)?,
        stored_status: ReservationStatus::parse(&status).ok_or_else(|| {
            sqlx::Error::Decode(format!("unknown reservation status {status}").into())
        })?,
        hold_expires_at: Timestamp(row.try_get(6)?),
    })
}

pub(crate) async fn load_reservation(
    conn: &mut AnyConnection,
    user: UserId,
    id: ReservationId,
) -> Result<Option<Reservation>, sqlx::Error> {
    let row = sqlx::query(SELECT_RESERVATION)
        .bind(id.get())
        .bind(user.get())
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(reservation_from).transpose()
}

/// Ends a live hold of the user's as CONFIRMED or CANCELLED with one
/// conditional UPDATE (only a HELD row before its deadline moves). A refusal
/// is explained by the same rule in the domain: `None` when the user has no
/// such reservation.
pub(crate) async fn end_live_hold(
    conn: &mut AnyConnection,
    user: UserId,
    id: ReservationId,
    now: Timestamp,
    to: ReservationStatus,
) -> Result<Result<Reservation, Option<TransitionError>>, sqlx::Error> {
    let ended = sqlx::query(
        "UPDATE reservations SET status = ?, updated_at_ms = ? \
         WHERE id = ? AND user_id = ? AND status = 'HELD' AND hold_expires_at_ms > ?",
    )
    .bind(to.as_str())
    .bind(now.millis())
    .bind(id.get())
    .bind(user.get())
    .bind(now.millis())
    .execute(&mut *conn)
    .await?;
    let Some(reservation) = load_reservation(conn, user, id).await? else {
        return Ok(Err(None));
    };
    if ended.rows_affected() == 1 {
        return Ok(Ok(reservation));
    }
    let refusal = match to {
        ReservationStatus::Confirmed => reservation.confirm(now).err(),
        _ => reservation.cancel(now).err(),
    };
    Ok(Err(Some(refusal.unwrap_or(TransitionError::HoldExpired))))
}

/// The reservation a granted hold made.
fn held(request: &HoldRequest, id: ReservationId) -> Reservation {
    Reservation {
        id,
        user: request.user,
        schedule: request.schedule.id,
        seat: request.seat,
        price: request.schedule.price,
        stored_status: ReservationStatus::Held,
        hold_expires_at: request.until,
    }
}

/// The event of a granted hold.
fn held_event(request: &HoldRequest, reservation: ReservationId) -> DomainEvent {
    DomainEvent::ReservationHeld {
        reservation,
        user: request.user,
        schedule: request.schedule.id,
        seat: request.seat,
        hold_expires_at: request.until,
    }
}

/// Whether the seat reads AVAILABLE at `now` (`SeatState::status_at`), as
/// `conn` sees it. Outside a transaction (SQLite's read pool) it is only a
/// filter that keeps most losers of a rush out of the one writer's queue:
/// the conditional UPDATE of a hold decides.
async fn seat_free(
    conn: &mut AnyConnection,
    schedule: ScheduleId,
    seat: SeatNumber,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let row = sqlx::query(
        "SELECT reservation_id, held_until_ms, sold FROM seats WHERE schedule_id = ? AND seat_number = ?",
    )
    .bind(schedule.get())
    .bind(seat.get())
    .fetch_optional(conn)
    .await?;
    let state = row.as_ref().map(super::catalogue::seat_from).transpose()?;
    Ok(state.is_some_and(|state| state.status_at(now) == SeatStatus::Available))
}

impl SqlStore {
    async fn hold_once(
        &self,
        request: HoldRequest,
    ) -> Result<(Reservation, u64), Fail<ReservationError>> {
        match self.backend {
            Backend::MySql => self.hold_in_server(request).await,
            Backend::Sqlite => self.hold_statements(request).await,
        }
    }

    /// MySQL: one `CALL` of `frontrow_hold` (migrations/mysql/
    /// 0007_hold_seat_first.sql), the statements of `hold_statements` run
    /// inside the server.
    async fn hold_in_server(
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
        let (outcome, row) = procedure_answer("frontrow_hold", rows)?;
        let refusal = match outcome.as_str() {
            "HELD" => None,
            "NO_USER" => Some(ReservationError::NotFound),
            "LIMIT" => Some(ReservationError::SeatLimitReached),
            "TAKEN" => Some(ReservationError::SeatUnavailable),
            other => return Err(Fail::Db(unknown_outcome("frontrow_hold", other))),
        };
        if let Some(refusal) = refusal {
            return Err(Fail::Rule(refusal));
        }
        let id = ReservationId::from_store(row.try_get(1)?);
        let seat_version = reported_seat_version(&row, 2)?;
        Ok((held(&request, id), seat_version))
    }

    /// SQLite (in process): the seat read outside the write lock (a taken
    /// seat goes no further), BEGIN, the limit's count (at the limit, the
    /// seat read again says which refusal), the reservation, the seat's
    /// claim, the outbox row, COMMIT. Also correct on MySQL, where it first
    /// takes the user's row lock.
    async fn hold_statements(
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
        if self.backend == Backend::Sqlite {
            let mut read = self.read.acquire().await?;
            if !seat_free(&mut read, schedule.id, seat, now).await? {
                return Err(Fail::Rule(ReservationError::SeatUnavailable));
            }
        }
        let mut tx = self.begin_write().await?;
        // Takes the user's row lock first, so one user's concurrent holds run one
        // at a time and the seat limit below counts every earlier hold. SQLite
        // has one writer, which already runs every transaction one at a time.
        if self.backend == Backend::MySql {
            let locked = sqlx::query("UPDATE users SET lock_seq = lock_seq + 1 WHERE id = ?")
                .bind(user.get())
                .execute(&mut *tx)
                .await?;
            if locked.rows_affected() != 1 {
                return Err(Fail::Rule(ReservationError::NotFound));
            }
        }
        let taken: i64 = sqlx::query(
            "SELECT COUNT(*) FROM reservations WHERE user_id = ? AND schedule_id = ? \
             AND (status = 'CONFIRMED' OR (status = 'HELD' AND hold_expires_at_ms > ?))",
        )
        .bind(user.get())
        .bind(schedule.id.get())
        .bind(now.millis())
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        if !limit.allows_another(u32::try_from(taken).unwrap_or(u32::MAX)) {
            // The seat first, then the limit: a taken seat is unavailable to
            // a buyer at the limit too, as frontrow_hold and a cached seat
            // map answer it.
            return Err(Fail::Rule(
                if seat_free(&mut tx, schedule.id, seat, now).await? {
                    ReservationError::SeatLimitReached
                } else {
                    ReservationError::SeatUnavailable
                },
            ));
        }
        let insert = self.sql(insert_returning_id!(
            "INSERT INTO reservations (user_id, schedule_id, seat_number, price, status, hold_expires_at_ms, \
             created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, 'HELD', ?, ?, ?)"
        ));
        let insert = sqlx::query(insert)
            .bind(user.get())
            .bind(schedule.id.get())
            .bind(seat.get())
            .bind(schedule.price.get())
            .bind(until.millis())
            .bind(now.millis())
            .bind(now.millis());
        let id = ReservationId::from_store(inserted(&mut tx, self.backend, insert).await?);
        // Invariant: a seat has at most one live hold or sale. This statement
        // alone decides it: only a seat that is unsold and not held past `now`
        // changes, and the database applies it to one transaction at a time.
        let claim = self.sql(seat_update!(
            "reservation_id = ?, held_until_ms = ?",
            "schedule_id = ? AND seat_number = ? AND sold = 0 \
             AND (held_until_ms IS NULL OR held_until_ms <= ?)"
        ));
        let claimed = sqlx::query(claim)
            .bind(id.get())
            .bind(until.millis())
            .bind(schedule.id.get())
            .bind(seat.get())
            .bind(now.millis());
        let Some(seat_version) = seat_version_after(&mut tx, self.backend, claimed).await? else {
            return Err(Fail::Rule(ReservationError::SeatUnavailable));
        };
        let event = held_event(&request, id);
        record_event(&mut tx, &event, now).await?;
        tx.commit().await?;
        Ok((held(&request, id), seat_version))
    }

    async fn cancel_once(
        &self,
        user: UserId,
        id: ReservationId,
        now: Timestamp,
    ) -> Result<(Reservation, Option<u64>), Fail<ReservationError>> {
        let mut tx = self.begin_write().await?;
        let reservation = end_live_hold(&mut tx, user, id, now, ReservationStatus::Cancelled)
            .await?
            .map_err(|refusal| {
                Fail::Rule(match refusal {
                    None => ReservationError::NotFound,
                    Some(transition) => transition.into(),
                })
            })?;
        let release = self.sql(seat_update!(
            "reservation_id = NULL, held_until_ms = NULL",
            "schedule_id = ? AND seat_number = ? AND reservation_id = ? AND sold = 0"
        ));
        let released = sqlx::query(release)
            .bind(reservation.schedule.get())
            .bind(reservation.seat.get())
            .bind(id.get());
        let seat_version = seat_version_after(&mut tx, self.backend, released).await?;
        let event = DomainEvent::ReservationCancelled {
            reservation: id,
            user,
            schedule: reservation.schedule,
            seat: reservation.seat,
        };
        record_event(&mut tx, &event, now).await?;
        tx.commit().await?;
        Ok((reservation, seat_version))
    }

    async fn expire_one(
        &self,
        reservation: &Reservation,
        now: Timestamp,
    ) -> Result<bool, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        let expired = sqlx::query(
            "UPDATE reservations SET status = 'EXPIRED', updated_at_ms = ? \
             WHERE id = ? AND status = 'HELD' AND hold_expires_at_ms <= ?",
        )
        .bind(now.millis())
        .bind(reservation.id.get())
        .bind(now.millis())
        .execute(&mut *tx)
        .await?;
        if expired.rows_affected() != 1 {
            return Ok(false);
        }
        let event = DomainEvent::ReservationExpired {
            reservation: reservation.id,
            user: reservation.user,
            schedule: reservation.schedule,
            seat: reservation.seat,
        };
        record_event(&mut tx, &event, now).await?;
        tx.commit().await?;
        Ok(true)
    }
}

#[async_trait]
impl SeatHolds for SqlStore {
    async fn hold(&self, request: HoldRequest) -> Result<(Reservation, u64), ReservationError> {
        self.on_writer(move |store| async move { retrying(|| store.hold_once(request)).await })
            .await
    }

    async fn cancel(
        &self,
        user: UserId,
        id: ReservationId,
        now: Timestamp,
    ) -> Result<(Reservation, Option<u64>), ReservationError> {
        self.on_writer(
            move |store| async move { retrying(|| store.cancel_once(user, id, now)).await },
        )
        .await
    }

    async fn find(
        &self,
        user: UserId,
        id: ReservationId,
    ) -> Result<Option<Reservation>, StoreError> {
        let mut conn = self.read_connection().await.or_store()?;
        load_reservation(&mut conn, user, id).await.or_store()
    }

    async fn list(
        &self,
        user: UserId,
        after: Option<ReservationId>,
        limit: u32,
    ) -> Result<Vec<Reservation>, StoreError> {
        // The user's rows are found through `reservations_by_user` (whose
        // entries carry the primary key); one user has few reservations,
        // so ordering them by id costs little. `after` is exclusive, and
        // ids only grow, so a page never repeats or skips a row.
        let query = sqlx::query(
            "SELECT id, user_id, schedule_id, seat_number, price, status, hold_expires_at_ms \
             FROM reservations WHERE user_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
        )
        .bind(user.get())
        .bind(after.map_or(i64::MAX, |id| id.get()))
        .bind(i64::from(limit));
        let rows = query.fetch_all(&self.read).await.or_store()?;
        rows.iter()
            .map(reservation_from)
            .collect::<Result<_, _>>()
            .or_store()
    }

    async fn expire_due(&self, now: Timestamp, limit: u32) -> Result<u64, StoreError> {
        let rows = sqlx::query(
            "SELECT id, user_id, schedule_id, seat_number, price, status, hold_expires_at_ms FROM reservations \
             WHERE status = 'HELD' AND hold_expires_at_ms <= ? ORDER BY hold_expires_at_ms LIMIT ?",
        )
        .bind(now.millis())
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await
        .or_store()?;
        let mut expired = 0;
        for row in &rows {
            let reservation = reservation_from(row).or_store()?;
            if self.expire_one(&reservation, now).await.or_store()? {
                expired += 1;
            }
        }
        Ok(expired)
    }
}
