//! Concerts, schedules and seats.

use super::{SqlStore, insert_returning_id, inserted, is_unique_violation};
use async_trait::async_trait;
use frontrow_application::StoreError;
use frontrow_application::catalogue::{Catalogue, StoredConcert};
use frontrow_application::seat_changes::StoredSeat;
use frontrow_application::store::OrStoreError;
use frontrow_domain::catalogue::{Concert, NewConcert, Schedule};
use frontrow_domain::points::IdempotencyKey;
use frontrow_domain::queue::{DEFAULT_PRE_QUEUE_MINUTES, SaleOpening};
use frontrow_domain::seat::{SeatNumber, SeatState};
use frontrow_domain::venue::{LayoutDraft, VenueLayout};
use frontrow_domain::{ConcertId, ReservationId, ScheduleId, Timestamp};
use sqlx::any::AnyRow;
use sqlx::{Any, QueryBuilder, Row};

/// Rows per multi-row INSERT: well under every backend's bind limit.
const SEAT_INSERT_CHUNK: usize = 500;

fn schedule_from(row: &AnyRow) -> Result<Schedule, sqlx::Error> {
    Ok(Schedule {
        id: ScheduleId::from_store(row.try_get("id")?),
        concert: ConcertId::from_store(row.try_get("concert_id")?),
        starts_at: Timestamp(row.try_get("starts_at_ms")?),
        seat_count: row.try_get("seat_count")?,
        price: super::stored_points(row.try_get("price")?)?,
    })
}

/// A concerts row's `id, title, opens_at_ms, pre_queue_minutes`.
fn concert_from(row: &AnyRow) -> Result<Concert, sqlx::Error> {
    let opens_at: Option<i64> = row.try_get("opens_at_ms")?;
    let minutes: i64 = row.try_get("pre_queue_minutes")?;
    let opening = opens_at
        .map(|at| SaleOpening::new(Timestamp(at), minutes))
        .transpose()
        .map_err(|error| sqlx::Error::Decode(error.into()))?;
    Ok(Concert {
        id: ConcertId::from_store(row.try_get("id")?),
        title: row.try_get("title")?,
        opening,
    })
}

/// A seat row's `reservation_id, held_until_ms, sold` as the domain's state.
pub(crate) fn seat_from(row: &AnyRow) -> Result<SeatState, sqlx::Error> {
    let reservation: Option<i64> = row.try_get("reservation_id")?;
    let held_until: Option<i64> = row.try_get("held_until_ms")?;
    let sold: i64 = row.try_get("sold")?;
    Ok(match (reservation, held_until, sold) {
        (Some(r), _, 1) => SeatState::Sold {
            reservation: ReservationId::from_store(r),
        },
        (Some(r), Some(until), _) => SeatState::Held {
            reservation: ReservationId::from_store(r),
            until: Timestamp(until),
        },
        _ => SeatState::Available,
    })
}

macro_rules! select_schedules {
    ($filter:literal) => {
        concat!(
            "SELECT id, concert_id, starts_at_ms, seat_count, price FROM schedules ",
            $filter
        )
    };
}

impl SqlStore {
    /// The concert a create key made, with its schedules, or `None`.
    async fn concert_by_key(
        &self,
        key: &IdempotencyKey,
    ) -> Result<Option<StoredConcert>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT id, title, opens_at_ms, pre_queue_minutes, listed FROM concerts WHERE create_key = ?",
        )
        .bind(key.as_str())
        .fetch_optional(&self.write)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let concert = concert_from(&row)?;
        let rows = sqlx::query(select_schedules!("WHERE concert_id = ? ORDER BY id"))
            .bind(concert.id.get())
            .fetch_all(&self.write)
            .await?;
        Ok(Some(StoredConcert {
            concert,
            schedules: rows.iter().map(schedule_from).collect::<Result<_, _>>()?,
            listed: row.try_get::<i64, _>("listed")? == 1,
        }))
    }

    /// Writes the concert, unlisted, with its schedules and seats.
    async fn insert_concert(&self, concert: &NewConcert) -> Result<StoredConcert, sqlx::Error> {
        let now = self.clock.now();
        let mut tx = self.begin_write().await?;
        let insert = self.sql(insert_returning_id!(
            "INSERT INTO concerts (title, created_at_ms, opens_at_ms, pre_queue_minutes, listed, create_key) VALUES (?, ?, ?, ?, 0, ?)"
        ));
        let insert = sqlx::query(insert)
            .bind(&concert.title)
            .bind(now.millis())
            .bind(concert.opening.map(|o| o.opens_at().millis()))
            .bind(
                concert
                    .opening
                    .map_or(DEFAULT_PRE_QUEUE_MINUTES, |o| o.pre_queue_minutes()),
            )
            .bind(concert.key.as_ref().map(|k| k.as_str().to_owned()));
        let concert_id = ConcertId::from_store(inserted(&mut tx, self.backend, insert).await?);
        let mut schedules = Vec::with_capacity(concert.schedules.len());
        for new in &concert.schedules {
            let insert = self.sql(insert_returning_id!(
                "INSERT INTO schedules (concert_id, starts_at_ms, seat_count, price) VALUES (?, ?, ?, ?)"
            ));
            let insert = sqlx::query(insert)
                .bind(concert_id.get())
                .bind(new.starts_at.millis())
                .bind(new.seat_count)
                .bind(new.price.get());
            let id = ScheduleId::from_store(inserted(&mut tx, self.backend, insert).await?);
            if let Some(layout) = &new.layout {
                let json = serde_json::to_vec(&layout.to_draft())
                    .map_err(|error| sqlx::Error::Encode(error.into()))?;
                sqlx::query("INSERT INTO schedule_layouts (schedule_id, layout) VALUES (?, ?)")
                    .bind(id.get())
                    .bind(json)
                    .execute(&mut *tx)
                    .await?;
            }
            // Every seat carries its price: a hold reads it from the seat
            // row. A layout's seat costs its row's tier; a numbered hall
            // has one price for all.
            let prices = new.seat_prices();
            for (chunk_at, chunk) in prices.chunks(SEAT_INSERT_CHUNK).enumerate() {
                let first = (chunk_at * SEAT_INSERT_CHUNK) as i64 + 1;
                let mut insert: QueryBuilder<Any> =
                    QueryBuilder::new("INSERT INTO seats (schedule_id, seat_number, sold, price) ");
                insert.push_values(chunk.iter().zip(first..), |mut row, (price, seat)| {
                    row.push_bind(id.get())
                        .push_bind(seat)
                        .push_bind(0i64)
                        .push_bind(price.get());
                });
                insert.build().execute(&mut *tx).await?;
            }
            schedules.push(Schedule {
                id,
                concert: concert_id,
                starts_at: new.starts_at,
                seat_count: new.seat_count,
                price: new.price,
            });
        }
        tx.commit().await?;
        Ok(StoredConcert {
            concert: Concert {
                id: concert_id,
                title: concert.title.clone(),
                opening: concert.opening,
            },
            schedules,
            listed: false,
        })
    }
}

#[async_trait]
impl Catalogue for SqlStore {
    async fn create_concert(&self, concert: &NewConcert) -> Result<StoredConcert, StoreError> {
        let run = async {
            if let Some(key) = &concert.key
                && let Some(found) = self.concert_by_key(key).await?
            {
                return Ok(found);
            }
            match self.insert_concert(concert).await {
                // Invariant: the UNIQUE create_key decides a race of two
                // creates with one key; the loser answers the winner's concert.
                Err(error) if is_unique_violation(&error) => match &concert.key {
                    Some(key) => self.concert_by_key(key).await?.ok_or(error),
                    None => Err(error),
                },
                created => created,
            }
        };
        run.await.or_store()
    }

    async fn list_concert(&self, concert: ConcertId) -> Result<(), StoreError> {
        sqlx::query("UPDATE concerts SET listed = 1 WHERE id = ?")
            .bind(concert.get())
            .execute(&self.write)
            .await
            .or_store()?;
        Ok(())
    }

    async fn concerts(&self) -> Result<Vec<Concert>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, title, opens_at_ms, pre_queue_minutes FROM concerts WHERE listed = 1 ORDER BY id",
        )
        .fetch_all(&self.read)
        .await
        .or_store()?;
        rows.iter()
            .map(concert_from)
            .collect::<Result<_, sqlx::Error>>()
            .or_store()
    }

    async fn schedule_opening(
        &self,
        concert: ConcertId,
        opening: Option<SaleOpening>,
    ) -> Result<bool, StoreError> {
        let updated = sqlx::query(
            "UPDATE concerts SET opens_at_ms = ?, pre_queue_minutes = ? WHERE id = ? AND listed = 1",
        )
        .bind(opening.map(|o| o.opens_at().millis()))
        .bind(opening.map_or(DEFAULT_PRE_QUEUE_MINUTES, |o| o.pre_queue_minutes()))
        .bind(concert.get())
        .execute(&self.write)
        .await
        .or_store()?;
        Ok(updated.rows_affected() == 1)
    }

    async fn concert_exists(&self, concert: ConcertId) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT 1 FROM concerts WHERE id = ? AND listed = 1")
            .bind(concert.get())
            .fetch_optional(&self.read)
            .await
            .or_store()?;
        Ok(row.is_some())
    }

    async fn schedules(&self, concert: ConcertId) -> Result<Vec<Schedule>, StoreError> {
        let rows = sqlx::query(select_schedules!(
            "WHERE concert_id = ? ORDER BY starts_at_ms, id"
        ))
        .bind(concert.get())
        .fetch_all(&self.read)
        .await
        .or_store()?;
        rows.iter()
            .map(schedule_from)
            .collect::<Result<_, _>>()
            .or_store()
    }

    async fn schedule(&self, schedule: ScheduleId) -> Result<Option<Schedule>, StoreError> {
        let row = sqlx::query(select_schedules!("WHERE id = ?"))
            .bind(schedule.get())
            .fetch_optional(&self.read)
            .await
            .or_store()?;
        row.as_ref().map(schedule_from).transpose().or_store()
    }

    async fn seats(&self, schedule: ScheduleId) -> Result<Vec<StoredSeat>, StoreError> {
        let rows = sqlx::query(
            "SELECT reservation_id, held_until_ms, sold, version FROM seats WHERE schedule_id = ? ORDER BY seat_number",
        )
        .bind(schedule.get())
        .fetch_all(&self.read)
        .await
        .or_store()?;
        let stored = |row: &AnyRow| -> Result<StoredSeat, sqlx::Error> {
            Ok(StoredSeat {
                state: seat_from(row)?,
                version: u64::try_from(row.try_get::<i64, _>("version")?)
                    .map_err(|_| sqlx::Error::Decode("a negative seat version".into()))?,
            })
        };
        rows.iter().map(stored).collect::<Result<_, _>>().or_store()
    }

    async fn seat(
        &self,
        schedule: ScheduleId,
        seat: SeatNumber,
    ) -> Result<Option<SeatState>, StoreError> {
        let row = sqlx::query(
            "SELECT reservation_id, held_until_ms, sold FROM seats WHERE schedule_id = ? AND seat_number = ?",
        )
        .bind(schedule.get())
        .bind(seat.get())
        .fetch_optional(&self.read)
        .await
        .or_store()?;
        row.as_ref().map(seat_from).transpose().or_store()
    }

    async fn layout(&self, schedule: ScheduleId) -> Result<Option<VenueLayout>, StoreError> {
        let row = sqlx::query("SELECT layout FROM schedule_layouts WHERE schedule_id = ?")
            .bind(schedule.get())
            .fetch_optional(&self.read)
            .await
            .or_store()?;
        let Some(row) = row else { return Ok(None) };
        let json: Vec<u8> = row.try_get("layout").or_store()?;
        // Only checked layouts were written, so a fault here is corruption.
        let draft: LayoutDraft = serde_json::from_slice(&json)
            .map_err(|error| sqlx::Error::Decode(error.into()))
            .or_store()?;
        let layout = VenueLayout::parse(&draft)
            .map_err(|error| sqlx::Error::Decode(error.into()))
            .or_store()?;
        Ok(Some(layout))
    }
}
