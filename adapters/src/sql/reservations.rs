//! Seat holds. `hold` and `cancel` are each one transaction whose deciding
//! statement is a conditional UPDATE of the seat row. A hold is one
//! procedure call on MySQL (`sql/mysql.rs`) and statements one by one on
//! SQLite (`sql/sqlite.rs`); cancel, expiry and the reads are the same SQL
//! on both, here.

use super::{Backend, Fail, SqlStore, record_event, retrying, seat_update, seat_version_after};
use async_trait::async_trait;
use frontrow_application::StoreError;
use frontrow_application::reservations::{GroupHoldRequest, ReservationError, SeatHolds};
use frontrow_application::store::OrStoreError;
use frontrow_domain::events::DomainEvent;
use frontrow_domain::hold_cost::Cover;
use frontrow_domain::points::Points;
use frontrow_domain::reservation::{Reservation, ReservationStatus, TransitionError};
use frontrow_domain::seat::SeatNumber;
use frontrow_domain::{ReservationId, ScheduleId, Timestamp, UserId};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

const SELECT_RESERVATION: &str = "SELECT id, user_id, schedule_id, seat_number, price, status, hold_expires_at_ms, covered \
     FROM reservations WHERE id = ? AND user_id = ?";

/// What a user's live covered holds reserve at a moment (`user_id`, `now`):
/// the sum of their prices (`frontrow_domain::hold_cost::reserved`). Never
/// stored, so a lapse releases its points exactly, with no write.
pub(crate) const RESERVED_POINTS: &str = "SELECT CAST(COALESCE(SUM(price), 0) AS SIGNED) AS reserved \
     FROM reservations WHERE user_id = ? AND covered = 1 AND status = 'HELD' AND hold_expires_at_ms > ?";

/// The points `user`'s live covered holds reserve at `now`, read on `conn`.
pub(crate) async fn reserved_points(
    conn: &mut AnyConnection,
    user: UserId,
    now: Timestamp,
) -> Result<Points, sqlx::Error> {
    let reserved: i64 = sqlx::query(RESERVED_POINTS)
        .bind(user.get())
        .bind(now.millis())
        .fetch_one(conn)
        .await?
        .try_get("reserved")?;
    super::stored_points(reserved)
}

/// A stored `covered` flag.
pub(crate) fn cover_of(covered: i64) -> Cover {
    if covered == 1 {
        Cover::Covered
    } else {
        Cover::Uncovered
    }
}

pub(crate) fn reservation_from(row: &AnyRow) -> Result<Reservation, sqlx::Error> {
    let status: String = row.try_get("status")?;
    Ok(Reservation {
        id: ReservationId::from_store(row.try_get("id")?),
        user: UserId::from_store(row.try_get("user_id")?),
        schedule: ScheduleId::from_store(row.try_get("schedule_id")?),
        seat: SeatNumber::from_store(row.try_get("seat_number")?),
        price: super::stored_points(row.try_get("price")?)?,
        stored_status: ReservationStatus::parse(&status).ok_or_else(|| {
            sqlx::Error::Decode(format!("unknown reservation status {status}").into())
        })?,
        hold_expires_at: Timestamp(row.try_get("hold_expires_at_ms")?),
        cover: cover_of(row.try_get("covered")?),
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

/// The reservation a granted hold made of `seat`, at the price its seat
/// row carried.
pub(super) fn held(
    request: &GroupHoldRequest,
    seat: SeatNumber,
    id: ReservationId,
    price: Points,
    cover: Cover,
) -> Reservation {
    Reservation {
        id,
        user: request.user,
        schedule: request.schedule.id,
        seat,
        price,
        stored_status: ReservationStatus::Held,
        hold_expires_at: deadline(request, cover),
        cover,
    }
}

/// A granted hold's deadline: uncovered holds are short.
pub(super) fn deadline(request: &GroupHoldRequest, cover: Cover) -> Timestamp {
    match cover {
        Cover::Covered => request.until,
        Cover::Uncovered => request.uncovered_until,
    }
}

/// The event of a granted hold of `seat`.
pub(super) fn held_event(
    request: &GroupHoldRequest,
    seat: SeatNumber,
    reservation: ReservationId,
    hold_expires_at: Timestamp,
) -> DomainEvent {
    DomainEvent::ReservationHeld {
        reservation,
        user: request.user,
        schedule: request.schedule.id,
        seat,
        hold_expires_at,
    }
}

impl SqlStore {
    async fn hold_once(
        &self,
        request: &GroupHoldRequest,
    ) -> Result<Vec<(Reservation, u64)>, Fail<ReservationError>> {
        match self.backend {
            Backend::MySql => self.hold_in_server(request).await,
            Backend::Sqlite => self.hold_statements(request).await,
        }
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
    async fn hold_together(
        &self,
        request: GroupHoldRequest,
    ) -> Result<Vec<(Reservation, u64)>, ReservationError> {
        // Retried here, off the SQLite writer thread: each attempt is one
        // body of a group there.
        retrying(|| self.hold_once(&request)).await
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
            "SELECT id, user_id, schedule_id, seat_number, price, status, hold_expires_at_ms, covered \
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
            "SELECT id, user_id, schedule_id, seat_number, price, status, hold_expires_at_ms, covered FROM reservations \
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
