//! Both waiting rooms against the domain's room machine
//! (`frontrow_domain::room::Room`), the one home of the room's rules: the
//! Lua room on Redis (deciding at a clock the test moves, through
//! `RedisWaitingRoom::deciding_at_own_clock`) and the in-process room.
//!
//! One room per case: a default capacity of 1 to 3 and a rate of 1 to 3
//! per second or 1,000, a turn of 20 s or 10 min, both idle lapses off or
//! on (8 s), 1 to 3 seats or a room never told its seats, and a stock rule
//! of 100 %, 125 % or 300 % of the AVAILABLE seats plus 0 or 1. Then random
//! joins, polls, ACTIVE checks, touches, carts kept and emptied, leaves of
//! four users, stats, the admission controller's steps (slow or fine),
//! policy changes, scheduled openings (with or without a pre-queue, past or
//! future, or cleared), committed seat changes (holds that outlive the case
//! or lapse within seconds, sales, releases, each allowed by `SeatState`
//! first) and clock moves from 1 ms to 70 s, so presence, both idle lapses,
//! turns, the pre-queue's opening and lapsing holds all happen.
//!
//! After every step each room's answer equals the machine's (the whole
//! `Place`, `RoomStats`), and so does every place: the line in order, each
//! ACTIVE place with the moment it lapses, and the lapsed and admitted
//! counts.

use super::{MAX_STEPS, check, runtime, same};
use frontrow_adapters::memory::seat_log::MemorySeatChangeLog;
use frontrow_adapters::memory::waiting_room::MemoryWaitingRoom;
use frontrow_adapters::random::Draws;
use frontrow_adapters::redis::Connection;
use frontrow_adapters::redis::keys;
use frontrow_adapters::redis::seat_log::RedisSeatChangeLog;
use frontrow_adapters::redis::waiting_room::RedisWaitingRoom;
use frontrow_application::Clock;
use frontrow_application::queue::{Place, RoomSettings, WaitingRoom};
use frontrow_application::seat_changes::{SeatChange, SeatChangeLog};
use frontrow_domain::queue::{AdmissionPolicy, QueueToken, SaleOpening, StockRule};
use frontrow_domain::room::{Answer, Ending, RateController, Room, RoomSnapshot, WritePath};
use frontrow_domain::seat::{SeatNumber, SeatState};
use frontrow_domain::{ConcertId, ReservationId, ScheduleId, Timestamp, UserId};
use proptest::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Display;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Cases: each step is a few scripts and reads on Redis.
const CASES: u32 = 128;
/// Users who join, poll and leave.
const USERS: usize = 4;
const CONCERT: ConcertId = ConcertId::from_store(1);
const SCHEDULE: ScheduleId = ScheduleId::from_store(1);
/// Seats a room never told its seats still hears of.
const UNCOUNTED_SEATS: i64 = 2;
/// When each case starts (2027).
const START: i64 = 1_800_000_000_000;
/// The idle time of a case with presence on.
const IDLE_MS: i64 = 8_000;

#[test]
fn both_rooms_answer_and_keep_every_place_as_the_domain_room_does() {
    let runtime = runtime();
    let Some(conn) = super::redis(&runtime) else {
        return;
    };
    check(CASES, (case(), steps()), |(case, steps)| {
        runtime.block_on(run(&conn, &case, &steps))
    });
}

/// The pick window's paths the random sequences rarely line up, step by
/// step through the domain and both rooms: a cart that lapses and is then
/// emptied (the window runs from the lapse, not from the emptying), a
/// payment that reopens the window, and the hard deadline cutting it.
#[test]
fn both_rooms_run_the_pick_window_as_the_domain_room_does() {
    let runtime = runtime();
    let Some(conn) = super::redis(&runtime) else {
        return;
    };
    let case = Case {
        capacity: 1,
        rate: 1_000,
        active_ms: 20_000,
        idle: false,
        pick_ms: 3_000,
        seats: None,
        stock_rule: StockRule::default(),
        seed: 7,
    };
    let steps = [
        Step::Join(0),
        Step::Join(1),
        // A 2 s cart lapses at 2 s; emptied at 4 s, the window ran from 2 s.
        Step::Keep(0, Some(2_000)),
        Step::Wait(4_000),
        Step::Keep(0, None),
        Step::Poll(0),
        Step::Active(0),
        Step::Wait(900),
        Step::Poll(0),
        Step::Poll(1),
        // User 1's turn: a cart paid at once reopens the window.
        Step::Keep(1, Some(60_000)),
        Step::Wait(10_000),
        Step::Keep(1, None),
        Step::Active(1),
        Step::Wait(2_999),
        Step::Poll(1),
        // Held again, paid near the hard deadline: the turn ends first.
        Step::Keep(1, Some(60_000)),
        Step::Wait(4_000),
        Step::Keep(1, None),
        Step::Active(1),
        Step::Poll(1),
        Step::Wait(3_000),
        Step::Poll(1),
        Step::Stats,
    ];
    runtime
        .block_on(run(&conn, &case, &steps))
        .expect("both rooms run the pick window as the domain does");
}

/// One case's room.
#[derive(Debug, Clone)]
struct Case {
    capacity: i64,
    rate: i64,
    active_ms: i64,
    idle: bool,
    /// The pick window (0: off): 3 s is short enough that a place holding
    /// nothing ends by it within a few steps, and carts (5 s, 60 s) restart it.
    pick_ms: i64,
    /// `None`: the room is never told the concert's seats.
    seats: Option<i64>,
    stock_rule: StockRule,
    seed: u64,
}

#[derive(Debug, Clone)]
enum Step {
    Join(usize),
    Poll(usize),
    /// The gate's ACTIVE-only check.
    Active(usize),
    /// An ACTIVE holder's request.
    Touch(usize),
    /// The holder's cart lasts this many ms from now (`None`: emptied).
    Keep(usize, Option<i64>),
    Leave(usize),
    Stats,
    /// An instance's verdict on the write path.
    Steer(WritePath),
    Policy {
        capacity: i64,
        rate: i64,
        paused: bool,
    },
    /// A sale opening this many ms from now with this many minutes of
    /// pre-queue; `None` clears it.
    Opening(Option<(i64, i64)>),
    Seat {
        seat: i64,
        change: Change,
    },
    Wait(i64),
}

#[derive(Debug, Clone, Copy)]
enum Change {
    /// A hold for this many ms.
    Hold(i64),
    Sell,
    Release,
}

fn rate() -> impl Strategy<Value = i64> {
    prop_oneof![3 => 1..=3i64, 1 => Just(1_000i64)]
}

fn case() -> impl Strategy<Value = Case> {
    (
        1..=3i64,
        rate(),
        prop_oneof![Just(20_000i64), Just(600_000i64)],
        any::<bool>(),
        prop_oneof![Just(0i64), Just(3_000i64), Just(30_000i64)],
        proptest::option::weighted(0.8, 1..=3i64),
        (prop_oneof![Just(100i64), Just(125), Just(300)], 0..=1i64),
        any::<u64>(),
    )
        .prop_map(
            |(capacity, rate, active_ms, idle, pick_ms, seats, (percent, spare), seed)| Case {
                capacity,
                rate,
                active_ms,
                idle,
                pick_ms,
                seats,
                stock_rule: StockRule::new(percent, spare).unwrap_or_default(),
                seed,
            },
        )
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let change = prop_oneof![
        2 => prop_oneof![Just(2_000i64), Just(3_600_000i64)].prop_map(Change::Hold),
        2 => Just(Change::Sell),
        1 => Just(Change::Release),
    ];
    let opening = proptest::option::weighted(
        0.8,
        (
            prop_oneof![Just(-1_000i64), Just(5_000), Just(90_000)],
            0..=1i64,
        ),
    );
    let step = prop_oneof![
        4 => (0..USERS).prop_map(Step::Join),
        4 => (0..USERS).prop_map(Step::Poll),
        1 => (0..USERS).prop_map(Step::Active),
        2 => (0..USERS).prop_map(Step::Touch),
        2 => (0..USERS, proptest::option::weighted(0.7, prop_oneof![Just(5_000i64), Just(60_000i64)]))
            .prop_map(|(user, cart)| Step::Keep(user, cart)),
        1 => (0..USERS).prop_map(Step::Leave),
        1 => Just(Step::Stats),
        2 => prop_oneof![Just(WritePath::Slow), Just(WritePath::Fine)].prop_map(Step::Steer),
        1 => (1..=3i64, rate(), proptest::bool::weighted(0.2))
            .prop_map(|(capacity, rate, paused)| Step::Policy { capacity, rate, paused }),
        1 => opening.prop_map(Step::Opening),
        2 => (1..=3i64, change).prop_map(|(seat, change)| Step::Seat { seat, change }),
        4 => prop_oneof![1..=500i64, 1_000..=10_000i64, Just(70_000i64)].prop_map(Step::Wait),
    ];
    proptest::collection::vec(step, 1..=MAX_STEPS + 10)
}

fn failed(what: &str, error: impl Display) -> String {
    format!("{what} failed: {error}")
}

/// The time every room and the machine decide at; the case moves it.
struct CaseClock(AtomicI64);

impl Clock for CaseClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

/// The machine and its inputs, and the two rooms under test.
struct Sale {
    settings: RoomSettings,
    clock: Arc<CaseClock>,
    machine: Room,
    draws: Draws,
    redis: RedisWaitingRoom,
    redis_log: RedisSeatChangeLog,
    memory: Arc<MemoryWaitingRoom>,
    memory_log: MemorySeatChangeLog,
    conn: Connection,
    prefix: String,
    /// Each user's latest token.
    tokens: HashMap<usize, QueueToken>,
    issued: u64,
    /// Each seat's state and version.
    seats: Vec<(SeatState, u64)>,
}

impl Sale {
    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The machine's answer as the rooms turn theirs into a `Place`.
    fn expected(&self, token: &QueueToken, user: UserId, answer: Answer) -> Place {
        Place::from_answer(
            token.clone(),
            CONCERT,
            user,
            answer,
            &self.settings,
            self.now(),
        )
    }

    /// Every place of the Redis room, read from its keys.
    async fn redis_snapshot(&self) -> Result<RoomSnapshot, String> {
        let [wait, active, policy, ..] = keys::room(&self.prefix, CONCERT);
        let line: Vec<String> =
            query(&self.conn, redis::cmd("ZRANGE").arg(&wait).arg(0).arg(-1)).await?;
        let lapses: Vec<(String, i64)> = query(
            &self.conn,
            redis::cmd("ZRANGE")
                .arg(&active)
                .arg(0)
                .arg(-1)
                .arg("WITHSCORES"),
        )
        .await?;
        let (lapsed, admitted): (Option<i64>, Option<i64>) = query(
            &self.conn,
            redis::cmd("HMGET")
                .arg(&policy)
                .arg("lapsed")
                .arg("admitted"),
        )
        .await?;
        let token = |raw: String| QueueToken::parse(&raw).ok_or(format!("{raw} is no token"));
        Ok(RoomSnapshot {
            line: line.into_iter().map(token).collect::<Result<_, _>>()?,
            active: lapses
                .into_iter()
                .map(|(raw, lapse)| Ok((token(raw)?, Timestamp(lapse))))
                .collect::<Result<BTreeMap<_, _>, String>>()?,
            lapsed: lapsed.unwrap_or(0),
            admitted: admitted.unwrap_or(0),
        })
    }

    /// Every place of both rooms equals the machine's.
    async fn compare(&self) -> Result<(), String> {
        let model = self.machine.snapshot();
        same(
            "the Redis room's places",
            self.redis_snapshot().await?,
            model.clone(),
        )?;
        let memory = self
            .memory
            .snapshot(CONCERT)
            .map_err(|e| failed("snapshot", e))?;
        same("the in-process room's places", memory, model)
    }

    fn fresh_token(&mut self, user: UserId) -> Result<QueueToken, String> {
        self.issued += 1;
        let raw = format!("{CONCERT}.{user}.{}.0123456789abcdef", self.issued);
        QueueToken::parse(&raw).ok_or_else(|| format!("{raw} is not a token"))
    }

    async fn step(&mut self, step: &Step) -> Result<(), String> {
        let now = self.now();
        let settings = self.settings;
        match *step {
            Step::Join(user) => {
                let user_id = UserId::from_store(user as i64 + 1);
                let fresh = self.fresh_token(user_id)?;
                let draw = self.draws.next().map_err(|e| failed("a draw", e))?;
                let joined = self
                    .machine
                    .join(user_id, fresh.clone(), draw, &settings, now);
                if joined.created {
                    self.tokens.insert(user, joined.token.clone());
                }
                let expected = (
                    self.expected(&joined.token, user_id, joined.answer),
                    joined.created,
                );
                let redis = self.redis.join(CONCERT, user_id, fresh.clone()).await;
                same(
                    "the Redis join",
                    redis.map_err(|e| failed("join", e))?,
                    expected.clone(),
                )?;
                let memory = self.memory.join(CONCERT, user_id, fresh).await;
                same(
                    "the in-process join",
                    memory.map_err(|e| failed("join", e))?,
                    expected,
                )
            }
            Step::Poll(user) => {
                let Some(token) = self.tokens.get(&user).cloned() else {
                    return Ok(());
                };
                let user_id = UserId::from_store(user as i64 + 1);
                let answer = self.machine.place(&token, &settings, now);
                let expected = Some(self.expected(&token, user_id, answer));
                let redis = self
                    .redis
                    .place(&token)
                    .await
                    .map_err(|e| failed("place", e))?;
                same("the Redis place", redis, expected.clone())?;
                let memory = self
                    .memory
                    .place(&token)
                    .await
                    .map_err(|e| failed("place", e))?;
                same("the in-process place", memory, expected)
            }
            Step::Active(user) => {
                let Some(token) = self.tokens.get(&user).cloned() else {
                    return Ok(());
                };
                let user_id = UserId::from_store(user as i64 + 1);
                let expected = self.machine.active_lapse(&token, now).map(|_| {
                    let turn = self.machine.slot_times(&token).map(|(turn, _)| turn);
                    Place::active(token.clone(), CONCERT, user_id).with_turn(turn)
                });
                let redis = self
                    .redis
                    .active_place(&token)
                    .await
                    .map_err(|e| failed("active", e))?;
                same("the Redis ACTIVE check", redis, expected.clone())?;
                let memory = self
                    .memory
                    .active_place(&token)
                    .await
                    .map_err(|e| failed("active", e))?;
                same("the in-process ACTIVE check", memory, expected)
            }
            Step::Touch(user) => {
                let Some(token) = self.tokens.get(&user).cloned() else {
                    return Ok(());
                };
                self.machine.touch(&token, &settings, now);
                self.redis
                    .touch(&token)
                    .await
                    .map_err(|e| failed("touch", e))?;
                self.memory
                    .touch(&token)
                    .await
                    .map_err(|e| failed("touch", e))
            }
            Step::Keep(user, cart) => {
                let Some(token) = self.tokens.get(&user).cloned() else {
                    return Ok(());
                };
                let cart = cart.map(|ms| Timestamp(now.millis() + ms));
                self.machine.keep(&token, cart, &settings, now);
                self.redis
                    .keep(&token, cart)
                    .await
                    .map_err(|e| failed("keep", e))?;
                self.memory
                    .keep(&token, cart)
                    .await
                    .map_err(|e| failed("keep", e))
            }
            Step::Leave(user) => {
                let Some(token) = self.tokens.get(&user).cloned() else {
                    return Ok(());
                };
                let why = if user % 2 == 0 {
                    Ending::Left
                } else {
                    Ending::Paid
                };
                self.machine.leave(&token, why, &settings, now);
                self.redis
                    .leave(&token, why)
                    .await
                    .map_err(|e| failed("leave", e))?;
                self.memory
                    .leave(&token, why)
                    .await
                    .map_err(|e| failed("leave", e))
            }
            Step::Stats => {
                let expected = self.machine.stats(&settings, now);
                let redis = self
                    .redis
                    .stats(CONCERT)
                    .await
                    .map_err(|e| failed("stats", e))?;
                same("the Redis stats", redis, expected)?;
                let memory = self
                    .memory
                    .stats(CONCERT)
                    .await
                    .map_err(|e| failed("stats", e))?;
                same("the in-process stats", memory, expected)
            }
            Step::Steer(write_path) => {
                let expected = self.machine.steer(write_path, &settings, now);
                let redis = self
                    .redis
                    .steer(CONCERT, write_path)
                    .await
                    .map_err(|e| failed("steer", e))?;
                same("the Redis steer", redis, expected)?;
                let memory = self
                    .memory
                    .steer(CONCERT, write_path)
                    .await
                    .map_err(|e| failed("steer", e))?;
                same("the in-process steer", memory, expected)
            }
            Step::Policy {
                capacity,
                rate,
                paused,
            } => {
                let policy =
                    AdmissionPolicy::new(capacity, rate, paused).map_err(|e| e.to_string())?;
                self.machine.set_policy(policy);
                self.redis
                    .set_policy(CONCERT, policy)
                    .await
                    .map_err(|e| failed("policy", e))?;
                self.memory
                    .set_policy(CONCERT, policy)
                    .await
                    .map_err(|e| failed("policy", e))
            }
            Step::Opening(opening) => {
                let opening = opening
                    .map(|(from_now, minutes)| {
                        SaleOpening::new(Timestamp(now.millis() + from_now), minutes)
                    })
                    .transpose()
                    .map_err(|e| e.to_string())?;
                self.machine.set_opening(opening);
                self.redis
                    .set_opening(CONCERT, opening)
                    .await
                    .map_err(|e| failed("opening", e))?;
                self.memory
                    .set_opening(CONCERT, opening)
                    .await
                    .map_err(|e| failed("opening", e))
            }
            Step::Seat { seat, change } => {
                let index = ((seat - 1) as usize) % self.seats.len();
                let (state, version) = self.seats[index];
                let holder = match state {
                    SeatState::Held { reservation, .. } | SeatState::Sold { reservation } => {
                        reservation
                    }
                    SeatState::Available => ReservationId::from_store(1),
                };
                // Only a move the seat allows was committed, so only that is logged.
                let moved = match change {
                    Change::Hold(for_ms) => {
                        let fresh = ReservationId::from_store(holder.get() + 1);
                        state.hold(fresh, now, Timestamp(now.millis() + for_ms))
                    }
                    Change::Sell => state.sell(holder, now),
                    Change::Release => state.release(holder, now),
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
                self.machine
                    .seat_changed(SCHEDULE, change.seat, change.seat_version, next);
                self.redis_log
                    .append(&change)
                    .await
                    .map_err(|e| failed("append", e))?;
                self.memory_log
                    .append(&change)
                    .await
                    .map_err(|e| failed("append", e))?;
                self.seats[index] = (next, version + 1);
                Ok(())
            }
            Step::Wait(ms) => {
                self.clock.0.fetch_add(ms, Ordering::SeqCst);
                Ok(())
            }
        }
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

/// One case on a Redis room of its own (a fresh key prefix), removed
/// afterwards.
async fn run(conn: &Connection, case: &Case, steps: &[Step]) -> Result<(), String> {
    let prefix = format!("frontrow-spec:{}:", frontrow_tests::unique());
    let outcome = run_in(conn, &prefix, case, steps).await;
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
    case: &Case,
    steps: &[Step],
) -> Result<(), String> {
    let idle = if case.idle { IDLE_MS } else { 0 };
    let settings = RoomSettings {
        default_policy: AdmissionPolicy::new(case.capacity, case.rate, false)
            .map_err(|e| e.to_string())?,
        active_ms: case.active_ms,
        active_idle_ms: idle,
        waiting_idle_ms: idle,
        pick_ms: case.pick_ms,
        stock_rule: case.stock_rule,
        controller: RateController::default(),
    };
    let clock = Arc::new(CaseClock(AtomicI64::new(START)));
    let redis = RedisWaitingRoom::new(conn.clone(), prefix, settings, clock.clone())
        .deciding_at_own_clock()
        .with_draws(Draws::seeded(case.seed));
    let redis_log = RedisSeatChangeLog::new(conn.clone(), prefix);
    let memory = Arc::new(
        MemoryWaitingRoom::new(settings, clock.clone()).with_draws(Draws::seeded(case.seed)),
    );
    let memory_log = MemorySeatChangeLog::new(memory.clone());
    let mut machine = Room::default();
    if let Some(seats) = case.seats {
        redis_log
            .open_sale(CONCERT, &[SCHEDULE], seats)
            .await
            .map_err(|e| failed("open_sale", e))?;
        memory_log
            .open_sale(CONCERT, &[SCHEDULE], seats)
            .await
            .map_err(|e| failed("open_sale", e))?;
        machine.open_stock(seats);
    }
    let mut sale = Sale {
        settings,
        clock,
        machine,
        draws: Draws::seeded(case.seed),
        redis,
        redis_log,
        memory,
        memory_log,
        conn: conn.clone(),
        prefix: prefix.to_owned(),
        tokens: HashMap::new(),
        issued: 0,
        seats: vec![(SeatState::Available, 0); case.seats.unwrap_or(UNCOUNTED_SEATS) as usize],
    };
    for (number, step) in steps.iter().enumerate() {
        let context = |error: String| format!("step {number} ({step:?}): {error}");
        sale.step(step).await.map_err(context)?;
        sale.compare().await.map_err(context)?;
    }
    Ok(())
}

/// The stock rule on both rooms, as the domain's `Room` tests it
/// (`room::tests::with_ten_seats_available_...`): a room of 10 seats at
/// capacity 1,000 and 1,000/s, 1,000 buyers waiting. It lets in no more
/// than ceil(10 × 100 %) + 2 = 12; with every seat held, nobody more, even
/// when a place frees; when the holds lapse, it admits again, up to the
/// rule.
#[test]
fn with_ten_seats_available_both_rooms_admit_no_more_than_the_stock_rule_allows() {
    let runtime = runtime();
    let Some(conn) = super::redis(&runtime) else {
        return;
    };
    let prefix = format!("frontrow-spec:{}:", frontrow_tests::unique());
    let outcome = runtime.block_on(ten_seats_for_a_thousand(&conn, &prefix));
    let mut doomed: Vec<String> = keys::room(&prefix, CONCERT).into();
    doomed.push(keys::seat_map(&prefix, CONCERT, SCHEDULE));
    doomed.push(keys::seat_log(&prefix, CONCERT, SCHEDULE));
    doomed.push(keys::schedule_concert(&prefix, SCHEDULE));
    let _: Result<i64, String> = runtime.block_on(query(&conn, redis::cmd("DEL").arg(doomed)));
    outcome.expect("both rooms follow the stock rule");
}

async fn ten_seats_for_a_thousand(conn: &Connection, prefix: &str) -> Result<(), String> {
    let settings = RoomSettings {
        default_policy: AdmissionPolicy::new(1_000, 1_000, false).map_err(|e| e.to_string())?,
        active_ms: 600_000,
        active_idle_ms: 0,
        waiting_idle_ms: 0,
        // Off: the ACTIVE places hold nothing while the clock jumps a
        // minute, and this test counts the stock rule's admissions alone.
        pick_ms: 0,
        stock_rule: StockRule::default(),
        controller: RateController::default(),
    };
    let clock = Arc::new(CaseClock(AtomicI64::new(START)));
    let redis = RedisWaitingRoom::new(conn.clone(), prefix, settings, clock.clone())
        .deciding_at_own_clock();
    let redis_log = RedisSeatChangeLog::new(conn.clone(), prefix);
    let memory = Arc::new(MemoryWaitingRoom::new(settings, clock.clone()));
    let memory_log = MemorySeatChangeLog::new(memory.clone());
    let rooms: [(&str, &dyn WaitingRoom, &dyn SeatChangeLog); 2] = [
        ("Redis", &redis, &redis_log),
        ("in-process", memory.as_ref(), &memory_log),
    ];
    for (name, room, log) in rooms {
        let counts = |stats: frontrow_application::queue::RoomStats| {
            (stats.active, stats.waiting, stats.admitted)
        };
        log.open_sale(CONCERT, &[SCHEDULE], 10)
            .await
            .map_err(|e| failed("open_sale", e))?;
        let mut tokens = Vec::new();
        for user in 1..=1_000 {
            let token = QueueToken::parse(&format!("{CONCERT}.{user}.0.0123456789abcdef"))
                .ok_or("a token")?;
            let (place, _) = room
                .join(CONCERT, UserId::from_store(user), token)
                .await
                .map_err(|e| failed("join", e))?;
            tokens.push(place.token);
        }
        let stats = room.stats(CONCERT).await.map_err(|e| failed("stats", e))?;
        same(name, counts(stats), (12, 988, 12))?;
        // Every seat held for a minute; an ACTIVE buyer leaves.
        let until = Timestamp(clock.now().millis() + 60_000);
        for seat in 1..=10 {
            let change = SeatChange {
                concert: CONCERT,
                schedule: SCHEDULE,
                seat: SeatNumber::from_store(seat),
                state: SeatState::Held {
                    reservation: ReservationId::from_store(seat),
                    until,
                },
                seat_version: 1,
            };
            log.append(&change).await.map_err(|e| failed("append", e))?;
        }
        room.leave(&tokens[0], Ending::Left)
            .await
            .map_err(|e| failed("leave", e))?;
        let stats = room.stats(CONCERT).await.map_err(|e| failed("stats", e))?;
        same(name, counts(stats), (11, 988, 12))?;
        // The holds lapse: ten seats return, and the room admits up to 12.
        clock.0.fetch_add(60_000, Ordering::SeqCst);
        let stats = room.stats(CONCERT).await.map_err(|e| failed("stats", e))?;
        same(name, counts(stats), (12, 987, 13))?;
        clock.0.store(START, Ordering::SeqCst);
    }
    Ok(())
}
