//! What a person does in a sale, and what each of the farm's accounts does.

use super::Sale;
use super::door::{Door, Joined, Paid};
use crate::record::Rng;
use crate::retry::wait_out;
use frontrow_client::{Buyer, Client};
use reqwest::StatusCode;
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How a person's sale went.
#[derive(Debug, Default)]
pub(crate) struct PersonOutcome {
    /// Seats paid for.
    pub(crate) bought: usize,
    /// From the first join to the first ACTIVE.
    pub(crate) to_active: Option<Duration>,
    /// Time spent solving the door's challenges.
    pub(crate) door: Duration,
}

/// What the farm got and spent, counted as it goes (the farm is stopped by
/// aborting its tasks, so nothing waits for a task to hand back a result).
#[derive(Debug, Default)]
pub(crate) struct FarmStats {
    pub(crate) accounts: AtomicU64,
    pub(crate) places: AtomicU64,
    pub(crate) holds: AtomicU64,
    pub(crate) points: AtomicU64,
    pub(crate) challenges: AtomicU64,
    pub(crate) challenge_micros: AtomicU64,
}

impl FarmStats {
    fn paid(&self, paid: Paid) {
        self.challenges
            .fetch_add(paid.challenges, Ordering::Relaxed);
        let micros = u64::try_from(paid.solving.as_micros()).unwrap_or(u64::MAX);
        self.challenge_micros.fetch_add(micros, Ordering::Relaxed);
    }
}

/// Where a place stands after waiting in line.
enum Turn {
    Active,
    /// The place ended (paid, left, lapsed, turn over): join again.
    Ended,
    /// Every seat is sold.
    SoldOut,
    /// The caller's time ran out.
    OutOfTime,
}

/// Polls a place at the server's pace until it is ACTIVE or over.
async fn wait_for_turn(
    api: &Client,
    buyer: &Buyer,
    token: &str,
    mut status: Value,
    until: Option<Instant>,
    rng: &mut Rng,
) -> Result<Turn, reqwest::Error> {
    loop {
        match status["status"].as_str() {
            Some("ACTIVE") => return Ok(Turn::Active),
            Some("SOLD_OUT") => return Ok(Turn::SoldOut),
            // While nothing is AVAILABLE (`soldOut: true`) a place still
            // waits: holds lapse and their seats come back.
            Some("WAITING" | "PRE_QUEUE") => {}
            _ => return Ok(Turn::Ended),
        }
        let pace = status["refreshIntervalSeconds"].as_f64().unwrap_or(2.0);
        let wake = Instant::now() + Duration::from_millis((pace * 1000.0) as u64 + rng.below(250));
        if until.is_some_and(|until| wake > until) {
            return Ok(Turn::OutOfTime);
        }
        tokio::time::sleep_until(wake.into()).await;
        let reply = api.queue_status(buyer, token).await?;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            if !wait_out(&reply, until).await {
                return Ok(Turn::OutOfTime);
            }
            continue;
        }
        status = reply.body;
    }
}

/// The answer to one hold attempt.
enum Hold {
    Taken(i64),
    /// Someone else has the seat: try another.
    Lost,
    /// This account may hold no more now (the seat limit, a hold-cost
    /// rule, a limit that outlasts the caller).
    NoMore,
    /// The place is over (not ACTIVE, turn over).
    PlaceOver,
}

async fn hold(
    api: &Client,
    buyer: &Buyer,
    token: &str,
    sale: Sale,
    seat: i64,
    until: Option<Instant>,
) -> Result<Hold, reqwest::Error> {
    loop {
        let reply = api.hold(buyer, token, sale.schedule, seat).await?;
        return Ok(match (reply.status, reply.code()) {
            (StatusCode::CREATED, _) => match reply.body["reservationId"].as_i64() {
                Some(id) => Hold::Taken(id),
                None => Hold::NoMore,
            },
            (StatusCode::CONFLICT, "SEAT_UNAVAILABLE") => Hold::Lost,
            (StatusCode::TOO_MANY_REQUESTS, _) => {
                if wait_out(&reply, until).await {
                    continue;
                }
                Hold::NoMore
            }
            (StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED, _) => Hold::PlaceOver,
            _ => Hold::NoMore,
        });
    }
}

/// One person: joins after `delay`, and until they have `wanted` seats,
/// the room is sold out or `patience` has passed since the first join,
/// waits their turn, holds what is AVAILABLE (waiting while nothing is)
/// and pays for what they hold.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn person(
    api: Client,
    door: Door,
    buyer: Buyer,
    sale: Sale,
    wanted: usize,
    delay: Duration,
    patience: Duration,
    seed: u64,
) -> anyhow::Result<PersonOutcome> {
    let mut rng = Rng(seed | 1);
    tokio::time::sleep(delay).await;
    let started = Instant::now();
    let until = Some(started + patience);
    let mut outcome = PersonOutcome::default();
    while outcome.bought < wanted && Instant::now() < started + patience {
        let (joined, paid) = door.join(&api, &buyer, sale.concert, until).await?;
        outcome.door += paid.solving;
        let (token, status) = match joined {
            Joined::Place { token, status } => (token, status),
            Joined::SoldOut | Joined::Refused => break,
        };
        match wait_for_turn(&api, &buyer, &token, status, until, &mut rng).await? {
            Turn::Active => {}
            Turn::Ended => continue,
            Turn::SoldOut | Turn::OutOfTime => break,
        }
        outcome.to_active.get_or_insert(started.elapsed());
        let held = shop(
            &api,
            &buyer,
            &token,
            sale,
            wanted - outcome.bought,
            until,
            &mut rng,
        )
        .await?;
        if held.is_empty() {
            continue;
        }
        let paid = api.pay_cart(&buyer, &token, &held).await?;
        if paid.status.is_success() {
            outcome.bought += held.len();
        }
    }
    Ok(outcome)
}

/// An ACTIVE person picks seats: holds up to `want` AVAILABLE seats,
/// reading the map again (once a second) while none is AVAILABLE, until
/// they hold some, the place is over or time runs out. The holds taken.
async fn shop(
    api: &Client,
    buyer: &Buyer,
    token: &str,
    sale: Sale,
    want: usize,
    until: Option<Instant>,
    rng: &mut Rng,
) -> Result<Vec<i64>, reqwest::Error> {
    let mut held = Vec::new();
    while until.is_none_or(|until| Instant::now() < until) {
        let mut free = api.available_seats(buyer, token, sale.schedule).await?;
        if free.is_empty() {
            // No seat, or no map (a refusal): is the place still ACTIVE?
            let status = api.queue_status(buyer, token).await?;
            if status.status == StatusCode::OK && status.body["status"] != "ACTIVE" {
                return Ok(held);
            }
            tokio::time::sleep(Duration::from_millis(1000 + rng.below(250))).await;
            continue;
        }
        while !free.is_empty() && held.len() < want {
            let seat = free.swap_remove(rng.below(free.len() as u64) as usize);
            match hold(api, buyer, token, sale, seat, until).await? {
                Hold::Taken(reservation) => held.push(reservation),
                Hold::Lost => {}
                Hold::NoMore | Hold::PlaceOver => return Ok(held),
            }
        }
        if !held.is_empty() {
            return Ok(held);
        }
    }
    Ok(held)
}

/// One of the farm's accounts: signs up (waiting out 429s, solving the
/// door's challenge if asked), charges `points` if any, then joins, waits
/// its turn and hoards, joining again each time a place ends, until the
/// room is sold out or the farm is stopped. `signing_up` is the farm's
/// sign-up slot, given back once this account exists or was refused.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn hoarder(
    api: Client,
    door: Door,
    name: String,
    sale: Sale,
    points: i64,
    stats: std::sync::Arc<FarmStats>,
    signing_up: tokio::sync::OwnedSemaphorePermit,
    seed: u64,
) -> Result<(), reqwest::Error> {
    let mut rng = Rng(seed | 1);
    let (signed_up, paid) = door.sign_up(&api, &name, None, None).await?;
    drop(signing_up);
    stats.paid(paid);
    let Some(buyer) = signed_up else {
        return Ok(());
    };
    stats.accounts.fetch_add(1, Ordering::Relaxed);
    if points > 0 {
        let charged = api.charge(&buyer, points, None).await?;
        if charged.status == StatusCode::OK {
            stats.points.fetch_add(points as u64, Ordering::Relaxed);
        }
    }
    loop {
        let (joined, paid) = door.join(&api, &buyer, sale.concert, None).await?;
        stats.paid(paid);
        let (token, status) = match joined {
            Joined::Place { token, status } => (token, status),
            Joined::SoldOut => return Ok(()),
            // Refused for good (not a 429: those are waited out): this
            // account is spent; a farm makes another.
            Joined::Refused => return Ok(()),
        };
        stats.places.fetch_add(1, Ordering::Relaxed);
        match wait_for_turn(&api, &buyer, &token, status, None, &mut rng).await? {
            Turn::Active => {}
            Turn::Ended | Turn::OutOfTime => continue,
            Turn::SoldOut => return Ok(()),
        }
        hoard(&api, &buyer, &token, sale, &stats, &mut rng).await?;
    }
}

/// While the place is ACTIVE: once a second, hold every AVAILABLE seat the
/// server lets this account hold. Holds are never paid; when they lapse,
/// the next round takes seats again.
async fn hoard(
    api: &Client,
    buyer: &Buyer,
    token: &str,
    sale: Sale,
    stats: &FarmStats,
    rng: &mut Rng,
) -> Result<(), reqwest::Error> {
    loop {
        let status = api.queue_status(buyer, token).await?;
        if status.status == StatusCode::TOO_MANY_REQUESTS {
            wait_out(&status, None).await;
            continue;
        }
        if status.body["status"] != "ACTIVE" {
            return Ok(());
        }
        let mut free = api.available_seats(buyer, token, sale.schedule).await?;
        while !free.is_empty() {
            let seat = free.swap_remove(rng.below(free.len() as u64) as usize);
            match hold(api, buyer, token, sale, seat, None).await? {
                Hold::Taken(_) => {
                    stats.holds.fetch_add(1, Ordering::Relaxed);
                }
                Hold::Lost => {}
                Hold::NoMore => break,
                Hold::PlaceOver => return Ok(()),
            }
        }
        tokio::time::sleep(Duration::from_millis(1000 + rng.below(250))).await;
    }
}
