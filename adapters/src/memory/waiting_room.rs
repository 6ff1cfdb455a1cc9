//! The waiting room in process, with the Redis room's semantics: strict FIFO,
//! `AdmissionPolicy::admissions` applied under one lock, one place per user
//! per concert, and positions in O(log n) through a Fenwick tree over arrival
//! numbers (a user may leave from the middle of the line).

use async_trait::async_trait;
use frontrow_application::queue::{Place, RoomStats, WaitingRoom};
use frontrow_application::{Clock, StoreError};
use frontrow_domain::queue::{AdmissionBucket, AdmissionPolicy, QueueStatus, QueueToken};
use frontrow_domain::{ConcertId, Timestamp, UserId};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

/// Counts of waiting arrivals by arrival number, for prefix sums in O(log n).
#[derive(Default)]
struct Fenwick(Vec<i64>);

impl Fenwick {
    fn add(&mut self, index: usize, delta: i64) {
        if index >= self.0.len() {
            // Grow by doubling and rebuild: amortised O(log n) per arrival.
            let old = Fenwick(std::mem::take(&mut self.0));
            let counts: Vec<i64> = (0..old.0.len())
                .map(|i| old.before(i + 1) - old.before(i))
                .collect();
            self.0 = vec![0; (index + 1).next_power_of_two().max(64)];
            for (i, c) in counts.into_iter().enumerate().filter(|(_, c)| *c != 0) {
                self.add(i, c);
            }
        }
        let mut i = index + 1;
        while i <= self.0.len() {
            self.0[i - 1] += delta;
            i += i & i.wrapping_neg();
        }
    }

    /// Sum of counts at indices < `index`.
    fn before(&self, index: usize) -> i64 {
        let mut sum = 0;
        let mut i = index.min(self.0.len());
        while i > 0 {
            sum += self.0[i - 1];
            i -= i & i.wrapping_neg();
        }
        sum
    }
}

#[derive(Default)]
struct Room {
    next_arrival: usize,
    waiting: BTreeMap<usize, QueueToken>,
    arrivals: HashMap<QueueToken, usize>,
    line: Fenwick,
    active: HashMap<QueueToken, Timestamp>,
    deadlines: BTreeSet<(Timestamp, QueueToken)>,
    users: HashMap<UserId, QueueToken>,
    policy: Option<AdmissionPolicy>,
    bucket: Option<AdmissionBucket>,
}

impl Room {
    fn policy(&self, default: AdmissionPolicy) -> AdmissionPolicy {
        self.policy.unwrap_or(default)
    }

    fn admit(&mut self, default: AdmissionPolicy, active_ms: i64, now: Timestamp) {
        while let Some((deadline, token)) = self.deadlines.first().cloned() {
            if deadline > now {
                break;
            }
            self.deadlines.pop_first();
            self.active.remove(&token);
        }
        let policy = self.policy(default);
        let bucket = self.bucket.unwrap_or_else(|| policy.fresh_bucket(now));
        let (admit, bucket) = policy.admissions(
            self.active.len() as i64,
            self.waiting.len() as i64,
            bucket,
            now,
        );
        self.bucket = Some(bucket);
        for _ in 0..admit {
            let Some((arrival, token)) = self.waiting.pop_first() else {
                break;
            };
            self.arrivals.remove(&token);
            self.line.add(arrival, -1);
            let deadline = Timestamp(now.millis() + active_ms);
            self.active.insert(token.clone(), deadline);
            self.deadlines.insert((deadline, token));
        }
    }

    fn status(&self, token: &QueueToken) -> (QueueStatus, i64) {
        if let Some(&arrival) = self.arrivals.get(token) {
            (QueueStatus::Waiting, self.line.before(arrival) + 1)
        } else if self.active.contains_key(token) {
            (QueueStatus::Active, 0)
        } else {
            (QueueStatus::Expired, 0)
        }
    }

    fn remove(&mut self, token: &QueueToken) {
        if let Some(arrival) = self.arrivals.remove(token) {
            self.waiting.remove(&arrival);
            self.line.add(arrival, -1);
        }
        if let Some(deadline) = self.active.remove(token) {
            self.deadlines.remove(&(deadline, token.clone()));
        }
    }
}

#[derive(Default)]
struct Rooms {
    rooms: HashMap<ConcertId, Room>,
    tokens: HashMap<QueueToken, (ConcertId, UserId)>,
}

pub struct MemoryWaitingRoom {
    state: Mutex<Rooms>,
    default_policy: AdmissionPolicy,
    active_ms: i64,
    clock: Arc<dyn Clock>,
}

impl MemoryWaitingRoom {
    pub fn new(
        default_policy: AdmissionPolicy,
        active_seconds: u64,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            state: Mutex::default(),
            default_policy,
            active_ms: (active_seconds as i64).saturating_mul(1000),
            clock,
        }
    }

    fn with_rooms<T>(&self, f: impl FnOnce(&mut Rooms, Timestamp) -> T) -> Result<T, StoreError> {
        let mut rooms = self
            .state
            .lock()
            .map_err(|_| StoreError::new("waiting room lock poisoned"))?;
        Ok(f(&mut rooms, self.clock.now()))
    }
}

#[async_trait]
impl WaitingRoom for MemoryWaitingRoom {
    async fn join(&self, concert: ConcertId, user: UserId) -> Result<(Place, bool), StoreError> {
        let (default, active_ms) = (self.default_policy, self.active_ms);
        let fresh = QueueToken::from_random(crate::random::bytes16());
        self.with_rooms(|state, now| {
            let room = state.rooms.entry(concert).or_default();
            room.admit(default, active_ms, now);
            let existing = room
                .users
                .get(&user)
                .cloned()
                .filter(|t| room.status(t).0 != QueueStatus::Expired);
            let (token, created) = match existing {
                Some(token) => (token, false),
                None => {
                    let arrival = room.next_arrival;
                    room.next_arrival += 1;
                    room.waiting.insert(arrival, fresh.clone());
                    room.arrivals.insert(fresh.clone(), arrival);
                    room.line.add(arrival, 1);
                    room.users.insert(user, fresh.clone());
                    state.tokens.insert(fresh.clone(), (concert, user));
                    room.admit(default, active_ms, now);
                    (fresh, true)
                }
            };
            let (status, position) = room.status(&token);
            let policy = room.policy(default);
            (
                Place {
                    token,
                    concert,
                    user,
                    status,
                    position,
                    estimated_wait_seconds: policy.estimated_wait_seconds(position),
                },
                created,
            )
        })
    }

    async fn place(&self, token: &QueueToken) -> Result<Option<Place>, StoreError> {
        let (default, active_ms) = (self.default_policy, self.active_ms);
        self.with_rooms(|state, now| {
            let &(concert, user) = state.tokens.get(token)?;
            let room = state.rooms.get_mut(&concert)?;
            room.admit(default, active_ms, now);
            let (status, position) = room.status(token);
            Some(Place {
                token: token.clone(),
                concert,
                user,
                status,
                position,
                estimated_wait_seconds: room.policy(default).estimated_wait_seconds(position),
            })
        })
    }

    /// In process a full `place` is as cheap as any read.
    async fn active_place(&self, token: &QueueToken) -> Result<Option<Place>, StoreError> {
        Ok(self
            .place(token)
            .await?
            .filter(|place| place.status == QueueStatus::Active))
    }

    async fn leave(&self, token: &QueueToken) -> Result<(), StoreError> {
        let (default, active_ms) = (self.default_policy, self.active_ms);
        self.with_rooms(|state, now| {
            if let Some(&(concert, _)) = state.tokens.get(token)
                && let Some(room) = state.rooms.get_mut(&concert)
            {
                room.remove(token);
                room.admit(default, active_ms, now);
            }
        })
    }

    async fn set_policy(
        &self,
        concert: ConcertId,
        policy: AdmissionPolicy,
    ) -> Result<(), StoreError> {
        self.with_rooms(|state, _| state.rooms.entry(concert).or_default().policy = Some(policy))
    }

    async fn stats(&self, concert: ConcertId) -> Result<RoomStats, StoreError> {
        let (default, active_ms) = (self.default_policy, self.active_ms);
        self.with_rooms(|state, now| {
            let room = state.rooms.entry(concert).or_default();
            room.admit(default, active_ms, now);
            RoomStats {
                waiting: room.waiting.len() as i64,
                active: room.active.len() as i64,
                policy: room.policy(default),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_only_those_still_waiting_ahead() {
        let mut line = Fenwick::default();
        for i in 0..200 {
            line.add(i, 1);
        }
        assert_eq!(line.before(150), 150);
        line.add(10, -1);
        line.add(0, -1);
        assert_eq!(line.before(150), 148);
        assert_eq!(line.before(0), 0);
        line.add(5_000, 1);
        assert_eq!(line.before(5_001), 199);
    }
}
