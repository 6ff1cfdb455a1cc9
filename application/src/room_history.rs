//! A short history of each room, for the operator's chart: what the admin
//! room reads saw, at most one sample per [`SAMPLE_EVERY_MS`], the last
//! [`MAX_SAMPLES`] per concert, for at most [`MAX_CONCERTS`] concerts.
//!
//! Per instance, in memory: each sample is a reading of the room's shared
//! state (Redis, or the one in-process room), so any instance's samples are
//! true points of the same curve. With several instances the console's
//! reads spread over them and each keeps the points it served; a restart
//! loses its history, which a 5-minute chart refills in 5 minutes. Nothing
//! decides with these numbers, so they are not worth a store round trip.
//! (Not a `cache::BoundedMap`, whose eviction clears what is stale: here
//! a full map drops only the concert sampled longest ago.)

use frontrow_domain::time::Timestamp;
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};

/// The closest two kept samples of one room may be: under the console's
/// 2 s poll (so timing jitter drops none of one console's reads), while
/// more consoles (or instances) add few points.
pub const SAMPLE_EVERY_MS: i64 = 1_500;
/// Samples kept per concert: five minutes (the chart's span) at the closest.
pub const MAX_SAMPLES: usize = 200;
/// Concerts with a history; past it, the one sampled longest ago goes.
pub const MAX_CONCERTS: usize = 1_000;

/// One reading of a room.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoomSample {
    /// When it was read.
    pub at: Timestamp,
    /// Places in line.
    pub waiting: i64,
    /// ACTIVE places.
    pub active: i64,
    /// Places admitted so far.
    pub admitted: i64,
}

/// The bounded histories (see the module doc). A `parking_lot::Mutex`,
/// never held across an `.await`: each call is a few pointer moves.
#[derive(Default)]
pub struct RoomHistory {
    rooms: Mutex<HashMap<i64, VecDeque<RoomSample>>>,
}

impl RoomHistory {
    /// Keeps `sample` unless the concert's last one is under
    /// [`SAMPLE_EVERY_MS`] old; drops the oldest past [`MAX_SAMPLES`].
    pub fn record(&self, concert: i64, sample: RoomSample) {
        let mut rooms = self.rooms.lock();
        if !rooms.contains_key(&concert) && rooms.len() >= MAX_CONCERTS {
            let oldest = rooms
                .iter()
                .min_by_key(|(_, samples)| samples.back().map_or(i64::MIN, |s| s.at.millis()))
                .map(|(concert, _)| *concert);
            if let Some(oldest) = oldest {
                rooms.remove(&oldest);
            }
        }
        let samples = rooms.entry(concert).or_default();
        if let Some(last) = samples.back()
            && sample.at.millis() - last.at.millis() < SAMPLE_EVERY_MS
        {
            return;
        }
        samples.push_back(sample);
        while samples.len() > MAX_SAMPLES {
            samples.pop_front();
        }
    }

    /// The concert's samples, oldest first (empty when none were read here).
    pub fn samples(&self, concert: i64) -> Vec<RoomSample> {
        self.rooms
            .lock()
            .get(&concert)
            .map(|samples| samples.iter().copied().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64, waiting: i64) -> RoomSample {
        RoomSample {
            at: Timestamp(ms),
            waiting,
            active: 1,
            admitted: 0,
        }
    }

    #[test]
    fn samples_are_spaced_and_bounded_per_concert() {
        let history = RoomHistory::default();
        history.record(1, at(0, 5));
        history.record(1, at(SAMPLE_EVERY_MS - 1, 6)); // too soon: dropped
        assert_eq!(history.samples(1), vec![at(0, 5)]);
        for i in 1..=(MAX_SAMPLES as i64 + 10) {
            history.record(1, at(i * SAMPLE_EVERY_MS, i));
        }
        let kept = history.samples(1);
        assert_eq!(kept.len(), MAX_SAMPLES);
        assert_eq!(
            kept.last().map(|s| s.waiting),
            Some(MAX_SAMPLES as i64 + 10)
        );
        assert_eq!(
            kept.first().map(|s| s.waiting),
            Some(11),
            "the oldest went first"
        );
        assert!(history.samples(2).is_empty());
    }

    #[test]
    fn past_the_concert_limit_the_one_sampled_longest_ago_goes() {
        let history = RoomHistory::default();
        for concert in 0..MAX_CONCERTS as i64 {
            history.record(concert, at(concert * 10, 1));
        }
        history.record(-1, at(1_000_000, 1));
        assert!(history.samples(0).is_empty(), "concert 0 was sampled first");
        assert_eq!(history.samples(1).len(), 1);
        assert_eq!(history.samples(-1).len(), 1);
    }
}
