//! Every Redis key name, spelled here and only here; scripts receive their
//! keys in `KEYS` and build none.
//!
//! Everything a concert's sale needs lives under one hash tag, `{c<id>}`:
//! its waiting room, the per-token state of its places (fields of the room's
//! hashes, not keys of their own) and its schedules' seat-map versions and
//! logs. So every script, and every multi-key read, touches one hash slot:
//! on a Redis Cluster a sale lives on one node, and sales spread over the
//! nodes. The one key outside a concert's tag maps a schedule to its concert
//! (schedules never move), for readers that know only the schedule.

use frontrow_domain::{ConcertId, ScheduleId};

/// The room's keys, in the order prelude.lua's `room()` reads them from
/// `KEYS[1..ROOM_KEYS]`.
pub const ROOM_KEYS: usize = 12;

/// The hash tag of a concert's keys.
fn tag(prefix: &str, concert: ConcertId) -> String {
    format!("{prefix}{{c{concert}}}")
}

/// A concert room's keys, for `KEYS[1..ROOM_KEYS]`:
/// - `wait`: ZSET token -> arrival number (pre-queue: `seq + draw`);
/// - `active`: ZSET token -> when the ACTIVE place lapses;
/// - `policy`: HASH capacity, rate, paused, the admission bucket (milli,
///   ts), the scheduled opening (opens, preq) and the lapsed count;
/// - `seq`: the arrival counter;
/// - `users`: HASH user -> token (one place per user);
/// - `stock`: HASH total, sold; `holds`: ZSET schedule:seat -> deadline;
///   `seats`: HASH schedule:seat -> seat version (seat_change.lua);
/// - `seen`, `joined`: HASH token -> ms, for the lapse of absent waiters;
/// - `deadlines`: HASH token -> `hard:own[:kept[:pick]]` of each ACTIVE place;
/// - `ended`: HASH token -> why an ended place ended (bounded).
pub fn room(prefix: &str, concert: ConcertId) -> [String; ROOM_KEYS] {
    let tag = tag(prefix, concert);
    [
        "wait",
        "active",
        "policy",
        "seq",
        "users",
        "stock",
        "holds",
        "seats",
        "seen",
        "joined",
        "deadlines",
        "ended",
    ]
    .map(|name| format!("{tag}:{name}"))
}

/// A schedule's seat-map version counter; the seat gate reads it with the
/// caller's place, so it carries the concert's tag.
pub fn seat_map(prefix: &str, concert: ConcertId, schedule: ScheduleId) -> String {
    format!("{}:seatmap:{schedule}", tag(prefix, concert))
}

/// A schedule's log of seat changes (see `seat_log`).
pub fn seat_log(prefix: &str, concert: ConcertId, schedule: ScheduleId) -> String {
    format!("{}:seatlog:{schedule}", tag(prefix, concert))
}

/// Which concert a schedule belongs to.
pub fn schedule_concert(prefix: &str, schedule: ScheduleId) -> String {
    format!("{prefix}schedule:{schedule}:concert")
}

/// A spent door challenge, kept until the challenge expires (`SET NX PX`).
/// Its own slot: challenges are checked one at a time.
pub fn spent_challenge(prefix: &str, id: &str) -> String {
    format!("{prefix}door:spent:{id}")
}

/// Sign-ups from one client address in the current window (`INCR`, with
/// the window as its expiry).
pub fn sign_ups(prefix: &str, address: &str) -> String {
    format!("{prefix}door:signups:{address}")
}

/// A concert's own door level, beside its room (same hash tag).
pub fn door_level(prefix: &str, concert: ConcertId) -> String {
    format!("{}:door", tag(prefix, concert))
}

/// One subject's budget under one rate limit (see `rate`): a key of its
/// own, so a check touches one slot; subjects spread over a cluster's nodes.
pub fn rate(prefix: &str, limit: &str, subject: &str) -> String {
    format!("{prefix}rate:{limit}:{subject}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What Redis Cluster hashes to find a key's slot: the first `{...}`.
    fn hashed(key: &str) -> &str {
        key.find('{')
            .and_then(|open| {
                let close = key[open + 1..].find('}')?;
                (close > 0).then(|| &key[open + 1..open + 1 + close])
            })
            .unwrap_or(key)
    }

    #[test]
    fn a_concerts_keys_share_one_slot() {
        let concert = ConcertId::from_store(7);
        let schedule = ScheduleId::from_store(3);
        let mut keys = room("p:", concert).to_vec();
        keys.push(seat_map("p:", concert, schedule));
        keys.push(seat_log("p:", concert, schedule));
        assert!(keys.iter().all(|k| hashed(k) == "c7"), "{keys:?}");
        assert_eq!(hashed(&room("p:", ConcertId::from_store(8))[0]), "c8");
    }
}
