//! What only SQLite runs: its pools and writer thread, and the hold as
//! statements sent one by one (MySQL runs the same rules as one procedure
//! call, `sql/mysql.rs`; a payment is the same statements on both,
//! `sql/payments.rs`). Every statement here is spelled
//! for SQLite (`RETURNING`), since no other database runs it; the spec
//! suite (`tests/tests/spec/sql.rs`) drives both spellings against the
//! domain's machines, which keeps them in step.

use super::reservations::{deadline, held, held_event, reserved_points};
use super::{Fail, SqlStore, record_event};
use crate::sql::catalogue::seat_from;
use frontrow_application::reservations::{GroupHoldRequest, ReservationError};
use frontrow_domain::hold_cost::{Cover, CoverError, Purse};
use frontrow_domain::points::Points;
use frontrow_domain::reservation::Reservation;
use frontrow_domain::seat::{SeatNumber, SeatStatus};
use frontrow_domain::{ReservationId, ScheduleId, Timestamp};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, Executor, Row};
use std::time::Duration;

/// A thread of its own for SQLite's single writer. A transaction is a
/// series of statements, each a hop to sqlx's SQLite worker and back; driven
/// from the HTTP runtime, the task holding the only write connection waits
/// in a run queue behind every request between two statements, and in a
/// rush the writer sits idle while holds queue for it. On a thread that does
/// nothing else, the next statement goes out as soon as the last returns.
pub(super) struct WriterThread {
    pub(super) runtime: tokio::runtime::Handle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl WriterThread {
    pub(super) fn start() -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                let _ = runtime.block_on(stopped);
            })?;
        Ok(Self {
            runtime: handle,
            stop: Some(stop),
        })
    }
}

impl Drop for WriterThread {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The read pool (WAL: readers never wait for the writer; at most 8) and
/// the one-connection write pool (writers queue in it for up to 30 s,
/// which is load, not an outage, instead of failing with `SQLITE_BUSY`).
pub(super) async fn pools(
    options: AnyConnectOptions,
    max_connections: u32,
) -> Result<(AnyPool, AnyPool), sqlx::Error> {
    let pool = |size: u32| {
        AnyPoolOptions::new()
            .max_connections(size)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute(sqlx::raw_sql(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                         PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;",
                    ))
                    .await?;
                    Ok(())
                })
            })
    };
    let write = pool(1).connect_with(options.clone()).await?;
    let read = pool(max_connections.clamp(1, 8))
        .connect_with(options)
        .await?;
    Ok((read, write))
}

/// Whether the seat reads AVAILABLE at `now` (`SeatState::status_at`), as
/// `conn` sees it. Outside a transaction (the read pool) it is only a
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
    let state = row.as_ref().map(seat_from).transpose()?;
    Ok(state.is_some_and(|state| state.status_at(now) == SeatStatus::Available))
}

impl SqlStore {
    /// What the user's points say of a hold costing `prices`
    /// (`Purse::cover`), read inside the hold's transaction: the balance,
    /// what their live covered holds reserve, and whether they had an
    /// uncovered hold in the concert before.
    async fn cover(
        &self,
        tx: &mut AnyConnection,
        request: &GroupHoldRequest,
        prices: &[Points],
    ) -> Result<Result<Cover, CoverError>, sqlx::Error> {
        let user = request.user;
        let balance: i64 = sqlx::query("SELECT balance FROM users WHERE id = ?")
            .bind(user.get())
            .fetch_one(&mut *tx)
            .await?
            .try_get("balance")?;
        let reserved = reserved_points(tx, user, request.now).await?;
        let uncovered_before: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM reservations r JOIN schedules s ON s.id = r.schedule_id \
             WHERE r.user_id = ? AND r.covered = 0 AND s.concert_id = ?",
        )
        .bind(user.get())
        .bind(request.schedule.concert.get())
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
        let price = prices.iter().map(|p| p.get()).sum::<i64>();
        let purse = Purse::new(super::stored_points(balance)?, reserved);
        Ok(purse.cover(
            super::stored_points(price)?,
            request.seats.len(),
            uncovered_before > 0,
        ))
    }
}

/// Whether the user's household (if they have one and the rule is on) may
/// take the request's seats too (`HouseholdLimit::allows_more`), read
/// inside the hold's transaction. No lock is needed: the one writer runs
/// every transaction alone, so the count sees every hold before it.
async fn household_allows(
    tx: &mut AnyConnection,
    request: &GroupHoldRequest,
) -> Result<bool, sqlx::Error> {
    if !request.household.is_on() {
        return Ok(true);
    }
    let household: Option<i64> = sqlx::query("SELECT household_id FROM users WHERE id = ?")
        .bind(request.user.get())
        .fetch_optional(&mut *tx)
        .await?
        .map(|row| row.try_get("household_id"))
        .transpose()?
        .flatten();
    // A user of no household: only their own limit applies.
    let Some(household) = household else {
        return Ok(true);
    };
    // Invariant: a household's accounts hold or own at most the limit of
    // the schedule's seats (users_by_household, then reservations_by_user).
    let taken: i64 = sqlx::query(
        "SELECT COUNT(*) AS taken FROM users u JOIN reservations r ON r.user_id = u.id \
         WHERE u.household_id = ? AND r.schedule_id = ? \
         AND (r.status = 'CONFIRMED' OR (r.status = 'HELD' AND r.hold_expires_at_ms > ?))",
    )
    .bind(household)
    .bind(request.schedule.id.get())
    .bind(request.now.millis())
    .fetch_one(&mut *tx)
    .await?
    .try_get("taken")?;
    Ok(request.household.allows_more(
        u32::try_from(taken).unwrap_or(u32::MAX),
        request.seats.len(),
    ))
}

/// Whether every one of `seats` reads AVAILABLE at `now`.
async fn all_free(
    conn: &mut AnyConnection,
    schedule: ScheduleId,
    seats: &[SeatNumber],
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    for &seat in seats {
        if !seat_free(conn, schedule, seat, now).await? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// A refusal of a hold on `seats`, the seats first: a seat that is taken
/// is unavailable whatever else refuses the hold, as `frontrow_hold` and a
/// cached seat map answer it.
async fn seats_first(
    conn: &mut AnyConnection,
    schedule: ScheduleId,
    seats: &[SeatNumber],
    now: Timestamp,
    refusal: ReservationError,
) -> Result<ReservationError, sqlx::Error> {
    Ok(if all_free(conn, schedule, seats, now).await? {
        refusal
    } else {
        ReservationError::SeatUnavailable
    })
}

/// A seat version a `RETURNING version` row reports.
fn returned_version(row: &sqlx::any::AnyRow) -> Result<u64, sqlx::Error> {
    u64::try_from(row.try_get::<i64, _>("version")?)
        .map_err(|_| sqlx::Error::Protocol("negative seat version".into()))
}

impl SqlStore {
    /// A hold of a group of seats: the seats read outside the write lock (a
    /// taken seat stops the group there), then the hold's statements in the
    /// group writer's next transaction (`hold_in`).
    pub(super) async fn hold_statements(
        &self,
        request: &GroupHoldRequest,
    ) -> Result<Vec<(Reservation, u64)>, Fail<ReservationError>> {
        let mut read = self.read.acquire().await?;
        if !all_free(
            &mut read,
            request.schedule.id,
            request.seats.seats(),
            request.now,
        )
        .await?
        {
            return Err(Fail::Rule(ReservationError::SeatUnavailable));
        }
        drop(read);
        let (store, request) = (self.clone(), request.clone());
        self.write_transaction(move |tx| Box::pin(async move { store.hold_in(tx, &request).await }))
            .await
    }

    /// The hold's statements inside the caller's transaction: the limit's
    /// count (past the limit, the seats read again say which refusal), then
    /// for each seat (ascending) its reservation at the seat row's price,
    /// its claim and its outbox row. A claim that fails is a refusal, which
    /// rolls back everything the hold wrote: nothing of the group is
    /// written. The user-row lock MySQL's procedure takes first is not
    /// needed: the one writer already runs every transaction alone.
    async fn hold_in(
        &self,
        tx: &mut AnyConnection,
        request: &GroupHoldRequest,
    ) -> Result<Vec<(Reservation, u64)>, Fail<ReservationError>> {
        let GroupHoldRequest {
            user,
            schedule,
            seats,
            now,
            until: _,
            uncovered_until: _,
            limit,
            household,
        } = request;
        let (user, schedule, now) = (*user, schedule.id, *now);
        let taken: i64 = sqlx::query(
            "SELECT COUNT(*) AS taken FROM reservations WHERE user_id = ? AND schedule_id = ? \
             AND (status = 'CONFIRMED' OR (status = 'HELD' AND hold_expires_at_ms > ?))",
        )
        .bind(user.get())
        .bind(schedule.get())
        .bind(now.millis())
        .fetch_one(&mut *tx)
        .await?
        .try_get("taken")?;
        if !limit.allows_more(u32::try_from(taken).unwrap_or(u32::MAX), seats.len()) {
            let refusal = ReservationError::SeatLimitReached;
            return Err(Fail::Rule(
                seats_first(tx, schedule, seats.seats(), now, refusal).await?,
            ));
        }
        if !household_allows(tx, request).await? {
            let refusal = ReservationError::HouseholdLimitReached { limit: household.0 };
            return Err(Fail::Rule(
                seats_first(tx, schedule, seats.seats(), now, refusal).await?,
            ));
        }
        // The group's price, from its seat rows in this transaction: the
        // database decides what the hold costs.
        let mut prices = Vec::with_capacity(seats.seats().len());
        for &seat in seats.seats() {
            let price =
                sqlx::query("SELECT price FROM seats WHERE schedule_id = ? AND seat_number = ?")
                    .bind(schedule.get())
                    .bind(seat.get())
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some(price) = price else {
                return Err(Fail::Rule(ReservationError::SeatOutOfRange));
            };
            prices.push(super::stored_points(price.try_get("price")?)?);
        }
        let cover = match self.cover(tx, request, &prices).await? {
            Ok(cover) => cover,
            Err(refusal) => {
                return Err(Fail::Rule(
                    seats_first(tx, schedule, seats.seats(), now, refusal.into()).await?,
                ));
            }
        };
        let until = deadline(request, cover);
        let mut held_seats = Vec::with_capacity(seats.seats().len());
        for (&seat, &price) in seats.seats().iter().zip(&prices) {
            let insert = sqlx::query(
                "INSERT INTO reservations (user_id, schedule_id, seat_number, price, status, hold_expires_at_ms, \
                 created_at_ms, updated_at_ms, covered) VALUES (?, ?, ?, ?, 'HELD', ?, ?, ?, ?) RETURNING id",
            )
            .bind(user.get())
            .bind(schedule.get())
            .bind(seat.get())
            .bind(price.get())
            .bind(until.millis())
            .bind(now.millis())
            .bind(now.millis())
            .bind(i64::from(cover == Cover::Covered))
            .fetch_one(&mut *tx)
            .await?;
            let id = ReservationId::from_store(insert.try_get("id")?);
            // Invariant: a seat has at most one live hold or sale. This
            // statement alone decides it: only a seat that is unsold and not
            // held past `now` changes, and the database applies it to one
            // transaction at a time.
            let claimed = sqlx::query(
                "UPDATE seats SET reservation_id = ?, held_until_ms = ?, version = version + 1 \
                 WHERE schedule_id = ? AND seat_number = ? AND sold = 0 \
                 AND (held_until_ms IS NULL OR held_until_ms <= ?) RETURNING version",
            )
            .bind(id.get())
            .bind(until.millis())
            .bind(schedule.get())
            .bind(seat.get())
            .bind(now.millis())
            .fetch_optional(&mut *tx)
            .await?;
            let Some(claimed) = claimed else {
                return Err(Fail::Rule(ReservationError::SeatUnavailable));
            };
            let seat_version = returned_version(&claimed)?;
            record_event(tx, &held_event(request, seat, id, until), now).await?;
            held_seats.push((held(request, seat, id, price, cover), seat_version));
        }
        Ok(held_seats)
    }
}
