//! Wiring: chooses the backends once, from the configuration, and hands
//! each use case its adapters. Nothing else in the binary names an adapter.
//!
//! - No `DATABASE_URL`: SQLite in `--data-dir` (the embedded default).
//! - No `REDIS_URL`: the waiting room and seat-map versions run in process,
//!   which is only correct with a single instance.
//! - No `KAFKA_BROKERS`: events go to in-process subscribers.

use crate::config::{Config, redact};
use crate::secrets::Secrets;
use crate::tasks::TaskHealth;
use anyhow::{Context, bail};
use frontrow_adapters::auth::Hs256Tokens;
use frontrow_adapters::http::{AppState, Ping};
use frontrow_adapters::kafka::KafkaSink;
use frontrow_adapters::memory::bus::InProcessBus;
use frontrow_adapters::memory::door::MemoryDoor;
use frontrow_adapters::memory::rate::MemoryRateLimiter;
use frontrow_adapters::memory::{seat_log::MemorySeatChangeLog, waiting_room::MemoryWaitingRoom};
use frontrow_adapters::redis::door::RedisDoor;
use frontrow_adapters::redis::rate::RedisRateLimiter;
use frontrow_adapters::redis::{
    RedisPing, seat_log::RedisSeatChangeLog, waiting_room::RedisWaitingRoom,
};
use frontrow_adapters::sql::{Backend, SqlStore};
use frontrow_application::Clock;
use frontrow_application::best_available::BestAvailableService;
use frontrow_application::catalogue::CatalogueService;
use frontrow_application::clock::SystemClock;
use frontrow_application::door::{
    DoorLevels, DoorPorts, DoorService, SignUpCounter, SpentChallenges,
};
use frontrow_application::events::{EventRelay, EventSink};
use frontrow_application::limits::{RateLimiter, RateLimits};
use frontrow_application::payments::PaymentService;
use frontrow_application::points::PointsService;
use frontrow_application::queue::{
    QueueService, RoomSettings, SeatGate, SeparateSeatGate, WaitingRoom,
};
use frontrow_application::reservations::{HoldSettings, ReservationService};
use frontrow_application::sales::SaleService;
use frontrow_application::seat_changes::SeatChangeLog;
use frontrow_application::seating::SeatingService;
use frontrow_application::venues::VenueService;
use frontrow_domain::household::{HouseholdLimit, HouseholdWindow};
use frontrow_domain::queue::{AdmissionPolicy, StockRule};
use frontrow_domain::reservation::SeatLimit;
use frontrow_domain::room::RateController;
use secrecy::ExposeSecret;
use std::sync::Arc;

/// Connects to the database and applies its migrations.
pub(crate) async fn open_store(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<SqlStore> {
    let url = config.database_url()?;
    let store = SqlStore::connect(
        &url,
        config.db_connections,
        config.store_timeout(),
        clock.clone(),
    )
    .await
    .with_context(|| format!("cannot connect to the database at {}", redact(&url)))?;
    store
        .migrate()
        .await
        .context("cannot apply database migrations")?;
    Ok(store)
}

/// The wired application and what it runs beside the HTTP server.
pub struct Wiring {
    /// The use cases, as the HTTP adapter serves them.
    pub state: Arc<AppState>,
    /// The system of record.
    pub store: SqlStore,
    /// Publishes the outbox (see `tasks`).
    pub relay: Arc<EventRelay>,
    /// The in-process subscribers, when events do not go to Kafka.
    pub bus: Option<Arc<InProcessBus>>,
    /// What `/health/ready` reports of the background tasks.
    pub tasks: Arc<TaskHealth>,
    /// One line naming the backends, for the start-up log.
    pub description: String,
}

/// The waiting room and the seat-change log: both in Redis, or both in process.
struct QueueStores {
    /// The door's shared state (spent challenges, sign-ups, levels).
    door: Arc<dyn DoorState>,
    /// Rate-limit budgets: shared in Redis, or in process.
    limiter: Arc<dyn RateLimiter>,
    room: Arc<dyn WaitingRoom>,
    log: Arc<dyn SeatChangeLog>,
    seat_gate: Arc<dyn SeatGate>,
    name: &'static str,
}

/// The door's three shared ports, served by one store.
trait DoorState: SpentChallenges + SignUpCounter + DoorLevels {}
impl<T: SpentChallenges + SignUpCounter + DoorLevels> DoorState for T {}

/// Opens the stores (applying migrations), reads the secrets and builds
/// every use case on the chosen adapters.
pub async fn wire(config: &Config) -> anyhow::Result<Wiring> {
    // The one clock every part of the service reads.
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = open_store(config, clock.clone()).await?;
    let backend = store.backend();
    let secrets = Secrets::read(config, backend)?;
    let policy = AdmissionPolicy::new(config.queue_capacity, config.admit_per_second, false)
        .context("invalid --queue-capacity or --admit-per-second")?;
    if config.hold_seconds == 0 || config.active_seconds == 0 || config.max_seats_per_user == 0 {
        bail!("--hold-seconds, --active-seconds and --max-seats-per-user must be positive");
    }
    let household_window = HouseholdWindow::minutes(config.household_window_minutes)
        .context("--household-window-minutes must be positive")?;
    let tasks = Arc::new(TaskHealth::default());
    let mut dependencies: Vec<(&'static str, Arc<dyn Ping>)> = vec![
        ("database", Arc::new(store.clone())),
        ("background tasks", tasks.clone()),
    ];
    let stock_rule = StockRule::new(config.stock_percent, config.stock_spare)
        .context("invalid --stock-percent (1 to 1000) or --stock-spare (0 or more)")?;
    let room_settings = RoomSettings {
        default_policy: policy,
        active_ms: (config.active_seconds as i64).saturating_mul(1000),
        active_idle_ms: (config.active_idle_seconds as i64).saturating_mul(1000),
        waiting_idle_ms: (config.waiting_idle_seconds as i64).saturating_mul(1000),
        pick_ms: (config.pick_seconds as i64).saturating_mul(1000),
        stock_rule,
        controller: RateController::default(),
    };
    let door_window_ms = config.door.sign_up_window_ms();
    let QueueStores {
        door,
        limiter,
        room,
        log,
        seat_gate,
        name: queue_name,
    } = match &config.redis_url {
        Some(url) => {
            let conn =
                frontrow_adapters::redis::open(url, config.redis_cluster, config.store_timeout())
                    .await
                    .with_context(|| format!("cannot connect to Redis at {}", redact(url)))?;
            dependencies.push(("redis", Arc::new(RedisPing(conn.clone()))));
            let room = Arc::new(RedisWaitingRoom::new(
                conn.clone(),
                &config.redis_prefix,
                room_settings,
                clock.clone(),
            ));
            QueueStores {
                door: Arc::new(RedisDoor::new(
                    conn.clone(),
                    &config.redis_prefix,
                    door_window_ms,
                )),
                limiter: Arc::new(RedisRateLimiter::new(conn.clone(), &config.redis_prefix)),
                room: room.clone(),
                log: Arc::new(RedisSeatChangeLog::new(conn, &config.redis_prefix)),
                seat_gate: room,
                name: "redis",
            }
        }
        None => {
            let memory_room = Arc::new(MemoryWaitingRoom::new(room_settings, clock.clone()));
            let log: Arc<dyn SeatChangeLog> =
                Arc::new(MemorySeatChangeLog::new(memory_room.clone()));
            let room: Arc<dyn WaitingRoom> = memory_room;
            let seat_gate = Arc::new(SeparateSeatGate {
                room: room.clone(),
                log: log.clone(),
            });
            QueueStores {
                door: Arc::new(MemoryDoor::new(clock.clone(), door_window_ms)),
                limiter: Arc::new(MemoryRateLimiter::default()),
                room,
                log,
                seat_gate,
                name: "in-process",
            }
        }
    };
    let (sink, bus, events_name): (Arc<dyn EventSink>, _, _) = match &config.kafka_brokers {
        Some(brokers) => {
            let sink = KafkaSink::new(brokers, &config.kafka_topic)
                .context("invalid Kafka configuration")?;
            (
                Arc::new(sink),
                None,
                format!("kafka ({brokers}, topic {})", config.kafka_topic),
            )
        }
        None => {
            let bus = Arc::new(InProcessBus::default());
            (
                bus.clone() as Arc<dyn EventSink>,
                Some(bus),
                "in-process subscribers".to_owned(),
            )
        }
    };
    let holder = frontrow_adapters::random::hex32()?[..16].to_owned();
    let relay = Arc::new(EventRelay::new(
        Arc::new(store.clone()),
        sink,
        clock.clone(),
        holder,
    ));
    let shared = Arc::new(store.clone());
    let catalogue = Arc::new(CatalogueService::new(shared.clone(), log, clock.clone()));
    if config.redis_url.is_none() {
        // The in-process room starts empty: it learns the stock again.
        let concerts = catalogue
            .reopen_sales()
            .await
            .context("cannot tell the waiting room what is left to sell")?;
        tracing::debug!(concerts, "waiting rooms know their stock");
    }
    let queue = Arc::new(QueueService::new(
        room,
        Arc::new(secrets.queue_seal(config)),
        seat_gate,
        catalogue.cached(),
        clock.clone(),
    ));
    let sales = SaleService::new(catalogue.clone(), queue.clone());
    if config.redis_url.is_none() {
        // ... and the scheduled openings.
        sales
            .restore_openings()
            .await
            .context("cannot tell the waiting rooms their scheduled openings")?;
    }
    let settings = HoldSettings {
        hold_seconds: config.hold_seconds,
        seats_per_user: SeatLimit(config.max_seats_per_user),
        seats_per_household: HouseholdLimit(config.household_seats),
        uncovered_hold_seconds: config.uncovered_hold_seconds,
    };
    let reservations = Arc::new(ReservationService::new(
        shared.clone(),
        catalogue.clone(),
        queue.clone(),
        settings,
        clock.clone(),
    ));
    let door = DoorService::new(
        DoorPorts {
            signer: Arc::new(secrets.door_signer()),
            spent: door.clone(),
            sign_ups: door.clone(),
            ages: shared.clone(),
            levels: door,
        },
        config.door.settings()?,
        clock.clone(),
    );
    let state = Arc::new(AppState {
        door,
        users: shared
            .users(
                Arc::new(Hs256Tokens::new(
                    secrets.jwt_secret.expose_secret().as_bytes(),
                    config.access_token_seconds,
                    clock.clone(),
                )),
                clock.clone(),
            )
            .with_household_window(household_window),
        points: PointsService::new(shared.clone()),
        // Built before `catalogue` and `queue` move into the state.
        venues: VenueService::new(catalogue.clone(), queue.clone(), clock.clone()),
        best_available: BestAvailableService::new(
            VenueService::new(catalogue.clone(), queue.clone(), clock.clone()),
            reservations.clone(),
            catalogue.clone(),
            clock.clone(),
        ),
        seating: SeatingService::new(catalogue.clone(), queue.clone(), clock.clone()),
        payments: PaymentService::new(
            shared,
            reservations.clone(),
            catalogue.clone(),
            queue.clone(),
            clock.clone(),
        ),
        sales,
        catalogue,
        queue,
        reservations,
        admin_key: secrets.admin_key,
        room_history: Default::default(),
        tickets: frontrow_adapters::tickets::TicketSigner::from_secret(
            secrets.ticket_signing_key.expose_secret(),
        ),
        dependencies,
        relay: relay.clone(),
        write_path: Default::default(),
        seat_pages: Default::default(),
        layout_pages: Default::default(),
        draining: Default::default(),
        trusted_proxies: config.trusted_proxies.clone(),
        rate_limits: RateLimits::new(limiter, config.rate_limits.rules(), clock.clone()),
    });
    let database = match backend {
        Backend::MySql => "mysql".to_owned(),
        Backend::Sqlite => format!("sqlite ({})", redact(&config.database_url()?)),
    };
    let description =
        format!("database: {database}; queue: {queue_name}; events: outbox -> {events_name}");
    Ok(Wiring {
        state,
        store,
        relay,
        bus,
        tasks,
        description,
    })
}
