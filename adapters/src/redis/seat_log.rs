//! The seat-change log in Redis, shared by every instance: per schedule a
//! version counter (the key the seat gate reads with the caller's place) and
//! a sorted set of changes scored by version, trimmed to `LOG_TAIL`. One
//! script appends a change and applies it to the concert's stock in the
//! waiting room, so the log and the room never disagree. Both carry the
//! concert's hash tag (keys.rs); a reader that knows only the schedule finds
//! its concert once (schedules never move) and remembers it.
//!
//! A change is stored as `version:concert:schedule:seat:kind:reservation:
//! until:seat_version`, kind being A (available), H (held) or S (sold).

use super::{Connection, keys};
use async_trait::async_trait;
use frontrow_application::StoreError;
use frontrow_application::cache::BoundedMap;
use frontrow_application::seat_changes::{LOG_TAIL, SeatChange, SeatChangeLog, tail_is_complete};
use frontrow_application::store::OrStoreError;
use frontrow_application::version_reads::MAX_SCHEDULES;
use frontrow_domain::seat::{SeatNumber, SeatState};
use frontrow_domain::{ConcertId, ReservationId, ScheduleId, Timestamp};
use redis::Script;
use std::collections::HashMap;

/// The `SeatChangeLog` shared by every instance: one sorted set per
/// schedule, appended by one script that also updates the concert's stock in
/// its waiting room, so the log and the room never disagree. Keys start
/// with the prefix given to [`RedisSeatChangeLog::new`], which must be the
/// room's.
pub struct RedisSeatChangeLog {
    conn: Connection,
    prefix: String,
    append: Script,
    /// Each schedule's concert, once known (schedules never move), for at
    /// most `MAX_SCHEDULES` schedules.
    concerts: BoundedMap<ScheduleId, ConcertId>,
}

impl RedisSeatChangeLog {
    /// A log on `conn` under the key `prefix` (the same as the
    /// [`RedisWaitingRoom`](super::waiting_room::RedisWaitingRoom)'s). See
    /// [`RedisWaitingRoom::new`](super::waiting_room::RedisWaitingRoom::new)
    /// for an example.
    pub fn new(conn: Connection, prefix: &str) -> Self {
        Self {
            conn,
            prefix: prefix.to_owned(),
            append: Script::new(include_str!("seat_change.lua")),
            concerts: BoundedMap::new(MAX_SCHEDULES),
        }
    }

    fn remember(&self, schedule: ScheduleId, concert: ConcertId) {
        self.concerts.insert(schedule, concert, |_, _| false);
    }

    /// The schedule's concert: remembered, or read from the one key kept
    /// for it (written by `open_sale`); `None` for a schedule whose log was
    /// never opened, which then reads as version 0 (no changes).
    async fn concert_of(&self, schedule: ScheduleId) -> Result<Option<ConcertId>, StoreError> {
        if let Some(concert) = self.concerts.get(&schedule) {
            return Ok(Some(concert));
        }
        let concert: Option<i64> = redis::cmd("GET")
            .arg(keys::schedule_concert(&self.prefix, schedule))
            .query_async(&mut self.conn.clone())
            .await
            .or_store()?;
        let concert = concert.and_then(ConcertId::parse);
        if let Some(concert) = concert {
            self.remember(schedule, concert);
        }
        Ok(concert)
    }
}

fn encode(change: &SeatChange) -> (String, &'static str, i64) {
    let (kind, reservation, until) = match change.state {
        SeatState::Available => ("A", 0, 0),
        SeatState::Held { reservation, until } => ("H", reservation.get(), until.millis()),
        SeatState::Sold { reservation } => ("S", reservation.get(), 0),
    };
    let text = format!(
        "{}:{}:{}:{kind}:{reservation}:{until}:{}",
        change.concert,
        change.schedule,
        change.seat.get(),
        change.seat_version
    );
    (text, kind, until)
}

fn decode(member: &str) -> Option<(u64, SeatChange)> {
    let parts: Vec<&str> = member.split(':').collect();
    let [
        version,
        concert,
        schedule,
        seat,
        kind,
        reservation,
        until,
        seat_version,
    ] = parts[..]
    else {
        return None;
    };
    let number = |text: &str| text.parse::<i64>().ok();
    let reservation = ReservationId::from_store(number(reservation)?);
    let until = Timestamp(number(until)?);
    let state = match kind {
        "A" => SeatState::Available,
        "H" => SeatState::Held { reservation, until },
        "S" => SeatState::Sold { reservation },
        _ => return None,
    };
    let change = SeatChange {
        concert: ConcertId::from_store(number(concert)?),
        schedule: ScheduleId::from_store(number(schedule)?),
        seat: SeatNumber::from_store(number(seat)?),
        state,
        seat_version: seat_version.parse().ok()?,
    };
    Some((version.parse().ok()?, change))
}

#[async_trait]
impl SeatChangeLog for RedisSeatChangeLog {
    async fn version(&self, schedule: ScheduleId) -> Result<u64, StoreError> {
        let Some(concert) = self.concert_of(schedule).await? else {
            return Ok(0);
        };
        let version: Option<u64> = redis::cmd("GET")
            .arg(keys::seat_map(&self.prefix, concert, schedule))
            .query_async(&mut self.conn.clone())
            .await
            .or_store()?;
        Ok(version.unwrap_or(0))
    }

    /// One MGET per concert (its keys share a slot); callers ask for one
    /// concert's schedules.
    async fn versions(&self, schedules: &[ScheduleId]) -> Result<Vec<u64>, StoreError> {
        let mut versions = vec![0; schedules.len()];
        let mut by_concert: HashMap<ConcertId, Vec<usize>> = HashMap::new();
        for (index, schedule) in schedules.iter().enumerate() {
            if let Some(concert) = self.concert_of(*schedule).await? {
                by_concert.entry(concert).or_default().push(index);
            }
        }
        for (concert, indexes) in by_concert {
            let keys: Vec<String> = indexes
                .iter()
                .map(|&i| keys::seat_map(&self.prefix, concert, schedules[i]))
                .collect();
            let found: Vec<Option<u64>> = redis::cmd("MGET")
                .arg(keys)
                .query_async(&mut self.conn.clone())
                .await
                .or_store()?;
            for (index, version) in indexes.into_iter().zip(found) {
                versions[index] = version.unwrap_or(0);
            }
        }
        Ok(versions)
    }

    async fn append(&self, change: &SeatChange) -> Result<u64, StoreError> {
        let (text, kind, until) = encode(change);
        self.remember(change.schedule, change.concert);
        let [_, _, _, _, _, stock, holds, seats, ..] = keys::room(&self.prefix, change.concert);
        let version: u64 = self
            .append
            .key(keys::seat_map(
                &self.prefix,
                change.concert,
                change.schedule,
            ))
            .key(keys::seat_log(
                &self.prefix,
                change.concert,
                change.schedule,
            ))
            .key(stock)
            .key(holds)
            .key(seats)
            .arg(text)
            .arg(format!("{}:{}", change.schedule, change.seat.get()))
            .arg(kind)
            .arg(until)
            .arg(change.seat_version)
            .arg(LOG_TAIL)
            .invoke_async(&mut self.conn.clone())
            .await
            .or_store()?;
        Ok(version)
    }

    async fn since(
        &self,
        schedule: ScheduleId,
        after: u64,
    ) -> Result<Option<Vec<(u64, SeatChange)>>, StoreError> {
        let Some(concert) = self.concert_of(schedule).await? else {
            return Ok(Some(Vec::new()).filter(|_| after == 0));
        };
        // Atomic, so the counter and the tail describe the same moment.
        let (version, members): (Option<u64>, Vec<String>) = redis::pipe()
            .atomic()
            .cmd("GET")
            .arg(keys::seat_map(&self.prefix, concert, schedule))
            .cmd("ZRANGEBYSCORE")
            .arg(keys::seat_log(&self.prefix, concert, schedule))
            .arg(format!("({after}"))
            .arg("+inf")
            .query_async(&mut self.conn.clone())
            .await
            .or_store()?;
        let version = version.unwrap_or(0);
        let changes = members
            .iter()
            .map(|member| decode(member).ok_or_else(|| StoreError::new("malformed seat change")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(tail_is_complete(after, version, &changes).then_some(changes))
    }

    async fn open_sale(
        &self,
        concert: ConcertId,
        schedules: &[ScheduleId],
        total_seats: i64,
    ) -> Result<(), StoreError> {
        let [_, _, _, _, _, stock, ..] = keys::room(&self.prefix, concert);
        let mut pipe = redis::pipe();
        pipe.atomic();
        // A counter that exists starts the log at 1 (seat_change.lua).
        for schedule in schedules {
            pipe.cmd("SET")
                .arg(keys::seat_map(&self.prefix, concert, *schedule))
                .arg(0)
                .arg("NX")
                .ignore();
        }
        let _: () = pipe
            .cmd("HSETNX")
            .arg(&stock)
            .arg("total")
            .arg(total_seats)
            .ignore()
            .cmd("HSETNX")
            .arg(&stock)
            .arg("sold")
            .arg(0)
            .ignore()
            .query_async(&mut self.conn.clone())
            .await
            .or_store()?;
        // Each in its own slot on a cluster: one command each.
        for schedule in schedules {
            let _: () = redis::cmd("SET")
                .arg(keys::schedule_concert(&self.prefix, *schedule))
                .arg(concert.get())
                .query_async(&mut self.conn.clone())
                .await
                .or_store()?;
            self.remember(*schedule, concert);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_reads_back_as_written() {
        for state in [
            SeatState::Available,
            SeatState::Held {
                reservation: ReservationId::from_store(7),
                until: Timestamp(1_234),
            },
            SeatState::Sold {
                reservation: ReservationId::from_store(7),
            },
        ] {
            let change = SeatChange {
                concert: ConcertId::from_store(1),
                schedule: ScheduleId::from_store(2),
                seat: SeatNumber::from_store(3),
                state,
                seat_version: 4,
            };
            let (text, _, _) = encode(&change);
            assert_eq!(decode(&format!("9:{text}")), Some((9, change)));
        }
    }
}
