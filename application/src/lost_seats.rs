//! Lost seats: after a hold lost a seat, its state as read right after
//! losing, with the schedule version read before trying. Valid only while
//! that version is current, so the next buyers of that seat are turned
//! away without a write until something changes. At most [`MAX_LOST_SEATS`]
//! are kept; when full, the memory starts over (it is only an
//! optimisation).

use crate::cache::BoundedMap;
use frontrow_domain::ScheduleId;
use frontrow_domain::seat::{SeatNumber, SeatState};

/// The most seats remembered.
pub const MAX_LOST_SEATS: usize = 100_000;

/// The lost seats of this instance.
pub struct LostSeats(BoundedMap<(ScheduleId, SeatNumber), (u64, SeatState)>);

impl Default for LostSeats {
    fn default() -> Self {
        Self::with_capacity(MAX_LOST_SEATS)
    }
}

impl LostSeats {
    /// At most `capacity` seats (tests use a small one).
    pub fn with_capacity(capacity: usize) -> Self {
        Self(BoundedMap::new(capacity))
    }

    /// Remember `state` for `seat` at schedule version `version`.
    pub fn remember(&self, schedule: ScheduleId, seat: SeatNumber, version: u64, state: SeatState) {
        // Entries of older versions are stale once a newer one arrives for
        // the schedule, but telling which costs a scan: starting over is
        // as correct and cheaper.
        self.0
            .insert((schedule, seat), (version, state), |_, _| false);
    }

    /// The seat's state if it was remembered at exactly `version`.
    pub fn at(&self, schedule: ScheduleId, seat: SeatNumber, version: u64) -> Option<SeatState> {
        self.0
            .read(&(schedule, seat), |&(at, state)| {
                (at == version).then_some(state)
            })
            .flatten()
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use frontrow_domain::{ReservationId, Timestamp};

    fn held() -> SeatState {
        SeatState::Held {
            reservation: ReservationId::from_store(1),
            until: Timestamp(1),
        }
    }

    #[test]
    fn a_lost_seat_is_known_only_at_the_version_it_was_lost_at() {
        let lost = LostSeats::default();
        let (schedule, seat) = (ScheduleId::from_store(1), SeatNumber::from_store(3));
        lost.remember(schedule, seat, 7, held());
        assert_eq!(lost.at(schedule, seat, 7), Some(held()));
        assert_eq!(lost.at(schedule, seat, 8), None);
    }

    #[test]
    fn lost_seats_are_bounded() {
        let lost = LostSeats::with_capacity(16);
        for seat in 1..1_000 {
            lost.remember(
                ScheduleId::from_store(1),
                SeatNumber::from_store(seat),
                1,
                held(),
            );
            assert!(lost.len() <= 16);
        }
    }
}
