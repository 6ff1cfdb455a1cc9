//! What a live stream sends the one who follows it: the rules of both
//! Server-Sent-Event streams (a holder's place in line, and a seat map), as
//! pure types that the HTTP adapter feeds with what it reads and asks what
//! to send. Both send only what changed since the last message, and never
//! step back: a seat stream never sends a map older than one it sent, and a
//! place stream sends nothing after a place that ended.

use crate::catalogue::SeatView;
use crate::queue::Place;
use crate::seating::SeatMap;
use frontrow_domain::queue::QueueStatus;
use frontrow_domain::seat::SeatStatus;
use std::time::Duration;

/// One follower of a holder's place: what it was last sent.
#[derive(Debug, Clone)]
pub struct PlaceFollower {
    last: Place,
}

impl PlaceFollower {
    /// A follower that was just sent `first`.
    pub fn new(first: Place) -> Self {
        Self { last: first }
    }

    /// How long to wait before asking the room again: half the pace the
    /// room gives polling clients, 1 to 5 s, so a stream costs the room
    /// what a well-behaved poller would and sees a change sooner.
    pub fn pace(&self) -> Duration {
        Duration::from_secs((self.last.refresh_seconds / 2).clamp(1, 5) as u64)
    }

    /// Whether the stream is over: the last place sent was EXPIRED or
    /// SOLD_OUT, after which nothing changes.
    pub fn ended(&self) -> bool {
        ended(self.last.status)
    }

    /// `place` if it is to be sent: it differs from the last place sent and
    /// the stream has not ended. It becomes the last place sent.
    pub fn next(&mut self, place: Place) -> Option<Place> {
        if self.ended() || place == self.last {
            return None;
        }
        self.last = place.clone();
        Some(place)
    }
}

/// Whether a place in `status` ends its stream.
pub fn ended(status: QueueStatus) -> bool {
    matches!(status, QueueStatus::Expired | QueueStatus::SoldOut)
}

/// Seats to send a seat-map follower, and the version they bring it to.
#[derive(Debug, Clone)]
pub struct SeatChanges {
    /// The seat-change log version the follower's map is at after these.
    pub version: u64,
    /// The seats whose status differs from what was sent, in seat order.
    pub seats: Vec<SeatView>,
}

/// One follower of a seat map: each seat's status as it was last sent, and
/// the version of the map that was sent.
#[derive(Debug, Clone)]
pub struct SeatFollower {
    sent: Vec<SeatStatus>,
    version: u64,
}

impl SeatFollower {
    /// A follower that was just sent `first` whole (the snapshot).
    pub fn new(first: &SeatMap) -> Self {
        Self {
            sent: first.statuses().map(|v| v.status).collect(),
            version: first.version,
        }
    }

    /// What to send from `map`, the newest map read: the seats whose status
    /// differs from what was sent (statuses are read at the map's moment,
    /// so a hold that lapsed counts). Nothing when none differs, and
    /// nothing from a map older than the one sent, which another follower
    /// may have read just before: it would undo newer states.
    pub fn next(&mut self, map: &SeatMap) -> Option<SeatChanges> {
        if map.version < self.version {
            return None;
        }
        self.version = map.version;
        let changed = map.changed_since(&self.sent);
        if changed.is_empty() {
            return None;
        }
        for view in &changed {
            if let Some(sent) = self.sent.get_mut(view.seat.get() as usize - 1) {
                *sent = view.status;
            }
        }
        Some(SeatChanges {
            version: self.version,
            seats: changed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{TOKEN, schedule};
    use frontrow_domain::queue::{AdmissionPolicy, QueueToken};
    use frontrow_domain::seat::{SeatNumber, SeatState};
    use frontrow_domain::{ConcertId, ReservationId, Timestamp, UserId};
    use std::sync::Arc;

    fn place(status: QueueStatus, position: i64) -> Place {
        let token = QueueToken::parse(TOKEN).unwrap();
        let policy = AdmissionPolicy::new(10, 1, false).unwrap();
        let found = (status, position);
        Place::new(
            token,
            ConcertId::from_store(1),
            UserId::from_store(1),
            found,
            policy,
            None,
        )
    }

    fn map(version: u64, seats: Vec<SeatState>, at: i64) -> SeatMap {
        SeatMap {
            schedule: schedule(seats.len() as i64, 10),
            seats: Arc::new(seats),
            version,
            at: Timestamp(at),
            lapsed_through: None,
        }
    }

    fn held_until(until: i64) -> SeatState {
        SeatState::Held {
            reservation: ReservationId::from_store(1),
            until: Timestamp(until),
        }
    }

    #[test]
    fn a_place_is_sent_only_when_it_changed() {
        let mut follower = PlaceFollower::new(place(QueueStatus::Waiting, 3));
        assert_eq!(follower.next(place(QueueStatus::Waiting, 3)), None);
        let moved = place(QueueStatus::Waiting, 2);
        assert_eq!(follower.next(moved.clone()), Some(moved));
        assert_eq!(follower.next(place(QueueStatus::Waiting, 2)), None);
    }

    #[test]
    fn nothing_is_sent_after_a_place_that_ended() {
        let mut follower = PlaceFollower::new(place(QueueStatus::Active, 0));
        assert!(!follower.ended());
        let expired = place(QueueStatus::Expired, 0);
        assert_eq!(follower.next(expired.clone()), Some(expired));
        assert!(follower.ended());
        assert_eq!(follower.next(place(QueueStatus::Waiting, 1)), None);
        assert!(PlaceFollower::new(place(QueueStatus::SoldOut, 0)).ended());
    }

    #[test]
    fn the_room_is_asked_at_half_its_polling_pace_within_one_to_five_seconds() {
        let mut waiting = place(QueueStatus::Waiting, 1);
        for (refresh, pace) in [(0, 1), (2, 1), (6, 3), (60, 5)] {
            waiting.refresh_seconds = refresh;
            let follower = PlaceFollower::new(waiting.clone());
            assert_eq!(follower.pace(), Duration::from_secs(pace), "{refresh}");
        }
    }

    #[test]
    fn a_seat_follower_is_sent_only_the_seats_whose_status_changed() {
        let first = map(1, vec![SeatState::Available; 3], 0);
        let mut follower = SeatFollower::new(&first);
        assert!(follower.next(&first).is_none(), "nothing changed");

        let held = map(
            2,
            vec![SeatState::Available, held_until(500), SeatState::Available],
            0,
        );
        let sent = follower.next(&held).expect("the hold is sent");
        assert_eq!(sent.version, 2);
        let seats: Vec<_> = sent.seats.iter().map(|v| (v.seat, v.status)).collect();
        assert_eq!(seats, vec![(SeatNumber::from_store(2), SeatStatus::Held)]);

        // The same map read after the hold's deadline: the lapse is a change.
        let lapsed = map(2, held.seats.to_vec(), 500);
        let sent = follower.next(&lapsed).expect("the lapse is sent");
        assert_eq!(sent.seats[0].status, SeatStatus::Available);
    }

    #[test]
    fn a_seat_follower_never_steps_back_to_an_older_map() {
        let sold = SeatState::Sold {
            reservation: ReservationId::from_store(1),
        };
        let mut follower = SeatFollower::new(&map(5, vec![sold], 0));
        let older = map(4, vec![held_until(i64::MAX)], 0);
        assert!(
            follower.next(&older).is_none(),
            "a map at 4 after 5 was sent"
        );
        let newer = map(6, vec![SeatState::Available], 0);
        assert_eq!(follower.next(&newer).map(|c| c.version), Some(6));
    }
}
