//! `TestApp`: a real frontrow server on a random port, against real stores.
//!
//! - `Stores::Embedded`: SQLite in a fresh temporary directory, in-process queue.
//! - `Stores::MySqlRedis`: MariaDB/MySQL at `FRONTROW_TEST_MYSQL` (default
//!   root@127.0.0.1/test server, one fresh database per test process) and Redis
//!   at `FRONTROW_TEST_REDIS` (a fresh key prefix per app).
//!
//! When MariaDB or Redis is missing, a test on that backend fails under CI
//! (`CI` set) and is skipped with a message elsewhere.

use frontrow::{Config, Running};
pub use frontrow_client::{Buyer, Reply};
use frontrow_client::{Client, NewConcert, NewSchedule};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use tokio::sync::OnceCell;

pub mod openapi;
pub mod topology;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stores {
    Embedded,
    MySqlRedis,
    /// MySQL and a 3-master Redis Cluster (see `redis_cluster`).
    MySqlRedisCluster,
}

pub const ADMIN_KEY: &str = "test-admin-key";

fn mysql_server() -> String {
    std::env::var("FRONTROW_TEST_MYSQL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into())
}

fn redis_url() -> String {
    std::env::var("FRONTROW_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// Twelve random hex digits, for names no other test run uses.
pub fn unique() -> String {
    frontrow_adapters::random::hex32().expect("the OS random source")[..12].to_owned()
}

/// The URL of a new SQLite file, `name`.db in a directory of its own under
/// the system's temporary directory, made if missing when first opened.
pub fn fresh_sqlite_url(name: &str) -> String {
    let dir = std::env::temp_dir().join(format!("frontrow-{name}-{}", unique()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    format!(
        "sqlite://{}?mode=rwc",
        dir.join(format!("{name}.db")).display()
    )
}

/// One database per test process, created on first use.
async fn mysql_database() -> Result<String, String> {
    static DATABASE: OnceCell<Result<String, String>> = OnceCell::const_new();
    DATABASE.get_or_init(new_mysql_database).await.clone()
}

/// A new, empty database.
async fn new_mysql_database() -> Result<String, String> {
    sqlx::any::install_default_drivers();
    let server = mysql_server();
    let name = format!("frontrow_test_{}", unique());
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&format!("{server}/test"))
        .await
        .map_err(|e| format!("MariaDB/MySQL at {server}: {e}"))?;
    sqlx::query(&format!("CREATE DATABASE {name}")) // a generated identifier, not input
        .execute(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
    Ok(format!("{server}/{name}"))
}

/// The seed nodes of the test Redis Cluster: `FRONTROW_TEST_REDIS_CLUSTER`,
/// or one this machine's tests share on ports 17001-17003, started here from
/// Debian's `redis-server` (`--cluster-enabled yes`) and `redis-cli --cluster
/// create` when it is not running. It keeps running after the tests, like
/// the shared Redis, so every test binary reuses it.
pub async fn redis_cluster() -> Result<String, String> {
    static CLUSTER: OnceCell<Result<String, String>> = OnceCell::const_new();
    CLUSTER
        .get_or_init(|| async {
            if let Ok(seeds) = std::env::var("FRONTROW_TEST_REDIS_CLUSTER") {
                return Ok(seeds);
            }
            let ports = [17001, 17002, 17003];
            let dir = std::env::temp_dir().join("frontrow-test-cluster");
            let cluster = cluster::Cluster::running_or_started(&dir, &ports)?;
            Ok(cluster.seeds())
        })
        .await
        .clone()
}

pub mod cluster {
    //! A Redis Cluster of three masters made from `redis-server` processes.

    use std::path::{Path, PathBuf};
    use std::process::Command;
    use std::time::{Duration, Instant};

    pub struct Cluster {
        pub dir: PathBuf,
        pub ports: Vec<u16>,
    }

    fn cli(port: u16, args: &[&str]) -> Option<String> {
        let out = Command::new("redis-cli")
            .args(["-p", &port.to_string()])
            .args(args)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    impl Cluster {
        /// `redis://` seed URLs, comma-separated.
        pub fn seeds(&self) -> String {
            self.ports
                .iter()
                .map(|p| format!("redis://127.0.0.1:{p}"))
                .collect::<Vec<_>>()
                .join(",")
        }

        /// The cluster on `ports`, started (and created) if it is not up.
        pub fn running_or_started(dir: &Path, ports: &[u16]) -> Result<Cluster, String> {
            let cluster = Cluster {
                dir: dir.to_owned(),
                ports: ports.to_vec(),
            };
            if cluster.is_ok() {
                return Ok(cluster);
            }
            for &port in ports {
                cluster.start_node(port)?;
            }
            let nodes: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
            let already = cli(ports[0], &["cluster", "info"])
                .is_some_and(|info| info.contains("cluster_known_nodes:3"));
            if !already {
                let mut create = Command::new("redis-cli");
                create.args(["--cluster", "create"]).args(&nodes);
                create.args(["--cluster-replicas", "0", "--cluster-yes"]);
                let out = create
                    .output()
                    .map_err(|e| format!("redis-cli --cluster create: {e}"))?;
                if !out.status.success() {
                    return Err(format!(
                        "redis-cli --cluster create: {}",
                        String::from_utf8_lossy(&out.stdout)
                    ));
                }
            }
            cluster.wait_ok(Duration::from_secs(30))?;
            Ok(cluster)
        }

        /// Starts (or restarts, with its saved cluster config) one node.
        pub fn start_node(&self, port: u16) -> Result<(), String> {
            let dir = self.dir.join(port.to_string());
            std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
            let status = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--cluster-enabled", "yes", "--cluster-config-file"])
                .arg(dir.join("nodes.conf"))
                .args([
                    "--cluster-node-timeout",
                    "2000",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ])
                .arg("--dir")
                .arg(&dir)
                .arg("--pidfile")
                .arg(dir.join("redis.pid"))
                .args(["--daemonize", "yes", "--logfile"])
                .arg(dir.join("redis.log"))
                .status()
                .map_err(|e| format!("redis-server (apt-get install redis-server): {e}"))?;
            if !status.success() {
                return Err(format!("redis-server on port {port} did not start"));
            }
            let deadline = Instant::now() + Duration::from_secs(10);
            while cli(port, &["ping"]).is_none_or(|pong| !pong.contains("PONG")) {
                if Instant::now() > deadline {
                    return Err(format!("redis-server on port {port} does not answer"));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Ok(())
        }

        /// The pid of one node's process.
        pub fn pid(&self, port: u16) -> Option<i32> {
            let pidfile = self.dir.join(port.to_string()).join("redis.pid");
            std::fs::read_to_string(pidfile).ok()?.trim().parse().ok()
        }

        pub fn is_ok(&self) -> bool {
            self.ports.iter().all(|&port| {
                cli(port, &["cluster", "info"])
                    .is_some_and(|info| info.contains("cluster_state:ok"))
            })
        }

        pub fn wait_ok(&self, within: Duration) -> Result<(), String> {
            let deadline = Instant::now() + within;
            while !self.is_ok() {
                if Instant::now() > deadline {
                    return Err("the Redis Cluster did not reach cluster_state:ok".into());
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            Ok(())
        }

        /// Stops every node (SIGTERM).
        pub fn stop(&self) {
            for &port in &self.ports {
                let _ = cli(port, &["shutdown", "nosave"]);
            }
        }
    }
}

/// A fresh, empty MariaDB/MySQL database for a test that drives the store
/// itself; `None` (with a message) when the server is missing outside CI.
pub async fn fresh_mysql_database() -> Option<String> {
    required(new_mysql_database().await)
}

/// The test Redis's URL, for a test that drives a Redis store itself (with a
/// key prefix of its own); `None` when Redis is missing outside CI.
pub async fn test_redis() -> Option<String> {
    required(redis_available().await.map(|()| redis_url()))
}

/// A store a test needs: missing, it fails the test under CI and skips it
/// (with a message) elsewhere.
fn required<T>(ready: Result<T, String>) -> Option<T> {
    match ready {
        Ok(ready) => Some(ready),
        Err(missing) if std::env::var_os("CI").is_some() => panic!("CI needs {missing}"),
        Err(missing) => {
            eprintln!("SKIPPED: {missing} is not reachable (CI fails here instead)");
            None
        }
    }
}

async fn redis_available() -> Result<(), String> {
    let url = redis_url();
    frontrow_adapters::redis::connect(&url, std::time::Duration::from_secs(2))
        .await
        .map(drop)
        .map_err(|e| format!("Redis at {url}: {e}"))
}

fn temp_dir() -> PathBuf {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    let root = ROOT.get_or_init(|| {
        std::env::temp_dir().join(format!("frontrow-tests-{}", std::process::id()))
    });
    root.join(unique())
}

/// The access-token key every test app signs with.
pub const JWT_SECRET: &str = "test-jwt-secret";

/// The configuration a test starts from: generous queue, short nothing.
pub fn base_config() -> Config {
    Config {
        listen: "127.0.0.1:0".parse().expect("literal address"),
        database_url: None,
        data_dir: temp_dir(),
        redis_url: None,
        redis_prefix: format!("frontrow-test:{}:", unique()),
        redis_cluster: false,
        log_format: frontrow::LogFormat::Text,
        max_connections: 20_000,
        idle_timeout_seconds: 60,
        request_head_timeout_seconds: 10,
        http2_max_streams: 100,
        door: frontrow::DoorConfig::default(),
        shutdown_grace_seconds: 10,
        hold_seconds: 300,
        uncovered_hold_seconds: 60,
        active_seconds: 600,
        active_idle_seconds: 0,
        waiting_idle_seconds: 0,
        // Off: many tests keep a buyer ACTIVE without a hold for longer
        // than a window (slow debug builds, waits on purpose); the pick
        // window's own tests set it.
        pick_seconds: 0,
        store_timeout_ms: 2_000,
        drain_ms: 0,
        queue_capacity: 100_000,
        admit_per_second: 100_000,
        // A spare as large as any capacity: with a seat AVAILABLE the stock
        // bounds nothing, so a test may admit 200 buyers for 5 seats; the
        // stock rule's tests set the default rule.
        stock_percent: frontrow_domain::queue::DEFAULT_STOCK_PERCENT,
        stock_spare: frontrow_domain::queue::MAX_CAPACITY,
        // Off: a debug build's holds would trip a 100 ms budget and slow
        // rooms that a test times; the controller has tests of its own.
        hold_budget_ms: 0,
        pay_budget_ms: 0,
        max_seats_per_user: 4,
        // Off: tests make many accounts from 127.0.0.1 within the hour and
        // hold on one schedule; the household tests turn it on.
        household_seats: 0,
        household_window_minutes: 60,
        admin_key: Some(ADMIN_KEY.into()),
        jwt_secret: Some(JWT_SECRET.into()),
        queue_token_secret: None,
        queue_token_previous_secret: None,
        ticket_signing_key: None,
        access_token_seconds: 3600,
        kafka_brokers: None,
        kafka_topic: format!("frontrow-test-{}", unique()),
        outbox_retention_hours: 24,
        db_connections: 16,
        trusted_proxies: Default::default(),
        // Tests create many accounts from 127.0.0.1; the tests of the
        // limits themselves turn them on.
        rate_limits: frontrow::RateLimitSettings::off(),
    }
}

/// A running app and the clients that speak to it.
pub struct TestApp {
    pub base: String,
    /// For requests the typed client does not send: malformed ones on
    /// purpose, the web app's pages.
    pub http: reqwest::Client,
    /// The typed API client (with the admin key): every endpoint, spelled
    /// once in `frontrow-client`. Every answer it receives is checked
    /// against `/openapi.json` (see `openapi`).
    pub api: Client,
    /// The server's OpenAPI document, as a contract to check answers and
    /// stream events against.
    pub openapi: Arc<openapi::OpenApi>,
    pub config: Config,
    pub running: Running,
}

/// The answer, or a panic: a test has failed when the server did not answer.
fn answered(reply: Result<Reply, reqwest::Error>) -> Reply {
    reply.expect("the server answered")
}

impl TestApp {
    /// A fresh app on `stores`; `None` when the stores are missing outside CI.
    pub async fn spawn(stores: Stores) -> Option<TestApp> {
        Self::spawn_with(stores, |_| {}).await
    }

    pub async fn spawn_with(stores: Stores, adjust: impl FnOnce(&mut Config)) -> Option<TestApp> {
        Self::spawn_on(stores, false, adjust).await
    }

    /// Like `spawn_with`, on a database of its own (MySQL): for tests of
    /// process-wide state such as the single outbox relay lease.
    pub async fn spawn_isolated(
        stores: Stores,
        adjust: impl FnOnce(&mut Config),
    ) -> Option<TestApp> {
        Self::spawn_on(stores, true, adjust).await
    }

    async fn spawn_on(
        stores: Stores,
        own_database: bool,
        adjust: impl FnOnce(&mut Config),
    ) -> Option<TestApp> {
        let mut config = base_config();
        if stores != Stores::Embedded {
            let database = async {
                if own_database {
                    new_mysql_database().await
                } else {
                    mysql_database().await
                }
            };
            let redis = async {
                if stores == Stores::MySqlRedisCluster {
                    redis_cluster().await
                } else {
                    redis_available().await.map(|()| redis_url())
                }
            };
            let ready = async { Ok::<_, String>((database.await?, redis.await?)) };
            let (database, redis) = required(ready.await)?;
            config.database_url = Some(database);
            config.redis_url = Some(redis);
            config.redis_cluster = stores == Stores::MySqlRedisCluster;
        }
        adjust(&mut config);
        Some(Self::start(config).await)
    }

    async fn start(config: Config) -> TestApp {
        let running = frontrow::start(&config).await.expect("app starts");
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .build()
            .expect("client");
        let base = format!("http://{}", running.addr);
        let spec = async {
            let answer = http.get(format!("{base}/openapi.json")).send().await?;
            answer.error_for_status()?.text().await
        };
        let spec = spec.await.expect("the server serves /openapi.json");
        let openapi = Arc::new(openapi::OpenApi::new(&spec).expect("a readable document"));
        openapi::serving(&running.addr.to_string(), openapi.clone());
        TestApp {
            api: Client::new(http.clone(), &base)
                .with_admin_key(ADMIN_KEY)
                .inspected_by(openapi.clone()),
            openapi,
            base,
            http,
            config,
            running,
        }
    }

    /// The typed client (with the admin key, inspected against the
    /// document) on connections from `address`: the whole of 127.0.0.0/8
    /// answers locally, so `127.0.1.1` and `127.0.2.1` are two clients the
    /// server tells apart, as per-address limits need.
    pub fn client_from(&self, address: &str) -> Client {
        let address: std::net::IpAddr = address.parse().expect("an address");
        let http = reqwest::Client::builder()
            .local_address(address)
            .build()
            .expect("client");
        Client::new(http, &self.base)
            .with_admin_key(ADMIN_KEY)
            .inspected_by(self.openapi.clone())
    }

    /// A second instance on the same stores (database, Redis prefix).
    pub async fn sibling(&self) -> TestApp {
        Self::start(self.config.clone()).await
    }

    /// Any request, spelled out: for a probe the typed client cannot send
    /// (an endpoint a test sends on purpose without a credential it needs,
    /// a path that does not exist).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        auth: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.api.request(method, path);
        if let Some(token) = auth {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.raw(request).await
    }

    /// Sends a request built by hand and reads its answer. An answer to an
    /// operation the document names (a malformed request to a real
    /// endpoint) is checked against it like the typed client's; a path or
    /// method it does not name has nothing to be checked against.
    pub async fn raw(&self, request: reqwest::RequestBuilder) -> Reply {
        let (client, request) = request.build_split();
        let request = request.expect("a request");
        let (method, path) = (request.method().clone(), request.url().path().to_owned());
        let response = client.execute(request).await.expect("request sent");
        let reply = answered(Reply::read(response).await);
        if self.openapi.documents(&method, &path) {
            let body = serde_json::to_vec(&reply.body).expect("JSON");
            let body = if reply.body.is_null() { &[][..] } else { &body };
            frontrow_client::Inspector::inspect(
                &*self.openapi,
                &frontrow_client::Exchange {
                    method: &method,
                    path: &path,
                    status: reply.status,
                    headers: &reply.headers,
                    body,
                },
            );
        }
        reply
    }

    pub async fn buyer(&self, name: &str) -> Buyer {
        let r = answered(self.api.register(name).await);
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.buyer().expect("a user id and an access token")
    }

    pub async fn buyer_with_points(&self, name: &str, points: i64) -> Buyer {
        let buyer = self.buyer(name).await;
        let r = self.charge(&buyer, points, None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        buyer
    }

    /// A buyer (with `points`, when there are any) admitted to `concert`'s
    /// room: the buyer and the ACTIVE queue token.
    pub async fn admitted(&self, name: &str, points: i64, concert: i64) -> (Buyer, String) {
        let buyer = if points > 0 {
            self.buyer_with_points(name, points).await
        } else {
            self.buyer(name).await
        };
        let token = self.active_token(&buyer, concert).await;
        (buyer, token)
    }

    pub async fn charge(&self, buyer: &Buyer, amount: i64, key: Option<&str>) -> Reply {
        answered(self.api.charge(buyer, amount, key).await)
    }

    /// `GET /api/v1/points`: balance, reserved and available.
    pub async fn points(&self, buyer: &Buyer) -> Reply {
        answered(self.api.balance(buyer).await)
    }

    pub async fn balance(&self, buyer: &Buyer) -> i64 {
        answered(self.api.balance(buyer).await).i64("balance")
    }

    /// A concert with one schedule of `seats` seats at `price`: (concert, schedule).
    pub async fn concert(&self, seats: i64, price: i64) -> (i64, i64) {
        let schedule = NewSchedule::new("2030-01-01T19:00:00Z", seats, price);
        let title = format!("Test concert {}", unique());
        let r = answered(
            self.api
                .create_concert(&NewConcert::new(title, vec![schedule]))
                .await,
        );
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        (
            r.i64("concertId"),
            r.body["schedules"][0]["scheduleId"]
                .as_i64()
                .expect("schedule id"),
        )
    }

    pub async fn set_queue(&self, concert: i64, capacity: i64, rate: i64, paused: bool) -> Reply {
        answered(self.api.set_queue(concert, capacity, rate, paused).await)
    }

    pub async fn queue_history(&self, concert: i64) -> Reply {
        answered(self.api.queue_history(concert).await)
    }

    pub async fn queue_state(&self, concert: i64) -> Reply {
        answered(self.api.queue_state(concert).await)
    }

    pub async fn join(&self, buyer: &Buyer, concert: i64) -> Reply {
        answered(self.api.join(buyer, concert).await)
    }

    pub async fn status(&self, buyer: &Buyer, token: &str) -> Reply {
        answered(self.api.queue_status(buyer, token).await)
    }

    pub async fn leave(&self, buyer: &Buyer, token: &str) -> Reply {
        answered(self.api.leave(buyer, token).await)
    }

    /// Joins and polls until ACTIVE (at most ~10 s).
    pub async fn active_token(&self, buyer: &Buyer, concert: i64) -> String {
        let joined = self.join(buyer, concert).await;
        assert!(joined.status.is_success(), "{}", joined.body);
        let token = joined.str("token").to_owned();
        for _ in 0..200 {
            if self.status(buyer, &token).await.str("status") == "ACTIVE" {
                return token;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("never admitted");
    }

    pub async fn schedules(&self, buyer: &Buyer, token: &str, concert: i64) -> Reply {
        answered(self.api.schedules(buyer, token, concert).await)
    }

    pub async fn hold(&self, buyer: &Buyer, token: &str, schedule: i64, seat: i64) -> Reply {
        answered(self.api.hold(buyer, token, schedule, seat).await)
    }

    pub async fn pay(&self, buyer: &Buyer, token: &str, reservation: i64) -> Reply {
        answered(self.api.pay(buyer, token, reservation).await)
    }

    pub async fn receipt(&self, buyer: &Buyer, reservation: i64) -> Reply {
        answered(self.api.receipt(buyer, reservation).await)
    }

    pub async fn ticket(&self, buyer: &Buyer, reservation: i64) -> Reply {
        answered(self.api.ticket(buyer, reservation).await)
    }

    pub async fn ticket_public_key(&self) -> Reply {
        answered(self.api.ticket_public_key().await)
    }

    pub async fn pay_cart(&self, buyer: &Buyer, token: &str, reservations: &[i64]) -> Reply {
        answered(self.api.pay_cart(buyer, token, reservations).await)
    }

    /// Holds `seat` and pays for it: the reservation's id and the payment's
    /// answer (whatever it is).
    pub async fn buy(&self, buyer: &Buyer, token: &str, schedule: i64, seat: i64) -> (i64, Reply) {
        let reservation = self
            .hold(buyer, token, schedule, seat)
            .await
            .i64("reservationId");
        (reservation, self.pay(buyer, token, reservation).await)
    }

    pub async fn cancel(&self, buyer: &Buyer, reservation: i64) -> Reply {
        answered(self.api.cancel(buyer, reservation).await)
    }

    pub async fn cancel_in_line(&self, buyer: &Buyer, token: &str, reservation: i64) -> Reply {
        answered(self.api.cancel_in_line(buyer, token, reservation).await)
    }

    pub async fn reservation(&self, buyer: &Buyer, reservation: i64) -> Reply {
        answered(self.api.reservation(buyer, reservation).await)
    }

    pub async fn seats(&self, buyer: &Buyer, token: &str, schedule: i64) -> Reply {
        answered(self.api.seats(buyer, token, schedule).await)
    }

    pub async fn seat_status(
        &self,
        buyer: &Buyer,
        token: &str,
        schedule: i64,
        seat: i64,
    ) -> String {
        let r = self.seats(buyer, token, schedule).await;
        r.body["seats"][(seat - 1) as usize]["status"]
            .as_str()
            .unwrap_or("?")
            .to_owned()
    }

    /// One text value from the system of record.
    pub async fn text(&self, sql: &'static str, bind: String) -> String {
        use sqlx::Row;
        let row = sqlx::query(sql)
            .bind(bind)
            .fetch_one(self.running.store.reader())
            .await
            .expect("query");
        row.try_get::<String, _>(0).expect("text")
    }

    /// One number from the system of record, for invariant checks.
    pub async fn count(&self, sql: &'static str, bind: i64) -> i64 {
        use sqlx::Row;
        let row = sqlx::query(sql)
            .bind(bind)
            .fetch_one(self.running.store.reader())
            .await
            .expect("query");
        row.try_get::<i64, _>(0).expect("integer")
    }
}

/// Runs a contract test once per backend: `contract!(name, |app| async { .. })`
/// expands to `name_embedded` and `name_mysql_redis`.
#[macro_export]
macro_rules! contract {
    ($name:ident, $body:expr) => {
        $crate::contract!($name, |_config| {}, $body);
    };
    // A test that counts rows across whole tables needs a database of its
    // own, or the other tests of its binary write beside it.
    (isolated $name:ident, $body:expr) => {
        pub mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn embedded() {
                if let Some(app) =
                    $crate::TestApp::spawn_isolated($crate::Stores::Embedded, |_| {}).await
                {
                    ($body)(app).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn mysql_redis() {
                if let Some(app) =
                    $crate::TestApp::spawn_isolated($crate::Stores::MySqlRedis, |_| {}).await
                {
                    ($body)(app).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn mysql_redis_cluster() {
                if let Some(app) =
                    $crate::TestApp::spawn_isolated($crate::Stores::MySqlRedisCluster, |_| {}).await
                {
                    ($body)(app).await;
                }
            }
        }
    };
    ($name:ident, $adjust:expr, $body:expr) => {
        pub mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn embedded() {
                if let Some(app) =
                    $crate::TestApp::spawn_with($crate::Stores::Embedded, $adjust).await
                {
                    ($body)(app).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn mysql_redis() {
                if let Some(app) =
                    $crate::TestApp::spawn_with($crate::Stores::MySqlRedis, $adjust).await
                {
                    ($body)(app).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn mysql_redis_cluster() {
                if let Some(app) =
                    $crate::TestApp::spawn_with($crate::Stores::MySqlRedisCluster, $adjust).await
                {
                    ($body)(app).await;
                }
            }
        }
    };
}

/// Reads Server-Sent Events from `response` until one satisfies `until` (or
/// the stream ends): their JSON data, in order. Each event is checked
/// against the OpenAPI document of the server that sent it.
pub async fn events_until(
    response: &mut reqwest::Response,
    until: impl Fn(&serde_json::Value) -> bool,
) -> Vec<serde_json::Value> {
    let mut events = Vec::new();
    let mut buffer = String::new();
    loop {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), response.chunk())
            .await
            .expect("an event within 10 s")
            .expect("the stream stays readable");
        let Some(chunk) = chunk else { return events };
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            for line in block.lines() {
                if let Some(data) = line.strip_prefix("data: ") {
                    if let Err(drift) = openapi::check_event(response.url(), data) {
                        panic!("the event is not what /openapi.json says: {drift}");
                    }
                    let event: serde_json::Value = serde_json::from_str(data).expect("JSON event");
                    let done = until(&event);
                    events.push(event);
                    if done {
                        return events;
                    }
                }
            }
        }
    }
}
