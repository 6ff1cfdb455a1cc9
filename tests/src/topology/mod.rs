//! The production topology as real processes: Debian's nginx with
//! `deploy/nginx.conf.template` in front of three `frontrow` processes (the
//! debug binary), on a private `mariadbd` (its own data directory, made by
//! `mariadb-install-db`) and a private `redis-server` with AOF. Everything
//! listens on free ports and lives in one temporary directory, so a test may
//! kill or restart any of it without disturbing the shared stores on 3306
//! and 6379. Dropping a `Topology` stops every process it started; after a
//! failed test its directory (the logs) is kept and named.
//!
//! `Rush` is the buyers' side: a few hundred buyers through nginx, each
//! retrying what failed on the wire the way a careful client does (charges
//! by `Idempotency-Key`, payments by reservation, a lost hold found again in
//! the buyer's list), every answer recorded so a test can count the 503s a
//! fault caused and when. `Sale::invariants` checks the outcome exactly in
//! the database.

mod client;
mod processes;
mod sale;

pub use client::{Call, Client, Seen, Tally, retry_after};
pub use processes::{Instance, MariaDb, Nginx, Redis, frontrow_binary};
pub use sale::{Buyer, Outcome, Sale, rush, sample, sign_up, when_done};

use processes::{Process, TOOLS, free_port, tool};
use reqwest::StatusCode;
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub const ADMIN_KEY: &str = "topology-admin-key";

/// The whole topology; dropping it stops nginx, the instances and the
/// stores, in that order.
pub struct Topology {
    pub nginx: Nginx,
    pub instances: Vec<Instance>,
    pub redis: Redis,
    pub mariadb: MariaDb,
    pub dir: PathBuf,
    pub base: String,
}

/// One topology at a time in a test process: two cores cannot run two
/// rushes of three instances each and still say anything about timing.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

impl Topology {
    /// Starts everything, or `None` (after saying why) when a tool is
    /// missing outside CI; under CI a missing tool fails the test.
    pub async fn start(name: &str) -> Option<(Topology, tokio::sync::MutexGuard<'static, ()>)> {
        if let Some((missing, package)) = TOOLS.iter().find(|(name, _)| tool(name).is_none()) {
            let why = format!("{missing} (apt-get install {package})");
            if std::env::var_os("CI").is_some() {
                panic!("CI needs {why}");
            }
            eprintln!("SKIPPED: {why} is not installed (CI fails here instead)");
            return None;
        }
        let turn = ONE_AT_A_TIME.lock().await;
        let binary = tokio::task::spawn_blocking(frontrow_binary)
            .await
            .expect("the build");
        let dir =
            std::env::temp_dir().join(format!("frontrow-topology-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("topology dir");

        let mut mariadb = {
            let dir = dir.clone();
            tokio::task::spawn_blocking(move || MariaDb::install(&dir))
                .await
                .expect("install")
        };
        let mut redis = Redis {
            dir: dir.clone(),
            port: free_port(),
            process: Process::default(),
        };
        tokio::join!(mariadb.start(), redis.start());
        let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(&mariadb.url("mysql"))
            .await
            .expect("root on the private MariaDB");
        sqlx::query("CREATE DATABASE frontrow")
            .execute(&mut admin)
            .await
            .expect("a database");

        let mut instances = Vec::new();
        for _ in 0..3 {
            let port = free_port();
            let environment = [
                ("FRONTROW_LISTEN", format!("127.0.0.1:{port}")),
                ("DATABASE_URL", mariadb.url("frontrow")),
                ("REDIS_URL", redis.url()),
                ("FRONTROW_REDIS_PREFIX", "topology:".to_owned()),
                ("FRONTROW_ADMIN_KEY", ADMIN_KEY.to_owned()),
                ("FRONTROW_JWT_SECRET", "topology-jwt-secret".to_owned()),
                (
                    "FRONTROW_DATA_DIR",
                    dir.join(format!("data-{port}")).display().to_string(),
                ),
                ("FRONTROW_STORE_TIMEOUT_MS", "1000".to_owned()),
                ("FRONTROW_DRAIN_MS", "1000".to_owned()),
                ("FRONTROW_SHUTDOWN_GRACE_SECONDS", "5".to_owned()),
                ("FRONTROW_DB_CONNECTIONS", "8".to_owned()),
                ("FRONTROW_ACTIVE_IDLE_SECONDS", "0".to_owned()),
                ("FRONTROW_WAITING_IDLE_SECONDS", "0".to_owned()),
                // Off, as the idle lapses: a rush's buyers may wait past a
                // window between admission and their hold on a busy machine.
                ("FRONTROW_PICK_SECONDS", "0".to_owned()),
                // A spare as large as any capacity, as the contract tests'
                // (`base_config`): a rush runs its buyers 32 at a time, so
                // places joined earlier, whose buyers' tasks have not
                // started, sit ACTIVE; with the lapses off, the stock rule
                // would let them hold every slot the last seats warrant
                // and the running buyers would wait behind them for ever
                // (at 100 %: 3 seats left, 5 slots, 5 absent holders).
                (
                    "FRONTROW_STOCK_SPARE",
                    frontrow_domain::queue::MAX_CAPACITY.to_string(),
                ),
                // nginx connects from here: its X-Forwarded-For names the
                // buyer (each on its own 127.x address).
                ("FRONTROW_TRUSTED_PROXIES", "127.0.0.1/32".to_owned()),
                // The rushes come from one address; the limits' own test
                // turns them on (`Instance::set`).
                ("FRONTROW_RATE_LIMITS_SCALE", "0".to_owned()),
                // Their accounts sign up within the hour and hold on one
                // schedule: the household limit off too.
                ("FRONTROW_HOUSEHOLD_SEATS", "0".to_owned()),
                ("RUST_LOG", "warn".to_owned()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
            let mut instance = Instance {
                port,
                process: Process::default(),
                environment,
                log: dir.join(format!("frontrow-{port}.log")),
            };
            assert!(binary.is_file(), "{} is missing", binary.display());
            instance.spawn();
            instances.push(instance);
        }
        for instance in &instances {
            instance.wait_ready().await;
        }
        let ports: Vec<u16> = instances.iter().map(|i| i.port).collect();
        let nginx = Nginx::start(&dir, &ports);
        let base = format!("http://127.0.0.1:{}", nginx.port);
        let api = frontrow_client::Client::new(reqwest::Client::new(), &base);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !api
            .health_live()
            .await
            .is_ok_and(|r| r.status == StatusCode::OK)
        {
            assert!(Instant::now() < deadline, "nginx never answered");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        Some((
            Topology {
                nginx,
                instances,
                redis,
                mariadb,
                dir,
                base,
            },
            turn,
        ))
    }

    /// Waits until every instance's `/health/ready` answers 200 again:
    /// how long that took.
    pub async fn all_ready(&self) -> Duration {
        let started = Instant::now();
        for instance in &self.instances {
            if instance.process.is_running() {
                instance.wait_ready().await;
            }
        }
        started.elapsed()
    }

    /// A database connection for checks.
    pub async fn database(&self) -> sqlx::AnyPool {
        sqlx::any::AnyPoolOptions::new()
            .max_connections(2)
            .connect(&self.mariadb.url("frontrow"))
            .await
            .expect("the private database")
    }

    /// One instance's `/metrics` text.
    pub async fn metrics(&self, instance: usize) -> String {
        let base = self.instances[instance].base();
        let api = frontrow_client::Client::new(reqwest::Client::new(), &base);
        let (status, text) = api.metrics().await.expect("metrics");
        assert_eq!(status, StatusCode::OK, "{text}");
        text
    }
}

impl Drop for Topology {
    fn drop(&mut self) {
        self.nginx.stop();
        self.instances.iter_mut().for_each(Instance::kill);
        self.redis.kill();
        self.mariadb.kill();
        if std::thread::panicking() {
            eprintln!("the topology's logs are kept in {}", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
