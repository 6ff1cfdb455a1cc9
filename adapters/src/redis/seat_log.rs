//! The seat-change log in Redis, shared by every instance: per schedule a
//! version counter (the key the seat gate reads with the caller's place) and
//! a sorted set of changes scored by version, trimmed to `LOG_TAIL`. One
//! script appends a change and applies it to the concert's stock in the
//! waiting room, so the log and the room never disagree.
//!
//! A change is stored as `version:concert:schedule:seat:kind:reservation:
//! until:seat_version`, kind being A (available), H (held) or S (sold).

use async_trait::async_trait;
use frontrow_application::StoreError;
use frontrow_application::seat_changes::{LOG_TAIL, SeatChange, SeatChangeLog, tail_is_complete};
use frontrow_domain::seat::{SeatNumber, SeatState};
use frontrow_domain::{ConcertId, ReservationId, ScheduleId, Timestamp};
use redis::Script;
use redis::aio::ConnectionManager;

pub struct RedisSeatChangeLog {
    conn: ConnectionManager,
    prefix: String,
    append: Script,
}

impl RedisSeatChangeLog {
    pub fn new(conn: ConnectionManager, prefix: &str) -> Self {
        Self {
            conn,
            prefix: prefix.to_owned(),
            append: Script::new(include_str!("seat_change.lua")),
        }
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
        let version: Option<u64> = redis::cmd("GET")
            .arg(super::seat_map_key(&self.prefix, schedule))
            .query_async(&mut self.conn.clone())
            .await
            .map_err(StoreError::new)?;
        Ok(version.unwrap_or(0))
    }

    async fn versions(&self, schedules: &[ScheduleId]) -> Result<Vec<u64>, StoreError> {
        if schedules.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = schedules
            .iter()
            .map(|s| super::seat_map_key(&self.prefix, *s))
            .collect();
        let versions: Vec<Option<u64>> = redis::cmd("MGET")
            .arg(keys)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(StoreError::new)?;
        Ok(versions.into_iter().map(|v| v.unwrap_or(0)).collect())
    }

    async fn append(&self, change: &SeatChange) -> Result<u64, StoreError> {
        let (text, kind, until) = encode(change);
        let version: u64 = self
            .append
            .key(super::seat_map_key(&self.prefix, change.schedule))
            .key(super::seat_log_key(&self.prefix, change.schedule))
            .key(super::room_key(&self.prefix, change.concert, "stock"))
            .key(super::room_key(&self.prefix, change.concert, "holds"))
            .key(super::room_key(&self.prefix, change.concert, "seats"))
            .arg(text)
            .arg(format!("{}:{}", change.schedule, change.seat.get()))
            .arg(kind)
            .arg(until)
            .arg(change.seat_version)
            .arg(LOG_TAIL)
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(StoreError::new)?;
        Ok(version)
    }

    async fn since(
        &self,
        schedule: ScheduleId,
        after: u64,
    ) -> Result<Option<Vec<(u64, SeatChange)>>, StoreError> {
        // Atomic, so the counter and the tail describe the same moment.
        let (version, members): (Option<u64>, Vec<String>) = redis::pipe()
            .atomic()
            .cmd("GET")
            .arg(super::seat_map_key(&self.prefix, schedule))
            .cmd("ZRANGEBYSCORE")
            .arg(super::seat_log_key(&self.prefix, schedule))
            .arg(format!("({after}"))
            .arg("+inf")
            .query_async(&mut self.conn.clone())
            .await
            .map_err(StoreError::new)?;
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
        let mut pipe = redis::pipe();
        pipe.atomic();
        // A counter that exists starts the log at 1 (seat_change.lua).
        for schedule in schedules {
            pipe.cmd("SET")
                .arg(super::seat_map_key(&self.prefix, *schedule))
                .arg(0)
                .arg("NX")
                .ignore();
        }
        let _: () = pipe
            .cmd("HSETNX")
            .arg(super::room_key(&self.prefix, concert, "stock"))
            .arg("total")
            .arg(total_seats)
            .ignore()
            .cmd("HSETNX")
            .arg(super::room_key(&self.prefix, concert, "stock"))
            .arg("sold")
            .arg(0)
            .ignore()
            .query_async(&mut self.conn.clone())
            .await
            .map_err(StoreError::new)?;
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
