//! Configuration: the command line, every flag with its environment
//! equivalent, and logging. Reading the configuration does no IO except
//! creating `--data-dir` when the embedded database needs it.

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use frontrow_adapters::http::client_address::TrustedProxies;
use secrecy::SecretString;
use std::net::SocketAddr;
use std::path::PathBuf;
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

/// Every setting. It derives `Debug`, so its secrets are `SecretString`s,
/// whose `Debug` prints no value: a logged or printed configuration never
/// shows them (`a_printed_configuration_shows_no_secret`).
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
    /// How long a hold lasts when the buyer's available points do not cover
    /// it (one seat, once per account per concert; at most
    /// `--hold-seconds`). Long enough for a person to add points and pay,
    /// short enough that an empty account locks little.
    #[arg(
        long,
        env = "FRONTROW_UNCOVERED_HOLD_SECONDS",
        default_value_t = 60,
        global = true
    )]
    pub uncovered_hold_seconds: u64,
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
    /// The pick window: an ACTIVE user who holds no seat loses the slot
    /// this long after admission, or after their last cart was paid,
    /// released or lapsed, whichever is later (0: never). A person picks
    /// seats in well under 2 minutes; an account that cannot hold (no
    /// points, household limit) gives its slot back instead of keeping it
    /// for `--active-seconds`.
    #[arg(
        long,
        env = "FRONTROW_PICK_SECONDS",
        default_value_t = 120,
        global = true
    )]
    pub pick_seconds: u64,
    /// A waiting buyer who has not asked for their status (poll or stream)
    /// for this long loses the place when the line reaches it (0: never).
    /// The grace for a locked phone: a locked screen stops the page's polls
    /// within seconds, and a buyer who takes a call or pockets the phone is
    /// usually back within a few minutes; 5 minutes keeps them. The cost is
    /// bounded: a place whose holder really left and reaches the front
    /// inside the grace is admitted and lapses after
    /// `--active-idle-seconds`.
    #[arg(
        long,
        env = "FRONTROW_WAITING_IDLE_SECONDS",
        default_value_t = 300,
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
    /// ACTIVE places per hundred AVAILABLE seats: a room admits nobody past
    /// held + ceil(available × this / 100) + `--stock-spare`, so a rush does
    /// not let in far more buyers than there are seats to buy. Above 100 for
    /// a crowd that looks and leaves without buying more than it buys.
    #[arg(
        long,
        env = "FRONTROW_STOCK_PERCENT",
        default_value_t = frontrow_domain::queue::DEFAULT_STOCK_PERCENT,
        global = true
    )]
    pub stock_percent: i64,
    /// ACTIVE places allowed above the stock's share while a seat is
    /// AVAILABLE, so the last few seats still draw a few buyers at once.
    #[arg(
        long,
        env = "FRONTROW_STOCK_SPARE",
        default_value_t = frontrow_domain::queue::DEFAULT_STOCK_SPARE,
        global = true
    )]
    pub stock_spare: i64,
    /// The admission controller's budget for holds (ms): while this
    /// instance's hold p90 over the last second, on at least 20 holds, is
    /// above it, rooms admit more slowly (never faster than the operator's
    /// rate, never below a quarter of it). 0 turns the controller off.
    #[arg(
        long,
        env = "FRONTROW_HOLD_BUDGET_MS",
        default_value_t = 100,
        global = true
    )]
    pub hold_budget_ms: i64,
    /// The admission controller's budget for payments (ms); see
    /// `--hold-budget-ms`.
    #[arg(
        long,
        env = "FRONTROW_PAY_BUDGET_MS",
        default_value_t = 250,
        global = true
    )]
    pub pay_budget_ms: i64,
    /// Most seats one user may hold or own per schedule.
    #[arg(
        long,
        env = "FRONTROW_MAX_SEATS_PER_USER",
        default_value_t = 4,
        global = true
    )]
    pub max_seats_per_user: u32,
    /// Most seats all accounts of one household (signed up from one
    /// network, IPv4 address or IPv6 /64, in one window) may hold or own
    /// together per schedule; 0 turns the rule off.
    #[arg(
        long,
        env = "FRONTROW_HOUSEHOLD_SEATS",
        default_value_t = 8,
        global = true
    )]
    pub household_seats: u32,
    /// How long a household's sign-up window is, in minutes (aligned to
    /// the epoch): accounts from one network signed up in one window share
    /// `--household-seats`.
    #[arg(
        long,
        env = "FRONTROW_HOUSEHOLD_WINDOW_MINUTES",
        default_value_t = 60,
        global = true
    )]
    pub household_window_minutes: u32,
    /// Key for the admin API (X-Admin-Key). Required with MySQL; embedded: generated into --data-dir.
    #[arg(
        long,
        env = "FRONTROW_ADMIN_KEY",
        hide_env_values = true,
        global = true
    )]
    pub admin_key: Option<SecretString>,
    /// HS256 secret for access tokens. Required with MySQL; embedded: generated into --data-dir.
    #[arg(
        long,
        env = "FRONTROW_JWT_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub jwt_secret: Option<SecretString>,
    /// HMAC key that seals queue tokens. Default: derived from the JWT secret.
    /// To rotate, set the new key here and the old one as the previous key.
    #[arg(
        long,
        env = "FRONTROW_QUEUE_TOKEN_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub queue_token_secret: Option<SecretString>,
    /// The previous queue-token key, still accepted while keys rotate.
    #[arg(
        long,
        env = "FRONTROW_QUEUE_TOKEN_PREVIOUS_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub queue_token_previous_secret: Option<SecretString>,
    /// Secret the Ed25519 key of ticket codes is derived from (its SHA-256 is the seed).
    /// Embedded: generated into --data-dir. MySQL: derived from the JWT secret unless given.
    #[arg(
        long,
        env = "FRONTROW_TICKET_SIGNING_KEY",
        hide_env_values = true,
        global = true
    )]
    pub ticket_signing_key: Option<SecretString>,
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
    /// A request head (its request line and headers) must arrive within
    /// this long of its first byte, however steadily it trickles in.
    #[arg(
        long,
        env = "FRONTROW_REQUEST_HEAD_TIMEOUT_SECONDS",
        default_value_t = 10,
        global = true
    )]
    pub request_head_timeout_seconds: u64,
    /// Most HTTP/2 streams (requests) open at once on one connection
    /// (`SETTINGS_MAX_CONCURRENT_STREAMS`); one more is refused.
    #[arg(
        long,
        env = "FRONTROW_HTTP2_MAX_STREAMS",
        default_value_t = 100,
        global = true
    )]
    pub http2_max_streams: u32,
    /// Proof-of-work at the door (`door`).
    #[command(flatten)]
    pub door: crate::door::DoorConfig,
    /// Proxies (CIDRs or addresses, comma-separated) whose `X-Forwarded-For`
    /// names the client; from any other peer the header is ignored and the
    /// socket's peer is the client. Set it to the load balancer's addresses:
    /// behind a proxy that is not listed, every client counts as the proxy.
    #[arg(
        long,
        env = "FRONTROW_TRUSTED_PROXIES",
        default_value = "",
        global = true
    )]
    pub trusted_proxies: TrustedProxies,
    /// Rate limits per client address and per account.
    #[command(flatten)]
    pub rate_limits: crate::rate_limits::RateLimitSettings,
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

    /// `DATABASE_URL`, or the embedded default: SQLite in `--data-dir`.
    pub(crate) fn database_url(&self) -> anyhow::Result<String> {
        if let Some(url) = &self.database_url {
            return Ok(url.clone());
        }
        // Names, balances and payments: the folder and the database are the
        // owner's only, from creation on (SQLite gives its -wal and -shm
        // files the database file's mode).
        crate::secrets::create_private_dir(&self.data_dir)
            .with_context(|| format!("cannot create data directory {}", self.data_dir.display()))?;
        let database = self.data_dir.join("frontrow.db");
        crate::secrets::create_private_file(&database)
            .with_context(|| format!("cannot create {}", database.display()))?;
        Ok(format!("sqlite://{}?mode=rwc", database.display()))
    }
}

/// Hides a password in a URL before it reaches a log or an error.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::{Cli, redact};
    use clap::Parser;

    #[test]
    fn a_printed_configuration_shows_no_secret() {
        let cli = Cli::try_parse_from([
            "frontrow",
            "--admin-key",
            "admin-key-do-not-print",
            "--jwt-secret",
            "jwt-secret-do-not-print",
            "--queue-token-secret",
            "queue-key-do-not-print",
            "--queue-token-previous-secret",
            "old-queue-key-do-not-print",
        ])
        .expect("the flags parse");
        let printed = format!("{:?} {:#?}", cli.config, cli.config);
        assert!(!printed.contains("do-not-print"), "{printed}");
        assert!(printed.contains("REDACTED"), "{printed}");
        let admin = cli
            .config
            .admin_key
            .as_ref()
            .expect("the admin key is kept");
        assert_eq!(
            secrecy::ExposeSecret::expose_secret(admin),
            "admin-key-do-not-print"
        );
    }

    #[test]
    fn a_password_never_reaches_a_log_line() {
        assert_eq!(
            redact("mysql://app:secret@db:3306/frontrow"),
            "mysql://***@db:3306/frontrow"
        );
        assert_eq!(redact("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
    }
}
