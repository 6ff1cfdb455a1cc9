//! The Lua waiting room on Redis against `AdmissionPolicy::admissions`. One
//! room per case (a default capacity and rate of 1 to 3, and 1 to 3 seats,
//! or a room never told its seats), then random joins, polls and leaves of
//! four users, stats, policy changes (capacity, rate, pause) and committed
//! seat changes (holds live or lapsed, sales, releases, each allowed by
//! `SeatState` first), which the room follows as its `Stock`.
//!
//! Redis decides with its own clock (`TIME` inside each script), which a
//! test cannot move, so the model reads it: an admission round that
//! admits writes its bucket (`milli`, `ts`) and its count (`admitted`) to
//! the room's policy hash, and `ts` is the instant it ran at. There the
//! model computes `AdmissionPolicy::admissions` at exactly that instant and
//! must admit the same number, leaving the same bucket. A round that admits
//! nobody writes nothing (a bucket it does not spend recomputes to the same
//! value later, `a_round_that_admits_nobody_changes_no_later_round` in the
//! domain); the model then admits nobody at the instant read just before
//! the call, the earliest the round could have run (admissions only grow
//! with time). Rates are 1 to 3 per second (a case's milliseconds refill a
//! fraction of an admission) or 1,000 (one a millisecond, so the free
//! slots decide). ACTIVE places last ten minutes and presence is not
//! tracked (both idle times 0), so nothing lapses during a case.
//!
//! After every step: the answer (token, status, position, whether the place
//! is new) equals the model's, and so do the line in order, the ACTIVE
//! places, the bucket and the admission count; `stats` also compares the
//! policy and the stock.

use super::{MAX_STEPS, check, runtime, same};
use frontrow_adapters::redis::keys;
use frontrow_adapters::redis::seat_log::RedisSeatChangeLog;
use frontrow_adapters::redis::waiting_room::RedisWaitingRoom;
use frontrow_adapters::redis::{Connection, open};
use frontrow_application::clock::SystemClock;
use frontrow_application::queue::{Place, RoomSettings, WaitingRoom};
use frontrow_application::seat_changes::{SeatChange, SeatChangeLog};
use frontrow_domain::queue::{AdmissionBucket, AdmissionPolicy, QueueStatus, QueueToken, Stock};
use frontrow_domain::seat::{SeatNumber, SeatState, SeatStatus};
use frontrow_domain::{ConcertId, ReservationId, ScheduleId, Timestamp, UserId};
use proptest::prelude::*;
use std::collections::{HashMap, VecDeque};
use std::fmt::Display;
use std::sync::Arc;
use std::time::Duration;

/// Cases on Redis: about 30 ms a case (each step is a script and four reads).
const REDIS_CASES: u32 = 32;
/// Users who join, poll and leave.
const USERS: usize = 4;
const CONCERT: ConcertId = ConcertId::from_store(1);
const SCHEDULE: ScheduleId = ScheduleId::from_store(1);
/// Seats whose changes a room never told its seats still hears of.
const UNCOUNTED_SEATS: i64 = 2;
/// The deadline of a hold that outlives every case (in 2096).
const LIVE_UNTIL: Timestamp = Timestamp(4_000_000_000_000);
/// The deadline of a hold that lapsed long ago.
const LAPSED_AT: Timestamp = Timestamp(1_000);

#[test]
fn the_redis_room_admits_as_admission_policy_does_at_every_step() {
    let runtime = runtime();
    let Some(url) = runtime.block_on(frontrow_tests::test_redis()) else {
        return;
    };
    let conn = runtime
        .block_on(open(&url, false, Duration::from_secs(2)))
        .expect("Redis answers");
    check(REDIS_CASES, (room(), steps()), |(room, steps)| {
        runtime.block_on(run(&conn, &room, &steps))
    });
}

/// One case's room.
#[derive(Debug, Clone)]
struct Room {
    capacity: i64,
    rate: i64,
    /// `None`: the room is never told the concert's seats.
    seats: Option<i64>,
}

#[derive(Debug, Clone)]
enum Step {
    Join(usize),
    Poll(usize),
    Leave(usize),
    Stats,
    Policy {
        capacity: i64,
        rate: i64,
        paused: bool,
    },
    Seat {
        seat: i64,
        change: Change,
    },
}

#[derive(Debug, Clone, Copy)]
enum Change {
    Hold { live: bool },
    Sell,
    Release,
}

/// Slow rates, whose bucket a case's few milliseconds refill only by a
/// fraction of an admission, and one that refills an admission every
/// millisecond.
fn rate() -> impl Strategy<Value = i64> {
    prop_oneof![3 => 1..=3i64, 1 => Just(1_000i64)]
}

fn room() -> impl Strategy<Value = Room> {
    (1..=3i64, rate(), proptest::option::weighted(0.8, 1..=3i64)).prop_map(
        |(capacity, rate, seats)| Room {
            capacity,
            rate,
            seats,
        },
    )
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let change = prop_oneof![
        2 => any::<bool>().prop_map(|live| Change::Hold { live }),
        2 => Just(Change::Sell),
        1 => Just(Change::Release),
    ];
    let step = prop_oneof![
        4 => (0..USERS).prop_map(Step::Join),
        4 => (0..USERS).prop_map(Step::Poll),
        2 => (0..USERS).prop_map(Step::Leave),
        1 => Just(Step::Stats),
        1 => (1..=3i64, rate(), proptest::bool::weighted(0.3))
            .prop_map(|(capacity, rate, paused)| Step::Policy { capacity, rate, paused }),
        3 => (1..=3i64, change).prop_map(|(seat, change)| Step::Seat { seat, change }),
    ];
    proptest::collection::vec(step, 1..=MAX_STEPS)
}

fn failed(what: &str, error: impl Display) -> String {
    format!("{what} failed: {error}")
}

/// The model: a line, the ACTIVE places and the bucket as the room last
/// wrote it, admitting only through `AdmissionPolicy::admissions`; seats
/// moved only by `SeatState`.
struct Line {
    /// The room's key prefix.
    prefix: String,
    policy: AdmissionPolicy,
    /// `None` until a round admits someone (and the room writes it).
    bucket: Option<AdmissionBucket>,
    waiting: VecDeque<QueueToken>,
    active: Vec<QueueToken>,
    /// Each user's latest place.
    places: HashMap<usize, QueueToken>,
    admitted: i64,
    /// The seats the room was told of, if it was.
    total: Option<i64>,
    /// Each seat's state and version.
    seats: Vec<(SeatState, u64)>,
    tokens_issued: u64,
}

impl Line {
    fn new(room: &Room, prefix: &str) -> Result<Line, String> {
        let seats = room.seats.unwrap_or(UNCOUNTED_SEATS);
        Ok(Line {
            prefix: prefix.to_owned(),
            policy: AdmissionPolicy::new(room.capacity, room.rate, false)
                .map_err(|e| e.to_string())?,
            bucket: None,
            waiting: VecDeque::new(),
            active: Vec::new(),
            places: HashMap::new(),
            admitted: 0,
            total: room.seats,
            seats: vec![(SeatState::Available, 0); seats as usize],
            tokens_issued: 0,
        })
    }

    /// A token as the service's seal would spell one for `user`.
    fn fresh_token(&mut self, user: UserId) -> Result<QueueToken, String> {
        self.tokens_issued += 1;
        let raw = format!("{CONCERT}.{user}.{}.0123456789abcdef", self.tokens_issued);
        QueueToken::parse(&raw).ok_or_else(|| format!("{raw} is not a token"))
    }

    fn stock(&self, now: Timestamp) -> Option<Stock> {
        let count = |status| {
            self.seats
                .iter()
                .filter(|(seat, _)| seat.status_at(now) == status)
                .count() as i64
        };
        self.total.map(|total| Stock {
            total,
            sold: count(SeatStatus::Sold),
            held: count(SeatStatus::Held),
        })
    }

    /// Where `token` stands, as `Place::new` reads it: a waiting place in a
    /// room whose every seat is sold reads SOLD_OUT.
    fn standing(&self, token: &QueueToken, now: Timestamp) -> (QueueStatus, i64) {
        if let Some(index) = self.waiting.iter().position(|t| t == token) {
            if self.stock(now).is_some_and(Stock::closed) {
                (QueueStatus::SoldOut, 0)
            } else {
                (QueueStatus::Waiting, index as i64 + 1)
            }
        } else if self.active.contains(token) {
            (QueueStatus::Active, 0)
        } else {
            (QueueStatus::Expired, 0)
        }
    }

    /// The admission round a call ran, checked against what it wrote.
    async fn round(&mut self, conn: &Connection, before: Timestamp) -> Result<(), String> {
        let (milli, ts, admitted) = bucket_in(conn, &self.prefix).await?;
        let spent = admitted.unwrap_or(0) - self.admitted;
        let sellable = self.stock(before).is_none_or(|stock| !stock.sold_out());
        let (active, waiting) = (self.active.len() as i64, self.waiting.len() as i64);
        if spent == 0 {
            let bucket = self
                .bucket
                .unwrap_or_else(|| self.policy.fresh_bucket(before));
            let (would, _) = self
                .policy
                .admissions(active, waiting, sellable, bucket, before);
            return same("admissions of a round that admitted nobody", 0, would);
        }
        let now = Timestamp(ts.ok_or("a round admitted without writing its bucket")?);
        let bucket = self.bucket.unwrap_or_else(|| self.policy.fresh_bucket(now));
        let (admit, next) = self
            .policy
            .admissions(active, waiting, sellable, bucket, now);
        same(&format!("admissions at {now:?}"), spent, admit)?;
        same("the bucket after admitting", milli, Some(next.milli_tokens))?;
        self.bucket = Some(next);
        self.admitted += admit;
        for _ in 0..admit {
            let token = self
                .waiting
                .pop_front()
                .ok_or("admitted from an empty line")?;
            self.active.push(token);
        }
        Ok(())
    }

    /// The room's line, ACTIVE places, bucket and count equal the model's.
    async fn compare(&self, conn: &Connection) -> Result<(), String> {
        let [wait, active, ..] = keys::room(&self.prefix, CONCERT);
        let line: Vec<String> = query(conn, redis::cmd("ZRANGE").arg(&wait).arg(0).arg(-1)).await?;
        let model: Vec<String> = self.waiting.iter().map(|t| t.as_str().to_owned()).collect();
        same("the line", line, model)?;
        let mut admitted: Vec<String> =
            query(conn, redis::cmd("ZRANGE").arg(&active).arg(0).arg(-1)).await?;
        let mut model: Vec<String> = self.active.iter().map(|t| t.as_str().to_owned()).collect();
        admitted.sort();
        model.sort();
        same("the ACTIVE places", admitted, model)?;
        let (milli, ts, count) = bucket_in(conn, &self.prefix).await?;
        same(
            "the bucket",
            (milli, ts),
            self.bucket
                .map(|b| (b.milli_tokens, b.updated_at.millis()))
                .unzip(),
        )?;
        same("admitted so far", count.unwrap_or(0), self.admitted)
    }
}

async fn query<T: redis::FromRedisValue>(
    conn: &Connection,
    command: &mut redis::Cmd,
) -> Result<T, String> {
    command
        .query_async(&mut conn.clone())
        .await
        .map_err(|e| failed("a Redis read", e))
}

/// Redis's clock, in milliseconds as the scripts read it.
async fn redis_now(conn: &Connection) -> Result<Timestamp, String> {
    let (seconds, micros): (i64, i64) = query(conn, &mut redis::cmd("TIME")).await?;
    Ok(Timestamp(seconds * 1_000 + micros / 1_000))
}

/// The policy hash's bucket (`milli`, `ts`) and admission count.
async fn bucket_in(
    conn: &Connection,
    prefix: &str,
) -> Result<(Option<i64>, Option<i64>, Option<i64>), String> {
    let [_, _, policy, ..] = keys::room(prefix, CONCERT);
    query(
        conn,
        redis::cmd("HMGET")
            .arg(policy)
            .arg("milli")
            .arg("ts")
            .arg("admitted"),
    )
    .await
}

/// One case on a room of its own (a fresh key prefix), removed afterwards.
async fn run(conn: &Connection, room: &Room, steps: &[Step]) -> Result<(), String> {
    let prefix = format!("frontrow-spec:{}:", frontrow_tests::unique());
    let outcome = run_in(conn, &prefix, room, steps).await;
    let mut doomed: Vec<String> = keys::room(&prefix, CONCERT).into();
    doomed.push(keys::seat_map(&prefix, CONCERT, SCHEDULE));
    doomed.push(keys::seat_log(&prefix, CONCERT, SCHEDULE));
    doomed.push(keys::schedule_concert(&prefix, SCHEDULE));
    let _: Result<i64, String> = query(conn, redis::cmd("DEL").arg(doomed)).await;
    outcome
}

async fn run_in(
    conn: &Connection,
    prefix: &str,
    room: &Room,
    steps: &[Step],
) -> Result<(), String> {
    let settings = RoomSettings {
        default_policy: AdmissionPolicy::new(room.capacity, room.rate, false)
            .map_err(|e| e.to_string())?,
        active_ms: 600_000,
        active_idle_ms: 0,
        waiting_idle_ms: 0,
    };
    let waiting_room = RedisWaitingRoom::new(conn.clone(), prefix, settings, Arc::new(SystemClock));
    let log = RedisSeatChangeLog::new(conn.clone(), prefix);
    if let Some(seats) = room.seats {
        log.open_sale(CONCERT, &[SCHEDULE], seats)
            .await
            .map_err(|e| failed("open_sale", e))?;
    }
    let mut line = Line::new(room, prefix)?;
    for (number, step) in steps.iter().enumerate() {
        let context = |error: String| format!("step {number} ({step:?}): {error}");
        one_step(&waiting_room, &log, conn, &mut line, step)
            .await
            .map_err(context)?;
        line.compare(conn).await.map_err(context)?;
    }
    Ok(())
}

/// What a place says that the model predicts.
fn seen(place: &Place) -> (QueueToken, QueueStatus, i64) {
    (place.token.clone(), place.status, place.position)
}

async fn one_step(
    room: &RedisWaitingRoom,
    log: &RedisSeatChangeLog,
    conn: &Connection,
    line: &mut Line,
    step: &Step,
) -> Result<(), String> {
    let before = redis_now(conn).await?;
    match *step {
        Step::Join(user) => {
            let user_id = UserId::from_store(user as i64 + 1);
            let fresh = line.fresh_token(user_id)?;
            let (place, created) = room
                .join(CONCERT, user_id, fresh.clone())
                .await
                .map_err(|e| failed("join", e))?;
            if line.stock(before).is_some_and(Stock::closed) {
                // Every seat is sold: no place, no round.
                return same(
                    "the join",
                    (seen(&place), created),
                    ((fresh, QueueStatus::SoldOut, 0), false),
                );
            }
            let live = line
                .places
                .get(&user)
                .filter(|token| line.standing(token, before).0 != QueueStatus::Expired)
                .cloned();
            let (token, new) = match live {
                Some(token) => (token, false),
                None => {
                    line.places.insert(user, fresh.clone());
                    line.waiting.push_back(fresh.clone());
                    (fresh, true)
                }
            };
            line.round(conn, before).await?;
            let (status, position) = line.standing(&token, before);
            same(
                "the join",
                (seen(&place), created),
                ((token, status, position), new),
            )
        }
        Step::Poll(user) => {
            let Some(token) = line.places.get(&user).cloned() else {
                return Ok(());
            };
            let place = room
                .place(&token)
                .await
                .map_err(|e| failed("place", e))?
                .ok_or("a token the room issued reads as unknown")?;
            // An ACTIVE place is read without an admission round.
            if !line.active.contains(&token) {
                line.round(conn, before).await?;
            }
            let (status, position) = line.standing(&token, before);
            same("the place", seen(&place), (token, status, position))
        }
        Step::Leave(user) => {
            let Some(token) = line.places.get(&user).cloned() else {
                return Ok(());
            };
            room.leave(&token).await.map_err(|e| failed("leave", e))?;
            line.waiting.retain(|t| *t != token);
            line.active.retain(|t| *t != token);
            line.round(conn, before).await
        }
        Step::Stats => {
            let stats = room.stats(CONCERT).await.map_err(|e| failed("stats", e))?;
            line.round(conn, before).await?;
            same(
                "the stats",
                (
                    stats.waiting,
                    stats.active,
                    stats.admitted,
                    stats.policy,
                    stats.stock,
                ),
                (
                    line.waiting.len() as i64,
                    line.active.len() as i64,
                    line.admitted,
                    line.policy,
                    line.stock(before),
                ),
            )
        }
        Step::Policy {
            capacity,
            rate,
            paused,
        } => {
            let policy = AdmissionPolicy::new(capacity, rate, paused).map_err(|e| e.to_string())?;
            room.set_policy(CONCERT, policy)
                .await
                .map_err(|e| failed("set_policy", e))?;
            line.policy = policy;
            Ok(())
        }
        Step::Seat { seat, change } => {
            let index = ((seat - 1) as usize) % line.seats.len();
            let (state, version) = line.seats[index];
            let holder = match state {
                SeatState::Held { reservation, .. } | SeatState::Sold { reservation } => {
                    reservation
                }
                SeatState::Available => ReservationId::from_store(1),
            };
            // Only a move the seat allows was committed, so only that is logged.
            let moved = match change {
                Change::Hold { live } => {
                    let until = if live { LIVE_UNTIL } else { LAPSED_AT };
                    let fresh = ReservationId::from_store(holder.get() + 1);
                    state.hold(fresh, before, until)
                }
                Change::Sell => state.sell(holder, before),
                Change::Release => state.release(holder, before),
            };
            let Ok(next) = moved else {
                return Ok(());
            };
            let change = SeatChange {
                concert: CONCERT,
                schedule: SCHEDULE,
                seat: SeatNumber::from_store(index as i64 + 1),
                state: next,
                seat_version: version + 1,
            };
            log.append(&change).await.map_err(|e| failed("append", e))?;
            line.seats[index] = (next, version + 1);
            Ok(())
        }
    }
}
