//! The door's state in process (the embedded default, one instance):
//! spent challenges, sign-ups per address and each concert's level, in
//! bounded maps.

use async_trait::async_trait;
use frontrow_application::door::{DoorLevels, SignUpCounter, SpentChallenges};
use frontrow_application::{Clock, StoreError};
use frontrow_domain::door::Level;
use frontrow_domain::{ConcertId, Timestamp};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;

/// The most spent challenges and counted addresses kept at once. When
/// full, the expired go first; if none has, the map refuses to forget
/// (a spend then fails as a store failure, a 503) rather than let a replay
/// through.
pub const MAX_ENTRIES: usize = 200_000;

/// [`SpentChallenges`], [`SignUpCounter`] and [`DoorLevels`] in process.
pub struct MemoryDoor {
    clock: Arc<dyn Clock>,
    window_ms: i64,
    max_entries: usize,
    /// Challenge id -> until when it is remembered.
    spent: Mutex<HashMap<String, Timestamp>>,
    /// Address -> (count, when its window ends).
    sign_ups: Mutex<HashMap<String, (u64, Timestamp)>>,
    levels: Mutex<HashMap<ConcertId, Level>>,
}

impl MemoryDoor {
    /// Counting sign-ups over `window_ms`, at `clock`.
    pub fn new(clock: Arc<dyn Clock>, window_ms: u64) -> Self {
        Self::bounded(clock, window_ms, MAX_ENTRIES)
    }

    /// With a bound of its own (tests).
    pub fn bounded(clock: Arc<dyn Clock>, window_ms: u64, max_entries: usize) -> Self {
        Self {
            clock,
            window_ms: i64::try_from(window_ms).unwrap_or(i64::MAX).max(1),
            max_entries: max_entries.max(1),
            spent: Mutex::default(),
            sign_ups: Mutex::default(),
            levels: Mutex::default(),
        }
    }
}

/// A full map drops what has lapsed; whether there is room now.
fn room_for<V>(map: &mut HashMap<String, V>, max: usize, lapsed: impl Fn(&V) -> bool) -> bool {
    if map.len() >= max {
        map.retain(|_, value| !lapsed(value));
    }
    map.len() < max
}

#[async_trait]
impl SpentChallenges for MemoryDoor {
    async fn spend(&self, id: &str, until: Timestamp, now: Timestamp) -> Result<bool, StoreError> {
        // The lock makes check-and-insert one step.
        let mut spent = self.spent.lock();
        if spent.get(id).is_some_and(|kept| *kept > now) {
            return Ok(false);
        }
        if !room_for(&mut spent, self.max_entries, |kept| *kept <= now) {
            return Err(StoreError::new(
                "too many live spent challenges to remember",
            ));
        }
        spent.insert(id.to_owned(), until);
        Ok(true)
    }
}

#[async_trait]
impl SignUpCounter for MemoryDoor {
    async fn add(&self, address: &str) -> Result<u64, StoreError> {
        let now = self.clock.now();
        let mut counts = self.sign_ups.lock();
        if !counts.contains_key(address) {
            // Forgetting a count lets an address sign up free again, which
            // the bound must allow: the expired go first, then everything.
            if !room_for(&mut counts, self.max_entries, |(_, ends)| *ends <= now) {
                counts.clear();
            }
        }
        let window_ends = Timestamp(now.millis().saturating_add(self.window_ms));
        let entry = counts.entry(address.to_owned()).or_insert((0, window_ends));
        if entry.1 <= now {
            *entry = (0, window_ends);
        }
        entry.0 += 1;
        Ok(entry.0)
    }

    async fn count(&self, address: &str) -> Result<u64, StoreError> {
        let now = self.clock.now();
        let counts = self.sign_ups.lock();
        Ok(counts
            .get(address)
            .filter(|(_, ends)| *ends > now)
            .map_or(0, |(count, _)| *count))
    }
}

#[async_trait]
impl DoorLevels for MemoryDoor {
    async fn level(&self, concert: ConcertId) -> Result<Option<Level>, StoreError> {
        Ok(self.levels.lock().get(&concert).copied())
    }

    async fn set_level(&self, concert: ConcertId, level: Level) -> Result<(), StoreError> {
        self.levels.lock().insert(concert, level);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use frontrow_application::clock::SystemClock;

    #[tokio::test]
    async fn a_challenge_is_spent_once_until_it_expires_and_the_map_stays_bounded() {
        let door = MemoryDoor::bounded(Arc::new(SystemClock), 1_000, 2);
        let (now, until) = (Timestamp(1_000), Timestamp(2_000));
        assert!(door.spend("a", until, now).await.unwrap());
        assert!(!door.spend("a", until, now).await.unwrap());
        assert!(door.spend("b", until, now).await.unwrap());
        // Full of live ids: a third is refused rather than forgetting one.
        assert!(door.spend("c", until, now).await.is_err());
        // Once they lapse they make room.
        assert!(door.spend("c", Timestamp(3_000), until).await.unwrap());
        assert_eq!(door.spent.lock().len(), 1);
    }

    #[tokio::test]
    async fn sign_ups_count_per_address_within_the_window() {
        let door = MemoryDoor::new(Arc::new(SystemClock), 60_000);
        assert_eq!(door.add("a").await.unwrap(), 1);
        assert_eq!(door.add("a").await.unwrap(), 2);
        assert_eq!(door.add("b").await.unwrap(), 1);
        assert_eq!(door.count("a").await.unwrap(), 2);
        assert_eq!(door.count("c").await.unwrap(), 0);
    }
}
