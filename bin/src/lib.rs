//! Configuration and wiring: reads flags (each with an env equivalent),
//! chooses the backends once, and hands the use cases their adapters.
//!
//! - No `DATABASE_URL`: SQLite in `--data-dir` (the embedded default).
//! - No `REDIS_URL`: the waiting room and seat-map versions run in process,
//!   which is only correct with a single instance.

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use frontrow_adapters::auth::{HmacQueueSeal, Hs256Tokens, derive_key};
use frontrow_adapters::http::{self, AppState, Ping};
use frontrow_adapters::kafka::KafkaSink;
use frontrow_adapters::memory::bus::InProcessBus;
use frontrow_adapters::memory::{seat_log::MemorySeatChangeLog, waiting_room::MemoryWaitingRoom};
use frontrow_adapters::redis::{
    RedisPing, seat_log::RedisSeatChangeLog, waiting_room::RedisWaitingRoom,
};
use frontrow_adapters::sql::{Backend, SqlStore};
use frontrow_application::Clock;
use frontrow_application::catalogue::CatalogueService;
use frontrow_application::clock::SystemClock;
use frontrow_application::events::{EventRelay, EventSink};
use frontrow_application::payments::PaymentService;
use frontrow_application::points::PointsService;
use frontrow_application::queue::{
    QueueService, RoomSettings, SeatGate, SeparateSeatGate, WaitingRoom,
};
use frontrow_application::reservations::{HoldSettings, ReservationService};
use frontrow_application::seat_changes::SeatChangeLog;
use frontrow_application::seating::SeatingService;
use frontrow_application::users::Users;
use frontrow_domain::Timestamp;
use frontrow_domain::queue::AdmissionPolicy;
use frontrow_domain::reservation::SeatLimit;
use poem::listener::{Acceptor, Listener, TcpListener};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "frontrow",
    version,
    about = "Concert tickets for the minute a hot show opens"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the HTTP service (the default). Applies migrations first.
    Serve {
        /// Also create the demo concerts if there are no concerts yet.
        #[arg(long)]
        demo: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Create sample concerts so a new user can try the flow at once.
    Seed {
        #[arg(long)]
        demo: bool,
    },
    /// Work with the published events.
    Events {
        #[command(subcommand)]
        command: EventsCommand,
    },
}

#[derive(Subcommand)]
pub enum EventsCommand {
    /// Print events from Kafka as JSON lines, once each (deduplicated by eventId).
    Tail {
        #[arg(long, default_value = "frontrow.events")]
        topic: String,
        #[arg(long, default_value = "frontrow-tail")]
        group: String,
        /// Stop after this many seconds without an event (default: never).
        #[arg(long)]
        idle_exit_seconds: Option<u64>,
    },
}

#[derive(Args, Clone, Debug)]
pub struct Config {
    /// Address to listen on.
    #[arg(
        long,
        env = "FRONTROW_LISTEN",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub listen: SocketAddr,
    /// mysql://user:pass@host/db or sqlite://path; unset: SQLite in --data-dir.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Where the embedded default keeps its database and generated secrets.
    #[arg(
        long,
        env = "FRONTROW_DATA_DIR",
        default_value = "./frontrow-data",
        global = true
    )]
    pub data_dir: PathBuf,
    /// redis://host:port; unset: the waiting room runs in process (one instance only).
    /// With --redis-cluster: one or more seed nodes of a Redis Cluster, comma-separated.
    #[arg(long, env = "REDIS_URL", global = true)]
    pub redis_url: Option<String>,
    /// --redis-url names seed nodes of a Redis Cluster.
    #[arg(long, env = "FRONTROW_REDIS_CLUSTER", global = true)]
    pub redis_cluster: bool,
    /// Prefix of every Redis key, so deployments and test runs can share a Redis.
    #[arg(
        long,
        env = "FRONTROW_REDIS_PREFIX",
        default_value = "frontrow:",
        global = true
    )]
    pub redis_prefix: String,
    /// How long a seat hold lasts.
    #[arg(
        long,
        env = "FRONTROW_HOLD_SECONDS",
        default_value_t = 300,
        global = true
    )]
    pub hold_seconds: u64,
    /// How long an admitted user may stay ACTIVE.
    #[arg(
        long,
        env = "FRONTROW_ACTIVE_SECONDS",
        default_value_t = 600,
        global = true
    )]
    pub active_seconds: u64,
    /// An ACTIVE user who makes no request for this long loses the slot to
    /// the next in line (0: never).
    #[arg(
        long,
        env = "FRONTROW_ACTIVE_IDLE_SECONDS",
        default_value_t = 120,
        global = true
    )]
    pub active_idle_seconds: u64,
    /// A waiting buyer who has not asked for their status (poll or stream)
    /// for this long loses the place when the line reaches it (0: never).
    #[arg(
        long,
        env = "FRONTROW_WAITING_IDLE_SECONDS",
        default_value_t = 60,
        global = true
    )]
    pub waiting_idle_seconds: u64,
    /// How long a request waits for MySQL or Redis before it gets a 503
    /// (connection from the pool, Redis command).
    #[arg(
        long,
        env = "FRONTROW_STORE_TIMEOUT_MS",
        default_value_t = 2_000,
        global = true
    )]
    pub store_timeout_ms: u64,
    /// On SIGTERM, how long readiness answers 503 before the listener closes.
    #[arg(
        long,
        env = "FRONTROW_DRAIN_MS",
        default_value_t = 2_000,
        global = true
    )]
    pub drain_ms: u64,
    /// After the drain, how long in-flight requests get to finish before
    /// the process exits anyway. Open streams end by themselves within 5 s.
    #[arg(
        long,
        env = "FRONTROW_SHUTDOWN_GRACE_SECONDS",
        default_value_t = 10,
        global = true
    )]
    pub shutdown_grace_seconds: u64,
    /// Default most ACTIVE users per concert (operators can change it per concert).
    #[arg(
        long,
        env = "FRONTROW_QUEUE_CAPACITY",
        default_value_t = 1000,
        global = true
    )]
    pub queue_capacity: i64,
    /// Default admissions per second per concert.
    #[arg(
        long,
        env = "FRONTROW_ADMIT_PER_SECOND",
        default_value_t = 100,
        global = true
    )]
    pub admit_per_second: i64,
    /// Most seats one user may hold or own per schedule.
    #[arg(
        long,
        env = "FRONTROW_MAX_SEATS_PER_USER",
        default_value_t = 4,
        global = true
    )]
    pub max_seats_per_user: u32,
    /// Key for the admin API (X-Admin-Key). Required with MySQL; embedded: generated into --data-dir.
    #[arg(
        long,
        env = "FRONTROW_ADMIN_KEY",
        hide_env_values = true,
        global = true
    )]
    pub admin_key: Option<String>,
    /// HS256 secret for access tokens. Required with MySQL; embedded: generated into --data-dir.
    #[arg(
        long,
        env = "FRONTROW_JWT_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub jwt_secret: Option<String>,
    /// HMAC key that seals queue tokens. Default: derived from the JWT secret.
    /// To rotate, set the new key here and the old one as the previous key.
    #[arg(
        long,
        env = "FRONTROW_QUEUE_TOKEN_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub queue_token_secret: Option<String>,
    /// The previous queue-token key, still accepted while keys rotate.
    #[arg(
        long,
        env = "FRONTROW_QUEUE_TOKEN_PREVIOUS_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub queue_token_previous_secret: Option<String>,
    /// How long an access token stays valid.
    #[arg(
        long,
        env = "FRONTROW_ACCESS_TOKEN_SECONDS",
        default_value_t = 86_400,
        global = true
    )]
    pub access_token_seconds: i64,
    /// Kafka bootstrap servers (host:port,...); unset: events go to in-process subscribers.
    #[arg(long, env = "KAFKA_BROKERS", global = true)]
    pub kafka_brokers: Option<String>,
    /// The topic every event is published to.
    #[arg(
        long,
        env = "FRONTROW_KAFKA_TOPIC",
        default_value = "frontrow.events",
        global = true
    )]
    pub kafka_topic: String,
    /// How long published outbox rows are kept before they are deleted.
    #[arg(
        long,
        env = "FRONTROW_OUTBOX_RETENTION_HOURS",
        default_value_t = 24,
        global = true
    )]
    pub outbox_retention_hours: i64,
    /// Database connections per instance.
    #[arg(
        long,
        env = "FRONTROW_DB_CONNECTIONS",
        default_value_t = 32,
        global = true
    )]
    pub db_connections: u32,
    /// Log lines as text, or as one JSON object per line (with the
    /// request's span, and so its `request_id`).
    #[arg(
        long,
        env = "FRONTROW_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,
    /// Most connections open at once; beyond it new ones wait in the
    /// kernel's listen queue. Each costs about 33 KB (an open stream 40 KB).
    #[arg(
        long,
        env = "FRONTROW_MAX_CONNECTIONS",
        default_value_t = 20_000,
        global = true
    )]
    pub max_connections: usize,
    /// A connection that sends and receives nothing for this long is closed
    /// (a half-sent request too). Above the streams' 15 s heartbeat.
    #[arg(
        long,
        env = "FRONTROW_IDLE_TIMEOUT_SECONDS",
        default_value_t = 60,
        global = true
    )]
    pub idle_timeout_seconds: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Logs go to stderr, so that a subcommand's output on stdout (`events
/// tail`) stays clean.
pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => logs.try_init(),
        LogFormat::Json => logs.json().try_init(),
    };
}

impl Config {
    /// `--store-timeout-ms` as a duration (at least 1 ms).
    pub fn store_timeout(&self) -> Duration {
        Duration::from_millis(self.store_timeout_ms.max(1))
    }

    fn database_url(&self) -> anyhow::Result<String> {
        if let Some(url) = &self.database_url {
            return Ok(url.clone());
        }
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("cannot create data directory {}", self.data_dir.display()))?;
        Ok(format!(
            "sqlite://{}?mode=rwc",
            self.data_dir.join("frontrow.db").display()
        ))
    }

    /// A secret from its flag, or (embedded only) from a file generated once.
    fn secret(
        &self,
        given: &Option<String>,
        file: &str,
        flag: &str,
        backend: Backend,
    ) -> anyhow::Result<String> {
        if let Some(secret) = given.as_ref().filter(|s| !s.is_empty()) {
            return Ok(secret.clone());
        }
        if backend == Backend::MySql {
            bail!(
                "{flag} is required when DATABASE_URL points at MySQL (every instance must share it)"
            );
        }
        read_or_create_secret(&self.data_dir.join(file))
    }
}

fn read_or_create_secret(path: &Path) -> anyhow::Result<String> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        return Ok(existing.trim().to_owned());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let secret = format!(
        "{}{}",
        frontrow_adapters::random::hex32()?,
        frontrow_adapters::random::hex32()?
    );
    // Created readable by the owner only from the first byte on; a failure
    // to do so is an error, not a secret left readable.
    let mut file = std::fs::OpenOptions::new();
    file.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        file.mode(0o600);
    }
    use std::io::Write;
    file.open(path)
        .and_then(|mut f| f.write_all(secret.as_bytes()))
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(secret)
}

async fn open_store(config: &Config) -> anyhow::Result<SqlStore> {
    let url = config.database_url()?;
    let store = SqlStore::connect(&url, config.db_connections, config.store_timeout())
        .await
        .with_context(|| format!("cannot connect to the database at {}", redact(&url)))?;
    store
        .migrate()
        .await
        .context("cannot apply database migrations")?;
    Ok(store)
}

/// The queue-token seal: the configured key, or one derived from the JWT
/// secret (an HMAC of a fixed label, so the two keys are never the same).
fn queue_seal(config: &Config, jwt_secret: &str) -> HmacQueueSeal {
    let given = |secret: &Option<String>| secret.clone().filter(|s| !s.is_empty());
    let current = given(&config.queue_token_secret)
        .unwrap_or_else(|| derive_key(jwt_secret, "frontrow queue tokens"));
    let previous = given(&config.queue_token_previous_secret);
    HmacQueueSeal::new(current.as_bytes(), previous.as_deref().map(str::as_bytes))
}

/// Hides a password in a URL before it reaches a log or an error.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

/// The wired application and what it runs beside the HTTP server.
pub struct Wiring {
    pub state: Arc<AppState>,
    pub store: SqlStore,
    pub relay: Arc<EventRelay>,
    /// The in-process subscribers, when events do not go to Kafka.
    pub bus: Option<Arc<InProcessBus>>,
    pub description: String,
}

/// The waiting room and the seat-change log: both in Redis, or both in process.
struct QueueStores {
    room: Arc<dyn WaitingRoom>,
    log: Arc<dyn SeatChangeLog>,
    seat_gate: Arc<dyn SeatGate>,
    name: &'static str,
}

pub async fn wire(config: &Config) -> anyhow::Result<Wiring> {
    // The one clock every part of the service reads.
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = open_store(config).await?.with_clock(clock.clone());
    let backend = store.backend();
    let admin_key = config.secret(
        &config.admin_key,
        "admin-key",
        "--admin-key / FRONTROW_ADMIN_KEY",
        backend,
    )?;
    let jwt_secret = config.secret(
        &config.jwt_secret,
        "jwt-secret",
        "--jwt-secret / FRONTROW_JWT_SECRET",
        backend,
    )?;
    let policy = AdmissionPolicy::new(config.queue_capacity, config.admit_per_second, false)
        .context("invalid --queue-capacity or --admit-per-second")?;
    if config.hold_seconds == 0 || config.active_seconds == 0 || config.max_seats_per_user == 0 {
        bail!("--hold-seconds, --active-seconds and --max-seats-per-user must be positive");
    }
    let mut dependencies: Vec<(&'static str, Arc<dyn Ping>)> =
        vec![("database", Arc::new(store.clone()))];
    let room_settings = RoomSettings {
        default_policy: policy,
        active_ms: (config.active_seconds as i64).saturating_mul(1000),
        active_idle_ms: (config.active_idle_seconds as i64).saturating_mul(1000),
        waiting_idle_ms: (config.waiting_idle_seconds as i64).saturating_mul(1000),
    };
    let QueueStores {
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
        Arc::new(queue_seal(config, &jwt_secret)),
        seat_gate,
        catalogue.clone(),
    ));
    if config.redis_url.is_none() {
        // ... and the scheduled openings.
        queue
            .restore_openings()
            .await
            .context("cannot tell the waiting rooms their scheduled openings")?;
    }
    let settings = HoldSettings {
        hold_seconds: config.hold_seconds,
        seats_per_user: SeatLimit(config.max_seats_per_user),
    };
    let reservations = Arc::new(ReservationService::new(
        shared.clone(),
        catalogue.clone(),
        queue.clone(),
        settings,
    ));
    let state = Arc::new(AppState {
        users: Users::new(
            shared.clone(),
            Arc::new(
                Hs256Tokens::new(jwt_secret.as_bytes(), config.access_token_seconds)
                    .with_clock(clock.clone()),
            ),
        ),
        points: PointsService::new(shared.clone()),
        seating: SeatingService::new(catalogue.clone(), queue.clone()),
        payments: PaymentService::new(
            shared,
            reservations.clone(),
            catalogue.clone(),
            queue.clone(),
        ),
        catalogue,
        queue,
        reservations,
        admin_key,
        dependencies,
        relay: relay.clone(),
        seat_pages: Default::default(),
        draining: Default::default(),
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
        description,
    })
}

/// Resolves when `Running::stop` asks; never if the `Running` was dropped
/// without asking, so a dropped handle cannot stop a server by accident.
async fn stop_requested(stopped: &mut tokio::sync::watch::Receiver<bool>) {
    if stopped.wait_for(|stop| *stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// A running server, for `serve` and for tests. Only `stop` stops it.
pub struct Running {
    pub addr: SocketAddr,
    pub state: Arc<AppState>,
    pub store: SqlStore,
    pub bus: Option<Arc<InProcessBus>>,
    shutdown: tokio::sync::watch::Sender<bool>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = self.server.await;
    }
}

pub async fn start(config: &Config) -> anyhow::Result<Running> {
    let Wiring {
        state,
        store,
        relay,
        bus,
        description,
    } = wire(config).await?;
    let acceptor = TcpListener::bind(config.listen)
        .into_acceptor()
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let acceptor = http::connections::Capped::new(
        acceptor,
        config.max_connections,
        Duration::from_secs(config.idle_timeout_seconds.max(1)),
    );
    let addr = acceptor
        .local_addr()
        .first()
        .and_then(|a| a.as_socket_addr().copied())
        .context("listener has no socket address")?;
    tracing::info!(%addr, "frontrow listening; {description}");
    let (shutdown, mut stopped) = tokio::sync::watch::channel(false);
    let sweeper_state = state.clone();
    let mut sweeper_stopped = stopped.clone();
    tokio::spawn(async move {
        // Writes EXPIRED (and its event) for lapsed holds. Seats do not wait for
        // this: a lapsed hold is free from its deadline.
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    if let Err(error) = sweeper_state.reservations.expire_due(500).await {
                        tracing::warn!(%error, "expiry sweep failed");
                    }
                }
                _ = stop_requested(&mut sweeper_stopped) => break,
            }
        }
    });
    tokio::spawn(run_relay(
        relay,
        config.outbox_retention_hours,
        stopped.clone(),
    ));
    let app = http::app(state.clone());
    let grace = Duration::from_secs(config.shutdown_grace_seconds);
    let server = tokio::spawn(async move {
        poem::Server::new_with_acceptor(acceptor)
            .run_with_graceful_shutdown(
                app,
                async move {
                    stop_requested(&mut stopped).await;
                },
                Some(grace),
            )
            .await
    });
    Ok(Running {
        addr,
        state,
        store,
        bus,
        shutdown,
        server,
    })
}

/// Publishes the outbox until shutdown: at once while there is a backlog,
/// every 100 ms when idle, with backoff while the sink fails. Purges
/// published rows past retention once an hour.
async fn run_relay(
    relay: Arc<EventRelay>,
    retention_hours: i64,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    let mut backoff = Duration::from_millis(100);
    let mut next_purge = tokio::time::Instant::now();
    loop {
        let pause = match relay.relay_once().await {
            Ok(n) if n == relay.batch_size() => Duration::ZERO,
            Ok(_) => {
                backoff = Duration::from_millis(100);
                Duration::from_millis(100)
            }
            Err(error) => {
                tracing::warn!(%error, retry_in_ms = backoff.as_millis() as u64, "event relay failed");
                backoff = (backoff * 2).min(Duration::from_secs(5));
                backoff
            }
        };
        if tokio::time::Instant::now() >= next_purge {
            next_purge += Duration::from_secs(3600);
            if let Err(error) = relay.purge(retention_hours.max(0) * 3_600_000).await {
                tracing::warn!(%error, "outbox purge failed");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stop_requested(&mut stopped) => break,
        }
    }
}

pub async fn tail_events(
    config: Config,
    topic: String,
    group: String,
    idle_exit_seconds: Option<u64>,
) -> anyhow::Result<()> {
    let brokers = config
        .kafka_brokers
        .context("--kafka-brokers / KAFKA_BROKERS is required")?;
    let idle = idle_exit_seconds.map(Duration::from_secs);
    frontrow_adapters::kafka::tail(&brokers, &topic, &group, idle, |event| {
        println!("{event}");
        true
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))
}

pub async fn serve(config: Config, demo: bool) -> anyhow::Result<()> {
    let running = start(&config).await?;
    if demo {
        seed_demo(&running.state).await?;
    }
    if config.database_url.is_none() && config.admin_key.is_none() {
        tracing::info!("admin key: {}", config.data_dir.join("admin-key").display());
    }
    shutdown_signal().await;
    // Readiness turns 503 at once; the listener stays open for a moment so
    // the load balancer notices and stops sending here, then in-flight
    // requests finish and the instance exits.
    tracing::info!(drain_ms = config.drain_ms, "draining, then shutting down");
    running
        .state
        .draining
        .store(true, std::sync::atomic::Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(config.drain_ms)).await;
    running.stop().await;
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

pub async fn migrate(config: Config) -> anyhow::Result<()> {
    open_store(&config).await?;
    tracing::info!("migrations applied");
    Ok(())
}

pub async fn seed(config: Config, demo: bool) -> anyhow::Result<()> {
    if !demo {
        bail!("nothing to seed: pass --demo");
    }
    let Wiring { state, .. } = wire(&config).await?;
    seed_demo(&state).await
}

async fn seed_demo(state: &AppState) -> anyhow::Result<()> {
    if !state
        .catalogue
        .concerts()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .is_empty()
    {
        tracing::info!("concerts already exist; demo seed skipped");
        return Ok(());
    }
    let day = 24 * 3600 * 1000;
    let now = SystemClock.now().millis();
    let demo_concerts = [
        (
            "The Midnight Owls: Reunion Tour",
            vec![(now + 30 * day, 50, 120), (now + 31 * day, 50, 120)],
        ),
        (
            "Seoul Philharmonic: Mahler 2",
            vec![(now + 45 * day, 100, 80)],
        ),
        (
            "Neon Harbor Live",
            vec![
                (now + 60 * day, 20, 200),
                (now + 61 * day, 20, 200),
                (now + 62 * day, 20, 200),
            ],
        ),
    ];
    for (title, schedules) in demo_concerts {
        let schedules: Vec<_> = schedules
            .into_iter()
            .map(|(at, seats, price)| (Timestamp(at), seats, price))
            .collect();
        let (id, _) = state
            .catalogue
            .create_concert(title, &schedules, None)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        tracing::info!(concert = %id, title, "created demo concert");
    }
    Ok(())
}
