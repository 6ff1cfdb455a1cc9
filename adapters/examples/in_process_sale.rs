//! A whole ticket sale in one process, without HTTP: frontrow's use cases
//! wired with the SQLite store, the in-process waiting room and seat-change
//! log, and the in-process event bus.
//!
//! An operator creates a concert of 300 seats; 1,000 buyers register, top
//! up their points and join the waiting room. As the room admits them, each
//! one reads the seat map and holds a seat, then:
//! - most pay;
//! - those who topped up too little are refused and cancel the hold;
//! - a few walk away, and their holds lapse a minute later and are sold to
//!   someone else.
//!
//! The sale runs on a clock the example moves (a `Clock` of its own, one
//! simulated second per round), so it takes a second or two, not minutes.
//! At the end it prints the outcome and checks the invariants in the
//! database: no seat sold twice, every sold seat paid once, and every point
//! accounted for.
//!
//! Run it with `cargo run -p frontrow-adapters --example in_process_sale`;
//! `cargo test` runs it too.

use frontrow_adapters::auth::{HmacQueueSeal, Hs256Tokens};
use frontrow_adapters::memory::bus::InProcessBus;
use frontrow_adapters::memory::seat_log::MemorySeatChangeLog;
use frontrow_adapters::memory::waiting_room::MemoryWaitingRoom;
use frontrow_adapters::sql::SqlStore;
use frontrow_application::Clock;
use frontrow_application::catalogue::CatalogueService;
use frontrow_application::clock::SystemClock;
use frontrow_application::events::EventRelay;
use frontrow_application::payments::{PaymentError, PaymentService};
use frontrow_application::points::PointsService;
use frontrow_application::queue::{QueueService, RoomSettings, SeparateSeatGate};
use frontrow_application::reservations::{HoldSettings, ReservationError, ReservationService};
use frontrow_application::sales::SaleService;
use frontrow_application::seat_changes::SeatChangeLog;
use frontrow_application::seating::SeatingService;
use frontrow_application::users::Users;
use frontrow_domain::queue::{AdmissionPolicy, QueueStatus, StockRule};
use frontrow_domain::reservation::SeatLimit;
use frontrow_domain::room::RateController;
use frontrow_domain::seat::{SeatNumber, SeatStatus};
use frontrow_domain::{ScheduleId, Timestamp, UserId};
use sqlx::Row;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

type Error = Box<dyn std::error::Error + Send + Sync>;

const BUYERS: usize = 1_000;
const SEATS: i64 = 300;
const PRICE: i64 = 100;
const CAPACITY: i64 = 100;
const ADMIT_PER_SECOND: i64 = 50;
const HOLD_SECONDS: u64 = 60;

/// The sale's time: starts at the wall clock, moves only when told. Every
/// decision in the room and the use cases reads it, so a hold lapses after
/// 60 simulated seconds, whatever the machine's speed.
struct SaleClock(AtomicI64);

impl SaleClock {
    fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_millis() as i64, Ordering::SeqCst);
    }
}

impl Clock for SaleClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

/// Everything the `frontrow` binary wires, minus HTTP (compare `wire` in
/// `bin/src/lib.rs`).
struct Engine {
    store: SqlStore,
    clock: Arc<SaleClock>,
    users: Users,
    points: PointsService,
    queue: Arc<QueueService>,
    seating: SeatingService,
    reservations: Arc<ReservationService>,
    payments: PaymentService,
    sales: SaleService,
    relay: EventRelay,
    bus: Arc<InProcessBus>,
}

async fn engine(database_url: &str) -> Result<Engine, Error> {
    let clock = Arc::new(SaleClock(AtomicI64::new(SystemClock.now().millis())));
    let store = SqlStore::connect(database_url, 8, Duration::from_secs(2), clock.clone()).await?;
    store.migrate().await?;
    let settings = RoomSettings {
        default_policy: AdmissionPolicy::new(CAPACITY, ADMIT_PER_SECOND, false)?,
        active_ms: 600_000,
        // Every buyer here asks for their status each round; no place lapses.
        active_idle_ms: 0,
        waiting_idle_ms: 0,
        pick_ms: 0,
        stock_rule: StockRule::default(),
        controller: RateController::default(),
    };
    let room = Arc::new(MemoryWaitingRoom::new(settings, clock.clone()));
    let log: Arc<dyn SeatChangeLog> = Arc::new(MemorySeatChangeLog::new(room.clone()));
    let gate = Arc::new(SeparateSeatGate {
        room: room.clone(),
        log: log.clone(),
    });
    let shared = Arc::new(store.clone());
    let catalogue = Arc::new(CatalogueService::new(shared.clone(), log, clock.clone()));
    // Keys come from your secret store; fixed ones are fine for a demo.
    let seal = Arc::new(HmacQueueSeal::new(b"queue-token key of this example", None));
    let queue = Arc::new(QueueService::new(
        room,
        seal,
        gate,
        catalogue.cached(),
        clock.clone(),
    ));
    let reservations = Arc::new(ReservationService::new(
        shared.clone(),
        catalogue.clone(),
        queue.clone(),
        HoldSettings {
            hold_seconds: HOLD_SECONDS,
            seats_per_user: SeatLimit(4),
            // Off: every fan signs up in-process, with no address.
            seats_per_household: frontrow_domain::household::HouseholdLimit::OFF,
            uncovered_hold_seconds: 60,
        },
        clock.clone(),
    ));
    let bus = Arc::new(InProcessBus::default());
    Ok(Engine {
        users: shared.users(
            Arc::new(Hs256Tokens::new(
                b"access-token key of this example",
                3600,
                clock.clone(),
            )),
            clock.clone(),
        ),
        points: PointsService::new(shared.clone()),
        seating: SeatingService::new(catalogue.clone(), queue.clone(), clock.clone()),
        payments: PaymentService::new(
            shared.clone(),
            reservations.clone(),
            catalogue.clone(),
            queue.clone(),
            clock.clone(),
        ),
        sales: SaleService::new(catalogue, queue.clone()),
        relay: EventRelay::new(shared, bus.clone(), clock.clone(), "example".into()),
        queue,
        reservations,
        bus,
        clock,
        store,
    })
}

/// How a buyer's sale ended (or `Undecided`: not yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Undecided,
    Bought(SeatNumber),
    /// Held a seat, was refused for too few points, cancelled the hold.
    CouldNotPay,
    /// Held a seat and left without paying: the hold lapses.
    WalkedAway,
    /// Still waiting (or looking at the seat map) when the last seat sold.
    SoldOut,
}

struct Buyer {
    index: usize,
    user: UserId,
    queue_token: String,
    walks_away: bool,
    outcome: Outcome,
}

/// One round of one buyer: ask for their place and, once ACTIVE, try to buy.
async fn turn(
    engine: &Engine,
    schedule: ScheduleId,
    buyer: (usize, UserId, String, bool),
) -> Result<Outcome, Error> {
    let (index, user, queue_token, walks_away) = buyer;
    let token = Some(queue_token.as_str());
    let place = engine.queue.status(user, token).await?;
    match place.status {
        QueueStatus::Active => {}
        QueueStatus::SoldOut => return Ok(Outcome::SoldOut),
        QueueStatus::Waiting | QueueStatus::PreQueue => return Ok(Outcome::Undecided),
        other => return Err(format!("buyer {index} unexpectedly {}", other.as_str()).into()),
    }
    let map = engine.seating.seats(user, token, schedule.get()).await?;
    let free: Vec<SeatNumber> = map
        .statuses()
        .filter(|view| view.status == SeatStatus::Available)
        .map(|view| view.seat)
        .collect();
    // An ACTIVE place stays ACTIVE when the last seat sells (only waiting
    // places turn SOLD_OUT): a buyer who sees every seat sold leaves.
    if map.statuses().all(|view| view.status == SeatStatus::Sold) {
        engine.queue.leave(user, token).await?;
        return Ok(Outcome::SoldOut);
    }
    // Buyers aim at different seats but some collide; the store decides,
    // and a loser tries another.
    for attempt in 0..3 {
        let Some(&seat) = free.get((index * 7 + attempt * 13) % free.len().max(1)) else {
            break; // nothing AVAILABLE now: a hold may still lapse
        };
        let reservation = match engine
            .reservations
            .hold(user, token, schedule.get(), seat.get())
            .await
        {
            Ok(reservation) => reservation,
            Err(ReservationError::SeatUnavailable) => continue,
            Err(other) => return Err(other.into()),
        };
        if walks_away {
            engine.queue.leave(user, token).await?;
            return Ok(Outcome::WalkedAway);
        }
        return match engine.payments.pay(user, token, reservation.id.get()).await {
            Ok(_) => Ok(Outcome::Bought(seat)),
            Err(PaymentError::InsufficientPoints) => {
                engine
                    .reservations
                    .cancel(user, reservation.id.get(), None)
                    .await?;
                engine.queue.leave(user, token).await?;
                Ok(Outcome::CouldNotPay)
            }
            Err(other) => Err(other.into()),
        };
    }
    Ok(Outcome::Undecided)
}

/// A fresh directory for the database, removed afterwards.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> std::io::Result<Self> {
        let nanos = SystemClock.now().millis();
        let dir =
            std::env::temp_dir().join(format!("frontrow-sale-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(Self(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn count(engine: &Engine, sql: &str) -> Result<i64, Error> {
    let row = sqlx::query(sql).fetch_one(engine.store.reader()).await?;
    Ok(row.try_get::<i64, _>(0)?)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let started = Instant::now();
    let dir = TempDir::new()?;
    let url = format!("sqlite://{}?mode=rwc", dir.0.join("sale.db").display());
    let engine = Arc::new(engine(&url).await?);
    let mut events = engine.bus.subscribe();

    // The operator: one performance a month from now.
    let starts_at = engine.clock.now().plus_seconds(30 * 24 * 3600);
    let (concert, schedules) = engine
        .sales
        .create_concert("The Proms", &[(starts_at, SEATS, PRICE).into()], None, None)
        .await?;
    let schedule = schedules[0].id;

    // The buyers: register, top up (a quarter too little for a seat), join.
    let mut buyers = Vec::with_capacity(BUYERS);
    let mut charged = 0;
    for index in 0..BUYERS {
        let registered = engine
            .users
            .register(&format!("fan {index}"), None, None)
            .await?;
        let user = engine
            .users
            .authenticate(&registered.access_token)
            .await?
            .ok_or("a fresh access token must verify")?;
        let amount = 50 + (index as i64 * 37) % 200;
        engine
            .points
            .charge(user, amount, Some(format!("top-up-{index}").as_str()))
            .await?;
        charged += amount;
        let (place, _) = engine.queue.join(user, concert.get()).await?;
        buyers.push(Buyer {
            index,
            user,
            queue_token: place.token.as_str().to_owned(),
            walks_away: index % 25 == 3,
            outcome: Outcome::Undecided,
        });
    }

    // The sale: each round is one simulated second in which every undecided
    // buyer asks for their place at once, like a crowd polling a server.
    let mut seconds = 0;
    let mut event_counts: BTreeMap<String, usize> = BTreeMap::new();
    while buyers.iter().any(|b| b.outcome == Outcome::Undecided) {
        if seconds > 600 {
            return Err("the sale did not end in ten simulated minutes".into());
        }
        engine.clock.advance(Duration::from_secs(1));
        seconds += 1;
        let mut round = tokio::task::JoinSet::new();
        for (slot, buyer) in buyers.iter().enumerate() {
            if buyer.outcome != Outcome::Undecided {
                continue;
            }
            let engine = engine.clone();
            let who = (
                buyer.index,
                buyer.user,
                buyer.queue_token.clone(),
                buyer.walks_away,
            );
            round.spawn(async move { (slot, turn(&engine, schedule, who).await) });
        }
        while let Some(done) = round.join_next().await {
            let (slot, outcome) = done?;
            buyers[slot].outcome = outcome?;
        }
        // What the binary's background loops do: write down lapsed holds,
        // and publish the outbox.
        engine.reservations.expire_due(500).await?;
        while engine.relay.relay_once().await? > 0 {}
        while let Ok(event) = events.try_recv() {
            *event_counts.entry(event.event_type.clone()).or_default() += 1;
        }
    }

    let mut outcomes: BTreeMap<&str, usize> = BTreeMap::new();
    for buyer in &buyers {
        let name = match buyer.outcome {
            Outcome::Bought(_) => "bought a seat",
            Outcome::CouldNotPay => "could not pay, cancelled",
            Outcome::WalkedAway => "walked away, hold lapsed",
            Outcome::SoldOut => "found it sold out",
            Outcome::Undecided => "undecided",
        };
        *outcomes.entry(name).or_default() += 1;
    }
    println!(
        "{BUYERS} buyers, {SEATS} seats at {PRICE} points, a room of {CAPACITY} admitting {ADMIT_PER_SECOND}/s"
    );
    println!(
        "the sale took {seconds} simulated seconds ({:.1} s here)",
        started.elapsed().as_secs_f64()
    );
    for (outcome, n) in &outcomes {
        println!("  {outcome:<26} {n:>5}");
    }
    println!("events published:");
    for (event_type, n) in &event_counts {
        println!("  {event_type:<26} {n:>5}");
    }

    // The invariants, asked of the database itself.
    let bought = buyers
        .iter()
        .filter(|b| matches!(b.outcome, Outcome::Bought(_)))
        .count() as i64;
    let mut seats: Vec<_> = buyers
        .iter()
        .filter_map(|b| match b.outcome {
            Outcome::Bought(seat) => Some(seat),
            _ => None,
        })
        .collect();
    seats.sort();
    seats.dedup();
    let checks: [(&str, i64, i64); 7] = [
        (
            "no seat sold twice",
            count(
                &engine,
                "SELECT COUNT(*) FROM (SELECT schedule_id, seat_number FROM reservations \
                 WHERE status = 'CONFIRMED' GROUP BY schedule_id, seat_number HAVING COUNT(*) > 1) t",
            )
            .await?,
            0,
        ),
        ("no two buyers were told the same seat", seats.len() as i64, bought),
        (
            "every seat sold",
            count(&engine, "SELECT COUNT(*) FROM seats WHERE sold = 1").await?,
            SEATS,
        ),
        (
            "one payment per sold seat",
            count(&engine, "SELECT COUNT(*) FROM payments").await?,
            bought,
        ),
        (
            "points charged = points spent + balances",
            count(&engine, "SELECT COALESCE(SUM(balance), 0) FROM users").await?,
            charged - PRICE * bought,
        ),
        (
            "every balance is the sum of its ledger",
            count(
                &engine,
                "SELECT COUNT(*) FROM users u WHERE u.balance <> \
                 (SELECT COALESCE(SUM(delta), 0) FROM point_ledger l WHERE l.user_id = u.id)",
            )
            .await?,
            0,
        ),
        (
            "a payment.completed event per payment",
            event_counts.get("payment.completed").copied().unwrap_or(0) as i64,
            bought,
        ),
    ];
    let mut broken = 0;
    for (name, found, expected) in checks {
        let verdict = if found == expected { "ok" } else { "BROKEN" };
        println!("invariant {name}: {verdict} ({found}, expected {expected})");
        broken += usize::from(found != expected);
    }
    if broken > 0 {
        return Err(format!("{broken} invariants broken").into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    /// `cargo test` runs the whole sale and its invariant checks.
    #[test]
    fn a_sale_of_a_thousand_buyers_keeps_every_invariant() -> Result<(), super::Error> {
        super::main()
    }
}
